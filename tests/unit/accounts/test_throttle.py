"""Sign-in throttling: the attacker's source slows down, the user is never locked out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.accounts.throttle import LoginThrottle, ThrottlePolicy, source_key

T0 = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
ATTACKER = "203.0.113.66"
USER_HOME = "198.51.100.7"


def seconds(s: float) -> timedelta:
    return timedelta(seconds=s)


def test_a_fresh_attempt_goes_at_once() -> None:
    assert LoginThrottle().check("anna", USER_HOME, T0) == 0.0


def test_the_source_waits_longer_after_each_failure_up_to_the_cap() -> None:
    throttle = LoginThrottle()
    now = T0
    waits: list[float] = []
    for _ in range(9):
        throttle.failed(f"victim{len(waits)}", ATTACKER, now)
        wait = throttle.check("someone", ATTACKER, now)
        waits.append(wait)
        now += seconds(wait)
        assert throttle.check("someone", ATTACKER, now) == 0.0
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_the_wait_counts_down() -> None:
    throttle = LoginThrottle()
    for _ in range(4):
        throttle.failed("anna", ATTACKER, T0)
    assert throttle.check("x", ATTACKER, T0 + seconds(3)) == pytest.approx(5.0)


def test_the_real_user_from_another_source_signs_in_despite_an_attack() -> None:
    """An attacker hammering one username cannot lock its owner out."""
    throttle = LoginThrottle()
    now = T0
    for _ in range(50):
        now += seconds(throttle.check("anna", ATTACKER, now))
        throttle.failed("anna", ATTACKER, now)
    assert throttle.check("anna", ATTACKER, now) == 60.0
    # From elsewhere, at most the mild per-username wait, never the attacker's.
    wait = throttle.check("anna", USER_HOME, now)
    assert 0 < wait <= ThrottlePolicy().username_cap_seconds
    throttle.succeeded("anna", USER_HOME, now + seconds(wait))
    assert throttle.check("anna", USER_HOME, now + seconds(wait)) == 0.0


def test_a_source_that_signed_in_before_is_not_slowed_by_attacks_on_the_username() -> None:
    throttle = LoginThrottle()
    throttle.succeeded("anna", USER_HOME, T0)
    now = T0 + timedelta(hours=1)
    for i in range(40):  # many addresses, one guess each: the per-source wait never bites
        throttle.failed("anna", f"203.0.113.{i}", now)
    assert throttle.check("anna", "203.0.113.250", now) > 0
    assert throttle.check("anna", USER_HOME, now) == 0.0


def test_the_username_is_free_for_a_few_failures_then_mild() -> None:
    throttle = LoginThrottle()
    for i in range(5):
        throttle.failed("anna", f"192.0.2.{i}", T0)
    assert throttle.check("anna", "192.0.2.200", T0) == 0.0
    for i in range(5, 30):
        throttle.failed("anna", f"192.0.2.{i}", T0)
    assert throttle.check("anna", "192.0.2.200", T0) == 5.0
    assert throttle.check("bertil", "192.0.2.200", T0) == 0.0


def test_a_success_does_not_wipe_the_source_counter() -> None:
    """Else an attacker with one valid account would reset it between guesses."""
    throttle = LoginThrottle()
    for _ in range(5):
        throttle.failed("victim", ATTACKER, T0)
    throttle.succeeded("attackers-own", ATTACKER, T0)
    assert throttle.check("victim", ATTACKER, T0) == 16.0


def test_failures_are_forgotten_after_a_quiet_while() -> None:
    throttle = LoginThrottle()
    for _ in range(10):
        throttle.failed("anna", ATTACKER, T0)
    later = T0 + ThrottlePolicy().forget_after
    assert throttle.check("anna", ATTACKER, later) == 0.0
    throttle.failed("anna", ATTACKER, later)
    assert throttle.check("anna", ATTACKER, later) == 1.0


def test_an_ipv6_attacker_is_counted_by_its_64() -> None:
    throttle = LoginThrottle()
    for i in range(6):
        throttle.failed("anna", f"2001:db8:1:2::{i + 1:x}", T0)
    assert throttle.check("bertil", "2001:db8:1:2:ffff::1", T0) == 32.0
    assert throttle.check("bertil", "2001:db8:1:3::1", T0) == 0.0
    assert source_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert source_key("[2001:db8::1]") == "2001:db8::/64"


def test_memory_is_bounded() -> None:
    throttle = LoginThrottle(ThrottlePolicy(max_entries=100))
    for i in range(5000):
        throttle.failed(f"user{i}" * 50, f"10.{i // 256 % 256}.{i % 256}.1", T0)
        throttle.succeeded(f"other{i}", f"10.0.{i % 256}.{i // 256 % 256}", T0)
    assert throttle.entries() <= 300


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["anna", "bertil", "x"]),
            st.sampled_from([ATTACKER, USER_HOME, "2001:db8::1"]),
            st.booleans(),
            st.floats(min_value=0, max_value=120),
        ),
        max_size=60,
    )
)
def test_no_wait_is_ever_longer_than_the_cap(
    steps: list[tuple[str, str, bool, float]],
) -> None:
    throttle = LoginThrottle()
    now = T0
    for username, source, ok, gap in steps:
        now += seconds(gap)
        assert 0.0 <= throttle.check(username, source, now) <= 60.0
        if ok:
            throttle.succeeded(username, source, now)
        else:
            throttle.failed(username, source, now)
