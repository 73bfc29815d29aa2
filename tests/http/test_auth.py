"""Sign-in and sign-out: cookie flags, rotation, same answer for unknown user and wrong
password, throttling surfaced as 429."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from switchboard.accounts.model import Role
from switchboard.app import open_runtime
from switchboard.http.app import build_app
from switchboard.http.context import HTTP
from switchboard.settings.config import load_settings
from switchboard.settings.http import HttpSettings
from switchboard.settings.resources import bundled
from tests.http.conftest import MONDAY_10, OTHER_EXT, PASSWORD, Env, StepClock


@pytest.fixture(autouse=True)
async def passwords(env: Env) -> None:
    for username, key in (("t.anna", "employee"), ("t.reception", "receptionist")):
        await env.accounts.set_password(username, PASSWORD, "test")
        # A new password ends every session: sign the principal in again.
        env.headers[key] = await env.session_headers(username)


async def test_signin_sets_an_httponly_samesite_cookie_and_returns_the_csrf_token(
    env: Env,
) -> None:
    response = await env.client.post(
        "/signin", json={"username": "t.reception", "password": PASSWORD}
    )
    assert response.status == 200
    body = await response.json()
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("sb_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in tests; see the https test below
    session_id = response.cookies["sb_session"].value
    session = await env.accounts.session(session_id)
    assert session is not None
    assert body["csrf_token"] == session[0].csrf_token
    # The new session works for a state change with its token.
    johan = env.person(OTHER_EXT)
    change = await env.client.put(
        f"/api/v1/people/{johan.person_id}/availability",
        headers={
            "Cookie": f"sb_session={session_id}",
            "X-CSRF-Token": body["csrf_token"],
            "Origin": env.origin,
        },
        json={"state": "available"},
    )
    assert change.status == 200


async def test_signin_rotates_the_session(env: Env) -> None:
    old = env.headers["receptionist"]
    old_id = old["Cookie"].removeprefix("sb_session=")
    response = await env.client.post(
        "/signin",
        headers=old,
        json={"username": "t.reception", "password": PASSWORD},
    )
    assert response.status == 200
    new_id = response.cookies["sb_session"].value
    assert new_id != old_id
    assert await env.accounts.session(old_id) is None
    assert await env.accounts.session(new_id) is not None


async def test_signin_form_posts_work_too(env: Env) -> None:
    response = await env.client.post(
        "/signin",
        data={"username": "t.anna", "password": PASSWORD},
        headers={"Origin": env.origin},
    )
    assert response.status == 200


async def test_unknown_user_and_wrong_password_get_the_same_answer(env: Env) -> None:
    unknown = await env.client.post("/signin", json={"username": "ghost", "password": "x"})
    env.clock.advance(120)  # past the throttle's pause after one failure
    wrong = await env.client.post("/signin", json={"username": "t.anna", "password": "x"})
    assert unknown.status == wrong.status == 401
    assert await unknown.json() == await wrong.json()
    assert "Set-Cookie" not in unknown.headers
    assert "Set-Cookie" not in wrong.headers


async def test_throttled_signin_is_429_with_retry_after(env: Env) -> None:
    first = await env.client.post("/signin", json={"username": "t.anna", "password": "wrong"})
    assert first.status == 401
    response = await env.client.post("/signin", json={"username": "t.anna", "password": PASSWORD})
    assert response.status == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "Set-Cookie" not in response.headers
    env.clock.advance(int(response.headers["Retry-After"]))
    later = await env.client.post("/signin", json={"username": "t.anna", "password": PASSWORD})
    assert later.status == 200


async def test_signin_refuses_cross_site_posts_and_bad_bodies(env: Env) -> None:
    cross = await env.client.post(
        "/signin",
        data={"username": "t.anna", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status == 403
    for body, status in [
        ({"username": "t.anna"}, 400),
        ([], 400),
        ({"username": "a" * 300, "password": "p"}, 400),
    ]:
        response = await env.client.post("/signin", json=body)
        assert response.status == status, body
    response = await env.client.post("/signin", data=b"x", headers={"Content-Type": "text/plain"})
    assert response.status == 415
    # None of these reached the account service: a real attempt would now be throttled.
    ok = await env.client.post("/signin", json={"username": "t.anna", "password": PASSWORD})
    assert ok.status == 200


async def test_signout_ends_the_session_and_needs_the_csrf_token(env: Env) -> None:
    headers = env.headers["employee"]
    session_id = headers["Cookie"].removeprefix("sb_session=")
    refused = await env.client.post("/signout", headers={"Cookie": headers["Cookie"]})
    assert refused.status == 403
    assert await env.accounts.session(session_id) is not None
    response = await env.client.post("/signout", headers=headers)
    assert response.status == 200
    assert await env.accounts.session(session_id) is None
    after = await env.client.get("/api/v1/people?q=anna", headers=headers)
    assert after.status == 401


async def test_cookie_is_secure_when_the_public_url_is_https(env: Env) -> None:
    settings = HttpSettings(public_url="https://switchboard.example")
    app: web.Application = build_app(env.runtime, settings)
    assert app[HTTP].secure
    async with TestClient(TestServer(app)) as client:
        response = await client.post("/signin", json={"username": "t.anna", "password": PASSWORD})
        assert response.status == 200
        assert "Secure" in response.headers["Set-Cookie"]
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_on_https_the_session_cookie_has_the_host_prefix(env: Env) -> None:
    """Issue 17: ``__Host-`` (Secure, Path=/, no Domain), so a sibling subdomain or a plain
    http page cannot plant a session cookie; one without the prefix is not read at all."""
    settings = HttpSettings(public_url="https://switchboard.example")
    app: web.Application = build_app(env.runtime, settings)
    async with TestClient(TestServer(app)) as client:
        response = await client.post("/signin", json={"username": "t.anna", "password": PASSWORD})
        assert response.status == 200
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("__Host-sb_session=")
        assert "Secure" in cookie
        assert "Path=/;" in cookie or cookie.endswith("Path=/")
        assert "Domain" not in cookie
        session_id = cookie.split(";")[0].partition("=")[2]
        # (The test client speaks http, so the cookie is sent by hand.)
        signed_in = await client.get(
            "/api/v1/people?q=anna", headers={"Cookie": f"__Host-sb_session={session_id}"}
        )
        assert signed_in.status == 200
        tossed = await client.get(
            "/api/v1/people?q=anna", headers={"Cookie": f"sb_session={session_id}"}
        )
        assert tossed.status == 401
        body = await response.json()
        out = await client.post(
            "/signout",
            headers={
                "Cookie": f"__Host-sb_session={session_id}",
                "X-CSRF-Token": body["csrf_token"],
                "Origin": "https://switchboard.example",
            },
        )
        assert out.status == 200
        removed = out.headers["Set-Cookie"]
        assert removed.startswith('__Host-sb_session=""') or removed.startswith(
            "__Host-sb_session=;"
        )
        assert "Secure" in removed


async def test_the_configured_idle_timeout_ends_a_session(tmp_path: Path) -> None:
    """Issue 17: ``[http] session_idle_minutes`` (here 10) is what the sessions obey."""
    settings = load_settings(bundled("configs/sml.toml"))
    settings = replace(settings, http=replace(settings.http, session_idle=timedelta(minutes=10)))
    clock = StepClock(MONDAY_10)
    async with open_runtime(settings, tmp_path, clock) as runtime:
        await runtime.accounts.add_account("t.desk", None, {Role.RECEPTIONIST}, None, None, "t")
        session_id, _ = await runtime.accounts.start_session(
            await runtime.accounts.require("t.desk")
        )
        app = build_app(runtime, settings.http)
        async with TestClient(TestServer(app)) as client:
            cookie = {"Cookie": f"sb_session={session_id}"}

            async def status() -> int:
                return (await client.get("/api/v1/people?q=anna", headers=cookie)).status

            clock.advance(9 * 60)
            assert await status() == 200  # used within 10 minutes: still signed in
            clock.advance(9 * 60)
            assert await status() == 200
            clock.advance(10 * 60)
            assert await status() == 401  # 10 minutes unused: gone
