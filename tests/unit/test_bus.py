"""The event bus: listeners in order and isolated from each other; bounded subscriptions."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from switchboard.events import Event, PersonRemoved
from switchboard.store.bus import EventBus, SubscriptionOverflow


def removed(version: int) -> PersonRemoved:
    return PersonRemoved(version, f"p{version}")


def test_listeners_run_in_the_order_they_were_added() -> None:
    bus = EventBus()
    calls: list[tuple[str, Event]] = []
    bus.add_listener(lambda e: calls.append(("first", e)))
    bus.add_listener(lambda e: calls.append(("second", e)))

    bus.publish(removed(1))
    bus.publish(removed(2))

    assert calls == [
        ("first", removed(1)),
        ("second", removed(1)),
        ("first", removed(2)),
        ("second", removed(2)),
    ]


def test_a_failing_listener_is_logged_and_the_others_still_run() -> None:
    bus = EventBus()
    seen: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("listener bug")

    bus.add_listener(broken)
    bus.add_listener(seen.append)

    with capture_logs() as logs:
        bus.publish(removed(1))

    assert seen == [removed(1)]
    assert [(entry["event"], entry["log_level"]) for entry in logs] == [
        ("event_listener_failed", "error")
    ]
    assert logs[0]["event_type"] == "PersonRemoved"
    assert logs[0]["version"] == 1


def test_removing_a_listener_stops_it_and_removing_twice_is_harmless() -> None:
    bus = EventBus()
    seen: list[Event] = []
    remove = bus.add_listener(seen.append)
    bus.publish(removed(1))
    remove()
    remove()
    bus.publish(removed(2))
    assert seen == [removed(1)]


async def test_a_subscription_receives_events_published_after_it_in_order() -> None:
    bus = EventBus()
    bus.publish(removed(1))
    with bus.subscribe() as events:
        for version in (2, 3, 4):
            bus.publish(removed(version))
        received = [await anext(events) for _ in range(3)]
    assert received == [removed(2), removed(3), removed(4)]


async def test_a_waiting_subscriber_wakes_for_a_new_event_and_ends_on_close() -> None:
    bus = EventBus()
    subscription = bus.subscribe()
    received: list[Event] = []
    started, got_one = asyncio.Event(), asyncio.Event()

    async def consume() -> None:
        started.set()
        async for event in subscription:
            received.append(event)
            got_one.set()

    async with asyncio.TaskGroup() as tg:
        tg.create_task(consume())
        await started.wait()  # the consumer is now parked on an empty queue
        bus.publish(removed(1))
        await got_one.wait()
        subscription.close()  # wakes the parked consumer; the TaskGroup waits for it to end

    assert received == [removed(1)]
    assert subscription.closed


async def test_a_slow_subscriber_overflows_instead_of_losing_events_silently() -> None:
    bus = EventBus()
    slow = bus.subscribe(maxsize=2)
    fast = bus.subscribe(maxsize=10)
    for version in (1, 2, 3):
        bus.publish(removed(version))

    assert slow.overflowed
    with pytest.raises(SubscriptionOverflow, match="behind"):
        await anext(slow)
    with pytest.raises(SubscriptionOverflow):
        await anext(slow)  # it stays overflowed: the consumer must resubscribe and resync
    assert [await anext(fast) for _ in range(3)] == [removed(1), removed(2), removed(3)]

    bus.publish(removed(4))  # an overflowed subscription is no longer fed
    assert await anext(fast) == removed(4)
    fast.close()


async def test_a_closed_subscription_ends_iteration_and_receives_nothing() -> None:
    bus = EventBus()
    with bus.subscribe() as events:
        bus.publish(removed(1))
    bus.publish(removed(2))
    assert [event async for event in events] == []


def test_a_subscription_needs_room_for_one_event() -> None:
    with pytest.raises(ValueError, match="at least one"):
        EventBus().subscribe(maxsize=0)
