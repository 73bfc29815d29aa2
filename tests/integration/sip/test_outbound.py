"""Employees calling and texting out: caller-ID on the trunk leg (R14, R15, R16, R18).

A phone authenticates with digest (computed here, independently) and calls an outside
number in proxy mode; a bare UDP socket plays the operator's trunk and captures exactly
what reaches it. The trunk answers 486 so every call ends cleanly.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from switchboard.sip.build import response_to
from switchboard.sip.message import Request
from switchboard.sip.parse import parse_message, serialise
from tests.integration.sip.conftest import PASSWORDS, Switchboard
from tests.integration.sip.rawsip import RawClient, digest_answer, new_id

Factory = Callable[..., Switchboard]

FATIMA_SECRET_DIGITS = "701740623"  # noqa: S105 - a fictional number, not a password
MARIA_MOBILE_DIGITS = "701740642"
JOHAN_MOBILE = "+46701740638"


class Trunk:
    """A UDP socket standing in for the operator: captures requests, answers them."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.3", 0))
        self.sock.settimeout(5.0)

    @property
    def address(self) -> str:
        host, port = self.sock.getsockname()
        return f"{host}:{port}"

    def take(self, status: int = 486, reason: str = "Busy Here") -> tuple[Request, bytes]:
        while True:
            data, addr = self.sock.recvfrom(65535)
            message = parse_message(data)
            if isinstance(message, Request) and message.method != "ACK":
                break
        answer = response_to(message, status, reason, to_tag=new_id())
        self.sock.sendto(serialise(answer), addr)
        return message, data


@pytest.fixture
def trunk() -> Iterator[Trunk]:
    t = Trunk()
    yield t
    t.sock.close()


def _authenticated(
    client: RawClient, method: str, user: str, target: str, body: bytes = b""
) -> None:
    """Send ``method`` to ``target`` as ``user``, answering the 407 challenge once."""
    call_id = new_id()
    extra: tuple[tuple[str, str], ...] = (
        (("Content-Type", "text/plain"),) if method == "MESSAGE" else ()
    )
    client.send(
        client.request(method, target, from_user=user, call_id=call_id, headers=extra, body=body)
    )
    challenge = client.final()
    assert challenge is not None
    assert challenge.status == 407
    if method == "INVITE":
        client.ack(challenge, target)
    uri = f"sip:{target}@{client.host}:{client.port}"
    answer = digest_answer(
        challenge.headers.get_all("Proxy-Authenticate"), method, uri, user, PASSWORDS[user]
    )
    client.send(
        client.request(
            method,
            target,
            from_user=user,
            call_id=call_id,
            cseq=2,
            headers=(*extra, ("Proxy-Authorization", answer)),
            body=body,
        )
    )


def _outbound_call(server: Switchboard, trunk: Trunk, user: str, dialled: str) -> bytes:
    client = RawClient.udp(server.host, server.port)
    try:
        _authenticated(client, "INVITE", user, dialled)
        _, data = trunk.take()
        final = client.final()
        assert final is not None
        assert final.status == 486  # the far end's own answer comes back as it is
        client.ack(final, dialled)
    finally:
        client.close()
    return data


def test_hidden_mobile_calls_out_as_the_extension_number(
    switchboard_factory: Factory, trunk: Trunk
) -> None:
    """R14: Maria hides her mobile; the far end sees her extension's full number."""
    server = switchboard_factory(mode="proxy", trunk=trunk.address)
    data = _outbound_call(server, trunk, "18007", "0701234567")
    invite = parse_message(data)
    assert isinstance(invite, Request)
    assert invite.uri.user == "+46701234567"
    assert (invite.headers.get("From") or "").startswith("<sip:+4652418007@")
    assert (invite.headers.get("P-Asserted-Identity") or "").startswith("<sip:+4652418007@")
    assert "Privacy" not in invite.headers
    assert MARIA_MOBILE_DIGITS.encode() not in data


def test_secret_mobile_never_reaches_the_trunk_leg(
    switchboard_factory: Factory, trunk: Trunk
) -> None:
    """R18: not in From, P-Asserted-Identity, Contact or anywhere else."""
    server = switchboard_factory(mode="proxy", trunk=trunk.address)
    data = _outbound_call(server, trunk, "13456", "0701234567")
    assert FATIMA_SECRET_DIGITS.encode() not in data
    invite = parse_message(data)
    assert (invite.headers.get("From") or "").startswith("<sip:+46523613456@")


def test_public_mobile_calls_out_as_the_mobile(switchboard_factory: Factory, trunk: Trunk) -> None:
    server = switchboard_factory(mode="proxy", trunk=trunk.address)
    invite = parse_message(_outbound_call(server, trunk, "51234", "+4631123456"))
    assert (invite.headers.get("From") or "").startswith(f"<sip:{JOHAN_MOBILE}@")


def test_premium_numbers_are_refused(switchboard_factory: Factory, trunk: Trunk) -> None:
    server = switchboard_factory(mode="proxy", trunk=trunk.address)
    client = RawClient.udp(server.host, server.port)
    try:
        _authenticated(client, "INVITE", "51234", "0900123456")
        final = client.final()
    finally:
        client.close()
    assert final is not None
    assert final.status == 403
    assert "Destination not allowed" in (final.headers.get("Reason") or "")
    calls = server.wait_logs("call")
    assert calls[-1]["action"] == "outbound"
    assert "0900" in calls[-1]["detail"]


def test_toll_fraud_is_refused_and_logged_masked(
    switchboard_factory: Factory, trunk: Trunk
) -> None:
    """A phone (authenticated: perhaps not by its owner) calls a satellite number and
    texts an international premium one: both refused, nothing reaches the trunk, and the
    server's log has a WARNING line for each that names the caller, the rule and the
    prefix, with the number masked (R18) in the JSON line itself."""
    server = switchboard_factory(mode="proxy", trunk=trunk.address)
    client = RawClient.udp(server.host, server.port)
    try:
        _authenticated(client, "INVITE", "51234", "00881631234567")
        call = client.final()
        assert call is not None
        client.ack(call, "00881631234567")
        _authenticated(client, "MESSAGE", "51234", "+97912345678", b"hej")
        sms = client.final()
    finally:
        client.close()
    assert call.status == 403
    assert sms is not None
    assert sms.status == 403
    assert "Destination not allowed" in (sms.headers.get("Reason") or "")
    trunk.sock.settimeout(0.3)
    with pytest.raises(TimeoutError):
        trunk.sock.recvfrom(65535)
    lines = server.wait_logs("outbound_blocked", 2)
    assert [(x["level"], x["method"], x["caller"], x["rule"], x["prefix"]) for x in lines] == [
        ("warning", "INVITE", "51234", "blocked_international", "881"),
        ("warning", "MESSAGE", "51234", "blocked_international", "979"),
    ]
    assert [x["destination"] for x in lines] == ["00**********67", "+979******78"]
    text = server.log_text()
    assert "881631234567" not in text
    assert "97912345678" not in text


def test_sms_always_shows_the_real_mobile(switchboard_factory: Factory, trunk: Trunk) -> None:
    """R15: Maria hides her mobile on calls, but an SMS carries it."""
    server = switchboard_factory(mode="proxy", trunk=trunk.address)
    client = RawClient.udp(server.host, server.port)
    try:
        _authenticated(client, "MESSAGE", "18007", "0701234567", b"hej")
        message, _ = trunk.take(200, "OK")
        final = client.final()
    finally:
        client.close()
    assert final is not None
    assert final.status == 200
    assert (message.headers.get("From") or "").startswith(f"<sip:+46{MARIA_MOBILE_DIGITS}@")
    assert message.body == b"hej"


def test_sms_from_a_secret_mobile_is_refused(switchboard_factory: Factory, trunk: Trunk) -> None:
    """R15 would force the number out and R18 forbids it: the switchboard does not send."""
    server = switchboard_factory(mode="proxy", trunk=trunk.address)
    client = RawClient.udp(server.host, server.port)
    try:
        _authenticated(client, "MESSAGE", "13456", "0701234567", b"hej")
        final = client.final()
    finally:
        client.close()
    assert final is not None
    assert final.status == 403
    assert FATIMA_SECRET_DIGITS not in repr(final.headers.items)


def test_mobile_call_through_the_trunk_is_presented_as_the_extension(
    switchboard_factory: Factory, trunk: Trunk
) -> None:
    """An employee's outgoing mobile call routed back through us by the operator (trusted):
    R14 applies to it too, and the Contact no longer names the mobile."""
    server = switchboard_factory(mode="proxy", trunk=trunk.address, trusted=("127.0.0.1/32",))
    client = RawClient.udp(server.host, server.port)
    try:
        client.send(client.request("INVITE", "0701234567", from_user=f"+46{MARIA_MOBILE_DIGITS}"))
        _, data = trunk.take()
        final = client.final()
        assert final is not None
        client.ack(final, "0701234567")
    finally:
        client.close()
    assert MARIA_MOBILE_DIGITS.encode() not in data
    invite = parse_message(data)
    assert (invite.headers.get("From") or "").startswith("<sip:+4652418007@")
