"""How much CPU one routing decision costs, against the floor of a bare dict lookup.

Usage: .venv/bin/python bench/route_decide.py [--people 2800] [--calls 200000]

Builds a live view of N synthetic people across the SML series (2,800 numbers in all; a
third with a manual referral, a third with calendar items), then calls decide() for
random dialled forms (extension, national with separators, E.164) at random instants of
a working week. The reference in the same run is the floor: mapping the same dialled
strings to a person with a plain dict. Results go in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import statistics
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from switchboard.directory.model import Person
from switchboard.live.view import LiveView
from switchboard.presence.model import (
    BusyClass,
    CalendarSegment,
    ManualStatus,
    Reason,
    Referral,
)
from switchboard.routing.decide import decide
from switchboard.routing.model import Call
from switchboard.settings.config import load_settings
from switchboard.store.protocol import StoreState

REPO = Path(__file__).resolve().parents[1]


def build(people: int, rng: random.Random) -> tuple[LiveView, list[str], list[datetime]]:
    settings = load_settings(REPO / "configs" / "sml.toml")
    zone = ZoneInfo("Europe/Stockholm")
    monday = datetime(2026, 11, 23, tzinfo=zone)
    numbers = [
        s.area_code + str(n).zfill(len(s.first))
        for s in settings.plan.series
        for n in range(int(s.first), int(s.last) + 1)
    ]
    rng.shuffle(numbers)
    chosen = numbers[:people]
    persons, manual, calendar = [], {}, {}
    for i, national in enumerate(chosen):
        ext = national[-5:]
        series = settings.plan.classify(national).series
        if series is None:
            raise SystemExit(f"{national} is outside the series")
        p = Person(f"p{i}", f"Person {i}", ext, f"+4670{i:07d}", None, series.organisation)
        persons.append(p)
        start = monday + timedelta(hours=rng.randrange(0, 120))
        if i % 3 == 0:
            manual[p.person_id] = ManualStatus(
                Referral(Reason.LUNCH, until=start + timedelta(hours=1)), "bench", start
            )
        elif i % 3 == 1:
            seg = CalendarSegment(start, start + timedelta(hours=2), BusyClass.BUSY, Reason.MEETING)
            calendar[p.person_id] = {"bench": (seg,)}
    view = LiveView(settings, StoreState(1, tuple(persons), manual, calendar, {}, ()))
    forms = []
    for national in chosen:
        forms += [national[-5:], f"{national[:4]}-{national[4:]}", "+46" + national[1:]]
    instants = [monday + timedelta(minutes=rng.randrange(0, 5 * 24 * 60)) for _ in range(1000)]
    return view, forms, instants


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=2_800, help="at most 2,800: SML's series")
    ap.add_argument("--calls", type=int, default=200_000)
    args = ap.parse_args()
    rng = random.Random(7)  # noqa: S311 - reproducible load, not security
    view, forms, instants = build(args.people, rng)
    calls = [(Call(rng.choice(forms)), rng.choice(instants)) for _ in range(args.calls)]

    floor = {f: f[-5:] for f in forms}
    t0 = time.perf_counter()
    for call, _ in calls:
        floor.get(call.dialled)
    floor_us = (time.perf_counter() - t0) / len(calls) * 1e6

    samples = []
    actions: dict[str, int] = {}
    batch = 1000
    for i in range(0, len(calls), batch):
        t = time.perf_counter()
        for call, at in calls[i : i + batch]:
            d = decide(call, view, at)
            actions[d.action.value] = actions.get(d.action.value, 0) + 1
        samples.append((time.perf_counter() - t) / batch * 1e6)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {platform.machine()}, python {platform.python_version()}")
    print(f"people: {len(view.people())}, calls: {args.calls}, actions: {actions}")
    print(
        f"decide(): mean {statistics.mean(samples):.1f} µs/call, "
        f"p50 {statistics.median(samples):.1f}, "
        f"p99 {sorted(samples)[int(len(samples) * 0.99)]:.1f} "
        "(per-call means of 1000-call batches)"
    )
    print(f"reference, dict lookup of the dialled string: {floor_us:.2f} µs/call")
    print(f"max RSS: {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
