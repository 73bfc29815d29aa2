"""The peer harnesses proven peer-to-peer, before the switchboard exists (issue 3).

Each test pits one real implementation against another (SIPp against SIPp, baresip against
baresip, SIPVicious against SIPp), so when a server test fails later, the harness is known
to work. Select them with ``pytest tests/integration/peers``.
"""

# ruff: noqa: S106 - the passwords here are test fixtures, not secrets
from __future__ import annotations

from pathlib import Path

import pytest

from tests.peers import sipvicious
from tests.peers.baresip import Account, Baresip
from tests.peers.kamailio import Kamailio, Node
from tests.peers.pyvoip_phone import PyVoipError, PyVoipPhone
from tests.peers.sipp import EXIT_CALLS_FAILED, SippRun, SippServer, run, scenario
from tests.peers.tools import wait_for


def test_sipp_caller_completes_calls_against_answering_trunk(tmp_path: Path) -> None:
    # max_calls: the trunk exits by itself once it saw all three ACK/BYE, so its counts
    # are final when read (no race with a SIGTERM).
    uas = SippServer(scenario("uas_answer"), trace_dir=tmp_path / "uas", max_calls=3)
    with uas as trunk:
        result = run(
            SippRun(scenario("uac_invite_answered"), trunk.address, service="64123", calls=3),
            tmp_path / "uac",
        )
        server = trunk.wait(timeout=5)

    assert result.ok, result.describe()
    assert result.stats.successful == 3
    assert server.stats.successful == 3, server.describe()
    assert len(result.stats.response_times_ms) == 3
    assert result.stats.p99_ms is not None


def test_sipp_caller_sees_busy_and_acks_it(tmp_path: Path) -> None:
    with SippServer(scenario("uas_busy"), trace_dir=tmp_path / "uas") as mobile:
        busy = run(SippRun(scenario("uac_invite_expect_486"), mobile.address), tmp_path / "486")
        wrong = run(SippRun(scenario("uac_invite_expect_480"), mobile.address), tmp_path / "480")
        server = mobile.stop()

    assert busy.ok, busy.describe()
    # The same 486 fails a caller that expected 480: the status check is real.
    assert wrong.exit_code == EXIT_CALLS_FAILED
    assert "486 Busy Here" in wrong.errors
    # The busy trunk only counts a call once the ACK of its 486 arrived (RFC 3261 17.1.1.3).
    assert server.stats.successful >= 1, server.describe()


def test_sipp_caller_acks_302_and_reads_its_contact(tmp_path: Path) -> None:
    target = "sip:+46701234567@127.0.0.1:5099"
    with SippServer(
        scenario("uas_redirect"), keys={"target": target}, trace_dir=tmp_path / "uas", max_calls=1
    ) as redirect:
        result = run(
            SippRun(scenario("uac_invite_302"), redirect.address, service="64123"),
            tmp_path / "uac",
        )
        server = redirect.wait(timeout=5)

    assert result.ok, result.describe()
    assert result.log_lines == (f"contact={target}",)
    assert server.stats.successful == 1, server.describe()


def test_sipp_register_with_digest(tmp_path: Path) -> None:
    users = tmp_path / "users.csv"
    users.write_text("SEQUENTIAL\nalice;[authentication username=alice password=s3cret]\n")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("SEQUENTIAL\nalice;[authentication username=alice password=guess]\n")
    keys = {"user": "alice", "password": "s3cret"}
    registrar_dir = tmp_path / "registrar"
    with SippServer(scenario("uas_registrar_digest"), keys=keys, trace_dir=registrar_dir) as reg:
        accepted = run(SippRun(scenario("uac_register_digest"), reg.address, inf=users), tmp_path)
        refused = run(SippRun(scenario("uac_register_digest"), reg.address, inf=wrong), tmp_path)

    assert accepted.ok, accepted.describe()
    assert refused.exit_code == EXIT_CALLS_FAILED
    assert "403 Forbidden" in refused.errors


async def test_baresip_calls_baresip_directly(tmp_path: Path) -> None:
    async with (
        Baresip(Account("a"), directory=tmp_path / "a") as caller,
        Baresip(Account("b", answermode="auto"), directory=tmp_path / "b") as callee,
    ):
        await caller.dial(callee.uri)
        outgoing = await caller.wait_event("CALL_ESTABLISHED")
        incoming = await callee.wait_event("CALL_ESTABLISHED")
        assert outgoing.data["direction"] == "outgoing"
        assert outgoing.peer_uri == callee.uri
        assert incoming.data["direction"] == "incoming"
        assert incoming.data["id"] == outgoing.data["id"]

        await caller.hangup()
        await callee.wait_event("CALL_CLOSED")
        await caller.wait_event("CALL_CLOSED")


async def test_baresip_registers_with_digest(tmp_path: Path) -> None:
    keys = {"user": "alice", "password": "s3cret"}
    registrar_dir = tmp_path / "registrar"
    with SippServer(
        scenario("uas_registrar_digest"), keys=keys, trace_dir=registrar_dir
    ) as registrar:
        account = Account("alice", password="s3cret", registrar=registrar.address)
        async with Baresip(account, directory=tmp_path / "alice") as phone:
            await phone.registered(timeout=5)
        server = registrar.stop()

    assert server.stats.successful >= 1, server.describe()
    assert server.stats.failed == 0, server.describe()


def test_svmap_finds_sipp_trunk(tmp_path: Path) -> None:
    with SippServer(scenario("uas_answer"), trace_dir=tmp_path / "uas") as trunk:
        found = sipvicious.svmap("127.0.0.1", trunk.port, work_dir=tmp_path / "svmap")

    assert found.keys() == (trunk.address,), found.output


def test_svwar_enumerates_a_leaky_registrar(tmp_path: Path) -> None:
    # The counter-example: 401 for the one existing extension, 404 for the rest.
    with SippServer(scenario("uas_leaky_registrar"), trace_dir=tmp_path / "uas") as leaky:
        found = sipvicious.svwar(
            "127.0.0.1", leaky.port, extensions="100-105", work_dir=tmp_path / "svwar"
        )

    assert found.keys() == ("102",), found.output


def test_svwar_finds_nothing_where_every_extension_answers_alike(tmp_path: Path) -> None:
    with SippServer(scenario("uas_answer"), trace_dir=tmp_path / "uas") as trunk:
        found = sipvicious.svwar(
            "127.0.0.1", trunk.port, extensions="100-105", method="OPTIONS", work_dir=tmp_path
        )

    assert found.found_nothing, found.output


def test_svmap_finds_nothing_where_nothing_listens(tmp_path: Path) -> None:
    from tests.peers.tools import free_port

    found = sipvicious.svmap("127.0.0.1", free_port("udp"), work_dir=tmp_path)

    assert found.found_nothing, found.output


def test_pyvoip_registers_with_digest_and_is_refused_a_wrong_password(tmp_path: Path) -> None:
    keys = {"user": "alice", "password": "s3cret"}
    with SippServer(scenario("uas_registrar_digest"), keys=keys, trace_dir=tmp_path) as registrar:
        with PyVoipPhone("alice", "s3cret", "127.0.0.1", registrar.port) as phone:
            assert phone.status == "REGISTERED"
        assert phone.status == "INACTIVE"
        with pytest.raises(PyVoipError), PyVoipPhone("alice", "guess", "127.0.0.1", registrar.port):
            pass


def test_sipp_caller_cancels_a_mobile_that_never_answers(tmp_path: Path) -> None:
    uas = SippServer(scenario("uas_never_answer"), trace_dir=tmp_path / "uas", max_calls=1)
    with uas as mobile:
        result = run(SippRun(scenario("uac_invite_cancel"), mobile.address), tmp_path / "uac")
        server = mobile.wait(timeout=5)

    assert result.ok, result.describe()
    assert server.stats.successful == 1, server.describe()


def test_kamailio_dispatcher_carries_sipp_calls_to_sipp_nodes(tmp_path: Path) -> None:
    """The Kamailio harness (issue 14) with SIPp as both nodes: the probes see them up,
    calls reach both through the shipped dispatcher.cfg, and a 302 comes back intact."""
    target = "sip:+46701740638@127.0.0.1:5999"
    with (
        SippServer(
            scenario("uas_redirect"), trace_dir=tmp_path / "n1", keys={"target": target}
        ) as one,
        SippServer(
            scenario("uas_redirect"), trace_dir=tmp_path / "n2", keys={"target": target}
        ) as two,
        Kamailio(
            "dispatcher.cfg",
            tmp_path / "kamailio",
            [Node(one.address), Node(two.address)],
            defines={"PING_S": "1"},
        ) as kamailio,
    ):
        wait_for(lambda: set(kamailio.node_states().values()) == {"AP"}, what="nodes up")
        result = run(
            SippRun(scenario("uac_invite_302"), kamailio.address, service="51234", calls=4),
            tmp_path / "uac",
        )
        counts = [one.stop().stats.successful, two.stop().stats.successful]
    assert result.ok, result.describe()
    assert set(result.log_lines) == {f"contact={target}"}
    assert counts == [2, 2]
