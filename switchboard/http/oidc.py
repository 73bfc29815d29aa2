"""Single sign-on with OpenID Connect: ``GET /signin/oidc`` and its callback (issue 5).

The authorization-code flow (OpenID Connect Core 1.0 section 3.1) with PKCE S256
(RFC 7636), as RFC 9700 (OAuth 2.0 Security BCP) section 2.1.1 asks even of confidential
clients:

1. ``GET /signin/oidc`` makes a fresh ``state``, ``nonce`` and PKCE verifier, keeps them
   server-side (``PendingFlows``) and redirects the browser to the provider.
2. ``GET /signin/oidc/callback?code&state`` takes the flow out (single use), exchanges the
   code with the verifier, verifies the id_token (``oidc_provider``), maps the claims to an
   account (``oidc_accounts``), starts a new session (rotation) and redirects to ``/`` (or
   to the local path ``?next=`` named when the sign-in started).

Why server-side and not a signed cookie: nothing secret (verifier, nonce) ever leaves the
server, a flow is single-use by construction (a replayed callback finds nothing), and no
signing key has to be managed. The cost: the callback must reach the node that started the
flow (sticky sessions for ``/signin/oidc*`` when several nodes serve the web), documented in
``docs/accounts.md``. The workers of one ``serve --workers`` cannot be sticky (the kernel
hands each connection to any of them), so there each flow is told to the others as it
starts and as it is taken (``PendingFlows.share``; app.py wires it). The flow is bound to
the browser that started it by the ``sb_oidc`` cookie (HttpOnly, SameSite=Lax, path
``/signin/oidc``): the store keeps only its hash, and a callback from another browser
(login CSRF, RFC 9700 section 4.7) is refused. Flows expire after ``FLOW_TTL`` and at most
``MAX_FLOWS`` are kept (the oldest go first).

Every failure answers with an error id and a sentence a person can act on; the reason, for
an administrator, goes to the log under that id (``sso_sign_in_failed``).

The sign-in page learns about the provider from ``SIGN_IN_PROVIDER`` (display name and
start URL), present in the application only when ``[http.oidc]`` is configured.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

import aiohttp
import structlog
from aiohttp import web
from yarl import URL

from switchboard.clock import Clock
from switchboard.http.auth import MAX_CREDENTIAL, previous_session, set_session_cookie
from switchboard.http.context import HTTP, SIGN_IN_PROVIDER, SignInProvider
from switchboard.http.oidc_accounts import AccountLinker, FindPerson, OidcAccountService
from switchboard.http.oidc_provider import OidcError, OidcProvider
from switchboard.http.security import error_response, safe_next
from switchboard.settings.oidc import OidcSettings
from switchboard.store.origin import acting_from, current_origin

log = structlog.get_logger("switchboard.http")

START_PATH = "/signin/oidc"
CALLBACK_PATH = "/signin/oidc/callback"
BROWSER_COOKIE = "sb_oidc"
SECURE_BROWSER_COOKIE = "__Secure-sb_oidc"
"""Its name on https: only ever set Secure. Not ``__Host-``, which demands ``Path=/``: the
cookie stays scoped to the sign-in paths."""


def browser_cookie(request: web.Request) -> str:
    return SECURE_BROWSER_COOKIE if request.app[HTTP].secure else BROWSER_COOKIE


FLOW_TTL = timedelta(minutes=10)
MAX_FLOWS = 10_000

EXPIRED = "This sign-in has expired or was already used. Start again from the sign-in page."
CANCELLED = "The sign-in was cancelled or refused at the sign-in service."


class OidcConfigError(Exception):
    """The OpenID Connect settings cannot work (raised when the application is built)."""


@dataclass(frozen=True, slots=True)
class PendingFlow:
    state: str
    nonce: str
    verifier: str
    browser_hash: str
    redirect_uri: str
    started: datetime
    next_path: str = "/"


class FlowShare(Protocol):
    """The other workers of ``serve --workers``, told of each flow that starts or is taken
    here, so a callback that reaches another worker finds its flow (and a used one is gone
    everywhere)."""

    def started(self, flow: PendingFlow) -> None: ...

    def taken(self, state: str) -> None: ...


class PendingFlows:
    """Sign-ins between the redirect to the provider and the callback, by ``state``."""

    def __init__(self, clock: Clock, limit: int = MAX_FLOWS) -> None:
        self._clock = clock
        self._limit = limit
        self._flows: OrderedDict[str, PendingFlow] = OrderedDict()
        self.share: FlowShare | None = None

    def add(self, flow: PendingFlow) -> None:
        self.adopt(flow)
        if self.share is not None:
            self.share.started(flow)

    def adopt(self, flow: PendingFlow) -> None:
        """Keep a flow (one started here, or by another worker)."""
        self._flows[flow.state] = flow
        while len(self._flows) > self._limit:
            self._flows.popitem(last=False)

    def take(self, state: str) -> PendingFlow | None:
        """The flow for ``state``, removed (single use); None when unknown or expired."""
        flow = self._flows.pop(state, None)
        if flow is not None and self.share is not None:
            self.share.taken(state)
        if flow is None or self._clock.now() - flow.started > FLOW_TTL:
            return None
        return flow

    def forget(self, state: str) -> None:
        """Another worker took the flow: it is used."""
        self._flows.pop(state, None)

    def __len__(self) -> int:
        return len(self._flows)


@dataclass(frozen=True, slots=True)
class OidcSignIn:
    settings: OidcSettings
    provider: OidcProvider
    flows: PendingFlows
    linker: AccountLinker
    accounts: OidcAccountService
    clock: Clock


OIDC = web.AppKey("oidc", OidcSignIn)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _challenge(verifier: str) -> str:
    """RFC 7636 section 4.2: BASE64URL(SHA256(ASCII(code_verifier))), no padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _redirect_uri(request: web.Request) -> str:
    """``{public_url}/signin/oidc/callback``; the request's own origin without one (tests)."""
    base = request.app[HTTP].public_url or f"{request.scheme}://{request.host}"
    return base.rstrip("/") + CALLBACK_PATH


def _failed(request: web.Request, exc: OidcError) -> web.Response:
    error_id = uuid.uuid4().hex[:12]
    log.warning("sso_sign_in_failed", error_id=error_id, reason=exc.reason, status=exc.status)
    response = error_response(request, exc.status, exc.public, error_id=error_id)
    response.del_cookie(browser_cookie(request), path=START_PATH, secure=request.app[HTTP].secure)
    return response


def _redirect(location: str) -> web.Response:
    # A Response, not a raised HTTPFound: cookies are set on it, and aiohttp deprecates
    # returning exceptions.
    return web.Response(status=302, headers={"Location": location})


async def start(request: web.Request) -> web.Response:
    oidc = request.app[OIDC]
    try:
        metadata = await oidc.provider.metadata()
    except OidcError as exc:
        return _failed(request, exc)
    browser = request.cookies.get(browser_cookie(request), "")
    if not 32 <= len(browser) <= MAX_CREDENTIAL:
        browser = secrets.token_urlsafe(32)
    flow = PendingFlow(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        verifier=secrets.token_urlsafe(48),  # 64 characters: RFC 7636 4.1 asks 43-128
        browser_hash=_hash(browser),
        redirect_uri=_redirect_uri(request),
        started=oidc.clock.now(),
        next_path=safe_next(request.query.get("next")),
    )
    oidc.flows.add(flow)
    target = URL(metadata.authorization_endpoint).update_query(
        response_type="code",
        client_id=oidc.settings.client_id,
        redirect_uri=flow.redirect_uri,
        scope=" ".join(oidc.settings.scopes),
        state=flow.state,
        nonce=flow.nonce,
        code_challenge=_challenge(flow.verifier),
        code_challenge_method="S256",
    )
    response = _redirect(str(target))
    response.set_cookie(
        browser_cookie(request),
        browser,
        httponly=True,
        samesite="Lax",  # the callback is a top-level GET from the provider's site
        secure=request.app[HTTP].secure,
        path=START_PATH,
        max_age=int(FLOW_TTL.total_seconds()),
    )
    return response


async def callback(request: web.Request) -> web.Response:
    try:
        # What the sign-in writes (a binding, roles, the session) was done by single
        # sign-on (issue 17: the audit trail says how).
        with acting_from(replace(current_origin(), via="sso")):
            return await _complete(request)
    except OidcError as exc:
        return _failed(request, exc)


async def _complete(request: web.Request) -> web.Response:
    oidc = request.app[OIDC]
    query = request.query
    flow = oidc.flows.take(query.get("state", "")[:MAX_CREDENTIAL])
    if flow is None:
        raise OidcError("unknown, used or expired state", EXPIRED, 400)
    browser = request.cookies.get(browser_cookie(request), "")
    if not hmac.compare_digest(_hash(browser), flow.browser_hash):
        raise OidcError("callback from a browser that did not start the flow", EXPIRED, 400)
    if "error" in query:
        error = query.get("error", "")[:64]
        raise OidcError(f"provider answered error={error!r}", CANCELLED, 403)
    code = query.get("code", "")
    if not code or len(code) > 4096:
        raise OidcError("callback without a code", EXPIRED, 400)
    id_token = await oidc.provider.exchange(code, flow.verifier, flow.redirect_uri)
    claims = await oidc.provider.verify(id_token, flow.nonce)
    account = await oidc.linker.account_for(claims)
    session_id, _session = await oidc.accounts.start_session(account, previous_session(request))
    log.info("sso_sign_in", username=account.username, source=request.remote or "unknown")
    response = _redirect(flow.next_path)
    set_session_cookie(request, response, session_id)
    response.del_cookie(browser_cookie(request), path=START_PATH, secure=request.app[HTTP].secure)
    return response


def setup_oidc(
    app: web.Application,
    settings: OidcSettings,
    accounts: OidcAccountService,
    find_person: FindPerson,
    clock: Clock,
    environ: Callable[[str], str | None] = os.environ.get,
    flows: PendingFlows | None = None,
) -> None:
    """Add single sign-on to ``app``: routes, state, and the provider's HTTP client
    (owned by a cleanup context, so it closes with the application).

    Raises OidcConfigError when the client secret's environment variable is unset.
    """
    secret = environ(settings.client_secret_env)
    if not secret:
        raise OidcConfigError(
            f"single sign-on is configured ([http.oidc]) but the environment variable "
            f"{settings.client_secret_env} that should hold the client secret is not set"
        )
    provider = OidcProvider(settings, secret, clock)
    app[OIDC] = OidcSignIn(
        settings,
        provider,
        flows or PendingFlows(clock),
        AccountLinker(settings, accounts, find_person),
        accounts,
        clock,
    )
    app[SIGN_IN_PROVIDER] = SignInProvider(settings.display_name, START_PATH)
    app.router.add_get(START_PATH, start)
    app.router.add_get(CALLBACK_PATH, callback)

    async def client(_app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as http:
            provider.attach(http)
            try:
                yield
            finally:
                provider.attach(None)

    app.cleanup_ctx.append(client)
