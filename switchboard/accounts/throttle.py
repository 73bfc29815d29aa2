"""Sign-in throttling that slows guessers without letting anyone lock a user out (issue 5).

Why two counters, and why they differ:
- **Per source address** (an IPv4 address, or an IPv6 /64, since one customer gets a whole
  /64): the attacker's own address. Each failure doubles the wait before the next attempt
  from there, 1 s, 2 s, 4 s ... capped at 60 s. Strict, because slowing it hurts only the
  one who keeps failing. A success does *not* reset it: otherwise an attacker holding one
  valid account would sign in to it between guesses to wipe the slate.
- **Per username**: catches one account guessed at from many addresses. It is mild on
  purpose, since an attacker controls it: the first 5 failures cost nothing, after that the
  wait grows to at most 5 s; a source that signed in successfully as that user in the last
  30 days skips it altogether. So a distributed attack slows each guess of everyone by a
  few seconds but never locks the real user out; their usual address is not slowed at all.
- There is no hard lockout anywhere: every wait ends by itself, and counters are forgotten
  after 15 minutes without failures.
- An attempt refused because of a wait is not a failure: it neither verifies nor counts,
  so hammering during a wait does not lengthen it.
- The username counter is kept for whatever was typed, existing or not, so the throttle
  itself never tells a guesser which usernames exist.

Memory is bounded: each table keeps at most ``max_entries`` keys (least recently touched
go first) and each key is truncated. Time is passed in (``now``): the throttle never reads
a clock. State is per process; with several nodes, each throttles what it sees (the
per-source wait is what matters, and a client sticks to one node behind a balancer).
"""

from __future__ import annotations

import ipaddress
import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from switchboard.accounts.model import AccountError, normalise_username

KEY_LENGTH = 128
K = TypeVar("K")
V = TypeVar("V")


class LoginThrottledError(AccountError):
    """Sign-in attempts from this source or for this name are being slowed: try again after
    ``retry_after`` seconds (the web answers 429 with ``Retry-After``). Never a lockout."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            f"too many failed sign-ins; try again in {max(1, math.ceil(retry_after))} seconds"
        )
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    source_base_seconds: float = 1.0
    source_cap_seconds: float = 60.0
    username_free_failures: int = 5
    username_base_seconds: float = 1.0
    username_cap_seconds: float = 5.0
    forget_after: timedelta = timedelta(minutes=15)
    trusted_for: timedelta = timedelta(days=30)
    max_entries: int = 10_000


@dataclass(slots=True)
class _Failures:
    """Mutable on purpose: one counter updated in place, owned by its throttle."""

    count: int
    last: datetime


def source_key(source: str) -> str:
    """The address a throttle counts by: IPv4 as is, IPv6 by its /64, others as given."""
    try:
        address = ipaddress.ip_address(source.strip().strip("[]"))
    except ValueError:
        return source[:KEY_LENGTH]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


def username_key(username: str) -> str:
    return normalise_username(username)[:KEY_LENGTH]


def _delay(count: int, base: float, cap: float) -> float:
    """base * 2**(count-1), capped; 0 for no failures."""
    if count <= 0:
        return 0.0
    return min(cap, base * 2.0 ** min(count - 1, 32))


class LoginThrottle:
    """``check`` before verifying a password; ``failed`` or ``succeeded`` after."""

    def __init__(self, policy: ThrottlePolicy | None = None) -> None:
        self.policy = policy or ThrottlePolicy()
        self._sources: OrderedDict[str, _Failures] = OrderedDict()
        self._usernames: OrderedDict[str, _Failures] = OrderedDict()
        self._trusted: OrderedDict[tuple[str, str], datetime] = OrderedDict()

    def check(self, username: str, source: str, now: datetime) -> float:
        """Seconds to wait before this attempt may be verified; 0 means go."""
        p = self.policy
        src, user = source_key(source), username_key(username)
        waits = [self._wait(self._sources, src, now, p.source_base_seconds, p.source_cap_seconds)]
        if not self._is_trusted(user, src, now):
            free = p.username_free_failures
            waits.append(
                self._wait(
                    self._usernames,
                    user,
                    now,
                    p.username_base_seconds,
                    p.username_cap_seconds,
                    free=free,
                )
            )
        return max(waits)

    def failed(self, username: str, source: str, now: datetime) -> None:
        self._count(self._sources, source_key(source), now)
        self._count(self._usernames, username_key(username), now)

    def succeeded(self, username: str, source: str, now: datetime) -> None:
        """The right password: the username's counter goes and this source is trusted for it.

        The source's own counter stays (see the module doc).
        """
        user, src = username_key(username), source_key(source)
        self._usernames.pop(user, None)
        self._trusted[(user, src)] = now
        self._trusted.move_to_end((user, src))
        self._bound(self._trusted)

    def entries(self) -> int:
        """How many keys the throttle holds (for tests and a health view)."""
        return len(self._sources) + len(self._usernames) + len(self._trusted)

    # -- plumbing --------------------------------------------------------------------------
    def _fresh(
        self, table: OrderedDict[str, _Failures], key: str, now: datetime
    ) -> _Failures | None:
        entry = table.get(key)
        if entry is not None and now - entry.last >= self.policy.forget_after:
            del table[key]
            return None
        return entry

    def _wait(
        self,
        table: OrderedDict[str, _Failures],
        key: str,
        now: datetime,
        base: float,
        cap: float,
        *,
        free: int = 0,
    ) -> float:
        entry = self._fresh(table, key, now)
        if entry is None:
            return 0.0
        delay = _delay(entry.count - free, base, cap)
        return max(0.0, delay - (now - entry.last).total_seconds())

    def _count(self, table: OrderedDict[str, _Failures], key: str, now: datetime) -> None:
        entry = self._fresh(table, key, now)
        if entry is None:
            table[key] = _Failures(1, now)
        else:
            entry.count += 1
            entry.last = now
            table.move_to_end(key)
        self._bound(table)

    def _is_trusted(self, user: str, src: str, now: datetime) -> bool:
        since = self._trusted.get((user, src))
        if since is None:
            return False
        if now - since >= self.policy.trusted_for:
            del self._trusted[(user, src)]
            return False
        return True

    def _bound(self, table: OrderedDict[K, V]) -> None:
        while len(table) > self.policy.max_entries:
            table.popitem(last=False)
