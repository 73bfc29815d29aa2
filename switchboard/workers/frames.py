"""The datagrams workers pass each other: frozen values in, bytes out, and back.

Two shapes share one header (kind, sender, and a flow):

- **Flow frames** carry bytes for a SIP flow: ``MESSAGE`` is a message this worker read
  whose Call-ID another worker owns (the receiver handles it as if it had read it from
  that flow); ``SEND`` asks the worker holding a TCP connection to write bytes on it;
  ``KEEP`` asks it to keep that connection open for a while (a registration lasts on it).
- **Note frames** carry a small typed fact as JSON: a line went busy or free, a worker
  started, a source failed a digest, a calendar transition came.

One datagram carries one or more frames, each after its length (``pack``, ``unpack``): a
worker that reads a burst of SIP datagrams passes on what others own in one datagram per
peer, not one each (a system call and a wake-up of the receiver saved per message).

Only workers of one parent write these (over socket pairs nobody else holds), so a frame
that does not decode is a bug: ``FrameError`` says what was wrong.
"""

from __future__ import annotations

import enum
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

_HEADER = struct.Struct("!BBBHB")
"""kind, sender, transport (0 udp, 1 tcp), port, length of the host that follows."""
_TRANSPORTS = ("udp", "tcp")
_SECONDS = struct.Struct("!d")
_LENGTH = struct.Struct("!I")


class FrameError(ValueError):
    """Bytes that are no frame of ours."""


class Kind(enum.IntEnum):
    MESSAGE = 1
    SEND = 2
    KEEP = 3
    NOTE = 4


class FlowFrame(NamedTuple):
    """A named tuple, not a frozen dataclass: one is made per message passed on, and a
    tuple is the cheapest immutable value to make."""

    kind: Kind
    sender: int
    transport: str
    host: str
    port: int
    payload: bytes
    """The SIP message (``MESSAGE``, ``SEND``); for ``KEEP`` use ``seconds``."""

    @property
    def seconds(self) -> float:
        (value,) = _SECONDS.unpack(self.payload)
        return float(value)


@dataclass(frozen=True, slots=True)
class LineChanged:
    """One call through the sender started (True) or ended for this person."""

    person_id: str
    in_call: bool


@dataclass(frozen=True, slots=True)
class Hello:
    """The sender has just started: it carries no calls, and wants to know everyone's."""


@dataclass(frozen=True, slots=True)
class LineCounts:
    """The calls the sender carries, per person (its answer to ``Hello``)."""

    counts: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class AuthFailed:
    """A digest from ``source`` failed at the sender: count it here too."""

    source: str


@dataclass(frozen=True, slots=True)
class AuthCleared:
    """A digest from ``source`` succeeded at the sender: forget its failures here too."""

    source: str


@dataclass(frozen=True, slots=True)
class NonceUsed:
    """A digest answer with this nonce and count was accepted at the sender: a replay of
    it must fail here too (the workers share the nonce secret)."""

    nonce: str
    nc: int


@dataclass(frozen=True, slots=True)
class Ticked:
    """Someone's availability reached a transition instant (the calendar worker's tick)."""

    person_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CalendarReport:
    """The calendar worker's latest health entries (plain JSON values), for the pages."""

    entries: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class SignInStarted:
    """A single sign-on began at the sender: its callback may reach any worker. Carries
    the flow's secrets (nonce, PKCE verifier) over the pair; never logged."""

    state: str
    nonce: str
    verifier: str
    browser_hash: str
    redirect_uri: str
    started: datetime
    next_path: str


@dataclass(frozen=True, slots=True)
class SignInTaken:
    """The callback of this sign-on reached the sender: the flow is used everywhere."""

    state: str


@dataclass(frozen=True, slots=True)
class SignInTried:
    """A web sign-in was verified at the sender: its throttle counted it, so must ours.
    The typed name travels over the pair only; it is never logged (people type their
    password into it by mistake)."""

    username: str
    source: str
    failed: bool


@dataclass(frozen=True, slots=True)
class PinTried:
    """A voicemail PIN was tried at the sender (``right``: it was the right one)."""

    person_id: str
    right: bool


Note = (
    LineChanged
    | Hello
    | LineCounts
    | AuthFailed
    | AuthCleared
    | NonceUsed
    | Ticked
    | CalendarReport
    | SignInStarted
    | SignInTaken
    | SignInTried
    | PinTried
)


@dataclass(frozen=True, slots=True)
class NoteFrame:
    sender: int
    note: Note


Frame = FlowFrame | NoteFrame


def flow_frame(
    kind: Kind, sender: int, transport: str, host: str, port: int, payload: bytes
) -> bytes:
    try:
        code = _TRANSPORTS.index(transport)
    except ValueError:
        raise FrameError(f"no frame carries transport {transport!r}") from None
    raw_host = host.encode("ascii")
    return _HEADER.pack(kind, sender, code, port, len(raw_host)) + raw_host + payload


def keep_frame(sender: int, transport: str, host: str, port: int, seconds: float) -> bytes:
    return flow_frame(Kind.KEEP, sender, transport, host, port, _SECONDS.pack(seconds))


def note_frame(sender: int, note: Note) -> bytes:
    body = json.dumps(_note_fields(note), separators=(",", ":")).encode()
    return _HEADER.pack(Kind.NOTE, sender, 0, 0, 0) + body


def pack(frames: list[bytes]) -> bytes:
    """Frames for one datagram, each after its length."""
    return b"".join(_LENGTH.pack(len(f)) + f for f in frames)


def unpack(data: bytes) -> list[bytes]:
    """The frames of one datagram (``pack``); FrameError when one is cut."""
    frames, at, size = [], 0, _LENGTH.size
    while at < len(data):
        if at + size > len(data):
            raise FrameError("a datagram ends inside a frame's length")
        (length,) = _LENGTH.unpack_from(data, at)
        at += size
        if at + length > len(data):
            raise FrameError("a datagram ends inside a frame")
        frames.append(data[at : at + length])
        at += length
    return frames


_KINDS = {kind.value: kind for kind in Kind}


def decode(data: bytes) -> Frame:
    if len(data) < _HEADER.size:
        raise FrameError(f"a frame of {len(data)} bytes is shorter than its header")
    kind_code, sender, transport, port, host_length = _HEADER.unpack_from(data)
    kind = _KINDS.get(kind_code)
    if kind is None:
        raise FrameError(f"unknown frame kind {kind_code}")
    start = _HEADER.size + host_length
    if kind is Kind.NOTE:
        try:
            return NoteFrame(sender, _note(json.loads(data[start:])))
        except (ValueError, KeyError, TypeError) as exc:
            raise FrameError(f"unreadable note: {exc!r}") from None
    if transport >= len(_TRANSPORTS) or len(data) < start:
        raise FrameError("a flow frame with a bad transport or a cut host")
    host = data[_HEADER.size : start].decode("ascii", errors="replace")
    payload = data[start:]
    if kind is Kind.KEEP and len(payload) != _SECONDS.size:
        raise FrameError("a keep frame without its seconds")
    return FlowFrame(kind, sender, _TRANSPORTS[transport], host, port, payload)


def _note_fields(note: Note) -> dict[str, Any]:
    match note:
        case LineChanged(person_id=person_id, in_call=in_call):
            return {"note": "line", "person_id": person_id, "in_call": in_call}
        case Hello():
            return {"note": "hello"}
        case LineCounts(counts=counts):
            return {"note": "line_counts", "counts": [[p, n] for p, n in counts]}
        case AuthFailed(source=source):
            return {"note": "auth_failed", "source": source}
        case AuthCleared(source=source):
            return {"note": "auth_cleared", "source": source}
        case NonceUsed(nonce=nonce, nc=nc):
            return {"note": "nonce_used", "nonce": nonce, "nc": nc}
        case Ticked(person_id=person_id, at=at):
            return {"note": "ticked", "person_id": person_id, "at": at.isoformat()}
        case CalendarReport(entries=entries):
            return {"note": "calendar_report", "entries": [dict(e) for e in entries]}
        case SignInStarted():
            return {
                "note": "sign_in_started",
                "state": note.state,
                "nonce": note.nonce,
                "verifier": note.verifier,
                "browser_hash": note.browser_hash,
                "redirect_uri": note.redirect_uri,
                "started": note.started.isoformat(),
                "next_path": note.next_path,
            }
        case SignInTaken(state=state):
            return {"note": "sign_in_taken", "state": state}
        case SignInTried(username=username, source=source, failed=failed):
            return {
                "note": "sign_in_tried",
                "username": username,
                "source": source,
                "failed": failed,
            }
        case PinTried(person_id=person_id, right=right):
            return {"note": "pin_tried", "person_id": person_id, "right": right}


def _note(f: dict[str, Any]) -> Note:
    kind = f["note"]
    if kind == "line":
        return LineChanged(str(f["person_id"]), bool(f["in_call"]))
    if kind == "hello":
        return Hello()
    if kind == "line_counts":
        return LineCounts(tuple((str(p), int(n)) for p, n in f["counts"]))
    if kind == "auth_failed":
        return AuthFailed(str(f["source"]))
    if kind == "auth_cleared":
        return AuthCleared(str(f["source"]))
    if kind == "nonce_used":
        return NonceUsed(str(f["nonce"]), int(f["nc"]))
    if kind == "ticked":
        at = datetime.fromisoformat(str(f["at"]))
        if at.tzinfo is None:
            raise ValueError("a tick without its time zone")
        return Ticked(str(f["person_id"]), at)
    if kind == "calendar_report":
        return CalendarReport(tuple(dict(e) for e in f["entries"]))
    if kind == "sign_in_started":
        started = datetime.fromisoformat(str(f["started"]))
        if started.tzinfo is None:
            raise ValueError("a sign-in without its time zone")
        return SignInStarted(
            str(f["state"]),
            str(f["nonce"]),
            str(f["verifier"]),
            str(f["browser_hash"]),
            str(f["redirect_uri"]),
            started,
            str(f["next_path"]),
        )
    if kind == "sign_in_taken":
        return SignInTaken(str(f["state"]))
    if kind == "sign_in_tried":
        return SignInTried(str(f["username"]), str(f["source"]), bool(f["failed"]))
    if kind == "pin_tried":
        return PinTried(str(f["person_id"]), bool(f["right"]))
    raise ValueError(f"unknown note {kind!r}")
