"""Availability in Redis: manual status, calendar segments, templates, policy exceptions.

One hash field per person for each (the manual status; their calendar as source -> the
segments in order; their templates in the order first saved), and the exceptions as one
list in the order granted: a write reads, changes and writes back the person's value in
its transaction, and every node gets the result in its event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from switchboard.directory.model import PolicyException, PolicyRule
from switchboard.events import (
    CalendarChanged,
    ExceptionsChanged,
    ManualStatusChanged,
    TemplatesChanged,
)
from switchboard.presence.model import CalendarSegment, ManualStatus, Template
from switchboard.store import audit_phrases, audit_words, codec, tables
from switchboard.store.protocol import NotFoundError
from switchboard.store.redis_base import RedisBase
from switchboard.store.redis_keys import dump, encode, load
from switchboard.store.redis_tx import Tx

Fields = dict[str, Any]


def columns(names: tuple[str, ...], row: codec.Row) -> Fields:
    return dict(zip(names, row, strict=True))


def templates_from(text: str | None) -> list[Fields]:
    return [] if text is None else list(load(text, "templates"))


def exceptions_from(text: str | None) -> list[Fields]:
    return [] if text is None else list(load(text, "policy exceptions"))


class RedisPresence(RedisBase):
    async def set_manual(
        self, person_id: str, status: ManualStatus | None, actor: str, at: datetime
    ) -> int:
        k = self._keys

        async def body(tx: Tx) -> int:
            await self._require_person(tx, person_id)
            text = await tx.read("HGET", k.manual, person_id)
            before = None if text is None else codec.manual_from_row(load(text, "manual status"))
            if status is None:
                tx.write("HDEL", k.manual, person_id)
            else:
                row = codec.manual_row(person_id, status)
                tx.write("HSET", k.manual, person_id, encode(codec.MANUAL_COLUMNS, row))
            action = "manual_cleared" if status is None else "manual_set"
            detail = audit_words.manual_change(status)
            changes = audit_words.manual_changes(before, status)
            tx.audit(tables.entry(at, actor, action, person_id, detail, changes))
            version = tx.bump()
            tx.emit(ManualStatusChanged(version, person_id, status))
            return version

        what = f"set the manual status of {person_id}"
        return await self._write(what, body, watch=[k.manual])

    async def set_calendar(
        self,
        person_id: str,
        source: str,
        segments: tuple[CalendarSegment, ...],
        actor: str,
        at: datetime,
    ) -> int:
        k = self._keys
        rows = [
            columns(codec.SEGMENT_COLUMNS, codec.segment_row(person_id, source, i, s))
            for i, s in enumerate(segments)
        ]

        async def body(tx: Tx) -> int:
            await self._require_person(tx, person_id)
            text = await tx.read("HGET", k.calendar, person_id)
            sources: dict[str, list[Fields]] = {} if text is None else load(text, "calendar")
            before = tuple(codec.segment_from_row(r) for r in sources.get(source, []))
            if rows:
                sources[source] = rows
            else:
                sources.pop(source, None)
            if sources:
                tx.write("HSET", k.calendar, person_id, dump(sources))
            else:
                tx.write("HDEL", k.calendar, person_id)
            detail = audit_words.calendar_change(source, segments)
            changes = audit_words.calendar_changes(source, before, segments)
            tx.audit(tables.entry(at, actor, "calendar_set", person_id, detail, changes))
            version = tx.bump()
            tx.emit(CalendarChanged(version, person_id, source, segments))
            return version

        what = f"set the calendar of {person_id}"
        return await self._write(what, body, watch=[k.calendar])

    async def save_template(
        self, person_id: str, template: Template, actor: str, at: datetime
    ) -> int:
        k = self._keys
        row = columns(codec.TEMPLATE_COLUMNS, codec.template_row(person_id, template))

        async def body(tx: Tx) -> int:
            await self._require_person(tx, person_id)
            stored = templates_from(await tx.read("HGET", k.templates, person_id))
            place = next((i for i, r in enumerate(stored) if r["name"] == template.name), None)
            before = None
            if place is None:
                stored.append(row)
            else:
                before = codec.template_from_row(stored[place])
                stored[place] = row  # a replaced template keeps its place
            tx.write("HSET", k.templates, person_id, dump(stored))
            detail = audit_phrases.template_saved(template)
            changes = audit_words.template_changes(template.name, before, template)
            tx.audit(tables.entry(at, actor, "template_saved", person_id, detail, changes))
            version = tx.bump()
            templates = tuple(codec.template_from_row(r) for r in stored)
            tx.emit(TemplatesChanged(version, person_id, templates))
            return version

        what = f"save a template of {person_id}"
        return await self._write(what, body, watch=[k.templates])

    async def delete_template(self, person_id: str, name: str, actor: str, at: datetime) -> int:
        k = self._keys

        async def body(tx: Tx) -> int:
            await self._require_person(tx, person_id)
            stored = templates_from(await tx.read("HGET", k.templates, person_id))
            place = next((i for i, r in enumerate(stored) if r["name"] == name), None)
            if place is None:
                raise NotFoundError(f"template {name!r} of person {person_id}")
            before = codec.template_from_row(stored.pop(place))
            if stored:
                tx.write("HSET", k.templates, person_id, dump(stored))
            else:
                tx.write("HDEL", k.templates, person_id)
            detail = audit_phrases.template_deleted(name)
            changes = audit_words.template_changes(name, before, None)
            tx.audit(tables.entry(at, actor, "template_deleted", person_id, detail, changes))
            version = tx.bump()
            templates = tuple(codec.template_from_row(r) for r in stored)
            tx.emit(TemplatesChanged(version, person_id, templates))
            return version

        what = f"delete a template of {person_id}"
        return await self._write(what, body, watch=[k.templates])

    # --- policy ---------------------------------------------------------------------------

    async def grant_exception(self, exception: PolicyException) -> int:
        """Grant, or re-grant with a new reason, the exception for its subject and rule."""
        k = self._keys
        row = columns(codec.EXCEPTION_COLUMNS, codec.exception_row(exception))

        async def body(tx: Tx) -> int:
            stored = exceptions_from(await tx.read("GET", k.exceptions))
            place = _find(stored, exception.subject, exception.rule)
            before = None
            if place is None:
                stored.append(row)
            else:
                before = str(stored[place]["reason"])
                stored[place] = row  # a re-grant keeps its place
            tx.write("SET", k.exceptions, dump(stored))
            change = audit_phrases.exception_change(exception.rule, before, exception.reason)
            tx.audit(
                tables.entry(
                    exception.granted_at,
                    exception.granted_by,
                    "exception_granted",
                    exception.subject,
                    audit_phrases.exception_granted(exception.rule),
                    (change,),
                )
            )
            version = tx.bump()
            tx.emit(ExceptionsChanged(version, _exceptions(stored)))
            return version

        what = f"grant an exception for {exception.subject}"
        return await self._write(what, body, watch=[k.exceptions])

    async def revoke_exception(
        self, subject: str, rule: PolicyRule, actor: str, at: datetime, reason: str | None = None
    ) -> int:
        k = self._keys

        async def body(tx: Tx) -> int:
            stored = exceptions_from(await tx.read("GET", k.exceptions))
            place = _find(stored, subject, rule)
            if place is None:
                raise NotFoundError(f"exception to {rule.value} for {subject}")
            before = str(stored.pop(place)["reason"])
            tx.write("SET", k.exceptions, dump(stored))
            detail = audit_phrases.exception_revoked(rule, reason)
            change = audit_phrases.exception_change(rule, before, "")
            tx.audit(tables.entry(at, actor, "exception_revoked", subject, detail, (change,)))
            version = tx.bump()
            tx.emit(ExceptionsChanged(version, _exceptions(stored)))
            return version

        what = f"revoke an exception for {subject}"
        return await self._write(what, body, watch=[k.exceptions])


def _find(stored: list[Fields], subject: str, rule: PolicyRule) -> int | None:
    key = codec.subject_key(subject)
    return next(
        (i for i, r in enumerate(stored) if r["subject_key"] == key and r["rule"] == rule.value),
        None,
    )


def _exceptions(stored: list[Fields]) -> tuple[PolicyException, ...]:
    return tuple(codec.exception_from_row(r) for r in stored)
