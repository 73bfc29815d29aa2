"""A calendar an employee connected themselves, from their page (issue 16, R7).

Pure values and checks: what a connection is, how its address is shown (masked: a feed URL
usually carries a secret token), and whether an address the employee typed may be used
under the administrator's policy (``[own_calendars]``, see docs/calendar.md). The store
keeps the connections; the calendar worker reads them; the web asks these checks first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

MAX_URL = 2048
"""Longest feed address accepted (browsers and proxies agree up to about this)."""
MAX_MAILBOX = 254
"""RFC 5321's limit on a forward path."""
SOURCE_PREFIX = "own:"
"""Segments of a person's own calendar are stored under ``own:{person_id}``."""


class OwnCalendarKind(StrEnum):
    ICS = "ics"
    GRAPH = "graph"
    """Microsoft 365 through the Graph application the administrator configured."""


@dataclass(frozen=True, slots=True)
class OwnCalendar:
    person_id: str
    kind: OwnCalendarKind
    address: str
    """ics: the feed URL (a secret); graph: the mailbox's e-mail address."""
    connected_by: str
    """The username that connected it (the person, or an administrator on their behalf)."""
    connected_at: datetime

    def __repr__(self) -> str:
        # The feed URL is a secret: never in a traceback or a log line (docs/calendar.md).
        return (
            f"OwnCalendar(person_id={self.person_id!r}, kind={self.kind.value!r}, "
            f"address={self.shown!r}, connected_by={self.connected_by!r})"
        )

    @property
    def source(self) -> str:
        return source_name(self.person_id)

    @property
    def shown(self) -> str:
        """What pages, answers, logs and the audit trail may show of the address."""
        return mask_address(self.kind, self.address)


def source_name(person_id: str) -> str:
    return SOURCE_PREFIX + person_id


def mask_address(kind: OwnCalendarKind, address: str) -> str:
    """A feed URL as scheme, host and port only (``https://outlook.office365.com/***``):
    the path and query usually hold the token that opens the calendar. A mailbox address
    is no secret and is shown whole."""
    if kind is OwnCalendarKind.GRAPH:
        return address
    try:
        parts = urlsplit(address)
        host = parts.hostname
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "***"
    if not parts.scheme or not host:
        return "***"
    return f"{parts.scheme}://{host}{port}/***"


class OwnCalendarRefusedError(ValueError):
    """An address that may not be connected: ``field`` of the request, ``code`` for the
    pages' words (``error.{code}``), a message that never repeats the address."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


def check_feed_url(text: str, *, allow_http: bool, hosts: tuple[str, ...]) -> str:
    """The feed URL to store (``webcal://`` as ``https://``), or OwnCalendarRefusedError.

    https only unless ``allow_http``; the host must be one of ``hosts`` (or below one of
    them) when any are given; no user name or password inside the URL (they would be
    stored, masked nowhere else and sent in clear to redirects).
    """
    url = text.strip()
    if not url:
        raise OwnCalendarRefusedError(
            "url", "calendar_url_missing", "url: give the calendar's address"
        )
    if len(url) > MAX_URL:
        raise OwnCalendarRefusedError(
            "url", "calendar_url_long", f"url: at most {MAX_URL} characters are accepted"
        )
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise OwnCalendarRefusedError("url", "calendar_url_invalid", "url: not a web address")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        _ = parts.port  # raises for a port that is not a number
    except ValueError:
        raise OwnCalendarRefusedError(
            "url", "calendar_url_invalid", "url: not a web address"
        ) from None
    scheme = parts.scheme.lower()
    if scheme == "webcal":
        scheme = "https"
        url = "https" + url[len(parts.scheme) :]
    if scheme not in ("https", "http") or not host:
        raise OwnCalendarRefusedError(
            "url", "calendar_url_scheme", "url: must be an https:// (or webcal://) address"
        )
    if scheme == "http" and not allow_http:
        raise OwnCalendarRefusedError(
            "url", "calendar_url_scheme", "url: must be an https:// (or webcal://) address"
        )
    if parts.username is not None or parts.password is not None:
        raise OwnCalendarRefusedError(
            "url",
            "calendar_url_credentials",
            "url: must not contain a user name or password; use the calendar's secret address",
        )
    if hosts and not any(host == h or host.endswith("." + h) for h in hosts):
        raise OwnCalendarRefusedError(
            "url",
            "calendar_url_host",
            f"url: calendars may be connected from {', '.join(hosts)} only",
        )
    return url


def check_mailbox(text: str) -> str:
    """A plausible e-mail address (one ``@``, a dotted domain), or OwnCalendarRefusedError."""
    mailbox = text.strip()
    local, at, domain = mailbox.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain
        or len(mailbox) > MAX_MAILBOX
        or any(c.isspace() or c in "/?#<>\"'" for c in mailbox)
    ):
        raise OwnCalendarRefusedError(
            "mailbox", "calendar_mailbox_invalid", "mailbox: give an e-mail address"
        )
    return mailbox
