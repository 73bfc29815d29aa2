"""Who reaches which mailbox on the voicemail number (issue 13), in-process.

On the seeded demo store with ``[media] voicemail_number = "*98"``; the media service is a
fake that notes the program it is asked to play and refuses (no RTP here: the baresip tests
in ``test_mailbox_calls.py`` hear it). The digest, not the From header, says whose mailbox a
phone reaches; the trusted trunk reaches one only for an employee's mobile, behind the PIN;
anyone else is challenged or refused, and no mailbox is opened for them.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from switchboard.sip.calls import CallHandler
from switchboard.sip.flow import Flow
from switchboard.sip.media_seam import (
    Confirmation,
    Mailbox,
    MediaRefusedError,
    MediaSession,
    Program,
)
from switchboard.sip.message import Response
from switchboard.sip.parse import parse_message
from switchboard.sip.server import SipServer
from tests.integration.sip.conftest import PASSWORDS, Sent, inprocess_sip, seed
from tests.integration.sip.rawsip import digest_answer

TRUNK = Flow("udp", "127.0.0.1", 5999)
PHONE = Flow("udp", "127.0.0.7", 5062)
"""Not trusted: a phone on the network, which must prove who it is."""
MARIA_MOBILE = "+46701740642"
_ids = itertools.count()


def responses(sent: Sent, flow: Flow) -> list[Response]:
    found = [parse_message(d) for d, f in sent.data if f == flow and d.startswith(b"SIP/")]
    return [r for r in found if isinstance(r, Response)]


@dataclass
class NotedMedia:
    """A ``MediaService`` that notes each program and answers 480 (nothing to play here)."""

    programs: list[Program] = field(default_factory=list)

    def open(self, offer: bytes | None, program: Program) -> MediaSession:
        self.programs.append(program)
        raise MediaRefusedError(480, "Temporarily Unavailable", "noted")

    def confirmation(self, language: str) -> Confirmation | None:
        return None


@dataclass
class World:
    sip: SipServer
    sent: Sent
    media: NotedMedia

    def mailboxes(self) -> list[tuple[str, bool]]:
        found = [p.decision for p in self.media.programs]
        return [(m.person.name, m.pin_required) for m in found if isinstance(m, Mailbox)]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return seed(
        tmp_path_factory.mktemp("mailbox"),
        'trunk = "127.0.0.1:5999"\ndigest_algorithms = ["MD5"]\n',
        media_lines='enabled = false\nvoicemail_number = "*98"\n',
    )


@pytest.fixture
async def world(seeded: tuple[Path, Path]) -> AsyncIterator[World]:
    async with inprocess_sip(*seeded) as (sip, sent):
        media = NotedMedia()
        sip.calls = CallHandler(sip.core, sip.engine, sip.registrar, sip.settings, media, sip.proxy)
        yield World(sip, sent, media)


def invite(user: str, flow: Flow, from_user: str, authorization: str | None = None) -> bytes:
    n = next(_ids)
    lines = [
        f"INVITE sip:{user}@127.0.0.1:5060 SIP/2.0",
        f"Via: SIP/2.0/UDP {flow.host}:{flow.port};branch=z9hG4bKmb{n}",
        f"From: <sip:{from_user}@{flow.host}>;tag=f{n}",
        f"To: <sip:{user}@127.0.0.1:5060>",
        f"Call-ID: mailbox{n}@test",
        "CSeq: 1 INVITE",
        f"Contact: <sip:{from_user}@{flow.host}:{flow.port}>",
        "Max-Forwards: 70",
    ]
    if authorization is not None:
        lines.append(f"Proxy-Authorization: {authorization}")
    return ("\r\n".join([*lines, "Content-Length: 0", "", ""])).encode()


def final(world: World, flow: Flow) -> Response:
    finals = [r for r in responses(world.sent, flow) if r.status >= 200]
    assert len(finals) == 1, [r.status for r in responses(world.sent, flow)]
    return finals[0]


def now() -> float:
    return asyncio.get_running_loop().time()


@pytest.mark.parametrize("dialled", ["*98", "%2A98"], ids=["as-dialled", "star-escaped"])
async def test_an_employees_mobile_through_the_trunk_reaches_their_mailbox_behind_the_pin(
    world: World, dialled: str
) -> None:
    world.sip.receive(invite(dialled, TRUNK, MARIA_MOBILE), TRUNK, now())
    assert world.mailboxes() == [("Maria Nilsson", True)]


@pytest.mark.parametrize("caller", ["+46311234567", "anonymous", "64123"])
async def test_anyone_else_through_the_trunk_reaches_no_mailbox(world: World, caller: str) -> None:
    """An outside caller, a withheld number, or a From that names an extension (forgeable
    before it reaches the operator): 404, and no mailbox opened."""
    world.sip.receive(invite("*98", TRUNK, caller), TRUNK, now())
    assert final(world, TRUNK).status == 404
    assert world.media.programs == []


async def test_an_unauthenticated_phone_is_challenged_and_reaches_nothing(world: World) -> None:
    world.sip.receive(invite("*98", PHONE, "64123"), PHONE, now())
    assert final(world, PHONE).status == 407
    assert world.media.programs == []


async def test_a_phone_reaches_the_mailbox_of_whom_its_digest_names_not_its_from(
    world: World,
) -> None:
    """Johan's phone, claiming to be Anna in From, still reaches Johan's mailbox only, and
    with no PIN: the digest proved who it is."""
    world.sip.receive(invite("*98", PHONE, "64123"), PHONE, now())
    challenge = final(world, PHONE)
    world.sent.data.clear()
    answer = digest_answer(
        tuple(challenge.headers.get_all("Proxy-Authenticate")),
        "INVITE",
        "sip:*98@127.0.0.1:5060",
        "51234",
        PASSWORDS["51234"],
    )
    world.sip.receive(invite("*98", PHONE, "64123", answer), PHONE, now())
    assert world.mailboxes() == [("Johan Ek", False)]
    assert final(world, PHONE).status == 480  # what the noting media answered


async def test_without_media_the_voicemail_number_says_why_it_is_not_answered(
    world: World,
) -> None:
    sip = world.sip
    sip.calls = CallHandler(
        sip.core, sip.engine, sip.registrar, sip.settings, sip.media, sip.proxy
    )  # the server's own media: none, as configured
    sip.receive(invite("*98", TRUNK, MARIA_MOBILE), TRUNK, now())
    refused = final(world, TRUNK)
    assert refused.status == 480
    assert "listening by phone is not available" in (refused.headers.get("Reason") or "")
