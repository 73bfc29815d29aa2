"""The mobile-hiding choice over HTTP (R14, R16, R18): ``/api/v1/people/{id}/presentation``.

Who: the person themselves (``write_presence`` on *self*), or an administrator
(``manage_policy``); a receptionist, who may set referrals for anyone, may not change how
someone's calls are presented. Both are asked of ``allowed()`` with the person loaded from
the directory as the target, before the body is read, so a refusal changes nothing.

What the answer says is which kind of number the far end sees, never the number itself:
the same answer for a secret mobile as for any other (R18).
"""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import web

from switchboard.directory.model import Person
from switchboard.http.api import person_in_url, require
from switchboard.http.context import ACCESS, ENGINE, json_object, signed_in
from switchboard.http.principal import Permission
from switchboard.http.refusals import from_engine, not_boolean
from switchboard.live.engine import Engine, EngineError
from switchboard.routing.presentation import OutboundKind

log = structlog.get_logger("switchboard.http")

routes = web.RouteTableDef()
PATH = "/api/v1/people/{person_id}/presentation"


def install(app: web.Application) -> None:
    app.router.add_routes(routes)


def presentation_json(person: Person, engine: Engine) -> dict[str, Any]:
    """The choice and its effect; ``shows`` is ``mobile``, ``extension`` or ``withheld``."""
    shown = engine.present(person, OutboundKind.CALL)
    if shown.number is None:
        shows = "withheld"
    elif person.mobile is not None and shown.number == person.mobile:
        shows = "mobile"
    else:
        shows = "extension"
    refusal = engine.hide_mobile_refusal(person)
    return {
        "person_id": person.person_id,
        "hide_mobile": person.hide_mobile or person.secret_mobile,
        "secret_mobile": person.secret_mobile,
        "may_choose": refusal is None,
        "refusal": refusal,
        "shows": shows,
    }


def _target(request: web.Request) -> Person:
    """The person in the URL, once the caller may act on them (401, 403 or 404 before)."""
    account = signed_in(request)
    person = person_in_url(request)
    allowed = request.app[ACCESS].allowed
    own = account.person_id == person.person_id
    if own and allowed(account, Permission.WRITE_PRESENCE, target=person):
        return person
    require(request, Permission.MANAGE_POLICY, person)
    return person


@routes.get(PATH)
async def get_presentation(request: web.Request) -> web.Response:
    person = _target(request)
    return web.json_response(presentation_json(person, request.app[ENGINE]))


@routes.put(PATH)
async def put_presentation(request: web.Request) -> web.Response:
    """``{"hide_mobile": bool}``; 422 when policy refuses it (R16, R18). Audited."""
    person = _target(request)
    account = signed_in(request)
    body = await json_object(request, {"hide_mobile"})
    hide = body.get("hide_mobile")
    if not isinstance(hide, bool):
        raise not_boolean("hide_mobile", "hide_mobile is required and must be true or false")
    engine = request.app[ENGINE]
    try:
        saved = await engine.set_hide_mobile(person, hide, account.username)
    except EngineError as exc:
        raise from_engine(exc) from None
    log.info("presentation_set_over_http", username=account.username, person=person.person_id)
    return web.json_response(presentation_json(saved, engine))
