"""The SIP registrar's saved bindings in Redis (issue 3): the ``BindingStore`` part of
``RedisStore``, with the rules of ``sqlite_bindings``.

One hash field per address of record (its bindings in the registrar's order, as JSON),
and a sorted set of each address of record's earliest expiry, so a save finds what
expired without reading every phone's bindings: only those address of records are read,
filtered and written back. Neither versioned, nor published, nor audited; each save is one
``MULTI``. Values SQLite's table would refuse (its CHECKs) are refused here before the
transaction, with the same words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from switchboard.events import BindingsChanged
from switchboard.sip.saved_bindings import SavedBinding
from switchboard.store import codec
from switchboard.store.protocol import StoreError
from switchboard.store.redis_base import RedisBase
from switchboard.store.redis_keys import dump, load, micros
from switchboard.store.redis_tx import Tx
from switchboard.store.sqlite_bindings import binding_from_row, binding_rows

BINDING_COLUMNS = (
    "aor",
    "position",
    "contact",
    "expires_at",
    "call_id",
    "cseq",
    "transport",
    "host",
    "port",
    "q",
)
"""The order of ``sqlite_bindings.binding_rows``'s values."""
Fields = dict[str, Any]


def _problem(b: SavedBinding) -> str | None:
    """What SQLite's CHECK constraints would refuse about ``b``."""
    if not 1 <= b.port <= 65535:
        return f"the port of {b.aor}'s binding must be 1-65535, not {b.port}"
    if b.cseq < 0:
        return f"the CSeq of {b.aor}'s binding must not be negative"
    if b.q is not None and not 0 <= b.q <= 1:
        return f"the q of {b.aor}'s binding must be 0-1, not {b.q}"
    return None


def _earliest(rows: Sequence[Fields]) -> int:
    return min(micros(codec.instant(r["expires_at"])) for r in rows)


class RedisBindings(RedisBase):
    async def saved_bindings(self) -> list[SavedBinding]:
        what = "read the saved SIP registrations"
        stored = await self._call(what, "HGETALL", self._keys.bindings)
        return [
            binding_from_row(row)
            for aor in sorted(stored)
            for row in load(stored[aor], "SIP registration")
        ]

    async def save_bindings(
        self,
        changes: Mapping[str, Sequence[SavedBinding]],
        expired_before: datetime,
        announce: Sequence[BindingsChanged] = (),
    ) -> None:
        count = sum(len(b) for b in changes.values())
        what = f"save {count} SIP registration(s)"
        # Rows are made before the transaction: a binding that cannot be stored (a naive
        # instant, one filed under another address of record) fails here, changing nothing.
        rows: list[Fields] = [
            dict(zip(BINDING_COLUMNS, row, strict=True)) for row in binding_rows(changes)
        ]
        for bindings in changes.values():
            for b in bindings:
                problem = _problem(b)
                if problem is not None:
                    raise StoreError(
                        f"{self._where}: cannot {what}; nothing was changed: {problem}"
                    )
        by_aor: dict[str, list[Fields]] = {aor: [] for aor in changes}
        for row in rows:
            by_aor[str(row["aor"])].append(row)
        cutoff = micros(expired_before)
        k = self._keys

        async def body(tx: Tx) -> None:
            lapsed = await tx.read("ZRANGEBYSCORE", k.binding_expiry, "-inf", f"({cutoff}")
            lapsed = [aor for aor in lapsed if aor not in by_aor]
            kept: dict[str, list[Fields]] = dict(by_aor)
            if lapsed:
                texts = await tx.read("HMGET", k.bindings, *lapsed)
                for aor, text in zip(lapsed, texts, strict=True):
                    stored = [] if text is None else load(text, "SIP registration")
                    still = [r for r in stored if micros(codec.instant(r["expires_at"])) >= cutoff]
                    kept[aor] = [{**r, "position": i} for i, r in enumerate(still)]
            for aor, aor_rows in kept.items():
                if aor_rows:
                    tx.write("HSET", k.bindings, aor, dump(aor_rows))
                    tx.write("ZADD", k.binding_expiry, _earliest(aor_rows), aor)
                else:
                    tx.write("HDEL", k.bindings, aor)
                    tx.write("ZREM", k.binding_expiry, aor)

        async def announcing(tx: Tx) -> None:
            await body(tx)
            # On the feed in the same transaction, for the other workers' registrars (issue
            # 14); this store's own bus gets them back too, which a registrar applies
            # without a change (idempotent, and never saved again).
            tx.emit(*announce)

        watch = [k.bindings, k.binding_expiry]
        if announce:
            await self._write(what, announcing, watch=watch)
        else:
            await self._write(what, body, watch=watch, audited=False)
