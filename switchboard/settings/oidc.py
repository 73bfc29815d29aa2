"""The ``[http.oidc]`` table: single sign-on with an OpenID Connect provider (issue 5).

Kept apart from ``http.py`` like ``sip.py`` is from ``config.py``. The
table lives under ``[http]`` because sign-in is part of the web edge and its redirect URI
is built from ``http.public_url``. The client secret is never in the file, only the name
of the environment variable that holds it (ARCHITECTURE: secrets from the environment).

An ``http://`` issuer is accepted only on a loopback host: OpenID Connect Discovery 1.0
section 3 requires https, and a plain-text discovery or JWKS fetch would let anyone on the
path sign in as anyone. Loopback is for tests and nothing else.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import urlsplit

from switchboard.accounts.model import Role

Fail = Callable[[str, str], Exception]
Provision = Literal["link", "employee"]

OIDC_KEYS = {
    "issuer",
    "client_id",
    "client_secret_env",
    "display_name",
    "scopes",
    "username_claim",
    "email_claim",
    "groups_claim",
    "roles",
    "provision",
    "allowed_skew",
}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_CLAIM = re.compile(r"^[A-Za-z0-9_.:/-]{1,100}$")
MAX_SKEW = 300


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def usable_url(url: str, *, allow_loopback_http: bool) -> bool:
    """https with a host; or http on a loopback host when ``allow_loopback_http``."""
    parts = urlsplit(url)
    if not parts.hostname or parts.fragment:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and allow_loopback_http and is_loopback(parts.hostname)


@dataclass(frozen=True, slots=True)
class OidcSettings:
    issuer: str
    """Exactly as the provider's ``iss`` claim spells it (Entra ID v2:
    ``https://login.microsoftonline.com/<tenant id>/v2.0``)."""
    client_id: str
    client_secret_env: str
    display_name: str = "Sign in with single sign-on"
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    username_claim: str = "preferred_username"
    email_claim: str = "email"
    groups_claim: str = "groups"
    roles: MappingProxyType[str, Role] = field(default_factory=lambda: MappingProxyType({}))
    """Group id or name in ``groups_claim`` -> the role it gives."""
    provision: Provision = "link"
    allowed_skew: int = 60
    """Seconds of clock difference tolerated on ``exp``, ``iat`` and ``nbf``."""

    @property
    def discovery_url(self) -> str:
        """OpenID Connect Discovery 1.0 section 4: issuer + ``/.well-known/...``."""
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    @property
    def loopback(self) -> bool:
        """An http issuer on loopback (tests): its endpoints may be http on loopback too."""
        return urlsplit(self.issuer).scheme == "http"

    @property
    def managed_roles(self) -> frozenset[Role]:
        """The roles the provider's groups decide; other roles of an account are left alone."""
        return frozenset(self.roles.values())


def parse_oidc(table: dict[str, Any], fail: Fail) -> OidcSettings:
    """Build OidcSettings from ``[http.oidc]``; ``fail(key, problem)`` makes the error."""
    for key in table:
        if key not in OIDC_KEYS:
            raise fail(key, f"unknown key (known keys: {', '.join(sorted(OIDC_KEYS))})")
    defaults = OidcSettings("https://example.invalid", "x", "X")

    def string(key: str, default: str | None = None) -> str:
        value = table.get(key, default)
        if value is None:
            raise fail(key, "is required")
        if not isinstance(value, str) or not value.strip():
            raise fail(key, f"must be a non-empty string in quotes, got {value!r}")
        return value.strip()

    issuer = string("issuer")
    if not usable_url(issuer, allow_loopback_http=True) or urlsplit(issuer).query:
        raise fail(
            "issuer",
            f"must be an https URL without query, like "
            f"'https://login.microsoftonline.com/<tenant id>/v2.0', got {issuer!r} "
            "(http is accepted only for a loopback address, in tests)",
        )
    client_id = string("client_id")
    secret_env = string("client_secret_env")
    if not _ENV_NAME.match(secret_env):
        raise fail(
            "client_secret_env",
            "must name an environment variable (letters, digits, _), e.g. "
            "'SWITCHBOARD_OIDC_SECRET'; put the secret itself in that variable, "
            f"got {secret_env!r}",
        )
    claims = {
        key: string(key, getattr(defaults, key))
        for key in ("username_claim", "email_claim", "groups_claim")
    }
    for key, claim in claims.items():
        if not _CLAIM.match(claim):
            raise fail(key, f"is not a claim name: {claim!r}")
    return OidcSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret_env=secret_env,
        display_name=string("display_name", defaults.display_name),
        scopes=_scopes(table.get("scopes"), defaults.scopes, fail),
        username_claim=claims["username_claim"],
        email_claim=claims["email_claim"],
        groups_claim=claims["groups_claim"],
        roles=_roles(table.get("roles", {}), fail),
        provision=_provision(table.get("provision", defaults.provision), fail),
        allowed_skew=_skew(table.get("allowed_skew", defaults.allowed_skew), fail),
    )


def _scopes(value: object, default: tuple[str, ...], fail: Fail) -> tuple[str, ...]:
    if value is None:
        return default
    if isinstance(value, str):
        scopes = tuple(value.split())
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        scopes = tuple(s for v in value for s in v.split())
    else:
        raise fail("scopes", f"must be a string like 'openid profile email', got {value!r}")
    if "openid" not in scopes:
        raise fail("scopes", "must include 'openid' (OpenID Connect Core 3.1.2.1)")
    return tuple(dict.fromkeys(scopes))


def _roles(value: object, fail: Fail) -> MappingProxyType[str, Role]:
    if not isinstance(value, dict):
        raise fail("roles", 'must be a table like { "<group id>" = "receptionist" }')
    known = ", ".join(r.value for r in Role)
    roles: dict[str, Role] = {}
    for group, role in value.items():
        if not isinstance(role, str) or role not in {r.value for r in Role}:
            raise fail(f"roles.{group}", f"must be one of {known}, got {role!r}")
        roles[group] = Role(role)
    return MappingProxyType(roles)


def _provision(value: object, fail: Fail) -> Provision:
    if value == "link":
        return "link"
    if value == "employee":
        return "employee"
    raise fail("provision", f"must be 'link' or 'employee', got {value!r}")


def _skew(value: object, fail: Fail) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SKEW:
        raise fail("allowed_skew", f"must be whole seconds from 0 to {MAX_SKEW}, got {value!r}")
    return value
