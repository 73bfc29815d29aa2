"""The switchboard answering a call itself: the UAS side of announce and voicemail.

When the routing core says *announce* or *voicemail* (R10-R13), or a ring goes
unanswered, the caller must hear something, in redirect mode too: a redirect server that
cannot redirect anywhere useful answers. This module is the SIP half of that (RFC 3261
§13.3, §12, §15): the ``200 OK`` with the media side's SDP, its retransmission until the
ACK (§13.3.1.4), a late offer's answer in the ACK (RFC 3264), BYE in both directions, and
the in-dialog requests phones send meanwhile. What is heard, and when the call ends,
belongs to the ``MediaSession`` (``media_seam.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from switchboard.sip.core import ALLOW, SipCore
from switchboard.sip.dialing import Dial, Dialer, OutLeg
from switchboard.sip.flow import Flow
from switchboard.sip.grammar import ParseError
from switchboard.sip.media_seam import (
    MediaRefusedError,
    MediaService,
    MediaSession,
    Program,
    reason_header,
)
from switchboard.sip.message import Headers, Request, SipUri
from switchboard.sip.parse import parse_name_addr
from switchboard.sip.proxy import Leg
from switchboard.sip.transaction import T1, T2, ServerTransaction

log = structlog.get_logger("switchboard.sip")

MAX_ANSWERED = 10_000
"""Calls answered at once; the RTP port range is the real bound, this one is a guard."""

Finished = Callable[[int, str], None]
"""Told once how an answered call went: the status sent, and a detail for the log."""


@dataclass(slots=True, eq=False)
class AnsweredCall:
    """One dialog in which we are the UAS (§12.1.1)."""

    call_id: str
    local_tag: str
    remote_from: str
    """The caller's From, tag and all: our To in requests we send (§12.2.1.1)."""
    local_to: str
    """Our side as the caller wrote it in To, with our tag: our From in requests we send."""
    remote_target: SipUri
    route_set: tuple[str, ...]
    flow: Flow
    tx: ServerTransaction
    session: MediaSession
    late_offer: bool
    finished: Finished
    cseq: int = 0
    confirmed: bool = False
    ended: bool = False
    retransmit: asyncio.TimerHandle | None = None
    interval: float = T1
    deadline: float = 0.0
    caller: str | None = None
    """The number the called side of a transfer is shown (None: anonymous, R18)."""
    dial: Dial | None = None


class Answerer:
    """Answers calls for the media side; owns the dialogs it creates."""

    def __init__(
        self,
        core: SipCore,
        media: MediaService,
        targets: Callable[[str], list[Leg]] | None = None,
        ring_seconds: float = 25.0,
    ) -> None:
        self.core = core
        self.media = media
        self.targets = targets
        """Where an extension rings now (the routing core's answer as legs); None: no
        transfers."""
        self.ring_seconds = ring_seconds
        self.dialer = Dialer(core)
        self.calls: dict[str, AnsweredCall] = {}

    # -- answering ------------------------------------------------------------------

    def answer(
        self,
        tx: ServerTransaction,
        request: Request,
        program: Program,
        finished: Finished,
        *,
        shown: str | None = None,
    ) -> AnsweredCall | None:
        """Answer ``request`` with media for ``program``, or refuse with what media said
        (None). ``shown``: the caller's number for whoever the caller is connected to."""
        call_id = request.headers.get("Call-ID") or ""
        if len(self.calls) >= MAX_ANSWERED or call_id in self.calls:
            self._refuse(tx, MediaRefusedError(503, "Service Unavailable", "busy", 5), finished)
            return None
        offer = request.body or None
        try:
            session = self.media.open(offer, program)
        except MediaRefusedError as refused:
            self._refuse(tx, refused, finished)
            return None
        contact = request.headers.get("Contact")
        try:
            target = parse_name_addr(contact).uri if contact else None
        except ParseError:
            target = None
        if target is None:
            session.close("no contact")
            self._refuse(tx, MediaRefusedError(400, "Bad Request - Contact required"), finished)
            return None
        tag = self.core.new_token(4)
        call = AnsweredCall(
            call_id=call_id,
            local_tag=tag,
            remote_from=request.headers.get("From") or "",
            local_to=f"{request.headers.get('To') or ''};tag={tag}",
            remote_target=target,
            route_set=tuple(request.headers.get_all("Record-Route")),
            flow=tx.flow,
            tx=tx,
            session=session,
            late_offer=offer is None,
            finished=finished,
            caller=shown,
        )
        self.calls[call_id] = call
        host = f"[{self.core.host}]" if ":" in self.core.host else self.core.host
        headers = (
            ("Contact", f"<sip:{host}:{self.core.port};transport={tx.flow.transport}>"),
            ("Allow", ALLOW),
            ("Content-Type", "application/sdp"),
        )
        self.core.reply(tx, 200, "OK", headers, to_tag=tag, body=session.local_sdp)
        finished(200, "answered")
        if not tx.flow.reliable:
            call.deadline = self.core.now() + 64 * T1
            call.retransmit = self.core.loop.call_later(T1, self._retransmit, call)
        else:
            call.retransmit = self.core.loop.call_later(64 * T1, self._no_ack, call)
        return call

    def hang_up(self, call: AnsweredCall, why: str) -> None:
        """End an answered call from our side (BYE)."""
        self._bye(call, why)

    def _refuse(
        self, tx: ServerTransaction, refused: MediaRefusedError, finished: Finished
    ) -> None:
        headers = [("Reason", reason_header(refused))] if refused.text else []
        if refused.retry_after is not None:
            headers.append(("Retry-After", str(refused.retry_after)))
        self.core.reply(tx, refused.status, refused.reason, tuple(headers))
        finished(refused.status, refused.text)

    def _retransmit(self, call: AnsweredCall) -> None:
        """§13.3.1.4: the 2xx again at T1, 2T1, ... capped at T2, until the ACK."""
        if call.confirmed or call.ended:
            return
        if self.core.now() >= call.deadline:
            self._no_ack(call)
            return
        last = call.tx.last
        if last is not None:
            self.core.transport.send(last, call.flow)
        call.interval = min(call.interval * 2, T2)
        call.retransmit = self.core.loop.call_later(call.interval, self._retransmit, call)

    def _no_ack(self, call: AnsweredCall) -> None:
        if call.confirmed or call.ended:
            return
        log.info("answered_call_no_ack", call_id_hash=hash(call.call_id) & 0xFFFF)
        self._bye(call, "no ACK")

    # -- in-dialog ------------------------------------------------------------------

    def in_dialog(self, request: Request, tx: ServerTransaction | None) -> bool:
        """Handle a request inside one of our dialogs; False: not ours. ``tx`` is None
        for an ACK (it has no transaction of its own)."""
        call = self.calls.get(request.headers.get("Call-ID") or "")
        if call is None or not _to_tag_is(request, call.local_tag):
            return False
        method = request.method
        if method == "ACK":
            self._acknowledged(call, request)
            return True
        if tx is None:
            return True
        if method == "BYE":
            self.core.reply(tx, 200, "OK")
            self._end(call, "caller hung up")
        elif method in ("INVITE", "UPDATE"):
            # A session refresh or hold: we keep sending as negotiated (RFC 3264 §8 allows
            # an unchanged answer); the SDP version does not move since nothing changed.
            headers = (("Content-Type", "application/sdp"),) if request.body else ()
            body = call.session.local_sdp if request.body else b""
            self.core.reply(tx, 200, "OK", headers, body=body)
        elif method == "INFO":
            digit = _info_digit(request)
            self.core.reply(tx, 200, "OK")
            if digit is not None and call.confirmed:
                call.session.dtmf(digit)
        elif method in ("OPTIONS", "NOTIFY"):
            self.core.reply(tx, 200, "OK")
        else:
            self.core.reply(tx, 405, "Method Not Allowed", (("Allow", ALLOW),))
        return True

    def _acknowledged(self, call: AnsweredCall, request: Request) -> None:
        if call.confirmed or call.ended:
            return  # a retransmitted ACK
        call.confirmed = True
        if call.retransmit is not None:
            call.retransmit.cancel()
            call.retransmit = None
        if call.late_offer:
            try:
                call.session.remote_answer(request.body)
            except MediaRefusedError as refused:
                log.info("late_offer_refused", problem=refused.text or refused.reason)
                self._bye(call, "unusable answer in ACK")
                return
        call.session.start(_Controls(self, call))

    # -- connecting the caller to someone (0: the reception) ----------------------------

    def transfer(self, call: AnsweredCall, extension: str, done: Callable[[bool], None]) -> None:
        """Ring ``extension``'s targets from here and bridge the first that answers."""
        legs = self.targets(extension) if self.targets is not None else []
        if call.ended or call.dial is not None or not legs:
            done(False)
            return
        try:
            offer = call.session.second_leg_offer()
        except MediaRefusedError:
            done(False)
            return

        def answered(leg: OutLeg, answer: bytes) -> None:
            if call.ended:
                self.dialer.hang_up(leg)
                return
            try:
                call.session.connect_second_leg(answer)
            except MediaRefusedError as refused:
                log.info("transfer_refused", problem=refused.text or refused.reason)
                self.dialer.hang_up(leg)
                call.dial = None
                done(False)
                return
            log.info("call_transferred", extension=extension, leg=leg.target.label)
            done(True)

        def failed(why: str) -> None:
            call.dial = None
            call.session.drop_second_leg()
            log.info("transfer_failed", extension=extension, why=why)
            done(False)

        call.dial = self.dialer.dial(
            legs,
            caller=call.caller,
            to_user=extension,
            offer=offer,
            ring_seconds=self.ring_seconds,
            on_answered=answered,
            on_failed=failed,
            on_bye=lambda: self._bye(call, "the far end hung up"),
        )

    def cancelled(self, tx: ServerTransaction) -> bool:
        """A CANCEL for an INVITE we answered: too late to matter (§9.2); True if ours."""
        return any(call.tx is tx for call in self.calls.values())

    # -- ending ---------------------------------------------------------------------

    def _bye(self, call: AnsweredCall, why: str) -> None:
        """We end the call: BYE to the caller (§15.1.1) along the INVITE's flow."""
        if call.ended:
            return
        call.cseq += 1
        items: list[tuple[str, str]] = [
            ("Via", self.core.via(call.flow)),
            ("Max-Forwards", "70"),
        ]
        items += [("Route", route) for route in call.route_set]
        items += [
            ("From", call.local_to),
            ("To", call.remote_from),
            ("Call-ID", call.call_id),
            ("CSeq", f"{call.cseq} BYE"),
        ]
        bye = Request("BYE", call.remote_target, Headers(tuple(items)))
        _, sends = self.core.layer.send_request(bye, call.flow, self.core.now(), call)
        self.core.send(sends)
        self._end(call, why)

    def _end(self, call: AnsweredCall, why: str) -> None:
        if call.ended:
            return
        call.ended = True
        if call.retransmit is not None:
            call.retransmit.cancel()
            call.retransmit = None
        self.calls.pop(call.call_id, None)
        if call.dial is not None:
            self.dialer.give_up(call.dial)
        try:
            call.session.close(why)
        except Exception:  # one call's media failing must not strand the dialog table
            log.exception("media_close_failed")

    def close_all(self) -> None:
        """Shutting down: every answered call gets its BYE."""
        for call in list(self.calls.values()):
            self._bye(call, "shutting down")


class _Controls:
    """What one call's media may ask of it (``media_seam.CallControls``)."""

    def __init__(self, answerer: Answerer, call: AnsweredCall) -> None:
        self._answerer = answerer
        self._call = call

    def hang_up(self, why: str) -> None:
        self._answerer._bye(self._call, why)

    def transfer(self, extension: str, done: Callable[[bool], None]) -> None:
        self._answerer.transfer(self._call, extension, done)


def _to_tag_is(request: Request, tag: str) -> bool:
    to = request.headers.get("To") or ""
    return f"tag={tag}" in to


def _info_digit(request: Request) -> str | None:
    """A key from SIP INFO: ``application/dtmf-relay`` (``Signal=1``) or ``application/dtmf``."""
    kind = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    text = request.body.decode("ascii", "replace")
    if kind == "application/dtmf-relay":
        for line in text.splitlines():
            name, _, value = line.partition("=")
            if name.strip().lower() == "signal":
                text = value
                break
        else:
            return None
    elif kind != "application/dtmf":
        return None
    digit = text.strip()
    return digit if len(digit) == 1 and digit in "0123456789*#ABCD" else None
