"""Security middlewares: headers everywhere, errors with an id, limits, CSRF, no override."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import structlog
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from switchboard.http.app import build_app
from switchboard.http.context import HTTP
from switchboard.http.security import CSP, STORE_UNAVAILABLE
from switchboard.store.protocol import StoreUnavailableError
from tests.http.conftest import OTHER_EXT, Env

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _assert_secure(headers: object, what: str) -> None:
    assert hasattr(headers, "get")
    for name, value in HEADERS.items():
        assert headers.get(name) == value, (what, name)
    csp = headers.get("Content-Security-Policy") or ""
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp


async def test_security_headers_on_success_errors_and_streams(env: Env) -> None:
    anna = env.runtime.engine.view.people()[0]
    cases = [
        ("GET", "/api/v1/openapi.json", "anonymous", 200),
        ("GET", "/api/v1/people?q=anna", "receptionist", 200),
        ("GET", "/api/v1/people?q=anna", "anonymous", 401),
        ("GET", "/api/v1/nothing", "receptionist", 404),
        ("POST", "/api/v1/people", "bearer", 405),
        ("PUT", f"/api/v1/people/{anna.person_id}/availability", "manager", 403),
        ("GET", "/not-a-page", "anonymous", 404),
    ]
    for method, path, who, status in cases:
        response = await env.client.request(method, path, headers=env.headers[who])
        assert response.status == status, (method, path)
        _assert_secure(response.headers, path)
        if path.startswith("/api/"):
            body = await response.json()
            if status >= 400:
                assert body["error"]["status"] == status
    async with env.client.get("/api/v1/events", headers=env.headers["receptionist"]) as stream:
        assert stream.status == 200
        _assert_secure(stream.headers, "events")
        assert stream.headers["Cache-Control"] == "no-store"


async def test_authenticated_answers_are_not_stored(env: Env) -> None:
    response = await env.client.get("/api/v1/people?q=anna", headers=env.headers["employee"])
    assert response.headers["Cache-Control"] == "no-store"


async def test_405_names_the_allowed_methods(env: Env) -> None:
    response = await env.client.post("/api/v1/people", headers=env.headers["bearer"])
    assert response.status == 405
    assert "GET" in response.headers["Allow"]


async def test_unhandled_error_gives_an_id_and_no_traceback(env: Env) -> None:
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals: /etc/passwd line 7")

    # A started app's router is frozen: build a second app on the same runtime for this.
    app = build_app(env.runtime, env.app[HTTP])
    app.router.add_get("/api/v1/boom", broken)
    async with TestClient(TestServer(app)) as client:
        with structlog.testing.capture_logs() as logs:
            response = await client.get("/api/v1/boom")
        text = await response.text()
    assert response.status == 500
    _assert_secure(response.headers, "500")
    error_id = json.loads(text)["error"]["error_id"]
    assert len(error_id) == 12
    for leak in ("Traceback", "secret internals", "RuntimeError", "passwd"):
        assert leak not in text
    [logged] = [e for e in logs if e["event"] == "http_unhandled_error"]
    assert logged["error_id"] == error_id
    assert logged["exc_info"] is True
    assert logged["path"] == "/api/v1/boom"


async def test_an_unreachable_store_is_503_with_retry_after(env: Env) -> None:
    """Issue 14: Redis down is no bug of ours; the client is told to come back, and its
    address (in the error) stays in the log."""

    async def store_down(request: web.Request) -> web.Response:
        raise StoreUnavailableError("redis://10.9.8.7:6379/0: cannot set: Redis does not answer")

    app = build_app(env.runtime, env.app[HTTP])
    app.router.add_put("/api/v1/down", store_down)
    async with TestClient(TestServer(app)) as client:
        with structlog.testing.capture_logs() as logs:
            response = await client.put("/api/v1/down")
        text = await response.text()
    assert response.status == 503
    assert response.headers["Retry-After"] == "5"
    assert json.loads(text)["error"]["message"] == STORE_UNAVAILABLE
    assert "10.9.8.7" not in text
    [logged] = [e for e in logs if e["event"] == "http_store_unavailable"]
    assert "10.9.8.7" in logged["error"]


async def test_body_over_the_limit_is_413_and_changes_nothing(env: Env) -> None:
    johan = env.person(OTHER_EXT)
    path = f"/api/v1/people/{johan.person_id}/availability"
    before = await env.version()
    big = b'{"state": "available", "pad": "' + b"x" * (65 * 1024) + b'"}'
    response = await env.client.put(
        path, data=big, headers=env.headers["bearer"] | {"Content-Type": "application/json"}
    )
    assert response.status == 413
    _assert_secure(response.headers, "413")
    assert (await response.json())["error"]["status"] == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: limited while reading
        for _ in range(70):
            yield b"x" * 1024

    response = await env.client.put(
        path, data=chunks(), headers=env.headers["bearer"] | {"Content-Type": "application/json"}
    )
    assert response.status == 413
    assert await env.version() == before


@pytest.mark.parametrize(
    ("how", "value"),
    [
        ("header", "X-HTTP-Method-Override"),
        ("header", "X-HTTP-Method"),
        ("header", "X-Method-Override"),
        ("query", "_method"),
        ("form", "_method"),
    ],
    ids=lambda v: str(v),
)
async def test_method_override_is_refused_not_honoured(env: Env, how: str, value: str) -> None:
    johan = env.person(OTHER_EXT)
    path = f"/api/v1/people/{johan.person_id}/availability"
    before = await env.version()
    headers = dict(env.headers["receptionist"])
    data = None
    if how == "header":
        headers[value] = "DELETE"
    elif how == "query":
        path += "?_method=DELETE"
    else:
        data = {"_method": "DELETE", "csrf_token": headers["X-CSRF-Token"]}
    response = await env.client.post(path, headers=headers, data=data)
    assert response.status == 400
    assert "override" in (await response.json())["error"]["message"]
    assert await env.version() == before


@pytest.mark.parametrize(
    "change",
    ["no token", "wrong token", "other session's token", "foreign origin", "no origin"],
)
async def test_csrf_missing_or_wrong_is_403_and_changes_nothing(env: Env, change: str) -> None:
    johan = env.person(OTHER_EXT)
    path = f"/api/v1/people/{johan.person_id}/availability"
    before, audit_before = await env.version(), await env.audit_count()
    headers = dict(env.headers["receptionist"])
    if change == "no token":
        del headers["X-CSRF-Token"]
    elif change == "wrong token":
        headers["X-CSRF-Token"] = "x" * 22
    elif change == "other session's token":
        headers["X-CSRF-Token"] = env.headers["admin"]["X-CSRF-Token"]
    elif change == "foreign origin":
        headers["Origin"] = "https://evil.example"
    else:
        del headers["Origin"]
    for method in ("PUT", "DELETE"):
        response = await env.client.request(
            method, path, headers=headers, json={"state": "available"}
        )
        assert response.status == 403, (change, method)
    assert await env.version() == before
    assert await env.audit_count() == audit_before


async def test_csrf_token_in_the_header_with_sec_fetch_site_passes(env: Env) -> None:
    johan = env.person(OTHER_EXT)
    headers = dict(env.headers["receptionist"])
    del headers["Origin"]
    headers["Sec-Fetch-Site"] = "same-origin"
    response = await env.client.put(
        f"/api/v1/people/{johan.person_id}/availability",
        headers=headers,
        json={"state": "available"},
    )
    assert response.status == 200


async def test_bearer_requests_need_no_csrf_token(env: Env) -> None:
    johan = env.person(OTHER_EXT)
    response = await env.client.put(
        f"/api/v1/people/{johan.person_id}/availability",
        headers=env.headers["bearer"],
        json={"state": "available"},
    )
    assert response.status == 200


async def test_unknown_bearer_token_is_401(env: Env) -> None:
    for value in ("Bearer sbt_unknown", "Bearer nope", "Basic YTpi", "Bearer "):
        response = await env.client.get("/api/v1/people?q=a", headers={"Authorization": value})
        assert response.status == 401, value
        assert "Bearer" in response.headers["WWW-Authenticate"]


# -- issue 17: no product version in Server --------------------------------------------------
def _no_version(server: str | None) -> None:
    assert server == "switchboard", server


async def test_the_server_header_names_no_version(env: Env) -> None:
    anna = env.runtime.engine.view.people()[0]
    for method, path, who in [
        ("GET", "/api/v1/openapi.json", "anonymous"),
        ("GET", "/signin", "anonymous"),
        ("GET", "/api/v1/nothing", "receptionist"),
        ("PUT", f"/api/v1/people/{anna.person_id}/availability", "manager"),
        ("GET", "/static/app.css", "anonymous"),
    ]:
        response = await env.client.request(method, path, headers=env.headers[who])
        _no_version(response.headers.get("Server"))
    async with env.client.get("/api/v1/events", headers=env.headers["receptionist"]) as stream:
        _no_version(stream.headers.get("Server"))


async def test_an_answer_aiohttp_makes_itself_names_no_version_either(env: Env) -> None:
    """A malformed request never reaches the application or its hooks."""
    reader, writer = await asyncio.open_connection(env.client.host, env.client.port)
    try:
        writer.write(b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        head = (await asyncio.wait_for(reader.read(4096), 10)).decode("latin-1")
    finally:
        writer.close()
    assert head.split(" ")[1] == "400", head
    server = [line for line in head.split("\r\n") if line.lower().startswith("server:")]
    assert server == ["Server: switchboard"], head
