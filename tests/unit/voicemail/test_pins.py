"""The PIN that opens a mailbox from the mobile (issue 13): rules, hash only, guessers shut out.

On a real SQLite store, with a cheap real argon2 hasher and a clock the test moves.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from switchboard.accounts.passwords import HashParameters, make_hasher
from switchboard.store.bus import EventBus
from switchboard.store.protocol import NotFoundError
from switchboard.store.sqlite import SqliteStore
from switchboard.voicemail.model import VoicemailError
from switchboard.voicemail.pins import PinCheck, VoicemailPins, check_new_pin, lock_after
from tests.unit.voicemail.conftest import ANNA, FATIMA, T0

CHEAP = make_hasher(HashParameters(time_cost=1, memory_cost_kib=64, hash_len=16, salt_len=8))


@dataclass
class MovingClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@dataclass
class World:
    pins: VoicemailPins
    store: SqliteStore
    clock: MovingClock
    path: Path


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    path = tmp_path / "store.db"
    store = await SqliteStore.open(path, EventBus())
    await store.import_people([ANNA, FATIMA], "test", T0)
    clock = MovingClock(T0)
    yield World(VoicemailPins(store, clock, hasher=CHEAP), store, clock, path)
    await store.close()


GOOD = ["2580", "1357", "73915", "12345670", "0912", "1123"]
BAD = [
    ("three-digits", "258", "4-8 digits"),
    ("nine-digits", "123456780", "4-8 digits"),
    ("letters", "25a0", "4-8 digits"),
    ("wide-digits", "\uff12\uff15\uff18\uff10", "4-8 digits"),
    ("empty", "", "4-8 digits"),
    ("one-digit-repeated", "0000", "one digit repeated"),
    ("run-up", "1234", "run of digits"),
    ("run-down", "9876", "run of digits"),
    ("run-over-nine", "7890", "run of digits"),
    ("long-run", "34567890", "run of digits"),
]


@pytest.mark.parametrize("pin", GOOD)
def test_a_pin_that_is_not_an_obvious_guess_is_accepted(pin: str) -> None:
    assert check_new_pin(pin) == pin


@pytest.mark.parametrize(("pin", "words"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_obvious_pins_are_refused_saying_why(pin: str, words: str) -> None:
    with pytest.raises(VoicemailError, match=words):
        check_new_pin(pin)


LOCKS = [
    (1, None),
    (4, None),
    (5, timedelta(minutes=15)),
    (6, None),
    (10, timedelta(minutes=30)),
    (15, timedelta(hours=1)),
    (35, timedelta(hours=16)),
    (40, timedelta(days=1)),
    (10_000, timedelta(days=1)),
]


@pytest.mark.parametrize(("failures", "lock"), LOCKS, ids=[str(f) for f, _ in LOCKS])
def test_every_fifth_wrong_pin_shuts_the_mailbox_longer(
    failures: int, lock: timedelta | None
) -> None:
    assert lock_after(failures) == lock


async def test_only_a_hash_is_stored_and_the_change_is_audited(world: World) -> None:
    await world.pins.set("anna", "2580", "cli:admin")
    stored = await world.store.voicemail_pin("anna")
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert "2580" not in stored
    assert await world.store.voicemail_pin("fatima") is None
    entry = (await world.store.audit(limit=1))[0]
    assert (entry.action, entry.subject, entry.actor) == ("voicemail_pin_set", "anna", "cli:admin")
    assert "2580" not in entry.detail
    assert b"2580" not in world.path.read_bytes()
    with sqlite3.connect(world.path) as conn:
        assert conn.execute("SELECT count(*) FROM voicemail_pins").fetchone() == (1,)


async def test_the_right_pin_opens_and_a_wrong_one_does_not(world: World) -> None:
    assert not await world.pins.open_to_try("anna")
    assert await world.pins.check("anna", "2580") is PinCheck.SHUT  # no PIN: nothing opens
    await world.pins.set("anna", "2580", "test")
    assert await world.pins.open_to_try("anna")
    assert await world.pins.check("anna", "2581") is PinCheck.WRONG
    assert await world.pins.check("anna", "2580") is PinCheck.RIGHT
    assert await world.pins.check("fatima", "2580") is PinCheck.SHUT


async def test_five_wrong_pins_shut_the_mailbox_for_a_while_even_to_the_right_one(
    world: World,
) -> None:
    pins = world.pins
    await pins.set("anna", "2580", "test")
    await pins.set("fatima", "1357", "test")
    for _ in range(5):
        assert await pins.check("anna", "0912") is PinCheck.WRONG
    assert not await pins.open_to_try("anna")
    assert await pins.check("anna", "2580") is PinCheck.SHUT
    assert await pins.check("fatima", "1357") is PinCheck.RIGHT  # only Anna's is shut
    world.clock.at += timedelta(minutes=15)
    assert await pins.open_to_try("anna")
    assert await pins.check("anna", "2580") is PinCheck.RIGHT
    for _ in range(4):  # the right PIN started the count afresh
        assert await pins.check("anna", "0912") is PinCheck.WRONG
    assert await pins.open_to_try("anna")


async def test_removing_a_pin_shuts_the_mailbox_from_outside(world: World) -> None:
    await world.pins.set("anna", "2580", "test")
    await world.pins.remove("anna", "cli:admin")
    assert not await world.pins.open_to_try("anna")
    assert (await world.store.audit(limit=1))[0].action == "voicemail_pin_removed"
    with pytest.raises(NotFoundError):
        await world.pins.remove("anna", "cli:admin")


async def test_a_pin_needs_a_person_and_goes_with_them(world: World) -> None:
    with pytest.raises(NotFoundError):
        await world.pins.set("nobody", "2580", "test")
    await world.pins.set("anna", "2580", "test")
    await world.store.remove_person("anna", "test", T0)
    assert await world.store.voicemail_pin("anna") is None


async def test_an_obvious_pin_is_refused_before_anything_is_stored(world: World) -> None:
    with pytest.raises(VoicemailError):
        await world.pins.set("anna", "1111", "test")
    assert await world.store.voicemail_pin("anna") is None


async def test_guesses_made_in_parallel_cannot_slip_past_the_lock(world: World) -> None:
    """Twenty calls guessing at once: five are checked, the rest find the mailbox shut."""
    await world.pins.set("anna", "2580", "test")
    guesses = [f"{n:04d}" for n in range(3000, 3020)]
    results = await asyncio.gather(*(world.pins.check("anna", g) for g in guesses))
    assert results.count(PinCheck.WRONG) == 5
    assert results.count(PinCheck.SHUT) == 15
    assert await world.pins.check("anna", "2580") is PinCheck.SHUT


async def test_the_right_pin_as_the_fifth_try_opens_and_starts_the_count_afresh(
    world: World,
) -> None:
    await world.pins.set("anna", "2580", "test")
    for _ in range(4):
        assert await world.pins.check("anna", "0912") is PinCheck.WRONG
    assert await world.pins.check("anna", "2580") is PinCheck.RIGHT
    assert await world.pins.open_to_try("anna")


async def test_tries_on_other_workers_count_here_and_the_right_pin_there_resets(
    world: World,
) -> None:
    """``serve --workers`` (issue 14): a guesser's calls land on any worker; each worker
    tells the others of every try, so five wrong PINs across two workers shut the box."""
    here = world.pins
    there = VoicemailPins(world.store, world.clock, hasher=CHEAP)
    here.share = lambda person_id, right: there.heard(person_id, right)
    there.share = lambda person_id, right: here.heard(person_id, right)
    await here.set("anna", "2580", "test")
    for pins in (here, there, here, there):
        assert await pins.check("anna", "0912") is PinCheck.WRONG
    assert await there.check("anna", "2580") is PinCheck.RIGHT  # the fifth: right, resets
    for pins in (there, here, there, here, there):
        assert await pins.check("anna", "0912") is PinCheck.WRONG
    assert not await here.open_to_try("anna")
    assert not await there.open_to_try("anna")
