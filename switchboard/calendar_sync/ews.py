"""On-premises Exchange through Exchange Web Services, with exchangelib (R7).

Exchange Online switches EWS off (from 1 October 2026, gone on 1 April 2027): use the Graph
source there. On-premises Exchange 2016/2019 and Exchange Server SE keep EWS, and this source
reads a **calendar view** (``FindItem`` with ``CalendarView``): recurring series come back as
their occurrences, already expanded by the server in the series' own zone.

Access is a service account, by one of the two means on-premises Exchange supports:

- **impersonation** (the ``ApplicationImpersonation`` RBAC role, scoped to the people's
  mailboxes with a management scope): the account acts as each person; nothing to set per
  mailbox. The recommended choice.
- **delegate**: the service account has (at least) Reviewer rights on each calendar folder
  (``Add-MailboxFolderPermission anna@...:\\Calendar -User svc-switchboard -AccessRights
  Reviewer``).

exchangelib is synchronous (requests): every call runs in the one bounded executor the
worker is given, never the event loop's default executor (ARCHITECTURE: one executor, owned by
app.py). The server version is pinned (``Exchange2016`` by default), so no autodiscover and no
version probing: one ``GetFolder`` for the root and one for the calendar the first time a
mailbox is read, then one ``FindItem`` per round.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import Executor
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import exchangelib  # type: ignore[import-untyped]  # no py.typed marker
import requests
from exchangelib.errors import EWSError  # type: ignore[import-untyped]
from exchangelib.transport import BASIC, NOAUTH, NTLM  # type: ignore[import-untyped]
from exchangelib.version import EXCHANGE_2016  # type: ignore[import-untyped]

from switchboard.calendar_sync.errors import CalendarError
from switchboard.calendar_sync.fetch import mask_url
from switchboard.calendar_sync.ics import FeedProblem, FeedResult
from switchboard.presence.calendar import CalendarItem, EventStatus, Participation, Sensitivity
from switchboard.presence.model import BusyClass, PresenceError
from switchboard.settings.calendar import CalendarSource, EwsAccess, EwsAuth

__all__ = ["EwsSource", "ews_configuration", "ews_item"]

_BUSY = {
    "Free": BusyClass.FREE,
    "Tentative": BusyClass.TENTATIVE,
    "Busy": BusyClass.BUSY,
    "OOF": BusyClass.OOF,
    "WorkingElsewhere": BusyClass.WORKING_ELSEWHERE,
    # NoData: Exchange does not know; the next rules (participation) decide.
}
_RESPONSE = {
    "Organizer": Participation.ACCEPTED,
    "Accept": Participation.ACCEPTED,
    "Decline": Participation.DECLINED,
    "Tentative": Participation.TENTATIVE,
    "NoResponseReceived": Participation.NEEDS_ACTION,
    # Unknown: not said.
}
_SENSITIVITY = {
    "Personal": Sensitivity.PRIVATE,
    "Private": Sensitivity.PRIVATE,
    "Confidential": Sensitivity.CONFIDENTIAL,
}
# Only fields FindItem returns: exchangelib fetches "complex" ones (UID, Location) with an
# extra GetItem per page, and the mapper needs neither (the ItemId names an occurrence).
_FIELDS = (
    "subject",
    "start",
    "end",
    "is_all_day",
    "duration",
    "legacy_free_busy_status",
    "sensitivity",
    "is_cancelled",
    "my_response_type",
)
_AUTH = {EwsAuth.NTLM: NTLM, EwsAuth.BASIC: BASIC, EwsAuth.NONE: NOAUTH}
_ACCESS = {EwsAccess.IMPERSONATION: exchangelib.IMPERSONATION, EwsAccess.DELEGATE: "delegate"}
_MAX_ITEMS = 2000


def ews_configuration(
    source: CalendarSource, username: str | None = None, password: str | None = None
) -> Any:
    """An exchangelib Configuration with the version pinned (no autodiscover, no probing)."""
    credentials = (
        exchangelib.Credentials(username, password)
        if username is not None and password is not None
        else None
    )
    return exchangelib.Configuration(
        service_endpoint=source.url,
        credentials=credentials,
        auth_type=_AUTH[source.auth],
        version=exchangelib.Version(build=EXCHANGE_2016),
    )


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    """A plain aware datetime (exchangelib hands out its own EWSDateTime/EWSDate types)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a naive Start/End")
        return datetime.fromtimestamp(value.timestamp(), UTC)
    return datetime.combine(date(value.year, value.month, value.day), time(0, 0), zone)


_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.\d+)?S)?)?$")


def _days(duration: str | None) -> int | None:
    """Whole days in an xs:duration (``P2DT23H`` -> 3): an all-day item spans whole days."""
    m = _DURATION.match(duration or "")
    if m is None:
        return None
    d, h, mi, sec = (int(g) if g else 0 for g in m.groups())
    return round((d * 86_400 + h * 3600 + mi * 60 + sec) / 86_400)


def ews_item(item: Any, zone: ZoneInfo) -> CalendarItem:
    """One ``t:CalendarItem`` occurrence as a neutral item (raises ValueError if unusable).

    All-day items come from exchangelib as dates and are read as midnight to midnight in the
    deployment's zone, like an iCalendar ``DATE``. Their end is taken from ``Duration``:
    exchangelib (5.6) derives the inclusive end date by subtracting 24 hours in UTC, which
    lands on the wrong day when the last night of the item has a daylight-saving change.
    """
    start, end = item.start, item.end
    if not isinstance(start, date) or not isinstance(end, date):
        raise ValueError("Start or End is missing")
    if item.is_all_day and not isinstance(start, datetime):
        days = _days(item.duration)
        end = start + timedelta(days=days) if days else end + timedelta(days=1)
    return CalendarItem(
        uid=str(item.id),
        start=_instant(start, zone),
        end=_instant(end, zone),
        all_day=bool(item.is_all_day),
        subject=item.subject,
        busy_status=_BUSY.get(item.legacy_free_busy_status or ""),
        status=EventStatus.CANCELLED if item.is_cancelled else None,
        participation=_RESPONSE.get(item.my_response_type or ""),
        sensitivity=_SENSITIVITY.get(item.sensitivity or "", Sensitivity.PUBLIC),
    )


class EwsSource:
    """Reads people's calendar views through one EWS endpoint.

    Keeps one exchangelib ``Account`` per mailbox (it caches the calendar folder, saving two
    requests a round). All exchangelib calls run in ``executor``.
    """

    def __init__(
        self,
        configuration: Any,
        access: EwsAccess,
        executor: Executor,
        zone: ZoneInfo,
        label: str,
    ) -> None:
        self._config = configuration
        self._access = _ACCESS[access]
        self._executor = executor
        self._zone = zone
        self._label = mask_url(label)
        self._accounts: dict[str, Any] = {}

    async def read(self, mailbox: str, start: datetime, end: datetime) -> FeedResult:
        """The occurrences overlapping ``[start, end)`` in ``mailbox``'s calendar."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._read, mailbox, start, end)

    def _account(self, mailbox: str) -> Any:
        account = self._accounts.get(mailbox)
        if account is None:
            account = exchangelib.Account(
                mailbox,
                config=self._config,
                autodiscover=False,
                access_type=self._access,
                default_timezone=exchangelib.EWSTimeZone(self._zone.key),
            )
            self._accounts[mailbox] = account
        return account

    def _read(self, mailbox: str, start: datetime, end: datetime) -> FeedResult:
        try:
            view = (
                self._account(mailbox)
                .calendar.view(
                    start=exchangelib.EWSDateTime.from_datetime(start.astimezone(UTC)),
                    end=exchangelib.EWSDateTime.from_datetime(end.astimezone(UTC)),
                    max_items=_MAX_ITEMS,
                )
                .only(*_FIELDS)
            )
            raw = list(view)
        except (EWSError, requests.RequestException, OSError) as exc:
            self._accounts.pop(mailbox, None)
            raise CalendarError(self._label, _hint(exc)) from None
        items: list[CalendarItem] = []
        problems: list[FeedProblem] = []
        for entry in raw:
            if isinstance(entry, Exception):
                problems.append(FeedProblem(None, None, f"item not returned: {entry}"))
                continue
            try:
                items.append(ews_item(entry, self._zone))
            except (ValueError, TypeError, PresenceError) as exc:
                problems.append(FeedProblem(str(entry.id), None, f"unusable item: {exc}"))
        if len(raw) >= _MAX_ITEMS:
            problems.append(
                FeedProblem(None, None, f"the view held {_MAX_ITEMS} items or more; narrow it")
            )
        inside = (i for i in items if i.start < end and i.end > start)
        return FeedResult(
            tuple(sorted(inside, key=lambda i: (i.start, i.end, i.uid))), tuple(problems)
        )


def _hint(exc: Exception) -> str:
    name = type(exc).__name__
    if name in ("UnauthorizedError", "ErrorAccessDenied", "ErrorImpersonateUserDenied"):
        return (
            f"{name}: the service account lacks the right (ApplicationImpersonation role or "
            "Reviewer on the calendar, see docs/calendar.md)"
        )
    if name in ("ErrorNonExistentMailbox", "ErrorInvalidSmtpAddress"):
        return f"{name}: no such mailbox; check the person's e-mail address"
    if isinstance(exc, requests.RequestException | OSError) or name in (
        "ErrorTimeoutExpired",  # exchangelib's wrapper around a refused connection
        "TransportError",
    ):
        return f"cannot reach the EWS endpoint ({name}); check url and the network"
    return f"{name}: {str(exc)[:200]}"
