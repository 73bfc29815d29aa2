"""Small building blocks every peer harness shares: finding a tool, ports, polling.

A missing tool skips a test locally but fails it in CI (``CI=true``): nothing is
silently skipped where the gates run (STYLE.md, Tests).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Literal, Self

import pytest

PortKind = Literal["udp", "tcp", "both"]
LOOPBACK = "127.0.0.1"


def in_ci() -> bool:
    """True when running under CI, where a missing tool is a failure, not a skip."""
    return os.environ.get("CI") == "true"


def missing(reason: str) -> None:
    """Skip the calling test with ``reason`` locally; fail it in CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: tools must be installed, see .ci/run)")
    pytest.skip(reason)


def require_tool(name: str, package: str | None = None) -> str:
    """Return the absolute path of executable ``name`` or skip/fail the test.

    ``package`` names the Debian or PyPI package that provides it, for the message.
    Looks next to the running interpreter first, so console scripts of the venv
    (sipvicious_svmap) are found without activating it.
    """
    venv_bin = os.path.dirname(os.path.abspath(sys.executable))
    found = shutil.which(name, path=os.pathsep.join([venv_bin, os.environ.get("PATH", "")]))
    if found is None:
        hint = f" (install {package})" if package else ""
        missing(f"{name} not found on PATH{hint}")
        raise AssertionError("unreachable")  # pragma: no cover - skip/fail raise
    return found


def _bind_probe(kind: PortKind, port: int) -> list[socket.socket]:
    """Bind ``port`` for every protocol in ``kind``; raise OSError if one is taken."""
    kinds = ["udp", "tcp"] if kind == "both" else [kind]
    bound: list[socket.socket] = []
    try:
        for each in kinds:
            sock_type = socket.SOCK_DGRAM if each == "udp" else socket.SOCK_STREAM
            sock = socket.socket(socket.AF_INET, sock_type)
            bound.append(sock)
            sock.bind((LOOPBACK, port))
    except OSError:
        for sock in bound:
            sock.close()
        raise
    return bound


def port_in_use(port: int, kind: PortKind = "udp") -> bool:
    """True if something on loopback holds ``port``: how harnesses see a peer is up."""
    try:
        socks = _bind_probe(kind, port)
    except OSError:
        return True
    for sock in socks:
        sock.close()
    return False


def free_port(kind: PortKind = "udp") -> int:
    """A loopback port free right now for ``kind`` (UDP, TCP or both).

    The kernel picks it (port 0); for "both" the UDP and TCP sides are checked
    together. Another process may still take it before the peer binds: peers that
    can report their own address should be preferred (ARCHITECTURE.md, port 0).
    """
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((LOOPBACK, 0))
            port = int(probe.getsockname()[1])
        if port not in _HANDED_OUT and not port_in_use(port, kind):
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError(f"no free {kind} port found on {LOOPBACK} after 50 tries")


_HANDED_OUT: set[int] = set()
"""Ports this process has handed out: free when handed out, but perhaps not yet bound by
the peer that got them (baresip binds its RTP pair only when it dials), so never handed
out twice. A second baresip once got the first one's unbound RTP port as its SIP port,
and the first one's dial failed with "Address already in use"."""


def free_port_pair(kind: PortKind = "both") -> int:
    """A port ``p`` with ``p`` and ``p + 1`` both free (baresip binds both, PEERS.md)."""
    for _ in range(100):
        port = free_port(kind)
        if port < 65535 and port + 1 not in _HANDED_OUT and not port_in_use(port + 1, kind):
            _HANDED_OUT.add(port + 1)
            return port
    raise RuntimeError(f"no free {kind} port pair found on {LOOPBACK} after 100 tries")


def wait_for(
    predicate: Callable[[], bool],
    timeout: float = 5.0,
    interval: float = 0.02,
    what: str = "condition",
) -> None:
    """Poll ``predicate`` until it is true or ``timeout`` seconds have passed.

    Polls against an absolute deadline (monotonic clock), so a slow predicate does not
    stretch the wait; raises ``TimeoutError`` naming ``what`` so a failure says what
    never happened.
    """
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(min(interval, remaining))


async def wait_for_async(
    predicate: Callable[[], Awaitable[bool]],
    timeout: float = 5.0,  # noqa: ASYNC109 - same signature as wait_for, a bounded poll
    interval: float = 0.02,
    what: str = "condition",
) -> None:
    """``wait_for`` for async predicates: awaits between polls instead of blocking."""
    deadline = time.monotonic() + timeout
    while True:
        if await predicate():
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
        await asyncio.sleep(min(interval, remaining))


class Peer:
    """A peer process started with ``with``: ``__enter__`` starts it, ``__exit__`` stops it
    whatever happened inside (each harness says what starting and stopping mean)."""

    def start(self) -> Self:
        raise NotImplementedError  # pragma: no cover - each harness has its own

    def stop(self) -> object:
        raise NotImplementedError  # pragma: no cover - each harness has its own

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
