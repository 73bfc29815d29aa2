"""The Store contract, part 10: writers at the same moment (issue 14).

Two store objects stand for two nodes writing at once, and each also follows the feed
while it writes (the follower's ``catch_up`` runs between a write's awaits on a networked
backend). Whatever interleaving the backend allows, every write commits whole with its own
version, and each process's bus sees every change exactly once, in the feed's order: the
same sequence on both.
"""

from __future__ import annotations

import asyncio

from switchboard.events import Event, ManualStatusChanged, PersonSaved
from switchboard.store.bus import EventBus
from switchboard.store.protocol import Store
from tests.contract.conftest import Backend
from tests.contract.values import ADMIN, T0, available_until, lunch_referral, person

ROUNDS = 25


async def _follow(store: Store, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await store.catch_up()
        await asyncio.sleep(0)


async def test_concurrent_writes_from_two_processes_are_each_seen_once_in_one_order(
    backend: Backend,
) -> None:
    assert backend.open_peer is not None
    peer_bus = EventBus()
    seen_by_peer: list[Event] = []
    peer_bus.add_listener(seen_by_peer.append)
    peer = await backend.open_peer(peer_bus)
    store = backend.store
    await store.import_people([person(1), person(2)], ADMIN, T0)

    async def writes(writer: Store, person_id: str) -> list[int]:
        versions = []
        for n in range(ROUNDS):
            status = lunch_referral() if n % 2 else available_until()
            versions.append(await writer.set_manual(person_id, status, ADMIN, T0))
        return versions

    stop = asyncio.Event()
    followers = [asyncio.create_task(_follow(s, stop)) for s in (store, peer)]
    try:
        mine, theirs = await asyncio.gather(writes(store, "p1"), writes(peer, "p2"))
    finally:
        stop.set()
        await asyncio.gather(*followers)
    while await store.catch_up():
        pass
    while await peer.catch_up():
        pass

    assert sorted(mine + theirs) == list(range(2, 2 + 2 * ROUNDS))
    assert await store.version() == 1 + 2 * ROUNDS
    here = backend.events
    assert here[:2] == [PersonSaved(1, person(1)), PersonSaved(1, person(2))]
    manual_here = [e for e in here if isinstance(e, ManualStatusChanged)]
    assert [e.version for e in manual_here] == list(range(2, 2 + 2 * ROUNDS))
    # The peer saw the import and every status change once each, in the same order.
    assert seen_by_peer == here
