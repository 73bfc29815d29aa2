"""One reader per configured source: how the worker gets a person's items from it.

Each reader keeps what its protocol needs between rounds (ETags for feeds, exchangelib
accounts for EWS, delta links and subscriptions for Graph) and answers
``read(person, start, end, full=...) -> FeedResult``. The worker does everything else
(schedule, mapping, writing, health), the same way for all three.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Protocol
from urllib.parse import quote
from zoneinfo import ZoneInfo

import aiohttp

from switchboard.calendar_sync.errors import CalendarError
from switchboard.calendar_sync.ews import EwsSource
from switchboard.calendar_sync.fetch import fetch_feed, mask_url
from switchboard.calendar_sync.graph import GraphClient, GraphMailbox
from switchboard.calendar_sync.graph_notify import (
    Notification,
    NotificationKind,
    Subscription,
    renew,
    subscribe,
)
from switchboard.calendar_sync.ics import FeedResult, parse_feed
from switchboard.directory.model import Person
from switchboard.settings.calendar import CalendarSource


class Reader(Protocol):
    async def read(
        self, person: Person, start: datetime, end: datetime, *, full: bool
    ) -> FeedResult: ...


def _email(person: Person, what: str) -> str:
    if not person.email:
        raise CalendarError(what, f"{person.name} has no e-mail address to read a calendar by")
    return person.email


FeedParser = Callable[[bytes, datetime, datetime, ZoneInfo], Awaitable[FeedResult]]
"""``parse_feed`` elsewhere: ``(data, window start, window end, default zone)``."""


@dataclass(slots=True)
class _Cached:
    etag: str | None
    last_modified: str | None
    data: bytes


class IcsReader:
    """An iCalendar feed per person; conditional GETs, so an unchanged feed costs a 304.

    Parsing is pure Python and takes tens of milliseconds for a month of meetings: it runs
    in ``parser`` (``serve``: a process of its own, ``parse_process``), never on the event
    loop. When many feeds answer at once, their parses on the loop would all run in one
    turn of it, before any timer: a second's stall for fifty feeds; in a thread, they took
    the interpreter lock from the loop (bench/calendar_region.py).
    """

    def __init__(
        self,
        source: CalendarSource,
        session: aiohttp.ClientSession,
        zone: ZoneInfo,
        parser: FeedParser | None = None,
    ):
        self._source, self._session, self._zone = source, session, zone
        self._parser = parser
        """None: a thread of asyncio's default executor."""
        self._cache: dict[str, _Cached] = {}

    def url_for(self, person: Person) -> str:
        url = self._source.feed_url()
        if url is None:
            raise CalendarError(self._source.name, "no feed URL configured")
        if "{email}" in url:
            url = url.replace("{email}", quote(_email(person, mask_url(url))))
        return url

    async def read(
        self, person: Person, start: datetime, end: datetime, *, full: bool
    ) -> FeedResult:
        url = self.url_for(person)
        cached = None if full else self._cache.get(url)
        got = await fetch_feed(
            url,
            etag=cached.etag if cached else None,
            last_modified=cached.last_modified if cached else None,
            session=self._session,
        )
        if got.unchanged and cached is not None:
            data = cached.data
        else:
            data = got.data or b""
            self._cache[url] = _Cached(got.etag, got.last_modified, data)
        # Parse even an unchanged feed: the window moves.
        if self._parser is not None:
            return await self._parser(data, start, end, self._zone)
        parse = partial(parse_feed, window_start=start, window_end=end, default_zone=self._zone)
        return await asyncio.to_thread(parse, data)


class EwsReader:
    def __init__(self, source: EwsSource) -> None:
        self._source = source

    async def read(
        self, person: Person, start: datetime, end: datetime, *, full: bool
    ) -> FeedResult:
        return await self._source.read(_email(person, "ews"), start, end)


class GraphReader:
    """Delta rounds between full reads, per mailbox; subscriptions when push is configured."""

    def __init__(self, client: GraphClient, source: CalendarSource, client_state: str) -> None:
        self.client = client
        self._source = source
        self.client_state = client_state
        self._mailboxes: dict[str, GraphMailbox] = {}
        self._subscriptions: dict[str, Subscription] = {}
        """By subscription id."""

    async def read(
        self, person: Person, start: datetime, end: datetime, *, full: bool
    ) -> FeedResult:
        user = _email(person, self.client.label)
        mailbox = self._mailboxes.setdefault(user.lower(), GraphMailbox())
        now = self.client.clock.now()
        return await mailbox.refresh(self.client, user, start, end, full=full, now=now)

    def user_of(self, notification: Notification) -> str | None:
        sub = self._subscriptions.get(notification.subscription_id)
        return sub.user if sub is not None else None

    async def keep_subscribed(self, people: list[Person], now: datetime) -> None:
        """Create missing subscriptions, renew those close to expiry (push sources only)."""
        url = self._source.notification_url
        if url is None:
            return
        have = {s.user.lower() for s in self._subscriptions.values()}
        for person in people:
            if person.email and person.email.lower() not in have:
                sub = await subscribe(self.client, person.email, url, self.client_state, now)
                self._subscriptions[sub.subscription_id] = sub
        for sub_id, sub in list(self._subscriptions.items()):
            if sub.due(now):
                self._subscriptions[sub_id] = await renew(self.client, sub, now)

    async def lifecycle(self, notification: Notification, now: datetime) -> None:
        sub = self._subscriptions.get(notification.subscription_id)
        if sub is None:
            return
        if notification.kind is NotificationKind.REAUTHORIZATION_REQUIRED:
            self._subscriptions[sub.subscription_id] = await renew(self.client, sub, now)
        elif notification.kind is NotificationKind.REMOVED:
            del self._subscriptions[sub.subscription_id]  # recreated by keep_subscribed
