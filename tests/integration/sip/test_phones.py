"""Real phones and a real scanner against the switchboard (issue 3).

baresip (headless, driven over ctrl_tcp) and pyVoIP register with digest, call and are
called in proxy mode; SIPVicious finds nothing to enumerate. The switchboard runs as a
subprocess on loopback with the demo directory at Monday 10:00 (see conftest): Anna Berg
(64123) is at lunch, Maria Nilsson (18007) has a mobile she hides, and Reception Sotenäs
(64000) has no mobile, so only its registered phones ring.

Peer quirks that shape these tests (PEERS.md, and found here):
- Debian 12's baresip (libre 1.1) gives up on any digest challenge that is not MD5
  instead of skipping it (RFC 8760 §2.4 says skip), so its switchboard offers MD5 only.
- pyVoIP 1.6.8 answers digest without ``qop`` (RFC 2069 style), which the switchboard
  refuses by design (no replay protection); the harness rewrites that one header.
  It cannot answer a 407 at all, so its calls come from a trusted address.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from switchboard.sip.saved_bindings import SavedBinding
from switchboard.store.bus import EventBus
from switchboard.store.sqlite import SqliteStore
from tests.integration.sip.conftest import PASSWORDS, Switchboard
from tests.integration.sip.rawsip import RawClient, register
from tests.peers import sipvicious
from tests.peers.baresip import Account, AnswerMode, Baresip
from tests.peers.pyvoip_phone import CallLog, PyVoipPhone
from tests.peers.sipp import SippServer, scenario
from tests.peers.tools import wait_for_async

Factory = Callable[..., Switchboard]

MD5_ONLY = 'digest_algorithms = ["MD5"]\n'
"""baresip 1.0 (libre 1.1) fails with ENOSYS on a SHA-256 challenge, even next to an MD5 one."""
PYVOIP_HOST = "127.0.0.2"
"""pyVoIP binds its own loopback address, the only one the switchboard trusts: its INVITE
code waits for 401/100/180 and hangs on our 407 (and would retry with the first INVITE's
branch and CSeq), so its calls come from a trusted source, like a desk phone on a
trusted network. Its REGISTER still authenticates; baresip on 127.0.0.1 stays untrusted."""
RESET_BY_PEER = "Connection reset by peer"
"""baresip's CALL_CLOSED reason when the far end ended the call (BYE, or CANCEL while
ringing): libre closes the session with ECONNRESET."""


async def _start(factory: Factory, **kwargs: Any) -> Switchboard:
    """The factory seeds with ``asyncio.run``: run it off this test's event loop."""
    return await asyncio.to_thread(factory, sip_lines=MD5_ONLY, **kwargs)


def _lines(server: Switchboard, event: str) -> list[dict[str, Any]]:
    return [line for line in server.logs() if line.get("event") == event]


def _calls(server: Switchboard) -> list[tuple[str, str, int]]:
    """The call lines, once the first is written (log lines leave in batches)."""
    lines = server.wait_logs("call")
    return [(c["action"], c["extension"], c["outcome"]) for c in lines]


def _phone(user: str, server: Switchboard, answermode: AnswerMode = "manual") -> Account:
    return Account(user, PASSWORDS[user], server.address, answermode)


def _pyvoip(user: str, server: Switchboard) -> PyVoipPhone:
    return PyVoipPhone(
        user, PASSWORDS[user], server.host, server.port, my_ip=PYVOIP_HOST, qop_auth=True
    )


async def _until(check: Callable[[], bool], what: str, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a bounded poll
    async def done() -> bool:
        return check()

    await wait_for_async(done, timeout, 0.05, what)


def _ended(log: CallLog) -> bool:
    return log.snapshot()[-1:] == ("ENDED",)


# -- baresip ----------------------------------------------------------------------------


async def test_baresip_registers_with_digest_over_udp(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    server = await _start(switchboard_factory)
    async with Baresip(_phone("51234", server), directory=tmp_path / "johan") as phone:
        await phone.registered()

        def registered() -> bool:
            lines = _lines(server, "sip_register")
            return any(x["extension"] == "51234" and x["status"] == 200 for x in lines)

        await _until(registered, "a sip_register line with status 200")


async def test_baresip_is_rung_through_the_proxy_and_answers(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """Reception (no mobile) rings only its registered phone; both phones authenticate."""
    server = await _start(switchboard_factory, mode="proxy")
    async with (
        Baresip(_phone("64000", server, "auto"), directory=tmp_path / "reception") as callee,
        Baresip(_phone("51234", server), directory=tmp_path / "johan") as caller,
    ):
        await callee.registered()
        await caller.registered()
        await caller.dial(f"sip:64000@{server.address}")
        outgoing = await caller.wait_event("CALL_ESTABLISHED", timeout=10)
        incoming = await callee.wait_event("CALL_ESTABLISHED", timeout=10)
        assert outgoing.data["direction"] == "outgoing"
        assert incoming.data["direction"] == "incoming"
        assert incoming.peer_uri.startswith("sip:51234@")

        await caller.hangup()
        closed = await callee.wait_event("CALL_CLOSED")
        await caller.wait_event("CALL_CLOSED")
    assert closed.data.get("param") == RESET_BY_PEER, closed.data
    # Line state (LineStateChanged) is on the server's bus only: the call line stands in.
    assert _calls(server) == [("proxy", "64000", 200)]


async def test_a_phone_registered_before_a_restart_is_rung_after_it(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """Registrations outlive a restart: reception's phone registers with the first server
    (and, registering every 300 s, not again during this test); the server stops
    (SIGTERM) and starts again on the same port and data; a call to 64000 rings it."""
    first = await _start(switchboard_factory, mode="proxy")
    async with Baresip(_phone("64000", first, "auto"), directory=tmp_path / "reception") as callee:
        await callee.registered()
        assert first.stop() == 0
        second = await _start(
            switchboard_factory,
            mode="proxy",
            config=first.config,
            data_dir=first.data_dir,
            sip_listen=first.address,
        )
        assert second.port == first.port
        async with Baresip(_phone("51234", second), directory=tmp_path / "johan") as caller:
            await caller.registered()
            await caller.dial(f"sip:64000@{second.address}")
            incoming = await callee.wait_event("CALL_ESTABLISHED", timeout=10)
            await caller.wait_event("CALL_ESTABLISHED", timeout=10)
            assert incoming.peer_uri.startswith("sip:51234@")
            await caller.hangup()
            await callee.wait_event("CALL_CLOSED")
    [restored] = _lines(second, "sip_bindings_restored")
    assert (restored["bindings"], restored["users"]) == (1, 1)
    registered_again = [
        line["extension"] for line in _lines(second, "sip_register") if line["status"] == 200
    ]
    assert registered_again == ["51234"]  # only the caller: the callee was restored


def test_registrations_expire_in_real_time_whatever_now_pretends(
    switchboard_factory: Factory,
) -> None:
    """``--now`` pretends for routing, not for registrations: a phone registered with a
    server running a day ahead is saved with its real expiry, so a restart without
    ``--now`` neither keeps it a day too long nor (with ``--now`` in the past) drops it."""
    ahead = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    first = switchboard_factory(now=ahead)
    client = RawClient.udp(first.host, first.port)
    try:
        answer = register(client, "51234", PASSWORDS["51234"])
    finally:
        client.close()
    assert answer is not None
    assert answer.status == 200
    granted = int((answer.headers.get("Contact") or "").rpartition("expires=")[2])
    assert first.stop() == 0

    async def saved() -> list[SavedBinding]:
        store = await SqliteStore.open(first.data_dir / "switchboard.db", EventBus())
        try:
            return await store.saved_bindings()
        finally:
            await store.close()

    [binding] = asyncio.run(saved())
    left = (binding.expires_at - datetime.now(UTC)).total_seconds()
    assert 0 < left <= granted, f"{left:.0f} s left of {granted}"
    second = switchboard_factory(
        config=first.config, data_dir=first.data_dir, sip_listen=first.address, now=None
    )
    [restored] = second.wait_logs("sip_bindings_restored")
    assert (restored["bindings"], restored["users"]) == (1, 1)


async def test_baresip_caller_giving_up_cancels_the_ringing_phone(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """CANCEL through the proxy (RFC 3261 §16.10): the ringing phone stops, the caller
    gets 487, and the call line says so."""
    server = await _start(switchboard_factory, mode="proxy")
    async with (
        Baresip(_phone("64000", server), directory=tmp_path / "reception") as callee,
        Baresip(_phone("51234", server), directory=tmp_path / "johan") as caller,
    ):
        await callee.registered()
        await caller.registered()
        await caller.dial(f"sip:64000@{server.address}")
        await callee.wait_event("CALL_INCOMING", timeout=10)
        await caller.wait_event("CALL_RINGING")
        await caller.hangup()
        closed = await callee.wait_event("CALL_CLOSED")
        await caller.wait_event("CALL_CLOSED")
    assert closed.data.get("param") == RESET_BY_PEER, closed.data
    assert _calls(server) == [("proxy", "64000", 487)]


async def test_baresip_follows_the_302_to_the_registered_phone_in_redirect_mode(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """The 302 carries the phone's registered contact; baresip follows it by itself and the
    call runs phone to phone, without the switchboard in the path."""
    server = await _start(switchboard_factory, mode="redirect")
    async with (
        Baresip(_phone("64000", server, "auto"), directory=tmp_path / "reception") as callee,
        Baresip(_phone("51234", server), directory=tmp_path / "johan") as caller,
    ):
        await callee.registered()
        await caller.registered()
        await caller.dial(f"sip:64000@{server.address}")
        await caller.wait_event("CALL_ESTABLISHED", timeout=10)
        incoming = await callee.wait_event("CALL_ESTABLISHED", timeout=10)
        assert incoming.peer_uri.startswith("sip:51234@")
        await caller.hangup()
        await callee.wait_event("CALL_CLOSED")
    assert _calls(server) == [("redirect", "64000", 302)]


async def test_baresip_calling_anna_at_lunch_gets_480(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    server = await _start(switchboard_factory, mode="proxy")
    async with Baresip(_phone("51234", server), directory=tmp_path / "johan") as caller:
        await caller.registered()
        await caller.dial(f"sip:64123@{server.address}")
        closed = await caller.wait_event("CALL_CLOSED", timeout=10)
    reason = str(closed.data.get("param", ""))
    assert "480" in reason or "Temporarily Unavailable" in reason, closed.data
    assert _calls(server) == [("announce", "64123", 480)]


# -- pyVoIP -----------------------------------------------------------------------------


async def test_pyvoip_is_rung_beside_the_mobile_answers_and_is_hung_up_on(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """Maria's phone (pyVoIP) and her mobile ring in parallel; the phone answers first,
    so the trunk's leg is cancelled (it counts a call once it saw CANCEL, 487, ACK)."""
    trunk_dir = tmp_path / "trunk"
    with SippServer(scenario("uas_never_answer"), trace_dir=trunk_dir, max_calls=1) as trunk:
        # The trunk's address (127.0.0.1) is trusted, so baresip's INVITE is not challenged
        # here; the tests above cover its digest.
        server = await _start(
            switchboard_factory,
            mode="proxy",
            trunk=trunk.address,
            trusted=(f"{PYVOIP_HOST}/32",),
        )
        phone = _pyvoip("18007", server)
        await asyncio.to_thread(phone.start)
        try:
            async with Baresip(_phone("51234", server), directory=tmp_path / "johan") as caller:
                await caller.registered()
                await caller.dial(f"sip:18007@{server.address}")
                established = await caller.wait_event("CALL_ESTABLISHED", timeout=10)
                assert established.data["direction"] == "outgoing"
                await caller.hangup()
                await caller.wait_event("CALL_CLOSED")
                await _until(lambda: bool(phone.incoming) and _ended(phone.incoming[0]), "BYE")
        finally:
            await asyncio.to_thread(phone.stop)
        mobile = await asyncio.to_thread(trunk.wait, 5.0)
    assert [log.snapshot() for log in phone.incoming] == [("RINGING", "ANSWERED", "ENDED")]
    assert mobile.stats.successful == 1, mobile.describe()
    assert _calls(server) == [("proxy", "18007", 200)]


async def test_pyvoip_calls_reception_and_hangs_up(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """pyVoIP's ACK carries a random To-tag (upstream #312), so baresip never matches it
    and never reports CALL_ESTABLISHED; the call is up for pyVoIP, and its BYE, which
    carries the right tags, reaches baresip through the proxy."""
    server = await _start(switchboard_factory, mode="proxy", trusted=(f"{PYVOIP_HOST}/32",))
    phone = _pyvoip("18007", server)
    await asyncio.to_thread(phone.start)
    try:
        account = _phone("64000", server, "auto")
        async with Baresip(account, directory=tmp_path / "reception") as callee:
            await callee.registered()
            log = await asyncio.to_thread(phone.call, "64000", 10.0)
            assert log.snapshot() == ("DIALING", "ANSWERED")
            await asyncio.to_thread(phone.hangup, log)
            closed = await callee.wait_event("CALL_CLOSED")
    finally:
        await asyncio.to_thread(phone.stop)
    assert closed.peer_uri.startswith("sip:18007@")
    assert closed.data.get("param") == RESET_BY_PEER, closed.data
    assert log.snapshot() == ("DIALING", "ANSWERED", "ENDED")
    assert _calls(server) == [("proxy", "64000", 200)]


# -- SIPVicious -------------------------------------------------------------------------
# No ``trusted`` and no trunk: 127.0.0.1 is an untrusted source, so everything but OPTIONS
# is challenged before any extension is looked at.

KNOWN = ("51234", "64123")
SCAN_RANGE = "51230-51236,64120-64125,99990-99993"
"""Known extensions (51234, 64123) among unknown ones."""


def test_svwar_finds_nothing_with_register_invite_or_options(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    server = switchboard_factory()
    found = sipvicious.svwar_all_methods(
        server.host, server.port, extensions=SCAN_RANGE, work_dir=tmp_path
    )
    assert {method: result.rows for method, result in found.items()} == {
        "REGISTER": (),
        "INVITE": (),
        "OPTIONS": (),
    }, {method: result.output for method, result in found.items()}


def test_svwar_forced_compares_known_extensions_with_a_made_up_one(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """Plain svwar gives up when its made-up extension is challenged; ``--force`` makes it
    compare a real extension's answer with the made-up one's, which is the real test.
    (It still stops at the first extension whose answer equals the made-up one's, hence
    one extension per run.)"""
    server = switchboard_factory()
    for method in ("REGISTER", "INVITE"):
        for extension in KNOWN:
            result = sipvicious.svwar(
                server.host,
                server.port,
                extensions=extension,
                method=method,
                work_dir=tmp_path,
                force=True,
            )
            assert result.found_nothing, f"{method} {extension}: {result.output}"


def test_svmap_finds_the_server_but_no_version(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    server = switchboard_factory()
    found = sipvicious.svmap(server.host, server.port, work_dir=tmp_path)
    assert found.keys() == (server.address,), found.output
    assert [row.value for row in found.rows] == ["unknown"], found.output
