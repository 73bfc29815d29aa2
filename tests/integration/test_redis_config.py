"""Opening the store ``[store]`` names: Redis with a password from the environment.

The password never sits in the config file (a URL with one is refused when the file is
read): ``password_env`` names the variable. A missing variable, a wrong password and a
Redis that is not there each fail with words that say which.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from switchboard.app import open_store
from switchboard.settings.store import Backend, StoreSettings
from switchboard.store.bus import EventBus
from switchboard.store.protocol import StoreError, StoreUnavailableError
from tests.contract.values import ADMIN, T0, person
from tests.peers.redis_server import RedisServer

VARIABLE = "SB_TEST_REDIS_PASSWORD"
PASSWORD = "korrekt-hast-batteri-häftklammer"  # noqa: S105 - a test server's


async def test_redis_with_a_password_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with RedisServer(tmp_path / "redis", appendonly=False) as server:
        with redis.Redis.from_url(server.url) as client:
            client.config_set("requirepass", PASSWORD)
        settings = StoreSettings(Backend.REDIS, server.url, "config", VARIABLE)

        monkeypatch.delenv(VARIABLE, raising=False)
        with pytest.raises(StoreError, match=VARIABLE):
            await open_store(settings, tmp_path, EventBus())

        monkeypatch.setenv(VARIABLE, "fel-lösenord")
        with pytest.raises(StoreUnavailableError, match="refused the switchboard's credentials"):
            await open_store(settings, tmp_path, EventBus())

        monkeypatch.setenv(VARIABLE, PASSWORD)
        store = await open_store(settings, tmp_path, EventBus())
        try:
            assert await store.save_person(person(1), ADMIN, T0) == 1
        finally:
            await store.close()
        assert not (tmp_path / "switchboard.db").exists()  # nothing went to SQLite


async def test_a_redis_that_is_not_there_is_named(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)  # never started: nothing listens on its port
    server.port = 1  # tcpmux: nothing listens there on a test machine
    settings = StoreSettings(Backend.REDIS, server.url, "config")
    with pytest.raises(StoreUnavailableError, match="Redis does not answer") as failed:
        await open_store(settings, tmp_path, EventBus())
    assert "127.0.0.1:1" in str(failed.value)
