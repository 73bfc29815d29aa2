"""Nordic referral codes in calendar subjects, as used with Trio (R7).

A short code and a colon at the start of a subject (``LUN: Lunch med Bo``) sets that
referral reason and closes the extension; a semicolon (``MÖT; Avstämning``) only informs,
and the phone still rings (an open referral). The table is data: deployments pass their own.

Default tables (``default_codes``):

====== ================= =====================
code   reason            language
====== ================= =====================
LUN    lunch             sv, nb
MÖT    meeting           sv (MØT in nb; MOT both, for keyboards without Ö/Ø)
FER    holiday           sv, nb (SEM also sv: "semester")
SJK    sick              sv (SYK in nb)
TJR    business_trip     sv, nb
GFD    gone_for_the_day  sv, nb
UTB    training          sv (KURS both, KUR and UTD nb)
LED    leave             sv ("ledig"; TJL "tjänstledig"); PERM in nb
====== ================= =====================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from switchboard.presence.model import Reason, ReferralKind


@dataclass(frozen=True, slots=True)
class CodeMatch:
    reason: Reason
    kind: ReferralKind
    rest: str
    """The subject after the code (may be empty)."""


_CODE = re.compile(r"^\s*(?P<code>[^\W\d_]{2,5})\s*(?P<sep>[:;])\s*(?P<rest>.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ReferralCodes:
    """Subject codes that choose a referral (R7): ``LUN: ...`` closes the extension with
    reason lunch, ``MÖT; ...`` only informs (an open referral: the phone still rings).

    Codes are matched case-insensitively, after leading spaces; an unknown code ("Re: ...",
    "Fwd: ...") is just part of the subject.
    """

    table: Mapping[str, Reason]

    def __post_init__(self) -> None:
        normalised = {code.strip().upper(): reason for code, reason in self.table.items()}
        object.__setattr__(self, "table", MappingProxyType(normalised))

    def match(self, subject: str | None) -> CodeMatch | None:
        if not subject:
            return None
        m = _CODE.match(subject)
        if m is None:
            return None
        reason = self.table.get(m["code"].upper())
        if reason is None:
            return None
        kind = ReferralKind.CLOSED if m["sep"] == ":" else ReferralKind.OPEN
        return CodeMatch(reason, kind, m["rest"].strip())


_SV_CODES: dict[str, Reason] = {
    "LUN": Reason.LUNCH,
    "MÖT": Reason.MEETING,
    "MOT": Reason.MEETING,
    "FER": Reason.HOLIDAY,
    "SEM": Reason.HOLIDAY,
    "SJK": Reason.SICK,
    "TJR": Reason.BUSINESS_TRIP,
    "GFD": Reason.GONE_FOR_THE_DAY,
    "UTB": Reason.TRAINING,
    "KURS": Reason.TRAINING,
    "LED": Reason.LEAVE,
    "TJL": Reason.LEAVE,
}
_NB_CODES: dict[str, Reason] = {
    "LUN": Reason.LUNCH,
    "MØT": Reason.MEETING,
    "MOT": Reason.MEETING,
    "FER": Reason.HOLIDAY,
    "SYK": Reason.SICK,
    "TJR": Reason.BUSINESS_TRIP,
    "GFD": Reason.GONE_FOR_THE_DAY,
    "KURS": Reason.TRAINING,
    "KUR": Reason.TRAINING,
    "UTD": Reason.TRAINING,
    "PERM": Reason.LEAVE,
}


def default_codes(language: str) -> ReferralCodes:
    """The default table for ``sv`` or ``nb``; any other language gets both (they agree
    wherever they overlap)."""
    if language == "sv":
        return ReferralCodes(_SV_CODES)
    if language == "nb":
        return ReferralCodes(_NB_CODES)
    return ReferralCodes({**_SV_CODES, **_NB_CODES})
