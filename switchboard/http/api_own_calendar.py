"""The calendar an employee connects from their page (issue 16):
``/api/v1/people/{id}/calendar``.

Who: the person themselves (``write_presence`` on *self*), or an administrator
(``manage_policy``) on their behalf, asked of ``allowed()`` before the body is read. What:
an iCalendar feed by URL, or a Microsoft 365 mailbox read through the Graph application
the administrator configured, as far as ``[own_calendars]`` allows; the mailbox must be
the person's own address unless an administrator connects it.

The feed URL usually carries a secret token: no answer, log line or audit entry shows more
than its scheme and host (``OwnCalendar.shown``), and a refusal never repeats it. Status
comes from the calendar worker's report (``HealthBoard``), under ``own:{person_id}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from aiohttp import web

from switchboard.directory.model import Person
from switchboard.http.api import person_in_url, require
from switchboard.http.context import ACCESS, CALENDAR_HEALTH, ENGINE, json_object, signed_in
from switchboard.http.principal import Permission
from switchboard.http.render import instant
from switchboard.http.security import FieldRefused
from switchboard.live.engine import Engine
from switchboard.live.health import HealthBoard
from switchboard.presence.own_calendar import (
    OwnCalendar,
    OwnCalendarKind,
    OwnCalendarRefusedError,
    check_feed_url,
    check_mailbox,
)
from switchboard.store.protocol import NotFoundError

log = structlog.get_logger("switchboard.http")

routes = web.RouteTableDef()
PATH = "/api/v1/people/{person_id}/calendar"
KEYS = {"kind", "url", "mailbox"}


def install(app: web.Application) -> None:
    app.router.add_routes(routes)


def _target(request: web.Request) -> tuple[Person, bool]:
    """The person in the URL, and whether the caller acts as an administrator (401, 403
    or 404 before the body is read)."""
    account = signed_in(request)
    person = person_in_url(request)
    allowed = request.app[ACCESS].allowed
    if allowed(account, Permission.MANAGE_POLICY, target=person):
        return person, True
    if account.person_id == person.person_id:
        require(request, Permission.WRITE_PRESENCE, person)
        return person, False
    require(request, Permission.MANAGE_POLICY, person)  # refuses, audited
    raise AssertionError("unreachable")  # pragma: no cover


def status_json(
    person: Person,
    calendar: OwnCalendar | None,
    engine: Engine,
    board: HealthBoard | None,
) -> dict[str, Any]:
    """What the card shows: what may be connected, what is, and how its sync goes."""
    policy, zone = engine.settings.own_calendars, engine.settings.zone
    out: dict[str, Any] = {
        "person_id": person.person_id,
        "allowed": {"ics": policy.ics, "graph": policy.graph is not None},
        "ics_https_only": not policy.ics_http,
        "ics_hosts": list(policy.ics_hosts),
        "connected": calendar is not None,
        "kind": None,
        "address": None,
        "connected_by": None,
        "connected_at": None,
        "active": False,
        "last_sync": None,
        "last_error": None,
        "last_error_at": None,
        "next_sync": None,
        "items": 0,
    }
    if calendar is None:
        return out
    active = policy.ics if calendar.kind is OwnCalendarKind.ICS else policy.graph is not None
    out |= {
        "kind": calendar.kind.value,
        "address": calendar.shown,
        "connected_by": calendar.connected_by,
        "connected_at": instant(calendar.connected_at, zone),
        "active": active,
        "items": len(engine.view.calendar(person.person_id, calendar.source)),
    }
    report = board.get(calendar.source) if board is not None else None
    if report is not None:
        out |= _report(report, person)
    return out


def _report(report: Mapping[str, Any], person: Person) -> dict[str, Any]:
    """The worker's report in the answer's words: the error without the person's id
    prefix the worker's problem lines carry, and only while the calendar fails."""
    error = report.get("last_error") if report.get("failures") else None
    if isinstance(error, str):
        error = error.removeprefix(f"{person.person_id}: ")
    return {
        "last_sync": report.get("last_success"),
        "last_error": error if isinstance(error, str) else None,
        "last_error_at": report.get("last_error_at") if error else None,
        "next_sync": report.get("next_run"),
    }


async def _answer(request: web.Request, person: Person, status: int = 200) -> web.Response:
    engine = request.app[ENGINE]
    calendar = await engine.store.own_calendar(person.person_id)
    body = status_json(person, calendar, engine, request.app.get(CALENDAR_HEALTH))
    return web.json_response(body, status=status)


@routes.get(PATH)
async def get_calendar(request: web.Request) -> web.Response:
    person, _ = _target(request)
    return await _answer(request, person)


def _refused(exc: OwnCalendarRefusedError) -> FieldRefused:
    return FieldRefused(exc.field, str(exc), exc.code)


def _wanted(body: Mapping[str, Any], person: Person, engine: Engine, admin: bool) -> OwnCalendar:
    """The connection the body asks for, checked against the policy; FieldRefused
    naming the field otherwise (never repeating a URL)."""
    policy = engine.settings.own_calendars
    kind_text = body.get("kind")
    try:
        kind = OwnCalendarKind(kind_text) if isinstance(kind_text, str) else None
    except ValueError:
        kind = None
    if kind is None:
        raise FieldRefused("kind", "kind: must be 'ics' or 'graph'", "calendar_kind")
    allowed = policy.ics if kind is OwnCalendarKind.ICS else policy.graph is not None
    if not allowed:
        raise FieldRefused(
            "kind",
            f"kind: the administrator does not allow connecting {kind.value} calendars",
            "calendar_not_allowed",
        )
    field, other = ("url", "mailbox") if kind is OwnCalendarKind.ICS else ("mailbox", "url")
    if other in body:
        raise FieldRefused(
            other, f"{other}: not used for a {kind.value} calendar", "calendar_field"
        )
    value = body.get(field)
    if not isinstance(value, str):
        missing = "calendar_url_missing" if field == "url" else "calendar_mailbox_invalid"
        raise FieldRefused(field, f"{field}: required, as a string", missing)
    try:
        if kind is OwnCalendarKind.ICS:
            address = check_feed_url(value, allow_http=policy.ics_http, hosts=policy.ics_hosts)
        else:
            address = check_mailbox(value)
    except OwnCalendarRefusedError as exc:
        raise _refused(exc) from None
    if kind is OwnCalendarKind.GRAPH and not admin:
        own = (person.email or "").lower()
        if address.lower() != own:
            raise FieldRefused(
                "mailbox",
                "mailbox: only your own address (an administrator may connect another)",
                "calendar_mailbox_not_own",
            )
    return OwnCalendar(person.person_id, kind, address, "", engine.clock.now())


@routes.put(PATH)
async def put_calendar(request: web.Request) -> web.Response:
    """``{"kind": "ics", "url": ...}`` or ``{"kind": "graph", "mailbox": ...}``; replaces
    what was connected. Audited (masked) with the actor."""
    person, admin = _target(request)
    account = signed_in(request)
    body = await json_object(request, KEYS)
    engine = request.app[ENGINE]
    wanted = _wanted(body, person, engine, admin)
    calendar = OwnCalendar(
        wanted.person_id, wanted.kind, wanted.address, account.username, wanted.connected_at
    )
    await engine.store.set_own_calendar(
        person.person_id, calendar, account.username, calendar.connected_at
    )
    log.info(
        "own_calendar_connected",
        username=account.username,
        person=person.person_id,
        kind=calendar.kind.value,
        address=calendar.shown,
    )
    return await _answer(request, person)


@routes.delete(PATH)
async def delete_calendar(request: web.Request) -> web.Response:
    """Disconnect: the worker stops reading it and its items stop diverting. Audited."""
    person, _ = _target(request)
    account = signed_in(request)
    engine = request.app[ENGINE]
    try:
        await engine.store.set_own_calendar(
            person.person_id, None, account.username, engine.clock.now()
        )
    except NotFoundError:
        raise web.HTTPNotFound(text="no calendar is connected") from None
    log.info("own_calendar_disconnected", username=account.username, person=person.person_id)
    return await _answer(request, person)
