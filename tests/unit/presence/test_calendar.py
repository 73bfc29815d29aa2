"""The pure calendar mapper (R7): classification, referral codes, segments, explain()."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.directory.secret_text import SecretNumbers
from switchboard.presence.calendar import (
    Attendee,
    CalendarItem,
    EventStatus,
    ExplainKind,
    Participation,
    ReferralCodes,
    Sensitivity,
    Transp,
    busy_class,
    default_codes,
    explain,
    map_items,
)
from switchboard.presence.model import (
    BusyClass,
    CalendarSegment,
    PresenceError,
    Reason,
    ReferralKind,
)
from tests.unit.core_fakes import (
    ANNA,
    DEFAULT_HOURS,
    NO_FIXED_HOURS,
    OSLO,
    SML_PLAN,
    STOCKHOLM,
    at,
)

OWNER = "Anna.Berg@sotenas.se"


def item(
    start: datetime,
    minutes: int = 60,
    subject: str | None = "Möte",
    uid: str = "u1",
    **kw: Any,
) -> CalendarItem:
    return CalendarItem(uid, start, start + timedelta(minutes=minutes), subject=subject, **kw)


def segments(items: list[CalendarItem], lo: datetime, hi: datetime) -> tuple[CalendarSegment, ...]:
    return map_items(items, window_start=lo, window_end=hi)


MON_0900 = at(2026, 3, 23, 9)


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, BusyClass.BUSY),
        ({"status": EventStatus.CANCELLED, "busy_status": BusyClass.BUSY}, None),
        ({"participation": Participation.DECLINED, "busy_status": BusyClass.BUSY}, None),
        ({"attendees": (Attendee("mailto-less@x", None), Attendee("anna.berg@SOTENAS.se",
                                                                   Participation.DECLINED))},
         None),
        ({"busy_status": BusyClass.OOF, "transp": Transp.TRANSPARENT}, BusyClass.OOF),
        ({"busy_status": BusyClass.FREE}, BusyClass.FREE),
        ({"transp": Transp.TRANSPARENT, "participation": Participation.NEEDS_ACTION},
         BusyClass.FREE),
        ({"participation": Participation.NEEDS_ACTION}, BusyClass.TENTATIVE),
        ({"attendees": (Attendee(OWNER.lower(), Participation.TENTATIVE),)}, BusyClass.TENTATIVE),
        ({"attendees": (Attendee(OWNER, Participation.ACCEPTED),)}, BusyClass.BUSY),
        ({"status": EventStatus.TENTATIVE}, BusyClass.TENTATIVE),
        ({"busy_status": BusyClass.WORKING_ELSEWHERE}, BusyClass.WORKING_ELSEWHERE),
    ],
    ids=[
        "default-opaque-busy", "cancelled", "declined", "declined-attendee-case-insensitive",
        "exchange-status-beats-transp", "exchange-free", "transparent-beats-participation",
        "needs-action", "tentative-attendee", "accepted", "status-tentative",
        "working-elsewhere",
    ],
)  # fmt: skip
def test_busy_class_rules_in_order(kw: dict[str, Any], expected: BusyClass | None) -> None:
    assert busy_class(item(MON_0900, **kw), OWNER) == expected


def test_an_item_must_be_aware_and_not_end_before_it_starts() -> None:
    with pytest.raises(PresenceError, match="aware"):
        CalendarItem("u", datetime(2026, 1, 1, 9), datetime(2026, 1, 1, 10), subject="x")  # noqa: DTZ001
    with pytest.raises(PresenceError, match="ends before"):
        item(MON_0900, minutes=-5)


def test_a_private_items_repr_hides_subject_and_location() -> None:
    secret = item(MON_0900, subject="Tandläkare", location="Smögen")
    assert "Tandläkare" not in repr(secret)
    assert "Smögen" not in repr(secret)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("LUN: Lunch med Bo", (Reason.LUNCH, ReferralKind.CLOSED, "Lunch med Bo")),
        ("  lun:lunch", (Reason.LUNCH, ReferralKind.CLOSED, "lunch")),
        ("MÖT; Avstämning", (Reason.MEETING, ReferralKind.OPEN, "Avstämning")),
        ("möt ; x", (Reason.MEETING, ReferralKind.OPEN, "x")),
        ("FER:", (Reason.HOLIDAY, ReferralKind.CLOSED, "")),
        ("SJK: ", (Reason.SICK, ReferralKind.CLOSED, "")),
        ("TJR: Göteborg", (Reason.BUSINESS_TRIP, ReferralKind.CLOSED, "Göteborg")),
        ("GFD;", (Reason.GONE_FOR_THE_DAY, ReferralKind.OPEN, "")),
        ("KURS: Excel", (Reason.TRAINING, ReferralKind.CLOSED, "Excel")),
        ("Re: budget", None),
        ("Lunch", None),
        ("LUN Lunch", None),
        ("", None),
    ],
    ids=lambda v: repr(v),
)
def test_swedish_referral_codes(
    subject: str, expected: tuple[Reason, ReferralKind, str] | None
) -> None:
    found = default_codes("sv").match(subject)
    assert (None if found is None else (found.reason, found.kind, found.rest)) == expected


def test_norwegian_codes_and_a_configured_table() -> None:
    nb = default_codes("nb")
    assert nb.match("MØT: Styremøte") is not None
    assert nb.match("SYK:") is not None
    assert nb.match("PERM: pappa") is not None
    custom = ReferralCodes({"ute": Reason.BUSINESS_TRIP})
    found = custom.match("UTE: Kungshamn")
    assert found is not None
    assert found.reason is Reason.BUSINESS_TRIP
    assert custom.match("LUN: x") is None


def test_map_items_labels_reasons_and_drops_what_never_diverts() -> None:
    items = [
        item(MON_0900, subject="LUN: Lunch med Bo", uid="a"),
        item(MON_0900 + timedelta(hours=2), subject="Planering", uid="b"),
        item(MON_0900, minutes=0, uid="zero"),
        item(MON_0900, busy_status=BusyClass.FREE, uid="free"),
        item(MON_0900, busy_status=BusyClass.WORKING_ELSEWHERE, uid="we"),
        item(at(2026, 7, 1), minutes=24 * 60, subject="Ledig", busy_status=BusyClass.OOF),
        item(MON_0900, subject="Tandläkare", sensitivity=Sensitivity.PRIVATE, uid="p"),
        item(MON_0900, subject="SJK: läkare", sensitivity=Sensitivity.CONFIDENTIAL, uid="c"),
    ]
    found = map_items(
        items, window_start=at(2026, 1, 1), window_end=at(2027, 1, 1), codes=default_codes("sv")
    )
    summary = [(s.start, s.busy, s.reason, s.kind, s.label, s.private) for s in found]
    assert summary == [
        (MON_0900, BusyClass.BUSY, Reason.LUNCH, ReferralKind.CLOSED, "Lunch med Bo", False),
        (MON_0900, BusyClass.BUSY, Reason.MEETING, ReferralKind.CLOSED, None, True),
        (MON_0900, BusyClass.BUSY, Reason.SICK, ReferralKind.CLOSED, None, True),
        (MON_0900 + timedelta(hours=2), BusyClass.BUSY, Reason.MEETING, ReferralKind.CLOSED,
         "Planering", False),
        (at(2026, 7, 1), BusyClass.OOF, Reason.HOLIDAY, ReferralKind.CLOSED, "Ledig", False),
    ]  # fmt: skip
    assert all(s.start.tzinfo is UTC for s in found)


def test_map_items_clips_to_the_window_and_leaves_items_outside_out() -> None:
    long = item(at(2026, 3, 20), minutes=10 * 24 * 60, busy_status=BusyClass.OOF)
    outside = item(at(2025, 6, 1), uid="old")
    (segment,) = map_items(
        [long, outside], window_start=at(2026, 3, 25), window_end=at(2026, 3, 27)
    )
    assert (segment.start, segment.end) == (at(2026, 3, 25), at(2026, 3, 27))


def test_explain_private_never_shows_the_subject() -> None:
    secret = item(MON_0900, subject="Tandläkare", sensitivity=Sensitivity.PRIVATE)
    got = explain([secret], MON_0900 + timedelta(minutes=5), OWNER, STOCKHOLM, DEFAULT_HOURS)
    assert (got.busy, got.kind, got.show_subject, got.subject) == (
        True, ExplainKind.PRIVATE, False, None,
    )  # fmt: skip
    assert got.until == MON_0900 + timedelta(hours=1)
    assert "Tandläkare" not in repr(got)


def test_explain_tentative_diverts_only_when_the_person_chose_so() -> None:
    maybe = item(MON_0900, subject="Workshop", busy_status=BusyClass.TENTATIVE)
    now = MON_0900 + timedelta(minutes=5)
    default = explain([maybe], now, OWNER, STOCKHOLM, DEFAULT_HOURS)
    assert (default.busy, default.kind, default.reason) == (False, ExplainKind.TENTATIVE, None)
    assert default.until == MON_0900 + timedelta(hours=1)
    chose = explain([maybe], now, OWNER, STOCKHOLM, DEFAULT_HOURS, tentative_diverts=True)
    assert (chose.busy, chose.kind, chose.reason) == (True, ExplainKind.TENTATIVE, Reason.MEETING)


def test_explain_overlap_ranks_oof_over_busy_and_returns_after_the_merged_run() -> None:
    fri = at(2026, 3, 27, 9)
    items = [
        item(fri, minutes=120, subject="Möte", uid="m"),
        item(fri + timedelta(hours=1), minutes=60 * 24 * 2, subject="FER: Fjällen",
             busy_status=BusyClass.OOF, uid="f"),
    ]  # fmt: skip
    got = explain(items, fri + timedelta(hours=1, minutes=30), OWNER, STOCKHOLM, DEFAULT_HOURS)
    assert (got.kind, got.reason, got.subject) == (ExplainKind.OOF, Reason.HOLIDAY, "Fjällen")
    # Ends Sunday 10:00 (after the DST change); back at the start of Monday's hours.
    assert got.until == datetime(2026, 3, 30, 8, tzinfo=STOCKHOLM)
    no_hours = explain(items, fri + timedelta(hours=1), OWNER, STOCKHOLM, NO_FIXED_HOURS)
    assert no_hours.until == datetime(2026, 3, 29, 10, tzinfo=STOCKHOLM)


def test_explain_free_without_items_and_in_oslo() -> None:
    got = explain([], at(2026, 3, 23, 10, zone=OSLO), None, OSLO, DEFAULT_HOURS)
    assert (got.busy, got.kind, got.until, got.reason) == (False, ExplainKind.FREE, None, None)


# -- properties ----------------------------------------------------------------------------
BASE = datetime(2026, 3, 23, 6, tzinfo=UTC)
_subjects = st.sampled_from(
    ["LUN: Lunch", "MÖT; Avstämning", "FER:", "Planering", "", "SJK: x", "Re: y"]
)


@st.composite
def items_strategy(draw: st.DrawFn) -> CalendarItem:
    start = BASE + timedelta(minutes=15 * draw(st.integers(0, 96)))
    return CalendarItem(
        uid=draw(st.sampled_from(["a", "b", "c"])),
        start=start,
        end=start + timedelta(minutes=15 * draw(st.integers(0, 24))),
        subject=draw(_subjects),
        busy_status=draw(st.none() | st.sampled_from(list(BusyClass))),
        transp=draw(st.none() | st.sampled_from(list(Transp))),
        status=draw(st.none() | st.sampled_from(list(EventStatus))),
        participation=draw(st.none() | st.sampled_from(list(Participation))),
        sensitivity=draw(st.sampled_from(list(Sensitivity))),
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(items_strategy(), max_size=12), st.randoms(use_true_random=False))
def test_map_items_is_order_independent(items: list[CalendarItem], rnd: random.Random) -> None:
    shuffled = list(items)
    rnd.shuffle(shuffled)
    hi = BASE + timedelta(days=2)
    assert segments(items, BASE, hi) == segments(shuffled, BASE, hi)
    assert segments(items, BASE, hi) == segments(list(reversed(items)), BASE, hi)


HIDDEN = "Hemlig XQZ"


@settings(max_examples=150, deadline=None)
@given(
    st.lists(items_strategy(), max_size=8),
    st.sampled_from([Sensitivity.PRIVATE, Sensitivity.CONFIDENTIAL]),
    st.sampled_from(["", "LUN: ", "MÖT; "]),
    st.integers(0, 40),
)
def test_a_private_subject_and_location_never_leak(
    others: list[CalendarItem], sensitivity: Sensitivity, code: str, probe: int
) -> None:
    secret = CalendarItem(
        "secret", BASE + timedelta(hours=3), BASE + timedelta(hours=5),
        subject=code + HIDDEN, location="Rum " + HIDDEN, sensitivity=sensitivity,
        busy_status=BusyClass.BUSY,
    )  # fmt: skip
    items = [*others, secret]
    for segment in segments(items, BASE, BASE + timedelta(days=2)):
        assert HIDDEN not in repr(segment)
    now = BASE + timedelta(minutes=15 * probe)
    got = explain(items, now, None, STOCKHOLM, DEFAULT_HOURS)
    assert HIDDEN not in repr(got)
    assert HIDDEN not in got.detail


def test_r18_a_secret_mobile_in_a_subject_is_masked_and_the_rest_kept() -> None:
    """Issue 17: subjects are shown to callers; a secret mobile in one is masked, in any
    form, also after a referral code; the code still chooses the reason."""
    secrets = SecretNumbers.of([replace(ANNA, mobile="+46709993141", secret_mobile=True)], SML_PLAN)
    items = [
        item(MON_0900, subject="Möte, ring 070-999 31 41", uid="a"),
        item(MON_0900 + timedelta(hours=2), subject="LUN: ring +46709993141", uid="b"),
        item(MON_0900 + timedelta(hours=4), subject="Ring Anna 070-123 45 67", uid="c"),
    ]
    lo, hi = MON_0900, MON_0900 + timedelta(hours=8)
    masked = map_items(items, window_start=lo, window_end=hi, secrets=secrets)
    assert [s.label for s in masked] == ["Möte, ring ***", "ring ***", "Ring Anna 070-123 45 67"]
    assert masked[1].reason is Reason.LUNCH
    unmasked = map_items(items, window_start=lo, window_end=hi)
    assert unmasked[0].label == "Möte, ring 070-999 31 41"  # without the directory's secrets
    got = explain(items, MON_0900, OWNER, STOCKHOLM, DEFAULT_HOURS, secrets=secrets)
    assert got.subject == "Möte, ring ***"
