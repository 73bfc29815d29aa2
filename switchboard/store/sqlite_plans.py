"""Planned referrals in SQLite (issue 16): one row per plan, beside the manual status.

A mixin of ``SqliteStore`` like ``sqlite_audit``: same connection, same transactions. Each
write rewrites nothing else: it inserts or deletes one plan, drops the person's plans that
have ended, audits, and publishes the person's remaining plans (``PlansChanged``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime

from switchboard.events import PlansChanged
from switchboard.presence.model import PlannedReferral
from switchboard.store import audit_phrases, audit_words, codec, tables
from switchboard.store.audit import say
from switchboard.store.protocol import NotFoundError, StoreError
from switchboard.store.sqlite_part import SqlitePart


def person_plans(conn: sqlite3.Connection, person_id: str) -> tuple[PlannedReferral, ...]:
    rows = conn.execute(
        "SELECT * FROM planned_referrals WHERE person_id = ?",
        (person_id,),
    )
    return _by_start(codec.plan_from_row(r) for r in rows)


def all_plans(conn: sqlite3.Connection) -> dict[str, tuple[PlannedReferral, ...]]:
    found: dict[str, list[PlannedReferral]] = {}
    for r in conn.execute("SELECT * FROM planned_referrals"):
        found.setdefault(r["person_id"], []).append(codec.plan_from_row(r))
    return {pid: _by_start(plans) for pid, plans in sorted(found.items())}


def _by_start(plans: Iterable[PlannedReferral]) -> tuple[PlannedReferral, ...]:
    """By start as instants (the stored ISO texts may carry different offsets)."""
    return tuple(sorted(plans, key=lambda p: (p.starts, p.plan_id)))


class SqlitePlans(SqlitePart):
    """Mixed into ``SqliteStore``, which provides the transaction helpers."""

    async def add_plan(
        self, person_id: str, plan: PlannedReferral, actor: str, at: datetime
    ) -> int:
        async with self._writing(f"plan a referral for {person_id}") as conn:
            tables.require_person(conn, person_id)
            ended = _drop_ended(conn, person_id, at)
            try:
                conn.execute(tables.INSERT_PLAN, codec.plan_row(person_id, plan))
            except sqlite3.IntegrityError:
                raise StoreError(f"a plan with id {plan.plan_id} exists already") from None
            detail = audit_words.plan_change(plan) + audit_words.plans_dropped(ended)
            changes = audit_words.plan_changes(None, plan)
            version = tables.record(conn, at, actor, "plan_added", person_id, detail, changes)
            self._emit(conn, PlansChanged(version, person_id, person_plans(conn, person_id)))
        return version

    async def cancel_plan(self, person_id: str, plan_id: str, actor: str, at: datetime) -> int:
        async with self._writing(f"cancel a plan of {person_id}") as conn:
            tables.require_person(conn, person_id)
            ended = _drop_ended(conn, person_id, at)
            old = next((p for p in person_plans(conn, person_id) if p.plan_id == plan_id), None)
            if old is None:
                raise NotFoundError(f"plan {plan_id} of person {person_id}")
            conn.execute("DELETE FROM planned_referrals WHERE plan_id = ?", (plan_id,))
            detail = (
                audit_words.plan_change(old)
                + say("audit.say.cancelled")
                + audit_words.plans_dropped(ended)
            )
            changes = audit_words.plan_changes(old, None)
            version = tables.record(conn, at, actor, "plan_cancelled", person_id, detail, changes)
            self._emit(conn, PlansChanged(version, person_id, person_plans(conn, person_id)))
        return version

    async def prune_plans(self, person_id: str, actor: str, at: datetime) -> int | None:
        async with self._writing(f"drop the ended plans of {person_id}") as conn:
            ended = _drop_ended(conn, person_id, at)
            if not ended:
                return None
            detail = audit_phrases.plans_ended(ended)
            version = tables.record(conn, at, actor, "plans_ended", person_id, detail)
            self._emit(conn, PlansChanged(version, person_id, person_plans(conn, person_id)))
        return version


def _drop_ended(conn: sqlite3.Connection, person_id: str, at: datetime) -> list[str]:
    """Delete the person's plans that ended by ``at``; their ids."""
    ended = [p.plan_id for p in person_plans(conn, person_id) if p.ended_at(at)]
    conn.executemany("DELETE FROM planned_referrals WHERE plan_id = ?", [(i,) for i in ended])
    return ended
