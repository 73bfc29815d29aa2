"""The Store contract, part 3: SIP credentials (issue 3), per extension, hashes only.

Same fixture and rules as parts 1 and 2; what is special here: a credential belongs to the
person holding the extension, leaves with them, and no audit entry ever shows a hash.
"""

from __future__ import annotations

import pytest

from switchboard.directory.credentials import SipCredential, make_credential
from switchboard.events import DirectoryImported, PersonRemoved, PersonSaved, SipCredentialChanged
from switchboard.store.protocol import AuditEntry, NotFoundError
from tests.contract.conftest import Backend
from tests.contract.values import ADMIN, T0, person, state_and_audit

REALM = "sip.kommun.example"
ONE = make_credential("64001", REALM, "first password")
ONE_AGAIN = make_credential("64001", REALM, "second password")
TWO = make_credential("64002", REALM, "other password")


def no_hash_in(entries: list[AuditEntry], *credentials: SipCredential) -> None:
    text = " ".join(f"{e.action} {e.subject} {e.detail}" for e in entries)
    for c in credentials:
        assert c.ha1_md5 is None or c.ha1_md5 not in text
        assert c.ha1_sha256 not in text


async def _two_people(backend: Backend) -> None:
    await backend.store.import_people([person(1), person(2)], ADMIN, T0)
    backend.take_events()


async def test_a_credential_reads_back_equal_and_is_audited_without_hashes(
    backend: Backend,
) -> None:
    await _two_people(backend)
    version = await backend.store.set_sip_credential(ONE, ADMIN, T0)
    assert version == 2
    assert await backend.store.sip_credentials() == {"64001": ONE}
    assert (await backend.store.load()).sip_credentials == {"64001": ONE}
    assert backend.committed_at_publish == [version]
    assert backend.take_events() == [SipCredentialChanged(version, "64001", ONE)]
    (newest, *_) = await backend.store.audit()
    assert (newest.actor, newest.action, newest.subject) == (ADMIN, "sip_credential_set", "p1")
    assert "64001" in newest.detail
    no_hash_in(await backend.store.audit(), ONE)


async def test_setting_again_replaces_and_others_are_untouched(backend: Backend) -> None:
    await _two_people(backend)
    await backend.store.set_sip_credential(ONE, ADMIN, T0)
    await backend.store.set_sip_credential(TWO, ADMIN, T0)
    version = await backend.store.set_sip_credential(ONE_AGAIN, "p1", T0)
    assert await backend.store.sip_credentials() == {"64001": ONE_AGAIN, "64002": TWO}
    assert backend.take_events()[-1] == SipCredentialChanged(version, "64001", ONE_AGAIN)
    no_hash_in(await backend.store.audit(), ONE, ONE_AGAIN, TWO)


async def test_a_sha256_only_credential_reads_back_without_an_md5_hash(backend: Backend) -> None:
    await _two_people(backend)
    only = make_credential("64002", REALM, "other password", sha256_only=True)
    await backend.store.set_sip_credential(ONE, ADMIN, T0)
    await backend.store.set_sip_credential(only, ADMIN, T0)
    stored = await backend.store.sip_credentials()
    assert stored == {"64001": ONE, "64002": only}
    assert stored["64002"].ha1_md5 is None
    assert stored["64002"].sha256_only
    assert not stored["64001"].sha256_only
    assert (await backend.store.load()).sip_credentials["64002"] == only
    (newest, *_) = await backend.store.audit()
    assert "SHA-256 only" in newest.detail
    no_hash_in(await backend.store.audit(), ONE, only)


async def test_a_credential_for_an_extension_nobody_holds_is_refused(backend: Backend) -> None:
    await _two_people(backend)
    before = await state_and_audit(backend.store)
    with pytest.raises(NotFoundError, match="64999"):
        await backend.store.set_sip_credential(make_credential("64999", REALM, "x"), ADMIN, T0)
    assert await state_and_audit(backend.store) == before
    assert backend.events == []


async def test_removing_a_credential(backend: Backend) -> None:
    await _two_people(backend)
    await backend.store.set_sip_credential(ONE, ADMIN, T0)
    backend.take_events()
    version = await backend.store.remove_sip_credential("64001", ADMIN, T0)
    assert await backend.store.sip_credentials() == {}
    assert backend.take_events() == [SipCredentialChanged(version, "64001", None)]
    (newest, *_) = await backend.store.audit()
    assert (newest.action, newest.subject) == ("sip_credential_removed", "p1")
    before = await state_and_audit(backend.store)
    with pytest.raises(NotFoundError, match="64001"):
        await backend.store.remove_sip_credential("64001", ADMIN, T0)
    assert await state_and_audit(backend.store) == before


async def test_removing_the_person_removes_their_credential(backend: Backend) -> None:
    await _two_people(backend)
    await backend.store.set_sip_credential(ONE, ADMIN, T0)
    await backend.store.set_sip_credential(TWO, ADMIN, T0)
    backend.take_events()
    version = await backend.store.remove_person("p1", ADMIN, T0)
    assert await backend.store.sip_credentials() == {"64002": TWO}
    assert backend.take_events() == [
        PersonRemoved(version, "p1"),
        SipCredentialChanged(version, "64001", None),
    ]


async def test_renumbering_a_person_drops_their_credential(backend: Backend) -> None:
    """An extension handed on must not keep the previous holder's password."""
    await _two_people(backend)
    await backend.store.set_sip_credential(ONE, ADMIN, T0)
    await backend.store.set_sip_credential(TWO, ADMIN, T0)
    backend.take_events()
    moved = person(1, extension="64100")
    version = await backend.store.save_person(moved, ADMIN, T0)
    assert await backend.store.sip_credentials() == {"64002": TWO}
    assert backend.take_events() == [
        PersonSaved(version, moved),
        SipCredentialChanged(version, "64001", None),
    ]
    actions = [e.action for e in await backend.store.audit(2)]
    assert actions == ["sip_credential_removed", "person_updated"]


async def test_saving_a_person_without_a_new_extension_keeps_the_credential(
    backend: Backend,
) -> None:
    await _two_people(backend)
    await backend.store.set_sip_credential(ONE, ADMIN, T0)
    await backend.store.save_person(person(1, title="Chef"), ADMIN, T0)
    await backend.store.import_people([person(1, title="Chef"), person(2)], ADMIN, T0)
    assert await backend.store.sip_credentials() == {"64001": ONE}


async def test_swapping_extensions_in_an_import_drops_both_credentials(backend: Backend) -> None:
    await _two_people(backend)
    await backend.store.set_sip_credential(ONE, ADMIN, T0)
    await backend.store.set_sip_credential(TWO, ADMIN, T0)
    backend.take_events()
    swapped = [person(1, extension="64002"), person(2, extension="64001")]
    result = await backend.store.import_people(swapped, ADMIN, T0)
    assert await backend.store.sip_credentials() == {}
    events = backend.take_events()
    assert events[-1] == DirectoryImported(result.version, created=0, updated=2, unchanged=0)
    assert set(events[:-1]) >= {
        SipCredentialChanged(result.version, "64001", None),
        SipCredentialChanged(result.version, "64002", None),
    }
    # The new holder of 64001 can be given a password of their own.
    theirs = make_credential("64001", REALM, "new holder")
    await backend.store.set_sip_credential(theirs, ADMIN, T0)
    (newest, *_) = await backend.store.audit()
    assert newest.subject == "p2"
