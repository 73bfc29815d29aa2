"""Keeps the registrar's bindings across restarts: saved as they change, put back at start.

Without it a restart (an upgrade, a crash) leaves every registered phone unreachable until
it next registers, which for many desk phones is an hour later. Asterisk and FreeSWITCH
keep their registrations in their database for the same reason.

- **Saving**: ``changed`` is the registrar's ``on_change``. It turns the user's bindings
  into ``SavedBinding`` values (expiry as a wall-clock instant) and keeps only the newest
  set per user, in memory; ``run`` (a task owned by the app's TaskGroup) saves what
  changed once a second, in one transaction on the store's side thread, and a clean stop
  saves the rest. A crash loses at most the last second of REGISTERs, which the phones
  repeat anyway.
- **What is saved**: bindings over UDP only. A TCP binding is its connection (RFC 5626
  in spirit): after a restart that connection is gone, nothing can reach the phone along
  it, and a phone on TCP registers again as soon as it sees the connection close.
- **Sharing** (``share=True``, ``serve --workers``; issue 14): what each REGISTER
  changed (``Registrar.on_delta``: bindings made or refreshed, over any transport, and
  contacts removed) also goes out as ``BindingsChanged`` on the change feed, in the same
  transaction as the save, every ``flush_seconds`` (0.1 s with workers). Every worker's
  follower brings it back (to the writer too), and ``apply`` merges it into that
  worker's registrar without telling ``changed`` or ``on_delta``: no echo.
- **Restoring** (``restore``, before SIP serves): a binding comes back only if it has
  not expired, its extension still has a SIP credential (one removed while the server was
  down must not keep ringing), and its contact still parses. A row that does not parse is
  skipped and named in the log (address of record and position; never the contact, which
  holds the phone's address), and the others are restored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from switchboard.clock import Clock
from switchboard.events import BindingsChanged
from switchboard.sip.flow import Flow
from switchboard.sip.grammar import ParseError, format_name_addr, parse_name_addr
from switchboard.sip.registrar import Binding, BindingDelta, Registrar, URIKey
from switchboard.sip.saved_bindings import SavedBinding
from switchboard.store.periodic import Sleep, flush_periodically
from switchboard.store.protocol import StoreError

log = structlog.get_logger("switchboard.sip")

FLUSH_SECONDS = 1.0
SHARED_FLUSH_SECONDS = 0.1
"""With workers: a REGISTER on one is seen by the others within this, plus the feed's
poll (``live.follow.INTERVAL``) and a commit."""


class BindingSink(Protocol):
    """The two store methods the keeper uses (``switchboard.store.protocol.BindingStore``)."""

    async def saved_bindings(self) -> list[SavedBinding]: ...

    async def save_bindings(
        self,
        changes: Mapping[str, Sequence[SavedBinding]],
        expired_before: datetime,
        announce: Sequence[BindingsChanged] = (),
    ) -> None: ...


class BindingKeeper:
    def __init__(
        self,
        sink: BindingSink,
        clock: Clock,
        *,
        flush_seconds: float = FLUSH_SECONDS,
        share: bool = False,
    ) -> None:
        self._sink = sink
        self._clock = clock
        self.flush_seconds = flush_seconds
        self.share = share
        self._pending: dict[str, tuple[SavedBinding, ...]] = {}
        self._shared: dict[str, dict[URIKey, SavedBinding | str]] = {}
        """Per address of record, per contact: the binding made, or the contact removed
        (its text), since the last flush; the newest wins."""

    @property
    def pending(self) -> int:
        """Addresses of record whose newest bindings are not saved yet."""
        return len(self._pending.keys() | self._shared.keys())

    def attach(self, registrar: Registrar) -> None:
        """Hear every change ``registrar`` commits (and, when sharing, what it changed)."""
        registrar.on_change = self.changed
        if self.share:
            registrar.on_delta = self.delta

    def delta(self, user: str, delta: BindingDelta, now: float) -> None:
        """The registrar's ``on_delta``: remember what to announce to the other workers."""
        wall = self._clock.now()
        shared = self._shared.setdefault(user, {})
        for b in delta.removed:
            shared[b.key] = format_name_addr(b.contact)
        for b in delta.added:
            shared[b.key] = _saved(user, b, wall + timedelta(seconds=b.expires_at - now))

    def apply(self, event: BindingsChanged, registrar: Registrar, now: float) -> None:
        """Merge another worker's change (or this one's, back from the feed)."""
        wall = self._clock.now()
        added = []
        for row in event.added:
            binding = _binding(row, now + (row.expires_at - wall).total_seconds(), tcp=True)
            if binding is not None:
                added.append(binding)
        removed = []
        for text in event.removed:
            try:
                removed.append(parse_name_addr(text, where="Contact"))
            except ParseError:
                log.warning("sip_binding_change_unreadable", extension=event.aor)
        registrar.merge(event.aor, added, removed, now)

    def changed(self, user: str, bindings: tuple[Binding, ...], now: float) -> None:
        """The registrar's ``on_change``: remember ``user``'s bindings to save (no I/O)."""
        wall = self._clock.now()
        self._pending[user] = tuple(
            _saved(user, b, wall + timedelta(seconds=b.expires_at - now))
            for b in bindings
            if not b.flow.reliable
        )

    async def flush(self) -> int:
        """Save every pending change in one transaction; returns how many users' bindings
        were saved. On a store error the changes stay pending (newer ones win) and the
        error propagates to ``run``, which logs it and tries again."""
        if not self._pending and not self._shared:
            return 0
        taken, self._pending = self._pending, {}
        shared, self._shared = self._shared, {}
        announce = [
            BindingsChanged(
                user,
                tuple(c for c in changes.values() if isinstance(c, SavedBinding)),
                tuple(c for c in changes.values() if isinstance(c, str)),
            )
            for user, changes in shared.items()
        ]
        try:
            await self._sink.save_bindings(taken, self._clock.now(), announce)
        except BaseException:
            self._pending = taken | self._pending
            for user, changes in shared.items():
                self._shared[user] = changes | self._shared.get(user, {})
            raise
        return len(taken.keys() | shared.keys())

    async def restore(self, registrar: Registrar, now: float, known: Callable[[str], bool]) -> int:
        """Put the saved bindings back into ``registrar`` (``now``: its clock); returns
        how many came back. ``known(user)``: whether the extension may register now. A
        store that cannot be read is logged and restores nothing: SIP serves anyway."""
        try:
            saved = await self._sink.saved_bindings()
        except StoreError as exc:
            # The phones register again on their own: serve without them, say so.
            log.error("sip_bindings_not_restored", error=str(exc))
            return 0
        wall = self._clock.now()
        by_user: dict[str, list[Binding]] = {}
        for position, row in enumerate(saved):
            binding = _binding(row, now + (row.expires_at - wall).total_seconds())
            if binding is None:
                log.warning("sip_binding_unreadable", extension=row.aor, row=position)
            elif known(row.aor):
                by_user.setdefault(row.aor, []).append(binding)
        restored = sum(registrar.restore(user, found, now) for user, found in by_user.items())
        log.info("sip_bindings_restored", bindings=restored, saved=len(saved), users=len(by_user))
        return restored

    async def run(self, sleep: Sleep | None = None) -> None:
        """Save changes every ``flush_seconds`` until cancelled; a clean stop saves the rest."""
        await flush_periodically(
            self.flush, self.flush_seconds, last=self.flush, failed=self._failed, sleep=sleep
        )

    def _failed(self, exc: StoreError, stopping: bool) -> None:
        event = "sip_bindings_lost_at_stop" if stopping else "sip_bindings_not_saved"
        log.error(event, pending=self.pending, error=str(exc))


def _saved(user: str, b: Binding, expires_at: datetime) -> SavedBinding:
    flow = b.flow
    return SavedBinding(
        user,
        format_name_addr(b.contact),
        expires_at,
        b.call_id,
        b.cseq,
        flow.transport,
        flow.host,
        flow.port,
        b.q,
    )


def _binding(row: SavedBinding, expires_at: float, *, tcp: bool = False) -> Binding | None:
    """The registrar's binding for a saved row, or None when the row cannot be one. A
    TCP binding only comes from another worker (``tcp``): its connection lives there."""
    if row.transport not in (("udp", "tcp") if tcp else ("udp",)) or not 0 < row.port < 65536:
        return None
    try:
        contact = parse_name_addr(row.contact, where="Contact")
    except ParseError:
        return None
    flow = Flow(row.transport, row.host, row.port)
    return Binding(contact, expires_at, row.call_id, row.cseq, flow, row.q)
