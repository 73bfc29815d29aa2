"""Time-zone names as calendar servers really write them, mapped to IANA names.

Outlook and Exchange write Windows zone names as ``TZID`` ("W. Europe Standard Time"), and
Exchange's published calendars sometimes write ``tzone://Microsoft/Utc`` without the quotes
RFC 5545 3.2 requires around a parameter value that contains a colon, which breaks a strict
content-line parser. :func:`normalise_tzids` rewrites both into IANA names before parsing.

The table holds the Windows names of Europe (where this switchboard runs) and the common
ones elsewhere, after CLDR's windowsZones.xml; icalendar's larger table still catches the
rest.
"""

from __future__ import annotations

import re

WINDOWS_ZONES: dict[str, str] = {
    "UTC": "UTC",
    "Coordinated Universal Time": "UTC",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "GMT Standard Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "FLE Standard Time": "Europe/Helsinki",
    "GTB Standard Time": "Europe/Bucharest",
    "E. Europe Standard Time": "Europe/Chisinau",
    "Kaliningrad Standard Time": "Europe/Kaliningrad",
    "Russian Standard Time": "Europe/Moscow",
    "Belarus Standard Time": "Europe/Minsk",
    "Turkey Standard Time": "Europe/Istanbul",
    "Volgograd Standard Time": "Europe/Volgograd",
    "Russia Time Zone 3": "Europe/Samara",
    "Azores Standard Time": "Atlantic/Azores",
    "Morocco Standard Time": "Africa/Casablanca",
    "W. Central Africa Standard Time": "Africa/Lagos",
    "Israel Standard Time": "Asia/Jerusalem",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "Pacific Standard Time": "America/Los_Angeles",
    "India Standard Time": "Asia/Kolkata",
    "China Standard Time": "Asia/Shanghai",
    "Tokyo Standard Time": "Asia/Tokyo",
}
_TZONE_UTC = {"utc", "gmt"}

# A TZID parameter: quoted, or up to the next ';' or ':' -- except that an unquoted
# tzone:// value runs over its own "//" (the colon after "tzone" is part of the value).
_TZID = re.compile(r';TZID=(?:"(?P<quoted>[^"]*)"|(?P<tzone>tzone://[^;:]*)|(?P<plain>[^;:]*))')


def iana_name(tzid: str) -> str | None:
    """The IANA name for a Windows or ``tzone://Microsoft/...`` TZID, or None if unknown."""
    name = tzid.strip()
    if name.lower().startswith("tzone://microsoft/"):
        name = name[len("tzone://microsoft/") :]
        if name.lower() in _TZONE_UTC:
            return "UTC"
    return WINDOWS_ZONES.get(name)


def _rewrite(match: re.Match[str]) -> str:
    value = match["quoted"] if match["quoted"] is not None else match["tzone"] or match["plain"]
    mapped = iana_name(value)
    if mapped is not None:
        return f";TZID={mapped}"
    if ":" in value:
        return f';TZID="{value}"'
    return match.group(0)


def normalise_tzids(text: str) -> str:
    """Rewrite every TZID parameter that names a Windows or tzone:// zone to its IANA name
    (``text`` must be unfolded, RFC 5545 3.1)."""
    return _TZID.sub(_rewrite, text)
