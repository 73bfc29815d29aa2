"""The ``OwnCalendarStore`` part of the SQLite store: calendars employees connect (issue 16).

A mixin of ``SqliteStore`` like ``sqlite_voicemail``: same ``BEGIN IMMEDIATE``
transactions and audit trail, no version bump, and an ``OwnCalendarChanged`` on the change
feed for each change, so the calendar worker of a running ``serve`` picks up a connection
made by another process. The audit entry shows the feed address masked (it holds a token).
"""

from __future__ import annotations

from datetime import datetime

from switchboard.events import OwnCalendarChanged
from switchboard.presence.own_calendar import OwnCalendar, OwnCalendarKind
from switchboard.store import audit_words, codec, tables
from switchboard.store.audit import say
from switchboard.store.audit_english import code
from switchboard.store.protocol import NotFoundError, StoreError
from switchboard.store.sqlite_part import SqlitePart

UPSERT = (
    "INSERT INTO own_calendars (person_id, kind, address, connected_by, connected_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (person_id) DO UPDATE SET kind = excluded.kind, "
    "address = excluded.address, connected_by = excluded.connected_by, "
    "connected_at = excluded.connected_at"
)


def own_calendar_from_row(r: codec.Fields) -> OwnCalendar:
    return OwnCalendar(
        person_id=r["person_id"],
        kind=OwnCalendarKind(r["kind"]),
        address=r["address"],
        connected_by=r["connected_by"],
        connected_at=codec.instant(r["connected_at"]),
    )


def own_calendar_audit(
    person_id: str,
    old: OwnCalendar | None,
    new: OwnCalendar | None,
    actor: str,
    at: datetime,
) -> tables.AuditRow:
    """One entry for both backends: what was and is connected, masked."""
    before = f"{old.kind.value} {old.shown}" if old is not None else ""
    after = f"{new.kind.value} {new.shown}" if new is not None else ""
    action = "calendar_connected" if new is not None else "calendar_disconnected"
    # The kind (ics, graph) and the masked address are shown as they are, in no language.
    detail = (
        say("audit.say.own_calendar", calendar=code(after))
        if after
        else say("audit.say.own_calendar_disconnected")
    )
    return tables.entry(
        at, actor, action, person_id, detail, (audit_words.changed("calendar", before, after),)
    )


def check_owner(person_id: str, calendar: OwnCalendar | None) -> None:
    if calendar is not None and calendar.person_id != person_id:
        raise StoreError(f"a calendar of {calendar.person_id!r} stored for {person_id!r}")


class SqliteOwnCalendars(SqlitePart):
    """Mixed into ``SqliteStore``, which provides the transaction helpers."""

    async def own_calendars(self) -> list[OwnCalendar]:
        with self._reading("read the connected calendars") as conn:
            rows = conn.execute("SELECT * FROM own_calendars ORDER BY person_id")
            return [own_calendar_from_row(r) for r in rows]

    async def own_calendar(self, person_id: str) -> OwnCalendar | None:
        with self._reading(f"read the connected calendar of {person_id}") as conn:
            row = conn.execute(
                "SELECT * FROM own_calendars WHERE person_id = ?", (person_id,)
            ).fetchone()
            return None if row is None else own_calendar_from_row(row)

    async def set_own_calendar(
        self, person_id: str, calendar: OwnCalendar | None, actor: str, at: datetime
    ) -> None:
        check_owner(person_id, calendar)
        verb = "connect" if calendar is not None else "disconnect"
        async with self._writing(f"{verb} the calendar of {person_id}") as conn:
            row = conn.execute(
                "SELECT * FROM own_calendars WHERE person_id = ?", (person_id,)
            ).fetchone()
            old = None if row is None else own_calendar_from_row(row)
            if calendar is None:
                if old is None:
                    raise NotFoundError(f"connected calendar of {person_id}")
                conn.execute("DELETE FROM own_calendars WHERE person_id = ?", (person_id,))
            else:
                tables.require_person(conn, person_id)
                conn.execute(
                    UPSERT,
                    (
                        person_id,
                        calendar.kind.value,
                        calendar.address,
                        calendar.connected_by,
                        codec.iso(calendar.connected_at),
                    ),
                )
            conn.execute(
                tables.INSERT_AUDIT, own_calendar_audit(person_id, old, calendar, actor, at)
            )
            self._emit(conn, OwnCalendarChanged(person_id))
