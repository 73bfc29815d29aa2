"""Part 1 of ``media_load.py``: the switchboard sending N announcements while routing.

See ``media_load.py`` for what is measured and why; ``media_report`` defines the numbers.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, replace
from pathlib import Path

import media_report as report
import sip_load
from media_report import Jitter, StreamStep
from media_server import LOOPBACK, Server, note, one_call, switchboard
from rtp_callers import Farm, Slot, Stream
from sip_load import BenchError, cpu_of, free_udp_port, group_pids, spawned, tool

BENCH = Path(__file__).resolve().parent
BATCH_S = 0.005
"""While streams run the farm reads its sockets every 5 ms at most: fewer wake-ups, same
stamps (the kernel's)."""
SETTLE_S = 2.0


@dataclass(frozen=True)
class Profile:
    """A whole announcement call, as the warm-up call heard it."""

    duration_s: float
    packets: int
    boundaries: frozenset[int]


def warm_up(farm: Farm, server: Server) -> Profile:
    [slot] = farm.add_slots(1)
    call = one_call(farm, slot, until_first_rtp=False, timeout=120.0)
    server.check()
    stream = call.stream
    if call.ended_by != "far end" or stream.packets < 50:
        raise BenchError(
            f"the warm-up call ended by {call.ended_by or 'timeout'} (status {call.status}) "
            f"after {stream.packets} RTP packets: the announcement did not play; see {server.log}"
        )
    return Profile(
        (call.ended_ns - call.sent_ns) / 1e9,
        stream.span,
        frozenset(index for index, _ in stream.jumps),
    )


def grow_to(farm: Farm, streams: int, ramp: float) -> None:
    """Callers that redial at once, ``streams`` of them, the new ones starting evenly over
    ``ramp`` seconds; returns when the last has had time to be answered."""
    steady = [s for s in farm.slots.values() if s.replace]
    idle = [s for s in farm.slots.values() if not s.replace and s.call is None]
    need = max(0, streams - len(steady))
    new = idle[:need] + farm.add_slots(max(0, need - len(idle)))
    start = time.monotonic()
    for i, slot in enumerate(new):
        slot.replace = True
        farm.at(start + i * ramp / max(1, need), lambda slot=slot: _call_if_idle(farm, slot))
    farm.run(start + ramp + SETTLE_S)


def _call_if_idle(farm: Farm, slot: Slot) -> None:
    if slot.call is None:
        farm.start_call(slot)


def sipp_command(args: argparse.Namespace, port: int, calls: int) -> list[str]:
    """SIPp's INVITE -> 302 -> ACK at the routing rate (as sip_load.py runs it)."""
    return [
        tool("sipp", args.sipp), f"{LOOPBACK}:{port}",
        "-sf", str(BENCH / "scenarios" / "uac_302.xml"), "-s", args.routed,
        "-i", LOOPBACK, "-p", str(free_udp_port()),
        "-r", str(args.routing_rate), "-m", str(calls),
        "-trace_stat", "-stf", "stat.csv", "-fd", "1", "-trace_rtt", "-rtt_freq", "1",
        "-nostdin", "-buff_size", sip_load.SIPP_BUFFER,
        "-timeout", f"{int(args.window) + 30}s", "-timeout_error", "-recv_timeout", "10000",
    ]  # fmt: skip


def measure(
    farm: Farm,
    number: int,
    window: float,
    cpu_pids: list[int],
    *,
    expected: frozenset[int] = frozenset(),
    routing: tuple[list[str], Path] | None = None,
) -> tuple[StreamStep, list[Stream]]:
    """Record window ``number`` (for ``window`` s, or while SIPp runs ``routing``)."""
    active: list[int] = []

    def sample() -> None:
        if farm.window == number:
            active.append(farm.active() if farm.calls else len(farm.window_streams))
            farm.at(time.monotonic() + 0.1, sample)

    before = (cpu_of(cpu_pids), farm.socket_drops(), time.process_time(), replace(farm.counters))
    opened_ns = time.time_ns()
    busy0, sipp0 = machine_busy_s(), sip_load.children_cpu_s()
    refused0 = sum(farm.counters.refused.values())
    farm.open_window(number)
    farm.at(time.monotonic() + 0.05, sample)
    started = time.monotonic()
    if routing is None:
        farm.run(started + window)
    else:
        cmd, directory = routing
        directory.mkdir()
        with spawned(cmd, directory / "sipp.log", directory) as sipp:
            finished = farm.run(started + window + 40, lambda: sipp.poll() is not None)
            if not finished:
                raise BenchError(f"SIPp did not finish in {window + 40:.0f} s; see {directory}")
    wall = time.monotonic() - started
    streams = farm.close_window()
    first_rtp = tuple(
        (call.first_rtp_ns - call.sent_ns - (call.acked_ns - call.answered_ns)) / 1e6
        for call in [*farm.ended, *farm.calls.values()]
        if call.sent_ns >= opened_ns and call.first_rtp_ns is not None and call.acked_ns
    )
    cpu = cpu_of(cpu_pids) - before[0]
    counters = farm.counters
    stalls, skipped = report.stalls_of(streams, expected)
    step = StreamStep(
        sender="",
        streams=0,
        mean_active=sum(active) / len(active) if active else 0.0,
        window_s=wall,
        packets=sum(s.w_packets for s in streams),
        lost=sum(s.w_lost for s in streams),
        short_calls=farm.window_short,
        disorder=sum(s.disorder for s in streams),
        stalls=stalls,
        skipped_frames=skipped,
        jitter=Jitter.of(streams),
        sender_cpu_s=cpu.clock_s,
        sender_ticks_s=cpu.ticks_s,
        farm_cpu_s=time.process_time() - before[2],
        sipp_cpu_s=sip_load.children_cpu_s() - sipp0,
        busy_s=machine_busy_s() - busy0,
        socket_drops=farm.socket_drops() - before[1],
        calls_started=counters.started - before[3].started,
        calls_answered=counters.answered - before[3].answered,
        calls_failed=sum(counters.refused.values()) - refused0
        + counters.timeouts - before[3].timeouts,
        first_rtp_ms=first_rtp,
    )  # fmt: skip
    if routing is not None:
        directory = routing[1]
        stat = sip_load.parse_stat(directory / "stat.csv")
        traces = directory.glob("*_rtt.csv")
        rtts = sorted(t for f in traces for t in sip_load.parse_rtt(f, "invite"))
        step = replace(
            step,
            routing_ok=int(stat["SuccessfulCall(C)"]),
            routing_failed=int(stat["FailedCall(C)"]),
            routing_p99_ms=report.percentile(rtts, 99),
            routing_max_ms=rtts[-1] if rtts else None,
        )
    return step, streams


def machine_busy_s() -> float:
    """CPU seconds every core of the machine has spent busy since boot (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait; guest time is already in user
    return (sum(fields[:8]) - idle) / sip_load.CLOCK_TICK


def run_streams(args: argparse.Namespace, work: Path) -> list[StreamStep]:
    steps: list[StreamStep] = []
    with switchboard(args, work, "streams") as server:
        farm = Farm((LOOPBACK, server.port), args.announce)
        try:
            profile = warm_up(farm, server)
            farm.expected_packets = profile.packets
            farm.batch = BATCH_S
            ramp = args.ramp if args.ramp is not None else profile.duration_s
            note(
                f"warm-up call: {profile.duration_s:.1f} s, {profile.packets} packets, prompt "
                f"boundaries at packets {sorted(profile.boundaries)}; ramp {ramp:.1f} s per step"
            )
            targets = ([0] if args.routing_rate else []) + args.streams
            for number, n in enumerate(targets):
                grow_to(farm, n, ramp if n else 0.0)
                server.check()
                routing = None
                if args.routing_rate:
                    calls = round(args.routing_rate * args.window)
                    routing = (sipp_command(args, server.port, calls), work / f"sipp-{n}")
                step, _ = measure(
                    farm,
                    number,
                    args.window,
                    group_pids(server.proc.pid),
                    expected=profile.boundaries,
                    routing=routing,
                )
                step = replace(
                    step, sender="switchboard", streams=n, routing_rate=args.routing_rate
                )
                steps.append(step)
                note(f"switchboard {n} streams: {summary(step)}")
                server.check()
            if not farm.hang_up_all(15.0):
                note(f"{len(farm.calls)} calls did not end cleanly")
        finally:
            farm.close()
    if args.bare:
        for n in args.bare_streams:
            step = bare_step(args, n, work)
            steps.append(step)
            note(f"bare {n} streams: {summary(step)}")
    return steps


def summary(step: StreamStep) -> str:
    j = step.jitter
    return (
        f"jitter p99 {report._f(j.p99_ms)} ms (max {report._f(j.max_ms, 1)}), "
        f"{step.lost} lost, {step.stalls} stalls, CPU {100 * step.cores:.0f} %, "
        f"mean active {step.mean_active:.0f}"
    )


def bare_step(args: argparse.Namespace, n: int, work: Path) -> StreamStep:
    """The reference at ``n`` streams: bare_streams.py sending, the same farm receiving."""
    directory = work / f"bare-{n}"
    directory.mkdir()
    farm = Farm((LOOPBACK, 9), "-")  # no SIP: the sender is told the ports directly
    try:
        farm.batch = BATCH_S
        slots = farm.add_slots(n)
        for slot in slots:
            slot.stream = Stream()
        ports = directory / "ports"
        ports.write_text("\n".join(str(slot.port) for slot in slots))
        seconds = SETTLE_S + args.window + 10
        cmd = [args.python, str(BENCH / "bare_streams.py"), str(ports), "--seconds", f"{seconds}"]
        with spawned(cmd, directory / "bare.log", directory) as bare:
            farm.run(time.monotonic() + SETTLE_S)
            step, _ = measure(farm, 0, args.window, [bare.pid])
            if bare.poll() is not None:
                tail = (directory / "bare.log").read_text(errors="replace")[-1000:]
                raise BenchError(f"bare_streams.py stopped early ({bare.returncode}):\n{tail}")
        return replace(step, sender="bare", streams=n, mean_active=float(len(farm.window_streams)))
    finally:
        farm.close()
