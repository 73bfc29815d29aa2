"""Take a message: stored first, e-mailed over real SMTP on loopback, never a secret number
(R18); with SMTP down the message is stored and the outcome says ``failed``."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest

from switchboard.clock import FixedClock
from switchboard.directory.numbers import NumberError, NumberPlan
from switchboard.directory.secret_text import SecretNumberError, SecretNumbers
from switchboard.settings.mail import MailSettings
from switchboard.voicemail.model import SECRET, EmailStatus, VoicemailError, VoiceMessage
from switchboard.voicemail.notify import MessageDesk, SmtpTransport, caller_number
from tests.unit.voicemail.conftest import ANNA, FATIMA, T0, Spooled
from tests.unit.voicemail.smtp_peer import smtp_peer

STOCKHOLM = ZoneInfo("Europe/Stockholm")
PLAN = NumberPlan("46", "0", "00", ())
SECRETS = SecretNumbers.of([ANNA, FATIMA], PLAN)


def desk(spooled: Spooled, executor: ThreadPoolExecutor, port: int | None) -> MessageDesk:
    if port is None:
        return MessageDesk(spooled.store, FixedClock(T0), executor, STOCKHOLM, None, None)
    settings = MailSettings("127.0.0.1", "vaxel@kommun.example", port=port, starttls=False)
    return MessageDesk(
        spooled.store,
        FixedClock(T0),
        executor,
        STOCKHOLM,
        SmtpTransport(settings, environ={}),
        settings.from_address,
    )


def free_port() -> int:
    """A port nobody listens on (bound, then released): SMTP down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_message_reaches_the_person_by_email(spooled: Spooled) -> None:
    async with smtp_peer() as peer:
        with ThreadPoolExecutor(1) as executor:
            taken = await desk(spooled, executor, peer.port).take(
                ANNA,
                caller_name="Örjan Lind",
                caller_number="+46311234567",
                text="Ring om bygglovet, gärna före tre.",
                call_back=True,
                actor="t.reception",
                secrets=SECRETS,
            )
    assert taken.email_error is None
    assert taken.message.email is EmailStatus.SENT
    [mail] = peer.inbox
    assert mail.recipients == ["<anna@kommun.example>"]
    message = mail.message
    assert message["Subject"] == "Meddelande från Örjan Lind"
    body = message.get_content()
    assert "Ring om bygglovet, gärna före tre." in body
    assert "+46311234567" in body
    assert "Vill bli uppringd: ja" in body
    assert "Tid: 2026-11-23 10:00" in body  # 09:00 UTC in Stockholm
    stored = await spooled.store.taken_messages("anna")
    assert [m.email for m in stored] == [EmailStatus.SENT]


async def test_the_email_never_carries_a_secret_number(spooled: Spooled) -> None:
    number = caller_number("070-174 06 23", PLAN, [ANNA, FATIMA])
    assert number == SECRET
    async with smtp_peer() as peer:
        with ThreadPoolExecutor(1) as executor:
            await desk(spooled, executor, peer.port).take(
                ANNA,
                caller_name="Fatima",
                caller_number=number,
                text="Call me back",
                call_back=True,
                actor="t.reception",
                secrets=SECRETS,
            )
    [mail] = peer.inbox
    assert b"1740623" not in mail.raw
    assert "hemligt nummer" in mail.message.get_content()


async def test_smtp_down_still_stores_the_message_and_says_failed(spooled: Spooled) -> None:
    with ThreadPoolExecutor(1) as executor:
        taken = await desk(spooled, executor, free_port()).take(
            ANNA,
            caller_name="Örjan",
            caller_number=None,
            text="Hej",
            call_back=False,
            actor="t.reception",
            secrets=SECRETS,
        )
    assert taken.message.email is EmailStatus.FAILED
    assert taken.email_error is not None
    assert "SMTP server 127.0.0.1" in taken.email_error
    [stored] = await spooled.store.taken_messages("anna")
    assert stored.email is EmailStatus.FAILED
    assert stored.text == "Hej"
    actions = [e.action for e in await spooled.store.audit(5, subject="anna")]
    assert actions[:2] == ["message_emailed", "message_taken"]


async def test_without_mail_settings_or_address_nothing_is_sent(spooled: Spooled) -> None:
    with ThreadPoolExecutor(1) as executor:
        off = await desk(spooled, executor, None).take(
            ANNA,
            caller_name="A",
            caller_number=None,
            text="x",
            call_back=False,
            actor="r",
            secrets=SECRETS,
        )
        async with smtp_peer() as peer:
            nowhere = await desk(spooled, executor, peer.port).take(
                FATIMA,
                caller_name="B",
                caller_number=None,
                text="y",
                call_back=False,
                actor="r",
                secrets=SECRETS,
            )
    assert off.message.email is EmailStatus.NOT_CONFIGURED
    assert nowhere.message.email is EmailStatus.NO_ADDRESS
    assert peer.inbox == []


@pytest.mark.parametrize(
    ("name", "text"),
    [("", "x"), ("Eve\r\nBcc: all@x", "x"), ("A" * 201, "x"), ("A", ""), ("A", "x" * 2001)],
    ids=["no name", "header injection", "long name", "no text", "long text"],
)
async def test_unusable_messages_are_refused_and_not_stored(
    spooled: Spooled, name: str, text: str
) -> None:
    with ThreadPoolExecutor(1) as executor, pytest.raises(VoicemailError):
        await desk(spooled, executor, None).take(
            ANNA,
            caller_name=name,
            caller_number=None,
            text=text,
            call_back=False,
            actor="r",
            secrets=SECRETS,
        )
    assert await spooled.store.taken_messages("anna") == []


def test_caller_numbers_are_normalised_or_refused() -> None:
    assert caller_number("031-123 45 67", PLAN, [ANNA]) == "+46311234567"
    assert caller_number("  ", PLAN, [ANNA]) is None
    with pytest.raises(NumberError):
        caller_number("call me", PLAN, [ANNA])


def test_a_missing_smtp_password_is_named() -> None:
    settings = MailSettings(
        "127.0.0.1",
        "v@k.example",
        username_env="SB_USER",
        password_env="SB_PASS",  # noqa: S106 - a variable name
    )
    with pytest.raises(VoicemailError, match="SB_USER and SB_PASS"):
        SmtpTransport(settings, environ={"SB_USER": "u"}).send(EmailMessage())


async def test_a_voicemail_notice_reaches_the_owner_without_a_secret_number(
    spooled: Spooled,
) -> None:
    """R11, R18: the owner hears of a message by e-mail; a secret caller is words, not
    digits, and the audio stays in the switchboard."""
    secret = VoiceMessage("a" * 32, ANNA.person_id, T0, SECRET, 65_000)
    public = VoiceMessage("b" * 32, ANNA.person_id, T0, "+46311234567", 4_000)
    async with smtp_peer() as peer:
        with ThreadPoolExecutor(1) as executor:
            notices = desk(spooled, executor, peer.port)
            assert await notices.voice_notice(secret, ANNA) is None
            assert await notices.voice_notice(public, ANNA) is None
    first, second = peer.inbox
    assert first.recipients == ["<anna@kommun.example>"]
    body = first.message.get_content()
    assert "hemligt nummer" in body
    assert "1:05" in body
    assert "+46311234567" in second.message.get_content()
    assert second.message["Subject"] == "Nytt röstmeddelande från +46311234567"
    assert all(
        part.get_content_maintype() != "audio" for m in peer.inbox for part in m.message.walk()
    )


async def test_no_voicemail_notice_without_mail_settings(spooled: Spooled) -> None:
    message = VoiceMessage("c" * 32, ANNA.person_id, T0, None, 2_000)
    with ThreadPoolExecutor(1) as executor:
        assert await desk(spooled, executor, None).voice_notice(message, ANNA) is None


@pytest.mark.parametrize(
    ("field", "name", "text"),
    [
        ("text", "Örjan", "Fatima vill bli uppringd på 070-174 06 23"),
        ("caller_name", "Fatima +46 70 174 06 23", "Ring tillbaka"),
    ],
    ids=["in-the-text", "in-the-name"],
)
async def test_r18_a_secret_mobile_in_a_message_is_refused_and_nothing_stored(
    spooled: Spooled, field: str, name: str, text: str
) -> None:
    """Issue 17: the message is shown to the person and e-mailed; the number is secret."""
    assert FATIMA.secret_mobile
    with ThreadPoolExecutor(1) as executor, pytest.raises(SecretNumberError) as refused:
        await desk(spooled, executor, None).take(
            ANNA,
            caller_name=name,
            caller_number=None,
            text=text,
            call_back=False,
            actor="r",
            secrets=SECRETS,
        )
    assert refused.value.field == field
    assert await spooled.store.taken_messages(ANNA.person_id) == []
