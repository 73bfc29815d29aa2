"""The Store contract, part 1: people, imports, versions, events and the audit trail.

Runs against every backend in conftest.BACKENDS. What it pins down is what the rest of the
system relies on: a write is whole or absent, bumps the version by exactly one, and its
events follow the commit carrying that version, so a node can apply events in order and
reload when it sees a gap.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from switchboard.directory.model import Person
from switchboard.events import DirectoryImported, PersonRemoved, PersonSaved
from switchboard.presence.model import Template
from switchboard.store.protocol import ImportResult, StoreError
from tests.contract.conftest import Backend
from tests.contract.values import (
    ADMIN,
    FULL,
    LUNCH,
    PEOPLE_TO_ROUND_TRIP,
    T0,
    available_until,
    grant,
    lunch_referral,
    person,
    segments,
    state_and_audit,
)


async def test_a_new_store_is_empty_at_version_zero(backend: Backend) -> None:
    state = await backend.store.load()
    assert state.version == 0
    assert await backend.store.version() == 0
    assert (state.people, state.manual, state.calendar, state.templates) == ((), {}, {}, {})
    assert state.exceptions == ()
    assert await backend.store.audit() == []


@pytest.mark.parametrize("who", PEOPLE_TO_ROUND_TRIP.values(), ids=PEOPLE_TO_ROUND_TRIP.keys())
async def test_a_saved_person_reads_back_equal(backend: Backend, who: Person) -> None:
    version = await backend.store.save_person(who, ADMIN, T0)
    state = await backend.store.load()
    assert state.people == (who,)
    assert state.version == version == 1
    assert backend.events == [PersonSaved(1, who)]


async def test_import_creates_then_updates_and_reports_counts(backend: Backend) -> None:
    first = await backend.store.import_people([person(1), person(2), FULL], ADMIN, T0)
    assert (first.created, first.updated, first.unchanged, first.version) == (3, 0, 0, 1)
    assert backend.take_events() == [
        PersonSaved(1, person(1)),
        PersonSaved(1, person(2)),
        PersonSaved(1, FULL),
        DirectoryImported(1, created=3, updated=0, unchanged=0),
    ]

    moved = person(2, unit="Ny enhet", title="Chef")
    second = await backend.store.import_people([person(1), moved, person(3)], ADMIN, T0)
    assert (second.created, second.updated, second.unchanged, second.version) == (1, 1, 1, 2)
    assert backend.take_events() == [
        PersonSaved(2, moved),
        PersonSaved(2, person(3)),
        DirectoryImported(2, created=1, updated=1, unchanged=1),
    ]
    people = {p.person_id: p for p in (await backend.store.load()).people}
    assert people == {"p1": person(1), "p2": moved, "p3": person(3), FULL.person_id: FULL}


async def test_reimporting_unchanged_people_changes_and_publishes_nothing(
    backend: Backend,
) -> None:
    everyone = [*PEOPLE_TO_ROUND_TRIP.values()]
    await backend.store.import_people(everyone, ADMIN, T0)
    backend.take_events()
    before = await backend.store.load()

    again = await backend.store.import_people(list(reversed(everyone)), ADMIN, T0)

    assert (again.created, again.updated, again.unchanged) == (0, 0, len(everyone))
    assert again.version == before.version == await backend.store.version()
    assert backend.events == []
    assert await backend.store.load() == before
    latest = (await backend.store.audit(limit=1))[0]
    assert (latest.action, latest.detail) == (
        "directory_imported",
        f"0 created, 0 updated, {len(everyone)} unchanged",
    )


async def test_reimport_that_updates_a_person_keeps_their_availability(backend: Backend) -> None:
    await backend.store.import_people([person(1), person(2)], ADMIN, T0)
    await backend.store.set_manual("p1", lunch_referral(), "reception", T0)
    await backend.store.set_calendar("p1", "ews", segments(2), "calendar-sync", T0)
    await backend.store.save_template("p1", LUNCH, "p1", T0)

    result = await backend.store.import_people(
        [person(1, title="Enhetschef", mobile="+46700000001"), person(2)], ADMIN, T0
    )

    assert result.updated == 1
    state = await backend.store.load()
    assert state.manual == {"p1": lunch_referral()}
    assert state.calendar == {"p1": {"ews": segments(2)}}
    assert state.templates == {"p1": (LUNCH,)}


async def test_two_people_may_swap_extensions_and_addresses_in_one_import(
    backend: Backend,
) -> None:
    await backend.store.import_people([person(1), person(2)], ADMIN, T0)
    one = person(1, extension=person(2).extension, email=person(2).email)
    two = person(2, extension=person(1).extension, email=person(1).email)

    result = await backend.store.import_people([one, two], ADMIN, T0)

    assert result.updated == 2
    assert (await backend.store.load()).people == (one, two)


async def test_save_person_updates_in_place(backend: Backend) -> None:
    await backend.store.save_person(person(1), ADMIN, T0)
    await backend.store.set_manual("p1", available_until(), "p1", T0)
    renamed = person(1, name="Person Ett", hours=FULL.hours)

    version = await backend.store.save_person(renamed, ADMIN, T0)

    state = await backend.store.load()
    assert (state.people, version) == ((renamed,), 3)
    assert state.manual == {"p1": available_until()}


async def test_removing_a_person_removes_their_availability_and_templates(
    backend: Backend,
) -> None:
    await backend.store.import_people([person(1), person(2)], ADMIN, T0)
    await backend.store.set_manual("p1", lunch_referral(), "p1", T0)
    await backend.store.set_calendar("p1", "ics", segments(3), "calendar-sync", T0)
    await backend.store.save_template("p1", LUNCH, "p1", T0)
    backend.take_events()

    version = await backend.store.remove_person("p1", ADMIN, T0)

    assert backend.events == [PersonRemoved(version, "p1")]
    state = await backend.store.load()
    assert state.people == (person(2),)
    assert (state.manual, state.calendar, state.templates) == ({}, {}, {})
    # Someone later given the same id starts with a clean slate.
    await backend.store.save_person(person(1), ADMIN, T0)
    assert (await backend.store.load()).manual == {}


CONFLICTS = {
    "same-extension": (person(9, extension=person(1).extension), person(1).extension),
    "same-email-other-case": (
        person(9, email="PERSON1@Kommun.Example"),
        "PERSON1@Kommun.Example",
    ),
}


@pytest.mark.parametrize(("newcomer", "value"), CONFLICTS.values(), ids=CONFLICTS.keys())
async def test_saving_a_taken_number_or_address_is_refused_and_changes_nothing(
    backend: Backend, newcomer: Person, value: str
) -> None:
    await backend.store.import_people([person(1), person(2)], ADMIN, T0)
    await backend.store.set_manual("p2", lunch_referral(), "p2", T0)
    before = await state_and_audit(backend.store)
    backend.take_events()

    with pytest.raises(StoreError, match=value):
        await backend.store.save_person(newcomer, ADMIN, T0)
    with pytest.raises(StoreError, match=value):
        await backend.store.import_people([person(3), newcomer], ADMIN, T0)
    taker = replace(newcomer, person_id="p2", name="Person 2")
    with pytest.raises(StoreError, match=value):
        await backend.store.import_people([taker], ADMIN, T0)

    assert await state_and_audit(backend.store) == before
    assert backend.events == []


async def test_an_import_naming_one_person_twice_is_refused(backend: Backend) -> None:
    with pytest.raises(StoreError, match="p1"):
        await backend.store.import_people([person(1), person(1, title="x")], ADMIN, T0)
    assert await backend.store.version() == 0


async def test_a_naive_datetime_is_refused(backend: Backend) -> None:
    await backend.store.save_person(person(1), ADMIN, T0)
    before = await state_and_audit(backend.store)
    naive = replace(available_until(), set_at=T0.replace(tzinfo=None))
    with pytest.raises(StoreError, match="time zone"):
        await backend.store.set_manual("p1", naive, "p1", T0)
    with pytest.raises(StoreError, match="time zone"):
        await backend.store.save_person(person(2), ADMIN, T0.replace(tzinfo=None))
    assert await state_and_audit(backend.store) == before


async def test_every_write_bumps_the_version_by_one_and_publishes_after_commit(
    backend: Backend,
) -> None:
    store = backend.store
    exception = grant()
    writes: list[Callable[[], Awaitable[int | ImportResult]]] = [
        lambda: store.import_people([person(1), person(2)], ADMIN, T0),
        lambda: store.save_person(person(3), ADMIN, T0),
        lambda: store.set_manual("p1", lunch_referral(), "p1", T0),
        lambda: store.set_manual("p1", None, "p1", T0),
        lambda: store.set_calendar("p2", "ews", segments(2), "sync", T0),
        lambda: store.save_template("p2", LUNCH, "p2", T0),
        lambda: store.delete_template("p2", LUNCH.name, "p2", T0),
        lambda: store.grant_exception(exception),
        lambda: store.revoke_exception(exception.subject, exception.rule, ADMIN, T0),
        lambda: store.remove_person("p3", ADMIN, T0),
    ]
    for expected, write in enumerate(writes, start=1):
        result = await write()
        version = result if isinstance(result, int) else result.version
        assert version == expected == await store.version()
        assert backend.events, f"write {expected} published nothing"
        assert {e.version for e in backend.events} == {expected}
        # Every event was published when another client could already see its version.
        assert backend.committed_at_publish == [expected] * len(backend.events)
        backend.take_events()


async def test_a_failing_listener_does_not_fail_the_write(backend: Backend) -> None:
    def broken(_: object) -> None:
        raise RuntimeError("listener bug")

    backend.bus.add_listener(broken)
    assert await backend.store.save_person(person(1), ADMIN, T0) == 1
    assert (await backend.store.load()).people == (person(1),)


async def test_the_audit_trail_records_who_did_what_to_whom_newest_first(
    backend: Backend,
) -> None:
    later = T0 + timedelta(minutes=5)
    await backend.store.import_people([person(1), person(2)], ADMIN, T0)
    await backend.store.set_manual("p1", lunch_referral(), "reception", later)
    await backend.store.save_person(person(2, unit="Skola", title="Rektor"), ADMIN, later)

    entries = await backend.store.audit()
    assert [(e.actor, e.action, e.subject) for e in entries] == [
        (ADMIN, "person_updated", "p2"),
        ("reception", "manual_set", "p1"),
        (ADMIN, "directory_imported", "directory"),
        (ADMIN, "person_created", "p2"),
        (ADMIN, "person_created", "p1"),
    ]
    assert [e.at for e in entries] == [later, later, T0, T0, T0]
    assert entries[0].detail == "updated: unit, title"
    assert [e.seq for e in entries] == sorted((e.seq for e in entries), reverse=True)

    assert [e.action for e in await backend.store.audit(limit=2)] == [
        "person_updated",
        "manual_set",
    ]
    assert [e.action for e in await backend.store.audit(subject="p1")] == [
        "manual_set",
        "person_created",
    ]


async def test_audit_details_and_values_never_contain_a_mobile_number(backend: Backend) -> None:
    """R18: the audit trail is read by administrators; secret numbers must not leak there."""
    store = backend.store
    secret = person(1, secret_mobile=True)
    await store.import_people([secret, person(2), FULL], ADMIN, T0)
    await store.save_person(replace(secret, mobile="+46735550101"), ADMIN, T0)
    await store.import_people([person(2, mobile="+46735550202", hide_mobile=True)], ADMIN, T0)
    await store.set_manual("p2", lunch_referral(), "reception", T0)  # diverts to a mobile
    status = lunch_referral(text="Ring min mobil 070-123 00 01", divert_to=str(FULL.mobile))
    await store.set_manual("p1", status, "p1", T0)
    await store.save_template("p1", Template("Ring +46 70 123 00 01", LUNCH.reason), "p1", T0)
    await store.set_calendar("p1", "+46701230001", segments(1), "sync", T0)
    await store.remove_person("p1", ADMIN, T0)

    mobiles = {"+46701230001", "+46735550101", "+46701230002", "+46735550202", "+46709876543"}
    mobiles.add(str(FULL.mobile))
    entries = await store.audit(10_000)
    assert len(entries) > 10
    for entry in entries:
        # Issue 17: old and new values are recorded too, and must keep the same promise.
        words = " ".join([entry.detail, *(f"{c.field} {c.old} {c.new}" for c in entry.changes)])
        digits = "".join(c for c in words if c.isdigit())
        for mobile in mobiles:
            national = mobile[3:]  # 70..., the part every written form of the number shares
            assert mobile not in words, entry
            assert national not in digits, entry
