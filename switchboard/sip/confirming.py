"""A ring whose mobile leg must confirm: "press 1 to take the call" (issue 13).

A mobile that is off, busy or out of coverage is answered by the operator's voicemail,
which would take the call away from the switchboard (and from R11's own voicemail). So in
proxy mode the mobile is not proxied: it is called from here (``dialing.py``) with the
switchboard's own SDP, and when it answers it hears the prompt (``media_seam.Confirmation``).
Only a 1 makes it the winner: the phones still ringing are withdrawn, the switchboard
answers the caller itself, and the caller's media is bridged to the mobile's. An answer
without the 1 counts as no answer. The registered phones ring as before, proxied; the
first of them to answer wins and the mobile leg is stopped.

When every leg has failed, or the ring timeout expires, the call goes to the no-answer
outcome (voicemail) exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import structlog

from switchboard.sip.answering import Answerer, Finished
from switchboard.sip.dialing import Dial, OutLeg
from switchboard.sip.media_seam import Confirmation, Program
from switchboard.sip.message import Request, Response
from switchboard.sip.proxy import Leg, Proxy
from switchboard.sip.transaction import ServerTransaction

log = structlog.get_logger("switchboard.sip")


@dataclass(slots=True, eq=False)
class ConfirmedRing:
    tx: ServerTransaction
    request: Request
    confirmation: Confirmation
    program: Program
    on_no_answer: Callable[[], None]
    finished: Finished
    devices_done: bool
    mobile_done: bool = False
    won: bool = False
    over: bool = False
    dial: Dial | None = None
    answered_leg: OutLeg | None = None


class Confirmer:
    def __init__(self, answering: Answerer, proxy: Proxy) -> None:
        self.answering = answering
        self.proxy = proxy
        self.rings: dict[object, ConfirmedRing] = {}

    def ring(
        self,
        tx: ServerTransaction,
        request: Request,
        devices: list[Leg],
        mobile: Leg,
        confirmation: Confirmation,
        *,
        program: Program,
        ring_seconds: float,
        shown: str | None,
        to_user: str,
        people: tuple[str, ...],
        on_no_answer: Callable[[], None],
        finished: Finished,
        device_finish: Callable[[int], None],
    ) -> None:
        """Ring ``devices`` (proxied) and ``mobile`` (confirmed) together."""
        ring = ConfirmedRing(
            tx, request, confirmation, program, on_no_answer, finished, devices_done=not devices
        )
        self.rings[tx.key] = ring
        core = self.answering.core
        if devices:

            def devices_failed(_best: Response | None) -> None:
                ring.devices_done = True
                if _best is None:  # the ring timeout: the mobile stops too
                    self._stop_mobile(ring)
                self._maybe_no_answer(ring)

            def device_answered(status: int) -> None:
                if 200 <= status < 300:
                    ring.won = True
                    self._stop_mobile(ring)
                    self._forget(ring)
                device_finish(status)

            self.proxy.fork(
                tx,
                request,
                devices,
                ring_seconds,
                on_no_answer=devices_failed,
                finish=device_answered,
                people=people,
            )
        else:
            core.reply(tx, 100, "Trying")
        ring.dial = self.answering.dialer.dial(
            [mobile],
            caller=shown,
            to_user=to_user,
            offer=confirmation.offer,
            ring_seconds=ring_seconds,
            on_answered=lambda leg, sdp: self._mobile_answered(ring, leg, sdp),
            on_failed=lambda why: self._mobile_failed(ring, why),
            on_bye=lambda: self._mobile_hung_up(ring),
            on_ringing=lambda: self._ringing(ring),
        )

    def _ringing(self, ring: ConfirmedRing) -> None:
        """The caller hears ringing once the mobile rings (a proxied phone's own 180 is
        forwarded by the proxy; one more is harmless)."""
        if not (ring.won or ring.over):
            self.answering.core.reply(ring.tx, 180, "Ringing")

    # -- the mobile leg ---------------------------------------------------------------

    def _mobile_answered(self, ring: ConfirmedRing, leg: OutLeg, sdp: bytes) -> None:
        if ring.won or ring.over:
            self.answering.dialer.hang_up(leg)
            return
        ring.answered_leg = leg
        ring.confirmation.answered(sdp, lambda pressed: self._decided(ring, leg, pressed))

    def _decided(self, ring: ConfirmedRing, leg: OutLeg, pressed: bool) -> None:
        if ring.won or ring.over or not pressed:
            if not pressed:
                log.info("mobile_not_confirmed")
            self.answering.dialer.hang_up(leg)
            ring.confirmation.close()
            ring.mobile_done = True
            self._maybe_no_answer(ring)
            return
        ring.won = True
        self.proxy.withdraw(ring.tx)
        self._forget(ring)
        log.info("mobile_confirmed")
        call = self.answering.answer(ring.tx, ring.request, ring.program, ring.finished)
        if call is None:  # the caller could not be answered (no port, bad SDP)
            self.answering.dialer.hang_up(leg)
            ring.confirmation.close()
            return
        call.dial = ring.dial

    def _mobile_failed(self, ring: ConfirmedRing, why: str) -> None:
        log.info("mobile_leg_failed", why=why)
        ring.mobile_done = True
        ring.confirmation.close()
        self._maybe_no_answer(ring)

    def _mobile_hung_up(self, ring: ConfirmedRing) -> None:
        """The mobile hung up: before the 1 it counts as no answer; after, it ends the
        caller's call (the Answerer's call holds the dial)."""
        if not ring.won:
            ring.mobile_done = True
            ring.confirmation.close()
            self._maybe_no_answer(ring)
            return
        for call in list(self.answering.calls.values()):
            if call.dial is ring.dial:
                self.answering.hang_up(call, "the mobile hung up")

    def _stop_mobile(self, ring: ConfirmedRing) -> None:
        ring.mobile_done = True
        if ring.dial is not None:
            self.answering.dialer.give_up(ring.dial)
        ring.confirmation.close()

    # -- the end ----------------------------------------------------------------------

    def _maybe_no_answer(self, ring: ConfirmedRing) -> None:
        if ring.won or ring.over or not (ring.devices_done and ring.mobile_done):
            return
        ring.over = True
        self._forget(ring)
        ring.on_no_answer()

    def caller_cancelled(self, tx: ServerTransaction) -> bool:
        """The caller gave up while we rang: the mobile leg stops too (the proxy answers
        487 for a ring with phones; a mobile-only ring is answered here)."""
        ring = self.rings.get(tx.key)
        if ring is None:
            return False
        ring.over = True
        self._forget(ring)
        self._stop_mobile(ring)
        if not self.proxy.caller_cancelled(tx):
            self.answering.core.reply(tx, 487, "Request Terminated")
            ring.finished(487, "cancelled")
        return True

    def _forget(self, ring: ConfirmedRing) -> None:
        if self.rings.get(ring.tx.key) is ring:
            del self.rings[ring.tx.key]
