"""The one wiring place: builds the store, the live view and the engine, and unwinds them.

Nothing else creates a store or a bus; edges receive what they need from here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from switchboard.clock import Clock, SystemClock
from switchboard.config import Settings
from switchboard.live.engine import Engine
from switchboard.live.view import LiveView
from switchboard.store.bus import EventBus
from switchboard.store.sqlite import SqliteStore

DATABASE_NAME = "switchboard.db"


@asynccontextmanager
async def open_engine(
    settings: Settings, data_dir: Path, clock: Clock | None = None
) -> AsyncIterator[Engine]:
    bus = EventBus()
    store = await SqliteStore.open(data_dir / DATABASE_NAME, bus)
    try:
        view = LiveView(settings, await store.load())
        unsubscribe = bus.add_listener(view.apply)
        try:
            yield Engine(settings, store, view, clock or SystemClock())
        finally:
            unsubscribe()
    finally:
        await store.close()
