"""SIP credentials as stored: the digest HA1 values per extension, never a password.

Why this lives in the pure core and not in ``sip/digest``: the store, the events and the
live view carry credentials, and they sit below the SIP edge (imports point down,
ARCHITECTURE). ``switchboard.sip.digest`` re-exports both names.

HA1 = H(username ":" realm ":" password) (RFC 7616 §3.4.2, RFC 3261 §22.4); keeping one per
algorithm lets a phone answer either challenge (RFC 8760 §2.4) while the password itself is
forgotten the moment it is hashed. Changing the realm needs new passwords.

A phone known to answer SHA-256 may be set up *SHA-256 only* (``switchboard phones password
EXT --sha256-only``): then no MD5 hash is kept at all, the phone is challenged with SHA-256
alone, and an MD5 answer in its name cannot succeed, so nobody can talk it down to MD5
(RFC 8760 §3; docs/sip.md, *Digest*).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SipCredential:
    """What the registrar needs to check a digest ``response`` for ``user`` (an extension).

    The hashes are left out of ``repr`` so a credential logged by mistake (or an event
    carrying one) shows no password equivalent.
    """

    user: str
    ha1_md5: str | None = field(repr=False)
    """None for a phone set up SHA-256 only: there is no MD5 password equivalent to steal."""
    ha1_sha256: str = field(repr=False)

    @property
    def sha256_only(self) -> bool:
        return self.ha1_md5 is None


def ha1(algorithm: str, user: str, realm: str, password: str) -> str:
    """H(user:realm:password) in lower-case hex, for ``MD5`` or ``SHA-256``."""
    text = f"{user}:{realm}:{password}".encode()
    if algorithm == "MD5":
        # MD5 is what RFC 3261 digest is defined with, not our choice of password hash.
        return hashlib.md5(text, usedforsecurity=False).hexdigest()
    if algorithm == "SHA-256":
        return hashlib.sha256(text).hexdigest()
    raise ValueError(f"unknown digest algorithm {algorithm!r}; use MD5 or SHA-256")


def make_credential(
    user: str, realm: str, password: str, *, sha256_only: bool = False
) -> SipCredential:
    return SipCredential(
        user=user,
        ha1_md5=None if sha256_only else ha1("MD5", user, realm, password),
        ha1_sha256=ha1("SHA-256", user, realm, password),
    )
