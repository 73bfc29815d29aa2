"""The switchboard answering real SIP traffic: SIPp callers and SIPp trunks (issue 3).

Every test starts ``switchboard serve`` as a subprocess on loopback (port 0) with the demo
directory at Monday 10:00 (see conftest): Johan Ek (51234) is available with a public
mobile, Anna Berg (64123) is at lunch, Fatima Haddad (13456) has a secret mobile.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from switchboard.sip.parse import parse_name_addr
from tests.integration.sip.conftest import Switchboard, trunk_answers_calls
from tests.integration.sip.rawsip import RawClient
from tests.peers.sipp import SippRun, SippServer, run, scenario

Factory = Callable[..., Switchboard]

JOHAN_MOBILE = "+46701740638"


def _call_lines(server: Switchboard, count: int = 1) -> list[dict[str, Any]]:
    return server.wait_logs("call", count)


@pytest.mark.parametrize(
    "dialled",
    ["51234", "0523651234", "+46523651234", "0046523651234"],
    ids=["extension", "national", "e164", "international-prefix"],
)
def test_redirect_sends_every_dialled_form_to_the_mobile_on_the_trunk(
    switchboard_factory: Factory, tmp_path: Path, dialled: str
) -> None:
    """R3: any form of the number reaches the same extension; 302 to the mobile (R5)."""
    server = switchboard_factory(trunk="127.0.0.1:5999", trusted=("127.0.0.1/32",))
    result = run(SippRun(scenario("uac_invite_302"), server.address, service=dialled), tmp_path)
    assert result.ok, result.describe()
    assert result.log_lines == (f"contact=sip:{JOHAN_MOBILE}@127.0.0.1:5999",)
    lines = _call_lines(server)
    assert [(c["action"], c["extension"], c["outcome"]) for c in lines] == [
        ("redirect", "51234", 302)
    ]


def test_redirect_over_tcp(switchboard_factory: Factory, tmp_path: Path) -> None:
    server = switchboard_factory(trunk="127.0.0.1:5999", trusted=("127.0.0.1/32",))
    result = run(
        SippRun(scenario("uac_invite_302"), server.address, service="51234", transport="t1"),
        tmp_path,
    )
    assert result.ok, result.describe()
    assert result.log_lines == (f"contact=sip:{JOHAN_MOBILE}@127.0.0.1:5999",)


def test_referral_gets_a_final_answer_with_the_reason_until_media_lands(
    switchboard_factory: Factory,
) -> None:
    """Anna Berg is at lunch: a clear 480 with the spoken referral in Reason, never a hang."""
    server = switchboard_factory(trunk="127.0.0.1:5999", trusted=("127.0.0.1/32",))
    client = RawClient.udp(server.host, server.port)
    try:
        client.send(client.request("INVITE", "64123"))
        final = client.final()
    finally:
        client.close()
    assert final is not None
    assert (final.status, final.reason) == (480, "Temporarily Unavailable")
    reason = final.headers.get("Reason") or ""
    assert reason.startswith("SIP;cause=480;text=")
    assert "Anna Berg" in reason
    retry = final.headers.get("Retry-After")
    assert retry is not None
    assert 0 < int(retry) <= 45 * 60  # lunch for 45 minutes from the seeding instant


def test_unknown_number_from_the_trunk_is_404(switchboard_factory: Factory) -> None:
    server = switchboard_factory(trunk="127.0.0.1:5999", trusted=("127.0.0.1/32",))
    client = RawClient.udp(server.host, server.port)
    try:
        client.send(client.request("INVITE", "64999"))
        final = client.final()
    finally:
        client.close()
    assert final is not None
    assert final.status == 404


def test_proxy_rings_the_mobile_through_the_trunk_and_the_call_completes(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    with SippServer(scenario("uas_answer"), trace_dir=tmp_path / "trunk", max_calls=2) as trunk:
        server = switchboard_factory(mode="proxy", trunk=trunk.address, trusted=("127.0.0.1/32",))
        trunk_answers_calls(server, trunk, tmp_path, calls=2)
    assert [(c["action"], c["outcome"]) for c in _call_lines(server, 2)] == [("proxy", 200)] * 2


def test_a_trunk_given_by_name_is_looked_up_trusted_and_rung(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """``--trunk localhost:PORT``, looked up by the system resolver before serving, and no
    ``--trusted``: the caller (SIPp, from the trunk's address) is trusted because the
    trunk is, and the call for Johan's mobile reaches the trunk and is answered."""
    with SippServer(scenario("uas_answer"), trace_dir=tmp_path / "trunk", max_calls=1) as trunk:
        port = trunk.address.rpartition(":")[2]
        server = switchboard_factory(mode="proxy", trunk=f"localhost:{port}")
        trunk_answers_calls(server, trunk, tmp_path)
    [resolved] = server.wait_logs("trunk_resolved")
    assert (resolved["trunk"], resolved["address"]) == ("localhost", "127.0.0.1")
    assert [(c["action"], c["outcome"]) for c in _call_lines(server)] == [("proxy", 200)]


def test_proxy_ring_timeout_cancels_the_trunk_and_answers_480(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    with SippServer(scenario("uas_never_answer"), trace_dir=tmp_path / "trunk") as trunk:
        server = switchboard_factory(mode="proxy", trunk=trunk.address, trusted=("127.0.0.1/32",))
        result = run(
            SippRun(scenario("uac_invite_expect_480"), server.address, service="51234", timeout=15),
            tmp_path / "caller",
        )
        cancelled = trunk.stop()
    assert result.ok, result.describe()
    assert cancelled.stats.successful == 1, cancelled.describe()  # it saw CANCEL, 487, ACK


def test_proxy_busy_mobile_goes_to_the_no_answer_outcome(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    with SippServer(scenario("uas_busy"), trace_dir=tmp_path / "trunk") as trunk:
        server = switchboard_factory(mode="proxy", trunk=trunk.address, trusted=("127.0.0.1/32",))
        result = run(
            SippRun(scenario("uac_invite_expect_480"), server.address, service="51234"),
            tmp_path / "caller",
        )
        busy = trunk.stop()
    assert result.ok, result.describe()
    assert busy.stats.successful == 1, busy.describe()


def test_caller_cancel_in_proxy_mode_cancels_the_trunk(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    with SippServer(scenario("uas_never_answer"), trace_dir=tmp_path / "trunk") as trunk:
        server = switchboard_factory(mode="proxy", trunk=trunk.address, trusted=("127.0.0.1/32",))
        result = run(
            SippRun(scenario("uac_invite_cancel"), server.address, service="51234"),
            tmp_path / "caller",
        )
        cancelled = trunk.stop()
    assert result.ok, result.describe()
    assert cancelled.stats.successful == 1, cancelled.describe()
    assert [(c["action"], c["outcome"]) for c in _call_lines(server)] == [("proxy", 487)]


def test_secret_mobile_is_never_in_a_302_to_an_untrusted_caller(
    switchboard_factory: Factory,
) -> None:
    """R18: Fatima's secret mobile may go to the trunk, never into a phone's 302."""
    server = switchboard_factory(trunk="127.0.0.1:5999", trusted=("127.0.0.1/32",))
    # From the trusted trunk the mobile is routed as usual...
    client = RawClient.udp(server.host, server.port)
    try:
        client.send(client.request("INVITE", "13456"))
        final = client.final()
    finally:
        client.close()
    assert final is not None
    # ...but Fatima is on holiday, so the referral answers; no number in any header.
    assert final.status == 480
    for _, value in final.headers.items:
        assert "1740623" not in value
    assert parse_name_addr(final.headers.get("To") or "").tag
