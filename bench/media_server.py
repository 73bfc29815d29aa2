"""The switchboard under test for ``media_load.py``: seeded, served, stopped (issue 13).

``switchboard()`` writes a config with media on (the bundled ``sml.toml`` plus a
``[media]`` table with a wide RTP range), seeds the ``demo`` directory at the fixed
instant ``--now`` and sets the routed extension available (as ``sip_load.py`` does), then
runs ``switchboard serve`` in redirect mode with 127.0.0.1 trusted (no digest) until the
``with`` block ends: SIGTERM to its process group, SIGKILL after 10 s.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sip_load
from rtp_callers import Call, Farm, Slot, State
from sip_load import BenchError, cpu_of, free_udp_port, group_pids, spawned

LOOPBACK = "127.0.0.1"
MONDAY_10 = "2026-11-23T10:00:00+01:00"
"""Working hours: Anna Berg (64123) at lunch, Johan Ek (51234) set available."""


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    rtp_first: int
    rtp_last: int

    def cpu(self) -> sip_load.Cpu:
        return cpu_of(group_pids(self.proc.pid))

    def check(self) -> None:
        if self.proc.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise BenchError(f"the switchboard exited ({self.proc.returncode}):\n{tail}")


@contextlib.contextmanager
def switchboard(args: argparse.Namespace, work: Path, name: str) -> Iterator[Server]:
    """A seeded data directory and ``switchboard serve`` on it, stopped on the way out."""
    directory = work / name
    directory.mkdir()
    base_config = args.config.read_text(encoding="utf-8")
    if "\n[media]" in base_config:
        raise BenchError(f"{args.config} has a [media] table; give one without")
    first, _, last = args.rtp_ports.partition("-")
    config = directory / args.config.name  # the name picks the demo directory
    config.write_text(
        f'{base_config}\n[media]\nenabled = true\nrtp_ports = "{args.rtp_ports}"\n',
        encoding="utf-8",
    )
    base = [
        args.python, "-m", "switchboard", "--config", str(config),
        "--data", str(directory / "data"), "--now", args.now,
    ]  # fmt: skip
    for prep in (["demo", "--seed-only"], ["presence", "available", args.routed]):
        done = subprocess.run(base + prep, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise BenchError(f"{' '.join(prep)} failed ({done.returncode}): {done.stderr.strip()}")
    port = free_udp_port()
    cmd = [
        *base, "serve", "--sip-listen", f"{LOOPBACK}:{port}", "--http-listen", f"{LOOPBACK}:0",
        "--sip-mode", "redirect", "--trunk", f"{LOOPBACK}:{free_udp_port()}",
        "--trusted", f"{LOOPBACK}/32",
    ]  # fmt: skip
    log = directory / "server.log"
    with spawned(cmd, log, directory) as proc:
        sip_load.options_probe(port, proc, log, args.ready_timeout)
        note(f"{name}: switchboard ready on udp {LOOPBACK}:{port} (pid {proc.pid})")
        yield Server(proc, port, log, int(first), int(last))


def note(text: str) -> None:
    print(f"# {text}", file=sys.stderr, flush=True)


def one_call(farm: Farm, slot: Slot, *, until_first_rtp: bool, timeout: float) -> Call:
    """A call on ``slot``: to its end (the far end's BYE), or hung up at its first RTP."""
    call = farm.start_call(slot)
    if until_first_rtp:
        farm.run(
            time.monotonic() + timeout,
            lambda: call.first_rtp_ns is not None or call.state is State.ENDED,
        )
        farm.hang_up(call)
    farm.run(time.monotonic() + timeout, lambda: call.state is State.ENDED)
    return call
