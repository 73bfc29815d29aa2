"""The Graph source against recorded JSON pages on loopback: token, paging, delta, throttling,
and change notifications through the real aiohttp receiver (R7)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web

from switchboard.calendar_sync import CalendarError
from switchboard.calendar_sync.graph import GraphClient, GraphMailbox
from switchboard.calendar_sync.graph_notify import (
    NOTIFY_PATH,
    Notification,
    NotificationKind,
    notification_app,
)
from switchboard.presence.calendar import map_items
from tests.integration.calendar.corpus import EXPECTED, OWNER, STOCKHOLM, WINDOW
from tests.integration.calendar.graph_server import CLIENT_ID, SECRET, TENANT, graph_server

NOW = datetime(2026, 3, 20, 9, tzinfo=UTC)


class StepClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def _client(
    session: aiohttp.ClientSession, base: str, clock: StepClock, slept: list[float], secret: str
) -> GraphClient:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return GraphClient(
        session,
        authority=f"{base}/login",
        tenant=TENANT,
        client_id=CLIENT_ID,
        client_secret=secret,
        graph_url=f"{base}/v1.0",
        clock=clock,
        zone=STOCKHOLM,
        sleep=sleep,
    )


async def test_calendar_view_follows_next_link_and_maps_like_exchange(
    session: aiohttp.ClientSession,
) -> None:
    clock, slept = StepClock(NOW), list[float]()
    async with graph_server() as server:
        client = _client(session, server.base, clock, slept, SECRET)
        feed = await client.calendar_view(OWNER, *WINDOW)
        clock.at += timedelta(minutes=30)
        await client.calendar_view(OWNER, *WINDOW)
        clock.at += timedelta(minutes=40)  # past expiry minus the margin
        await client.calendar_view(OWNER, *WINDOW)
    assert len(feed.items) == 9
    segments = map_items(
        feed.items, window_start=WINDOW[0], window_end=WINDOW[1], owner_email=OWNER
    )
    assert segments == EXPECTED
    first = server.requests[1]
    assert first.startswith("GET /v1.0/users/anna@example.se/calendarView?")
    assert "startDateTime=2026-02-28T23:00:00Z" in first
    assert "$select=id,subject,start,end,isAllDay,showAs" in first.replace("%24", "$").replace(
        "%2C", ","
    )
    assert "page=2" in server.requests[2]
    assert server.headers[1]["Prefer"].startswith('outlook.timezone="UTC"')
    assert server.headers[1]["Authorization"] == "Bearer token-1"
    # Cached for 30 minutes, fetched again close to its expiry.
    assert server.tokens_issued == 2


async def test_delta_rounds_apply_changes_and_removals(session: aiohttp.ClientSession) -> None:
    clock, slept = StepClock(NOW), list[float]()
    mailbox = GraphMailbox()
    async with graph_server() as server:
        client = _client(session, server.base, clock, slept, SECRET)
        first = await mailbox.refresh(client, OWNER, *WINDOW, full=False, now=NOW)
        second = await mailbox.refresh(client, OWNER, *WINDOW, full=False, now=NOW)
        full = await mailbox.refresh(client, OWNER, *WINDOW, full=True, now=NOW)
    assert len(first.items) == 9
    subjects = {i.subject for i in second.items}
    assert "Ledningsgrupp" not in subjects  # @removed
    assert "Budgetmöte" in subjects  # changed/added
    assert len(second.items) == 9
    assert any("$deltatoken=R0usmcCM996atia_s" in r for r in server.requests)
    # The full reconcile is authoritative again and drops the delta link.
    assert len(full.items) == 9
    assert mailbox.delta_link is None


async def test_throttling_honours_retry_after(session: aiohttp.ClientSession) -> None:
    clock, slept = StepClock(NOW), list[float]()
    async with graph_server() as server:
        server.throttle, server.retry_after = 2, "7"
        client = _client(session, server.base, clock, slept, SECRET)
        feed = await client.calendar_view(OWNER, *WINDOW)
        server.throttle = 10
        with pytest.raises(CalendarError, match="still throttled"):
            await client.calendar_view(OWNER, *WINDOW)
    assert len(feed.items) == 9
    assert slept[:2] == [7.0, 7.0]


async def test_a_wrong_secret_says_what_to_check(session: aiohttp.ClientSession) -> None:
    async with graph_server() as server:
        client = _client(session, server.base, StepClock(NOW), [], "wrong")
        with pytest.raises(CalendarError, match=r"token request refused .*check tenant"):
            await client.calendar_view(OWNER, *WINDOW)


async def test_notification_receiver_handshake_and_batches(
    session: aiohttp.ClientSession,
) -> None:
    got: list[Notification] = []
    runner = web.AppRunner(notification_app("state-123", got.append))
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}{NOTIFY_PATH}"
        async with session.post(url, params={"validationToken": "Validation: tok+en/1"}) as r:
            assert r.status == 200
            assert r.content_type == "text/plain"
            assert await r.text() == "Validation: tok+en/1"
        batch = {
            "value": [
                {"subscriptionId": "sub-1", "clientState": "state-123", "changeType": "updated"},
                {"subscriptionId": "sub-1", "clientState": "forged", "changeType": "updated"},
                {"subscriptionId": "sub-2", "clientState": "state-123", "lifecycleEvent": "missed"},
            ]
        }
        async with session.post(url, json=batch) as r:
            assert r.status == 202
    finally:
        await runner.cleanup()
    assert got == [
        Notification("sub-1", NotificationKind.CHANGED),
        Notification("sub-2", NotificationKind.MISSED),
    ]
