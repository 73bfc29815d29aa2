"""decide(): what a caller gets for one of our numbers (R3, R4, R8, R10, R11)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.directory.model import Arrangement, Person
from switchboard.presence.model import (
    BusyClass,
    CalendarSegment,
    ManualStatus,
    PresenceInputs,
    Reason,
    Referral,
    ReferralKind,
    Source,
)
from switchboard.routing.decide import decide
from switchboard.routing.model import (
    Action,
    Announce,
    Call,
    CallerOption,
    Decision,
    Divert,
    NoAnswer,
    Reject,
    Ring,
    Target,
    TargetKind,
    Voicemail,
)
from tests.unit.core_fakes import ANNA, BO, CECILIA, RECEPTIONIST, SML_PLAN, FakeSnapshot, at

# Wednesday 26 November 2025; working hours mon-fri 08:00-16:30 in Stockholm.
WED_1100 = at(2025, 11, 26, 11)
WED_1800 = at(2025, 11, 26, 18)
LUNCH = Referral(Reason.LUNCH, until=at(2025, 11, 26, 13))


def _with_manual(person: Person, referral: Referral | None) -> FakeSnapshot:
    manual = ManualStatus(referral, person.person_id, at(2025, 11, 26, 10, 30))
    return FakeSnapshot(inputs=((person.person_id, PresenceInputs(manual)),))


def _ring(decision: Decision) -> Ring:
    assert isinstance(decision, Ring), decision
    return decision


def _announce(decision: Decision) -> Announce:
    assert isinstance(decision, Announce), decision
    return decision


ANNA_FORMS = [
    ("extension", "64123"),
    ("national", "0523-664123"),
    ("national-spaced", "0523 66 41 23"),
    ("e164", "+46523664123"),
    ("00-prefix", "0046523664123"),
]


@pytest.mark.parametrize("dialled", [row[1] for row in ANNA_FORMS], ids=[r[0] for r in ANNA_FORMS])
def test_r11_available_person_rings_devices_and_mobile(dialled: str) -> None:
    ring = _ring(decide(Call(dialled), FakeSnapshot(ring_timeout=20), WED_1100))
    assert ring.action is Action.RING
    assert ring.person == ANNA
    assert ring.targets == (
        Target(TargetKind.DEVICES, "64123"),
        Target(TargetKind.MOBILE, "+46701234567"),
    )
    assert ring.ring_timeout == 20
    assert ring.on_no_answer is NoAnswer.VOICEMAIL
    assert ring.announcement is None
    assert "reaches extension 64123 (Anna Berg)" in ring.explanation
    assert "voicemail greeting plays (R11)" in ring.explanation


def test_r4_person_without_mobile_rings_devices_only() -> None:
    ring = _ring(decide(Call("0523-613001"), FakeSnapshot(), WED_1100))
    assert ring.person == BO
    assert ring.targets == (Target(TargetKind.DEVICES, "13001"),)
    assert "no mobile, R4" in ring.explanation


def test_r4_secret_mobile_is_still_rung() -> None:
    secret = replace(ANNA, secret_mobile=True)
    ring = _ring(decide(Call("64123"), FakeSnapshot(people=(secret,)), WED_1100))
    assert Target(TargetKind.MOBILE, "+46701234567") in ring.targets
    assert "+46701234567" not in ring.explanation


ANNOUNCES = [
    (
        "org-with-reception",
        ANNA,
        "64123",
        "Anna Berg is at lunch, back at 13:00.",
        (CallerOption.LEAVE_MESSAGE, CallerOption.RECEPTION),
        "64000",
    ),
    (
        "org-without-reception",
        BO,
        "13001",
        "Bo Ek är på lunch, tillbaka klockan 13:00.",
        (CallerOption.LEAVE_MESSAGE,),
        None,
    ),
    (
        "the-receptionist-herself",
        RECEPTIONIST,
        "64000",
        "Växeln Sotenäs är på lunch, tillbaka klockan 13:00.",
        (CallerOption.LEAVE_MESSAGE,),
        None,
    ),
]


@pytest.mark.parametrize(
    ("person", "dialled", "announcement", "options", "reception"),
    [row[1:] for row in ANNOUNCES],
    ids=[row[0] for row in ANNOUNCES],
)
def test_r10_closed_referral_announces_instead_of_ringing(
    person: Person,
    dialled: str,
    announcement: str,
    options: tuple[CallerOption, ...],
    reception: str | None,
) -> None:
    announce = _announce(decide(Call(dialled), _with_manual(person, LUNCH), WED_1100))
    assert announce.action is Action.ANNOUNCE
    assert announce.person == person
    assert announce.referral == LUNCH
    assert announce.announcement == announcement
    assert announce.options == options
    assert announce.reception == reception
    assert "instead of ringing (R10)" in announce.explanation
    assert ("press 0 for the reception" in announce.explanation) is (reception is not None)


def test_r7_calendar_busy_announces_with_the_return_time() -> None:
    meeting = CalendarSegment(
        at(2025, 11, 26, 10), at(2025, 11, 26, 14, 30), BusyClass.BUSY, Reason.MEETING
    )
    snapshot = FakeSnapshot(inputs=((ANNA.person_id, PresenceInputs(None, (meeting,))),))
    announce = _announce(decide(Call("64123"), snapshot, WED_1100))
    assert announce.referral.source is Source.CALENDAR
    assert announce.announcement == "Anna Berg is in a meeting, back at 14:30."


def test_r10_private_calendar_item_of_reason_other_announces_without_subject() -> None:
    item = CalendarSegment(
        at(2025, 11, 26, 10), at(2025, 11, 26, 12), BusyClass.OOF, Reason.OTHER, private=True
    )
    snapshot = FakeSnapshot(inputs=((ANNA.person_id, PresenceInputs(None, (item,))),))
    announce = _announce(decide(Call("64123"), snapshot, WED_1100))
    assert announce.announcement == "Anna Berg is not available, back at 12:00."


def test_open_referral_rings_then_announces() -> None:
    referral = Referral(Reason.MEETING, ReferralKind.OPEN, until=at(2025, 11, 26, 12))
    ring = _ring(decide(Call("64123"), _with_manual(ANNA, referral), WED_1100))
    assert ring.on_no_answer is NoAnswer.ANNOUNCE
    assert ring.announcement == "Anna Berg is in a meeting, back at 12:00."
    assert len(ring.targets) == 2
    assert "open referral plays" in ring.explanation


@pytest.mark.parametrize("to", ["64000", "+46311234567"], ids=["extension", "outside-number"])
def test_referral_with_divert_sends_the_call_on(to: str) -> None:
    referral = Referral(Reason.TRAINING, until=at(2025, 11, 26, 15), divert_to=to)
    decision = decide(Call("64123"), _with_manual(ANNA, referral), WED_1100)
    assert isinstance(decision, Divert), decision
    assert decision.action is Action.DIVERT
    assert decision.to == to
    assert decision.referral == referral
    assert f"diverts calls to {to}" in decision.explanation


REJECTS = [
    ("not-our-series", "0523664800", 404, "not in any of our number series"),
    ("foreign", "+4520123456", 404, "not in any of our number series"),
    ("a-mobile", "070-123 45 67", 404, "not in any of our number series"),
    ("five-digits-not-ours", "64800", 404, "not in any of our number series"),
    ("unassigned-extension", "64500", 404, "belongs to our series (sotenas 0523 664000–664799)"),
    ("unassigned-national", "0524-18499", 404, "Extension 18499 belongs to our series"),
    ("letters", "anna", 484, "cannot be read"),
    ("empty", "", 484, "cannot be read"),
]


@pytest.mark.parametrize(
    ("dialled", "status", "why"), [row[1:] for row in REJECTS], ids=[row[0] for row in REJECTS]
)
def test_r1_calls_not_for_anyone_of_ours_are_rejected(dialled: str, status: int, why: str) -> None:
    decision = decide(Call(dialled), FakeSnapshot(), WED_1100)
    assert isinstance(decision, Reject), decision
    assert decision.action is Action.REJECT
    assert decision.status == status
    assert decision.reason == ("Not Found" if status == 404 else "Address Incomplete")
    assert why in decision.explanation


def test_r8_work_only_outside_hours_announces() -> None:
    work_only = replace(CECILIA, arrangement=Arrangement.WORK_ONLY)
    snapshot = FakeSnapshot(people=(work_only,))
    announce = _announce(decide(Call("0524-18007"), snapshot, WED_1800))
    assert announce.referral.reason is Reason.OUTSIDE_HOURS
    assert announce.referral.source is Source.SCHEDULE
    assert announce.announcement == (
        "Cecilia Holm är utanför arbetstid, tillbaka i morgon klockan 08:00."
    )
    assert announce.options == (CallerOption.LEAVE_MESSAGE, CallerOption.RECEPTION)
    assert announce.reception == "18000"


@pytest.mark.parametrize(
    ("referral", "announcement"),
    [
        (None, "Cecilia Holm är utanför arbetstid, tillbaka i morgon klockan 08:00."),
        (
            Referral(Reason.MEETING, ReferralKind.OPEN, until=at(2025, 11, 26, 20)),
            "Cecilia Holm är på möte, tillbaka klockan 20:00.",
        ),
    ],
    ids=["manual-available", "open-referral"],
)
def test_r8_work_only_manual_status_does_not_ring_outside_hours(
    referral: Referral | None, announcement: str
) -> None:
    work_only = replace(CECILIA, arrangement=Arrangement.WORK_ONLY)
    manual = ManualStatus(referral, "cecilia", at(2025, 11, 26, 16))
    snapshot = FakeSnapshot(
        people=(work_only,), inputs=((work_only.person_id, PresenceInputs(manual)),)
    )
    announce = _announce(decide(Call("18007"), snapshot, WED_1800))
    assert announce.announcement == announcement


def test_r9_private_with_ring_after_hours_rings_outside_hours() -> None:
    rung = replace(CECILIA, ring_after_hours=True)
    ring = _ring(decide(Call("18007"), FakeSnapshot(people=(rung,)), WED_1800))
    assert ring.targets[-1] == Target(TargetKind.MOBILE, "+46709876543")
    assert ring.on_no_answer is NoAnswer.ANNOUNCE
    assert (
        ring.announcement == "Cecilia Holm är utanför arbetstid, tillbaka i morgon klockan 08:00."
    )


@pytest.mark.parametrize(
    "caller",
    ["+46701234567", "070-123 45 67", "0046701234567"],
    ids=["e164", "national", "00-prefix"],
)
def test_call_from_owners_own_mobile_goes_to_voicemail(caller: str) -> None:
    decision = decide(Call("64123", caller), FakeSnapshot(), WED_1100)
    assert isinstance(decision, Voicemail), decision
    assert decision.action is Action.VOICEMAIL
    assert decision.person == ANNA
    assert decision.availability is None
    assert "owner's own mobile" in decision.explanation


@pytest.mark.parametrize(
    "caller",
    ["+46709876543", "64000", "anonymous", "+4520123456"],
    ids=["another-mobile", "a-colleague", "unreadable", "foreign"],
)
def test_call_from_anyone_else_rings(caller: str) -> None:
    ring = _ring(decide(Call("64123", caller), FakeSnapshot(), WED_1100))
    assert ring.person == ANNA


def test_own_mobile_check_needs_a_mobile() -> None:
    # Bo has no mobile: a caller number cannot be "his own mobile".
    ring = _ring(decide(Call("13001", "+46701234567"), FakeSnapshot(), WED_1100))
    assert ring.person == BO


ALL_DECISIONS = [
    ("ring", Call("64123"), FakeSnapshot(), WED_1100),
    ("announce", Call("64123"), _with_manual(ANNA, LUNCH), WED_1100),
    (
        "divert",
        Call("64123"),
        _with_manual(ANNA, replace(LUNCH, divert_to="64000")),
        WED_1100,
    ),
    ("voicemail", Call("64123", "+46701234567"), FakeSnapshot(), WED_1100),
    ("reject-404", Call("64500"), FakeSnapshot(), WED_1100),
    ("reject-484", Call("x"), FakeSnapshot(), WED_1100),
    ("outside-hours", Call("13001"), FakeSnapshot(), WED_1800),
    ("manual-available", Call("13001"), _with_manual(BO, None), WED_1800),
]


@pytest.mark.parametrize(
    ("call", "snapshot", "now"),
    [row[1:] for row in ALL_DECISIONS],
    ids=[row[0] for row in ALL_DECISIONS],
)
def test_every_decision_explains_itself(call: Call, snapshot: FakeSnapshot, now: datetime) -> None:
    decision = decide(call, snapshot, now)
    assert decision.explanation.strip()
    assert decision.explanation.endswith(".")


_DIALLED = st.text(alphabet="0123456789+ -()/", max_size=18) | st.text(max_size=18)


@settings(max_examples=200, deadline=None)
@given(dialled=_DIALLED, caller=st.none() | _DIALLED)
def test_decide_answers_any_dialled_string(dialled: str, caller: str | None) -> None:
    decision = decide(Call(dialled, caller), FakeSnapshot(), WED_1100)
    assert decision.explanation.strip()
    if isinstance(decision, Reject):
        assert decision.status in (404, 484)
    else:
        assert decision.person.extension == SML_PLAN.extension_of(dialled)
