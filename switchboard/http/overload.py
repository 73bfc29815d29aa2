"""A cap on the web's work in flight (issue 15): beyond it, 503 with Retry-After at once.

Without a cap, a node asked for more than it can do queues every request in memory until
the answers come too late to matter and the process runs out of memory (an uncapped Python
SIP responder reached about 1 GB at three times its sustainable rate). With one, the
requests over the cap are refused in microseconds, before authentication reads the store,
and the ones under it keep their usual latency. Server-sent event streams (the live
screens) last for hours, so they are not requests in flight: they have a cap of their own.
Each refusal is counted in ``/metrics`` (``switchboard_overload_refusals_total{edge=...}``)
and logged once per burst, not once per request.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware

from switchboard.http.security import error_response
from switchboard.live.metrics import Metrics

log = structlog.get_logger("switchboard.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STREAM_PATH = "/api/v1/events"
RETRY_AFTER = 1
"""Seconds a refused client is asked to wait: the queue drains in well under that."""
LOG_EVERY = 10.0
"""Seconds between two log lines about refusals (their count is in each)."""


class InFlight:
    """The counters the middleware keeps (one per application)."""

    def __init__(self, requests: int, streams: int, metrics: Metrics | None) -> None:
        self.max_requests = requests
        self.max_streams = streams
        self.requests = 0
        self.streams = 0
        self._metrics = metrics
        self._refused = 0
        self._logged_at = 0.0

    def refuse(self, request: web.Request, what: str) -> web.StreamResponse:
        if self._metrics is not None:
            self._metrics.overload_refusals.labels("http").inc()
        self._refused += 1
        now = time.monotonic()
        if now - self._logged_at >= LOG_EVERY:
            log.warning(
                "http_overloaded",
                what=what,
                refused=self._refused,
                requests=self.requests,
                streams=self.streams,
            )
            self._logged_at, self._refused = now, 0
        response = error_response(request, 503, "The switchboard is busy; try again in a moment.")
        response.headers["Retry-After"] = str(RETRY_AFTER)
        return response


def cap_in_flight(counters: InFlight) -> Middleware:
    @web.middleware
    async def cap(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == STREAM_PATH:
            if counters.streams >= counters.max_streams:
                return counters.refuse(request, "streams")
            counters.streams += 1
            try:
                return await handler(request)
            finally:
                counters.streams -= 1
        if counters.requests >= counters.max_requests:
            return counters.refuse(request, "requests")
        counters.requests += 1
        try:
            return await handler(request)
        finally:
            counters.requests -= 1

    return cap
