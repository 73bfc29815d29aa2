"""A calendar sync of 1,000 feeds in a region of 100,000 people (issue 15).

Usage: .venv/bin/python bench/calendar_region.py [--people 100000] [--feeds 1000] [--record]

The region directory of ``tests/fixtures/region.py`` is stored in a SQLite store and loaded
by the real runtime (``open_runtime``: engine, live view, bus). A separate process serves one
Outlook-style iCalendar feed per person over HTTP (Python's threading HTTP server, with
``Last-Modified``, so a second read is a ``304``): a working month of meetings, a weekly
recurring meeting with an exception, lunches and a holiday, about 60 events and 25 kB each.
``--feeds`` people each get their own source (as employees who connect their own calendar
do), and every source is read at once, as ``serve`` does when it starts. Measured while a
10 ms timer on the event loop records how late it fires (what a SIP answer would wait):
- the first round (every feed read, parsed, mapped and written to the store),
- a second round (every feed answers 304: parsed again, nothing written),
- the process's resident memory after each.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
import structlog  # noqa: E402

from switchboard.app import open_runtime  # noqa: E402
from switchboard.calendar_sync.parse_process import ParseProcess  # noqa: E402
from switchboard.calendar_sync.readers import IcsReader  # noqa: E402
from switchboard.calendar_sync.worker import CalendarWorker  # noqa: E402
from switchboard.live.collector import settle  # noqa: E402
from switchboard.live.loop_watch import worst_lag  # noqa: E402
from switchboard.settings.calendar import CalendarSource, CalendarType  # noqa: E402
from switchboard.settings.config import load_settings  # noqa: E402
from switchboard.store.bus import EventBus  # noqa: E402
from switchboard.store.sqlite import SqliteStore  # noqa: E402
from tests.fixtures.region import region_people  # noqa: E402
from tests.fixtures.region_serve import CONFIG  # noqa: E402

HEADER = """BEGIN:VCALENDAR\r
METHOD:PUBLISH\r
PRODID:Microsoft Exchange Server 2010\r
VERSION:2.0\r
BEGIN:VTIMEZONE\r
TZID:W. Europe Standard Time\r
BEGIN:STANDARD\r
DTSTART:16010101T030000\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r
END:STANDARD\r
BEGIN:DAYLIGHT\r
DTSTART:16010101T020000\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0200\r
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r
END:DAYLIGHT\r
END:VTIMEZONE\r
"""
EVENT = """BEGIN:VEVENT\r
UID:{uid}\r
SUMMARY;LANGUAGE=sv-SE:{summary}\r
DTSTART;TZID=W. Europe Standard Time:{start}\r
DTEND;TZID=W. Europe Standard Time:{end}\r
{extra}CLASS:PUBLIC\r
DTSTAMP:20261101T120000Z\r
TRANSP:OPAQUE\r
STATUS:CONFIRMED\r
LOCATION;LANGUAGE=sv-SE:Sammanträdesrum Hållö\r
X-MICROSOFT-CDO-BUSYSTATUS:{busy}\r
X-MICROSOFT-CDO-ALLDAYEVENT:FALSE\r
END:VEVENT\r
"""
FEED_SERVER = """
import functools, http.server, sys
class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 1024  # a thousand feeds asked at once: no dropped connections
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
handler.func.log_message = lambda *a: None
handler.func.protocol_version = "HTTP/1.1"  # keep-alive, as a real feed server
with Server(("127.0.0.1", 0), handler) as server:
    print(server.server_address[1], flush=True)
    server.serve_forever()
"""
"""A threading HTTP server for the feeds, with ``Last-Modified`` (so a second read is a
304): Python's own, its listen backlog raised."""
SUBJECTS = ("Ledningsgrupp", "Handledning", "Möte med förvaltningen", "APT", "Kurs", "Samråd")


def _stamp(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%S")


def feed_for(n: int, today: datetime) -> str:
    """About 60 events around ``today``: meetings on working days, lunches, a weekly
    recurring meeting with one moved occurrence, and a holiday."""
    parts = [HEADER]
    day0 = today.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=7)
    for d in range(35):
        day = day0 + timedelta(days=d)
        if day.weekday() >= 5:
            continue
        start = day + timedelta(hours=8 + (n + d) % 6, minutes=15 * ((n + d) % 4))
        parts.append(
            EVENT.format(
                uid=f"m-{n}-{d}",
                summary=SUBJECTS[(n + d) % len(SUBJECTS)],
                start=_stamp(start),
                end=_stamp(start + timedelta(minutes=60)),
                extra="",
                busy="BUSY",
            )
        )
        lunch = day + timedelta(hours=12)
        parts.append(
            EVENT.format(
                uid=f"l-{n}-{d}",
                summary="Lunch",
                start=_stamp(lunch),
                end=_stamp(lunch + timedelta(minutes=45)),
                extra="",
                busy="OOF",
            )
        )
    weekly = day0 + timedelta(hours=9)
    parts.append(
        EVENT.format(
            uid=f"w-{n}",
            summary="Veckomöte",
            start=_stamp(weekly),
            end=_stamp(weekly + timedelta(hours=1)),
            extra="RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;WKST=MO\r\n",
            busy="BUSY",
        )
    )
    moved = weekly + timedelta(days=14)
    parts.append(
        EVENT.format(
            uid=f"w-{n}",
            summary="Veckomöte (flyttat)",
            start=_stamp(moved + timedelta(hours=4)),
            end=_stamp(moved + timedelta(hours=5)),
            extra=f"RECURRENCE-ID;TZID=W. Europe Standard Time:{_stamp(moved)}\r\n",
            busy="BUSY",
        )
    )
    holiday = day0 + timedelta(days=40, hours=8)
    parts.append(
        EVENT.format(
            uid=f"h-{n}",
            summary="Semester",
            start=_stamp(holiday),
            end=_stamp(holiday + timedelta(days=5, hours=9)),
            extra="",
            busy="OOF",
        )
    )
    parts.append("END:VCALENDAR\r\n")
    return "".join(parts)  # fmt: skip


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1e6


async def run(people_count: int, feeds: int, root: Path) -> dict[str, float]:
    # One organisation, as the region's serve tests and benchmarks configure it.
    people = [replace(p, organisation="region") for p in region_people(people_count)]
    config = root / "switchboard.toml"
    config.write_text(CONFIG, encoding="utf-8")
    settings = load_settings(config)
    data = root / "data"
    data.mkdir()
    store = await SqliteStore.open(data / "switchboard.db", EventBus())
    await store.import_people(people, "bench", datetime.now(UTC))
    await store.close()

    chosen = [p for p in people if p.email][:feeds]
    feeds_dir = root / "feeds"
    feeds_dir.mkdir()
    today = datetime.now(settings.zone)
    size = 0
    for n, person in enumerate(chosen):
        text = feed_for(n, today)
        size += len(text)
        (feeds_dir / f"{person.email}.ics").write_text(text, encoding="utf-8")
    server = subprocess.Popen(  # noqa: S603, ASYNC220 - the bench's own feed server
        [sys.executable, "-c", FEED_SERVER, str(feeds_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        if server.stdout is None:
            raise RuntimeError("the feed server has no output")
        port = int(server.stdout.readline())
        url = f"http://127.0.0.1:{port}/{{email}}.ics"
        sources = [
            CalendarSource(f"ics:{p.email}", CalendarType.ICS, person=p.email, url=url)
            for p in chosen
        ]
        async with (
            open_runtime(settings, data) as runtime,
            aiohttp.ClientSession() as session,
        ):
            stack = ExitStack()
            settle()
            rest = rss_mb()
            # As run_calendars builds them: a process parses feeds, a thread maps big ones.
            parser = ParseProcess()
            mapper = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="map"))
            readers = [(s, IcsReader(s, session, settings.zone, parser)) for s in sources]
            worker = CalendarWorker(
                runtime.engine, runtime.bus, readers, clock=runtime.engine.clock, offload=mapper
            )
            out = {"people": len(people), "feeds": len(chosen), "kb": size / len(chosen) / 1000}
            for label in ("first", "second"):
                version = await runtime.engine.store.version()
                started = time.perf_counter()
                results, lag = await worst_lag(
                    asyncio.gather(*(worker.sync(s.name) for s in sources))
                )
                out[f"{label}_s"] = time.perf_counter() - started
                out[f"{label}_lag_ms"] = lag * 1000
                out[f"{label}_ok"] = sum(results)
                out[f"{label}_writes"] = await runtime.engine.store.version() - version
                out[f"{label}_rss"] = rss_mb()
                child = parser.pid()
                out[f"{label}_parser_rss"] = 0.0 if child is None else rss_mb(child)
            out["rest_rss"] = rest
            segments = sum(
                len(runtime.engine.view.calendar(p.person_id, f"ics:{p.email}")) for p in chosen
            )
            out["segments"] = segments
            stack.close()
            await parser.close()
            return out
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--feeds", type=int, default=1_000)
    parser.add_argument("--record", action="store_true", help="append to bench/RESULTS.md")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as tmp:
        r = asyncio.run(run(args.people, args.feeds, Path(tmp)))
    load = os.getloadavg()[0]
    lines = [
        f"\n### Calendar sync of {r['feeds']:,.0f} feeds at region scale "
        f"({datetime.now(UTC).date().isoformat()}, {platform.node()}, "
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}, "
        f"load average {load:.2f} at the end)\n",
        f"Command: `.venv/bin/python bench/calendar_region.py --people {args.people} "
        f"--feeds {args.feeds}`\n",
        f"- {r['people']:,.0f} people in the store and the live view; {r['feeds']:,.0f} "
        f"iCalendar feeds of {r['kb']:.0f} kB each, served by another process; every "
        f"source read at once; {r['segments']:,.0f} calendar segments stored.",
        f"- RSS {r['rest_rss']:.0f} MB at rest, {r['first_rss']:.0f} MB after the first "
        f"round, {r['second_rss']:.0f} MB after the second; the parse process beside it "
        f"{r['first_parser_rss']:.0f} MB after the first, {r['second_parser_rss']:.0f} MB "
        "after the second.",
        "",
        "| round | sources ok | store writes | seconds | worst event-loop lag ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, what in (("first", "first (every feed new)"), ("second", "second (every 304)")):
        lines.append(
            f"| {what} | {r[label + '_ok']:,.0f} | {r[label + '_writes']:,.0f} "
            f"| {r[label + '_s']:.1f} | {r[label + '_lag_ms']:.1f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.record:
        with (REPO / "bench" / "RESULTS.md").open("a", encoding="utf-8") as results_file:
            results_file.write(text)


if __name__ == "__main__":
    main()
