"""Digest authentication as SIP uses it (RFC 3261 §22.4, RFC 7616, RFC 8760): pure logic.

The registrar challenges with one ``WWW-Authenticate`` value per algorithm offered, in the
order of preference (RFC 8760 §2.3), and checks the ``Authorization`` (or
``Proxy-Authorization``) value that comes back. No sockets, no clock: ``now`` is monotonic
seconds handed in by the edge.

Decisions, and why:
- **What is offered.** The deployment's list (``[sip] digest_algorithms``, MD5 alone by
  default: docs/sip.md, *Digest*), except to a phone set up SHA-256 only, which is offered
  SHA-256 alone and may answer nothing else (``offered``). The phone is the one the
  request names (the digest ``username`` if it sent one, else the To of a REGISTER or the
  From of anything else): so an unknown extension and a phone on the deployment's list get
  the same challenge, and only a phone set up SHA-256 only can be told apart.
- **Stateless nonces.** A nonce is base64url(timestamp + 12 random bytes + HMAC-SHA-256 of
  both, truncated to 16 bytes) under a per-process secret, so forgery (``BAD_NONCE``) and
  expiry (``STALE``) are checked without a table of issued nonces that a flood could fill.
  A nonce whose timestamp lies in the future (the monotonic clock restarted under a
  kept secret) counts as stale: the phone is simply challenged again.
- **Replay** needs state: the highest ``nc`` accepted per nonce is kept in a bounded
  ``OrderedDict`` (oldest evicted first; a nonce older than ``nonce_ttl`` is refused as
  stale anyway). ``nc`` is recorded only after the response checked out, so a stranger
  cannot burn a victim's nonce by sending a high ``nc`` with a wrong response.
- **qop=auth only.** A response without ``qop`` (RFC 2069 style) is refused as
  ``MALFORMED``: it carries no ``cnonce`` and no ``nc``, so it cannot be protected against
  replay within the nonce's lifetime, and we always offer ``qop="auth"``, which obliges a
  client to use it (RFC 7616 §3.4). ``auth-int`` is not offered either.
- **MD5 and SHA-256 only**, the two we offer. ``MD5-sess``/``SHA-256-sess`` could be
  computed from the stored HA1, but a client using them answers a challenge we never sent,
  so they are ``UNKNOWN_ALGORITHM``; fewer paths, fewer mistakes.
- **No ``opaque``**: it adds nothing to an HMAC'd nonce. Unknown parameters (``opaque``
  included, when a client sends one anyway) are ignored.
- **No enumeration** (issue 3, SIPVicious ``svwar``): an unknown user and a wrong password
  are one failure, ``BAD_CREDENTIALS``, and cost the same work: the response is computed
  against a dummy HA1 for unknown users and always compared with ``hmac.compare_digest``.
  The hash functions are injectable so a test can count the work on both paths.
- The ``uri`` parameter must be present; comparing it with the Request-URI is the caller's
  job (it has the request, we only have header values).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import math
import secrets
import string
import struct
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from switchboard.directory.credentials import SipCredential, make_credential

__all__ = [
    "AuthOutcome",
    "DigestAuthenticator",
    "Failure",
    "SipCredential",
    "make_credential",
    "parse_digest",
    "response_digest",
]

Hash = Callable[[bytes], str]
"""bytes -> lower-case hex digest."""

ALGORITHMS = ("SHA-256", "MD5")
"""The ones we know, the stronger first (RFC 8760 §2.3); a deployment offers some of them."""
SHA256_ONLY = ("SHA-256",)
"""What a phone set up SHA-256 only is offered and may answer with."""

MAX_HEADER_LENGTH = 4096
MAX_PARAMS = 32
_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "-.!%*_+`'~")
_HEX = frozenset(string.hexdigits)
_B64URL = frozenset(string.ascii_letters + string.digits + "-_")
_STAMP = struct.Struct(">d")
_RANDOM_BYTES = 12
_MAC_BYTES = 16
_NONCE_BYTES = _STAMP.size + _RANDOM_BYTES + _MAC_BYTES
_NONCE_CHARS = _NONCE_BYTES * 4 // 3  # 36 bytes: no base64 padding


def _md5(data: bytes) -> str:
    # MD5 because RFC 3261 digest defines it, not as a choice of password hash.
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


DEFAULT_HASHES: Mapping[str, Hash] = {"MD5": _md5, "SHA-256": _sha256}


class Failure(enum.Enum):
    MISSING = "missing"
    MALFORMED = "malformed"
    WRONG_REALM = "wrong_realm"
    UNKNOWN_ALGORITHM = "unknown_algorithm"
    BAD_NONCE = "bad_nonce"
    """Not a nonce we issued (forged or mangled)."""
    STALE = "stale"
    """Ours and otherwise valid, but expired: challenge again with ``stale=true``."""
    REPLAY = "replay"
    """``nc`` not higher than one already accepted for this nonce."""
    BAD_CREDENTIALS = "bad_credentials"
    """Unknown user or wrong response: deliberately one value (no enumeration)."""


@dataclass(frozen=True, slots=True)
class AuthOutcome:
    ok: bool
    user: str | None = None
    """The authenticated user; None unless ``ok``."""
    failure: Failure | None = None
    tried: str | None = field(default=None, compare=False)
    """The ``username`` the credentials named, right or wrong: the account an attacker
    tried, for the log line; None when the value did not parse. It only echoes the
    input, so outcomes compare without it (an unknown user and a wrong password are one
    failure)."""

    @property
    def stale(self) -> bool:
        """True when the answer should be a fresh challenge with ``stale=true``."""
        return self.failure is Failure.STALE


def _fail(failure: Failure, tried: str | None = None) -> AuthOutcome:
    return AuthOutcome(False, None, failure, tried)


def response_digest(
    hash_fn: Hash,
    ha1: str,
    *,
    nonce: str,
    nc: str,
    cnonce: str,
    qop: str,
    method: str,
    uri: str,
) -> str:
    """``request-digest`` for qop=auth (RFC 7616 §3.4.1): H(HA1:nonce:nc:cnonce:qop:HA2)."""
    ha2 = hash_fn(f"{method}:{uri}".encode())
    return hash_fn(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}".encode())


def parse_digest(value: str) -> dict[str, str] | None:
    """The parameters of a ``Digest`` credentials value, names lower-cased; None if malformed.

    One left-to-right pass (linear time, no regular expressions): ``name = token`` or
    ``name = "quoted string"`` with backslash escapes and commas allowed inside quotes,
    separated by commas with optional white space (RFC 3261 §25.1, §22.4). A parameter
    given twice, control characters, more than ``MAX_PARAMS`` parameters or a value longer
    than ``MAX_HEADER_LENGTH`` make it malformed.
    """
    if len(value) > MAX_HEADER_LENGTH:
        return None
    text = value.strip(" \t")
    n = len(text)

    def token_end(i: int) -> int:
        while i < n and text[i] in _TOKEN_CHARS:
            i += 1
        return i

    def skip_space(i: int) -> int:
        while i < n and text[i] in " \t":
            i += 1
        return i

    i = token_end(0)
    if text[:i].lower() != "digest" or i >= n or text[i] not in " \t":
        return None
    params: dict[str, str] = {}
    i = skip_space(i)
    while True:
        end = token_end(i)
        name = text[i:end].lower()
        if not name:
            return None
        i = skip_space(end)
        if i >= n or text[i] != "=":
            return None
        i = skip_space(i + 1)
        if i < n and text[i] == '"':
            chars: list[str] = []
            i += 1
            while True:
                if i >= n:
                    return None  # unterminated quoted string
                c = text[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\":
                    i += 1
                    if i >= n:
                        return None
                    c = text[i]
                if (c < " " and c != "\t") or c == "\x7f":
                    return None
                chars.append(c)
                i += 1
            param = "".join(chars)
        else:
            end = token_end(i)
            if end == i:
                return None
            param = text[i:end]
            i = end
        if name in params or len(params) >= MAX_PARAMS:
            return None
        params[name] = param
        i = skip_space(i)
        if i >= n:
            return params
        if text[i] != ",":
            return None
        i = skip_space(i + 1)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DigestAuthenticator:
    """Issues challenges and verifies answers for one realm (RFC 3261 §22.4, RFC 8760).

    Holds one piece of mutable state, the bounded replay table; everything else is derived
    from ``secret`` and the ``now`` handed in.
    """

    def __init__(
        self,
        realm: str,
        secret: bytes,
        nonce_ttl: float = 300.0,
        *,
        max_tracked_nonces: int = 100_000,
        hashes: Mapping[str, Hash] = DEFAULT_HASHES,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
        algorithms: tuple[str, ...] = ALGORITHMS,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the nonce secret must be at least 16 random bytes")
        if nonce_ttl <= 0 or max_tracked_nonces <= 0:
            raise ValueError("nonce_ttl and max_tracked_nonces must be positive")
        missing = [a for a in ALGORITHMS if a not in hashes]
        if missing:
            raise ValueError(f"hashes lacks {', '.join(missing)}")
        unknown = [a for a in algorithms if a not in ALGORITHMS]
        if unknown or not algorithms:
            raise ValueError(f"algorithms must be some of {', '.join(ALGORITHMS)}")
        # Offered in this order to every phone not set up SHA-256 only, and to unknown
        # users. Some clients (SIPp 3.6, older phones) answer only the first challenge and
        # know only MD5; Debian's baresip 1.0 gives up on any SHA-256 challenge at all
        # (RFC 8760 §2.4 says to ignore one): hence MD5 alone by default (docs/sip.md).
        self.algorithms = algorithms
        self.realm = realm
        self.nonce_ttl = nonce_ttl
        self._secret = secret
        self._max_tracked = max_tracked_nonces
        self._hashes = dict(hashes)
        self._random_bytes = random_bytes
        self._seen: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self.on_use: Callable[[str, int], None] | None = None
        """With workers (which share ``secret``): told (nonce, nc) of each answer accepted
        here, so the others' replay tables refuse it too (``heard_use``)."""
        # Stands in for an unknown user's HA1 so their path does the same work (no
        # enumeration). Derived from the secret: no one can know a password matching it.
        dummy = hashlib.sha256(b"switchboard-dummy-ha1:" + secret).hexdigest()
        self._dummy = {"SHA-256": dummy, "MD5": dummy[:32]}

    @property
    def tracked_nonces(self) -> int:
        return len(self._seen)

    # -- nonces ----------------------------------------------------------------------------
    def _mac(self, raw: bytes) -> bytes:
        return hmac.new(self._secret, b"sip-nonce:" + raw, hashlib.sha256).digest()[:_MAC_BYTES]

    def new_nonce(self, now: float) -> str:
        raw = _STAMP.pack(now) + self._random_bytes(_RANDOM_BYTES)
        return base64.urlsafe_b64encode(raw + self._mac(raw)).decode("ascii")

    def _nonce_time(self, nonce: str) -> float | None:
        """When ``nonce`` was issued, or None if we did not issue it."""
        if len(nonce) != _NONCE_CHARS or not set(nonce) <= _B64URL:
            return None
        blob = base64.urlsafe_b64decode(nonce)
        raw, mac = blob[:-_MAC_BYTES], blob[-_MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(raw)):
            return None
        (issued,) = _STAMP.unpack(raw[: _STAMP.size])
        return issued if math.isfinite(issued) else None

    # -- challenges ------------------------------------------------------------------------
    def offered(self, credential: SipCredential | None) -> tuple[str, ...]:
        """The algorithms offered to (and accepted from) the phone holding ``credential``:
        SHA-256 alone for one set up SHA-256 only, the deployment's list for anyone else,
        unknown users included."""
        if credential is not None and credential.sha256_only:
            return SHA256_ONLY
        return self.algorithms

    def challenges(
        self, now: float, *, stale: bool = False, credential: SipCredential | None = None
    ) -> tuple[str, ...]:
        """``WWW-Authenticate`` (or ``Proxy-Authenticate``) values, one per algorithm
        ``offered`` to the phone holding ``credential``, in order of preference."""
        nonce = self.new_nonce(now)
        tail = ", stale=true" if stale else ""
        return tuple(
            f'Digest realm={_quote(self.realm)}, nonce="{nonce}", '
            f'algorithm={algorithm}, qop="auth"{tail}'
            for algorithm in self.offered(credential)
        )

    # -- verification ----------------------------------------------------------------------
    def verify(
        self,
        method: str,
        authorization: str | None,
        now: float,
        lookup: Callable[[str], SipCredential | None],
    ) -> AuthOutcome:
        """Check one ``Authorization``/``Proxy-Authorization`` value for ``method``.

        Order matters: cheap shape checks first; a nonce we did not issue is refused before
        any user is looked up; then the response is computed for known and unknown users
        alike, and only a correct response can be ``STALE``, ``REPLAY`` or ok (RFC 7616
        §3.3: ``stale=true`` means the credentials were right).
        """
        if authorization is None or not authorization.strip():
            return _fail(Failure.MISSING)
        params = parse_digest(authorization)
        if params is None:
            return _fail(Failure.MALFORMED)
        username = params.get("username")
        realm = params.get("realm")
        nonce = params.get("nonce")
        uri = params.get("uri")
        response = params.get("response")
        if not username or realm is None or not nonce or not uri or response is None:
            return _fail(Failure.MALFORMED, username)
        if params.get("userhash", "false").lower() != "false":
            return _fail(Failure.MALFORMED, username)  # we never offer userhash (RFC 7616 §3.4.4)
        if realm != self.realm:
            return _fail(Failure.WRONG_REALM, username)
        algorithm = self._algorithm(params.get("algorithm"))
        if algorithm is None:
            return _fail(Failure.UNKNOWN_ALGORITHM, username)
        qop = params.get("qop")
        nc = params.get("nc", "")
        cnonce = params.get("cnonce", "")
        if qop is None or qop.lower() != "auth":
            return _fail(Failure.MALFORMED, username)
        if len(nc) != 8 or not set(nc) <= _HEX or not cnonce:
            return _fail(Failure.MALFORMED, username)
        issued = self._nonce_time(nonce)
        if issued is None:
            return _fail(Failure.BAD_NONCE, username)

        credential = lookup(username)
        if credential is not None and credential.user != username:
            credential = None
        # Only what was offered to this user: an unknown one and a phone on the
        # deployment's list are refused alike, before any hashing (no enumeration); a
        # phone set up SHA-256 only cannot be talked down to MD5 (RFC 8760 §3).
        if algorithm not in self.offered(credential):
            return _fail(Failure.UNKNOWN_ALGORITHM, username)
        known = credential is not None
        ha1: str | None = None
        if credential is not None:
            ha1 = credential.ha1_sha256 if algorithm == "SHA-256" else credential.ha1_md5
        if ha1 is None:
            ha1 = self._dummy[algorithm]
        expected = response_digest(
            self._hashes[algorithm],
            ha1,
            nonce=nonce,
            nc=nc,
            cnonce=cnonce,
            qop=qop,
            method=method,
            uri=uri,
        )
        matches = hmac.compare_digest(expected.encode(), response.lower().encode())
        if not (matches and known):
            return _fail(Failure.BAD_CREDENTIALS, username)
        if not issued <= now <= issued + self.nonce_ttl:
            return _fail(Failure.STALE, username)
        if not self._advance(nonce, int(nc, 16), issued, now):
            return _fail(Failure.REPLAY, username)
        if self.on_use is not None:
            self.on_use(nonce, int(nc, 16))
        return AuthOutcome(True, username, None, username)

    def heard_use(self, nonce: str, nc: int, now: float) -> None:
        """Another worker accepted ``nc`` for ``nonce``: a replay here must fail too."""
        issued = self._nonce_time(nonce)
        if issued is not None and issued <= now <= issued + self.nonce_ttl:
            self._advance(nonce, nc, issued, now)

    @staticmethod
    def _algorithm(value: str | None) -> str | None:
        """RFC 7616 §3.3: no ``algorithm`` means MD5. Names compare case-insensitively."""
        if value is None:
            return "MD5"
        for name in ALGORITHMS:
            if value.upper() == name:
                return name
        return None

    def _advance(self, nonce: str, nc: int, issued: float, now: float) -> bool:
        """Accept ``nc`` if it is higher than any seen for ``nonce``; remember it."""
        seen = self._seen.get(nonce)
        if seen is not None and nc <= seen[0]:
            return False
        if seen is None:
            # Entries sit in order of first use: drop the front while it has expired.
            while self._seen:
                _, (_, first_issued) = next(iter(self._seen.items()))
                if first_issued + self.nonce_ttl >= now:
                    break
                self._seen.popitem(last=False)
            while len(self._seen) >= self._max_tracked:
                self._seen.popitem(last=False)
        self._seen[nonce] = (nc, issued)
        return True
