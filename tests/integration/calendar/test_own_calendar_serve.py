"""Issue 16 end to end on a running ``switchboard serve``: an employee connects their ICS
feed through the API, a real HTTP server on loopback serves it, and the person's
availability follows the meeting in it (R7) without a restart. Then another process (what
the CLI or a second worker is) disconnects it in the store, and ``serve`` hears of it on
the change feed: the meeting no longer diverts.

The feed's address carries a secret token: it must appear nowhere in serve's log.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from switchboard.app import DATABASE_NAME
from switchboard.settings.resources import bundled
from switchboard.store.bus import EventBus
from switchboard.store.sqlite import SqliteStore

MONDAY_10 = "2026-11-23T10:00:00+01:00"
TOKEN = "q7RkSECRETfeedToken"  # noqa: S105 - the feed's secret part
FEED = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//own calendar//EN\r
BEGIN:VEVENT\r
UID:own-1@test\r
DTSTAMP:20261120T080000Z\r
DTSTART;TZID=Europe/Stockholm:20261123T093000\r
DTEND;TZID=Europe/Stockholm:20261123T113000\r
SUMMARY:Ledningsgrupp\r
END:VEVENT\r
END:VCALENDAR\r
"""
OWN_CALENDARS = """
[own_calendars]
ics = true
ics_http = true
ics_hosts = ["127.0.0.1"]
poll = 60
"""
DEADLINE = 30.0


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    return env | {"PYTHONUNBUFFERED": "1"}


async def _cli(base: list[str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *base,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_environment(),
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


@asynccontextmanager
async def feed_server(requests: list[str]) -> AsyncIterator[str]:
    async def ics(request: web.Request) -> web.Response:
        requests.append(request.path)
        return web.Response(text=FEED, content_type="text/calendar")

    app = web.Application()
    app.router.add_get(f"/{TOKEN}/anna.ics", ics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}/{TOKEN}/anna.ics"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def serving(tmp_path: Path) -> AsyncIterator[tuple[str, str, Path]]:
    """(base URL, anna's bearer token, data folder) of a running ``serve``."""
    config = tmp_path / "sml.toml"
    config.write_text(bundled("configs/sml.toml").read_text("utf-8") + OWN_CALENDARS, "utf-8")
    data = tmp_path / "data"
    base = [sys.executable, "-m", "switchboard", "--config", str(config), "--data", str(data)]
    base += ["--now", MONDAY_10]
    await _cli(base, "demo", "--force", "--seed-only")
    token = (await _cli(base, "users", "token", "anna", "--name", "it")).strip().splitlines()[-1]
    log = tmp_path / "serve.log"
    with log.open("w", encoding="utf-8") as err:
        process = await asyncio.create_subprocess_exec(
            *base,
            "serve",
            "--sip-listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
            env=_environment(),
        )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        assert line, log.read_text()
        ready = json.loads(line)["ready"]
        yield f"http://{ready['http']}", token, data
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 20)
    assert TOKEN not in log.read_text(encoding="utf-8")  # masked in every log line


async def _until(check: Callable[[], Any], what: str) -> Any:
    """Poll ``check`` (async) until it answers something true; fail after the deadline."""
    deadline = time.monotonic() + DEADLINE
    while True:
        got = await check()
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def test_presence_follows_a_connected_feed_and_a_disconnect_from_another_process(
    tmp_path: Path,
) -> None:
    requests: list[str] = []
    async with (
        feed_server(requests) as feed,
        serving(tmp_path) as (url, token, data),
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http,
    ):
        async with http.get(f"{url}/api/v1/people", params={"q": "64123"}) as response:
            anna = (await response.json())["people"][0]
        person = f"{url}/api/v1/people/{anna['id']}"

        async def availability() -> dict[str, Any]:
            async with http.get(f"{person}/availability") as response:
                assert response.status == 200
                return dict(await response.json())

        # The demo has Anna at lunch; a manual status wins over the calendar (R5-R7).
        async with http.delete(f"{person}/availability") as response:
            assert response.status == 200
        assert (await availability())["available"] is True

        async with http.put(f"{person}/calendar", json={"kind": "ics", "url": feed}) as response:
            assert response.status == 200, await response.text()
            connected = await response.json()
        assert connected["address"].startswith("http://127.0.0.1:")
        assert TOKEN not in json.dumps(connected)

        async def away() -> dict[str, Any] | None:
            now = await availability()
            return now if not now["available"] else None

        now = await _until(away, "the meeting to divert Anna")
        assert now["referral"]["reason"] == "meeting"
        assert now["referral"]["until"].startswith("2026-11-23T11:30")
        assert requests  # the feed was really fetched from the loopback server

        async def synced() -> dict[str, Any] | None:
            async with http.get(f"{person}/calendar") as response:
                status = dict(await response.json())
            return status if status["last_sync"] else None

        status = await _until(synced, "the card to show the last sync")
        assert status["last_error"] is None
        assert datetime.fromisoformat(status["last_sync"]) < datetime.fromisoformat(
            status["next_sync"]
        )

        # Another process writes (as the CLI would, or another worker's web request).
        other = await SqliteStore.open(data / DATABASE_NAME, EventBus())
        try:
            at = datetime.fromisoformat(MONDAY_10)
            await other.set_own_calendar(anna["id"], None, "cli:test", at)
        finally:
            await other.close()

        async def back() -> bool:
            return bool((await availability())["available"])

        await _until(back, "the disconnected calendar to stop diverting")
        async with http.get(f"{person}/calendar") as response:
            assert (await response.json())["connected"] is False
