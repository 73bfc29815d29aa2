"""Responses built from the request they answer (RFC 3261 §8.2.6).

Header values are copied as text, untouched, so a response matches its request
byte for byte where the RFC says it must (Via branch, From tag, Call-ID, CSeq).
"""

from __future__ import annotations

from switchboard.sip.grammar import ParseError, parse_name_addr
from switchboard.sip.message import Headers, Request, Response
from switchboard.sip.parse import KNOWN_HEADERS

# §12.1.1: a response that creates a dialog copies the request's Record-Route.
_DIALOG_CREATING = frozenset({"INVITE", "SUBSCRIBE", "REFER", "NOTIFY"})
_NAMES = ("Via", "From", "To", "Call-ID", "CSeq", "Timestamp", "Record-Route")
_COPIED = (
    {name: name for name in _NAMES}
    | {name.lower(): name for name in _NAMES}
    | {"v": "Via", "f": "From", "t": "To", "i": "Call-ID"}
)
_NOT_COPIED = KNOWN_HEADERS - set(_NAMES)
"""Names a parsed request spells so (``KNOWN_HEADERS``) and a response does not copy: the
usual fields pass without a ``lower()`` each."""


def response_to(
    request: Request,
    status: int,
    reason: str,
    *,
    to_tag: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
) -> Response:
    """The response to ``request`` per §8.2.6.2: every Via in order, From, To, Call-ID,
    CSeq, then ``headers``.

    ``to_tag`` is added to To unless To already has a tag (in-dialog requests) or the
    status is 100 (§8.2.6.1: a 100 Trying carries no To tag). Timestamp is echoed in a
    100 (§8.2.6.1) and Record-Route in 101-299 answers to dialog-creating methods
    (§12.1.1). Content-Length is written by ``serialise``.
    """
    vias: list[tuple[str, str]] = []
    copied: dict[str, str] = {}
    routes: list[tuple[str, str]] = []
    for key, text in request.headers.items:  # one pass; Headers.get would lower() each
        if key in _NOT_COPIED:
            continue
        canon = _COPIED.get(key) or _COPIED.get(key.lower())
        if canon == "Via":
            vias.append((canon, text))
        elif canon == "Record-Route":
            routes.append((canon, text))
        elif canon is not None and canon not in copied:
            copied[canon] = text
    items = vias
    for name in ("From", "To", "Call-ID", "CSeq"):
        value = copied.get(name)
        if value is None:
            continue
        if name == "To" and to_tag is not None and status != 100 and not _has_tag(value):
            value = f"{value};tag={to_tag}"
        items.append((name, value))
    if status == 100 and "Timestamp" in copied:
        items.append(("Timestamp", copied["Timestamp"]))
    if 100 < status < 300 and request.method in _DIALOG_CREATING:
        items += routes
    items.extend(headers)
    return Response(status, reason, Headers(tuple(items)), body)


def _has_tag(to_value: str) -> bool:
    if '"' not in to_value:
        # Fast path: header parameters follow the '>' (or the first ';' of a bare
        # addr-spec); if "tag" is nowhere there, there is no tag parameter.
        tail = to_value.partition(">")[2] if "<" in to_value else to_value.partition(";")[2]
        if "tag" not in tail.lower():
            return False
    try:
        return parse_name_addr(to_value, where="To").tag is not None
    except ParseError:
        # A To we cannot read (we may be answering 400 because of it): a tag
        # parameter anywhere outside <...> is the best evidence left.
        return ";tag=" in to_value.rpartition(">")[2].replace(" ", "").lower()
