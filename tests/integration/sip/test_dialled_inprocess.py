"""Whatever an employee dials, the switchboard answers it, and never with a 500 (issue 17).

In-process on the seeded demo store: the trusted trunk sends Maria Nilsson's outgoing
mobile calls back through us (the "trusted mobile leg"), so every dialled string reaches
the outbound path: short codes, '+' with too few digits, '00' prefixes, '*'/'#' service
codes, letters. Before, "+46112" raised ``NumberError`` out of ``_outbound``: a 500.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from switchboard.events import VoicemailChanged
from switchboard.logs import mask_numbers
from switchboard.sip.flow import Flow
from switchboard.sip.message import NameAddr, SipUri
from switchboard.sip.mwi import MessageWaiting
from switchboard.sip.server import SipServer
from tests.integration.sip.conftest import Sent, inprocess_sip, seed

TRUNK = Flow("udp", "127.0.0.1", 5999)
MARIA_MOBILE = "+46701740642"
_branches = itertools.count()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return seed(tmp_path_factory.mktemp("fuzz"), 'trunk = "127.0.0.1:5999"\n')


@pytest.fixture
async def server(seeded: tuple[Path, Path]) -> AsyncIterator[tuple[SipServer, Sent]]:
    async with inprocess_sip(*seeded) as running:
        yield running


def invite(dialled: str) -> bytes:
    branch = next(_branches)
    user = quote(dialled, safe="+-.")
    return (
        f"INVITE sip:{user}@127.0.0.1:5060 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKfz{branch}\r\n"
        f"From: <sip:{MARIA_MOBILE}@127.0.0.1>;tag=f{branch}\r\n"
        f"To: <sip:{user}@127.0.0.1:5060>\r\n"
        f"Call-ID: fuzz{branch}@test\r\n"
        "CSeq: 1 INVITE\r\n"
        "Max-Forwards: 70\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def answers(sent: Sent) -> list[int]:
    """The statuses of the responses sent back to the trunk's caller leg."""
    return [
        int(data.split(b" ", 2)[1])
        for data, flow in sent.data
        if data.startswith(b"SIP/2.0 ") and flow == TRUNK
    ]


DIALLED = st.one_of(
    st.text(alphabet="0123456789", min_size=1, max_size=18),
    st.text(alphabet="0123456789", max_size=16).map(lambda d: "+" + d),
    st.text(alphabet="0123456789", max_size=16).map(lambda d: "00" + d),
    st.text(alphabet="0123456789*#", min_size=1, max_size=10),
    st.text(alphabet="0123456789+*#-.abcxyzABC ", min_size=1, max_size=20),
)


async def test_every_dialled_string_gets_an_answer_that_is_not_a_500(
    server: tuple[SipServer, Sent],
) -> None:
    sip, sent = server
    now = asyncio.get_running_loop().time()
    refused = {400, 403, 404, 484}

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(DIALLED)
    def check(dialled: str) -> None:
        sent.data.clear()
        sip.receive(invite(dialled), TRUNK, now)
        statuses = answers(sent)
        assert 500 not in statuses, dialled
        # Either refused with a clear answer, or on its way to the trunk (100 Trying and
        # an INVITE out): never left unanswered.
        forwarded = any(data.startswith(b"INVITE ") for data, _ in sent.data)
        assert forwarded or set(statuses) & refused, (dialled, statuses)

    check()


@pytest.mark.parametrize(
    ("dialled", "status"),
    [("+4611", 484), ("+46", 484), ("0046", 484), ("*21#", 484), ("abc", 484)],
)
async def test_numbers_that_cannot_be_read_are_refused_clearly(
    server: tuple[SipServer, Sent], dialled: str, status: int
) -> None:
    sip, sent = server
    sip.receive(invite(dialled), TRUNK, asyncio.get_running_loop().time())
    assert answers(sent) == [status]


@pytest.mark.parametrize("dialled", ["112", "+46112", "0046112", "1177", "11414", "116-000"])
async def test_short_numbers_go_to_the_trunk_in_their_short_form(
    server: tuple[SipServer, Sent], dialled: str
) -> None:
    sip, sent = server
    sip.receive(invite(dialled), TRUNK, asyncio.get_running_loop().time())
    out = [data for data, _ in sent.data if data.startswith(b"INVITE ")]
    assert len(out) == 1
    short = dialled.replace("-", "").removeprefix("+46").removeprefix("0046")
    assert out[0].startswith(f"INVITE sip:{short}@127.0.0.1:5999;user=phone SIP/2.0".encode())


async def test_a_source_banned_for_flooding_still_reaches_112(
    server: tuple[SipServer, Sent],
) -> None:
    """Over its rate three seconds running, a source is banned (one WARNING line) and
    hears nothing, except that its emergency INVITE is still read; the ban ends."""
    sip, _ = server
    start = asyncio.get_running_loop().time()
    host = "192.0.2.8"
    options = b"OPTIONS sip:127.0.0.1 SIP/2.0\r\n"
    with capture_logs() as logs:
        for tick in range(4 * 50):  # 1,000 a second for four seconds, 20 every 20 ms
            for _ in range(20):
                sip.admission.admit(host, start + tick * 0.02, options)
    banned_at = start + 4.0
    [line] = [entry for entry in logs if entry["event"] == "sip_flood_blocked"]
    assert (line["log_level"], line["source"]) == ("warning", host)
    assert not sip.admission.admit(host, banned_at, options)
    assert sip.admission.admit(host, banned_at, b"INVITE sip:112@127.0.0.1:5060 SIP/2.0\r\n")
    assert not sip.admission.admit(host, banned_at + 30.0, options)  # a bucket refills; a ban holds
    assert sip.admission.admit(host, banned_at + sip.settings.flood_ban, options)


async def test_a_flooding_source_still_reaches_112(server: tuple[SipServer, Sent]) -> None:
    """A phone behind an address that is over its rate (a shared NAT under a flood) still
    gets its emergency INVITE read, and challenged; nothing else from it is read."""
    sip, _ = server
    now = asyncio.get_running_loop().time()
    host = "192.0.2.7"
    options = b"OPTIONS sip:127.0.0.1 SIP/2.0\r\n"
    admitted = [
        sip.admission.admit(host, now, options) for _ in range(2 * sip.settings.rate_limit + 5)
    ]
    assert admitted[-1] is False  # the source is over its rate
    assert sip.admission.admit(host, now, b"INVITE sip:112@127.0.0.1:5060 SIP/2.0\r\n")
    assert sip.admission.admit(host, now, b"INVITE sip:+46112@127.0.0.1;user=phone SIP/2.0\r\n")
    assert not sip.admission.admit(host, now, b"INVITE sip:51234@127.0.0.1:5060 SIP/2.0\r\n")
    assert not sip.admission.admit(host, now, b"INVITE sip:1177@127.0.0.1:5060 SIP/2.0\r\n")
    assert not sip.admission.admit(host, now, b"INVITE sip:1120@127.0.0.1:5060 SIP/2.0\r\n")


@pytest.mark.parametrize(
    ("dialled", "rule", "prefix"),
    [
        ("00881631234567", "blocked_international", "881"),
        ("+88213123456", "blocked_international", "882"),
        ("008835100123", "blocked_international", "883"),
        ("+97912345678", "blocked_international", "979"),
        ("0012125551234", "international_countries", "121"),
        ("+2348012345678", "international_countries", "234"),
        ("0900123456", "blocked_destinations", "0900"),
        ("+46900123456", "blocked_destinations", "0900"),
    ],
)
async def test_toll_fraud_destinations_are_refused_and_logged(
    server: tuple[SipServer, Sent], dialled: str, rule: str, prefix: str
) -> None:
    """Premium, satellite and far-away numbers are refused with 403 and logged as a
    security event at WARNING: who called, the rule, the prefix it matched, and the
    number masked (R18) once the line passes the log processors."""
    sip, sent = server
    with capture_logs() as logs:
        sip.receive(invite(dialled), TRUNK, asyncio.get_running_loop().time())
    assert answers(sent) == [403]
    assert not [data for data, _ in sent.data if data.startswith(b"INVITE ")]
    [line] = [entry for entry in logs if entry["event"] == "outbound_blocked"]
    assert line["log_level"] == "warning"
    assert (line["caller"], line["organisation"], line["method"]) == ("18007", "munkedal", "INVITE")
    assert (line["rule"], line["prefix"]) == (rule, prefix)
    masked = mask_numbers(None, "warning", dict(line))
    digits = "".join(ch for ch in dialled if ch.isdigit())
    assert digits[3:-2] not in str(masked["destination"])
    assert str(masked["destination"]).endswith(digits[-2:])


@pytest.mark.parametrize(
    "dialled", ["+4522334455", "004930123456", "+35891234567", "+3548001234", "0701234567"]
)
async def test_nordic_and_eu_numbers_go_out(server: tuple[SipServer, Sent], dialled: str) -> None:
    sip, sent = server
    with capture_logs() as logs:
        sip.receive(invite(dialled), TRUNK, asyncio.get_running_loop().time())
    assert len([data for data, _ in sent.data if data.startswith(b"INVITE ")]) == 1
    assert not [entry for entry in logs if entry["event"] == "outbound_blocked"]


async def test_a_phone_that_never_subscribed_still_sees_its_message_waiting(
    server: tuple[SipServer, Sent],
) -> None:
    """RFC 3842 unsolicited: Anna's registered desk phone gets a NOTIFY with the counts
    when a message is left for her, and nothing about who called (R18, R20)."""
    sip, sent = server
    now = asyncio.get_running_loop().time()
    desk = Flow("udp", "192.0.2.20", 5062)
    sip.mwi = MessageWaiting(sip.core, sip.engine, sip.registrar)
    contact = NameAddr(SipUri("192.0.2.20", user="64123", port=5062))
    sip.registrar.update("64123", [(contact, None)], 300, "reg1", 1, desk, now)
    anna = sip.engine.view.person_by_extension("64123")
    assert anna is not None
    sent.data.clear()
    sip.voicemail_changed(VoicemailChanged(anna.person_id, 2, 1))
    notifies = [(data, flow) for data, flow in sent.data if data.startswith(b"NOTIFY ")]
    assert len(notifies) == 1
    data, flow = notifies[0]
    assert flow == desk
    assert data.startswith(b"NOTIFY sip:64123@192.0.2.20:5062 SIP/2.0\r\n")
    assert b"\r\nEvent: message-summary\r\n" in data
    body = data.partition(b"\r\n\r\n")[2]
    assert b"Messages-Waiting: yes\r\n" in body
    assert b"Voice-Message: 2/1\r\n" in body
