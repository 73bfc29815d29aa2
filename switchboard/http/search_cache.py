"""The receptionist's directory search, kept current without holding the event loop (issue 15).

At 100,000 people a ``SearchIndex`` takes seconds to build, so it is never built on the
event loop: ``run()`` (a task of the HTTP server's TaskGroup) builds it in a worker thread
at start and again after the directory changes (a quarter second after the last change, so
an import rebuilds once), and swaps the new index in whole. A build in a thread shares the
interpreter lock, which the loop gets back every few milliseconds, so SIP keeps answering.

Between builds nothing is missed: people saved or removed since the last build are taken
out of its answers and searched in a small overlay index of their current values, built on
the loop (at most ``OVERLAY_MAX`` people: about 7 ms on the loop). After a larger change (an
import) the last index answers, with each person's current values, until the rebuild that
is already running swaps in; a search never waits for a rebuild, except the very first
before any index exists. The search itself runs in a worker thread too: an index never
changes once built, so any number of searches may read it at once.
"""

from __future__ import annotations

import asyncio

from switchboard.directory.model import Person
from switchboard.directory.search import DEFAULT_LIMIT, Match, SearchIndex, fold
from switchboard.events import (
    DirectoryImported,
    Event,
    PersonRemoved,
    PersonSaved,
    StoreReloaded,
)
from switchboard.live import collector
from switchboard.live.engine import Engine
from switchboard.live.metrics import Metrics

OVERLAY_MAX = 100
"""People changed since the last build that the overlay covers; beyond, the rebuild does."""
SETTLE_SECONDS = 0.25
"""Quiet time after a change before the rebuild starts: an import's events come together."""


class SearchCache:
    def __init__(self, engine: Engine, metrics: Metrics | None = None) -> None:
        self._engine = engine
        self._metrics = metrics
        self._index: SearchIndex | None = None
        self._changes = 0
        self._changed: dict[str, int] = {}
        """person_id -> the change count when they last changed, since the last build."""
        self._overlay: SearchIndex | None = None
        self._wanted = asyncio.Event()
        self._wanted.set()  # the first build starts at once
        self._building = asyncio.Lock()

    @property
    def index(self) -> SearchIndex | None:
        """The last index built (None before the first)."""
        return self._index

    def changed(self, event: Event) -> None:
        """A bus listener: the directory changed; presence changes do not touch the index."""
        if isinstance(event, PersonSaved):
            self._mark(event.person.person_id)
        elif isinstance(event, PersonRemoved):
            self._mark(event.person_id)
        elif isinstance(event, DirectoryImported | StoreReloaded):
            self._wanted.set()

    def _mark(self, person_id: str) -> None:
        self._changes += 1
        self._changed[person_id] = self._changes
        self._overlay = None
        self._wanted.set()

    async def run(self) -> None:
        """Rebuild after changes, until cancelled."""
        while True:
            await self._wanted.wait()
            if self._index is not None:  # the first build at start goes at once (/readyz)
                await asyncio.sleep(SETTLE_SECONDS)
            self._wanted.clear()
            await self.rebuild()

    async def rebuild(self) -> SearchIndex:
        async with self._building:
            mark = self._changes
            people = self._engine.view.everyone()
            plan = self._engine.settings.plan
            # A collection during the build walks its young index under the interpreter
            # lock (50-100 ms at 100,000 people, the event loop waiting for the lock).
            with collector.bulk_work():
                index = await asyncio.to_thread(SearchIndex, people, plan)
            del people
            old, self._index = self._index, index
            if self._changes == mark:  # nobody changed during the build (an import: 100,000)
                self._changed = {}
            else:
                self._changed = {pid: n for pid, n in self._changed.items() if n > mark}
            self._overlay = None
            if old is not None:
                await asyncio.to_thread(old.retire)
            return index

    async def search(self, query: str, limit: int = DEFAULT_LIMIT) -> list[Match]:
        if self._metrics is None:
            return await self._search(query, limit)
        with self._metrics.search_seconds.time():
            return await self._search(query, limit)

    async def _search(self, query: str, limit: int) -> list[Match]:
        index = self._index
        if index is None:
            async with self._building:
                index = self._index
            if index is None:
                index = await self.rebuild()
        changed = self._changed
        view = self._engine.view
        if not changed:
            return await _searched(index, query, limit)
        small = len(changed) <= OVERLAY_MAX
        found: list[Match] = []
        for match in await _searched(index, query, limit + (len(changed) if small else 0)):
            person_id = match.person.person_id
            if person_id not in changed:
                found.append(match)
            elif not small:  # the index's match, with what the person is now
                current = view.person(person_id)
                if current is not None:
                    found.append(Match(current, match.score))
        if small:  # the changed people as they are now, from the overlay
            found += await _searched(self._overlay_index(), query, limit)
        found.sort(key=_rank)
        return found[:limit]

    def _overlay_index(self) -> SearchIndex:
        if self._overlay is None:
            view = self._engine.view
            present = [p for pid in self._changed if (p := view.person(pid)) is not None]
            self._overlay = SearchIndex(present, self._engine.settings.plan)
        return self._overlay


async def _searched(index: SearchIndex, query: str, limit: int) -> list[Match]:
    """``index.search`` in a worker thread (an index never changes once built). A word that
    most of a region shares (every title after an import) takes a search 10-30 ms; on the
    event loop, SIP answers waited that long, twice that while a rebuild ran beside it."""
    return await asyncio.to_thread(index.search, query, limit)


def _rank(match: Match) -> tuple[int, str, str]:
    person: Person = match.person
    return (-match.score, fold(person.name), person.person_id)
