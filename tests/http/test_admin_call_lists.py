"""R19 end to end over HTTP: a manager asks, an admin decides, only that manager downloads
exactly that person's calls for exactly that period; everyone else is refused; every step
is in the audit trail.

Managers: ``t.boss`` manages Anna Berg's unit (sotenas/Socialtjänsten); ``t.other``
manages another unit. Call records are put in the store as the recorder would.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from switchboard.accounts.model import Role, unit_key
from switchboard.calls.model import CallAction, CallRecord, Direction
from tests.http.conftest import EMPLOYEE_EXT, MONDAY_10, OTHER_EXT, Env

START = MONDAY_10 - timedelta(days=7)
END = MONDAY_10 - timedelta(days=1)
REASON = "Review of the on-call rota of the care unit"


def _call(n: int, person_id: str, at_minutes: float, other: str = "+46701110000") -> CallRecord:
    start = START + timedelta(minutes=at_minutes)
    return CallRecord(
        f"hash-{n}",
        start,
        start + timedelta(seconds=30),
        Direction.IN,
        person_id,
        other,
        CallAction.RING,
        200,
    )


async def _setup(env: Env) -> tuple[list[CallRecord], dict[str, dict[str, str]]]:
    anna, johan = env.person(EMPLOYEE_EXT), env.person(OTHER_EXT)
    await env.accounts.set_roles(
        "t.boss", [Role.MANAGER], "test", manages=[unit_key(anna.organisation, anna.unit)]
    )
    await env.accounts.add_account("t.other", None, [Role.MANAGER], None, None, "test")
    await env.accounts.set_roles(
        "t.other", [Role.MANAGER], "test", manages=[unit_key(johan.organisation, johan.unit)]
    )
    inside = [_call(1, anna.person_id, 0), _call(2, anna.person_id, 60 * 24 * 3)]
    outside = [
        _call(3, anna.person_id, -1),
        _call(4, anna.person_id, 60 * 24 * 6),  # exactly at END: excluded
        _call(5, johan.person_id, 30),
    ]
    await env.runtime.engine.store.add_call_records(outside + inside)
    headers = dict(env.headers)
    headers["other_manager"] = await env.session_headers("t.other")
    return inside, headers


def _ask_body(person_id: str) -> dict[str, str]:
    return {
        "person_id": person_id,
        "start": START.isoformat(),
        "end": END.isoformat(),
        "reason": REASON,
    }


async def test_manager_asks_admin_approves_manager_downloads_exactly_that(env: Env) -> None:
    inside, headers = await _setup(env)
    anna = env.person(EMPLOYEE_EXT)
    client = env.client

    response = await client.post(
        "/api/v1/call-lists", json=_ask_body(anna.person_id), headers=headers["manager"]
    )
    assert response.status == 201, await response.text()
    asked = await response.json()
    rid = asked["id"]
    assert (asked["status"], asked["requester"], asked["person_name"]) == (
        "pending",
        "t.boss",
        "Anna Berg",
    )
    records = f"/api/v1/call-lists/{rid}/records"

    # Nothing is released before an admin decides.
    response = await client.get(records, headers=headers["manager"])
    assert response.status == 409

    # The manager cannot approve (not an approver); the admin can, with a comment.
    approve = f"/api/v1/call-lists/{rid}/approve"
    response = await client.post(approve, json={"comment": "ok"}, headers=headers["manager"])
    assert response.status == 403
    response = await client.post(
        approve, json={"comment": "Approved per HR"}, headers=headers["admin"]
    )
    assert response.status == 200, await response.text()
    decided = await response.json()
    assert (decided["status"], decided["decided_by"], decided["downloads_left"]) == (
        "approved",
        "t.root",
        3,
    )

    # Nobody but the manager who asked downloads: not the admin who approved, not another
    # manager, an employee (even Anna herself), a receptionist, a token, or nobody.
    for who in ("admin", "other_manager", "employee", "receptionist", "bearer", "anonymous"):
        response = await client.get(records, headers=headers[who])
        assert response.status in (401, 403), who
        response = await client.get(records + "?format=csv", headers=headers[who])
        assert response.status in (401, 403), who

    response = await client.get(records, headers=headers["manager"])
    assert response.status == 200
    body = await response.json()
    assert [c["call_id_hash"] for c in body["calls"]] == [r.call_id_hash for r in inside]
    assert {c["person_id"] for c in body["calls"]} == {anna.person_id}

    response = await client.get(records + "?format=csv", headers=headers["manager"])
    assert response.status == 200
    assert response.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [r["call_id_hash"] for r in rows] == [r.call_id_hash for r in inside]

    # Three downloads at most.
    assert (await client.get(records, headers=headers["manager"])).status == 200
    assert (await client.get(records, headers=headers["manager"])).status == 409

    # Every step is audited, with the actor, the reason and the comment.
    response = await client.get(
        "/api/v1/admin/audit", params={"person": anna.person_id}, headers=headers["admin"]
    )
    entries = (await response.json())["entries"]
    steps = [(e["actor"], e["action"]) for e in entries if e["action"].startswith("call_list")]
    assert steps == [("t.boss", "call_list_downloaded")] * 3 + [
        ("t.root", "call_list_approved"),
        ("t.boss", "call_list_requested"),
    ]
    details = " ".join(e["detail"] for e in entries)
    assert REASON in details
    assert "Approved per HR" in details


async def test_only_the_managing_manager_may_ask(env: Env) -> None:
    _, headers = await _setup(env)
    anna = env.person(EMPLOYEE_EXT)
    before = await env.audit_count()
    for who in ("employee", "receptionist", "admin", "other_manager", "bearer", "anonymous"):
        response = await env.client.post(
            "/api/v1/call-lists", json=_ask_body(anna.person_id), headers=headers[who]
        )
        assert response.status in (401, 403), who
    assert await env.audit_count() == before
    assert await env.runtime.engine.store.call_list_requests() == []


async def test_a_period_is_bounded_and_a_reason_is_needed(env: Env) -> None:
    _, headers = await _setup(env)
    anna = env.person(EMPLOYEE_EXT)
    for change in (
        {"end": (START + timedelta(days=91)).isoformat()},
        {"end": (MONDAY_10 + timedelta(days=1)).isoformat()},
        {"end": START.isoformat()},
        {"reason": "x"},
    ):
        body = _ask_body(anna.person_id) | change
        response = await env.client.post(
            "/api/v1/call-lists", json=body, headers=headers["manager"]
        )
        assert response.status == 422, change
    body = _ask_body(anna.person_id) | {"requester": "t.root"}
    response = await env.client.post("/api/v1/call-lists", json=body, headers=headers["manager"])
    assert response.status == 400  # the body never names an actor or target beyond person_id


async def test_nobody_approves_their_own_request(env: Env) -> None:
    """An account that is both manager and admin asks; it may not approve itself."""
    anna = env.person(EMPLOYEE_EXT)
    await env.accounts.set_roles(
        "t.root",
        [Role.ADMIN, Role.MANAGER],
        "test",
        manages=[unit_key(anna.organisation, anna.unit)],
    )
    admin = env.headers["admin"]
    response = await env.client.post(
        "/api/v1/call-lists", json=_ask_body(anna.person_id), headers=admin
    )
    assert response.status == 201
    rid = (await response.json())["id"]
    response = await env.client.post(
        f"/api/v1/call-lists/{rid}/approve", json={"comment": "looks fine"}, headers=admin
    )
    assert response.status == 403
    request = await env.runtime.engine.store.call_list_request(rid)
    assert request is not None
    assert request.status.value == "pending"


async def test_a_rejected_request_releases_nothing(env: Env) -> None:
    _, headers = await _setup(env)
    anna = env.person(EMPLOYEE_EXT)
    response = await env.client.post(
        "/api/v1/call-lists", json=_ask_body(anna.person_id), headers=headers["manager"]
    )
    rid = (await response.json())["id"]
    response = await env.client.post(
        f"/api/v1/call-lists/{rid}/reject",
        json={"comment": "Not a valid reason"},
        headers=headers["admin"],
    )
    assert response.status == 200
    response = await env.client.get(f"/api/v1/call-lists/{rid}/records", headers=headers["manager"])
    assert response.status == 409
    # A decision is final.
    response = await env.client.post(
        f"/api/v1/call-lists/{rid}/approve", json={"comment": "second go"}, headers=headers["admin"]
    )
    assert response.status == 409


async def test_lists_show_an_admin_everything_and_others_their_own(env: Env) -> None:
    _, headers = await _setup(env)
    anna = env.person(EMPLOYEE_EXT)
    await env.client.post(
        "/api/v1/call-lists", json=_ask_body(anna.person_id), headers=headers["manager"]
    )

    async def ids(who: str) -> int:
        response = await env.client.get("/api/v1/call-lists", headers=headers[who])
        assert response.status == 200, who
        return len((await response.json())["requests"])

    assert await ids("admin") == 1
    assert await ids("manager") == 1
    assert await ids("other_manager") == 0
    assert await ids("employee") == 0
    response = await env.client.get("/api/v1/call-lists", headers=headers["anonymous"])
    assert response.status == 401
