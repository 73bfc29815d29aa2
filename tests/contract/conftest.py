"""The backends the Store contract runs against, behind one fixture.

Each backend comes with a way to read its committed version *as another client would*
(a second connection), so the suite can check that every event is published only after
its write is visible to everyone.

Redis runs as a real ``redis-server`` the session starts once (skipped with a reason when
it is missing, failed in CI); each test gets a namespace of its own, so tests never see
each other's keys and nothing needs flushing.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from switchboard.events import Event
from switchboard.store import feed, redis_feed
from switchboard.store.bus import EventBus
from switchboard.store.protocol import Store
from switchboard.store.redis_keys import Keys
from switchboard.store.redis_store import RedisStore
from switchboard.store.sqlite import SqliteStore
from tests.peers.redis_server import RedisServer

BACKENDS = ["sqlite", "redis"]


@dataclass
class Backend:
    store: Store
    bus: EventBus
    committed_version: Callable[[], int]
    """The version another client reads right now."""
    events: list[Event] = field(default_factory=list)
    committed_at_publish: list[int] = field(default_factory=list)
    """committed_version() at the moment each event was published."""
    open_peer: Callable[[EventBus], Awaitable[Store]] | None = None
    """Another store object on the same backend, publishing on its own bus: what another
    process (the CLI, a worker, a node) would open. Closed by the fixture."""
    keep_feed: Callable[[int], None] | None = None
    """Make the backend keep only that many changes in its feed."""

    def record(self, event: Event) -> None:
        self.events.append(event)
        self.committed_at_publish.append(self.committed_version())

    def take_events(self) -> list[Event]:
        taken, self.events[:] = list(self.events), []
        self.committed_at_publish.clear()
        return taken


def _sqlite_version_reader(path: Path) -> Callable[[], int]:
    def read() -> int:
        with closing(sqlite3.connect(path)) as conn:
            return int(conn.execute("SELECT version FROM store_version").fetchone()[0])

    return read


def _redis_version_reader(url: str, keys: Keys) -> Callable[[], int]:
    def read() -> int:
        with redis.Redis.from_url(url, decode_responses=True) as client:
            return int(client.get(keys.version) or 0)

    return read


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the session's contract tests; no persistence (speed)."""
    directory = tmp_path_factory.mktemp("redis")
    with RedisServer(directory, appendonly=False) as server:
        yield server


@pytest.fixture(params=BACKENDS)
async def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Backend]:
    bus = EventBus()
    peers: list[Store] = []
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        store: Store = await SqliteStore.open(path, bus)
        reader = _sqlite_version_reader(path)

        async def open_peer(peer_bus: EventBus) -> Store:
            peer = await SqliteStore.open(path, peer_bus)
            peers.append(peer)
            return peer

        def keep_feed(count: int) -> None:
            monkeypatch.setattr(feed, "KEEP", count)

    elif request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        namespace = f"contract-{uuid.uuid4().hex[:12]}"
        store = await RedisStore.open(server.url, namespace, bus)
        reader = _redis_version_reader(server.url, Keys(namespace))

        async def open_peer(peer_bus: EventBus) -> Store:
            peer = await RedisStore.open(server.url, namespace, peer_bus)
            peers.append(peer)
            return peer

        def keep_feed(count: int) -> None:
            monkeypatch.setattr(redis_feed, "KEEP", count)
            monkeypatch.setattr(redis_feed, "APPROXIMATE", False)  # exact, to reach the edge

    else:  # pragma: no cover - a backend listed without an opener
        raise AssertionError(f"no opener for backend {request.param!r}")
    harness = Backend(store, bus, reader, open_peer=open_peer, keep_feed=keep_feed)
    bus.add_listener(harness.record)
    yield harness
    for peer in peers:
        await peer.close()
    await store.close()
