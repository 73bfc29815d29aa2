"""The ``[store]`` table: SQLite by default, Redis with a URL, and errors naming the key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from switchboard.settings.config import ConfigError, load_settings, parse_settings
from switchboard.settings.resources import bundled
from switchboard.settings.store import Backend, StoreSettings


def with_store(store: Any) -> dict[str, Any]:
    data = tomllib.loads(bundled("configs/sml.toml").read_text(encoding="utf-8"))
    data["store"] = store
    return data


def test_no_store_table_means_sqlite_in_the_data_folder() -> None:
    assert load_settings(bundled("configs/sml.toml")).store == StoreSettings()


def test_a_full_redis_table() -> None:
    table = {
        "backend": "redis",
        "url": "redis://10.0.0.5:6379/2",
        "namespace": "sotenas.prod",
        "password_env": "SB_REDIS_PASSWORD",
    }
    store = parse_settings(with_store(table), Path("sml.toml")).store
    assert store == StoreSettings(
        Backend.REDIS, "redis://10.0.0.5:6379/2", "sotenas.prod", "SB_REDIS_PASSWORD"
    )


def test_redis_defaults_to_the_namespace_switchboard() -> None:
    table = {"backend": "redis", "url": "unix:///run/redis/redis.sock"}
    store = parse_settings(with_store(table), Path("sml.toml")).store
    assert (store.namespace, store.password_env) == ("switchboard", None)


BAD = {
    "unknown-key": ({"backend": "redis", "url": "redis://x", "host": "x"}, "store.host"),
    "unknown-backend": ({"backend": "postgres"}, "store.backend"),
    "url-missing": ({"backend": "redis"}, "store.url"),
    "url-scheme": ({"backend": "redis", "url": "http://x:6379"}, "store.url"),
    "password-in-url": ({"backend": "redis", "url": "redis://:hemligt@x:6379/0"}, "store.url"),
    "namespace-with-braces": (
        {"backend": "redis", "url": "redis://x", "namespace": "{a}"},
        "store.namespace",
    ),
    "env-name": ({"backend": "redis", "url": "redis://x", "password_env": "1x"}, "password_env"),
    "url-with-sqlite": ({"url": "redis://x"}, "store.url"),
    "not-a-table": ("redis", "store"),
}


@pytest.mark.parametrize(("table", "key"), BAD.values(), ids=BAD.keys())
def test_mistakes_name_the_key(table: Any, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(with_store(table), Path("sml.toml"))
    assert caught.value.key.endswith(key)
    assert "hemligt" not in str(caught.value)
