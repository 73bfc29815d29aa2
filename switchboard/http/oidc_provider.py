"""Talking to the OpenID Connect provider: discovery, JWKS, the token call, id_token checks.

Everything here is I/O towards the provider (aiohttp, with timeouts and size limits, on the
event loop) plus the verification of what it sends back; the sign-in routes are in
``oidc.py`` and the account mapping in ``oidc_accounts.py``.

The id_token is verified as OpenID Connect Core 1.0 section 3.1.3.7 asks:
- the signature, against the provider's JWKS (RFC 7517), with an allow-list of algorithms
  (RS256, ES256) that must also fit the key's type, so ``alg: none`` and the HS256-with-a-
  public-key confusion (RFC 8725 section 2.1) can never verify;
- ``iss`` exactly the configured issuer, ``aud`` containing our client id (and ``azp`` ours
  when present), ``exp``/``iat``/``nbf`` against the injected clock with ``allowed_skew``;
- ``nonce`` the one this browser's flow sent (section 3.1.2.1), against replayed tokens.
The JWKS is cached and fetched again on an unknown ``kid`` (key rotation), at most once per
``JWKS_MIN_REFRESH``, so tokens with made-up key ids cannot make us hammer the provider.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote

import aiohttp
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from switchboard.clock import Clock
from switchboard.settings.oidc import OidcSettings, usable_url

ALGORITHMS = frozenset({"RS256", "ES256"})
TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)
MAX_RESPONSE = 256 * 1024
"""Discovery documents, key sets and token answers are a few KiB; refuse anything huge."""
MAX_KEYS = 50
METADATA_TTL = timedelta(hours=1)
JWKS_TTL = timedelta(hours=24)
JWKS_MIN_REFRESH = timedelta(seconds=60)

TokenAuth = Literal["client_secret_basic", "client_secret_post"]


class OidcError(Exception):
    """A sign-in that cannot finish. ``reason`` is for the log only; ``public`` is what the
    person sees (nothing that helps an attacker); ``status`` the HTTP answer."""

    def __init__(self, reason: str, public: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.public = public
        self.status = status


PROVIDER_DOWN = (
    "The sign-in service cannot be reached right now. Try again in a minute, or sign in "
    "with your switchboard password."
)
SIGN_IN_FAILED = "The sign-in could not be completed. Start again from the sign-in page."


class ProviderUnavailableError(OidcError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, PROVIDER_DOWN, 502)


class TokenRejectedError(OidcError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, SIGN_IN_FAILED, 400)


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """The parts of the discovery document we use (OpenID Connect Discovery 1.0 section 3)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_auth: TokenAuth


def parse_metadata(settings: OidcSettings, doc: object) -> ProviderMetadata:
    if not isinstance(doc, dict):
        raise ProviderUnavailableError("discovery document is not a JSON object")
    # Discovery 4.3: the issuer in the document must be exactly the one we asked.
    if doc.get("issuer") != settings.issuer:
        raise ProviderUnavailableError(f"discovery names issuer {doc.get('issuer')!r}")
    urls = {}
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = doc.get(key)
        if not isinstance(value, str) or not usable_url(
            value, allow_loopback_http=settings.loopback
        ):
            raise ProviderUnavailableError(f"discovery {key} is missing or not https")
        urls[key] = value
    methods = doc.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
    if not isinstance(methods, list):
        methods = ["client_secret_basic"]
    auth: TokenAuth
    if "client_secret_basic" in methods:
        auth = "client_secret_basic"
    elif "client_secret_post" in methods:
        auth = "client_secret_post"
    else:
        raise ProviderUnavailableError(f"no client secret method in {methods!r}")
    return ProviderMetadata(
        settings.issuer,
        urls["authorization_endpoint"],
        urls["token_endpoint"],
        urls["jwks_uri"],
        auth,
    )


@dataclass(frozen=True, slots=True)
class _Cached:
    at: datetime
    metadata: ProviderMetadata


@dataclass(frozen=True, slots=True)
class _KeySet:
    at: datetime
    keys: Mapping[str, jwt.PyJWK]
    """kid -> key ("" for a key without kid)."""


class OidcProvider:
    """One configured provider. Holds caches (metadata, keys), so one per application."""

    def __init__(self, settings: OidcSettings, client_secret: str, clock: Clock) -> None:
        self.settings = settings
        self._secret = client_secret
        self._clock = clock
        self._http: aiohttp.ClientSession | None = None
        self._metadata: _Cached | None = None
        self._keys: _KeySet | None = None
        self._lock = asyncio.Lock()

    def attach(self, http: aiohttp.ClientSession | None) -> None:
        """The client session owned by the application's cleanup context (None: closed)."""
        self._http = http

    # -- I/O -------------------------------------------------------------------------------
    async def _json(self, method: str, url: str, **kwargs: Any) -> tuple[int, object]:
        if self._http is None:
            raise ProviderUnavailableError("the HTTP client is not running")
        try:
            async with self._http.request(method, url, allow_redirects=False, **kwargs) as resp:
                body = await resp.content.read(MAX_RESPONSE + 1)
                if len(body) > MAX_RESPONSE:
                    raise ProviderUnavailableError(f"{url} answered more than {MAX_RESPONSE} B")
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ProviderUnavailableError(f"{method} {url}: {type(exc).__name__}: {exc}") from None
        try:
            return status, json.loads(body)
        except ValueError:
            raise ProviderUnavailableError(f"{url} answered {status} without JSON") from None

    async def metadata(self) -> ProviderMetadata:
        """The discovery document, fetched on first use and again after ``METADATA_TTL``."""
        now = self._clock.now()
        cached = self._metadata
        if cached is not None and now - cached.at < METADATA_TTL:
            return cached.metadata
        status, doc = await self._json("GET", self.settings.discovery_url, timeout=TIMEOUT)
        if status != 200:
            raise ProviderUnavailableError(f"discovery answered {status}")
        metadata = parse_metadata(self.settings, doc)
        self._metadata = _Cached(now, metadata)
        return metadata

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> str:
        """The authorization code for an id_token (OpenID Connect Core 3.1.3.1; PKCE:
        RFC 7636 section 4.5). The client authenticates as the provider prefers."""
        metadata = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "client_id": self.settings.client_id,
        }
        headers = {"Accept": "application/json"}
        if metadata.token_auth == "client_secret_basic":  # noqa: S105 - a method name
            # RFC 6749 section 2.3.1: both parts form-urlencoded before base64.
            pair = f"{quote(self.settings.client_id, safe='')}:{quote(self._secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form["client_secret"] = self._secret
        status, answer = await self._json(
            "POST", metadata.token_endpoint, data=form, headers=headers, timeout=TIMEOUT
        )
        if status != 200 or not isinstance(answer, dict):
            error = answer.get("error") if isinstance(answer, dict) else None
            raise TokenRejectedError(f"token endpoint answered {status} error={error!r}")
        id_token = answer.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise TokenRejectedError("token answer without an id_token")
        return id_token

    async def _fetch_keys(self) -> _KeySet:
        metadata = await self.metadata()
        status, doc = await self._json("GET", metadata.jwks_uri, timeout=TIMEOUT)
        if status != 200 or not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
            raise ProviderUnavailableError(f"JWKS answered {status} without a key set")
        keys: dict[str, jwt.PyJWK] = {}
        for entry in doc["keys"][:MAX_KEYS]:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK(entry)
            except jwt.PyJWKError:
                continue  # a key type we do not use (e.g. an encryption key)
            kid = entry.get("kid")
            keys[kid if isinstance(kid, str) else ""] = key
        return _KeySet(self._clock.now(), keys)

    async def _key(self, kid: str) -> jwt.PyJWK:
        """The signing key ``kid``; an unknown id refreshes the set (rotation), rate-limited."""
        async with self._lock:  # one fetch at a time; waiters then see its result
            now = self._clock.now()
            keys = self._keys
            if (
                keys is None
                or now - keys.at >= JWKS_TTL
                or (kid not in keys.keys and now - keys.at >= JWKS_MIN_REFRESH)
            ):
                keys = self._keys = await self._fetch_keys()
            found = keys.keys.get(kid)
            if found is None and not kid and len(keys.keys) == 1:
                found = next(iter(keys.keys.values()))
            if found is None:
                raise TokenRejectedError(f"no key {kid!r} in the provider's JWKS")
            return found

    # -- verification ----------------------------------------------------------------------
    async def verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The id_token's claims once every check of Core 3.1.3.7 has passed."""
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.InvalidTokenError as exc:
            raise TokenRejectedError(f"id_token is not a JWS: {exc}") from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise TokenRejectedError(f"id_token algorithm {alg!r} is not allowed")
        kid = header.get("kid", "")
        if not isinstance(kid, str):
            raise TokenRejectedError("id_token kid is not a string")
        key = await self._key(kid)
        public = key.key
        fits = (alg == "RS256" and isinstance(public, rsa.RSAPublicKey)) or (
            alg == "ES256"
            and isinstance(public, ec.EllipticCurvePublicKey)
            and isinstance(public.curve, ec.SECP256R1)
        )
        if not fits:
            raise TokenRejectedError(f"id_token algorithm {alg} does not fit key {kid!r}")
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                public,
                algorithms=[alg],
                audience=self.settings.client_id,
                issuer=self.settings.issuer,
                options={
                    # Times are checked below against the injected clock.
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["iss", "aud", "sub", "exp", "iat"],
                },
            )
        except jwt.InvalidTokenError as exc:
            raise TokenRejectedError(f"id_token refused: {type(exc).__name__}: {exc}") from None
        self._check_claims(claims, nonce)
        return claims

    def _check_claims(self, claims: Mapping[str, Any], nonce: str) -> None:
        aud = claims["aud"]
        azp = claims.get("azp")
        if ((isinstance(aud, list) and len(aud) > 1) or azp is not None) and (
            azp != self.settings.client_id
        ):
            raise TokenRejectedError(f"id_token azp {azp!r} is not our client")
        now = self._clock.now().timestamp()
        skew = self.settings.allowed_skew
        times = {name: claims.get(name) for name in ("exp", "iat", "nbf")}
        for name, value in times.items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise TokenRejectedError(f"id_token {name} is not a number")
        exp, iat, nbf = times["exp"], times["iat"], times["nbf"]
        if isinstance(exp, int) and now > exp + skew:
            raise TokenRejectedError(f"id_token expired {now - exp:.0f} s ago")
        if isinstance(iat, int) and iat > now + skew:
            raise TokenRejectedError(f"id_token issued {iat - now:.0f} s in the future")
        if isinstance(nbf, int) and nbf > now + skew:
            raise TokenRejectedError("id_token not valid yet (nbf)")
        given = claims.get("nonce")
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), nonce.encode()):
            raise TokenRejectedError("id_token nonce does not match this sign-in")
