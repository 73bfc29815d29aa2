"""Emergency and service short numbers always go out through the trunk (issue 17).

A SIPp phone authenticates with digest and dials 112 (or 1177, 114 14); a SIPp trunk
answers. The trunk's own message log shows what reached it: the short form, and a number
the emergency centre can call back (never a secret mobile, R18), in redirect and proxy
mode, past the destination policy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from switchboard.sip.message import Request
from switchboard.sip.parse import parse_message
from tests.integration.sip.conftest import PASSWORDS, Switchboard, seed, start_switchboard
from tests.integration.sip.rawsip import RawClient
from tests.peers.sipp import SippRun, SippServer, run, scenario

Factory = Callable[..., Switchboard]
MD5_FIRST = 'digest_algorithms = ["MD5", "SHA-256"]\n'
"""SIPp answers only MD5 challenges (PEERS.md)."""
PHONE_IP = "127.0.0.2"
"""The phone's address: the SIPp trunk holds 127.0.0.1, and the trunk's address is trusted."""
FATIMA_SECRET_DIGITS = "701740623"  # noqa: S105 - a fictional number, not a password


def _trunk(directory: Path) -> SippServer:
    return SippServer(
        scenario("uas_answer"),
        trace_dir=directory / "trunk",
        max_calls=1,
        extra_args=["-trace_msg"],
    )


def _received_invite(trunk: SippServer) -> Request:
    logs = list(trunk.trace_dir.glob("*_messages.log"))
    assert logs, f"the trunk wrote no message log in {trunk.trace_dir}"
    text = logs[0].read_text(encoding="utf-8", errors="replace")
    start = text.index("INVITE sip:")
    end = text.index("\n\n", start) if "\n\n" in text[start:] else len(text)
    lines = text[start:end].replace("\r\n", "\n").split("\n")
    lines = [line for line in lines if not line.lower().startswith("content-length")]
    head = "\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n"
    message = parse_message(head.encode())
    assert isinstance(message, Request)
    return message


def _emergency_call(
    switchboard_factory: Factory, tmp_path: Path, mode: str, extension: str, dialled: str
) -> tuple[Switchboard, Request, str]:
    trunk = _trunk(tmp_path)
    with trunk:
        server = switchboard_factory(mode=mode, trunk=trunk.address, sip_lines=MD5_FIRST)
        users = tmp_path / "users.csv"
        users.write_text(
            "SEQUENTIAL\n"
            f"{extension};[authentication username={extension} "
            f"password={PASSWORDS[extension]}]\n",
            encoding="utf-8",
        )
        caller = run(
            SippRun(
                scenario("uac_invite_digest_answered"),
                server.address,
                service=dialled,
                inf=users,
                local_ip=PHONE_IP,
            ),
            tmp_path / "phone",
        )
        answered = trunk.wait(timeout=10)
        assert caller.ok, caller.describe()
        assert answered.stats.successful == 1, answered.describe()
    invite = _received_invite(trunk)
    raw = "".join(p.read_text(errors="replace") for p in trunk.trace_dir.glob("*_messages.log"))
    return server, invite, raw


@pytest.mark.parametrize("mode", ["redirect", "proxy"])
def test_a_phone_reaches_112_through_the_trunk(
    switchboard_factory: Factory, tmp_path: Path, mode: str
) -> None:
    """Johan's phone dials 112: the trunk gets 112 in its short form, from his extension's
    full number, and the call is logged at WARNING."""
    server, invite, _ = _emergency_call(switchboard_factory, tmp_path, mode, "51234", "112")
    assert invite.uri.user == "112"
    assert (invite.headers.get("From") or "").startswith("<sip:+46523651234@")
    assert (invite.headers.get("P-Asserted-Identity") or "").startswith("<sip:+46523651234@")
    assert "Privacy" not in invite.headers
    warnings = server.wait_logs("emergency_call")
    assert [(w["level"], w["number"], w["extension"]) for w in warnings] == [
        ("warning", "112", "51234")
    ]


def test_an_emergency_call_never_shows_a_secret_mobile(
    switchboard_factory: Factory, tmp_path: Path
) -> None:
    """R18 holds for 112 too: Fatima's secret mobile stays out; her extension is shown."""
    _, invite, raw = _emergency_call(switchboard_factory, tmp_path, "proxy", "13456", "112")
    assert FATIMA_SECRET_DIGITS not in raw
    assert (invite.headers.get("From") or "").startswith("<sip:+46523613456@")


@pytest.mark.parametrize(
    ("dialled", "sent"), [("1177", "1177"), ("11414", "11414"), ("+46112", "112")]
)
def test_service_numbers_and_the_country_code_form_go_out_short(
    switchboard_factory: Factory, tmp_path: Path, dialled: str, sent: str
) -> None:
    """1177 and 114 14 reach the trunk as dialled; "+46112" (a phone's dial plan in front)
    is 112, not a 500 (the audit's finding)."""
    _, invite, _ = _emergency_call(switchboard_factory, tmp_path, "redirect", "18007", dialled)
    assert invite.uri.user == sent


def test_short_numbers_pass_a_policy_that_blocks_their_prefix(tmp_path: Path) -> None:
    """A destination policy written broadly ("11") must not stop 112, in any form."""
    trunk = _trunk(tmp_path)
    with trunk:
        directory = tmp_path / "sb"
        directory.mkdir()
        config, data_dir = seed(directory, MD5_FIRST)
        text = config.read_text(encoding="utf-8")
        config.write_text(
            re.sub(r"blocked_destinations = \[.*\]", 'blocked_destinations = ["11"]', text),
            encoding="utf-8",
        )
        server = start_switchboard(
            directory, mode="proxy", trunk=trunk.address, config=config, data_dir=data_dir
        )
        users = tmp_path / "users.csv"
        users.write_text(
            f"SEQUENTIAL\n51234;[authentication username=51234 password={PASSWORDS['51234']}]\n",
            encoding="utf-8",
        )
        caller = run(
            SippRun(
                scenario("uac_invite_digest_answered"),
                server.address,
                service="+46112",
                inf=users,
                local_ip=PHONE_IP,
            ),
            tmp_path / "phone",
        )
        trunk.wait(timeout=10)
        server.stop()
    assert caller.ok, caller.describe()
    assert _received_invite(trunk).uri.user == "112"


def test_an_unauthenticated_call_to_112_is_challenged(switchboard_factory: Factory) -> None:
    """No anonymous calls to 112 through us: the digest challenge comes first."""
    server = switchboard_factory(mode="proxy", trunk="127.0.0.3:5999")
    client = RawClient.udp(server.host, server.port)
    try:
        client.send(client.request("INVITE", "112", from_user="51234"))
        final = client.final()
        assert final is not None
        client.ack(final, "112")
    finally:
        client.close()
    assert final.status == 407
    assert server.wait_logs("emergency_call", timeout=0.3) == []
