"""resolve(): manual status over calendar over working hours over "active" (R5-R9)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.directory.hours import WorkingHours
from switchboard.directory.model import Arrangement, Person
from switchboard.presence.model import (
    Availability,
    BusyClass,
    CalendarSegment,
    ManualStatus,
    PresenceError,
    PresenceInputs,
    Reason,
    Referral,
    ReferralKind,
    Source,
    Template,
)
from switchboard.presence.resolve import resolve
from tests.unit.core_fakes import ANNA, DEFAULT_HOURS, NO_FIXED_HOURS, STOCKHOLM, at

# Wednesday 26 November 2025 (no DST nearby); working hours mon-fri 08:00-16:30.
WED_0900 = at(2025, 11, 26, 9)
WED_1100 = at(2025, 11, 26, 11)
WED_1800 = at(2025, 11, 26, 18)


def _resolve(
    inputs: PresenceInputs,
    now: datetime,
    person: Person = ANNA,
    default_hours: WorkingHours = DEFAULT_HOURS,
) -> Availability:
    return resolve(person, inputs, now, default_hours, STOCKHOLM)


def _busy(
    start: datetime,
    end: datetime,
    busy: BusyClass = BusyClass.BUSY,
    reason: Reason = Reason.MEETING,
    label: str | None = "Budget review",
    private: bool = False,
    kind: ReferralKind = ReferralKind.CLOSED,
) -> CalendarSegment:
    return CalendarSegment(start, end, busy, reason, kind, label, private)


def _manual(
    referral: Referral | None,
    set_at: datetime = WED_0900,
    starts: datetime | None = None,
    until: datetime | None = None,
) -> ManualStatus:
    return ManualStatus(referral, "anna", set_at, starts, until)


TRAINING_UNTIL_THURSDAY = Referral(Reason.TRAINING, until=at(2025, 11, 27, 12))
MEETING_10_TO_12 = _busy(at(2025, 11, 26, 10), at(2025, 11, 26, 12))
EVENING_OOF = _busy(at(2025, 11, 26, 17), at(2025, 11, 26, 22), BusyClass.OOF, Reason.HOLIDAY)

MANUAL_WINS = [
    ("over-calendar-within-hours", WED_1100, (MEETING_10_TO_12,)),
    ("over-schedule-outside-hours", WED_1800, ()),
    ("over-calendar-outside-hours", at(2025, 11, 26, 19), (EVENING_OOF,)),
    ("over-nothing", WED_1100, ()),
]


@pytest.mark.parametrize(
    ("now", "calendar"), [row[1:] for row in MANUAL_WINS], ids=[row[0] for row in MANUAL_WINS]
)
@pytest.mark.parametrize("source", [Source.MANUAL, Source.ON_BEHALF], ids=["own", "on-behalf"])
def test_r6_active_manual_referral_wins(
    now: datetime, calendar: tuple[CalendarSegment, ...], source: Source
) -> None:
    referral = replace(TRAINING_UNTIL_THURSDAY, source=source)
    result = _resolve(PresenceInputs(_manual(referral), calendar), now)
    assert result.referral == referral
    assert result.available is False
    assert result.source is source
    assert "manual referral takes precedence" in result.explanation
    assert "until 2025-11-27 12:00" in result.explanation
    if source is Source.ON_BEHALF:
        assert "on their behalf by anna" in result.explanation


def test_r6_open_manual_referral_keeps_ringing() -> None:
    referral = Referral(Reason.MEETING, ReferralKind.OPEN, until=at(2025, 11, 26, 12))
    result = _resolve(PresenceInputs(_manual(referral)), WED_1100)
    assert result.available is True
    assert result.referral == referral
    assert result.explanation.startswith("Open referral 'Meeting'")


def test_r6_manual_referral_without_return_time_applies_until_cleared() -> None:
    result = _resolve(PresenceInputs(_manual(Referral(Reason.SICK))), at(2025, 12, 3, 10))
    assert result.source is Source.MANUAL
    assert result.referral is not None
    assert result.referral.reason is Reason.SICK
    assert "until cleared" in result.explanation


EXPIRED = [
    (
        "calendar-takes-over",
        (MEETING_10_TO_12,),
        WED_1100,
        Source.CALENDAR,
        False,
    ),
    ("schedule-takes-over", (), WED_1800, Source.SCHEDULE, False),
    ("extension-active-again", (), WED_1100, None, True),
]


@pytest.mark.parametrize(
    ("calendar", "now", "source", "available"),
    [row[1:] for row in EXPIRED],
    ids=[row[0] for row in EXPIRED],
)
def test_r6_expired_manual_referral_gives_way(
    calendar: tuple[CalendarSegment, ...], now: datetime, source: Source | None, available: bool
) -> None:
    lunch = Referral(Reason.LUNCH, until=at(2025, 11, 26, 10, 30))
    result = _resolve(PresenceInputs(_manual(lunch), calendar), now)
    assert result.source is source
    assert result.available is available
    assert "expired at 2025-11-26 10:30" in result.explanation


def test_r6_manual_referral_ending_exactly_now_no_longer_applies() -> None:
    lunch = Referral(Reason.LUNCH, until=WED_1100)
    result = _resolve(PresenceInputs(_manual(lunch)), WED_1100)
    assert result.available is True
    assert result.referral is None


_EXPIRED_REFERRALS = st.builds(
    Referral,
    reason=st.sampled_from([r for r in Reason if r is not Reason.OUTSIDE_HOURS]),
    kind=st.sampled_from(ReferralKind),
    text=st.just("free text"),
    source=st.sampled_from([Source.MANUAL, Source.ON_BEHALF]),
    divert_to=st.sampled_from([None, "64000"]),
    until=st.none(),  # replaced below with an instant before now
)
_INSTANTS = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - bounds for hypothesis; made aware below
    max_value=datetime(2027, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@settings(max_examples=150, deadline=None)
@given(
    referral=_EXPIRED_REFERRALS,
    now=_INSTANTS,
    expired_for=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
    duration=st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=30)),
    calendar_offset=st.none() | st.timedeltas(timedelta(hours=-6), timedelta(0)),
    busy=st.sampled_from(BusyClass),
    arrangement=st.sampled_from(Arrangement),
    ring_after_hours=st.booleans(),
)
def test_r6_property_expired_manual_referral_never_wins(
    referral: Referral,
    now: datetime,
    expired_for: timedelta,
    duration: timedelta,
    calendar_offset: timedelta | None,
    busy: BusyClass,
    arrangement: Arrangement,
    ring_after_hours: bool,
) -> None:
    until = now - expired_for
    expired = replace(referral, until=until)
    manual = _manual(expired, set_at=until - duration)
    calendar = (
        ()
        if calendar_offset is None
        else (_busy(now + calendar_offset, now + timedelta(hours=1), busy),)
    )
    person = replace(ANNA, arrangement=arrangement, ring_after_hours=ring_after_hours)
    result = _resolve(PresenceInputs(manual, calendar), now, person)
    assert result.source not in (Source.MANUAL, Source.ON_BEHALF)
    assert result.referral != expired


AVAILABLE_OVERRIDES = [
    ("calendar-busy", WED_1100, (MEETING_10_TO_12,)),
    ("calendar-oof", WED_1100, (_busy(WED_0900, at(2025, 11, 28), BusyClass.OOF, Reason.HOLIDAY),)),
    ("outside-hours", WED_1800, ()),
]


@pytest.mark.parametrize(
    ("now", "calendar"),
    [row[1:] for row in AVAILABLE_OVERRIDES],
    ids=[row[0] for row in AVAILABLE_OVERRIDES],
)
def test_r5_manual_available_overrides_calendar_and_hours(
    now: datetime, calendar: tuple[CalendarSegment, ...]
) -> None:
    manual = _manual(None, until=at(2025, 11, 26, 20))
    result = _resolve(PresenceInputs(manual, calendar), now)
    assert result.available is True
    assert result.referral is None
    assert result.explanation.startswith("Set available by anna")
    assert "overrides the calendar" in result.explanation


def test_r5_expired_manual_available_lets_the_calendar_back() -> None:
    manual = _manual(None, until=at(2025, 11, 26, 10, 30))
    result = _resolve(PresenceInputs(manual, (MEETING_10_TO_12,)), WED_1100)
    assert result.source is Source.CALENDAR
    assert result.available is False


PLANNED = [
    ("before-it-starts-calendar-applies", WED_1100, Source.CALENDAR, Reason.MEETING),
    ("once-it-starts-manual-applies", at(2025, 11, 26, 11, 30), Source.MANUAL, Reason.LEAVE),
]


@pytest.mark.parametrize(
    ("now", "source", "reason"), [row[1:] for row in PLANNED], ids=[row[0] for row in PLANNED]
)
def test_r6_manual_status_planned_in_advance(now: datetime, source: Source, reason: Reason) -> None:
    leave = Referral(Reason.LEAVE, until=at(2025, 11, 28, 16))
    manual = _manual(leave, set_at=WED_0900, starts=at(2025, 11, 26, 11, 30))
    result = _resolve(PresenceInputs(manual, (MEETING_10_TO_12,)), now)
    assert result.source is source
    assert result.referral is not None
    assert result.referral.reason is reason


def test_r6_planned_available_does_not_override_calendar_yet() -> None:
    manual = _manual(None, starts=at(2025, 11, 26, 11, 30), until=at(2025, 11, 26, 12))
    result = _resolve(PresenceInputs(manual, (MEETING_10_TO_12,)), WED_1100)
    assert result.source is Source.CALENDAR
    assert result.next_change == at(2025, 11, 26, 11, 30)


CALENDAR = [
    ("busy-diverts", BusyClass.BUSY, False, False, Source.CALENDAR, 0),
    ("oof-diverts", BusyClass.OOF, False, False, Source.CALENDAR, 0),
    ("tentative-is-a-hint", BusyClass.TENTATIVE, False, True, None, 1),
    ("tentative-diverts-when-chosen", BusyClass.TENTATIVE, True, False, Source.CALENDAR, 0),
    ("free-is-ignored", BusyClass.FREE, False, True, None, 0),
    ("free-is-ignored-even-with-opt-in", BusyClass.FREE, True, True, None, 0),
    ("working-elsewhere-is-ignored", BusyClass.WORKING_ELSEWHERE, False, True, None, 0),
]


@pytest.mark.parametrize(
    ("busy", "tentative_diverts", "available", "source", "hints"),
    [row[1:] for row in CALENDAR],
    ids=[row[0] for row in CALENDAR],
)
def test_r7_calendar_item_by_free_busy(
    busy: BusyClass,
    tentative_diverts: bool,
    available: bool,
    source: Source | None,
    hints: int,
) -> None:
    person = replace(ANNA, tentative_diverts=tentative_diverts)
    segment = _busy(at(2025, 11, 26, 10), at(2025, 11, 26, 12), busy)
    result = _resolve(PresenceInputs(None, (segment,)), WED_1100, person)
    assert result.available is available
    assert result.source is source
    assert len(result.hints) == hints
    if hints:
        assert result.hints == ("Tentatively busy until 2025-11-26 12:00.",)
    if source is Source.CALENDAR:
        assert result.referral == Referral(
            Reason.MEETING, ReferralKind.CLOSED, at(2025, 11, 26, 12), "Budget review", source
        )
        assert "calendar shows" in result.explanation
        assert "(R7)" in result.explanation


def test_r7_private_calendar_item_never_shows_its_subject() -> None:
    segment = _busy(
        at(2025, 11, 26, 10), at(2025, 11, 26, 12), label="Appointment at clinic", private=True
    )
    result = _resolve(PresenceInputs(None, (segment,)), WED_1100)
    assert result.referral is not None
    assert result.referral.text is None
    assert "a private item" in result.explanation
    assert "clinic" not in result.explanation


def test_r7_oof_outranks_busy_for_the_reason() -> None:
    busy = _busy(at(2025, 11, 26, 10), at(2025, 11, 26, 12))
    oof = _busy(at(2025, 11, 26, 10), at(2025, 11, 26, 12), BusyClass.OOF, Reason.SICK, None)
    for calendar in ((busy, oof), (oof, busy)):
        result = _resolve(PresenceInputs(None, calendar), WED_1100)
        assert result.referral is not None
        assert result.referral.reason is Reason.SICK


def test_r7_open_calendar_item_rings_first() -> None:
    segment = _busy(at(2025, 11, 26, 10), at(2025, 11, 26, 12), kind=ReferralKind.OPEN)
    result = _resolve(PresenceInputs(None, (segment,)), WED_1100)
    assert result.available is True
    assert result.referral is not None
    assert result.referral.kind is ReferralKind.OPEN


def _wed(hour: int, minute: int = 0) -> datetime:
    return at(2025, 11, 26, hour, minute)


MERGES = [
    ("single", [(_wed(10), _wed(12), BusyClass.BUSY)], _wed(12)),
    (
        "back-to-back",
        [(_wed(10), _wed(11), BusyClass.BUSY), (_wed(11), _wed(12), BusyClass.BUSY)],
        _wed(12),
    ),
    (
        "overlapping",
        [(_wed(10), _wed(11, 30), BusyClass.BUSY), (_wed(11), _wed(12, 15), BusyClass.OOF)],
        _wed(12, 15),
    ),
    (
        "chain-listed-out-of-order",
        [
            (_wed(12), _wed(14), BusyClass.BUSY),
            (_wed(10, 30), _wed(12), BusyClass.BUSY),
            (_wed(10), _wed(11, 30), BusyClass.BUSY),
        ],
        _wed(14),
    ),
    (
        "gap-stops-the-run",
        [(_wed(10), _wed(11, 30), BusyClass.BUSY), (_wed(11, 45), _wed(13), BusyClass.BUSY)],
        _wed(11, 30),
    ),
    (
        "tentative-does-not-extend-the-run",
        [(_wed(10), _wed(11, 30), BusyClass.BUSY), (_wed(11, 30), _wed(13), BusyClass.TENTATIVE)],
        _wed(11, 30),
    ),
    (
        "nested",
        [(_wed(9), _wed(15), BusyClass.OOF), (_wed(10), _wed(11, 30), BusyClass.BUSY)],
        _wed(15),
    ),
]


@pytest.mark.parametrize(
    ("items", "back"), [row[1:] for row in MERGES], ids=[row[0] for row in MERGES]
)
def test_r7_busy_items_merge_for_the_return_time(
    items: list[tuple[datetime, datetime, BusyClass]], back: datetime
) -> None:
    calendar = tuple(_busy(start, end, busy) for start, end, busy in items)
    result = _resolve(PresenceInputs(None, calendar), WED_1100)
    assert result.referral is not None
    assert result.referral.until == back
    assert f"busy run ends {back:%Y-%m-%d %H:%M}" in result.explanation


RETURN_MOVES = [
    ("ends-after-hours-back-next-morning", ANNA, _wed(10), _wed(17), at(2025, 11, 27, 8)),
    ("ends-exactly-at-closing", ANNA, _wed(10), _wed(16, 30), at(2025, 11, 27, 8)),
    ("ends-overnight-before-opening", ANNA, _wed(10), at(2025, 11, 27, 6), at(2025, 11, 27, 8)),
    ("all-week-ends-saturday-midnight", ANNA, _wed(8), at(2025, 11, 29), at(2025, 12, 1, 8)),
    (
        "own-hours-win-over-default",
        replace(ANNA, hours=WorkingHours.parse("mon-fri 07:00-15:00")),
        _wed(10),
        _wed(15, 30),
        at(2025, 11, 27, 7),
    ),
    ("within-hours-stays", ANNA, _wed(10), _wed(14), _wed(14)),
]


@pytest.mark.parametrize(
    ("person", "start", "end", "back"),
    [row[1:] for row in RETURN_MOVES],
    ids=[row[0] for row in RETURN_MOVES],
)
def test_r7_return_time_outside_hours_moves_to_next_working_start(
    person: Person, start: datetime, end: datetime, back: datetime
) -> None:
    segment = _busy(start, end, BusyClass.OOF, Reason.HOLIDAY)
    result = _resolve(PresenceInputs(None, (segment,)), WED_1100, person)
    assert result.referral is not None
    assert result.referral.until == back
    moved = back != end
    assert ("back at the start of working hours" in result.explanation) is moved


def test_r7_return_time_stays_when_there_are_no_fixed_hours() -> None:
    segment = _busy(_wed(10), _wed(20))
    result = _resolve(PresenceInputs(None, (segment,)), WED_1100, default_hours=NO_FIXED_HOURS)
    assert result.referral is not None
    assert result.referral.until == _wed(20)


OUTSIDE_HOURS = [
    ("work-only-closed", Arrangement.WORK_ONLY, False, False, "work_only arrangement (R8)"),
    (
        "work-only-never-rings-even-if-asked",
        Arrangement.WORK_ONLY,
        True,
        False,
        "work_only arrangement (R8)",
    ),
    (
        "private-closed-by-default",
        Arrangement.PRIVATE,
        False,
        False,
        "within working time, not always (R8)",
    ),
    ("private-rings-when-chosen", Arrangement.PRIVATE, True, True, "rung after hours (R9)"),
]
EVENINGS = [
    ("wednesday-evening", WED_1800, at(2025, 11, 27, 8)),
    ("early-morning", at(2025, 11, 27, 6, 45), at(2025, 11, 27, 8)),
    ("friday-evening", at(2025, 11, 28, 17), at(2025, 12, 1, 8)),
    ("sunday", at(2025, 11, 30, 12), at(2025, 12, 1, 8)),
    ("spring-dst-weekend", at(2026, 3, 29, 12), datetime(2026, 3, 30, 6, tzinfo=UTC)),
]


@pytest.mark.parametrize(
    ("now", "starts_again"), [row[1:] for row in EVENINGS], ids=[row[0] for row in EVENINGS]
)
@pytest.mark.parametrize(
    ("arrangement", "ring_after_hours", "rings", "why"),
    [row[1:] for row in OUTSIDE_HOURS],
    ids=[row[0] for row in OUTSIDE_HOURS],
)
def test_r8_r9_outside_working_hours(
    now: datetime,
    starts_again: datetime,
    arrangement: Arrangement,
    ring_after_hours: bool,
    rings: bool,
    why: str,
) -> None:
    person = replace(ANNA, arrangement=arrangement, ring_after_hours=ring_after_hours)
    result = _resolve(PresenceInputs(), now, person)
    expected_kind = ReferralKind.OPEN if rings else ReferralKind.CLOSED
    assert result.available is rings
    assert result.referral == Referral(
        Reason.OUTSIDE_HOURS, expected_kind, starts_again, None, Source.SCHEDULE
    )
    assert result.next_change == starts_again
    assert why in result.explanation
    assert "Outside working hours (mon-fri 08:00-16:30)" in result.explanation


AVAILABLE = [
    ("within-hours", ANNA, DEFAULT_HOURS, WED_1100),
    ("exactly-opening", ANNA, DEFAULT_HOURS, _wed(8)),
    ("no-fixed-hours-at-night", ANNA, NO_FIXED_HOURS, at(2025, 11, 30, 3)),
    (
        "own-hours-saturday",
        replace(ANNA, hours=WorkingHours.parse("lör 10:00-14:00")),
        DEFAULT_HOURS,
        at(2025, 11, 29, 11),
    ),
]


@pytest.mark.parametrize(
    ("person", "default_hours", "now"),
    [row[1:] for row in AVAILABLE],
    ids=[row[0] for row in AVAILABLE],
)
def test_r5_nothing_set_means_available(
    person: Person, default_hours: WorkingHours, now: datetime
) -> None:
    result = _resolve(PresenceInputs(), now, person, default_hours)
    assert result.available is True
    assert result.referral is None
    assert result.hints == ()
    assert result.explanation.endswith("the extension is active (R5).")


def test_r5_with_own_hours_weekday_is_outside() -> None:
    person = replace(ANNA, hours=WorkingHours.parse("lör 10:00-14:00"))
    result = _resolve(PresenceInputs(), WED_1100, person)
    assert result.source is Source.SCHEDULE
    assert result.next_change == at(2025, 11, 29, 10)


LUNCH_TO_13 = Referral(Reason.LUNCH, until=_wed(13))
NEXT_CHANGE = [
    ("end-of-working-day", PresenceInputs(), WED_1100, _wed(16, 30)),
    ("next-working-start", PresenceInputs(), WED_1800, at(2025, 11, 27, 8)),
    ("over-the-weekend", PresenceInputs(), at(2025, 11, 29, 9), at(2025, 12, 1, 8)),
    ("manual-return", PresenceInputs(_manual(LUNCH_TO_13)), WED_1100, _wed(13)),
    (
        "planned-manual-start",
        PresenceInputs(_manual(LUNCH_TO_13, starts=_wed(12))),
        WED_1100,
        _wed(12),
    ),
    ("calendar-item-ends", PresenceInputs(None, (MEETING_10_TO_12,)), WED_1100, _wed(12)),
    (
        "calendar-item-starts",
        PresenceInputs(None, (_busy(_wed(14), _wed(15)),)),
        WED_1100,
        _wed(14),
    ),
    (
        "earliest-of-several",
        PresenceInputs(_manual(LUNCH_TO_13), (_busy(_wed(12, 45), _wed(15)),)),
        WED_1100,
        _wed(12, 45),
    ),
    (
        "boundary-exactly-now-is-not-next",
        PresenceInputs(None, (_busy(_wed(11), _wed(12)),)),
        WED_1100,
        _wed(12),
    ),
    (
        "past-boundaries-ignored",
        PresenceInputs(
            _manual(Referral(Reason.LUNCH, until=_wed(10))), (_busy(_wed(9), _wed(10)),)
        ),
        WED_1100,
        _wed(16, 30),
    ),
    (
        "spring-dst",
        PresenceInputs(),
        at(2026, 3, 27, 17),
        datetime(2026, 3, 30, 6, tzinfo=UTC),
    ),
    (
        "autumn-dst",
        PresenceInputs(),
        at(2026, 10, 23, 17),
        datetime(2026, 10, 26, 7, tzinfo=UTC),
    ),
]


@pytest.mark.parametrize(
    ("inputs", "now", "expected"),
    [row[1:] for row in NEXT_CHANGE],
    ids=[row[0] for row in NEXT_CHANGE],
)
def test_next_change_is_the_next_boundary(
    inputs: PresenceInputs, now: datetime, expected: datetime
) -> None:
    assert _resolve(inputs, now).next_change == expected


def test_next_change_is_none_with_nothing_ahead() -> None:
    result = _resolve(PresenceInputs(), WED_1100, default_hours=NO_FIXED_HOURS)
    assert result.next_change is None


EXPLANATIONS = [
    ("manual", PresenceInputs(_manual(LUNCH_TO_13)), WED_1100, "manual referral"),
    (
        "on-behalf",
        PresenceInputs(_manual(replace(LUNCH_TO_13, source=Source.ON_BEHALF))),
        WED_1100,
        "on their behalf by anna",
    ),
    ("manual-available", PresenceInputs(_manual(None)), WED_1100, "Set available"),
    ("calendar", PresenceInputs(None, (MEETING_10_TO_12,)), WED_1100, "The calendar shows busy"),
    ("schedule", PresenceInputs(), WED_1800, "Outside working hours"),
    ("active", PresenceInputs(), WED_1100, "the extension is active"),
    (
        "expired-then-schedule",
        PresenceInputs(_manual(Referral(Reason.LUNCH, until=_wed(17)))),
        WED_1800,
        "expired at 2025-11-26 17:00",
    ),
]


@pytest.mark.parametrize(
    ("inputs", "now", "mention"),
    [row[1:] for row in EXPLANATIONS],
    ids=[row[0] for row in EXPLANATIONS],
)
def test_explanation_names_the_deciding_source(
    inputs: PresenceInputs, now: datetime, mention: str
) -> None:
    explanation = _resolve(inputs, now).explanation
    assert explanation.strip()
    assert mention in explanation


def test_resolve_refuses_a_naive_instant() -> None:
    with pytest.raises(ValueError, match="aware"):
        _resolve(PresenceInputs(), datetime(2025, 11, 26, 11))  # noqa: DTZ001 - the point


MODEL_ERRORS: list[tuple[str, Callable[[], object]]] = [
    ("naive-return-time", lambda: Referral(Reason.LUNCH, until=datetime(2025, 11, 26, 13))),  # noqa: DTZ001
    ("other-without-text", lambda: Referral(Reason.OTHER, text="  ")),
    (
        "other-without-text-on-behalf",
        lambda: Referral(Reason.OTHER, source=Source.ON_BEHALF),
    ),
    ("text-too-long", lambda: Referral(Reason.MEETING, text="x" * 201)),
    ("template-without-name", lambda: Template(" ", Reason.LUNCH)),
    ("template-other-without-text", lambda: Template("Misc", Reason.OTHER)),
    ("template-zero-duration", lambda: Template("Lunch", Reason.LUNCH, duration=timedelta(0))),
]


@pytest.mark.parametrize(
    "build", [row[1] for row in MODEL_ERRORS], ids=[row[0] for row in MODEL_ERRORS]
)
def test_r6_invalid_referrals_and_templates_are_refused(build: Callable[[], object]) -> None:
    with pytest.raises(PresenceError):
        build()


def test_r6_template_makes_a_referral_from_now() -> None:
    template = Template("Lunch 45", Reason.LUNCH, ReferralKind.OPEN, timedelta(minutes=45), "café")
    referral = template.referral_at(WED_1100, Source.ON_BEHALF)
    assert referral == Referral(
        Reason.LUNCH, ReferralKind.OPEN, _wed(11, 45), "café", Source.ON_BEHALF
    )
    assert Template("Gone", Reason.GONE_FOR_THE_DAY).referral_at(WED_1100).until is None


FRIDAY_OFF = _busy(at(2025, 11, 28), at(2025, 11, 29), BusyClass.OOF, Reason.HOLIDAY, None)
MONDAY_OFF = _busy(at(2025, 12, 1), at(2025, 12, 2), BusyClass.OOF, Reason.HOLIDAY, None)
MONDAY_MORNING = _busy(at(2025, 12, 1, 8), at(2025, 12, 1, 9, 30))
STILL_AWAY = [
    (
        "holiday-friday-and-monday",
        (FRIDAY_OFF, MONDAY_OFF),
        at(2025, 11, 28, 10),
        Source.CALENDAR,
        at(2025, 12, 2, 8),
    ),
    (
        "holiday-then-monday-meeting-at-opening",
        (FRIDAY_OFF, MONDAY_MORNING),
        at(2025, 11, 28, 10),
        Source.CALENDAR,
        at(2025, 12, 1, 9, 30),
    ),
    (
        "evening-before-a-day-off",
        (FRIDAY_OFF,),
        at(2025, 11, 27, 18),
        Source.SCHEDULE,
        at(2025, 12, 1, 8),
    ),
    (
        "evening-before-a-long-weekend",
        (FRIDAY_OFF, MONDAY_OFF),
        at(2025, 11, 27, 18),
        Source.SCHEDULE,
        at(2025, 12, 2, 8),
    ),
    (
        "meeting-after-opening-does-not-move-it",
        (_busy(at(2025, 11, 27, 8, 15), at(2025, 11, 27, 9)),),
        at(2025, 11, 26, 18),
        Source.SCHEDULE,
        at(2025, 11, 27, 8),
    ),
]


@pytest.mark.parametrize(
    ("calendar", "now", "source", "back"),
    [row[1:] for row in STILL_AWAY],
    ids=[row[0] for row in STILL_AWAY],
)
def test_r10_return_time_skips_working_starts_the_calendar_already_blocks(
    calendar: tuple[CalendarSegment, ...], now: datetime, source: Source, back: datetime
) -> None:
    # The caller must not hear "back on Monday" when Monday is also in the calendar as away.
    result = _resolve(PresenceInputs(None, calendar), now)
    assert result.source is source
    assert result.referral is not None
    assert result.referral.until == back


CALENDAR_TEXTS = [
    ("private-other-item", Reason.OTHER, "Therapy", True, None),
    ("other-item-without-subject", Reason.OTHER, None, False, None),
    ("other-item-with-subject", Reason.OTHER, "Union meeting", False, "Union meeting"),
    ("long-subject-is-cut", Reason.MEETING, "Budget " * 40, False, ("Budget " * 40)[:200]),
]


@pytest.mark.parametrize(
    ("reason", "label", "private", "text"),
    [row[1:] for row in CALENDAR_TEXTS],
    ids=[row[0] for row in CALENDAR_TEXTS],
)
def test_r7_any_calendar_item_makes_a_valid_referral(
    reason: Reason, label: str | None, private: bool, text: str | None
) -> None:
    # The calendar's items are not written by the person: "other" may come without a text
    # and a subject may be longer than a hand-written note; resolve() must not raise.
    segment = _busy(_wed(10), _wed(12), reason=reason, label=label, private=private)
    result = _resolve(PresenceInputs(None, (segment,)), WED_1100)
    assert result.referral == Referral(reason, ReferralKind.CLOSED, _wed(12), text, Source.CALENDAR)


@st.composite
def _segments(draw: st.DrawFn) -> CalendarSegment:
    start = WED_1100 + timedelta(minutes=30 * draw(st.integers(-96, 96)))
    return CalendarSegment(
        start,
        start + timedelta(minutes=30 * draw(st.integers(1, 200))),
        draw(st.sampled_from(BusyClass)),
        draw(st.sampled_from(Reason)),
        draw(st.sampled_from(ReferralKind)),
        draw(st.none() | st.text(max_size=260)),
        draw(st.booleans()),
    )


@settings(max_examples=150, deadline=None)
@given(
    segments=st.lists(_segments(), max_size=4),
    now=st.integers(0, 7 * 24 * 4).map(lambda q: WED_0900 + timedelta(minutes=15 * q)),
    tentative_diverts=st.booleans(),
)
def test_resolve_answers_for_any_calendar(
    segments: list[CalendarSegment], now: datetime, tentative_diverts: bool
) -> None:
    person = replace(ANNA, tentative_diverts=tentative_diverts)
    result = _resolve(PresenceInputs(None, tuple(segments)), now, person)
    assert result.explanation
    if result.referral is not None and result.referral.until is not None:
        assert result.referral.until > now
    if result.next_change is not None:
        assert result.next_change > now


WORK_ONLY = replace(ANNA, arrangement=Arrangement.WORK_ONLY)
OPEN_MEETING = Referral(Reason.MEETING, ReferralKind.OPEN, until=at(2025, 11, 26, 21))
OPEN_EVENING_ITEM = _busy(_wed(17), _wed(21), kind=ReferralKind.OPEN)
WORK_ONLY_EVENING = [
    (
        "manual-available-gives-way-to-schedule",
        PresenceInputs(_manual(None, until=_wed(22))),
        Source.SCHEDULE,
        Reason.OUTSIDE_HOURS,
        "does not apply outside working hours under the work_only arrangement (R8)",
    ),
    (
        "open-manual-referral-plays-without-ringing",
        PresenceInputs(_manual(OPEN_MEETING)),
        Source.MANUAL,
        Reason.MEETING,
        "It does not ring",
    ),
    (
        "open-calendar-item-plays-without-ringing",
        PresenceInputs(None, (OPEN_EVENING_ITEM,)),
        Source.CALENDAR,
        Reason.MEETING,
        "It does not ring",
    ),
]


@pytest.mark.parametrize(
    ("inputs", "source", "reason", "mention"),
    [row[1:] for row in WORK_ONLY_EVENING],
    ids=[row[0] for row in WORK_ONLY_EVENING],
)
def test_r8_work_only_is_never_rung_outside_hours(
    inputs: PresenceInputs, source: Source, reason: Reason, mention: str
) -> None:
    result = _resolve(inputs, WED_1800, WORK_ONLY)
    assert result.available is False
    assert result.source is source
    assert result.referral is not None
    assert result.referral.reason is reason
    assert result.referral.kind is ReferralKind.CLOSED
    assert mention in result.explanation


@pytest.mark.parametrize(
    ("person", "now", "inputs", "available"),
    [
        (WORK_ONLY, WED_1100, PresenceInputs(_manual(None), (MEETING_10_TO_12,)), True),
        (WORK_ONLY, WED_1100, PresenceInputs(_manual(OPEN_MEETING)), True),
        (ANNA, WED_1800, PresenceInputs(_manual(None, until=_wed(22))), True),
        (ANNA, WED_1800, PresenceInputs(_manual(OPEN_MEETING)), True),
        (ANNA, WED_1800, PresenceInputs(None, (OPEN_EVENING_ITEM,)), True),
    ],
    ids=[
        "work-only-within-hours-available",
        "work-only-within-hours-open-referral",
        "private-evening-available",
        "private-evening-open-referral",
        "private-evening-open-calendar-item",
    ],
)
def test_r9_ringing_stays_where_r8_does_not_forbid_it(
    person: Person, now: datetime, inputs: PresenceInputs, available: bool
) -> None:
    assert _resolve(inputs, now, person).available is available


@st.composite
def _any_manual(draw: st.DrawFn) -> ManualStatus | None:
    if draw(st.booleans()):
        return None
    set_at = WED_1100 + timedelta(minutes=30 * draw(st.integers(-96, 96)))
    until = draw(st.none() | st.integers(1, 200).map(lambda n: set_at + timedelta(minutes=30 * n)))
    referral = draw(
        st.none()
        | st.builds(
            Referral,
            reason=st.sampled_from(Reason),
            kind=st.sampled_from(ReferralKind),
            until=st.just(until),
            text=st.just("note"),
            source=st.sampled_from([Source.MANUAL, Source.ON_BEHALF]),
        )
    )
    return ManualStatus(referral, "someone", set_at, None, until)


@settings(max_examples=150, deadline=None)
@given(
    manual=_any_manual(),
    segments=st.lists(_segments(), max_size=3),
    now=st.integers(0, 7 * 24 * 4).map(lambda q: WED_0900 + timedelta(minutes=15 * q)),
    tentative_diverts=st.booleans(),
    ring_after_hours=st.booleans(),
)
def test_r8_property_work_only_never_rings_outside_working_hours(
    manual: ManualStatus | None,
    segments: list[CalendarSegment],
    now: datetime,
    tentative_diverts: bool,
    ring_after_hours: bool,
) -> None:
    person = replace(
        WORK_ONLY, tentative_diverts=tentative_diverts, ring_after_hours=ring_after_hours
    )
    result = _resolve(PresenceInputs(manual, tuple(segments)), now, person)
    if not DEFAULT_HOURS.is_working(now, STOCKHOLM):
        assert result.available is False
        assert result.referral is not None
        assert result.referral.kind is ReferralKind.CLOSED
