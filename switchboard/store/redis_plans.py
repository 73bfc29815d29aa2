"""Planned referrals in Redis (issue 16): one hash field per person holding their plans as
a JSON list of rows (the manual status's columns with an id, ``codec.PLAN_COLUMNS``).

A write reads the person's list, changes it and writes it back in its transaction, like
templates; the event carries the remaining list, so every node applies the same value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from switchboard.events import PlansChanged
from switchboard.presence.model import PlannedReferral
from switchboard.store import audit_phrases, audit_words, codec, tables
from switchboard.store.audit import Words, say
from switchboard.store.protocol import NotFoundError, StoreError
from switchboard.store.redis_base import RedisBase
from switchboard.store.redis_keys import dump, load
from switchboard.store.redis_tx import Tx


def plans_from(text: str | None) -> tuple[PlannedReferral, ...]:
    rows: list[dict[str, Any]] = [] if text is None else list(load(text, "plans"))
    return tuple(sorted((codec.plan_from_row(r) for r in rows), key=_start))


def _start(plan: PlannedReferral) -> tuple[datetime, str]:
    return plan.starts, plan.plan_id


def _rows(person_id: str, plans: tuple[PlannedReferral, ...]) -> list[dict[str, Any]]:
    return [dict(zip(codec.PLAN_COLUMNS, codec.plan_row(person_id, p), strict=True)) for p in plans]


class RedisPlans(RedisBase):
    async def add_plan(
        self, person_id: str, plan: PlannedReferral, actor: str, at: datetime
    ) -> int:
        async def body(tx: Tx) -> int:
            await self._require_person(tx, person_id)
            kept, ended = await self._kept_plans(tx, person_id, at)
            if any(p.plan_id == plan.plan_id for p in kept):
                raise StoreError(f"a plan with id {plan.plan_id} exists already")
            plans = tuple(sorted((*kept, plan), key=_start))
            detail = audit_words.plan_change(plan) + audit_words.plans_dropped(ended)
            return self._save(tx, person_id, plans, "plan_added", detail, actor, at, None, plan)

        what = f"plan a referral for {person_id}"
        return await self._write(what, body, watch=[self._keys.plans])

    async def cancel_plan(self, person_id: str, plan_id: str, actor: str, at: datetime) -> int:
        async def body(tx: Tx) -> int:
            await self._require_person(tx, person_id)
            kept, ended = await self._kept_plans(tx, person_id, at)
            old = next((p for p in kept if p.plan_id == plan_id), None)
            if old is None:
                raise NotFoundError(f"plan {plan_id} of person {person_id}")
            plans = tuple(p for p in kept if p.plan_id != plan_id)
            detail = (
                audit_words.plan_change(old)
                + say("audit.say.cancelled")
                + audit_words.plans_dropped(ended)
            )
            return self._save(tx, person_id, plans, "plan_cancelled", detail, actor, at, old, None)

        what = f"cancel a plan of {person_id}"
        return await self._write(what, body, watch=[self._keys.plans])

    async def prune_plans(self, person_id: str, actor: str, at: datetime) -> int | None:
        async def body(tx: Tx) -> int | None:
            kept, ended = await self._kept_plans(tx, person_id, at)
            if not ended:
                return None
            detail = audit_phrases.plans_ended(ended)
            return self._save(tx, person_id, kept, "plans_ended", detail, actor, at, None, None)

        what = f"drop the ended plans of {person_id}"
        return await self._write(what, body, watch=[self._keys.plans])

    async def _kept_plans(
        self, tx: Tx, person_id: str, at: datetime
    ) -> tuple[tuple[PlannedReferral, ...], list[str]]:
        """The person's plans that have not ended by ``at``, and the ids of those that have."""
        stored = plans_from(await tx.read("HGET", self._keys.plans, person_id))
        kept = tuple(p for p in stored if not p.ended_at(at))
        return kept, [p.plan_id for p in stored if p.ended_at(at)]

    def _save(
        self,
        tx: Tx,
        person_id: str,
        plans: tuple[PlannedReferral, ...],
        action: str,
        detail: Words,
        actor: str,
        at: datetime,
        old: PlannedReferral | None,
        new: PlannedReferral | None,
    ) -> int:
        if plans:
            tx.write("HSET", self._keys.plans, person_id, dump(_rows(person_id, plans)))
        else:
            tx.write("HDEL", self._keys.plans, person_id)
        changes = audit_words.plan_changes(old, new) if old or new else ()
        tx.audit(tables.entry(at, actor, action, person_id, detail, changes))
        version = tx.bump()
        tx.emit(PlansChanged(version, person_id, plans))
        return version
