"""SIP messages as typed, frozen values (RFC 3261 §7, §20, §25).

This module is the contract between the parser, the transaction layer and call handling:
bytes become these values at the edge (``parse.parse_message``) and only
``parse.serialise`` turns them back into bytes. Header *values* are kept as text and
typed on demand (``via``, ``name_addr``, ``cseq`` ...) so a proxy forwards what it does
not understand untouched, and the hot path parses only the headers it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from switchboard.routing.values import quick_init

SIP_VERSION = "SIP/2.0"
MAGIC_COOKIE = "z9hG4bK"
"""RFC 3261 §8.1.1.7: every branch an RFC 3261 element makes starts so."""


class SipError(Exception):
    """Base of every error the SIP edge raises."""


@quick_init
@dataclass(frozen=True, slots=True)
class Param:
    """One ``;name=value`` (or bare ``;name``) parameter, name as written."""

    name: str
    value: str | None = None


def param_value(params: tuple[Param, ...], name: str) -> str | None:
    """The value of the first parameter called ``name`` (case-insensitive); '' when bare."""
    lowered = name.lower()
    for p in params:
        if p.name.lower() == lowered:
            return "" if p.value is None else p.value
    return None


def has_param(params: tuple[Param, ...], name: str) -> bool:
    lowered = name.lower()
    return any(p.name.lower() == lowered for p in params)


def with_param(params: tuple[Param, ...], name: str, value: str | None) -> tuple[Param, ...]:
    """Set (replace or append) one parameter, keeping the others in order."""
    lowered = name.lower()
    out = [p for p in params if p.name.lower() != lowered]
    out.append(Param(name, value))
    return tuple(out)


@quick_init
@dataclass(frozen=True, slots=True)
class SipUri:
    """``sip:user:password@host:port;params?headers`` (RFC 3261 §19.1).

    ``host`` keeps IPv6 references in brackets (``[2001:db8::1]``) as written.
    """

    host: str
    user: str | None = None
    password: str | None = None
    port: int | None = None
    params: tuple[Param, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    scheme: str = "sip"

    def param(self, name: str) -> str | None:
        return param_value(self.params, name)

    def with_params(self, **values: str | None) -> SipUri:
        params = self.params
        for name, value in values.items():
            params = with_param(params, name, value)
        return replace(self, params=params)


@quick_init
@dataclass(frozen=True, slots=True)
class NameAddr:
    """``"Display" <uri>;params`` as in From, To, Contact, Route (RFC 3261 §20.10)."""

    uri: SipUri
    display: str | None = None
    params: tuple[Param, ...] = ()

    @property
    def tag(self) -> str | None:
        return param_value(self.params, "tag")

    def param(self, name: str) -> str | None:
        return param_value(self.params, name)

    def with_tag(self, tag: str) -> NameAddr:
        return replace(self, params=with_param(self.params, "tag", tag))


@quick_init
@dataclass(frozen=True, slots=True)
class Via:
    """``SIP/2.0/UDP host:port;branch=...`` (RFC 3261 §20.42, §18.2.1, RFC 3581)."""

    transport: str
    host: str
    port: int | None = None
    params: tuple[Param, ...] = ()

    @property
    def branch(self) -> str | None:
        return param_value(self.params, "branch")

    def param(self, name: str) -> str | None:
        return param_value(self.params, name)


@quick_init
@dataclass(frozen=True, slots=True)
class CSeq:
    number: int
    method: str


@quick_init
@dataclass(frozen=True, slots=True)
class Headers:
    """Header fields in order, one entry per value.

    Names are canonical for known headers (``Call-ID``, ``CSeq``, compact forms expanded)
    and as written otherwise; look-ups ignore case. Comma-separated list headers
    (Via, Contact, Route, ...) arrive split, one entry per element.
    """

    items: tuple[tuple[str, str], ...] = ()

    def get(self, name: str) -> str | None:
        # The parser writes every header it knows in its canonical spelling, so asking by
        # that spelling (as the code does) finds it without a lower() per field.
        for key, value in self.items:
            if key == name:
                return value
        lowered = name.lower()
        for key, value in self.items:
            if key.lower() == lowered:
                return value
        return None

    def get_all(self, name: str) -> tuple[str, ...]:
        lowered = name.lower()
        return tuple(value for key, value in self.items if key.lower() == lowered)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def without(self, *names: str) -> Headers:
        lowered = {n.lower() for n in names}
        return Headers(tuple((k, v) for k, v in self.items if k.lower() not in lowered))

    def set(self, name: str, *values: str) -> Headers:
        """Replace every ``name`` field by ``values``, at the place of the first one."""
        lowered = name.lower()
        out: list[tuple[str, str]] = []
        placed = False
        for key, value in self.items:
            if key.lower() == lowered:
                if not placed:
                    out.extend((name, v) for v in values)
                    placed = True
                continue
            out.append((key, value))
        if not placed:
            out.extend((name, v) for v in values)
        return Headers(tuple(out))

    def append(self, name: str, value: str) -> Headers:
        return Headers((*self.items, (name, value)))

    def prepend(self, name: str, value: str) -> Headers:
        """Put a field before every other field of the same name (a new top Via)."""
        lowered = name.lower()
        for index, (key, _) in enumerate(self.items):
            if key.lower() == lowered:
                items = (*self.items[:index], (name, value), *self.items[index:])
                return Headers(items)
        return Headers(((name, value), *self.items))


@quick_init
@dataclass(frozen=True, slots=True)
class Request:
    method: str
    uri: SipUri
    headers: Headers
    body: bytes = b""
    version: str = SIP_VERSION

    def with_headers(self, headers: Headers) -> Request:
        return replace(self, headers=headers)


@quick_init
@dataclass(frozen=True, slots=True)
class Response:
    status: int
    reason: str
    headers: Headers
    body: bytes = b""
    version: str = SIP_VERSION

    def with_headers(self, headers: Headers) -> Response:
        return replace(self, headers=headers)


Message = Request | Response
