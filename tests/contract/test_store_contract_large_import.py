"""A region-sized import, on either backend: applied whole, published on this store's bus
in order, and without holding the event loop (issue 15).

SQLite runs the import on its writer thread; Redis on connections of its own in a thread
(``redis_store.IMPORT_APART_AT``), and this store then follows the feed to it. Either way
the events reach this process's bus before the call returns, a slice per loop turn.
"""

from __future__ import annotations

from switchboard.events import DirectoryImported, Event, PersonSaved
from switchboard.live import collector
from switchboard.live.loop_watch import worst_lag
from switchboard.store import redis_store
from switchboard.store.bus import EventBus
from tests.contract.conftest import Backend
from tests.contract.values import ADMIN, T0, person

COUNT = 16 * redis_store.IMPORT_APART_AT


async def test_a_large_import_is_published_in_order_without_holding_the_loop(
    backend: Backend,
) -> None:
    # A store of its own: the harness's listener reads the version at every event.
    assert backend.open_peer is not None
    bus = EventBus()
    store = await backend.open_peer(bus)
    await store.import_people([person(1)], ADMIN, T0)
    seen: list[Event] = []
    bus.add_listener(seen.append)
    people = [person(n, title="Rektor") for n in range(1, COUNT + 1)]
    with collector.bulk_work():  # as the engine does
        result, lag = await worst_lag(store.import_people(people, ADMIN, T0))
    assert (result.created, result.updated, result.unchanged) == (COUNT - 1, 1, 0)
    saved = [e for e in seen if isinstance(e, PersonSaved)]
    assert [e.person.person_id for e in saved] == [p.person_id for p in people]
    assert isinstance(seen[-1], DirectoryImported)
    assert {e.version for e in seen} == {result.version}
    state = await store.load()
    assert len(state.people) == COUNT
    assert all(p.title == "Rektor" for p in state.people)
    # On the loop, 8,000 people held it about 300 ms (SQLite) and 140 ms (Redis).
    assert lag < 0.05, f"the event loop was held {lag * 1000:.0f} ms"
