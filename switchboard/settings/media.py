"""The ``[media]`` table: whether the switchboard answers calls itself, and on which ports.

With media on (the default) a caller who reaches a referral or voicemail is answered and
hears it (R10-R13); with ``enabled = false`` such calls get ``480`` with the referral in a
``Reason`` header, for a deployment whose media is done elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from switchboard.settings.sip import is_ip_address


@dataclass(frozen=True, slots=True)
class MediaSettings:
    enabled: bool = True
    address: str | None = None
    """The IP address RTP binds to and the SDP names; default: the SIP address."""
    rtp_first: int = 20000
    rtp_last: int = 20999
    """The RTP port range (even ports; RTCP would take the odd one above each)."""
    silence_timeout: float = 30.0
    """Seconds without RTP from a caller before the call is ended."""
    confirm_mobile: bool = True
    """Call confirmation in proxy mode: a mobile that answers must press 1, so the
    operator's voicemail cannot take the call."""
    speech_command: tuple[str, ...] = ()
    """A better speech engine's argv (``{text}``, ``{out}``, ``{lang}``, ``{voice}``);
    espeak-ng speaks when it is empty or fails."""
    voicemail_number: str | None = None
    """What an owner dials to listen to their messages by phone ("*98", "64999"); None:
    listening by phone is off. Checked against the number plan in ``settings.config``."""


MEDIA_KEYS = {
    "enabled",
    "address",
    "rtp_ports",
    "silence_timeout",
    "confirm_mobile",
    "speech_command",
    "voicemail_number",
}
VOICEMAIL_NUMBER = re.compile(r"\*?[0-9]{2,8}")
"""Digits, maybe behind a star: what every phone's keypad and every SIP URI can carry."""


def parse_media(table: dict[str, Any], fail: Any) -> MediaSettings:
    """Build MediaSettings from ``[media]``; ``fail(key, problem)`` makes the error."""
    defaults = MediaSettings()
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise fail("enabled", f"must be true or false, got {enabled!r}")
    address = table.get("address")
    if address is not None and (not isinstance(address, str) or not is_ip_address(address)):
        raise fail("address", f"must be an IP address in quotes, got {address!r}")
    first, last = defaults.rtp_first, defaults.rtp_last
    ports = table.get("rtp_ports")
    if ports is not None:
        text = ports if isinstance(ports, str) else ""
        low, sep, high = text.partition("-")
        if not (sep and low.isdigit() and high.isdigit() and low.isascii() and high.isascii()):
            raise fail("rtp_ports", f'must be a range like "20000-20999", got {ports!r}')
        first, last = int(low), int(high)
        if not 1024 <= first < last <= 65535:
            raise fail("rtp_ports", f"must lie within 1024-65535, low to high, got {ports!r}")
    timeout = table.get("silence_timeout", defaults.silence_timeout)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 5 <= timeout <= 600:
        raise fail("silence_timeout", f"must be seconds between 5 and 600, got {timeout!r}")
    confirm = table.get("confirm_mobile", True)
    if not isinstance(confirm, bool):
        raise fail("confirm_mobile", f"must be true or false, got {confirm!r}")
    command = table.get("speech_command", [])
    if not isinstance(command, list) or not all(isinstance(c, str) for c in command):
        raise fail("speech_command", 'must be a list of strings, e.g. ["piper", "--model", ...]')
    number = table.get("voicemail_number")
    if number is not None and (
        not isinstance(number, str) or not VOICEMAIL_NUMBER.fullmatch(number)
    ):
        raise fail(
            "voicemail_number",
            f'must be 2-8 digits in quotes, maybe after a star ("*98", "64999"), got {number!r}',
        )
    return MediaSettings(
        enabled, address, first, last, float(timeout), confirm, tuple(command), number
    )
