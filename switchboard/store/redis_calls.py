"""Call records and call-list requests in Redis (R19): the ``CallStore`` part of
``RedisStore``, with the rules of ``sqlite_calls`` (whose codecs and words it shares).

Records are a hash by a number Redis hands out (``INCRBY``), with two sorted sets scored by
the start in microseconds: all records (what retention deletes by age) and each person's
(what a download ranges over). Equal starts are ordered by member, the zero-padded number,
so a download comes oldest first and, within an instant, in the order recorded: as
SQLite's ``ORDER BY started_at, id``. A batch is one ``MULTI``; retention deletes in chunks,
each atomic. Requests are a hash by id; every step is audited with the employee's
person_id as subject.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from switchboard.calls.model import CallListRequest, CallRecord, RequestStatus
from switchboard.store import audit_phrases, audit_words, codec, tables
from switchboard.store.protocol import CallListStateError, NotFoundError
from switchboard.store.redis_base import RedisBase
from switchboard.store.redis_keys import encode, load, micros, ordinal
from switchboard.store.redis_tx import Tx
from switchboard.store.sqlite_calls import (
    record_from_row,
    record_rows,
    request_from_row,
    why_not,
)

RECORD_COLUMNS = (
    "call_id_hash",
    "started_at",
    "ended_at",
    "direction",
    "person_id",
    "other_party",
    "action",
    "outcome",
)
"""The order of ``sqlite_calls.record_row``'s values."""
REQUEST_COLUMNS = (
    "request_id",
    "person_id",
    "requester_id",
    "requester",
    "period_start",
    "period_end",
    "reason",
    "created_at",
    "status",
    "decided_by",
    "decided_at",
    "comment",
    "expires_at",
    "downloads_left",
)
CHUNK = 1000
"""Old records deleted per transaction."""

Batch = list[tuple[str, int, str, str]]
"""(person_id, start in microseconds, record as JSON, the record's member) per record,
numbered from a given first id."""


def _encode(records: Sequence[CallRecord], first: int) -> Batch:
    rows = record_rows(records)
    return [
        (r.person_id, micros(r.started_at), encode(RECORD_COLUMNS, row), ordinal(first + i))
        for i, (r, row) in enumerate(zip(records, rows, strict=True))
    ]


def _request_json(r: CallListRequest) -> str:
    row = (
        r.request_id,
        r.person_id,
        r.requester_id,
        r.requester,
        codec.iso(r.start),
        codec.iso(r.end),
        r.reason,
        codec.iso(r.created_at),
        r.status.value,
        r.decided_by,
        codec.iso_or_none(r.decided_at),
        r.comment,
        codec.iso_or_none(r.expires_at),
        r.downloads_left,
    )
    return encode(REQUEST_COLUMNS, row)


class RedisCalls(RedisBase):
    # -- call records ----------------------------------------------------------------------
    async def add_call_records(self, records: Sequence[CallRecord]) -> None:
        """One ``MULTI`` for the batch. Encoding a busy second's thousands of records takes
        milliseconds, so it happens on a worker thread, as SQLite writes on one."""
        if not records:
            return
        k = self._keys
        what = f"write {len(records)} call record(s)"
        last = int(await self._call(what, "INCRBY", k.calls_seq, len(records)))
        batch = await asyncio.to_thread(_encode, records, last - len(records) + 1)

        async def body(tx: Tx) -> None:
            fields: list[object] = []
            started: list[object] = []
            by_person: dict[str, list[object]] = defaultdict(list)
            for person_id, score, text, member in batch:
                fields += [member, text]
                started += [score, member]
                by_person[person_id] += [score, member]
            tx.write("HSET", k.calls, *fields)
            tx.write("ZADD", k.calls_by_time, *started)
            for person_id, scored in by_person.items():
                tx.write("ZADD", k.person_calls(person_id), *scored)

        await self._write(what, body, audited=False)

    async def delete_call_records(self, before: datetime) -> int:
        k = self._keys
        end = f"({micros(before)}"

        async def body(tx: Tx) -> int:
            members = await tx.read(
                "ZRANGEBYSCORE", k.calls_by_time, "-inf", end, "LIMIT", 0, CHUNK
            )
            if not members:
                return 0
            texts = await tx.read("HMGET", k.calls, *members)
            by_person: dict[str, list[str]] = defaultdict(list)
            for member, text in zip(members, texts, strict=True):
                if text is not None:
                    by_person[str(load(text, "call record")["person_id"])].append(member)
            tx.write("HDEL", k.calls, *members)
            tx.write("ZREM", k.calls_by_time, *members)
            for person_id, gone in by_person.items():
                tx.write("ZREM", k.person_calls(person_id), *gone)
            return len(members)

        deleted = 0
        while True:
            count = await self._write(
                "delete old call records", body, watch=[k.calls_by_time], audited=False
            )
            deleted += count
            if count < CHUNK:
                return deleted

    # -- call-list requests ----------------------------------------------------------------
    async def create_call_list_request(self, request: CallListRequest) -> CallListRequest:
        k = self._keys

        async def body(tx: Tx) -> CallListRequest:
            request_id = int(await tx.read("GET", k.requests_seq) or 0) + 1
            stored = replace(
                request,
                request_id=request_id,
                status=RequestStatus.PENDING,
                decided_by=None,
                decided_at=None,
                comment=None,
                expires_at=None,
                downloads_left=0,
            )
            tx.write("SET", k.requests_seq, request_id)
            tx.write("HSET", k.requests, request_id, _request_json(stored))
            detail = audit_phrases.call_list_requested(
                request_id, stored.start, stored.end, stored.reason
            )
            change = audit_phrases.call_list_change(request_id, None, RequestStatus.PENDING)
            tx.audit(
                tables.entry(
                    stored.created_at,
                    stored.requester,
                    "call_list_requested",
                    stored.person_id,
                    detail,
                    (change,),
                )
            )
            return _as_stored(stored)

        what = "store a call-list request"
        return await self._write(what, body, watch=[k.requests_seq, k.requests])

    async def call_list_request(self, request_id: int) -> CallListRequest | None:
        what = "read a call-list request"
        text = await self._call(what, "HGET", self._keys.requests, request_id)
        return None if text is None else request_from_row(load(text, "call-list request"))

    async def call_list_requests(self, requester_id: str | None = None) -> list[CallListRequest]:
        stored = await self._call("read the call-list requests", "HVALS", self._keys.requests)
        found = [request_from_row(load(text, "call-list request")) for text in stored]
        if requester_id is not None:
            found = [r for r in found if r.requester_id == requester_id]
        return sorted(found, key=lambda r: r.request_id, reverse=True)

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
        async def body(tx: Tx) -> CallListRequest:
            old = await self._require_request(tx, request_id)
            if old.status is not RequestStatus.PENDING:
                raise CallListStateError(
                    f"call-list request #{request_id} was {old.status.value} already "
                    f"by {old.decided_by}; a decision is final"
                )
            status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
            new = replace(
                old,
                status=status,
                decided_by=actor,
                decided_at=at,
                comment=comment,
                expires_at=expires_at if approve else None,
                downloads_left=downloads if approve else 0,
            )
            tx.write("HSET", self._keys.requests, request_id, _request_json(new))
            detail = audit_phrases.call_list_decided(request_id, status, comment)
            change = audit_phrases.call_list_change(request_id, old.status, status)
            action = f"call_list_{status.value}"
            tx.audit(tables.entry(at, actor, action, old.person_id, detail, (change,)))
            return _as_stored(new)

        verb = "approve" if approve else "reject"
        what = f"{verb} call-list request #{request_id}"
        return await self._write(what, body, watch=[self._keys.requests])

    async def release_call_list(
        self, request_id: int, requester_id: str, actor: str, at: datetime
    ) -> tuple[CallListRequest, list[CallRecord]]:
        k = self._keys

        async def body(tx: Tx) -> tuple[CallListRequest, list[CallRecord]]:
            request = await self._require_request(tx, request_id)
            if request.requester_id != requester_id:
                raise CallListStateError(
                    f"call list #{request_id} is released only to the manager who asked"
                )
            if not request.downloadable(at):
                raise CallListStateError(why_not(request, at))
            index = k.person_calls(request.person_id)
            await tx.watch(index)
            start, end = micros(request.start), f"({micros(request.end)}"
            members = await tx.read("ZRANGEBYSCORE", index, start, end)
            texts = await tx.read("HMGET", k.calls, *members) if members else []
            records = [record_from_row(load(t, "call record")) for t in texts if t is not None]
            left = request.downloads_left - 1
            counted = replace(request, downloads_left=left)
            tx.write("HSET", k.requests, request_id, _request_json(counted))
            detail = audit_phrases.call_list_downloaded(
                request_id, len(records), request.start, request.end, left
            )
            change = audit_words.changed("downloads_left", str(request.downloads_left), str(left))
            action = "call_list_downloaded"
            tx.audit(tables.entry(at, actor, action, request.person_id, detail, (change,)))
            return _as_stored(counted), records

        what = f"release call list #{request_id}"
        return await self._write(what, body, watch=[k.requests])

    # -- plumbing --------------------------------------------------------------------------
    async def _require_request(self, tx: Tx, request_id: int) -> CallListRequest:
        text = await tx.read("HGET", self._keys.requests, request_id)
        if text is None:
            raise NotFoundError(f"call-list request #{request_id}")
        return request_from_row(load(text, "call-list request"))


def _as_stored(request: CallListRequest) -> CallListRequest:
    """The request as it reads back once stored (instants in UTC, as SQLite's are)."""
    return request_from_row(load(_request_json(request), "call-list request"))
