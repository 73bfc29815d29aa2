"""Proxy mode: ring every target in parallel, statefully (RFC 3261 §16), and follow dialogs.

One ``ForkedCall`` per INVITE: a client transaction per target, the ring timeout, CANCEL
both ways (the caller gives up: we cancel every branch and answer 487; a branch answers:
the others are cancelled; the timeout fires: all are cancelled and the no-answer outcome
goes to the media seam). We Record-Route, so the dialog's in-dialog requests (ACK to 2xx,
BYE, re-INVITE) pass through us: they are forwarded to the *dialog's* other side, never to
a Request-URI of the sender's choosing (no open relay), and BYE ends the line state.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from switchboard.routing.values import quick_init
from switchboard.sip.core import SipCore, flow_of_via, pop_top_via, stamp_received
from switchboard.sip.flow import Flow
from switchboard.sip.identity import IdentitySwap, tag_of
from switchboard.sip.message import MAGIC_COOKIE, Headers, Request, Response, SipUri
from switchboard.sip.parse import cseq, parse_name_addr, parse_uri, top_via, wire_number
from switchboard.sip.transaction import (
    ClientEvent,
    ClientTransaction,
    ServerKey,
    ServerTransaction,
)

log = structlog.get_logger("switchboard.sip")

LineState = Callable[[str, bool], None]
"""Called with (person_id, in_call) when a call through us starts or ends."""


@quick_init
@dataclass(frozen=True, slots=True)
class Leg:
    """One target to ring: the Request-URI to use and the flow that reaches it."""

    uri: SipUri
    flow: Flow
    label: str
    """What the call log says (``mobile``, ``device``, ``trunk``); never a number."""


@dataclass(slots=True)
class Branch:
    leg: Leg
    client: ClientTransaction | None = None
    final: Response | None = None
    ringing: bool = False
    cancel_pending: bool = False


@dataclass(slots=True)
class ForkedCall:
    tx: ServerTransaction
    request: Request
    branches: list[Branch]
    on_no_answer: Callable[[Response | None], None]
    """Called once when every branch failed (with the best final answer) or the ring
    timeout fired (with None); never after CANCEL."""
    finish: Callable[[int], None]
    people: tuple[str, ...]
    swap: IdentitySwap | None
    timer: asyncio.TimerHandle | None = None
    done: bool = False


@dataclass(slots=True)
class Dialog:
    call_id: str
    caller_tag: str
    callee_tag: str
    caller_flow: Flow
    callee_flow: Flow
    people: tuple[str, ...]
    swap: IdentitySwap | None
    ended: bool = False


class Proxy:
    def __init__(self, core: SipCore, line_state: LineState, max_dialogs: int = 100_000) -> None:
        self.core = core
        self.line_state = line_state
        self.calls: dict[ServerKey, ForkedCall] = {}
        self.dialogs: dict[str, Dialog] = {}
        self.max_dialogs = max_dialogs

    # -- forking ------------------------------------------------------------------

    def fork(
        self,
        tx: ServerTransaction,
        request: Request,
        legs: list[Leg],
        ring_timeout: float | None,
        *,
        on_no_answer: Callable[[Response | None], None],
        finish: Callable[[int], None],
        people: tuple[str, ...],
        headers: Headers | None = None,
        swap: IdentitySwap | None = None,
    ) -> None:
        core = self.core
        invite = request.method == "INVITE"
        if invite:
            core.reply(tx, 100, "Trying")
        base = stamp_received(request, tx.flow)
        outgoing = headers if headers is not None else base.headers
        if headers is not None:
            # The caller's stamped Via stays on top of whatever headers we were given.
            outgoing = _replace_vias(outgoing, base.headers.get_all("Via"))
        call = ForkedCall(tx, request, [], on_no_answer, finish, people, swap)
        self.calls[tx.key] = call
        for leg in legs:
            branch = Branch(leg)
            call.branches.append(branch)
            forwarded = _forwarded(request, outgoing, leg, core, record_route=invite)
            client, sends = core.layer.send_request(forwarded, leg.flow, core.now(), (call, branch))
            branch.client = client
            core.send(sends)
        if ring_timeout is not None:
            call.timer = core.loop.call_later(ring_timeout, self._ring_timeout, call)

    def _ring_timeout(self, call: ForkedCall) -> None:
        if call.done:
            return
        self._cancel_branches(call)
        self._end(call)
        call.on_no_answer(None)

    def _end(self, call: ForkedCall) -> None:
        call.done = True
        if call.timer is not None:
            call.timer.cancel()
        self.calls.pop(call.tx.key, None)

    def caller_cancelled(self, tx: ServerTransaction) -> bool:
        """The caller sent CANCEL (§16.10): cancel every branch, answer the INVITE 487."""
        call = self.calls.get(tx.key)
        if call is None or call.done:
            return False
        self._cancel_branches(call)
        self._end(call)
        self.core.reply(tx, 487, "Request Terminated")
        call.finish(487)
        return True

    def withdraw(self, tx: ServerTransaction) -> None:
        """Another leg won the call (a confirmed mobile): every branch is cancelled and the
        fork ends without an answer of its own; the caller is answered elsewhere."""
        call = self.calls.get(tx.key)
        if call is None or call.done:
            return
        self._cancel_branches(call)
        self._end(call)

    def _cancel_branches(self, call: ForkedCall) -> None:
        for branch in call.branches:
            if branch.final is not None or branch.client is None:
                continue
            if branch.ringing:
                self._send_cancel(branch.client)
            else:
                branch.cancel_pending = True  # §9.1: only after a provisional response

    def _send_cancel(self, client: ClientTransaction) -> None:
        request = client.request
        h = request.headers
        items: list[tuple[str, str]] = [("Via", h.get_all("Via")[0]), ("Max-Forwards", "70")]
        items.extend(("Route", r) for r in h.get_all("Route"))
        for name in ("From", "To", "Call-ID"):
            items.append((name, h.get(name) or ""))
        items.append(("CSeq", f"{cseq(request).number} CANCEL"))
        cancel = Request("CANCEL", request.uri, Headers(tuple(items)))
        _, sends = self.core.layer.send_request(cancel, client.flow, self.core.now(), None)
        self.core.send(sends)

    # -- responses from branches ----------------------------------------------------

    def on_client_event(self, event: ClientEvent) -> None:
        owner = event.transaction.owner
        if not isinstance(owner, tuple):
            return  # a CANCEL's own answer: nothing to do
        call, branch = owner
        if not isinstance(call, ForkedCall) or not isinstance(branch, Branch):
            return
        response = event.response
        if response is None:  # timer B: the target never answered at all
            branch.final = Response(408, "Request Timeout", Headers())
            self._branch_failed(call)
            return
        status = response.status
        if status < 200:
            branch.ringing = True
            if branch.cancel_pending or call.done:
                branch.cancel_pending = False
                self._send_cancel(event.transaction)
                return
            if status != 100:
                self._forward_up(call, response)
            return
        if status < 300:
            if call.request.method != "INVITE":
                if not call.done:
                    self._end(call)
                    self._forward_up(call, response)
                    call.finish(status)
                return
            self._answered(call, branch, response)
            return
        branch.final = response
        if not call.done:
            self._branch_failed(call)

    def _forward_up(self, call: ForkedCall, response: Response) -> None:
        headers = pop_top_via(response.headers)
        if call.swap is not None:
            headers = call.swap.towards_caller(headers)
        self.core.send(
            self.core.layer.respond(call.tx, response.with_headers(headers), self.core.now())
        )

    def _answered(self, call: ForkedCall, branch: Branch, response: Response) -> None:
        if call.done:
            if (response.headers.get("Call-ID") or "") in self.dialogs:
                # A 2xx retransmission: it is end-to-end (§16.7 step 5), so it goes
                # upstream statelessly like the first one did.
                self._forward_stateless_up(call, response)
            else:
                # Answered after the caller gave up or the ring timeout fired: the
                # caller already has a final answer, so end this leg at once.
                self._hang_up_late(branch, response)
            return
        self._end(call)
        for other in call.branches:
            if other is not branch and other.final is None and other.client is not None:
                if other.ringing:
                    self._send_cancel(other.client)
                else:
                    other.cancel_pending = True
        self._remember_dialog(call, branch, response)
        self._forward_up(call, response)
        call.finish(response.status)

    def _hang_up_late(self, branch: Branch, response: Response) -> None:
        contact = response.headers.get("Contact")
        if contact is None or branch.client is None:
            return
        uri = parse_name_addr(contact).uri
        request = branch.client.request
        number = cseq(request).number
        for method, seq in (("ACK", number), ("BYE", number + 1)):
            items = (
                ("Via", self.core.via(branch.leg.flow)),
                ("Max-Forwards", "70"),
                ("From", request.headers.get("From") or ""),
                ("To", response.headers.get("To") or ""),
                ("Call-ID", request.headers.get("Call-ID") or ""),
                ("CSeq", f"{seq} {method}"),
            )
            self.core.send_stateless(Request(method, uri, Headers(items)), branch.leg.flow)
        log.info("late_answer_ended", leg=branch.leg.label)

    def _forward_stateless_up(self, call: ForkedCall, response: Response) -> None:
        headers = pop_top_via(response.headers)
        if call.swap is not None:
            headers = call.swap.towards_caller(headers)
        self.core.send_stateless(response.with_headers(headers), call.tx.flow)

    def _branch_failed(self, call: ForkedCall) -> None:
        if call.done or any(b.final is None for b in call.branches):
            return
        self._end(call)
        call.on_no_answer(_best([b.final for b in call.branches if b.final is not None]))

    # -- dialogs ------------------------------------------------------------------

    def _remember_dialog(self, call: ForkedCall, branch: Branch, response: Response) -> None:
        call_id = response.headers.get("Call-ID") or ""
        if len(self.dialogs) >= self.max_dialogs:
            log.warning("dialog_table_full", size=len(self.dialogs))
            return
        self.dialogs[call_id] = Dialog(
            call_id=call_id,
            caller_tag=tag_of(call.request.headers.get("From") or "") or "",
            callee_tag=tag_of(response.headers.get("To") or "") or "",
            caller_flow=call.tx.flow,
            callee_flow=branch.leg.flow,
            people=call.people,
            swap=call.swap,
        )
        for person_id in call.people:
            self.line_state(person_id, True)

    def in_dialog(self, request: Request, flow: Flow) -> bool:
        """Forward a request inside a dialog we record-routed; False: no such dialog."""
        dialog = self.dialogs.get(request.headers.get("Call-ID") or "")
        if dialog is None:
            return False
        from_tag = tag_of(request.headers.get("From") or "")
        to_caller = from_tag != dialog.caller_tag
        headers = stamp_received(request, flow).headers
        headers = _drop_our_route(headers, self.core)
        uri = request.uri
        if dialog.swap is not None:
            if to_caller:
                headers = dialog.swap.towards_caller(headers)
                if dialog.swap.original_contact is not None:
                    uri = parse_uri(dialog.swap.original_contact)
            else:
                headers = dialog.swap.towards_far_end(headers)
        target = dialog.caller_flow if to_caller else dialog.callee_flow
        headers = _decrement_max_forwards(headers)
        branch = MAGIC_COOKIE + _derived_branch(request)
        headers = headers.prepend("Via", self.core.via(target, branch))
        self.core.send_stateless(Request(request.method, uri, headers, request.body), target)
        if request.method == "BYE":
            self.end_dialog(dialog)
        return True

    def end_dialog(self, dialog: Dialog) -> None:
        """The line is free at once; the record stays a while for the BYE's answer and any
        retransmission, which still need routing and the identity swap (T1 * 64)."""
        if dialog.ended:
            return
        dialog.ended = True
        for person_id in dialog.people:
            self.line_state(person_id, False)
        self.core.loop.call_later(32.0, self._forget, dialog)

    def _forget(self, dialog: Dialog) -> None:
        if self.dialogs.get(dialog.call_id) is dialog:
            del self.dialogs[dialog.call_id]

    def stray_response(self, response: Response) -> None:
        """A response to an in-dialog request we forwarded statelessly (§16.11)."""
        vias = response.headers.get_all("Via")
        if len(vias) < 2:
            return
        ours = top_via(response)
        if ours.host.strip("[]") != self.core.host or (ours.port or 5060) != self.core.port:
            return
        headers = pop_top_via(response.headers)
        dialog = self.dialogs.get(response.headers.get("Call-ID") or "")
        if dialog is not None and dialog.swap is not None:
            from_tag = tag_of(response.headers.get("From") or "")
            if from_tag == dialog.caller_tag:
                headers = dialog.swap.towards_caller(headers)
            else:
                headers = dialog.swap.towards_far_end(headers)
        self.core.send_stateless(response.with_headers(headers), flow_of_via(vias[1]))


def _best(finals: list[Response]) -> Response | None:
    """§16.7 step 6: a 6xx wins, else the lowest class (4xx before 5xx), 408 last."""
    if not finals:
        return None
    return min(finals, key=lambda r: (r.status < 600, r.status == 408, r.status // 100, r.status))


def _forwarded(
    request: Request, headers: Headers, leg: Leg, core: SipCore, *, record_route: bool
) -> Request:
    headers = _decrement_max_forwards(headers)
    if record_route:
        headers = headers.prepend("Record-Route", core.record_route(leg.flow))
    headers = headers.prepend("Via", core.via(leg.flow))
    return Request(request.method, leg.uri, headers, request.body)


def _decrement_max_forwards(headers: Headers) -> Headers:
    value = headers.get("Max-Forwards")
    number = wire_number(value.strip(), 12) if value is not None else None
    hops = 69 if number is None else number - 1
    return headers.set("Max-Forwards", str(max(hops, 0)))


def _replace_vias(headers: Headers, vias: tuple[str, ...]) -> Headers:
    return headers.set("Via", *vias) if vias else headers


def _drop_our_route(headers: Headers, core: SipCore) -> Headers:
    routes = headers.get_all("Route")
    if not routes:
        return headers
    top = parse_name_addr(routes[0])
    if not core.is_us(top.uri):
        return headers
    return headers.set("Route", *routes[1:]) if len(routes) > 1 else headers.without("Route")


def _derived_branch(request: Request) -> str:
    """The same branch for retransmissions of one request, so downstream sees one transaction."""
    incoming = top_via(request).branch or request.headers.get("Call-ID") or ""
    return hashlib.blake2s(f"{incoming}|{request.method}".encode(), digest_size=8).hexdigest()
