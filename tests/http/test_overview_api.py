"""``GET /api/v1/overview`` (issue 16): the reception's overview before typing, over the demo
directory at Monday 10:00, permission-checked, filtered, live, never a secret number."""

from __future__ import annotations

import re
from typing import Any

from tests.http.conftest import SECRET_MOBILE, Env


async def _overview(env: Env, who: str = "receptionist", query: str = "") -> tuple[int, Any]:
    response = await env.client.get(f"/api/v1/overview{query}", headers=env.headers[who])
    return response.status, await response.json()


def _names(body: Any, section: str) -> list[str]:
    return [p["name"] for p in body["sections"][section]["people"]]


async def test_away_now_back_within_the_hour_and_later_today(env: Env) -> None:
    status, body = await _overview(env)
    assert status == 200
    assert _names(body, "back_soon") == ["Anna Berg", "Erik Lund"]  # 10:45, 11:00
    assert _names(body, "away") == ["Johan Ek", "Fatima Haddad"]  # 12:00, Friday
    assert _names(body, "later") == []
    fatima = body["sections"]["away"]["people"][1]
    assert fatima["overview"]["until"].startswith("2026-11-27T10:00")
    assert fatima["presence"]["referral"]["reason"] == "holiday"
    assert body["sections"]["away"]["total"] == 2


async def test_a_referral_planned_for_the_afternoon_is_later_today_and_on_the_row(
    env: Env,
) -> None:
    johan_ek = env.person("51234")
    await env.client.delete(
        f"/api/v1/people/{johan_ek.person_id}/availability", headers=env.headers["receptionist"]
    )
    planned = {
        "state": "referral",
        "reason": "meeting",
        "starts": "2026-11-23T14:00:00+01:00",
        "until": "2026-11-23T15:30:00+01:00",
    }
    put = await env.client.put(
        f"/api/v1/people/{johan_ek.person_id}/availability",
        json=planned,
        headers=env.headers["receptionist"],
    )
    assert put.status == 200
    _, body = await _overview(env)
    assert _names(body, "later") == ["Johan Ek"]
    assert "Johan Ek" not in _names(body, "away")
    row = body["sections"]["later"]["people"][0]
    assert row["overview"]["starts"].startswith("2026-11-23T14:00")
    [planned] = row["presence"]["planned"]
    assert {k: planned[k] for k in ("reason", "kind", "starts", "until", "text")} == {
        "reason": "meeting",
        "kind": "closed",
        "starts": "2026-11-23T14:00:00+01:00",
        "until": "2026-11-23T15:30:00+01:00",
        "text": None,
    }
    assert planned["id"]  # a plan beside the current status now, cancellable by its id
    # The search shows the same planned absence on the person's row (issue 16).
    found = await env.client.get("/api/v1/people?q=johan+ek", headers=env.headers["receptionist"])
    [person] = (await found.json())["people"]
    assert person["presence"]["planned"][0]["reason"] == "meeting"


async def test_filter_by_organisation_and_unit(env: Env) -> None:
    _, body = await _overview(env, query="?organisation=lysekil")
    assert _names(body, "away") == ["Johan Ek", "Fatima Haddad"]
    assert _names(body, "back_soon") == []
    assert body["units"] == ["Hamnen", "Skola"]
    _, body = await _overview(env, query="?organisation=lysekil&unit=Skola")
    assert _names(body, "away") == ["Fatima Haddad"]
    _, body = await _overview(env, query="?organisation=nowhere")
    assert all(s["total"] == 0 for s in body["sections"].values())


async def test_someone_coming_back_leaves_the_list_at_once(env: Env) -> None:
    _, before = await _overview(env)
    anna = env.person("64123")
    await env.client.delete(
        f"/api/v1/people/{anna.person_id}/availability", headers=env.headers["receptionist"]
    )
    _, after = await _overview(env)
    assert "Anna Berg" in _names(before, "back_soon")
    assert "Anna Berg" not in _names(after, "back_soon")
    env.clock.advance(3600)  # 11:00: Erik's meeting ended, Johan back within the hour
    _, later = await _overview(env, "bearer")  # a session would have expired by now
    assert _names(later, "back_soon") == ["Johan Ek"]


async def test_cut_to_the_limit_with_the_total(env: Env) -> None:
    _, body = await _overview(env, query="?limit=1")
    assert body["sections"]["away"]["total"] == 2
    assert len(body["sections"]["away"]["people"]) == 1


async def test_refusals(env: Env) -> None:
    assert (await _overview(env, "anonymous"))[0] == 401
    assert (await _overview(env, query="?limit=0"))[0] == 400
    assert (await _overview(env, query="?limit=x"))[0] == 400
    assert (await _overview(env, query="?unit=a&unit=b"))[0] == 400
    assert (await _overview(env, "employee"))[0] == 200  # every role may read presence


async def test_never_a_secret_number(env: Env) -> None:
    response = await env.client.get("/api/v1/overview", headers=env.headers["receptionist"])
    text = await response.text()
    assert "Fatima Haddad" in text
    assert SECRET_MOBILE[3:] not in re.sub(r"\D", "", text)
