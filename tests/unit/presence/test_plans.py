"""Planned referrals beside the current status (issue 16): resolution and transitions."""

from __future__ import annotations

from datetime import datetime

import pytest

from switchboard.calendar_sync.transitions import instants
from switchboard.presence.model import (
    ManualStatus,
    PlannedReferral,
    PresenceError,
    PresenceInputs,
    Reason,
    Referral,
    Source,
)
from switchboard.presence.plans import in_force, overlapping, pending
from switchboard.presence.resolve import resolve
from tests.unit.core_fakes import ANNA, DEFAULT_HOURS, STOCKHOLM, at

# Wednesday 26 November 2025: lunch today, a holiday planned for December.
LUNCH = ManualStatus(
    Referral(Reason.LUNCH, until=at(2025, 11, 26, 13)), "anna", at(2025, 11, 26, 12)
)
HOLIDAY = PlannedReferral(
    "h1",
    Referral(Reason.HOLIDAY, until=at(2025, 12, 29, 8)),
    "anna",
    at(2025, 11, 26, 12, 5),
    at(2025, 12, 22, 8),
)
BACK_EARLY = ManualStatus(None, "anna", at(2025, 12, 23, 9))


def _resolve(inputs: PresenceInputs, now: datetime) -> tuple[Source | None, Reason | None]:
    result = resolve(ANNA, inputs, now, DEFAULT_HOURS, STOCKHOLM)
    referral = result.referral
    return result.source, None if referral is None else referral.reason


RESOLVED = [
    ("lunch-stays-current-while-planning", LUNCH, at(2025, 11, 26, 12, 30), Reason.LUNCH),
    ("nothing-between-lunch-and-plan", LUNCH, at(2025, 12, 1, 10), None),
    ("the-plan-applies-from-its-start", LUNCH, at(2025, 12, 22, 8), Reason.HOLIDAY),
    ("the-plan-beats-an-earlier-current", BACK_EARLY, at(2025, 12, 22, 10), Reason.HOLIDAY),
    ("a-later-current-beats-the-plan", BACK_EARLY, at(2025, 12, 23, 10), None),
    ("the-plan-ends-at-its-return", LUNCH, at(2025, 12, 29, 8), None),
]


@pytest.mark.parametrize(
    ("manual", "now", "reason"), [r[1:] for r in RESOLVED], ids=[r[0] for r in RESOLVED]
)
def test_r6_a_plan_applies_beside_the_current_status(
    manual: ManualStatus, now: datetime, reason: Reason | None
) -> None:
    source, got = _resolve(PresenceInputs(manual, (), (HOLIDAY,)), now)
    assert got is reason
    if reason is not None:
        assert source is Source.MANUAL


def test_r10_the_plan_in_force_says_its_return_and_that_it_was_planned() -> None:
    result = resolve(
        ANNA, PresenceInputs(LUNCH, (), (HOLIDAY,)), at(2025, 12, 22, 9), DEFAULT_HOURS, STOCKHOLM
    )
    assert result.referral is not None
    assert result.referral.until == at(2025, 12, 29, 8)
    assert "2025-12-22 08:00 (planned)" in result.explanation
    # Working hours end first; the referral still applies then (a manual one beats them).
    assert result.next_change == at(2025, 12, 22, 16, 30)


def test_r6_the_start_and_the_return_of_a_plan_are_changes() -> None:
    inputs = PresenceInputs(LUNCH, (), (HOLIDAY,))
    # After lunch on a day off the hours (no working hours): the next change is the plan.
    result = resolve(ANNA, inputs, at(2025, 12, 21, 12), DEFAULT_HOURS, STOCKHOLM)
    assert result.next_change == at(2025, 12, 22, 8)
    assert {HOLIDAY.starts, at(2025, 12, 29, 8)} <= instants(inputs)


def test_in_force_prefers_the_latest_start_and_keeps_an_expired_current_for_its_note() -> None:
    assert in_force(LUNCH, (HOLIDAY,), at(2025, 12, 22, 9)) == HOLIDAY.status()
    assert in_force(LUNCH, (HOLIDAY,), at(2025, 12, 1, 9)) is LUNCH
    assert in_force(None, (HOLIDAY,), at(2025, 12, 1, 9)) is None


def test_pending_drops_ended_plans_and_orders_by_start() -> None:
    early = PlannedReferral(
        "e1",
        Referral(Reason.TRAINING, until=at(2025, 12, 2, 16)),
        "anna",
        LUNCH.set_at,
        at(2025, 12, 1, 8),
    )
    assert pending((HOLIDAY, early), at(2025, 11, 27, 8)) == (early, HOLIDAY)
    assert pending((HOLIDAY, early), at(2025, 12, 3, 8)) == (HOLIDAY,)
    assert pending((HOLIDAY, early), at(2025, 12, 29, 8)) == ()


OVERLAPS = [
    ("inside", at(2025, 12, 23, 8), at(2025, 12, 24, 8), True),
    ("ends-where-it-starts", at(2025, 12, 20, 8), at(2025, 12, 22, 8), False),
    ("starts-where-it-ends", at(2025, 12, 29, 8), at(2025, 12, 30, 8), False),
    ("open-ended-before", at(2025, 12, 1, 8), None, True),
    ("open-ended-after", at(2025, 12, 29, 8), None, False),
    ("covers-it", at(2025, 12, 1, 8), at(2026, 1, 5, 8), True),
]


@pytest.mark.parametrize(
    ("starts", "end", "clash"), [r[1:] for r in OVERLAPS], ids=[r[0] for r in OVERLAPS]
)
def test_overlapping_finds_the_plan_a_new_one_would_meet(
    starts: datetime, end: datetime | None, clash: bool
) -> None:
    assert (overlapping((HOLIDAY,), starts, end) is HOLIDAY) is clash


def test_a_plan_must_end_after_it_starts() -> None:
    with pytest.raises(PresenceError, match="after its start"):
        PlannedReferral(
            "x",
            Referral(Reason.HOLIDAY, until=at(2025, 12, 1)),
            "anna",
            LUNCH.set_at,
            at(2025, 12, 2),
        )
