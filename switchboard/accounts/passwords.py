"""Password hashing (argon2id) and the password policy for web accounts (issue 5).

Parameters: argon2id with m = 19 MiB, t = 2, p = 1, a 16-byte salt and a 32-byte tag: the
OWASP Password Storage Cheat Sheet's minimum for argon2id (RFC 9106 §4 names argon2id the
variant to use). About 20-40 ms per hash on the 2-core machine: slow for a guesser, quick
for a person signing in. Raising them later is safe: ``needs_rehash`` tells the sign-in
path to store a new hash while it still holds the password.

Tests pass a cheaper ``argon2.PasswordHasher`` (any object obeying ``PasswordHasher``).

``dummy_hash``: an unknown username is verified against a hash of a random password made
with the same parameters, so "no such user" costs one verify, exactly as "wrong password"
does, and the two cannot be told apart by their timing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from switchboard.accounts.model import AccountError, normalise_username

MIN_LENGTH = 12
MAX_LENGTH = 1024
"""Longer is refused: argon2 would hash it, but nobody types it and it invites abuse."""


class PasswordHasher(Protocol):
    """What ``argon2.PasswordHasher`` offers and the account service uses."""

    def hash(self, password: str, /) -> str: ...

    def verify(self, hash: str, password: str, /) -> bool: ...

    def check_needs_rehash(self, hash: str, /) -> bool: ...


@dataclass(frozen=True, slots=True)
class HashParameters:
    time_cost: int = 2
    memory_cost_kib: int = 19 * 1024
    parallelism: int = 1
    hash_len: int = 32
    salt_len: int = 16


OWASP_MINIMUM = HashParameters()


class PasswordPolicyError(AccountError):
    """A new password was refused; the message names the problem, ``code`` names it for a
    page that says it in the reader's language (``password.error.<code>``)."""

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.code = code


def make_hasher(params: HashParameters = OWASP_MINIMUM) -> argon2.PasswordHasher:
    return argon2.PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_cost_kib,
        parallelism=params.parallelism,
        hash_len=params.hash_len,
        salt_len=params.salt_len,
        type=argon2.Type.ID,
    )


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    return (hasher or make_hasher()).hash(password)


def verify_password(stored: str, password: str, hasher: PasswordHasher | None = None) -> bool:
    """True only for the right password; a damaged or foreign hash is simply False."""
    try:
        return bool((hasher or make_hasher()).verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str, hasher: PasswordHasher | None = None) -> bool:
    try:
        return bool((hasher or make_hasher()).check_needs_rehash(stored))
    except InvalidHashError:
        return True


def dummy_hash(hasher: PasswordHasher) -> str:
    """A hash nobody knows the password of, with ``hasher``'s parameters (see module doc)."""
    return hasher.hash(secrets.token_urlsafe(24))


def check_policy(password: str, username: str) -> None:
    """Refuse a password a guesser would try early, naming the reason (issue 5, NIST 800-63B
    §5.1.1.2: a minimum length and a blocklist, no composition rules)."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(
            f"the password is too short: use at least {MIN_LENGTH} characters "
            "(a few words with spaces between them are easy to remember)",
            "too_short",
        )
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(
            f"the password is too long: at most {MAX_LENGTH} characters", "too_long"
        )
    folded = normalise_username(password)
    name = normalise_username(username)
    if folded == name or (len(name) >= 4 and name in folded):
        raise PasswordPolicyError(
            "the password must not be or contain the username", "has_username"
        )
    if len(set(folded)) <= 2:
        raise PasswordPolicyError(
            "the password repeats one or two characters; choose another", "repetitive"
        )
    if folded in COMMON_PASSWORDS:
        raise PasswordPolicyError(
            "the password is among the most common passwords, which guessers try first; "
            "choose another",
            "common",
        )


COMMON_PASSWORDS = frozenset(
    {
        # The most common passwords of 12+ characters in public breach corpora, plus the
        # short classics lengthened the way people lengthen them, and Nordic favourites.
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456123456",
        "123123123123",
        "111111111111",
        "000000000000",
        "123412341234",
        "098765432109",
        "qwertyuiop12",
        "qwertyuiop123",
        "qwerty123456",
        "qwertyuiopå",
        "qwertyuiopasdf",
        "asdfghjkl123",
        "asdfghjklö12",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "password1234",
        "password12345",
        "password123!",
        "passwordpassword",
        "passw0rd1234",
        "p@ssw0rd1234",
        "iloveyou1234",
        "iloveyouiloveyou",
        "letmein12345",
        "welcome12345",
        "welcome@1234",
        "administrator",
        "administrator1",
        "changeme1234",
        "abcdefghijkl",
        "abcd12345678",
        "abc123abc123",
        "football1234",
        "baseball1234",
        "superman1234",
        "trustno1trustno1",
        "princess1234",
        "sunshine1234",
        "monkey123456",
        "dragon123456",
        "starwars1234",
        "whatever1234",
        "lösenord1234",
        "lösenord12345",
        "losenord1234",
        "lösenordet123",
        "passord12345",
        "passord123456",
        "sommar2024!!",
        "sommar123456",
        "vinter123456",
        "hösten123456",
        "sverige12345",
        "sverige123456",
        "norge1234567",
        "hejhejhejhej",
        "hemligt12345",
        "kommunen1234",
        "switchboard1",
        "switchboard123",
        "växeln123456",
        "telefon12345",
        "correcthorsebatterystaple",
        "correct horse battery staple",
    }
)
