"""The authorization matrix: every route × every kind of principal, plus the usual tricks.

A refusal must be a refusal *and* leave the store as it was: the store's version and the
audit log are compared before and after every request that is refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.conftest import EMPLOYEE_EXT, OTHER_EXT, Env

# principal -> (headers key, whose person the URL names)
PRINCIPALS = {
    "anonymous": ("anonymous", OTHER_EXT),
    "employee on self": ("employee", EMPLOYEE_EXT),
    "employee on another": ("employee", OTHER_EXT),
    "receptionist": ("receptionist", OTHER_EXT),
    "manager": ("manager", OTHER_EXT),
    "admin": ("admin", OTHER_EXT),
    "bearer token": ("bearer", OTHER_EXT),
}
SET_BODY = {"state": "referral", "reason": "meeting", "until": "2026-11-23T12:00:00+01:00"}

# route -> expected status per principal, in PRINCIPALS order
MATRIX: dict[tuple[str, str], tuple[int, ...]] = {
    ("GET", "/api/v1/people?q=berg"): (401, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/people/{id}"): (401, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/people/{id}/availability"): (401, 200, 200, 200, 200, 200, 200),
    ("PUT", "/api/v1/people/{id}/availability"): (401, 200, 403, 200, 403, 200, 200),
    ("DELETE", "/api/v1/people/{id}/availability"): (401, 200, 403, 200, 403, 200, 200),
    ("GET", "/api/v1/people/{id}/route-preview"): (401, 200, 403, 200, 403, 200, 200),
    ("GET", "/api/v1/events"): (401, 200, 200, 200, 200, 200, 200),
}
CASES = [
    pytest.param(method, path, who, expected, id=f"{method} {path} as {who}")
    for (method, path), statuses in MATRIX.items()
    for who, expected in zip(PRINCIPALS, statuses, strict=True)
]


async def _request(env: Env, method: str, path: str, headers: dict[str, str], **kw: Any) -> int:
    async with env.client.request(method, path, headers=headers, **kw) as response:
        if response.content_type == "text/event-stream":
            return response.status  # leaving the block closes the stream
        await response.read()
        return response.status


@pytest.mark.parametrize(("method", "path", "who", "expected"), CASES)
async def test_matrix(env: Env, method: str, path: str, who: str, expected: int) -> None:
    key, extension = PRINCIPALS[who]
    url = path.replace("{id}", env.person(extension).person_id)
    before, audit_before = await env.version(), await env.audit_count()
    body = {"json": SET_BODY} if method == "PUT" else {}
    status = await _request(env, method, url, env.headers[key], **body)
    assert status == expected
    if expected >= 400:
        assert await env.version() == before
        assert await env.audit_count() == audit_before
    elif method in ("PUT", "DELETE"):
        assert await env.version() > before
        actor = (await env.runtime.engine.store.audit(1))[0].actor
        assert actor == {"employee": "t.anna", "bearer": "t.integration"}.get(key, actor)


async def test_body_naming_another_person_is_refused(env: Env) -> None:
    anna, johan = env.person(EMPLOYEE_EXT), env.person(OTHER_EXT)
    before, audit_before = await env.version(), await env.audit_count()
    manual_before = env.runtime.engine.view.manual(johan.person_id)
    for key in ("person_id", "id", "person", "target"):
        status = await _request(
            env,
            "PUT",
            f"/api/v1/people/{anna.person_id}/availability",
            env.headers["employee"],
            json=SET_BODY | {key: johan.person_id},
        )
        assert status == 400, key
    # Naming oneself in the body does not open someone else's URL either.
    status = await _request(
        env,
        "PUT",
        f"/api/v1/people/{johan.person_id}/availability",
        env.headers["employee"],
        json=SET_BODY | {"person_id": anna.person_id},
    )
    assert status in (400, 403)
    assert await env.version() == before
    assert await env.audit_count() == audit_before
    assert env.runtime.engine.view.manual(johan.person_id) == manual_before


@pytest.mark.parametrize(
    "template",
    [
        "/api/v1/people/%2e%2e/availability",
        "/api/v1/people/..%2f{other}/availability",
        "/api/v1/people/{self}%2f..%2f{other}/availability",
        "/api/v1/people/{other}%00/availability",
        "/api/v1/people/%7b{other}%7d/availability",
        "/api/v1/people/{other}%20/availability",
        "/api/v1/people/{self}/../{other}/availability",
    ],
)
async def test_encoded_ids_do_not_reach_anyone(env: Env, template: str) -> None:
    anna, johan = env.person(EMPLOYEE_EXT), env.person(OTHER_EXT)
    url = template.replace("{self}", anna.person_id).replace("{other}", johan.person_id)
    before, audit_before = await env.version(), await env.audit_count()
    for method in ("PUT", "DELETE"):
        status = await _request(env, method, url, env.headers["employee"], json=SET_BODY)
        assert status in (400, 403, 404, 405), (method, url, status)
    assert await env.version() == before
    assert await env.audit_count() == audit_before


async def test_method_override_cannot_turn_a_read_into_a_write(env: Env) -> None:
    johan = env.person(OTHER_EXT)
    before = await env.version()
    url = f"/api/v1/people/{johan.person_id}/availability"
    for key in ("employee", "manager", "bearer"):
        for method in ("GET", "POST"):
            headers = env.headers[key] | {"X-HTTP-Method-Override": "DELETE"}
            status = await _request(env, method, url, headers)
            assert status == 400
    assert await env.version() == before


async def test_disabled_accounts_are_anonymous(env: Env) -> None:
    await env.accounts.disable("t.integration", "test")
    status = await _request(env, "GET", "/api/v1/people?q=berg", env.headers["bearer"])
    assert status == 401
