"""Every route of the JSON API: the success shape and the failure shapes."""

from __future__ import annotations

from typing import Any

from switchboard.http.app import page_routes
from tests.http.conftest import EMPLOYEE_EXT, OTHER_EXT, Env


async def _json(env: Env, method: str, path: str, who: str, **kwargs: Any) -> tuple[int, Any]:
    response = await env.client.request(method, path, headers=env.headers[who], **kwargs)
    return response.status, await response.json()


async def test_search_finds_with_a_typo_and_folds_nordic_letters(env: Env) -> None:
    status, body = await _json(env, "GET", "/api/v1/people?q=hadad", "receptionist")
    assert status == 200
    assert [p["name"] for p in body["people"]] == ["Fatima Haddad"]
    status, body = await _json(env, "GET", "/api/v1/people?q=socialtjanst", "receptionist")
    assert "Anna Berg" in [p["name"] for p in body["people"]]


async def test_search_result_carries_presence_line_and_calendar(env: Env) -> None:
    status, body = await _json(env, "GET", "/api/v1/people?q=64123", "receptionist")
    assert status == 200
    [anna] = body["people"]
    assert anna["extension"] == EMPLOYEE_EXT
    assert anna["number"] == "+46523664123"
    assert anna["national"] == "0523664123"
    # One national style for people to read (issue 16).
    assert anna["national_display"] == "0523-66 41 23"
    assert anna["mobile_display"] == "070-174 06 05"
    presence = anna["presence"]
    assert presence["available"] is False
    assert presence["referral"]["reason"] == "lunch"
    assert presence["referral"]["until"].startswith("2026-11-23T10:45")
    assert presence["line"] == {"in_call": False, "calls": 0}


async def test_calendar_hint_says_busy_for_the_next_hour(env: Env) -> None:
    # The demo puts the second person with an extension in a meeting until 11:00.
    people = [p for p in env.runtime.engine.view.people() if p.extension]
    second = people[1]
    status, body = await _json(
        env, "GET", f"/api/v1/people/{second.person_id}/availability", "receptionist"
    )
    assert status == 200
    hint = body["calendar"]
    assert hint["now"] is True
    assert hint["reason"] == "meeting"
    assert "for the next hour" in hint["text"]
    assert hint["ends"].startswith("2026-11-23T11:00")


async def test_line_state_shows_a_call_in_progress(env: Env) -> None:
    johan = env.person(OTHER_EXT)
    env.runtime.lines.changed(johan.person_id, True)
    status, body = await _json(
        env, "GET", f"/api/v1/people/{johan.person_id}/availability", "receptionist"
    )
    assert status == 200
    assert body["line"] == {"in_call": True, "calls": 1}


async def test_search_refuses_bad_limits_and_long_queries(env: Env) -> None:
    for query in ("limit=0", "limit=x", "limit=201", "q=" + "a" * 201):
        status, body = await _json(env, "GET", f"/api/v1/people?{query}", "receptionist")
        assert status == 400, query
        assert body["error"]["status"] == 400
        assert body["error"]["message"]


async def test_empty_query_finds_nobody(env: Env) -> None:
    status, body = await _json(env, "GET", "/api/v1/people?q=", "receptionist")
    assert (status, body["people"]) == (200, [])


async def test_get_person_and_unknown_id(env: Env) -> None:
    anna = env.person(EMPLOYEE_EXT)
    status, body = await _json(env, "GET", f"/api/v1/people/{anna.person_id}", "employee")
    assert (status, body["name"], body["id"]) == (200, "Anna Berg", anna.person_id)
    status, body = await _json(env, "GET", "/api/v1/people/nobody-here", "employee")
    assert status == 404
    assert body["error"]["status"] == 404


async def test_put_referral_then_available_then_clear(env: Env) -> None:
    johan = env.person(OTHER_EXT)
    path = f"/api/v1/people/{johan.person_id}/availability"
    status, body = await _json(
        env,
        "PUT",
        path,
        "receptionist",
        json={"state": "referral", "reason": "meeting", "until": "2026-11-23T11:30:00+01:00"},
    )
    assert status == 200, body
    assert body["available"] is False
    assert body["referral"]["reason"] == "meeting"
    assert body["referral"]["source"] == "on_behalf"
    assert body["manual"]["set_by"] == "t.reception"
    entries = await env.runtime.engine.store.audit(1)
    assert entries[0].actor == "t.reception"
    assert entries[0].subject == johan.person_id

    status, body = await _json(env, "PUT", path, "receptionist", json={"state": "available"})
    assert (status, body["available"]) == (200, True)
    status, body = await _json(env, "DELETE", path, "receptionist")
    assert (status, body["manual"]) == (200, None)


async def test_an_employees_own_referral_is_theirs_not_on_behalf(env: Env) -> None:
    """R6: the person set it themselves, signed in as their own account."""
    anna = env.person(EMPLOYEE_EXT)
    status, body = await _json(
        env,
        "PUT",
        f"/api/v1/people/{anna.person_id}/availability",
        "employee",
        json={"state": "referral", "reason": "lunch", "until": "2026-11-23T13:00:00+01:00"},
    )
    assert status == 200, body
    assert body["referral"]["source"] == "manual"


async def test_put_refusals_change_nothing(env: Env) -> None:
    johan = env.person(OTHER_EXT)
    path = f"/api/v1/people/{johan.person_id}/availability"
    before = await env.version()
    bad_bodies: list[tuple[Any, int]] = [
        ({"state": "referral", "reason": "outside_hours"}, 400),
        ({"state": "referral", "reason": "other"}, 422),  # R6: "other" needs a text
        ({"state": "referral", "reason": "lunch", "until": "2026-11-23T09:00:00+01:00"}, 422),
        ({"state": "referral", "reason": "lunch", "until": "11:00"}, 400),
        ({"state": "referral", "reason": "lunch", "until": "2026-11-23T11:00:00"}, 400),
        ({"state": "away"}, 400),
        ({"state": "available", "reason": "lunch"}, 400),
        ({"state": "available", "person_id": "someone-else"}, 400),
        ([1, 2], 400),
    ]
    for body, expected in bad_bodies:
        status, answer = await _json(env, "PUT", path, "receptionist", json=body)
        assert status == expected, (body, answer)
        assert answer["error"]["status"] == expected
    response = await env.client.put(
        path,
        data=b"{not json",
        headers=env.headers["receptionist"] | {"Content-Type": "application/json"},
    )
    assert response.status == 400
    response = await env.client.put(
        path, data="state=available", headers=env.headers["receptionist"]
    )
    assert response.status == 415
    assert await env.version() == before


async def test_route_preview_explains_the_decision(env: Env) -> None:
    anna = env.person(EMPLOYEE_EXT)
    status, body = await _json(
        env, "GET", f"/api/v1/people/{anna.person_id}/route-preview", "employee"
    )
    assert status == 200
    assert body["decision"]["action"] == "announce"
    assert (
        "lunch" in body["decision"]["announcement"].lower() or body["decision"]["reason"] == "lunch"
    )
    assert body["explanation"]


async def test_route_preview_for_someone_without_an_extension(env: Env) -> None:
    mobile_only = next(p for p in env.runtime.engine.view.people() if p.extension is None)
    status, body = await _json(
        env, "GET", f"/api/v1/people/{mobile_only.person_id}/route-preview", "receptionist"
    )
    assert (status, body["decision"]) == (200, None)
    assert "no extension" in body["explanation"]


async def test_openapi_document_lists_every_route(env: Env) -> None:
    response = await env.client.get("/api/v1/openapi.json")
    assert response.status == 200
    doc = await response.json()
    assert doc["openapi"].startswith("3.1")
    documented = {
        (method.upper(), path)
        for path, ops in doc["paths"].items()
        for method in ops
        if method != "parameters"
    }
    served = set()
    for resource in env.app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter")
        for route in resource:
            if route.method != "HEAD":
                served.add((route.method, path))
    assert served - page_routes() == documented  # pages are HTML, not the JSON API
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "cookie"}


async def test_a_calendar_hint_ending_another_day_says_the_date(env: Env) -> None:
    """Issue 16: "Semester, upptagen till 10:00" for a holiday that ends on Friday."""
    fatima = env.person("13456")
    status, body = await _json(
        env, "GET", f"/api/v1/people/{fatima.person_id}/availability", "receptionist"
    )
    assert status == 200
    assert body["calendar"]["ends"].startswith("2026-11-27T10:00")
    assert "until 2026-11-27 10:00" in body["calendar"]["text"]
