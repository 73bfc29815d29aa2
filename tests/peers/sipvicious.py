"""SIPVicious 0.3.8 (GPL-2.0+, test-only): the scanner an attacker would run first.

``svmap`` finds SIP devices and fingerprints them by ``Server``/``User-Agent``; ``svwar``
enumerates extensions by comparing answers to REGISTER, INVITE or OPTIONS. Against the
switchboard, "found nothing" from svwar is the pass (issue 3: known and unknown
extensions are indistinguishable). Never run with ``-R``: it reports back to its author.

Both tools print a two-column ASCII table; we parse it into frozen values. Each run gets
its own ``HOME`` so saved sessions (``~/.sipvicious``) never leak between tests, and binds
its own source port (the default is 5060, which a server under test may hold).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tests.peers.tools import LOOPBACK, free_port, require_tool

WarMethod = Literal["REGISTER", "INVITE", "OPTIONS"]
WAR_METHODS: tuple[WarMethod, ...] = ("REGISTER", "INVITE", "OPTIONS")
FORBIDDEN_FLAGS = frozenset({"-R", "--reportback"})
EXIT_NETWORK_ERROR = 30
"""svwar/svmap exit codes: 0 clean, 10/40 found something, 20 input trouble, 30 network."""


class SipviciousError(Exception):
    """A SIPVicious run could not be made or did not finish in time."""


@dataclass(frozen=True)
class Row:
    """One table row: (device, user agent) for svmap, (extension, authentication) for svwar."""

    key: str
    value: str


@dataclass(frozen=True)
class ScanResult:
    tool: str
    rows: tuple[Row, ...]
    exit_code: int
    output: str

    @property
    def found_nothing(self) -> bool:
        return not self.rows

    def keys(self) -> tuple[str, ...]:
        return tuple(row.key for row in self.rows)


def parse_table(output: str) -> tuple[Row, ...]:
    """Rows of the ``| a | b |`` table both tools print, without its header row."""
    rows: list[Row] = []
    header_seen = False
    for line in output.splitlines():
        stripped = line.strip()
        if not (stripped.startswith("|") and stripped.endswith("|")):
            continue
        cells = [cell.strip() for cell in stripped.strip("|").split("|")]
        if len(cells) != 2:
            continue
        if not header_seen:
            header_seen = True
            continue
        rows.append(Row(cells[0], cells[1]))
    return tuple(rows)


def _run(
    tool: str, args: list[str], timeout: float, work_dir: Path | None, *, strict: bool
) -> ScanResult:
    """Run one tool; ``strict`` also refuses a network error (exit 30) as a result."""
    if FORBIDDEN_FLAGS.intersection(args):
        raise SipviciousError(f"{tool}: never pass -R/--reportback (it phones home)")
    binary = require_tool(tool, "the PyPI package sipvicious (test extra)")
    home = work_dir or Path(tempfile.mkdtemp(prefix="sipvicious-"))
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOME": str(home)}
    try:
        completed = subprocess.run(
            [binary, *args],
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SipviciousError(f"{tool} {' '.join(args)} did not finish in {timeout:g}s") from exc
    output = completed.stdout + completed.stderr
    rows = parse_table(completed.stdout)
    # "found nothing" is the pass for svwar, so a run that never scanned (a usage error,
    # a network error) must not look like one.
    if not rows and "found nothing" not in output:
        raise SipviciousError(f"{tool} {' '.join(args)} exited {completed.returncode}: {output}")
    if strict and completed.returncode == EXIT_NETWORK_ERROR:
        raise SipviciousError(f"{tool} {' '.join(args)}: network error: {output}")
    return ScanResult(tool, rows, completed.returncode, output)


def svmap(
    host: str,
    port: int,
    *,
    method: WarMethod = "OPTIONS",
    timeout: float = 20.0,
    work_dir: Path | None = None,
) -> ScanResult:
    """Scan ``host:port``; rows are (``host:port``, user agent or ``unknown``).

    It waits ~3 s for late answers after the last probe (its fixed socket timeout). A port
    nobody listens on is a network error to svmap (ICMP unreachable) and "found nothing" here.
    """
    args = ["-b", LOOPBACK, "-P", str(free_port("udp")), "-p", str(port), "-m", method, host]
    return _run("sipvicious_svmap", args, timeout, work_dir, strict=False)


def svwar(
    host: str,
    port: int,
    *,
    extensions: str = "100-110",
    method: WarMethod = "REGISTER",
    timeout: float = 30.0,
    work_dir: Path | None = None,
    force: bool = False,
) -> ScanResult:
    """Enumerate ``extensions`` (svwar range syntax, e.g. ``"64120-64130"``) with
    ``method``; rows are (extension, ``reqauth``/``noauth``/...). Empty is the pass, so a
    run with a network error (no answers at all) raises instead of passing.

    Without ``force`` svwar gives up at once when a made-up extension is challenged
    (printing "found nothing" without scanning); ``force`` makes it scan every extension
    anyway and compare each answer with the made-up one's."""
    args = ["-b", LOOPBACK, "-P", str(free_port("udp"))]
    if force:
        args.append("--force")
    args += ["-e", extensions, "-m", method, "--maximumtime", "5", f"udp://{host}:{port}"]
    return _run("sipvicious_svwar", args, timeout, work_dir, strict=True)


def svwar_all_methods(
    host: str,
    port: int,
    *,
    extensions: str = "100-110",
    work_dir: Path | None = None,
    force: bool = False,
) -> dict[WarMethod, ScanResult]:
    """svwar once per method, REGISTER, INVITE and OPTIONS (issue 3, security defaults)."""
    return {
        method: svwar(
            host, port, extensions=extensions, method=method, work_dir=work_dir, force=force
        )
        for method in WAR_METHODS
    }
