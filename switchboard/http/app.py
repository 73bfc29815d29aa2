"""The aiohttp application: configured, never subclassed; and its runner for ``serve``.

``build_app`` wires route tables, typed state (``context``) and the middlewares in their
order; ``run_http`` serves it under the process's TaskGroup and reports the bound address
through a future, so tests and scripts can bind port 0 (ARCHITECTURE: servers report
readiness).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

import structlog
from aiohttp import web, web_response

from switchboard.http import (
    api,
    api_admin,
    api_overview,
    api_own_calendar,
    api_plans,
    api_presentation,
    api_route,
    api_voicemail,
    auth,
    health,
    openapi,
    pages,
    pages_admin,
    pages_password,
    security,
    session_api,
    stream,
)
from switchboard.http.context import (
    ACCESS,
    BUS,
    CALENDAR_HEALTH,
    ENGINE,
    HEARTBEAT,
    HTTP,
    LINES,
    SEARCH,
    STOPPING,
)
from switchboard.http.oidc import PendingFlows, setup_oidc
from switchboard.http.oidc_accounts import OidcAccountService
from switchboard.http.overload import InFlight, cap_in_flight
from switchboard.http.principal import Access
from switchboard.http.search_cache import SearchCache
from switchboard.http.web_kit import STATIC_PATH, WEB, load_web_kit, static_file
from switchboard.live.engine import Engine
from switchboard.live.health import HealthBoard
from switchboard.live.lines import LineStates
from switchboard.live.metrics import Metrics
from switchboard.live.readiness import Readiness
from switchboard.settings.http import HttpSettings
from switchboard.sip.front import Devices, no_devices
from switchboard.store.bus import EventBus
from switchboard.voicemail.service import VoicemailServices
from switchboard.workers import ports

log = structlog.get_logger("switchboard.http")

HEARTBEAT_SECONDS = 15.0
SHUTDOWN_SECONDS = 3.0
"""How long open requests get to finish at shutdown (event streams end at once)."""


PAGE_TABLES = (pages.routes, pages_admin.routes, pages_password.routes)


def page_routes() -> frozenset[tuple[str, str]]:
    """(method, path) of every page and of ``/static``: HTML and files, not the JSON API,
    so the OpenAPI document does not list them."""
    paths = {(r.method, r.path) for t in PAGE_TABLES for r in t if isinstance(r, web.RouteDef)}
    return frozenset(paths | {("GET", STATIC_PATH)})


class HttpRuntime(Protocol):
    """What the edge needs of ``switchboard.app.Runtime`` (imports point down, not up)."""

    @property
    def engine(self) -> Engine: ...

    @property
    def bus(self) -> EventBus: ...

    @property
    def lines(self) -> LineStates: ...

    @property
    def accounts(self) -> OidcAccountService:
        """Sessions and sign-in; finding, creating and re-roling accounts for single sign-on."""
        ...

    @property
    def voicemail(self) -> VoicemailServices: ...

    @property
    def calendar_health(self) -> HealthBoard:
        """The calendar worker's latest report per source (the page shows the last sync)."""
        ...

    @property
    def metrics(self) -> Metrics: ...

    @property
    def readiness(self) -> Readiness: ...

    @property
    def sign_ins(self) -> PendingFlows:
        """Single sign-ins under way (shared with the other workers of ``serve --workers``)."""
        ...


def hide_server_version() -> None:
    """Answers aiohttp makes before any application sees the request (a malformed request
    line, a header too long) get ``Server`` from the module global ``SERVER_SOFTWARE``
    (``Python/3.11 aiohttp/3.x``), not through ``on_response_prepare``. Setting that global
    is the only way aiohttp offers to change them; ``tests/http/test_security.py`` sends
    such a request, so a release that renames the global fails a test, not silently."""
    # Not re-exported, hence setattr; checked to exist so a rename cannot pass unnoticed.
    if not hasattr(web_response, "SERVER_SOFTWARE"):  # pragma: no cover - a new aiohttp
        raise RuntimeError("aiohttp.web_response.SERVER_SOFTWARE is gone; see hide_server_version")
    setattr(web_response, "SERVER_SOFTWARE", security.SERVER)  # noqa: B010


def build_app(
    runtime: HttpRuntime,
    settings: HttpSettings,
    *,
    access: Access | None = None,
    heartbeat: float = HEARTBEAT_SECONDS,
    devices: Devices = no_devices,
) -> web.Application:
    """The application. ``access`` defaults to the runtime's account service and the
    accounts package's ``allowed()``; tests may hand in another service. ``devices``: the
    phones registered with this process's SIP edge, for ``/api/v1/route`` (none without
    one)."""
    hide_server_version()
    app = web.Application(
        client_max_size=settings.max_body,
        middlewares=[
            security.request_context,
            cap_in_flight(InFlight(settings.max_in_flight, settings.max_streams, runtime.metrics)),
            security.errors,
            # Before refuse_override, which reads a form: the import routes' forms are
            # read with their own limit, not every other route's.
            security.limit_body,
            security.refuse_override,
            auth.auth,
            security.refusals,
            security.csrf,
        ],
    )
    app[ENGINE] = runtime.engine
    app[BUS] = runtime.bus
    app[LINES] = runtime.lines
    app[CALENDAR_HEALTH] = runtime.calendar_health
    app[HTTP] = settings
    app[ACCESS] = access or Access(runtime.accounts)
    app[SEARCH] = SearchCache(runtime.engine, runtime.metrics)
    app[HEARTBEAT] = heartbeat
    app[STOPPING] = asyncio.Event()
    app.router.add_routes(auth.routes)
    app.router.add_routes(api.routes)
    app.router.add_routes(stream.routes)
    app.router.add_routes(openapi.routes)
    api_admin.install(app, runtime.engine)
    api_voicemail.install(app, runtime.voicemail)
    api_presentation.install(app)
    api_own_calendar.install(app)
    health.install(app, runtime.metrics, runtime.readiness)
    api_route.install(app, devices)
    api_overview.install(app)
    api_plans.install(app)
    session_api.install(app)
    if settings.oidc is not None:  # before the pages: the sign-in page reads SIGN_IN_PROVIDER
        engine = runtime.engine
        setup_oidc(
            app,
            settings.oidc,
            runtime.accounts,
            lambda key: engine.view.find(key),
            engine.clock,
            flows=runtime.sign_ins,
        )
    # The pages, the administration pages and /static: HTML and files, after the JSON API.
    app[WEB] = load_web_kit()
    for table in PAGE_TABLES:
        app.router.add_routes(table)
    app.router.add_get(STATIC_PATH.replace("}", ":.+}"), static_file, name="static")
    app.on_response_prepare.append(security.add_security_headers)
    app.cleanup_ctx.append(_directory_listener)
    app.on_shutdown.append(_stop_streams)
    return app


async def _directory_listener(app: web.Application) -> AsyncIterator[None]:
    """Rebuild the search index after the directory changes (not after presence changes)."""
    remove = app[BUS].add_listener(app[SEARCH].changed)
    try:
        yield
    finally:
        remove()


async def _stop_streams(app: web.Application) -> None:
    app[STOPPING].set()


def _address(sockname: tuple[str, int] | tuple[str, int, int, int]) -> str:
    host, port = sockname[0], sockname[1]
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}"


async def run_http(
    runtime: HttpRuntime,
    settings: HttpSettings,
    ready: asyncio.Future[str],
    *,
    devices: Devices = no_devices,
    reuse_port: bool = False,
) -> None:
    """Serve until cancelled; ``ready`` gets the bound ``host:port`` (port 0 allowed).
    ``reuse_port``: the port is shared with the other workers (``serve --workers``)."""
    app = build_app(runtime, settings, devices=devices)
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_SECONDS, access_log=None)
    await runner.setup()
    try:
        host, port = settings.listen.host, settings.listen.port
        if reuse_port and not port:
            port = ports.unused_port(host, udp=False)
        site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
        await site.start()
        address = _address(runner.addresses[0])
        log.info("http_listening", address=address)
        if not ready.done():
            ready.set_result(address)
        search = app[SEARCH]
        runtime.readiness.search_built = lambda: search.index is not None
        async with asyncio.TaskGroup() as group:
            group.create_task(search.run(), name="search-index")
            await asyncio.Event().wait()  # until cancelled by the owner's TaskGroup
    finally:
        await runner.cleanup()
