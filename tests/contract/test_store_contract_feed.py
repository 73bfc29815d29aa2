"""The Store contract, part 9: the change feed (issue 14).

Two store objects on one backend stand for two processes (a running server and the CLI, or
two workers, or two nodes). What one commits, the other publishes on its own bus when it
catches up: the same events, in the same order, once each; a write publishes what others
committed before it first; a store that fell further behind than the feed reaches is told
to reload, and ``load()`` starts it following again.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from switchboard.directory.credentials import make_credential
from switchboard.events import (
    CalendarChanged,
    DirectoryImported,
    Event,
    ExceptionsChanged,
    ManualStatusChanged,
    PersonRemoved,
    PersonSaved,
    SipCredentialChanged,
    TemplatesChanged,
    VoicemailChanged,
)
from switchboard.store.bus import EventBus
from switchboard.store.protocol import NotFoundError, Store
from switchboard.voicemail.model import VoiceMessage
from tests.contract.conftest import Backend
from tests.contract.values import (
    ADMIN,
    FULL,
    LUNCH,
    T0,
    grant,
    lunch_referral,
    person,
    segments,
)


async def _peer(backend: Backend) -> tuple[Store, list[Event]]:
    assert backend.open_peer is not None
    bus = EventBus()
    seen: list[Event] = []
    bus.add_listener(seen.append)
    return await backend.open_peer(bus), seen


async def _drain(store: Store) -> int:
    total = 0
    while count := await store.catch_up():
        total += count
    assert count == 0
    return total


async def test_every_kind_of_change_reaches_another_process_equal_and_in_order(
    backend: Backend,
) -> None:
    peer, seen = await _peer(backend)
    store = backend.store
    await store.import_people([person(1), person(2), FULL], ADMIN, T0)
    await store.set_manual("p1", lunch_referral(), ADMIN, T0)
    await store.set_calendar("p2", "ews", segments(3), ADMIN, T0)
    await store.save_template("p1", LUNCH, ADMIN, T0)
    await store.grant_exception(grant("p1"))
    await store.set_sip_credential(make_credential("64001", "kommun", "hemligt-lösen"), ADMIN, T0)
    strict = make_credential("64002", "kommun", "bara-sha-256", sha256_only=True)
    await store.set_sip_credential(strict, ADMIN, T0)
    message = VoiceMessage("a" * 32, "p2", T0 + timedelta(minutes=1), "+46701234567", 2500)
    await store.add_voice_message(message, "switchboard")
    await store.save_person(person(1, extension="64999"), ADMIN, T0)
    await store.remove_person("p2", ADMIN, T0)
    await store.set_manual("p1", None, ADMIN, T0)
    made_here = backend.take_events()
    assert seen == []  # nothing arrives before the other process looks

    assert await _drain(peer) == len(made_here)
    assert seen == made_here
    kinds = {type(e) for e in seen}
    assert kinds >= {
        PersonSaved,
        DirectoryImported,
        ManualStatusChanged,
        CalendarChanged,
        TemplatesChanged,
        ExceptionsChanged,
        SipCredentialChanged,
        VoicemailChanged,
        PersonRemoved,
    }
    credentials = [e.credential for e in seen if isinstance(e, SipCredentialChanged)]
    assert credentials[:2] == [make_credential("64001", "kommun", "hemligt-lösen"), strict]
    assert strict.ha1_md5 is None  # a SHA-256-only phone stays one on every process
    assert await peer.catch_up() == 0  # each change once


async def test_a_write_publishes_what_others_committed_before_it_first(backend: Backend) -> None:
    peer, seen = await _peer(backend)
    await backend.store.save_person(person(1), ADMIN, T0)
    await backend.store.save_person(person(2), ADMIN, T0)
    version = await peer.set_manual("p1", lunch_referral(), ADMIN, T0)
    assert version == 3
    assert seen == [
        PersonSaved(1, person(1)),
        PersonSaved(2, person(2)),
        ManualStatusChanged(3, "p1", lunch_referral()),
    ]
    assert await peer.catch_up() == 0
    # ...and the first process sees the peer's write when it looks, after its own.
    backend.take_events()
    assert await _drain(backend.store) == 1
    assert backend.events == [ManualStatusChanged(3, "p1", lunch_referral())]


async def test_a_refused_write_publishes_nothing_and_loses_no_change(backend: Backend) -> None:
    peer, seen = await _peer(backend)
    await backend.store.save_person(person(1), ADMIN, T0)
    with pytest.raises(NotFoundError):
        await peer.set_manual("nobody", lunch_referral(), ADMIN, T0)
    assert seen == []
    assert await _drain(peer) == 1
    assert seen == [PersonSaved(1, person(1))]


async def test_catching_up_comes_in_bounded_batches(backend: Backend) -> None:
    peer, seen = await _peer(backend)
    many = [person(n) for n in range(1, 5001)]
    await backend.store.import_people(many, ADMIN, T0)
    first = await peer.catch_up()
    assert first is not None
    assert 0 < first < len(many) + 1
    assert await _drain(peer) == len(many) + 1 - first
    assert [e.person for e in seen if isinstance(e, PersonSaved)] == many


async def test_a_store_further_behind_than_the_feed_reaches_is_told_to_reload(
    backend: Backend,
) -> None:
    assert backend.keep_feed is not None
    backend.keep_feed(5)
    peer, seen = await _peer(backend)
    for n in range(1, 10):
        await backend.store.save_person(person(n), ADMIN, T0)
    assert await peer.catch_up() is None
    assert seen == []
    state = await peer.load()
    assert len(state.people) == 9
    assert state.version == 9
    assert await peer.catch_up() == 0  # load() starts it following from there
    await backend.store.set_manual("p3", lunch_referral(), ADMIN, T0)
    assert await _drain(peer) == 1
    assert seen == [ManualStatusChanged(10, "p3", lunch_referral())]


async def test_a_store_within_the_feed_applies_the_kept_changes(backend: Backend) -> None:
    assert backend.keep_feed is not None
    backend.keep_feed(5)
    peer, seen = await _peer(backend)
    for n in range(1, 4):
        await backend.store.save_person(person(n), ADMIN, T0)
    assert await _drain(peer) == 3
    for n in range(4, 9):
        await backend.store.save_person(person(n), ADMIN, T0)
    assert await _drain(peer) == 5
    assert [e.version for e in seen] == list(range(1, 9))
