"""`switchboard presence plan | plans | cancel` (issue 16): an administrator plans, lists
and cancels a person's planned referrals; the current status stays as it is."""

from __future__ import annotations

from tests.cli.conftest import DEMO_CSV, Run

MONDAY = "2026-11-23"


def test_a_plan_beside_lunch_is_listed_applies_then_and_is_cancelled(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV))
    now = ("--now", f"{MONDAY}T11:50")
    sb(*now, "presence", "set", "64123", "--reason", "lunch", "--until", "13:00")
    shown = sb(
        *now,
        "presence",
        "plan",
        "64123",
        "--reason",
        "holiday",
        "--from",
        "2026-12-21T08:00",
        "--until",
        "2026-12-29T08:00",
        "--by",
        "admin",
    ).json()
    assert shown["referral"]["reason"] == "lunch"  # planning kept lunch
    [plan] = shown["plans"]
    assert plan["reason"] == "holiday"
    assert plan["starts"] == "2026-12-21T08:00:00+01:00"
    assert plan["until"] == "2026-12-29T08:00:00+01:00"
    assert plan["set_by"] == "admin"

    listed = sb(*now, "presence", "plans", "64123").json()
    assert [p["id"] for p in listed] == [plan["id"]]
    during = sb("route", "--at", "2026-12-22T10:00", "64123").json()
    assert during["action"] == "announce"
    assert during["reason"] == "holiday"

    overlap = sb(
        *now,
        "presence",
        "plan",
        "64123",
        "--reason",
        "training",
        "--from",
        "2026-12-22T08:00",
        expect=1,
    )
    assert "2026-12-21 08:00" in overlap.err

    cancelled = sb(*now, "presence", "cancel", "64123", plan["id"])
    assert "cancelled plan" in cancelled.out
    assert sb(*now, "presence", "plans", "64123").json() == []
    unknown = sb(*now, "presence", "cancel", "64123", plan["id"], expect=1)
    assert "plan_id" in unknown.err
    assert sb("route", "--at", "2026-12-22T10:00", "64123").json()["action"] == "ring"


def test_plan_needs_its_start(sb: Run) -> None:
    sb("directory", "import", str(DEMO_CSV))
    refused = sb("presence", "plan", "64123", "--reason", "holiday", expect=2)
    assert "--from" in refused.err
