"""Planned referrals over the API (issue 16): planning next month's holiday while at lunch
today keeps lunch; plans are listed, cancelled one by one, shown on the reception's rows;
the permissions are those of setting presence; bad input is refused naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.routing.model import Announce, Call
from tests.http.conftest import EMPLOYEE_EXT, OTHER_EXT, Env

HOLIDAY = {
    "reason": "holiday",
    "starts": "2026-12-21T08:00:00+01:00",
    "until": "2026-12-29T08:00:00+01:00",
    "text": "Jul",
}


def _base(env: Env, extension: str = EMPLOYEE_EXT) -> str:
    return f"/api/v1/people/{env.person(extension).person_id}"


async def _plan(
    env: Env, body: dict[str, Any], who: str = "employee", extension: str = EMPLOYEE_EXT
) -> tuple[int, Any]:
    response = await env.client.post(
        f"{_base(env, extension)}/plans", json=body, headers=env.headers[who]
    )
    return response.status, await response.json()


async def _availability(env: Env, who: str = "employee") -> Any:
    response = await env.client.get(f"{_base(env)}/availability", headers=env.headers[who])
    assert response.status == 200
    return await response.json()


async def test_planning_a_holiday_while_at_lunch_keeps_lunch(env: Env) -> None:
    before = await _availability(env)
    assert before["referral"]["reason"] == "lunch"  # the demo's Anna is at lunch till 10:45

    status, body = await _plan(env, HOLIDAY)
    assert status == 201
    plan = body["plan"]
    assert plan["reason"] == "holiday"
    assert plan["starts"] == "2026-12-21T08:00:00+01:00"
    assert plan["until"] == "2026-12-29T08:00:00+01:00"
    assert plan["source"] == "manual"
    assert plan["in_force"] is False
    assert [p["id"] for p in body["plans"]] == [plan["id"]]

    after = await _availability(env)
    assert after["referral"]["reason"] == "lunch"  # still at lunch: planning wiped nothing
    assert after["manual"]["referral"]["reason"] == "lunch"
    assert [p["id"] for p in after["plans"]] == [plan["id"]]
    assert after["planned"][0]["id"] == plan["id"]

    # On 22 December the plan is in force: a caller hears the holiday and its return (R10).
    engine = env.runtime.engine
    december = env.clock.at.replace(month=12, day=22)
    anna = env.person(EMPLOYEE_EXT)
    during = engine.availability(anna, december)
    assert during.referral is not None
    assert during.referral.reason.value == "holiday"
    assert during.available is False
    decision = engine.route(Call(EMPLOYEE_EXT), december)
    assert isinstance(decision, Announce)
    assert "29" in decision.announcement


async def test_setting_the_current_status_leaves_the_plans(env: Env) -> None:
    _, body = await _plan(env, HOLIDAY)
    made = body["plan"]["id"]
    cleared = await env.client.delete(f"{_base(env)}/availability", headers=env.headers["employee"])
    assert cleared.status == 200
    assert [p["id"] for p in (await cleared.json())["plans"]] == [made]
    put = await env.client.put(
        f"{_base(env)}/availability", json={"state": "available"}, headers=env.headers["employee"]
    )
    assert [p["id"] for p in (await put.json())["plans"]] == [made]


async def test_a_future_start_on_the_old_route_adds_a_plan_beside_lunch(env: Env) -> None:
    put = await env.client.put(
        f"{_base(env)}/availability",
        json={"state": "referral", **HOLIDAY},
        headers=env.headers["employee"],
    )
    assert put.status == 200
    body = await put.json()
    assert body["referral"]["reason"] == "lunch"
    assert [p["reason"] for p in body["plans"]] == ["holiday"]


async def test_plans_are_listed_by_start_and_cancelled_one_by_one(env: Env) -> None:
    _, first = await _plan(env, HOLIDAY)
    training = {
        "reason": "training",
        "starts": "2026-12-01T08:00:00+01:00",
        "until": "2026-12-01T16:00:00+01:00",
    }
    _, second = await _plan(env, training)
    listed = await env.client.get(f"{_base(env)}/plans", headers=env.headers["employee"])
    plans = (await listed.json())["plans"]
    assert [p["reason"] for p in plans] == ["training", "holiday"]

    holiday_id = first["plan"]["id"]
    gone = await env.client.delete(
        f"{_base(env)}/plans/{holiday_id}", headers=env.headers["employee"]
    )
    assert gone.status == 200
    assert [p["id"] for p in (await gone.json())["plans"]] == [second["plan"]["id"]]
    again = await env.client.delete(
        f"{_base(env)}/plans/{holiday_id}", headers=env.headers["employee"]
    )
    assert again.status == 404
    assert "plan_id" in (await again.json())["error"]["message"]
    assert (await _availability(env))["referral"]["reason"] == "lunch"


async def test_the_reception_plans_on_behalf_and_sees_it_on_the_row(env: Env) -> None:
    status, body = await _plan(env, HOLIDAY, who="receptionist")
    assert status == 201
    assert body["plan"]["source"] == "on_behalf"
    assert body["plan"]["set_by"] == "t.reception"
    found = await env.client.get("/api/v1/people?q=anna+berg", headers=env.headers["receptionist"])
    [anna] = [p for p in (await found.json())["people"] if p["extension"] == EMPLOYEE_EXT]
    assert [p["reason"] for p in anna["presence"]["planned"]] == ["holiday"]
    assert anna["presence"]["planned"][0]["until"] == "2026-12-29T08:00:00+01:00"


async def test_plans_need_the_permissions_of_setting_presence(env: Env) -> None:
    status, _ = await _plan(env, HOLIDAY, who="employee", extension=OTHER_EXT)
    assert status == 403
    status, _ = await _plan(env, HOLIDAY, who="anonymous")
    assert status == 401
    listed = await env.client.get(f"{_base(env)}/plans", headers=env.headers["anonymous"])
    assert listed.status == 401
    _, made = await _plan(env, HOLIDAY, who="receptionist", extension=OTHER_EXT)
    cancel = await env.client.delete(
        f"{_base(env, OTHER_EXT)}/plans/{made['plan']['id']}", headers=env.headers["employee"]
    )
    assert cancel.status == 403


BAD = [
    ("end-before-start", {**HOLIDAY, "until": "2026-12-20T08:00:00+01:00"}, 422, "until"),
    ("start-in-the-past", {**HOLIDAY, "starts": "2026-11-20T08:00:00+01:00"}, 422, "starts"),
    ("no-start", {"reason": "holiday"}, 400, "starts"),
    ("start-without-zone", {**HOLIDAY, "starts": "2026-12-21T08:00:00"}, 400, "starts"),
    ("unknown-reason", {**HOLIDAY, "reason": "nap"}, 400, "reason"),
    ("outside-hours-by-hand", {**HOLIDAY, "reason": "outside_hours"}, 400, "reason"),
    ("a-body-naming-a-person", {**HOLIDAY, "person_id": "x"}, 400, "person_id"),
]


@pytest.mark.parametrize(("body", "status", "field"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
async def test_bad_input_is_refused_naming_the_field(
    env: Env, body: dict[str, Any], status: int, field: str
) -> None:
    got, answer = await _plan(env, body)
    assert got == status
    error = answer["error"]
    assert error["field"] == field
    assert error["code"] != "refused"  # a code the pages can word, not the catch-all
    listed = await env.client.get(f"{_base(env)}/plans", headers=env.headers["employee"])
    assert (await listed.json())["plans"] == []


async def test_an_overlapping_plan_is_refused_naming_the_other_plans_dates(env: Env) -> None:
    await _plan(env, HOLIDAY)
    status, answer = await _plan(
        env,
        {"reason": "training", "starts": "2026-12-28T08:00:00+01:00", "until": None},
    )
    assert status == 422
    error = answer["error"]
    assert error["field"] == "starts"
    assert error["code"] == "plan_overlap"
    assert "2026-12-21 08:00" in error["message"]
    assert "2026-12-29 08:00" in error["message"]
    # Right after it is fine: a plan ends where the next may start.
    status, _ = await _plan(env, {**HOLIDAY, "starts": "2026-12-29T08:00:00+01:00", "until": None})
    assert status == 201


async def test_plan_writes_are_audited_as_the_account(env: Env) -> None:
    _, body = await _plan(env, HOLIDAY, who="receptionist")
    await env.client.delete(
        f"{_base(env)}/plans/{body['plan']['id']}", headers=env.headers["receptionist"]
    )
    entries = await env.runtime.engine.store.audit(subject=env.person(EMPLOYEE_EXT).person_id)
    actions = [(e.actor, e.action) for e in entries]
    assert ("t.reception", "plan_added") in actions
    assert ("t.reception", "plan_cancelled") in actions
