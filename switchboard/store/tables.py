"""The statements the SQLite store runs inside its transactions, one helper per job.

Each function takes the open connection and runs within the caller's ``BEGIN IMMEDIATE``
(see ``sqlite.py``), so none of them commits. Kept apart from the store class so that one
reads as "which transaction does what" and this one as "how rows are written".

The SQL is built once, at import, from the column lists in ``codec``: identifiers are our
own constants, every value is a bound parameter.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from switchboard.directory.credentials import SipCredential
from switchboard.directory.model import Person, PolicyException
from switchboard.presence.model import CalendarSegment, ManualStatus, Template
from switchboard.store import audit_english, audit_words, codec
from switchboard.store.audit import AuditDecision, Change, ChangeWords, EntryWords, Words, say
from switchboard.store.audit_english import code
from switchboard.store.origin import current_origin
from switchboard.store.protocol import NotFoundError, StoreError

AuditRow = tuple[str, str, str, str, str, str, str, str, str, str, str | None]
"""at, actor, action, subject, detail, decision, via, source, request_id, changes, words."""


def _insert(table: str, columns: Sequence[str]) -> str:
    placeholders = ", ".join("?" * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608


INSERT_PERSON = _insert("people", codec.PERSON_COLUMNS)
UPDATE_PERSON = (
    "UPDATE people SET "  # noqa: S608 - our column names, bound values
    + ", ".join(f"{c} = ?" for c in codec.PERSON_COLUMNS[1:])
    + " WHERE person_id = ?"
)
UPSERT_MANUAL = _insert("manual_status", codec.MANUAL_COLUMNS) + (
    " ON CONFLICT (person_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in codec.MANUAL_COLUMNS[1:])
)
INSERT_SEGMENT = _insert("calendar_segments", codec.SEGMENT_COLUMNS)
INSERT_PLAN = _insert("planned_referrals", codec.PLAN_COLUMNS)
# An upsert, not INSERT OR REPLACE: the row keeps its id, so a replaced template keeps its place.
UPSERT_TEMPLATE = _insert("templates", codec.TEMPLATE_COLUMNS) + (
    " ON CONFLICT (person_id, name) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in codec.TEMPLATE_COLUMNS[2:])
)
UPSERT_EXCEPTION = _insert("policy_exceptions", codec.EXCEPTION_COLUMNS) + (
    " ON CONFLICT (subject_key, rule) DO UPDATE SET "
    "subject = excluded.subject, reason = excluded.reason, "
    "granted_by = excluded.granted_by, granted_at = excluded.granted_at"
)
UPSERT_CREDENTIAL = _insert("sip_credentials", codec.CREDENTIAL_COLUMNS) + (
    " ON CONFLICT (user) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in codec.CREDENTIAL_COLUMNS[1:])
)
INSERT_AUDIT = _insert("audit", audit_words.AUDIT_COLUMNS)


def entry(
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    detail: Words | str,
    changes: Sequence[ChangeWords | Change] = (),
    decision: AuditDecision = AuditDecision.ALLOWED,
) -> AuditRow:
    """One audit row, with the origin of the write under way (``store.origin``).

    ``detail`` and ``changes`` as words (issue 16): the row keeps them for the pages, and
    its English ``detail`` and changes are rendered from them (``audit_english``). A plain
    English ``detail`` writes no words; a plain ``Change`` has none in the row."""
    origin = current_origin()
    said = None
    if not isinstance(detail, str):
        said = EntryWords(detail, tuple(c if isinstance(c, ChangeWords) else None for c in changes))
    english = [c if isinstance(c, Change) else audit_words.english_change(c) for c in changes]
    return (
        codec.iso(at),
        actor,
        action,
        subject,
        audit_english.english(detail),
        decision.value,
        origin.via,
        origin.source,
        origin.request_id,
        audit_words.changes_json(english),
        audit_english.words_json(said),
    )


def person_action(old: Person | None) -> str:
    return "person_created" if old is None else "person_updated"


@dataclass(frozen=True, slots=True)
class ImportDiff:
    """What an import changes against the stored people, and its audit entries: the same
    for every backend."""

    changes: list[tuple[Person | None, Person]]
    """(stored, new) for each person created or changed; unchanged ones are left out."""
    created: int
    updated: int
    unchanged: int
    entries: list[AuditRow]

    @property
    def summary(self) -> Words:
        return import_summary(self.created, self.updated, self.unchanged)


def import_diff(
    existing: Mapping[str, Person], people: Sequence[Person], actor: str, at: datetime
) -> ImportDiff:
    changes = [(existing.get(p.person_id), p) for p in people]
    changes = [(old, new) for old, new in changes if old != new]
    created = sum(1 for old, _ in changes if old is None)
    entries = [
        entry(
            at,
            actor,
            person_action(old),
            new.person_id,
            audit_words.person_change(old, new),
            audit_words.person_changes(old, new),
        )
        for old, new in changes
    ]
    return ImportDiff(changes, created, len(changes) - created, len(people) - len(changes), entries)


def finish(conn: sqlite3.Connection, entries: Sequence[AuditRow]) -> int:
    """Append the audit entries and bump the version, inside the caller's transaction."""
    conn.executemany(INSERT_AUDIT, entries)
    conn.execute("UPDATE store_version SET version = version + 1 WHERE id = 1")
    return current_version(conn)


def record(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    detail: Words | str,
    changes: Sequence[ChangeWords | Change] = (),
) -> int:
    """``finish`` for the common write with one audit entry; returns the new version."""
    return finish(conn, [entry(at, actor, action, subject, detail, changes)])


def current_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT version FROM store_version WHERE id = 1").fetchone()[0])


def get_person(conn: sqlite3.Connection, person_id: str) -> Person | None:
    row = conn.execute("SELECT * FROM people WHERE person_id = ?", (person_id,)).fetchone()
    return None if row is None else codec.person_from_row(row)


def require_person(conn: sqlite3.Connection, person_id: str) -> None:
    if conn.execute("SELECT 1 FROM people WHERE person_id = ?", (person_id,)).fetchone() is None:
        raise NotFoundError(f"person {person_id}")


def person_templates(conn: sqlite3.Connection, person_id: str) -> tuple[Template, ...]:
    rows = conn.execute("SELECT * FROM templates WHERE person_id = ? ORDER BY id", (person_id,))
    return tuple(codec.template_from_row(r) for r in rows)


def all_exceptions(conn: sqlite3.Connection) -> tuple[PolicyException, ...]:
    rows = conn.execute("SELECT * FROM policy_exceptions ORDER BY id")
    return tuple(codec.exception_from_row(r) for r in rows)


def write_people(
    conn: sqlite3.Connection, changes: Sequence[tuple[Person | None, Person]]
) -> list[tuple[str, str]]:
    """Insert or update people in place (an update keeps their availability rows).

    The extensions and addresses of the people being renumbered are freed first, so two
    people may swap them in one write: SQLite checks UNIQUE per statement, not per commit.
    A renumbered person's SIP credential is deleted (it was for the old extension); the
    (person_id, extension) pairs whose credential went are returned for audit and events.
    """
    renumbered = [
        new.person_id for old, new in changes if old is not None and old.extension != new.extension
    ]
    dropped = [pair for person_id in renumbered for pair in person_credentials(conn, person_id)]
    conn.executemany(
        "DELETE FROM sip_credentials WHERE person_id = ?", [(pid,) for pid in renumbered]
    )
    freed = [
        (new.person_id,)
        for old, new in changes
        if old is not None and (old.extension != new.extension or old.email != new.email)
    ]
    conn.executemany(
        "UPDATE people SET extension = NULL, email = NULL, email_key = NULL WHERE person_id = ?",
        freed,
    )
    for old, new in changes:
        row = codec.person_row(new)
        try:
            if old is None:
                conn.execute(INSERT_PERSON, row)
            else:
                conn.execute(UPDATE_PERSON, (*row[1:], row[0]))
        except sqlite3.IntegrityError as exc:
            raise conflict(conn, new, exc) from exc
    return dropped


def person_credentials(conn: sqlite3.Connection, person_id: str) -> list[tuple[str, str]]:
    """(person_id, extension) for each SIP credential ``person_id`` holds (0 or 1)."""
    rows = conn.execute("SELECT user FROM sip_credentials WHERE person_id = ?", (person_id,))
    return [(person_id, r[0]) for r in rows]


def all_credentials(conn: sqlite3.Connection) -> dict[str, SipCredential]:
    rows = conn.execute("SELECT * FROM sip_credentials ORDER BY user")
    return {r["user"]: codec.credential_from_row(r) for r in rows}


def credential_dropped(at: datetime, actor: str, person_id: str, user: str, why: Words) -> AuditRow:
    """The audit entry for a credential that went (``why``: ``EXTENSION_CHANGED`` or
    ``SIP_REMOVED``)."""
    change = audit_words.changed("sip_password", audit_words.presence(True), "")
    detail = say("audit.say.extension", extension=code(user)) + why
    return entry(at, actor, "sip_credential_removed", person_id, detail, (change,))


EXTENSION_CHANGED = say("audit.say.extension_changed")
SIP_REMOVED = say("audit.say.sip_removed")


def import_summary(created: int, updated: int, unchanged: int) -> Words:
    return say(
        "audit.say.imported",
        created=audit_english.count(created),
        updated=audit_english.count(updated),
        unchanged=audit_english.count(unchanged),
    )


# -- what a write replaces, read in its transaction for the audit's old values ---------------
def manual_status(conn: sqlite3.Connection, person_id: str) -> ManualStatus | None:
    row = conn.execute("SELECT * FROM manual_status WHERE person_id = ?", (person_id,)).fetchone()
    return None if row is None else codec.manual_from_row(row)


def calendar_segments(
    conn: sqlite3.Connection, person_id: str, source: str
) -> tuple[CalendarSegment, ...]:
    rows = conn.execute(
        "SELECT * FROM calendar_segments WHERE person_id = ? AND source = ? ORDER BY position",
        (person_id, source),
    )
    return tuple(codec.segment_from_row(r) for r in rows)


def template(conn: sqlite3.Connection, person_id: str, name: str) -> Template | None:
    row = conn.execute(
        "SELECT * FROM templates WHERE person_id = ? AND name = ?", (person_id, name)
    ).fetchone()
    return None if row is None else codec.template_from_row(row)


def exception_reason(conn: sqlite3.Connection, subject: str, rule: str) -> str | None:
    row = conn.execute(
        "SELECT reason FROM policy_exceptions WHERE subject_key = ? AND rule = ?",
        (codec.subject_key(subject), rule),
    ).fetchone()
    return None if row is None else str(row[0])


def conflict(conn: sqlite3.Connection, person: Person, exc: sqlite3.IntegrityError) -> StoreError:
    """Name the value two people may not share, found by asking the table who holds it."""
    if person.extension is not None:
        row = conn.execute(
            "SELECT person_id FROM people WHERE extension = ? AND person_id <> ?",
            (person.extension, person.person_id),
        ).fetchone()
        if row is not None:
            return StoreError(
                f"extension {person.extension} already belongs to {row[0]}, "
                f"so {person.person_id} cannot have it too"
            )
    if person.email is not None:
        row = conn.execute(
            "SELECT person_id FROM people WHERE email_key = ? AND person_id <> ?",
            (codec.email_key(person.email), person.person_id),
        ).fetchone()
        if row is not None:
            return StoreError(
                f"e-mail address {person.email} already belongs to {row[0]}, "
                f"so {person.person_id} cannot have it too"
            )
    return StoreError(f"person {person.person_id} cannot be saved: {exc}")
