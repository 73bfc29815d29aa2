"""Beyond its cap of requests in flight the web answers 503 with Retry-After at once, and
the requests under the cap are served as usual (issue 15)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from switchboard.http.app import build_app
from switchboard.settings.http import HttpSettings
from tests.http.conftest import Seeded, open_seeded


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[Seeded]:
    async with open_seeded(tmp_path) as opened:
        yield opened


async def test_requests_over_the_cap_get_503_and_the_rest_are_served(seeded: Seeded) -> None:
    app = build_app(seeded.runtime, HttpSettings(max_in_flight=2, max_streams=1))
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({"ok": True})

    app.router.add_get("/test/slow", slow)
    async with TestClient(TestServer(app)) as client:
        held = [asyncio.create_task(client.get("/test/slow")) for _ in range(2)]
        await asyncio.sleep(0.1)  # both are in flight now
        refused = await client.get("/healthz")
        assert refused.status == 503
        assert refused.headers["Retry-After"] == "1"
        body = await refused.json()
        assert "busy" in body["error"]["message"]
        release.set()
        for response in await asyncio.gather(*held):
            assert response.status == 200
        assert (await client.get("/healthz")).status == 200  # the cap frees as they end
    text = seeded.runtime.metrics.expose()[0].decode()
    assert 'switchboard_overload_refusals_total{edge="http"} 1.0' in text


async def test_live_streams_have_a_cap_of_their_own(seeded: Seeded) -> None:
    app = build_app(seeded.runtime, HttpSettings(max_in_flight=1, max_streams=1))
    headers = {"Authorization": f"Bearer {seeded.token}"}
    async with TestClient(TestServer(app)) as client:
        first = await client.get("/api/v1/events", headers=headers)
        assert first.status == 200
        await first.content.readline()
        # An open stream is not a request in flight: other requests are served...
        assert (await client.get("/healthz")).status == 200
        # ...but a second stream is over the streams' cap.
        second = await client.get("/api/v1/events", headers=headers)
        assert second.status == 503
        first.close()
