"""Planned referrals over the JSON API (issue 16): list, add and cancel a person's plans.

A plan sits beside the current status: adding one ("holiday from 21 December" while at
lunch) leaves the current status alone, and setting the current status leaves the plans.
The same permissions as setting presence (``READ_PRESENCE`` to list, ``WRITE_PRESENCE`` to
change; for oneself, or on someone's behalf when the account may), and as in ``api`` the
URL alone names the person. A refusal names the body field it is about.
"""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import web

from switchboard.directory.model import Person
from switchboard.http.api import (
    PERSON_ID,
    _instant,
    _person,
    _referral,
    require,
    unprocessable,
)
from switchboard.http.context import ENGINE, PRINCIPAL, json_object
from switchboard.http.principal import Permission
from switchboard.http.refusals import BadRequest, Code, NotFound
from switchboard.http.render import instant
from switchboard.http.shapes import plan_json
from switchboard.live.engine import Engine, EngineError, PlanError

log = structlog.get_logger("switchboard.http")

routes = web.RouteTableDef()
PLAN_KEYS = {"reason", "kind", "starts", "until", "text", "divert_to"}
JSON = dict[str, Any]


def plans_json(person: Person, engine: Engine) -> JSON:
    now = engine.clock.now()
    return {
        "person_id": person.person_id,
        "at": instant(now, engine.settings.zone),
        "plans": [plan_json(p, engine, now) for p in engine.plans(person)],
    }


def _actor(request: web.Request) -> tuple[str, str | None]:
    account = request[PRINCIPAL].account
    if account is None:  # require() let nobody through; this keeps mypy and readers sure
        raise web.HTTPUnauthorized(text="sign in first")
    return account.username, account.person_id


@routes.get("/api/v1/people/{person_id}/plans")
async def list_plans(request: web.Request) -> web.Response:
    person = _person(request)
    require(request, Permission.READ_PRESENCE, person)
    return web.json_response(plans_json(person, request.app[ENGINE]))


@routes.post("/api/v1/people/{person_id}/plans")
async def add_plan(request: web.Request) -> web.Response:
    """Plan a referral from ``starts`` (required, in the future) beside the current status."""
    person = _person(request)
    require(request, Permission.WRITE_PRESENCE, person)
    body = await json_object(request, PLAN_KEYS)
    starts = _instant(body, "starts")
    if starts is None:
        raise BadRequest(
            Code.REQUIRED, "starts: a plan needs its start (ISO 8601 with a zone)", field="starts"
        )
    engine = request.app[ENGINE]
    actor, own_person = _actor(request)
    try:
        plan = await engine.plan_referral(
            person, _referral(body), actor, starts, by_self=own_person == person.person_id
        )
    except EngineError as exc:
        raise unprocessable(exc) from None
    log.info("plan_added_over_http", username=actor, person=person.person_id, plan=plan.plan_id)
    out = plans_json(person, engine)
    out["plan"] = plan_json(plan, engine, engine.clock.now())
    return web.json_response(out, status=201)


@routes.delete("/api/v1/people/{person_id}/plans/{plan_id}")
async def cancel_plan(request: web.Request) -> web.Response:
    person = _person(request)
    require(request, Permission.WRITE_PRESENCE, person)
    plan_id = request.match_info["plan_id"]
    engine = request.app[ENGINE]
    actor, _ = _actor(request)
    unknown = NotFound(
        Code.PLAN_UNKNOWN, f"plan_id: {person.name} has no plan with this id", field="plan_id"
    )
    if not PERSON_ID.match(plan_id):
        raise unknown
    try:
        await engine.cancel_plan(person, plan_id, actor)
    except PlanError as exc:
        raise NotFound(Code.PLAN_UNKNOWN, str(exc), field="plan_id") from None
    log.info("plan_cancelled_over_http", username=actor, person=person.person_id, plan=plan_id)
    return web.json_response(plans_json(person, engine))


def install(app: web.Application) -> None:
    app.router.add_routes(routes)
