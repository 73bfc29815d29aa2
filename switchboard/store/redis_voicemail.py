"""Voicemail metadata, taken messages and voicemail PINs in Redis (issue 5; R11, R18, R20).

The ``VoicemailStore`` part of ``RedisStore``, with the rules of ``sqlite_voicemail``:
audited with the person as subject (never a number or a message's text), no version, and
each change to recorded messages emits a ``VoicemailChanged`` with the person's counts on
the change feed. Messages are a hash by id (each names its person) with a set of ids per
person; the audio is a spool file, not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from switchboard.events import VoicemailChanged
from switchboard.store import audit_english, audit_phrases, codec, tables
from switchboard.store.audit import Words
from switchboard.store.protocol import NotFoundError, StoreError
from switchboard.store.redis_base import RedisBase
from switchboard.store.redis_keys import dump, encode, load, micros
from switchboard.store.redis_tx import Tx
from switchboard.store.sqlite_voicemail import taken_from_row, voice_from_row
from switchboard.voicemail.model import EmailStatus, Recording, TakenMessage, VoiceMessage

VOICE_COLUMNS = ("message_id", "person_id", "received_at", "caller", "duration_ms", "heard")
TAKEN_COLUMNS = (
    "message_id",
    "person_id",
    "taken_at",
    "taken_by",
    "caller_name",
    "caller_number",
    "text",
    "call_back",
    "email",
)


def _voice_json(m: VoiceMessage) -> str:
    if m.duration_ms < 0:
        raise StoreError(f"voicemail {m.message_id} has a negative duration")
    row = (m.message_id, m.person_id, codec.iso(m.received_at), m.caller, m.duration_ms, 0)
    return encode(VOICE_COLUMNS, row)


def _newest_first(stamp: str) -> Any:
    return lambda fields: (-micros(codec.instant(fields[stamp])), fields["message_id"])


class RedisVoicemail(RedisBase):
    # -- recorded messages -----------------------------------------------------------------
    async def add_voice_message(self, message: VoiceMessage, actor: str) -> None:
        k = self._keys
        person_id = message.person_id
        text = _voice_json(message)

        async def body(tx: Tx) -> None:
            await self._require_person(tx, person_id)
            if await tx.read("HEXISTS", k.voice, message.message_id):
                raise StoreError(f"voicemail {message.message_id} exists already")
            stored = await self._voice_of(tx, person_id)
            tx.write("HSET", k.voice, message.message_id, text)
            tx.write("SADD", k.person_voice(person_id), message.message_id)
            detail = audit_phrases.voicemail_received(message.message_id, message.duration_ms)
            change = audit_phrases.voicemail_change(
                message.message_id, "", audit_english.value("new")
            )
            entry = tables.entry(
                message.received_at, actor, "voicemail_received", person_id, detail, (change,)
            )
            tx.audit(entry)
            tx.emit(_counts(person_id, [*stored, load(text, "voicemail")]))

        what = f"store a voicemail for {person_id}"
        await self._write(what, body, watch=[k.voice, k.person_voice(person_id)])

    async def voice_messages(self, person_id: str) -> list[VoiceMessage]:
        what = f"read the voicemail of {person_id}"
        ids = await self._call(what, "SMEMBERS", self._keys.person_voice(person_id))
        if not ids:
            return []
        texts = await self._call(what, "HMGET", self._keys.voice, *sorted(ids))
        found = [load(t, "voicemail") for t in texts if t is not None]
        return [voice_from_row(f) for f in sorted(found, key=_newest_first("received_at"))]

    async def voice_message(self, person_id: str, message_id: str) -> VoiceMessage | None:
        text = await self._call("read a voicemail", "HGET", self._keys.voice, message_id)
        fields = None if text is None else load(text, "voicemail")
        if fields is None or fields["person_id"] != person_id:
            return None
        return voice_from_row(fields)

    async def voice_message_ids(self) -> set[str]:
        return set(await self._call("list the voicemail ids", "HKEYS", self._keys.voice))

    async def voicemail_counts(self) -> dict[str, tuple[int, int]]:
        stored = await self._call("count the voicemail", "HVALS", self._keys.voice)
        counts: dict[str, tuple[int, int]] = {}
        for text in stored:
            fields = load(text, "voicemail")
            new, heard = counts.get(fields["person_id"], (0, 0))
            counts[fields["person_id"]] = (new, heard + 1) if fields["heard"] else (new + 1, heard)
        return counts

    async def mark_voice_message(
        self, person_id: str, message_id: str, heard: bool, actor: str, at: datetime
    ) -> VoiceMessage:
        k = self._keys

        async def body(tx: Tx) -> VoiceMessage:
            stored = await self._voice_of(tx, person_id)
            old = next((f for f in stored if f["message_id"] == message_id), None)
            if old is None:
                raise NotFoundError(f"voicemail {message_id} of {person_id}")
            was = bool(old["heard"])
            old["heard"] = int(heard)
            tx.write("HSET", k.voice, message_id, dump(old))
            state = "heard" if heard else "unheard"
            change = audit_phrases.heard_change(bool(was), heard)
            detail = audit_phrases.voicemail_state(message_id, state)
            tx.audit(tables.entry(at, actor, f"voicemail_{state}", person_id, detail, (change,)))
            tx.emit(_counts(person_id, stored))
            return voice_from_row(old)

        what = f"mark a voicemail of {person_id}"
        return await self._write(what, body, watch=[k.voice, k.person_voice(person_id)])

    async def delete_voice_message(
        self, person_id: str, message_id: str, actor: str, at: datetime
    ) -> None:
        k = self._keys

        async def body(tx: Tx) -> None:
            stored = await self._voice_of(tx, person_id)
            old = next((f for f in stored if f["message_id"] == message_id), None)
            if old is None:
                raise NotFoundError(f"voicemail {message_id} of {person_id}")
            tx.write("HDEL", k.voice, message_id)
            tx.write("SREM", k.person_voice(person_id), message_id)
            change = audit_phrases.voicemail_change(
                message_id, audit_english.value("heard" if old["heard"] else "new"), ""
            )
            detail = audit_phrases.voicemail_state(message_id, "deleted")
            tx.audit(tables.entry(at, actor, "voicemail_deleted", person_id, detail, (change,)))
            tx.emit(_counts(person_id, [f for f in stored if f is not old]))

        what = f"delete a voicemail of {person_id}"
        await self._write(what, body, watch=[k.voice, k.person_voice(person_id)])

    async def audit_recording(
        self, person_id: str, action: str, detail: Words | str, actor: str, at: datetime
    ) -> None:
        """Greetings and name clips are files only; their changes are audited here (R12)."""
        recording = next((r for r in Recording if action in (r.set_action, r.deleted_action)), None)
        if recording is None:
            raise StoreError(f"not a greeting or name clip action: {action!r}")
        set_ = action == recording.set_action
        changes = (audit_phrases.recording_change(recording.value, set_),)
        row = tables.entry(at, actor, action, person_id, detail, changes)

        async def body(tx: Tx) -> None:
            tx.audit(row)

        await self._write(f"audit the {recording.spoken} of {person_id}", body)

    # -- the PIN for listening from outside --------------------------------------------------
    async def voicemail_pin(self, person_id: str) -> str | None:
        what = f"read the voicemail PIN of {person_id}"
        text = await self._call(what, "HGET", self._keys.pins, person_id)
        return None if text is None else str(load(text, "voicemail PIN")["pin_hash"])

    async def set_voicemail_pin(
        self, person_id: str, pin_hash: str | None, actor: str, at: datetime
    ) -> None:
        k = self._keys

        async def body(tx: Tx) -> None:
            if pin_hash is None:
                if not await tx.read("HEXISTS", k.pins, person_id):
                    raise NotFoundError(f"voicemail PIN of {person_id}")
                tx.write("HDEL", k.pins, person_id)
                action, detail = "voicemail_pin_removed", audit_phrases.VOICEMAIL_PIN_REMOVED
            else:
                await self._require_person(tx, person_id)
                stored = dump({"pin_hash": pin_hash, "set_at": codec.iso(at)})
                tx.write("HSET", k.pins, person_id, stored)
                action, detail = "voicemail_pin_set", audit_phrases.VOICEMAIL_PIN_SET
            tx.audit(tables.entry(at, actor, action, person_id, detail))

        what = f"set the voicemail PIN of {person_id}"
        await self._write(what, body, watch=[k.pins])

    # -- taken messages --------------------------------------------------------------------
    async def add_taken_message(self, message: TakenMessage) -> None:
        k = self._keys
        m = message
        row = (
            m.message_id,
            m.person_id,
            codec.iso(m.taken_at),
            m.taken_by,
            m.caller_name,
            m.caller_number,
            m.text,
            int(m.call_back),
            m.email.value,
        )

        async def body(tx: Tx) -> None:
            await self._require_person(tx, m.person_id)
            if await tx.read("HEXISTS", k.taken, m.message_id):
                raise StoreError(f"message {m.message_id} exists already")
            tx.write("HSET", k.taken, m.message_id, encode(TAKEN_COLUMNS, row))
            tx.write("SADD", k.person_taken(m.person_id), m.message_id)
            # Never the text or the number: the audit trail is read by administrators.
            change = audit_phrases.message_taken_change(m.message_id, m.email)
            detail = audit_phrases.message_taken(m.message_id)
            entry = tables.entry(
                m.taken_at, m.taken_by, "message_taken", m.person_id, detail, (change,)
            )
            tx.audit(entry)

        what = f"store a message for {m.person_id}"
        await self._write(what, body, watch=[k.taken])

    async def taken_messages(self, person_id: str) -> list[TakenMessage]:
        what = f"read the messages of {person_id}"
        ids = await self._call(what, "SMEMBERS", self._keys.person_taken(person_id))
        if not ids:
            return []
        texts = await self._call(what, "HMGET", self._keys.taken, *sorted(ids))
        found = [load(t, "message") for t in texts if t is not None]
        return [taken_from_row(f) for f in sorted(found, key=_newest_first("taken_at"))]

    async def set_taken_message_email(
        self, message_id: str, status: EmailStatus, actor: str, at: datetime
    ) -> None:
        k = self._keys

        async def body(tx: Tx) -> None:
            text = await tx.read("HGET", k.taken, message_id)
            if text is None:
                raise NotFoundError(f"message {message_id}")
            fields = load(text, "message")
            was = str(fields["email"])
            fields["email"] = status.value
            tx.write("HSET", k.taken, message_id, dump(fields))
            detail = audit_phrases.message_emailed(message_id, status)
            change = audit_phrases.email_change(str(was), status)
            person_id = str(fields["person_id"])
            tx.audit(tables.entry(at, actor, "message_emailed", person_id, detail, (change,)))

        what = f"record the e-mail of message {message_id}"
        await self._write(what, body, watch=[k.taken])

    # -- plumbing --------------------------------------------------------------------------
    async def _voice_of(self, tx: Tx, person_id: str) -> list[dict[str, Any]]:
        """The person's stored messages, as fields (their set and the hash WATCHed)."""
        ids = await tx.read("SMEMBERS", self._keys.person_voice(person_id))
        if not ids:
            return []
        texts = await tx.read("HMGET", self._keys.voice, *sorted(ids))
        return [load(t, "voicemail") for t in texts if t is not None]


def _counts(person_id: str, stored: Sequence[dict[str, Any]]) -> VoicemailChanged:
    heard = sum(1 for f in stored if f["heard"])
    return VoicemailChanged(person_id, len(stored) - heard, heard)
