"""The reception's overview (issue 16), kept between requests without holding the event loop.

A full scan looks at everyone with a manual status or calendar items (``LiveView.
presence_ids``: at region scale, 100,000 people) and resolves the few that something takes
away today (``live.overview.entry``). It runs on the event loop in slices of at most
``SLICE_SECONDS``, giving the loop back between them, so a SIP answer waits a few
milliseconds at worst, never the whole scan; screens asking meanwhile share that scan.

After it, only people whose inputs changed (bus events) are looked at again, when someone
next asks; a fresh scan comes after ``RESCAN_SECONDS`` (the entries say themselves when an
absence starts or ends, so the sections move on time in between), at midnight, and after a
directory import or reload.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from switchboard.events import (
    CalendarChanged,
    DirectoryImported,
    Event,
    ManualStatusChanged,
    PersonRemoved,
    PersonSaved,
    PlansChanged,
    StoreReloaded,
)
from switchboard.live.overview import OverviewEntry, end_of_day, entry
from switchboard.live.view import LiveView

SLICE_SECONDS = 0.004
"""The longest the scan holds the event loop at a stretch."""
RESCAN_SECONDS = 60.0
"""A full scan at least this often: what resolve() sees that no event announces."""
DIRTY_MAX = 2_000
"""Changed people looked at again one by one; beyond this a full scan is cheaper."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    at: datetime
    day_end: datetime
    entries: dict[str, OverviewEntry]


class OverviewCache:
    def __init__(self, view: LiveView, zone: ZoneInfo) -> None:
        self._view = view
        self._zone = zone
        self._snapshot: Snapshot | None = None
        self._dirty: set[str] = set()
        self._full = True
        self._lock = asyncio.Lock()

    def changed(self, event: Event) -> None:
        """A bus listener: whose inputs changed since the last scan."""
        if isinstance(event, ManualStatusChanged | PlansChanged | CalendarChanged | PersonRemoved):
            self._dirty.add(event.person_id)
        elif isinstance(event, PersonSaved):
            self._dirty.add(event.person.person_id)
        elif isinstance(event, DirectoryImported | StoreReloaded):
            self._full = True

    async def snapshot(self, now: datetime) -> Snapshot:
        """Today's entries, current for ``now`` (scanned or patched as needed)."""
        async with self._lock:
            current = self._snapshot
            zone = self._zone
            stale = (
                self._full
                or current is None
                or current.day_end != end_of_day(now, zone)
                or (now - current.at).total_seconds() >= RESCAN_SECONDS
                or len(self._dirty) > DIRTY_MAX
            )
            if stale or current is None:
                self._full = False
                self._dirty = set()
                day_end = end_of_day(now, zone)
                entries = await self._scan(self._view.presence_ids(), now, day_end)
                current = Snapshot(now, day_end, entries)
            elif self._dirty:
                dirty, self._dirty = self._dirty, set()
                patched = await self._scan(dirty, now, current.day_end)
                entries = {k: v for k, v in current.entries.items() if k not in dirty}
                entries.update(patched)
                current = Snapshot(current.at, current.day_end, entries)
            self._snapshot = current
            return current

    async def _scan(
        self, ids: Iterable[str], now: datetime, day_end: datetime
    ) -> dict[str, OverviewEntry]:
        view = self._view
        found: dict[str, OverviewEntry] = {}
        deadline = time.perf_counter() + SLICE_SECONDS
        for n, person_id in enumerate(ids):
            if n % 8 == 0 and time.perf_counter() > deadline:
                await asyncio.sleep(0)  # give the loop back; the view may move meanwhile
                deadline = time.perf_counter() + SLICE_SECONDS
            person = view.person(person_id)
            if person is None:
                continue
            got = entry(view, person, now, day_end)
            if got is not None:
                found[person_id] = got
        return found
