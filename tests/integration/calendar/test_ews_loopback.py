"""The EWS source through exchangelib's real protocol stack, against recorded Exchange 2016
SOAP responses served on loopback (R7)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import exchangelib.protocol  # type: ignore[import-untyped]
import pytest

from switchboard.calendar_sync import CalendarError
from switchboard.calendar_sync.ews import EwsSource, ews_configuration
from switchboard.presence.calendar import map_items
from switchboard.settings.calendar import CalendarSource, CalendarType, EwsAccess, EwsAuth
from tests.integration.calendar.corpus import EXPECTED, OWNER, STOCKHOLM, WINDOW
from tests.integration.calendar.ews_server import ews_server


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(2, thread_name_prefix="ews-test")
    yield pool
    pool.shutdown(wait=True)
    # exchangelib caches protocol objects process-wide (PEERS.md).
    exchangelib.protocol.close_connections()


def _source(endpoint: str, auth: EwsAuth = EwsAuth.NONE) -> CalendarSource:
    return CalendarSource(f"ews:{OWNER}", CalendarType.EWS, person=OWNER, url=endpoint, auth=auth)


@pytest.mark.parametrize("access", list(EwsAccess), ids=lambda a: a.value)
async def test_calendar_view_maps_to_the_expected_segments(
    executor: ThreadPoolExecutor, access: EwsAccess
) -> None:
    async with ews_server() as server:
        config = ews_configuration(_source(server.endpoint))
        source = EwsSource(config, access, executor, STOCKHOLM, server.endpoint)
        feed = await source.read(OWNER, *WINDOW)
        again = await source.read(OWNER, *WINDOW)
    assert feed.problems == ()
    assert len(feed.items) == 9
    segments = map_items(
        feed.items, window_start=WINDOW[0], window_end=WINDOW[1], owner_email=OWNER
    )
    assert segments == EXPECTED
    assert again == feed
    # Version pinned, no autodiscover: the folder is looked up once, then one FindItem a round.
    assert server.requests == ["GetFolder:root", "GetFolder:calendar", "FindItem", "FindItem"]
    find = server.bodies[2]
    assert '<t:RequestServerVersion Version="Exchange2016"/>' in find
    assert 'StartDate="2026-02-28T23:00:00Z" EndDate="2026-04-30T22:00:00Z"' in find
    impersonating = "<t:ExchangeImpersonation>" in find
    assert impersonating is (access is EwsAccess.IMPERSONATION)


async def test_basic_auth_sends_the_service_account(executor: ThreadPoolExecutor) -> None:
    async with ews_server() as server:
        src = _source(server.endpoint, EwsAuth.BASIC)
        source = EwsSource(
            ews_configuration(src, "svc-switchboard", "pw-123456"),
            EwsAccess.IMPERSONATION,
            executor,
            STOCKHOLM,
            server.endpoint,
        )
        feed = await source.read(OWNER, *WINDOW)
    assert len(feed.items) == 9


async def test_a_denied_mailbox_is_a_calendar_error_that_says_what_to_grant(
    executor: ThreadPoolExecutor,
) -> None:
    async with ews_server() as server:
        server.denied.add("bo@example.se")
        source = EwsSource(
            ews_configuration(_source(server.endpoint)),
            EwsAccess.IMPERSONATION,
            executor,
            STOCKHOLM,
            server.endpoint,
        )
        with pytest.raises(CalendarError, match="ApplicationImpersonation") as caught:
            await source.read("bo@example.se", *WINDOW)
    assert "/EWS/" not in str(caught.value)  # the endpoint is shown masked


async def test_an_unreachable_endpoint_is_a_calendar_error(executor: ThreadPoolExecutor) -> None:
    async with ews_server() as server:
        endpoint = server.endpoint
    source = EwsSource(
        ews_configuration(_source(endpoint)), EwsAccess.DELEGATE, executor, STOCKHOLM, endpoint
    )
    with pytest.raises(CalendarError, match=r"cannot reach the EWS endpoint"):
        await source.read(OWNER, *WINDOW)
