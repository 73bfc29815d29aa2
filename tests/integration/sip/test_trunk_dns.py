"""The trunk by name through a real DNS server (dnsmasq): RFC 3263 §4.2 for UDP.

``Rfc3263`` asks dnsmasq directly; the last test runs ``switchboard serve`` in proxy mode
with ``trunk = "trunk.test"`` (no port: SRV first) and ``name_server`` pointing at
dnsmasq, and a call for Johan's mobile reaches the SIPp trunk on the port the SRV
record gives.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from switchboard.settings.sip import parse_name_server, parse_trunk
from switchboard.sip.trunk_dns import Rfc3263
from tests.integration.sip.conftest import Switchboard, trunk_answers_calls
from tests.peers.dnsmasq import Dnsmasq, Srv
from tests.peers.sipp import SippServer, scenario

Factory = Callable[..., Switchboard]

SRV: list[Srv] = [
    ("_sip._udp.trunk.test", "sbc2.trunk.test", 5080, 20, 100),
    ("_sip._udp.trunk.test", "gone.trunk.test", 5070, 10, 100),  # has no address
    ("_sip._udp.trunk.test", "sbc1.trunk.test", 5062, 10, 100),
]
HOSTS = [("sbc1.trunk.test", "192.0.2.11"), ("sbc2.trunk.test", "192.0.2.12"),
         ("plain.test", "192.0.2.20")]  # fmt: skip


async def test_srv_targets_in_priority_order_with_their_ports() -> None:
    with Dnsmasq(srv=SRV, hosts=HOSTS) as dns:
        resolve = Rfc3263(parse_name_server(dns.address))
        targets = await resolve(parse_trunk("trunk.test"), socket.AF_INET)
    # Priority 10 first (the target without an address passed over), then 20.
    assert targets == [("192.0.2.11", 5062), ("192.0.2.12", 5080)]


async def test_a_port_given_or_no_srv_records_means_the_names_own_addresses() -> None:
    with Dnsmasq(srv=SRV, hosts=HOSTS) as dns:
        resolve = Rfc3263(parse_name_server(dns.address))
        assert await resolve(parse_trunk("plain.test"), socket.AF_INET) == [("192.0.2.20", 5060)]
        explicit = await resolve(parse_trunk("sbc1.trunk.test:5099"), socket.AF_INET)
        assert explicit == [("192.0.2.11", 5099)]
        with pytest.raises(OSError, match=r"nobody\.test"):
            await resolve(parse_trunk("nobody.test"), socket.AF_INET)


async def test_an_srv_query_without_an_answer_falls_back_to_the_names_address() -> None:
    """The name server never answers for SRV (dnsmasq forwards it nowhere) but has the
    name's A record: after the SRV query's 2 s, the address is used, and the failure is
    logged."""
    hosts = [("sbc.broken.example", "192.0.2.30")]
    with Dnsmasq(hosts=hosts, unanswered=["broken.example"]) as dns:
        resolve = Rfc3263(parse_name_server(dns.address))
        with capture_logs() as logs:
            targets = await resolve(parse_trunk("sbc.broken.example"), socket.AF_INET)
    assert targets == [("192.0.2.30", 5060)]
    [failed] = [e for e in logs if e["event"] == "trunk_srv_failed"]
    assert failed["query"] == "_sip._udp.sbc.broken.example"


def test_proxy_reaches_the_trunk_found_by_srv(switchboard_factory: Factory, tmp_path: Path) -> None:
    with SippServer(scenario("uas_answer"), trace_dir=tmp_path / "trunk", max_calls=1) as trunk:
        port = int(trunk.address.rpartition(":")[2])
        records = [("_sip._udp.trunk.test", "sbc.trunk.test", port, 10, 100)]
        with Dnsmasq(srv=records, hosts=[("sbc.trunk.test", "127.0.0.1")]) as dns:
            server = switchboard_factory(
                mode="proxy", trunk="trunk.test", sip_lines=f'name_server = "{dns.address}"\n'
            )
            trunk_answers_calls(server, trunk, tmp_path)
    [resolved] = server.wait_logs("trunk_resolved")
    assert (resolved["trunk"], resolved["address"], resolved["port"]) == (
        "trunk.test",
        "127.0.0.1",
        port,
    )
    assert [(c["action"], c["outcome"]) for c in server.wait_logs("call")] == [("proxy", 200)]
