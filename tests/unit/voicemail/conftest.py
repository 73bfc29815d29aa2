"""A real SQLite store, a spool on ``tmp_path`` and a stopped clock for the voicemail tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from switchboard.clock import FixedClock
from switchboard.directory.model import Person
from switchboard.store.bus import EventBus
from switchboard.store.sqlite import SqliteStore
from switchboard.voicemail.spool import Voicemail

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ANNA = Person("anna", "Anna Berg", "64123", "+46701112233", "anna@kommun.example", "kommun")
FATIMA = Person(
    "fatima", "Fatima Haddad", "13456", "+46701740623", None, "kommun", secret_mobile=True
)


SECRET_MOBILES = frozenset({"+46709876543", "+46701740623"})
"""What the directory of these tests says is secret (Fatima's, and one more)."""


@dataclass
class Spooled:
    spool: Voicemail
    store: SqliteStore
    root: Path


@pytest.fixture
async def spooled(tmp_path: Path) -> AsyncIterator[Spooled]:
    store = await SqliteStore.open(tmp_path / "store.db", EventBus())
    await store.import_people([ANNA, FATIMA], "test", T0)
    with ThreadPoolExecutor(2) as executor:
        root = tmp_path / "voicemail"
        spool = Voicemail(root, store, FixedClock(T0), executor, SECRET_MOBILES.__contains__)
        yield Spooled(spool, store, root)
    await store.close()
