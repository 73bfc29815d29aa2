"""The RFC 3261 §25 grammar for URIs, name-addr, Via, CSeq and parameters.

These readers run lazily, on the header values a caller actually needs, so
``parse.parse_message`` stays a cheap line splitter. They use ``str`` methods and
character-set checks only: no regular expressions, so every reader is linear in its
input (a hostile 64 KB header cannot make one backtrack).

Every failure is a ``ParseError`` whose ``problem`` names where it happened ("From:
unterminated quoted string ...") so the 400 reason and the log line are actionable.
"""

from __future__ import annotations

import ipaddress
import string
from dataclasses import dataclass

from switchboard.sip.message import CSeq, NameAddr, Param, Request, SipError, SipUri, Via

_ALNUM = frozenset(string.ascii_letters + string.digits)
_HEX = frozenset(string.hexdigits)
_DIGITS = frozenset(string.digits)
# token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
TOKEN_CHARS = _ALNUM | frozenset("-.!%*_+`'~")
_UNRESERVED = _ALNUM | frozenset("-_.!~*'()")
# user = 1*(unreserved / escaped / user-unreserved); ';' is legal in a user part.
_USER_CHARS = _UNRESERVED | frozenset("%&=+$,;?/")
_PASSWORD_CHARS = _UNRESERVED | frozenset("%&=+$,")
_PARAM_CHARS = _UNRESERVED | frozenset("%[]/:&+$")
_HNV_CHARS = _UNRESERVED | frozenset("%[]/?:+$")
# Underscore is not in RFC 1035 hostnames, but real deployments use it; accepting it
# costs nothing and rejecting it would break calls.
_HOST_CHARS = _ALNUM | frozenset("-._")
# gen-value = token / host / quoted-string; host adds ':' '[' ']' for IPv6.
_GEN_VALUE_CHARS = TOKEN_CHARS | frozenset(":[]")
_TEL_CHARS = _UNRESERVED | frozenset("%+#&=$,/:?")
_WS = " \t"
MAX_CSEQ = 2**31 - 1  # RFC 3261 §8.1.1.5: the sequence number MUST be less than 2**31
SCHEMES = frozenset({"sip", "sips", "tel"})


class ParseError(SipError):
    """A message or header value that breaks RFC 3261 §25, with the answer to send.

    ``status`` is 400 (bad syntax), 416 (Request-URI scheme we do not serve, §8.2.2.1),
    505 (SIP version other than 2.0, §8.2.2 / §21.5.7) or 513 (over the size limit,
    §21.5.11). ``request_head`` is the request as far as it was understood when its top
    Via reads, so the server can address that answer (§8.2.6; it copies whatever From,
    To, Call-ID and CSeq there are); ``None`` means nothing can be answered and the
    datagram is dropped. When the Request-URI itself was what failed,
    ``request_head.uri`` is a placeholder with an empty host: use it to address the
    response, never to route.
    """

    def __init__(self, status: int, problem: str, request_head: Request | None = None) -> None:
        super().__init__(f"SIP parse error {status}: {problem}")
        self.status = status
        self.problem = problem
        self.request_head = request_head


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what the parser accepts: a peer cannot make us hold or scan more."""

    max_message_bytes: int = 65535  # one UDP datagram; streams use the same bound
    max_headers: int = 100  # header entries after list splitting
    max_params: int = 32  # per header value or URI
    max_header_line: int = 8192  # one unfolded header line


DEFAULT_LIMITS = Limits()


def _shown(text: str) -> str:
    """The offending text for a problem message, cut so a log line stays short."""
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _fail(where: str, detail: str, text: str | None = None, status: int = 400) -> ParseError:
    suffix = "" if text is None else f" in {_shown(text)}"
    return ParseError(status, f"{where}: {detail}{suffix}")


def wire_number(text: str, max_digits: int) -> int | None:
    """``1*DIGIT`` as the wire writes it, or None. ``int()`` alone is no check: it also
    reads fullwidth and other Unicode digits ('１２'), '1_0', '+7' and ' 7 ', and
    ``str.isdigit`` passes superscripts ('²') that ``int()`` then refuses."""
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def is_token(text: str) -> bool:
    return bool(text) and TOKEN_CHARS.issuperset(text)


def _check_escapes(text: str, where: str) -> None:
    """Each '%' must start an escaped octet (RFC 3261 §25.1 ``escaped``)."""
    index = text.find("%")
    while index >= 0:
        if not _HEX.issuperset(text[index + 1 : index + 3]) or index + 3 > len(text):
            raise _fail(where, "bad %-escape", text)
        index = text.find("%", index + 3)


def split_quoted(text: str, sep: str, *, angles: bool = False) -> list[str]:
    """Split on ``sep`` outside double quotes (backslash escapes honoured) and, with
    ``angles``, outside ``<...>`` (list headers, RFC 3261 §7.3.1)."""
    if '"' not in text and not (angles and "<" in text):
        return text.split(sep)
    parts: list[str] = []
    start = 0
    index = 0
    in_quote = in_angle = False
    length = len(text)
    while index < length:
        char = text[index]
        if in_quote:
            if char == "\\":
                index += 1
            elif char == '"':
                in_quote = False
        elif in_angle:
            in_angle = char != ">"
        elif char == '"':
            in_quote = True
        elif angles and char == "<":
            in_angle = True
        elif char == sep:
            parts.append(text[start:index])
            start = index + 1
        index += 1
    parts.append(text[start:])
    return parts


def split_host_port(text: str, where: str) -> tuple[str, int | None]:
    """``host [":" port]`` with IPv6 references in brackets (RFC 3261 §25.1, RFC 5118)."""
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise _fail(where, "unterminated IPv6 reference", text)
        host, rest = text[: close + 1], text[close + 1 :]
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _fail(where, "bad IPv6 address", text) from None
        if rest and not rest.startswith(":"):
            raise _fail(where, "unexpected text after IPv6 reference", text)
        port_text = rest[1:] if rest else None
    else:
        host, colon, port_text_raw = text.partition(":")
        port_text = port_text_raw if colon else None
        if not host or not _HOST_CHARS.issuperset(host):
            raise _fail(where, "bad host", text)
    if port_text is None:
        return host, None
    if not port_text or len(port_text) > 5 or not _DIGITS.issuperset(port_text):
        raise _fail(where, "bad port", text)
    port = int(port_text)
    if port > 65535:
        raise _fail(where, "port out of range", text)
    return host, port


def _uri_params(text: str, where: str, limits: Limits) -> tuple[Param, ...]:
    """``*( ";" uri-parameter )`` with ``text`` starting after the first ';'."""
    pieces = text.split(";")
    if len(pieces) > limits.max_params:
        raise _fail(where, f"more than {limits.max_params} parameters")
    params: list[Param] = []
    for piece in pieces:
        name, eq, value = piece.partition("=")
        if not name or not _PARAM_CHARS.issuperset(name):
            raise _fail(where, "bad URI parameter", piece)
        if eq and not _PARAM_CHARS.issuperset(value):
            raise _fail(where, "bad URI parameter value", piece)
        params.append(Param(name, value if eq else None))
    return tuple(params)


def _uri_headers(text: str, where: str, limits: Limits) -> tuple[tuple[str, str], ...]:
    pieces = text.split("&")
    if len(pieces) > limits.max_params:
        raise _fail(where, f"more than {limits.max_params} URI headers")
    headers: list[tuple[str, str]] = []
    for piece in pieces:
        name, _, value = piece.partition("=")
        if not name or not _HNV_CHARS.issuperset(name) or not _HNV_CHARS.issuperset(value):
            raise _fail(where, "bad URI header", piece)
        headers.append((name, value))
    return tuple(headers)


def parse_uri(text: str, *, where: str = "URI", limits: Limits = DEFAULT_LIMITS) -> SipUri:
    """A sip:, sips: or tel: URI (RFC 3261 §19.1, §25.1; RFC 3966 for tel).

    Escapes stay escaped, as written, so formatting gives back the same text. For tel:
    the number goes to ``user``, its parameters to ``params`` and ``host`` is empty.
    A scheme we do not serve raises status 416 (§8.2.2.1).
    """
    scheme, colon, rest = text.partition(":")
    if scheme != "sip" and scheme != "sips":  # two compares beat a set look-up
        scheme = _other_scheme(scheme, colon, text, where)
        if scheme == "tel":
            return _tel_uri(rest, text, where, limits)
    if "%" in text:
        _check_escapes(text, where)
    user: str | None = None
    password: str | None = None
    at = rest.find("@")
    if at >= 0:
        user, pcolon, password_text = rest[:at].partition(":")
        rest = rest[at + 1 :]
        if not user or not _USER_CHARS.issuperset(user):
            raise _fail(where, "bad user part", text)
        if pcolon:
            if not _PASSWORD_CHARS.issuperset(password_text):
                raise _fail(where, "bad password", text)
            password = password_text
    rest, question, header_text = rest.partition("?")
    hostport, semi, param_text = rest.partition(";")
    if hostport[:1] != "[" and ":" not in hostport and _HOST_CHARS.issuperset(hostport):
        host, port = hostport, None  # the common case: a bare name or IPv4 address
        if not host:
            raise _fail(where, "bad host", text)
    else:
        host, port = split_host_port(hostport, where)
    params = _uri_params(param_text, where, limits) if semi else ()
    headers = _uri_headers(header_text, where, limits) if question else ()
    return SipUri(host, user, password, port, params, headers, scheme)


def _other_scheme(scheme: str, colon: str, text: str, where: str) -> str:
    lowered = scheme.lower()
    if not colon or not scheme or not scheme[0].isalpha() or not is_token(scheme):
        raise _fail(where, "bad scheme", text)
    if lowered not in SCHEMES:
        raise _fail(where, f"unsupported URI scheme {lowered!r}", text, status=416)
    return lowered


def _tel_uri(rest: str, text: str, where: str, limits: Limits) -> SipUri:
    number, semi, param_text = rest.partition(";")
    if not number or not _TEL_CHARS.issuperset(number):
        raise _fail(where, "bad telephone number", text)
    _check_escapes(rest, where)
    params = _uri_params(param_text, where, limits) if semi else ()
    return SipUri(host="", user=number, params=params, scheme="tel")


def format_params(params: tuple[Param, ...]) -> str:
    return "".join(f";{p.name}" if p.value is None else f";{p.name}={p.value}" for p in params)


def format_uri(uri: SipUri) -> str:
    """The text form of ``uri``; ``parse_uri(format_uri(u)) == u`` (RFC 3261 §19.1)."""
    if uri.scheme == "tel":
        return f"tel:{uri.user or ''}{format_params(uri.params)}"
    out = [uri.scheme, ":"]
    if uri.user is not None:
        out.append(uri.user)
        if uri.password is not None:
            out += (":", uri.password)
        out.append("@")
    out.append(uri.host)
    if uri.port is not None:
        out += (":", str(uri.port))
    out.append(format_params(uri.params))
    if uri.headers:
        out += ("?", "&".join(f"{n}={v}" for n, v in uri.headers))
    return "".join(out)


def parse_header_params(text: str, where: str, limits: Limits) -> tuple[Param, ...]:
    """``*( SEMI generic-param )`` after a name-addr or Via sent-by (RFC 3261 §25.1).

    SWS around ';' and '=' is allowed; a quoted value keeps its quotes, as written.
    """
    text = text.strip(_WS)
    if not text:
        return ()
    if text[0] != ";":
        raise _fail(where, "expected ';' before parameters", text)
    pieces = split_quoted(text[1:], ";")
    if len(pieces) > limits.max_params:
        raise _fail(where, f"more than {limits.max_params} parameters")
    params: list[Param] = []
    for piece in pieces:
        name, eq, value = piece.partition("=")
        name = name.strip(_WS)
        if not is_token(name):
            raise _fail(where, "bad parameter name", piece)
        if not eq:
            params.append(Param(name))
            continue
        value = value.strip(_WS)
        if value.startswith('"'):
            end, _ = read_quoted(value, 0, where)
            if end != len(value):
                raise _fail(where, "text after quoted parameter value", piece)
        elif not _GEN_VALUE_CHARS.issuperset(value):
            raise _fail(where, "bad parameter value", piece)
        params.append(Param(name, value))
    return tuple(params)


def read_quoted(text: str, start: int, where: str) -> tuple[int, str]:
    """Read the quoted-string at ``text[start]``: (index after it, unescaped content)."""
    pieces: list[str] = []
    index = start + 1
    quote = text.find('"', index)
    while True:
        if 0 <= quote < index:  # that quote was escaped: look further (linear overall)
            quote = text.find('"', index)
        backslash = text.find("\\", index, quote if quote >= 0 else len(text))
        if backslash >= 0:
            if backslash + 1 >= len(text):
                break
            pieces += (text[index:backslash], text[backslash + 1])
            index = backslash + 2
            continue
        if quote < 0:
            break
        pieces.append(text[index:quote])
        return quote + 1, "".join(pieces)
    raise _fail(where, "unterminated quoted string", text)


def parse_name_addr(
    text: str, *, where: str = "name-addr", limits: Limits = DEFAULT_LIMITS
) -> NameAddr:
    """``[display] <uri> *(;param)`` or a bare addr-spec (RFC 3261 §20.10, §25.1).

    After a bare addr-spec every ``;param`` belongs to the header, not the URI
    (``sip:a@b;tag=1``: tag is the From tag). A quoted display name is unescaped.
    """
    s = text.strip(_WS)
    if not s:
        raise _fail(where, "empty value")
    display: str | None
    if s[0] == '"':
        end, display = read_quoted(s, 0, where)
        rest = s[end:].lstrip(_WS)
        if not rest.startswith("<"):
            raise _fail(where, "expected <URI> after the display name", text)
        return _angle(rest, display, where, limits, text)
    lt = s.find("<")
    semi = s.find(";")
    if lt >= 0 and (semi < 0 or lt < semi):
        words = s[:lt].strip(_WS)
        for char in words:
            if char not in TOKEN_CHARS and char not in _WS and char < "\x80":
                raise _fail(where, "display name needs quotes", text)
        return _angle(s[lt:], words or None, where, limits, text)
    uri_text, semi_found, param_text = s.partition(";")
    if "," in uri_text or "<" in uri_text or ">" in uri_text:
        raise _fail(where, "URI must be enclosed in <>", text)
    uri = parse_uri(uri_text.rstrip(_WS), where=where, limits=limits)
    params = parse_header_params(";" + param_text, where, limits) if semi_found else ()
    return NameAddr(uri, None, params)


def _angle(rest: str, display: str | None, where: str, limits: Limits, text: str) -> NameAddr:
    close = rest.find(">")
    if close < 0:
        raise _fail(where, "unterminated <URI>", text)
    uri = parse_uri(rest[1:close].strip(_WS), where=where, limits=limits)
    return NameAddr(uri, display, parse_header_params(rest[close + 1 :], where, limits))


def format_name_addr(value: NameAddr) -> str:
    """Always the ``<uri>`` form, so URI parameters never turn into header ones."""
    uri = f"<{format_uri(value.uri)}>"
    if value.display is not None:
        escaped = value.display.replace("\\", "\\\\").replace('"', '\\"')
        uri = f'"{escaped}" {uri}'
    return uri + format_params(value.params)


def parse_via(text: str, *, where: str = "Via", limits: Limits = DEFAULT_LIMITS) -> Via:
    """``SIP / 2.0 / transport sent-by *(;via-params)`` with SWS anywhere the RFC allows it
    (RFC 3261 §20.42, §25.1; RFC 4475 §3.1.1.1). Transport is upper-cased."""
    head, semi, param_text = text.strip(_WS).partition(";")
    if head.startswith("SIP/2.0/") and head.count(" ") == 1 and "\t" not in head:
        transport, _, sent_by = head[8:].partition(" ")  # the usual spelling, no SWS
    else:
        transport, sent_by = _spaced_sent_protocol(head, text, where)
    if not is_token(transport):
        raise _fail(where, "expected transport and sent-by", text)
    host, port = split_host_port(sent_by, where)
    params = parse_header_params(";" + param_text, where, limits) if semi else ()
    return Via(transport.upper(), host, port, params)


def _spaced_sent_protocol(head: str, text: str, where: str) -> tuple[str, str]:
    """``SIP / 2.0 / UDP  host : port`` with SWS where §25.1 allows it (RFC 4475 wsinv)."""
    name, _, rest = head.partition("/")
    version, slash, rest = rest.partition("/")
    if not slash:
        raise _fail(where, "expected SIP/2.0/transport", text)
    if name.strip(_WS).upper() != "SIP" or version.strip(_WS) != "2.0":
        raise _fail(where, "protocol is not SIP/2.0", text)
    parts = rest.split(None, 1)
    if len(parts) != 2:
        raise _fail(where, "expected transport and sent-by", text)
    return parts[0], "".join(parts[1].split())


def format_via(via: Via) -> str:
    port = "" if via.port is None else f":{via.port}"
    return f"SIP/2.0/{via.transport} {via.host}{port}{format_params(via.params)}"


def parse_cseq(text: str, *, where: str = "CSeq") -> CSeq:
    """``1*DIGIT LWS Method`` with the number below 2**31 (RFC 3261 §20.16, §8.1.1.5)."""
    parts = text.split()
    if len(parts) != 2:
        raise _fail(where, "expected 'number METHOD'", text)
    number, method = parts
    if not _DIGITS.issuperset(number) or len(number) > 10 or int(number) > MAX_CSEQ:
        raise _fail(where, "not a number below 2**31", number)
    if not is_token(method):
        raise _fail(where, "bad method", method)
    return CSeq(int(number), method)


def format_cseq(value: CSeq) -> str:
    return f"{value.number} {value.method}"
