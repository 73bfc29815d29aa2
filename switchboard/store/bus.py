"""The in-process event bus: how a committed store write reaches the live view and the pages.

The store publishes each change event after its transaction commits (see ``protocol.py``);
the bus hands it on in two ways:

- **Listeners** are plain callables run synchronously, in the order they were added, inside
  ``publish``. The live view uses one so that its in-memory state is current before the
  write call returns to its caller. A failing listener is logged and skipped: one broken
  consumer must not keep the others (or the writer) from seeing a committed change.
- **Subscriptions** are async iterators for consumers that run at their own pace (an open
  receptionist screen over SSE/WebSocket). Each has a bounded queue so a stalled browser
  cannot grow memory without limit. When the queue is full the subscription is *overflowed*:
  it stops receiving and its iteration raises :class:`SubscriptionOverflow`, because
  silently dropping an event would leave that consumer wrong without knowing it. The
  consumer then subscribes anew and resynchronises from the store by version
  (ARCHITECTURE: "a node that reconnects resynchronises from the store by version").

``publish`` never blocks and never raises; call it from the event loop's thread.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from contextlib import suppress
from types import TracebackType
from typing import Final

import structlog

from switchboard.events import Event

log = structlog.get_logger()

Listener = Callable[[Event], None]


class SubscriptionOverflow(Exception):  # noqa: N818 - the name says what happened
    """A subscriber fell ``maxsize`` events behind; it must resync from the store by version."""

    def __init__(self, maxsize: int) -> None:
        super().__init__(
            f"subscriber fell more than {maxsize} events behind and stopped receiving; "
            "subscribe again, then reload from the store and continue from its version"
        )
        self.maxsize = maxsize


class _Closed(enum.Enum):
    """Sentinel put on the queue to wake a consumer waiting on a closed subscription."""

    TOKEN = enum.auto()


_CLOSED: Final = _Closed.TOKEN


class Subscription:
    """Events published after ``EventBus.subscribe()``, in order, as an async iterator.

    Use as ``with bus.subscribe() as events: async for event in events: ...``. After an
    overflow every further ``__anext__`` raises :class:`SubscriptionOverflow`; after
    ``close()`` iteration ends.
    """

    def __init__(self, bus: EventBus, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("a subscription needs a queue of at least one event")
        self._bus = bus
        self._maxsize = maxsize
        self._queue: asyncio.Queue[Event | _Closed] = asyncio.Queue(maxsize)
        self._overflowed = False
        self._closed = False

    @property
    def overflowed(self) -> bool:
        return self._overflowed

    @property
    def closed(self) -> bool:
        return self._closed

    def offer(self, event: Event) -> None:
        """Queue ``event`` without waiting; on a full queue mark this subscription overflowed."""
        if self._closed or self._overflowed:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._overflowed = True
            self._bus.detach(self)
            # The backlog is stale once the consumer resyncs; free it now.
            while not self._queue.empty():
                self._queue.get_nowait()
            # Wake a consumer already waiting in __anext__, or it would wait forever.
            self._queue.put_nowait(_CLOSED)
            log.warning("event_subscriber_overflowed", maxsize=self._maxsize)

    def close(self) -> None:
        """Stop receiving; a consumer waiting in ``async for`` finishes its loop."""
        if self._closed:
            return
        self._closed = True
        self._bus.detach(self)
        # A waiting consumer means an empty queue, so the sentinel fits; if the queue is full
        # nobody waits and the next __anext__ sees the flag.
        with suppress(asyncio.QueueFull):
            self._queue.put_nowait(_CLOSED)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        if self._closed:
            raise StopAsyncIteration
        if self._overflowed:
            raise SubscriptionOverflow(self._maxsize)
        item = await self._queue.get()
        if item is _CLOSED:
            if self._overflowed:
                raise SubscriptionOverflow(self._maxsize)
            raise StopAsyncIteration
        return item

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class EventBus:
    """Fans each published event out to listeners (synchronously) and subscriptions (queued)."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        # A dict keeps subscription order deterministic (insertion order) with O(1) removal.
        self._subscriptions: dict[Subscription, None] = {}

    def publish(self, event: Event) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception(
                    "event_listener_failed",
                    event_type=type(event).__name__,
                    version=event.version,
                    listener=getattr(listener, "__qualname__", repr(listener)),
                )
        for subscription in tuple(self._subscriptions):
            subscription.offer(event)

    def add_listener(self, fn: Listener) -> Callable[[], None]:
        """Call ``fn`` with every event from now on; the returned function stops that."""
        entry: list[Listener] = [fn]
        self._listeners.append(fn)

        def remove() -> None:
            # Remove this registration once, even if the same function was added twice.
            if entry:
                self._listeners.remove(entry.pop())

        return remove

    def subscribe(self, maxsize: int = 1000) -> Subscription:
        subscription = Subscription(self, maxsize)
        self._subscriptions[subscription] = None
        return subscription

    def detach(self, subscription: Subscription) -> None:
        """Forget ``subscription`` (called by it on close or overflow)."""
        self._subscriptions.pop(subscription, None)
