"""Kamailio (Debian ``kamailio`` 5.6) in front of switchboard nodes, on loopback (issue 14).

Runs one of ``configs/kamailio/*.cfg`` as it ships, with what a deployment sets at run time
given on the command line: the listen address (``-l``, a port chosen now), the node list
(a dispatcher list file written per test) and the defines (``-A NAME=value``). Ready when
it answers OPTIONS.

    with Kamailio("dispatcher.cfg", directory, [Node("127.0.0.1:5071")]) as kamailio:
        kamailio.address  # "127.0.0.1:PORT", where SIPp calls

``http-route.cfg`` also needs Debian's ``kamailio-utils-modules`` (http_client) and
``kamailio-extra-modules`` (jansson): a missing one skips locally and fails in CI.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.peers.tools import LOOPBACK, Peer, free_port, missing, require_tool

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "kamailio"
MODULE_DIRS = sorted(Path("/usr/lib").glob("*/kamailio/modules"))
"""Where Debian puts Kamailio's modules (``/usr/lib/<multiarch triplet>/kamailio/modules``)."""
PACKAGES = {
    "http_client": "kamailio-utils-modules",
    "jansson": "kamailio-extra-modules",
}
"""Modules outside Debian's ``kamailio`` package, and the package each comes in."""


@dataclass(frozen=True)
class Node:
    """One switchboard node: its SIP ``host:port`` and, for http-route.cfg, its HTTP API."""

    sip: str
    http: str | None = None

    def line(self) -> str:
        attrs = f" 0 0 http=http://{self.http}" if self.http else ""
        return f"1 sip:{self.sip}{attrs}"


def kamailio_path() -> str:
    sbin = "/usr/sbin/kamailio"  # where Debian puts it, often not on a user's PATH
    return sbin if os.access(sbin, os.X_OK) else require_tool("kamailio", "Debian kamailio")


def require_modules(config: Path) -> None:
    """Skip (locally) or fail (CI) when the config loads a module that is not installed."""
    for line in config.read_text(encoding="utf-8").splitlines():
        if line.startswith("loadmodule"):
            name = line.split('"')[1].removesuffix(".so")
            if not any((folder / f"{name}.so").exists() for folder in MODULE_DIRS):
                package = PACKAGES.get(name, "kamailio")
                missing(f"Kamailio module {name} not installed (Debian {package})")


class Kamailio(Peer):
    def __init__(
        self,
        config: str,
        directory: Path,
        nodes: Sequence[Node],
        *,
        defines: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.config = CONFIGS / config
        require_modules(self.config)
        self.binary = kamailio_path()
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port("udp")
        self.nodes = list(nodes)
        self.defines = dict(defines or {})
        self.env = dict(env or {})
        self.log_path = directory / "kamailio.log"
        self.list_path = directory / "nodes.list"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def command(self) -> list[str]:
        run = self.directory / "run"
        run.mkdir(exist_ok=True)
        command = [self.binary, "-DD", "-E", "-f", str(self.config)]
        command += ["-l", f"udp:{self.address}", "-Y", str(run), "-w", str(self.directory)]
        for name, value in {"DS_LIST": f'"{self.list_path}"', **self.defines}.items():
            command += ["-A", f"{name}={value}"]
        return command

    def start(self, ready_timeout: float = 10.0) -> Kamailio:
        self.list_path.write_text("".join(f"{n.line()}\n" for n in self.nodes))
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                start_new_session=True,  # its process group is exactly its processes
            )
        try:
            self._wait_ready(ready_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        """Until Kamailio answers an OPTIONS for itself (200, or 403 when loopback is not
        among its callers: it is up either way), or the deadline."""
        call_id = uuid.uuid4().hex
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((LOOPBACK, 0))
            sock.settimeout(0.2)
            local = sock.getsockname()[1]
            probe = (
                f"OPTIONS sip:{self.address} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {LOOPBACK}:{local};branch=z9hG4bK{uuid.uuid4().hex}\r\n"
                f"Max-Forwards: 70\r\nFrom: <sip:probe@{LOOPBACK}>;tag={call_id[:8]}\r\n"
                f"To: <sip:{self.address}>\r\nCall-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\n"
                "Content-Length: 0\r\n\r\n"
            ).encode()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    raise RuntimeError(f"kamailio exited at start:\n{self.log_text()[-3000:]}")
                sock.sendto(probe, (LOOPBACK, self.port))
                try:
                    data = sock.recv(65535)
                except TimeoutError:
                    continue
                if data.startswith(b"SIP/2.0 ") and call_id.encode() in data:
                    return
        raise TimeoutError(
            f"kamailio did not answer OPTIONS within {timeout} s; see {self.log_path}"
        )

    def node_states(self) -> dict[str, str]:
        """Each node's state as the dispatcher holds it, over Kamailio's control socket
        (``kamcmd dispatcher.list``): ``sip:HOST:PORT`` -> ``AP`` (active, probed), ``IP``
        (inactive, probed: its OPTIONS went unanswered), ...."""
        kamcmd = "/usr/sbin/kamcmd" if os.access("/usr/sbin/kamcmd", os.X_OK) else "kamcmd"
        socket_path = self.directory / "run" / "kamailio_ctl"
        done = subprocess.run(
            [kamcmd, "-s", f"unix:{socket_path}", "dispatcher.list"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        states: dict[str, str] = {}
        uri = None
        for line in done.stdout.splitlines():
            key, _, value = line.strip().partition(": ")
            if key == "URI":
                uri = value
            elif key == "FLAGS" and uri is not None:
                states[uri] = value
                uri = None
        return states

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def script_lines(self, word: str) -> list[str]:
        """The config's own log lines (xlog) that hold ``word``."""
        return [
            line for line in self.log_text().splitlines() if "<script>" in line and word in line
        ]

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the whole process group, then SIGKILL; idempotent."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
