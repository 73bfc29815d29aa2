"""Voicemail values (pure): recorded messages, taken messages, what a person records for
callers, and their rules.

A caller's number is stored as E.164, as ``SECRET`` when it is a secret number (R18: the
number itself is never written anywhere), or None when unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

SECRET = "secret"  # noqa: S105 - the word stored instead of a secret number (R18)
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
PERSON_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""The ids a spool folder may be named after (the directory's ids; never ``..``)."""
MESSAGE_ID = re.compile(r"^[0-9a-f]{32}$")
"""A message id is a uuid4 in hex: also the file name, so nothing else is accepted."""
MAX_NAME = 200
MAX_TEXT = 2000


class VoicemailError(Exception):
    """A voicemail request was refused; the message says what to do instead."""


def check_person_id(person_id: str) -> str:
    if not PERSON_ID.match(person_id):
        raise VoicemailError(f"not a person id: {person_id!r}")
    return person_id


def check_message_id(message_id: str) -> str:
    if not MESSAGE_ID.match(message_id):
        raise VoicemailError(f"not a message id: {message_id!r}")
    return message_id


def stored_caller(number: str | None, *, secret: bool) -> str | None:
    """What is stored for a caller: ``SECRET`` for a secret number (R18), E.164, or None."""
    if secret:
        return SECRET
    if number is None:
        return None
    if not E164.match(number):
        raise VoicemailError(f"a caller number must be E.164 (+46...), got {number!r}")
    return number


class Recording(StrEnum):
    """What a person records for callers, kept as one file each in their spool folder.

    The greeting replaces the whole default greeting (R11, R12); the name clip replaces
    only the synthesized name, in the referral (R10) and in the default greeting.
    """

    GREETING = "greeting"
    NAME_CLIP = "name_clip"

    @property
    def file_name(self) -> str:
        return f"{self.value}.wav"

    @property
    def set_action(self) -> str:
        """The audit action of a new or replaced recording (``greeting_set``)."""
        return f"{self.value}_set"

    @property
    def deleted_action(self) -> str:
        return f"{self.value}_deleted"

    @property
    def spoken(self) -> str:
        """The word in messages and log lines: "greeting", "name clip"."""
        return self.value.replace("_", " ")


RECORDING_ACTIONS = frozenset(
    action for r in Recording for action in (r.set_action, r.deleted_action)
)
"""The audit actions of recordings: they are files only, so the spool audits them itself."""


@dataclass(frozen=True, slots=True)
class VoiceMessage:
    """A message a caller left after the greeting (R11); the audio is a spool file."""

    message_id: str
    person_id: str
    received_at: datetime
    caller: str | None
    """E.164, ``SECRET`` (R18), or None when the network gave no number."""
    duration_ms: int
    heard: bool = False


class EmailStatus(StrEnum):
    """What became of the e-mail of a taken message (stored with it)."""

    PENDING = "pending"
    """Not tried yet (the message was stored a moment ago, or the process died first)."""
    SENT = "sent"
    FAILED = "failed"
    """The SMTP server could not be reached or refused it; the message is stored anyway."""
    NO_ADDRESS = "no_address"
    """The person has no e-mail address in the directory."""
    NOT_CONFIGURED = "not_configured"
    """No ``[mail]`` table in the config: nothing is sent."""


@dataclass(frozen=True, slots=True)
class TakenMessage:
    """A message the receptionist wrote down for a person ("take a message", issue 5)."""

    message_id: str
    person_id: str
    taken_at: datetime
    taken_by: str
    """The receptionist's username (audited)."""
    caller_name: str
    caller_number: str | None
    """E.164, ``SECRET`` (R18: never put in an e-mail), or None."""
    text: str
    call_back: bool
    email: EmailStatus = EmailStatus.PENDING

    def __post_init__(self) -> None:
        name = self.caller_name.strip()
        if not name or len(name) > MAX_NAME or any(c in name for c in "\r\n\x00"):
            raise VoicemailError(f"the caller's name needs 1-{MAX_NAME} characters on one line")
        if not self.text.strip() or len(self.text) > MAX_TEXT or "\x00" in self.text:
            raise VoicemailError(f"the message needs 1-{MAX_TEXT} characters of text")
        if self.caller_number not in (None, SECRET) and not E164.match(self.caller_number):
            raise VoicemailError("the caller's number must be E.164 (+46...) or left out")
