"""The Store contract, part 6: voicemail metadata and taken messages (issue 5).

Same fixture as parts 1-5. Every write is audited with the person as subject and no number
or message text in the detail; nothing bumps the version; each committed change to recorded
messages publishes one unversioned ``VoicemailChanged`` with the person's counts (the
message-waiting light and the owner's inbox follow it), a refused one nothing; a message
is found only together with its own person; removing a person removes their rows.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from switchboard.events import VoicemailChanged
from switchboard.store.audit import Change
from switchboard.store.protocol import NotFoundError, StoreError
from switchboard.voicemail.model import SECRET, EmailStatus, TakenMessage, VoiceMessage
from tests.contract.conftest import Backend
from tests.contract.values import ADMIN, T0, person


def voice(n: int, person_id: str = "p1", caller: str | None = "+46311234567") -> VoiceMessage:
    return VoiceMessage(f"{n:032x}", person_id, T0 + timedelta(minutes=n), caller, 1000 * n)


def taken(n: int, person_id: str = "p1", number: str | None = SECRET) -> TakenMessage:
    return TakenMessage(
        f"{n:032x}",
        person_id,
        T0 + timedelta(minutes=n),
        "t.reception",
        f"Caller {n}",
        number,
        f"private words {n}",
        n % 2 == 0,
    )


@pytest.fixture
async def people(backend: Backend) -> Backend:
    await backend.store.import_people([person(1), person(2)], ADMIN, T0)
    backend.take_events()
    return backend


async def test_voice_messages_round_trip_newest_first(people: Backend) -> None:
    store = people.store
    version = await store.version()
    for message in (voice(1), voice(2, caller=SECRET), voice(3, caller=None), voice(4, "p2")):
        await store.add_voice_message(message, "voicemail")
    assert await store.voice_messages("p1") == [
        voice(3, caller=None),
        voice(2, caller=SECRET),
        voice(1),
    ]
    assert await store.voice_message("p1", voice(1).message_id) == voice(1)
    assert await store.voice_message("p2", voice(1).message_id) is None
    assert await store.voice_message_ids() == {voice(n).message_id for n in range(1, 5)}
    assert await store.version() == version
    assert people.events == [
        VoicemailChanged("p1", 1, 0),
        VoicemailChanged("p1", 2, 0),
        VoicemailChanged("p1", 3, 0),
        VoicemailChanged("p2", 1, 0),
    ]
    assert await store.voicemail_counts() == {"p1": (3, 0), "p2": (1, 0)}


async def test_voicemail_changes_carry_the_new_counts(people: Backend) -> None:
    store = people.store
    await store.add_voice_message(voice(1), "voicemail")
    await store.add_voice_message(voice(2), "voicemail")
    await store.mark_voice_message("p1", voice(1).message_id, True, "anna", T0)
    await store.delete_voice_message("p1", voice(2).message_id, "anna", T0)
    assert people.take_events()[-2:] == [VoicemailChanged("p1", 1, 1), VoicemailChanged("p1", 0, 1)]
    assert await store.voicemail_counts() == {"p1": (0, 1)}
    with pytest.raises(NotFoundError):
        await store.delete_voice_message("p2", voice(1).message_id, "p2", T0)
    assert people.take_events() == []


async def test_voice_message_writes_are_audited_without_numbers(people: Backend) -> None:
    store = people.store
    await store.add_voice_message(voice(1), "voicemail")
    heard = await store.mark_voice_message("p1", voice(1).message_id, True, "anna", T0)
    assert heard == replace(voice(1), heard=True)
    unheard = await store.mark_voice_message("p1", voice(1).message_id, False, "anna", T0)
    assert not unheard.heard
    await store.delete_voice_message("p1", voice(1).message_id, "anna", T0)
    assert await store.voice_messages("p1") == []
    entries = await store.audit(4, subject="p1")
    assert [e.action for e in entries] == [
        "voicemail_deleted",
        "voicemail_unheard",
        "voicemail_heard",
        "voicemail_received",
    ]
    assert [e.actor for e in entries] == ["anna", "anna", "anna", "voicemail"]
    assert all("1234567" not in e.detail for e in entries)


async def test_someone_elses_message_is_not_found_and_unchanged(people: Backend) -> None:
    store = people.store
    await store.add_voice_message(voice(1), "voicemail")
    audit = await store.audit(100)
    with pytest.raises(NotFoundError):
        await store.mark_voice_message("p2", voice(1).message_id, True, "p2", T0)
    with pytest.raises(NotFoundError):
        await store.delete_voice_message("p2", voice(1).message_id, "p2", T0)
    assert await store.voice_messages("p1") == [voice(1)]
    assert await store.audit(100) == audit


async def test_refused_voice_writes_change_nothing(people: Backend) -> None:
    store = people.store
    await store.add_voice_message(voice(1), "voicemail")
    audit = await store.audit(100)
    with pytest.raises(StoreError, match="exists already"):
        await store.add_voice_message(voice(1), "voicemail")
    with pytest.raises(NotFoundError):
        await store.add_voice_message(voice(2, "nobody"), "voicemail")
    assert await store.audit(100) == audit


async def test_taken_messages_round_trip_and_email_outcome(people: Backend) -> None:
    store = people.store
    version = await store.version()
    for message in (taken(1), taken(2, number="+46311234567"), taken(3, "p2", None)):
        await store.add_taken_message(message)
    assert await store.taken_messages("p1") == [taken(2, number="+46311234567"), taken(1)]
    await store.set_taken_message_email(taken(1).message_id, EmailStatus.FAILED, "t.r", T0)
    stored = await store.taken_messages("p1")
    assert stored[1] == replace(taken(1), email=EmailStatus.FAILED)
    with pytest.raises(NotFoundError):
        await store.set_taken_message_email("f" * 32, EmailStatus.SENT, "t.r", T0)
    entries = await store.audit(3, subject="p1")
    assert [e.action for e in entries] == ["message_emailed", "message_taken", "message_taken"]
    assert all("private words" not in e.detail and "1234567" not in e.detail for e in entries)
    assert await store.version() == version
    assert people.events == []


async def test_removing_a_person_removes_their_voicemail_rows(people: Backend) -> None:
    store = people.store
    await store.add_voice_message(voice(1), "voicemail")
    await store.add_taken_message(taken(2))
    await store.remove_person("p1", ADMIN, T0)
    assert await store.voice_messages("p1") == []
    assert await store.taken_messages("p1") == []
    assert await store.voice_message_ids() == set()


@pytest.mark.parametrize(
    ("action", "detail", "change"),
    [
        ("greeting_set", "greeting set (2000 ms)", Change("greeting", "", "set")),
        ("name_clip_deleted", "name clip deleted", Change("name_clip", "set", "")),
    ],
)
async def test_greeting_and_name_clip_changes_are_audited(
    people: Backend, action: str, detail: str, change: Change
) -> None:
    await people.store.audit_recording("p1", action, detail, "p1", T0)
    [entry] = await people.store.audit(1, subject="p1")
    assert (entry.action, entry.actor, entry.detail) == (action, "p1", detail)
    assert entry.changes == (change,)


async def test_only_recording_actions_are_audited_as_recordings(people: Backend) -> None:
    before = await people.store.audit(10, subject="p1")
    with pytest.raises(StoreError):
        await people.store.audit_recording("p1", "name_set", "x", "p1", T0)
    assert await people.store.audit(10, subject="p1") == before


async def test_a_voicemail_pin_is_kept_as_given_audited_without_it_and_goes_with_its_person(
    people: Backend,
) -> None:
    """Issue 13: the store keeps the PIN's hash as the caller hands it over (hashing is the
    caller's job); neither versioned nor published; removing the person removes it."""
    store = people.store
    version = await store.version()
    assert await store.voicemail_pin("p1") is None
    await store.set_voicemail_pin("p1", "$argon2id$first", "cli:admin", T0)
    await store.set_voicemail_pin("p1", "$argon2id$second", "cli:admin", T0)
    assert await store.voicemail_pin("p1") == "$argon2id$second"
    assert await store.voicemail_pin("p2") is None
    entries = await store.audit(limit=2, subject="p1")
    assert [e.action for e in entries] == ["voicemail_pin_set", "voicemail_pin_set"]
    assert all("argon2" not in e.detail for e in entries)
    with pytest.raises(NotFoundError):
        await store.set_voicemail_pin("nobody", "$argon2id$x", "cli:admin", T0)
    with pytest.raises(NotFoundError):
        await store.set_voicemail_pin("p2", None, "cli:admin", T0)
    await store.set_voicemail_pin("p1", None, "cli:admin", T0)
    assert await store.voicemail_pin("p1") is None
    assert (await store.audit(limit=1, subject="p1"))[0].action == "voicemail_pin_removed"
    await store.set_voicemail_pin("p2", "$argon2id$third", "cli:admin", T0)
    assert await store.version() == version
    assert people.events == []
    await store.remove_person("p2", ADMIN, T0)
    assert await store.voicemail_pin("p2") is None
