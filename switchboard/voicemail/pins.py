"""The PIN that opens a mailbox from outside (issue 13): its rules, its hash, and guessers.

Why a PIN at all: from a registered phone the digest already proves who calls (RFC 3261
§22); from the mobile, through the operator's trunk, only the caller ID says so, and caller
ID can be forged before it reaches the operator. So a call to the voicemail number from an
employee's mobile asks for the PIN first; a person without one cannot listen from there.

- **Rules.** 4-8 digits (a keypad is all a caller has); not one digit repeated and not a
  straight run (``1234``, ``9876``), the first any guesser tries.
- **Storage.** argon2id, as web passwords (``accounts/passwords.py``), hashed and checked in
  the executor. Against 10^4-10^8 values a stolen hash falls anyway; the hash keeps the PIN
  itself out of backups, the audit trail and logs.
- **Guessing.** Three tries per call (the script's business); across calls, every fifth
  wrong PIN in a row shuts the mailbox from outside for 15 minutes, doubling each time up
  to a day, until the right PIN is given. Someone forging the owner's caller ID can keep it
  shut, but only from outside: the desk phone and the web inbox stay open. Kept in memory
  per process (the clock is the injected one), bounded by the number of people; with
  ``serve --workers`` each try and each right PIN is told to the other workers
  (``share``, ``heard``), so the count is the machine's, not one worker's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import TypeVar

import structlog

from switchboard.accounts.passwords import PasswordHasher, hash_password, verify_password
from switchboard.clock import Clock
from switchboard.store.protocol import VoicemailStore
from switchboard.voicemail.model import VoicemailError, check_person_id

log = structlog.get_logger("switchboard.voicemail")

MIN_DIGITS = 4
MAX_DIGITS = 8
FREE_FAILURES = 5
"""Wrong PINs in a row before the mailbox shuts from outside for a while."""
FIRST_LOCK = timedelta(minutes=15)
LONGEST_LOCK = timedelta(days=1)
MAX_TRACKED = 100_000
"""People whose failures are remembered; more than any deployment has (a guard)."""
T = TypeVar("T")


class PinCheck(StrEnum):
    RIGHT = "right"
    WRONG = "wrong"
    SHUT = "shut"
    """Too many wrong PINs lately, or no PIN set: nothing is checked."""


def check_new_pin(pin: str) -> str:
    """``pin`` when it may be used; VoicemailError saying why not otherwise."""
    if not (pin.isascii() and pin.isdigit() and MIN_DIGITS <= len(pin) <= MAX_DIGITS):
        raise VoicemailError(f"a voicemail PIN is {MIN_DIGITS}-{MAX_DIGITS} digits")
    if len(set(pin)) == 1:
        raise VoicemailError("a voicemail PIN must not be one digit repeated")
    steps = {(int(b) - int(a)) % 10 for a, b in pairwise(pin)}
    if steps in ({1}, {9}):
        raise VoicemailError("a voicemail PIN must not be a run of digits like 1234 or 9876")
    return pin


@dataclass(slots=True)
class _Failures:
    """Mutable on purpose: one person's count, updated in place by its ``VoicemailPins``."""

    count: int = 0
    shut_until: datetime | None = None


def lock_after(failures: int) -> timedelta | None:
    """How long the mailbox shuts after the ``failures``-th wrong PIN in a row (or None)."""
    if failures < FREE_FAILURES or failures % FREE_FAILURES:
        return None
    doublings = failures // FREE_FAILURES - 1
    lock: timedelta = FIRST_LOCK * (1 << min(doublings, 16))
    return min(lock, LONGEST_LOCK)


class VoicemailPins:
    """Set, remove and check people's voicemail PINs (issue 13)."""

    def __init__(
        self,
        store: VoicemailStore,
        clock: Clock,
        executor: Executor | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        """``executor`` None: the loop's default one (the CLI); ``hasher``: a cheaper
        argon2 for tests."""
        self._store = store
        self._clock = clock
        self._executor = executor
        self._hasher = hasher
        self._failures: dict[str, _Failures] = {}
        self.share: Callable[[str, bool], None] | None = None
        """With workers: told (person_id, right) of each try counted here and of each right
        PIN, for the other workers' ``heard``."""

    async def _blocking(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    async def set(self, person_id: str, pin: str, actor: str) -> None:
        """Check the rules, then store only the hash; NotFoundError for nobody."""
        check_new_pin(pin)
        hashed = await self._blocking(lambda: hash_password(pin, self._hasher))
        await self._store.set_voicemail_pin(
            check_person_id(person_id), hashed, actor, self._clock.now()
        )
        self._failures.pop(person_id, None)

    async def remove(self, person_id: str, actor: str) -> None:
        """NotFoundError when the person has no PIN."""
        await self._store.set_voicemail_pin(
            check_person_id(person_id), None, actor, self._clock.now()
        )

    async def open_to_try(self, person_id: str) -> bool:
        """A PIN is set and the mailbox is not shut after wrong ones: worth asking for."""
        if self._shut(person_id, self._clock.now()):
            return False
        return await self._store.voicemail_pin(check_person_id(person_id)) is not None

    async def check(self, person_id: str, pin: str) -> PinCheck:
        """RIGHT resets the count of wrong ones; WRONG counts; SHUT checks nothing.

        Each try is counted *before* the (slow) verify, with no ``await`` between the
        look at the lock and the count: so calls made in parallel cannot all slip past the
        lock while their verifies run; at most ``FREE_FAILURES`` are ever under way.
        """
        stored = await self._store.voicemail_pin(check_person_id(person_id))
        now = self._clock.now()
        if stored is None or self._shut(person_id, now):
            return PinCheck.SHUT
        count, lock = self._count(person_id, now)
        if self.share is not None:
            self.share(person_id, False)
        if await self._blocking(lambda: verify_password(stored, pin, self._hasher)):
            self._failures.pop(person_id, None)
            if self.share is not None:
                self.share(person_id, True)
            return PinCheck.RIGHT
        if lock is not None:
            seconds = int(lock.total_seconds())
            log.warning("voicemail_pin_locked", person=person_id, failures=count, seconds=seconds)
        return PinCheck.WRONG

    def heard(self, person_id: str, right: bool) -> None:
        """Another worker counted a try (``right`` False) or heard the right PIN."""
        if right:
            self._failures.pop(person_id, None)
        else:
            self._count(person_id, self._clock.now())

    def _count(self, person_id: str, now: datetime) -> tuple[int, timedelta | None]:
        """One more try: the count, and the lock it starts (if any)."""
        failures = self._failures.get(person_id)
        if failures is None:
            if len(self._failures) >= MAX_TRACKED:
                self._failures.clear()
            failures = self._failures[person_id] = _Failures()
        failures.count += 1
        lock = lock_after(failures.count)
        if lock is not None:
            failures.shut_until = now + lock
        return failures.count, lock

    def _shut(self, person_id: str, now: datetime) -> bool:
        failures = self._failures.get(person_id)
        return (
            failures is not None and failures.shut_until is not None and now < failures.shut_until
        )
