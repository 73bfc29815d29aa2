"""The call recorder: O(1) record, one batch per flush, retention with a fake clock, R18.

The sink is a fake obeying ``RecordSink`` (and can be told to fail like a store that is
down); the directory is a small fake with the real SML number plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from switchboard.calls.model import SECRET, CallAction, CallRecord, Direction
from switchboard.calls.recorder import (
    CAPACITY,
    RETENTION_DAYS,
    CallRecorder,
    RecordSink,
    SeenCall,
    hash_call_id,
)
from switchboard.directory.model import Person
from switchboard.directory.numbers import NumberPlan
from switchboard.store.protocol import StoreError
from tests.unit.core_fakes import SML_PLAN

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SECRET_MOBILE = "+46701740623"  # noqa: S105 - a phone number


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@dataclass
class Sink:
    batches: list[list[CallRecord]] = field(default_factory=list)
    deleted_before: list[datetime] = field(default_factory=list)
    failing: bool = False

    async def add_call_records(self, records: Sequence[CallRecord]) -> None:
        if self.failing:
            raise StoreError("the disk is full")
        self.batches.append(list(records))

    async def delete_call_records(self, before: datetime) -> int:
        self.deleted_before.append(before)
        return 0


_SINK: RecordSink = Sink()  # mypy: the fake obeys the protocol


@dataclass
class Directory:
    people_list: list[Person]

    @property
    def plan(self) -> NumberPlan:
        return SML_PLAN

    def secret_mobiles(self) -> frozenset[str]:
        return frozenset(p.mobile for p in self.people_list if p.secret_mobile and p.mobile)


FATIMA = Person(
    person_id="fatima",
    name="Fatima Haddad",
    extension="66410",
    mobile=SECRET_MOBILE,
    secret_mobile=True,
    email=None,
    organisation="sotenas",
)


def seen(n: int, other: str | None = "0701234567", **changes: object) -> SeenCall:
    values: dict[str, object] = {
        "call_id": f"call-{n}@host",
        "started_at": T0 + timedelta(seconds=n),
        "ended_at": T0 + timedelta(seconds=n + 1),
        "direction": Direction.IN,
        "person_id": "anna",
        "other": other,
        "action": CallAction.REDIRECT,
        "outcome": 302,
    }
    values.update(changes)
    return SeenCall(**values)  # type: ignore[arg-type]


def recorder(
    sink: Sink, clock: Clock, *, retention_days: int = RETENTION_DAYS, capacity: int = CAPACITY
) -> CallRecorder:
    return CallRecorder(
        sink, Directory([FATIMA]), clock, retention_days=retention_days, capacity=capacity
    )


async def test_record_buffers_and_flush_writes_one_batch() -> None:
    sink, clock = Sink(), Clock(T0)
    rec = recorder(sink, clock)
    for n in range(5):
        rec.record(seen(n))
    assert rec.pending == 5
    assert sink.batches == []
    assert await rec.flush() == 5
    assert len(sink.batches) == 1
    assert rec.pending == 0
    first = sink.batches[0][0]
    assert first.call_id_hash == hash_call_id("call-0@host") != "call-0@host"
    assert first.other_party == "+46701234567"  # E.164
    assert [r.started_at for r in sink.batches[0]] == [T0 + timedelta(seconds=n) for n in range(5)]
    assert await rec.flush() == 0
    assert len(sink.batches) == 1


@pytest.mark.parametrize(
    ("other", "stored"),
    [
        (SECRET_MOBILE, SECRET),
        ("0701740623", SECRET),
        ("0046701740623", SECRET),
        ("64123", "+46523664123"),
        ("anonymous", None),
        (None, None),
    ],
    ids=["secret-e164", "secret-national", "secret-00", "extension", "not-a-number", "none"],
)
async def test_other_party_is_e164_and_never_a_secret_mobile(
    other: str | None, stored: str | None
) -> None:
    sink = Sink()
    rec = recorder(sink, Clock(T0))
    rec.record(seen(1, other))
    await rec.flush()
    assert sink.batches[0][0].other_party == stored


async def test_a_failed_write_keeps_the_calls_in_order_for_the_next_flush() -> None:
    sink, clock = Sink(failing=True), Clock(T0)
    rec = recorder(sink, clock)
    rec.record(seen(1))
    with pytest.raises(StoreError):
        await rec.flush()
    rec.record(seen(2))
    sink.failing = False
    assert await rec.flush() == 2
    assert [r.call_id_hash for r in sink.batches[0]] == [
        hash_call_id("call-1@host"),
        hash_call_id("call-2@host"),
    ]


async def test_over_capacity_the_oldest_calls_are_dropped() -> None:
    sink = Sink()
    rec = recorder(sink, Clock(T0), capacity=3)
    for n in range(5):
        rec.record(seen(n))
    await rec.flush()
    assert [r.started_at.second for r in sink.batches[0]] == [2, 3, 4]


async def test_retention_purges_once_a_day_with_the_configured_days() -> None:
    sink, clock = Sink(), Clock(T0)
    rec = recorder(sink, clock, retention_days=30)
    await rec.tick()
    assert sink.deleted_before == [T0 - timedelta(days=30)]
    clock.at += timedelta(hours=23)
    await rec.tick()
    assert len(sink.deleted_before) == 1  # not yet a day
    clock.at += timedelta(hours=1)
    await rec.tick()
    assert sink.deleted_before[-1] == clock.at - timedelta(days=30)


def test_retention_must_be_at_least_a_day() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        CallRecorder(Sink(), Directory([]), Clock(T0), retention_days=0)


async def test_run_flushes_every_period_and_the_rest_when_cancelled() -> None:
    """The loop's sleep is injected, so the test steps it instead of waiting a second."""
    import asyncio

    sink, clock = Sink(), Clock(T0)
    rec = recorder(sink, clock)
    ticks: asyncio.Queue[None] = asyncio.Queue()
    go = asyncio.Event()

    async def sleep(seconds: float) -> None:
        assert seconds == 1.0
        ticks.put_nowait(None)
        await go.wait()
        go.clear()

    async with asyncio.TaskGroup() as group:
        task = group.create_task(rec.run(sleep))
        await ticks.get()  # first round done (nothing buffered)
        rec.record(seen(1))
        go.set()
        await ticks.get()  # second round flushed the call
        assert [len(b) for b in sink.batches] == [1]
        rec.record(seen(2))  # buffered when the process stops
        task.cancel()
    assert [len(b) for b in sink.batches] == [1, 1]
    assert rec.pending == 0


async def test_a_batch_reads_each_other_party_once_and_masks_every_call() -> None:
    """The number memo lives for one batch: repeated callers all come out right, secret or not."""
    sink = Sink()
    rec = recorder(sink, Clock(T0))
    others = ["0701234567", "0701740623", "anonymous", None] * 3
    for n, other in enumerate(others):
        rec.record(seen(n, other))
    await rec.flush()
    stored = {"0701234567": "+46701234567", "0701740623": SECRET, "anonymous": None, None: None}
    assert [r.other_party for r in sink.batches[0]] == [stored[o] for o in others]


async def test_a_mobile_made_secret_is_masked_from_the_next_flush_on() -> None:
    """R18 holds at once: nothing read for one batch is reused by the next."""
    sink = Sink()
    directory = Directory([])
    rec = CallRecorder(sink, directory, Clock(T0))
    rec.record(seen(1, "0701740623"))
    await rec.flush()
    directory.people_list.append(FATIMA)
    rec.record(seen(2, "0701740623"))
    await rec.flush()
    assert [b[0].other_party for b in sink.batches] == [SECRET_MOBILE, SECRET]
