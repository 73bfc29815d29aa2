"""Parse SDP (RFC 4566) from the wire into ``sdp`` values.

An SDP body arrives from the network inside an INVITE, a 200 OK or an ACK, so ``parse``
treats it as hostile: the body and its number of lines are bounded, every number is
checked to be ASCII digits before ``int()`` sees it (``int()`` accepts fullwidth and other
Unicode digits), and nothing but ``SdpError`` escapes, naming the line and what is wrong.

The purely informational lines (``i= u= e= p= b= z= k= r=``) must not be empty and are
dropped: offer/answer has no use for them.

Strict where it matters, tolerant where it does not:
- ``v=0``, ``o=`` and ``s=`` come first, in that order; at least one ``t=`` comes before the
  first ``m=`` (RFC 4566 §5);
- a line type letter the RFC does not define rejects the body, as RFC 4566 §5 requires;
- unknown *attributes* are kept, never refused (RFC 4566 §5.13);
- lines may end in CRLF or a bare LF, and blank lines at the end are ignored;
- the order of lines within a section is not enforced (no peer gains from it being
  refused, and the serialiser writes the RFC order).
"""

from __future__ import annotations

import ipaddress
import re

from switchboard.media.sdp import (
    Attribute,
    Connection,
    Direction,
    Fmtp,
    Media,
    Origin,
    RtpMap,
    SdpError,
    SessionDescription,
)

MAX_BYTES = 32 * 1024
"""An audio offer is well under 2 KB; WebRTC-sized bodies with ICE candidates fit too."""
MAX_LINES = 512
MAX_MEDIA = 32
MAX_FORMATS = 64
_MAX_DIGITS = 20  # o= session ids are 64-bit NTP-ish numbers; nothing needs more

_SESSION_TYPES = frozenset("iuepcbtrzkam")
_MEDIA_TYPES = frozenset("icbkam")
_TOKEN = re.compile(r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+\Z")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?\Z")
_PTIME = re.compile(r"([0-9]{1,5})(?:\.[0-9]{1,6})?\Z")


_DIRECTIONS = {d.value: d for d in Direction}


def _number(text: str, line: int, what: str, maximum: int) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_DIGITS:
        raise SdpError(f"{what} must be a decimal number, not {text[:40]!r}", line)
    value = int(text)
    if value > maximum:
        raise SdpError(f"{what} {value} is larger than {maximum}", line)
    return value


def _token(text: str, line: int, what: str) -> str:
    if not _TOKEN.match(text):
        raise SdpError(f"{what} {text[:40]!r} is not a token", line)
    return text


def _address(address_type: str, text: str, line: int) -> str:
    """An IP literal of the stated family or a domain name (RFC 4566 §5.7 allows both).

    A multicast address's ``/ttl[/count]`` is checked and dropped: the switchboard takes
    unicast streams only, so nothing downstream would use it.
    """
    if not text.isascii():
        raise SdpError(f"the address {text[:40]!r} is not ASCII", line)
    address, _, multicast = text.partition("/")
    if multicast and not all(p.isdigit() for p in multicast.split("/", 1)):
        raise SdpError(f"the address suffix /{multicast[:20]} is not /ttl[/count]", line)
    family = ipaddress.IPv4Address if address_type == "IP4" else ipaddress.IPv6Address
    try:
        family(address)
    except ValueError:
        looks_numeric = address.replace(".", "").isdigit() or ":" in address
        if looks_numeric or not _HOST.match(address):
            raise SdpError(f"{address[:60]!r} is not an {address_type} address", line) from None
    return address


def _net(fields: list[str], line: int) -> tuple[str, str]:
    nettype, address_type, address = fields
    if nettype != "IN":
        raise SdpError(f"network type {nettype[:20]!r} is not IN (Internet)", line)
    if address_type not in ("IP4", "IP6"):
        raise SdpError(f"address type {address_type[:20]!r} is neither IP4 nor IP6", line)
    return address_type, _address(address_type, address, line)


def _fields(value: str, count: int | None, line: int, what: str) -> list[str]:
    fields = value.split(" ")
    if "" in fields or (count is not None and len(fields) != count):
        want = f"{count} fields" if count is not None else "fields"
        raise SdpError(f"{what} must be {want} separated by single spaces", line)
    return fields


def _origin(value: str, line: int) -> Origin:
    username, session_id, version, *net = _fields(value, 6, line, "o=")
    address_type, address = _net(net, line)
    return Origin(
        username,
        _number(session_id, line, "the session id", 2**64 - 1),
        _number(version, line, "the session version", 2**64 - 1),
        address_type,
        address,
    )


def _media_line(value: str, line: int) -> Media:
    fields = _fields(value, None, line, "m=")
    if len(fields) < 4:
        raise SdpError("m= needs a media type, a port, a protocol and formats", line)
    kind, port_text, protocol, *formats = fields
    if len(formats) > MAX_FORMATS:
        raise SdpError(f"more than {MAX_FORMATS} formats", line)
    port_text, slash, count_text = port_text.partition("/")
    port = _number(port_text, line, "the port", 65535)
    count = _number(count_text, line, "the port count", 65535) if slash else None
    _token(kind, line, "the media type")
    if not all(_TOKEN.match(p) for p in protocol.split("/")):
        raise SdpError(f"the protocol {protocol[:40]!r} is not a token", line)
    if "RTP/" in protocol:
        for fmt in formats:
            _number(fmt, line, "an RTP payload type", 127)
    else:
        for fmt in formats:
            _token(fmt, line, "the format")
    return Media(kind, port, protocol, tuple(formats), port_count=count)


def _rtpmap(value: str, line: int) -> RtpMap:
    pt_text, _, encoding = value.partition(" ")
    name, *rest = encoding.split("/")
    if not rest or len(rest) > 2:
        raise SdpError("rtpmap must read <payload type> <encoding>/<clock rate>", line)
    channels = _number(rest[1], line, "the channel count", 255) if len(rest) == 2 else None
    return RtpMap(
        _number(pt_text, line, "the rtpmap payload type", 127),
        _token(name, line, "the encoding name"),
        _number(rest[0], line, "the clock rate", 10_000_000),
        channels,
    )


class _Section:
    """Attributes of one section (session or media) while its lines are read."""

    def __init__(self, *, media_level: bool) -> None:
        self.media_level = media_level
        self.connection: Connection | None = None
        self.direction: Direction | None = None
        self.ptime: int | None = None
        self.rtpmaps: dict[int, RtpMap] = {}
        self.fmtps: list[Fmtp] = []
        self.attributes: list[Attribute] = []

    def attribute(self, value: str, line: int) -> None:
        name, colon, rest = value.partition(":")
        _token(name, line, "the attribute name")
        if name in _DIRECTIONS:
            if colon:
                raise SdpError(f"a={name} takes no value", line)
            if self.direction is not None:
                raise SdpError("a second direction attribute in one section", line)
            self.direction = _DIRECTIONS[name]
        elif not self.media_level or name not in ("rtpmap", "fmtp", "ptime"):
            # rtpmap, fmtp and ptime mean something only in a media section (RFC 4566 §6)
            self.attributes.append(Attribute(name, rest if colon else None))
        elif name == "rtpmap":
            rtpmap = _rtpmap(rest, line)
            if rtpmap.payload_type in self.rtpmaps:
                raise SdpError(f"a second rtpmap for payload type {rtpmap.payload_type}", line)
            self.rtpmaps[rtpmap.payload_type] = rtpmap
        elif name == "fmtp":
            fmt, _, parameters = rest.partition(" ")
            self.fmtps.append(Fmtp(_token(fmt, line, "the fmtp format"), parameters.strip()))
        else:
            match = _PTIME.match(rest)
            if match is None:
                raise SdpError(f"ptime {rest[:20]!r} is not a time in milliseconds", line)
            self.ptime = _number(match.group(1), line, "ptime", 10_000)

    def connect(self, value: str, line: int) -> None:
        if self.connection is not None:
            raise SdpError("a second c= line in one section", line)
        self.connection = Connection(*_net(_fields(value, 3, line, "c="), line))

    def media(self, media: Media) -> Media:
        return Media(
            media.kind,
            media.port,
            media.protocol,
            media.formats,
            self.connection,
            tuple(self.rtpmaps.values()),
            tuple(self.fmtps),
            self.ptime,
            self.direction,
            tuple(self.attributes),
            media.port_count,
        )


def _lines(body: bytes | str) -> list[str]:
    if len(body) > MAX_BYTES:
        raise SdpError(f"the body is {len(body)} bytes, more than the {MAX_BYTES} accepted")
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SdpError(f"the body is not UTF-8 (byte {exc.start})") from None
    lines = body.split("\n")
    while lines and lines[-1] in ("", "\r"):
        lines.pop()
    if len(lines) > MAX_LINES:
        raise SdpError(f"more than {MAX_LINES} lines")
    return [text.removesuffix("\r") for text in lines]


def parse(body: bytes | str) -> SessionDescription:
    """Parse a body into values, or raise ``SdpError`` naming the line and the fault."""
    lines = _lines(body)
    if not lines:
        raise SdpError("the body is empty")
    for number, text in enumerate(lines, 1):
        if len(text) < 2 or text[1] != "=" or not ("a" <= text[0] <= "z"):
            raise SdpError(f"expected <type>=<value>, found {text[:40]!r}", number)
        if "\r" in text or "\0" in text:
            raise SdpError("a line holds a CR or NUL character", number)
    heads = [text[:2] for text in lines[:3]]
    if heads[:1] != ["v="] or lines[0] != "v=0":
        raise SdpError("the body must begin with v=0 (RFC 4566 §5.1)", 1)
    if heads[1:2] != ["o="]:
        raise SdpError("the second line must be o= (RFC 4566 §5)", 2)
    if heads[2:3] != ["s="]:
        raise SdpError("the third line must be s= (RFC 4566 §5)", 3)
    origin = _origin(lines[1][2:], 2)
    name = lines[2][2:]
    session = _Section(media_level=False)
    timing: tuple[int, int] | None = None
    media: list[Media] = []
    pending: tuple[Media, _Section] | None = None
    for number, text in enumerate(lines[3:], 4):
        kind, value = text[0], text[2:]
        allowed = _SESSION_TYPES if pending is None else _MEDIA_TYPES
        if kind not in allowed:
            where = "the session level" if pending is None else "a media section"
            known = kind in _SESSION_TYPES or kind in "vos"
            problem = f"{kind}= does not belong in {where}" if known else f"unknown line {kind}="
            raise SdpError(problem, number)
        section = session if pending is None else pending[1]
        if kind == "m":
            if timing is None:
                raise SdpError("no t= line before the first m= (RFC 4566 §5.9)", number)
            if pending is not None:
                media.append(pending[1].media(pending[0]))
            if len(media) >= MAX_MEDIA:
                raise SdpError(f"more than {MAX_MEDIA} media sections", number)
            pending = (_media_line(value, number), _Section(media_level=True))
        elif kind == "a":
            section.attribute(value, number)
        elif kind == "c":
            section.connect(value, number)
        elif kind == "t":
            start, stop = _fields(value, 2, number, "t=")
            if timing is None:
                timing = (
                    _number(start, number, "the start time", 2**64 - 1),
                    _number(stop, number, "the stop time", 2**64 - 1),
                )
        elif not value:
            raise SdpError(f"{kind}= is empty", number)
    if timing is None:
        raise SdpError("the body has no t= line (RFC 4566 §5.9)")
    if pending is not None:
        media.append(pending[1].media(pending[0]))
    return SessionDescription(
        origin,
        name,
        session.connection,
        tuple(media),
        timing,
        session.direction,
        tuple(session.attributes),
    )
