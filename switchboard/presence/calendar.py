"""Calendar items and their mapping to availability segments (R7): pure, shared by all sources.

Every calendar source (iCalendar feeds, Exchange Web Services, Microsoft Graph) turns what it
reads into neutral :class:`CalendarItem` values, one per occurrence; this module alone decides
what they mean. Merging runs of busy items, ranking overlaps and moving a return time into
working hours ("back on Monday") are done once, by :func:`switchboard.presence.resolve.resolve`;
:func:`map_items` only classifies and labels, so one person's "tentative diverts" choice can
still change the merged run.

Rules, in the order they apply to one occurrence (:func:`busy_class`):

1. Cancelled occurrences (``STATUS:CANCELLED``, RFC 5545 3.8.1.11) and meetings the owner
   declined (``PARTSTAT=DECLINED``, RFC 5545 3.2.12) are ignored.
2. Exchange's own busy status wins (``X-MICROSOFT-CDO-BUSYSTATUS``, EWS
   ``LegacyFreeBusyStatus``, Graph ``showAs``): it is what Outlook shows the owner.
3. Otherwise ``TRANSP:TRANSPARENT`` (RFC 5545 3.8.2.7) means free.
4. Otherwise an unanswered or tentatively accepted invitation is tentative (Exchange keeps
   those out of merged free/busy too), and so is ``STATUS:TENTATIVE``.
5. Otherwise busy: ``TRANSP`` defaults to ``OPAQUE``.

Free and working-elsewhere items never divert and produce no segment; zero-length items
neither (half-open intervals cover no instant).

Privacy: a private or confidential item diverts like any other, but its subject and location
never reach a segment or an explanation, and its ``repr`` hides them too (so a log line or a
traceback cannot leak them). Its referral code, if it wrote one, still chooses the reason:
the code is an instruction written for the switchboard.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from switchboard.directory.hours import WorkingHours
from switchboard.directory.model import Person
from switchboard.directory.secret_text import NO_SECRETS, SecretNumbers
from switchboard.presence.calendar_codes import CodeMatch, ReferralCodes, default_codes
from switchboard.presence.model import (
    BusyClass,
    CalendarSegment,
    PresenceError,
    PresenceInputs,
    Reason,
    ReferralKind,
    Source,
)
from switchboard.presence.resolve import resolve

__all__ = [
    "Attendee",
    "CalendarItem",
    "CodeMatch",
    "EventStatus",
    "ExplainKind",
    "Explanation",
    "Participation",
    "ReferralCodes",
    "Sensitivity",
    "Transp",
    "busy_class",
    "default_codes",
    "explain",
    "map_items",
]


class Transp(StrEnum):
    OPAQUE = "opaque"
    TRANSPARENT = "transparent"


class EventStatus(StrEnum):
    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELLED = "cancelled"


class Participation(StrEnum):
    """The owner's answer to an invitation (RFC 5545 PARTSTAT, EWS ResponseType, Graph
    responseStatus)."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    TENTATIVE = "tentative"
    NEEDS_ACTION = "needs-action"
    DELEGATED = "delegated"


class Sensitivity(StrEnum):
    """RFC 5545 CLASS; EWS/Graph ``sensitivity`` maps "personal" to private."""

    PUBLIC = "public"
    PRIVATE = "private"
    CONFIDENTIAL = "confidential"


@dataclass(frozen=True, slots=True)
class Attendee:
    address: str
    """An e-mail address, compared case-insensitively."""
    participation: Participation | None = None


@dataclass(frozen=True, slots=True)
class CalendarItem:
    """One occurrence of a calendar item, as a source read it, before any interpretation.

    ``start``/``end`` are aware and half-open. An all-day item runs from midnight to midnight
    in the zone the source was told to use.
    """

    uid: str
    start: datetime
    end: datetime
    all_day: bool = False
    subject: str | None = field(default=None, repr=False)
    location: str | None = field(default=None, repr=False)
    busy_status: BusyClass | None = None
    """Exchange's status as given (X-MICROSOFT-CDO-BUSYSTATUS / LegacyFreeBusyStatus / showAs)."""
    transp: Transp | None = None
    status: EventStatus | None = None
    participation: Participation | None = None
    """The owner's answer when the source knows it directly (EWS, Graph); otherwise looked up
    in ``attendees`` by the owner's address."""
    attendees: tuple[Attendee, ...] = field(default=(), repr=False)
    organizer: str | None = field(default=None, repr=False)
    sensitivity: Sensitivity = Sensitivity.PUBLIC

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise PresenceError(f"calendar item {self.uid!r}: start and end must be aware")
        if self.end < self.start:
            raise PresenceError(f"calendar item {self.uid!r} ends before it starts")

    @property
    def private(self) -> bool:
        return self.sensitivity is not Sensitivity.PUBLIC


# -- classification ----------------------------------------------------------------------
def _participation(item: CalendarItem, owner_email: str | None) -> Participation | None:
    if item.participation is not None:
        return item.participation
    if owner_email is None:
        return None
    owner = owner_email.strip().casefold()
    for attendee in item.attendees:
        if attendee.address.strip().casefold() == owner:
            return attendee.participation
    if item.organizer is not None and item.organizer.strip().casefold() == owner:
        return Participation.ACCEPTED
    return None


def busy_class(item: CalendarItem, owner_email: str | None) -> BusyClass | None:
    """The free/busy class of one occurrence, or None when it is ignored (rules in the
    module docstring)."""
    participation = _participation(item, owner_email)
    if item.status is EventStatus.CANCELLED or participation is Participation.DECLINED:
        return None
    if item.busy_status is not None:
        return item.busy_status
    if item.transp is Transp.TRANSPARENT:
        return BusyClass.FREE
    if participation in (Participation.NEEDS_ACTION, Participation.TENTATIVE):
        return BusyClass.TENTATIVE
    if item.status is EventStatus.TENTATIVE:
        return BusyClass.TENTATIVE
    return BusyClass.BUSY


_RANK = {b: i for i, b in enumerate(BusyClass)}
"""BusyClass is declared in Exchange's rank order: free < working elsewhere < tentative <
busy < out of office."""


def _segment(
    item: CalendarItem,
    cls: BusyClass,
    codes: ReferralCodes,
    oof_reason: Reason,
    window: tuple[datetime, datetime],
    secrets: SecretNumbers,
) -> CalendarSegment | None:
    start, end = max(item.start, window[0]), min(item.end, window[1])
    if start >= end:
        return None
    code = codes.match(item.subject)
    if code is not None:
        reason, kind = code.reason, code.kind
    else:
        reason = oof_reason if cls is BusyClass.OOF else Reason.MEETING
        kind = ReferralKind.CLOSED
    if item.private:
        text = None
    elif code is not None:
        text = code.rest or None
    else:
        text = (item.subject or "").strip() or None
    if text is not None:
        # R18: a subject is shown to callers and colleagues; nobody can be asked to retype
        # it, so a secret mobile in it is masked rather than refused (issue 17).
        text = secrets.mask(text)
    return CalendarSegment(
        start.astimezone(UTC), end.astimezone(UTC), cls, reason, kind, text, item.private
    )


def _order(s: CalendarSegment) -> tuple[datetime, datetime, int, str, str, str, bool]:
    return (s.start, s.end, -_RANK[s.busy], s.reason.value, s.kind.value, s.label or "", s.private)


def map_items(
    items: Iterable[CalendarItem],
    *,
    window_start: datetime,
    window_end: datetime,
    codes: ReferralCodes | None = None,
    language: str = "sv",
    owner_email: str | None = None,
    oof_reason: Reason = Reason.HOLIDAY,
    secrets: SecretNumbers = NO_SECRETS,
) -> tuple[CalendarSegment, ...]:
    """The segments the calendar contributes within ``[window_start, window_end)`` (R7).

    Reason: the subject's referral code first; otherwise out-of-office becomes ``oof_reason``
    (holiday by default: most out-of-office bookings are holidays, and "on leave" says
    something more specific that is more often wrong) and busy or tentative becomes meeting.
    The result is in a canonical order, in UTC, without duplicates: the same items in any
    order give the same tuple, so an unchanged feed writes nothing. A secret mobile in a
    subject is masked (R18; ``secrets``: the directory's, from the engine).
    """
    table = codes if codes is not None else default_codes(language)
    window = (window_start, window_end)
    found: set[CalendarSegment] = set()
    for item in items:
        cls = busy_class(item, owner_email)
        if cls is None or cls in (BusyClass.FREE, BusyClass.WORKING_ELSEWHERE):
            continue
        segment = _segment(item, cls, table, oof_reason, window, secrets)
        if segment is not None:
            found.add(segment)
    return tuple(sorted(found, key=_order))


# -- explaining an instant ---------------------------------------------------------------
class ExplainKind(StrEnum):
    MEETING = "meeting"
    OOF = "oof"
    TENTATIVE = "tentative"
    PRIVATE = "private"
    FREE = "free"


@dataclass(frozen=True, slots=True)
class Explanation:
    """What a calendar gives at one instant: the administrator's "why is Anna away?"."""

    busy: bool
    """A diverting item covers the instant (the referral may still be open: it rings)."""
    kind: ExplainKind
    until: datetime | None
    """The return time (busy: moved into working hours), or the end of a tentative run."""
    reason: Reason | None
    """The referral reason it would set (None when not busy)."""
    show_subject: bool
    subject: str | None = None
    """Only when ``show_subject``: never the subject of a private item."""
    referral_kind: ReferralKind | None = None
    next_change: datetime | None = None
    detail: str = ""
    """resolve()'s own explanation, which never names a private item."""


def explain(
    items: Iterable[CalendarItem],
    at: datetime,
    owner_email: str | None,
    zone: ZoneInfo,
    hours: WorkingHours,
    codes: ReferralCodes | None = None,
    *,
    language: str = "sv",
    tentative_diverts: bool = False,
    oof_reason: Reason = Reason.HOLIDAY,
    secrets: SecretNumbers = NO_SECRETS,
) -> Explanation:
    """Explain the calendar at ``at`` through the same resolve() that routes calls (R7), for
    a person with these working hours and no manual status."""
    if at.tzinfo is None:
        raise PresenceError("explain() needs an aware instant")
    listed = list(items)
    if listed:
        lo, hi = min(i.start for i in listed), max(i.end for i in listed)
    else:
        lo = hi = at
    segments = map_items(
        listed,
        window_start=lo,
        window_end=hi,
        codes=codes,
        language=language,
        owner_email=owner_email,
        oof_reason=oof_reason,
        secrets=secrets,
    )
    person = Person(
        person_id="calendar-explain",
        name="",
        extension=None,
        mobile=None,
        email=owner_email,
        organisation="",
        language=language,
        hours=hours,
        tentative_diverts=tentative_diverts,
    )
    av = resolve(person, PresenceInputs(calendar=segments), at, hours, zone)
    covering = [s for s in segments if s.covers(at)]
    referral = av.referral
    if referral is not None and referral.source is Source.CALENDAR:
        diverting = [
            s
            for s in covering
            if s.busy in (BusyClass.BUSY, BusyClass.OOF)
            or (s.busy is BusyClass.TENTATIVE and tentative_diverts)
        ]
        top = max(diverting, key=lambda s: _RANK[s.busy])
        kind = (
            ExplainKind.PRIVATE
            if top.private
            else ExplainKind.OOF
            if top.busy is BusyClass.OOF
            else ExplainKind.TENTATIVE
            if top.busy is BusyClass.TENTATIVE
            else ExplainKind.MEETING
        )
        show = not top.private and top.label is not None
        return Explanation(
            True,
            kind,
            referral.until,
            referral.reason,
            show,
            top.label if show else None,
            referral.kind,
            av.next_change,
            av.explanation,
        )
    tentative = [s for s in covering if s.busy is BusyClass.TENTATIVE]
    if tentative:
        top = tentative[0]
        show = not top.private and top.label is not None
        return Explanation(
            False,
            ExplainKind.TENTATIVE,
            max(s.end for s in tentative),
            None,
            show,
            top.label if show else None,
            None,
            av.next_change,
            av.explanation,
        )
    return Explanation(
        False, ExplainKind.FREE, None, None, False, None, None, av.next_change, av.explanation
    )
