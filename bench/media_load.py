"""Media load (issue 13): announcement streams while routing, first RTP, no growth.

Usage (from the repository root, with the project's venv; needs Debian ``sip-tester``
(SIPp 3.6) and ``espeak-ng``):

    .venv/bin/python bench/media_load.py                          # all three parts
    .venv/bin/python bench/media_load.py --parts streams --streams 250,500,1000,2000,3000
    .venv/bin/python bench/media_load.py --parts first-rtp,growth --growth-calls 10000
    ... --record                  # append the run, machine and command to bench/RESULTS.md
    ... --json out.json --keep    # raw numbers; keep the work directory (server logs)

Each part starts its own ``switchboard serve`` (redirect mode, media on with a wide
``[media] rtp_ports``, 127.0.0.1 trusted so no digest) on a data directory seeded with
``demo`` at the fixed instant ``--now`` (Monday 10:00: Anna Berg, 64123, is at lunch, so a
call to her is answered and hears the referral; Johan Ek, 51234, is set available, so an
INVITE to him gets a 302 to his mobile). The callers are ``rtp_callers.Farm``, in this
process: raw SIP over UDP, each call's SDP naming a socket of the farm, every RTP packet
stamped by the kernel as it arrives (see that module for the definitions of jitter, lost
and stalls). Callers send no RTP themselves.

**streams** — the switchboard sending N announcements while routing. A warm-up call
hears a whole announcement (rendering the speech; its length, packets and prompt
boundaries are what every later call is judged against). Then, per step N (ascending):
new callers start evenly over one call's length (``--ramp``), so that calls end evenly
too, and every caller calls again the moment the switchboard's BYE ends its call: N
streams stay up, and N / (call length) new calls a second are answered, as a steady
load of N announcements means. Then the window: SIPp sends INVITE -> 302 -> ACK to 51234
at ``--routing-rate`` for ``--window`` seconds while the farm records. Reported per step:
jitter p50/p99/max over every packet in the window and the worst stream's own p99, lost
packets, stalls, the server's CPU (kernel CPU clock, /proc ticks as a cross-check), the
routed calls (SIPp's count and p99) and the farm's own CPU and socket drops (so a busy
harness shows). A first row N = 0 is routing alone: its CPU is subtracted for CPU per
packet. Then the reference, ``bare_streams.py``, at the same N, alone (no routing): the
same farm measures it.

**first-rtp** — after one warm-up call has rendered the speech, ``--first-rtp-calls``
calls one after another (a random 0-20 ms pause between, so calls do not line up with
the 20 ms pacing grid): INVITE sent (``time.time_ns``) to the first RTP packet's kernel
stamp, split at the 200 and the ACK; each call is hung up once its first packet came.

**growth** — ``--growth-calls`` answered calls at ``--growth-rate`` a second, each hung up
by the caller ``--growth-hold`` seconds after its 200; the server's RSS and PSS, open
descriptors, UDP sockets (and how many of them are RTP ports) and threads are read
after a warm-up and after each half, every time once ``--settle`` seconds passed with no
call (past the 32 s a BYE transaction lingers, timer J).

Exit code: 0 it ran (the targets are reported, not enforced), 3 the harness could not run
(the message says why), 130 interrupted. Every process started here is stopped on the way
out, on failure and Ctrl-C too.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import media_report as report
import sip_load
from media_report import FirstRtp, Growth, StreamStep
from media_server import MONDAY_10, note
from media_short_calls import run_first_rtp, run_growth
from media_streams import run_streams
from sip_load import BenchError

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
PARTS = ("streams", "first-rtp", "growth")


# --- reporting ------------------------------------------------------------------------


def environment(args: argparse.Namespace) -> str:
    try:
        import uvloop  # the loop switchboard serve picks when installed

        loop = f"uvloop {uvloop.__version__}"
    except ImportError:
        loop = "asyncio"
    sipp = sip_load.version([args.sipp or shutil.which("sipp") or "sipp", "-v"])
    load = Path("/proc/loadavg").read_text().split()[:3]
    return (
        f"{sip_load.machine()}; event loop {loop}; {sipp}; code {revision()}; "
        f"load average at the start {' '.join(load)} (1, 5, 15 min)"
    )


def revision() -> str:
    """The commit measured, marked when the working tree differs from it."""
    git = shutil.which("git")
    if git is None:
        return "unknown"
    head = subprocess.run(  # noqa: S603
        [git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO, check=False
    ).stdout.strip()
    dirty = subprocess.run(  # noqa: S603
        [git, "status", "--porcelain", "--", "switchboard", "bench", ":!bench/RESULTS.md"],
        capture_output=True, text=True, cwd=REPO, check=False,
    ).stdout.strip()  # fmt: skip
    return f"{head or 'unknown'}{' with local changes' if dirty else ''}"


def render(
    steps: list[StreamStep], first: FirstRtp | None, growth: Growth | None, args: argparse.Namespace
) -> str:
    parts = []
    if steps:
        parts.append(
            f"Streams (window {args.window:g} s per step; while routing "
            f"{args.routing_rate} INVITE→302/s to {args.routed}; announcements to "
            f"{args.announce}; bare = bare_streams.py alone):\n\n{report.streams_table(steps)}\n\n"
            f"{report.cost_table(steps)}\n\n{report.LEGEND}"
        )
    if first is not None:
        parts.append(
            f"INVITE to first RTP, cached announcement ({len(first.invite_to_rtp_ms)} calls, "
            f"{first.failed} failed):\n\n{report.first_rtp_table(first)}"
        )
    if growth is not None:
        parts.append(
            f"Growth ({growth.calls} calls at {growth.rate:g}/s, each hung up "
            f"{growth.hold_s:g} s after its 200; {growth.answered} answered, {growth.failed} "
            f"failed; readings {growth.settle_s:g} s after the last call):\n\n"
            f"{report.growth_table(growth)}"
        )
    lines = report.verdicts(steps, first, growth)
    if lines:
        parts.append("Against the issue's targets:\n" + "\n".join(f"- {line}" for line in lines))
    return "\n\n".join(parts)


def record(text: str, args: argparse.Namespace, env: str, started: str) -> None:
    """Append a dated section to bench/RESULTS.md; older entries stay."""
    command = " ".join([".venv/bin/python", "bench/media_load.py", *args.argv])
    section = (
        f"\n## Media load: {', '.join(args.parts)} ({started})\n"
        f"- Command: `{command}`\n- Machine: {env}\n\n{text}\n"
    )
    with (BENCH / "RESULTS.md").open("a", encoding="utf-8") as results:
        results.write(section)


# --- command line ---------------------------------------------------------------------


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], epilog="See the module docstring and bench/README.md."
    )
    parser.add_argument("--parts", default=",".join(PARTS), help=f"from {', '.join(PARTS)}")
    parser.add_argument(
        "--streams", default="250,500,1000,2000,3000", help="ascending steps, comma-separated"
    )
    parser.add_argument("--window", type=float, default=20.0, help="s measured per step")
    parser.add_argument("--ramp", type=float, help="s to add a step's callers (default: a call)")
    parser.add_argument("--routing-rate", type=int, default=1000, help="INVITE→302/s (0: none)")
    parser.add_argument(
        "--bare-streams", help="steps of the bare reference (default: as --streams)"
    )
    parser.add_argument("--no-bare", dest="bare", action="store_false", help="skip the reference")
    parser.add_argument("--first-rtp-calls", type=int, default=200)
    parser.add_argument("--growth-calls", type=int, default=10_000)
    parser.add_argument("--growth-warmup", type=int, default=500, help="calls before the baseline")
    parser.add_argument("--growth-rate", type=float, default=200.0, help="calls/s")
    parser.add_argument("--growth-hold", type=float, default=0.2, help="s from 200 to our BYE")
    parser.add_argument("--settle", type=float, default=40.0, help="s idle before a reading")
    parser.add_argument("--announce", default="64123", help="extension that hears a referral")
    parser.add_argument("--routed", default="51234", help="extension SIPp's INVITEs go to")
    parser.add_argument("--now", default=MONDAY_10, help="the server's and the seeding's instant")
    parser.add_argument("--rtp-ports", default="10000-19999", help="the server's [media] range")
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "sml.toml")
    parser.add_argument("--python", default=sys.executable, help="interpreter for switchboard")
    parser.add_argument("--sipp", help="sipp binary (default: from PATH)")
    parser.add_argument("--ready-timeout", type=float, default=30.0)
    parser.add_argument("--record", action="store_true", help="append to bench/RESULTS.md")
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args(argv)
    args.argv = argv
    args.parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    try:
        args.streams = _ints(args.streams)
        args.bare_streams = _ints(args.bare_streams) if args.bare_streams else args.streams
    except ValueError as exc:
        parser.error(str(exc))
    if not args.parts or any(p not in PARTS for p in args.parts):
        parser.error(f"--parts: choose from {', '.join(PARTS)}")
    if args.streams != sorted(set(args.streams)) or min(args.streams, default=1) <= 0:
        parser.error("--streams: positive and ascending")
    if args.window <= 0 or args.growth_rate <= 0 or args.growth_calls < 2:
        parser.error("--window and --growth-rate positive, --growth-calls at least 2")
    return args


def raise_descriptor_limit(streams: int) -> None:
    """Callers and server each hold a socket per stream: lift the soft limit to the hard
    one (the server, started from here, inherits it)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < streams + 1024:
        raise BenchError(f"open files limited to {hard}: raise it for {streams} streams")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM unwinds like Ctrl-C: every process started is stopped


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started ignoring it
    work = Path(tempfile.mkdtemp(prefix="media-load-"))
    started = time.strftime("%Y-%m-%d %H:%M")
    env = environment(args)
    note(f"{env}; work directory {work}")
    keep = args.keep
    steps: list[StreamStep] = []
    first = growth = None
    try:
        raise_descriptor_limit(max([*args.streams, *args.bare_streams]))
        if "streams" in args.parts:
            steps = run_streams(args, work)
        if "first-rtp" in args.parts:
            first = run_first_rtp(args, work)
        if "growth" in args.parts:
            growth = run_growth(args, work)
    except BenchError as exc:
        keep = True  # the message points into the work directory
        print(f"media_load: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("media_load: interrupted; every process started here was stopped", file=sys.stderr)
        return 130
    finally:
        if keep:
            note(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    text = render(steps, first, growth, args)
    print(f"Machine: {env}\n\n{text}")
    if args.json:
        data = {
            "machine": env,
            "started": started,
            "streams": [asdict(s) | {"cores": s.cores, "clean": s.clean} for s in steps],
            "first_rtp": asdict(first) if first else None,
            "growth": asdict(growth) if growth else None,
        }
        args.json.write_text(json.dumps(data, indent=2))
    if args.record:
        record(text, args, env, started)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
