"""Calendar sync cost and lag (issue 4).

Usage: .venv/bin/python bench/calendar_sync.py [--feeds 1000] [--events 600] [--rounds 5]

1. Parse + map: N generated iCalendar feeds of two years (~600 events each: weekly series
   with exceptions, singles, all-day absences, private items), each parsed with
   ``parse_feed`` and mapped with ``map_items`` over the worker's window.
2. Lag, change at the source -> routing decision, through the real worker, engine and SQLite
   store, with the feed served by a local aiohttp server:
   - poll: the feed changes at a random moment; measured until ``engine.route`` reflects it
     (expected: within the poll interval);
   - push: the feed changes and the worker is woken as a change notification wakes it
     (``worker.notify``/``wake``); this measures our side only, not Graph's own delivery.
Results go in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from switchboard.app import open_runtime
from switchboard.calendar_sync.ics import parse_feed
from switchboard.calendar_sync.readers import IcsReader
from switchboard.calendar_sync.worker import CalendarWorker
from switchboard.clock import ShiftedClock
from switchboard.presence.calendar import map_items
from switchboard.routing.model import Action, Call
from switchboard.settings.calendar import CalendarSource, CalendarType
from switchboard.settings.config import load_settings

REPO = Path(__file__).resolve().parents[1]
ZONE = ZoneInfo("Europe/Stockholm")


def feed(seed: int, events: int, start: datetime) -> bytes:
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
    n = 0
    # Four weekly series over two years (~416 occurrences), one cancelled date each.
    for s in range(4):
        first = start + timedelta(days=s, hours=8 + 2 * s)
        out += [
            "BEGIN:VEVENT",
            f"UID:series-{seed}-{s}",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART;TZID=Europe/Stockholm:{first:%Y%m%dT%H%M%S}",
            "DURATION:PT1H",
            "RRULE:FREQ=WEEKLY;COUNT=104",
            f"EXDATE;TZID=Europe/Stockholm:{first + timedelta(weeks=10):%Y%m%dT%H%M%S}",
            f"SUMMARY:{'MÖT: ' if s % 2 else ''}Serie {s}",
            "X-MICROSOFT-CDO-BUSYSTATUS:BUSY",
            "END:VEVENT",
        ]
        n += 104
    while n < events:
        day = start + timedelta(days=rng.randrange(730))
        if rng.random() < 0.05:
            out += [
                "BEGIN:VEVENT",
                f"UID:allday-{seed}-{n}",
                "DTSTAMP:20260101T000000Z",
                f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                f"DTEND;VALUE=DATE:{day + timedelta(days=rng.randrange(1, 6)):%Y%m%d}",
                "SUMMARY:FER: Semester",
                "X-MICROSOFT-CDO-BUSYSTATUS:OOF",
                "END:VEVENT",
            ]
        else:
            at = day.replace(hour=rng.randrange(7, 17), minute=rng.choice((0, 15, 30, 45)))
            out += [
                "BEGIN:VEVENT",
                f"UID:single-{seed}-{n}",
                "DTSTAMP:20260101T000000Z",
                f"DTSTART:{at.astimezone(UTC):%Y%m%dT%H%M%SZ}",
                f"DTEND:{(at + timedelta(minutes=rng.choice((30, 60, 90)))).astimezone(UTC):%Y%m%dT%H%M%SZ}",  # noqa: E501
                f"SUMMARY:Möte {n}",
                f"CLASS:{'PRIVATE' if rng.random() < 0.1 else 'PUBLIC'}",
                "END:VEVENT",
            ]
        n += 1
    out.append("END:VCALENDAR")
    return ("\r\n".join(out) + "\r\n").encode()


def bench_parse(feeds: int, events: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=ZONE)
    window = (start, start + timedelta(days=731))
    data = [feed(i, events, start) for i in range(min(feeds, 50))]
    per: list[float] = []
    items = 0
    t0 = time.perf_counter()
    for i in range(feeds):
        t = time.perf_counter()
        result = parse_feed(
            data[i % len(data)], window_start=window[0], window_end=window[1], default_zone=ZONE
        )
        map_items(result.items, window_start=window[0], window_end=window[1])
        per.append(time.perf_counter() - t)
        items += len(result.items)
    total = time.perf_counter() - t0
    per.sort()
    print(
        f"parse+map: {feeds} feeds, {items / feeds:.0f} occurrences each, total {total:.1f} s; "
        f"per feed mean {statistics.mean(per) * 1e3:.1f} ms, "
        f"p50 {per[len(per) // 2] * 1e3:.1f} ms, "
        f"p99 {per[int(len(per) * 0.99)] * 1e3:.1f} ms"
    )


MEETING = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:now\r\n"
    "DTSTAMP:20260101T000000Z\r\nDTSTART:{s:%Y%m%dT%H%M%SZ}\r\nDTEND:{e:%Y%m%dT%H%M%SZ}\r\n"
    "SUMMARY:Ledningsgrupp\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
EMPTY = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nEND:VCALENDAR\r\n"


async def bench_lag(rounds: int, poll: int) -> None:
    settings = load_settings(REPO / "configs" / "sml.toml")
    body = {"text": EMPTY}
    version = {"n": 0}

    async def ics(request: web.Request) -> web.Response:
        return web.Response(
            text=body["text"], content_type="text/calendar", headers={"ETag": f'"{version["n"]}"'}
        )

    app = web.Application()
    app.router.add_get("/feed/{email}.ics", ics)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    source = CalendarSource(
        "ics:bench", CalendarType.ICS, person="64123", url=base + "/feed/{email}.ics", poll=poll
    )
    # "As if it were Monday 10:00": inside working hours, so RING vs ANNOUNCE is the calendar.
    clock = ShiftedClock(datetime(2026, 11, 23, 10, 0, tzinfo=ZONE))
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            open_runtime(settings, Path(tmp), clock) as runtime,
            aiohttp.ClientSession() as session,
        ):
            csv = (REPO / "configs" / "demo" / "sml-people.csv").read_bytes()
            await runtime.engine.import_directory(csv, "demo.csv", "bench")
            reader = IcsReader(source, session, ZONE)
            worker = CalendarWorker(
                runtime.engine, runtime.bus, [(source, reader)], clock=runtime.engine.clock
            )
            results: dict[str, list[float]] = {"poll": [], "push": []}
            async with asyncio.TaskGroup() as group:
                task = group.create_task(worker.run_source(source.name))
                for mode in ("poll", "push"):
                    for _ in range(rounds):
                        await asyncio.sleep(random.uniform(0, poll))  # noqa: S311
                        now = clock.now()
                        busy = body["text"] == EMPTY
                        body["text"] = (
                            MEETING.format(s=now - timedelta(minutes=5), e=now + timedelta(hours=1))
                            if busy
                            else EMPTY
                        )
                        version["n"] += 1
                        changed = time.perf_counter()
                        if mode == "push":
                            worker.wake(source.name)
                        want = Action.ANNOUNCE if busy else Action.RING
                        # Polling the decision is the measurement itself.
                        while runtime.engine.route(Call("64123")).action is not want:  # noqa: ASYNC110
                            await asyncio.sleep(0.005)
                        results[mode].append(time.perf_counter() - changed)
                task.cancel()
    await runner.cleanup()
    for mode, lags in results.items():
        print(
            f"lag {mode} (poll {poll} s): mean {statistics.mean(lags):.3f} s, "
            f"max {max(lags):.3f} s over {len(lags)} changes"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--poll", type=int, default=10)
    args = parser.parse_args()
    if args.feeds:
        bench_parse(args.feeds, args.events)
    asyncio.run(bench_lag(args.rounds, args.poll))


if __name__ == "__main__":
    main()
