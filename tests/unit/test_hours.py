"""Working hours (R8): the written form, and when working time runs, across DST and weekends."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.directory.hours import HoursError, Interval, WorkingHours
from tests.unit.core_fakes import DEFAULT_HOURS, NO_FIXED_HOURS, OSLO, STOCKHOLM, at

PARSED = [
    ("english", "mon-fri 08:00-16:30", "mon-fri 08:00-16:30"),
    ("english-full-names", "Monday-Friday 08:00-16:30", "mon-fri 08:00-16:30"),
    ("swedish-capitalised-unpadded", "Mån-Fre 8:00-16:30", "mon-fri 08:00-16:30"),
    ("swedish-full-names", "måndag-fredag 07:30-16:00", "mon-fri 07:30-16:00"),
    ("swedish-weekend", "lör-sön 10:00-14:00", "sat-sun 10:00-14:00"),
    ("swedish-thursday", "tors 07:00-08:00", "thu 07:00-08:00"),
    ("norwegian", "man-fre 08:00-15:45", "mon-fri 08:00-15:45"),
    ("norwegian-weekend-plus", "lør+søn 10:00-14:00", "sat-sun 10:00-14:00"),
    ("norwegian-full-names", "mandag-torsdag 08:00-16:00", "mon-thu 08:00-16:00"),
    (
        "two-groups-comma",
        "mon-thu 08:00-16:30, fri 08:00-15:00",
        "mon-thu 08:00-16:30, fri 08:00-15:00",
    ),
    (
        "two-groups-semicolon-mixed-languages",
        "måndag-torsdag 08:00-16:00; fredag 08:00-14:00",
        "mon-thu 08:00-16:00, fri 08:00-14:00",
    ),
    ("days-joined-with-plus", "tis+tor 09:00-12:00", "tue 09:00-12:00, thu 09:00-12:00"),
    (
        "two-intervals-a-day",
        "mon-fri 13:00-17:00, Monday-Friday 08:00-12:00",
        "mon-fri 08:00-12:00, mon-fri 13:00-17:00",
    ),
    (
        "back-to-back-intervals",
        "mon 08:00-12:00, mon 12:00-13:00",
        "mon 08:00-12:00, mon 12:00-13:00",
    ),
    ("trailing-separator", "mon-fri 08:00-16:30;", "mon-fri 08:00-16:30"),
]


@pytest.mark.parametrize(
    ("text", "canonical"), [row[1:] for row in PARSED], ids=[row[0] for row in PARSED]
)
def test_r8_parse_reads_english_swedish_and_norwegian(text: str, canonical: str) -> None:
    assert WorkingHours.parse(text).format() == canonical


def test_r8_parse_places_intervals_on_the_right_weekdays() -> None:
    hours = WorkingHours.parse("mån-tor 08:00-16:30, fre 08:00-15:00")
    full = (Interval(time(8), time(16, 30)),)
    assert hours.days == (
        full,
        full,
        full,
        full,
        (Interval(time(8), time(15)),),
        (),
        (),
    )


HOURS_ERRORS = [
    ("empty", "", "empty"),
    ("only-separators", " , ; ", "empty"),
    ("days-without-times", "mon-fri", "should be 'DAYS HH:MM-HH:MM'"),
    ("extra-word", "mon-fri 08:00-16:30 cet", "should be 'DAYS HH:MM-HH:MM'"),
    ("backwards-days", "fri-mon 08:00-16:00", "runs backwards"),
    ("backwards-by-one-day", "tis-mån 08:00-16:00", "runs backwards"),
    ("backwards-times", "mon-fri 16:30-08:00", "ends before it starts"),
    ("empty-interval", "mon 08:00-08:00", "ends before it starts"),
    ("overlap-across-groups", "mon-fri 08:00-12:00, wed 11:00-13:00", "overlap"),
    ("same-interval-twice", "mon 08:00-12:00; måndag 08:00-12:00", "overlap"),
    ("unknown-day", "xyz 08:00-09:00", "unknown weekday"),
    ("unknown-day-in-range", "mon-fredagen 08:00-09:00", "unknown weekday"),
    ("hour-out-of-range", "mon 25:00-26:00", "not a time range"),
    ("minute-out-of-range", "mon 08:60-09:00", "not a time range"),
    ("hours-without-minutes", "mon 8-16", "not a time range"),
    ("dots-not-colons", "mon 08.00-16.30", "not a time range"),
    ("one-time-only", "mon 08:00", "HH:MM-HH:MM"),
    ("seconds", "mon 08:00:00-16:00:00", "not a time range"),
]


@pytest.mark.parametrize(
    ("text", "problem"), [row[1:] for row in HOURS_ERRORS], ids=[row[0] for row in HOURS_ERRORS]
)
def test_r8_parse_rejects_with_hours_error(text: str, problem: str) -> None:
    with pytest.raises(HoursError) as caught:
        WorkingHours.parse(text)
    assert caught.value.text == text
    assert problem in caught.value.problem


_MINUTE = st.integers(min_value=0, max_value=23 * 60 + 59)


def _day_intervals(minutes: list[int]) -> tuple[Interval, ...]:
    points = sorted(minutes)
    return tuple(
        Interval(time(a // 60, a % 60), time(b // 60, b % 60))
        for a, b in zip(points[::2], points[1::2], strict=False)
    )


_WEEKS = st.lists(
    st.lists(_MINUTE, unique=True, max_size=6).map(_day_intervals), min_size=7, max_size=7
).filter(any)


@settings(max_examples=150, deadline=None)
@given(days=_WEEKS)
def test_r8_format_then_parse_round_trips(days: list[tuple[Interval, ...]]) -> None:
    hours = WorkingHours(tuple(days))
    text = hours.format()
    assert WorkingHours.parse(text) == hours
    assert WorkingHours.parse(text).format() == text


IS_WORKING = [
    # The week before summer time: CET, UTC+1.
    ("mon-before-dst-0830-cet", datetime(2026, 3, 23, 7, 30, tzinfo=UTC), True),
    ("mon-before-dst-0730-cet", datetime(2026, 3, 23, 6, 30, tzinfo=UTC), False),
    ("fri-before-dst-1629-cet", datetime(2026, 3, 27, 15, 29, tzinfo=UTC), True),
    ("fri-before-dst-1630-cet", datetime(2026, 3, 27, 15, 30, tzinfo=UTC), False),
    ("sat-midday", at(2026, 3, 28, 12), False),
    ("dst-sunday-midday", at(2026, 3, 29, 12), False),
    # The week after: CEST, UTC+2; the same UTC instants answer differently.
    ("mon-after-dst-0830-cest", datetime(2026, 3, 30, 6, 30, tzinfo=UTC), True),
    ("mon-after-dst-0730-cest", datetime(2026, 3, 30, 5, 30, tzinfo=UTC), False),
    ("mon-after-dst-1629-cest", datetime(2026, 3, 30, 14, 29, tzinfo=UTC), True),
    ("mon-after-dst-1530-utc-is-1730-cest", datetime(2026, 3, 30, 15, 30, tzinfo=UTC), False),
    # Back to winter time on Sunday 25 October 2026.
    ("fri-before-winter-0800-cest", datetime(2026, 10, 23, 6, 0, tzinfo=UTC), True),
    ("mon-after-winter-0700-utc-is-0800-cet", datetime(2026, 10, 26, 7, 0, tzinfo=UTC), True),
    ("mon-after-winter-0630-utc-is-0730-cet", datetime(2026, 10, 26, 6, 30, tzinfo=UTC), False),
    ("winter-sunday-repeated-hour", datetime(2026, 10, 25, 0, 30, tzinfo=UTC), False),
    # Boundaries: start is inside, end is outside.
    ("exactly-start", at(2026, 3, 25, 8, 0), True),
    ("exactly-end", at(2026, 3, 25, 16, 30), False),
    ("oslo-zone-instant", at(2026, 3, 25, 8, 0, zone=OSLO), True),
]


@pytest.mark.parametrize(
    ("instant", "working"), [row[1:] for row in IS_WORKING], ids=[row[0] for row in IS_WORKING]
)
def test_r8_is_working_in_local_time_across_dst(instant: datetime, working: bool) -> None:
    assert DEFAULT_HOURS.is_working(instant, STOCKHOLM) is working


NEXT_START = [
    (
        "friday-end-to-monday-over-spring-dst",
        DEFAULT_HOURS,
        STOCKHOLM,
        at(2026, 3, 27, 16, 30),
        datetime(2026, 3, 30, 6, 0, tzinfo=UTC),
    ),
    (
        "friday-end-to-monday-over-autumn-dst",
        DEFAULT_HOURS,
        STOCKHOLM,
        at(2026, 10, 23, 16, 30),
        datetime(2026, 10, 26, 7, 0, tzinfo=UTC),
    ),
    (
        "dst-saturday",
        DEFAULT_HOURS,
        STOCKHOLM,
        at(2026, 3, 28, 12),
        datetime(2026, 3, 30, 6, 0, tzinfo=UTC),
    ),
    (
        "dst-sunday-after-the-jump",
        DEFAULT_HOURS,
        STOCKHOLM,
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 30, 6, 0, tzinfo=UTC),
    ),
    (
        "before-start-same-day",
        DEFAULT_HOURS,
        STOCKHOLM,
        at(2026, 3, 30, 7, 59),
        at(2026, 3, 30, 8, 0),
    ),
    (
        "exactly-start-is-not-after",
        DEFAULT_HOURS,
        STOCKHOLM,
        at(2026, 3, 30, 8, 0),
        at(2026, 3, 31, 8, 0),
    ),
    (
        "mid-week-evening",
        DEFAULT_HOURS,
        STOCKHOLM,
        at(2026, 3, 25, 18, 0),
        at(2026, 3, 26, 8, 0),
    ),
    (
        "after-given-in-utc",
        DEFAULT_HOURS,
        STOCKHOLM,
        datetime(2026, 3, 25, 23, 30, tzinfo=UTC),  # 00:30 Thursday in Stockholm
        at(2026, 3, 26, 8, 0),
    ),
    (
        "lunch-break",
        WorkingHours.parse("mon-fri 08:00-12:00, mon-fri 13:00-17:00"),
        STOCKHOLM,
        at(2026, 3, 25, 12, 0),
        at(2026, 3, 25, 13, 0),
    ),
    (
        "norwegian-weekend-in-oslo",
        WorkingHours.parse("man-fre 08:00-15:45"),
        OSLO,
        at(2026, 3, 27, 15, 45, zone=OSLO),
        datetime(2026, 3, 30, 6, 0, tzinfo=UTC),
    ),
    (
        "saturday-only-from-monday",
        WorkingHours.parse("lör 10:00-14:00"),
        STOCKHOLM,
        at(2026, 3, 23, 9, 0),
        at(2026, 3, 28, 10, 0),
    ),
    (
        "one-day-a-week-just-missed",
        WorkingHours.parse("mon 08:00-09:00"),
        STOCKHOLM,
        at(2026, 3, 23, 8, 0),
        at(2026, 3, 30, 8, 0),
    ),
]


@pytest.mark.parametrize(
    ("hours", "zone", "after", "expected"),
    [row[1:] for row in NEXT_START],
    ids=[row[0] for row in NEXT_START],
)
def test_r8_next_start_across_dst_and_weekends(
    hours: WorkingHours, zone: ZoneInfo, after: datetime, expected: datetime
) -> None:
    start = hours.next_start(after, zone)
    assert start == expected
    assert start is not None
    assert hours.is_working(start, zone)
    assert not hours.is_working(start - timedelta(minutes=1), zone)


def test_r8_next_start_elapsed_time_counts_the_lost_dst_hour() -> None:
    friday_end = at(2026, 3, 27, 16, 30)
    start = DEFAULT_HOURS.next_start(friday_end, STOCKHOLM)
    assert start is not None
    # 63.5 h of wall clock, but one hour is skipped on Sunday: 62.5 h really pass.
    assert start.astimezone(UTC) - friday_end.astimezone(UTC) == timedelta(hours=62, minutes=30)
    assert start.utcoffset() == timedelta(hours=2)


def test_r8_no_fixed_hours_has_no_next_start() -> None:
    assert NO_FIXED_HOURS.next_start(at(2026, 3, 25, 12), STOCKHOLM) is None
    assert not NO_FIXED_HOURS.is_working(at(2026, 3, 25, 12), STOCKHOLM)


SPLIT = WorkingHours.parse("mon-fri 08:00-12:00, mon-fri 13:00-17:00")
CURRENT_END = [
    ("morning-after-dst", DEFAULT_HOURS, at(2026, 3, 30, 9), at(2026, 3, 30, 16, 30)),
    ("exactly-start", DEFAULT_HOURS, at(2026, 3, 30, 8), at(2026, 3, 30, 16, 30)),
    ("exactly-end", DEFAULT_HOURS, at(2026, 3, 30, 16, 30), None),
    ("weekend", DEFAULT_HOURS, at(2026, 3, 28, 12), None),
    ("morning-block", SPLIT, at(2026, 3, 25, 11, 59), at(2026, 3, 25, 12)),
    ("lunch-gap", SPLIT, at(2026, 3, 25, 12, 30), None),
    ("afternoon-block", SPLIT, at(2026, 3, 25, 13), at(2026, 3, 25, 17)),
    (
        "given-in-utc",
        DEFAULT_HOURS,
        datetime(2026, 10, 26, 7, 0, tzinfo=UTC),
        datetime(2026, 10, 26, 15, 30, tzinfo=UTC),
    ),
]


@pytest.mark.parametrize(
    ("hours", "instant", "expected"),
    [row[1:] for row in CURRENT_END],
    ids=[row[0] for row in CURRENT_END],
)
def test_r8_current_end_of_working_interval(
    hours: WorkingHours, instant: datetime, expected: datetime | None
) -> None:
    assert hours.current_end(instant, STOCKHOLM) == expected
