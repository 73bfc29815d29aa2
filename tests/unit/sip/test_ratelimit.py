"""Per-source limits: blocks hit only the offender, expire, and memory stays bounded."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.sip.ratelimit import AuthFailureLimiter, Ban, FloodBans, SourceRateLimiter

ATTACKER = "198.51.100.7:5060"
PHONE = "192.0.2.10:5060"


def test_block_after_max_failures_only_for_that_source() -> None:
    limiter = AuthFailureLimiter(max_failures=5, window=60.0, block_for=300.0)
    starts = [limiter.record_failure(ATTACKER, 100.0 + i) for i in range(5)]
    assert starts == [False, False, False, False, True]
    assert limiter.blocked(ATTACKER, 105.0)
    assert not limiter.blocked(PHONE, 105.0)
    assert limiter.record_failure(PHONE, 105.0) is False
    assert not limiter.blocked(PHONE, 106.0)


def test_failures_while_blocked_do_not_restart_or_extend_the_block() -> None:
    limiter = AuthFailureLimiter(max_failures=2, window=60.0, block_for=300.0)
    limiter.record_failure(ATTACKER, 0.0)
    assert limiter.record_failure(ATTACKER, 1.0) is True
    assert limiter.record_failure(ATTACKER, 200.0) is False
    assert limiter.blocked(ATTACKER, 300.9)
    assert not limiter.blocked(ATTACKER, 301.0)


def test_block_ends_after_block_for_with_a_clean_record() -> None:
    limiter = AuthFailureLimiter(max_failures=3, window=60.0, block_for=300.0)
    for i in range(3):
        limiter.record_failure(ATTACKER, float(i))
    assert limiter.blocked(ATTACKER, 301.9)
    assert not limiter.blocked(ATTACKER, 302.0)
    assert limiter.record_failure(ATTACKER, 303.0) is False
    assert limiter.record_failure(ATTACKER, 304.0) is False
    assert limiter.record_failure(ATTACKER, 305.0) is True


def test_failures_outside_the_window_do_not_count() -> None:
    limiter = AuthFailureLimiter(max_failures=3, window=60.0, block_for=300.0)
    assert [limiter.record_failure(ATTACKER, t) for t in (0.0, 30.0, 61.0, 89.0)] == [
        False,
        False,
        False,
        True,
    ]


def test_forget_clears_a_record() -> None:
    limiter = AuthFailureLimiter(max_failures=2)
    limiter.record_failure(PHONE, 0.0)
    limiter.forget(PHONE)
    assert limiter.record_failure(PHONE, 1.0) is False


def test_a_million_sources_keep_memory_bounded() -> None:
    limiter = AuthFailureLimiter(max_sources=1000)
    limiter.record_failure(ATTACKER, 0.0)
    for i in range(1_000_000):
        limiter.record_failure(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}:{i}", 1.0)
        if i % 4096 == 0:
            assert limiter.tracked <= 1000
    assert limiter.tracked == 1000
    rate = SourceRateLimiter(rate=1.0, burst=2.0, max_sources=1000)
    for i in range(1_000_000):
        rate.allow(str(i), 1.0)
    assert rate.tracked == 1000


def test_a_blocked_source_that_keeps_trying_is_not_evicted() -> None:
    limiter = AuthFailureLimiter(max_failures=1, max_sources=10)
    assert limiter.record_failure(ATTACKER, 0.0)
    for i in range(100):
        limiter.record_failure(f"spoof-{i}", 1.0 + i)
        assert limiter.blocked(ATTACKER, 1.0 + i)


def test_token_bucket_allows_burst_then_rate() -> None:
    limiter = SourceRateLimiter(rate=10.0, burst=3.0)
    assert [limiter.allow(ATTACKER, 0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow(ATTACKER, 0.05) is False
    assert limiter.allow(ATTACKER, 0.1) is True
    assert limiter.allow(ATTACKER, 0.1) is False


def test_a_flood_from_one_source_does_not_starve_another() -> None:
    limiter = SourceRateLimiter(rate=5.0, burst=5.0)
    allowed = sum(limiter.allow(ATTACKER, i / 1000) for i in range(10_000))
    assert allowed <= 5 + 5 * 10
    assert all(limiter.allow(PHONE, 10.0 + i * 0.2) for i in range(100))


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="burst"):
        SourceRateLimiter(rate=1.0, burst=0.5)
    with pytest.raises(ValueError, match="window"):
        AuthFailureLimiter(window=0)


@given(st.lists(st.floats(min_value=0, max_value=1e4), min_size=1, max_size=200))
def test_token_bucket_never_exceeds_burst_plus_rate_times_span(times: list[float]) -> None:
    times.sort()
    limiter = SourceRateLimiter(rate=2.0, burst=4.0)
    allowed = sum(limiter.allow(ATTACKER, t) for t in times)
    assert allowed <= 4 + 2.0 * (times[-1] - times[0]) + 1e-9


def test_a_source_over_its_rate_three_seconds_running_is_banned() -> None:
    bans = FloodBans(after=3, ban_for=60.0)
    assert bans.refused(ATTACKER, 10.2) is None
    assert bans.refused(ATTACKER, 10.9) is None  # the same second
    assert bans.refused(ATTACKER, 11.05) is None
    assert bans.refused(PHONE, 11.5) is None  # another source: its own record
    assert bans.refused(ATTACKER, 12.3) == Ban(72.3, 3)
    assert bans.tracked == 1  # a ban starts a clean record: the next burst counts anew


def test_a_gap_of_a_second_starts_the_count_again() -> None:
    bans = FloodBans(after=3, ban_for=60.0)
    assert bans.refused(ATTACKER, 10.0) is None
    assert bans.refused(ATTACKER, 11.0) is None
    assert bans.refused(ATTACKER, 13.0) is None  # nothing refused in second 12
    assert bans.refused(ATTACKER, 14.0) is None
    assert bans.refused(ATTACKER, 15.0) == Ban(75.0, 3)


def test_flood_bans_keep_memory_bounded() -> None:
    bans = FloodBans(after=3, ban_for=60.0, max_sources=100)
    for n in range(10_000):
        bans.refused(f"10.0.{n // 256}.{n % 256}", 1.0)
    assert bans.tracked == 100


def test_recent_counts_the_failures_of_this_burst() -> None:
    limiter = AuthFailureLimiter(max_failures=5, window=60.0, block_for=300.0)
    assert limiter.recent(ATTACKER, 0.0) == 0
    for at in (0.0, 10.0, 20.0):
        limiter.record_failure(ATTACKER, at)
    assert limiter.recent(ATTACKER, 30.0) == 3
    assert limiter.recent(ATTACKER, 65.0) == 2  # the first fell out of the window
    assert limiter.recent(PHONE, 30.0) == 0
