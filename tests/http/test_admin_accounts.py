"""Accounts from the web (issue 16): an administrator creates an account, gives it roles,
disables and enables it, and hands out a one-time link to set its password; every change is
audited, nobody else may do any of it, and bad input is a 422 that names the field."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from switchboard.store.audit import AuditDecision
from tests.http.conftest import EMPLOYEE_EXT, PASSWORD, Env

NEW_PASSWORD = "copper kettle sings 83"  # noqa: S105 - a test account
HTML = {"Accept": "text/html"}


def _routes() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("POST", "/api/v1/admin/accounts", {"json": {"username": "x.new", "roles": ["admin"]}}),
        ("POST", "/api/v1/admin/accounts/t.anna/disable", {"json": {}}),
        ("POST", "/api/v1/admin/accounts/t.anna/enable", {"json": {}}),
        ("POST", "/api/v1/admin/accounts/t.anna/password-link", {"json": {}}),
    ]


async def _state(env: Env) -> tuple[object, ...]:
    return (await env.audit_count(), await env.runtime.engine.store.accounts())


async def _actions(env: Env, subject: str) -> list[tuple[str, str]]:
    entries = await env.runtime.engine.store.audit(100, subject=subject)
    return [(e.action, e.actor) for e in entries if e.decision is AuditDecision.ALLOWED]


async def _sign_in(env: Env, username: str, password: str) -> int:
    response = await env.client.post(
        "/signin", json={"username": username, "password": password}, headers={"Origin": env.origin}
    )
    env.client.session.cookie_jar.clear()
    return response.status


def _link_values(path: str) -> dict[str, str]:
    query = parse_qs(urlsplit(path).query)
    return {k: v[0] for k, v in query.items()}


async def _use_link(env: Env, path: str, password: str, repeat: str | None = None) -> Any:
    form = _link_values(path) | {"password": password, "repeat": repeat or password}
    return await env.client.post("/password", data=form, headers=HTML | {"Origin": env.origin})


@pytest.mark.parametrize(
    "who", ["anonymous", "employee", "receptionist", "manager", "bearer", "admin_without_csrf"]
)
async def test_only_an_administrator_manages_accounts_and_a_refusal_changes_nothing(
    env: Env, who: str
) -> None:
    if who == "admin_without_csrf":
        headers = {k: v for k, v in env.headers["admin"].items() if k != "X-CSRF-Token"}
    else:
        headers = env.headers[who]
    before = await _state(env)
    for method, path, kwargs in _routes():
        response = await env.client.request(method, path, headers=headers, **kwargs)
        expected = 401 if who == "anonymous" else 403
        assert response.status == expected, (who, path, response.status)
    assert await _state(env) == before


async def test_an_account_made_on_the_web_gets_its_password_through_a_link_that_works_once(
    env: Env,
) -> None:
    admin = env.headers["admin"]
    body = {"username": "Eva.Strand", "roles": ["receptionist"], "display_name": "Eva Strand"}
    response = await env.client.post("/api/v1/admin/accounts", json=body, headers=admin)
    assert response.status == 201, await response.text()
    made = await response.json()
    assert made["username"] == "eva.strand"
    assert made["roles"] == ["receptionist"]
    link = made["password_link"]["link"]
    assert link.startswith("/password?")
    assert ("account_created", "t.root") in await _actions(env, "account:eva.strand")
    # The link is in this answer only: the account list holds no trace of it.
    listed = await env.client.get("/api/v1/admin/people", headers=admin)
    assert _link_values(link)["k"] not in await listed.text()

    page = await env.client.get(link, headers=HTML)
    assert page.status == 200
    assert 'id="password-form"' in await page.text()
    assert await _sign_in(env, "eva.strand", NEW_PASSWORD) == 401  # no password yet

    mismatch = await _use_link(env, link, NEW_PASSWORD, "something else entirely")
    assert mismatch.status == 422
    assert "De två lösenorden är inte lika." in await mismatch.text()
    short = await _use_link(env, link, "kort")
    assert short.status == 422
    assert "för kort" in await short.text()

    done = await _use_link(env, link, NEW_PASSWORD)
    assert done.status == 200
    assert 'id="password-done"' in await done.text()
    env.clock.advance(120)  # past the sign-in throttle's pause after the failure above
    assert await _sign_in(env, "eva.strand", NEW_PASSWORD) == 200
    audit = await _actions(env, "account:eva.strand")
    assert ("account_password_set", "eva.strand") in audit

    again = await _use_link(env, link, "another long passphrase 12")
    assert again.status == 410
    assert 'id="password-dead"' in await again.text()
    assert (await env.client.get(link, headers=HTML)).status == 410
    assert await _sign_in(env, "eva.strand", NEW_PASSWORD) == 200  # unchanged by the reuse


async def test_a_reset_ends_the_old_password_and_sessions_and_a_newer_link_kills_the_older(
    env: Env,
) -> None:
    await env.accounts.set_password("t.anna", PASSWORD, "test")
    anna = await env.session_headers("t.anna")
    assert (await env.client.get("/me", headers=anna | HTML, allow_redirects=False)).status == 200
    url = "/api/v1/admin/accounts/t.anna/password-link"
    first = await (await env.client.post(url, json={}, headers=env.headers["admin"])).json()
    second = await (await env.client.post(url, json={}, headers=env.headers["admin"])).json()
    assert (await env.client.get("/me", headers=anna | HTML, allow_redirects=False)).status == 302
    assert await _sign_in(env, "t.anna", PASSWORD) == 401
    assert (await _use_link(env, first["link"], NEW_PASSWORD)).status == 410
    assert (await _use_link(env, second["link"], NEW_PASSWORD)).status == 200
    audit = await _actions(env, "account:t.anna")
    assert audit.count(("account_password_set", "t.root")) >= 2


async def test_a_link_expires(env: Env) -> None:
    url = "/api/v1/admin/accounts/t.boss/password-link"
    link = (await (await env.client.post(url, json={}, headers=env.headers["admin"])).json())[
        "link"
    ]
    env.clock.advance(73 * 3600)
    assert (await env.client.get(link, headers=HTML)).status == 410
    assert (await _use_link(env, link, NEW_PASSWORD)).status == 410


async def test_a_tampered_link_does_not_work(env: Env) -> None:
    url = "/api/v1/admin/accounts/t.boss/password-link"
    link = (await (await env.client.post(url, json={}, headers=env.headers["admin"])).json())[
        "link"
    ]
    values = _link_values(link)
    forged = re.sub(r"k=[0-9a-f]+", "k=" + "0" * 64, link)
    assert (await env.client.get(forged, headers=HTML)).status == 410
    other = link.replace(f"u={values['u']}", "u=t.anna")
    assert (await _use_link(env, other, NEW_PASSWORD)).status == 410
    later = link.replace(f"e={values['e']}", f"e={int(values['e']) + 3600}")
    assert (await _use_link(env, later, NEW_PASSWORD)).status == 410


async def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(env: Env) -> None:
    await env.accounts.set_password("t.anna", PASSWORD, "test")
    anna = await env.session_headers("t.anna")
    admin = env.headers["admin"]
    response = await env.client.post(
        "/api/v1/admin/accounts/t.anna/disable", json={}, headers=admin
    )
    assert response.status == 200
    assert (await response.json())["disabled"] is True
    assert (await env.client.get("/me", headers=anna | HTML, allow_redirects=False)).status == 302
    assert await _sign_in(env, "t.anna", PASSWORD) == 401
    refused = await env.client.post(
        "/api/v1/admin/accounts/t.anna/password-link", json={}, headers=admin
    )
    assert refused.status == 422
    assert (await refused.json())["error"]["code"] == "account_disabled"
    response = await env.client.post("/api/v1/admin/accounts/t.anna/enable", json={}, headers=admin)
    assert response.status == 200
    env.clock.advance(120)
    assert await _sign_in(env, "t.anna", PASSWORD) == 200
    audit = [a for a, _ in await _actions(env, "account:t.anna")]
    assert "account_disabled" in audit
    assert "account_enabled" in audit


async def test_an_administrator_cannot_disable_themselves(env: Env) -> None:
    response = await env.client.post(
        "/api/v1/admin/accounts/t.root/disable", json={}, headers=env.headers["admin"]
    )
    assert response.status == 422
    error = (await response.json())["error"]
    assert (error["field"], error["code"]) == ("username", "own_account")
    assert not (await env.accounts.require("t.root")).disabled


async def test_an_account_for_a_person_is_found_by_number(env: Env) -> None:
    body = {"username": "anna.b", "roles": ["employee", "manager"], "person": EMPLOYEE_EXT}
    response = await env.client.post(
        "/api/v1/admin/accounts", json=body, headers=env.headers["admin"]
    )
    assert response.status == 201
    made = await response.json()
    assert made["person_id"] == env.person(EMPLOYEE_EXT).person_id
    assert made["display_name"] == env.person(EMPLOYEE_EXT).name


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"roles": ["employee"]}, "username", "bad_username"),
        ({"username": "", "roles": ["employee"]}, "username", "bad_username"),
        ({"username": "has space", "roles": ["employee"]}, "username", "bad_username"),
        ({"username": 5, "roles": ["employee"]}, "username", "bad_username"),
        ({"username": "t.anna", "roles": ["employee"]}, "username", "username_taken"),
        ({"username": "T.ANNA", "roles": ["employee"]}, "username", "username_taken"),
        ({"username": "x.new", "roles": []}, "roles", "no_role"),
        ({"username": "x.new", "roles": ["king"]}, "roles", "bad_roles"),
        ({"username": "x.new", "roles": "admin"}, "roles", "bad_roles"),
        (
            {"username": "x.new", "roles": ["employee"], "person": "99999"},
            "person",
            "unknown_person",
        ),
        (
            {"username": "x.new", "roles": ["employee"], "display_name": "x" * 101},
            "display_name",
            "bad_display_name",
        ),
    ],
    ids=[
        "no-username",
        "empty-username",
        "space",
        "not-a-string",
        "taken",
        "taken-any-case",
        "no-role",
        "unknown-role",
        "roles-not-a-list",
        "unknown-person",
        "long-name",
    ],
)
async def test_bad_input_names_the_field_and_creates_nothing(
    env: Env, body: dict[str, Any], field: str, code: str
) -> None:
    before = await _state(env)
    response = await env.client.post(
        "/api/v1/admin/accounts", json=body, headers=env.headers["admin"]
    )
    assert response.status == 422, await response.text()
    error = (await response.json())["error"]
    assert (error["field"], error["code"]) == (field, code)
    assert await _state(env) == before


async def test_unknown_accounts_are_404(env: Env) -> None:
    for action in ("disable", "enable", "password-link"):
        response = await env.client.post(
            f"/api/v1/admin/accounts/nobody.here/{action}", json={}, headers=env.headers["admin"]
        )
        assert response.status == 404
