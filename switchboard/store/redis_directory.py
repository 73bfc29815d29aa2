"""People and their SIP credentials in Redis: the directory part of ``RedisStore``.

People are one hash (person_id -> the person's columns as JSON), with two index hashes that
keep an extension and an e-mail address (lower-cased, ``codec.email_key``) to one person
each: what SQLite's UNIQUE columns do. A write works out the indexes as SQLite's statements
would leave them (``write_people``: the renumbered are freed first, then everyone is
written in order, so two people may swap extensions in one import) and refuses the whole
write, naming who holds the value, when two people would share one. Credentials are a hash
by extension; each names its person, and goes when they go or are renumbered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from switchboard.directory.credentials import SipCredential
from switchboard.directory.model import Person
from switchboard.events import (
    DirectoryImported,
    PersonRemoved,
    PersonSaved,
    SipCredentialChanged,
)
from switchboard.store import audit_phrases, audit_words, codec, tables
from switchboard.store.protocol import ImportResult, NotFoundError, StoreError
from switchboard.store.redis_base import RedisBase
from switchboard.store.redis_keys import dump, encode, load
from switchboard.store.redis_tx import Tx

Index = dict[str, str | None]
"""An index hash's fields as a write sees them: value -> person_id (None: free)."""


def person_from_json(text: str) -> Person:
    return codec.person_from_row(load(text, "person"))


def _taken(what: str, value: str, holder: str, person_id: str) -> StoreError:
    return StoreError(
        f"{what} {value} already belongs to {holder}, so {person_id} cannot have it too"
    )


class RedisDirectory(RedisBase):
    async def import_people(self, people: list[Person], actor: str, at: datetime) -> ImportResult:
        seen: set[str] = set()
        for person in people:
            if person.person_id in seen:
                raise StoreError(f"the import lists person {person.person_id} more than once")
            seen.add(person.person_id)

        async def body(tx: Tx) -> ImportResult:
            stored = await tx.read("HGETALL", self._keys.people)
            existing = {pid: person_from_json(text) for pid, text in stored.items()}
            diff = tables.import_diff(existing, people, actor, at)
            changes, entries = diff.changes, diff.entries
            created, updated, unchanged = diff.created, diff.updated, diff.unchanged
            summary = diff.summary
            dropped = await self._write_people(tx, changes)
            entries.extend(
                tables.credential_dropped(at, actor, pid, user, tables.EXTENSION_CHANGED)
                for pid, user in dropped
            )
            entries.append(tables.entry(at, actor, "directory_imported", "directory", summary))
            tx.audit(*entries)
            if not changes:
                return ImportResult(created, updated, unchanged, tx.read_version)
            version = tx.bump()
            tx.emit(
                *(PersonSaved(version, new) for _, new in changes),
                *(SipCredentialChanged(version, user, None) for _, user in dropped),
                DirectoryImported(version, created, updated, unchanged),
            )
            return ImportResult(created, updated, unchanged, version)

        return await self._write("import the directory", body, watch=self._directory_keys())

    async def save_person(self, person: Person, actor: str, at: datetime) -> int:
        async def body(tx: Tx) -> int:
            text = await tx.read("HGET", self._keys.people, person.person_id)
            old = None if text is None else person_from_json(text)
            dropped = await self._write_people(tx, [(old, person)])
            detail = audit_words.person_change(old, person)
            changes = audit_words.person_changes(old, person)
            action = tables.person_action(old)
            tx.audit(tables.entry(at, actor, action, person.person_id, detail, changes))
            tx.audit(
                *(
                    tables.credential_dropped(at, actor, pid, user, tables.EXTENSION_CHANGED)
                    for pid, user in dropped
                )
            )
            version = tx.bump()
            tx.emit(PersonSaved(version, person))
            tx.emit(*(SipCredentialChanged(version, user, None) for _, user in dropped))
            return version

        what = f"save person {person.person_id}"
        return await self._write(what, body, watch=self._directory_keys())

    async def remove_person(self, person_id: str, actor: str, at: datetime) -> int:
        k = self._keys

        async def body(tx: Tx) -> int:
            text = await tx.read("HGET", k.people, person_id)
            if text is None:
                raise NotFoundError(f"person {person_id}")
            old = person_from_json(text)
            dropped = await self._credentials_of(tx, [(person_id, old.extension)])
            tx.write("HDEL", k.people, person_id)
            if old.extension:
                tx.write("HDEL", k.by_extension, old.extension)
            if old.email:
                tx.write("HDEL", k.by_email, codec.email_key(old.email))
            for key in (k.manual, k.plans, k.calendar, k.templates, k.pins, k.own):
                tx.write("HDEL", key, person_id)
            if dropped:
                tx.write("HDEL", k.credentials, *(user for _, user in dropped))
            await self._forget_messages(tx, person_id)
            await self._untie_accounts(tx, person_id)
            detail = audit_phrases.person_removed(bool(dropped))
            changes = audit_words.person_changes(old, None)
            tx.audit(tables.entry(at, actor, "person_removed", person_id, detail, changes))
            version = tx.bump()
            tx.emit(PersonRemoved(version, person_id))
            tx.emit(*(SipCredentialChanged(version, user, None) for _, user in dropped))
            return version

        watch = [*self._directory_keys(), k.manual, k.plans, k.calendar, k.templates, k.pins, k.own]
        watch.append(k.accounts)
        watch += [k.voice, k.taken, k.person_voice(person_id), k.person_taken(person_id)]
        return await self._write(f"remove person {person_id}", body, watch=watch)

    # --- SIP credentials ------------------------------------------------------------------

    async def sip_credentials(self) -> dict[str, SipCredential]:
        stored = await self._call("read the SIP credentials", "HGETALL", self._keys.credentials)
        return _credentials(stored)

    async def set_sip_credential(self, credential: SipCredential, actor: str, at: datetime) -> int:
        user = credential.user
        k = self._keys

        async def body(tx: Tx) -> int:
            holder = await tx.read("HGET", k.by_extension, user)
            if holder is None:
                raise NotFoundError(f"a person with extension {user}")
            had = await tx.read("HEXISTS", k.credentials, user)
            row = codec.credential_row(holder, credential, at)
            tx.write("HSET", k.credentials, user, encode(codec.CREDENTIAL_COLUMNS, row))
            # Never the hashes (an HA1 is a password equivalent for this realm).
            detail = audit_phrases.sip_set(user, credential.sha256_only)
            change = audit_phrases.sip_set_change(had)
            tx.audit(tables.entry(at, actor, "sip_credential_set", holder, detail, (change,)))
            version = tx.bump()
            tx.emit(SipCredentialChanged(version, user, credential))
            return version

        what = f"set the SIP password of extension {user}"
        return await self._write(what, body, watch=[k.by_extension, k.credentials])

    async def remove_sip_credential(self, user: str, actor: str, at: datetime) -> int:
        async def body(tx: Tx) -> int:
            text = await tx.read("HGET", self._keys.credentials, user)
            if text is None:
                raise NotFoundError(f"a SIP password for extension {user}")
            holder = str(load(text, "SIP credential")["person_id"])
            tx.write("HDEL", self._keys.credentials, user)
            tx.audit(tables.credential_dropped(at, actor, holder, user, tables.SIP_REMOVED))
            version = tx.bump()
            tx.emit(SipCredentialChanged(version, user, None))
            return version

        what = f"remove the SIP password of extension {user}"
        return await self._write(what, body, watch=[self._keys.credentials])

    # --- plumbing -------------------------------------------------------------------------

    def _directory_keys(self) -> list[str]:
        k = self._keys
        return [k.people, k.by_extension, k.by_email, k.credentials]

    async def _write_people(
        self, tx: Tx, changes: Sequence[tuple[Person | None, Person]]
    ) -> list[tuple[str, str]]:
        """Queue the people and their index entries; the (person_id, extension) pairs whose
        credential went with a new extension (``tables.write_people``, in Redis)."""
        k = self._keys
        renumbered = [
            (new.person_id, old.extension)
            for old, new in changes
            if old is not None and old.extension != new.extension
        ]
        dropped = await self._credentials_of(tx, renumbered)
        if dropped:
            tx.write("HDEL", k.credentials, *(user for _, user in dropped))
        extensions = await self._index(
            tx, k.by_extension, [(o.extension if o else None, n.extension) for o, n in changes]
        )
        emails = await self._index(
            tx,
            k.by_email,
            [
                (codec.email_key(o.email if o else None), codec.email_key(n.email))
                for o, n in changes
            ],
        )
        before = (dict(extensions), dict(emails))
        # Free what the renumbered (or re-addressed) held, as SQLite's first UPDATE does.
        for old, new in changes:
            if old is None or (old.extension == new.extension and old.email == new.email):
                continue
            if old.extension and extensions.get(old.extension) == old.person_id:
                extensions[old.extension] = None
            key = codec.email_key(old.email)
            if key and emails.get(key) == old.person_id:
                emails[key] = None
        for _, new in changes:
            row = codec.person_row(new)
            if new.extension:
                holder = extensions.get(new.extension)
                if holder not in (None, new.person_id):
                    raise _taken("extension", new.extension, str(holder), new.person_id)
                extensions[new.extension] = new.person_id
            key = codec.email_key(new.email)
            if key and new.email:
                holder = emails.get(key)
                if holder not in (None, new.person_id):
                    raise _taken("e-mail address", new.email, str(holder), new.person_id)
                emails[key] = new.person_id
            tx.write("HSET", k.people, new.person_id, encode(codec.PERSON_COLUMNS, row))
        _queue_index(tx, k.by_extension, before[0], extensions)
        _queue_index(tx, k.by_email, before[1], emails)
        return dropped

    @staticmethod
    async def _index(tx: Tx, key: str, pairs: Sequence[tuple[str | None, str | None]]) -> Index:
        """The index entries a write may touch: each change's old and new value."""
        fields = sorted({value for pair in pairs for value in pair if value})
        if not fields:
            return {}
        holders = await tx.read("HMGET", key, *fields)
        return dict(zip(fields, holders, strict=True))

    async def _credentials_of(
        self, tx: Tx, held: Sequence[tuple[str, str | None]]
    ) -> list[tuple[str, str]]:
        """(person_id, extension) for each of ``held`` whose extension has a credential of
        that person."""
        wanted = [(pid, ext) for pid, ext in held if ext]
        if not wanted:
            return []
        texts = await tx.read("HMGET", self._keys.credentials, *(ext for _, ext in wanted))
        return [
            (pid, ext)
            for (pid, ext), text in zip(wanted, texts, strict=True)
            if text is not None and load(text, "SIP credential")["person_id"] == pid
        ]

    async def _forget_messages(self, tx: Tx, person_id: str) -> None:
        """Queue the removal of a person's voicemail and taken messages (SQLite's cascade)."""
        k = self._keys
        for hash_key, index in ((k.voice, k.person_voice), (k.taken, k.person_taken)):
            ids = await tx.read("SMEMBERS", index(person_id))
            if ids:
                tx.write("HDEL", hash_key, *sorted(ids))
            tx.write("DEL", index(person_id))

    async def _untie_accounts(self, tx: Tx, person_id: str) -> None:
        """Accounts of a person who leaves stay, tied to nobody (SQLite's SET NULL)."""
        stored = await tx.read("HGETALL", self._keys.accounts)
        for account_id, text in stored.items():
            fields = load(text, "account")
            if fields.get("person_id") == person_id:
                fields["person_id"] = None
                tx.write("HSET", self._keys.accounts, account_id, dump(fields))


def _queue_index(tx: Tx, key: str, before: Index, after: Index) -> None:
    gone = [value for value, holder in after.items() if holder is None and before.get(value)]
    if gone:
        tx.write("HDEL", key, *gone)
    for value, holder in after.items():
        if holder is not None and before.get(value) != holder:
            tx.write("HSET", key, value, holder)


def _credentials(stored: dict[str, str]) -> dict[str, SipCredential]:
    return {
        user: codec.credential_from_row(load(stored[user], "SIP credential"))
        for user in sorted(stored)
    }
