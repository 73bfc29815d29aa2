"""The ``[[calendars]]`` tables of the config file: which calendars drive whose availability (R7).

Kept apart from ``config.py`` (as ``sip.py`` is) so the calendar knobs live next to
their validation. Secrets never appear in the file: a source names the *environment
variables* that hold them (``client_secret_env = "SB_GRAPH_SECRET"``), and they are read when
the worker starts, so ``config check`` works on a machine without them.

Every error names the file and the key (``calendars[2].poll``), as the rest of the config does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from switchboard.presence.model import Reason

Fail = Callable[[str, str], Exception]
"""``fail(key, problem)`` builds the config error for the full key ``calendars[i].name``."""


class CalendarType(StrEnum):
    ICS = "ics"
    EWS = "ews"
    GRAPH = "graph"


class EwsAccess(StrEnum):
    """How a service account reaches other people's mailboxes on-premises (see docs/calendar.md)."""

    IMPERSONATION = "impersonation"
    DELEGATE = "delegate"


class EwsAuth(StrEnum):
    NTLM = "ntlm"
    BASIC = "basic"
    NONE = "none"


DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"


@dataclass(frozen=True, slots=True)
class CalendarSource:
    """One configured calendar source. Only the fields of its ``type`` are meaningful."""

    name: str
    """The key its segments are stored under: stable across restarts and reordering."""
    type: CalendarType
    person: str | None = None
    """An extension or e-mail address (one person's calendar)."""
    organisation: str | None = None
    """Org-wide: everyone in this organisation who has an e-mail address."""
    url: str | None = None
    """ics: the feed (``{email}`` is replaced per person); ews: the EWS endpoint."""
    url_env: str | None = None
    """ics: the environment variable holding the feed URL (feed addresses are secrets)."""
    poll: int = 300
    tentative_diverts: bool | None = None
    """None: each person's own setting decides."""
    codes: Mapping[str, Reason] | None = None
    """Overrides the referral-code table of the person's language."""
    past_days: int = 31
    future_days: int = 366
    # ews
    username_env: str | None = None
    password_env: str | None = None
    auth: EwsAuth = EwsAuth.NTLM
    access: EwsAccess = EwsAccess.IMPERSONATION
    # graph
    tenant: str | None = None
    client_id: str | None = None
    client_secret_env: str | None = None
    authority: str = DEFAULT_AUTHORITY
    graph_url: str = DEFAULT_GRAPH_URL
    notification_url: str | None = None
    """Public https URL Graph posts change notifications to; None: poll only."""
    notification_listen: str | None = None
    """``host:port`` the notification receiver binds (behind the proxy that serves the URL)."""
    reconcile: int = 3600
    """Seconds between full reads for Graph: delta rounds are known to miss changes."""
    person_id: str | None = None
    """Set for a calendar an employee connected from their page (issue 16): whose it is,
    by id. Never read from the file."""

    def secret(self, key: str) -> str:
        """The value of the environment variable named by ``key`` (e.g. ``password_env``).

        Raises KeyError with a message that names the variable, never a value.
        """
        var = getattr(self, key)
        if var is None:
            raise KeyError(f"calendars {self.name!r}: {key} is not set")
        value = os.environ.get(var)
        if not value:
            raise KeyError(f"calendars {self.name!r}: environment variable {var} is not set")
        return str(value)

    def feed_url(self) -> str | None:
        """The ics feed URL, from the file or from the environment."""
        if self.url is not None:
            return self.url
        return self.secret("url_env") if self.url_env else None


_COMMON = {"type", "name", "person", "organisation", "poll", "tentative_diverts", "codes"}
_COMMON |= {"past_days", "future_days"}
CALENDAR_KEYS: dict[CalendarType, set[str]] = {
    CalendarType.ICS: _COMMON | {"url", "url_env"},
    CalendarType.EWS: _COMMON | {"url", "username_env", "password_env", "auth", "access"},
    CalendarType.GRAPH: _COMMON
    | {
        "tenant",
        "client_id",
        "client_secret_env",
        "authority",
        "graph_url",
        "notification_url",
        "notification_listen",
        "reconcile",
    },
}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_calendars(value: Any, organisations: set[str], fail: Fail) -> tuple[CalendarSource, ...]:
    """Validate the ``calendars`` array (absent: no calendar sync)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise fail("calendars", "must be an array of tables ([[calendars]])")
    sources: list[CalendarSource] = []
    for i, table in enumerate(value):
        source = _source(table, organisations, _prefixed(fail, f"calendars[{i}]."))
        if any(s.name == source.name for s in sources):
            raise fail(
                f"calendars[{i}].name",
                f"{source.name!r} is used by another calendar source; give each a unique name",
            )
        sources.append(source)
    return tuple(sources)


def _prefixed(fail: Fail, prefix: str) -> Fail:
    def inner(key: str, problem: str) -> Exception:
        return fail(prefix + key, problem)

    return inner


def _source(table: dict[str, Any], organisations: set[str], fail: Fail) -> CalendarSource:
    kind_text = table.get("type")
    try:
        kind = CalendarType(str(kind_text))
    except ValueError:
        raise fail("type", f"must be 'ics', 'ews' or 'graph', got {kind_text!r}") from None
    allowed = CALENDAR_KEYS[kind]
    for key in table:
        if key not in allowed:
            hint = ", ".join(sorted(allowed))
            raise fail(key, f"unknown key for a {kind.value} source (known keys: {hint})")

    def text(key: str) -> str | None:
        v = table.get(key)
        if v is not None and (not isinstance(v, str) or not v.strip()):
            raise fail(key, f"must be a non-empty string in quotes, got {v!r}")
        return v.strip() if v is not None else None

    def env(key: str) -> str | None:
        v = text(key)
        if v is not None and not _ENV_NAME.match(v):
            raise fail(key, f"names an environment variable (e.g. 'SB_SECRET'), got {v!r}")
        return v

    def number(key: str, default: int, lo: int, hi: int) -> int:
        v = table.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise fail(key, f"must be a whole number {lo}-{hi}, got {v!r}")
        return v

    def url(key: str, schemes: tuple[str, ...]) -> str | None:
        v = text(key)
        if v is not None and not v.lower().startswith(schemes):
            raise fail(key, f"must start with {' or '.join(schemes)}")
        return v

    person, organisation = text("person"), text("organisation")
    if (person is None) == (organisation is None):
        raise fail("person", "give exactly one of 'person' (extension or e-mail) or 'organisation'")
    if organisation is not None and organisation not in organisations:
        known = ", ".join(sorted(organisations))
        raise fail("organisation", f"{organisation!r} is not a configured organisation ({known})")
    diverts = table.get("tentative_diverts")
    if diverts is not None and not isinstance(diverts, bool):
        raise fail("tentative_diverts", f"must be true or false, got {diverts!r}")
    name = text("name") or f"{kind.value}:{person or organisation}"
    common: dict[str, Any] = {
        "name": name,
        "type": kind,
        "person": person,
        "organisation": organisation,
        "poll": number("poll", 300, 10, 86_400),
        "tentative_diverts": diverts,
        "codes": _codes(table.get("codes"), fail),
        "past_days": number("past_days", 31, 0, 3660),
        "future_days": number("future_days", 366, 1, 3660),
    }
    if kind is CalendarType.ICS:
        feed, feed_env = url("url", ("http://", "https://", "webcal://")), env("url_env")
        if (feed is None) == (feed_env is None):
            raise fail("url", "give exactly one of 'url' or 'url_env' (the feed is a secret)")
        if organisation is not None and feed is not None and "{email}" not in feed:
            raise fail("url", "an organisation-wide feed needs '{email}' in the URL")
        return CalendarSource(**common, url=feed, url_env=feed_env)
    if kind is CalendarType.EWS:
        endpoint = url("url", ("http://", "https://"))
        if endpoint is None:
            raise fail(
                "url", "the EWS endpoint is required (https://mail.example/EWS/Exchange.asmx)"
            )
        auth = _choice(table, "auth", EwsAuth, EwsAuth.NTLM, fail)
        user_env, pass_env = env("username_env"), env("password_env")
        if auth is not EwsAuth.NONE and (user_env is None or pass_env is None):
            raise fail("username_env", "username_env and password_env are required for this auth")
        return CalendarSource(
            **common,
            url=endpoint,
            username_env=user_env,
            password_env=pass_env,
            auth=auth,
            access=_choice(table, "access", EwsAccess, EwsAccess.IMPERSONATION, fail),
        )
    for required in ("tenant", "client_id", "client_secret_env"):
        if required not in table:
            raise fail(required, "is required for a graph source")
    notification_url = url("notification_url", ("https://", "http://"))
    listen = text("notification_listen")
    if (notification_url is None) != (listen is None):
        raise fail(
            "notification_url", "give both notification_url and notification_listen, or neither"
        )
    return CalendarSource(
        **common,
        tenant=text("tenant"),
        client_id=text("client_id"),
        client_secret_env=env("client_secret_env"),
        authority=(url("authority", ("https://", "http://")) or DEFAULT_AUTHORITY).rstrip("/"),
        graph_url=(url("graph_url", ("https://", "http://")) or DEFAULT_GRAPH_URL).rstrip("/"),
        notification_url=notification_url,
        notification_listen=listen,
        reconcile=number("reconcile", 3600, 60, 86_400),
    )


E = TypeVar("E", bound=StrEnum)


def _choice(table: dict[str, Any], key: str, enum: type[E], default: E, fail: Fail) -> E:
    v = table.get(key, default.value)
    try:
        return enum(v)
    except ValueError:
        options = ", ".join(repr(e.value) for e in enum)
        raise fail(key, f"must be one of {options}, got {v!r}") from None


def _codes(value: Any, fail: Fail) -> Mapping[str, Reason] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not value:
        raise fail("codes", 'must be a table of CODE = "reason", e.g. { UTE = "business_trip" }')
    out: dict[str, Reason] = {}
    for code, reason in value.items():
        if not (2 <= len(code) <= 5 and code.isalpha()):
            raise fail(f"codes.{code}", "a code is 2-5 letters")
        try:
            parsed = Reason(reason)
        except ValueError:
            options = ", ".join(r.value for r in Reason if r is not Reason.OUTSIDE_HOURS)
            raise fail(f"codes.{code}", f"unknown reason {reason!r} ({options})") from None
        if parsed is Reason.OUTSIDE_HOURS:
            raise fail(f"codes.{code}", "'outside_hours' is set by the working-hours schedule")
        out[code.upper()] = parsed
    return MappingProxyType(out)
