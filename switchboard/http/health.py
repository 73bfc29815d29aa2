"""``/healthz``, ``/readyz`` and ``/metrics``: what operators and load balancers ask (issue 15).

- ``GET /healthz``: 200 while the process answers at all (no sign-in; says nothing more).
- ``GET /readyz``: 200 when the node can take work, else 503; each check named (store, SIP,
  calendar, search index) with ``ok`` or what is wrong (``live.readiness``). No sign-in, no
  secret.
- ``GET /metrics``: Prometheus's text format (``live.metrics``), for an account that may read
  the audit trail (an administrator, or a scraper's API token: ``Authorization: Bearer``).
"""

from __future__ import annotations

from aiohttp import web

from switchboard.accounts.model import Permission
from switchboard.http.api import require
from switchboard.http.context import ENGINE
from switchboard.live.metrics import Metrics
from switchboard.live.readiness import Readiness

METRICS = web.AppKey("metrics", Metrics)
READINESS = web.AppKey("readiness", Readiness)

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"}, headers={"Cache-Control": "no-store"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    ready, checks = await request.app[READINESS].check(request.app[ENGINE].store)
    return web.json_response(
        {"ready": ready, "checks": checks},
        status=200 if ready else 503,
        headers={"Cache-Control": "no-store"},
    )


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    require(request, Permission.READ_AUDIT, None)
    body, content_type = request.app[METRICS].expose()
    response = web.Response(body=body, headers={"Cache-Control": "no-store"})
    response.headers["Content-Type"] = content_type
    return response


def install(app: web.Application, metrics: Metrics, readiness: Readiness) -> None:
    app[METRICS] = metrics
    app[READINESS] = readiness
    app.router.add_routes(routes)
