"""Calendars employees connect (issue 16) in Redis: the ``OwnCalendarStore`` part of
``RedisStore``, with the rules of ``sqlite_own_calendars``.

One hash field per person (the connection as JSON). Audited with the feed address masked,
not versioned, and each change emits an ``OwnCalendarChanged`` on the change feed.
"""

from __future__ import annotations

from datetime import datetime

from switchboard.events import OwnCalendarChanged
from switchboard.presence.own_calendar import OwnCalendar
from switchboard.store import codec
from switchboard.store.protocol import NotFoundError
from switchboard.store.redis_base import RedisBase
from switchboard.store.redis_keys import dump, load
from switchboard.store.redis_tx import Tx
from switchboard.store.sqlite_own_calendars import (
    check_owner,
    own_calendar_audit,
    own_calendar_from_row,
)


def _json(calendar: OwnCalendar) -> str:
    return dump(
        {
            "person_id": calendar.person_id,
            "kind": calendar.kind.value,
            "address": calendar.address,
            "connected_by": calendar.connected_by,
            "connected_at": codec.iso(calendar.connected_at),
        }
    )


def _from_json(text: str) -> OwnCalendar:
    return own_calendar_from_row(load(text, "connected calendar"))


class RedisOwnCalendars(RedisBase):
    async def own_calendars(self) -> list[OwnCalendar]:
        stored = await self._call("read the connected calendars", "HGETALL", self._keys.own)
        return sorted((_from_json(v) for v in stored.values()), key=lambda c: c.person_id)

    async def own_calendar(self, person_id: str) -> OwnCalendar | None:
        what = f"read the connected calendar of {person_id}"
        text = await self._call(what, "HGET", self._keys.own, person_id)
        return None if text is None else _from_json(text)

    async def set_own_calendar(
        self, person_id: str, calendar: OwnCalendar | None, actor: str, at: datetime
    ) -> None:
        check_owner(person_id, calendar)
        k = self._keys

        async def body(tx: Tx) -> None:
            text = await tx.read("HGET", k.own, person_id)
            old = None if text is None else _from_json(text)
            if calendar is None:
                if old is None:
                    raise NotFoundError(f"connected calendar of {person_id}")
                tx.write("HDEL", k.own, person_id)
            else:
                await self._require_person(tx, person_id)
                tx.write("HSET", k.own, person_id, _json(calendar))
            tx.audit(own_calendar_audit(person_id, old, calendar, actor, at))
            tx.emit(OwnCalendarChanged(person_id))

        verb = "connect" if calendar is not None else "disconnect"
        await self._write(f"{verb} the calendar of {person_id}", body, watch=[k.own])
