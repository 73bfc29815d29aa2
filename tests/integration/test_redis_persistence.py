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
from switchboard.directory.credentials import make_credential
from switchboard.store.bus import EventBus
from switchboard.store.protocol import StoreError
from switchboard.store.redis_store import RedisStore
from tests.contract.values import ADMIN, T0, person
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


async def test_a_full_redis_refuses_a_write_whole_and_quotes_no_secret(tmp_path: Path) -> None:
    """``maxmemory-policy noeviction`` as docs/redis.md asks: a full Redis refuses writes.
    The refusal reaches the caller as a StoreError with Redis's reason, but never the
    commands redis-py quotes with it (they hold the HA1s being written)."""
    credential = make_credential("64001", "kommun", "hemligt-lösen")
    with RedisServer(tmp_path) as server:
        store = await RedisStore.open(server.url, "full", EventBus())
        try:
            await store.import_people([person(1)], ADMIN, T0)
            with redis.Redis.from_url(server.url) as client:
                client.config_set("maxmemory", "1")
                try:
                    with pytest.raises(StoreError) as refused:
                        await store.set_sip_credential(credential, ADMIN, T0)
                finally:
                    client.config_set("maxmemory", "0")
            assert await store.sip_credentials() == {}
            assert await store.version() == 1
        finally:
            await store.close()
    message = str(refused.value)
    assert "maxmemory" in message
    assert "nothing was changed" in message
    assert "HSET" not in message  # redis-py quotes the command (truncated), values and all
    for ha1 in (credential.ha1_md5, credential.ha1_sha256):
        assert ha1 is not None
        assert ha1 not in message
    assert refused.value.__cause__ is None
