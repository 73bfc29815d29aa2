"""SIPp (Debian ``sip-tester`` 3.6) as a test peer: a caller that runs to completion, and a
background answerer (the mobile operator's trunk) that lives for the length of a test.

Scenarios live in ``scenarios/``; traces (stats, response times, errors, ``<log>`` lines)
go to a per-run directory so a failing test can show what SIPp saw. Exit codes per PEERS.md:
0 all calls succeeded, 1 some failed, 255 the global ``-timeout`` was reached.
"""

from __future__ import annotations

import asyncio
import csv
import re
import statistics
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

from tests.peers.tools import LOOPBACK, Peer, free_port, port_in_use, require_tool, wait_for

SCENARIOS = Path(__file__).parent / "scenarios"
EXIT_OK = 0
EXIT_CALLS_FAILED = 1
EXIT_TIMEOUT = 255
Transport = Literal["u1", "un", "t1"]


def scenario(name: str) -> Path:
    """Path of a bundled scenario (``"uas_answer"`` or ``"uas_answer.xml"``)."""
    path = SCENARIOS / (name if name.endswith(".xml") else f"{name}.xml")
    if not path.is_file():
        raise FileNotFoundError(f"no SIPp scenario {path}; see {SCENARIOS} for the ones we have")
    return path


def sipp_path() -> str:
    """The sipp binary, or skip (locally) / fail (CI) the test."""
    return require_tool("sipp", "the Debian package sip-tester")


@dataclass(frozen=True)
class SippStats:
    """What one SIPp process counted, read from its ``-trace_stat``/``-trace_rtt`` files."""

    successful: int = 0
    failed: int = 0
    response_times_ms: tuple[float, ...] = ()

    def percentile(self, pct: float) -> float | None:
        """Response-time percentile in ms (inclusive method), None without samples."""
        samples = sorted(self.response_times_ms)
        if not samples:
            return None
        if len(samples) == 1:
            return samples[0]
        cuts = statistics.quantiles(samples, n=100, method="inclusive")
        return cuts[min(max(round(pct) - 1, 0), 98)]

    @property
    def p50_ms(self) -> float | None:
        return self.percentile(50)

    @property
    def p99_ms(self) -> float | None:
        return self.percentile(99)


@dataclass(frozen=True)
class SippResult:
    """The outcome of one SIPp process: exit code, counts, and its traces for messages."""

    exit_code: int
    stats: SippStats
    log_lines: tuple[str, ...] = ()
    """Lines written by ``<log message=...>`` actions (-trace_logs)."""
    errors: str = ""
    """Unexpected messages and aborts (-trace_err), for assertion messages."""
    trace_dir: Path | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK and self.stats.failed == 0

    def describe(self) -> str:
        """One paragraph a person can act on when an assertion fails."""
        return (
            f"sipp exit={self.exit_code} successful={self.stats.successful} "
            f"failed={self.stats.failed} traces={self.trace_dir}\n{self.errors[-2000:]}"
        )


@dataclass(frozen=True)
class SippRun:
    """One SIPp client run: a scenario against ``remote`` (host:port).

    ``service`` is the ``[service]`` keyword (``-s``: the dialled extension); ``keys`` are
    extra ``-key name value`` keywords; ``inf`` a CSV injected as ``[fieldN]``. ``timeout``
    bounds the whole run (``-timeout`` with ``-timeout_error``, so a hung peer is exit 255,
    not a hung test).
    """

    scenario: Path
    remote: str
    service: str | None = None
    local_port: int | None = None
    local_ip: str = LOOPBACK
    rate: float = 10.0
    calls: int = 1
    inf: Path | None = None
    keys: Mapping[str, str] = field(default_factory=dict)
    transport: Transport = "u1"
    timeout: float = 10.0
    extra_args: Sequence[str] = ()

    def command(self, binary: str, local_port: int) -> list[str]:
        """The sipp command line; the caller runs it with cwd set to the trace directory."""
        cmd = [binary, "-sf", str(self.scenario), self.remote]
        cmd += ["-i", self.local_ip, "-p", str(local_port), "-t", self.transport]
        cmd += ["-m", str(self.calls), "-r", _number(self.rate), "-rp", "1000"]
        if self.service is not None:
            cmd += ["-s", self.service]
        if self.inf is not None:
            cmd += ["-inf", str(self.inf)]
        for name, value in self.keys.items():
            cmd += ["-key", name, value]
        cmd += ["-timeout", f"{self.timeout:g}s", "-timeout_error", "-nostdin"]
        cmd += _TRACES
        cmd += list(self.extra_args)
        return cmd


_SCRIPTED_TIMEOUT = re.compile(
    r"\d{4}-\d\d-\d\d\t[\d:.]+\t[\d.]+: Call-Id: [^,]*, receive timeout on message [^,]*, "
    r"jumping to label \d+?(?=\d{4}-\d\d-\d\d\t|\s|$)"
)
"""A <recv timeout ontimeout> the scenario chose (the media callers' waits): a note SIPp
writes to the error trace without a newline, not an error."""

_TRACES = ["-trace_stat", "-trace_rtt", "-rtt_freq", "1", "-trace_err", "-trace_logs"]


def _number(value: float) -> str:
    return f"{value:g}"


def run(spec: SippRun, trace_dir: Path | None = None) -> SippResult:
    """Run SIPp as a client to completion and return its exit code and statistics.

    Traces go to ``trace_dir`` (a fresh temporary directory if None, kept for debugging).
    The subprocess is killed if it outlives its own ``-timeout`` by 10 s.
    """
    binary = sipp_path()
    directory = trace_dir or Path(tempfile.mkdtemp(prefix="sipp-"))
    directory.mkdir(parents=True, exist_ok=True)
    port = spec.local_port or free_port("both" if spec.transport == "t1" else "udp")
    with (directory / "screen.txt").open("wb") as screen:
        try:
            completed = subprocess.run(
                spec.command(binary, port),
                cwd=directory,
                stdin=subprocess.DEVNULL,
                stdout=screen,
                stderr=subprocess.STDOUT,
                timeout=spec.timeout + 10,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise TimeoutError(
                f"sipp {spec.scenario.name} did not stop {spec.timeout + 10:g}s after start "
                f"despite -timeout; traces in {directory}"
            ) from exc
    return read_result(directory, spec.scenario.stem, completed.returncode)


async def run_async(spec: SippRun, trace_dir: Path | None = None) -> SippResult:
    """``run`` off the event loop, for async tests whose server shares the loop."""
    return await asyncio.to_thread(run, spec, trace_dir)


def read_result(directory: Path, scenario_stem: str, exit_code: int) -> SippResult:
    """Collect the trace files SIPp wrote for ``scenario_stem`` in ``directory``."""
    return SippResult(
        exit_code=exit_code,
        stats=SippStats(
            successful=_last_stat(directory, scenario_stem, "SuccessfulCall(C)"),
            failed=_last_stat(directory, scenario_stem, "FailedCall(C)"),
            response_times_ms=tuple(_response_times(directory, scenario_stem)),
        ),
        log_lines=tuple(_lines(directory.glob(f"{scenario_stem}_*_logs.log"))),
        errors=_SCRIPTED_TIMEOUT.sub(
            "", "\n".join(_lines(directory.glob(f"{scenario_stem}_*_errors.log")))
        ),
        trace_dir=directory,
    )


def _last_stat(directory: Path, stem: str, column: str) -> int:
    """A cumulative counter from the last row of the ``-trace_stat`` CSV (0 if none)."""
    for path in directory.glob(f"{stem}_*_.csv"):
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            rows = list(csv.DictReader(handle, delimiter=";"))
        if rows and rows[-1].get(column, "").strip().isdigit():
            return int(rows[-1][column])
    return 0


def _response_times(directory: Path, stem: str) -> Iterator[float]:
    for path in directory.glob(f"{stem}_*_rtt.csv"):
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            for row in csv.DictReader(handle, delimiter=";"):
                value = (row.get("response_time_ms") or "").strip()
                if value:
                    yield float(value)


def _lines(paths: Iterator[Path]) -> Iterator[str]:
    for path in sorted(paths):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip():
                yield line


class SippServer(Peer):
    """A SIPp scenario in the UAS role, running in the background for one test.

    ``with SippServer(scenario("uas_answer")) as trunk:`` binds ``trunk.port`` on loopback
    (ready when the port is held), and on exit it is terminated, then killed after
    ``stop_timeout``. ``stop()`` returns what it counted (stats are written on SIGTERM).
    ``answer_options`` (``-aa``) answers out-of-scenario OPTIONS/INFO/NOTIFY/UPDATE with 200,
    as a real trunk answers keep-alives, so scanners and pingers get a response.
    """

    def __init__(
        self,
        scenario_path: Path,
        *,
        port: int | None = None,
        keys: Mapping[str, str] | None = None,
        transport: Transport = "u1",
        trace_dir: Path | None = None,
        max_calls: int | None = None,
        answer_options: bool = True,
        extra_args: Sequence[str] = (),
        stop_timeout: float = 3.0,
    ) -> None:
        self.scenario = scenario_path
        self.port = port or free_port("both" if transport == "t1" else "udp")
        self.keys = dict(keys or {})
        self.transport: Transport = transport
        self.trace_dir = trace_dir or Path(tempfile.mkdtemp(prefix="sipp-uas-"))
        self.max_calls = max_calls
        self.answer_options = answer_options
        self.extra_args = list(extra_args)
        self.stop_timeout = stop_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._screen: IO[bytes] | None = None
        self._result: SippResult | None = None

    @property
    def address(self) -> str:
        """``host:port`` to aim a caller (or the switchboard's ``--trunk``) at."""
        return f"{LOOPBACK}:{self.port}"

    def command(self, binary: str) -> list[str]:
        cmd = [binary, "-sf", str(self.scenario), "-i", LOOPBACK, "-p", str(self.port)]
        cmd += ["-t", self.transport, "-nostdin", "-fd", "1"]
        if self.max_calls is not None:
            cmd += ["-m", str(self.max_calls)]
        if self.answer_options:
            cmd.append("-aa")
        for name, value in self.keys.items():
            cmd += ["-key", name, value]
        return cmd + _TRACES + self.extra_args

    def start(self, ready_timeout: float = 5.0) -> SippServer:
        self.trace_dir.mkdir(parents=True, exist_ok=True)
        self._screen = (self.trace_dir / "screen.txt").open("wb")
        self._process = subprocess.Popen(
            self.command(sipp_path()),
            cwd=self.trace_dir,
            stdin=subprocess.DEVNULL,
            stdout=self._screen,
            stderr=subprocess.STDOUT,
        )
        process = self._process
        try:
            wait_for(
                lambda: process.poll() is not None or port_in_use(self.port, "udp"),
                timeout=ready_timeout,
                what=f"sipp {self.scenario.name} to bind {self.address}",
            )
        except TimeoutError:
            self.stop()
            raise
        if process.poll() is not None:
            result = self.stop()
            raise RuntimeError(f"sipp {self.scenario.name} exited at start: {result.describe()}")
        return self

    def wait(self, timeout: float) -> SippResult:
        """Wait for a server started with ``max_calls`` to finish by itself."""
        if self._process is not None:
            self._process.wait(timeout=timeout)
        return self.stop()

    def stop(self) -> SippResult:
        """Terminate (then kill) the process; idempotent; returns its final counts."""
        if self._result is not None:
            return self._result
        process, self._process = self._process, None
        exit_code = -1
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=self.stop_timeout)
            exit_code = process.returncode
        if self._screen is not None:
            self._screen.close()
            self._screen = None
        self._result = read_result(self.trace_dir, self.scenario.stem, exit_code)
        return self._result
