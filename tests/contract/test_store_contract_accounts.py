"""The Store contract, part 4: web accounts, sessions and API tokens (issue 5).

Same fixture as parts 1-3. What is special here: account writes are audited but bump no
version and publish no event (accounts are read from the store per request, not held in
every node's memory), secrets are stored only as hashes, and audit entries carry none.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from switchboard.accounts.model import Account, Role
from switchboard.accounts.sessions import SessionPolicy, new_session, new_token
from switchboard.store.protocol import NotFoundError, StoreError
from tests.contract.conftest import Backend
from tests.contract.values import ADMIN, T0, person

HASH = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
ANNA = Account("acc-anna", "anna", "Anna Berg", "p1", frozenset({Role.EMPLOYEE}))
DESK = Account("acc-desk", "reception", "Reception", None, frozenset({Role.RECEPTIONIST}))
POLICY = SessionPolicy()


async def _anna(backend: Backend) -> None:
    await backend.store.import_people([person(1), person(2)], ADMIN, T0)
    await backend.store.create_account(ANNA, HASH, ADMIN, T0)
    backend.take_events()


async def test_an_account_reads_back_equal_with_its_hash(backend: Backend) -> None:
    await backend.store.import_people([person(1)], ADMIN, T0)
    version = await backend.store.version()
    backend.take_events()
    boss = Account(
        "acc-boss",
        "chef.åsa@kommun.example",
        "Åsa",
        None,
        frozenset({Role.MANAGER, Role.EMPLOYEE}),
        manages=frozenset({"kommun/it", "kommun/skola"}),
    )
    await backend.store.create_account(ANNA, HASH, ADMIN, T0)
    await backend.store.create_account(boss, None, ADMIN, T0)
    assert await backend.store.account_by_username("anna") == (ANNA, HASH)
    assert await backend.store.account_by_username(boss.username) == (boss, None)
    assert await backend.store.account("acc-boss") == boss
    assert await backend.store.account("nobody") is None
    assert await backend.store.account_by_username("Anna") is None  # callers normalise
    assert await backend.store.accounts() == [ANNA, boss]
    assert await backend.store.version() == version
    assert backend.events == []
    newest = (await backend.store.audit(1))[0]
    assert (newest.actor, newest.action, newest.subject) == (
        ADMIN,
        "account_created",
        "account:chef.åsa@kommun.example",
    )
    assert "no password" in newest.detail
    assert HASH not in " ".join(e.detail for e in await backend.store.audit())


async def test_a_taken_username_or_unknown_person_is_refused(backend: Backend) -> None:
    await _anna(backend)
    before = await backend.store.audit(1000)
    with pytest.raises(StoreError, match="taken"):
        await backend.store.create_account(replace(ANNA, account_id="other"), None, ADMIN, T0)
    with pytest.raises(NotFoundError, match="p9"):
        await backend.store.create_account(replace(DESK, person_id="p9"), None, ADMIN, T0)
    assert await backend.store.accounts() == [ANNA]
    assert await backend.store.audit(1000) == before


async def test_each_kind_of_change_is_audited_apart(backend: Backend) -> None:
    await _anna(backend)
    changed = replace(
        ANNA,
        roles=frozenset({Role.EMPLOYEE, Role.MANAGER}),
        display_name="Anna B",
        disabled=True,
    )
    await backend.store.update_account(changed, ADMIN, T0)
    assert await backend.store.account(ANNA.account_id) == changed
    actions = {e.action: e.detail for e in await backend.store.audit(3)}
    assert set(actions) == {"account_roles_changed", "account_disabled", "account_updated"}
    assert actions["account_roles_changed"] == "roles employee -> employee, manager"
    assert actions["account_updated"] == "updated: display_name"
    with pytest.raises(StoreError, match="cannot change"):
        await backend.store.update_account(replace(changed, username="bertil"), ADMIN, T0)
    with pytest.raises(NotFoundError):
        await backend.store.update_account(DESK, ADMIN, T0)
    assert backend.events == []


async def test_disabling_or_a_new_password_ends_the_sessions(backend: Backend) -> None:
    await _anna(backend)
    _, first = new_session(ANNA.account_id, T0, POLICY)
    _, second = new_session(ANNA.account_id, T0, POLICY)
    await backend.store.create_session(first, None)
    await backend.store.create_session(second, None)
    await backend.store.set_password_hash(ANNA.account_id, HASH + "x", ADMIN, T0)
    assert await backend.store.session(first.session_id_hash) is None
    assert await backend.store.session(second.session_id_hash) is None
    assert (await backend.store.account_by_username("anna")) == (ANNA, HASH + "x")
    newest = (await backend.store.audit(1))[0]
    assert (newest.action, newest.detail) == (
        "account_password_set",
        "password set; 2 session(s) ended",
    )
    await backend.store.create_session(first, None)
    await backend.store.update_account(replace(ANNA, disabled=True), ADMIN, T0)
    assert await backend.store.session(first.session_id_hash) is None


async def test_a_password_hash_upgrade_only_replaces_the_hash_it_read(backend: Backend) -> None:
    await _anna(backend)
    entries = len(await backend.store.audit(1000))
    assert await backend.store.upgrade_password_hash(ANNA.account_id, HASH, "new")
    assert not await backend.store.upgrade_password_hash(ANNA.account_id, HASH, "newer")
    assert await backend.store.account_by_username("anna") == (ANNA, "new")
    assert len(await backend.store.audit(1000)) == entries


async def test_sessions_rotate_touch_and_end(backend: Backend) -> None:
    await _anna(backend)
    _, old = new_session(ANNA.account_id, T0, POLICY)
    await backend.store.create_session(old, None)
    assert await backend.store.session(old.session_id_hash) == old
    later = T0 + timedelta(minutes=5)
    _, new = new_session(ANNA.account_id, later, POLICY)
    await backend.store.create_session(new, old.session_id_hash)
    assert await backend.store.session(old.session_id_hash) is None
    await backend.store.touch_session(new.session_id_hash, later + timedelta(minutes=2))
    await backend.store.touch_session(new.session_id_hash, later + timedelta(minutes=1))
    stored = await backend.store.session(new.session_id_hash)
    assert stored == new.touched(later + timedelta(minutes=2))  # never moves back
    signed_in = [e for e in await backend.store.audit() if e.action == "signed_in"]
    assert [(e.actor, e.subject) for e in signed_in] == [("anna", "account:anna")] * 2
    await backend.store.delete_session(new.session_id_hash)
    await backend.store.delete_session(new.session_id_hash)
    assert await backend.store.session(new.session_id_hash) is None
    assert backend.events == []


async def test_sessions_past_their_absolute_expiry_are_purged(backend: Backend) -> None:
    await _anna(backend)
    _, stale = new_session(ANNA.account_id, T0, POLICY)
    await backend.store.create_session(stale, None)
    _, fresh = new_session(ANNA.account_id, T0 + POLICY.absolute, POLICY)
    await backend.store.create_session(fresh, None)
    assert await backend.store.session(stale.session_id_hash) is None
    assert await backend.store.session(fresh.session_id_hash) == fresh


async def test_tokens_are_listed_touched_and_revoked_by_name(backend: Backend) -> None:
    await _anna(backend)
    _, crm = new_token(ANNA.account_id, "crm", T0)
    _, wall = new_token(ANNA.account_id, "wallboard", T0 + timedelta(seconds=1))
    await backend.store.create_token(crm, ADMIN, T0)
    await backend.store.create_token(wall, ADMIN, T0)
    with pytest.raises(StoreError, match="already has a token named 'crm'"):
        await backend.store.create_token(new_token(ANNA.account_id, "crm", T0)[1], ADMIN, T0)
    assert await backend.store.tokens(ANNA.account_id) == [crm, wall]
    used = T0 + timedelta(hours=1)
    await backend.store.touch_token(crm.token_hash, used)
    assert await backend.store.token(crm.token_hash) == replace(crm, last_used=used)
    await backend.store.revoke_token(ANNA.account_id, "crm", ADMIN, T0)
    assert await backend.store.token(crm.token_hash) is None
    assert await backend.store.tokens(ANNA.account_id) == [wall]
    with pytest.raises(NotFoundError, match="crm"):
        await backend.store.revoke_token(ANNA.account_id, "crm", ADMIN, T0)
    actions = [e.action for e in await backend.store.audit(3)]
    assert actions == ["token_revoked", "token_created", "token_created"]
    assert all(crm.token_hash not in e.detail for e in await backend.store.audit())
    assert backend.events == []


async def test_removing_the_person_unties_the_account(backend: Backend) -> None:
    await _anna(backend)
    await backend.store.remove_person("p1", ADMIN, T0)
    assert await backend.store.account(ANNA.account_id) == replace(ANNA, person_id=None)


ENTRA = "https://login.microsoftonline.com/tenant/v2.0"
GOOGLE = "https://accounts.google.com"


async def test_sso_identities_bind_once_per_provider_and_unbind(backend: Backend) -> None:
    await _anna(backend)
    await backend.store.create_account(DESK, None, ADMIN, T0)
    store = backend.store
    assert await store.account_by_identity(ENTRA, "sub-a") is None
    await store.bind_identity(ANNA.account_id, ENTRA, "sub-a", "sso", T0)
    await store.bind_identity(ANNA.account_id, ENTRA, "sub-a", "sso", T0)  # again: no-op
    assert await store.account_by_identity(ENTRA, "sub-a") == ANNA
    assert await store.identity_subject(ANNA.account_id, ENTRA) == "sub-a"
    assert await store.account_by_identity(GOOGLE, "sub-a") is None  # per provider
    with pytest.raises(StoreError, match="bound to another"):
        await store.bind_identity(DESK.account_id, ENTRA, "sub-a", "sso", T0)  # taken
    with pytest.raises(StoreError, match="bound to another"):
        await store.bind_identity(ANNA.account_id, ENTRA, "sub-b", "sso", T0)  # one each
    await store.bind_identity(ANNA.account_id, GOOGLE, "g-1", "sso", T0)  # another provider
    assert await store.unbind_identities(ANNA.account_id, ADMIN, T0) == 2
    assert await store.unbind_identities(ANNA.account_id, ADMIN, T0) == 0
    assert await store.account_by_identity(ENTRA, "sub-a") is None
    await store.bind_identity(DESK.account_id, ENTRA, "sub-a", "sso", T0)  # free again
    actions = [e.action for e in await store.audit(5)]
    assert actions == [
        "sso_identity_bound",
        "sso_identity_unbound",
        "sso_identity_bound",
        "sso_identity_bound",
        "account_created",
    ]
    assert all("sub-a" not in e.detail for e in await store.audit())
    assert backend.events == []


async def test_an_identity_stays_with_its_account_when_the_person_leaves(
    backend: Backend,
) -> None:
    await _anna(backend)
    await backend.store.bind_identity(ANNA.account_id, ENTRA, "sub-a", "sso", T0)
    await backend.store.remove_person("p1", ADMIN, T0)  # the account stays, untied
    assert await backend.store.account_by_identity(ENTRA, "sub-a") == replace(ANNA, person_id=None)
