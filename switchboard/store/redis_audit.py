"""The audit trail in Redis: reading it, and appending what is no write (issue 17).

Entries live in one hash, seq -> the entry's columns as JSON; the numbers run 1, 2, 3, ...
without gaps (every audited write WATCHes the counter and sets it in its ``EXEC``), so the
newest page is a range of numbers. Two sorted sets per subject and per actor (score: seq)
serve the filtered pages. The trail is never trimmed, as in SQLite: it is the record of who
did what; an entry is a few hundred bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from switchboard.store import audit_words, tables
from switchboard.store.audit import AuditDecision, AuditEntry, Words
from switchboard.store.protocol import StoreError
from switchboard.store.redis_base import RedisBase
from switchboard.store.redis_keys import load
from switchboard.store.redis_tx import Tx

MAX_AUDIT_PAGE = 1000
CHUNK = 500
"""Entries read at a time when a page filters by subject and actor both."""


class RedisAudit(RedisBase):
    async def append_audit(
        self,
        at: datetime,
        actor: str,
        action: str,
        subject: str,
        detail: Words | str,
        decision: AuditDecision,
    ) -> None:
        row = tables.entry(at, actor, action, subject, detail, decision=decision)

        async def body(tx: Tx) -> None:
            tx.audit(row)

        await self._write(f"audit {action}", body)

    async def audit(self, limit: int = 100, subject: str | None = None) -> list[AuditEntry]:
        if limit < 0:
            raise StoreError(f"an audit limit must not be negative, not {limit}")
        return await self._page(limit, None, subject, None)

    async def audit_page(
        self,
        limit: int = 100,
        *,
        before: int | None = None,
        subject: str | None = None,
        actor: str | None = None,
    ) -> list[AuditEntry]:
        if not 0 <= limit <= MAX_AUDIT_PAGE:
            raise StoreError(f"an audit page holds 0-{MAX_AUDIT_PAGE} entries, not {limit}")
        return await self._page(limit, before, subject, actor)

    async def _page(
        self, limit: int, before: int | None, subject: str | None, actor: str | None
    ) -> list[AuditEntry]:
        if limit == 0:
            return []
        k = self._keys
        what = "read the audit trail"
        top = "+inf" if before is None else f"({before}"
        if subject is None and actor is None:
            newest = int(await self._call(what, "GET", k.audit_seq) or 0)
            if before is not None:
                newest = min(newest, before - 1)
            return await self._entries(range(newest, max(newest - limit, 0), -1))
        index = k.audit_by_subject(subject) if subject is not None else k.audit_by_actor(str(actor))
        if subject is None or actor is None:
            found = await self._call(
                what, "ZREVRANGEBYSCORE", index, top, "-inf", "LIMIT", 0, limit
            )
            return await self._entries([int(s) for s in found])
        # Both: walk the subject's entries, newest first, keeping the actor's.
        kept: list[AuditEntry] = []
        offset = 0
        while len(kept) < limit:
            found = await self._call(
                what, "ZREVRANGEBYSCORE", index, top, "-inf", "LIMIT", offset, CHUNK
            )
            kept.extend(e for e in await self._entries([int(s) for s in found]) if e.actor == actor)
            if len(found) < CHUNK:
                break
            offset += CHUNK
        return kept[:limit]

    async def _entries(self, seqs: Sequence[int]) -> list[AuditEntry]:
        if not seqs:
            return []
        texts = await self._call("read the audit trail", "HMGET", self._keys.audit, *seqs)
        return [
            audit_words.audit_from_row(load(text, "audit entry"))
            for text in texts
            if text is not None
        ]
