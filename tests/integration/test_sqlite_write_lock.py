"""Another process holding SQLite's write lock never holds this process's event loop.

A CLI import of a region's directory holds the write lock for seconds. ``serve`` writes on
its event loop (a presence change, a calendar round): with SQLite's busy timeout alone the
write would wait *on the loop*, and every SIP answer behind it with it. The store waits for
the lock without holding the loop, then writes; and gives up with a clear error, having
changed nothing, when the lock is held past its patience.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from switchboard.live.loop_watch import worst_lag
from switchboard.store import sqlite as sqlite_store
from switchboard.store.bus import EventBus
from switchboard.store.protocol import StoreError
from switchboard.store.sqlite import SqliteStore
from tests.contract.values import ADMIN, T0, lunch_referral, person


@contextmanager
def held_write_lock(path: Path, seconds: float) -> Iterator[threading.Event]:
    """Another connection (as another process would) takes the write lock and keeps it
    ``seconds``; the event is set once it holds it."""
    holding = threading.Event()

    def hold() -> None:
        with closing(sqlite3.connect(path, isolation_level=None)) as conn:
            conn.execute("BEGIN IMMEDIATE")
            holding.set()
            time.sleep(seconds)
            conn.execute("COMMIT")

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        holding.wait(5)
        yield holding
    finally:
        thread.join()


async def test_a_write_waits_for_the_lock_without_holding_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = await SqliteStore.open(path, EventBus())
    try:
        await store.import_people([person(1)], ADMIN, T0)
        with held_write_lock(path, 1.0):
            started = time.perf_counter()
            _, lag = await worst_lag(store.set_manual("p1", lunch_referral(), "p1", T0))
            waited = time.perf_counter() - started
        assert waited >= 0.5, "the write went ahead while another process held the lock"
        # Held on the loop, the lag would be the whole second.
        assert lag < 0.25, f"the event loop was held {lag * 1000:.0f} ms"
        assert (await store.load()).manual["p1"] == lunch_referral()
    finally:
        await store.close()


async def test_a_lock_held_past_the_stores_patience_fails_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "WRITE_LOCK_PATIENCE", 0.3)
    path = tmp_path / "store.db"
    store = await SqliteStore.open(path, EventBus())
    try:
        await store.import_people([person(1)], ADMIN, T0)
        version = await store.version()
        with (
            held_write_lock(path, 1.0),
            pytest.raises(StoreError, match=r"another process .* write lock"),
        ):
            await store.set_manual("p1", lunch_referral(), "p1", T0)
        assert await store.version() == version
        assert "p1" not in (await store.load()).manual
        # The connection is usable again: nothing was left half-begun.
        await store.set_manual("p1", lunch_referral(), "p1", T0)
        assert (await store.load()).manual["p1"] == lunch_referral()
    finally:
        await store.close()


async def test_writers_in_one_process_queue_behind_the_lock_in_turn(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = await SqliteStore.open(path, EventBus())
    try:
        await store.import_people([person(i) for i in range(1, 6)], ADMIN, T0)
        with held_write_lock(path, 0.5):
            await asyncio.gather(
                *(store.set_manual(f"p{i}", lunch_referral(), "x", T0) for i in range(1, 6))
            )
        assert set((await store.load()).manual) == {f"p{i}" for i in range(1, 6)}
    finally:
        await store.close()


async def test_the_wal_is_checkpointed_on_the_side_thread_never_in_a_loops_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An automatic checkpoint runs inside the COMMIT that crosses SQLite's threshold, on
    the event loop: tens of milliseconds (bench/calendar_region.py). The loop's connection
    never checkpoints; past ``CHECKPOINT_BYTES`` of WAL the side thread does."""
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_BYTES", 1)
    threads: list[str] = []
    real = SqliteStore._checkpoint

    def recorded(self: SqliteStore) -> None:
        threads.append(threading.current_thread().name)
        real(self)

    monkeypatch.setattr(SqliteStore, "_checkpoint", recorded)
    path = tmp_path / "store.db"
    store = await SqliteStore.open(path, EventBus())
    try:
        assert store._connection().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        await store.import_people([person(1)], ADMIN, T0)
        for _ in range(20):
            await asyncio.sleep(0.01)
            if threads:
                break
        assert threads
        assert all(name.startswith("store-side") for name in threads), threads
        # Checkpointed: the database file itself now holds the person (read it without
        # the WAL by copying the file alone).
        alone = tmp_path / "alone.db"
        alone.write_bytes(path.read_bytes())
        with closing(sqlite3.connect(alone)) as conn:
            assert conn.execute("SELECT count(*) FROM people").fetchone() == (1,)
    finally:
        await store.close()
