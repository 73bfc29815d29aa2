"""The rows of a batch of call records are byte for byte what the plain formulas make.

``codec.iso_batch`` and ``record_rows`` exist only to be faster (a second's thousands of
calls are written on the store's side thread); what is stored must not change. So the
properties compare them with ``codec.iso`` and with the row as first written: ISO 8601 in
UTC with ``+00:00``, the fraction left out when it is zero, enum members as their text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.calls.model import CallAction, CallRecord, Direction
from switchboard.store import codec
from switchboard.store.protocol import StoreError
from switchboard.store.sqlite_calls import record_row, record_rows

ZONES = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=2)),
        timezone(timedelta(hours=-5, minutes=-30)),
        ZoneInfo("UTC"),
        ZoneInfo("Europe/Stockholm"),
    ]
)
# Hypothesis bounds are naive wall times; a year of margin at both ends keeps the
# conversion to UTC inside datetime's range.
INSTANTS = st.datetimes(
    min_value=datetime(2, 1, 1),  # noqa: DTZ001
    max_value=datetime(9998, 12, 31),  # noqa: DTZ001
    timezones=ZONES,
)
CLOSE = st.builds(
    lambda start, steps: [start + timedelta(microseconds=s) for s in steps],
    INSTANTS,
    st.lists(st.integers(0, 3_000_000), max_size=30),
)
"""Instants within three seconds of each other, as in one flush: many share a second."""


def committed_row(r: CallRecord) -> tuple[object, ...]:
    """The row as the store first wrote it, spelled out, for comparison."""
    return (
        r.call_id_hash,
        codec.iso(r.started_at),
        codec.iso_or_none(r.ended_at),
        r.direction.value,
        r.person_id,
        r.other_party,
        r.action.value,
        r.outcome,
    )


@settings(max_examples=300, deadline=None)
@given(values=st.lists(INSTANTS, max_size=20) | CLOSE)
def test_iso_batch_is_iso_for_any_aware_instant(values: list[datetime]) -> None:
    text = codec.iso_batch()
    assert [text(v) for v in values] == [codec.iso(v) for v in values]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "2026-11-23T09:00:00+00:00"),
        (datetime(2026, 11, 23, 9, 0, 0, 7, tzinfo=UTC), "2026-11-23T09:00:00.000007+00:00"),
        (datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC), "0999-01-02T03:04:05+00:00"),
        (
            datetime(2026, 6, 1, 11, 0, 0, 500000, tzinfo=ZoneInfo("Europe/Stockholm")),
            "2026-06-01T09:00:00.500000+00:00",
        ),
    ],
    ids=["whole-second", "microseconds", "year-999", "stockholm-summer"],
)
def test_iso_batch_writes_the_stored_format(value: datetime, expected: str) -> None:
    text = codec.iso_batch()
    assert text(value) == expected
    assert text(value) == expected  # the second time from the per-second memo


def test_iso_batch_refuses_a_naive_time_as_iso_does() -> None:
    with pytest.raises(StoreError, match="no time zone"):
        codec.iso_batch()(datetime(2026, 11, 23, 9, 0))  # noqa: DTZ001 - naive on purpose


RECORDS = st.builds(
    CallRecord,
    call_id_hash=st.text(max_size=64),
    started_at=INSTANTS,
    ended_at=st.none() | INSTANTS,
    direction=st.sampled_from(Direction),
    person_id=st.text(max_size=10),
    other_party=st.none() | st.text(max_size=16),
    action=st.sampled_from(CallAction),
    outcome=st.integers(100, 699),
)


@settings(max_examples=200, deadline=None)
@given(records=st.lists(RECORDS, max_size=20))
def test_a_batch_has_the_rows_the_store_first_wrote(records: list[CallRecord]) -> None:
    expected = [committed_row(r) for r in records]
    assert list(record_rows(records)) == expected
    assert [record_row(r) for r in records] == expected
