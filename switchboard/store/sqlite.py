"""The embedded SQLite store: the default backend, so ``switchboard serve`` needs nothing else.

Reads on the hot path (routing a call) come from the in-memory live view, never from the
store. The store's own reads are small and run on the event loop, on a reading connection
of their own (WAL lets them read while a write is under way). Writes use one writing
connection, one at a time: the statements of a small write run on the loop (they change
pages in memory), and the commit, which waits for the disk, runs on a writer thread; a
large write (a region's import) runs whole on that thread (``_writing``, ``_apart``).

Durability: WAL journal with ``synchronous=FULL`` (a commit is on disk before the write call
returns), foreign keys on (removing a person removes their availability with them), and a
busy timeout so a second process on the same file (the ``switchboard users`` command next to
a running server) waits instead of failing.

Every write is one ``BEGIN IMMEDIATE`` transaction that applies the change, appends its audit
entries and bumps the version; any failure rolls it back and raises StoreError. Only after
the commit are the events published, carrying the new version. One exception: an import in
which nothing changed records its audit entry but keeps the version and publishes nothing,
since a version without an event would make every node reload for no reason.
"""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager, suppress
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

import structlog

from switchboard.directory.credentials import SipCredential
from switchboard.directory.model import Person, PolicyException, PolicyRule
from switchboard.events import (
    CalendarChanged,
    DirectoryImported,
    ExceptionsChanged,
    ManualStatusChanged,
    PersonRemoved,
    PersonSaved,
    SipCredentialChanged,
    TemplatesChanged,
)
from switchboard.presence.model import CalendarSegment, ManualStatus, Template
from switchboard.store import audit_phrases, audit_words, codec, feed, tables
from switchboard.store.bus import EventBus
from switchboard.store.changes import FeedEvent, decode_event, encode_event
from switchboard.store.codec import SideStep
from switchboard.store.protocol import (
    ImportResult,
    NotFoundError,
    StoreError,
    StoreState,
)
from switchboard.store.schema import migrate
from switchboard.store.sqlite_accounts import SqliteAccounts
from switchboard.store.sqlite_audit import SqliteAudit
from switchboard.store.sqlite_bindings import SqliteBindings
from switchboard.store.sqlite_calls import SqliteCalls
from switchboard.store.sqlite_own_calendars import SqliteOwnCalendars
from switchboard.store.sqlite_plans import SqlitePlans, all_plans
from switchboard.store.sqlite_voicemail import SqliteVoicemail

BUSY_TIMEOUT_MS = 5000
PUBLISH_SLICE = feed.BATCH
"""Events a write publishes per turn of the event loop (as the feed's follower does)."""
_T = TypeVar("_T")
log = structlog.get_logger("switchboard.store")

CHECKPOINT_BYTES = 4 * 1024 * 1024
"""WAL size at which the side thread checkpoints (SQLite's own default: 1,000 pages)."""
WRITE_LOCK_PATIENCE = 15.0
"""Seconds a write from the event loop waits for another process's write lock (waiting
off the loop); a CLI import of a region's 100,000 people holds it a few seconds."""
_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


class SqliteStore(
    SqliteAccounts,
    SqliteCalls,
    SqliteVoicemail,
    SqliteBindings,
    SqliteOwnCalendars,
    SqliteAudit,
    SqlitePlans,
):
    """The ``Store`` protocol on one SQLite file. Create it with ``await SqliteStore.open()``.

    The account half (issue 5) comes from ``SqliteAccounts``, in its own module; call
    records and call-list requests (R19) from ``SqliteCalls``; voicemail metadata and
    taken messages from ``SqliteVoicemail``; saved SIP registrations from
    ``SqliteBindings``; reading the audit trail and appending refusals from ``SqliteAudit``.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, bus: EventBus) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._path = path
        self._bus = bus
        self._side: ThreadPoolExecutor | None = None
        self._side_conn: sqlite3.Connection | None = None
        self._writer: ThreadPoolExecutor | None = None
        """The thread of every commit and of ``_apart`` work, with the write connection."""
        self._read_conn: sqlite3.Connection | None = None
        """The loop's connection for reads (``_reading``), made on first use."""
        self._seen_seq = feed.last(conn)
        """The last change of the feed this process has published on its bus."""
        self._behind = False
        """Changes after ``_seen_seq`` are no longer kept: only ``load()`` catches up."""
        self._outbox: list[FeedEvent] = []
        """What the open write transaction publishes once it commits."""
        self._outbox_seq = self._seen_seq
        self.on_write: Callable[[float], None] | None = None
        """Told how long each committed write took, commit included (the metrics)."""
        self._write_turn = asyncio.Lock()
        """One write per turn of the event loop (see ``_writing``)."""
        # This connection never checkpoints: a checkpoint copies the WAL into the database
        # and flushes it, tens of milliseconds that an automatic one spends inside a
        # COMMIT, on the event loop (bench/calendar_region.py). ``_after_write`` has the
        # side thread do it instead.
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        self._wal = Path(f"{path}-wal")
        self._checkpointing: asyncio.Future[None] | None = None

    @classmethod
    async def open(cls, path: Path, bus: EventBus) -> SqliteStore:
        """Open (creating if needed) the database at ``path`` and bring its schema up to date."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the folder for the database: {exc}") from exc
        try:
            # Used by the loop and by the writer thread, never by both at once (_writing).
            conn = sqlite3.connect(
                path,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the database: {exc}") from exc
        try:
            conn.row_factory = sqlite3.Row
            _configure(conn, path)
            migrate(conn, path)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"{path}: cannot use the database: {exc}") from exc
            raise
        return cls(conn, path, bus)

    @property
    def path(self) -> Path:
        return self._path

    # --- reads ----------------------------------------------------------------------------

    async def load(self) -> StoreState:
        """Everything, read in a worker thread on a connection of its own (WAL lets it read
        while the loop's connection writes): at 100,000 people reading and decoding the
        rows takes a second or more, which the event loop spends answering SIP instead."""
        self._connection()  # StoreError when closed
        state, seq = await asyncio.to_thread(self._load_apart)
        self._seen_seq = seq
        self._behind = False
        return state

    def _load_apart(self) -> tuple[StoreState, int]:
        try:
            conn = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise StoreError(f"{self._path}: cannot load: {exc}") from exc
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("BEGIN")  # one read transaction: every table at one version
            state = _read_state(conn)
            seq = feed.last(conn)
            conn.execute("COMMIT")
            return state, seq
        except sqlite3.Error as exc:
            raise StoreError(f"{self._path}: cannot load: {exc}") from exc
        finally:
            conn.close()

    async def version(self) -> int:
        with self._reading("read the version") as conn:
            return tables.current_version(conn)

    # --- people ---------------------------------------------------------------------------

    async def import_people(self, people: list[Person], actor: str, at: datetime) -> ImportResult:
        seen: set[str] = set()
        for person in people:
            if person.person_id in seen:
                raise StoreError(f"the import lists person {person.person_id} more than once")
            seen.add(person.person_id)
        async with self._writing("import the directory") as conn:
            return await self._apart(partial(self._import, conn, people, actor, at))

    def _import(
        self, conn: sqlite3.Connection, people: list[Person], actor: str, at: datetime
    ) -> ImportResult:
        """``import_people``'s transaction, on the writer thread."""
        existing = {
            r["person_id"]: codec.person_from_row(r) for r in conn.execute("SELECT * FROM people")
        }
        diff = tables.import_diff(existing, people, actor, at)
        changes, entries = diff.changes, diff.entries
        created, updated, unchanged = diff.created, diff.updated, diff.unchanged
        dropped = tables.write_people(conn, changes)
        entries.extend(
            tables.credential_dropped(at, actor, pid, user, tables.EXTENSION_CHANGED)
            for pid, user in dropped
        )
        entries.append(tables.entry(at, actor, "directory_imported", "directory", diff.summary))
        if not changes:
            conn.executemany(tables.INSERT_AUDIT, entries)
            return ImportResult(created, updated, unchanged, tables.current_version(conn))
        version = tables.finish(conn, entries)
        self._emit(
            conn,
            *(PersonSaved(version, new) for _, new in changes),
            *(SipCredentialChanged(version, user, None) for _, user in dropped),
            DirectoryImported(version, created, updated, unchanged),
        )
        return ImportResult(created, updated, unchanged, version)

    async def save_person(self, person: Person, actor: str, at: datetime) -> int:
        async with self._writing(f"save person {person.person_id}") as conn:
            old = tables.get_person(conn, person.person_id)
            dropped = tables.write_people(conn, [(old, person)])
            detail = audit_words.person_change(old, person)
            changes = audit_words.person_changes(old, person)
            action = tables.person_action(old)
            entries = [tables.entry(at, actor, action, person.person_id, detail, changes)]
            entries.extend(
                tables.credential_dropped(at, actor, pid, user, tables.EXTENSION_CHANGED)
                for pid, user in dropped
            )
            version = tables.finish(conn, entries)
            self._emit(conn, PersonSaved(version, person))
            self._emit(conn, *(SipCredentialChanged(version, user, None) for _, user in dropped))
        return version

    async def remove_person(self, person_id: str, actor: str, at: datetime) -> int:
        async with self._writing(f"remove person {person_id}") as conn:
            old = tables.get_person(conn, person_id)
            dropped = tables.person_credentials(conn, person_id)
            # The foreign key's cascade deletes their SIP credential with them.
            if conn.execute("DELETE FROM people WHERE person_id = ?", (person_id,)).rowcount == 0:
                raise NotFoundError(f"person {person_id}")
            detail = audit_phrases.person_removed(bool(dropped))
            changes = audit_words.person_changes(old, None)
            version = tables.record(conn, at, actor, "person_removed", person_id, detail, changes)
            self._emit(conn, PersonRemoved(version, person_id))
            self._emit(conn, *(SipCredentialChanged(version, user, None) for _, user in dropped))
        return version

    # --- availability ---------------------------------------------------------------------

    async def set_manual(
        self, person_id: str, status: ManualStatus | None, actor: str, at: datetime
    ) -> int:
        async with self._writing(f"set the manual status of {person_id}") as conn:
            tables.require_person(conn, person_id)
            before = tables.manual_status(conn, person_id)
            if status is None:
                conn.execute("DELETE FROM manual_status WHERE person_id = ?", (person_id,))
            else:
                conn.execute(tables.UPSERT_MANUAL, codec.manual_row(person_id, status))
            action = "manual_cleared" if status is None else "manual_set"
            detail = audit_words.manual_change(status)
            changes = audit_words.manual_changes(before, status)
            version = tables.record(conn, at, actor, action, person_id, detail, changes)
            self._emit(conn, ManualStatusChanged(version, person_id, status))
        return version

    async def set_calendar(
        self,
        person_id: str,
        source: str,
        segments: tuple[CalendarSegment, ...],
        actor: str,
        at: datetime,
    ) -> int:
        async with self._writing(f"set the calendar of {person_id}") as conn:
            # On the writer thread: each row's statement gives the interpreter lock up and
            # waits to get it back, behind the calendar thread parsing the next feed, so
            # a hundred segments written on the loop held it up to 100 ms.
            work = partial(self._set_calendar, conn, person_id, source, segments, actor, at)
            return await self._apart(work)

    def _set_calendar(
        self,
        conn: sqlite3.Connection,
        person_id: str,
        source: str,
        segments: tuple[CalendarSegment, ...],
        actor: str,
        at: datetime,
    ) -> int:
        tables.require_person(conn, person_id)
        before = tables.calendar_segments(conn, person_id, source)
        conn.execute(
            "DELETE FROM calendar_segments WHERE person_id = ? AND source = ?",
            (person_id, source),
        )
        conn.executemany(
            tables.INSERT_SEGMENT,
            [codec.segment_row(person_id, source, i, s) for i, s in enumerate(segments)],
        )
        detail = audit_words.calendar_change(source, segments)
        changes = audit_words.calendar_changes(source, before, segments)
        version = tables.record(conn, at, actor, "calendar_set", person_id, detail, changes)
        self._emit(conn, CalendarChanged(version, person_id, source, segments))
        return version

    async def save_template(
        self, person_id: str, template: Template, actor: str, at: datetime
    ) -> int:
        async with self._writing(f"save a template of {person_id}") as conn:
            tables.require_person(conn, person_id)
            before = tables.template(conn, person_id, template.name)
            conn.execute(tables.UPSERT_TEMPLATE, codec.template_row(person_id, template))
            detail = audit_phrases.template_saved(template)
            changes = audit_words.template_changes(template.name, before, template)
            version = tables.record(conn, at, actor, "template_saved", person_id, detail, changes)
            templates = tables.person_templates(conn, person_id)
            self._emit(conn, TemplatesChanged(version, person_id, templates))
        return version

    async def delete_template(self, person_id: str, name: str, actor: str, at: datetime) -> int:
        async with self._writing(f"delete a template of {person_id}") as conn:
            tables.require_person(conn, person_id)
            before = tables.template(conn, person_id, name)
            deleted = conn.execute(
                "DELETE FROM templates WHERE person_id = ? AND name = ?", (person_id, name)
            ).rowcount
            if deleted == 0:
                raise NotFoundError(f"template {name!r} of person {person_id}")
            detail = audit_phrases.template_deleted(name)
            changes = audit_words.template_changes(name, before, None)
            version = tables.record(conn, at, actor, "template_deleted", person_id, detail, changes)
            templates = tables.person_templates(conn, person_id)
            self._emit(conn, TemplatesChanged(version, person_id, templates))
        return version

    # --- policy ---------------------------------------------------------------------------

    async def grant_exception(self, exception: PolicyException) -> int:
        """Grant, or re-grant with a new reason, the exception for its subject and rule."""
        async with self._writing(f"grant an exception for {exception.subject}") as conn:
            before = tables.exception_reason(conn, exception.subject, exception.rule.value)
            conn.execute(tables.UPSERT_EXCEPTION, codec.exception_row(exception))
            change = audit_phrases.exception_change(exception.rule, before, exception.reason)
            version = tables.record(
                conn,
                exception.granted_at,
                exception.granted_by,
                "exception_granted",
                exception.subject,
                audit_phrases.exception_granted(exception.rule),
                (change,),
            )
            exceptions = tables.all_exceptions(conn)
            self._emit(conn, ExceptionsChanged(version, exceptions))
        return version

    async def revoke_exception(
        self, subject: str, rule: PolicyRule, actor: str, at: datetime, reason: str | None = None
    ) -> int:
        async with self._writing(f"revoke an exception for {subject}") as conn:
            before = tables.exception_reason(conn, subject, rule.value)
            deleted = conn.execute(
                "DELETE FROM policy_exceptions WHERE subject_key = ? AND rule = ?",
                (codec.subject_key(subject), rule.value),
            ).rowcount
            if deleted == 0:
                raise NotFoundError(f"exception to {rule.value} for {subject}")
            detail = audit_phrases.exception_revoked(rule, reason)
            change = audit_phrases.exception_change(rule, before, "")
            version = tables.record(
                conn, at, actor, "exception_revoked", subject, detail, (change,)
            )
            exceptions = tables.all_exceptions(conn)
            self._emit(conn, ExceptionsChanged(version, exceptions))
        return version

    # --- SIP credentials ------------------------------------------------------------------

    async def sip_credentials(self) -> dict[str, SipCredential]:
        with self._reading("read the SIP credentials") as conn:
            return tables.all_credentials(conn)

    async def set_sip_credential(self, credential: SipCredential, actor: str, at: datetime) -> int:
        user = credential.user
        async with self._writing(f"set the SIP password of extension {user}") as conn:
            row = conn.execute("SELECT person_id FROM people WHERE extension = ?", (user,))
            holder = row.fetchone()
            if holder is None:
                raise NotFoundError(f"a person with extension {user}")
            person_id = holder[0]
            had = conn.execute("SELECT 1 FROM sip_credentials WHERE user = ?", (user,)).fetchone()
            conn.execute(tables.UPSERT_CREDENTIAL, codec.credential_row(person_id, credential, at))
            # Never the hashes (an HA1 is a password equivalent for this realm).
            detail = audit_phrases.sip_set(user, credential.sha256_only)
            change = audit_phrases.sip_set_change(had)
            version = tables.record(
                conn, at, actor, "sip_credential_set", person_id, detail, (change,)
            )
            self._emit(conn, SipCredentialChanged(version, user, credential))
        return version

    async def remove_sip_credential(self, user: str, actor: str, at: datetime) -> int:
        async with self._writing(f"remove the SIP password of extension {user}") as conn:
            row = conn.execute("SELECT person_id FROM sip_credentials WHERE user = ?", (user,))
            holder = row.fetchone()
            if holder is None:
                raise NotFoundError(f"a SIP password for extension {user}")
            conn.execute("DELETE FROM sip_credentials WHERE user = ?", (user,))
            version = tables.finish(
                conn,
                [tables.credential_dropped(at, actor, holder[0], user, tables.SIP_REMOVED)],
            )
            self._emit(conn, SipCredentialChanged(version, user, None))
        return version

    async def close(self) -> None:
        """Close the connections (the last one checkpoints the WAL); closing twice is
        harmless. Call it between writes: the writer thread is let go here."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.shutdown(wait=True)
        reader, self._read_conn = self._read_conn, None
        if reader is not None:
            reader.close()
        side, self._side = self._side, None
        if side is not None:
            side.submit(self._close_side).result()
            side.shutdown(wait=True)
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    async def _on_side_thread(self, what: str, steps: Sequence[SideStep]) -> None:
        """Writes that need no event or audit (call records, saved registrations): each
        step's statement run for each of its rows, all in one transaction on a single side
        thread with its own connection, so a disk flush never stalls the event loop; WAL
        lets the loop keep reading, and SQLite's lock (with the busy timeout) orders the
        two writers."""
        if self._conn is None:
            raise StoreError(f"{self._path}: the store is closed")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._side_executor(), self._append, what, steps)

    def _side_connection(self) -> sqlite3.Connection:
        """The side thread's own connection (made on that thread, on first use)."""
        conn = self._side_conn
        if conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            _configure(conn, self._path)
            self._side_conn = conn
        return conn

    def _side_executor(self) -> ThreadPoolExecutor:
        if self._side is None:
            self._side = ThreadPoolExecutor(1, thread_name_prefix="store-side")
        return self._side

    def _after_write(self) -> None:
        """Checkpoint the WAL on the side thread once it holds ``CHECKPOINT_BYTES``
        (SQLite's automatic checkpoint would run at about 4 MB, inside a loop's COMMIT)."""
        if self._checkpointing is not None:
            return
        try:
            size = self._wal.stat().st_size
        except OSError:
            return
        if size < CHECKPOINT_BYTES:
            return
        loop = asyncio.get_running_loop()
        self._checkpointing = loop.run_in_executor(self._side_executor(), self._checkpoint)
        self._checkpointing.add_done_callback(self._checkpointed)

    def _checkpoint(self) -> None:
        # PASSIVE: copies what no reader still needs, never waits for anyone; the next
        # write that finds the WAL large asks again.
        self._side_connection().execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _checkpointed(self, done: asyncio.Future[None]) -> None:
        self._checkpointing = None
        if not done.cancelled() and (exc := done.exception()) is not None:
            log.warning("sqlite_checkpoint_failed", path=str(self._path), error=str(exc))

    def _append(self, what: str, steps: Sequence[SideStep]) -> None:
        try:
            conn = self._side_connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement, rows in steps:
                    conn.executemany(statement, rows)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"{self._path}: cannot {what}; nothing was changed: {exc}") from exc

    def _close_side(self) -> None:
        conn, self._side_conn = self._side_conn, None
        if conn is not None:
            conn.close()

    # --- plumbing -------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self._path}: the store is closed")
        return self._conn

    @asynccontextmanager
    async def _writing(self, what: str) -> AsyncIterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: committed whole, or rolled back and StoreError.

        The write lock is waited for without holding the event loop (another process, a
        CLI import say, may hold it for seconds). The body runs on the loop (a few
        statements, in memory), or hands its heavy part to the writer thread with
        ``_apart``; the commit, where the disk flush happens (``synchronous = FULL``, which
        may wait behind a checkpoint's writes for tens of milliseconds), always runs on the
        writer thread. Writers take turns (``_write_turn``), so the connection is never used
        by two at once, and the feed's follower waits for the turn too.

        A commit that has begun is seen through even if the caller is cancelled meanwhile:
        what is on disk is then also published on this process's bus, before the
        cancellation goes on.
        """
        async with self._write_turn:
            await self._lock_for_writing(what)
            conn = self._connection()
            started = time.perf_counter()
            self._outbox.clear()
            try:
                yield conn
            except BaseException as exc:
                failure = self._rolled_back(conn, what, exc)
                if failure is exc:
                    raise
                raise failure from exc
            commit = self._on_writer(conn.execute, "COMMIT")
            cancelled = await _wait_out(commit)
            if (failed := commit.exception()) is not None:
                raise self._rolled_back(conn, what, failed) from failed
            if self.on_write is not None:
                self.on_write(time.perf_counter() - started)
            self._after_write()
            await self._publish_outbox(hurry=cancelled is not None)
            if cancelled is not None:
                raise cancelled
            # Writers that became ready together (a calendar round's feeds, a burst of
            # requests) would otherwise all write in one turn of the loop, before any timer
            # or SIP answer: hand the loop back before the next writer goes.
            await asyncio.sleep(0)

    async def _apart(self, work: Callable[[], _T]) -> _T:
        """Run a write's heavy part (``work``, using the write's connection) on the writer
        thread, inside ``_writing``: a region's import decodes, compares and writes
        100,000 rows, seconds the event loop spends answering SIP instead. Waited out
        even through a cancellation, so the connection is free when the rollback comes."""
        future = self._on_writer(work)
        cancelled = await _wait_out(future)
        if cancelled is not None:
            raise cancelled
        return future.result()

    def _on_writer(self, fn: Callable[..., _T], *args: object) -> asyncio.Future[_T]:
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="store-writer")
        context = contextvars.copy_context()  # the audit's origin of the write under way
        return asyncio.get_running_loop().run_in_executor(
            self._writer, partial(context.run, fn, *args)
        )

    def _rolled_back(
        self, conn: sqlite3.Connection, what: str, exc: BaseException
    ) -> BaseException:
        """Roll the open transaction back; the exception to raise for ``exc``."""
        self._outbox.clear()
        if conn.in_transaction:
            # A failing ROLLBACK must not hide why the transaction failed; SQLite
            # discards an unfinished transaction anyway when the connection closes.
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        if isinstance(exc, StoreError) or not isinstance(exc, Exception):
            return exc
        return StoreError(f"{self._path}: cannot {what}; nothing was changed: {exc}")

    async def _publish_outbox(self, *, hurry: bool) -> None:
        """Publish what the committed write emitted (and what others committed before it),
        ``PUBLISH_SLICE`` events per turn of the loop: an import of everyone is 100,000
        events, each applied to the live view by its listener. ``hurry`` (cancelled):
        all at once, since the change is on disk and this process's view must have it."""
        published, self._outbox = self._outbox, []
        if not published:
            return
        self._seen_seq = self._outbox_seq
        cancelled: BaseException | None = None
        for first in range(0, len(published), PUBLISH_SLICE):
            if first and not hurry and cancelled is None:
                try:
                    await asyncio.sleep(0)
                except asyncio.CancelledError as exc:
                    cancelled = exc
            for event in published[first : first + PUBLISH_SLICE]:
                self._bus.publish(event)
        if cancelled is not None:
            raise cancelled

    async def _lock_for_writing(self, what: str) -> None:
        """``BEGIN IMMEDIATE``, retried off the loop while another connection writes.

        SQLite's own busy timeout would sleep inside the call, on the event loop. The lock
        is tried without it, and on "database is locked" the coroutine sleeps (1 ms,
        doubling to 50 ms) and tries again, up to ``WRITE_LOCK_PATIENCE`` seconds.
        """
        conn = self._connection()
        deadline = time.monotonic() + WRITE_LOCK_PATIENCE
        pause = 0.001
        while True:
            conn.execute("PRAGMA busy_timeout = 0")
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode not in _BUSY or time.monotonic() >= deadline:
                    held = " another process has held the write lock too long;" * (
                        exc.sqlite_errorcode in _BUSY
                    )
                    raise StoreError(
                        f"{self._path}: cannot {what}; nothing was changed:{held} {exc}"
                    ) from exc
            except sqlite3.Error as exc:
                raise StoreError(f"{self._path}: cannot {what}: {exc}") from exc
            finally:
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)

    @contextmanager
    def _reading(self, what: str) -> Iterator[sqlite3.Connection]:
        """A read transaction on the loop's reading connection (WAL: it reads the last
        commit while the writer thread writes): every query inside sees one version."""
        conn = self._read_connection()
        try:
            conn.execute("BEGIN")
        except sqlite3.Error as exc:
            raise StoreError(f"{self._path}: cannot {what}: {exc}") from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            if isinstance(exc, StoreError) or not isinstance(exc, Exception):
                raise
            raise StoreError(f"{self._path}: cannot {what}: {exc}") from exc

    def _read_connection(self) -> sqlite3.Connection:
        self._connection()  # StoreError when closed
        if self._read_conn is None:
            try:
                conn = sqlite3.connect(
                    self._path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
                )
                conn.row_factory = sqlite3.Row
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA foreign_keys = ON")
            except sqlite3.Error as exc:
                raise StoreError(f"{self._path}: cannot open the database: {exc}") from exc
            self._read_conn = conn
        return self._read_conn

    def _emit(self, conn: sqlite3.Connection, *events: FeedEvent) -> None:
        """Append ``events`` to the change feed inside the write's transaction; they are
        published once it commits, after every change other processes committed before it,
        so this process's bus sees the feed's order."""
        if not events:
            return
        if not self._outbox:
            # Holding the write lock: nobody commits between this read and ours.
            others, _ = self._feed_after(conn, self._seen_seq, limit=None)
            self._outbox.extend(others)
        conn.executemany(feed.INSERT, [(encode_event(e),) for e in events])
        self._outbox.extend(events)
        self._outbox_seq = feed.last(conn)
        feed.prune(conn, self._outbox_seq)

    def _feed_after(
        self, conn: sqlite3.Connection, seq: int, limit: int | None
    ) -> tuple[list[FeedEvent], int]:
        """The changes after ``seq`` in order, and the last one's number; marks this store
        behind (and returns none) when some of them are no longer kept."""
        rows = feed.after(conn, seq, limit)
        if not rows:
            return [], seq
        if rows[0][0] != seq + 1 and feed.oldest(conn) > seq + 1:
            self._behind = True
            return [], seq
        return [decode_event(text) for _, text in rows], rows[-1][0]

    async def wait_for_changes(self, seconds: float) -> None:
        # Another process's commit cannot wake this one: poll. A read of the feed's newest
        # number costs microseconds, so ten a second is nothing.
        await asyncio.sleep(seconds)

    async def catch_up(self, limit: int = feed.BATCH) -> int | None:
        # In the write turn: a write publishes what others committed before it (read under
        # its lock), so following the feed meanwhile would publish those twice.
        async with self._write_turn:
            if self._behind:
                return None
            with self._reading("follow the change feed") as conn:
                found, last = self._feed_after(conn, self._seen_seq, limit)
            if self._behind:
                return None
            self._seen_seq = last
            for event in found:
                self._bus.publish(event)
            return len(found)


async def _wait_out(future: asyncio.Future[_T]) -> BaseException | None:
    """Wait until ``future`` (work on the writer thread) is done, even if this task is
    cancelled meanwhile; the cancellation, for the caller to raise once it has tidied up."""
    cancelled: BaseException | None = None
    while not future.done():
        try:
            await asyncio.wait([future])
        except asyncio.CancelledError as exc:
            cancelled = exc
    return cancelled


def _read_state(conn: sqlite3.Connection) -> StoreState:
    version = tables.current_version(conn)
    people = tuple(
        codec.person_from_row(r) for r in conn.execute("SELECT * FROM people ORDER BY person_id")
    )
    manual = {
        r["person_id"]: codec.manual_from_row(r)
        for r in conn.execute("SELECT * FROM manual_status ORDER BY person_id")
    }
    segments: dict[str, dict[str, list[CalendarSegment]]] = {}
    for r in conn.execute("SELECT * FROM calendar_segments ORDER BY person_id, source, position"):
        by_source = segments.setdefault(r["person_id"], {})
        by_source.setdefault(r["source"], []).append(codec.segment_from_row(r))
    templates: dict[str, list[Template]] = {}
    for r in conn.execute("SELECT * FROM templates ORDER BY person_id, id"):
        templates.setdefault(r["person_id"], []).append(codec.template_from_row(r))
    exceptions = tables.all_exceptions(conn)
    credentials = tables.all_credentials(conn)
    calendar = {
        person_id: {source: tuple(s) for source, s in by_source.items()}
        for person_id, by_source in segments.items()
    }
    frozen_templates = {person_id: tuple(t) for person_id, t in templates.items()}
    plans = all_plans(conn)
    return StoreState(
        version, people, manual, calendar, frozen_templates, exceptions, credentials, plans
    )


def _configure(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreError(
            f"{path}: SQLite refused write-ahead logging (journal mode stays {mode!r}); "
            "put the database on a local file system"
        )
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    if conn.execute("PRAGMA foreign_keys").fetchone()[0] != 1:
        raise StoreError(f"{path}: this SQLite build cannot enforce foreign keys")
