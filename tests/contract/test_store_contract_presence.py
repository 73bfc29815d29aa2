"""The Store contract, part 2: manual status, calendar, templates, policy exceptions, misses.

Split from test_store_contract.py only to keep each file readable; same fixture, same rules.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from switchboard.directory.model import PolicyRule
from switchboard.events import (
    CalendarChanged,
    ExceptionsChanged,
    ManualStatusChanged,
    TemplatesChanged,
)
from switchboard.presence.model import ManualStatus, Template
from switchboard.store.protocol import NotFoundError, Store
from tests.contract.conftest import Backend
from tests.contract.values import (
    ADMIN,
    COURSE,
    GONE,
    LUNCH,
    T0,
    available_until,
    grant,
    lunch_referral,
    person,
    segments,
    state_and_audit,
)

STATUSES = {
    "referral-every-field": lunch_referral(),
    "available-until": available_until(),
    "available-open-ended": ManualStatus(referral=None, set_by="p1", set_at=T0),
}


@pytest.mark.parametrize("status", STATUSES.values(), ids=STATUSES.keys())
async def test_a_manual_status_reads_back_equal_and_clears(
    backend: Backend, status: ManualStatus
) -> None:
    await backend.store.import_people([person(1), person(2)], ADMIN, T0)
    backend.take_events()

    version = await backend.store.set_manual("p1", status, "reception", T0)
    assert (await backend.store.load()).manual == {"p1": status}
    assert backend.take_events() == [ManualStatusChanged(version, "p1", status)]

    cleared = await backend.store.set_manual("p1", None, "p1", T0)
    assert (await backend.store.load()).manual == {}
    assert backend.take_events() == [ManualStatusChanged(cleared, "p1", None)]
    assert cleared == version + 1


async def test_setting_a_manual_status_replaces_the_previous_one(backend: Backend) -> None:
    await backend.store.save_person(person(1), ADMIN, T0)
    await backend.store.set_manual("p1", lunch_referral(), "p1", T0)
    await backend.store.set_manual("p1", available_until(), "p1", T0)
    assert (await backend.store.load()).manual == {"p1": available_until()}


async def test_calendar_segments_are_kept_per_person_and_source(backend: Backend) -> None:
    await backend.store.import_people([person(1), person(2)], ADMIN, T0)
    backend.take_events()
    store = backend.store

    v1 = await store.set_calendar("p1", "ews", segments(3), "sync", T0)
    await store.set_calendar("p1", "ics", segments(1, T0 + timedelta(days=1)), "sync", T0)
    await store.set_calendar("p2", "ews", segments(2), "sync", T0)
    assert (await store.load()).calendar == {
        "p1": {"ews": segments(3), "ics": segments(1, T0 + timedelta(days=1))},
        "p2": {"ews": segments(2)},
    }
    assert backend.take_events()[0] == CalendarChanged(v1, "p1", "ews", segments(3))

    # A new fetch replaces that source's segments whole; an empty one clears the source.
    await store.set_calendar("p1", "ews", segments(1), "sync", T0)
    v5 = await store.set_calendar("p1", "ics", (), "sync", T0)
    assert (await store.load()).calendar == {
        "p1": {"ews": segments(1)},
        "p2": {"ews": segments(2)},
    }
    assert backend.take_events()[-1] == CalendarChanged(v5, "p1", "ics", ())


async def test_templates_keep_their_order_and_a_same_name_save_replaces(
    backend: Backend,
) -> None:
    await backend.store.import_people([person(1), person(2)], ADMIN, T0)
    backend.take_events()
    store = backend.store

    for template in (LUNCH, GONE, COURSE):
        await store.save_template("p1", template, "p1", T0)
    await store.save_template("p2", LUNCH, "p2", T0)
    longer = Template(LUNCH.name, LUNCH.reason, duration=timedelta(hours=1))
    version = await store.save_template("p1", longer, "p1", T0)

    assert (await store.load()).templates == {"p1": (longer, GONE, COURSE), "p2": (LUNCH,)}
    assert backend.take_events()[-1] == TemplatesChanged(version, "p1", (longer, GONE, COURSE))

    version = await store.delete_template("p1", GONE.name, "p1", T0)
    assert (await store.load()).templates == {"p1": (longer, COURSE), "p2": (LUNCH,)}
    assert backend.take_events() == [TemplatesChanged(version, "p1", (longer, COURSE))]


async def test_policy_exceptions_are_granted_regranted_and_revoked(backend: Backend) -> None:
    store = backend.store
    hide = grant("Person1@Kommun.example", PolicyRule.HIDE_EXTENSION)
    other_rule = grant("person1@kommun.example", PolicyRule.HIDE_MOBILE_WITHOUT_EXTENSION)
    by_extension = grant("64002", PolicyRule.HIDE_EXTENSION, reason="Hotad")

    for exception in (hide, other_rule, by_extension):
        await store.grant_exception(exception)
    assert (await store.load()).exceptions == (hide, other_rule, by_extension)
    entry = (await store.audit(limit=1))[0]
    assert (entry.actor, entry.action, entry.subject, entry.at) == (
        ADMIN,
        "exception_granted",
        "64002",
        by_extension.granted_at,
    )

    # The same subject (in any case) and rule again: a new reason replaces the old one.
    renewed = grant("person1@kommun.example", PolicyRule.HIDE_EXTENSION, reason="Ny utredning")
    await store.grant_exception(renewed)
    assert (await store.load()).exceptions == (renewed, other_rule, by_extension)

    backend.take_events()
    version = await store.revoke_exception("PERSON1@kommun.example", hide.rule, ADMIN, T0)
    assert (await store.load()).exceptions == (other_rule, by_extension)
    assert backend.take_events() == [ExceptionsChanged(version, (other_rule, by_extension))]


Write = Callable[[Store], Awaitable[object]]

MISSES: dict[str, Write] = {
    "remove-unknown-person": lambda s: s.remove_person("ghost", ADMIN, T0),
    "manual-for-unknown-person": lambda s: s.set_manual("ghost", available_until(), ADMIN, T0),
    "clear-manual-for-unknown-person": lambda s: s.set_manual("ghost", None, ADMIN, T0),
    "calendar-for-unknown-person": lambda s: s.set_calendar("ghost", "ews", (), "sync", T0),
    "template-for-unknown-person": lambda s: s.save_template("ghost", LUNCH, ADMIN, T0),
    "delete-template-of-unknown-person": lambda s: s.delete_template("ghost", "x", ADMIN, T0),
    "delete-unknown-template": lambda s: s.delete_template("p1", "Fika", ADMIN, T0),
    "revoke-unknown-exception": lambda s: s.revoke_exception(
        "person1@kommun.example", PolicyRule.HIDE_MOBILE_WITHOUT_EXTENSION, ADMIN, T0
    ),
}


@pytest.mark.parametrize("write", MISSES.values(), ids=MISSES.keys())
async def test_a_write_about_something_unknown_raises_not_found_and_changes_nothing(
    backend: Backend, write: Write
) -> None:
    await backend.store.save_person(person(1), ADMIN, T0)
    await backend.store.save_template("p1", LUNCH, "p1", T0)
    await backend.store.grant_exception(grant())
    before = await state_and_audit(backend.store)
    backend.take_events()

    with pytest.raises(NotFoundError):
        await write(backend.store)

    assert await state_and_audit(backend.store) == before
    assert backend.events == []


async def test_each_committed_write_reports_its_seconds_and_a_refused_one_none(
    backend: Backend,
) -> None:
    """``on_write`` feeds the metrics' store-write latency (issue 15), on both backends."""
    store = backend.store
    seen: list[float] = []
    store.on_write = seen.append  # type: ignore[attr-defined]
    await store.import_people([person(1)], ADMIN, T0)
    await store.set_manual("p1", lunch_referral(), "p1", T0)
    with pytest.raises(NotFoundError):
        await store.set_manual("nobody", lunch_referral(), "p1", T0)
    assert len(seen) == 2
    assert all(0 < s < 5 for s in seen)
