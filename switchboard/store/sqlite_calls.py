"""The ``CallStore`` half of the SQLite store: call records and call-list requests (R19).

A mixin of ``SqliteStore`` like ``sqlite_accounts``: same connection, same ``BEGIN
IMMEDIATE`` transactions, same audit trail; no version bump and no event (no node holds
call records in memory). Call records are never audited one by one; every call-list step
is, with the employee's person_id as subject and numbers masked in the detail (R18).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime

from switchboard.calls.model import (
    CallAction,
    CallListRequest,
    CallRecord,
    Direction,
    RequestStatus,
)
from switchboard.store import audit_phrases, audit_words, codec, tables
from switchboard.store.audit import ChangeWords, Words
from switchboard.store.protocol import CallListStateError, NotFoundError, StoreError
from switchboard.store.sqlite_part import SqlitePart

INSERT_RECORD = (
    "INSERT INTO call_records (call_id_hash, started_at, ended_at, direction, person_id, "
    "other_party, action, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_REQUEST = (
    "INSERT INTO call_list_requests (person_id, requester_id, requester, period_start, "
    "period_end, reason, created_at, status, downloads_left) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)"
)


_TEXT: dict[Direction | CallAction, str] = {m: m.value for m in (*Direction, *CallAction)}
"""The stored text of each member: a dict lookup is several times cheaper than ``.value``
(a property), which counts at thousands of records a second."""


def record_row(r: CallRecord, iso: Callable[[datetime], str] = codec.iso) -> tuple[object, ...]:
    """Values in ``INSERT_RECORD`` order; ``iso`` is ``codec.iso`` or a batch's faster one."""
    ended = r.ended_at
    return (
        r.call_id_hash,
        iso(r.started_at),
        None if ended is None else iso(ended),
        _TEXT[r.direction],
        r.person_id,
        r.other_party,
        _TEXT[r.action],
        r.outcome,
    )


def record_rows(records: Iterable[CallRecord]) -> Iterator[tuple[object, ...]]:
    """The rows of one batch, made as SQLite takes them. A second's thousands of calls
    share their instants up to the second, so one ``codec.iso_batch`` serves the batch."""
    iso = codec.iso_batch()
    return (record_row(r, iso) for r in records)


def record_from_row(r: codec.Fields) -> CallRecord:
    return CallRecord(
        call_id_hash=r["call_id_hash"],
        started_at=codec.instant(r["started_at"]),
        ended_at=codec.instant_or_none(r["ended_at"]),
        direction=Direction(r["direction"]),
        person_id=r["person_id"],
        other_party=r["other_party"],
        action=CallAction(r["action"]),
        outcome=int(r["outcome"]),
    )


def request_from_row(r: codec.Fields) -> CallListRequest:
    return CallListRequest(
        request_id=int(r["request_id"]),
        person_id=r["person_id"],
        requester_id=r["requester_id"],
        requester=r["requester"],
        start=codec.instant(r["period_start"]),
        end=codec.instant(r["period_end"]),
        reason=r["reason"],
        created_at=codec.instant(r["created_at"]),
        status=RequestStatus(r["status"]),
        decided_by=r["decided_by"],
        decided_at=codec.instant_or_none(r["decided_at"]),
        comment=r["comment"],
        expires_at=codec.instant_or_none(r["expires_at"]),
        downloads_left=int(r["downloads_left"]),
    )


class SqliteCalls(SqlitePart):
    """Mixed into ``SqliteStore``, which provides the two transaction helpers."""

    # -- call records ----------------------------------------------------------------------
    async def add_call_records(self, records: Sequence[CallRecord]) -> None:
        """Appended on the store's side thread, on its own connection: a second's worth of
        calls is a synchronous fsync'd transaction of tens of milliseconds, which on the
        event loop would stall every SIP answer queued behind it (the p99)."""
        if not records:
            return
        rows = record_rows(records)  # made on the side thread, as it writes
        await self._on_side_thread(f"write {len(records)} call record(s)", [(INSERT_RECORD, rows)])

    async def delete_call_records(self, before: datetime) -> int:
        async with self._writing("delete old call records") as conn:
            cursor = conn.execute(
                "DELETE FROM call_records WHERE started_at < ?", (codec.iso(before),)
            )
            return cursor.rowcount

    # -- call-list requests ----------------------------------------------------------------
    async def create_call_list_request(self, request: CallListRequest) -> CallListRequest:
        async with self._writing("store a call-list request") as conn:
            cursor = conn.execute(
                INSERT_REQUEST,
                (
                    request.person_id,
                    request.requester_id,
                    request.requester,
                    codec.iso(request.start),
                    codec.iso(request.end),
                    request.reason,
                    codec.iso(request.created_at),
                    RequestStatus.PENDING.value,
                ),
            )
            request_id = cursor.lastrowid
            if request_id is None:  # pragma: no cover - an INSERT always sets it
                raise StoreError("the call-list request got no id")
            stored = self._require_request(conn, request_id)
            detail = audit_phrases.call_list_requested(
                request_id, stored.start, stored.end, stored.reason
            )
            self._audit_call(
                conn,
                stored.created_at,
                stored.requester,
                "call_list_requested",
                stored.person_id,
                detail,
                (audit_phrases.call_list_change(request_id, None, RequestStatus.PENDING),),
            )
            return stored

    async def call_list_request(self, request_id: int) -> CallListRequest | None:
        with self._reading("read a call-list request") as conn:
            row = conn.execute(
                "SELECT * FROM call_list_requests WHERE request_id = ?", (request_id,)
            ).fetchone()
            return None if row is None else request_from_row(row)

    async def call_list_requests(self, requester_id: str | None = None) -> list[CallListRequest]:
        with self._reading("read the call-list requests") as conn:
            if requester_id is None:
                rows = conn.execute("SELECT * FROM call_list_requests ORDER BY request_id DESC")
            else:
                rows = conn.execute(
                    "SELECT * FROM call_list_requests WHERE requester_id = ? "
                    "ORDER BY request_id DESC",
                    (requester_id,),
                )
            return [request_from_row(r) for r in rows]

    async def decide_call_list_request(
        self,
        request_id: int,
        approve: bool,
        actor: str,
        comment: str,
        at: datetime,
        *,
        expires_at: datetime,
        downloads: int,
    ) -> CallListRequest:
        verb = "approve" if approve else "reject"
        async with self._writing(f"{verb} call-list request #{request_id}") as conn:
            old = self._require_request(conn, request_id)
            if old.status is not RequestStatus.PENDING:
                raise CallListStateError(
                    f"call-list request #{request_id} was {old.status.value} already "
                    f"by {old.decided_by}; a decision is final"
                )
            status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
            conn.execute(
                "UPDATE call_list_requests SET status = ?, decided_by = ?, decided_at = ?, "
                "comment = ?, expires_at = ?, downloads_left = ? WHERE request_id = ?",
                (
                    status.value,
                    actor,
                    codec.iso(at),
                    comment,
                    codec.iso(expires_at) if approve else None,
                    downloads if approve else 0,
                    request_id,
                ),
            )
            detail = audit_phrases.call_list_decided(request_id, status, comment)
            change = audit_phrases.call_list_change(request_id, old.status, status)
            self._audit_call(
                conn, at, actor, f"call_list_{status.value}", old.person_id, detail, (change,)
            )
            return self._require_request(conn, request_id)

    async def release_call_list(
        self, request_id: int, requester_id: str, actor: str, at: datetime
    ) -> tuple[CallListRequest, list[CallRecord]]:
        async with self._writing(f"release call list #{request_id}") as conn:
            request = self._require_request(conn, request_id)
            if request.requester_id != requester_id:
                raise CallListStateError(
                    f"call list #{request_id} is released only to the manager who asked"
                )
            if not request.downloadable(at):
                raise CallListStateError(why_not(request, at))
            conn.execute(
                "UPDATE call_list_requests SET downloads_left = downloads_left - 1 "
                "WHERE request_id = ?",
                (request_id,),
            )
            rows = conn.execute(
                "SELECT * FROM call_records WHERE person_id = ? AND started_at >= ? "
                "AND started_at < ? ORDER BY started_at, id",
                (request.person_id, codec.iso(request.start), codec.iso(request.end)),
            )
            records = [record_from_row(r) for r in rows]
            left = request.downloads_left - 1
            detail = audit_phrases.call_list_downloaded(
                request_id, len(records), request.start, request.end, left
            )
            change = audit_words.changed("downloads_left", str(request.downloads_left), str(left))
            self._audit_call(
                conn, at, actor, "call_list_downloaded", request.person_id, detail, (change,)
            )
            return self._require_request(conn, request_id), records

    # -- plumbing --------------------------------------------------------------------------
    @staticmethod
    def _require_request(conn: sqlite3.Connection, request_id: int) -> CallListRequest:
        row = conn.execute(
            "SELECT * FROM call_list_requests WHERE request_id = ?", (request_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"call-list request #{request_id}")
        return request_from_row(row)

    @staticmethod
    def _audit_call(
        conn: sqlite3.Connection,
        at: datetime,
        actor: str,
        action: str,
        subject: str,
        detail: Words,
        changes: Sequence[ChangeWords],
    ) -> None:
        conn.execute(tables.INSERT_AUDIT, tables.entry(at, actor, action, subject, detail, changes))


def why_not(request: CallListRequest, at: datetime) -> str:
    name = f"call list #{request.request_id}"
    if request.status is RequestStatus.PENDING:
        return f"{name} is not approved yet; an administrator decides first"
    if request.status is RequestStatus.REJECTED:
        return f"{name} was rejected: {request.comment}"
    if request.expires_at is not None and at >= request.expires_at:
        return f"{name} expired at {request.expires_at.isoformat()}; ask again"
    return f"{name} was downloaded as often as allowed; ask again"
