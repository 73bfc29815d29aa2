"""Call records and call-list requests as values (R19); pure, no I/O, no clock.

A call record says who of ours had a call, when, with whom and what the switchboard did.
It exists for one purpose: a call list that the nearest manager asks for, an administrator
approves, and only that manager downloads (``requests.py``). The other party's number is
stored, but a secret mobile of ours never is (R18): it is stored as ``SECRET``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from switchboard.routing.values import quick_init

SECRET = "secret"  # noqa: S105 - the word stored instead of a secret mobile (R18)
MAX_PERIOD = timedelta(days=90)
"""The longest period one request may cover (and the default retention)."""
DOWNLOADS = 3
"""How many times an approved call list may be downloaded."""
VALID_FOR = timedelta(days=7)
"""How long after approval the call list may be downloaded."""
MIN_TEXT = 5
MAX_TEXT = 500


class CallsError(Exception):
    """A call-record or call-list request was refused; the message says what to do."""


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class CallAction(StrEnum):
    """What the switchboard did with the call (the SIP edge's ``call`` log line)."""

    RING = "ring"
    REDIRECT = "redirect"
    ANNOUNCE = "announce"
    VOICEMAIL = "voicemail"
    DIVERT = "divert"
    REJECT = "reject"
    OUTBOUND = "outbound"
    MAILBOX = "mailbox"
    """The person called the voicemail number to hear their own messages (issue 13)."""


@quick_init
@dataclass(frozen=True, slots=True)
class CallRecord:
    call_id_hash: str
    """SHA-256 of the SIP Call-ID: joins a record to logs without keeping the id itself."""
    started_at: datetime
    ended_at: datetime | None
    """When the switchboard gave its final answer; None for an answered call, whose end
    (the BYE) the switchboard does not see."""
    direction: Direction
    person_id: str
    """The extension's owner (in), or the employee calling out (out)."""
    other_party: str | None
    """E.164, ``SECRET`` for a secret mobile of ours (R18), None when unknown."""
    action: CallAction
    outcome: int
    """The final SIP status the caller got."""


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class CallListRequest:
    """A manager's request for one employee's calls in one period (R19)."""

    request_id: int
    person_id: str
    requester_id: str
    """The account that asked: the only one that may download."""
    requester: str
    """Its username, as the audit trail names it."""
    start: datetime
    end: datetime
    """The period is ``start <= started_at < end``."""
    reason: str
    created_at: datetime
    status: RequestStatus = RequestStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    comment: str | None = None
    expires_at: datetime | None = None
    downloads_left: int = 0

    def downloadable(self, now: datetime) -> bool:
        return (
            self.status is RequestStatus.APPROVED
            and self.expires_at is not None
            and now < self.expires_at
            and self.downloads_left > 0
        )


def check_text(what: str, text: str) -> str:
    cleaned = " ".join(text.split())
    if not MIN_TEXT <= len(cleaned) <= MAX_TEXT:
        raise CallsError(f"{what} must be {MIN_TEXT}-{MAX_TEXT} characters; it is kept (R19)")
    return cleaned


def check_period(start: datetime, end: datetime, now: datetime) -> None:
    """R19 asks for a bounded period: start before end, at most 90 days, not in the future."""
    if start.tzinfo is None or end.tzinfo is None:
        raise CallsError("give the period as instants with a time zone (e.g. +01:00)")
    if end <= start:
        raise CallsError("the period must end after it starts")
    if end - start > MAX_PERIOD:
        raise CallsError(f"a call list covers at most {MAX_PERIOD.days} days; ask for less")
    if end > now:
        raise CallsError("the period must not end in the future; calls not made yet are not kept")


CSV_COLUMNS = (
    "started_at",
    "ended_at",
    "direction",
    "other_party",
    "action",
    "outcome",
    "call_id_hash",
)


def record_json(record: CallRecord) -> dict[str, object]:
    return {
        "started_at": record.started_at.isoformat(),
        "ended_at": None if record.ended_at is None else record.ended_at.isoformat(),
        "direction": record.direction.value,
        "person_id": record.person_id,
        "other_party": record.other_party,
        "action": record.action.value,
        "outcome": record.outcome,
        "call_id_hash": record.call_id_hash,
    }


def records_csv(records: Iterable[CallRecord]) -> str:
    """RFC 4180 CSV with a header row, one line per call."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        row = record_json(r)
        writer.writerow(["" if row[c] is None else str(row[c]) for c in CSV_COLUMNS])
    return out.getvalue()
