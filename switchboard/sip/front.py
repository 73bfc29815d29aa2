"""What a SIP front end (Kamailio) should do with a new INVITE, answered from memory (issue 14).

In the HTTP-route deployment (``configs/kamailio/http-route.cfg``) Kamailio carries the
signalling and asks ``GET /api/v1/route?to=...&from=...`` for each new INVITE. The answer
is what the switchboard's own redirect mode does with an INVITE from a trusted peer
(``calls.CallHandler.invite``), step for step, as values instead of SIP messages:

- ``redirect``: a 302 with these Contacts: the mobile on the operator trunk
  (``sip:+46...@trunk;user=phone``), every phone registered here, an outside divert target;
- ``relay``: send the INVITE on to a switchboard node, which carries the call itself: it
  answers announce, voicemail and "nothing to ring" with media (R10, R11), rewrites
  caller-ID on an employee's call out (R14-R18), and rings a secret mobile through itself;
- ``reject``: answer with the status the core gives (404, 484, 482, 503).

One difference from redirect mode, forced by R18: redirect mode shows a secret mobile to a
trusted peer (the trunk routes the number anyway), but this answer goes to an HTTP client,
and secret numbers never appear in an API. A call whose targets hold a secret mobile is
``relay``, never ``redirect``, and no field or explanation holds one.

The core decides (``Engine.route``); this module only turns the decision into what a front
end can act on, so the two deployments cannot decide differently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import unquote

from switchboard.directory.model import Person
from switchboard.directory.numbers import NumberError
from switchboard.live.engine import Engine
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
from switchboard.sip.calls import MAX_DIVERTS
from switchboard.sip.identity import is_outside
from switchboard.sip.message import Param, SipUri
from switchboard.sip.parse import format_uri

Devices = Callable[[str], tuple[str, ...]]
"""The Contact URIs of the phones registered to an extension here, most preferred first
(``SipServer.registered_contacts``)."""


def no_devices(_extension: str) -> tuple[str, ...]:
    """For a process that serves no SIP: no phone is registered with it."""
    return ()


class FrontAction(StrEnum):
    REDIRECT = "redirect"
    """Answer 302 with the targets as Contacts."""
    RELAY = "relay"
    """Send the INVITE on to a switchboard node, which carries the call out."""
    REJECT = "reject"
    """Answer with ``status`` and ``reason``."""


class Relayed(StrEnum):
    """Why a call goes to a switchboard node rather than being redirected."""

    MEDIA = "media"
    """The switchboard answers: announce (R10), voicemail (R11), nothing to ring."""
    SECRET_NUMBER = "secret_number"  # noqa: S105 - a reason's name
    """A target is a secret mobile: rung through the switchboard, never shown (R18)."""
    OUTBOUND = "outbound"
    """An employee's call out through the trunk: caller-ID is rewritten (R14-R18)."""
    MAILBOX = "mailbox"
    """The voicemail number: the owner's mailbox, behind a PIN (issue 13)."""


class TargetRole(StrEnum):
    MOBILE = "mobile"
    """The person's mobile, on the operator trunk."""
    PHONE = "phone"
    """A phone registered to the extension (its Contact as it registered)."""
    DIVERT = "divert"
    """An outside number a referral diverts to, on the trunk."""


@dataclass(frozen=True, slots=True)
class FrontTarget:
    uri: str
    role: TargetRole
    number: str | None = None
    """E.164 for a number on the trunk; None for a phone."""


@dataclass(frozen=True, slots=True)
class FrontAnswer:
    action: FrontAction
    decision: str
    """What the core decided (``ring``, ``announce``, ``voicemail``, ``divert``, ``reject``),
    or what the SIP edge does before asking it (``mailbox``, ``outbound``)."""
    explanation: str
    status: int | None = None
    """The final answer Kamailio sends: 302 for redirect, the core's for reject."""
    reason: str | None = None
    targets: tuple[FrontTarget, ...] = ()
    relayed: Relayed | None = None
    person: Person | None = None
    ring_timeout: int | None = None


def _redirect(
    targets: list[FrontTarget], decision: str, person: Person, explanation: str, timeout: int
) -> FrontAnswer:
    return FrontAnswer(
        FrontAction.REDIRECT,
        decision,
        explanation,
        302,
        "Moved Temporarily",
        tuple(targets),
        person=person,
        ring_timeout=timeout,
    )


def _relay(why: Relayed, decision: str, person: Person | None, explanation: str) -> FrontAnswer:
    return FrontAnswer(FrontAction.RELAY, decision, explanation, relayed=why, person=person)


def _reject(status: int, reason: str, decision: str, explanation: str) -> FrontAnswer:
    return FrontAnswer(FrontAction.REJECT, decision, explanation, status, reason)


class Front:
    """Answers the front end's question for one INVITE: ``answer(dialled, caller, now)``."""

    def __init__(self, engine: Engine, devices: Devices = no_devices) -> None:
        self.engine = engine
        self.devices = devices
        self.voicemail_number = engine.settings.media.voicemail_number

    def answer(self, dialled: str, caller: str | None, now: datetime) -> FrontAnswer:
        """``dialled``: the Request-URI's user part; ``caller``: the From's (or None).

        The same steps, in the same order, as ``CallHandler.invite`` for a trusted peer."""
        view = self.engine.view
        if self.voicemail_number is not None and (
            dialled == self.voicemail_number or unquote(dialled) == self.voicemail_number
        ):
            owner = self._owner_of_mobile(caller)
            if owner is None:
                return _reject(404, "Not Found", "mailbox", "Only our own mobiles reach a mailbox.")
            return _relay(Relayed.MAILBOX, "mailbox", owner, "The owner's mailbox, behind the PIN.")
        plan = view.plan
        outside = plan.extension_of(dialled) is None and is_outside(dialled, plan)
        if outside or self.engine.short_numbers.match(dialled) is not None:
            # An employee's own call out, sent back through us by the operator: caller-ID
            # must be rewritten on the way, which only a node does. Anyone else calling a
            # number that is not ours is not ours to carry.
            employee = self._owner_of_mobile(caller)
            if employee is not None:
                return _relay(
                    Relayed.OUTBOUND,
                    "outbound",
                    employee,
                    "An employee's call out: caller-ID is rewritten by the switchboard.",
                )
            if outside:
                return _reject(404, "Not Found", "reject", "Not one of our numbers.")
        decision = self.engine.route(Call(dialled, caller), now)
        return self._carry_out(decision, caller, now, 0)

    def _carry_out(
        self, decision: Decision, caller: str | None, now: datetime, hops: int
    ) -> FrontAnswer:
        explanation = self.engine.secret_numbers().mask(decision.explanation)
        match decision:
            case Ring():
                return self._ring(decision, explanation)
            case Reject(status=status, reason=reason):
                return _reject(status, reason, "reject", explanation)
            case Announce() | Voicemail():
                return _relay(Relayed.MEDIA, decision.action.value, decision.person, explanation)
            case Divert():
                return self._divert(decision, caller, now, hops, explanation)

    def _ring(self, decision: Ring, explanation: str) -> FrontAnswer:
        person = decision.person
        targets: list[FrontTarget] = []
        for target in decision.targets:
            if target.kind is TargetKind.DEVICES:
                targets += [
                    FrontTarget(uri, TargetRole.PHONE) for uri in self.devices(target.address)
                ]
            elif (uri := self._on_trunk(target.address)) is not None:
                if person.secret_mobile:
                    # Redirect mode would show it to the trunk; an API shows it to nobody.
                    return _relay(Relayed.SECRET_NUMBER, "ring", person, explanation)
                targets.append(FrontTarget(uri, TargetRole.MOBILE, target.address))
        if not targets:
            # Nothing to ring: the switchboard answers (voicemail, or the open referral).
            return _relay(Relayed.MEDIA, "ring", person, explanation)
        return _redirect(targets, "ring", person, explanation, decision.ring_timeout)

    def _divert(
        self, decision: Divert, caller: str | None, now: datetime, hops: int, explanation: str
    ) -> FrontAnswer:
        extension = self.engine.view.plan.extension_of(decision.to)
        if extension is not None:
            if hops >= MAX_DIVERTS:
                return _reject(482, "Loop Detected", "divert", explanation)
            again = self.engine.route(Call(extension, caller), now)
            return self._carry_out(again, caller, now, hops + 1)
        if self.engine.view.is_secret_mobile(decision.to):
            return _relay(Relayed.SECRET_NUMBER, "divert", decision.person, explanation)
        uri = self._on_trunk(decision.to)
        if uri is None:
            return _reject(503, "Service Unavailable", "divert", "No trunk to divert to.")
        target = FrontTarget(uri, TargetRole.DIVERT, decision.to)
        return _redirect(
            [target], "divert", decision.person, explanation, self.engine.view.ring_timeout
        )

    def _on_trunk(self, e164: str) -> str | None:
        """The number on the operator trunk, as the switchboard's 302 writes it; None
        without a trunk. A trunk given by name keeps it (and its port only if written)."""
        trunk = self.engine.settings.sip.trunk
        if trunk is None:
            return None
        port = trunk.port if trunk.port_given else None
        return format_uri(
            SipUri(trunk.host, user=e164, port=port, params=(Param("user", "phone"),))
        )

    def _owner_of_mobile(self, number: str | None) -> Person | None:
        if number is None:
            return None
        view = self.engine.view
        try:
            e164 = view.plan.to_e164(number)
        except NumberError:
            return None
        return view.person_by_mobile(e164)

    def shown_caller(self, caller: str | None) -> str | None:
        """The caller's number as whoever the call reaches may see it: E.164, never one of
        our secret mobiles (R18; ``CallHandler._shown``)."""
        number = self.engine.view.plan.e164_or_none(caller) if caller else None
        if number is None or self.engine.view.is_secret_mobile(number):
            return None
        return number
