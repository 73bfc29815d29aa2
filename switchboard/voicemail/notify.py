"""Take a message: the receptionist writes it down, it is stored, and it goes out by e-mail.

Order and outcome (no half-applied state): the message is stored first, with its e-mail
``pending``; then the e-mail is tried once and its outcome (``sent`` or ``failed``) is
stored on the message. Whatever SMTP does, the person finds the message on their page, and
the receptionist is told whether the e-mail went. A process that dies between the two
leaves ``pending``, which the page shows as "not e-mailed".

Privacy: R20 forbids confidential content in SMS, so there is no SMS channel here at all;
e-mail carries the message (see ``settings.mail``). A secret number (R18) is stored as
``secret`` before anything else happens, so it can reach neither the store, nor the
e-mail, nor a log line.
"""

from __future__ import annotations

import asyncio
import os
import smtplib
import ssl
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol
from zoneinfo import ZoneInfo

import structlog

from switchboard.clock import Clock
from switchboard.directory.model import Person
from switchboard.directory.numbers import NumberPlan
from switchboard.directory.secret_text import SecretNumbers
from switchboard.settings.mail import MailSettings
from switchboard.store.protocol import VoicemailStore
from switchboard.voicemail.model import (
    SECRET,
    EmailStatus,
    TakenMessage,
    VoicemailError,
    VoiceMessage,
)

log = structlog.get_logger("switchboard.voicemail")


class MailError(VoicemailError):
    """The e-mail could not be handed to the SMTP server; the message says why."""


class MailTransport(Protocol):
    """Hands one e-mail to a mail server. Blocking: called in the app's executor."""

    def send(self, message: EmailMessage) -> None:
        """Raise MailError when the server cannot be reached or refuses the message."""
        ...


class SmtpTransport:
    """SMTP with STARTTLS (RFC 3207) and AUTH (RFC 4954) through the stdlib ``smtplib``."""

    def __init__(self, settings: MailSettings, environ: Mapping[str, str] | None = None) -> None:
        self._settings = settings
        self._environ = os.environ if environ is None else environ

    def _login(self) -> tuple[str, str] | None:
        s = self._settings
        if s.username_env is None or s.password_env is None:
            return None
        user, password = self._environ.get(s.username_env), self._environ.get(s.password_env)
        if not user or not password:
            raise MailError(
                f"set the environment variables {s.username_env} and {s.password_env} "
                "for the SMTP login ([mail] username_env, password_env)"
            )
        return user, password

    def send(self, message: EmailMessage) -> None:
        s = self._settings
        login = self._login()
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if login is not None:
                    smtp.login(*login)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"the SMTP server {s.host}:{s.port} failed: {exc}") from None


def caller_number(raw: str | None, plan: NumberPlan, people: Iterable[Person]) -> str | None:
    """The caller's number as stored: E.164, or ``secret`` when it is one of our secret
    mobiles (R18); None when not given. NumberError when it is not a telephone number."""
    if raw is None or not raw.strip():
        return None
    e164 = plan.to_e164(raw)
    if any(p.secret_mobile and p.mobile == e164 for p in people):
        return SECRET
    return e164


_WORDS: dict[str, dict[str, str]] = {
    "sv": {
        "subject": "Meddelande från {name}",
        "from": "Från",
        "number": "Nummer",
        "secret": "hemligt nummer",
        "none": "inget nummer",
        "at": "Tid",
        "call_back": "Vill bli uppringd",
        "yes": "ja",
        "no": "nej",
        "taken_by": "Taget av",
        "voice_subject": "Nytt röstmeddelande från {number}",
        "length": "Längd",
        "listen": "Lyssna på meddelandet på din sida i växeln.",
    },
    "nb": {
        "subject": "Melding fra {name}",
        "from": "Fra",
        "number": "Nummer",
        "secret": "hemmelig nummer",
        "none": "intet nummer",
        "at": "Tid",
        "call_back": "Ønsker å bli ringt opp",
        "yes": "ja",
        "no": "nei",
        "taken_by": "Tatt av",
        "voice_subject": "Ny talemelding fra {number}",
        "length": "Lengde",
        "listen": "Lytt til meldingen på siden din i sentralbordet.",
    },
    "en": {
        "subject": "Message from {name}",
        "from": "From",
        "number": "Number",
        "secret": "secret number",
        "none": "no number",
        "at": "Time",
        "call_back": "Please call back",
        "yes": "yes",
        "no": "no",
        "taken_by": "Taken by",
        "voice_subject": "New voicemail from {number}",
        "length": "Length",
        "listen": "Listen to the message on your page of the switchboard.",
    },
}


def _number_in_words(number: str | None, words: dict[str, str]) -> str:
    """A caller's number for an e-mail: a secret one as words (R18), none as words."""
    if number == SECRET:
        return words["secret"]
    return number or words["none"]


def compose(message: TakenMessage, person: Person, sender: str, zone: ZoneInfo) -> EmailMessage:
    """The e-mail, in the person's language. Never a secret number (R18): it is stored as
    ``secret`` and written as words."""
    if person.email is None:
        raise MailError(f"{person.name} has no e-mail address in the directory")
    words = _WORDS.get(person.language, _WORDS["en"])
    number = _number_in_words(message.caller_number, words)
    at = message.taken_at.astimezone(zone)
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = person.email
    mail["Subject"] = words["subject"].format(name=message.caller_name)
    mail["Date"] = format_datetime(at)
    mail["Message-ID"] = make_msgid(idstring=message.message_id)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    lines = [
        f"{words['from']}: {message.caller_name}",
        f"{words['number']}: {number}",
        f"{words['at']}: {at:%Y-%m-%d %H:%M}",
        f"{words['call_back']}: {words['yes'] if message.call_back else words['no']}",
        "",
        message.text,
        "",
        f"{words['taken_by']}: {message.taken_by}",
    ]
    mail.set_content("\n".join(lines))
    return mail


def compose_voice(
    message: VoiceMessage, person: Person, sender: str, zone: ZoneInfo
) -> EmailMessage:
    """The notice of a voicemail message a caller left (R11, R12): who, when, how long. The
    audio stays in the switchboard (it is listened to on the person's page), and a secret
    number is written as words (R18)."""
    if person.email is None:
        raise MailError(f"{person.name} has no e-mail address in the directory")
    words = _WORDS.get(person.language, _WORDS["en"])
    number = _number_in_words(message.caller, words)
    at = message.received_at.astimezone(zone)
    seconds = round(message.duration_ms / 1000)
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = person.email
    mail["Subject"] = words["voice_subject"].format(number=number)
    mail["Date"] = format_datetime(at)
    mail["Message-ID"] = make_msgid(idstring=message.message_id)
    mail["Auto-Submitted"] = "auto-generated"
    lines = [
        f"{words['number']}: {number}",
        f"{words['at']}: {at:%Y-%m-%d %H:%M}",
        f"{words['length']}: {seconds // 60}:{seconds % 60:02d}",
        "",
        words["listen"],
    ]
    mail.set_content("\n".join(lines))
    return mail


@dataclass(frozen=True, slots=True)
class Taken:
    """A stored message and, when its e-mail failed, why."""

    message: TakenMessage
    email_error: str | None = None


class MessageDesk:
    """Takes messages for people: stores them, mails them, lists them."""

    def __init__(
        self,
        store: VoicemailStore,
        clock: Clock,
        executor: Executor,
        zone: ZoneInfo,
        transport: MailTransport | None,
        sender: str | None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._executor = executor
        self._zone = zone
        self._transport = transport
        self._sender = sender

    async def take(
        self,
        person: Person,
        *,
        caller_name: str,
        caller_number: str | None,
        text: str,
        call_back: bool,
        actor: str,
        secrets: SecretNumbers,
        at: datetime | None = None,
    ) -> Taken:
        """Store the message, then mail it once. ``caller_number`` must already be E.164 or
        ``secret`` (``caller_number()``); VoicemailError for a message that is not usable.

        SecretNumberError, naming the field, when the caller's name or the text holds
        someone's secret mobile (R18, issue 17: the message is shown to the person and
        e-mailed; ``secrets`` is the directory's, ``Engine.secret_numbers()``). Nothing is
        stored then: the receptionist is asked to write it without the number."""
        secrets.refuse("caller_name", caller_name)
        secrets.refuse("text", text)
        if self._transport is None or self._sender is None:
            status = EmailStatus.NOT_CONFIGURED
        elif person.email is None:
            status = EmailStatus.NO_ADDRESS
        else:
            status = EmailStatus.PENDING
        message = TakenMessage(
            uuid.uuid4().hex,
            person.person_id,
            at or self._clock.now(),
            actor,
            caller_name.strip(),
            caller_number,
            text.strip(),
            call_back,
            status,
        )
        await self._store.add_taken_message(message)
        if status is not EmailStatus.PENDING:
            log.info("message_taken", person=person.person_id, email=status.value)
            return Taken(message)
        error = await self._mail(message, person)
        status = EmailStatus.FAILED if error else EmailStatus.SENT
        await self._store.set_taken_message_email(
            message.message_id, status, actor, self._clock.now()
        )
        log.info("message_taken", person=person.person_id, email=status.value)
        return Taken(replace(message, email=status), error)

    async def _mail(self, message: TakenMessage, person: Person) -> str | None:
        return await self._send(
            person,
            "message_email_failed",
            lambda sender: compose(message, person, sender, self._zone),
        )

    async def voice_notice(self, message: VoiceMessage, person: Person) -> str | None:
        """E-mail the owner that a caller left a message; the error, or None (also when
        mail is not configured or the person has no address: nothing to send)."""
        if person.email is None:
            return None
        error = await self._send(
            person,
            "voicemail_email_failed",
            lambda sender: compose_voice(message, person, sender, self._zone),
        )
        if error is None and self._transport is not None:
            log.info("voicemail_emailed", person=person.person_id)
        return error

    async def _send(
        self, person: Person, failure: str, build: Callable[[str], EmailMessage]
    ) -> str | None:
        """Compose with ``build(sender)`` and send off the event loop; the error, or None
        (also when mail is not configured: nothing to send)."""
        transport, sender = self._transport, self._sender
        if transport is None or sender is None:
            return None
        try:
            mail = build(sender)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, transport.send, mail)
        except MailError as exc:
            log.warning(failure, person=person.person_id, error=str(exc))
            return str(exc)
        return None

    async def messages(self, person_id: str) -> list[TakenMessage]:
        return await self._store.taken_messages(person_id)
