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
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from switchboard.app import open_runtime
from switchboard.clock import FixedClock
from switchboard.logs import mask_numbers
from switchboard.settings.config import load_settings
from switchboard.sip.calls import CallHandler
from switchboard.sip.core import SipCore
from switchboard.sip.flow import Flow
from switchboard.sip.proxy import Proxy
from switchboard.sip.server import SipServer
from tests.integration.sip.conftest import MONDAY_10, seed

TRUNK = Flow("udp", "127.0.0.1", 5999)
MARIA_MOBILE = "+46701740642"
_branches = itertools.count()


class Sent:
    def __init__(self) -> None:
        self.data: list[tuple[bytes, Flow]] = []

    def send(self, data: bytes, flow: Flow) -> bool:
        self.data.append((data, flow))
        return True


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return seed(tmp_path_factory.mktemp("fuzz"), 'trunk = "127.0.0.1:5999"\n')


@pytest.fixture
async def server(seeded: tuple[Path, Path]) -> AsyncIterator[tuple[SipServer, Sent]]:
    config, data = seeded
    loaded = load_settings(config)
    clock = FixedClock(datetime.fromisoformat(MONDAY_10))
    async with open_runtime(loaded, data, clock) as runtime:
        sip = SipServer(loaded.sip, runtime.engine)
        sent = Sent()
        sip.core = SipCore(sip.layer, sent, ("127.0.0.1", 5060), sip._arm)  # type: ignore[arg-type]
        sip.proxy = Proxy(sip.core, lambda _person, _in_call: None)
        sip.calls = CallHandler(
            sip.core, runtime.engine, sip.registrar, sip.settings, sip.media, sip.proxy
        )
        yield sip, sent


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
