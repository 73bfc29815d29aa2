"""The session's time left and "Fortsätt inloggad" (issue 16, WCAG 2.2.1: warn before a
time limit and let the user extend it).

The clock stands still until a test moves it; the idle time is the default 30 minutes.
"""

from __future__ import annotations

import json
import re

from tests.http.conftest import Env


async def _left(env: Env, who: str = "employee") -> tuple[int, dict[str, object]]:
    async with env.client.get("/api/v1/session", headers=env.headers[who]) as response:
        return response.status, await response.json() if response.status == 200 else {}


async def test_asking_how_long_is_left_does_not_renew_the_session(env: Env) -> None:
    status, body = await _left(env)
    assert status == 200
    assert body["expires_in"] == 30 * 60
    assert body["warn_before"] == 180
    assert body["idle_minutes"] == 30
    env.clock.advance(20 * 60)
    status, body = await _left(env)
    assert (status, body["expires_in"]) == (200, 10 * 60)  # asking did not renew it
    env.clock.advance(10 * 60)
    assert (await _left(env))[0] == 401  # unused for 30 minutes: ended


async def test_extending_renews_the_idle_time_at_once(env: Env) -> None:
    env.clock.advance(29 * 60)
    async with env.client.post("/api/v1/session/extend", headers=env.headers["employee"]) as r:
        assert r.status == 200
        assert (await r.json())["expires_in"] == 30 * 60
    env.clock.advance(29 * 60)
    status, body = await _left(env)
    assert (status, body["expires_in"]) == (200, 60)  # 58 minutes after sign-in, still on


async def test_any_request_renews_it_too(env: Env) -> None:
    env.clock.advance(25 * 60)
    async with env.client.get("/api/v1/people?q=anna", headers=env.headers["employee"]) as r:
        assert r.status == 200
    env.clock.advance(25 * 60)
    assert (await _left(env))[0] == 200  # 50 minutes after sign-in, used 25 minutes ago


async def test_extending_needs_the_csrf_token_and_a_session(env: Env) -> None:
    headers = {k: v for k, v in env.headers["employee"].items() if k != "X-CSRF-Token"}
    async with env.client.post("/api/v1/session/extend", headers=headers) as response:
        assert response.status == 403
    async with env.client.post("/api/v1/session/extend", headers=env.headers["bearer"]) as r:
        assert r.status == 404  # a token has no session, so no idle time
    async with env.client.post("/api/v1/session/extend", headers=env.headers["anonymous"]) as r:
        assert r.status == 401


async def test_the_absolute_lifetime_is_never_extended(env: Env) -> None:
    for _ in range(30):  # past 12 hours, extended every 29 minutes
        env.clock.advance(29 * 60)
        async with env.client.post(
            "/api/v1/session/extend", headers=env.headers["employee"]
        ) as response:
            if response.status != 200:
                break
            left = (await response.json())["expires_in"]
    assert response.status == 401
    assert left < 30 * 60  # the last extension already said: less than the idle time


async def test_every_page_tells_its_scripts_when_the_session_ends(env: Env) -> None:
    async with env.client.get("/me", headers=env.headers["employee"]) as response:
        html = await response.text()
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html)
    assert found is not None
    data = json.loads(found.group(1))
    assert data["session"]["expires_in"] == 30 * 60
    assert data["session"]["warn_before"] == 180
    assert 'id="session-dialog"' in html
    async with env.client.get("/signin") as response:  # nobody signed in: nothing to warn
        html = await response.text()
    assert '"session"' not in html
    assert 'id="session-dialog"' not in html
