"""The Store contract, part 10: planned referrals beside the manual status (issue 16).

A plan is added and cancelled on its own: the current status stays as it was, and setting
the current status leaves the plans alone. Every write publishes the person's remaining
plans (``PlansChanged``) and appends it to the change feed, so another process (the CLI
next to ``serve``, another worker) sees the same list; each is audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from switchboard.events import Event, PersonRemoved, PlansChanged
from switchboard.presence.model import PlannedReferral, Reason, Referral, ReferralKind, Source
from switchboard.store.bus import EventBus
from switchboard.store.protocol import NotFoundError, StoreError
from tests.contract.conftest import Backend
from tests.contract.values import ADMIN, STOCKHOLM, T0, available_until, lunch_referral, person

DECEMBER = datetime(2024, 12, 21, 8, 0, tzinfo=STOCKHOLM)


def holiday(plan_id: str = "h1", starts: datetime = DECEMBER, days: int = 8) -> PlannedReferral:
    """Every field set, times in a non-UTC zone."""
    return PlannedReferral(
        plan_id,
        Referral(
            Reason.HOLIDAY,
            ReferralKind.CLOSED,
            starts + timedelta(days=days),
            "Julledigt",
            Source.ON_BEHALF,
            "+46709876543",
        ),
        "reception",
        T0,
        starts,
    )


async def test_a_plan_reads_back_equal_beside_the_current_status(backend: Backend) -> None:
    store = backend.store
    await store.import_people([person(1), person(2)], ADMIN, T0)
    await store.set_manual("p1", lunch_referral(), "p1", T0)
    backend.take_events()

    v1 = await store.add_plan("p1", holiday(), "p1", T0)
    later = holiday("h2", DECEMBER + timedelta(days=30), 2)
    v2 = await store.add_plan("p1", later, "p1", T0)
    state = await store.load()
    assert state.plans == {"p1": (holiday(), later)}
    assert state.manual == {"p1": lunch_referral()}  # planning leaves the current status
    assert backend.take_events() == [
        PlansChanged(v1, "p1", (holiday(),)),
        PlansChanged(v2, "p1", (holiday(), later)),
    ]


async def test_plans_come_back_by_start_whatever_order_they_were_added(backend: Backend) -> None:
    store = backend.store
    await store.save_person(person(1), ADMIN, T0)
    early = holiday("e1", DECEMBER - timedelta(days=30), 1)
    await store.add_plan("p1", holiday(), "p1", T0)
    await store.add_plan("p1", early, "p1", T0)
    assert (await store.load()).plans == {"p1": (early, holiday())}


async def test_setting_the_current_status_leaves_the_plans_alone(backend: Backend) -> None:
    store = backend.store
    await store.save_person(person(1), ADMIN, T0)
    await store.add_plan("p1", holiday(), "p1", T0)
    await store.set_manual("p1", available_until(), "p1", T0)
    await store.set_manual("p1", None, "p1", T0)
    assert (await store.load()).plans == {"p1": (holiday(),)}


async def test_cancelling_removes_one_plan_and_publishes_what_is_left(backend: Backend) -> None:
    store = backend.store
    await store.save_person(person(1), ADMIN, T0)
    later = holiday("h2", DECEMBER + timedelta(days=30), 2)
    await store.add_plan("p1", holiday(), "p1", T0)
    await store.add_plan("p1", later, "p1", T0)
    backend.take_events()

    version = await store.cancel_plan("p1", "h1", "p1", T0)
    assert (await store.load()).plans == {"p1": (later,)}
    assert backend.take_events() == [PlansChanged(version, "p1", (later,))]
    last = await store.cancel_plan("p1", "h2", "p1", T0)
    assert (await store.load()).plans == {}
    assert backend.take_events() == [PlansChanged(last, "p1", ())]


async def test_plans_that_ended_are_dropped_by_the_next_write(backend: Backend) -> None:
    store = backend.store
    await store.save_person(person(1), ADMIN, T0)
    await store.add_plan("p1", holiday(), "p1", T0)
    after_it = DECEMBER + timedelta(days=9)
    later = holiday("h2", after_it + timedelta(days=1), 1)
    version = await store.add_plan("p1", later, "p1", after_it)
    assert (await store.load()).plans == {"p1": (later,)}
    assert backend.take_events()[-1] == PlansChanged(version, "p1", (later,))
    with pytest.raises(NotFoundError):  # an ended plan cannot be cancelled any more
        await store.cancel_plan("p1", "h1", "p1", after_it)


async def test_refused_plan_writes_change_nothing(backend: Backend) -> None:
    store = backend.store
    await store.save_person(person(1), ADMIN, T0)
    await store.add_plan("p1", holiday(), "p1", T0)
    before = await store.version()
    backend.take_events()
    with pytest.raises(StoreError, match="h1"):
        await store.add_plan("p1", holiday(), "p1", T0)  # the same id twice
    with pytest.raises(NotFoundError, match="nope"):
        await store.cancel_plan("p1", "nope", "p1", T0)
    with pytest.raises(NotFoundError):
        await store.add_plan("p9", holiday("x"), "p9", T0)
    assert await store.version() == before
    assert backend.take_events() == []


async def test_plan_writes_are_audited_with_what_and_when(backend: Backend) -> None:
    store = backend.store
    await store.save_person(person(1), ADMIN, T0)
    await store.add_plan("p1", holiday(), "anna", T0)
    await store.cancel_plan("p1", "h1", "reception", T0)
    entries = await store.audit(subject="p1")
    actions = [(e.actor, e.action) for e in entries[:2]]
    assert ("anna", "plan_added") in actions
    assert ("reception", "plan_cancelled") in actions
    added = next(e for e in entries if e.action == "plan_added")
    assert "plan h1" in added.detail
    assert "holiday" in added.detail
    assert "+46709876543" not in repr(added)  # a divert number is masked in the audit


async def test_removing_a_person_removes_their_plans(backend: Backend) -> None:
    store = backend.store
    await store.import_people([person(1), person(2)], ADMIN, T0)
    await store.add_plan("p1", holiday(), "p1", T0)
    await store.add_plan("p2", holiday("h2"), "p2", T0)
    await store.remove_person("p1", ADMIN, T0)
    assert (await store.load()).plans == {"p2": (holiday("h2"),)}
    await store.save_person(person(1), ADMIN, T0)  # the same id again starts with none
    assert (await store.load()).plans == {"p2": (holiday("h2"),)}


async def test_a_plan_reaches_another_process_through_the_feed(backend: Backend) -> None:
    assert backend.open_peer is not None
    bus = EventBus()
    seen: list[Event] = []
    bus.add_listener(seen.append)
    peer = await backend.open_peer(bus)
    store = backend.store
    await store.import_people([person(1), person(2)], ADMIN, T0)
    await store.add_plan("p1", holiday(), ADMIN, T0)
    await store.cancel_plan("p1", "h1", ADMIN, T0)
    await store.add_plan("p2", holiday("h2"), ADMIN, T0)
    await store.remove_person("p2", ADMIN, T0)
    made_here = backend.take_events()
    while await peer.catch_up():
        pass
    assert seen == made_here
    assert [type(e) for e in seen][-4:] == [PlansChanged, PlansChanged, PlansChanged, PersonRemoved]
    assert (await peer.load()).plans == {}


async def test_pruning_drops_ended_plans_and_writes_nothing_when_none_ended(
    backend: Backend,
) -> None:
    store = backend.store
    await store.save_person(person(1), ADMIN, T0)
    later = holiday("h2", DECEMBER + timedelta(days=30), 2)
    await store.add_plan("p1", holiday(), "p1", T0)
    await store.add_plan("p1", later, "p1", T0)
    backend.take_events()
    before = await store.version()

    assert await store.prune_plans("p1", "switchboard", DECEMBER + timedelta(days=1)) is None
    assert await store.version() == before
    assert backend.take_events() == []

    version = await store.prune_plans("p1", "switchboard", DECEMBER + timedelta(days=8))
    assert version == before + 1
    assert (await store.load()).plans == {"p1": (later,)}
    assert backend.take_events() == [PlansChanged(before + 1, "p1", (later,))]
    [entry] = [e for e in await store.audit(subject="p1") if e.action == "plans_ended"]
    assert entry.actor == "switchboard"
    assert "h1" in entry.detail
