"""``GET /api/v1/route?to=...&from=...``: what a SIP front end does with a new INVITE (issue 14).

Kamailio in front (``configs/kamailio/http-route.cfg``) asks this for each new INVITE and
carries the answer out: a 302 to the targets, a relay to a switchboard node, or a final
answer. It is answered from memory (the live view, the registrar's bindings), never the
store, so it costs what a routing decision costs.

Who may ask: ``route_calls``, held by the ``router`` role (an integration that may do
nothing else) and administrators; see docs/accounts.md. No field and no explanation ever
holds a secret mobile (R18): a call that would need one goes to a switchboard node
(``sip/front.py``).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from switchboard.http.api import require
from switchboard.http.context import ENGINE
from switchboard.http.principal import Permission
from switchboard.sip.front import Devices, Front, FrontAnswer

routes = web.RouteTableDef()
PATH = "/api/v1/route"
FRONT = web.AppKey("front", Front)
PARAMETERS = frozenset({"to", "from"})
NUMBER = re.compile(r"^[A-Za-z0-9+*#%._-]{1,64}$")
"""What a Request-URI's or a From's user part may hold here: digits with ``+``, the
star and hash of service codes, an escape (``%2A98``), and names such as ``anonymous``."""
NUMBER_TEXT = "1-64 letters, digits and + * # % . _ -"


def install(app: web.Application, devices: Devices) -> None:
    app[FRONT] = Front(app[ENGINE], devices)
    app.router.add_routes(routes)


def _parameter(request: web.Request, name: str) -> str | None:
    """The parameter's value, None when absent or empty; 400 naming it when it is given
    twice or holds what no user part of ours does."""
    values = request.query.getall(name, [])
    if len(values) > 1:
        raise web.HTTPBadRequest(text=f"{name}: give it once")
    value = values[0].strip() if values else ""
    if not value:
        return None
    if not NUMBER.match(value):
        raise web.HTTPBadRequest(text=f"{name}: must be {NUMBER_TEXT}")
    return value


def answer_json(answer: FrontAnswer, shown_caller: str | None) -> dict[str, Any]:
    person = answer.person
    return {
        "action": answer.action.value,
        "status": answer.status,
        "reason": answer.reason,
        "targets": [
            {"uri": t.uri, "role": t.role.value, "number": t.number} for t in answer.targets
        ],
        "relay": answer.relayed.value if answer.relayed else None,
        "decision": answer.decision,
        "extension": person.extension if person else None,
        "ring_timeout": answer.ring_timeout,
        "caller": shown_caller,
        "explanation": answer.explanation,
    }


@routes.get(PATH)
async def route(request: web.Request) -> web.Response:
    """What Kamailio does with an INVITE for ``to`` from ``from``: redirect, relay, reject."""
    require(request, Permission.ROUTE_CALLS, None)
    unknown = sorted(set(request.query) - PARAMETERS)
    if unknown:
        raise web.HTTPBadRequest(text=f"unknown parameters: {', '.join(unknown)}")
    dialled = _parameter(request, "to")
    if dialled is None:
        raise web.HTTPBadRequest(text="to: required, the dialled number (the Request-URI's user)")
    caller = _parameter(request, "from")
    front = request.app[FRONT]
    answer = front.answer(dialled, caller, front.engine.clock.now())
    # No log line per question: Kamailio writes the call's line, and the node that carries
    # a relayed call writes its own.
    return web.json_response(answer_json(answer, front.shown_caller(caller)))
