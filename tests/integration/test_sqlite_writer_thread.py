"""SQLite writes wait for the disk, and do their bulk work, off the event loop (issue 15).

A region's import decodes, compares and writes 100,000 rows, and every commit flushes to
disk (``synchronous = FULL``), behind a checkpoint's writes at times. Both run on the
store's writer thread; the loop keeps answering meanwhile, reads the last commit on its own
connection, and gets the write's events a slice per turn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from switchboard.events import Event, ManualStatusChanged, PersonSaved
from switchboard.live.loop_watch import worst_lag
from switchboard.store import sqlite as sqlite_store
from switchboard.store.bus import EventBus
from switchboard.store.sqlite import SqliteStore
from tests.contract.values import ADMIN, T0, lunch_referral, person
from tests.fixtures.loop_turns import LoopTurns

REGION_SLICE = 20_000
"""People imported in one go: on the loop, their import held it about 0.7 s here."""


async def test_a_large_import_leaves_the_loop_free_and_reads_see_the_last_commit(
    tmp_path: Path,
) -> None:
    store = await SqliteStore.open(tmp_path / "store.db", EventBus())
    try:
        before = await store.version()
        people = [person(n) for n in range(1, REGION_SLICE + 1)]
        importing = asyncio.ensure_future(worst_lag(store.import_people(people, ADMIN, T0)))
        await asyncio.sleep(0.05)
        assert not importing.done(), "the import was over before the loop got a turn"
        assert await store.version() == before  # read meanwhile, on the reading connection
        result, lag = await importing
        assert result.created == REGION_SLICE
        assert await store.version() == result.version > before
        # Held on the loop, the lag would be the import's whole time (0.7 s here).
        assert lag < 0.2, f"the event loop was held {lag * 1000:.0f} ms"
    finally:
        await store.close()


async def test_a_large_imports_events_are_published_a_slice_per_loop_turn(
    tmp_path: Path,
) -> None:
    bus = EventBus()
    store = await SqliteStore.open(tmp_path / "store.db", bus)
    turns = LoopTurns()
    seen_at: list[int] = []

    def record(event: Event) -> None:
        if isinstance(event, PersonSaved):
            seen_at.append(turns.count)

    bus.add_listener(record)
    count = 4 * sqlite_store.PUBLISH_SLICE + 1
    try:
        async with turns:
            await store.import_people([person(n) for n in range(1, count + 1)], ADMIN, T0)
    finally:
        await store.close()
    assert len(seen_at) == count
    # Every slice in a turn of its own: the loop ran between them.
    slices = [seen_at[i] for i in range(0, count, sqlite_store.PUBLISH_SLICE)]
    assert slices == sorted(set(slices)), f"slices published in the same turn: {slices}"
    assert len(set(seen_at)) == len(slices)


def _slow_writer(store: SqliteStore, seconds: float) -> None:
    """Make each piece of the writer thread's work start ``seconds`` late."""
    on_writer = store._on_writer

    def late(fn: Callable[..., Any], *args: object) -> asyncio.Future[Any]:
        def after_a_while() -> Any:
            time.sleep(seconds)
            return fn(*args)

        return on_writer(after_a_while)

    store._on_writer = late  # type: ignore[method-assign]


async def test_a_commit_under_way_is_seen_through_a_cancellation(tmp_path: Path) -> None:
    bus = EventBus()
    store = await SqliteStore.open(tmp_path / "store.db", bus)
    try:
        await store.import_people([person(1)], ADMIN, T0)
        published: list[Event] = []
        bus.add_listener(published.append)
        _slow_writer(store, 0.3)
        writing = asyncio.create_task(store.set_manual("p1", lunch_referral(), "p1", T0))
        await asyncio.sleep(0.1)  # inside the commit's wait
        writing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writing
        # On disk, and so on this process's bus too: the view must not miss it.
        assert (await store.load()).manual["p1"] == lunch_referral()
        assert [type(e) for e in published] == [ManualStatusChanged]
    finally:
        await store.close()


async def test_an_import_cancelled_on_the_writer_thread_changes_nothing(tmp_path: Path) -> None:
    bus = EventBus()
    store = await SqliteStore.open(tmp_path / "store.db", bus)
    try:
        await store.import_people([person(1)], ADMIN, T0)
        version = await store.version()
        published: list[Event] = []
        bus.add_listener(published.append)
        _slow_writer(store, 0.3)
        importing = asyncio.create_task(store.import_people([person(1), person(2)], ADMIN, T0))
        await asyncio.sleep(0.1)  # the import's work has not started on its thread yet
        importing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await importing
        state = await store.load()
        assert [p.person_id for p in state.people] == ["p1"]
        assert state.version == version
        assert published == []
        # The connection is free again: the next write goes through.
        await store.set_manual("p1", lunch_referral(), "p1", T0)
    finally:
        await store.close()
