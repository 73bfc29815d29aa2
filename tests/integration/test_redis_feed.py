"""What only the Redis feed does: wake a waiting follower at once, and notice lost data.

The contract suite pins what both backends do with the feed; these are Redis's own
promises (docs/redis.md): ``wait_for_changes`` returns as soon as another process commits
(SQLite can only poll), and a store whose data is flushed or lost (the namespace's epoch
gone) is told to reload rather than apply a numbering that started over.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis

from switchboard.store.bus import EventBus
from switchboard.store.redis_store import RedisStore
from tests.contract.values import ADMIN, T0, lunch_referral, person
from tests.peers.redis_server import RedisServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path, appendonly=False) as started:
        yield started


@pytest.fixture
async def pair(server: RedisServer) -> AsyncIterator[tuple[RedisStore, RedisStore]]:
    one = await RedisStore.open(server.url, "feed", EventBus())
    two = await RedisStore.open(server.url, "feed", EventBus())
    yield one, two
    await one.close()
    await two.close()


async def test_a_waiting_follower_wakes_when_another_process_writes(
    pair: tuple[RedisStore, RedisStore],
) -> None:
    writer, follower = pair
    await writer.import_people([person(1)], ADMIN, T0)
    assert await follower.catch_up() == 2
    started = time.monotonic()
    await follower.wait_for_changes(0.05)  # nothing new: waits its time out
    assert time.monotonic() - started >= 0.04
    waiting = asyncio.create_task(follower.wait_for_changes(5))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    written = time.monotonic()
    await writer.set_manual("p1", lunch_referral(), ADMIN, T0)
    await asyncio.wait_for(waiting, 1)
    assert time.monotonic() - written < 0.2
    assert await follower.catch_up() == 1


async def test_a_flushed_store_is_reloaded_not_followed(
    server: RedisServer, pair: tuple[RedisStore, RedisStore]
) -> None:
    writer, follower = pair
    await writer.import_people([person(1), person(2)], ADMIN, T0)
    assert await follower.catch_up() == 3
    with redis.Redis.from_url(server.url) as client:
        client.flushdb()
    # Written again from scratch: numbers 1, 2, ... once more, which the follower must not
    # take for the changes after the ones it has.
    await writer.import_people([person(n) for n in range(1, 6)], ADMIN, T0)
    await follower.wait_for_changes(0.1)  # hands over numbers 4, 5 and 6: of another epoch
    assert await follower.catch_up() is None
    state = await follower.load()
    assert [p.person_id for p in state.people] == ["p1", "p2", "p3", "p4", "p5"]
    assert await follower.catch_up() == 0
