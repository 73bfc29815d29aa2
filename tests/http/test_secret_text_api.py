"""R18 in free text over HTTP (issue 17): a text holding someone's secret mobile, in any
dialled form, is refused with 422 naming the field, and nothing is stored or published."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from switchboard.accounts.model import Role, unit_key
from switchboard.events import Event
from tests.http.conftest import EMPLOYEE_EXT, OTHER_EXT, SECRET_EXT, Env

# Fatima Haddad's secret mobile (+46701740623), as a receptionist might type it.
FORMS = ["070-174 06 23", "+46 70 174 06 23", "0046701740623", "0701740623", "+46 (0)70-1740623"]


async def _refused(env: Env, method: str, path: str, who: str, body: Any, field: str) -> None:
    before, changes = await env.version(), await env.audit_count()
    published: list[Event] = []
    remove = env.runtime.bus.add_listener(published.append)
    try:
        response = await env.client.request(method, path, headers=env.headers[who], json=body)
    finally:
        remove()
    assert response.status == 422, await response.text()
    error = (await response.json())["error"]
    assert error["field"] == field
    assert error["code"] == "secret_number"
    assert error["message"].startswith(f"{field}: ")
    assert "R18" in error["message"]
    assert "1740623" not in error["message"]
    assert await env.version() == before
    assert await env.audit_count() == changes
    assert published == []


@pytest.mark.parametrize("form", FORMS)
async def test_r18_a_referral_note_with_a_secret_mobile_is_refused(env: Env, form: str) -> None:
    johan = env.person(OTHER_EXT)
    body = {"state": "referral", "reason": "other", "text": f"Ring Fatima på {form}"}
    await _refused(
        env, "PUT", f"/api/v1/people/{johan.person_id}/availability", "receptionist", body, "text"
    )


@pytest.mark.parametrize("form", FORMS)
async def test_r18_a_secret_mobile_is_refused_as_a_divert_target(env: Env, form: str) -> None:
    """Found by the route API's sweep: a divert target shows in the route preview, on the
    receptionist's screen and in Kamailio's answer, so a secret mobile is never one."""
    johan = env.person(OTHER_EXT)
    body = {"state": "referral", "reason": "meeting", "divert_to": form}
    await _refused(
        env,
        "PUT",
        f"/api/v1/people/{johan.person_id}/availability",
        "receptionist",
        body,
        "divert_to",
    )


async def test_a_note_with_a_public_number_is_kept(env: Env) -> None:
    """R17: Anna's mobile is public; the check refuses secret ones only."""
    johan = env.person(OTHER_EXT)
    body = {"state": "referral", "reason": "other", "text": "Ring Anna på 070-174 06 05"}
    response = await env.client.put(
        f"/api/v1/people/{johan.person_id}/availability",
        headers=env.headers["receptionist"],
        json=body,
    )
    assert response.status == 200
    assert (await response.json())["referral"]["text"] == "Ring Anna på 070-174 06 05"


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("text", {"caller_name": "Örjan", "text": "Ring Fatima: 070-174 06 23"}),
        ("caller_name", {"caller_name": "Fatima 0701740623", "text": "Ring tillbaka"}),
    ],
    ids=["text", "caller_name"],
)
async def test_r18_a_taken_message_with_a_secret_mobile_is_refused(
    env: Env, field: str, body: dict[str, str]
) -> None:
    anna = env.person(EMPLOYEE_EXT)
    path = f"/api/v1/people/{anna.person_id}/messages"
    await _refused(env, "POST", path, "receptionist", body, field)
    assert await env.runtime.voicemail.desk.messages(anna.person_id) == []


async def test_r18_an_exception_reason_with_a_secret_mobile_is_refused(env: Env) -> None:
    fatima = env.person(SECRET_EXT)
    body = {"subject": fatima.email, "rule": "hide_extension", "reason": "Ring 070-174 06 23"}
    await _refused(env, "POST", "/api/v1/admin/exceptions", "admin", body, "reason")


async def test_r18_a_call_list_reason_with_a_secret_mobile_is_refused(env: Env) -> None:
    anna = env.person(EMPLOYEE_EXT)
    await env.accounts.set_roles(
        "t.boss", [Role.MANAGER], "test", manages=[unit_key(anna.organisation, anna.unit)]
    )
    boss = await env.session_headers("t.boss")
    end = env.clock.now() - timedelta(days=1)
    body = {
        "person_id": anna.person_id,
        "start": (end - timedelta(days=7)).isoformat(),
        "end": end.isoformat(),
        "reason": "Samtal till 070-174 06 23 i juni",
    }
    env.headers["boss"] = boss
    await _refused(env, "POST", "/api/v1/call-lists", "boss", body, "reason")
