"""Sign-in throttling that slows guessers without letting anyone lock a user out (issues 5, 17).

Three limits, and why they differ:
- **Per source address** (an IPv4 address, or an IPv6 /64, since one customer gets a whole
  /64): the attacker's own address. Each failure doubles the wait before the next attempt
  from there, 1 s, 2 s, 4 s ... capped at 60 s. Strict, because slowing it hurts only the
  one who keeps failing. A success does *not* reset it: otherwise an attacker holding one
  valid account would sign in to it between guesses to wipe the slate. Forgotten after 15
  minutes without failures.
- **Per account, from addresses it has not signed in from** (issue 17): at most 100 failed
  sign-ins an hour per account, however many addresses guess. A leaky bucket: the first 10
  failures cost nothing, and the bucket drains one failure a minute, so each further
  attempt waits until there is room (at most 60 s). In any hour at most 10 + 60 = 70
  failures get through from such addresses.
- **Per account, from addresses it signed in from in the last 30 days**: a bucket of its
  own, so an attacker filling the first one never slows the real user at their usual
  addresses: 10 free, then one every 3 minutes, at most 10 + 20 = 30 an hour. Apart, the
  two buckets keep the account's total at 100 an hour.
Nothing here is a lockout: every wait ends by itself, the real user keeps their own bucket
(and single sign-on, which this throttle does not touch), and a success drains nothing
(else a guesser would learn to interleave). When an account's bucket first fills,
``failed`` says so once an hour, so the account service can tell administrators.

An attempt refused because of a wait is not a failure: it neither verifies nor counts, so
hammering during a wait does not lengthen it. The account buckets are kept for whatever
was typed, existing or not, so the throttle itself never tells a guesser which usernames
exist. ``check`` and ``failed`` of one attempt must not be interleaved with another
attempt's for the same name (the account service runs them on the event loop without
yielding between them: the store read is synchronous SQLite and argon2 runs in line).

Memory is bounded: each table keeps at most ``max_entries`` keys, each key truncated. The
source and trust tables drop the least recently touched; the bucket tables drop the
emptiest bucket, so flooding them with other names cannot empty a victim's. Time is passed
in (``now``): the throttle never reads a clock. State is per process; with several nodes,
each throttles what it sees (a client sticks to one node behind a balancer), so the hourly
limit is per node.
"""

from __future__ import annotations

import ipaddress
import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
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


class LimitReached(StrEnum):
    """Which of an account's buckets filled (``failed``'s notice)."""

    NEW = "new_addresses"
    """Addresses the account has not signed in from: the guessers' usual case."""
    KNOWN = "known_addresses"
    """Addresses it signed in from in the last 30 days (a shared office address, say)."""


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    source_base_seconds: float = 1.0
    source_cap_seconds: float = 60.0
    account_free_failures: int = 10
    """Failures from addresses the account has not used before any wait (the burst)."""
    account_interval: timedelta = timedelta(minutes=1)
    """Then one attempt per interval: the bucket drains a failure each interval."""
    known_free_failures: int = 10
    """The same, for addresses the account signed in from within ``trusted_for``."""
    known_interval: timedelta = timedelta(minutes=3)
    forget_after: timedelta = timedelta(minutes=15)
    trusted_for: timedelta = timedelta(days=30)
    notice_every: timedelta = timedelta(hours=1)
    """At most one notice per account and bucket in this time."""
    max_entries: int = 10_000

    @property
    def hourly_limit(self) -> int:
        """The most failed sign-ins per account that can get through in any hour: each
        bucket lets through its burst plus what drains in an hour."""
        hour = timedelta(hours=1)
        return (
            self.account_free_failures
            + int(hour / self.account_interval)
            + self.known_free_failures
            + int(hour / self.known_interval)
        )

    @property
    def longest_wait(self) -> float:
        """No single wait is longer (a patient user always gets through)."""
        return max(
            self.source_cap_seconds,
            self.account_interval.total_seconds(),
            self.known_interval.total_seconds(),
        )


@dataclass(slots=True)
class _Failures:
    """Mutable on purpose: one counter updated in place, owned by its throttle."""

    count: int
    last: datetime


@dataclass(slots=True)
class _Bucket:
    """A leaky bucket of failures, drained at one per interval; mutable like ``_Failures``."""

    level: float
    at: datetime
    noticed: datetime | None = None

    def now_level(self, now: datetime, interval: timedelta) -> float:
        return max(0.0, self.level - (now - self.at) / interval)


_ROOM = 1e-9
"""Float slack: after waiting exactly the wait ``check`` named, the attempt goes."""


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
        self._strangers: dict[str, _Bucket] = {}
        """Per account: failures from addresses it has not signed in from."""
        self._known: dict[str, _Bucket] = {}
        """Per account: failures from addresses it signed in from (``_trusted``)."""
        self._trusted: OrderedDict[tuple[str, str], datetime] = OrderedDict()

    def check(self, username: str, source: str, now: datetime) -> float:
        """Seconds to wait before this attempt may be verified; 0 means go."""
        p = self.policy
        src, user = source_key(source), username_key(username)
        source_wait = self._wait(
            self._sources, src, now, p.source_base_seconds, p.source_cap_seconds
        )
        table, free, interval = self._bucket_of(user, src, now)
        return max(source_wait, self._bucket_wait(table.get(user), now, free, interval))

    def failed(self, username: str, source: str, now: datetime) -> LimitReached | None:
        """Count a failure. When it filled one of the account's buckets (from now on each
        attempt from such addresses waits) and no notice was given for that bucket within
        the hour, say which: the caller tells administrators."""
        src, user = source_key(source), username_key(username)
        self._count(self._sources, src, now)
        table, free, interval = self._bucket_of(user, src, now)
        kind = LimitReached.KNOWN if table is self._known else LimitReached.NEW
        bucket = table.get(user)
        if bucket is None:
            bucket = table[user] = _Bucket(0.0, now)
            self._bound_buckets(table, now, interval)
        bucket.level = bucket.now_level(now, interval) + 1
        bucket.at = now
        if bucket.level + _ROOM < free:
            return None
        if bucket.noticed is not None and now - bucket.noticed < self.policy.notice_every:
            return None
        bucket.noticed = now
        return kind

    def succeeded(self, username: str, source: str, now: datetime) -> None:
        """The right password: this source is trusted for the account from now on.

        Neither the source's counter nor the account's buckets go (see the module doc).
        """
        user, src = username_key(username), source_key(source)
        self._trusted[(user, src)] = now
        self._trusted.move_to_end((user, src))
        self._bound(self._trusted)

    def entries(self) -> int:
        """How many keys the throttle holds (for tests and a health view)."""
        return len(self._sources) + len(self._strangers) + len(self._known) + len(self._trusted)

    # -- plumbing --------------------------------------------------------------------------
    def _bucket_of(
        self, user: str, src: str, now: datetime
    ) -> tuple[dict[str, _Bucket], int, timedelta]:
        p = self.policy
        if self._is_trusted(user, src, now):
            return self._known, p.known_free_failures, p.known_interval
        return self._strangers, p.account_free_failures, p.account_interval

    @staticmethod
    def _bucket_wait(
        bucket: _Bucket | None, now: datetime, free: int, interval: timedelta
    ) -> float:
        if bucket is None:
            return 0.0
        over = bucket.now_level(now, interval) + 1 - free
        return 0.0 if over <= _ROOM else over * interval.total_seconds()

    def _bound_buckets(self, table: dict[str, _Bucket], now: datetime, interval: timedelta) -> None:
        """Drop the emptiest buckets: pushing a victim's full bucket out would take as many
        other names filled as far (a least-recently-used rule would let noise do it)."""
        while len(table) > self.policy.max_entries:
            emptiest = min(table, key=lambda k: table[k].now_level(now, interval))
            del table[emptiest]

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
    ) -> float:
        entry = self._fresh(table, key, now)
        if entry is None:
            return 0.0
        delay = _delay(entry.count, base, cap)
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
