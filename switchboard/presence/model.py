"""Availability values: referrals, their sources, templates and calendar segments (R5-R7).

A referral ("hänvisning") says why someone cannot take calls and when they are back. A
*closed* referral plays instead of ringing (R10); an *open* one ("öppen hänvisning") rings
first and plays if the call is not answered.

Pure values: every instant is timezone-aware; nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Reason(StrEnum):
    LUNCH = "lunch"
    MEETING = "meeting"
    HOLIDAY = "holiday"
    LEAVE = "leave"
    SICK = "sick"
    TRAINING = "training"
    BUSINESS_TRIP = "business_trip"
    GONE_FOR_THE_DAY = "gone_for_the_day"
    OTHER = "other"
    OUTSIDE_HOURS = "outside_hours"
    """Set only by the working-hours schedule (R8), never picked by hand."""


class ReferralKind(StrEnum):
    CLOSED = "closed"
    OPEN = "open"


class Source(StrEnum):
    MANUAL = "manual"
    ON_BEHALF = "on_behalf"
    CALENDAR = "calendar"
    SCHEDULE = "schedule"


MAX_TEXT = 200
"""The longest referral text (a note for callers), in characters."""


Params = Mapping[str, str | int]


class RefusedError(Exception):
    """A refusal's English sentence (logs, the CLI, API clients) and what an edge needs to
    say it in the reader's language on the right field (issue 16): a stable ``code``, the
    ``field`` it concerns and the ``params`` the sentence names. The core's and the
    engine's refusals are both one of these."""

    DEFAULT_CODE = "refused"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        params: Params | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code or self.DEFAULT_CODE
        self.field = field
        self.params: Params = dict(params or {})


class PresenceError(RefusedError, ValueError):
    """A referral or template that cannot be accepted; the message says what to change."""

    DEFAULT_CODE = "invalid_referral"


@dataclass(frozen=True, slots=True)
class Referral:
    reason: Reason
    kind: ReferralKind = ReferralKind.CLOSED
    until: datetime | None = None
    """The return time: also when a manual referral stops applying."""
    text: str | None = None
    """Free text: required for OTHER, an optional note otherwise."""
    source: Source = Source.MANUAL
    divert_to: str | None = None
    """Send callers here instead (an extension or E.164), for a closed referral."""

    def __post_init__(self) -> None:
        if self.until is not None and self.until.tzinfo is None:
            raise PresenceError(
                "a return time must carry a time zone", code="needs_zone", field="until"
            )
        # R6: a person who picks "other" writes the text. A calendar item mapped to "other"
        # may have none to show (a private item); it reads "... is not available".
        written_by_hand = self.source in (Source.MANUAL, Source.ON_BEHALF)
        if (
            written_by_hand
            and self.reason is Reason.OTHER
            and not (self.text and self.text.strip())
        ):
            raise PresenceError(
                "a referral for reason 'other' needs a text (R6)",
                code="other_needs_text",
                field="text",
            )
        if self.text is not None and len(self.text) > MAX_TEXT:
            raise PresenceError(
                f"a referral text may be at most {MAX_TEXT} characters",
                code="too_long",
                field="text",
                params={"max": MAX_TEXT},
            )


@dataclass(frozen=True, slots=True)
class ManualStatus:
    """What a person (or someone on their behalf) set by hand.

    ``referral`` None means "available": a manual *available* also beats the calendar,
    for the meeting that was cancelled but is still in Outlook.
    """

    referral: Referral | None
    set_by: str
    set_at: datetime
    starts: datetime | None = None
    """Planned in advance: applies from this instant (None: from ``set_at``)."""
    until: datetime | None = None
    """When a manual *available* stops applying (a referral's own ``until`` governs it)."""

    @property
    def start(self) -> datetime:
        return self.starts or self.set_at

    @property
    def end(self) -> datetime | None:
        return self.referral.until if self.referral is not None else self.until

    def active_at(self, now: datetime) -> bool:
        end = self.end
        return self.start <= now and (end is None or now < end)

    def expired_at(self, now: datetime) -> bool:
        end = self.end
        return end is not None and now >= end


@dataclass(frozen=True, slots=True)
class PlannedReferral:
    """A referral planned in advance, kept beside the current manual status (issue 16).

    Planning a holiday for December while at lunch today must leave lunch in force: a
    person has one current status and any number of plans, each with a stable ``plan_id``
    so it can be listed and cancelled on its own. A plan applies from ``starts`` until its
    referral's return time (``referral.until``; None: until cancelled), and wins over the
    current status while it applies if it started later (``presence.plans.in_force``).
    """

    plan_id: str
    referral: Referral
    set_by: str
    set_at: datetime
    starts: datetime

    def __post_init__(self) -> None:
        if self.starts.tzinfo is None:
            raise PresenceError("a plan's start must carry a time zone")
        if self.end is not None and self.end <= self.starts:
            raise PresenceError("a plan's return time must be after its start")

    @property
    def end(self) -> datetime | None:
        return self.referral.until

    def active_at(self, now: datetime) -> bool:
        end = self.end
        return self.starts <= now and (end is None or now < end)

    def ended_at(self, now: datetime) -> bool:
        end = self.end
        return end is not None and now >= end

    def status(self) -> ManualStatus:
        """The plan as the manual status it amounts to while it applies."""
        return ManualStatus(self.referral, self.set_by, self.set_at, self.starts)


class BusyClass(StrEnum):
    """Free/busy of a calendar item, ranked as Exchange ranks them."""

    FREE = "free"
    WORKING_ELSEWHERE = "working_elsewhere"
    TENTATIVE = "tentative"
    BUSY = "busy"
    OOF = "oof"


@dataclass(frozen=True, slots=True)
class CalendarSegment:
    """A stretch of time the calendar says something about, already mapped to a referral.

    ``label`` is what may be shown (never the subject of a private item).
    """

    start: datetime
    end: datetime
    busy: BusyClass
    reason: Reason
    kind: ReferralKind = ReferralKind.CLOSED
    label: str | None = None
    private: bool = False

    def covers(self, now: datetime) -> bool:
        return self.start <= now < self.end


@dataclass(frozen=True, slots=True)
class Template:
    """A referral a person saved for reuse (R6): "Lunch, 45 minutes", "Gone for the day"."""

    name: str
    reason: Reason
    kind: ReferralKind = ReferralKind.CLOSED
    duration: timedelta | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise PresenceError("a template needs a name", code="required", field="name")
        if self.reason is Reason.OTHER and not (self.text and self.text.strip()):
            raise PresenceError(
                "a template for reason 'other' needs a text (R6)",
                code="other_needs_text",
                field="text",
            )
        if self.duration is not None and self.duration <= timedelta(0):
            raise PresenceError(
                "a template's duration must be positive",
                code="not_positive",
                field="duration_minutes",
            )

    def referral_at(self, now: datetime, source: Source = Source.MANUAL) -> Referral:
        until = now + self.duration if self.duration is not None else None
        return Referral(self.reason, self.kind, until, self.text, source)


@dataclass(frozen=True, slots=True)
class PresenceInputs:
    """Everything resolve() needs about one person, besides the person and the instant."""

    manual: ManualStatus | None = None
    calendar: tuple[CalendarSegment, ...] = ()
    plans: tuple[PlannedReferral, ...] = ()
    """Referrals planned in advance, by start (issue 16)."""


@dataclass(frozen=True, slots=True)
class Availability:
    """The effective state at an instant, with the reason it is so."""

    available: bool
    """Calls ring the person (an open referral rings first, then plays)."""
    referral: Referral | None
    """The referral in force: closed when not available; open ones ring first."""
    explanation: str
    next_change: datetime | None
    """The next instant at which resolve() may answer differently (None: not foreseeable)."""
    hints: tuple[str, ...] = ()
    """Information for a receptionist that does not change routing ("tentatively busy")."""

    @property
    def source(self) -> Source | None:
        return self.referral.source if self.referral is not None else None
