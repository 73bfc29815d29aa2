"""The switchboard calling out on a caller's behalf: the B leg of a connected call.

When a caller the switchboard answered presses 0, the reception's phones are called
from here (RFC 3261 §13.2, as a UAC): an INVITE with the switchboard's own SDP offer to
every target in parallel, the first 2xx wins (ACKed end to end, §13.2.2.4), the others are
CANCELled (and a late 2xx is ACKed and sent BYE at once), and a ring timeout gives up.
Once answered the leg is a dialog of its own: its BYE ends the caller's call too, and the
caller's BYE ends it. Media is bridged by the media service; this module only signals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from switchboard.sip.core import SipCore
from switchboard.sip.flow import Flow
from switchboard.sip.grammar import ParseError
from switchboard.sip.message import Headers, Request, Response, SipUri
from switchboard.sip.parse import cseq, parse_name_addr
from switchboard.sip.proxy import Leg
from switchboard.sip.transaction import ClientEvent, ClientTransaction, ServerTransaction

log = structlog.get_logger("switchboard.sip")


@dataclass(slots=True, eq=False)
class OutLeg:
    """One target rung; after its 2xx, one side of a dialog we are the UAC of."""

    dial: Dial
    target: Leg
    call_id: str
    local_from: str
    to: str
    invite: Request
    client: ClientTransaction | None = None
    ringing: bool = False
    cancel_pending: bool = False
    failed: bool = False
    remote_to: str = ""
    remote_target: SipUri | None = None
    route_set: tuple[str, ...] = ()
    cseq: int = 1
    ended: bool = False


@dataclass(slots=True, eq=False)
class Dial:
    on_answered: Callable[[OutLeg, bytes], None]
    on_failed: Callable[[str], None]
    on_bye: Callable[[], None]
    on_ringing: Callable[[], None] | None = None
    legs: list[OutLeg] = field(default_factory=list)
    answered: OutLeg | None = None
    done: bool = False
    timer: asyncio.TimerHandle | None = None


class Dialer:
    def __init__(self, core: SipCore) -> None:
        self.core = core
        self.dialogs: dict[str, OutLeg] = {}

    def dial(
        self,
        targets: list[Leg],
        *,
        caller: str | None,
        to_user: str,
        offer: bytes,
        ring_seconds: float,
        on_answered: Callable[[OutLeg, bytes], None],
        on_failed: Callable[[str], None],
        on_bye: Callable[[], None],
        on_ringing: Callable[[], None] | None = None,
    ) -> Dial:
        """Ring every target with ``offer``; ``on_answered`` once with the answer's SDP,
        or ``on_failed`` once; ``on_bye`` when the answered leg hangs up; ``on_ringing``
        once when a target first says it rings (18x)."""
        dial = Dial(on_answered, on_failed, on_bye, on_ringing)
        core = self.core
        host = f"[{core.host}]" if ":" in core.host else core.host
        shown = caller if caller and caller.replace("+", "").isdigit() else "anonymous"
        for target in targets:
            call_id = core.new_call_id()
            local_from = f"<sip:{shown}@{host}>;tag={core.new_token(4)}"
            to = f"<sip:{to_user}@{host}>"
            items = (
                ("Via", core.via(target.flow)),
                ("Max-Forwards", "70"),
                ("From", local_from),
                ("To", to),
                ("Call-ID", call_id),
                ("CSeq", "1 INVITE"),
                ("Contact", f"<sip:{host}:{core.port};transport={target.flow.transport}>"),
                ("Content-Type", "application/sdp"),
            )
            invite = Request("INVITE", target.uri, Headers(items), offer)
            leg = OutLeg(dial, target, call_id, local_from, to, invite)
            dial.legs.append(leg)
            leg.client, sends = core.layer.send_request(invite, target.flow, core.now(), leg)
            core.send(sends)
        if not dial.legs:
            dial.done = True
            on_failed("nothing to ring")
            return dial
        dial.timer = core.loop.call_later(ring_seconds, self._ring_timeout, dial)
        return dial

    # -- answers --------------------------------------------------------------------

    def on_event(self, event: ClientEvent) -> bool:
        """A response to one of our INVITEs (or BYEs); False: not ours."""
        owner = event.transaction.owner
        if not isinstance(owner, OutLeg):
            return False
        leg = owner
        response = event.response
        if event.transaction.request.method != "INVITE":
            return True  # our BYE's answer: nothing more to do
        if response is None:  # no answer at all (timer B)
            self._leg_failed(leg, "timeout")
            return True
        status = response.status
        if status < 200:
            leg.ringing = True
            ringing = leg.dial.on_ringing
            if status != 100 and ringing is not None and not leg.dial.done:
                leg.dial.on_ringing = None
                ringing()
            if leg.cancel_pending or leg.dial.done:
                leg.cancel_pending = False
                self._cancel(leg)
            return True
        if status < 300:
            self._answered(leg, response)
            return True
        self._leg_failed(leg, f"{status} {response.reason}")
        return True

    def _answered(self, leg: OutLeg, response: Response) -> None:
        dial = leg.dial
        self._remember(leg, response)
        self._ack(leg)
        if dial.answered is leg:
            return  # a 2xx retransmission: ACKed again, nothing else
        if dial.done:
            self._bye(leg)  # answered after another, or after giving up
            return
        dial.done = True
        dial.answered = leg
        if dial.timer is not None:
            dial.timer.cancel()
        for other in dial.legs:
            if other is not leg:
                self._stop_ringing(other)
        self.dialogs[leg.call_id] = leg
        dial.on_answered(leg, response.body)

    def _remember(self, leg: OutLeg, response: Response) -> None:
        leg.remote_to = response.headers.get("To") or leg.to
        contact = response.headers.get("Contact")
        try:
            leg.remote_target = parse_name_addr(contact).uri if contact else leg.target.uri
        except ParseError:
            leg.remote_target = leg.target.uri
        leg.route_set = tuple(reversed(response.headers.get_all("Record-Route")))

    def _leg_failed(self, leg: OutLeg, why: str) -> None:
        leg.failed = True
        dial = leg.dial
        if dial.done or any(not other.failed for other in dial.legs):
            return
        dial.done = True
        if dial.timer is not None:
            dial.timer.cancel()
        dial.on_failed(why)

    def _ring_timeout(self, dial: Dial) -> None:
        if dial.done:
            return
        dial.done = True
        for leg in dial.legs:
            self._stop_ringing(leg)
        dial.on_failed("no answer")

    def give_up(self, dial: Dial) -> None:
        """The caller went away while the legs rang: stop them."""
        if dial.timer is not None:
            dial.timer.cancel()
        if not dial.done:
            dial.done = True
            for leg in dial.legs:
                self._stop_ringing(leg)
        elif dial.answered is not None:
            self.hang_up(dial.answered)

    def _stop_ringing(self, leg: OutLeg) -> None:
        if leg.failed or leg.client is None:
            return
        if leg.ringing:
            self._cancel(leg)
        else:
            leg.cancel_pending = True  # §9.1: CANCEL only after a provisional response

    # -- requests we send -----------------------------------------------------------

    def _in_dialog(self, leg: OutLeg, method: str, number: int) -> Request:
        items: list[tuple[str, str]] = [
            ("Via", self.core.via(leg.target.flow)),
            ("Max-Forwards", "70"),
        ]
        items += [("Route", route) for route in leg.route_set]
        items += [
            ("From", leg.local_from),
            ("To", leg.remote_to),
            ("Call-ID", leg.call_id),
            ("CSeq", f"{number} {method}"),
        ]
        return Request(method, leg.remote_target or leg.target.uri, Headers(tuple(items)))

    def _ack(self, leg: OutLeg) -> None:
        """§13.2.2.4: the ACK of a 2xx is a request of its own, end to end."""
        self.core.send_stateless(self._in_dialog(leg, "ACK", 1), leg.target.flow)

    def _cancel(self, leg: OutLeg) -> None:
        client = leg.client
        if client is None:
            return
        h = client.request.headers
        items = (
            ("Via", h.get_all("Via")[0]),
            ("Max-Forwards", "70"),
            ("From", h.get("From") or ""),
            ("To", h.get("To") or ""),
            ("Call-ID", h.get("Call-ID") or ""),
            ("CSeq", f"{cseq(client.request).number} CANCEL"),
        )
        cancel = Request("CANCEL", client.request.uri, Headers(items))
        _, sends = self.core.layer.send_request(cancel, client.flow, self.core.now(), None)
        self.core.send(sends)

    def _bye(self, leg: OutLeg) -> None:
        leg.cseq += 1
        bye = self._in_dialog(leg, "BYE", leg.cseq)
        _, sends = self.core.layer.send_request(bye, leg.target.flow, self.core.now(), leg)
        self.core.send(sends)

    def hang_up(self, leg: OutLeg) -> None:
        """We end the answered leg (the caller hung up)."""
        if leg.ended:
            return
        leg.ended = True
        self.dialogs.pop(leg.call_id, None)
        self._bye(leg)

    # -- requests we receive --------------------------------------------------------

    def in_dialog(self, request: Request, tx: ServerTransaction | None, flow: Flow) -> bool:
        """A request inside an answered leg (its BYE, a re-INVITE); False: not ours."""
        leg = self.dialogs.get(request.headers.get("Call-ID") or "")
        if leg is None:
            return False
        if tx is None:
            return True  # an ACK: nothing to do
        if request.method == "BYE":
            self.core.reply(tx, 200, "OK")
            leg.ended = True
            self.dialogs.pop(leg.call_id, None)
            leg.dial.on_bye()
        elif request.method == "INVITE":
            # A new offer on the leg (hold, codec change): the bridged session stays as
            # it is (RFC 3261 §14.2: a 488 leaves the session unchanged).
            self.core.reply(tx, 488, "Not Acceptable Here")
        else:
            self.core.reply(tx, 200, "OK")
        return True
