"""The mobile-hiding choice over HTTP (R14, R16, R18): who may make it (refused AND
unchanged), what policy refuses, that it is audited, shown on /me, and that a later
directory import owns the flag again."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.directory.model import Person, PolicyRule
from switchboard.settings.resources import bundled
from tests.http.conftest import EMPLOYEE_EXT, OTHER_EXT, SECRET_EXT, SECRET_MOBILE, Env

HTML = {"Accept": "text/html"}


def _path(person: Person) -> str:
    return f"/api/v1/people/{person.person_id}/presentation"


async def _state(env: Env) -> tuple[object, ...]:
    return (
        await env.audit_count(),
        await env.version(),
        tuple(env.runtime.engine.view.people()),
    )


async def _put(env: Env, who: str, path: str, body: Any) -> tuple[int, Any]:
    response = await env.client.put(path, json=body, headers=env.headers[who])
    return response.status, await response.json()


@pytest.mark.parametrize(
    ("who", "target", "expected"),
    [
        ("anonymous", EMPLOYEE_EXT, 401),
        ("employee", OTHER_EXT, 403),
        ("receptionist", EMPLOYEE_EXT, 403),
        ("manager", EMPLOYEE_EXT, 403),
        ("bearer", EMPLOYEE_EXT, 403),
    ],
    ids=["anonymous", "employee-on-other", "receptionist", "manager", "bearer-receptionist"],
)
async def test_refused_and_nothing_changes(env: Env, who: str, target: str, expected: int) -> None:
    person = env.person(target)
    before = await _state(env)
    status, _ = await _put(env, who, _path(person), {"hide_mobile": True})
    assert status == expected
    response = await env.client.get(_path(person), headers=env.headers[who])
    assert response.status == expected
    assert await _state(env) == before


async def test_tricks_are_refused_and_change_nothing(env: Env) -> None:
    anna, johan = env.person(EMPLOYEE_EXT), env.person(OTHER_EXT)
    employee = env.headers["employee"]
    before = await _state(env)
    # Naming another person in the body: the URL alone names the target.
    status, _ = await _put(env, "employee", _path(anna), {"hide_mobile": True, "person_id": "x"})
    assert status == 400
    # Method override: refused, not honoured.
    response = await env.client.post(
        _path(johan),
        json={"hide_mobile": True},
        headers=employee | {"X-HTTP-Method-Override": "PUT"},
    )
    assert response.status == 400
    # An encoded id that decodes to someone else's is still someone else's.
    encoded = "".join(f"%{ord(c):02X}" for c in johan.person_id)
    response = await env.client.put(
        f"/api/v1/people/{encoded}/presentation", json={"hide_mobile": True}, headers=employee
    )
    assert response.status in (403, 404)
    # A session without its CSRF token.
    no_csrf = {k: v for k, v in employee.items() if k != "X-CSRF-Token"}
    response = await env.client.put(_path(anna), json={"hide_mobile": True}, headers=no_csrf)
    assert response.status == 403
    # Not a boolean.
    status, _ = await _put(env, "employee", _path(anna), {"hide_mobile": "yes"})
    assert status == 400
    assert await _state(env) == before


async def test_the_person_hides_their_mobile_audited_and_seen_by_the_far_end(env: Env) -> None:
    anna = env.person(EMPLOYEE_EXT)
    assert not anna.hide_mobile
    response = await env.client.get(_path(anna), headers=env.headers["employee"])
    body = await response.json()
    assert (body["may_choose"], body["refusal"], body["shows"]) == (True, None, "mobile")

    status, body = await _put(env, "employee", _path(anna), {"hide_mobile": True})
    assert status == 200, body
    assert (body["hide_mobile"], body["shows"]) == (True, "extension")
    assert env.person(EMPLOYEE_EXT).hide_mobile is True
    latest = (await env.runtime.engine.store.audit(1, subject=anna.person_id))[0]
    assert (latest.actor, latest.detail) == ("t.anna", "updated: hide_mobile")

    # Saying it again writes nothing.
    count = await env.audit_count()
    status, _ = await _put(env, "employee", _path(anna), {"hide_mobile": True})
    assert status == 200
    assert await env.audit_count() == count

    # An administrator may change it back; the trail names them.
    status, body = await _put(env, "admin", _path(anna), {"hide_mobile": False})
    assert (status, body["shows"]) == (200, "mobile")
    latest = (await env.runtime.engine.store.audit(1, subject=anna.person_id))[0]
    assert latest.actor == "t.root"


async def test_r16_no_extension_needs_an_exception(env: Env) -> None:
    lena = next(p for p in env.runtime.engine.view.people() if p.extension is None)
    assert lena.mobile is not None
    response = await env.client.get(_path(lena), headers=env.headers["admin"])
    body = await response.json()
    assert (body["may_choose"], body["refusal"]) == (False, "no_extension")
    before = await _state(env)
    status, body = await _put(env, "admin", _path(lena), {"hide_mobile": True})
    assert status == 422
    assert "R16" in body["error"]["message"]
    assert await _state(env) == before

    engine = env.runtime.engine
    assert lena.email is not None
    await engine.grant_exception(
        lena.email, PolicyRule.HIDE_MOBILE_WITHOUT_EXTENSION, "Protected identity", "t.root"
    )
    status, body = await _put(env, "admin", _path(lena), {"hide_mobile": True})
    assert (status, body["hide_mobile"], body["shows"]) == (200, True, "withheld")


async def test_r18_a_secret_mobile_stays_hidden_and_never_shows(env: Env) -> None:
    fatima = env.person(SECRET_EXT)
    before = await _state(env)
    response = await env.client.put(
        _path(fatima), json={"hide_mobile": False}, headers=env.headers["admin"]
    )
    text = await response.text()
    assert response.status == 422
    assert "R18" in text
    assert await _state(env) == before
    response = await env.client.get(_path(fatima), headers=env.headers["admin"])
    text = await response.text()
    body = await response.json()
    assert (body["hide_mobile"], body["refusal"], body["shows"]) == (True, "secret", "extension")
    assert SECRET_MOBILE not in text
    assert SECRET_MOBILE[3:] not in text


async def test_me_page_shows_the_switch_and_a_later_import_sets_the_flag_again(
    env: Env,
) -> None:
    response = await env.client.get("/me", headers=env.headers["employee"] | HTML)
    html = await response.text()
    assert 'id="hide-mobile"' in html
    assert 'aria-checked="false"' in html
    assert "me_privacy.js" in html

    anna = env.person(EMPLOYEE_EXT)
    status, _ = await _put(env, "employee", _path(anna), {"hide_mobile": True})
    assert status == 200
    response = await env.client.get("/me", headers=env.headers["employee"] | HTML)
    assert 'aria-checked="true"' in await response.text()

    # The demo file says hide_mobile=no for Anna: the import owns the column again.
    data = bundled("configs/demo/sml-people.csv").read_bytes()
    await env.runtime.engine.import_directory(data, "demo.csv", "t.root")
    assert env.person(EMPLOYEE_EXT).hide_mobile is False
