"""Whether this node can take work (``/readyz``, issue 15).

Alive (``/healthz``) only says the process answers. Ready says what a load balancer or
Kamailio's dispatcher needs before sending calls and people here: the store answers
within a second, SIP is bound, the calendar worker (when calendars are configured) is
running, and the directory's search index (where this node serves the web) is built: at
100,000 people the first build takes a second or two, which a receptionist's first search
would otherwise wait. Each check is named in the answer with ``ok`` or what is wrong,
never a secret.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from switchboard.store.protocol import Store, StoreError

STORE_TIMEOUT = 1.0


@dataclass
class Readiness:
    sip_bound: bool = False
    calendar_running: bool | None = None
    """None: no calendar sources configured, so nothing to run."""
    search_built: Callable[[], bool] | None = None
    """Whether the search index exists (None: this node serves no web)."""

    async def check(self, store: Store) -> tuple[bool, dict[str, str]]:
        checks = {
            "store": await _store(store),
            "sip": "ok" if self.sip_bound else "not listening",
        }
        if self.calendar_running is not None:
            checks["calendar"] = "ok" if self.calendar_running else "stopped"
        if self.search_built is not None:
            checks["search"] = "ok" if self.search_built() else "building the index"
        return all(v == "ok" for v in checks.values()), checks


async def _store(store: Store) -> str:
    try:
        await asyncio.wait_for(store.version(), STORE_TIMEOUT)
    except TimeoutError:
        return f"no answer within {STORE_TIMEOUT:g} s"
    except StoreError:
        return "unreachable"
    return "ok"
