"""Where employees may call out to: the toll-fraud rules for international numbers. Pure.

An authenticated phone is a phone someone may have taken over (a guessed password, a
stolen desk phone): its owner's calls cost the organisation, and the costly ones are
international premium and satellite ranges and far-away countries. Two rules, both on the
number in E.164 (``+88163...``), so every dialled form (``00881...``, ``+881...``) meets
them alike:

- ``blocked_international`` (``[sip]``): E.164 prefixes nobody calls out to. The default
  is the ITU's global services that bill as premium or satellite: +870 (Inmarsat) and the
  old +871-874 ocean regions, +878 (UPT), +881 (GMSS satellite: Iridium, Globalstar,
  Thuraya), +882 and +883 (international networks, a classic premium-fraud target), +888,
  +979 (international premium rate) and +991 (ITPCS trials).
- ``international_countries`` (per organisation): the country calling codes its people
  may call, beyond their own country. The default is the Nordic and EU countries.

National premium prefixes (``blocked_destinations``, as dialled nationally) are checked
in ``sip.identity.blocked_prefix``. Emergency and service short numbers are never asked
(``sip.calls``): they go out past every rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

NORDIC_COUNTRIES = {
    "45": "Denmark",
    "46": "Sweden",
    "47": "Norway",
    "354": "Iceland",
    "358": "Finland",
}
EU_COUNTRIES = {
    "30": "Greece",
    "31": "Netherlands",
    "32": "Belgium",
    "33": "France",
    "34": "Spain",
    "351": "Portugal",
    "352": "Luxembourg",
    "353": "Ireland",
    "356": "Malta",
    "357": "Cyprus",
    "358": "Finland",
    "359": "Bulgaria",
    "36": "Hungary",
    "370": "Lithuania",
    "371": "Latvia",
    "372": "Estonia",
    "385": "Croatia",
    "386": "Slovenia",
    "39": "Italy",
    "40": "Romania",
    "420": "Czechia",
    "421": "Slovakia",
    "43": "Austria",
    "45": "Denmark",
    "46": "Sweden",
    "48": "Poland",
    "49": "Germany",
}
DEFAULT_COUNTRIES: tuple[str, ...] = tuple(sorted(NORDIC_COUNTRIES | EU_COUNTRIES))
"""Country calling codes an organisation may call unless it lists its own."""
PREMIUM_AND_SATELLITE: tuple[str, ...] = (
    "870",
    "871",
    "872",
    "873",
    "874",
    "878",
    "881",
    "882",
    "883",
    "888",
    "979",
    "991",
)
"""E.164 prefixes refused unless ``[sip] blocked_international`` says otherwise."""
ANY_COUNTRY = "*"
"""In ``international_countries``: every country (the blocked prefixes still apply)."""


class Refused(StrEnum):
    """Which rule refused a destination: the log line's ``rule``."""

    NATIONAL_PREMIUM = "blocked_destinations"
    PREMIUM_OR_SATELLITE = "blocked_international"
    COUNTRY = "international_countries"


@dataclass(frozen=True, slots=True)
class Refusal:
    rule: Refused
    prefix: str
    """What matched, as configured ("0900", "881"); for a country not allowed, the
    first digits of the number (at most three: never enough to identify it)."""


def international_refusal(
    e164: str, country_code: str, countries: tuple[str, ...], blocked: tuple[str, ...]
) -> Refusal | None:
    """Why ``e164`` may not be called, or None. ``country_code``: the deployment's own
    (its numbers are national, past the allow-list); ``countries``: the caller's
    organisation's allow-list; ``blocked``: prefixes refused for everyone, our own
    country's included (``"46900"`` works too)."""
    digits = e164.removeprefix("+")
    for prefix in blocked:
        if digits.startswith(prefix):
            return Refusal(Refused.PREMIUM_OR_SATELLITE, prefix)
    if digits.startswith(country_code) or ANY_COUNTRY in countries:
        return None
    for code in countries:
        if digits.startswith(code):
            return None
    return Refusal(Refused.COUNTRY, digits[:3])


def read_e164_prefix(text: str, *, max_digits: int) -> str:
    """A prefix as configured: digits, a leading '+' allowed; ValueError naming the problem."""
    digits = text.strip().removeprefix("+")
    if not (digits.isascii() and digits.isdigit()) or not 1 <= len(digits) <= max_digits:
        raise ValueError(
            f"write E.164 digits without the international prefix ('881', '+45'), "
            f"1 to {max_digits} of them, got {text!r}"
        )
    return digits
