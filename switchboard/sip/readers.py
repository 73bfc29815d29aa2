"""Typed readers over a parsed message (RFC 3261 §20).

``parse_message`` leaves header values as text; these type the few a caller needs,
when it needs them. Each raises ``ParseError(400, ...)`` naming the header, so the
caller can answer 400 with a reason a person can act on.
"""

from __future__ import annotations

from typing import Literal

from switchboard.sip.grammar import ParseError, parse_cseq, parse_name_addr, parse_via
from switchboard.sip.message import CSeq, Message, NameAddr, Via

_DIGITS = frozenset("0123456789")


def _required(msg: Message, name: str) -> str:
    value = msg.headers.get(name)
    if value is None:
        raise ParseError(400, f"{name}: missing")
    return value


def vias(msg: Message) -> tuple[Via, ...]:
    return tuple(parse_via(value) for value in msg.headers.get_all("Via"))


def top_via(msg: Message) -> Via:
    return parse_via(_required(msg, "Via"))


def from_(msg: Message) -> NameAddr:
    return parse_name_addr(_required(msg, "From"), where="From")


def to(msg: Message) -> NameAddr:
    return parse_name_addr(_required(msg, "To"), where="To")


def call_id(msg: Message) -> str:
    """``word ["@" word]`` (§20.8): anything without whitespace, not empty."""
    value = _required(msg, "Call-ID")
    if not value or len(value.split()) != 1:
        raise ParseError(400, f"Call-ID: bad value {value[:80]!r}")
    return value


def cseq(msg: Message) -> CSeq:
    return parse_cseq(_required(msg, "CSeq"))


def contacts(msg: Message) -> tuple[NameAddr, ...] | Literal["*"]:
    """The Contact list; ``"*"`` only alone, as in a REGISTER removing all (§10.2.2)."""
    values = msg.headers.get_all("Contact")
    if values == ("*",):
        return "*"
    if "*" in values:
        raise ParseError(400, "Contact: '*' must be the only Contact")
    return tuple(parse_name_addr(value, where="Contact") for value in values)


def _delta(msg: Message, name: str, ceiling: int) -> int | None:
    value = msg.headers.get(name)
    if value is None:
        return None
    if not value or not _DIGITS.issuperset(value):
        raise ParseError(400, f"{name}: not a number {value[:20]!r}")
    number = int(value[:12])  # never convert a huge digit string
    if number > ceiling and name == "Max-Forwards":
        raise ParseError(400, f"Max-Forwards: {value[:20]!r} is over 255")
    return min(number, ceiling)


def max_forwards(msg: Message) -> int | None:
    """0-255 (§20.22); None when absent (the proxy then inserts 70)."""
    return _delta(msg, "Max-Forwards", 255)


def expires(msg: Message) -> int | None:
    """Seconds (§20.19); values past 2**32-1 are read as 2**32-1."""
    return _delta(msg, "Expires", 2**32 - 1)
