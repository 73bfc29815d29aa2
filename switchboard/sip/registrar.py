"""The location service: who is registered where (RFC 3261 §10.3), pure and in memory.

``Registrar.update`` carries out steps 6 to 8 of §10.3 for one REGISTER whose sender has
already been authenticated (steps 1-5 are the SIP edge's: digest, To/From, Require) and
returns the response to send. ``now`` is monotonic seconds, handed in.

Decisions, and why:
- **All or nothing** (§10.3 step 7): changes are worked out on a copy and committed only if
  every contact in the request succeeds; a 400, 423, 403 or 500 leaves the bindings as
  they were.
- **Expiry**: the contact's ``expires`` parameter, else the ``Expires`` header, else
  ``default_expires``. Zero removes. Below ``min_expires`` (and not zero) is ``423``
  with ``Min-Expires`` (§10.3 step 7, §20.23). Above ``max_expires`` is shortened to it,
  which the registrar may do (§10.2.1.1); the 200 tells the phone what it got.
- **Too many bindings** for one address of record answer ``403 Too Many Contacts``: the
  request will never succeed as it is, so a 5xx inviting a retry (§21.5.4) would be wrong.
  The phone, or its user, has to remove a binding first.
- **Contact equivalence** is simplified from §19.1.4: scheme, user, host (case-insensitive),
  port and the ``transport`` parameter; other URI parameters do not tell bindings apart.
- **Flow**: each binding remembers the transport and the address the REGISTER came from,
  so requests go back along the same path through NAT (RFC 5626 in spirit) rather than to
  a private Contact address.
- **Kept across restarts** by whoever sets ``on_change`` (``BindingKeeper``): it hears
  every committed change and can put bindings back with ``restore``; the registrar itself
  does no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from switchboard.sip.flow import Flow
from switchboard.sip.message import NameAddr

_DIGITS = frozenset("0123456789")

URIKey = tuple[str, str | None, str, int | None, str | None]


@dataclass(frozen=True, slots=True)
class Binding:
    contact: NameAddr
    """As the phone sent it, less any ``expires`` parameter (the 200 adds a fresh one)."""
    expires_at: float
    call_id: str
    cseq: int
    flow: Flow
    """Where the REGISTER came from: requests for this binding go back along it."""
    q: float | None = None

    def remaining(self, now: float) -> int:
        """Whole seconds left, for the ``expires`` parameter of the 200's Contact.

        ``now + 300 - now`` is not always 300 in floating point (it can be a hair above,
        which ``ceil`` made 301): a millisecond of slack grants what was asked."""
        return max(0, math.ceil(self.expires_at - now - 0.001))

    @property
    def key(self) -> URIKey:
        return contact_key(self.contact)


@dataclass(frozen=True, slots=True)
class BindingDelta:
    """What one REGISTER changed: bindings made or refreshed, and bindings it removed
    (expiry 0, ``Contact: *``, or replaced by another contact's equal)."""

    added: tuple[Binding, ...]
    removed: tuple[Binding, ...]


@dataclass(frozen=True, slots=True)
class RegisterResult:
    status: int
    reason: str
    bindings: tuple[Binding, ...] = ()
    """The user's current bindings after the request (for the 200's Contact list)."""
    min_expires: int | None = None
    """For a 423: the ``Min-Expires`` header value."""
    detail: str = ""
    """Why, in words for a log line (never sent)."""

    @property
    def ok(self) -> bool:
        return self.status == 200


def contact_key(contact: NameAddr) -> URIKey:
    """Simplified URI equivalence (RFC 3261 §19.1.4)."""
    uri = contact.uri
    transport = uri.param("transport")
    return (
        uri.scheme.lower(),
        uri.user,
        uri.host.lower(),
        uri.port,
        None if transport is None else transport.lower(),
    )


def _parse_q(contact: NameAddr) -> tuple[bool, float | None]:
    """The ``q`` parameter: 0 to 1 with at most three decimals (RFC 3261 §20.10, §25.1)."""
    text = contact.param("q")
    if text is None:
        return True, None
    whole, _, decimals = text.partition(".")
    if (
        whole not in ("0", "1")
        or len(decimals) > 3
        or not set(decimals) <= _DIGITS
        or (whole == "1" and decimals.strip("0"))
    ):
        return False, None
    return True, float(text)


def _without_expires(contact: NameAddr) -> NameAddr:
    params = tuple(p for p in contact.params if p.name.lower() != "expires")
    return replace(contact, params=params) if params != contact.params else contact


class Registrar:
    """Bindings per address of record (the ``user`` key), in memory."""

    def __init__(
        self,
        min_expires: int = 60,
        max_expires: int = 3600,
        default_expires: int = 3600,
        max_bindings: int = 10,
    ) -> None:
        if not 0 < min_expires <= default_expires <= max_expires:
            raise ValueError(
                "expiry settings must satisfy 0 < min_expires <= default_expires <= "
                f"max_expires, not {min_expires}, {default_expires}, {max_expires}"
            )
        if max_bindings < 1:
            raise ValueError(f"max_bindings must be at least 1, not {max_bindings}")
        self.min_expires = min_expires
        self.max_expires = max_expires
        self.default_expires = default_expires
        self.max_bindings = max_bindings
        self._bindings: dict[str, tuple[Binding, ...]] = {}
        self.on_change: Callable[[str, tuple[Binding, ...], float], None] | None = None
        """Told (user, the user's live bindings, now) after each REGISTER answered 200 (a
        refresh or a query too); never after a refused one, which changes nothing."""
        self.on_delta: Callable[[str, BindingDelta, float], None] | None = None
        """Told (user, what this REGISTER changed, now) when it changed something: what
        other workers must apply (``merge``) to agree with this one (issue 14)."""

    # -- reads -----------------------------------------------------------------------------
    def bindings(self, user: str, now: float) -> tuple[Binding, ...]:
        """The live bindings of ``user``, most preferred (highest q) first."""
        held = self._bindings.get(user)
        if not held:
            return ()  # asked on every call; most extensions have no phone registered
        return _order(b for b in held if b.expires_at > now)

    def binding_count(self) -> int:
        """Bindings held now (some may have expired since the last housekeeping)."""
        return sum(len(held) for held in self._bindings.values())

    def users(self) -> tuple[str, ...]:
        return tuple(sorted(self._bindings))

    def expire(self, now: float) -> int:
        """Drop expired bindings (housekeeping); returns how many went."""
        dropped = 0
        for user in list(self._bindings):
            before = self._bindings[user]
            live = tuple(b for b in before if b.expires_at > now)
            dropped += len(before) - len(live)
            self._store(user, live)
        return dropped

    # -- REGISTER --------------------------------------------------------------------------
    def update(
        self,
        user: str,
        contacts: Sequence[tuple[NameAddr, int | None]] | Literal["*"],
        header_expires: int | None,
        call_id: str,
        cseq: int,
        flow: Flow,
        now: float,
    ) -> RegisterResult:
        """Process one REGISTER's Contacts (RFC 3261 §10.3 steps 6-8)."""
        current = {b.key: b for b in self._bindings.get(user, ()) if b.expires_at > now}
        if contacts == "*":
            outcome = self._remove_all(current, header_expires, call_id, cseq)
        else:
            outcome = self._apply(current, contacts, header_expires, call_id, cseq, flow, now)
        if isinstance(outcome, RegisterResult):
            return replace(outcome, bindings=self.bindings(user, now))
        self._store(user, tuple(outcome.values()))
        live = self.bindings(user, now)
        if self.on_change is not None:
            self.on_change(user, live, now)
        if self.on_delta is not None:
            delta = _delta(current, outcome)
            if delta.added or delta.removed:
                self.on_delta(user, delta, now)
        return RegisterResult(200, "OK", live)

    def merge(
        self, user: str, added: Iterable[Binding], removed: Iterable[NameAddr], now: float
    ) -> None:
        """Apply a change another worker made (``on_delta`` there): each binding in
        ``added`` replaces the one with the same contact, each contact in ``removed`` goes.
        Idempotent, so applying a change twice (the feed brings a worker's own changes back
        to it) is harmless. ``max_bindings`` is the writer's to enforce; ``on_change`` and
        ``on_delta`` are not told: nothing new happened here."""
        held = {b.key: b for b in self._bindings.get(user, ()) if b.expires_at > now}
        for contact in removed:
            held.pop(contact_key(contact), None)
        for binding in added:
            if binding.expires_at > now:
                held[binding.key] = binding
            else:
                held.pop(binding.key, None)
        self._store(user, tuple(held.values()))

    def restore(self, user: str, bindings: Iterable[Binding], now: float) -> int:
        """Put back bindings kept from before a restart, keeping only the live ones and at
        most ``max_bindings`` (highest q first); bindings ``user`` already has are replaced.
        Returns how many were put back. ``on_change`` is not told: nothing new happened."""
        kept = _order(b for b in bindings if b.expires_at > now)[: self.max_bindings]
        self._store(user, kept)
        return len(kept)

    def _remove_all(
        self,
        current: dict[URIKey, Binding],
        header_expires: int | None,
        call_id: str,
        cseq: int,
    ) -> dict[URIKey, Binding] | RegisterResult:
        """``Contact: *`` (§10.3 step 6): only with ``Expires: 0``; removes every binding."""
        if header_expires != 0:
            return RegisterResult(400, "Bad Request", detail="Contact * needs Expires: 0")
        for binding in current.values():
            if binding.call_id == call_id and binding.cseq >= cseq:
                return _out_of_order()
        return {}

    def _apply(
        self,
        current: dict[URIKey, Binding],
        contacts: Sequence[tuple[NameAddr, int | None]],
        header_expires: int | None,
        call_id: str,
        cseq: int,
        flow: Flow,
        now: float,
    ) -> dict[URIKey, Binding] | RegisterResult:
        updated = dict(current)
        for contact, contact_expires in contacts:
            if contact.uri.scheme.lower() not in ("sip", "sips"):
                return RegisterResult(400, "Bad Request", detail="Contact is not a SIP URI")
            requested = contact_expires if contact_expires is not None else header_expires
            if requested is None:
                requested = self.default_expires
            if requested < 0:
                return RegisterResult(400, "Bad Request", detail="negative expires")
            if 0 < requested < self.min_expires:
                return RegisterResult(
                    423,
                    "Interval Too Brief",
                    min_expires=self.min_expires,
                    detail=f"expires {requested} below {self.min_expires}",
                )
            valid_q, q = _parse_q(contact)
            if not valid_q:
                return RegisterResult(400, "Bad Request", detail="invalid q parameter")
            key = contact_key(contact)
            # Against the bindings as they were: a contact listed twice in one request is
            # not out of order with itself.
            existing = current.get(key)
            if existing is not None and existing.call_id == call_id and existing.cseq >= cseq:
                return _out_of_order()
            if requested == 0:
                updated.pop(key, None)
                continue
            expires = min(requested, self.max_expires)
            updated[key] = Binding(_without_expires(contact), now + expires, call_id, cseq, flow, q)
        if len(updated) > self.max_bindings:
            return RegisterResult(
                403,
                "Too Many Contacts",
                detail=f"more than {self.max_bindings} bindings for one address of record",
            )
        return updated

    def _store(self, user: str, bindings: tuple[Binding, ...]) -> None:
        if bindings:
            self._bindings[user] = bindings
        else:
            self._bindings.pop(user, None)


def _delta(before: dict[URIKey, Binding], after: dict[URIKey, Binding]) -> BindingDelta:
    added = tuple(b for key, b in after.items() if before.get(key) != b)
    removed = tuple(b for key, b in before.items() if key not in after)
    return BindingDelta(added, removed)


def _out_of_order() -> RegisterResult:
    """§10.3 step 7: same Call-ID, CSeq not higher: abort with a 500."""
    return RegisterResult(
        500, "Server Internal Error", detail="REGISTER out of order (same Call-ID, old CSeq)"
    )


def _order(bindings: Iterable[Binding]) -> tuple[Binding, ...]:
    """Highest q first (no q counts as 1.0, §16.6), otherwise in registration order."""
    return tuple(sorted(bindings, key=lambda b: -(1.0 if b.q is None else b.q)))
