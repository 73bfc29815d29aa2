"""The JSON API v1: directory search, a person's availability, and the caller-gets preview.

Every handler asks ``allowed()`` (the accounts package's one decision) before it reads or
changes anything, and the person in the URL is the only target: a body naming another
person is refused, never followed (issue 5: "the body never chooses the target").
Numbers are those of R17, never a secret mobile (R18), through ``shapes``/``render``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import structlog
from aiohttp import web

from switchboard.directory.display import display_number
from switchboard.directory.model import Person
from switchboard.directory.search import DEFAULT_LIMIT
from switchboard.http.context import (
    ACCESS,
    ENGINE,
    LINES,
    PRINCIPAL,
    SEARCH,
    json_object,
    note_refusal,
)
from switchboard.http.principal import Permission
from switchboard.http.refusals import (
    BadRequest,
    Code,
    bad_choice,
    from_engine,
    not_text,
    not_whole_number,
    out_of_range,
    unknown_fields,
)
from switchboard.http.render import decision_dict, instant
from switchboard.http.shapes import availability_json, person_json, presence_json
from switchboard.live.engine import EngineError
from switchboard.presence.model import PresenceError, Reason, Referral, ReferralKind
from switchboard.routing.model import Call

log = structlog.get_logger("switchboard.http")

routes = web.RouteTableDef()
PERSON_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_LIMIT = 200
MAX_QUERY = 200
REFERRAL_KEYS = {"state", "reason", "kind", "until", "text", "divert_to", "starts"}
AVAILABLE_KEYS = {"state", "until"}


def require(request: web.Request, permission: Permission, target: Person | None) -> None:
    """401 for nobody, 403 for somebody not allowed: decided by ``allowed()`` alone."""
    principal = request[PRINCIPAL]
    if request.app[ACCESS].allowed(principal.account, permission, target=target):
        return
    if principal.account is None:
        raise web.HTTPUnauthorized(
            text="sign in, or send 'Authorization: Bearer sbt_...'",
            headers={"WWW-Authenticate": 'Bearer realm="switchboard"'},
        )
    # The refusals middleware logs and audits it, with the username, never the account id.
    note_refusal(request, permission.value, target.person_id if target else None)
    raise web.HTTPForbidden(text=f"your account may not do this ({permission.value})")


def unprocessable(exc: EngineError) -> web.HTTPException:
    """The 422 for an engine's refusal, with its code and field for the pages to word and
    place (a secret number in a text, R18, issue 17; a return time before the start)."""
    return from_engine(exc)


def _person(request: web.Request) -> Person:
    """The person the URL names (404 if none), once the caller is known to be someone."""
    if request[PRINCIPAL].account is None:
        raise web.HTTPUnauthorized(
            text="sign in, or send 'Authorization: Bearer sbt_...'",
            headers={"WWW-Authenticate": 'Bearer realm="switchboard"'},
        )
    return person_in_url(request)


def person_in_url(request: web.Request) -> Person:
    """The person whose id is the URL's ``{person_id}`` (404 if nobody has it)."""
    person_id = request.match_info["person_id"]
    person = request.app[ENGINE].view.person(person_id) if PERSON_ID.match(person_id) else None
    if person is None:
        raise web.HTTPNotFound(text="nobody in the directory has this id")
    return person


def _now(request: web.Request) -> datetime:
    return request.app[ENGINE].clock.now()


@routes.get("/api/v1/people")
async def search_people(request: web.Request) -> web.Response:
    require(request, Permission.READ_DIRECTORY, None)
    query = request.query.get("q", "")
    if len(query) > MAX_QUERY:
        raise BadRequest(
            Code.TOO_LONG,
            f"the query may be at most {MAX_QUERY} characters",
            field="q",
            params={"max": MAX_QUERY},
        )
    try:
        limit = int(request.query.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise not_whole_number("limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise out_of_range("limit", 1, MAX_LIMIT)
    engine, lines = request.app[ENGINE], request.app[LINES]
    now = _now(request)
    account = request[PRINCIPAL].account
    allowed = request.app[ACCESS].allowed
    people: list[dict[str, Any]] = []
    for match in await request.app[SEARCH].search(query, limit):
        entry = person_json(match.person, engine)
        entry["presence"] = (
            presence_json(match.person, engine, lines, now)
            if allowed(account, Permission.READ_PRESENCE, target=match.person)
            else None
        )
        people.append(entry)
    return web.json_response(
        {"query": query, "at": instant(now, engine.settings.zone), "people": people}
    )


@routes.get("/api/v1/people/{person_id}")
async def get_person(request: web.Request) -> web.Response:
    require(request, Permission.READ_DIRECTORY, None)
    return web.json_response(person_json(_person(request), request.app[ENGINE]))


@routes.get("/api/v1/people/{person_id}/availability")
async def get_availability(request: web.Request) -> web.Response:
    person = _person(request)
    require(request, Permission.READ_PRESENCE, person)
    engine = request.app[ENGINE]
    return web.json_response(availability_json(person, engine, request.app[LINES], _now(request)))


def _instant(body: dict[str, Any], key: str) -> datetime | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(
            Code.BAD_INSTANT, f"{key} must be an ISO 8601 instant with a time zone", field=key
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            Code.BAD_INSTANT, f"{key}: not an ISO 8601 instant: {value!r}", field=key
        ) from None
    if parsed.tzinfo is None:
        raise BadRequest(Code.NEEDS_ZONE, f"{key} needs a time zone (e.g. +01:00 or Z)", field=key)
    return parsed


def _optional_text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise not_text(key)
    return value


def _referral(body: dict[str, Any]) -> Referral:
    reason_text = body.get("reason")
    manual = [r.value for r in Reason if r is not Reason.OUTSIDE_HOURS]
    if reason_text not in manual:
        raise bad_choice("reason", manual, f"reason must be one of {', '.join(manual)}")
    kind_text = body.get("kind", "closed")
    if kind_text not in ("open", "closed"):
        raise bad_choice("kind", ["open", "closed"], "kind must be 'open' or 'closed'")
    try:
        return Referral(
            Reason(reason_text),
            ReferralKind(kind_text),
            _instant(body, "until"),
            _optional_text(body, "text"),
            divert_to=_optional_text(body, "divert_to"),
        )
    except PresenceError as exc:
        raise from_engine(exc) from None


@routes.put("/api/v1/people/{person_id}/availability")
async def put_availability(request: web.Request) -> web.Response:
    """Set available, or a referral (R6), for the person in the URL; audited as the account."""
    person = _person(request)
    require(request, Permission.WRITE_PRESENCE, person)
    body = await json_object(request, None)
    state = body.get("state")
    allowed_keys = AVAILABLE_KEYS if state == "available" else REFERRAL_KEYS
    unknown = sorted(set(body) - allowed_keys)
    if unknown:
        # A "person_id" in the body is refused here too: the URL alone names the target.
        raise unknown_fields(unknown)
    engine = request.app[ENGINE]
    account = request[PRINCIPAL].account
    if account is None:  # require() let nobody through; this keeps mypy and readers sure
        raise web.HTTPUnauthorized(text="sign in first")
    actor = account.username
    try:
        if state == "available":
            await engine.set_available(person, actor, _instant(body, "until"))
        elif state == "referral":
            await engine.set_referral(
                person,
                _referral(body),
                actor,
                _instant(body, "starts"),
                by_self=account.person_id == person.person_id,
            )
        else:
            raise bad_choice(
                "state", ["available", "referral"], "state must be 'available' or 'referral'"
            )
    except EngineError as exc:
        raise unprocessable(exc) from None
    log.info("presence_set_over_http", username=account.username, person=person.person_id)
    return web.json_response(availability_json(person, engine, request.app[LINES], _now(request)))


@routes.delete("/api/v1/people/{person_id}/availability")
async def delete_availability(request: web.Request) -> web.Response:
    """Clear the manual status: the calendar and working hours take over again (R7, R8)."""
    person = _person(request)
    require(request, Permission.WRITE_PRESENCE, person)
    account = request[PRINCIPAL].account
    if account is None:
        raise web.HTTPUnauthorized(text="sign in first")
    engine = request.app[ENGINE]
    await engine.clear(person, account.username)
    log.info("presence_cleared_over_http", username=account.username, person=person.person_id)
    return web.json_response(availability_json(person, engine, request.app[LINES], _now(request)))


@routes.get("/api/v1/people/{person_id}/route-preview")
async def route_preview(request: web.Request) -> web.Response:
    """What a caller to this person's extension gets right now, and why (R10, R11)."""
    person = _person(request)
    require(request, Permission.PREVIEW_ROUTE, person)
    engine = request.app[ENGINE]
    now = _now(request)
    zone = engine.settings.zone
    out: dict[str, Any] = {"person_id": person.person_id, "at": instant(now, zone)}
    if person.extension is None:
        out["decision"] = None
        out["explanation"] = f"{person.name} has no extension: callers reach the mobile only."
    else:
        decision = decision_dict(engine.route(Call(person.extension), now), zone)
        if decision.get("to"):  # a divert: where to, as people read it (issue 16)
            decision["to_display"] = display_number(decision["to"], engine.settings.plan)
        out["decision"] = decision
        out["explanation"] = decision["explanation"]
    return web.json_response(out)
