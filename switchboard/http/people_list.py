"""The administrator's list of people, a page at a time (issue 15: 100,000 people).

Sorting a region's directory by name costs a tenth of a second and more, and listing all
of it makes a page of many megabytes; so the list is put in name order once per directory
state and each request reads one page of that order. A page starts after a cursor (the
sort key of the last row shown), found by bisection, so paging stays correct when people
are added or removed between two pages and costs the same on page 1 and page 2,000.

The order is built, and a search walks it, on the event loop in slices of at most
``SLICE_SECONDS`` (as ``overview_cache`` scans): a SIP answer waits a few milliseconds at
worst. Not in a worker thread: a thread shares the interpreter lock, and on a busy machine
the operating system may pause it while it holds the lock, which stalled the loop for a
tenth of a second and more in the measurements (tests/integration/test_admin_people_region).
The folded texts a search looks in are made only when the first search asks. Rows are
shown with each person's current values from the live view.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import bisect
import heapq
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from switchboard.accounts.model import unit_key
from switchboard.directory.model import Person
from switchboard.directory.search import fold
from switchboard.events import DirectoryImported, Event, PersonRemoved, PersonSaved, StoreReloaded

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
SLICE_SECONDS = 0.004
"""The longest the build or a search holds the event loop at a stretch."""
SORT_RUN = 2_000
"""People sorted in one C call (about a millisecond); the runs are merged in slices."""
CHECK_EVERY = 256
"""Steps between two looks at the clock."""

Key = tuple[str, str]
"""(case-folded name, person_id): the list's order, and what a cursor holds."""


class CursorError(ValueError):
    """A cursor this list did not give out (or one that was cut or edited)."""


class Slices:
    """Gives the event loop back once ``SLICE_SECONDS`` have passed since it last did."""

    def __init__(self) -> None:
        self._until = time.monotonic() + SLICE_SECONDS

    async def step(self) -> None:
        if time.monotonic() >= self._until:
            await asyncio.sleep(0)
            self._until = time.monotonic() + SLICE_SECONDS


@dataclass(frozen=True, slots=True)
class Ordered:
    """Everyone in name order. Kept as flat lists of strings, which the garbage collector
    does not track (a tuple per person would be 100,000 more objects for it to walk)."""

    names: list[str]
    """Case-folded names, in order."""
    ids: list[str]
    """The person_ids, in the same order (they break ties between equal names)."""
    units: dict[str, str]
    """``unit_key`` -> the unit as the directory spells it (managers' units show names)."""

    def key(self, index: int) -> Key:
        return self.names[index], self.ids[index]

    def after(self, key: Key) -> int:
        """The position of the first person after ``key`` in the order (who need not be
        in the directory any more)."""
        name, person_id = key
        lo = bisect.bisect_left(self.names, name)
        hi = bisect.bisect_right(self.names, name, lo)
        return bisect.bisect_right(self.ids, person_id, lo, hi)


async def build(people: list[Person]) -> Ordered:
    """The order of ``people`` (about a third of a second of work at 100,000, in slices)."""
    slices = Slices()
    names: list[str] = []
    ids: list[str] = []
    units: dict[str, str] = {}
    for count, person in enumerate(people):
        names.append(person.name.casefold())
        ids.append(person.person_id)
        if person.unit:
            units[unit_key(person.organisation, person.unit)] = person.unit
        if count % CHECK_EVERY == 0:
            await slices.step()

    def by_key(index: int) -> Key:
        return names[index], ids[index]

    runs = []
    for start in range(0, len(people), SORT_RUN):
        runs.append(sorted(range(start, min(start + SORT_RUN, len(people))), key=by_key))
        await slices.step()
    ordered = Ordered([], [], units)
    for count, index in enumerate(heapq.merge(*runs, key=by_key)):
        ordered.names.append(names[index])
        ordered.ids.append(ids[index])
        if count % CHECK_EVERY == 0:
            await slices.step()
    return ordered


async def search_texts(ordered: Ordered, person: Callable[[str], Person | None]) -> list[str]:
    """Per position: name, unit, title, extension and e-mail, folded, for ``q``."""
    slices = Slices()
    texts: list[str] = []
    for count, person_id in enumerate(ordered.ids):
        p = person(person_id)
        texts.append(
            ""
            if p is None
            else fold(f"{p.name} {p.unit} {p.title} {p.extension or ''} {p.email or ''}")
        )
        if count % CHECK_EVERY == 0:
            await slices.step()
    return texts


def encode_cursor(key: Key) -> str:
    raw = json.dumps(list(key), ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(text: str) -> Key:
    try:
        value = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise CursorError(text) from exc
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise CursorError(text)
    return value[0], value[1]


@dataclass(frozen=True, slots=True)
class Wanted:
    """One page's question."""

    after: Key | None = None
    limit: int = DEFAULT_LIMIT
    text: str = ""
    """Folded search text; empty: everyone."""
    also: frozenset[str] = frozenset()
    """People matched by their accounts (a username), whatever ``text`` says of them."""
    only: frozenset[str] | None = None
    """Only these people (a role filter); None: no such filter."""


async def select(
    ordered: Ordered, wanted: Wanted, texts: list[str] | None = None
) -> tuple[list[str], Key | None]:
    """The person_ids of one page and the cursor of the next (None on the last page).
    ``texts`` (``search_texts``) is needed when ``wanted.text`` is set."""
    if wanted.text and texts is None:
        raise ValueError("a search needs the order's search_texts")
    slices = Slices()
    start = 0 if wanted.after is None else ordered.after(wanted.after)
    found: list[str] = []
    last = start
    ids = ordered.ids
    for index in range(start, len(ids)):
        if (index - start) % CHECK_EVERY == 0:
            await slices.step()
        person_id = ids[index]
        if wanted.only is not None and person_id not in wanted.only:
            continue
        if (
            texts is not None
            and wanted.text
            and wanted.text not in texts[index]
            and person_id not in wanted.also
        ):
            continue
        if len(found) == wanted.limit:  # one more exists: the next page starts after ours
            return found, ordered.key(last)
        found.append(person_id)
        last = index
    return found, None


class PeopleOrder:
    """The directory's name order, rebuilt after the directory changes (a bus listener),
    not after presence changes; the first request after a change waits for the rebuild,
    which gives the loop back every few milliseconds."""

    def __init__(
        self, everyone: Callable[[], list[Person]], person: Callable[[str], Person | None]
    ) -> None:
        self._everyone = everyone
        self._person = person
        self._ordered: Ordered | None = None
        self._texts: list[str] | None = None
        self._changes = 0
        self._built_at = -1
        self._lock = asyncio.Lock()

    def changed(self, event: Event) -> None:
        if isinstance(event, PersonSaved | PersonRemoved | DirectoryImported | StoreReloaded):
            self._changes += 1

    async def ordered(self) -> Ordered:
        ordered = self._ordered
        if ordered is not None and self._built_at == self._changes:
            return ordered
        async with self._lock:
            if self._ordered is None or self._built_at != self._changes:
                mark = self._changes
                self._ordered = await build(self._everyone())
                self._texts = None
                self._built_at = mark
            return self._ordered

    async def page(self, wanted: Wanted) -> tuple[Ordered, list[str], Key | None]:
        ordered = await self.ordered()
        texts = None
        if wanted.text:
            async with self._lock:
                if self._texts is None or self._ordered is not ordered:
                    texts = await search_texts(ordered, self._person)
                    if self._ordered is ordered:
                        self._texts = texts
                else:
                    texts = self._texts
        ids, after = await select(ordered, wanted, texts)
        return ordered, ids, after
