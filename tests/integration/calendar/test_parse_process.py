"""Feeds parsed in a process of their own (issue 15, ``calendar_sync.parse_process``).

A thread of ``serve`` parsing feeds takes the interpreter lock from the event loop; the
parse process takes a core instead. These tests read a real feed over HTTP through the
reader as ``serve`` builds it, and check that the parse ran in the child and gives what a
parse here gives; that a feed the child cannot read fails as it would here; that a child
that died fails its feed's read as a calendar error and the next read starts another;
and that a parse cancelled halfway stops the child, whose answer would be out of step.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from switchboard.calendar_sync import CalendarError
from switchboard.calendar_sync.fetch import fetch_feed
from switchboard.calendar_sync.ics import FeedResult, parse_feed
from switchboard.calendar_sync.parse_process import ParseProcess
from switchboard.calendar_sync.readers import IcsReader
from switchboard.directory.model import Person
from switchboard.settings.calendar import CalendarSource, CalendarType
from tests.integration.calendar.server import feed_server

STOCKHOLM = ZoneInfo("Europe/Stockholm")
START = datetime(2026, 1, 1, tzinfo=STOCKHOLM)
END = datetime(2027, 1, 1, tzinfo=STOCKHOLM)
ANNA = Person("anna", "Anna Berg", "64123", "+46701740623", "anna@sotenas.example", "sotenas")
FEED = "/secret-token-123/outlook.ics"


@pytest.fixture
async def parser() -> AsyncIterator[ParseProcess]:
    process = ParseProcess()
    yield process
    await process.close()


async def _feed() -> bytes:
    async with feed_server() as server:
        got = await fetch_feed(f"{server.base}{FEED}", timeout=5)
    assert got.data is not None
    return got.data


async def _parsed_once(parser: ParseProcess) -> tuple[bytes, FeedResult, int]:
    """The served feed, parsed once by ``parser``, and its child's process id."""
    data = await _feed()
    parsed = await parser(data, START, END, STOCKHOLM)
    child = parser.pid()
    assert child is not None
    return data, parsed, child


async def _gone(pid: int) -> bool:
    """Whether process ``pid`` has exited and been reaped (by asyncio's child watcher)."""
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        await asyncio.sleep(0.02)
    return False


async def test_a_feed_is_parsed_in_the_child_as_it_would_be_here(parser: ParseProcess) -> None:
    async with feed_server() as server, aiohttp.ClientSession() as session:
        source = CalendarSource("ics", CalendarType.ICS, person=ANNA.email, url=server.base + FEED)
        reader = IcsReader(source, session, STOCKHOLM, parser)
        read = await reader.read(ANNA, START, END, full=True)
    here = parse_feed(await _feed(), window_start=START, window_end=END, default_zone=STOCKHOLM)
    assert read == here
    assert read.items, "the feed has meetings"
    assert read.problems, "and a broken event, reported"
    child = parser.pid()
    assert child is not None
    assert child != os.getpid()
    assert parser.started == 1


async def test_a_feed_the_child_cannot_read_fails_as_it_would_here(parser: ParseProcess) -> None:
    with pytest.raises(CalendarError) as here:
        parse_feed(b"not a calendar", window_start=START, window_end=END, default_zone=STOCKHOLM)
    with pytest.raises(CalendarError) as there:
        await parser(b"not a calendar", START, END, STOCKHOLM)
    assert (there.value.source, there.value.problem) == (here.value.source, here.value.problem)
    assert parser.pid() is not None, "a bad feed does not stop the child"


async def test_a_child_that_died_fails_its_read_and_the_next_starts_another(
    parser: ParseProcess,
) -> None:
    data, first, child = await _parsed_once(parser)
    os.kill(child, signal.SIGKILL)
    with pytest.raises(CalendarError, match="process that parses feeds stopped"):
        await parser(data, START, END, STOCKHOLM)
    assert await parser(data, START, END, STOCKHOLM) == first
    assert parser.pid() not in (None, child)
    assert parser.started == 2


async def test_a_parse_cancelled_halfway_stops_the_child(parser: ParseProcess) -> None:
    data, _, child = await _parsed_once(parser)
    parsing = asyncio.create_task(parser(data * 50, START, END, STOCKHOLM))  # about a second
    await asyncio.sleep(0.05)
    parsing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await parsing
    assert parser.pid() is None
    assert await _gone(child)
    assert await parser(data, START, END, STOCKHOLM) is not None
    assert parser.started == 2


async def test_an_idle_child_is_stopped_and_the_next_parse_starts_another(
    parser: ParseProcess,
) -> None:
    data, first, child = await _parsed_once(parser)
    async with asyncio.TaskGroup() as group:
        stopping = group.create_task(parser.stop_when_idle(idle=0.2))
        assert await _gone(child)
        assert parser.pid() is None
        assert await parser(data, START, END, STOCKHOLM) == first
        assert parser.pid() not in (None, child)
        stopping.cancel()
    assert parser.started == 2


async def test_the_child_loads_the_parser_and_no_event_loop_or_http_client(
    parser: ParseProcess,
) -> None:
    """What keeps the child small (about 21 MB, 41 with them): the compiled modules the
    running child has mapped (pure-Python modules leave no trace there; each of these
    packages brings a compiled one)."""
    await _parsed_once(parser)
    child = parser.pid()
    assert child is not None
    maps = await asyncio.to_thread(Path(f"/proc/{child}/maps").read_text)
    assert "_datetime" in maps  # what the parser does need is there
    for absent in ("aiohttp", "_asyncio", "_ssl", "multidict"):
        assert absent not in maps, f"the parse process loaded {absent}"
