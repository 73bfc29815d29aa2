"""Typed application and request state of the HTTP edge (``web.AppKey``, ``web.RequestKey``).

One place names every key, so handlers, middlewares and ``build_app`` agree on types and
no module reaches into ``app["..."]`` with a magic string.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aiohttp import web

from switchboard.http.overview_cache import OverviewCache
from switchboard.http.principal import Access, Account
from switchboard.http.refusals import BadRequest, Code, unknown_fields
from switchboard.http.search_cache import SearchCache
from switchboard.live.engine import Engine
from switchboard.live.health import HealthBoard
from switchboard.live.lines import LineStates
from switchboard.settings.http import HttpSettings
from switchboard.store.bus import EventBus


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking, and how they proved it."""

    account: Account | None
    via: Literal["anonymous", "bearer", "session"]
    session_id: str | None = None
    csrf_token: str | None = None
    token_name: str | None = None
    """The API token's name (``switchboard users token ... --name``), for a bearer."""
    session_ends: datetime | None = None
    """When a web session ends unless used again (idle or absolute limit): the pages warn
    a few minutes before (WCAG 2.2.1, ``session_api``)."""

    @property
    def audit_via(self) -> str:
        """How the audit trail says this principal proved who they are (issue 17): a web
        session and each API token of the same user are told apart."""
        if self.via == "bearer":
            return f"token:{self.token_name or '?'}"
        return self.via


ANONYMOUS = Principal(None, "anonymous")


@dataclass(frozen=True, slots=True)
class Refusal:
    """What a 403 refused, for the audit entry the ``refusals`` middleware writes."""

    what: str
    """The permission (``write_presence``) or check (``csrf``) that said no."""
    subject: str
    """On whom: a person_id, ``account:NAME``, or the path when there is no one."""


ENGINE = web.AppKey("engine", Engine)
BUS = web.AppKey("bus", EventBus)
LINES = web.AppKey("lines", LineStates)
HTTP = web.AppKey("http_settings", HttpSettings)
ACCESS = web.AppKey("access", Access)
SEARCH = web.AppKey("search", SearchCache)
OVERVIEW = web.AppKey("overview", OverviewCache)
HEARTBEAT = web.AppKey("heartbeat_seconds", float)
"""Seconds between SSE keep-alive comments (15 in production; tests shorten it)."""
STOPPING = web.AppKey("stopping", asyncio.Event)
"""Set on shutdown so open event streams end instead of holding the runner up."""

PRINCIPAL = web.RequestKey("principal", Principal)
REQUEST_ID = web.RequestKey("request_id", str)
"""Made for each request; the answer carries it in ``X-Request-Id``, the log lines and the
audit entries of the request carry it too."""
REFUSAL = web.RequestKey("refusal", Refusal)
CALENDAR_HEALTH = web.AppKey("calendar_health", HealthBoard)


@dataclass(frozen=True, slots=True)
class SignInProvider:
    """What the sign-in page shows: a "Sign in with ..." button that links to ``start_url``
    (add ``?next=/path`` to come back to a page of this site after signing in). Set by
    ``oidc.setup_oidc``; kept here, with the app's other state, so the sign-in page and
    ``POST /signin`` read it without importing the single sign-on flow."""

    display_name: str
    start_url: str


SIGN_IN_PROVIDER = web.AppKey("sign_in_provider", SignInProvider)
"""Present only when single sign-on is configured: ``app.get(SIGN_IN_PROVIDER)``."""
ERROR_ID = web.RequestKey("error_id", str)


def note_refusal(request: web.Request, what: str, subject: str | None = None) -> None:
    """Say what is being refused before raising 403, so the audit entry names it."""
    request[REFUSAL] = Refusal(what, subject or request.path)


def signed_in(request: web.Request) -> Account:
    """The account asking, or 401: every route here needs someone to hold responsible."""
    account = request[PRINCIPAL].account
    if account is None:
        raise web.HTTPUnauthorized(
            text="sign in, or send 'Authorization: Bearer sbt_...'",
            headers={"WWW-Authenticate": 'Bearer realm="switchboard"'},
        )
    return account


async def json_object(request: web.Request, keys: set[str] | None) -> dict[str, Any]:
    """The body as a JSON object with only ``keys`` (unknown fields are refused, not
    ignored: a body never picks a target or an actor); ``None``: the caller checks."""
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="send the body as application/json")
    try:
        body = await request.json()
    except ValueError:
        raise BadRequest(Code.BAD_JSON, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest(Code.BAD_JSON, "the body must be a JSON object")
    unknown = sorted(set(body) - keys) if keys is not None else []
    if unknown:
        raise unknown_fields(unknown)
    return body
