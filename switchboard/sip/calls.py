"""INVITE handling: ask the routing core, then carry its decision out (redirect or proxy).

Inbound (someone calls one of our numbers, any dialled form, R3): the core decides ring,
announce, voicemail, divert or reject. Ring targets become URIs: the mobile on the
operator trunk, and every phone registered to the extension. In redirect mode they go back
in a ``302``; in proxy mode they ring in parallel through ``Proxy``. Announce and voicemail
go to the media seam. One log line per call says what happened, numbers masked (R18).

The voicemail number (issue 13, ``[media] voicemail_number``): the caller's own mailbox,
answered by the switchboard; from the mobile through the trunk, behind a PIN.

Outbound (an employee calls an outside number from a registered phone, or from the mobile
through the trunk): the destination policy may refuse it; otherwise it is always proxied,
because caller-ID (R14, R16, R18) must be rewritten on the way out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import unquote

import structlog

from switchboard.calls.model import CallAction, Direction
from switchboard.calls.recorder import CallRecorder, SeenCall
from switchboard.directory.destinations import (
    DEFAULT_COUNTRIES,
    Refusal,
    Refused,
    international_refusal,
)
from switchboard.directory.model import Person
from switchboard.directory.numbers import NumberError
from switchboard.directory.short_numbers import ShortKind, ShortNumber
from switchboard.live.engine import Engine
from switchboard.logs import LineLogger
from switchboard.routing.model import (
    Announce,
    Call,
    Decision,
    Divert,
    Reject,
    Ring,
    TargetKind,
    Voicemail,
)
from switchboard.routing.presentation import OutboundKind, Presentation
from switchboard.settings.sip import SipMode, SipSettings, is_ip_address
from switchboard.sip.answering import Answerer
from switchboard.sip.confirming import Confirmer
from switchboard.sip.core import SipCore
from switchboard.sip.flow import Flow
from switchboard.sip.identity import asserted_identity, blocked_prefix, is_outside, outbound_headers
from switchboard.sip.media_seam import Confirmation, Mailbox, MediaService, Program
from switchboard.sip.message import Param, Request, Response, SipUri
from switchboard.sip.parse import format_uri, parse_name_addr
from switchboard.sip.proxy import Leg, Proxy
from switchboard.sip.registrar import Registrar
from switchboard.sip.transaction import ServerKey, ServerTransaction

log = structlog.get_logger("switchboard.sip")
call_log = LineLogger("switchboard.sip")
"""The one line per call: rendered directly (``LineLogger``), it is on every call's path."""

MAX_DIVERTS = 5
"""A referral may divert to an extension whose referral diverts again; this many, no more."""
MAX_PENDING_STARTS = 10_000
"""Start times of calls still being answered; a bound, in case a path never logs."""
MAX_REMEMBERED_LEGS = 10_000
"""Mobile legs kept between calls: more than the people of any deployment."""
ACTIONS = {a.value: a for a in CallAction} | {"proxy": CallAction.RING}
REFUSED_REASON = ("Reason", 'SIP;cause=403;text="Destination not allowed"')


def dialled_user(uri: SipUri) -> str | None:
    """The number in a Request-URI: the user part, without tel-style ``;params``."""
    if uri.user is None:
        return None
    return uri.user.partition(";")[0]


class CallHandler:
    def __init__(
        self,
        core: SipCore,
        engine: Engine,
        registrar: Registrar,
        settings: SipSettings,
        media: MediaService,
        proxy: Proxy,
        recorder: CallRecorder | None = None,
    ) -> None:
        self.core = core
        self.engine = engine
        self.registrar = registrar
        self.settings = settings
        self.answering = Answerer(
            core, media, self._transfer_targets, float(engine.view.ring_timeout)
        )
        """Announce, voicemail and unanswered rings: the switchboard answers itself."""
        self.confirmer = Confirmer(self.answering, proxy)
        """Rings whose mobile leg must press 1 (proxy mode, media on)."""
        self.proxy = proxy
        trunk = settings.trunk
        self.trunk_flow = (
            Flow("udp", trunk.host, trunk.port) if trunk and is_ip_address(trunk.host) else None
        )
        """Where requests for the trunk go; for a trunk given by name, set by
        ``trunk_moved`` once the name is looked up (None until then)."""
        self.domain = core.host
        self.voicemail_number = engine.settings.media.voicemail_number
        """What owners dial to hear their messages (issue 13); None: not offered."""
        self.recorder = recorder
        """Gets one record per call (R19); None: no call records kept."""
        self._mode = settings.mode.value
        self._started: dict[ServerKey, tuple[datetime, str | None]] = {}
        """When each call still being answered began, and the caller's user part."""
        self._mobile_legs: dict[str, tuple[Leg, str]] = {}
        """Trunk legs and their 302 Contact text by mobile number: the trunk is fixed
        while serving, so each number's are the same every call. Bounded."""

    # -- entry ----------------------------------------------------------------------

    def invite(
        self,
        tx: ServerTransaction,
        request: Request,
        caller: Person | None,
        trusted: bool,
    ) -> None:
        """``caller``: the authenticated employee (a phone); None for the trusted trunk."""
        now = self.engine.clock.now()
        from_user = _from_user(request)
        if self.recorder is not None:
            if len(self._started) >= MAX_PENDING_STARTS:
                self._started.clear()
            self._started[tx.key] = (now, from_user)
        digits = dialled_user(request.uri)
        if digits is None:
            self._final(tx, 404, "Not Found", "reject", None)
            return
        if self.voicemail_number is not None and self._is_voicemail_number(digits):
            self._mailbox(tx, request, caller, trusted, from_user)
            return
        short = self.engine.short_numbers.match(digits)
        if short is not None:
            # Emergency and service numbers go out before anything else is asked: no
            # extension can be one (the config refuses that), no policy may stop them.
            employee = caller or (self._owner_of_mobile(from_user) if trusted else None)
            if employee is not None:
                self._short_call(tx, request, employee, short)
                return
        plan = self.engine.view.plan
        if plan.extension_of(digits) is None and is_outside(digits, plan):
            # The trunk sends an employee's outgoing mobile call back through us; a phone
            # calls out directly. Anyone else calling an outside number is not ours to carry.
            employee = caller or (self._owner_of_mobile(from_user) if trusted else None)
            if employee is None:
                self._final(tx, 404, "Not Found", "reject", None)
                return
            self._outbound(tx, request, employee, digits)
            return
        caller_number = (caller.extension if caller else None) or from_user
        decision = self.engine.route(Call(digits, caller_number), now)
        self._execute(tx, request, decision, trusted, 0, now)

    # -- inbound --------------------------------------------------------------------

    def _execute(
        self,
        tx: ServerTransaction,
        request: Request,
        decision: Decision,
        trusted: bool,
        hops: int,
        now: datetime,
    ) -> None:
        match decision:  # most calls ring: that case is tried first
            case Ring():
                self._ring(tx, request, decision, trusted)
            case Reject(status=status, reason=reason):
                self._final(tx, status, reason, "reject", None)
            case Announce():
                self._answer(tx, request, decision, "announce")
            case Voicemail():
                self._answer(tx, request, decision, "voicemail")
            case Divert():
                self._divert(tx, request, decision, trusted, hops, now)

    def _divert(
        self,
        tx: ServerTransaction,
        request: Request,
        decision: Divert,
        trusted: bool,
        hops: int,
        now: datetime,
    ) -> None:
        plan = self.engine.view.plan
        extension = plan.extension_of(decision.to)
        if extension is not None:
            if hops >= MAX_DIVERTS:
                self._final(tx, 482, "Loop Detected", "divert", decision.person)
                return
            again = self.engine.route(Call(extension, _from_user(request)), now)
            self._execute(tx, request, again, trusted, hops + 1, now)
            return
        leg = self._mobile_leg(decision.to)
        if leg is None:
            self._final(tx, 503, "Service Unavailable", "divert", decision.person, "no trunk")
            return
        self._deliver(tx, request, [leg], decision.person, trusted, secret=False, timeout=None)

    def _ring(self, tx: ServerTransaction, request: Request, decision: Ring, trusted: bool) -> None:
        person = decision.person
        legs = self._legs(decision)
        if not legs:
            self._answer(tx, request, decision, "ring", "nothing to ring")
            return

        def no_answer(_best: Response | None) -> None:
            self._answer(tx, request, decision, "ring", "no answer")

        mobile = next((leg for leg in legs if leg.label == "mobile"), None)
        proxied = not self._redirects(legs, trusted, secret=person.secret_mobile)
        confirmation = (
            self.answering.media.confirmation(person.language)
            if proxied and mobile is not None
            else None
        )
        if mobile is not None and confirmation is not None:
            self._ring_confirmed(tx, request, decision, legs, mobile, confirmation)
            return
        self._deliver(
            tx,
            request,
            legs,
            person,
            trusted,
            secret=person.secret_mobile,
            timeout=decision.ring_timeout,
            no_answer=no_answer,
        )

    def _deliver(
        self,
        tx: ServerTransaction,
        request: Request,
        legs: list[Leg],
        person: Person,
        trusted: bool,
        *,
        secret: bool,
        timeout: int | None,
        no_answer: Callable[[Response | None], None] | None = None,
    ) -> None:
        # A 302 shows its targets to the caller's side. That is fine for the operator's
        # trunk (it routes the number anyway) but a secret mobile must never reach a
        # phone's screen (R18), so such calls are proxied even in redirect mode.
        if self._redirects(legs, trusted, secret=secret):
            contacts = tuple([self._contact(leg) for leg in legs])
            self._final(tx, 302, "Moved Temporarily", "redirect", person, headers=contacts)
            return

        def failed(best: Response | None) -> None:
            if no_answer is not None:
                no_answer(best)
            else:
                self._final(tx, 480, "Temporarily Unavailable", "proxy", person, "no answer")

        def finish(status: int) -> None:
            self._log("proxy", person, status, tx=tx)

        self.proxy.fork(
            tx,
            request,
            legs,
            float(timeout or self.engine.view.ring_timeout),
            on_no_answer=failed,
            finish=finish,
            people=(person.person_id,),
        )

    def _redirects(self, legs: list[Leg], trusted: bool, *, secret: bool) -> bool:
        """Whether these targets go back in a 302 rather than being rung through us."""
        has_mobile = "mobile" in [leg.label for leg in legs]
        return self.settings.mode is SipMode.REDIRECT and (trusted or not (secret and has_mobile))

    def _ring_confirmed(
        self,
        tx: ServerTransaction,
        request: Request,
        decision: Ring,
        legs: list[Leg],
        mobile: Leg,
        confirmation: Confirmation,
    ) -> None:
        """Phones proxied, the mobile asked to press 1 first (``confirming.py``)."""
        person = decision.person
        caller = _from_user(request)
        program = Program(decision, self.engine.clock.now(), caller, join=confirmation)

        def finished(status: int, note: str) -> None:
            self._log("proxy", person, status, "mobile confirmed" if status < 300 else note, tx=tx)

        def device_finish(status: int) -> None:
            self._log("proxy", person, status, tx=tx)

        self.confirmer.ring(
            tx,
            request,
            [leg for leg in legs if leg is not mobile],
            mobile,
            confirmation,
            program=program,
            ring_seconds=float(decision.ring_timeout or self.engine.view.ring_timeout),
            shown=self._shown(caller),
            to_user=person.extension or "switchboard",
            people=(person.person_id,),
            on_no_answer=lambda: self._answer(tx, request, decision, "ring", "no answer"),
            finished=finished,
            device_finish=device_finish,
        )

    def _is_voicemail_number(self, digits: str) -> bool:
        """As dialled, or with the star escaped (``%2A98``): the same URI (RFC 3261 §19.1.4)."""
        return digits == self.voicemail_number or (
            "%" in digits and unquote(digits) == self.voicemail_number
        )

    def _mailbox(
        self,
        tx: ServerTransaction,
        request: Request,
        caller: Person | None,
        trusted: bool,
        from_user: str | None,
    ) -> None:
        """The voicemail number (issue 13): a registered phone reaches its owner's own
        mailbox, the one the digest named; an employee's mobile through the trusted trunk
        reaches theirs only after the PIN, as caller ID can be forged before it reaches
        the operator. Nobody else reaches any mailbox."""
        owner = caller or (self._owner_of_mobile(from_user) if trusted else None)
        if owner is None:
            self._final(tx, 404, "Not Found", "mailbox", None, "not one of our phones")
            return
        self._answer(tx, request, Mailbox(owner, pin_required=caller is None), "mailbox")

    # -- outbound -------------------------------------------------------------------

    def _outbound(
        self, tx: ServerTransaction, request: Request, employee: Person, digits: str
    ) -> None:
        plan = self.engine.view.plan
        refusal = self.refusal(employee, digits, "INVITE")
        if refusal is not None:
            self._final(
                tx,
                403,
                "Forbidden",
                "outbound",
                employee,
                f"destination blocked by policy ({refusal.rule} {refusal.prefix})",
                headers=(REFUSED_REASON,),
            )
            return
        try:
            e164 = plan.to_e164(digits)
        except NumberError as exc:
            # "+4611": too short to be anyone's number, and not one of our short numbers.
            self._final(tx, 484, "Address Incomplete", "outbound", employee, exc.problem)
            return
        presentation = self.engine.present(employee, OutboundKind.CALL)
        self._call_out(tx, request, employee, e164, presentation, None, 60.0)

    def refusal(self, employee: Person, digits: str, method: str) -> Refusal | None:
        """Why ``employee`` may not reach ``digits`` (a call or an SMS), or None; each
        refusal is logged as a security event at WARNING, the number masked (R18) and
        the rule and matched prefix in the clear. Never asked for emergency and service
        numbers: those are handled before (``_short_call``)."""
        plan = self.engine.view.plan
        found: Refusal | None = None
        prefix = blocked_prefix(digits, plan, self.settings.blocked_destinations)
        if prefix is not None:
            found = Refusal(Refused.NATIONAL_PREMIUM, prefix)
        else:
            e164 = plan.e164_or_none(digits)
            if e164 is not None:
                found = international_refusal(
                    e164,
                    plan.country_code,
                    self._countries(employee),
                    self.settings.blocked_international,
                )
        if found is not None:
            log.warning(
                "outbound_blocked",
                method=method,
                caller=employee.extension or employee.person_id,
                person=employee.person_id,
                organisation=employee.organisation,
                destination=digits,
                rule=found.rule.value,
                prefix=found.prefix,
            )
        return found

    def _countries(self, employee: Person) -> tuple[str, ...]:
        try:
            return self.engine.settings.organisation(employee.organisation).international_countries
        except KeyError:
            return DEFAULT_COUNTRIES  # a person of an organisation no longer configured

    def _short_call(
        self, tx: ServerTransaction, request: Request, employee: Person, short: ShortNumber
    ) -> None:
        """An emergency or service number: to the trunk in its short form, past the
        destination policy; an emergency call shows a number it can be called back on."""
        if short.kind is ShortKind.EMERGENCY:
            presentation = self.engine.present_emergency(employee)
            log.warning(
                "emergency_call",
                number=short.digits,
                person=employee.person_id,
                extension=employee.extension,
                presented=presentation.number,
                trunk=self.trunk_flow is not None,
            )
        else:
            presentation = self.engine.present(employee, OutboundKind.CALL)
        # An emergency centre may keep a caller queued: no ring timeout of ours cuts it.
        self._call_out(
            tx, request, employee, short.digits, presentation, f"{short.kind} number", 600.0
        )

    def _call_out(
        self,
        tx: ServerTransaction,
        request: Request,
        employee: Person,
        number: str,
        presentation: Presentation,
        short: str | None,
        ring_seconds: float,
    ) -> None:
        """Proxy an employee's call to ``number`` on the trunk, showing ``presentation``;
        ``short`` names a short number's kind for the call log line."""
        plan = self.engine.view.plan
        leg = self._mobile_leg(number)
        if leg is None:
            self._final(tx, 503, "Service Unavailable", "outbound", employee, "no trunk")
            return
        extension_e164 = plan.e164_of_extension(employee.extension) if employee.extension else None
        asserted = asserted_identity(
            presentation.number if presentation.number else extension_e164, self.domain
        )
        headers, swap = outbound_headers(request.headers, presentation, asserted, self.domain)

        def finish(status: int) -> None:
            self._log("outbound", employee, status, short or "", tx=tx)

        def failed(best: Response | None) -> None:
            # The far end's own answer (busy, declined, ...) goes back as it is.
            status, reason = (best.status, best.reason) if best else (480, "No Answer")
            detail = f"{short}: not answered" if short else "not answered"
            self._final(tx, status, reason, "outbound", employee, detail)

        self.proxy.fork(
            tx,
            request,
            [leg],
            max(float(self.engine.view.ring_timeout), ring_seconds),
            on_no_answer=failed,
            finish=finish,
            people=(employee.person_id,),
            headers=headers,
            swap=swap,
        )

    # -- targets --------------------------------------------------------------------

    def _legs(self, decision: Ring) -> list[Leg]:
        """What rings for a decision: the mobile on the trunk, every registered phone."""
        legs: list[Leg] = []
        for target in decision.targets:
            if target.kind is TargetKind.MOBILE:
                leg = self._mobile_leg(target.address)
                if leg is not None:
                    legs.append(leg)
            else:
                legs.extend(self._device_legs(target.address))
        return legs

    def _transfer_targets(self, extension: str) -> list[Leg]:
        """Where a caller pressing 0 is connected: what a call to ``extension`` would
        ring now (nothing when the reception itself is away)."""
        decision = self.engine.route(Call(extension, None), self.engine.clock.now())
        return self._legs(decision) if isinstance(decision, Ring) else []

    def trunk_moved(self, address: str, port: int) -> None:
        """The trunk's name now leads to ``address`` and ``port``: mobiles are reached
        there. Request-URIs keep the name (and its port only if one was written)."""
        self.trunk_flow = Flow("udp", address, port)
        self._mobile_legs.clear()  # each holds the flow it was made with

    def _mobile_leg(self, e164: str) -> Leg | None:
        trunk = self.settings.trunk
        if trunk is None or self.trunk_flow is None:
            return None
        known = self._mobile_legs.get(e164)
        if known is None:
            port = trunk.port if trunk.port_given else None  # else: SRV picks the port
            uri = SipUri(trunk.host, user=e164, port=port, params=(Param("user", "phone"),))
            known = (Leg(uri, self.trunk_flow, "mobile"), f"<{format_uri(uri)}>")
            if len(self._mobile_legs) >= MAX_REMEMBERED_LEGS:
                self._mobile_legs.clear()
            self._mobile_legs[e164] = known
        return known[0]

    def _contact(self, leg: Leg) -> tuple[str, str]:
        """The 302's Contact for a leg; a mobile's text is kept with its leg."""
        known = self._mobile_legs.get(leg.uri.user or "") if leg.label == "mobile" else None
        if known is not None and known[0] is leg:
            return ("Contact", known[1])
        return ("Contact", f"<{format_uri(leg.uri)}>")

    def _device_legs(self, extension: str) -> list[Leg]:
        return [
            Leg(binding.contact.uri, binding.flow, "device")
            for binding in self.registrar.bindings(extension, self.core.now())
        ]

    def _owner_of_mobile(self, number: str | None) -> Person | None:
        if number is None:
            return None
        try:
            e164 = self.engine.view.plan.to_e164(number)
        except NumberError:
            return None
        # Outgoing mobile calls are rare next to incoming ones; a scan is fine here.
        return self.engine.view.person_by_mobile(e164)

    # -- answers --------------------------------------------------------------------

    def _answer(
        self,
        tx: ServerTransaction,
        request: Request,
        decision: Announce | Voicemail | Ring | Mailbox,
        action: str,
        detail: str = "",
    ) -> None:
        """The switchboard answers the caller itself (R10-R13), in both modes."""
        caller = _from_user(request)
        program = Program(decision, self.engine.clock.now(), caller)
        person = decision.person

        def finished(status: int, note: str) -> None:
            self._log(action, person, status, detail or note, tx=tx)

        self.answering.answer(tx, request, program, finished, shown=self._shown(caller))

    def _shown(self, caller: str | None) -> str | None:
        """The caller's number as someone we connect them to may see it: never one of our
        secret mobiles (R18)."""
        number = self.engine.view.plan.e164_or_none(caller) if caller else None
        if number is None:
            return None
        return None if self.engine.view.is_secret_mobile(number) else number

    def _final(
        self,
        tx: ServerTransaction,
        status: int,
        reason: str,
        action: str,
        person: Person | None,
        detail: str = "",
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.core.reply(tx, status, reason, headers)
        self._log(action, person, status, detail, tx=tx)

    def _log(
        self,
        action: str,
        person: Person | None,
        status: int,
        detail: str = "",
        *,
        tx: ServerTransaction | None = None,
    ) -> None:
        call_log.info(
            "call",
            mode=self._mode,
            action=action,
            extension=person.extension if person else None,
            outcome=status,
            detail=detail or None,
        )
        if self.recorder is not None and tx is not None:
            self._record(self.recorder, tx, action, person, status)

    def _record(
        self,
        recorder: CallRecorder,
        tx: ServerTransaction,
        action: str,
        person: Person | None,
        status: int,
    ) -> None:
        """One call record (R19), handed to the recorder's buffer: no I/O here. Calls that
        concern none of our people (an unknown number) are not recorded at all."""
        now = self.engine.clock.now()
        pending = self._started.pop(tx.key, None)
        started, caller = pending or (now, _from_user(tx.request))
        if person is None:
            return
        request = tx.request
        outbound = action == "outbound"
        recorder.record(
            SeenCall(
                request.headers.get("Call-ID") or "",
                started,
                None if 200 <= status < 300 else now,
                Direction.OUT if outbound else Direction.IN,
                person.person_id,
                dialled_user(request.uri) if outbound else caller,
                ACTIONS.get(action, CallAction.RING),
                status,
            )
        )


_PLAIN_USER = frozenset("0123456789+-.()abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")


def _from_user(request: Request) -> str | None:
    """The caller's user part. The common shape (``... <sip:user@host>;tag=``) is read with
    ``str`` methods; anything unusual (escapes, quotes, tel: URIs) takes the full parser."""
    value = request.headers.get("From")
    if value is None:
        return None
    start = value.find("<sip:")
    if start >= 0 and value.count("<") == 1:
        end = value.find("@", start)
        user = value[start + 5 : end] if end > 0 else ""
        if user and _PLAIN_USER.issuperset(user):
            return user
    return dialled_user(parse_name_addr(value).uri)
