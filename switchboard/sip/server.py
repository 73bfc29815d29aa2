"""The SIP server: datagrams and streams in, transactions, authentication, dispatch.

What happens to a message, in order:
1. Per-source admission before parsing (``admission``: rate limit, flood bans, digest
   blocks), so a flood from one address cannot starve others.
2. An ACK of one of our non-2xx final answers is absorbed by its transaction from its top
   Via alone (all RFC 3261 §17.2.3 matches on); anything else is parsed in full. A
   malformed request that can still be addressed gets 400/505/513, else is dropped. A
   request's top Via gets ``received``/``rport`` where they say something (§18.2.1,
   RFC 3581), so every answer carries them.
3. Transactions absorb retransmissions and hop-by-hop ACKs (RFC 3261 §17).
4. Checks every request gets: Max-Forwards (483), Require/Proxy-Require (420), method
   (501 for unknown, 405 for ones we do not serve).
5. Who is asking: trusted peers (the trunk, configured CIDRs) pass; everyone else is
   challenged with digest (401 for REGISTER, 407 otherwise) *before* any user or extension
   is looked at, so known and unknown extensions get the same answers (no enumeration).
6. REGISTER -> registrar, OPTIONS -> 200, INVITE -> call handling, MESSAGE -> SMS,
   requests inside a dialog we record-routed -> the proxy.

With ``serve --workers N`` a step 0 comes first: a message whose Call-ID another worker
owns is passed to it, raw, and handled there as if read there (``steering``); failed
digests are told to every worker, so a source guessing passwords is blocked wherever the
kernel sends its packets.
"""

from __future__ import annotations

import asyncio
import math
import os
import socket
from collections.abc import Callable

import structlog

from switchboard.calls.recorder import CallRecorder
from switchboard.directory.model import Person
from switchboard.events import BindingsChanged, Event
from switchboard.live.engine import Engine
from switchboard.routing.presentation import OutboundKind
from switchboard.settings.sip import SipSettings, is_ip_address
from switchboard.sip.admission import Admission
from switchboard.sip.binding_keeper import BindingKeeper
from switchboard.sip.build import response_to
from switchboard.sip.calls import REFUSED_REASON, CallHandler, dialled_user
from switchboard.sip.core import ALLOW, SUPPORTED, SipCore, stamp_arrival
from switchboard.sip.digest import DigestAuthenticator, Failure
from switchboard.sip.flow import Flow
from switchboard.sip.identity import asserted_identity, is_outside
from switchboard.sip.media_seam import MediaService, NoMedia
from switchboard.sip.message import Headers, Request, Response
from switchboard.sip.mwi import MessageWaiting
from switchboard.sip.parse import (
    ParseError,
    contacts,
    cseq,
    expires,
    format_name_addr,
    format_uri,
    from_,
    max_forwards,
    parse_message,
    plain_ack_via,
    serialise,
    to,
    wire_number,
)
from switchboard.sip.proxy import Leg, Proxy
from switchboard.sip.registrar import Registrar
from switchboard.sip.steering import Steering
from switchboard.sip.transaction import (
    Arrival,
    ClientEvent,
    ServerTransaction,
    State,
    TransactionLayer,
    server_key,
)
from switchboard.sip.transport import SipTransport, TransportLimits
from switchboard.sip.trunk import TrunkAddresses
from switchboard.sip.trunk_dns import Rfc3263, Target
from switchboard.workers.relay import Relay

log = structlog.get_logger("switchboard.sip")
RETRY_AFTER = 5
"""Seconds a client refused for the cap is asked to wait."""
OVERLOAD_LOG_EVERY = 10.0
"""Seconds between two log lines about refusals for the cap (their count is in each)."""

KNOWN_METHODS = frozenset(
    {
        "INVITE",
        "ACK",
        "CANCEL",
        "BYE",
        "OPTIONS",
        "REGISTER",
        "MESSAGE",
        "INFO",
        "UPDATE",
        "PRACK",
        "NOTIFY",
        "SUBSCRIBE",
        "REFER",
        "PUBLISH",
    }
)
IN_DIALOG_ONLY = frozenset({"BYE", "INFO", "UPDATE", "PRACK", "NOTIFY"})
TIMER_TICKS = 100
"""Transaction timers fire on a grid of 1/TIMER_TICKS seconds (never early)."""


class SipServer:
    """Owns the SIP edge's state; ``run`` serves until cancelled."""

    def __init__(
        self,
        settings: SipSettings,
        engine: Engine,
        media: MediaService | None = None,
        line_state: Callable[[str, bool], None] | None = None,
        recorder: CallRecorder | None = None,
        keeper: BindingKeeper | None = None,
        on_overload: Callable[[], None] | None = None,
        relay: Relay | None = None,
    ) -> None:
        """``on_overload`` hears of each request refused for the cap (the metrics)."""
        self.settings = settings
        self._on_overload = on_overload
        self._overloaded_at = 0.0
        self._overload_refused = 0
        self.engine = engine
        self.line_state = line_state
        self.recorder = recorder
        self.keeper = keeper
        self.media: MediaService = media or NoMedia()
        self.layer = TransactionLayer()
        self.registrar = Registrar()
        if keeper is not None:
            keeper.attach(self.registrar)
        self.steering = Steering(relay) if relay is not None else None
        """With workers: who handles what (None: this is the only process)."""
        # With workers the nonce key is theirs together: a phone answers a challenge from
        # one worker in a request (a new Call-ID) that another handles.
        secret = relay.spec.secret if relay is not None and relay.spec.secret else os.urandom(32)
        self.auth = DigestAuthenticator(
            settings.realm, secret, algorithms=settings.digest_algorithms
        )
        self.admission = Admission(settings, engine.short_numbers.emergency_forms())
        self.failures = self.admission.failures
        self.trunk: TrunkAddresses | None = None
        """A trunk given by name: its addresses, looked up while serving (``run``)."""
        self.mwi: MessageWaiting | None = None
        """The message-waiting light; made with the rest of the SIP edge in ``run``."""
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self.address: tuple[str, int] | None = None

    # -- lifecycle ------------------------------------------------------------------

    async def run(self, ready: asyncio.Future[tuple[str, int]] | None = None) -> None:
        limits = TransportLimits(tcp_idle=float(self.settings.tcp_idle))
        steering = self.steering
        transport = SipTransport(
            self.receive if steering is None else steering.steered(self.receive),
            limits,
            admit=self.admission.admit,
            elsewhere=steering,
        )
        listen = self.settings.listen
        try:
            self.address = await transport.bind(
                listen.host, listen.port, reuse_port=steering is not None
            )
        except OSError as exc:
            if ready is not None and not ready.done():
                ready.set_exception(exc)
            raise
        advertise = self.settings.advertise
        ours = (advertise.host, advertise.port) if advertise else self.address
        owns = steering.owns if steering is not None else None
        self.core = SipCore(self.layer, transport, ours, self._arm, owns)
        self.proxy = Proxy(self.core, self._line_state)
        self.calls = CallHandler(
            self.core,
            self.engine,
            self.registrar,
            self.settings,
            self.media,
            self.proxy,
            recorder=self.recorder,
        )
        undo: list[Callable[[], None]] = []
        try:
            first = steering is None or steering.index == 0
            self.mwi = MessageWaiting(self.core, self.engine, self.registrar, unsolicited=first)
            await self.mwi.load()
            if self.keeper is not None:
                # Before serving: the first call after a restart finds the phones.
                loop_now = asyncio.get_running_loop().time()
                await self.keeper.restore(self.registrar, loop_now, self._may_register)
            trunk = self.settings.trunk
            if trunk is not None and not is_ip_address(trunk.host):
                family = socket.AF_INET if ":" not in self.address[0] else socket.AF_INET6
                self.trunk = TrunkAddresses(
                    trunk,
                    family=family,
                    resolve=Rfc3263(self.settings.name_server),
                    on_change=self._trunk_moved,
                )
                await self.trunk.refresh()  # before serving: the first call finds it
            if steering is not None:
                undo += steering.join(self.receive, transport, self.auth, self.failures)
            # Only now that everything a message needs exists: a request read earlier met
            # a half-built server and was lost (its transaction began, its answer never).
            await transport.serve()
            log.info("sip_listening", address=f"{self.address[0]}:{self.address[1]}")
            if ready is not None and not ready.done():
                ready.set_result(self.address)
            async with asyncio.TaskGroup() as group:
                if self.trunk is not None:
                    group.create_task(self.trunk.run())
                await asyncio.Event().wait()  # until cancelled (SIGTERM unwinds it)
        finally:
            for step in undo:
                step()
            self.calls.answering.close_all()
            if self._timer is not None:
                self._timer.cancel()
            await transport.close()
            log.info("sip_stopped")

    def registered_contacts(self, extension: str) -> tuple[str, ...]:
        """The Contact URIs of the phones registered to ``extension`` here, most preferred
        first: what a 302 of ours lists, for the HTTP route answer (``sip/front.py``)."""
        if self.address is None:
            return ()  # not serving yet: nothing is registered
        now = asyncio.get_running_loop().time()
        return tuple(format_uri(b.contact.uri) for b in self.registrar.bindings(extension, now))

    def voicemail_changed(self, event: Event) -> None:
        """A bus listener (``app.py``): voicemail news for the message-waiting light."""
        if self.mwi is not None:
            self.mwi.changed(event)

    def bindings_changed(self, event: Event) -> None:
        """A bus listener (``app.py``): another worker's registrations, from the feed."""
        if isinstance(event, BindingsChanged) and self.keeper is not None:
            self.keeper.apply(event, self.registrar, asyncio.get_running_loop().time())

    def _trunk_moved(self, targets: tuple[Target, ...]) -> None:
        """The trunk's name has new targets: requests from each address are trusted (and
        no longer from the old ones), and calls for mobiles go to the first."""
        self.admission.trust_trunk(dict.fromkeys(address for address, _ in targets))
        self.calls.trunk_moved(*targets[0])

    def _may_register(self, user: str) -> bool:
        """Whether ``user`` has a SIP credential now (a saved binding needs one)."""
        return self.engine.credential(user) is not None

    def _line_state(self, person_id: str, in_call: bool) -> None:
        if self.line_state is not None:
            self.line_state(person_id, in_call)

    # -- timers ---------------------------------------------------------------------

    def _arm(self) -> None:
        """After each message: wake earlier only if a timer started sooner than the one
        we wait for (checked per message, so it must cost next to nothing)."""
        self._arm_at(self.layer.take_new_deadline())

    def _arm_at(self, deadline: float | None) -> None:
        if deadline is None:
            return
        # On a 10 ms grid: SIP's timers count in half seconds (T1), and at a thousand
        # calls a second each transaction's end would otherwise be a wake-up of its own.
        deadline = math.ceil(deadline * TIMER_TICKS) / TIMER_TICKS
        if self._timer_at is not None and self._timer_at <= deadline:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = self.core.loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._timer = self._timer_at = None
        sends, events = self.layer.fire(self.core.loop.time())
        for s in sends:
            self.core.transport.send(s.data, s.flow)
        for event in events:
            self._client_event(event)
        self.layer.take_new_deadline()  # covered by the full look that follows
        self._arm_at(self.layer.next_deadline())

    # -- input ----------------------------------------------------------------------

    def receive(self, data: bytes, flow: Flow, now: float) -> None:
        if data[:4] == b"ACK ":
            via = plain_ack_via(data)
            if via is not None and self.layer.absorb_ack(via, flow, now):
                self._arm()
                return  # the ACK of a final answer of ours: nothing more to read
        elif not data.strip(b"\r\n"):
            return  # a keep-alive (RFC 5626 §3.5.1)
        try:
            message = parse_message(data)
        except ParseError as exc:
            self._malformed(exc, flow)
            return
        try:
            if isinstance(message, Response):
                self._response(message, now)
            else:
                if message.method != "ACK":  # answered by nothing: nothing to tell
                    message = stamp_arrival(message, flow)
                self._request(message, flow, now)
        except ParseError as exc:
            # A header the handler needed turned out malformed (parsed lazily).
            log.info("sip_bad_header", source=flow.host, problem=exc.problem)
            if isinstance(message, Request):
                self._abandon(message, flow, 400, _phrase(exc))
        except Exception:  # one message's failure must not strand the others
            log.exception("sip_internal_error", source=flow.host)
            if isinstance(message, Request):
                self._abandon(message, flow, 500, "Server Internal Error")
        self._arm()

    def _over_capacity(self, tx: ServerTransaction, request: Request, now: float) -> bool:
        """Beyond ``max_transactions`` a new dialog or request is refused with 503 and
        Retry-After at once (RFC 3261 §21.5.4), so memory stays bounded and the requests
        already held keep their pace; calls to an emergency number are still taken."""
        if len(self.layer.servers) <= self.settings.max_transactions:
            return False
        if self.admission.is_emergency(request.uri.user):
            return False
        # Answered statelessly, the transaction dropped: a refused request must not hold a
        # place in the table it was refused for (kept 5 s like an answered one, the refusals
        # filled the table with the offered rate, and the cap admitted nothing). A
        # retransmission is refused again the same way.
        del self.layer.servers[tx.key]
        refusal = response_to(
            request,
            503,
            "Service Unavailable",
            to_tag=self.core.new_token(4),
            headers=(("Retry-After", str(RETRY_AFTER)),),
        )
        self.core.send_stateless(refusal, tx.flow)
        if self._on_overload is not None:
            self._on_overload()
        self._overload_refused += 1
        if now - self._overloaded_at >= OVERLOAD_LOG_EVERY:
            log.warning(
                "sip_overloaded",
                transactions=len(self.layer.servers),
                cap=self.settings.max_transactions,
                refused=self._overload_refused,
            )
            self._overloaded_at, self._overload_refused = now, 0
        return True

    def _abandon(self, request: Request, flow: Flow, status: int, reason: str) -> None:
        """Handling ``request`` failed half-way. Its server transaction, if one began and
        gave no final answer yet, goes (else retransmissions would be absorbed by it
        forever, unanswered), and the sender gets ``status`` (an ACK gets nothing)."""
        try:
            tx = self.layer.servers.get(server_key(request))
        except ParseError:
            tx = None
        if tx is not None:
            if tx.state not in (State.TRYING, State.PROCEEDING):
                return  # it was answered before the failure: that answer stands
            del self.layer.servers[tx.key]
        if request.method != "ACK":
            self.core.send_stateless(response_to(request, status, reason), flow)

    def _malformed(self, exc: ParseError, flow: Flow) -> None:
        log.info("sip_malformed", source=flow.host, status=exc.status, problem=exc.problem)
        head = exc.request_head
        if head is None or head.method == "ACK":
            return
        reason = {505: "Version Not Supported", 513: "Message Too Large"}.get(exc.status)
        response = response_to(stamp_arrival(head, flow), exc.status, reason or _phrase(exc))
        self.core.transport.send(serialise(response), flow)

    def _response(self, response: Response, now: float) -> None:
        event, sends = self.layer.receive_response(response, now)
        self.core.send(sends)
        if event is not None:
            self._client_event(event)
        else:
            self.proxy.stray_response(response)

    def _client_event(self, event: ClientEvent) -> None:
        """A client transaction's answer or timeout, to whoever sent the request."""
        if self.mwi is not None and self.mwi.answered(event):
            return
        if not self.calls.answering.dialer.on_event(event):
            self.proxy.on_client_event(event)

    def _request(self, request: Request, flow: Flow, now: float) -> None:
        arrival, tx, sends = self.layer.receive_request(request, flow, now)
        if sends:
            self.core.send(sends)
        if arrival is Arrival.STRAY_ACK:
            answering = self.calls.answering
            ours = answering.in_dialog(request, None)
            if not ours and not answering.dialer.in_dialog(request, None, flow):
                self.proxy.in_dialog(request, flow)
            return
        if arrival is not Arrival.NEW or tx is None:
            return
        method = request.method
        if method == "CANCEL":
            self._cancel(tx, request)
            return
        if not self._acceptable(tx, request):
            return
        in_dialog = _has_to_tag(request)
        if not in_dialog and self._over_capacity(tx, request, now):
            return
        if in_dialog:
            if self.calls.answering.in_dialog(request, tx):
                return
            if method == "SUBSCRIBE" and self.mwi and self.mwi.in_dialog(request, tx):
                return
            if self.calls.answering.dialer.in_dialog(request, tx, flow):
                return
            if not self.proxy.in_dialog(request, flow):
                self.core.reply(tx, 481, "Call/Transaction Does Not Exist")
            else:
                # Forwarded statelessly; the answer comes back through the proxy. Our
                # server transaction is dropped so the answer is not absorbed by it.
                self.layer.servers.pop(tx.key, None)
            return
        if method == "OPTIONS":
            self.core.reply(tx, 200, "OK", _capabilities())
            return
        if method == "REGISTER":
            self._register(tx, request, flow, now)
            return
        trusted = self.admission.trusted(flow.host)
        caller: Person | None = None
        if not trusted:
            user = self._authenticate(tx, request, flow, now, proxy=True)
            if user is None:
                return
            caller = self.engine.view.person_by_extension(user)
            if caller is None:
                self.core.reply(tx, 403, "Forbidden")
                return
        if method == "INVITE":
            self.calls.invite(tx, request, caller, trusted)
        elif method == "MESSAGE":
            self._message(tx, request, caller)
        elif method in IN_DIALOG_ONLY:
            self.core.reply(tx, 481, "Call/Transaction Does Not Exist")
        elif method == "SUBSCRIBE" and caller and caller.extension and self.mwi:
            self.mwi.subscribe(tx, request, caller.extension)
        elif method == "SUBSCRIBE":
            self.core.reply(tx, 489, "Bad Event")
        else:
            self.core.reply(tx, 405, "Method Not Allowed", (("Allow", ALLOW),))

    def _acceptable(self, tx: ServerTransaction, request: Request) -> bool:
        method = request.method
        if method not in KNOWN_METHODS:
            self.core.reply(tx, 501, "Not Implemented", (("Allow", ALLOW),))
            return False
        hops = max_forwards(request)
        if hops is not None and hops <= 0 and method != "OPTIONS":
            self.core.reply(tx, 483, "Too Many Hops")
            return False
        required = _unsupported(request.headers)
        if required:
            self.core.reply(tx, 420, "Bad Extension", (("Unsupported", ", ".join(required)),))
            return False
        return True

    # -- authentication -------------------------------------------------------------

    def _authenticate(
        self, tx: ServerTransaction, request: Request, flow: Flow, now: float, *, proxy: bool
    ) -> str | None:
        """The digest user, or None after answering with a challenge (or nothing)."""
        if self.failures.blocked(flow.host, now):
            log.info("sip_auth_blocked", source=flow.host)
            self.layer.servers.pop(tx.key, None)
            return None  # a blocked source gets silence, whatever it asks
        header = "Proxy-Authorization" if proxy else "Authorization"
        outcome = self.auth.verify(
            request.method, request.headers.get(header), now, self.engine.credential
        )
        if outcome.ok and outcome.user is not None:
            if self.steering is not None:
                self.steering.digest_passed(flow.host, self.failures)
            self.failures.forget(flow.host)
            return outcome.user
        if outcome.failure not in {Failure.MISSING, Failure.STALE}:
            # One line per failure, in a shape fail2ban reads (docs/fail2ban/): the
            # source first, then what was tried and how often in this burst.
            count = self.failures.recent(flow.host, now) + 1
            log.warning(
                "sip_auth_failed",
                source=flow.host,
                method=request.method,
                failure=outcome.failure.value if outcome.failure else None,
                user=_shown_user(outcome.tried),
                count=count,
            )
            if self.steering is not None:
                self.steering.digest_failed(flow.host)
            if self.failures.record_failure(flow.host, now):
                log.warning(
                    "sip_auth_source_blocked",
                    source=flow.host,
                    failures=count,
                    block_seconds=int(self.failures.block_for),
                )
        challenge = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
        claimed = outcome.tried or _claimed_user(request)
        credential = self.engine.credential(claimed) if claimed else None
        values = self.auth.challenges(now, stale=outcome.stale, credential=credential)
        status, reason = (407, "Proxy Authentication Required") if proxy else (401, "Unauthorized")
        self.core.reply(tx, status, reason, tuple((challenge, v) for v in values))
        return None

    # -- REGISTER -------------------------------------------------------------------

    def _register(self, tx: ServerTransaction, request: Request, flow: Flow, now: float) -> None:
        user = self._authenticate(tx, request, flow, now, proxy=False)
        if user is None:
            return
        if dialled_user(to(request).uri) != user:
            self.core.reply(tx, 403, "Forbidden")
            return
        found = contacts(request)
        bindings: list[tuple[object, int | None]] | str
        if found == "*":
            bindings = "*"
        else:
            bindings = [(c, _contact_expires(c.param("expires"))) for c in found]
        result = self.registrar.update(
            user,
            bindings,  # type: ignore[arg-type]
            expires(request),
            request.headers.get("Call-ID") or "",
            cseq(request).number,
            flow,
            now,
        )
        if result.ok and flow.reliable:
            lasting = [b.expires_at for b in result.bindings if b.flow == flow]
            if lasting:  # the phone's connection is its way in: keep it while it lasts
                self.core.transport.keep(flow, max(lasting))
        headers: list[tuple[str, str]] = []
        if result.min_expires is not None:
            headers.append(("Min-Expires", str(result.min_expires)))
        if result.ok:
            for b in result.bindings:
                value = format_name_addr(b.contact)
                headers.append(("Contact", f"{value};expires={b.remaining(now)}"))
        log.info(
            "sip_register", extension=user, status=result.status, bindings=len(result.bindings)
        )
        self.core.reply(tx, result.status, result.reason, tuple(headers))

    # -- CANCEL ---------------------------------------------------------------------

    def _cancel(self, tx: ServerTransaction, request: Request) -> None:
        invite = self.layer.find_invite(request)
        if invite is None:
            self.core.reply(tx, 481, "Call/Transaction Does Not Exist")
            return
        self.core.reply(tx, 200, "OK")
        if not self.calls.confirmer.caller_cancelled(invite):
            self.proxy.caller_cancelled(invite)

    # -- MESSAGE (SMS) --------------------------------------------------------------

    def _message(self, tx: ServerTransaction, request: Request, sender: Person | None) -> None:
        """An employee's SMS: it always shows the real mobile (R15), never a secret one (R18)."""
        digits = dialled_user(request.uri)
        plan = self.engine.view.plan
        if sender is None or digits is None or not is_outside(digits, plan):
            self.core.reply(tx, 404, "Not Found")
            return
        if self.calls.refusal(sender, digits, "MESSAGE") is not None:
            self.core.reply(tx, 403, "Forbidden", (REFUSED_REASON,))
            log.info("sms", extension=sender.extension, outcome=403)
            return
        presentation = self.engine.present(sender, OutboundKind.SMS)
        if not presentation.allowed or presentation.number is None:
            text = presentation.explanation.replace('"', "'")
            self.core.reply(tx, 403, "Forbidden", (("Reason", f'SIP;cause=403;text="{text}"'),))
            log.info("sms", extension=sender.extension, outcome=403)
            return
        trunk = self.calls._mobile_leg(plan.to_e164(digits))
        if trunk is None:
            self.core.reply(tx, 503, "Service Unavailable")
            return
        self._forward_message(tx, request, trunk, presentation.number)
        log.info("sms", extension=sender.extension, outcome="forwarded")

    def _forward_message(
        self, tx: ServerTransaction, request: Request, leg: Leg, mobile: str
    ) -> None:
        domain = self.core.host
        sender = f"<sip:{mobile}@{domain};user=phone>"
        from_tag = (request.headers.get("From") or "").partition(";tag=")[2].split(";")[0]
        keep = {"to", "call-id", "cseq", "content-type", "content-encoding", "max-forwards"}
        items = [(n, v) for n, v in request.headers.items if n.lower() in keep]
        items.insert(0, ("From", f"{sender};tag={from_tag}" if from_tag else sender))
        asserted = asserted_identity(mobile, domain)
        if asserted is not None:
            items.append(("P-Asserted-Identity", asserted))

        def failed(best: Response | None) -> None:
            status, reason = (best.status, best.reason) if best else (408, "Request Timeout")
            self.core.reply(tx, status, reason)

        self.proxy.fork(
            tx,
            request,
            [leg],
            None,
            on_no_answer=failed,
            finish=lambda status: None,
            people=(),
            headers=Headers(tuple(items)),
        )


def _has_to_tag(request: Request) -> bool:
    value = request.headers.get("To") or ""
    return ";tag=" in value.replace(" ", "").lower()


def _contact_expires(text: str | None) -> int | None:
    number = wire_number(text.strip(), 20) if text is not None else None
    return None if number is None else min(number, 2**31 - 1)


def _capabilities() -> tuple[tuple[str, str], ...]:
    return (("Allow", ALLOW), ("Accept", "application/sdp, text/plain"))


def _unsupported(headers: Headers) -> list[str]:
    """Option tags of Require, then Proxy-Require, that we do not support (§8.2.2.3).

    Every request is checked and almost none carries either header: one pass over the
    fields, passing over on its first letter any name that cannot be one of the two."""
    require: list[str] = []
    proxy_require: list[str] = []
    for name, value in headers.items:
        if name[:1] in "RrPp" and value.strip().lower() not in SUPPORTED:
            lowered = name.lower()
            if lowered == "require":
                require.append(value)
            elif lowered == "proxy-require":
                proxy_require.append(value)
    return require + proxy_require


def _claimed_user(request: Request) -> str | None:
    """Whose phone a request without usable credentials says it is, to choose its
    challenge (``DigestAuthenticator.offered``): the AOR of a REGISTER (the registrar
    checks it is the digest user), the From of anything else."""
    try:
        uri = to(request).uri if request.method == "REGISTER" else from_(request).uri
    except ParseError:
        return None
    return dialled_user(uri)


def _shown_user(tried: str | None) -> str | None:
    """The account a failed digest named, for the log: a stranger writes it, so it is cut
    short and kept printable (JSON escapes quotes, so it cannot fake a field fail2ban
    reads; numbers in it are masked like any, R18)."""
    if tried is None:
        return None
    text = "".join(ch if ch.isprintable() else "?" for ch in tried[:64])
    return text + "…" if len(tried) > 64 else text


def _phrase(exc: ParseError) -> str:
    """A reason phrase from a parse problem: one line, printable, not too long."""
    text = "".join(ch if ch.isprintable() else " " for ch in exc.problem)
    return ("Bad Request - " + text)[:120]
