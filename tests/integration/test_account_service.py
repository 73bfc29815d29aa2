"""AccountService on a real SQLite store with a fake clock: sign-in, sessions, tokens."""

from __future__ import annotations

import base64
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import argon2
import pytest

from switchboard.accounts.model import Account, AccountError, Role
from switchboard.accounts.passwords import PasswordPolicyError
from switchboard.accounts.throttle import LoginThrottledError
from switchboard.directory.model import Person
from switchboard.live.accounts import AccountService
from switchboard.store.audit import AuditDecision
from switchboard.store.bus import EventBus
from switchboard.store.sqlite import SqliteStore
from tests.contract.values import ADMIN, person

T0 = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
PASSWORD = "kaffe-och-bulle"  # noqa: S105 - a test fixture
HOME = "198.51.100.7"
ANNA = person(1, name="Anna Berg")


class FakeClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


class CountingHasher:
    """A cheap real argon2 hasher that counts its calls (obeys ``PasswordHasher``)."""

    def __init__(self, time_cost: int = 1) -> None:
        self.inner = argon2.PasswordHasher(time_cost=time_cost, memory_cost=8, parallelism=1)
        self.verifies = 0
        self.hashes = 0
        self.threads: set[str] = set()
        """Where it hashed: argon2 takes 36 ms a hash at the real cost (issue 15)."""

    def hash(self, password: str, /) -> str:
        self.hashes += 1
        self.threads.add(threading.current_thread().name)
        return self.inner.hash(password)

    def verify(self, hash: str, password: str, /) -> bool:
        self.verifies += 1
        self.threads.add(threading.current_thread().name)
        return self.inner.verify(hash, password)

    def check_needs_rehash(self, hash: str, /) -> bool:
        return self.inner.check_needs_rehash(hash)


def _database_bytes(folder: Path) -> bytes:
    """The database and its WAL, as an attacker holding a copy of the disk would read them."""
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())


@dataclass
class World:
    service: AccountService
    store: SqliteStore
    clock: FakeClock
    hasher: CountingHasher
    path: Path


def _find(key: str) -> Person | None:
    return ANNA if key in {ANNA.email, ANNA.extension} else None


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    path = tmp_path / "switchboard.db"
    store = await SqliteStore.open(path, EventBus())
    clock = FakeClock(T0)
    await store.import_people([ANNA], ADMIN, T0)
    hasher = CountingHasher()
    service = AccountService(store, clock, hasher, find_person=_find)
    yield World(service, store, clock, hasher, path)
    await store.close()


async def _anna(w: World) -> Account:
    return await w.service.add_account("Anna", None, [Role.EMPLOYEE], ANNA.email, PASSWORD, ADMIN)


# -- accounts --------------------------------------------------------------------------------
async def test_an_account_is_tied_to_its_person_and_named_after_them(w: World) -> None:
    anna = await _anna(w)
    assert (anna.username, anna.display_name, anna.person_id) == ("anna", "Anna Berg", "p1")
    assert await w.service.find(" ANNA ") == anna
    with pytest.raises(AccountError, match="nobody in the directory"):
        await w.service.add_account("x", None, [Role.EMPLOYEE], "64999", None, ADMIN)
    with pytest.raises(AccountError, match="at least one role"):
        await w.service.add_account("y", None, [], None, None, ADMIN)
    with pytest.raises(PasswordPolicyError, match="too short"):
        await w.service.add_account("z", None, [Role.ADMIN], None, "short", ADMIN)
    assert [a.username for a in await w.service.accounts()] == ["anna"]


# -- authenticate ----------------------------------------------------------------------------
async def test_sign_in_with_the_right_password(w: World) -> None:
    anna = await _anna(w)
    assert await w.service.authenticate("ANNA", PASSWORD, HOME) == anna


@pytest.mark.parametrize(
    "case", ["wrong password", "unknown user", "disabled", "no password", "unusable name"]
)
async def test_every_refusal_looks_the_same_and_costs_one_verify(w: World, case: str) -> None:
    await _anna(w)
    await w.service.add_account("nopass", None, [Role.EMPLOYEE], None, None, ADMIN)
    await w.service.add_account("gone", None, [Role.EMPLOYEE], None, PASSWORD, ADMIN)
    await w.service.disable("gone", ADMIN)
    username, password = {
        "wrong password": ("anna", PASSWORD + "!"),
        "unknown user": ("bertil", PASSWORD),
        "disabled": ("gone", PASSWORD),
        "no password": ("nopass", PASSWORD),
        "unusable name": ("no such/name", PASSWORD),
    }[case]
    await w.service.authenticate("warm-up", "x", "192.0.2.1")  # makes the dummy hash
    before = w.hasher.verifies
    assert await w.service.authenticate(username, password, HOME) is None
    assert w.hasher.verifies - before == 1


async def test_the_right_password_also_costs_one_verify(w: World) -> None:
    await _anna(w)
    await w.service.authenticate("warm-up", "x", "192.0.2.1")
    before = w.hasher.verifies
    assert await w.service.authenticate("anna", PASSWORD, HOME) is not None
    assert w.hasher.verifies - before == 1


async def test_the_first_attempt_costs_the_same_for_known_and_unknown_names(
    tmp_path: Path,
) -> None:
    """The dummy hash is made on every service's first sign-in, whoever signs in."""
    costs = []
    for name in ("anna", "bertil"):
        store = await SqliteStore.open(tmp_path / f"{name}.db", EventBus())
        await store.import_people([ANNA], ADMIN, T0)
        hasher = CountingHasher()
        service = AccountService(store, FakeClock(T0), hasher, find_person=_find)
        await service.add_account("anna", None, [Role.EMPLOYEE], None, PASSWORD, ADMIN)
        before = (hasher.hashes, hasher.verifies)
        await service.authenticate(name, "wrong password!", HOME)
        costs.append((hasher.hashes - before[0], hasher.verifies - before[1]))
        await store.close()
    assert costs[0] == costs[1] == (1, 1)


async def test_a_throttled_attempt_is_refused_without_verifying(w: World) -> None:
    await _anna(w)
    attacker = "203.0.113.66"
    assert await w.service.authenticate("anna", "guess one two", attacker) is None
    before = w.hasher.verifies
    with pytest.raises(LoginThrottledError) as caught:
        await w.service.authenticate("anna", PASSWORD, attacker)
    assert caught.value.retry_after == 1.0
    assert w.hasher.verifies == before
    # The owner, elsewhere, is not held up.
    assert await w.service.authenticate("anna", PASSWORD, HOME) is not None
    w.clock.advance(seconds=1)
    assert await w.service.authenticate("anna", PASSWORD, attacker) is not None


async def test_a_weaker_hash_is_upgraded_at_sign_in(w: World) -> None:
    await _anna(w)
    stronger = CountingHasher(time_cost=2)
    service = AccountService(w.store, w.clock, stronger)
    assert await service.authenticate("anna", PASSWORD, HOME) is not None
    found = await w.store.account_by_username("anna")
    assert found is not None
    assert found[1] is not None
    assert "t=2" in found[1]
    assert await service.authenticate("anna", PASSWORD, HOME) is not None


# -- sessions --------------------------------------------------------------------------------
async def test_a_session_lives_while_used_and_dies_when_idle(w: World) -> None:
    anna = await _anna(w)
    session_id, session = await w.service.start_session(anna)
    assert len(base64.urlsafe_b64decode(session_id + "=")) == 32
    for _ in range(5):
        w.clock.advance(minutes=29)
        found = await w.service.session(session_id)
        assert found is not None
        assert found[1] == anna
        assert found[0].csrf_token == session.csrf_token
    w.clock.advance(minutes=30)
    assert await w.service.session(session_id) is None
    assert await w.store.session(session.session_id_hash) is None


async def test_last_seen_is_written_at_most_once_a_minute(w: World) -> None:
    anna = await _anna(w)
    session_id, session = await w.service.start_session(anna)
    w.clock.advance(seconds=30)
    await w.service.session(session_id)
    assert await w.store.session(session.session_id_hash) == session
    w.clock.advance(seconds=31)
    await w.service.session(session_id)
    stored = await w.store.session(session.session_id_hash)
    assert stored is not None
    assert stored.last_seen == w.clock.at


async def test_a_session_ends_at_the_absolute_limit_however_busy(w: World) -> None:
    anna = await _anna(w)
    session_id, _ = await w.service.start_session(anna)
    for _ in range(12 * 6 - 1):
        w.clock.advance(minutes=10)
        assert await w.service.session(session_id) is not None
    w.clock.advance(minutes=10)
    assert await w.service.session(session_id) is None


async def test_sign_in_rotates_the_id_and_sign_out_revokes_it(w: World) -> None:
    anna = await _anna(w)
    first, _ = await w.service.start_session(anna)
    second, _ = await w.service.start_session(anna, previous=first)
    assert second != first
    assert await w.service.session(first) is None
    assert await w.service.session(second) is not None
    await w.service.end_session(second)
    assert await w.service.session(second) is None
    assert await w.service.session("made-up") is None


async def test_a_disabled_accounts_sessions_and_tokens_stop_working(w: World) -> None:
    anna = await _anna(w)
    session_id, _ = await w.service.start_session(anna)
    token = await w.service.create_token(anna.account_id, "crm", ADMIN)
    assert await w.service.account_for_token(token) == anna
    await w.service.disable("anna", ADMIN)
    assert await w.service.session(session_id) is None
    assert await w.service.account_for_token(token) is None
    assert await w.service.authenticate("anna", PASSWORD, HOME) is None
    await w.service.enable("anna", ADMIN)
    assert await w.service.account_for_token(token) == anna
    assert await w.service.session(session_id) is None  # ended for good


async def test_a_new_password_ends_the_sessions(w: World) -> None:
    anna = await _anna(w)
    session_id, _ = await w.service.start_session(anna)
    await w.service.set_password("anna", "a brand new password", ADMIN)
    assert await w.service.session(session_id) is None
    assert await w.service.authenticate("anna", PASSWORD, HOME) is None
    w.clock.advance(seconds=1)  # the failure above slows this source for a second
    assert await w.service.authenticate("anna", "a brand new password", HOME) == anna


async def test_role_changes_hold_for_open_sessions_at_once(w: World) -> None:
    anna = await _anna(w)
    session_id, _ = await w.service.start_session(anna)
    await w.service.set_roles("anna", [Role.RECEPTIONIST], ADMIN)
    found = await w.service.session(session_id)
    assert found is not None
    assert found[1].roles == {Role.RECEPTIONIST}


# -- tokens ----------------------------------------------------------------------------------
async def test_tokens_work_until_revoked_and_note_their_last_use(w: World) -> None:
    anna = await _anna(w)
    token = await w.service.create_token(anna.account_id, "crm", ADMIN)
    assert token.startswith("sbt_")
    assert len(token) == 47
    assert await w.service.account_for_token(token) == anna
    (listed,) = await w.service.tokens(anna.account_id)
    assert (listed.name, listed.created_at, listed.last_used) == ("crm", T0, T0)
    w.clock.advance(seconds=20)
    await w.service.account_for_token(token)
    assert (await w.service.tokens(anna.account_id))[0].last_used == T0
    await w.service.revoke_token(anna.account_id, "crm", ADMIN)
    assert await w.service.account_for_token(token) is None
    assert await w.service.account_for_token("sbt_short") is None
    assert await w.service.account_for_token("Bearer nonsense") is None


async def test_secrets_are_not_in_the_database_files(w: World, tmp_path: Path) -> None:
    anna = await _anna(w)
    session_id, session = await w.service.start_session(anna)
    token = await w.service.create_token(anna.account_id, "crm", ADMIN)
    await w.service.account_for_token(token)
    await w.service.session(session_id)
    files = _database_bytes(tmp_path)
    assert files, "the database files were found"
    for secret in (session_id, token, PASSWORD):
        assert secret.encode() not in files
    assert session.session_id_hash.encode() in files  # the hash is what is kept
    await w.store.close()
    assert token.encode() not in _database_bytes(tmp_path)


async def test_the_sign_in_limit_notices_administrators_once_and_spares_the_owner(
    w: World,
) -> None:
    """Issue 17: guesses from many addresses fill the account's bucket; the trail gets one
    notice (decision limited), and the owner at their usual address still signs in."""
    await _anna(w)
    assert await w.service.authenticate("anna", PASSWORD, HOME) is not None  # HOME is known
    for i in range(10):  # ten new addresses, one guess each: free
        assert await w.service.authenticate("anna", f"guess number {i}", f"203.0.113.{i}") is None
    with pytest.raises(LoginThrottledError) as caught:
        await w.service.authenticate("anna", "guess number 10", "203.0.113.10")
    assert caught.value.retry_after == pytest.approx(60.0)
    entries = await w.store.audit(100, subject="account:anna")
    failed = [e for e in entries if e.decision is AuditDecision.FAILED]
    limited = [e for e in entries if e.decision is AuditDecision.LIMITED]
    assert len(failed) == 10
    [notice] = limited
    assert (notice.actor, notice.action) == ("switchboard", "sign_in_limit_reached")
    assert "waits 60 s" in notice.detail
    assert "at most 100 failures an hour" in notice.detail
    assert await w.service.authenticate("anna", PASSWORD, HOME) is not None


async def test_with_workers_a_failure_on_one_slows_the_same_source_on_the_other(w: World) -> None:
    """``serve --workers`` (issue 14): a guesser's connections reach any worker; each
    worker's throttle counts what the others verified, so the wait holds everywhere."""
    await _anna(w)
    other = AccountService(w.store, w.clock, w.hasher, find_person=_find)

    def tell_other(username: str, source: str, failed: bool) -> None:
        throttle = other.throttle
        if failed:
            throttle.failed(username, source, w.clock.now())
        else:
            throttle.succeeded(username, source, w.clock.now())

    w.service.share = tell_other
    assert await w.service.authenticate("anna", "wrong-password", "203.0.113.9") is None
    with pytest.raises(LoginThrottledError):
        await other.authenticate("anna", PASSWORD, "203.0.113.9")


async def test_passwords_are_hashed_and_checked_beside_the_event_loop(w: World) -> None:
    """argon2 at the real cost takes 36 ms: on the event loop, every sign-in held SIP
    answers that long. ``serve`` gives the service a pool of its own (``open_runtime``)."""
    pool = ThreadPoolExecutor(2, thread_name_prefix="password-hash")
    w.service = AccountService(w.store, w.clock, w.hasher, find_person=_find, hashing=pool)
    account = await w.service.add_account("Lo", None, [Role.EMPLOYEE], None, PASSWORD, ADMIN)
    name = account.username
    assert await w.service.authenticate(name, PASSWORD, "192.0.2.1") is not None
    assert await w.service.authenticate(name, "fel-fel-fel-fel", "192.0.2.1") is None
    await w.service.set_password(name, PASSWORD + "-2", ADMIN)
    assert w.hasher.hashes >= 2
    assert w.hasher.verifies >= 2
    assert threading.main_thread().name not in w.hasher.threads
    assert all(name.startswith("password-hash") for name in w.hasher.threads)
    pool.shutdown()
