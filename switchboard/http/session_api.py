"""How long the browser's session has left, and "Fortsätt inloggad" (WCAG 2.2.1, issue 16).

Sessions end after ``[http] session_idle_minutes`` unused (30 by default). So that nobody
loses what they typed, every page watches the time (``web/static/session_timeout.js``) and
a few minutes before the end asks, in a dialog, whether to carry on:

- ``GET /api/v1/session`` says when the session ends; asking does *not* renew it (the
  auth middleware leaves ``last_seen`` alone for this one request), so a page left open
  still ends when nobody uses it.
- ``POST /api/v1/session/extend`` renews the idle time at once (any other request renews
  it too, written at most once a minute). The absolute 12 hours are never extended.

Only for web sessions: a bearer token has no idle time (404: no session here).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from switchboard.http.context import ACCESS, ENGINE, PRINCIPAL, signed_in
from switchboard.http.render import instant

routes = web.RouteTableDef()
SESSION_PATH = "/api/v1/session"
"""Asking here does not renew the session (``auth.resolve_principal`` leaves it alone)."""
EXTEND_PATH = SESSION_PATH + "/extend"
WARN_BEFORE = timedelta(minutes=3)
"""How long before the end the pages warn: "a few minutes", and far more than the 20
seconds WCAG 2.2.1 asks; a fifth of a shorter idle time."""


def install(app: web.Application) -> None:
    app.router.add_routes(routes)


def warn_before(idle: timedelta) -> timedelta:
    return min(WARN_BEFORE, idle / 5)


def session_times(request: web.Request, ends: datetime) -> dict[str, Any]:
    """What a page needs to warn in time: seconds left, how long before to warn, the idle
    time (the words say it), and the end as an instant in the organisation's zone."""
    engine = request.app[ENGINE]
    idle = request.app[ACCESS].accounts.policy.idle
    left = max(0.0, (ends - engine.clock.now()).total_seconds())
    return {
        "expires_in": round(left, 1),
        "ends": instant(ends, engine.settings.zone),
        "warn_before": int(warn_before(idle).total_seconds()),
        "idle_minutes": int(idle.total_seconds() // 60),
    }


def _session_id(request: web.Request) -> str:
    signed_in(request)
    principal = request[PRINCIPAL]
    if principal.via != "session" or principal.session_id is None:
        # Not found rather than refused: there is no session here to speak of (and a 403
        # would put every such question into the audit trail).
        raise web.HTTPNotFound(text="only a web session has an idle time; a token has none")
    return principal.session_id


@routes.get(SESSION_PATH)
async def session_left(request: web.Request) -> web.Response:
    _session_id(request)
    ends = request[PRINCIPAL].session_ends
    assert ends is not None  # noqa: S101 - a session principal always carries it
    return web.json_response(session_times(request, ends))


@routes.post(EXTEND_PATH)
async def session_extend(request: web.Request) -> web.Response:
    accounts = request.app[ACCESS].accounts
    session = await accounts.extend_session(_session_id(request))
    if session is None:
        raise web.HTTPUnauthorized(text="the session has ended; sign in again")
    return web.json_response(session_times(request, session.ends_at(accounts.policy)))
