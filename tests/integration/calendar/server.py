"""A real aiohttp server on loopback that serves the calendar corpus like a feed host would.

Conditional requests (ETag / Last-Modified -> 304), a feed that never stops growing, a
server that never answers: the cases a fetcher must survive. Binds port 0 and says where.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "calendar"
LAST_MODIFIED = "Mon, 23 Mar 2026 08:00:00 GMT"


@dataclass
class FeedServer:
    base: str
    requests: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    """(path, If-None-Match, If-Modified-Since) of every request, in order."""
    streamed: list[int] = field(default_factory=list)
    """Bytes the endless feed managed to write before the client went away."""


def _etag(name: str) -> str:
    return f'"{name}-v1"'


@asynccontextmanager
async def feed_server() -> AsyncIterator[FeedServer]:
    release = asyncio.Event()
    server = FeedServer("")

    async def ics(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        inm, ims = request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since")
        server.requests.append((request.path, inm, ims))
        path = CORPUS / name
        if not name.endswith(".ics") or not path.is_file():
            raise web.HTTPNotFound
        headers = {"ETag": _etag(name), "Last-Modified": LAST_MODIFIED}
        if inm == _etag(name) or (inm is None and ims == LAST_MODIFIED):
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=path.read_bytes(), content_type="text/calendar", charset="utf-8", headers=headers
        )

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/calendar"})
        await response.prepare(request)
        written = 0
        chunk = b"X-FILLER:" + b"x" * 8181 + b"\r\n"
        try:
            for _ in range(100_000):  # ~800 MB if nobody stops it
                await response.write(chunk)
                written += len(chunk)
        except (ConnectionError, asyncio.CancelledError):
            server.streamed.append(written)
            raise
        server.streamed.append(written)
        return response

    async def declared_huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": str(10**9)})
        await response.prepare(request)
        await response.write(b"BEGIN:VCALENDAR\r\n")
        await release.wait()
        return response

    async def slow(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response(text="too late")

    app = web.Application()
    app.router.add_get("/secret-token-123/{name}", ics)
    app.router.add_get("/endless.ics", endless)
    app.router.add_get("/huge.ics", declared_huge)
    app.router.add_get("/slow.ics", slow)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        server.base = f"http://127.0.0.1:{port}"
        yield server
    finally:
        release.set()
        await runner.cleanup()
