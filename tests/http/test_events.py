"""The live feed: a change made through the API reaches an open stream within a second;
heartbeats keep it open; a client that falls behind is told to reload; and the
subscription is always let go."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse

from switchboard.events import PresenceTicked
from switchboard.http import stream as stream_module
from switchboard.voicemail.wav import Audio
from tests.http.conftest import EMPLOYEE_EXT, OTHER_EXT, Env, open_env


async def _next_event(response: ClientResponse) -> tuple[str, Any]:
    """The next named event (skipping comments and retry lines)."""
    while True:
        block = (await response.content.readuntil(b"\n\n")).decode()
        name = data = None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = json.loads(line.removeprefix("data: "))
        if name is not None:
            return name, data


def _subscriptions(env: Env) -> int:
    return len(env.runtime.bus._subscriptions)


async def test_a_presence_change_reaches_the_stream_within_a_second(env: Env) -> None:
    johan = env.person(OTHER_EXT)
    async with env.client.get("/api/v1/events", headers=env.headers["receptionist"]) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        name, hello = await _next_event(stream)
        assert name == "hello"
        assert hello["version"] == env.runtime.engine.view.version
        started = time.monotonic()
        response = await env.client.put(
            f"/api/v1/people/{johan.person_id}/availability",
            headers=env.headers["bearer"],
            json={"state": "referral", "reason": "lunch", "until": "2026-11-23T11:00:00+01:00"},
        )
        assert response.status == 200
        async with asyncio.timeout(1):
            name, data = await _next_event(stream)
        assert time.monotonic() - started < 1
        assert name == "person"
        assert data["person_id"] == johan.person_id
        assert data["presence"]["available"] is False
        assert data["presence"]["referral"]["reason"] == "lunch"
        assert "mobile" not in data
        assert "number" not in data


async def test_line_state_and_ticks_are_streamed(env: Env) -> None:
    johan = env.person(OTHER_EXT)
    async with env.client.get("/api/v1/events", headers=env.headers["employee"]) as stream:
        await _next_event(stream)
        env.runtime.lines.changed(johan.person_id, True)
        async with asyncio.timeout(1):
            name, data = await _next_event(stream)
        assert (name, data["presence"]["line"]["in_call"]) == ("person", True)
        env.runtime.bus.publish(PresenceTicked(johan.person_id, env.clock.now()))
        async with asyncio.timeout(1):
            name, data = await _next_event(stream)
        assert (name, data["person_id"]) == ("person", johan.person_id)


async def test_heartbeat_comments_keep_the_stream_alive(tmp_path: Path) -> None:
    async with open_env(tmp_path, heartbeat=0.05) as env:
        headers = env.headers["receptionist"]
        async with env.client.get("/api/v1/events", headers=headers) as stream:
            await _next_event(stream)
            async with asyncio.timeout(2):
                block = await stream.content.readuntil(b"\n\n")
            assert block == b": keep-alive\n\n"


async def test_a_slow_client_is_told_to_reload_and_let_go(env: Env, monkeypatch: Any) -> None:
    monkeypatch.setattr(stream_module, "QUEUE", 2)
    johan = env.person(OTHER_EXT)
    async with env.client.get("/api/v1/events", headers=env.headers["receptionist"]) as stream:
        await _next_event(stream)
        assert _subscriptions(env) == 1
        for _ in range(10):  # published back to back: the handler cannot drain in between
            env.runtime.lines.changed(johan.person_id, True)
            env.runtime.lines.changed(johan.person_id, False)
        names = []
        async with asyncio.timeout(2):
            while True:
                name, data = await _next_event(stream)
                names.append(name)
                if name == "reload":
                    break
        assert "reload" in data["reason"] or data["reason"]
        assert await stream.content.read() == b""  # the server ended the stream
    assert _subscriptions(env) == 0


async def test_disconnect_detaches_the_subscription(env: Env) -> None:
    async with env.client.get("/api/v1/events", headers=env.headers["receptionist"]) as stream:
        await _next_event(stream)
        assert _subscriptions(env) == 1
    deadline = time.monotonic() + 2
    while _subscriptions(env) and time.monotonic() < deadline:  # noqa: ASYNC110 - a count
        await asyncio.sleep(0.01)
    assert _subscriptions(env) == 0


async def test_a_new_voicemail_reaches_its_owners_stream_only(env: Env) -> None:
    """R11: the owner's open inbox follows a message left by a caller; nobody else learns
    who has messages (the receptionist's stream skips it)."""
    owner = env.person(EMPLOYEE_EXT)
    johan = env.person(OTHER_EXT)
    spool = env.runtime.voicemail.spool
    headers = env.headers
    async with (
        env.client.get("/api/v1/events", headers=headers["employee"]) as mine,
        env.client.get("/api/v1/events", headers=headers["receptionist"]) as theirs,
    ):
        await _next_event(mine)
        await _next_event(theirs)
        await spool.save_message(owner.person_id, Audio(8000, bytes(16000)), "+46311234567")
        env.runtime.bus.publish(PresenceTicked(johan.person_id, env.clock.now()))
        async with asyncio.timeout(1):
            name, data = await _next_event(mine)
            other, _ = await _next_event(theirs)
        assert (name, data) == ("voicemail", {"person_id": owner.person_id, "new": 1, "old": 0})
        assert other == "person"  # the tick that followed; the voicemail was not sent
