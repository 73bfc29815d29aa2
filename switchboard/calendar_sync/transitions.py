"""When someone's stored availability next changes, kept current person by person (issue 15).

The calendar worker publishes ``PresenceTicked`` at each instant a calendar item or a
manual status begins or ends, so open screens re-resolve that person. Finding the next
instant by scanning everyone after every change cost a full pass over the directory on the
event loop (about 300 ms at 100,000 people), and a sync of a thousand calendar feeds makes
a thousand changes. ``Transitions`` keeps every future instant in a heap instead, updated
for just the person a change is about; the next instant is at the top.

Entries are removed lazily: a person's new instants are pushed and the old ones stay in
the heap until they reach its top, where an entry no longer among its person's instants is
dropped. When stale entries outnumber live ones the heap is rebuilt from the live ones.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime

from switchboard.presence.model import PresenceInputs

REBUILD_SLACK = 10_000
"""Stale entries tolerated beyond the live ones before a rebuild."""


def instants(inputs: PresenceInputs) -> frozenset[datetime]:
    """Every instant at which a person's stored availability changes."""
    found = {t for s in inputs.calendar for t in (s.start, s.end)}
    manual = inputs.manual
    if manual is not None:
        found.add(manual.start)
        if manual.end is not None:
            found.add(manual.end)
    for plan in inputs.plans:  # planned referrals (issue 16): their start and return
        found.add(plan.starts)
        if plan.end is not None:
            found.add(plan.end)
    return frozenset(found)


class Transitions:
    def __init__(self) -> None:
        self._by_person: dict[str, frozenset[datetime]] = {}
        self._heap: list[tuple[datetime, str]] = []
        self._live = 0

    def __len__(self) -> int:
        return self._live

    def set(self, person_id: str, at: Iterable[datetime]) -> None:
        """Replace the instants of ``person_id`` (none: forget them)."""
        new = frozenset(at)
        old = self._by_person.get(person_id, frozenset())
        if new == old:
            return
        self._live += len(new) - len(old)
        if new:
            self._by_person[person_id] = new
        else:
            self._by_person.pop(person_id, None)
        for t in new - old:
            heapq.heappush(self._heap, (t, person_id))
        if len(self._heap) > 2 * self._live + REBUILD_SLACK:
            self._rebuild()

    def next_after(self, after: datetime) -> tuple[datetime, tuple[str, ...]] | None:
        """The first instant after ``after`` and the people whose availability changes
        then, or None when nothing is stored to change."""
        heap = self._heap
        while heap:
            t, person_id = heap[0]
            if t <= after or t not in self._by_person.get(person_id, ()):
                heapq.heappop(heap)  # past, or no longer one of theirs
                continue
            break
        else:
            return None
        first = heap[0][0]
        due: list[tuple[datetime, str]] = []
        while heap and heap[0][0] == first:
            entry = heapq.heappop(heap)
            if entry[0] in self._by_person.get(entry[1], ()) and entry not in due:
                due.append(entry)
        for entry in due:
            heapq.heappush(heap, entry)  # still the next: the caller publishes, then moves on
        return first, tuple(sorted(person for _, person in due))

    def _rebuild(self) -> None:
        self._heap = [(t, p) for p, times in self._by_person.items() for t in times]
        heapq.heapify(self._heap)
