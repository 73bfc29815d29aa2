"""The ``[http]`` table of the config file: where the web pages and the JSON API listen.

Kept apart from ``config.py`` like ``sip.py``; ``switchboard serve --http-listen``
overrides ``listen``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from switchboard.settings.oidc import OidcSettings, parse_oidc
from switchboard.settings.sip import HostPort, parse_host_port

MIB = 1024 * 1024
DEFAULT_LISTEN = HostPort("127.0.0.1", 8080)
IDLE_MINUTES = (5, 720)
"""The idle timeout a deployment may choose, in minutes: at least 5 (``last_seen`` is
written once a minute), at most the absolute 12 hours a session lives anyway."""


@dataclass(frozen=True, slots=True)
class HttpSettings:
    listen: HostPort = DEFAULT_LISTEN
    public_url: str | None = None
    """How browsers reach us ("https://switchboard.example"), behind a proxy perhaps.

    Its origin is the only one whose state-changing requests are accepted (CSRF), and an
    https URL marks the session cookie Secure and turns on HSTS.
    """
    max_body: int = MIB
    """The largest request body accepted (413 above it); uploads get their own limit."""
    oidc: OidcSettings | None = None
    """``[http.oidc]``: single sign-on with an OpenID Connect provider, when configured."""
    max_in_flight: int = 256
    """Requests handled at once; more get 503 with Retry-After (issue 15,
    bench/RESULTS.md "Web under overload" for how the default was chosen)."""
    max_streams: int = 2000
    """Open live-screen streams (server-sent events), capped apart: they last for hours."""
    session_idle: timedelta = timedelta(minutes=30)
    """A web session unused this long ends (issue 17: ``session_idle_minutes``); OWASP's
    15-30 minutes by default; a reception screen left open all day may want longer."""

    @property
    def secure(self) -> bool:
        return (self.public_url or "").startswith("https://")

    @property
    def origin(self) -> str | None:
        """``scheme://host[:port]`` of ``public_url``, as browsers send it in ``Origin``."""
        if not self.public_url:
            return None
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    def with_overrides(self, *, listen: HostPort | None = None) -> HttpSettings:
        return replace(self, listen=listen or self.listen)


HTTP_KEYS = {
    "listen",
    "public_url",
    "max_body",
    "oidc",
    "session_idle_minutes",
    "max_in_flight",
    "max_streams",
}


def parse_http(table: dict[str, Any], fail: Any) -> HttpSettings:
    """Build HttpSettings from the ``[http]`` table; ``fail(key, problem)`` makes the error."""
    defaults = HttpSettings()
    listen = defaults.listen
    value = table.get("listen")
    if value is not None:
        if not isinstance(value, str):
            raise fail("listen", f"must be a string in quotes, got {value!r}")
        try:
            listen = parse_host_port(value, default_port=None)
        except ValueError as exc:
            raise fail("listen", str(exc)) from None
    public_url = table.get("public_url")
    if public_url is not None:
        if not isinstance(public_url, str):
            raise fail("public_url", f"must be a string in quotes, got {public_url!r}")
        parts = urlsplit(public_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise fail(
                "public_url", f"must be an http(s) URL like 'https://host', got {public_url!r}"
            )
    max_body = table.get("max_body", defaults.max_body)
    if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 1024:
        raise fail("max_body", f"must be a whole number of bytes, at least 1024, got {max_body!r}")
    minutes = table.get("session_idle_minutes", 30)
    low, high = IDLE_MINUTES
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not low <= minutes <= high:
        raise fail(
            "session_idle_minutes",
            f"must be a whole number of minutes from {low} to {high} (the absolute session "
            f"lifetime is 12 hours), got {minutes!r}",
        )
    caps = {}
    for key in ("max_in_flight", "max_streams"):
        value = table.get(key, getattr(defaults, key))
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise fail(key, f"must be a whole number, at least 1, got {value!r}")
        caps[key] = value
    oidc_table = table.get("oidc")
    oidc = None
    if oidc_table is not None:
        if not isinstance(oidc_table, dict):
            raise fail("oidc", "must be a table ([http.oidc])")
        oidc = parse_oidc(oidc_table, lambda key, problem: fail(f"oidc.{key}", problem))
    return HttpSettings(
        listen=listen,
        public_url=public_url,
        max_body=max_body,
        oidc=oidc,
        session_idle=timedelta(minutes=minutes),
        max_in_flight=caps["max_in_flight"],
        max_streams=caps["max_streams"],
    )
