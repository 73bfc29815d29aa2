"""The seam between call handling and media (announcements, voicemail).

Call handling hands every decision that needs audio to a ``MediaSeam``. Media is its own
issue; until it lands, ``NoMediaYet`` gives the caller a clear final answer instead of a
hang: ``480 Temporarily Unavailable`` with a ``Reason`` (RFC 3326) saying what would have
played, and ``Retry-After`` (RFC 3261 §20.33) when the owner's return time is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from switchboard.routing.model import Announce, Ring, Voicemail


@dataclass(frozen=True, slots=True)
class MediaAnswer:
    """A final response for the caller: status, reason phrase and what the Reason says."""

    status: int
    reason: str
    text: str
    retry_after: int | None = None


class MediaSeam(Protocol):
    def announce(self, decision: Announce, now: datetime) -> MediaAnswer: ...

    def voicemail(self, decision: Voicemail, now: datetime) -> MediaAnswer: ...

    def no_answer(self, decision: Ring, now: datetime) -> MediaAnswer: ...


class NoMediaYet:
    """Answers every media decision with 480 and an honest Reason."""

    def announce(self, decision: Announce, now: datetime) -> MediaAnswer:
        until = decision.referral.until
        retry = max(0, int((until - now).total_seconds())) if until is not None else None
        return MediaAnswer(480, "Temporarily Unavailable", decision.announcement, retry)

    def voicemail(self, decision: Voicemail, now: datetime) -> MediaAnswer:
        return MediaAnswer(
            480, "Temporarily Unavailable", "Voicemail: leaving messages is not available yet"
        )

    def no_answer(self, decision: Ring, now: datetime) -> MediaAnswer:
        text = decision.announcement or "No answer; voicemail is not available yet"
        return MediaAnswer(480, "Temporarily Unavailable", text)


def reason_header(answer: MediaAnswer) -> str:
    """``Reason: SIP;cause=480;text="..."`` with the text made safe for a quoted string."""
    text = answer.text.replace("\\", "").replace('"', "'").replace("\r", " ").replace("\n", " ")
    return f'SIP;cause={answer.status};text="{text}"'
