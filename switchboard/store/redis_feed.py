"""The change feed in Redis: a stream, one entry per published event (issue 14).

Entries get the ids ``0-1``, ``0-2``, ... (``XADD key 0-* ...``, Redis 7): the number after
the dash is the change's number, gap-free, like the SQLite feed's ``seq``. So a follower
that asks for what came after ``0-N`` knows it missed some when the first answer is not
``0-(N+1)``: they were trimmed away, and it reloads.

Each entry also carries the namespace's epoch (``redis_keys``): a follower woken by
``XREAD`` can apply the entries it was handed at once when they follow on from its position
and carry its epoch, without asking again (one round trip less between a write on one node
and the routing of the next).

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
"""The entry's field for the event, as ``changes.encode_event`` writes it."""
EPOCH = "x"
"""The entry's field for the epoch of the namespace it was written in."""
NEXT = "0-*"
"""The id that tells Redis to number the entry one after the last."""


def xadd(key: str, text: str, epoch: str) -> tuple[object, ...]:
    """The XADD command that appends one encoded event and trims the stream."""
    trim = ("MAXLEN", "~", KEEP) if APPROXIMATE else ("MAXLEN", KEEP)
    return ("XADD", key, *trim, NEXT, FIELD, text, EPOCH, epoch)


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


def stamped(entries: Sequence[Any], epoch: str | None) -> bool:
    """Every entry was written in ``epoch`` (entries of an older release carry none)."""
    return epoch is not None and all(
        isinstance(fields, dict) and fields.get(EPOCH) == epoch for _, fields in entries
    )


def read_reply(reply: Any) -> list[Any]:
    """The entries of XREAD's answer for one stream (a map in RESP3, pairs in RESP2)."""
    if not reply:
        return []
    streams = reply.values() if isinstance(reply, dict) else (pair[1] for pair in reply)
    return [entry for entries in streams for entry in entries]


def newest(entries: Sequence[Any]) -> int:
    """The number of the one entry ``XREVRANGE key + - COUNT 1`` answered (0: none)."""
    return number(entries[0][0]) if entries else 0
