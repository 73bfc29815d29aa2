"""Registrations shared by the workers of one machine (issue 14): two "workers" are two
stores on one SQLite file, each with its own bus, registrar and keeper, as two processes
have; the change feed carries ``BindingsChanged`` from one to the other."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from switchboard.clock import FixedClock
from switchboard.events import BindingsChanged, Event
from switchboard.sip.binding_keeper import BindingKeeper
from switchboard.sip.flow import Flow
from switchboard.sip.message import NameAddr, SipUri
from switchboard.sip.registrar import Registrar
from switchboard.store.bus import EventBus
from switchboard.store.sqlite import SqliteStore

USER = "64123"
WALL = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NOW = 500.0
DESK = NameAddr(SipUri("192.168.1.20", user=USER, port=5060))
APP = NameAddr(SipUri("10.0.0.7", user=USER, port=5080))
UDP = Flow("udp", "203.0.113.5", 40123)
TCP = Flow("tcp", "198.51.100.9", 51000)


@dataclass
class Worker:
    store: SqliteStore
    registrar: Registrar
    keeper: BindingKeeper
    heard: list[Event]

    def contacts(self, now: float = NOW) -> set[NameAddr]:
        return {b.contact for b in self.registrar.bindings(USER, now)}

    async def follow(self) -> None:
        while await self.store.catch_up():
            pass


async def _worker(path: Path) -> Worker:
    bus = EventBus()
    store = await SqliteStore.open(path, bus)
    registrar = Registrar()
    keeper = BindingKeeper(store, FixedClock(WALL), share=True)
    keeper.attach(registrar)
    heard: list[Event] = []

    def apply(event: Event) -> None:
        heard.append(event)
        if isinstance(event, BindingsChanged):
            keeper.apply(event, registrar, NOW)

    bus.add_listener(apply)
    return Worker(store, registrar, keeper, heard)


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[tuple[Worker, Worker]]:
    a = await _worker(tmp_path / "store.db")
    b = await _worker(tmp_path / "store.db")
    yield a, b
    await a.store.close()
    await b.store.close()


async def test_a_register_on_one_worker_reaches_the_other_with_its_flow_and_time_left(
    two: tuple[Worker, Worker],
) -> None:
    a, b = two
    a.registrar.update(USER, [(DESK, 600)], None, "c1", 1, UDP, NOW)
    a.registrar.update(USER, [(APP, 300)], None, "c2", 1, TCP, NOW)
    assert await a.keeper.flush() == 1
    await b.follow()
    found = {b_.contact: b_ for b_ in b.registrar.bindings(USER, NOW)}
    assert set(found) == {DESK, APP}
    assert (found[DESK].flow, found[DESK].remaining(NOW)) == (UDP, 600)
    assert (found[APP].flow, found[APP].remaining(NOW)) == (TCP, 300)  # its connection is A's
    assert b.keeper.pending == 0  # applying is no change of B's own: nothing to save or tell


async def test_the_writer_hears_its_own_change_back_without_an_echo(
    two: tuple[Worker, Worker],
) -> None:
    a, _ = two
    a.registrar.update(USER, [(DESK, 600)], None, "c1", 1, UDP, NOW)
    await a.keeper.flush()
    await a.follow()
    assert [type(e) for e in a.heard] == [BindingsChanged]
    assert (a.contacts(), a.keeper.pending) == ({DESK}, 0)


async def test_two_phones_registering_on_two_workers_at_once_both_stay(
    two: tuple[Worker, Worker],
) -> None:
    """Each change names only its own contact, so neither undoes the other, whichever the
    feed orders first (a whole set per address of record would lose one of them)."""
    a, b = two
    a.registrar.update(USER, [(DESK, 600)], None, "c1", 1, UDP, NOW)
    b.registrar.update(USER, [(APP, 600)], None, "c2", 1, UDP, NOW)
    await a.keeper.flush()
    await b.keeper.flush()
    await a.follow()
    await b.follow()
    assert a.contacts() == b.contacts() == {DESK, APP}


async def test_unregistering_on_another_worker_removes_the_phone_everywhere(
    two: tuple[Worker, Worker],
) -> None:
    a, b = two
    a.registrar.update(USER, [(DESK, 600)], None, "c1", 1, UDP, NOW)
    await a.keeper.flush()
    await b.follow()
    # The phone's next REGISTER (say, from a new source port) reached B: expires 0.
    b.registrar.update(USER, [(DESK, 0)], None, "c1", 2, UDP, NOW + 1)
    await b.keeper.flush()
    await a.follow()
    await b.follow()
    assert a.contacts(NOW + 1) == b.contacts(NOW + 1) == set()
    assert await a.store.saved_bindings() == []
