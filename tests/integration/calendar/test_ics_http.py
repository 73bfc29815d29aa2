"""fetch_feed() against a real HTTP server on loopback, then parse and explain (R7)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from switchboard.calendar_sync import CalendarError
from switchboard.calendar_sync.fetch import fetch_feed
from switchboard.calendar_sync.ics import parse_feed
from switchboard.directory.hours import WorkingHours
from switchboard.presence.calendar import ExplainKind, explain
from tests.integration.calendar.server import LAST_MODIFIED, feed_server

STOCKHOLM = ZoneInfo("Europe/Stockholm")
HIDDEN_PATH = "secret-token-123"


async def test_fetch_then_conditional_refetch_is_unchanged() -> None:
    async with feed_server() as server:
        url = f"{server.base}/{HIDDEN_PATH}/outlook.ics"
        first = await fetch_feed(url, max_bytes=1_000_000, timeout=5)
        assert not first.unchanged
        assert first.data is not None
        assert first.data.startswith(b"BEGIN:VCALENDAR")
        assert (first.etag, first.last_modified) == ('"outlook.ics-v1"', LAST_MODIFIED)

        again = await fetch_feed(
            url, etag=first.etag, last_modified=first.last_modified, max_bytes=1_000_000, timeout=5
        )
        assert (again.unchanged, again.data) == (True, None)
        by_date = await fetch_feed(url, last_modified=first.last_modified, timeout=5)
        assert by_date.unchanged
        assert server.requests[1][1:] == ('"outlook.ics-v1"', LAST_MODIFIED)
        assert server.requests[2][1:] == (None, LAST_MODIFIED)


async def test_a_served_feed_explains_like_the_file() -> None:
    async with feed_server() as server:
        got = await fetch_feed(f"{server.base}/{HIDDEN_PATH}/outlook.ics", timeout=5)
    assert got.data is not None
    feed = parse_feed(
        got.data,
        window_start=datetime(2026, 1, 1, tzinfo=STOCKHOLM),
        window_end=datetime(2027, 1, 1, tzinfo=STOCKHOLM),
        default_zone=STOCKHOLM,
    )
    at = datetime(2026, 10, 23, 10, tzinfo=STOCKHOLM)
    answer = explain(feed.items, at, None, STOCKHOLM, WorkingHours.parse("mon-fri 08:00-16:30"))
    assert (answer.kind, answer.until) == (
        ExplainKind.OOF,
        datetime(2026, 10, 26, 8, tzinfo=STOCKHOLM),
    )
    assert [p.uid for p in feed.problems] == ["outlook-broken-0327"]


async def test_an_oversize_feed_is_refused_while_streaming() -> None:
    async with feed_server() as server:
        with pytest.raises(CalendarError, match="larger than the limit of 100000 bytes"):
            await fetch_feed(f"{server.base}/endless.ics", max_bytes=100_000, timeout=10)
    # The server was cut off long before it could send its ~800 MB.
    assert server.streamed
    assert server.streamed[0] < 50_000_000


async def test_a_declared_oversize_feed_is_refused_before_reading() -> None:
    async with feed_server() as server:
        with pytest.raises(CalendarError, match="larger than the limit"):
            await fetch_feed(f"{server.base}/huge.ics", max_bytes=1_000_000, timeout=10)


async def test_a_slow_server_times_out() -> None:
    async with feed_server() as server:
        with pytest.raises(CalendarError, match=r"no complete answer within 0\.3 s"):
            await fetch_feed(f"{server.base}/slow.ics", timeout=0.3)


async def test_errors_never_show_the_secret_part_of_the_url() -> None:
    async with feed_server() as server:
        with pytest.raises(CalendarError) as caught:
            await fetch_feed(f"{server.base}/{HIDDEN_PATH}/gone.ics?token=abc", timeout=5)
    message = str(caught.value)
    assert "HTTP 404" in message
    assert HIDDEN_PATH not in message
    assert "abc" not in message
    assert server.base in message


async def test_nothing_listening_is_a_clear_error() -> None:
    async with feed_server() as server:
        base = server.base
    with pytest.raises(CalendarError, match="request failed"):
        await fetch_feed(f"{base}/{HIDDEN_PATH}/outlook.ics", timeout=5)
