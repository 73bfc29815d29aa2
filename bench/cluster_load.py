"""Calls per second through Kamailio to two switchboard nodes, against one node alone (issue 14).

Usage (from the repository root, with the project's venv):

    .venv/bin/python bench/cluster_load.py --setups node,kamailio-1,kamailio-2,http-route-2 \\
        --rates 1000,2000,3000 --duration 5 [--record] [--json out.json]

Setups, each started fresh and measured at every rate:
- ``node``: SIPp calls one ``switchboard serve`` (redirect mode) directly: the baseline;
- ``kamailio-1``, ``kamailio-2``: SIPp calls Kamailio with ``configs/kamailio/dispatcher.cfg``
  (stateful, Record-Route, OPTIONS probes), which spreads the calls over one or two nodes;
  every call is a 302 from a node, relayed back;
- ``http-route-2``: Kamailio with ``configs/kamailio/http-route.cfg`` asks one of two nodes'
  ``/api/v1/route`` per INVITE and answers the 302 itself.

Every node runs on one data directory seeded with ``demo`` (the dialled extension, ``--dial``,
set available: its decision is "ring the mobile"). Each step is one SIPp run (``-r RATE``
for ``--duration`` seconds) of INVITE -> 302 -> ACK (``scenarios/uac_302.xml``), after
``--warmup`` seconds of uncounted calls per setup. Measured per step, as in ``sip_load.py``
(whose helpers this uses): successful and failed calls, the achieved rate, response time
p50/p99 (INVITE -> 302), the CPU of every node and of Kamailio (each process group's CPU
clock) per successful call, and SIPp's CPU.

The summary gives each setup's highest clean rate: the highest offered rate at which no
call failed and SIPp achieved at least 97 % of it. The machine's other load is printed with
the results (load average), since a shared machine changes them.

``--record`` appends a dated section to ``bench/RESULTS.md``. Exit code: 0 when every setup
ran (failed calls at high rates are a result, not an error), 3 when the harness could not
run (the message says why).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sip_load import (
    LOOPBACK,
    SIPP_BUFFER,
    BenchError,
    children_cpu_s,
    cpu_of,
    free_udp_port,
    group_pids,
    machine,
    options_probe,
    parse_rtt,
    parse_stat,
    percentile,
    spawned,
    tool,
    version,
)

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
KAMAILIO_CONFIGS = REPO / "configs" / "kamailio"
SHM_MB = "512"
CLEAN_SHARE = 0.97
"""A rate is clean when no call failed and at least this share of it was achieved."""


@dataclass(frozen=True)
class Setup:
    name: str
    nodes: int
    config: str | None
    """Kamailio's config in configs/kamailio, or None: SIPp calls the node directly."""


SETUPS = {
    "node": Setup("node", 1, None),
    "kamailio-1": Setup("kamailio-1", 1, "dispatcher.cfg"),
    "kamailio-2": Setup("kamailio-2", 2, "dispatcher.cfg"),
    "http-route-2": Setup("http-route-2", 2, "http-route.cfg"),
}


@dataclass(frozen=True)
class Step:
    setup: str
    rate: int
    calls: int
    successful: int
    failed: int
    achieved_rate: float
    p50_ms: float | None
    p99_ms: float | None
    nodes_cpu_s: float
    kamailio_cpu_s: float
    sipp_cpu_s: float
    wall_s: float
    per_node: tuple[float, ...] = ()
    """Each node's CPU seconds, to see how evenly Kamailio spread the calls."""

    def us_per_call(self, cpu_s: float) -> float:
        return cpu_s * 1e6 / self.successful if self.successful else float("nan")

    @property
    def clean(self) -> bool:
        return self.failed == 0 and self.successful >= CLEAN_SHARE * self.calls


@dataclass
class Running:
    """The processes of one setup: node process groups and Kamailio's, and where to call."""

    address: tuple[str, int]
    node_pgids: list[int] = field(default_factory=list)
    kamailio_pgid: int | None = None


# --- the data directory ---------------------------------------------------------------


def switchboard(args: argparse.Namespace, data: Path, *command: str) -> str:
    """Run one switchboard command on ``data``; its stdout, or BenchError."""
    base = [args.python, "-m", "switchboard", "--config", str(args.config), "--data", str(data)]
    done = subprocess.run([*base, *command], capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BenchError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def seed(args: argparse.Namespace, data: Path) -> str:
    """The demo directory with ``--dial`` available, and a router account's API token."""
    switchboard(args, data, "demo", "--seed-only")
    switchboard(args, data, "presence", "available", args.dial)
    switchboard(args, data, "users", "add", "kamailio", "--role", "router", "--no-password")
    printed = switchboard(args, data, "users", "token", "kamailio", "--name", "bench")
    found = re.search(r"sbt_[A-Za-z0-9_-]+", printed)
    if found is None:
        raise BenchError("users token printed no sbt_ token")
    return found.group(0)


# --- starting a setup -----------------------------------------------------------------


def free_sip_port() -> int:
    """A loopback port free for UDP and TCP both: a node binds its SIP port for each."""
    for _ in range(50):
        port = free_udp_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((LOOPBACK, port))
            except OSError:
                continue
        return port
    raise BenchError("no loopback port free for both UDP and TCP after 50 tries")


def ready_http(log: Path, deadline_s: float) -> str:
    """The node's HTTP address from the ready line it prints (``--http-listen ...:0``)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith('{"ready"'):
                return str(json.loads(line)["ready"]["http"])
        time.sleep(0.05)
    raise BenchError(f"no ready line in {log} within {deadline_s} s")


@contextlib.contextmanager
def started(
    setup: Setup, args: argparse.Namespace, data: Path, token: str, trunk: int, work: Path
) -> Iterator[Running]:
    """The setup's nodes (and Kamailio), ready; stopped on the way out."""
    folder = work / setup.name
    folder.mkdir()
    with contextlib.ExitStack() as stack:
        running = Running(("", 0))
        nodes: list[tuple[int, str]] = []
        for index in range(setup.nodes):
            port = free_sip_port()
            log = folder / f"node{index}.log"
            command = [
                args.python, "-m", "switchboard", "--config", str(args.config),
                "--data", str(data), "serve",
                "--sip-listen", f"{LOOPBACK}:{port}", "--http-listen", f"{LOOPBACK}:0",
                "--sip-mode", "redirect", "--trunk", f"{LOOPBACK}:{trunk}",
                "--trusted", f"{LOOPBACK}/32",
            ]  # fmt: skip
            node = stack.enter_context(spawned(command, log, folder))
            options_probe(port, node, log, args.ready_timeout)
            nodes.append((port, ready_http(log, args.ready_timeout)))
            running.node_pgids.append(node.pid)
        if setup.config is None:
            running.address = (LOOPBACK, nodes[0][0])
            yield running
            return
        listed = folder / "nodes.list"
        listed.write_text(
            "".join(f"1 sip:{LOOPBACK}:{port} 0 0 http=http://{http}\n" for port, http in nodes)
        )
        port = free_udp_port()
        run_dir = folder / "kamailio-run"
        run_dir.mkdir()
        command = [
            tool("kamailio", args.kamailio), "-DD", "-E", "-m", SHM_MB,
            "-f", str(KAMAILIO_CONFIGS / setup.config), "-l", f"udp:{LOOPBACK}:{port}",
            "-A", f'DS_LIST="{listed}"', "-A", f"WORKERS={args.kamailio_workers}",
            "-Y", str(run_dir), "-w", str(folder),
        ]  # fmt: skip
        # The token goes in the environment, never on a command line `ps` shows.
        os.environ["SWITCHBOARD_ROUTE_TOKEN"] = token
        try:
            log = folder / "kamailio.log"
            kamailio = stack.enter_context(spawned(command, log, folder))
        finally:
            del os.environ["SWITCHBOARD_ROUTE_TOKEN"]
        options_probe(port, kamailio, log, args.ready_timeout)
        running.address = (LOOPBACK, port)
        running.kamailio_pgid = kamailio.pid
        yield running


# --- one step -------------------------------------------------------------------------


def step(
    setup: Setup,
    args: argparse.Namespace,
    running: Running,
    rate: int,
    work: Path,
    *,
    seconds: float,
    label: str = "",
) -> Step:
    calls = max(1, round(rate * seconds))
    folder = work / f"{setup.name}-{rate}{label}"
    folder.mkdir()
    host, port = running.address
    command = [
        tool("sipp", args.sipp), f"{host}:{port}",
        "-sf", str(BENCH / "scenarios" / "uac_302.xml"), "-s", args.dial,
        "-i", LOOPBACK, "-p", str(free_udp_port()), "-r", str(rate), "-m", str(calls),
        "-trace_stat", "-stf", "stat.csv", "-fd", "1", "-trace_rtt", "-rtt_freq", "1",
        "-nostdin", "-buff_size", SIPP_BUFFER, "-timeout", f"{int(seconds) + 20}s",
        "-timeout_error", "-recv_timeout", "10000",
    ]  # fmt: skip
    node_pids = [group_pids(pgid) for pgid in running.node_pgids]
    kamailio_pids = group_pids(running.kamailio_pgid) if running.kamailio_pgid else []
    nodes0 = [cpu_of(pids) for pids in node_pids]
    kamailio0, sipp0 = cpu_of(kamailio_pids), children_cpu_s()
    begun = time.monotonic()
    with (folder / "sipp.log").open("wb") as out:
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=out, cwd=folder, check=False)  # noqa: S603
    wall = time.monotonic() - begun
    time.sleep(args.settle)
    per_node = tuple(
        (cpu_of(pids) - before).clock_s for pids, before in zip(node_pids, nodes0, strict=True)
    )
    kamailio = (cpu_of(kamailio_pids) - kamailio0).clock_s
    stat = parse_stat(folder / "stat.csv")
    rtts = sorted(t for f in folder.glob("*_rtt.csv") for t in parse_rtt(f, "invite"))
    return Step(
        setup=setup.name,
        rate=rate,
        calls=calls,
        successful=int(stat["SuccessfulCall(C)"]),
        failed=int(stat["FailedCall(C)"]),
        achieved_rate=float(stat["CallRate(C)"]),
        p50_ms=percentile(rtts, 50),
        p99_ms=percentile(rtts, 99),
        nodes_cpu_s=sum(per_node),
        kamailio_cpu_s=kamailio,
        sipp_cpu_s=children_cpu_s() - sipp0,
        wall_s=wall,
        per_node=per_node,
    )


def run_setup(
    setup: Setup, args: argparse.Namespace, data: Path, token: str, work: Path
) -> list[Step]:
    trunk = free_udp_port()  # nothing listens: a 302 only names it
    with started(setup, args, data, token, trunk, work) as running:
        print(f"# {setup.name}: ready on udp {running.address[0]}:{running.address[1]}",
              file=sys.stderr)  # fmt: skip
        if args.warmup > 0:
            warm = step(setup, args, running, min(args.rates), work, seconds=args.warmup,
                        label="-warmup")  # fmt: skip
            print(f"#   warm-up: {warm.successful} ok (not counted)", file=sys.stderr)
        steps = []
        for rate in args.rates:
            done = step(setup, args, running, rate, work, seconds=args.duration)
            print(f"#   {rate}/s: {done.successful} ok, {done.failed} failed", file=sys.stderr)
            steps.append(done)
        return steps


# --- reporting ------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def table(steps: list[Step]) -> str:
    lines = [
        "| setup | offered /s | achieved /s | ok | failed | p50 ms | p99 ms | "
        "nodes CPU µs/call (per node, s) | Kamailio CPU µs/call | SIPp CPU % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in steps:
        nodes = ", ".join(f"{c:.2f}" for c in s.per_node)
        kamailio = f"{s.us_per_call(s.kamailio_cpu_s):.1f}" if s.kamailio_cpu_s else "-"
        lines.append(
            f"| {s.setup} | {s.rate} | {s.achieved_rate:.0f} | {s.successful} | {s.failed} | "
            f"{_ms(s.p50_ms)} | {_ms(s.p99_ms)} | {s.us_per_call(s.nodes_cpu_s):.1f} ({nodes}) | "
            f"{kamailio} | {100 * s.sipp_cpu_s / s.wall_s:.0f} |"
        )
    return "\n".join(lines)


def summary(steps: list[Step]) -> str:
    """Each setup's highest clean rate, and against the lone node when it ran."""
    best: dict[str, int] = {}
    for s in steps:
        best.setdefault(s.setup, 0)
        if s.clean:
            best[s.setup] = max(best[s.setup], s.rate)
    base = best.get("node")
    lines = []
    for name, rate in best.items():
        versus = f" ({rate / base:.2f}× the lone node)" if base and name != "node" else ""
        shown = f"{rate}/s" if rate else "none of the rates"
        lines.append(f"- {name}: clean up to {shown}{versus}")
    return "\n".join(lines)


def commit() -> str:
    with contextlib.suppress(OSError):
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            cwd=REPO, capture_output=True, text=True, check=False,
        )  # fmt: skip
        return done.stdout.strip() or "?"
    return "?"


def record(steps: list[Step], args: argparse.Namespace, notes: str) -> None:
    section = (
        f"\n## Cluster load: {', '.join(s.name for s in args.setups)} "
        f"({time.strftime('%Y-%m-%d %H:%M')}, code {commit()})\n"
        f"- Command: `{' '.join(['.venv/bin/python', 'bench/cluster_load.py', *sys.argv[1:]])}`\n"
        f"- Machine: {machine()}; {notes}\n\n{table(steps)}\n\n{summary(steps)}\n"
    )
    with (BENCH / "RESULTS.md").open("a") as results:
        results.write(section)


# --- command line ---------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--setups", default="node,kamailio-1,kamailio-2,http-route-2",
                        help=f"comma-separated, from {', '.join(SETUPS)}")  # fmt: skip
    parser.add_argument("--rates", default="1000,2000,3000", help="calls/s, comma-separated")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per step")
    parser.add_argument("--warmup", type=float, default=2.0, help="s of uncounted calls first")
    parser.add_argument("--dial", default="64123", help="extension in the Request-URI")
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "sml.toml")
    parser.add_argument("--python", default=sys.executable, help="interpreter for switchboard")
    parser.add_argument("--kamailio", help="kamailio binary (default: from PATH, /usr/sbin)")
    parser.add_argument("--kamailio-workers", type=int, default=2, help="Kamailio children")
    parser.add_argument("--sipp", help="sipp binary (default: from PATH)")
    parser.add_argument("--settle", type=float, default=0.5, help="s after a step, then CPU")
    parser.add_argument("--ready-timeout", type=float, default=20.0)
    parser.add_argument("--record", action="store_true", help="append to bench/RESULTS.md")
    parser.add_argument("--json", type=Path, help="also write the steps as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    try:
        args.setups = [SETUPS[name.strip()] for name in args.setups.split(",") if name.strip()]
        args.rates = [int(r) for r in args.rates.split(",") if r.strip()]
    except KeyError as exc:
        parser.error(f"unknown setup {exc}; choose from {', '.join(SETUPS)}")
    except ValueError as exc:
        parser.error(str(exc))
    if not args.setups or not args.rates or min(args.rates) <= 0:
        parser.error("give at least one setup and positive rates")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="cluster-load-"))
    load = Path("/proc/loadavg").read_text().split()[:3]
    steps: list[Step] = []
    keep = args.keep
    try:
        data = work / "data"
        token = seed(args, data)
        for setup in args.setups:
            steps += run_setup(setup, args, data, token, work)
    except BenchError as exc:
        keep = True
        print(f"cluster_load: {exc}", file=sys.stderr)
        return 3
    finally:
        if keep:
            print(f"# work directory kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    notes = "; ".join(
        [
            f"load average {' '.join(load)} at the start",
            *(
                version([found, "-v"])
                for found in (
                    args.sipp or shutil.which("sipp"),
                    args.kamailio or shutil.which("kamailio", path="/usr/sbin:/usr/bin"),
                )
                if found
            ),
        ]
    )
    print(f"Machine: {machine()}; {notes}\n\n{table(steps)}\n\n{summary(steps)}")
    if args.json:
        args.json.write_text(json.dumps([asdict(s) for s in steps], indent=2))
    if args.record:
        record(steps, args, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
