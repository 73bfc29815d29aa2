"""The change feed's table in SQLite: what a process that did not make a write reads to
follow it (issue 14).

Each event a write publishes is one row, appended in the write's transaction, numbered by
``AUTOINCREMENT`` (so a number is never reused, even after the rows before it are pruned).
Only the newest ``KEEP`` rows stay: a process further behind than that reloads everything
from the store instead (``Store.catch_up`` answers False), which costs about as much as
applying that many changes.
"""

from __future__ import annotations

import sqlite3

INSERT = "INSERT INTO changes (event) VALUES (?)"
KEEP = 20_000
"""Changes kept for processes that fall behind: an import of this many people is the
largest that followers apply one by one instead of reloading."""
BATCH = 200
"""Changes one ``catch_up`` publishes at most, so following a large import never holds the
event loop for long: the bus's listeners in ``serve`` take 25-35 us a change (the view, the
search and overview caches, the screens' streams), so 500 a batch held it 12-17 ms
(bench/region_ops.py with bench/stall_stacks.py) and 200 about 5-7; the follower yields
between batches."""


PRUNE_NEWEST = (
    "DELETE FROM changes WHERE seq <= (SELECT seq FROM sqlite_sequence WHERE name = 'changes') - ?"
)
"""``prune`` as one statement (a side-thread step has no Python between statements)."""


def last(conn: sqlite3.Connection) -> int:
    """The number of the newest change ever appended (0: none yet)."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
    return 0 if row is None else int(row[0])


def oldest(conn: sqlite3.Connection) -> int:
    """The number of the oldest change still kept (after the newest when none is)."""
    row = conn.execute("SELECT MIN(seq) FROM changes").fetchone()
    return last(conn) + 1 if row[0] is None else int(row[0])


def after(conn: sqlite3.Connection, seq: int, limit: int | None) -> list[tuple[int, str]]:
    """The changes numbered above ``seq``, oldest first, at most ``limit`` of them."""
    query = "SELECT seq, event FROM changes WHERE seq > ? ORDER BY seq"
    if limit is None:
        return [(int(r[0]), str(r[1])) for r in conn.execute(query, (seq,))]
    rows = conn.execute(query + " LIMIT ?", (seq, limit))
    return [(int(r[0]), str(r[1])) for r in rows]


def prune(conn: sqlite3.Connection, newest: int) -> None:
    """Forget all but the newest ``KEEP`` changes."""
    conn.execute("DELETE FROM changes WHERE seq <= ?", (newest - KEEP,))
