"""The message-waiting light: ``message-summary`` for the phones of a voicemail's owner.

RFC 3842 over RFC 6665: a phone SUBSCRIBEs to its own extension with ``Event:
message-summary`` (after digest, like every request from a phone); it gets ``200`` and at
once a NOTIFY with the current counts, then one more each time a message is left, heard
or deleted (``VoicemailChanged`` from the store), until the subscription expires or is
ended (``Expires: 0``). Phones that never subscribe but are registered get the same
NOTIFY unsolicited, as desk phones of the kind Polycom and Yealink expect.

The body says whether messages wait and how many (``Voice-Message: 2/1``), never who
called (R18, R20).
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from switchboard.events import Event, VoicemailChanged
from switchboard.live.engine import Engine
from switchboard.sip.core import SipCore
from switchboard.sip.flow import Flow
from switchboard.sip.grammar import ParseError
from switchboard.sip.message import Headers, Request, SipUri
from switchboard.sip.parse import parse_name_addr
from switchboard.sip.registrar import Registrar
from switchboard.sip.transaction import ClientEvent, ServerTransaction

log = structlog.get_logger("switchboard.sip")

EVENT = "message-summary"
CONTENT_TYPE = "application/simple-message-summary"
MIN_EXPIRES = 60
MAX_EXPIRES = 3600
DEFAULT_EXPIRES = 3600
MAX_SUBSCRIPTIONS = 100_000


@dataclass(slots=True, eq=False)
class Subscription:
    call_id: str
    person_id: str
    extension: str
    local_tag: str
    local_to: str
    remote_from: str
    remote_target: SipUri
    route_set: tuple[str, ...]
    flow: Flow
    expires_at: float
    cseq: int = 0


@dataclass(frozen=True, slots=True)
class Unsolicited:
    """The owner of an unsolicited NOTIFY's client transaction (its answer is ignored)."""

    extension: str


def summary(new: int, old: int, account: str) -> bytes:
    """The ``application/simple-message-summary`` body (RFC 3842 §5.2)."""
    waiting = "yes" if new else "no"
    return (
        f"Messages-Waiting: {waiting}\r\nMessage-Account: {account}\r\n"
        f"Voice-Message: {new}/{old}\r\n"
    ).encode()


class MessageWaiting:
    def __init__(
        self, core: SipCore, engine: Engine, registrar: Registrar, *, unsolicited: bool = True
    ) -> None:
        self.core = core
        self.engine = engine
        self.registrar = registrar
        self.unsolicited = unsolicited
        """Whether this process sends the unsolicited NOTIFYs: with workers, every one
        hears each voicemail change and knows every registration, so only worker 0 does
        (each still notifies the subscriptions it holds)."""
        self.counts: dict[str, tuple[int, int]] = {}
        """(new, heard) per person; loaded at start, then kept by ``changed``."""
        self.subscriptions: dict[str, Subscription] = {}

    async def load(self) -> None:
        self.counts = await self.engine.store.voicemail_counts()

    # -- subscribing ------------------------------------------------------------------

    def subscribe(self, tx: ServerTransaction, request: Request, extension: str) -> None:
        """A new SUBSCRIBE from a phone authenticated as ``extension``."""
        if (request.headers.get("Event") or "").split(";")[0].strip().lower() != EVENT:
            self.core.reply(tx, 489, "Bad Event", (("Allow-Events", EVENT),))
            return
        target = request.uri.user
        person = self.engine.view.person_by_extension(extension)
        if person is None or (target is not None and target.partition(";")[0] != extension):
            # A phone watches its own mailbox only: anyone else's counts are not its own.
            self.core.reply(tx, 403, "Forbidden")
            return
        expires = self._expires(tx, request)
        if expires is None:
            return
        contact = request.headers.get("Contact")
        try:
            remote_target = parse_name_addr(contact).uri if contact else None
        except ParseError:
            remote_target = None
        if remote_target is None:
            self.core.reply(tx, 400, "Bad Request - Contact required")
            return
        call_id = request.headers.get("Call-ID") or ""
        if len(self.subscriptions) >= MAX_SUBSCRIPTIONS and call_id not in self.subscriptions:
            self.core.reply(tx, 503, "Service Unavailable", (("Retry-After", "60"),))
            return
        tag = self.core.new_token(4)
        subscription = Subscription(
            call_id,
            person.person_id,
            extension,
            tag,
            f"{request.headers.get('To') or ''};tag={tag}",
            request.headers.get("From") or "",
            remote_target,
            tuple(request.headers.get_all("Record-Route")),
            tx.flow,
            self.core.now() + expires,
        )
        self._accept(tx, subscription, expires)

    def in_dialog(self, request: Request, tx: ServerTransaction) -> bool:
        """A refresh or end (``Expires: 0``) of one of our subscriptions; False: not ours."""
        subscription = self.subscriptions.get(request.headers.get("Call-ID") or "")
        to = request.headers.get("To") or ""
        if subscription is None or f"tag={subscription.local_tag}" not in to:
            return False
        if request.method != "SUBSCRIBE":
            self.core.reply(tx, 405, "Method Not Allowed", (("Allow", "SUBSCRIBE"),))
            return True
        expires = self._expires(tx, request)
        if expires is not None:
            subscription.expires_at = self.core.now() + expires
            self._accept(tx, subscription, expires)
        return True

    def _expires(self, tx: ServerTransaction, request: Request) -> int | None:
        text = (request.headers.get("Expires") or str(DEFAULT_EXPIRES)).strip()
        if not (text.isascii() and text.isdigit()):
            self.core.reply(tx, 400, "Bad Request - Expires")
            return None
        asked = int(text)
        if 0 < asked < MIN_EXPIRES:
            self.core.reply(tx, 423, "Interval Too Brief", (("Min-Expires", str(MIN_EXPIRES)),))
            return None
        return min(asked, MAX_EXPIRES)

    def _accept(self, tx: ServerTransaction, subscription: Subscription, expires: int) -> None:
        host = f"[{self.core.host}]" if ":" in self.core.host else self.core.host
        headers = (
            ("Expires", str(expires)),
            ("Contact", f"<sip:{host}:{self.core.port};transport={tx.flow.transport}>"),
        )
        self.core.reply(tx, 200, "OK", headers, to_tag=subscription.local_tag)
        if expires == 0:
            self.subscriptions.pop(subscription.call_id, None)
            self._notify(subscription, "terminated;reason=timeout")
            return
        self.subscriptions[subscription.call_id] = subscription
        self._notify(subscription, f"active;expires={expires}")
        log.info("mwi_subscribed", extension=subscription.extension, expires=expires)

    # -- notifying --------------------------------------------------------------------

    def changed(self, event: Event) -> None:
        """A bus listener: a voicemail change lights (or darkens) the owner's phones."""
        if not isinstance(event, VoicemailChanged):
            return
        self.counts[event.person_id] = (event.new, event.old)
        now = self.core.now()
        watching = [s for s in self.subscriptions.values() if s.person_id == event.person_id]
        for subscription in watching:
            if subscription.expires_at <= now:
                self.subscriptions.pop(subscription.call_id, None)
                continue
            left = max(1, round(subscription.expires_at - now))
            self._notify(subscription, f"active;expires={left}")
        if not self.unsolicited or any(s.expires_at > now for s in watching):
            return
        person = self.engine.view.person(event.person_id)
        if person is not None and person.extension:
            self._unsolicited(person.extension, event.new, event.old)

    def _body(self, person_id: str, extension: str) -> bytes:
        new, old = self.counts.get(person_id, (0, 0))
        return summary(new, old, f"sip:{extension}@{self.core.host}")

    def _notify(self, subscription: Subscription, state: str) -> None:
        subscription.cseq += 1
        items: list[tuple[str, str]] = [
            ("Via", self.core.via(subscription.flow)),
            ("Max-Forwards", "70"),
        ]
        items += [("Route", route) for route in subscription.route_set]
        items += [
            ("From", subscription.local_to),
            ("To", subscription.remote_from),
            ("Call-ID", subscription.call_id),
            ("CSeq", f"{subscription.cseq} NOTIFY"),
            ("Contact", self._contact(subscription.flow)),
            ("Event", EVENT),
            ("Subscription-State", state),
            ("Content-Type", CONTENT_TYPE),
        ]
        body = self._body(subscription.person_id, subscription.extension)
        notify = Request("NOTIFY", subscription.remote_target, Headers(tuple(items)), body)
        _, sends = self.core.layer.send_request(
            notify, subscription.flow, self.core.now(), subscription
        )
        self.core.send(sends)

    def _unsolicited(self, extension: str, new: int, old: int) -> None:
        """To every registered phone of ``extension``: no subscription, same news."""
        account = f"sip:{extension}@{self.core.host}"
        for binding in self.registrar.bindings(extension, self.core.now()):
            items = (
                ("Via", self.core.via(binding.flow)),
                ("Max-Forwards", "70"),
                ("From", f"<{account}>;tag={self.core.new_token(4)}"),
                ("To", f"<{account}>"),
                ("Call-ID", self.core.new_call_id()),
                ("CSeq", "1 NOTIFY"),
                ("Contact", self._contact(binding.flow)),
                ("Event", EVENT),
                ("Subscription-State", "active"),
                ("Content-Type", CONTENT_TYPE),
            )
            notify = Request(
                "NOTIFY", binding.contact.uri, Headers(items), summary(new, old, account)
            )
            _, sends = self.core.layer.send_request(
                notify, binding.flow, self.core.now(), Unsolicited(extension)
            )
            self.core.send(sends)

    def _contact(self, flow: Flow) -> str:
        host = f"[{self.core.host}]" if ":" in self.core.host else self.core.host
        return f"<sip:{host}:{self.core.port};transport={flow.transport}>"

    def answered(self, event: ClientEvent) -> bool:
        """A NOTIFY's answer; True when it was one of ours. A subscription whose phone
        says it is gone (481) or never answers ends here (RFC 6665 §4.2.2)."""
        owner = event.transaction.owner
        if isinstance(owner, Unsolicited):
            return True
        if not isinstance(owner, Subscription):
            return False
        status = event.response.status if event.response is not None else 408
        gone = status >= 300 and status not in (401, 407)
        if gone and self.subscriptions.get(owner.call_id) is owner:
            del self.subscriptions[owner.call_id]
            log.info("mwi_subscription_ended", extension=owner.extension, status=status)
        return True
