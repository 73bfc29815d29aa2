"""The calendar worker: reads every configured source on its schedule and keeps the store's
calendar segments current (R7); tells screens when a stored segment begins or ends.

Per source, one loop: read each person the source covers, map the items with the pure mapper
(:func:`switchboard.presence.calendar.map_items`), write through ``Engine.set_calendar`` (which
ignores unchanged answers, so a quiet calendar writes nothing). Then wait for the poll
interval, or less when a Graph change notification wakes it. A failing source waits longer
each time (exponential backoff with jitter, capped), so a dead server is not hammered and
many nodes do not retry in step.

**Transitions on time.** Routing needs no help: ``resolve()`` evaluates the stored segments
against the instant of each call. Screens do: they show what was true when they last heard
something. Re-saving the segments at each boundary would bump the store version and write
the audit trail for nothing, so instead the worker computes the next instant at which any
stored segment (or manual status) starts or ends and publishes a :class:`PresenceTicked` on
the bus at that instant; screens re-resolve that person. The instant is recomputed whenever
a calendar or manual status changes, so a new meeting starting in two minutes is nudged on
time without polling every minute.

A manual referral wins over the calendar until it expires or is cleared (R5-R6); the worker
never touches manual statuses, and resolve() lets the calendar decide again afterwards. It
only drops planned referrals once they have ended (issue 16), at their return time.

Health per source (:meth:`CalendarWorker.health`) is a tuple of frozen values for the pages
and is also written as JSON next to the database for ``switchboard calendar health``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import structlog

from switchboard.calendar_sync.errors import CalendarError
from switchboard.calendar_sync.graph_notify import Notification, NotificationKind
from switchboard.calendar_sync.readers import GraphReader, Reader
from switchboard.calendar_sync.transitions import Transitions, instants
from switchboard.clock import Clock
from switchboard.directory.model import Person
from switchboard.events import (
    CalendarChanged,
    Event,
    ManualStatusChanged,
    PersonRemoved,
    PlansChanged,
    PresenceTicked,
    StoreReloaded,
)
from switchboard.live.engine import Engine
from switchboard.presence.calendar import ReferralCodes, map_items
from switchboard.presence.model import BusyClass, CalendarSegment
from switchboard.settings.calendar import CalendarSource
from switchboard.store.bus import EventBus
from switchboard.store.protocol import StoreError

log = structlog.get_logger()
PRUNED_BY = "switchboard:plans"
"""The actor the audit names for plans dropped at their end."""

Sleep = Callable[[float], Coroutine[Any, Any, None]]
BACKOFF_BASE = 5.0
BACKOFF_CAP = 900.0
MAX_PROBLEMS = 20
IDLE_RECHECK = 3600.0
"""Longest wait between transition checks when nothing is scheduled."""
INDEX_SLICE = 2_000
"""People indexed between two yields to the event loop (a few milliseconds)."""
HEALTH_EVERY = 1.0
"""Seconds between two writes of the health file (see ``_write_health``)."""
MAP_ON_LOOP = 40
"""Items mapped on the event loop (well under a millisecond); more are mapped on the
worker's thread, so a calendar of thousands of items never holds the loop."""


def backoff_delay(failures: int, rand: Callable[[], float], *, base: float, cap: float) -> float:
    """Seconds before retry number ``failures`` (>= 1): ``base * 2**(failures-1)`` capped,
    then "equal jitter": a uniform pick in its upper half, so retries spread out but never
    come back sooner than half the nominal delay."""
    nominal = min(cap, base * 2.0 ** min(failures - 1, 30))
    return nominal / 2 + rand() * nominal / 2


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """What an administrator needs to see about one source, at ``at``."""

    source: str
    type: str
    at: datetime
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    failures: int
    """Consecutive failed rounds (0 after a success)."""
    people: int
    items: int
    """Occurrences read in the window in the last successful round."""
    problems: tuple[str, ...]
    """From the last round: unreadable events, people it could not read (at most 20)."""
    lag: float | None
    """Seconds since the last successful round (None: never succeeded)."""
    next_run: datetime | None

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = value.isoformat()
        out["problems"] = list(self.problems)
        return out


@dataclass(slots=True)
class _State:
    source: CalendarSource
    reader: Reader
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    wake_full: bool = False
    pushes: asyncio.Queue[Notification] = field(default_factory=asyncio.Queue)
    last_success: datetime | None = None
    last_full: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    failures: int = 0
    people: int = 0
    items: int = 0
    problems: tuple[str, ...] = ()
    next_run: datetime | None = None


class CalendarWorker:
    def __init__(
        self,
        engine: Engine,
        bus: EventBus,
        sources: Sequence[tuple[CalendarSource, Reader]],
        *,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        backoff_base: float = BACKOFF_BASE,
        backoff_cap: float = BACKOFF_CAP,
        health_file: Path | None = None,
        on_health: Callable[[Sequence[SourceHealth]], None] | None = None,
        offload: Executor | None = None,
        health_every: float = HEALTH_EVERY,
    ) -> None:
        """``offload``: the thread big calendars are mapped on (None: asyncio's default)."""
        self._engine, self._bus, self._clock = engine, bus, clock
        self._offload = offload
        self._health_every = health_every
        self._file_due: asyncio.TimerHandle | None = None
        self._file_written = float("-inf")
        """The loop's time of the last health file write."""
        self._file_writes: set[asyncio.Future[None]] = set()
        self._sleep, self._rand = sleep, rand
        self._base, self._cap = backoff_base, backoff_cap
        self._health_file = health_file
        self._on_health = on_health
        self._states = {s.name: _State(s, r) for s, r in sources}
        self._recompute = asyncio.Event()
        self._transitions = Transitions()
        self._reindex = True
        """The index must be filled from the view (at start, and after a reload)."""
        self._group: asyncio.TaskGroup | None = None
        self._tasks: dict[str, list[asyncio.Task[None]]] = {}
        self._jobs: list[Callable[[], Coroutine[Any, Any, None]]] = []

    # -- reads -------------------------------------------------------------------------------
    def health(self, name: str | None = None) -> tuple[SourceHealth, ...]:
        """Every source's health, or source ``name``'s alone."""
        now = self._clock.now()
        states = self._states.values() if name is None else (self._states[name],)
        return tuple(
            SourceHealth(
                s.source.name,
                s.source.type.value,
                now,
                s.last_success,
                s.last_error,
                s.last_error_at,
                s.failures,
                s.people,
                s.items,
                s.problems,
                (now - s.last_success).total_seconds() if s.last_success else None,
                s.next_run,
            )
            for s in states
        )

    def targets(self, source: CalendarSource) -> list[Person]:
        """The people a source covers now (the directory can change between rounds)."""
        view = self._engine.view
        if source.person_id is not None:
            found = view.person(source.person_id)
            return [found] if found is not None else []
        if source.person is not None:
            person = view.find(source.person)
            return [person] if person is not None else []
        return [p for p in view.everyone() if p.organisation == source.organisation and p.email]

    # -- one round ---------------------------------------------------------------------------
    def wake(self, name: str, *, full: bool = False) -> None:
        """Read source ``name`` now (a change notification); ``full``: a complete read."""
        state = self._states[name]
        state.wake_full = state.wake_full or full
        state.wake.set()

    async def sync(self, name: str, *, full: bool = False, only: str | None = None) -> bool:
        """One round of source ``name`` (``only``: one person's e-mail); True on success.

        A round fails when the source cannot be read for anyone it covers; people it cannot
        read while others succeed are listed in the problems, never dropped silently.
        """
        state = self._states[name]
        source = state.source
        now = self._clock.now()
        start = now - timedelta(days=source.past_days)
        end = now + timedelta(days=source.future_days)
        people = self.targets(source)
        if only is not None:
            people = [p for p in people if (p.email or "").lower() == only.lower()]
        problems: list[str] = []
        if not people and only is None:
            problems.append(
                "nobody in the directory matches "
                f"{source.person or source.organisation or source.person_id}"
            )
        errors: list[str] = []
        items = 0
        for person in people:
            try:
                feed = await state.reader.read(person, start, end, full=full)
            except CalendarError as exc:
                errors.append(f"{person.person_id}: {exc}")
                continue
            items += len(feed.items)
            problems.extend(f"{person.person_id}: {p.uid or '?'}: {p.what}" for p in feed.problems)
            map_them = partial(self._segments, source, person, feed.items, start, end)
            if len(feed.items) <= MAP_ON_LOOP:
                segments = map_them()
            else:
                loop = asyncio.get_running_loop()
                segments = await loop.run_in_executor(self._offload, map_them)
            await self._engine.set_calendar(person, source.name, segments, f"calendar:{name}")
        done = self._clock.now()
        if people and len(errors) == len(people):
            state.failures += 1
            state.last_error, state.last_error_at = errors[0], done
            state.problems = tuple(errors[:MAX_PROBLEMS])
            log.warning("calendar_sync_failed", source=name, failures=state.failures)
            self._write_health(name)
            return False
        state.failures = 0
        state.last_success = done
        if full:
            state.last_full = done
        if errors:
            state.last_error, state.last_error_at = errors[0], done
        state.people, state.items = len(people), items
        state.problems = tuple((errors + problems)[:MAX_PROBLEMS])
        log.info("calendar_synced", source=name, people=len(people), items=items)
        self._write_health(name)
        return True

    def _segments(
        self,
        source: CalendarSource,
        person: Person,
        items: Sequence[Any],
        start: datetime,
        end: datetime,
    ) -> tuple[CalendarSegment, ...]:
        codes = ReferralCodes(source.codes) if source.codes is not None else None
        segments = map_items(
            items,
            window_start=start,
            window_end=end,
            codes=codes,
            language=person.language,
            owner_email=person.email,
            secrets=self._engine.secret_numbers(),
        )
        if source.tentative_diverts:
            # The source says tentative diverts for everyone it covers (docs/calendar.md).
            segments = tuple(
                CalendarSegment(
                    s.start, s.end, BusyClass.BUSY, s.reason, s.kind, s.label, s.private
                )
                if s.busy is BusyClass.TENTATIVE
                else s
                for s in segments
            )
        return segments

    # -- loops -------------------------------------------------------------------------------
    async def run(self) -> None:
        """Every source's loop, the transition loop and the ``also_run`` jobs, owned by
        one TaskGroup."""
        unsubscribe = self._bus.add_listener(self._on_event)
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                for name in self._states:
                    self._start(name)
                group.create_task(self.run_transitions(), name="calendar-transitions")
                for job in self._jobs:
                    group.create_task(job())
        finally:
            self._group = None
            unsubscribe()
            if self._file_due is not None:  # the last rounds' health, once, on the way out
                self._file_due.cancel()
                self._file_due = None
                if self._health_file is not None:
                    write_health(self._health_file, self.health())

    def also_run(self, job: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``job()`` under the worker's TaskGroup (before ``run``)."""
        self._jobs.append(job)

    def _start(self, name: str) -> None:
        assert self._group is not None  # noqa: S101 - only called while run() runs
        tasks = [self._group.create_task(self.run_source(name), name=f"calendar-{name}")]
        if isinstance(self._states[name].reader, GraphReader):
            push = self._group.create_task(self.run_push(name), name=f"calendar-push-{name}")
            tasks.append(push)
        self._tasks[name] = tasks

    async def add_source(self, source: CalendarSource, reader: Reader) -> None:
        """Start reading a source while running (a calendar an employee connected,
        issue 16); one of the same name is replaced."""
        await self.remove_source(source.name)
        self._states[source.name] = _State(source, reader)
        if self._group is not None:
            self._start(source.name)

    async def remove_source(self, name: str) -> bool:
        """Stop reading source ``name`` and forget its health; False if there was none.
        Its stored segments stay: the caller decides what becomes of them."""
        tasks = self._tasks.pop(name, [])
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        if self._states.pop(name, None) is None:
            return False
        if self._on_health is not None:
            self._on_health((removed_health(name, self._clock.now()),))
        self._schedule_file()
        return True

    async def run_source(self, name: str, *, rounds: int | None = None) -> None:
        """Round, wait, round...: ``rounds`` bounds it for tests; None runs until cancelled."""
        state = self._states[name]
        source = state.source
        done = 0
        while rounds is None or done < rounds:
            now = self._clock.now()
            full = state.wake_full or (
                state.last_full is None
                or now - state.last_full >= timedelta(seconds=source.reconcile)
            )
            state.wake_full = False
            ok = await self.sync(name, full=full)
            if ok and isinstance(state.reader, GraphReader):
                try:
                    await state.reader.keep_subscribed(self.targets(source), self._clock.now())
                except CalendarError as exc:
                    state.problems = (*state.problems, f"subscriptions: {exc}")[:MAX_PROBLEMS]
            done += 1
            if ok:
                delay = float(source.poll)
            else:
                delay = backoff_delay(state.failures, self._rand, base=self._base, cap=self._cap)
            state.next_run = self._clock.now() + timedelta(seconds=delay)
            self._write_health(name)  # the report says when the next round comes (the card)
            if rounds is not None and done >= rounds:
                break
            await self._pause(delay, state.wake)

    async def _pause(self, seconds: float, wake: asyncio.Event) -> bool:
        """Sleep ``seconds`` (through the injected sleep) or until ``wake`` is set; True if
        woken."""
        woken = wake.is_set()
        if not woken:
            async with asyncio.TaskGroup() as group:
                sleeper = group.create_task(self._sleep(max(seconds, 0.0)))
                waiter = group.create_task(wake.wait())
                await asyncio.wait((sleeper, waiter), return_when=asyncio.FIRST_COMPLETED)
                woken = waiter.done() and not waiter.cancelled()
                sleeper.cancel()
                waiter.cancel()
        wake.clear()
        return woken

    # -- push (Graph change notifications) --------------------------------------------------
    def notify(self, name: str, notification: Notification) -> None:
        """Hand a notification to source ``name``'s push loop (called by the receiver)."""
        self._states[name].pushes.put_nowait(notification)

    async def run_push(self, name: str, *, count: int | None = None) -> None:
        """Apply notifications: a change refreshes that person only; ``missed`` wakes a full
        reconcile; lifecycle events renew or re-create the subscription."""
        state = self._states[name]
        reader = state.reader
        handled = 0
        while count is None or handled < count:
            notification = await state.pushes.get()
            handled += 1
            if not isinstance(reader, GraphReader):
                continue
            if notification.kind is NotificationKind.CHANGED:
                user = reader.user_of(notification)
                if user is not None:
                    await self.sync(name, only=user)
            elif notification.kind is NotificationKind.MISSED:
                self.wake(name, full=True)
            else:
                try:
                    await reader.lifecycle(notification, self._clock.now())
                except CalendarError as exc:
                    log.warning("graph_subscription_failed", source=name, error=str(exc))

    def _on_event(self, event: Event) -> None:
        view = self._engine.view
        if isinstance(event, CalendarChanged | ManualStatusChanged | PlansChanged):
            person_id = event.person_id
            self._transitions.set(person_id, instants(view.presence_inputs(person_id)))
        elif isinstance(event, PersonRemoved):
            self._transitions.set(event.person_id, ())
        elif isinstance(event, StoreReloaded):
            self._reindex = True
        else:
            return
        self._recompute.set()

    def next_transition(self, after: datetime) -> tuple[datetime, tuple[str, ...]] | None:
        """The first instant after ``after`` at which a stored segment or manual status
        starts or ends, and whose it is (from the index the events keep current)."""
        return self._transitions.next_after(after)

    async def _index_everyone(self) -> None:
        """Fill the transition index from the view, a slice of people at a time, so a
        region's directory never holds the event loop."""
        view = self._engine.view
        people = view.everyone()
        for start in range(0, len(people), INDEX_SLICE):
            for person in people[start : start + INDEX_SLICE]:
                self._transitions.set(
                    person.person_id, instants(view.presence_inputs(person.person_id))
                )
            await asyncio.sleep(0)

    async def run_transitions(self, *, ticks: int | None = None) -> None:
        """Publish PresenceTicked at each transition instant (``ticks`` bounds it for tests)."""
        published = 0
        after = self._clock.now()
        while ticks is None or published < ticks:
            self._recompute.clear()
            if self._reindex:
                self._reindex = False
                self._transitions = Transitions()
                await self._index_everyone()
            upcoming = self.next_transition(after)
            if upcoming is None:
                await self._pause(IDLE_RECHECK, self._recompute)
                continue
            at, people = upcoming
            delay = (at - self._clock.now()).total_seconds()
            if delay > 0:
                woken = await self._pause(min(delay, IDLE_RECHECK), self._recompute)
                if woken or self._clock.now() < at:
                    continue  # something changed, or the wait was capped: compute again
            for person_id in people:
                self._bus.publish(PresenceTicked(person_id, at))
            log.info("presence_ticked", people=len(people), at=at.isoformat())
            await self._prune_plans(people)
            published += 1
            after = at

    async def _prune_plans(self, people: tuple[str, ...]) -> None:
        """Housekeeping at a plan's return time (issue 16): drop the plans that ended, so
        the store keeps only those still to come. Nothing is written for people with none;
        a failed write is logged and tried again at the person's next transition."""
        for person_id in people:
            try:
                await self._engine.prune_plans(person_id, PRUNED_BY)
            except StoreError as exc:
                log.warning("plans_prune_failed", person=person_id, error=str(exc))

    # -- health file -------------------------------------------------------------------------
    def _write_health(self, name: str) -> None:
        """Report source ``name`` to the pages at once; write the file soon.

        The file holds every source. Written after each source's round, a thousand sources
        rounding together wrote a thousand files of a thousand entries: seconds of the
        event loop (bench/calendar_region.py). It is written at most every
        ``health_every`` seconds, in a thread, and always once after the last round.
        """
        if self._on_health is not None:
            self._on_health(self.health(name))
        self._schedule_file()

    def _schedule_file(self) -> None:
        if self._health_file is None or self._file_due is not None:
            return
        loop = asyncio.get_running_loop()
        wait = max(0.0, self._file_written + self._health_every - loop.time())
        self._file_due = loop.call_later(wait, self._write_file)

    def _write_file(self) -> None:
        self._file_due = None
        if self._health_file is None:  # pragma: no cover - scheduled only with a file
            return
        loop = asyncio.get_running_loop()
        self._file_written = loop.time()
        writing = loop.run_in_executor(None, write_health, self._health_file, self.health())
        self._file_writes.add(writing)
        writing.add_done_callback(self._file_written_or_not)

    def _file_written_or_not(self, writing: asyncio.Future[None]) -> None:
        self._file_writes.discard(writing)
        if not writing.cancelled() and (exc := writing.exception()) is not None:
            log.warning("calendar_health_not_written", file=str(self._health_file), error=str(exc))

    async def flush_health(self) -> None:
        """Write the health file now and wait until it is written (at the end of ``run``;
        and for ``calendar health`` readers in tests)."""
        if self._file_due is not None:
            self._file_due.cancel()
            self._file_due = None
        if self._file_writes:
            await asyncio.gather(*self._file_writes, return_exceptions=True)
        if self._health_file is not None:
            await asyncio.to_thread(write_health, self._health_file, self.health())


def removed_health(name: str, at: datetime) -> SourceHealth:
    """The report of a source that was removed: ``type`` ``removed`` makes the pages'
    board forget it (``HealthBoard.update``)."""
    return SourceHealth(name, REMOVED, at, None, None, None, 0, 0, 0, (), None, None)


REMOVED = "removed"


def write_health(path: Path, health: Sequence[SourceHealth]) -> None:
    """Atomically (temp file, rename) so a reader never sees half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([h.as_json() for h in health], indent=2), encoding="utf-8")
    os.replace(tmp, path)
