"""What each part of ``SqliteStore`` (the mixins ``sqlite_*.py``) uses of the store.

``SqliteStore`` provides them (``sqlite.py``): the write transaction (``_writing``, its
commit on the writer thread), a read transaction (``_reading``), the change feed of the
open write (``_emit``) and the side thread for writes without events (``_on_side_thread``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager

from switchboard.store.changes import FeedEvent
from switchboard.store.codec import SideStep


class SqlitePart:
    def _writing(self, what: str) -> AbstractAsyncContextManager[sqlite3.Connection]:
        raise NotImplementedError  # pragma: no cover - SqliteStore provides it

    def _reading(self, what: str) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError  # pragma: no cover - SqliteStore provides it

    def _emit(self, conn: sqlite3.Connection, *events: FeedEvent) -> None:
        raise NotImplementedError  # pragma: no cover - SqliteStore provides it

    async def _on_side_thread(self, what: str, steps: Sequence[SideStep]) -> None:
        raise NotImplementedError  # pragma: no cover - SqliteStore provides it
