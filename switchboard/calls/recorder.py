"""The call recorder: the SIP edge hands it one call at a time; a task writes them in batches.

Why a buffer: the SIP edge answers thousands of calls a second on one event loop, and a
SQLite commit with ``synchronous=FULL`` costs a disk flush. ``record`` only appends a small
value to a bounded deque (O(1), never blocks, never raises); ``run`` (a task owned by the
app's TaskGroup) writes everything buffered once a second in one transaction, and once a
day deletes records older than the retention (default 90 days, R19: kept only as long as a
manager may ask).

What is done at flush time, off the call path: hashing the Call-ID, turning the other
party's number into E.164, and replacing a secret mobile of ours by ``SECRET`` (R18), so
a secret number is never written anywhere.

Durability: a crash (``kill -9``) loses what was buffered since the last flush, at most
about one second of calls. A clean stop (SIGTERM) flushes the rest. A buffer that cannot
be written (store down) is kept and retried; past ``capacity`` the oldest calls are dropped
and counted in the log (records must never take the switchboard down).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from switchboard.calls.model import SECRET, CallAction, CallRecord, Direction
from switchboard.clock import Clock
from switchboard.directory.numbers import NumberPlan
from switchboard.routing.values import quick_init
from switchboard.store.periodic import Sleep, flush_periodically
from switchboard.store.protocol import StoreError

log = structlog.get_logger("switchboard.calls")

FLUSH_SECONDS = 1.0
RETENTION_DAYS = 90
CAPACITY = 100_000
PURGE_EVERY = timedelta(days=1)


class RecordSink(Protocol):
    """The two store methods the recorder uses (``switchboard.store.protocol.CallStore``)."""

    async def add_call_records(self, records: Sequence[CallRecord]) -> None: ...

    async def delete_call_records(self, before: datetime) -> int: ...


class Directory(Protocol):
    """What the recorder needs of the live view: the number plan and who has a secret
    mobile (R18), read at flush time so a change to the directory holds at once."""

    @property
    def plan(self) -> NumberPlan: ...

    def secret_mobiles(self) -> frozenset[str]:
        """Every secret mobile, E.164 (the view keeps the set per directory state)."""
        ...


def secret_numbers(directory: Directory) -> frozenset[str]:
    return directory.secret_mobiles()


@quick_init
@dataclass(frozen=True, slots=True)
class SeenCall:
    """A call as the SIP edge saw it, before the flush makes a ``CallRecord`` of it."""

    call_id: str
    started_at: datetime
    ended_at: datetime | None
    direction: Direction
    person_id: str
    other: str | None
    """The other party's number as it came in the SIP message (any dialled form)."""
    action: CallAction
    outcome: int


def hash_call_id(call_id: str) -> str:
    return hashlib.sha256(call_id.encode("utf-8", "surrogatepass")).hexdigest()


def _convert(
    taken: Sequence[SeenCall], plan: NumberPlan, secrets: frozenset[str]
) -> list[CallRecord]:
    """A batch's records. The other parties of a second's calls are few (the same callers,
    "anonymous", SIP user names), so each is read once per batch and then looked up."""
    stored = functools.cache(functools.partial(stored_other, plan=plan, secrets=secrets))
    return [to_record(seen, stored) for seen in taken]


def stored_other(raw: str, plan: NumberPlan, secrets: frozenset[str]) -> str | None:
    """The other party as stored: E.164 or None, never a secret mobile of ours (R18)."""
    other = plan.e164_or_none(raw)
    return SECRET if other is not None and other in secrets else other


def to_record(seen: SeenCall, stored: Callable[[str], str | None]) -> CallRecord:
    """The stored form: hashed Call-ID, and the other party as ``stored`` makes it."""
    return CallRecord(
        hash_call_id(seen.call_id),
        seen.started_at,
        seen.ended_at,
        seen.direction,
        seen.person_id,
        stored(seen.other) if seen.other else None,
        seen.action,
        seen.outcome,
    )


class CallRecorder:
    def __init__(
        self,
        sink: RecordSink,
        directory: Directory,
        clock: Clock,
        *,
        retention_days: int = RETENTION_DAYS,
        capacity: int = CAPACITY,
        flush_seconds: float = FLUSH_SECONDS,
        on_call: Callable[[SeenCall], None] | None = None,
    ) -> None:
        """``on_call`` hears of each call as it is recorded (the metrics count it)."""
        self._on_call = on_call
        if retention_days < 1:
            raise ValueError("call records must be kept at least one day")
        self._sink = sink
        self._directory = directory
        self._clock = clock
        self.retention = timedelta(days=retention_days)
        self.flush_seconds = flush_seconds
        self._buffer: deque[SeenCall] = deque(maxlen=capacity)
        self._capacity = capacity
        self._dropped = 0
        self._purged_at: datetime | None = None
        self.written = 0

    def record(self, seen: SeenCall) -> None:
        """Called by the SIP edge once per call: appends, nothing else (O(1), never blocks)."""
        if len(self._buffer) == self._capacity:
            self._dropped += 1  # the deque drops the oldest
        self._buffer.append(seen)
        if self._on_call is not None:
            self._on_call(seen)

    @property
    def pending(self) -> int:
        return len(self._buffer)

    async def flush(self) -> int:
        """Write everything buffered in one transaction; returns how many were written.

        On a store error the calls stay buffered (in order, ahead of newer ones) and the
        error propagates to ``run``, which logs it and tries again next second.
        """
        if self._dropped:
            log.warning("call_records_dropped", count=self._dropped, capacity=self._capacity)
            self._dropped = 0
        if not self._buffer:
            return 0
        taken = list(self._buffer)
        self._buffer.clear()
        plan = self._directory.plan
        secrets = secret_numbers(self._directory)
        # Converting a busy second's calls takes milliseconds: off the event loop, which
        # meanwhile answers SIP instead of stalling every answer queued behind it.
        records = await asyncio.to_thread(_convert, taken, plan, secrets)
        try:
            await self._sink.add_call_records(records)
        except BaseException:
            # Put them back ahead of anything recorded meanwhile; over capacity, the
            # oldest go first, as in ``record``.
            kept: deque[SeenCall] = deque(taken, maxlen=self._capacity)
            kept.extend(self._buffer)
            self._buffer = kept
            raise
        self.written += len(records)
        return len(records)

    async def purge(self) -> int:
        """Delete records older than the retention (R19: not kept longer than needed)."""
        now = self._clock.now()
        deleted = await self._sink.delete_call_records(now - self.retention)
        self._purged_at = now
        if deleted:
            log.info("call_records_purged", count=deleted, days=self.retention.days)
        return deleted

    async def tick(self) -> None:
        """One round of ``run``: flush, and purge when a day has passed since the last."""
        await self.flush()
        now = self._clock.now()
        if self._purged_at is None or now - self._purged_at >= PURGE_EVERY:
            await self.purge()

    async def run(self, sleep: Sleep | None = None) -> None:
        """Flush every second until cancelled; a clean stop flushes what is left."""
        await flush_periodically(
            self.tick, self.flush_seconds, last=self.flush, failed=self._failed, sleep=sleep
        )

    def _failed(self, exc: StoreError, stopping: bool) -> None:
        event = "call_records_lost_at_stop" if stopping else "call_records_not_written"
        log.error(event, pending=self.pending, error=str(exc))
