"""The seam between call handling and media (announcements, voicemail).

Call handling decides *that* the switchboard answers a call itself (announce, voicemail,
or a ring that nobody answered, R10-R13); ``sip/answering.py`` does the SIP side of that
answer (200 with SDP, ACK, BYE) and asks a ``MediaService`` for everything heard and said:
the SDP, the RTP session, what plays and what is recorded. The media side never sees a
SIP message; the SIP side never sees an RTP packet.

``MediaRefusedError`` is how media says no: ``488`` for an offer without a common codec
(RFC 3264 §6), ``503`` with ``Retry-After`` when no RTP port is free, and (without a media
service at all) ``480`` with a ``Reason`` (RFC 3326) saying what would have played.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from switchboard.directory.model import Person
from switchboard.routing.model import Announce, Ring, Voicemail


class Confirmation(Protocol):
    """A mobile leg that must confirm before it gets the call ("press 1 to take it"), so
    the operator's own voicemail cannot swallow the call by answering."""

    @property
    def offer(self) -> bytes:
        """Our SDP offer for the mobile leg."""
        ...

    def answered(self, answer: bytes, decided: Callable[[bool], None]) -> None:
        """The mobile answered with ``answer``: ask it, and tell ``decided(True)`` once 1
        is pressed, ``decided(False)`` when not (in time) or the leg is unusable."""
        ...

    def close(self) -> None:
        """The leg is over (or never needed): its port goes back. Called once."""
        ...


@dataclass(frozen=True, slots=True)
class Mailbox:
    """The owner called the voicemail number: their own messages, played by phone (issue
    13). The SIP edge decides this from who is calling (a digest names a registered
    phone's owner; the trunk's caller ID an employee's mobile), not the routing core."""

    person: Person
    pin_required: bool = False
    """Known by caller ID only (the mobile through the trunk): the PIN is asked first."""


@dataclass(frozen=True, slots=True)
class Program:
    """What the caller gets, as the routing core (or, for a mailbox, the SIP edge)
    decided it."""

    decision: Announce | Voicemail | Ring | Mailbox
    """``Ring``: nobody answered (or nothing could ring): voicemail (R11)."""
    now: datetime
    caller: str | None
    """The caller's number as the SIP edge read it (From user); None when withheld."""
    join: Confirmation | None = None
    """Instead of a script: a confirmed mobile leg to bridge the caller to."""

    @property
    def person(self) -> Person:
        return self.decision.person


class MediaRefusedError(Exception):
    """The call cannot be answered with media: a final response to send instead."""

    def __init__(
        self, status: int, reason: str, text: str = "", retry_after: int | None = None
    ) -> None:
        super().__init__(f"{status} {reason}: {text}" if text else f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.text = text
        self.retry_after = retry_after


class CallControls(Protocol):
    """What the media side may ask of the call it plays to."""

    def hang_up(self, why: str) -> None:
        """End the call (BYE): the program is over, or the caller went silent."""
        ...

    def transfer(self, extension: str, done: Callable[[bool], None]) -> None:
        """Connect the caller to one of our extensions (0: the reception): its targets
        ring, and ``done(True)`` once one answers and the two are bridged (the script's
        part is over), ``done(False)`` when nobody could be reached (it goes on)."""
        ...


class MediaSession(Protocol):
    """One answered call's media."""

    @property
    def local_sdp(self) -> bytes:
        """Our answer to the caller's offer, or our offer when the INVITE had none."""
        ...

    def remote_answer(self, sdp: bytes) -> None:
        """A late offer's answer (in the ACK); raises MediaRefusedError when unusable."""
        ...

    def start(self, controls: CallControls) -> None:
        """The call is confirmed (ACK): play the program."""
        ...

    def second_leg_offer(self) -> bytes:
        """Our SDP offer for calling someone on the caller's behalf (a second RTP port);
        raises MediaRefusedError when no port is free."""
        ...

    def connect_second_leg(self, answer: bytes) -> None:
        """The called side answered with ``answer``: bridge it to the caller."""
        ...

    def drop_second_leg(self) -> None:
        """Nobody answered: the second port goes back."""
        ...

    def dtmf(self, digit: str) -> None:
        """A key pressed, sent in SIP INFO rather than RTP (RFC 4733 is the usual way)."""
        ...

    def close(self, why: str) -> None:
        """The call is over, whoever ended it: stop, release the port, keep what was
        recorded only if it is whole. Called exactly once."""
        ...


class MediaService(Protocol):
    def open(self, offer: bytes | None, program: Program) -> MediaSession:
        """Negotiate ``offer`` (None: a late offer) and reserve RTP; or MediaRefusedError."""
        ...

    def confirmation(self, language: str) -> Confirmation | None:
        """A call-confirmation leg in ``language``; None when confirmation is off (or no
        RTP port is free): the mobile is then rung like any target."""
        ...


class NoMedia:
    """Without media: every call that needs audio gets 480 and an honest Reason."""

    def open(self, offer: bytes | None, program: Program) -> MediaSession:
        decision, now = program.decision, program.now
        match decision:
            case Announce():
                until = decision.referral.until
                retry = max(0, int((until - now).total_seconds())) if until else None
                raise MediaRefusedError(
                    480, "Temporarily Unavailable", decision.announcement, retry
                )
            case Voicemail():
                text = "Voicemail: leaving messages is not available"
            case Ring():
                text = decision.announcement or "No answer; voicemail is not available"
            case Mailbox():
                text = "Voicemail: listening by phone is not available"
        raise MediaRefusedError(480, "Temporarily Unavailable", text)

    def confirmation(self, language: str) -> Confirmation | None:
        return None


def reason_header(refused: MediaRefusedError) -> str:
    """``Reason: SIP;cause=480;text="..."`` with the text made safe for a quoted string."""
    text = refused.text.replace("\\", "").replace('"', "'").replace("\r", " ").replace("\n", " ")
    return f'SIP;cause={refused.status};text="{text}"'
