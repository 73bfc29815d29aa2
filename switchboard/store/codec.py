"""Conversions between core values and SQLite rows (the audit trail's are in ``audit_words``).

Kept apart from ``sqlite.py`` so the store reads as transactions, and so the rules for
what a row means live in one place:
- instants are ISO 8601 text in UTC with an explicit offset (``2024-05-02T09:30:00+00:00``),
  so they sort, read well in ``sqlite3`` and come back as aware datetimes equal to what was
  stored; a naive datetime is refused rather than guessed at;
- working hours are their canonical written form (``WorkingHours.format()``), the same text
  an administrator types, and NULL for "the organisation's default";
- durations are seconds.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from switchboard.directory.credentials import SipCredential
from switchboard.directory.hours import HoursError, WorkingHours
from switchboard.directory.model import Arrangement, Person, PolicyException, PolicyRule
from switchboard.presence.model import (
    BusyClass,
    CalendarSegment,
    ManualStatus,
    PlannedReferral,
    Reason,
    Referral,
    ReferralKind,
    Source,
    Template,
)
from switchboard.store.protocol import StoreError

Row = tuple[object, ...]


class Fields(Protocol):
    """A stored row read by column name: an ``sqlite3.Row``, or a dict decoded from the
    change feed (``store.changes``) or a Redis hash."""

    def __getitem__(self, key: str, /) -> Any: ...


SideStep = tuple[str, Iterable[Row]]
"""A statement and the rows it runs for, one step of a store's side-thread transaction."""

# --- instants and hours -------------------------------------------------------------------


def iso(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise StoreError(f"the instant {value.isoformat()} has no time zone; store aware times")
    return value.astimezone(UTC).isoformat()


def iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else iso(value)


def iso_batch() -> Callable[[datetime], str]:
    """``iso`` for many instants close together, byte for byte the same text, about twice as
    fast: a second's call records share their date and time up to the second, so that part
    is formatted once per second and only the microseconds per instant. Make one per batch
    (its memory lives as long as the batch); anything but an exact ``datetime`` in ``UTC``
    takes ``iso`` itself, which converts other zones and refuses naive times."""
    heads: dict[tuple[int, int, int, int, int, int], str] = {}

    def text(value: datetime) -> str:
        if type(value) is not datetime or value.tzinfo is not UTC:
            return iso(value)
        second = (value.year, value.month, value.day, value.hour, value.minute, value.second)
        head = heads.get(second)
        if head is None:
            head = heads[second] = value.replace(microsecond=0, tzinfo=None).isoformat()
        micro = value.microsecond
        # isoformat() leaves out a zero fraction and writes six digits otherwise.
        return f"{head}.{micro:06d}+00:00" if micro else f"{head}+00:00"

    return text


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def instant_or_none(text: str | None) -> datetime | None:
    return None if text is None else instant(text)


def hours_text(person: Person) -> str | None:
    """The written form of ``person.hours``; refuses hours that would not read back equal."""
    hours = person.hours
    if hours is None:
        return None
    text = hours.format()
    if read_hours(text) != hours:
        raise StoreError(
            f"the working hours of {person.person_id} cannot be stored exactly "
            f"(they read back differently from {text!r}); parse them from text first"
        )
    return text


@functools.lru_cache(maxsize=4096)
def read_hours(text: str | None) -> WorkingHours | None:
    """One ``WorkingHours`` per distinct text (they are immutable; most people share a few)."""
    if text is None:
        return None
    if text == "":
        # An empty week ("no fixed hours") formats as "", which parse() rightly refuses.
        return WorkingHours(((),) * 7)
    try:
        return WorkingHours.parse(text)
    except HoursError as exc:
        raise StoreError(f"stored working hours are unreadable: {exc}") from exc


# --- people -------------------------------------------------------------------------------

PERSON_COLUMNS = (
    "person_id",
    "name",
    "extension",
    "mobile",
    "email",
    "email_key",
    "organisation",
    "unit",
    "title",
    "language",
    "hide_mobile",
    "secret_mobile",
    "hide_extension",
    "arrangement",
    "hours",
    "ring_after_hours",
    "tentative_diverts",
)


def email_key(email: str | None) -> str | None:
    """The form two addresses are compared in (as ``subject_keys`` compares them)."""
    return None if email is None else email.lower()


def person_row(p: Person) -> Row:
    """Values in ``PERSON_COLUMNS`` order."""
    return (
        p.person_id,
        p.name,
        p.extension,
        p.mobile,
        p.email,
        email_key(p.email),
        p.organisation,
        p.unit,
        p.title,
        p.language,
        int(p.hide_mobile),
        int(p.secret_mobile),
        int(p.hide_extension),
        p.arrangement.value,
        hours_text(p),
        int(p.ring_after_hours),
        int(p.tentative_diverts),
    )


def person_from_row(r: Fields) -> Person:
    """The texts many people share (organisation, unit, title, language, a common name) are
    interned, and working hours read once per distinct text: at 100,000 people a copy of
    each per person was about 28 MB of the directory's 84, and a reload holds two."""
    return Person(
        person_id=r["person_id"],
        name=sys.intern(r["name"]),
        extension=r["extension"],
        mobile=r["mobile"],
        email=r["email"],
        organisation=sys.intern(r["organisation"]),
        unit=sys.intern(r["unit"]),
        title=sys.intern(r["title"]),
        language=sys.intern(r["language"]),
        hide_mobile=bool(r["hide_mobile"]),
        secret_mobile=bool(r["secret_mobile"]),
        hide_extension=bool(r["hide_extension"]),
        arrangement=Arrangement(r["arrangement"]),
        hours=read_hours(r["hours"]),
        ring_after_hours=bool(r["ring_after_hours"]),
        tentative_diverts=bool(r["tentative_diverts"]),
    )


# --- availability -------------------------------------------------------------------------

MANUAL_COLUMNS = (
    "person_id",
    "set_by",
    "set_at",
    "starts",
    "until",
    "referral_reason",
    "referral_kind",
    "referral_until",
    "referral_text",
    "referral_source",
    "referral_divert_to",
)


def manual_row(person_id: str, s: ManualStatus) -> Row:
    ref = s.referral
    return (
        person_id,
        s.set_by,
        iso(s.set_at),
        iso_or_none(s.starts),
        iso_or_none(s.until),
        None if ref is None else ref.reason.value,
        None if ref is None else ref.kind.value,
        None if ref is None else iso_or_none(ref.until),
        None if ref is None else ref.text,
        None if ref is None else ref.source.value,
        None if ref is None else ref.divert_to,
    )


def manual_from_row(r: Fields) -> ManualStatus:
    referral = None
    if r["referral_reason"] is not None:
        referral = Referral(
            reason=Reason(r["referral_reason"]),
            kind=ReferralKind(r["referral_kind"]),
            until=instant_or_none(r["referral_until"]),
            text=r["referral_text"],
            source=Source(r["referral_source"]),
            divert_to=r["referral_divert_to"],
        )
    return ManualStatus(
        referral=referral,
        set_by=r["set_by"],
        set_at=instant(r["set_at"]),
        starts=instant_or_none(r["starts"]),
        until=instant_or_none(r["until"]),
    )


PLAN_COLUMNS = ("plan_id", *MANUAL_COLUMNS)
"""A planned referral is stored as the manual status it amounts to, with its id (issue 16)."""


def plan_row(person_id: str, plan: PlannedReferral) -> Row:
    return (plan.plan_id, *manual_row(person_id, plan.status()))


def plan_from_row(r: Fields) -> PlannedReferral:
    status = manual_from_row(r)
    if status.referral is None or status.starts is None:
        raise ValueError(f"plan {r['plan_id']!r} has no referral or no start")
    return PlannedReferral(
        str(r["plan_id"]), status.referral, status.set_by, status.set_at, status.starts
    )


SEGMENT_COLUMNS = (
    "person_id",
    "source",
    "position",
    "starts",
    "ends",
    "busy",
    "reason",
    "kind",
    "label",
    "private",
)


def segment_row(person_id: str, source: str, position: int, s: CalendarSegment) -> Row:
    return (
        person_id,
        source,
        position,
        iso(s.start),
        iso(s.end),
        s.busy.value,
        s.reason.value,
        s.kind.value,
        s.label,
        int(s.private),
    )


def segment_from_row(r: Fields) -> CalendarSegment:
    return CalendarSegment(
        start=instant(r["starts"]),
        end=instant(r["ends"]),
        busy=BusyClass(r["busy"]),
        reason=Reason(r["reason"]),
        kind=ReferralKind(r["kind"]),
        label=r["label"],
        private=bool(r["private"]),
    )


TEMPLATE_COLUMNS = ("person_id", "name", "reason", "kind", "duration_seconds", "text")


def template_row(person_id: str, t: Template) -> Row:
    seconds = None if t.duration is None else t.duration.total_seconds()
    return (person_id, t.name, t.reason.value, t.kind.value, seconds, t.text)


def template_from_row(r: Fields) -> Template:
    seconds = r["duration_seconds"]
    return Template(
        name=r["name"],
        reason=Reason(r["reason"]),
        kind=ReferralKind(r["kind"]),
        duration=None if seconds is None else timedelta(seconds=seconds),
        text=r["text"],
    )


EXCEPTION_COLUMNS = ("subject", "subject_key", "rule", "reason", "granted_by", "granted_at")


def subject_key(subject: str) -> str:
    """Exceptions match people case-insensitively (``policy_violations`` lower-cases)."""
    return subject.lower()


def exception_row(e: PolicyException) -> Row:
    return (
        e.subject,
        subject_key(e.subject),
        e.rule.value,
        e.reason,
        e.granted_by,
        iso(e.granted_at),
    )


def exception_from_row(r: Fields) -> PolicyException:
    return PolicyException(
        subject=r["subject"],
        rule=PolicyRule(r["rule"]),
        reason=r["reason"],
        granted_by=r["granted_by"],
        granted_at=instant(r["granted_at"]),
    )


CREDENTIAL_COLUMNS = ("user", "person_id", "ha1_md5", "ha1_sha256", "changed_at")


def credential_row(person_id: str, c: SipCredential, at: datetime) -> Row:
    # The column predates SHA-256-only phones and is NOT NULL: '' stands for "no MD5 hash".
    return (c.user, person_id, c.ha1_md5 or "", c.ha1_sha256, iso(at))


def credential_from_row(r: Fields) -> SipCredential:
    return SipCredential(user=r["user"], ha1_md5=r["ha1_md5"] or None, ha1_sha256=r["ha1_sha256"])
