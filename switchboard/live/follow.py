"""Following the store's change feed: how a write made by another process (the CLI next to
a running server, another worker, another node) reaches this process's live view, its open
screens and its phones (issue 14).

A write made in this process is published on its bus as it commits; the feed is what makes
the others' writes true here too. Whenever the store says its feed may have moved (SQLite:
every ``interval``; Redis: as soon as it does) the follower asks for what was committed
since it last looked and publishes it on the bus in order, where the live
view and every other listener apply it as if it had been written here. When the store no
longer keeps what this process missed (it was stopped, or cut off from a networked store,
for longer than the feed reaches back), or the view saw a gap, it reloads the whole state
and tells the listeners with ``StoreReloaded``.

If the store cannot be read, routing goes on from the last state applied; the follower
logs the failure once and tries again at every interval until it can.
"""

from __future__ import annotations

import asyncio

import structlog

from switchboard.events import StoreReloaded
from switchboard.live import collector
from switchboard.live.view import LiveView, prepare
from switchboard.store.bus import EventBus
from switchboard.store.protocol import Store, StoreError

log = structlog.get_logger("switchboard.feed")

INTERVAL = 0.1
"""Seconds between two looks at the feed: a write elsewhere reaches routing within this
(plus the time to apply it)."""


class Follower:
    def __init__(
        self, store: Store, view: LiveView, bus: EventBus, interval: float = INTERVAL
    ) -> None:
        self._store = store
        self._view = view
        self._bus = bus
        self._interval = interval
        self._failing = False

    async def run(self) -> None:
        """Follow until cancelled."""
        while True:
            await self.step()
            try:
                await self._store.wait_for_changes(self._interval)
            except StoreError:
                await asyncio.sleep(self._interval)  # step() logs the failure

    async def step(self) -> int:
        """Apply everything committed elsewhere so far; how many changes that was."""
        applied = 0
        try:
            while True:
                count = None if self._view.stale else await self._store.catch_up()
                if count is None:
                    await self._reload()
                    break
                applied += count
                if count == 0:
                    break
                await asyncio.sleep(0)  # a large import applies in batches, not in one go
        except StoreError as exc:
            if not self._failing:
                log.warning("feed_unreachable", error=str(exc), applied=applied)
            self._failing = True
            return applied
        if self._failing:
            log.info("feed_reachable_again", applied=applied)
            self._failing = False
        return applied

    async def _reload(self) -> None:
        # Both the read and the tables off the event loop: at 100,000 people they take a
        # second or two, which SIP would otherwise spend not answering.
        # The reloaded directory is as long-lived as the one ``serve`` froze at start:
        # ``bulk_work`` freezes it too, and keeps the collector from walking it meanwhile.
        with collector.bulk_work():
            state = await self._store.load()
            tables = await asyncio.to_thread(prepare, state)
            retired = self._view.install(tables)
            del tables
            await release(retired)
        log.warning("feed_reloaded", version=state.version, people=len(state.people))
        self._bus.publish(StoreReloaded(state.version))


RELEASE_SLICE = 5_000
"""Entries freed between two yields to the event loop (about a millisecond)."""


async def release(retired: list[object]) -> None:
    """Let go of the tables a reload replaced, a slice at a time.

    Freeing 100,000 people in one go held the event loop for 25-35 ms, and a thread does
    not help: the deallocation is one call into the interpreter, which keeps the lock
    until it returns. Emptying the dicts a slice at a time, with a yield between slices,
    frees the same objects in steps of about a millisecond.
    """
    while retired:
        held = retired.pop()
        if isinstance(held, dict):
            while held:
                for _ in range(min(RELEASE_SLICE, len(held))):
                    held.popitem()
                await asyncio.sleep(0)
        del held
