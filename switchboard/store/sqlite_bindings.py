"""The ``BindingStore`` part of the SQLite store: the SIP registrar's saved bindings.

A mixin of ``SqliteStore`` like ``sqlite_calls``. Saving runs on the store's side thread
(as call records do): a registration storm after an outage is a transaction a second,
and its disk flush must not stall SIP answers on the event loop. Reading happens once, at
start, before SIP serves.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from switchboard.events import BindingsChanged
from switchboard.sip.saved_bindings import SavedBinding
from switchboard.store import codec, feed
from switchboard.store.changes import encode_event
from switchboard.store.codec import Row, SideStep
from switchboard.store.protocol import StoreError
from switchboard.store.sqlite_part import SqlitePart

DELETE_AOR = "DELETE FROM sip_bindings WHERE aor = ?"
DELETE_EXPIRED = "DELETE FROM sip_bindings WHERE expires_at < ?"
INSERT_BINDING = (
    "INSERT INTO sip_bindings (aor, position, contact, expires_at, call_id, cseq, transport, "
    "host, port, q) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def binding_rows(changes: Mapping[str, Sequence[SavedBinding]]) -> Iterator[Row]:
    for aor, bindings in changes.items():
        for position, b in enumerate(bindings):
            if b.aor != aor:
                raise StoreError(f"a SIP registration of {b.aor!r} saved under {aor!r}")
            yield (
                aor,
                position,
                b.contact,
                codec.iso(b.expires_at),
                b.call_id,
                b.cseq,
                b.transport,
                b.host,
                b.port,
                b.q,
            )


def binding_from_row(r: codec.Fields) -> SavedBinding:
    q = r["q"]
    return SavedBinding(
        aor=r["aor"],
        contact=r["contact"],
        expires_at=codec.instant(r["expires_at"]),
        call_id=r["call_id"],
        cseq=int(r["cseq"]),
        transport=r["transport"],
        host=r["host"],
        port=int(r["port"]),
        q=None if q is None else float(q),
    )


class SqliteBindings(SqlitePart):
    """Mixed into ``SqliteStore``, which provides the transaction helpers."""

    async def saved_bindings(self) -> list[SavedBinding]:
        with self._reading("read the saved SIP registrations") as conn:
            rows = conn.execute("SELECT * FROM sip_bindings ORDER BY aor, position")
            return [binding_from_row(r) for r in rows]

    async def save_bindings(
        self,
        changes: Mapping[str, Sequence[SavedBinding]],
        expired_before: datetime,
        announce: Sequence[BindingsChanged] = (),
    ) -> None:
        # Rows are made before the transaction: a binding that cannot be stored (a naive
        # instant, one filed under another address of record) fails here, changing nothing.
        rows = list(binding_rows(changes))
        steps: list[SideStep] = [
            (DELETE_EXPIRED, [(codec.iso(expired_before),)]),
            (DELETE_AOR, [(aor,) for aor in changes]),
            (INSERT_BINDING, rows),
        ]
        if announce:
            # On the side thread's connection, so this store's ``_seen_seq`` stays where
            # it was and its own follower publishes them back, in feed order (issue 14).
            steps.append((feed.INSERT, [(encode_event(e),) for e in announce]))
            steps.append((feed.PRUNE_NEWEST, [(feed.KEEP,)]))
        count = sum(len(b) for b in changes.values())
        await self._on_side_thread(f"save {count} SIP registration(s)", steps)
