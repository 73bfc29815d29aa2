"""The ``VoicemailStore`` half of the SQLite store: voicemail metadata and taken messages.

A mixin of ``SqliteStore`` like ``sqlite_calls``: same connection, same ``BEGIN IMMEDIATE``
transactions, same audit trail; no version bump (no node holds voicemail in its live view;
the pages read it per request), but each change of a person's messages emits a
``VoicemailChanged`` on the change feed, which every process's message-waiting lights and
open inboxes follow. The audio is not here: it is a spool file
(``switchboard.voicemail.spool``), written before its row exists and deleted after its row
is gone, so a row always has its file. Caller numbers are E.164 or ``secret`` (R18), and
audit details never hold a number or a message's text.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from switchboard.events import VoicemailChanged
from switchboard.store import audit_english, audit_phrases, codec, tables
from switchboard.store.audit import ChangeWords, Words
from switchboard.store.protocol import NotFoundError, StoreError
from switchboard.store.sqlite_part import SqlitePart
from switchboard.voicemail.model import EmailStatus, Recording, TakenMessage, VoiceMessage

INSERT_VOICE = (
    "INSERT INTO voice_messages (message_id, person_id, received_at, caller, duration_ms, "
    "heard) VALUES (?, ?, ?, ?, ?, 0)"
)
INSERT_TAKEN = (
    "INSERT INTO taken_messages (message_id, person_id, taken_at, taken_by, caller_name, "
    "caller_number, text, call_back, email) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def voice_from_row(r: codec.Fields) -> VoiceMessage:
    return VoiceMessage(
        message_id=r["message_id"],
        person_id=r["person_id"],
        received_at=codec.instant(r["received_at"]),
        caller=r["caller"],
        duration_ms=int(r["duration_ms"]),
        heard=bool(r["heard"]),
    )


def taken_from_row(r: codec.Fields) -> TakenMessage:
    return TakenMessage(
        message_id=r["message_id"],
        person_id=r["person_id"],
        taken_at=codec.instant(r["taken_at"]),
        taken_by=r["taken_by"],
        caller_name=r["caller_name"],
        caller_number=r["caller_number"],
        text=r["text"],
        call_back=bool(r["call_back"]),
        email=EmailStatus(r["email"]),
    )


class SqliteVoicemail(SqlitePart):
    """Mixed into ``SqliteStore``, which provides the two transaction helpers."""

    # -- recorded messages -----------------------------------------------------------------
    async def add_voice_message(self, message: VoiceMessage, actor: str) -> None:
        async with self._writing(f"store a voicemail for {message.person_id}") as conn:
            tables.require_person(conn, message.person_id)
            try:
                conn.execute(
                    INSERT_VOICE,
                    (
                        message.message_id,
                        message.person_id,
                        codec.iso(message.received_at),
                        message.caller,
                        message.duration_ms,
                    ),
                )
            except sqlite3.IntegrityError:
                raise StoreError(f"voicemail {message.message_id} exists already") from None
            detail = audit_phrases.voicemail_received(message.message_id, message.duration_ms)
            change = audit_phrases.voicemail_change(
                message.message_id, "", audit_english.value("new")
            )
            _audit(conn, message.received_at, actor, "voicemail_received", message, detail, change)
            changed = _counts(conn, message.person_id)
            self._emit(conn, changed)

    async def voice_messages(self, person_id: str) -> list[VoiceMessage]:
        with self._reading(f"read the voicemail of {person_id}") as conn:
            rows = conn.execute(
                "SELECT * FROM voice_messages WHERE person_id = ? "
                "ORDER BY received_at DESC, message_id",
                (person_id,),
            )
            return [voice_from_row(r) for r in rows]

    async def voice_message(self, person_id: str, message_id: str) -> VoiceMessage | None:
        with self._reading("read a voicemail") as conn:
            return _voice(conn, person_id, message_id)

    async def voice_message_ids(self) -> set[str]:
        with self._reading("list the voicemail ids") as conn:
            return {r[0] for r in conn.execute("SELECT message_id FROM voice_messages")}

    async def voicemail_counts(self) -> dict[str, tuple[int, int]]:
        with self._reading("count the voicemail") as conn:
            rows = conn.execute(
                "SELECT person_id, SUM(heard = 0), SUM(heard != 0) FROM voice_messages "
                "GROUP BY person_id"
            )
            return {r[0]: (int(r[1]), int(r[2])) for r in rows}

    async def mark_voice_message(
        self, person_id: str, message_id: str, heard: bool, actor: str, at: datetime
    ) -> VoiceMessage:
        async with self._writing(f"mark a voicemail of {person_id}") as conn:
            old = _voice(conn, person_id, message_id)
            if old is None:
                raise NotFoundError(f"voicemail {message_id} of {person_id}")
            conn.execute(
                "UPDATE voice_messages SET heard = ? WHERE message_id = ?",
                (int(heard), message_id),
            )
            state = "heard" if heard else "unheard"
            change = audit_phrases.heard_change(old.heard, heard)
            detail = audit_phrases.voicemail_state(message_id, state)
            _audit(conn, at, actor, f"voicemail_{state}", old, detail, change)
            new = _voice(conn, person_id, message_id)
            if new is None:  # pragma: no cover - updated a moment ago in this transaction
                raise NotFoundError(f"voicemail {message_id} of {person_id}")
            changed = _counts(conn, person_id)
            self._emit(conn, changed)
        return new

    async def delete_voice_message(
        self, person_id: str, message_id: str, actor: str, at: datetime
    ) -> None:
        async with self._writing(f"delete a voicemail of {person_id}") as conn:
            old = _voice(conn, person_id, message_id)
            if old is None:
                raise NotFoundError(f"voicemail {message_id} of {person_id}")
            conn.execute("DELETE FROM voice_messages WHERE message_id = ?", (message_id,))
            change = audit_phrases.voicemail_change(
                message_id, audit_english.value("heard" if old.heard else "new"), ""
            )
            detail = audit_phrases.voicemail_state(message_id, "deleted")
            _audit(conn, at, actor, "voicemail_deleted", old, detail, change)
            changed = _counts(conn, person_id)
            self._emit(conn, changed)

    async def audit_recording(
        self, person_id: str, action: str, detail: Words | str, actor: str, at: datetime
    ) -> None:
        """Greetings and name clips are files only; their changes are audited here (R12)."""
        recording = next((r for r in Recording if action in (r.set_action, r.deleted_action)), None)
        if recording is None:
            raise StoreError(f"not a greeting or name clip action: {action!r}")
        # The recording is a file the spool replaced or removed: the trail says which way.
        set_ = action == recording.set_action
        changes = (audit_phrases.recording_change(recording.value, set_),)
        async with self._writing(f"audit the {recording.spoken} of {person_id}") as conn:
            row = tables.entry(at, actor, action, person_id, detail, changes)
            conn.execute(tables.INSERT_AUDIT, row)

    # -- the PIN for listening from outside --------------------------------------------------
    async def voicemail_pin(self, person_id: str) -> str | None:
        with self._reading(f"read the voicemail PIN of {person_id}") as conn:
            row = conn.execute(
                "SELECT pin_hash FROM voicemail_pins WHERE person_id = ?", (person_id,)
            ).fetchone()
            return None if row is None else str(row[0])

    async def set_voicemail_pin(
        self, person_id: str, pin_hash: str | None, actor: str, at: datetime
    ) -> None:
        async with self._writing(f"set the voicemail PIN of {person_id}") as conn:
            if pin_hash is None:
                gone = conn.execute("DELETE FROM voicemail_pins WHERE person_id = ?", (person_id,))
                if gone.rowcount == 0:
                    raise NotFoundError(f"voicemail PIN of {person_id}")
                action, detail = "voicemail_pin_removed", audit_phrases.VOICEMAIL_PIN_REMOVED
            else:
                tables.require_person(conn, person_id)
                conn.execute(
                    "INSERT INTO voicemail_pins (person_id, pin_hash, set_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (person_id) DO UPDATE SET "
                    "pin_hash = excluded.pin_hash, set_at = excluded.set_at",
                    (person_id, pin_hash, codec.iso(at)),
                )
                action, detail = "voicemail_pin_set", audit_phrases.VOICEMAIL_PIN_SET
            conn.execute(tables.INSERT_AUDIT, tables.entry(at, actor, action, person_id, detail))

    # -- taken messages --------------------------------------------------------------------
    async def add_taken_message(self, message: TakenMessage) -> None:
        async with self._writing(f"store a message for {message.person_id}") as conn:
            tables.require_person(conn, message.person_id)
            try:
                conn.execute(
                    INSERT_TAKEN,
                    (
                        message.message_id,
                        message.person_id,
                        codec.iso(message.taken_at),
                        message.taken_by,
                        message.caller_name,
                        message.caller_number,
                        message.text,
                        int(message.call_back),
                        message.email.value,
                    ),
                )
            except sqlite3.IntegrityError:
                raise StoreError(f"message {message.message_id} exists already") from None
            # Never the text or the number: the audit trail is read by administrators.
            detail = audit_phrases.message_taken(message.message_id)
            entry = tables.entry(
                message.taken_at,
                message.taken_by,
                "message_taken",
                message.person_id,
                detail,
                (audit_phrases.message_taken_change(message.message_id, message.email),),
            )
            conn.execute(tables.INSERT_AUDIT, entry)

    async def taken_messages(self, person_id: str) -> list[TakenMessage]:
        with self._reading(f"read the messages of {person_id}") as conn:
            rows = conn.execute(
                "SELECT * FROM taken_messages WHERE person_id = ? "
                "ORDER BY taken_at DESC, message_id",
                (person_id,),
            )
            return [taken_from_row(r) for r in rows]

    async def set_taken_message_email(
        self, message_id: str, status: EmailStatus, actor: str, at: datetime
    ) -> None:
        async with self._writing(f"record the e-mail of message {message_id}") as conn:
            row = conn.execute(
                "SELECT person_id, email FROM taken_messages WHERE message_id = ?", (message_id,)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"message {message_id}")
            conn.execute(
                "UPDATE taken_messages SET email = ? WHERE message_id = ?",
                (status.value, message_id),
            )
            detail = audit_phrases.message_emailed(message_id, status)
            change = audit_phrases.email_change(str(row[1]), status)
            entry = tables.entry(at, actor, "message_emailed", row[0], detail, (change,))
            conn.execute(tables.INSERT_AUDIT, entry)


def _counts(conn: sqlite3.Connection, person_id: str) -> VoicemailChanged:
    """New and heard messages of a person now, for the event that follows the commit."""
    row = conn.execute(
        "SELECT COALESCE(SUM(heard = 0), 0), COALESCE(SUM(heard != 0), 0) "
        "FROM voice_messages WHERE person_id = ?",
        (person_id,),
    ).fetchone()
    return VoicemailChanged(person_id, int(row[0]), int(row[1]))


def _voice(conn: sqlite3.Connection, person_id: str, message_id: str) -> VoiceMessage | None:
    row = conn.execute(
        "SELECT * FROM voice_messages WHERE message_id = ? AND person_id = ?",
        (message_id, person_id),
    ).fetchone()
    return None if row is None else voice_from_row(row)


def _audit(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    action: str,
    message: VoiceMessage,
    detail: Words,
    change: ChangeWords,
) -> None:
    row = tables.entry(at, actor, action, message.person_id, detail, (change,))
    conn.execute(tables.INSERT_AUDIT, row)
