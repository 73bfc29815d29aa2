"""``GET /api/v1/events``: the receptionist screen's live feed, as server-sent events.

Each bus event that changes what the screen shows becomes one small JSON message: the
person's id, their availability summary and line state, computed from the live view (which
applied the event before any subscription sees it). Never a number: the screen has the
numbers from the search answer, and a secret mobile (R18) must not travel anywhere.

A client that cannot keep up overflows its bounded subscription (``store.bus``); it gets a
final ``reload`` event and the stream ends, so it resynchronises instead of showing stale
data. The subscription is closed on every way out (disconnect, shutdown, overflow).
Comments every 15 s keep proxies from closing an idle stream (WHATWG HTML §9.2 notes).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import structlog
from aiohttp import web

from switchboard.events import (
    CalendarChanged,
    DirectoryImported,
    Event,
    LineStateChanged,
    ManualStatusChanged,
    PersonRemoved,
    PersonSaved,
    PlansChanged,
    PresenceTicked,
    StoreReloaded,
    VoicemailChanged,
)
from switchboard.http.api import require
from switchboard.http.context import ACCESS, BUS, ENGINE, HEARTBEAT, LINES, PRINCIPAL, STOPPING
from switchboard.http.principal import Permission
from switchboard.http.shapes import presence_json
from switchboard.store.bus import Subscription, SubscriptionOverflow

log = structlog.get_logger("switchboard.http")

routes = web.RouteTableDef()
QUEUE = 500
"""Events one screen may fall behind before it is told to reload."""


def _message(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _voicemail(request: web.Request, event: VoicemailChanged) -> tuple[str, dict[str, Any]] | None:
    """Counts for the owner's own inbox only; nobody else learns who has messages."""
    owner = request.app[ENGINE].view.person(event.person_id)
    account = request[PRINCIPAL].account
    if owner is None or not request.app[ACCESS].allowed(
        account, Permission.READ_OWN_VOICEMAIL, target=owner
    ):
        return None
    return "voicemail", {"person_id": event.person_id, "new": event.new, "old": event.old}


def _payload(request: web.Request, event: Event) -> tuple[str, dict[str, Any]] | None:
    """The message for one bus event, or None when the screen has nothing to show for it."""
    engine = request.app[ENGINE]
    if isinstance(event, DirectoryImported | StoreReloaded):
        return "directory", {"version": event.version}
    if isinstance(event, PersonRemoved):
        return "removed", {"person_id": event.person_id, "version": event.version}
    if isinstance(event, VoicemailChanged):
        return _voicemail(request, event)
    if isinstance(event, PersonSaved):
        person_id = event.person.person_id
    elif isinstance(
        event,
        ManualStatusChanged | PlansChanged | CalendarChanged | LineStateChanged | PresenceTicked,
    ):
        person_id = event.person_id
    else:
        return None
    found = engine.view.person(person_id)
    if found is None:
        return None
    allowed = request.app[ACCESS].allowed
    if not allowed(request[PRINCIPAL].account, Permission.READ_PRESENCE, target=found):
        return None
    now = engine.clock.now()
    presence = presence_json(found, engine, request.app[LINES], now)
    return "person", {
        "person_id": person_id,
        "name": found.name,
        "version": engine.view.version,
        "presence": presence,
    }


async def _next(subscription: Subscription, stopping: asyncio.Event, wait: float) -> Event | None:
    """The next event, or None after ``wait`` seconds; StopAsyncIteration on shutdown.

    Both waits are owned here and cancelled and awaited before returning: nothing leaks.
    """

    async def next_event() -> Event:
        return await anext(subscription)

    get = asyncio.create_task(next_event())
    stop = asyncio.create_task(stopping.wait())
    try:
        done, _ = await asyncio.wait({get, stop}, timeout=wait, return_when="FIRST_COMPLETED")
    finally:
        for task in (get, stop):
            task.cancel()
        await asyncio.gather(get, stop, return_exceptions=True)
    if get in done:
        return get.result()
    if stop in done:
        raise StopAsyncIteration
    return None


@routes.get("/api/v1/events")
async def events(request: web.Request) -> web.StreamResponse:
    require(request, Permission.READ_DIRECTORY, None)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "X-Accel-Buffering": "no"}
    )
    heartbeat = request.app[HEARTBEAT]
    stopping = request.app[STOPPING]
    with request.app[BUS].subscribe(QUEUE) as subscription:
        await response.prepare(request)
        version = request.app[ENGINE].view.version
        await response.write(b"retry: 2000\n\n" + _message("hello", {"version": version}))
        try:
            while True:
                try:
                    event = await _next(subscription, stopping, heartbeat)
                except StopAsyncIteration:
                    break
                if event is None:
                    await response.write(b": keep-alive\n\n")
                    continue
                message = _payload(request, event)
                if message is not None:
                    await response.write(_message(*message))
        except SubscriptionOverflow:
            log.warning("event_stream_overflowed")
            await response.write(
                _message("reload", {"reason": "too many changes at once; reload the screen"})
            )
        except ConnectionResetError:
            log.info("event_stream_client_gone")
    return response
