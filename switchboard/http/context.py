"""Typed application and request state of the HTTP edge (``web.AppKey``, ``web.RequestKey``).

One place names every key, so handlers, middlewares and ``build_app`` agree on types and
no module reaches into ``app["..."]`` with a magic string.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from switchboard.directory.search import SearchIndex
from switchboard.http.principal import Access, Account
from switchboard.http_settings import HttpSettings
from switchboard.live.engine import Engine
from switchboard.live.lines import LineStates
from switchboard.store.bus import EventBus


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking, and how they proved it."""

    account: Account | None
    via: Literal["anonymous", "bearer", "session"]
    session_id: str | None = None
    csrf_token: str | None = None


ANONYMOUS = Principal(None, "anonymous")


class SearchCache:
    """The directory search index, rebuilt lazily after the directory changes.

    A presence change does not touch the index; ``PersonSaved``/``PersonRemoved`` mark it
    dirty (through a bus listener ``build_app`` installs), and the next search rebuilds.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._index: SearchIndex | None = None

    def invalidate(self) -> None:
        self._index = None

    @property
    def index(self) -> SearchIndex:
        if self._index is None:
            self._index = SearchIndex(self._engine.view.people(), self._engine.settings.plan)
        return self._index


ENGINE = web.AppKey("engine", Engine)
BUS = web.AppKey("bus", EventBus)
LINES = web.AppKey("lines", LineStates)
HTTP = web.AppKey("http_settings", HttpSettings)
ACCESS = web.AppKey("access", Access)
SEARCH = web.AppKey("search", SearchCache)
HEARTBEAT = web.AppKey("heartbeat_seconds", float)
"""Seconds between SSE keep-alive comments (15 in production; tests shorten it)."""
STOPPING = web.AppKey("stopping", asyncio.Event)
"""Set on shutdown so open event streams end instead of holding the runner up."""

PRINCIPAL = web.RequestKey("principal", Principal)
ERROR_ID = web.RequestKey("error_id", str)
