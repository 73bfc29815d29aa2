"""Kamailio in front of two switchboard nodes (issue 14): real processes on loopback.

``configs/kamailio/dispatcher.cfg`` spreads calls over the nodes and probes them with
OPTIONS; ``configs/kamailio/http-route.cfg`` asks a node's ``/api/v1/route`` for each
INVITE and answers itself. SIPp is the caller (and the operator trunk); what it is
answered is the judge. The demo directory at Monday 10:00 (see conftest): Johan Ek (51234)
rings his mobile, Anna Berg (64123) is at lunch, Fatima Haddad (13456) has a secret
mobile.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from switchboard.cli.demo import CALENDAR_SOURCE
from switchboard.live.engine import Engine
from tests.integration.cluster.conftest import Cluster, kill
from tests.integration.sip.conftest import PASSWORDS, Switchboard
from tests.integration.sip.rawsip import RawClient, register
from tests.peers.kamailio import Kamailio, Node
from tests.peers.redis_server import RedisServer
from tests.peers.sipp import SippResult, SippRun, SippServer, run, scenario
from tests.peers.tools import wait_for

Factory = Callable[..., Cluster]
TRUNK = "127.0.0.1:5999"
JOHAN_MOBILE = "+46701740638"
JOHAN_CONTACT = f"contact=sip:{JOHAN_MOBILE}@{TRUNK}"
SECRET_FORMS = ("+46701740623", "46701740623", "0701740623", "701740623")
PROBED = {"PING_S": "1", "NO_ANSWER_MS": "1000"}
"""Probe every second; a node silent for a second is down: the tests wait less."""


def calls(kamailio: Kamailio, directory: Path, count: int, dialled: str = "51234") -> SippResult:
    """``count`` calls at 10/s through Kamailio, each expecting the 302 to Johan's mobile."""
    return run(
        SippRun(
            scenario("uac_invite_302"),
            kamailio.address,
            service=dialled,
            calls=count,
            rate=10,
            timeout=30,
        ),
        directory,
    )


def call_lines(node: Switchboard) -> list[dict[str, Any]]:
    return [line for line in node.logs() if line.get("event") == "call"]


def test_calls_through_kamailio_are_spread_over_both_nodes(
    cluster_factory: Factory, tmp_path: Path
) -> None:
    cluster = cluster_factory(trunk=TRUNK)
    with Kamailio("dispatcher.cfg", tmp_path / "kamailio", cluster.kamailio_nodes()) as kamailio:
        result = calls(kamailio, tmp_path / "calls", 20)
    assert result.ok, result.describe()
    assert set(result.log_lines) == {JOHAN_CONTACT}
    wait_for(lambda: sum(len(call_lines(n)) for n in cluster.nodes) == 20, what="20 call log lines")
    spread = [len(call_lines(n)) for n in cluster.nodes]
    assert min(spread) >= 5, spread  # round-robin: about half each


def test_a_node_killed_with_sigkill_does_not_stop_calls(
    cluster_factory: Factory, tmp_path: Path
) -> None:
    """The OPTIONS probes mark a dead node down and a live one up; a call sent to a node
    that died a moment ago goes on to the next one after a second of silence."""
    cluster = cluster_factory(trunk=TRUNK)
    a, b = cluster.nodes
    a_uri = f"sip:{a.address}"
    with Kamailio(
        "dispatcher.cfg", tmp_path / "kamailio", cluster.kamailio_nodes(), defines=PROBED
    ) as kamailio:
        wait_for(lambda: set(kamailio.node_states().values()) == {"AP"}, what="both nodes up")

        # 1. Killed while quiet: the probes alone mark it down; no call waits on it.
        kill(a)
        wait_for(lambda: kamailio.node_states()[a_uri] == "IP", timeout=10, what="A probed down")
        result = calls(kamailio, tmp_path / "after-probe", 20)
        assert result.ok, result.describe()
        assert kamailio.script_lines("switchboard_node_failed") == []
        assert max(result.stats.response_times_ms) < 500
        wait_for(lambda: len(call_lines(b)) == 20, what="B took every call")

        # 2. Back on its port: the probes find it, and calls reach it again.
        again = cluster.start_node(sip_listen=a.address)
        wait_for(lambda: kamailio.node_states()[a_uri] == "AP", timeout=10, what="A probed up")
        result = calls(kamailio, tmp_path / "back", 10)
        assert result.ok, result.describe()
        wait_for(lambda: len(call_lines(again)) >= 3, what="A takes calls again")

        # 3. Killed in the middle of calls: those sent to it fail over after a second.
        kill(again)
        result = calls(kamailio, tmp_path / "killed", 20)
        assert result.ok, result.describe()
        assert set(result.log_lines) == {JOHAN_CONTACT}
        failed = kamailio.script_lines("switchboard_node_failed")
        assert failed, "no call was sent to the dead node before the probes saw it"
        assert all(a_uri in line and "status=408" in line for line in failed), failed


def test_calls_ring_through_kamailio_and_both_proxies_in_proxy_mode(
    cluster_factory: Factory, tmp_path: Path
) -> None:
    """Record-Route at Kamailio and at the node: the ACK and the BYE follow the route set
    (RFC 3261 12.2.1.1) and the trunk answers every call."""
    with SippServer(scenario("uas_answer"), trace_dir=tmp_path / "trunk", max_calls=6) as trunk:
        cluster = cluster_factory(mode="proxy", trunk=trunk.address)
        with Kamailio("dispatcher.cfg", tmp_path / "kamailio", cluster.kamailio_nodes()) as kam:
            result = run(
                SippRun(
                    scenario("uac_invite_answered"), kam.address, service="51234", calls=6, rate=5
                ),
                tmp_path / "caller",
            )
        answered = trunk.wait(timeout=15)
    assert result.ok, result.describe()
    assert answered.stats.successful == 6, answered.describe()
    assert all(len(call_lines(n)) > 0 for n in cluster.nodes)


def test_a_caller_cancel_reaches_the_trunk_through_kamailio_and_the_node(
    cluster_factory: Factory, tmp_path: Path
) -> None:
    """CANCEL goes to the branch the INVITE went to (RFC 3261 16.10), at each proxy."""
    with SippServer(scenario("uas_never_answer"), trace_dir=tmp_path / "trunk") as trunk:
        cluster = cluster_factory(nodes=1, mode="proxy", trunk=trunk.address)
        with Kamailio("dispatcher.cfg", tmp_path / "kamailio", cluster.kamailio_nodes()) as kam:
            result = run(
                SippRun(scenario("uac_invite_cancel_any_order"), kam.address, service="51234"),
                tmp_path / "caller",
            )
        cancelled = trunk.stop()
    assert result.ok, result.describe()
    assert cancelled.stats.successful == 1, cancelled.describe()  # CANCEL, 487, ACK
    node = cluster.nodes[0]
    wait_for(lambda: len(call_lines(node)) == 1, what="the call line")
    assert [(c["action"], c["outcome"]) for c in call_lines(node)] == [("proxy", 487)]


@pytest.mark.parametrize("config", ["dispatcher.cfg", "http-route.cfg"])
def test_a_stranger_is_refused_at_the_front(
    cluster_factory: Factory, tmp_path: Path, config: str
) -> None:
    """The nodes trust Kamailio: a new request from outside CALLERS_NET gets 403 there and
    never reaches a node (nor, in http-route.cfg, the route API)."""
    cluster = cluster_factory(nodes=1, trunk=TRUNK)
    with Kamailio(
        config,
        tmp_path / "kamailio",
        cluster.kamailio_nodes(),
        defines={"CALLERS_NET": '"192.0.2.0/24"'},
        env={"SWITCHBOARD_ROUTE_TOKEN": cluster.token},
    ) as kamailio:
        assert final(kamailio, tmp_path / "c1", "51234", "0701112233") == ("final=403",)
        assert kamailio.script_lines("route action=") == []
    assert call_lines(cluster.nodes[0]) == []


# -- Kamailio asks over HTTP ------------------------------------------------------------


def final(kamailio: Kamailio, directory: Path, dialled: str, caller: str) -> tuple[str, ...]:
    """One call from ``caller`` to ``dialled``: what SIPp was answered (its log lines)."""
    result = run(
        SippRun(
            scenario("uac_invite_any_final"),
            kamailio.address,
            service=dialled,
            keys={"caller": caller},
            timeout=15,
        ),
        directory,
    )
    assert result.ok, result.describe()
    return result.log_lines


def test_http_route_gives_sipp_the_decision(cluster_factory: Factory, tmp_path: Path) -> None:
    """Kamailio answers redirect and reject itself; what the switchboard must carry out
    (a referral, voicemail) is relayed to a node, which answers it."""
    cluster = cluster_factory(mode="proxy", trunk=TRUNK)
    env = {"SWITCHBOARD_ROUTE_TOKEN": cluster.token}
    with Kamailio(
        "http-route.cfg", tmp_path / "kamailio", cluster.kamailio_nodes(), env=env
    ) as kamailio:
        answers = {
            "redirect": final(kamailio, tmp_path / "c1", "51234", "0701112233"),
            "referral": final(kamailio, tmp_path / "c2", "64123", "0701112233"),
            "unknown": final(kamailio, tmp_path / "c3", "13999", "0701112233"),
            # Johan from his own mobile, "+" and all: his voicemail, not his mobile.
            "own": final(kamailio, tmp_path / "c4", "+46523651234", "+46701740638"),
        }
        routed = kamailio.script_lines("route action=")
        log = kamailio.log_text()
    assert answers == {
        "redirect": ("final=302", JOHAN_CONTACT),
        "referral": ("final=480",),  # media off: the node says why in Reason
        "unknown": ("final=404",),
        "own": ("final=480",),
    }
    assert [line.split("<script>: ")[1] for line in routed] == [
        "route action=redirect decision=ring extension=51234",
        "route action=relay decision=announce extension=64123",
        "route action=reject decision=reject extension=0",
        "route action=relay decision=voicemail extension=51234",
    ]
    # Kamailio did the signalling of the redirect and the reject: the nodes saw only the
    # two calls it relayed.
    wait_for(lambda: sum(len(call_lines(n)) for n in cluster.nodes) == 2, what="2 relayed")
    relayed = sorted(line["action"] for n in cluster.nodes for line in call_lines(n))
    assert relayed == ["announce", "voicemail"]
    for text in [log, *(n.log_text() for n in cluster.nodes)]:
        assert cluster.token not in text


def test_http_route_with_a_wrong_token_refuses_calls_and_says_why(
    cluster_factory: Factory, tmp_path: Path
) -> None:
    cluster = cluster_factory(nodes=1, trunk=TRUNK)
    wrong = "sbt_" + "x" * 43
    with Kamailio(
        "http-route.cfg",
        tmp_path / "kamailio",
        cluster.kamailio_nodes(),
        env={"SWITCHBOARD_ROUTE_TOKEN": wrong},
    ) as kamailio:
        assert final(kamailio, tmp_path / "c1", "51234", "0701112233") == ("final=500",)
        refused = kamailio.script_lines("switchboard_route_refused")
        log = kamailio.log_text()
    assert len(refused) == 1, refused
    assert "http_status=401" in refused[0]
    assert wrong not in log


def test_http_route_survives_a_killed_node(cluster_factory: Factory, tmp_path: Path) -> None:
    """A node whose API does not answer is marked down like one whose SIP does not: the
    next node is asked, and every call is answered."""
    cluster = cluster_factory(mode="proxy", trunk=TRUNK)
    a, _ = cluster.nodes
    env = {"SWITCHBOARD_ROUTE_TOKEN": cluster.token}
    with Kamailio(
        "http-route.cfg", tmp_path / "kamailio", cluster.kamailio_nodes(), env=env
    ) as kamailio:
        kill(a)
        result = calls(kamailio, tmp_path / "calls", 10)
        failed = kamailio.script_lines("switchboard_node_failed")
    assert result.ok, result.describe()
    assert set(result.log_lines) == {JOHAN_CONTACT}
    assert failed, "no call was sent to the dead node"
    assert all(f"sip:{a.address}" in line for line in failed), failed


def route_answer(node: Switchboard, token: str, query: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://{node.http}/api/v1/route?{query}",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback
        body: dict[str, Any] = json.load(answer)
    return body


def test_the_route_answer_names_the_phones_registered_with_that_node(
    cluster_factory: Factory, tmp_path: Path
) -> None:
    """``serve`` hands its registrar to the route API: a phone registered with node A is
    in A's answer (before the mobile, as in A's own 302), and not in B's."""
    cluster = cluster_factory(trunk=TRUNK)
    a, b = cluster.nodes
    client = RawClient.udp(a.host, a.port)
    try:
        response = register(client, "18007", PASSWORDS["18007"])
        phone = f"sip:caller@{client.local_host}:{client.local_port}"  # its Contact
    finally:
        client.close()
    assert response is not None
    assert response.status == 200
    on_a = route_answer(a, cluster.token, "to=18007")
    on_b = route_answer(b, cluster.token, "to=18007")
    assert [(t["uri"], t["role"]) for t in on_a["targets"]] == [
        (phone, "phone"),
        (f"sip:+46701740642@{TRUNK};user=phone", "mobile"),
    ]
    assert [t["role"] for t in on_b["targets"]] == ["mobile"]


async def _back_from_holiday(engine: Engine) -> None:
    """Fatima Haddad is available: a call to her rings her secret mobile."""
    await engine.set_calendar(engine.find("13456"), CALENDAR_SOURCE, (), "test")


def test_http_route_rings_a_secret_mobile_through_a_node_never_shown(
    cluster_factory: Factory, tmp_path: Path
) -> None:
    """R18 end to end: the route answer says relay, the node rings the secret mobile on the
    trunk, the caller is answered, and no message the caller sees holds the number."""
    with SippServer(scenario("uas_answer"), trace_dir=tmp_path / "trunk", max_calls=1) as trunk:
        cluster = cluster_factory(mode="proxy", trunk=trunk.address, prepare=_back_from_holiday)
        env = {"SWITCHBOARD_ROUTE_TOKEN": cluster.token}
        with Kamailio(
            "http-route.cfg", tmp_path / "kamailio", cluster.kamailio_nodes(), env=env
        ) as kam:
            result = run(
                SippRun(
                    scenario("uac_invite_answered"),
                    kam.address,
                    service="13456",
                    extra_args=["-trace_msg"],
                ),
                tmp_path / "caller",
            )
            routed = kam.script_lines("route action=")
        answered = trunk.wait(timeout=15)
    assert result.ok, result.describe()
    assert answered.stats.successful == 1, answered.describe()
    assert [line.split("<script>: ")[1] for line in routed] == [
        "route action=relay decision=ring extension=13456"
    ]
    seen = "".join(
        p.read_text(errors="replace") for p in (tmp_path / "caller").glob("*_messages.log")
    )
    assert "SIP/2.0 200" in seen
    for form in SECRET_FORMS:
        assert form not in seen


def test_a_referral_set_through_node_a_is_what_a_call_through_kamailio_gets_at_node_b(
    cluster_factory: Factory, tmp_path: Path
) -> None:
    cluster = cluster_factory(trunk=TRUNK)
    a, b = cluster.nodes
    request = urllib.request.Request(
        f"http://{a.http}/api/v1/people?q=Johan",
        headers={"Authorization": f"Bearer {cluster.desk_token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback
        person = json.load(answer)["people"][0]["id"]
    change = urllib.request.Request(
        f"http://{a.http}/api/v1/people/{person}/availability",
        data=b'{"state": "referral", "reason": "lunch"}',
        method="PUT",
        headers={
            "Authorization": f"Bearer {cluster.desk_token}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(change, timeout=5) as answer:  # noqa: S310 - loopback
        assert answer.status == 200
    # Only B behind Kamailio: whatever the call gets, B decided it.
    with Kamailio("dispatcher.cfg", tmp_path / "kamailio", [Node(b.address)]) as kamailio:
        got: list[tuple[str, ...]] = []

        def referral_heard() -> bool:
            got.append(final(kamailio, tmp_path / f"c{len(got)}", "51234", "0701112233"))
            return got[-1] == ("final=480",)

        wait_for(referral_heard, timeout=3, interval=0.1, what="B to answer the referral")


def test_on_redis_a_write_through_one_node_is_every_nodes_answer_and_a_dead_node_is_skipped(
    cluster_factory: Factory, tmp_path: Path
) -> None:
    """The issue's multi-node test: Kamailio, two nodes and a real redis-server. A
    referral set through node A is what every call through Kamailio gets, whichever node
    it reaches; then A dies (SIGKILL) and calls still get it, from B."""
    with RedisServer(tmp_path / "redis") as redis:
        store = f'\n[store]\nbackend = "redis"\nurl = "{redis.url}"\nnamespace = "cluster"\n'
        cluster = cluster_factory(trunk=TRUNK, store=store)
        a, b = cluster.nodes
        with Kamailio(
            "dispatcher.cfg", tmp_path / "kamailio", cluster.kamailio_nodes()
        ) as kamailio:
            assert final(kamailio, tmp_path / "before", "51234", "0701112233") != ("final=480",)
            person = _person_id(a, cluster.desk_token, "Johan")
            _set_lunch(a, cluster.desk_token, person)
            got: list[tuple[str, ...]] = []

            def both_refer() -> bool:
                # Round robin: two calls in a row reach both nodes.
                got.extend(
                    final(kamailio, tmp_path / f"c{len(got)}-{n}", "51234", "0701112233")
                    for n in range(2)
                )
                return got[-2:] == [("final=480",), ("final=480",)]

            wait_for(both_refer, timeout=5, interval=0.1, what="both nodes to refer Johan")
            kill(a)
            answers = [
                final(kamailio, tmp_path / f"after{n}", "51234", "0701112233") for n in range(4)
            ]
            assert answers == [("final=480",)] * 4
            assert b.process.poll() is None


def _person_id(node: Switchboard, token: str, query: str) -> str:
    request = urllib.request.Request(
        f"http://{node.http}/api/v1/people?q={query}",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback
        return str(json.load(answer)["people"][0]["id"])


def _set_lunch(node: Switchboard, token: str, person: str) -> None:
    change = urllib.request.Request(
        f"http://{node.http}/api/v1/people/{person}/availability",
        data=b'{"state": "referral", "reason": "lunch"}',
        method="PUT",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(change, timeout=5) as answer:  # noqa: S310 - loopback
        assert answer.status == 200
