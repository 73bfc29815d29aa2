"""The ``[mail]`` table of the config file: the SMTP server that carries taken messages.

Kept apart from ``config.py`` like ``sip.py``. Without a ``[mail]`` table nothing
is sent: a taken message is stored and shown on the person's page only. The password is
never in the file: ``password_env`` names the environment variable that holds it
(ARCHITECTURE: secrets from the environment), read when a message is sent.

Why e-mail and never SMS (R20): a taken message is confidential (who called, about what);
SMS crosses operators in clear text and lands on lock screens, so the switchboard has no
SMS channel at all for message content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAIL_KEYS = {
    "host",
    "port",
    "starttls",
    "username_env",
    "password_env",
    "from_address",
    "timeout",
}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_ADDRESS = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_HOST = re.compile(r"^[A-Za-z0-9.:\[\]-]{1,253}$")


@dataclass(frozen=True, slots=True)
class MailSettings:
    host: str
    from_address: str
    port: int = 587
    starttls: bool = True
    """Upgrade the connection with STARTTLS (RFC 3207) before sending; refused if the server
    does not offer it. Turn off only for a relay on loopback."""
    username_env: str | None = None
    password_env: str | None = None
    timeout: int = 10
    """Seconds for connecting and for each SMTP reply."""


def parse_mail(table: dict[str, Any], fail: Any) -> MailSettings:
    """Build MailSettings from ``[mail]``; ``fail(key, problem)`` makes the error."""
    for key in table:
        if key not in MAIL_KEYS:
            raise fail(key, f"unknown key (known keys: {', '.join(sorted(MAIL_KEYS))})")

    def string(key: str, pattern: re.Pattern[str], example: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not pattern.match(value.strip()):
            raise fail(key, f"must be a string like {example!r}, got {value!r}")
        return value.strip()

    def integer(key: str, default: int, lo: int, hi: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise fail(key, f"must be a whole number {lo}-{hi}, got {value!r}")
        return value

    host = string("host", _HOST, "smtp.kommun.example")
    if host is None:
        raise fail("host", "is required (the SMTP server that sends taken messages)")
    from_address = string("from_address", _ADDRESS, "vaxel@kommun.example")
    if from_address is None:
        raise fail("from_address", "is required (the sender of taken messages)")
    starttls = table.get("starttls", True)
    if not isinstance(starttls, bool):
        raise fail("starttls", f"must be true or false, got {starttls!r}")
    username_env = string("username_env", _ENV_NAME, "SWITCHBOARD_SMTP_USER")
    password_env = string("password_env", _ENV_NAME, "SWITCHBOARD_SMTP_PASSWORD")
    if (username_env is None) != (password_env is None):
        raise fail(
            "password_env" if password_env is None else "username_env",
            "give both username_env and password_env, or neither (no SMTP login)",
        )
    return MailSettings(
        host=host,
        from_address=from_address,
        port=integer("port", 587, 1, 65535),
        starttls=starttls,
        username_env=username_env,
        password_env=password_env,
        timeout=integer("timeout", 10, 1, 120),
    )
