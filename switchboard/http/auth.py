"""Who is asking: bearer tokens for integrations, session cookies for browsers; sign-in/out.

- ``Authorization: Bearer sbt_...`` names an account by token (``switchboard users token``).
  Such requests carry no cookie, so CSRF cannot apply to them.
- Otherwise the ``sb_session`` cookie names a session. It is HttpOnly (no script reads it),
  ``SameSite=Lax`` and Secure when the public URL is https. Lax rather than Strict: a link
  to the page from an e-mail or the intranet must arrive signed in; cross-site state
  changes are stopped anyway by the CSRF token and the Origin check (``security.csrf``).
- ``POST /signin`` always starts a *new* session (rotation: a session id planted before
  sign-in is worthless after it) and ends the old one. Unknown user and wrong password get
  the same answer; the account service makes them take the same time and throttles
  (429 with Retry-After), never locking anyone out.
- It answers in kind (issue 16): JSON to ``signin.js`` and other scripts; to a browser
  posting the form without JavaScript (a form body, ``Accept: text/html``) a ``303`` to
  the form's ``next`` (a local path only, ``security.safe_next``), or on a refusal the
  sign-in page again with the message in the reader's language and the same status
  (400, 401, 429 with Retry-After).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import structlog
from aiohttp import web

from switchboard.http.context import ACCESS, ANONYMOUS, HTTP, PRINCIPAL, REQUEST_ID, Principal
from switchboard.http.page_render import page_translator
from switchboard.http.pages import render_signin
from switchboard.http.principal import LoginThrottledError
from switchboard.http.security import FORM_TYPES, Handler, safe_next
from switchboard.http.session_api import SESSION_PATH
from switchboard.store.origin import Origin, acting_from, current_origin

log = structlog.get_logger("switchboard.http")

COOKIE = "sb_session"
HOST_COOKIE = "__Host-sb_session"
"""The session cookie's name on https (issue 17). A browser keeps a ``__Host-`` cookie only
if it was set Secure, with ``Path=/`` and no ``Domain`` (RFC 6265bis 4.1.3.2), so a page on
a sibling subdomain or on plain http cannot plant or overwrite a session cookie here
(session fixation by cookie tossing). Plain http (a test, a loopback) cannot set Secure
cookies, so it keeps the plain name."""
TOKEN_PREFIX = "sbt_"  # noqa: S105 - a prefix, not a secret
MAX_CREDENTIAL = 256
"""Longer usernames or passwords are refused before hashing (argon2 on 1 MiB is a DoS)."""

routes = web.RouteTableDef()


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise web.HTTPUnauthorized(
            text="use 'Authorization: Bearer sbt_...'",
            headers={"WWW-Authenticate": 'Bearer realm="switchboard"'},
        )
    return token.strip()


async def resolve_principal(request: web.Request) -> Principal:
    access = request.app[ACCESS]
    token = _bearer(request)
    if token is not None:
        holder = None
        if token.startswith(TOKEN_PREFIX) and len(token) <= MAX_CREDENTIAL:
            holder = await access.accounts.token_holder(token)
        if holder is None or holder[0].disabled:
            raise web.HTTPUnauthorized(
                text="the bearer token is unknown, revoked or expired",
                headers={"WWW-Authenticate": 'Bearer realm="switchboard", error="invalid_token"'},
            )
        account, token_name = holder
        return Principal(account, "bearer", token_name=token_name)
    session_id = request.cookies.get(session_cookie(request))
    if session_id and len(session_id) <= MAX_CREDENTIAL:
        # Every request renews the idle time, except the page asking how long is left.
        touch = not (request.method == "GET" and request.path == SESSION_PATH)
        found = await access.accounts.session(session_id, touch=touch)
        if found is not None:
            session, account = found
            if not account.disabled:
                ends = session.ends_at(access.accounts.policy)
                return Principal(account, "session", session_id, session.csrf_token, None, ends)
    return ANONYMOUS


@web.middleware
async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Find the principal; audit entries the request writes carry its origin (issue 17)."""
    principal = await resolve_principal(request)
    request[PRINCIPAL] = principal
    origin = Origin(principal.audit_via, source(request), request.get(REQUEST_ID, ""))
    with acting_from(origin):
        return await handler(request)


def source(request: web.Request) -> str:
    """The address the request came from, as the throttle and the audit trail see it."""
    return request.remote or "unknown"


def session_cookie(request: web.Request) -> str:
    """The session cookie's name: ``__Host-sb_session`` on https, else ``sb_session``."""
    return HOST_COOKIE if request.app[HTTP].secure else COOKIE


def set_session_cookie(request: web.Request, response: web.StreamResponse, session_id: str) -> None:
    # Secure, Path=/ and no Domain: what the __Host- prefix demands.
    response.set_cookie(
        session_cookie(request),
        session_id,
        httponly=True,
        samesite="Lax",
        secure=request.app[HTTP].secure,
        path="/",
    )


def previous_session(request: web.Request) -> str | None:
    """The session id the browser sent, to revoke at a new sign-in (rotation)."""
    previous = request.cookies.get(session_cookie(request))
    return previous if previous is not None and len(previous) <= MAX_CREDENTIAL else None


async def _credentials(request: web.Request) -> tuple[str, str]:
    data: Any
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="the body is not valid JSON") from None
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        data = dict(await request.post())
    else:
        raise web.HTTPUnsupportedMediaType(text="send a form or JSON with username and password")
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="expected an object with username and password")
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username:
        raise web.HTTPBadRequest(text="give a username and a password")
    if len(username) > MAX_CREDENTIAL or len(password) > MAX_CREDENTIAL:
        raise web.HTTPBadRequest(text=f"username and password are at most {MAX_CREDENTIAL} long")
    return username, password


def _from_a_page(request: web.Request) -> bool:
    """A browser submitting the sign-in form itself, without JavaScript."""
    return request.content_type in FORM_TYPES and "text/html" in request.headers.get("Accept", "")


@routes.post("/signin")
async def signin(request: web.Request) -> web.Response:
    if not _from_a_page(request):
        return await _sign_in(request)
    form = await request.post()
    typed = form.get("next")
    next_path = safe_next(typed if isinstance(typed, str) else None)
    name = form.get("username")
    username = name[:MAX_CREDENTIAL] if isinstance(name, str) else ""
    t = page_translator(request, None)
    try:
        # A Response, not a raised HTTPSeeOther: the cookie is set on it, and aiohttp
        # deprecates returning exceptions.
        see_other = web.Response(status=303, headers={"Location": next_path})
        response = await _sign_in(request, see_other)
    except web.HTTPTooManyRequests as exc:
        seconds = exc.headers.get("Retry-After", "5")
        page = render_signin(
            request,
            next_path,
            status=exc.status,
            error=t("signin.throttled", seconds=seconds),
            username=username,
        )
        page.headers["Retry-After"] = seconds
        return page
    except (web.HTTPUnauthorized, web.HTTPBadRequest) as exc:
        error = t("signin.failed")
        return render_signin(request, next_path, status=exc.status, error=error, username=username)
    return response


async def _sign_in(request: web.Request, answer: web.Response | None = None) -> web.Response:
    """Check the credentials and start a session; ``answer`` (a redirect for a page)
    carries the cookie instead of the JSON that scripts read."""
    username, password = await _credentials(request)
    access = request.app[ACCESS]
    address = source(request)
    # The sign-in and its failures are audited as made with a password (issue 17).
    with acting_from(replace(current_origin(), via="password")):
        try:
            account = await access.accounts.authenticate(username, password, address)
        except LoginThrottledError as exc:
            raise web.HTTPTooManyRequests(
                text=str(exc), headers={"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
            ) from None
        if account is None or account.disabled:
            log.info("signin_refused", source=address)
            raise web.HTTPUnauthorized(text="wrong username or password")
        # Rotation: always a new id; the one the browser had (if any) is revoked with it.
        previous = previous_session(request)
        session_id, session = await access.accounts.start_session(account, previous)
    log.info("signin", username=account.username, source=address)
    if answer is not None:
        set_session_cookie(request, answer, session_id)
        return answer
    response = web.json_response(
        {
            "account": {
                "id": account.account_id,
                "username": account.username,
                "display_name": account.display_name,
                "person_id": account.person_id,
            },
            "csrf_token": session.csrf_token,
        }
    )
    set_session_cookie(request, response, session_id)
    return response


@routes.post("/signout")
async def signout(request: web.Request) -> web.Response:
    principal = request[PRINCIPAL]
    if principal.session_id is not None:
        await request.app[ACCESS].accounts.end_session(principal.session_id)
    response = web.json_response({"signed_out": True})
    response.del_cookie(session_cookie(request), path="/", secure=request.app[HTTP].secure)
    return response
