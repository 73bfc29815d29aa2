"""SIP load at rising rates, with Kamailio as the reference in the same run (issue 3).

Usage (from the repository root, with the project's venv):

    .venv/bin/python bench/sip_load.py --target kamailio-redirect,switchboard-redirect \\
        --rates 500,1000,2000,4000 --duration 10 [--record] [--json out.json]

Targets: ``kamailio-redirect``, ``kamailio-tm-redirect``, ``bare-redirect``,
``switchboard-redirect``, ``kamailio-proxy``, ``switchboard-proxy``, and
``switchboard-wN-redirect`` / ``switchboard-wN-proxy`` for ``serve --workers N`` (issue
14: calls per second per machine with 1 and 2 workers); several,
comma-separated, run one after the other in this run and are shown side by side (CPU per
call as a ratio to ``kamailio-MODE`` at the same rate). ``kamailio-redirect`` is the
issue's reference: a stateless 302. ``kamailio-tm-redirect`` is Kamailio doing the work
our redirect mode does: an INVITE server transaction (tm) and one log line per call.
For each target the runner starts the server (Kamailio with ``bench/kamailio/*.cfg``,
children=1; or ``python -m switchboard serve`` on a data directory seeded with ``demo``
in which the dialled extension is set available), waits until it answers OPTIONS, and for every rate
runs SIPp (``-r RATE -m CALLS``): INVITE -> 302 -> ACK (``scenarios/uac_302.xml``), or in
proxy mode INVITE -> 180 -> 200 -> ACK -> BYE -> 200 towards a SIPp UAS playing the
trunk (``scenarios/uac_proxy.xml``, ``scenarios/uas_trunk.xml``).

Measured per step:
- calls: SIPp's stat file (``-trace_stat``): successful, failed, retransmissions, rate;
- response time p50/p99: SIPp's per-call rtd trace (``-trace_rtt -rtt_freq 1``; INVITE
  sent -> 302, or -> 200 in proxy mode). SIPp 3.6 records whole milliseconds: 0 means
  under 1 ms;
- CPU of the server under test: every process in its process group (Kamailio's SIP worker
  and its helper processes; every thread of ours), read before and after the step from
  the kernel's per-process CPU clock (nanoseconds; ``clock_gettime`` on the pid's CPU
  clock) and cross-checked with utime+stime from ``/proc/PID/stat`` (10 ms ticks). Gives
  µs of CPU per successful call and calls per core-second;
- the server's memory as SIPp finishes (proportional set size, so pages shared between
  Kamailio's processes count once), while it still holds the step's recent transactions;
- CPU of SIPp itself (and of the trunk UAS), to show the load generator is not the limit.

SIPp sends every call from one socket by default, as a trunk or a Kamailio in front does
(the kernel then hands all of it to one worker, which passes what others own on);
``--sipp-sockets N`` uses ``-t un -max_socket N`` instead, N source ports, as phones are.
The summary after the table gives each target's highest offered rate with no failed call
(and, with ``--p99-limit``, a p99 under that limit): calls per second for the machine,
load generator included.

``--record`` appends a dated section (machine, command, table) to ``bench/RESULTS.md``;
nothing there is ever removed. Exit code: 0 no failed call, 1 some failed, 3 the harness
could not run (message says why).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
TARGETS = (
    "kamailio-redirect",
    "kamailio-tm-redirect",
    "bare-redirect",
    "switchboard-redirect",
    "kamailio-proxy",
    "switchboard-proxy",
)
LOOPBACK = "127.0.0.1"
CLOCK_TICK = os.sysconf("SC_CLK_TCK")
# SIPp's socket buffers (default 64 KiB): bursts at 4,000 calls/s overflow the default and
# lose datagrams in the load generator rather than in the server under test.
SIPP_BUFFER = str(1 << 20)
# Kamailio's shared memory: tm keeps each transaction for its wait timer (5 s), and at
# 2,000 proxied calls/s 256 MB ran out ("new_t(): out of mem"), failing calls.
SHM_MB = "1024"


class BenchError(Exception):
    """The harness could not run a step; the message says what to fix."""


WORKERS_TARGET = re.compile(r"switchboard-w(\d+)-(redirect|proxy)")


@dataclass(frozen=True)
class Target:
    name: str
    server: str  # "kamailio", "bare" (bare_redirect.py) or "switchboard"
    mode: str  # "redirect" or "proxy"
    config: str  # Kamailio's bench/kamailio/CONFIG.cfg: "redirect", "tm-redirect", "proxy"
    workers: int = 1
    """``switchboard serve --workers N``."""

    @classmethod
    def parse(cls, name: str) -> Target:
        several = WORKERS_TARGET.fullmatch(name)
        if several is not None and int(several[1]) >= 1:
            return cls(name, "switchboard", several[2], several[2], int(several[1]))
        if name not in TARGETS:
            raise BenchError(
                f"unknown target {name!r}; choose from {', '.join(TARGETS)}, "
                "switchboard-wN-redirect, switchboard-wN-proxy"
            )
        server, _, config = name.partition("-")
        return cls(name, server, config.rpartition("-")[2], config)


@dataclass(frozen=True)
class Cpu:
    """CPU time of a set of processes: precise (CPU clock) and coarse (/proc ticks)."""

    clock_s: float
    ticks_s: float

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(self.clock_s - other.clock_s, self.ticks_s - other.ticks_s)


@dataclass(frozen=True)
class Step:
    target: str
    rate: int
    calls: int
    successful: int
    failed: int
    retransmissions: int
    achieved_rate: float
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    server_cpu_s: float
    server_ticks_s: float
    server_processes: int
    sipp_cpu_s: float
    trunk_cpu_s: float
    wall_s: float
    sipp_exit: int
    repeats_us: tuple[float, ...] = ()
    """With ``--repeat``: CPU µs per call of every run of this step (the one shown is
    the median; a run with failures is shown instead if there is one)."""
    server_pss_mb: float = 0.0
    """The server's memory when SIPp finished, while it still holds the step's recent
    transactions: proportional set size (shared pages split among the processes sharing
    them, so Kamailio's shared memory counts once), summed over its processes."""

    @property
    def us_per_call(self) -> float:
        return self.server_cpu_s * 1e6 / self.successful if self.successful else float("nan")

    @property
    def calls_per_core_s(self) -> float:
        return self.successful / self.server_cpu_s if self.server_cpu_s > 0 else float("nan")

    @property
    def sipp_cpu_pct(self) -> float:
        return 100 * (self.sipp_cpu_s + self.trunk_cpu_s) / self.wall_s if self.wall_s else 0.0


# --- CPU accounting -------------------------------------------------------------------


def _proc_stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (field 3 onwards; see proc(5))."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def group_pids(pgid: int) -> list[int]:
    """Every live process in process group ``pgid`` (the server and what it forked)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                if int(_proc_stat(int(entry.name))[2]) == pgid:
                    pids.append(int(entry.name))
    return pids


def cpu_of(pids: list[int]) -> Cpu:
    """Sum of user+system CPU over ``pids``, all threads included (dead ones too).

    The CPU clock id of another process is ``(~pid << 3) | CPUCLOCK_SCHED`` (Linux
    posix-cpu-timers); it has nanosecond resolution where /proc ticks have 10 ms.
    """
    clock = ticks = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = _proc_stat(pid)
            ticks += (int(fields[11]) + int(fields[12])) / CLOCK_TICK
            clock += time.clock_gettime(((~pid) << 3) | 2)
    return Cpu(clock, ticks)


def pss_mb(pids: list[int]) -> float:
    """Summed proportional set size of ``pids`` in MB (``/proc/PID/smaps_rollup``)."""
    kib = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    kib += int(line.split()[1])
                    break
    return kib / 1024


def children_cpu_s() -> float:
    """CPU of reaped children of this process: SIPp's own cost once it has exited."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- processes ------------------------------------------------------------------------


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def free_sip_port() -> int:
    """A port free for UDP and TCP both: our server binds both on the same port."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((LOOPBACK, 0))
            port = int(tcp.getsockname()[1])
            if not udp_port_taken(port):
                return port
    raise BenchError("no port free for both UDP and TCP on loopback")


def udp_port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return True
        return False


def tool(name: str, given: str | None) -> str:
    found = given or shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        raise BenchError(
            f"{name} not found: install Debian {'sip-tester' if name == 'sipp' else name}"
        )
    return found


@contextlib.contextmanager
def spawned(cmd: list[str], log: Path, cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``cmd`` in its own session (so its process group is exactly its processes) and
    stop the whole group on the way out: SIGTERM, then SIGKILL after 10 s."""
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own command line, no shell
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def options_probe(port: int, proc: subprocess.Popen[bytes], log: Path, deadline_s: float) -> None:
    """Wait until the server answers OPTIONS with 200 (RFC 3261 section 11): it is ready."""
    call_id = uuid.uuid4().hex
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.settimeout(0.2)
        local = sock.getsockname()[1]
        probe = (
            f"OPTIONS sip:{LOOPBACK}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {LOOPBACK}:{local};branch=z9hG4bK{uuid.uuid4().hex}\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:probe@{LOOPBACK}>;tag={call_id[:8]}\r\n"
            f"To: <sip:{LOOPBACK}:{port}>\r\nCall-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise BenchError(f"server exited with {proc.returncode} before ready:\n{tail}")
            sock.sendto(probe, (LOOPBACK, port))
            with contextlib.suppress(TimeoutError):
                data = sock.recv(65535)
                if data.startswith(b"SIP/2.0 200") and call_id.encode() in data:
                    return
    raise BenchError(f"no 200 to OPTIONS on udp {LOOPBACK}:{port} within {deadline_s} s; see {log}")


def wait_ready_line(proc: subprocess.Popen[bytes], log: Path, deadline_s: float) -> None:
    end = time.monotonic() + deadline_s
    while b'{"ready"' not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > end:
            tail = log.read_text(errors="replace")[-2000:]
            raise BenchError(f"the workers did not all get ready within {deadline_s} s:\n{tail}")
        time.sleep(0.05)


def server_command(
    target: Target, args: argparse.Namespace, port: int, trunk: int, work: Path
) -> list[str]:
    if target.server == "kamailio":
        run = work / "kamailio-run"
        run.mkdir(exist_ok=True)
        return [
            tool("kamailio", args.kamailio),
            "-DD",
            "-E",
            "-m",
            SHM_MB,
            "-f",
            str(BENCH / "kamailio" / f"{target.config}.cfg"),
            "-l",
            f"udp:{LOOPBACK}:{port}",
            "-A",
            f'TRUNK="{LOOPBACK}:{trunk}"',
            "-Y",
            str(run),
            "-w",
            str(work),
        ]
    if target.server == "bare":
        # The floor: a bare Python responder on the same event loop (bare_redirect.py).
        return [args.python, str(BENCH / "bare_redirect.py"), str(port), f"{LOOPBACK}:{trunk}"]
    base = [
        args.python,
        "-m",
        "switchboard",
        "--config",
        str(args.config),
        "--data",
        str(work / "data"),
    ]
    for prep in (["demo", "--seed-only"], ["presence", "available", args.dial]):
        done = subprocess.run(base + prep, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise BenchError(f"{' '.join(prep)} failed ({done.returncode}): {done.stderr.strip()}")
    return [
        *base,
        "serve",
        "--sip-listen",
        f"{LOOPBACK}:{port}",
        "--http-listen",  # the web is not measured; port 0 keeps 8080 free for others
        f"{LOOPBACK}:0",
        "--sip-mode",
        target.mode,
        "--trunk",
        f"{LOOPBACK}:{trunk}",
        "--trusted",
        f"{LOOPBACK}/32",
        *(["--workers", str(target.workers)] if target.workers > 1 else []),
    ]


# --- SIPp results ---------------------------------------------------------------------


def parse_stat(path: Path) -> dict[str, str]:
    """The last (cumulative) line of SIPp's ``-trace_stat`` file, keyed by column name."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if len(lines) < 2:
        raise BenchError(f"SIPp wrote no statistics to {path}")
    return dict(zip(lines[0].split(";"), lines[-1].split(";"), strict=False))


def parse_rtt(path: Path, rtd: str) -> list[float]:
    """Response times (ms) of ``rtd`` from SIPp's ``-trace_rtt`` file (date;ms;rtd_no)."""
    times = []
    for line in path.read_text().splitlines()[1:]:
        parts = line.split(";")
        if len(parts) >= 3 and parts[2].strip() == rtd:
            times.append(float(parts[1]))
    return times


def percentile(sorted_values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile; None without samples."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return sorted_values[int(rank) - 1]


def run_step(
    target: Target,
    args: argparse.Namespace,
    rate: int,
    port: int,
    server_pgid: int,
    trunk_pgid: int | None,
    work: Path,
    *,
    calls: int | None = None,
    label: str = "",
) -> Step:
    calls = calls or args.calls_per_step or rate * args.duration
    step_dir = work / f"{target.name}-{rate}{label}"
    step_dir.mkdir()
    scenario = "uac_302.xml" if target.mode == "redirect" else "uac_proxy.xml"
    cmd = [
        tool("sipp", args.sipp),
        f"{LOOPBACK}:{port}",
        "-sf",
        str(BENCH / "scenarios" / scenario),
        "-s",
        args.dial,
        "-i",
        LOOPBACK,
        "-p",
        str(free_udp_port()),
        *(["-t", "un", "-max_socket", str(args.sipp_sockets)] if args.sipp_sockets else []),
        "-r",
        str(rate),
        "-m",
        str(calls),
        "-trace_stat",
        "-stf",
        "stat.csv",
        "-fd",
        "1",
        "-trace_rtt",
        "-rtt_freq",
        "1",
        "-trace_err",
        "-nostdin",
        "-buff_size",
        SIPP_BUFFER,
        "-timeout",
        f"{int(calls / rate) + 20}s",
        "-timeout_error",
        "-recv_timeout",
        "10000",
    ]
    server_pids = group_pids(server_pgid)
    trunk_pids = group_pids(trunk_pgid) if trunk_pgid else []
    server0, trunk0, sipp0 = cpu_of(server_pids), cpu_of(trunk_pids), children_cpu_s()
    started = time.monotonic()
    with (step_dir / "sipp.log").open("wb") as out:
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=out, cwd=step_dir, check=False)  # noqa: S603
    wall = time.monotonic() - started
    memory = pss_mb(group_pids(server_pgid))
    time.sleep(args.settle)
    server = cpu_of(group_pids(server_pgid)) - server0
    trunk = cpu_of(trunk_pids) - trunk0
    stat = parse_stat(step_dir / "stat.csv")
    rtts = sorted(t for f in step_dir.glob("*_rtt.csv") for t in parse_rtt(f, "invite"))
    return Step(
        target=target.name,
        rate=rate,
        calls=calls,
        successful=int(stat["SuccessfulCall(C)"]),
        failed=int(stat["FailedCall(C)"]),
        retransmissions=int(stat["Retransmissions(C)"]),
        achieved_rate=float(stat["CallRate(C)"]),
        p50_ms=percentile(rtts, 50),
        p99_ms=percentile(rtts, 99),
        max_ms=rtts[-1] if rtts else None,
        server_cpu_s=server.clock_s,
        server_ticks_s=server.ticks_s,
        server_processes=len(server_pids),
        sipp_cpu_s=children_cpu_s() - sipp0,
        trunk_cpu_s=trunk.clock_s,
        wall_s=wall,
        sipp_exit=done.returncode,
        server_pss_mb=memory,
    )


def run_target(target: Target, args: argparse.Namespace, work: Path) -> list[Step]:
    """Start the server (and the trunk in proxy mode), run every rate, stop them."""
    port, trunk = free_sip_port(), free_udp_port()
    target_dir = work / target.name
    target_dir.mkdir()
    with contextlib.ExitStack() as stack:
        trunk_pgid = None
        if target.mode == "proxy":
            uas = stack.enter_context(
                spawned(
                    [
                        tool("sipp", args.sipp),
                        "-sf",
                        str(BENCH / "scenarios" / "uas_trunk.xml"),
                        "-i",
                        LOOPBACK,
                        "-p",
                        str(trunk),
                        "-nostdin",
                        "-buff_size",
                        SIPP_BUFFER,
                    ],
                    target_dir / "trunk.log",
                    target_dir,
                )
            )
            end = time.monotonic() + 10
            while not udp_port_taken(trunk):
                if time.monotonic() > end or uas.poll() is not None:
                    raise BenchError(f"the SIPp trunk did not bind udp {trunk}; see {target_dir}")
                time.sleep(0.05)
            trunk_pgid = uas.pid
        cmd = server_command(target, args, port, trunk, target_dir)
        log = target_dir / "server.log"
        server = stack.enter_context(spawned(cmd, log, target_dir))
        options_probe(port, server, log, args.ready_timeout)
        if target.workers > 1:
            # The first worker answers OPTIONS before the others listen: wait for the
            # parent's ready line, printed once all of them do.
            wait_ready_line(server, log, args.ready_timeout)
        print(f"# {target.name}: ready on udp {LOOPBACK}:{port} ({' '.join(cmd)})", file=sys.stderr)
        if args.warmup > 0:
            # Steady state, as for any server: the first calls meet start-up work (lazy
            # imports, caches, the first record flush) that no later call pays.
            rate = min(args.rates)
            warm = run_step(
                target, args, rate, port, server.pid, trunk_pgid, work,
                calls=max(1, round(rate * args.warmup)), label="-warmup",
            )  # fmt: skip
            print(f"#   warm-up {rate}/s: {warm.successful} ok (not counted)", file=sys.stderr)
        steps = []
        for rate in args.rates:
            runs = [
                run_step(
                    target, args, rate, port, server.pid, trunk_pgid, work,
                    label=f"-run{n}" if args.repeat > 1 else "",
                )
                for n in range(args.repeat)
            ]  # fmt: skip
            step = representative(runs)
            print(f"#   {rate}/s: {step.successful} ok, {step.failed} failed", file=sys.stderr)
            steps.append(step)
        return steps


def representative(runs: list[Step]) -> Step:
    """The step to show for several runs of one rate: the median by CPU per call, or the
    run with the most failures if any failed (a failure must never be hidden)."""
    if len(runs) == 1:
        return runs[0]
    worst = max(runs, key=lambda s: (s.failed, s.sipp_exit != 0))
    shown = worst if worst.failed or worst.sipp_exit else sorted(runs, key=_cpu)[len(runs) // 2]
    return replace(shown, repeats_us=tuple(round(s.us_per_call, 1) for s in runs))


def _cpu(step: Step) -> float:
    return step.us_per_call


# --- reporting ------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _ratio(step: Step, ref: Step | None) -> str:
    """CPU per call of ``step`` as a multiple of ``ref``'s, or "-" without a reference."""
    return f"{step.us_per_call / ref.us_per_call:.2f}" if ref and ref.us_per_call > 0 else "-"


def clean_rates(steps: list[Step], p99_limit: float | None) -> list[str]:
    """Each target's highest offered rate with no failed call (and p99 within the limit)."""
    limit = f" and p99 ≤ {p99_limit:g} ms" if p99_limit is not None else ""
    lines = [f"Highest offered rate with no failed call{limit} (calls per second, this machine):"]
    for name in dict.fromkeys(s.target for s in steps):
        clean = [
            s.rate
            for s in steps
            if s.target == name
            and not s.failed
            and not s.sipp_exit
            and (p99_limit is None or (s.p99_ms is not None and s.p99_ms <= p99_limit))
        ]
        tried = max(s.rate for s in steps if s.target == name)
        shown = f"{max(clean):,}" if clean else "none of the rates tried"
        top = " (the highest tried: go higher)" if clean and max(clean) == tried else ""
        lines.append(f"- {name}: {shown}{top}")
    return lines


def table(steps: list[Step], p99_limit: float | None = None) -> str:
    """Markdown, one row per mode, rate and target. The ratio's reference is Kamailio in
    the same mode at the same rate when it ran, else the first target of that mode."""
    order = {s.target: i for i, s in reversed(list(enumerate(steps)))}
    by_key = {(s.target, s.rate): s for s in steps}
    stateful = "kamailio-tm-redirect" in order  # then a second ratio, to that reference
    lines = [
        "| target | offered /s | achieved /s | ok | failed | retrans | p50 ms | p99 ms | "
        "server CPU µs/call (ticks) | calls per core-s | ×ref CPU/call | "
        + ("×tm-ref CPU/call | " if stateful else "")
        + "server MB | SIPp CPU % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        + ("---:|" if stateful else "")
        + "---:|---:|",
    ]
    for s in sorted(steps, key=lambda s: (s.target.endswith("proxy"), s.rate, order[s.target])):
        mode = s.target.rpartition("-")[2]
        first = min((t for t in order if t.endswith(mode)), key=order.__getitem__)
        ref = by_key.get((f"kamailio-{mode}", s.rate)) or by_key.get((first, s.rate))
        ratio = _ratio(s, ref)
        if stateful:
            tm_ref = by_key.get(("kamailio-tm-redirect", s.rate)) if mode == "redirect" else None
            ratio += f" | {_ratio(s, tm_ref)}"
        ticks_us = s.server_ticks_s * 1e6 / s.successful if s.successful else float("nan")
        lines.append(
            f"| {s.target} | {s.rate} | {s.achieved_rate:.0f} | {s.successful} | {s.failed} | "
            f"{s.retransmissions} | {_ms(s.p50_ms)} | {_ms(s.p99_ms)} | "
            f"{s.us_per_call:.1f} ({ticks_us:.0f}) | {s.calls_per_core_s:,.0f} | {ratio} | "
            f"{s.server_pss_mb:.0f} | {s.sipp_cpu_pct:.0f} |"
        )
    lines.append("")
    lines += clean_rates(steps, p99_limit)
    repeated = [s for s in steps if s.repeats_us]
    if repeated:
        lines.append("\nEach row is the median of its runs; CPU µs/call of every run:")
        lines += [
            f"- {s.target} at {s.rate}/s: {', '.join(f'{us:g}' for us in s.repeats_us)}"
            for s in repeated
        ]
    return "\n".join(lines)


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    return (
        f"{os.cpu_count()} cores ({model}), kernel {platform.release()}, "
        f"CPython {platform.python_version()}"
    )


def version(cmd: list[str]) -> str:
    with contextlib.suppress(OSError):
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
        return next(
            (line.strip() for line in (out.stdout + out.stderr).splitlines() if line.strip()), "?"
        )
    return "not installed"


def record(steps: list[Step], args: argparse.Namespace, notes: str) -> None:
    """Append a dated section to bench/RESULTS.md in its style; older entries stay."""
    section = (
        f"\n## SIP load: {', '.join(t.name for t in args.targets)} ({time.strftime('%Y-%m-%d')})\n"
        f"- Command: `{' '.join(['.venv/bin/python', 'bench/sip_load.py', *sys.argv[1:]])}`\n"
        f"- Machine: {machine()}; {notes}\n\n{table(steps, args.p99_limit)}\n"
    )
    with (BENCH / "RESULTS.md").open("a") as results:
        results.write(section)


# --- command line ---------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--target", default="kamailio-redirect", help=f"comma-separated, from {', '.join(TARGETS)}"
    )
    parser.add_argument("--rates", default="500,1000,2000,4000", help="calls/s, comma-separated")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--duration", type=int, default=10, help="seconds per step (default 10)")
    size.add_argument("--calls-per-step", type=int, help="calls per step instead of a duration")
    parser.add_argument("--dial", default="64123", help="extension in the Request-URI")
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "sml.toml")
    parser.add_argument("--python", default=sys.executable, help="interpreter for switchboard")
    parser.add_argument("--kamailio", help="kamailio binary (default: from PATH, /usr/sbin)")
    parser.add_argument("--sipp", help="sipp binary (default: from PATH)")
    parser.add_argument(
        "--settle", type=float, default=0.5, help="s after a step before reading CPU"
    )
    parser.add_argument("--ready-timeout", type=float, default=20.0)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per rate; the table shows the median by CPU per call (default 1)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        help="s of calls at the lowest rate before measuring, per target (0: none)",
    )
    parser.add_argument(
        "--sipp-sockets",
        type=int,
        default=0,
        help="SIPp sends from N source ports (-t un -max_socket N); default one socket",
    )
    parser.add_argument(
        "--p99-limit", type=float, help="ms; a rate counts as clean only with p99 within it"
    )
    parser.add_argument("--record", action="store_true", help="append to bench/RESULTS.md")
    parser.add_argument("--json", type=Path, help="also write the steps as JSON here")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work directory (logs, traces)"
    )
    args = parser.parse_args(argv)
    try:
        args.targets = [Target.parse(t.strip()) for t in args.target.split(",") if t.strip()]
        args.rates = [int(r) for r in args.rates.split(",") if r.strip()]
    except (BenchError, ValueError) as exc:
        parser.error(str(exc))
    if not args.targets or not args.rates or min(args.rates) <= 0:
        parser.error("give at least one target and positive rates")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="sip-load-"))
    steps: list[Step] = []
    keep = args.keep
    try:
        for target in args.targets:
            steps += run_target(target, args, work)
    except BenchError as exc:
        keep = True  # the error points into the work directory: leave it to read
        print(f"sip_load: {exc}", file=sys.stderr)
        return 3
    finally:
        if keep:
            print(f"# work directory kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    commit = subprocess.run(  # noqa: S603 - our own command line, no shell
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    notes = f"code at {commit or 'unknown'}; " + "; ".join(
        version([found, "-v"])
        for found in (
            args.sipp or shutil.which("sipp"),
            args.kamailio or shutil.which("kamailio", path="/usr/sbin:/usr/bin"),
        )
        if found
    )
    print(f"Machine: {machine()}; {notes}\n\n{table(steps, args.p99_limit)}")
    if args.json:
        rows = [
            asdict(s)
            | {
                "us_per_call": s.us_per_call,
                "calls_per_core_s": s.calls_per_core_s,
                "sipp_cpu_pct": s.sipp_cpu_pct,
            }
            for s in steps
        ]
        args.json.write_text(json.dumps(rows, indent=2))
    if args.record:
        record(steps, args, notes)
    return 1 if any(s.failed or s.sipp_exit for s in steps) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
