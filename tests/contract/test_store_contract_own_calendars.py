"""The Store contract, part: calendars employees connect from their page (issue 16).

Same fixture as the other parts. A connection is kept as given (the feed address whole:
the worker needs it) but audited masked, with the actor; nothing bumps the version; each
change publishes one unversioned ``OwnCalendarChanged`` naming only the person, and it
travels on the change feed to another process (a CLI write seen by ``serve``); a refused
change publishes nothing; removing the person removes the connection.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from switchboard.events import Event, OwnCalendarChanged
from switchboard.presence.own_calendar import OwnCalendar, OwnCalendarKind
from switchboard.store.bus import EventBus
from switchboard.store.protocol import NotFoundError, StoreError
from tests.contract.conftest import Backend
from tests.contract.values import ADMIN, T0, person

FEED = "https://outlook.office365.com/owa/calendar/abc/SECRETTOKEN123/calendar.ics"


def feed(person_id: str = "p1", by: str = "anna") -> OwnCalendar:
    return OwnCalendar(person_id, OwnCalendarKind.ICS, FEED, by, T0)


@pytest.fixture
async def people(backend: Backend) -> Backend:
    await backend.store.import_people([person(1), person(2)], ADMIN, T0)
    backend.take_events()
    return backend


async def test_a_connection_is_kept_audited_masked_and_published_unversioned(
    people: Backend,
) -> None:
    store = people.store
    version = await store.version()
    assert await store.own_calendar("p1") is None
    await store.set_own_calendar("p1", feed(), "anna", T0)
    assert await store.own_calendar("p1") == feed()
    mailbox = OwnCalendar(
        "p2", OwnCalendarKind.GRAPH, "bo@sotenas.se", "admin", T0 + timedelta(minutes=1)
    )
    await store.set_own_calendar("p2", mailbox, "admin", T0)
    assert await store.own_calendars() == [feed(), mailbox]
    assert await store.version() == version
    assert people.take_events() == [OwnCalendarChanged("p1"), OwnCalendarChanged("p2")]

    (entry,) = await store.audit(limit=1, subject="p1")
    assert (entry.actor, entry.action) == ("anna", "calendar_connected")
    shown = f"{entry.detail} {entry.changes}"
    assert "SECRETTOKEN123" not in shown
    assert "https://outlook.office365.com/***" in shown
    assert "SECRETTOKEN123" not in repr(feed())

    await store.set_own_calendar("p1", None, "admin", T0)
    assert await store.own_calendar("p1") is None
    (entry,) = await store.audit(limit=1, subject="p1")
    assert (entry.actor, entry.action) == ("admin", "calendar_disconnected")
    assert "SECRETTOKEN123" not in f"{entry.detail} {entry.changes}"
    assert people.take_events() == [OwnCalendarChanged("p1")]


async def test_refusals_change_and_publish_nothing(people: Backend) -> None:
    store = people.store
    with pytest.raises(NotFoundError):
        await store.set_own_calendar("nobody", feed("nobody"), "admin", T0)
    with pytest.raises(NotFoundError):
        await store.set_own_calendar("p1", None, "anna", T0)
    with pytest.raises(StoreError):
        await store.set_own_calendar("p1", feed("p2"), "anna", T0)
    assert await store.own_calendars() == []
    assert people.events == []


async def test_removing_the_person_removes_the_connection(people: Backend) -> None:
    await people.store.set_own_calendar("p2", feed("p2"), "anna", T0)
    await people.store.remove_person("p2", ADMIN, T0)
    assert await people.store.own_calendars() == []


async def test_another_process_hears_of_a_connection_through_the_feed(people: Backend) -> None:
    """What lets ``serve``'s calendar worker pick up a connection made by the CLI or by
    another worker, without a restart (issue 14's feed)."""
    assert people.open_peer is not None
    bus = EventBus()
    seen: list[Event] = []
    bus.add_listener(seen.append)
    peer = await people.open_peer(bus)
    await people.store.set_own_calendar("p1", feed(), "anna", T0)
    while await peer.catch_up():
        pass
    assert seen == [OwnCalendarChanged("p1")]
    assert await peer.own_calendar("p1") == feed()
