"""Security middlewares: headers on every answer, errors with an id, CSRF, no method override.

Order (outermost first, see ``app.py``): ``request_context`` gives the request its id;
``errors`` turns anything into a safe answer; ``refuse_override`` and ``limit_body`` reject
a request before anyone reads it; ``auth`` (in ``auth.py``) finds the principal and sets
the audit origin; ``refusals`` records every 403 in the audit trail; ``csrf`` checks state
changes made with a cookie. Headers are added in ``on_response_prepare`` so even answers
aiohttp makes itself, and streamed ones, carry them.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from switchboard.http.context import (
    ENGINE,
    ERROR_ID,
    HTTP,
    PRINCIPAL,
    REFUSAL,
    REQUEST_ID,
    Refusal,
    note_refusal,
)
from switchboard.http.error_pages import error_page
from switchboard.http.forms import read_form
from switchboard.http.refusals import (
    BadRequest,
    Code,
    Forbidden,
    Unprocessable,
    detail_of,
    status_code,
)
from switchboard.store import audit_phrases
from switchboard.store.audit import AuditDecision
from switchboard.store.protocol import StoreError, StoreUnavailableError

log = structlog.get_logger("switchboard.http")

STORE_UNAVAILABLE = (
    "The switchboard cannot reach its store right now, so this request could not be completed. "
    "Calls are still routed from what the switchboard knows; try again in a moment."
)
STORE_RETRY_AFTER = 5
"""Seconds a client is asked to wait before trying again while the store is unreachable."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
"""No inline script or style anywhere: the pages load their JS and CSS from /static."""

SERVER = "switchboard"
"""The ``Server`` header: no product version (aiohttp's default names Python's and its
own), which would tell a scanner which published flaws to try (issue 17)."""
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OVERRIDE_HEADERS = ("X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override")
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


MAX_NEXT = 2048


def safe_next(value: str | None) -> str:
    """Where to go after signing in: only a path on this site, else ``/`` (no open
    redirect, OWASP). Not ``//evil`` or ``https://...``, no backslash (browsers read it
    as ``/``), and no control character or white space: browsers drop tabs and line
    breaks from a URL, so ``/<TAB>/evil.example`` would become ``//evil.example``."""
    if (
        value
        and len(value) <= MAX_NEXT
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and value.isprintable()
        and not any(ch.isspace() for ch in value)
    ):
        return value
    return "/"


SECRET_NUMBER = Code.SECRET_NUMBER
"""The ``code`` of a 422 for a free text holding someone's secret mobile (R18, issue 17)."""
BAD_NUMBER = Code.BAD_NUMBER
"""A body field that should hold a telephone number holds none (issue 16)."""


class FieldRefused(Unprocessable):
    """422 that names the refused body field and a code the pages translate; ``errors``
    puts both into the error body (``{"error": {..., "field", "code"}}``)."""

    def __init__(self, field: str, message: str, code: str = SECRET_NUMBER) -> None:
        super().__init__(code, message, field=field)


def error_response(
    request: web.Request, status: int, message: str, **extra: object
) -> web.Response:
    """The one error shape: JSON, except a framed page (``error_pages``) for a browser
    asking for a page."""
    # Browsers navigating to a page ask for HTML; everyone else (API clients, sign-in by
    # script or fetch) gets JSON.
    wants_html = "text/html" in request.headers.get("Accept", "")
    if is_api(request) or not wants_html:
        # Every refusal has a code the pages translate (issue 16); the status's by default.
        body: dict[str, object] = {
            "status": status,
            "message": message,
            "code": status_code(status),
            **extra,
        }
        return web.json_response({"error": body}, status=status)
    page = error_page(request, status, message, extra)
    if page is not None:
        return page
    shown = {k: v for k, v in extra.items() if k not in ("code", "params")}
    text = message + "".join(f"\n{k}: {v}" for k, v in shown.items())
    return web.Response(status=status, text=text)


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An id for the request, made here and never taken from the client (a header it sets
    could collide with another request's or carry anything): the answer carries it in
    ``X-Request-Id``; the request's log lines and audit entries carry it too (issue 17)."""
    request_id = new_request_id()
    request[REQUEST_ID] = request_id
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        return await handler(request)


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every response, errors and event streams included."""
    headers = response.headers
    headers["Server"] = SERVER
    request_id = request.get(REQUEST_ID)
    if request_id is not None:
        headers["X-Request-Id"] = request_id
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), geolocation=(), microphone=(self)"
    if request.app[HTTP].secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    principal = request.get(PRINCIPAL)
    authenticated = principal is not None and principal.account is not None
    if request.path.startswith("/static/") and "Cache-Control" in headers:
        # Page assets (web/static) hold nothing personal: keep the cache policy the static
        # handler chose (versioned URLs for a year), signed in or not.
        authenticated = False
    if authenticated or is_api(request) or "Cache-Control" not in headers:
        # Authenticated answers hold personal data: never in a shared or disk cache.
        headers["Cache-Control"] = "no-store"
        headers.setdefault("Vary", "Cookie, Authorization")


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """HTTP errors in the house shape; anything unexpected becomes a 500 with an error id.

    The id and the traceback go to the log; the client gets only the id, to quote to an
    administrator who can then find the traceback. A store that cannot be reached (Redis
    down, issue 14) is no bug of ours: 503 with Retry-After, and why to the log only (it
    names the store's address).
    """
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else None
        extra = detail_of(exc).body()
        response = error_response(request, exc.status, message or exc.reason, **extra)
        for name in ("Allow", "Retry-After", "WWW-Authenticate"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except StoreUnavailableError as exc:
        log.warning(
            "http_store_unavailable", method=request.method, path=request.path, error=str(exc)
        )
        response = error_response(request, 503, STORE_UNAVAILABLE)
        response.headers["Retry-After"] = str(STORE_RETRY_AFTER)
        return response
    except Exception:  # the last line of defence: logged with its traceback, id to the client
        error_id = uuid.uuid4().hex[:12]
        request[ERROR_ID] = error_id
        log.exception(
            "http_unhandled_error", error_id=error_id, method=request.method, path=request.path
        )
        return error_response(
            request,
            500,
            "Something went wrong on our side. Quote this error id to an administrator.",
            error_id=error_id,
        )


@web.middleware
async def refuse_override(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse method-override headers and ``_method`` parameters instead of honouring them:
    a proxy or a form that turns POST into DELETE would bypass method-based rules."""
    if any(name in request.headers for name in OVERRIDE_HEADERS) or "_method" in request.query:
        raise BadRequest(
            Code.METHOD_OVERRIDE, "method override is not supported; use the real method"
        )
    if request.method in STATE_CHANGING and request.content_type == FORM_TYPES[0]:
        form = await request.post()
        if "_method" in form:
            raise BadRequest(
                Code.METHOD_OVERRIDE, "method override is not supported; use the real method"
            )
    return await handler(request)


ROUTE_BODY_LIMITS: web.AppKey[dict[str, int]] = web.AppKey("route_body_limits")
"""Route name -> its own body limit (an upload: the voicemail greeting, the directory
import); every other route has ``max_body``."""
MAX_IMPORT_BYTES = 64 * 1024 * 1024
"""A directory file's upload: a region's 100,000 people are about 12 MB of CSV."""


@web.middleware
async def limit_body(request: web.Request, handler: Handler) -> web.StreamResponse:
    """413 before reading a body announced as too large (aiohttp enforces the limit again
    while reading, for bodies without a length)."""
    limit = request.app[HTTP].max_body
    own = request.app.get(ROUTE_BODY_LIMITS, {}).get(request.match_info.route.name or "")
    if own is not None:
        limit = own
        # aiohttp has no public per-route size for ``read()``/``post()`` (the CSRF check
        # reads the form); ``clone(client_max_size=)`` would split the request's state
        # from the one the outer middlewares hold.
        request._client_max_size = own
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(
            max_size=limit,
            actual_size=request.content_length,
            text=f"the request body may be at most {limit} bytes",
        )
    return await handler(request)


def _expected_origin(request: web.Request) -> str:
    configured = request.app[HTTP].origin
    if configured is not None:
        return configured
    return f"{request.scheme}://{request.host}".lower()


def same_origin(request: web.Request) -> bool:
    """The browser says the request comes from our own pages (Origin, else Sec-Fetch-Site)."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin.lower() == _expected_origin(request)
    return request.headers.get("Sec-Fetch-Site") == "same-origin"


def cross_site(request: web.Request) -> bool:
    """The browser says the request comes from another site (absent headers: not a browser)."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin.lower() != _expected_origin(request)
    return request.headers.get("Sec-Fetch-Site") in {"cross-site", "same-site"}


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """State changes made with the session cookie need the session's CSRF token and a
    same-origin browser; bearer requests carry no cookie and are exempt (OWASP CSRF cheat
    sheet: synchronizer token plus origin verification)."""
    if request.method not in STATE_CHANGING:
        return await handler(request)
    principal = request[PRINCIPAL]
    if principal.via == "session":
        expected = principal.csrf_token or ""
        given = request.headers.get(CSRF_HEADER)
        if given is None and request.content_type in FORM_TYPES:
            field = (await read_form(request)).get(CSRF_FIELD)
            given = field if isinstance(field, str) else None
        if not (given and expected and hmac.compare_digest(given, expected)):
            note_refusal(request, "csrf_token")
            raise Forbidden(Code.CSRF, "missing or wrong CSRF token; reload the page")
        if not same_origin(request):
            note_refusal(request, "csrf_origin")
            raise Forbidden(Code.CROSS_ORIGIN, "cross-origin request refused")
    elif principal.via == "anonymous" and cross_site(request):
        # Sign-in from another site (login CSRF) and similar: refused.
        note_refusal(request, "csrf_origin")
        raise Forbidden(Code.CROSS_ORIGIN, "cross-origin request refused")
    return await handler(request)


@web.middleware
async def refusals(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every 403 goes into the audit trail, with who, on whom, what and where (issue 17).

    Inside ``auth``, so the entry carries the principal's origin (session or token, the
    source address, the request id). A refusal of nobody (a cross-site request without a
    session) has no actor to hold to account and costs an attacker nothing to repeat, so
    it goes to the log only; the same line is logged for every refusal.
    """
    try:
        return await handler(request)
    except web.HTTPForbidden as exc:
        await _record_refusal(request, exc.text or "forbidden")
        raise


async def _record_refusal(request: web.Request, message: str) -> None:
    principal = request.get(PRINCIPAL)
    account = None if principal is None else principal.account
    refusal = request.get(REFUSAL) or Refusal("forbidden", request.path)
    where = f"{request.method} {request.path}"
    log.info(
        "http_refused",
        actor=account.username if account is not None else "anonymous",
        via=principal.audit_via if principal is not None else "anonymous",
        refused=refusal.what,
        subject=refusal.subject,
        method=request.method,
        path=request.path,
        source=request.remote or "unknown",
    )
    if account is None:
        return
    engine = request.app[ENGINE]
    detail = audit_phrases.access_refused(refusal.what, where, message, limit=500)
    try:
        await engine.store.append_audit(
            engine.clock.now(),
            account.username,
            "access_refused",
            refusal.subject,
            detail,
            AuditDecision.REFUSED,
        )
    except StoreError as exc:  # the 403 stands; the log line above keeps the refusal
        log.error("http_refusal_not_audited", error=str(exc))
