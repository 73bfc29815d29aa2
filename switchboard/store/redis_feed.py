"""The change feed in Redis: a stream, one entry per published event (issue 14).

Entries get the ids ``0-1``, ``0-2``, ... (``XADD key 0-* ...``, Redis 7): the number after
the dash is the change's number, gap-free, like the SQLite feed's ``seq``. So a follower
that asks for what came after ``0-N`` knows it missed some when the first answer is not
``0-(N+1)``: they were trimmed away, and it reloads.

Each XADD trims the stream to about ``KEEP`` entries (``MAXLEN ~``: Redis drops whole
nodes of the stream, which costs nothing per write). The contract tests make it exact with
a small ``KEEP`` to reach the edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from switchboard.store import feed
from switchboard.store.changes import FeedEvent, decode_event
from switchboard.store.protocol import StoreError

KEEP = feed.KEEP
"""Changes kept for followers that fall behind (as many as SQLite keeps)."""
APPROXIMATE = True
"""Trim with ``MAXLEN ~`` (whole stream nodes; may keep a little more than ``KEEP``)."""
FIELD = "e"
"""The entry's one field: the event as ``changes.encode_event`` writes it."""
NEXT = "0-*"
"""The id that tells Redis to number the entry one after the last."""


def xadd(key: str, text: str) -> tuple[object, ...]:
    """The XADD command that appends one encoded event and trims the stream."""
    trim = ("MAXLEN", "~", KEEP) if APPROXIMATE else ("MAXLEN", KEEP)
    return ("XADD", key, *trim, NEXT, FIELD, text)


def after(seq: int) -> str:
    """The XRANGE start that means "after change ``seq``" (exclusive)."""
    return f"(0-{seq}"


def number(entry_id: str) -> int:
    """The change number of a stream id ``0-N``."""
    head, _, tail = entry_id.partition("-")
    if head != "0" or not tail.isdigit():
        raise StoreError(f"the change feed holds an entry with a foreign id {entry_id!r}")
    return int(tail)


def decode(entries: Sequence[Any]) -> list[tuple[int, FeedEvent]]:
    """XRANGE's answer as (number, event) pairs, oldest first."""
    found: list[tuple[int, FeedEvent]] = []
    for entry_id, fields in entries:
        text = fields.get(FIELD) if isinstance(fields, dict) else None
        if not isinstance(text, str):
            raise StoreError(f"the change feed entry {entry_id} has no event")
        found.append((number(entry_id), decode_event(text)))
    return found


def newest(entries: Sequence[Any]) -> int:
    """The number of the one entry ``XREVRANGE key + - COUNT 1`` answered (0: none)."""
    return number(entries[0][0]) if entries else 0
