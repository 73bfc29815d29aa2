"""The search index stays current without being rebuilt on the event loop (issue 15).

``SearchCache`` builds its index in a thread; people saved or removed since that build are
searched from a small overlay, so a search after an edit is right at once, and a large
change (an import) is answered from the last index, with each person as they are now, until
the rebuild swaps in.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace

import pytest

from switchboard.directory.model import Person
from switchboard.directory.search import Match, SearchIndex
from switchboard.http import search_cache
from switchboard.http.search_cache import SearchCache
from tests.http.conftest import MONDAY_10, Env

NORA = Person(
    "nora", "Nora Vik", "64555", "+46701749999", None, "sotenas", "Kultur", "Bibliotekarie"
)


def _names(found: list[Match]) -> list[str]:
    return [m.person.name for m in found]


async def _cache(env: Env) -> SearchCache:
    cache = SearchCache(env.runtime.engine)
    env.runtime.bus.add_listener(cache.changed)
    await cache.rebuild()
    return cache


async def test_an_edit_is_searched_at_once_without_a_rebuild(env: Env) -> None:
    cache = await _cache(env)
    built = cache.index
    store = env.runtime.engine.store
    assert await cache.search("Nora Vik") == []

    await store.save_person(NORA, "test", MONDAY_10)
    assert _names(await cache.search("Nora Vik")) == ["Nora Vik"]
    assert _names(await cache.search("64555")) == ["Nora Vik"]
    anna = env.person("64123")
    await store.save_person(replace(anna, name="Anna Strand"), "test", MONDAY_10)
    assert _names(await cache.search("anna strand")) == ["Anna Strand"]
    assert "Anna Berg" not in _names(await cache.search("berg"))  # her old name is gone
    await store.remove_person(NORA.person_id, "test", MONDAY_10)
    assert await cache.search("Nora Vik") == []
    assert cache.index is built  # all of it from the overlay

    rebuilt = await cache.rebuild()
    assert rebuilt is not built
    assert _names(await cache.search("anna strand")) == ["Anna Strand"]
    assert await cache.search("Nora Vik") == []


async def test_a_large_change_answers_from_the_last_index_until_the_rebuild(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_cache, "OVERLAY_MAX", 3)
    cache = await _cache(env)
    store = env.runtime.engine.store
    newcomers = [
        replace(NORA, person_id=f"n{i}", name=f"Nora Vik{i}", extension=None, mobile=None)
        for i in range(5)
    ]
    anna = env.person("64123")
    await store.import_people([*newcomers, replace(anna, unit="Ny enhet")], "t", MONDAY_10)
    assert await cache.search("Nora") == []  # not yet: the rebuild brings them
    [found] = await cache.search("Anna Berg")
    assert found.person.unit == "Ny enhet"  # the last index's match, as she is now
    await cache.rebuild()
    assert len(await cache.search("Nora")) == 5


async def _built_after(cache: SearchCache, old: object) -> SearchIndex:
    """The index ``run()`` swaps in after ``old`` (waiting up to 10 s)."""
    for _ in range(1000):
        index = cache.index
        if index is not None and index is not old:
            return index
        await asyncio.sleep(0.01)
    raise AssertionError("no rebuild")


async def test_run_rebuilds_once_after_a_burst_of_changes(env: Env) -> None:
    cache = SearchCache(env.runtime.engine)
    env.runtime.bus.add_listener(cache.changed)
    store = env.runtime.engine.store
    builds: list[SearchIndex] = []
    async with asyncio.TaskGroup() as group:
        task = group.create_task(cache.run())
        builds.append(await _built_after(cache, None))
        for i in range(20):
            await store.save_person(
                replace(NORA, person_id=f"b{i}", extension=None), "t", MONDAY_10
            )
        builds.append(await _built_after(cache, builds[0]))
        await asyncio.sleep(search_cache.SETTLE_SECONDS * 2)
        task.cancel()
    assert cache.index is builds[1]  # one rebuild for the twenty saves
    assert len(await cache.search("Nora Vik")) == 20


async def test_a_rebuild_retires_the_old_index_in_a_worker_thread(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an import the old index holds the only references to the people it replaced:
    freed in one call on the loop, 100,000 of them held it 25-35 ms."""
    cache = await _cache(env)
    old = cache.index
    assert old is not None
    retired_on: list[str] = []
    retire = SearchIndex.retire

    def recording(index: SearchIndex) -> None:
        retired_on.append(threading.current_thread().name)
        retire(index)

    monkeypatch.setattr(SearchIndex, "retire", recording)
    await cache.rebuild()
    assert len(retired_on) == 1
    assert retired_on[0] != threading.main_thread().name
    assert old.search("anna berg") == []
    assert _names(await cache.search("anna berg")) == ["Anna Berg"]


async def test_searches_run_off_the_loop_and_a_retire_waits_for_them(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search runs in a worker thread (a word most of a region shares takes 10-30 ms);
    the old index is retired only once the searches that were reading it are done."""
    cache = await _cache(env)
    old = cache.index
    assert old is not None
    reading = threading.Event()
    go_on = threading.Event()
    searched_on: list[str] = []
    search = SearchIndex._search

    def held(index: SearchIndex, query: str, limit: int) -> list[Match]:
        searched_on.append(threading.current_thread().name)
        if index is old:
            reading.set()
            go_on.wait(10)
        return search(index, query, limit)

    monkeypatch.setattr(SearchIndex, "_search", held)
    searching = asyncio.create_task(cache.search("anna berg"))
    assert await asyncio.to_thread(reading.wait, 10)
    rebuilding = asyncio.create_task(cache.rebuild())
    await asyncio.sleep(0.3)
    assert cache.index is not old, "the new index is swapped in meanwhile"
    assert not rebuilding.done(), "the old index is not retired while a search reads it"
    go_on.set()
    assert _names(await searching) == ["Anna Berg"]
    await rebuilding
    assert threading.main_thread().name not in searched_on
    assert old.search("anna berg") == []  # retired now
