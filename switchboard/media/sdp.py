"""SDP session descriptions (RFC 4566) as frozen values, and the one serialiser.

``sdp_parse.parse`` turns a body from the network into these values; ``offer_answer``
builds and reads them; ``serialise`` alone turns them back into bytes, in the order
RFC 4566 §5 lays down, with CRLF line ends. The values keep what offer/answer needs
(origin, connections, timing, media lines, ``rtpmap``/``fmtp``/``ptime`` and the direction
attributes) and every other attribute by name and value, so nothing a peer said is lost.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from switchboard.media.errors import MediaError

HOLD_ADDRESSES = frozenset({"0.0.0.0", "::"})  # noqa: S104 - compared, never bound
"""Connection addresses that mean "send nothing" (RFC 3264 §8.4; ``::`` by analogy)."""


class SdpError(MediaError):
    """An SDP body we cannot use; ``line`` is 1-based, or None for the body as a whole."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        where = f"SDP line {line}: " if line is not None else "SDP: "
        super().__init__(where + problem)
        self.problem = problem
        self.line = line


class Direction(enum.Enum):
    """Which way media flows, from the describing side's view (RFC 4566 §6, RFC 3264 §6.1)."""

    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"

    @property
    def sends(self) -> bool:
        return self in (Direction.SENDRECV, Direction.SENDONLY)

    @property
    def receives(self) -> bool:
        return self in (Direction.SENDRECV, Direction.RECVONLY)

    def reversed(self) -> Direction:
        """The same stream seen from the other end: sendonly is the peer's recvonly."""
        return _REVERSED[self]


_REVERSED = {
    Direction.SENDRECV: Direction.SENDRECV,
    Direction.SENDONLY: Direction.RECVONLY,
    Direction.RECVONLY: Direction.SENDONLY,
    Direction.INACTIVE: Direction.INACTIVE,
}


@dataclass(frozen=True, slots=True)
class Connection:
    """``c=IN IP4 192.0.2.1`` (RFC 4566 §5.7); ``address`` as written (IP or domain name)."""

    address_type: str
    address: str

    @property
    def is_hold(self) -> bool:
        """The pre-RFC 3264 way to put a call on hold: ``c=IN IP4 0.0.0.0`` (§8.4)."""
        return self.address in HOLD_ADDRESSES


@dataclass(frozen=True, slots=True)
class Origin:
    """``o=`` (RFC 4566 §5.2): ``version`` grows with each new offer (RFC 3264 §8)."""

    username: str
    session_id: int
    version: int
    address_type: str
    address: str


@dataclass(frozen=True, slots=True)
class RtpMap:
    """``a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]`` (RFC 4566 §6)."""

    payload_type: int
    encoding: str
    clock_rate: int
    channels: int | None = None


@dataclass(frozen=True, slots=True)
class Fmtp:
    """``a=fmtp:<format> <parameters>`` (RFC 4566 §6), parameters as written."""

    format: str
    parameters: str


@dataclass(frozen=True, slots=True)
class Attribute:
    """Any other ``a=name[:value]`` line, kept so nothing is lost."""

    name: str
    value: str | None = None


@dataclass(frozen=True, slots=True)
class Media:
    """One ``m=`` section (RFC 4566 §5.14) with its typed attributes."""

    kind: str
    port: int
    protocol: str
    formats: tuple[str, ...]
    connection: Connection | None = None
    rtpmaps: tuple[RtpMap, ...] = ()
    fmtps: tuple[Fmtp, ...] = ()
    ptime: int | None = None
    direction: Direction | None = None
    attributes: tuple[Attribute, ...] = ()
    port_count: int | None = None

    def rtpmap(self, payload_type: int) -> RtpMap | None:
        return next((m for m in self.rtpmaps if m.payload_type == payload_type), None)

    def fmtp(self, fmt: str) -> str | None:
        return next((f.parameters for f in self.fmtps if f.format == fmt), None)


@dataclass(frozen=True, slots=True)
class SessionDescription:
    """A whole body: session-level lines, then the media sections in order."""

    origin: Origin
    name: str
    connection: Connection | None
    media: tuple[Media, ...]
    timing: tuple[int, int] = (0, 0)
    direction: Direction | None = None
    attributes: tuple[Attribute, ...] = ()

    def connection_for(self, media: Media) -> Connection | None:
        """A media-level ``c=`` overrides the session's (RFC 4566 §5.7)."""
        return media.connection or self.connection

    def direction_for(self, media: Media) -> Direction:
        """Media level, else session level, else sendrecv (RFC 3264 §5.1)."""
        return media.direction or self.direction or Direction.SENDRECV


# -- serialising -------------------------------------------------------------------------


def _rtpmap_value(rtpmap: RtpMap) -> str:
    value = f"{rtpmap.payload_type} {rtpmap.encoding}/{rtpmap.clock_rate}"
    return value if rtpmap.channels is None else f"{value}/{rtpmap.channels}"


def _attribute_lines(attributes: tuple[Attribute, ...]) -> list[str]:
    return [f"a={a.name}" if a.value is None else f"a={a.name}:{a.value}" for a in attributes]


def serialise(sd: SessionDescription) -> bytes:
    """The body in RFC 4566 §5 order, CRLF line ends, UTF-8."""
    o = sd.origin
    lines = [
        "v=0",
        f"o={o.username} {o.session_id} {o.version} IN {o.address_type} {o.address}",
        f"s={sd.name or '-'}",
    ]
    if sd.connection is not None:
        lines.append(f"c=IN {sd.connection.address_type} {sd.connection.address}")
    lines.append(f"t={sd.timing[0]} {sd.timing[1]}")
    if sd.direction is not None:
        lines.append(f"a={sd.direction.value}")
    lines.extend(_attribute_lines(sd.attributes))
    for m in sd.media:
        port = str(m.port) if m.port_count is None else f"{m.port}/{m.port_count}"
        lines.append(f"m={m.kind} {port} {m.protocol} {' '.join(m.formats)}")
        if m.connection is not None:
            lines.append(f"c=IN {m.connection.address_type} {m.connection.address}")
        lines.extend(f"a=rtpmap:{_rtpmap_value(r)}" for r in m.rtpmaps)
        lines.extend(f"a=fmtp:{f.format} {f.parameters}".rstrip() for f in m.fmtps)
        if m.ptime is not None:
            lines.append(f"a=ptime:{m.ptime}")
        if m.direction is not None:
            lines.append(f"a={m.direction.value}")
        lines.extend(_attribute_lines(m.attributes))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")
