"""Registrations kept across a restart (issue 3): the registrar, the keeper and the real
SQLite store, with the restart played by a new registrar, keeper and store on the same
file and a monotonic clock that starts somewhere else, as a new process's does."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from switchboard.clock import FixedClock
from switchboard.sip.binding_keeper import BindingKeeper
from switchboard.sip.flow import Flow
from switchboard.sip.message import NameAddr, Param, SipUri
from switchboard.sip.registrar import Binding, Registrar
from switchboard.store.bus import EventBus
from switchboard.store.protocol import StoreError
from switchboard.store.sqlite import SqliteStore

USER = "64123"
WALL = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BEFORE = 1_000.0
"""The first process's monotonic clock at WALL."""
AFTER = 52.5
"""The next process's monotonic clock, a minute later in wall time."""
UDP = Flow("udp", "203.0.113.5", 40123)
DESK = NameAddr(SipUri("192.168.1.20", user=USER, port=5060), "Anna's desk")
APP = NameAddr(
    SipUri("10.0.0.7", user=USER, port=5080, params=(Param("transport", "udp"),)),
    params=(Param("+sip.instance", '"<urn:uuid:1>"'), Param("q", "0.5")),
)


def everyone(_user: str) -> bool:
    return True


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


async def _process(path: Path, wall: datetime) -> tuple[SqliteStore, Registrar, BindingKeeper]:
    store = await SqliteStore.open(path, EventBus())
    registrar = Registrar()
    keeper = BindingKeeper(store, FixedClock(wall))
    registrar.on_change = keeper.changed
    return store, registrar, keeper


async def _register_and_save(path: Path) -> tuple[Binding, ...]:
    """The first process: two phones register over UDP, one over TCP; the keeper saves."""
    store, registrar, keeper = await _process(path, WALL)
    registrar.update(USER, [(DESK, 600)], None, "c1", 4, UDP, BEFORE)
    registrar.update(USER, [(APP, 300)], None, "c2", 1, Flow("udp", "198.51.100.9", 5080), BEFORE)
    tcp = NameAddr(SipUri("192.168.1.30", user="64000", port=5060))
    registrar.update("64000", [(tcp, 600)], None, "c3", 1, Flow("tcp", "192.0.2.4", 50111), BEFORE)
    assert keeper.pending == 2
    assert await keeper.flush() == 2
    assert keeper.pending == 0
    await store.close()
    return registrar.bindings(USER, BEFORE)


async def test_bindings_come_back_after_a_restart_with_their_time_left(path: Path) -> None:
    before = await _register_and_save(path)
    store, registrar, keeper = await _process(path, WALL + timedelta(minutes=1))
    with capture_logs() as logs:
        assert await keeper.restore(registrar, AFTER, everyone) == 2
    after = registrar.bindings(USER, AFTER)
    assert [(b.contact, b.flow, b.call_id, b.cseq, b.q) for b in after] == [
        (b.contact, b.flow, b.call_id, b.cseq, b.q) for b in before
    ]
    # A minute went by: each has a minute less, on the new process's clock.
    assert [b.remaining(AFTER) for b in after] == [540, 240]
    assert registrar.bindings("64000", AFTER) == ()  # TCP: its connection is gone
    [line] = [e for e in logs if e["event"] == "sip_bindings_restored"]
    assert (line["bindings"], line["saved"], line["users"]) == (2, 2, 1)
    await store.close()


async def test_a_register_out_of_order_is_still_refused_after_a_restart(path: Path) -> None:
    await _register_and_save(path)
    store, registrar, keeper = await _process(path, WALL + timedelta(minutes=1))
    await keeper.restore(registrar, AFTER, everyone)
    late = registrar.update(USER, [(DESK, 600)], None, "c1", 4, UDP, AFTER)
    assert late.status == 500  # same Call-ID, CSeq not higher (RFC 3261 §10.3 step 7)
    newer = registrar.update(USER, [(DESK, 600)], None, "c1", 5, UDP, AFTER)
    assert newer.status == 200
    await store.close()


async def test_expired_and_unknown_extensions_do_not_come_back(path: Path) -> None:
    await _register_and_save(path)
    # Six minutes later APP (300 s) has lapsed; DESK (600 s) has not.
    store, registrar, keeper = await _process(path, WALL + timedelta(minutes=6))
    assert await keeper.restore(registrar, AFTER, everyone) == 1
    assert [b.contact for b in registrar.bindings(USER, AFTER)] == [DESK]
    fresh = Registrar()
    assert await keeper.restore(fresh, AFTER, lambda user: user != USER) == 0
    assert fresh.bindings(USER, AFTER) == ()
    await store.close()


async def test_an_unreadable_row_is_named_and_skipped(path: Path) -> None:
    await _register_and_save(path)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE sip_bindings SET contact = '<sip:' WHERE position = 0")
    store, registrar, keeper = await _process(path, WALL + timedelta(minutes=1))
    with capture_logs() as logs:
        assert await keeper.restore(registrar, AFTER, everyone) == 1
    [warning] = [e for e in logs if e["event"] == "sip_binding_unreadable"]
    assert (warning["extension"], warning["row"]) == (USER, 0)
    assert "contact" not in warning  # it holds the phone's address: not logged
    assert [b.contact for b in registrar.bindings(USER, AFTER)] == [APP]
    await store.close()


async def test_a_store_that_cannot_be_read_restores_nothing_and_says_so(path: Path) -> None:
    await _register_and_save(path)
    store, registrar, keeper = await _process(path, WALL)
    await store.close()
    with capture_logs() as logs:
        assert await keeper.restore(registrar, AFTER, everyone) == 0
    [line] = [e for e in logs if e["event"] == "sip_bindings_not_restored"]
    assert "closed" in line["error"]
    assert registrar.users() == ()


async def test_an_unregister_is_saved_as_no_bindings(path: Path) -> None:
    await _register_and_save(path)
    store, registrar, keeper = await _process(path, WALL + timedelta(minutes=1))
    await keeper.restore(registrar, AFTER, everyone)
    assert registrar.update(USER, "*", 0, "c9", 1, UDP, AFTER).status == 200
    await keeper.flush()
    assert await store.saved_bindings() == []
    await store.close()


async def test_a_refused_register_saves_nothing(path: Path) -> None:
    store, registrar, keeper = await _process(path, WALL)
    assert registrar.update(USER, [(DESK, 10)], None, "c1", 1, UDP, BEFORE).status == 423
    assert keeper.pending == 0
    await store.close()


async def test_a_failed_save_keeps_the_newest_changes_for_the_next(path: Path) -> None:
    store, registrar, keeper = await _process(path, WALL)
    registrar.update(USER, [(DESK, 600)], None, "c1", 1, UDP, BEFORE)
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await keeper.flush()
    assert keeper.pending == 1
    registrar.update(USER, [(DESK, 600), (APP, 600)], None, "c1", 2, UDP, BEFORE)
    reopened = await SqliteStore.open(path, EventBus())
    keeper._sink = reopened  # the store came back (as after a disk-full error)
    assert await keeper.flush() == 1
    assert [s.contact for s in await reopened.saved_bindings()] == [
        '"Anna\'s desk" <sip:64123@192.168.1.20:5060>',
        '<sip:64123@10.0.0.7:5080;transport=udp>;+sip.instance="<urn:uuid:1>";q=0.5',
    ]
    await reopened.close()


async def test_run_saves_what_is_left_when_it_stops(path: Path) -> None:
    store, registrar, keeper = await _process(path, WALL)
    slept = asyncio.Event()

    async def sleep(_seconds: float) -> None:
        slept.set()
        await asyncio.Event().wait()  # until cancelled

    task = asyncio.create_task(keeper.run(sleep))
    await slept.wait()
    registrar.update(USER, [(DESK, 600)], None, "c1", 1, UDP, BEFORE)  # after the first flush
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [s.call_id for s in await store.saved_bindings()] == ["c1"]
    await store.close()
