"""Malformed requests whose Via still reads get an answer, over UDP and TCP (issue 17).

RFC 4475 asks for a 400 (505 for an unknown version) wherever a response can be
addressed: the top Via says where the request came from and its branch lets the client
match the answer (RFC 3261 §17.1.3), even when From, To, Call-ID or CSeq are missing or
broken. Each case below is a well-formed INVITE for Johan Ek (51234, available: trusted,
it would be redirected with 302) with one thing broken; the control case shows the
unbroken INVITE is routed, so a 400 is the parser's doing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.sip.conftest import Switchboard
from tests.integration.sip.rawsip import RawClient, new_id

Factory = Callable[..., Switchboard]
Mangle = Callable[[str], str]


def _line(name: str, value: str) -> Mangle:
    """Replace the header line ``name: ...`` by ``value`` ('' drops it)."""

    def mangle(text: str) -> str:
        lines = text.split("\r\n")
        out = []
        for line in lines:
            if line.partition(":")[0] == name:
                if value:
                    out.append(value)
                continue
            out.append(line)
        return "\r\n".join(out)

    return mangle


def _replace(old: str, new: str) -> Mangle:
    def mangle(text: str) -> str:
        assert old in text, (old, text)
        return text.replace(old, new, 1)

    return mangle


def _both(*mangles: Mangle) -> Mangle:
    def mangle(text: str) -> str:
        for one in mangles:
            text = one(text)
        return text

    return mangle


CASES: dict[str, tuple[Mangle, int]] = {
    # CSeq: out of range, not a number, no method, digits int() reads but the wire forbids.
    "cseq-over-2**31": (_line("CSeq", "CSeq: 2147483648 INVITE"), 400),
    "cseq-ten-digits-over": (_line("CSeq", "CSeq: 9999999999 INVITE"), 400),
    "cseq-twenty-digits": (_line("CSeq", "CSeq: 36893488147419103232 INVITE"), 400),
    "cseq-not-a-number": (_line("CSeq", "CSeq: one INVITE"), 400),
    "cseq-without-method": (_line("CSeq", "CSeq: 1"), 400),
    "cseq-fullwidth-digits": (_line("CSeq", "CSeq: \uff11 INVITE"), 400),
    "cseq-arabic-indic-digits": (_line("CSeq", "CSeq: \u0661\u0662 INVITE"), 400),
    # Whitespace inside (or doubled around) the Request-URI.
    "request-uri-with-space": (_replace("INVITE sip:51234@", "INVITE sip:51 234@"), 400),
    "request-uri-double-space": (_replace("INVITE sip:", "INVITE  sip:"), 400),
    # An unknown version in the request line and the same in the Via: 505 all the same.
    "unknown-version-in-via-too": (
        _both(_replace(" SIP/2.0\r\n", " SIP/7.0\r\n"), _replace("SIP/2.0/", "SIP/7.0/")),
        505,
    ),
    # Missing Call-ID, From or To (RFC 4475 insuf).
    "no-call-id": (_line("Call-ID", ""), 400),
    "no-from": (_line("From", ""), 400),
    "no-to": (_line("To", ""), 400),
    "no-call-id-from-or-to": (_both(_line("Call-ID", ""), _line("From", ""), _line("To", "")), 400),
    # A header name with a space in it.
    "space-in-max-forwards-name": (_replace("Max-Forwards:", "Max Forwards:"), 400),
    "space-in-from-name": (_replace("From:", "Fr om:"), 400),
    "space-in-call-id-name": (_replace("Call-ID:", "Call ID:"), 400),
    # A quoted display name left open (RFC 4475 quotbal): never routed.
    "unterminated-quote-in-to": (_replace("To: <", 'To: "Johan Ek <'), 400),
    "unterminated-quote-in-from": (_replace("From: <", 'From: "Caller <'), 400),
    "escaped-closing-quote-in-from": (_replace("From: <", 'From: "Caller \\" <'), 400),
}


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_malformed_requests_that_can_be_addressed_are_answered(
    switchboard_factory: Factory, transport: str
) -> None:
    server = switchboard_factory(trunk="127.0.0.3:5999", trusted=("127.0.0.1/32",))
    opened = RawClient.udp if transport == "udp" else RawClient.tcp
    client = opened(server.host, server.port)
    try:
        control = client.request("INVITE", "51234")
        client.send(control)
        routed = client.final()
        assert routed is not None
        assert routed.status == 302, (routed.status, routed.reason)
        client.ack(routed)

        wrong: list[str] = []
        for name, (mangle, status) in CASES.items():
            branch = new_id()
            call_id = f"{name}-{new_id()}"
            text = client.request("INVITE", "51234", branch=branch, call_id=call_id).decode()
            client.send(mangle(text).encode())
            response = client.final(timeout=2.0)
            if response is None:
                wrong.append(f"{name}: no answer")
                continue
            if response.status != status:
                wrong.append(f"{name}: {response.status} {response.reason}")
            via = response.headers.get("Via") or ""
            if f";branch=z9hG4bK{branch}" not in via:
                wrong.append(f"{name}: the answer's Via is {via!r}")
            sent_call_id = f"\r\nCall-ID: {call_id}\r\n" in mangle(text)
            if sent_call_id and response.headers.get("Call-ID") != call_id:
                wrong.append(f"{name}: Call-ID not echoed")

        client.send(client.request("OPTIONS", None))
        alive = client.final()
        assert alive is not None
        assert alive.status == 200  # the same connection (or socket) still answered
    finally:
        client.close()
    assert not wrong, "\n".join(wrong)
    logged = server.wait_logs("sip_malformed", len(CASES))
    assert len(logged) >= len(CASES)
