"""The ``AuditStore`` part of the SQLite store: reading the trail, and appending what is no
write (a refused request, a failed sign-in, a sign-in limit coming into force; issue 17).

A mixin of ``SqliteStore`` like ``sqlite_accounts``: same connection, same transactions.
Every other write appends its own entries through ``tables.entry``, in its transaction.
"""

from __future__ import annotations

from datetime import datetime

from switchboard.store import audit_words, tables
from switchboard.store.audit import AuditDecision, AuditEntry, Words
from switchboard.store.protocol import StoreError
from switchboard.store.sqlite_part import SqlitePart

MAX_AUDIT_PAGE = 1000


class SqliteAudit(SqlitePart):
    """Mixed into ``SqliteStore``, which provides the two transaction helpers."""

    async def append_audit(
        self,
        at: datetime,
        actor: str,
        action: str,
        subject: str,
        detail: Words | str,
        decision: AuditDecision,
    ) -> None:
        async with self._writing(f"audit {action}") as conn:
            row = tables.entry(at, actor, action, subject, detail, decision=decision)
            conn.execute(tables.INSERT_AUDIT, row)

    async def audit(self, limit: int = 100, subject: str | None = None) -> list[AuditEntry]:
        if limit < 0:
            raise StoreError(f"an audit limit must not be negative, not {limit}")
        with self._reading("read the audit trail") as conn:
            if subject is None:
                rows = conn.execute("SELECT * FROM audit ORDER BY seq DESC LIMIT ?", (limit,))
            else:
                rows = conn.execute(
                    "SELECT * FROM audit WHERE subject = ? ORDER BY seq DESC LIMIT ?",
                    (subject, limit),
                )
            return [audit_words.audit_from_row(r) for r in rows]

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
        where: list[str] = []
        values: list[object] = []
        for clause, value in (("seq < ?", before), ("subject = ?", subject), ("actor = ?", actor)):
            if value is not None:
                where.append(clause)
                values.append(value)
        sql = "SELECT * FROM audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC LIMIT ?"
        with self._reading("read the audit trail") as conn:
            rows = conn.execute(sql, (*values, limit))
            return [audit_words.audit_from_row(r) for r in rows]
