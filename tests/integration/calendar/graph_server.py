"""A loopback stand-in for login.microsoftonline.com and graph.microsoft.com (aiohttp, port 0).

Serves recorded JSON pages: ``calendarView`` in two pages joined by ``@odata.nextLink``,
``calendarView/delta`` ending in an ``@odata.deltaLink`` whose next round holds one change and
one ``@removed``. Tokens are issued only for the right client secret; ``throttle`` makes the
next N Graph requests answer 429 with ``Retry-After``. Every request is recorded.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "calendar" / "graph"
TENANT = "contoso-tenant-id"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "not-a-real-secret"  # noqa: S105 - a test fixture


@dataclass
class GraphServer:
    base: str = ""
    requests: list[str] = field(default_factory=list)
    """``METHOD path?query`` of every request, in order."""
    headers: list[dict[str, str]] = field(default_factory=list)
    tokens_issued: int = 0
    throttle: int = 0
    retry_after: str = "2"
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    delta_round: str = "delta-2.json"

    @property
    def authority(self) -> str:
        return f"{self.base}/login"

    @property
    def graph_url(self) -> str:
        return f"{self.base}/v1.0"


def _page(name: str, base: str) -> dict[str, Any]:
    text = (RECORDED / name).read_text(encoding="utf-8").replace("{BASE}", base)
    data: dict[str, Any] = json.loads(text)
    return data


@asynccontextmanager
async def graph_server() -> AsyncIterator[GraphServer]:
    server = GraphServer()

    def record(request: web.Request) -> None:
        server.requests.append(f"{request.method} {request.path_qs}")
        server.headers.append(dict(request.headers))

    async def token(request: web.Request) -> web.Response:
        record(request)
        form = await request.post()
        if request.match_info["tenant"] != TENANT or form.get("client_secret") != SECRET:
            return web.json_response({"error": "invalid_client"}, status=401)
        assert form.get("grant_type") == "client_credentials"
        server.tokens_issued += 1
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": f"token-{server.tokens_issued}",
            }
        )

    def authorised(request: web.Request) -> bool:
        return request.headers.get("Authorization", "").startswith("Bearer token-")

    async def graph(request: web.Request) -> web.Response:
        record(request)
        if not authorised(request):
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        if server.throttle > 0:
            server.throttle -= 1
            return web.json_response(
                {"error": {"code": "TooManyRequests"}},
                status=429,
                headers={"Retry-After": server.retry_after},
            )
        tail = request.match_info["tail"]
        if tail.endswith("/calendarView"):
            name = "view-2.json" if request.query.get("page") == "2" else "view-1.json"
        elif tail.endswith("/calendarView/delta"):
            token = request.query.get("$deltatoken")
            name = server.delta_round if token else "delta-1.json"
        else:
            raise web.HTTPNotFound
        return web.json_response(_page(name, server.base))

    async def subscriptions(request: web.Request) -> web.Response:
        record(request)
        body = await request.json()
        sub = {"id": f"sub-{len(server.subscriptions) + 1}", **body}
        server.subscriptions.append(sub)
        return web.json_response(sub, status=201)

    async def renew(request: web.Request) -> web.Response:
        record(request)
        body = await request.json()
        return web.json_response({"id": request.match_info["sub"], **body})

    app = web.Application()
    app.router.add_post("/login/{tenant}/oauth2/v2.0/token", token)
    app.router.add_post("/v1.0/subscriptions", subscriptions)
    app.router.add_patch("/v1.0/subscriptions/{sub}", renew)
    app.router.add_get("/v1.0/{tail:.*}", graph)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        yield server
    finally:
        await runner.cleanup()
