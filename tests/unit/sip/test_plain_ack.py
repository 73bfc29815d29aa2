"""The ACK read from its top Via alone (``plain_ack_via`` + ``TransactionLayer.absorb_ack``).

An ACK of a non-2xx final answer is most of what a redirect server receives after its
INVITEs; it is matched by branch and sent-by only (RFC 3261 §17.2.3), so the server reads
just the Via. These tests hold the shortcut to the full parser: same key, or no shortcut.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.sip.flow import Flow
from switchboard.sip.message import Request
from switchboard.sip.parse import parse_message, plain_ack_via
from switchboard.sip.transaction import plain_branch_and_sent_by, server_key

UDP = Flow("udp", "192.0.2.7", 5070)


def ack(*header_lines: str) -> bytes:
    lines = ["ACK sip:64123@192.0.2.1:5060 SIP/2.0", *header_lines]
    lines += ["Call-ID: a84b4c76e66710", "CSeq: 1 ACK", "Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


COMMON = (
    "From: <sip:bench@192.0.2.7:5070>;tag=1",
    "To: <sip:64123@192.0.2.1:5060>;tag=2",
    "Max-Forwards: 70",
)
VIA = "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1-1-0;rport"


def test_the_plain_shape_gives_the_top_via() -> None:
    assert plain_ack_via(ack(VIA, *COMMON)) == VIA[5:]


@pytest.mark.parametrize(
    "data",
    [
        ack("v: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1", *COMMON),  # compact form
        ack("via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1", *COMMON),  # other case
        ack(*COMMON, VIA),  # Via not the first header
        ack(VIA + ", SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-2", *COMMON),  # two values
        ack(VIA, " ;received=192.0.2.8", *COMMON),  # folded onto the next line
        ack("Via: SIP/2.0/UDP hôst.example;branch=z9hG4bK-1", *COMMON),  # not ASCII
        ack(VIA, *COMMON).replace(b"ACK ", b"INVITE ", 1),  # not an ACK
        b"ACK sip:x@y SIP/2.0",  # no header at all
    ],
    ids=["compact", "lower-case", "not-first", "two-values", "folded", "utf-8", "invite", "cut"],
)
def test_any_other_shape_is_left_to_the_full_parser(data: bytes) -> None:
    assert plain_ack_via(data) is None


branches = st.text("abcdefghijklmnopqrstuvwxyz0123456789-.!%*_+`'~", min_size=1, max_size=20)
sent_bys = st.sampled_from(["192.0.2.7:5070", "192.0.2.7", "[2001:db8::7]:5060", "pc.example"])
extras = st.lists(st.sampled_from([";rport", ";received=192.0.2.8", ";ttl=16", ";x"]), max_size=3)


@given(branch=branches, sent_by=sent_bys, before=extras, after=extras)
def test_the_shortcut_keys_an_ack_exactly_as_the_full_parse_does(
    branch: str, sent_by: str, before: list[str], after: list[str]
) -> None:
    via = f"Via: SIP/2.0/UDP {sent_by}{''.join(before)};branch=z9hG4bK{branch}{''.join(after)}"
    data = ack(via, *COMMON)
    parsed = parse_message(data)
    assert isinstance(parsed, Request)
    quick = plain_ack_via(data)
    assert quick is not None
    plain = plain_branch_and_sent_by(quick)
    assert plain is not None
    assert (*plain, "INVITE") == server_key(parsed)
