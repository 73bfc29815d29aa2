"""Parts 2 and 3 of ``media_load.py``: short calls, for first RTP and for growth.

See ``media_load.py`` for what is measured and why.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import time
from dataclasses import replace
from pathlib import Path

import sip_load
from media_report import FirstRtp, Growth, Snapshot
from media_server import LOOPBACK, Server, note, one_call, switchboard
from rtp_callers import Farm, Slot
from sip_load import BenchError


def run_first_rtp(args: argparse.Namespace, work: Path) -> FirstRtp:
    with switchboard(args, work, "first-rtp") as server:
        farm = Farm((LOOPBACK, server.port), args.announce)
        try:
            [slot] = farm.add_slots(1)
            warm = one_call(farm, slot, until_first_rtp=True, timeout=30.0)
            if warm.first_rtp_ns is None:
                raise BenchError(f"the warm-up call heard no RTP (status {warm.status})")
            note(f"warm-up call: first RTP after {(warm.first_rtp_ns - warm.sent_ns) / 1e6:.1f} ms")
            result = FirstRtp(args.first_rtp_calls, 0)
            failed = 0
            for _ in range(args.first_rtp_calls):
                farm.run(time.monotonic() + secrets.randbelow(20_000) / 1e6)
                call = one_call(farm, slot, until_first_rtp=True, timeout=10.0)
                first = call.first_rtp_ns
                if first is None or not call.answered_ns:
                    failed += 1
                    continue
                result.invite_to_200_ms.append((call.answered_ns - call.sent_ns) / 1e6)
                result.ack_delay_ms.append((call.acked_ns - call.answered_ns) / 1e6)
                result.ack_to_rtp_ms.append((first - call.acked_ns) / 1e6)
                result.invite_to_rtp_ms.append((first - call.sent_ns) / 1e6)
            server.check()
            return replace(result, failed=failed)
        finally:
            farm.close()


# --- part 3: no growth after many calls -----------------------------------------------


def snapshot(server: Server, label: str, done: int) -> Snapshot:
    pid = server.proc.pid
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    sockets = set()
    fds = 0
    for entry in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(entry)
            fds += 1
            if target.startswith("socket:["):
                sockets.add(int(target[8:-1]))
    udp = rtp = 0
    for table in ("udp", "udp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) > 9 and int(fields[9]) in sockets:
                udp += 1
                port = int(fields[1].rpartition(":")[2], 16)
                rtp += server.rtp_first <= port <= server.rtp_last
    return Snapshot(
        label,
        done,
        int(status["VmRSS"].split()[0]) / 1024,
        sip_load.pss_mb([pid]),
        fds,
        udp,
        rtp,
        int(status["Threads"]),
    )


def call_batch(farm: Farm, slots: list[Slot], count: int, rate: float) -> None:
    """``count`` calls at ``rate`` a second on free ``slots``; returns when all ended."""
    started = 0
    begin = time.monotonic()

    def next_call() -> None:
        nonlocal started
        if started >= count:
            return
        free = next((slot for slot in slots if slot.call is None), None)
        if free is None:  # every caller busy: the server is slow to answer or end
            farm.at(time.monotonic() + 0.005, next_call)
            return
        farm.start_call(free)
        started += 1
        farm.at(max(time.monotonic(), begin + started / rate), next_call)

    next_call()
    deadline = begin + count / rate + 60.0
    if not farm.run(deadline, lambda: started >= count and not farm.calls):
        raise BenchError(f"{count} calls at {rate}/s did not all end within {deadline - begin} s")


def run_growth(args: argparse.Namespace, work: Path) -> Growth:
    with switchboard(args, work, "growth") as server:
        farm = Farm((LOOPBACK, server.port), args.announce)
        farm.keep_ended = False
        try:
            slots = farm.add_slots(max(4, round(args.growth_rate * (args.growth_hold + 1.0))))
            for slot in slots:
                slot.hold = args.growth_hold
            snapshots = []
            call_batch(farm, slots, args.growth_warmup, args.growth_rate)
            farm.run(time.monotonic() + args.settle)
            snapshots.append(snapshot(server, f"{args.growth_warmup} warm-up calls, then idle", 0))
            note(f"growth: {snapshots[-1]}")
            counters0 = replace(farm.counters)
            halves = (args.growth_calls // 2, args.growth_calls - args.growth_calls // 2)
            done = 0
            for half in halves:
                call_batch(farm, slots, half, args.growth_rate)
                done += half
                snapshots.append(snapshot(server, "as the last call ended", done))
                farm.run(time.monotonic() + args.settle)
                snapshots.append(snapshot(server, "then idle", done))
                note(f"growth: {snapshots[-1]}")
                server.check()
            counters = farm.counters
            failed = sum(counters.refused.values()) - sum(counters0.refused.values())
            return Growth(
                args.growth_calls,
                counters.answered - counters0.answered,
                failed + counters.timeouts - counters0.timeouts,
                args.growth_hold,
                args.growth_rate,
                args.settle,
                snapshots,
            )
        finally:
            farm.close()
