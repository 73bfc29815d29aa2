"""Bytes to ``Request``/``Response`` and back (RFC 3261 §7, §18.3, §25).

``parse_message`` only splits the start line and the header fields, canonicalises
names and splits list headers; it types nothing but the Request-URI and the CSeq
(needed to check the method). Everything else is typed on demand through the readers
in ``readers`` (``top_via``, ``from_``, ``cseq`` ..., re-exported here), so a request
costs only what its handler reads. ``StreamFramer`` (in ``framing``) is re-exported too.

Content-Length: the parser keeps it as a header field, with its value rewritten to the
plain decimal length of the body it kept; ``serialise`` always writes the real body
length, in place of the first Content-Length field or appended when there is none.
So ``parse_message(serialise(m)) == m`` for every ``m`` the parser produced from a
message that carried Content-Length (the only ones a stream can carry), and for the
rest it holds once Content-Length is added.
"""

from __future__ import annotations

import functools

from switchboard.sip.framing import StreamFramer
from switchboard.sip.grammar import (
    DEFAULT_LIMITS,
    MAX_CSEQ,
    Limits,
    ParseError,
    format_name_addr,
    format_uri,
    format_via,
    is_token,
    parse_cseq,
    parse_name_addr,
    parse_uri,
    parse_via,
    split_quoted,
    wire_number,
)
from switchboard.sip.message import (
    MAGIC_COOKIE,
    SIP_VERSION,
    Headers,
    Message,
    Request,
    Response,
    SipError,
    SipUri,
    Via,
)
from switchboard.sip.readers import (
    call_id,
    contacts,
    cseq,
    expires,
    from_,
    max_forwards,
    to,
    top_via,
    vias,
)

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "ParseError",
    "StreamFramer",
    "call_id",
    "contacts",
    "cseq",
    "expires",
    "format_name_addr",
    "format_uri",
    "format_via",
    "from_",
    "max_forwards",
    "parse_cseq",
    "parse_message",
    "parse_name_addr",
    "parse_uri",
    "parse_via",
    "serialise",
    "to",
    "top_via",
    "vias",
    "wire_number",
]

_KNOWN = (
    "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Max-Forwards", "Content-Length",
    "Content-Type", "Content-Encoding", "Route", "Record-Route", "Allow", "Supported",
    "Require", "Proxy-Require", "Unsupported", "Expires", "Authorization", "WWW-Authenticate",
    "Proxy-Authorization", "Proxy-Authenticate", "User-Agent", "Server", "Subject", "Event",
    "Refer-To", "Referred-By", "Reason", "P-Asserted-Identity", "P-Preferred-Identity",
    "Privacy", "Accept", "Allow-Events", "Min-Expires", "Retry-After", "Timestamp", "Date",
    "Organization", "Priority", "Warning", "Session-Expires", "Min-SE", "Diversion",
    "History-Info",
)  # fmt: skip
# RFC 3261 §7.3.3 compact forms, plus RFC 3265 (o, u), RFC 3515 (r), RFC 3892 (b), RFC 4028 (x).
_COMPACT = {
    "v": "Via", "f": "From", "t": "To", "i": "Call-ID", "m": "Contact", "l": "Content-Length",
    "k": "Supported", "s": "Subject", "c": "Content-Type", "e": "Content-Encoding",
    "o": "Event", "r": "Refer-To", "b": "Referred-By", "u": "Allow-Events",
    "x": "Session-Expires",
}  # fmt: skip
# RFC 3261 §7.3.1: fields whose grammar is a comma-separated list. The authentication
# fields are not: their commas separate digest parameters. Nor is Date (it has a comma).
LIST_HEADERS = frozenset((
    "Via", "Contact", "Route", "Record-Route", "Allow", "Supported", "Require",
    "Proxy-Require", "Unsupported", "Accept", "Allow-Events", "P-Asserted-Identity",
    "Privacy", "Reason", "Warning", "Diversion", "History-Info",
))  # fmt: skip
MANDATORY = ("Via", "From", "To", "Call-ID", "CSeq")  # RFC 3261 §8.1.1
_SINGLES = frozenset({"From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Length"})
_PLAIN, _SINGLE, _LIST, _VIA = range(4)  # how the header loop treats a field


def _kind(name: str) -> int:
    if name == "Via":
        return _VIA
    if name in LIST_HEADERS:
        return _LIST
    return _SINGLE if name in _SINGLES else _PLAIN


_BY_NAME = {name: (name, _kind(name)) for name in _KNOWN} | {
    short: (name, _kind(name)) for short, name in _COMPACT.items()
}
_CANONICAL = {name.lower(): known for name, known in _BY_NAME.items()}
KNOWN_HEADERS = frozenset(_KNOWN)
"""Canonical names of the headers the parser knows: it writes them so, in any case given."""
_EXACT = _BY_NAME  # the usual spelling hits without calling lower()
_WS = " \t"
_DIGITS = frozenset("0123456789")
_PRIORITY = {513: 0, 505: 1, 400: 2, 416: 3}  # which answer wins when several apply


def split_list(value: str) -> list[str]:
    """Split a list header on commas outside quotes and <...> (RFC 3261 §7.3.1)."""
    elements = [part.strip(_WS) for part in split_quoted(value, ",", angles=True)]
    if "" in elements:
        elements = [element for element in elements if element] or [""]
    return elements


def plain_ack_via(data: bytes) -> str | None:
    """The top Via of an ACK in the plain shape — the request line, then ``Via:`` as the
    first header line with one unfolded ASCII value — or None: parse it in full.

    An ACK to a non-2xx final answer is matched to its transaction by the top Via alone
    (RFC 3261 §17.2.3) and answered by nothing, so reading the rest would be wasted; this
    is what lets the transaction layer absorb it first (``TransactionLayer.absorb_ack``).
    """
    if not data.startswith(b"ACK "):
        return None
    first_end = data.find(b"\r\n")
    if first_end < 0 or not data.startswith(b"Via: ", first_end + 2):
        return None
    start = first_end + 7
    end = data.find(b"\r\n", start)
    if end < 0 or end - start > DEFAULT_LIMITS.max_header_line:
        return None
    value = data[start:end]
    if b"," in value or data[end + 2 : end + 3] in (b" ", b"\t") or not value.isascii():
        return None  # several values on the line, or folded: the full parser decides
    return value.decode("ascii")


def parse_message(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Request | Response:
    """One SIP message from a datagram or a frame cut by ``StreamFramer``.

    Raises ``ParseError``; see its docstring for the status and ``request_head``.
    Extra bytes after Content-Length are discarded (RFC 3261 §18.3, UDP); without
    Content-Length the body is the rest of the datagram.
    """
    problems: list[tuple[int, str]] = []
    if len(data) > limits.max_message_bytes:
        problems.append((513, f"message of {len(data)} bytes over {limits.max_message_bytes}"))
    start = 0
    while data.startswith(b"\r\n", start):  # §7.5: ignore CRLF before the start line
        start += 2
    end = data.find(b"\r\n\r\n", start)
    if end < 0:
        problems.append((400, "no empty line ends the header block"))
        head_bytes, body = data[start:], b""
    else:
        head_bytes, body = data[start:end], data[end + 4 :]
    try:
        head = head_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise _chosen([*problems, (400, "header block is not UTF-8")], None) from None
    lines = head.split("\r\n")
    if head.count("\n") != len(lines) - 1 or head.count("\r") != len(lines) - 1:
        raise _chosen([*problems, (400, "bare CR or LF inside the header block")], None)

    first = lines[0]
    method: str | None = None
    uri: SipUri | None = None
    if first.startswith("SIP/"):
        version, _, rest = first.partition(" ")
        code, _, reason = rest.partition(" ")
        if len(code) != 3 or not _DIGITS.issuperset(code) or not "100" <= code <= "699":
            raise _chosen([*problems, (400, f"bad status line {first[:80]!r}")], None)
        if version.upper() != SIP_VERSION:
            raise _chosen([*problems, (505, f"unsupported version {version[:20]!r}")], None)
    else:
        parts = first.split(" ")
        if len(parts) != 3 or not is_token(parts[0]):
            parts = _spaced_request_line(first, problems)
        method, uri_text, version = parts
        if version.upper() != SIP_VERSION:
            if not version.upper().startswith("SIP/"):
                raise _chosen([*problems, (400, f"bad request line {first[:80]!r}")], None)
            problems.append((505, f"unsupported version {version[:20]!r}"))
        if uri_text:
            try:
                if limits is DEFAULT_LIMITS:
                    uri = _request_uri(uri_text)
                else:
                    uri = parse_uri(uri_text, where="Request-URI", limits=limits)
            except ParseError as exc:
                problems.append((exc.status, exc.problem))

    fields = lines[1:]
    if len(head) > limits.max_header_line:
        fields = _short_lines(fields, limits, problems)
    read = _read_fields(fields, [], unfolded=False)
    if read is None:  # a folded line: unfold all and read again (rare, so not up front)
        fields = _short_lines(_unfold(fields, problems), limits, problems)
        read = _read_fields(fields, [], unfolded=True)
    assert read is not None  # noqa: S101 - _read_fields only gives up on folded input
    items, found, field_problems = read
    problems += field_problems
    if len(items) > limits.max_headers:
        problems.append((400, f"more than {limits.max_headers} header fields"))
        del items[limits.max_headers :]

    missing = [name for name in MANDATORY if name not in found]
    if missing:
        problems.append((400, f"missing mandatory header {', '.join(missing)}"))
    if method is not None:
        _check_request_fields(method, found, problems)
    length_text = found.get("Content-Length")
    if length_text is not None:
        if not _is_number(length_text, 9):
            problems.append((400, f"Content-Length: not a number {length_text[:20]!r}"))
        else:
            length = int(length_text)
            if len(body) < length:
                problems.append((400, f"Content-Length: {length} but body has {len(body)}"))
            body = body[:length]
            if length_text != str(length):
                index = items.index(("Content-Length", length_text))
                items[index] = ("Content-Length", str(length))

    if problems:
        head_request = None
        if method is not None:
            head_request = _request_head(method, uri, items, found, version)
        raise _chosen(problems, head_request)
    if method is None:
        return Response(int(code), reason, Headers(tuple(items)), body)
    assert uri is not None  # noqa: S101 - set whenever no problem was recorded
    return Request(method, uri, Headers(tuple(items)), body)


def _spaced_request_line(first: str, problems: list[tuple[int, str]]) -> list[str]:
    """A request line with whitespace where §7.1 allows one SP (inside the Request-URI,
    doubled, trailing): still a request whose headers may be answered with 400 (RFC 4475
    ``lwsruri``, ``lwsstart``). The URI is left out (an empty text): it is never routed."""
    words = first.split()
    if len(words) < 3 or not is_token(words[0]) or not words[-1].upper().startswith("SIP/"):
        raise _chosen([*problems, (400, f"bad request line {first[:80]!r}")], None)
    inside = "inside the Request-URI" if len(words) > 3 else "around the Request-URI"
    problems.append((400, f"Request-URI: whitespace {inside} in {first[:80]!r}"))
    return [words[0], "", words[-1]]


def _check_request_fields(
    method: str, found: dict[str, str], problems: list[tuple[int, str]]
) -> None:
    """What every request is checked for up front, cheaply: the CSeq (number below 2**31,
    method as in the request line; §8.1.1.5, §8.2.2) and the quoting of From and To.

    From and To are typed lazily, but a display name left open (RFC 4475
    ``quotbal``) must get 400, never be routed on what a lenient reader made of it. Only a
    value the cheap look finds odd (quotes unbalanced, a backslash, '<' without '>')
    meets the full parser, which decides."""
    cseq_text = found.get("CSeq")
    if cseq_text is not None:
        sequence = cseq_text.split()
        if (
            len(sequence) != 2
            or sequence[1] != method
            or not _is_number(sequence[0], 10)
            or (len(sequence[0]) == 10 and int(sequence[0]) > MAX_CSEQ)
        ):
            try:
                cseq_method = parse_cseq(cseq_text).method
            except ParseError as exc:
                problems.append((exc.status, exc.problem))
            else:
                if cseq_method != method:
                    problems.append((400, f"CSeq: method {cseq_method!r} is not {method!r}"))
    call = found.get("Call-ID")
    if call is not None and (not call or " " in call or "\t" in call):
        problems.append((400, f"Call-ID: bad value {call[:80]!r}"))  # §20.8: one word
    for name in ("From", "To"):
        value = found.get(name)
        if value is not None and (
            value.count('"') % 2 or "\\" in value or value.count("<") != value.count(">")
        ):
            try:
                parse_name_addr(value, where=name)
            except ParseError as exc:
                problems.append((exc.status, exc.problem))


@functools.lru_cache(maxsize=4096)
def _request_uri(text: str) -> SipUri:
    """A Request-URI, parsed once per distinct text: calls for one extension arrive with
    the same Request-URI (``sip:64123@our-address``) call after call, and a ``SipUri``
    is immutable. Text that fails to parse raises every time (errors are not cached)."""
    return parse_uri(text, where="Request-URI")


def _is_number(text: str, digits: int) -> bool:
    return 0 < len(text) <= digits and text.isascii() and text.isdigit()


def _read_fields(
    fields: list[str], problems: list[tuple[int, str]], *, unfolded: bool
) -> tuple[list[tuple[str, str]], dict[str, str], list[tuple[int, str]]] | None:
    """Header fields to entries: canonical names, list headers split (§7.3).

    ``found`` holds the single-valued mandatory fields and the top Via. Returns None
    at the first continuation line when the fields were not unfolded yet.
    """
    items: list[tuple[str, str]] = []
    found: dict[str, str] = {}
    for field in fields:
        name, colon, value = field.partition(":")
        known = _EXACT.get(name)
        if known is None:
            if not unfolded and field and field[0] in _WS:
                return None
            known = _unknown_name(name, colon, field, problems)
            if known is None:
                continue
        canon, kind = known
        value = value.strip(_WS)
        if kind == _PLAIN:
            items.append((canon, value))
        elif kind == _SINGLE:
            if canon in found:
                problems.append((400, f"{canon}: appears more than once"))
            found[canon] = value
            items.append((canon, value))
        elif "," in value:
            elements = split_list(value)
            items.extend((canon, element) for element in elements)
            if kind == _VIA and "Via" not in found:
                found["Via"] = elements[0]
        else:
            items.append((canon, value))
            if kind == _VIA and "Via" not in found:
                found["Via"] = value
    return items, found, problems


def _unknown_name(
    name: str, colon: str, field: str, problems: list[tuple[int, str]]
) -> tuple[str, int] | None:
    """Name lookup off the fast path: odd case, space before ':', unknown or invalid."""
    if not colon:
        if field:
            problems.append((400, f"header line without colon {field[:80]!r}"))
        return None
    name = name.rstrip(_WS)
    known = _CANONICAL.get(name.lower())
    if known is None:
        if not is_token(name):
            problems.append((400, f"bad header name {name[:80]!r}"))
            return None
        known = (name, _PLAIN)
    return known


def _short_lines(fields: list[str], limits: Limits, problems: list[tuple[int, str]]) -> list[str]:
    if sum(map(len, fields)) <= limits.max_header_line:
        return fields
    kept = [field for field in fields if len(field) <= limits.max_header_line]
    if len(kept) < len(fields):
        problems.append((513, f"header line over {limits.max_header_line} characters"))
    return kept


def _unfold(lines: list[str], problems: list[tuple[int, str]]) -> list[str]:
    """Join continuation lines to their field, each fold becoming one SP (§7.3.1)."""
    fields: list[list[str]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not fields:
                problems.append((400, "continuation line before the first header"))
                continue
            fields[-1].append(line.strip(_WS))
        else:
            fields.append([line])
    return [" ".join([f[0].rstrip(_WS), *f[1:]]) if len(f) > 1 else f[0] for f in fields]


def _chosen(problems: list[tuple[int, str]], head: Request | None) -> ParseError:
    status, problem = min(problems, key=lambda p: _PRIORITY.get(p[0], 9))
    return ParseError(status, problem, head)


def _request_head(
    method: str,
    uri: SipUri | None,
    items: list[tuple[str, str]],
    found: dict[str, str],
    version: str,
) -> Request | None:
    """The request as far as it goes, if a response can be addressed (§8.2.6.2).

    The top Via is what a response needs: it goes back to the source, and the client
    matches it to its transaction by the Via's branch (§17.1.3). So a request whose Via
    reads gets its 400 even without a readable (or any) From, To, Call-ID or CSeq (RFC
    4475 ``insuf``): the response copies what is there. A Via in the request
    line's own unknown version (``SIP/7.0/UDP``) still names where the request came
    from: that request gets its 505 (RFC 4475 ``badvers``)."""
    via = found.get("Via")
    if via is None:
        return None
    try:
        branch = _readable_via(via, version).branch
    except ParseError:
        return None  # nothing trustworthy to answer to: the caller drops the message
    if not (branch or "").startswith(MAGIC_COOKIE) and any(n not in found for n in MANDATORY):
        return None  # an RFC 2543 client matches by From, To, Call-ID and CSeq (§17.1.3)
    placeholder = SipUri(host="")
    return Request(method, uri or placeholder, Headers(tuple(items)), b"", version)


def _readable_via(text: str, version: str) -> Via:
    try:
        return parse_via(text)
    except ParseError:
        own = version.upper() + "/"
        if version.upper() == SIP_VERSION or not text.upper().startswith(own):
            raise
        return parse_via("SIP/2.0/" + text[len(own) :])


def serialise(msg: Message) -> bytes:
    """The one way a message becomes bytes (RFC 3261 §7): start line, one line per
    header entry, Content-Length always equal to the body length, CRLF, body."""
    if isinstance(msg, Request):
        start = f"{msg.method} {format_uri(msg.uri)} {msg.version}"
    else:
        start = f"{msg.version} {msg.status} {msg.reason}"
    lines = [start]
    length = f"Content-Length: {len(msg.body)}"
    placed = False
    for name, value in msg.headers.items:
        if name == "Content-Length" or (name[:1] in "Cc" and name.lower() == "content-length"):
            if not placed:
                lines.append(length)
                placed = True
            continue
        lines.append(f"{name}: {value}")
    if not placed:
        lines.append(length)
    text = "\r\n".join(lines)
    breaks = len(lines) - 1
    if text.count("\r") != breaks or text.count("\n") != breaks:
        raise SipError(f"refusing to send a header containing CR or LF: {_broken(msg)}")
    return f"{text}\r\n\r\n".encode() + msg.body


def _broken(msg: Message) -> str:
    bad = [name for name, value in msg.headers.items if "\r" in value or "\n" in value]
    return ", ".join(bad) or "start line"
