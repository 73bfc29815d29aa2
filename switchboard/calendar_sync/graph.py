"""Exchange Online through Microsoft Graph, app-only, with aiohttp (R7).

- **Token**: the OAuth 2.0 client-credentials grant (RFC 6749 4.4) at
  ``{authority}/{tenant}/oauth2/v2.0/token`` with scope ``https://graph.microsoft.com/.default``,
  cached until its expiry minus a margin, fetched again once on a 401.
- **Full read**: ``GET /users/{id}/calendarView`` for the window, ``$select``-ed to the fields
  the mapper needs, with ``Prefer: outlook.timezone="UTC"``, following ``@odata.nextLink``.
- **Incremental read**: ``/users/{id}/calendarView/delta``; the last page carries an
  ``@odata.deltaLink`` that the next round GETs; removed occurrences come as ``@removed``.
  Delta rounds are known to miss changes, so the worker also does a periodic full read.
- **Throttling**: 429 and 503 are retried after ``Retry-After`` seconds (Graph throttling
  guidance; RFC 9110 10.2.3), a bounded number of times.

Base URLs are configuration (``authority``, ``graph_url``) so tests point them at loopback.
Change notifications (subscriptions and their receiver) live in :mod:`.graph_notify`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp

from switchboard.calendar_sync.errors import CalendarError
from switchboard.calendar_sync.ics import FeedProblem, FeedResult
from switchboard.calendar_sync.zones import iana_name
from switchboard.clock import Clock
from switchboard.presence.calendar import CalendarItem, EventStatus, Participation, Sensitivity
from switchboard.presence.model import BusyClass, PresenceError

__all__ = ["DeltaRound", "GraphClient", "GraphMailbox", "graph_item"]

SCOPE = "https://graph.microsoft.com/.default"
TOKEN_MARGIN = timedelta(minutes=5)
MAX_RETRIES = 4
MAX_RETRY_AFTER = 120.0
SELECT = "id,subject,start,end,isAllDay,showAs,sensitivity,isCancelled,responseStatus,type"

_SHOW_AS = {
    "free": BusyClass.FREE,
    "tentative": BusyClass.TENTATIVE,
    "busy": BusyClass.BUSY,
    "oof": BusyClass.OOF,
    "workingElsewhere": BusyClass.WORKING_ELSEWHERE,
    # unknown: the next rules (participation) decide.
}
_RESPONSE = {
    "organizer": Participation.ACCEPTED,
    "accepted": Participation.ACCEPTED,
    "declined": Participation.DECLINED,
    "tentativelyAccepted": Participation.TENTATIVE,
    "notResponded": Participation.NEEDS_ACTION,
}
_SENSITIVITY = {
    "personal": Sensitivity.PRIVATE,
    "private": Sensitivity.PRIVATE,
    "confidential": Sensitivity.CONFIDENTIAL,
}

Sleep = Callable[[float], Awaitable[None]]


def _when(value: Any, zone: ZoneInfo, all_day: bool) -> datetime:
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        raise ValueError("start/end without dateTime")
    local = datetime.fromisoformat(value["dateTime"][:26])
    if all_day:
        # An all-day event is a run of dates, whatever zone Graph was asked to write it in.
        return datetime.combine(date(local.year, local.month, local.day), time(0, 0), zone)
    name = str(value.get("timeZone") or "UTC")
    try:
        tz = ZoneInfo(iana_name(name) or name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timeZone {name!r}") from None
    return local.replace(tzinfo=tz).astimezone(UTC)


def graph_item(event: dict[str, Any], zone: ZoneInfo) -> CalendarItem:
    """One Graph ``event`` occurrence as a neutral item (raises ValueError if unusable)."""
    all_day = bool(event.get("isAllDay"))
    response = event.get("responseStatus") or {}
    return CalendarItem(
        uid=str(event["id"]),
        start=_when(event.get("start"), zone, all_day),
        end=_when(event.get("end"), zone, all_day),
        all_day=all_day,
        subject=event.get("subject") or None,
        busy_status=_SHOW_AS.get(str(event.get("showAs"))),
        status=EventStatus.CANCELLED if event.get("isCancelled") else None,
        participation=_RESPONSE.get(str(response.get("response"))),
        sensitivity=_SENSITIVITY.get(str(event.get("sensitivity")), Sensitivity.PUBLIC),
    )


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    expires: datetime


@dataclass(frozen=True, slots=True)
class DeltaRound:
    changed: tuple[CalendarItem, ...]
    removed: tuple[str, ...]
    problems: tuple[FeedProblem, ...]
    delta_link: str


class GraphClient:
    """Graph requests for one app registration: token cache, retries, paging."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        authority: str,
        tenant: str,
        client_id: str,
        client_secret: str,
        graph_url: str,
        clock: Clock,
        zone: ZoneInfo,
        sleep: Sleep = asyncio.sleep,
        timeout: float = 30.0,
    ) -> None:
        self._session = session
        self._token_url = f"{authority.rstrip('/')}/{quote(tenant)}/oauth2/v2.0/token"
        self._client_id, self._secret = client_id, client_secret
        self.graph_url = graph_url.rstrip("/")
        self.clock, self._zone, self._sleep = clock, zone, sleep
        self._timeout = timeout
        self._token: _Token | None = None
        self.label = f"graph {tenant}"

    def _fail(self, problem: str) -> CalendarError:
        return CalendarError(self.label, problem)

    async def token(self) -> str:
        now = self.clock.now()
        if self._token is not None and now < self._token.expires - TOKEN_MARGIN:
            return self._token.value
        form = {
            "client_id": self._client_id,
            "client_secret": self._secret,
            "scope": SCOPE,
            "grant_type": "client_credentials",
        }
        try:
            async with (
                asyncio.timeout(self._timeout),
                self._session.post(self._token_url, data=form) as resp,
            ):
                body = await resp.json(content_type=None)
                if resp.status != 200 or "access_token" not in body:
                    code = body.get("error", "") if isinstance(body, dict) else ""
                    raise self._fail(
                        f"token request refused (HTTP {resp.status} {code}); check tenant, "
                        "client_id, the secret and the app's Calendars.Read permission"
                    )
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise self._fail(f"token endpoint unreachable ({type(exc).__name__})") from None
        lifetime = timedelta(seconds=int(body.get("expires_in", 3599)))
        self._token = _Token(str(body["access_token"]), now + lifetime)
        return self._token.value

    async def get(self, url: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        """GET a Graph URL as JSON, honouring Retry-After on 429/503; one token refresh on 401."""
        refreshed = False
        for attempt in range(MAX_RETRIES + 1):
            headers = {
                "Authorization": f"Bearer {await self.token()}",
                "Prefer": 'outlook.timezone="UTC", odata.maxpagesize=200',
                "Accept": "application/json",
            }
            try:
                async with (
                    asyncio.timeout(self._timeout),
                    self._session.get(url, params=params, headers=headers) as resp,
                ):
                    if resp.status == 200:
                        data: dict[str, Any] = await resp.json(content_type=None)
                        return data
                    retry_after = resp.headers.get("Retry-After")
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise self._fail(f"Graph unreachable ({type(exc).__name__})") from None
            if status == 401 and not refreshed:
                self._token, refreshed = None, True
                continue
            if status in (429, 503) and attempt < MAX_RETRIES:
                await self._sleep(_retry_after(retry_after, attempt))
                continue
            if status in (429, 503):
                break
            hint = {
                403: "the app lacks Calendars.Read (application) or an access policy excludes it",
                404: "no such user or mailbox",
                410: "the delta token expired; a full read follows",
            }.get(status, "Graph refused the request")
            raise self._fail(f"HTTP {status}: {hint}")
        raise self._fail(f"still throttled after {MAX_RETRIES} retries; raise the poll interval")

    async def send(self, method: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST/PATCH JSON (subscriptions); one token refresh on 401, no retries."""
        for _ in range(2):
            headers = {"Authorization": f"Bearer {await self.token()}"}
            try:
                async with (
                    asyncio.timeout(self._timeout),
                    self._session.request(method, url, json=body, headers=headers) as resp,
                ):
                    if resp.status in (200, 201):
                        data: dict[str, Any] = await resp.json(content_type=None)
                        return data
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise self._fail(f"Graph unreachable ({type(exc).__name__})") from None
            if status != 401:
                break
            self._token = None
        raise self._fail(f"HTTP {status} on {method} {url.rsplit('/', 1)[-1]}")

    async def _pages(
        self, url: str, params: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        values: list[dict[str, Any]] = []
        page = await self.get(url, params)
        while True:
            values.extend(v for v in page.get("value", []) if isinstance(v, dict))
            next_link = page.get("@odata.nextLink")
            if not next_link:
                return values, page.get("@odata.deltaLink")
            page = await self.get(str(next_link))

    def _items(self, values: list[dict[str, Any]]) -> tuple[list[CalendarItem], list[FeedProblem]]:
        items: list[CalendarItem] = []
        problems: list[FeedProblem] = []
        for value in values:
            if value.get("type") == "seriesMaster":
                continue  # calendarView lists occurrences; a master is not one
            try:
                items.append(graph_item(value, self._zone))
            except (ValueError, KeyError, TypeError, PresenceError) as exc:
                problems.append(FeedProblem(str(value.get("id")), None, f"unusable event: {exc}"))
        return items, problems

    def _window(self, start: datetime, end: datetime) -> dict[str, str]:
        return {
            "startDateTime": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endDateTime": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    async def calendar_view(self, user: str, start: datetime, end: datetime) -> FeedResult:
        url = f"{self.graph_url}/users/{quote(user)}/calendarView"
        values, _ = await self._pages(url, {**self._window(start, end), "$select": SELECT})
        items, problems = self._items(values)
        return FeedResult(tuple(items), tuple(problems))

    async def delta(
        self, user: str, start: datetime, end: datetime, delta_link: str | None
    ) -> DeltaRound:
        """One delta round: from ``delta_link``, or a fresh one for the window."""
        if delta_link is None:
            url = f"{self.graph_url}/users/{quote(user)}/calendarView/delta"
            values, link = await self._pages(url, self._window(start, end))
        else:
            values, link = await self._pages(delta_link, None)
        if not link:
            raise self._fail("the delta rounds ended without an @odata.deltaLink")
        removed = tuple(str(v.get("id")) for v in values if "@removed" in v)
        items, problems = self._items([v for v in values if "@removed" not in v])
        return DeltaRound(tuple(items), removed, tuple(problems), link)


def _retry_after(header: str | None, attempt: int) -> float:
    """Seconds to wait: Retry-After when given (capped), else exponential from 1 s."""
    try:
        seconds = float(header) if header is not None else 2.0**attempt
    except ValueError:
        seconds = 2.0**attempt
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


@dataclass(slots=True)
class GraphMailbox:
    """What the worker keeps for one person's Graph calendar between rounds."""

    items: dict[str, CalendarItem] = field(default_factory=dict)
    delta_link: str | None = None
    last_full: datetime | None = None

    async def refresh(
        self,
        client: GraphClient,
        user: str,
        start: datetime,
        end: datetime,
        *,
        full: bool,
        now: datetime,
    ) -> FeedResult:
        """One round for this mailbox.

        ``full``: ``calendarView``, the authoritative answer (the periodic reconcile); the delta
        link is dropped, since the next delta round must start from a known state. Otherwise a
        delta round: the initial one (no link yet) lists every occurrence and replaces the
        kept items; a later one applies changes and ``@removed`` entries to them.
        """
        if full:
            result = await client.calendar_view(user, start, end)
            self.items = {i.uid: i for i in result.items}
            self.delta_link, self.last_full = None, now
            problems = result.problems
        elif self.delta_link is None:
            round_ = await client.delta(user, start, end, None)
            self.items = {i.uid: i for i in round_.changed}
            self.delta_link, problems = round_.delta_link, round_.problems
        else:
            try:
                round_ = await client.delta(user, start, end, self.delta_link)
            except CalendarError:
                self.delta_link = None  # an expired link (410) must not wedge the mailbox
                raise
            for uid in round_.removed:
                self.items.pop(uid, None)
            self.items.update((i.uid, i) for i in round_.changed)
            self.delta_link, problems = round_.delta_link, round_.problems
        inside = [i for i in self.items.values() if i.start < end and i.end > start]
        return FeedResult(tuple(sorted(inside, key=lambda i: (i.start, i.uid))), problems)
