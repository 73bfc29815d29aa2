"""Calendars employees connect from their page (issue 16): the calendar worker reads them
like configured sources, and follows connections and disconnections as they happen.

The store holds the connections; every change emits an ``OwnCalendarChanged`` on the change
feed, which reaches this process's bus whichever process wrote it (the web, the CLI,
another worker). On it (and at start, and after a reload) the connections are read from the
store again and compared with what runs: a new one becomes a source of the worker
(``own:{person_id}``), a changed one replaces it, a gone one stops and its segments are
cleared, so the calendar no longer diverts the person (R7).

A connection the policy no longer allows (``[own_calendars]`` changed) is not read; the
page says so. Microsoft 365 connections use the Graph application of the configured graph
source (its token cache too), polling only: no change subscriptions.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp
import structlog

from switchboard.calendar_sync.graph import GraphClient, GraphMailbox
from switchboard.calendar_sync.ics import FeedResult
from switchboard.calendar_sync.readers import FeedParser, IcsReader, Reader
from switchboard.calendar_sync.worker import CalendarWorker
from switchboard.directory.model import Person
from switchboard.events import Event, OwnCalendarChanged, PersonRemoved, StoreReloaded
from switchboard.live.engine import Engine
from switchboard.presence.own_calendar import OwnCalendar, OwnCalendarKind
from switchboard.settings.calendar import CalendarSource, CalendarType
from switchboard.settings.own_calendars import OwnCalendarPolicy
from switchboard.store.bus import EventBus
from switchboard.store.protocol import StoreError

log = structlog.get_logger()

RETRY = 5.0
"""Seconds before reading the connections again after the store failed to answer."""


class MailboxReader:
    """One mailbox through a shared Graph client: full reads, then delta rounds."""

    def __init__(self, client: GraphClient, mailbox: str) -> None:
        self._client, self._mailbox = client, mailbox
        self._state = GraphMailbox()

    async def read(
        self, person: Person, start: datetime, end: datetime, *, full: bool
    ) -> FeedResult:
        now = self._client.clock.now()
        return await self._state.refresh(
            self._client, self._mailbox, start, end, full=full, now=now
        )


def allowed(calendar: OwnCalendar, policy: OwnCalendarPolicy) -> bool:
    if calendar.kind is OwnCalendarKind.ICS:
        return policy.ics
    return policy.graph is not None


class OwnCalendars:
    def __init__(
        self,
        worker: CalendarWorker,
        engine: Engine,
        bus: EventBus,
        session: aiohttp.ClientSession,
        graph: GraphClient | None,
        parser: FeedParser | None = None,
    ) -> None:
        """``parser``: where feeds are parsed (``serve``: the calendars' parse process)."""
        self._worker, self._engine, self._bus = worker, engine, bus
        self._session, self._graph = session, graph
        self._parser = parser
        self._policy = engine.settings.own_calendars
        self._zone: ZoneInfo = engine.settings.zone
        self._running: dict[str, OwnCalendar] = {}
        self._wake = asyncio.Event()

    def _on_event(self, event: Event) -> None:
        # Removing a person removes their connection in the same transaction, without an
        # OwnCalendarChanged of its own: read the connections again then too.
        if isinstance(event, OwnCalendarChanged | PersonRemoved | StoreReloaded):
            self._wake.set()

    async def run(self) -> None:
        """Follow the connections until cancelled (run under the worker's TaskGroup)."""
        unsubscribe = self._bus.add_listener(self._on_event)
        try:
            while True:
                self._wake.clear()
                try:
                    await self.reconcile()
                except StoreError as exc:
                    log.warning("own_calendars_unreadable", error=str(exc))
                    await asyncio.sleep(RETRY)
                    continue
                await self._wake.wait()
        finally:
            unsubscribe()

    async def reconcile(self) -> None:
        """Make the worker's own-calendar sources match the store's connections."""
        wanted = {
            c.person_id: c
            for c in await self._engine.store.own_calendars()
            if allowed(c, self._policy)
        }
        for person_id, running in list(self._running.items()):
            now = wanted.get(person_id)
            if now is None or (now.kind, now.address) != (running.kind, running.address):
                await self._stop(running, cleared=now is None)
        for person_id, calendar in wanted.items():
            if person_id not in self._running:
                await self._start(calendar)

    async def _start(self, calendar: OwnCalendar) -> None:
        source = self.source(calendar)
        reader: Reader
        if calendar.kind is OwnCalendarKind.ICS:
            reader = IcsReader(source, self._session, self._zone, self._parser)
        elif self._graph is not None:
            reader = MailboxReader(self._graph, calendar.address)
        else:  # pragma: no cover - allowed() keeps graph connections out without a client
            return
        await self._worker.add_source(source, reader)
        self._running[calendar.person_id] = calendar
        log.info("own_calendar_started", person=calendar.person_id, kind=calendar.kind.value)

    async def _stop(self, calendar: OwnCalendar, *, cleared: bool) -> None:
        del self._running[calendar.person_id]
        await self._worker.remove_source(calendar.source)
        if cleared:
            person = self._engine.view.person(calendar.person_id)
            if person is not None:
                await self._engine.set_calendar(
                    person, calendar.source, (), f"calendar:{calendar.source}"
                )
        log.info("own_calendar_stopped", person=calendar.person_id, kind=calendar.kind.value)

    def source(self, calendar: OwnCalendar) -> CalendarSource:
        kind = CalendarType.ICS if calendar.kind is OwnCalendarKind.ICS else CalendarType.GRAPH
        return CalendarSource(
            name=calendar.source,
            type=kind,
            person_id=calendar.person_id,
            url=calendar.address if kind is CalendarType.ICS else None,
            poll=self._policy.poll,
        )
