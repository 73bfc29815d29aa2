"""Per-source limits for the SIP edge: failed authentication, request rate, flood bans.

Pure: ``now`` (monotonic seconds) is handed in. Memory is bounded: each limiter tracks at
most ``max_sources`` sources and forgets the least recently seen first, so a flood of
distinct (possibly spoofed) addresses costs a fixed amount of memory. The price of the
bound is that a source pushed out is forgotten, block included; a blocked source that
keeps trying stays fresh, because checking it counts as seeing it.

Why per *source* and never per user (issue 3, security defaults): a lockout per user would
let anyone lock a colleague out by guessing wrong on purpose; blocking the address that
fails only stops that address.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

DEFAULT_MAX_SOURCES = 100_000


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{name} must be positive, not {value}")


@dataclass(slots=True)
class _Failures:
    times: deque[float] = field(default_factory=deque)
    blocked_until: float | None = None


class AuthFailureLimiter:
    """Block a source for ``block_for`` seconds after ``max_failures`` within ``window``.

    The block line is what fail2ban can also act on; this is the in-process first line.
    """

    def __init__(
        self,
        max_failures: int = 5,
        window: float = 60.0,
        block_for: float = 300.0,
        *,
        max_sources: int = DEFAULT_MAX_SOURCES,
    ) -> None:
        _check_positive(
            max_failures=max_failures, window=window, block_for=block_for, max_sources=max_sources
        )
        self.max_failures = max_failures
        self.window = window
        self.block_for = block_for
        self.max_sources = max_sources
        self._sources: OrderedDict[str, _Failures] = OrderedDict()

    @property
    def tracked(self) -> int:
        return len(self._sources)

    def blocked(self, source: str, now: float) -> bool:
        state = self._sources.get(source)
        if state is None or state.blocked_until is None:
            return False
        if now < state.blocked_until:
            self._sources.move_to_end(source)
            return True
        # The block has run out: start again with a clean record.
        del self._sources[source]
        return False

    def recent(self, source: str, now: float) -> int:
        """Failures of ``source`` in the window up to ``now`` (0 while it is blocked): the
        count of the current burst, which the log lines carry."""
        state = self._sources.get(source)
        if state is None:
            return 0
        return sum(1 for at in state.times if at > now - self.window)

    def record_failure(self, source: str, now: float) -> bool:
        """Count one failure; True when this failure starts a block."""
        if self.blocked(source, now):
            return False
        state = self._sources.get(source)
        if state is None:
            state = self._sources[source] = _Failures(deque(maxlen=self.max_failures))
            while len(self._sources) > self.max_sources:
                self._sources.popitem(last=False)
        else:
            self._sources.move_to_end(source)
        times = state.times
        while times and times[0] <= now - self.window:
            times.popleft()
        times.append(now)
        if len(times) >= self.max_failures:
            state.blocked_until = now + self.block_for
            times.clear()
            return True
        return False

    def forget(self, source: str) -> None:
        """Clear a source's record (after it authenticated successfully)."""
        self._sources.pop(source, None)

    def knows(self, source: str) -> bool:
        """Whether ``source`` has a record (failures, or a block) to forget."""
        return source in self._sources


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class SourceRateLimiter:
    """A token bucket per source: ``rate`` requests per second, bursts up to ``burst``.

    Each source drains only its own bucket, so a flood from one address cannot starve the
    others (issue 3). A source forgotten under memory pressure comes back with a full
    bucket, which errs towards answering.
    """

    def __init__(
        self, rate: float, burst: float, *, max_sources: int = DEFAULT_MAX_SOURCES
    ) -> None:
        _check_positive(rate=rate, burst=burst, max_sources=max_sources)
        if burst < 1:
            raise ValueError(f"burst must allow at least one request, not {burst}")
        self.rate = rate
        self.burst = burst
        self.max_sources = max_sources
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @property
    def tracked(self) -> int:
        return len(self._buckets)

    def allow(self, source: str, now: float) -> bool:
        bucket = self._buckets.get(source)
        if bucket is None:
            bucket = self._buckets[source] = _Bucket(self.burst, now)
            while len(self._buckets) > self.max_sources:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(source)
            elapsed = max(0.0, now - bucket.at)
            bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
            bucket.at = max(bucket.at, now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False


@dataclass(frozen=True, slots=True)
class Ban:
    """A source banned for flooding: until when, and for how long it had been over."""

    until: float
    over_seconds: int


@dataclass(slots=True)
class _Overrun:
    first: int
    last: int


class FloodBans:
    """Ban a source that stays over its rate (issue 17): refused in each of ``after``
    consecutive seconds, it is banned for ``ban_for`` seconds.

    ``SourceRateLimiter`` alone answers a steady flood at the configured rate forever
    (500 INVITEs/s got 200 answers/s, each a challenge to compute). Counted per second
    with a refusal, not per refused packet: the edge mutes a refused source for a moment
    and cannot count what it does not read. A burst shorter than ``after`` seconds (a
    registration storm behind one NAT) is only throttled; the ban ends by itself, and a
    source that floods again after it starts from a clean record (a new burst, a new
    log line).
    """

    def __init__(
        self, after: int = 3, ban_for: float = 60.0, *, max_sources: int = DEFAULT_MAX_SOURCES
    ) -> None:
        _check_positive(after=after, ban_for=ban_for, max_sources=max_sources)
        self.after = after
        self.ban_for = ban_for
        self.max_sources = max_sources
        self._sources: OrderedDict[str, _Overrun] = OrderedDict()

    @property
    def tracked(self) -> int:
        return len(self._sources)

    def refused(self, source: str, now: float) -> Ban | None:
        """Note that ``source`` was refused at ``now``; the ban when this starts one."""
        second = int(now)
        run = self._sources.get(source)
        if run is None:
            self._sources[source] = _Overrun(second, second)
            while len(self._sources) > self.max_sources:
                self._sources.popitem(last=False)
            run = self._sources[source]
        else:
            self._sources.move_to_end(source)
            if run.last < second - 1:
                run.first = second  # a gap of a whole second: a new run
            run.last = max(run.last, second)
        over = run.last - run.first + 1
        if over < self.after:
            return None
        del self._sources[source]
        return Ban(now + self.ban_for, over)
