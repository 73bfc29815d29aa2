"""The SQLite store on a real file: reopening, migrations, all-or-nothing imports, a real crash.

The crash test kills a child process with SIGKILL while its import transaction is in flight
(pages of it already written to the WAL), then checks that the file recovers to exactly the
last commit. The child parks itself mid-transaction and says so, so the kill never races
the commit, however slow the machine.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from switchboard.presence.model import ManualStatus, Reason, Referral
from switchboard.store import codec, tables
from switchboard.store.audit import AuditDecision
from switchboard.store.bus import EventBus
from switchboard.store.protocol import StoreError
from switchboard.store.schema import LATEST, MIGRATIONS, Migration, migrate, user_version
from switchboard.store.sqlite import SqliteStore
from tests.contract.values import (
    ADMIN,
    FULL,
    LUNCH,
    T0,
    grant,
    lunch_referral,
    person,
    segments,
)


def _query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return list(conn.execute(sql).fetchall())


async def test_everything_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "folder" / "store.db"
    store = await SqliteStore.open(path, EventBus())
    await store.import_people([person(1), person(2), FULL], ADMIN, T0)
    await store.set_manual("p1", lunch_referral(), "reception", T0)
    await store.set_calendar("p2", "ews", segments(3), "sync", T0)
    await store.save_template("p1", LUNCH, "p1", T0)
    await store.grant_exception(grant())
    before, audit = await store.load(), await store.audit(1000)
    await store.close()
    await store.close()  # harmless
    with pytest.raises(StoreError, match="closed"):
        await store.version()

    reopened = await SqliteStore.open(path, EventBus())
    try:
        assert await reopened.load() == before
        assert await reopened.audit(1000) == audit
        assert before.version == 5
    finally:
        await reopened.close()
    mode = _query(path, "PRAGMA journal_mode")
    assert mode == [("wal",)]


async def test_an_empty_database_is_migrated_to_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    with closing(sqlite3.connect(path)) as conn:
        assert user_version(conn) == 0
    store = await SqliteStore.open(path, EventBus())
    await store.close()
    assert _query(path, "PRAGMA user_version") == [(LATEST,)]
    tables = {row[0] for row in _query(path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"people", "manual_status", "calendar_segments", "templates"} <= tables
    assert {"policy_exceptions", "audit", "store_version"} <= tables


async def test_the_audit_migration_keeps_every_entry_written_before_it(tmp_path: Path) -> None:
    """Issue 17 added decision, origin and old -> new values to the trail: rows written by
    a schema-7 switchboard stay, read as allowed changes of unknown origin."""
    path = tmp_path / "v7.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        assert migrate(conn, path, MIGRATIONS[:7]) == 7
        conn.executemany(
            "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            [
                ("2024-05-02T09:30:00+00:00", ADMIN, "person_created", "p1", "created"),
                ("2024-05-02T09:31:00+00:00", "anna", "manual_set", "p1", "lunch referral"),
            ],
        )
    store = await SqliteStore.open(path, EventBus())
    try:
        old = await store.audit(10)
        assert [(e.seq, e.actor, e.action, e.detail) for e in old] == [
            (2, "anna", "manual_set", "lunch referral"),
            (1, ADMIN, "person_created", "created"),
        ]
        assert {(e.decision, e.via, e.source, e.request_id, e.changes) for e in old} == {
            (AuditDecision.ALLOWED, "", "", "", ())
        }
        await store.import_people([person(1)], ADMIN, T0)
        assert len(await store.audit(10)) == 4
    finally:
        await store.close()
    assert _query(path, "PRAGMA user_version") == [(LATEST,)]


async def test_entries_written_before_schema_13_read_without_words(tmp_path: Path) -> None:
    """Issue 16 keeps each entry's words for the pages: a schema-12 row has none (the page
    shows its English, marked), and a write after the migration has them."""
    path = tmp_path / "v12.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        assert migrate(conn, path, MIGRATIONS[:12]) == 12
        conn.execute(
            "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            ("2024-05-02T09:30:00+00:00", ADMIN, "person_created", "p1", "created"),
        )
    store = await SqliteStore.open(path, EventBus())
    try:
        [old] = await store.audit(10)
        assert (old.detail, old.words) == ("created", None)
        await store.import_people([person(1)], ADMIN, T0)
        new = (await store.audit(1))[0]
        assert new.words is not None
        assert new.detail == "1 created, 0 updated, 0 unchanged"
    finally:
        await store.close()
    assert _query(path, "PRAGMA user_version") == [(LATEST,)]


async def test_a_database_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(StoreError) as refused:
        await SqliteStore.open(path, EventBus())
    message = str(refused.value)
    assert str(path) in message
    assert f"version {LATEST + 1}" in message
    assert f"version {LATEST}" in message
    assert _query(path, "PRAGMA user_version") == [(LATEST + 1,)]


def test_a_failing_migration_leaves_the_old_schema_whole(tmp_path: Path) -> None:
    path = tmp_path / "half.db"
    broken = (
        Migration(1, "fine", ("CREATE TABLE a (x)",)),
        Migration(2, "broken", ("CREATE TABLE b (y)", "CREATE TABLE a (x)")),
    )
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        with pytest.raises(StoreError, match=r"half\.db"):
            migrate(conn, path, broken)
        assert user_version(conn) == 0
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []
        assert migrate(conn, path, broken[:1]) == 1


async def test_a_file_that_is_not_a_database_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is not an SQLite database, just some text " * 100)
    with pytest.raises(StoreError, match=r"notes\.db"):
        await SqliteStore.open(path, EventBus())


async def test_an_import_failing_half_way_changes_nothing_at_all(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    bus = EventBus()
    seen: list[object] = []
    bus.add_listener(seen.append)
    store = await SqliteStore.open(path, bus)
    try:
        await store.import_people([person(1), person(2)], ADMIN, T0)
        await store.set_manual("p1", lunch_referral(), "p1", T0)
        before, audit = await store.load(), await store.audit(10_000)
        seen.clear()
        # Person 500 of 1000 takes person 1's extension; 499 good rows precede it.
        people = [person(n) for n in range(100, 1100)]
        people[499] = person(599, extension=person(1).extension)

        with pytest.raises(StoreError, match=str(person(1).extension)):
            await store.import_people(people, ADMIN, T0)

        assert await store.load() == before
        assert await store.audit(10_000) == audit
        assert seen == []
    finally:
        await store.close()
    assert _query(path, "SELECT count(*) FROM people") == [(2,)]


CHILD = r"""
import asyncio, sqlite3, sys, time
from datetime import UTC, datetime
from pathlib import Path
from switchboard.directory.model import Person
from switchboard.store.bus import EventBus
from switchboard.store.sqlite import SqliteStore

path, count, park_after = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
inserted = 0

def trace(statement):
    # Runs inside the import's transaction, before each statement.
    global inserted
    if statement.startswith("INSERT INTO people"):
        inserted += 1
        if inserted == park_after:
            print("in-flight", flush=True)
            time.sleep(120)  # parked mid-transaction until the parent kills us
            sys.exit(3)

real_connect = sqlite3.connect
def connect(*args, **kwargs):
    conn = real_connect(*args, **kwargs)
    conn.set_trace_callback(trace)
    return conn
sqlite3.connect = connect

async def main():
    store = await SqliteStore.open(path, EventBus())
    people = [
        Person(f"bulk-{i:06d}", f"Bulk {i}", f"7{i:06d}", None, f"bulk{i}@example.org", "org")
        for i in range(count)
    ]
    print("importing", flush=True)
    await store.import_people(people, "crash-test", datetime.now(UTC))
    print("committed", flush=True)

asyncio.run(main())
"""


async def _read_line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    line = await proc.stdout.readline()
    if not line:
        pytest.fail(f"the child exited early with {await proc.wait()}")
    return line.decode().strip()


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
async def test_a_killed_import_leaves_the_database_at_its_last_commit(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = await SqliteStore.open(path, EventBus())
    await store.import_people([person(n) for n in range(1, 101)], ADMIN, T0)
    await store.set_manual("p1", lunch_referral(), "p1", T0)
    before = await store.load()
    await store.close()
    wal = path.with_name(path.name + "-wal")
    baseline = wal.stat().st_size if wal.exists() else 0

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        str(path),
        "50000",
        "20000",
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        # A generous deadline for a slow machine; on a normal one this takes about a second.
        async with asyncio.timeout(60):
            assert await _read_line(proc) == "importing"
            assert await _read_line(proc) == "in-flight"
        # 20,000 rows overflow the default 2 MiB page cache: uncommitted pages are in the WAL.
        assert wal.stat().st_size > baseline
        proc.send_signal(signal.SIGKILL)
        returncode = await asyncio.wait_for(proc.wait(), timeout=30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert returncode == -signal.SIGKILL

    assert _query(path, "PRAGMA integrity_check") == [("ok",)]
    reopened = await SqliteStore.open(path, EventBus())
    try:
        after = await reopened.load()
    finally:
        await reopened.close()
    assert len(after.people) == len(before.people) == 100
    assert after == before
    assert _query(path, "PRAGMA integrity_check") == [("ok",)]


async def test_a_referral_planned_before_schema_12_becomes_a_plan(tmp_path: Path) -> None:
    """Issue 16 keeps plans beside the current status: a schema-10 manual status with a
    start (the one planned referral a person could have) moves to the plans, and a current
    one without a start stays where it was."""
    path = tmp_path / "v10.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        assert migrate(conn, path, MIGRATIONS[:10]) == 10
        conn.execute("PRAGMA foreign_keys = ON")
        for n in (1, 2):
            conn.execute(tables.INSERT_PERSON, codec.person_row(person(n)))
        conn.execute(tables.UPSERT_MANUAL, codec.manual_row("p1", lunch_referral()))
        current = ManualStatus(Referral(Reason.MEETING, until=T0 + timedelta(hours=1)), "p2", T0)
        conn.execute(tables.UPSERT_MANUAL, codec.manual_row("p2", current))
    store = await SqliteStore.open(path, EventBus())
    try:
        state = await store.load()
    finally:
        await store.close()
    assert state.manual == {"p2": current}
    [plan] = state.plans["p1"]
    planned = lunch_referral()
    assert plan.plan_id
    assert (plan.referral, plan.set_by, plan.set_at, plan.starts) == (
        planned.referral,
        planned.set_by,
        planned.set_at,
        planned.starts,
    )
