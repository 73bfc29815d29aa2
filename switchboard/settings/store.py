"""The ``[store]`` table of the config file: where the switchboard keeps its data.

Kept apart from ``config.py`` like ``mail.py``. Without the table the store is SQLite in
the data directory (``switchboard.db``), which needs nothing else. ``backend = "redis"``
shares one store between several switchboard processes or nodes (issue 14; docs/redis.md):

    [store]
    backend = "redis"
    url = "redis://10.0.0.5:6379/0"
    namespace = "sotenas"            # keys {sotenas}:..., so deployments can share a Redis
    password_env = "SWITCHBOARD_REDIS_PASSWORD"

The password is never in the file (ARCHITECTURE: secrets from the environment): a URL
that carries one is refused, and ``password_env`` names the variable that holds it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from switchboard.store.redis_keys import NAMESPACE

STORE_KEYS = {"backend", "url", "namespace", "password_env"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_SCHEMES = ("redis", "rediss", "unix")


class Backend(StrEnum):
    SQLITE = "sqlite"
    REDIS = "redis"


@dataclass(frozen=True, slots=True)
class StoreSettings:
    backend: Backend = Backend.SQLITE
    url: str | None = None
    """Redis only: ``redis://host:port/db``, ``rediss://`` (TLS) or ``unix:///path``."""
    namespace: str = "switchboard"
    """Redis only: the prefix of every key of this deployment."""
    password_env: str | None = None
    """Redis only: the environment variable that holds the password (or ACL password)."""


def parse_store(table: dict[str, Any], fail: Any) -> StoreSettings:
    """Build StoreSettings from ``[store]``; ``fail(key, problem)`` makes the error."""
    for key in table:
        if key not in STORE_KEYS:
            raise fail(key, f"unknown key (known keys: {', '.join(sorted(STORE_KEYS))})")
    value = table.get("backend", Backend.SQLITE.value)
    try:
        backend = Backend(value)
    except ValueError:
        raise fail("backend", f'must be "sqlite" or "redis", got {value!r}') from None
    if backend is Backend.SQLITE:
        extra = sorted(STORE_KEYS - {"backend"} & set(table))
        if extra:
            raise fail(extra[0], 'is for backend = "redis"; SQLite needs only the data folder')
        return StoreSettings()
    url = table.get("url")
    if url is None:
        raise fail("url", 'is required with backend = "redis" (e.g. "redis://127.0.0.1:6379/0")')
    if not isinstance(url, str):
        raise fail("url", f"must be a string, got {url!r}")
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise fail("url", f"must start with redis://, rediss:// or unix://, got {url!r}")
    if parts.password is not None:
        raise fail(
            "url",
            "must not hold the password; put it in an environment variable named by password_env",
        )
    namespace = table.get("namespace", "switchboard")
    if not isinstance(namespace, str) or not NAMESPACE.match(namespace):
        raise fail(
            "namespace",
            f"use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit; "
            f"got {namespace!r}",
        )
    password_env = table.get("password_env")
    if password_env is not None and (
        not isinstance(password_env, str) or not _ENV_NAME.match(password_env)
    ):
        raise fail("password_env", f"must name an environment variable, got {password_env!r}")
    return StoreSettings(backend, url, namespace, password_env)
