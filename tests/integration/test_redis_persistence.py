"""What ``serve`` says at start-up about a Redis that would lose acknowledged changes.

Each case is a real redis-server started with the setting in question; the warning must
say what is wrong and what to set, and a Redis set up as docs/redis.md asks gets none.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
import structlog

from switchboard.app import warn_about_persistence
from switchboard.store.bus import EventBus
from switchboard.store.redis_store import RedisStore
from tests.peers.redis_server import RedisServer

CASES = {
    "no-append-only-file": ({"appendonly": False}, [], "appendonly yes"),
    "fsync-left-to-the-os": ({"appendfsync": "no"}, [], "appendfsync everysec"),
    "evicting-when-full": (
        {},
        [("maxmemory", "64mb"), ("maxmemory-policy", "allkeys-lru")],
        "maxmemory-policy noeviction",
    ),
}


@pytest.mark.parametrize(("options", "config", "advice"), CASES.values(), ids=CASES.keys())
async def test_a_redis_that_would_lose_changes_is_named_at_start(
    tmp_path: Path, options: dict[str, object], config: list[tuple[str, str]], advice: str
) -> None:
    with RedisServer(tmp_path, **options) as server:  # type: ignore[arg-type]
        with redis.Redis.from_url(server.url) as client:
            for name, value in config:
                client.config_set(name, value)
        store = await RedisStore.open(server.url, "persistence", EventBus())
        try:
            with structlog.testing.capture_logs() as logs:
                await warn_about_persistence(store)
        finally:
            await store.close()
    [warning] = [e for e in logs if e["event"] == "store_may_lose_changes"]
    assert warning["log_level"] == "warning"
    assert advice in warning["problem"]
    assert str(server.port) in warning["where"]


async def test_a_redis_set_up_as_documented_gets_no_warning(tmp_path: Path) -> None:
    for fsync in ("everysec", "always"):
        with RedisServer(tmp_path / fsync, appendfsync=fsync) as server:
            store = await RedisStore.open(server.url, "persistence", EventBus())
            try:
                assert await store.persistence_warnings() == []
            finally:
                await store.close()
