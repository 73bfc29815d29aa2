"""What every part of the SIP edge shares: the transaction layer, the transport, our address.

The server, call routing and the proxy each get this one object instead of reaching into
one another; it owns nothing clever: sending, answering, branch ids and our Via.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
from collections.abc import Callable, Iterable

import structlog

from switchboard.sip.build import response_to
from switchboard.sip.flow import Flow
from switchboard.sip.message import MAGIC_COOKIE, Headers, Param, Request, Response, SipUri, Via
from switchboard.sip.parse import ParseError, format_via, parse_via, serialise, wire_number
from switchboard.sip.transaction import (
    Send,
    ServerTransaction,
    TransactionLayer,
)
from switchboard.sip.transport import SipTransport

log = structlog.get_logger("switchboard.sip")

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, MESSAGE, INFO, UPDATE, PRACK, NOTIFY"
SUPPORTED: frozenset[str] = frozenset()
"""Option tags we implement (RFC 3261 §19.2); any other in Require gets 420."""


class _RandomPool:
    """Random bytes from the OS, read 4 KiB at a time: tags and branches are drawn several
    times a call, and a getrandom system call for each is a measurable share of one."""

    SIZE = 4096

    def __init__(self) -> None:
        self._bytes = b""
        self._at = 0

    def take(self, nbytes: int) -> bytes:
        end = self._at + nbytes
        if end > len(self._bytes):
            self._bytes, self._at, end = os.urandom(max(self.SIZE, nbytes)), 0, nbytes
        taken = self._bytes[self._at : end]
        self._at = end
        return taken


class SipCore:
    def __init__(
        self,
        layer: TransactionLayer,
        transport: SipTransport,
        advertise: tuple[str, int],
        on_change: Callable[[], None],
        owns: Callable[[str], bool] | None = None,
    ) -> None:
        self.layer = layer
        self.transport = transport
        self.host, self.port = advertise
        self.loop = asyncio.get_running_loop()
        self._on_change = on_change
        self._owns = owns
        """With workers: whether a Call-ID is this worker's (``steering.Steering.owns``)."""
        self._random = _RandomPool()

    def now(self) -> float:
        return self.loop.time()

    def new_token(self, nbytes: int = 8) -> str:
        """Hex of ``nbytes`` cryptographically random bytes (RFC 3261 §19.3: tags and
        branch ids must be globally unique, with at least 32 random bits)."""
        return self._random.take(nbytes).hex()

    def new_call_id(self) -> str:
        """A Call-ID for a dialog or request we start. With workers, one that this worker
        owns, so the answers come back here (about ``count`` draws on average)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        while True:
            call_id = f"{self.new_token(10)}@{host}"
            if self._owns is None or self._owns(call_id):
                return call_id

    # -- sending ------------------------------------------------------------------

    def send(self, sends: Iterable[Send]) -> None:
        for s in sends:
            self.transport.send(s.data, s.flow)
        self._on_change()

    def send_stateless(self, message: Request | Response, flow: Flow) -> None:
        self.transport.send(serialise(message), flow)

    def reply(
        self,
        tx: ServerTransaction,
        status: int,
        reason: str,
        headers: tuple[tuple[str, str], ...] = (),
        *,
        to_tag: str | None = None,
        body: bytes = b"",
    ) -> None:
        if tx.answered:
            return  # a final answer went already; a late one of the TU goes nowhere
        tag = None if status == 100 else (to_tag or self.new_token(4))
        response = response_to(tx.request, status, reason, to_tag=tag, headers=headers, body=body)
        self.send(self.layer.respond(tx, response, self.now()))

    def forward_response(self, tx: ServerTransaction, response: Response) -> None:
        """Send a response from downstream upstream, our own Via removed (§16.7 step 9)."""
        upstream = response.with_headers(_pop_top_via(response.headers))
        self.send(self.layer.respond(tx, upstream, self.now()))

    # -- our identity -------------------------------------------------------------

    def via(self, flow: Flow, branch: str | None = None) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        branch = branch or MAGIC_COOKIE + self.new_token()
        return f"SIP/2.0/{flow.transport.upper()} {host}:{self.port};branch={branch};rport"

    def record_route(self, flow: Flow) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"<sip:{host}:{self.port};transport={flow.transport};lr>"

    def is_us(self, uri: SipUri) -> bool:
        host = uri.host.strip("[]")
        return host == self.host and (uri.port or 5060) == self.port


def _pop_top_via(headers: Headers) -> Headers:
    items = list(headers.items)
    for i, (name, _) in enumerate(items):
        if name.lower() == "via":
            del items[i]
            break
    return Headers(tuple(items))


def pop_top_via(headers: Headers) -> Headers:
    return _pop_top_via(headers)


def stamp_arrival(request: Request, flow: Flow) -> Request:
    """Note in the top Via where a request really came from, so every response (which
    copies the Via) tells the client (RFC 3261 §18.2.1, RFC 3581 §4).

    ``received`` when the sent-by host is not the source address; ``received`` and the
    source port in ``rport`` when the Via asks with ``rport``. The usual Via (sent-by
    is the source, no ``rport``) is recognised with ``str`` methods and left as it is:
    every call pays for that look only. A Via that does not parse stays as it is."""
    text = request.headers.get("Via")
    if text is None:
        return request
    sent_by = text.partition(" ")[2].partition(";")[0].strip()
    host = sent_by[1:].partition("]")[0] if sent_by[:1] == "[" else sent_by.partition(":")[0]
    rport = "rport" in text.lower()
    if host == flow.host and not rport:
        return request
    try:
        via = parse_via(text)
    except ParseError:
        return request
    asked = via.param("rport") is not None
    if not asked and _same_host(via.host.strip("[]"), flow.host):
        return request
    params = tuple(p for p in via.params if p.name.lower() not in {"received", "rport"})
    params += (Param("received", flow.host),)
    if asked:
        params += (Param("rport", str(flow.port)),)
    return _with_top_via(request, format_via(Via(via.transport, via.host, via.port, params)))


def _same_host(sent_by: str, source: str) -> bool:
    if sent_by == source:
        return True
    try:
        return ipaddress.ip_address(sent_by) == ipaddress.ip_address(source)
    except ValueError:
        return False  # a name: received says which address it came from


def _with_top_via(request: Request, value: str) -> Request:
    items = list(request.headers.items)
    for i, (name, _) in enumerate(items):
        if name.lower() in {"via", "v"}:
            items[i] = (name, value)
            break
    return request.with_headers(Headers(tuple(items)))


def stamp_received(request: Request, flow: Flow) -> Request:
    """RFC 3261 §18.2.1 and RFC 3581: note where the request really came from."""
    values = request.headers.get_all("Via")
    if not values:
        return request
    via = parse_via(values[0])
    params = tuple(p for p in via.params if p.name.lower() not in {"received", "rport"})
    params = (*params, Param("received", flow.host), Param("rport", str(flow.port)))
    return _with_top_via(request, format_via(Via(via.transport, via.host, via.port, params)))


def flow_of_via(text: str) -> Flow:
    """Where a response goes: the Via's received/rport when present (§18.2.2, RFC 3581)."""
    via = parse_via(text)
    host = via.param("received") or via.host.strip("[]")
    rport = wire_number(via.param("rport") or "", 5)
    port = rport if rport is not None and 0 < rport < 65536 else (via.port or 5060)
    return Flow(via.transport.lower(), host, port)
