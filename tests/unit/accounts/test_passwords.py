"""argon2id hashing and the password policy (issue 5)."""

from __future__ import annotations

import argon2
import pytest

from switchboard.accounts.passwords import (
    OWASP_MINIMUM,
    PasswordHasher,
    PasswordPolicyError,
    check_policy,
    dummy_hash,
    hash_password,
    make_hasher,
    needs_rehash,
    verify_password,
)

CHEAP = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_CHECK: PasswordHasher = CHEAP  # argon2's hasher obeys the protocol the service takes


def test_round_trip_with_the_production_parameters() -> None:
    stored = hash_password("a long and quiet harbour")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(stored, "a long and quiet harbour")
    assert not verify_password(stored, "a long and quiet harbouR")
    assert not needs_rehash(stored)


def test_each_hash_is_salted() -> None:
    assert hash_password("same password here", CHEAP) != hash_password("same password here", CHEAP)


def test_a_damaged_or_foreign_hash_verifies_nothing_and_needs_rehash() -> None:
    assert not verify_password("not a hash", "whatever", CHEAP)
    assert not verify_password("$argon2id$v=19$m=8,t=1,p=1$garbage", "whatever", CHEAP)
    assert needs_rehash("not a hash", CHEAP)


def test_weaker_parameters_need_a_rehash() -> None:
    weak = hash_password("a long and quiet harbour", CHEAP)
    assert needs_rehash(weak, make_hasher(OWASP_MINIMUM))
    assert not needs_rehash(weak, CHEAP)


def test_the_dummy_hash_has_the_same_parameters_and_opens_nothing() -> None:
    hasher = make_hasher()
    dummy = dummy_hash(hasher)
    assert dummy.split("$")[3] == hash_password("x", hasher).split("$")[3]
    assert not verify_password(dummy, "", hasher)


@pytest.mark.parametrize(
    ("password", "username", "problem"),
    [
        ("short pw", "anna", "too short"),
        ("x" * 1025, "anna", "too long"),
        ("annaberg1234", "annaberg1234", "username"),
        ("i-am-annaberg-ok", "annaberg", "username"),
        ("ANNABERG1234", "annaberg1234", "username"),
        ("password1234", "anna", "most common"),
        ("Lösenord1234", "anna", "most common"),
        ("aaaaaaaaaaaaaaa", "anna", "repeats"),
        ("abababababab", "anna", "repeats"),
    ],
    ids=lambda v: str(v)[:20],
)
def test_policy_refusals_name_the_problem(password: str, username: str, problem: str) -> None:
    with pytest.raises(PasswordPolicyError, match=problem):
        check_policy(password, username)


@pytest.mark.parametrize(
    ("password", "username"),
    [
        ("kaffe-och-bulle", "anna"),
        ("correct horse battery", "anna"),
        ("ann-is-short-x", "ann"),  # a name under 4 characters may appear inside
        ("x" * 10 + "yz", "anna"),
    ],
)
def test_good_passwords_pass(password: str, username: str) -> None:
    check_policy(password, username)
