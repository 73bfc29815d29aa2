"""Emergency and service short numbers: the calls that always go out.

A telephone service must reach the emergency number from every phone (Sweden and Norway
both require 112 access), and employees expect the public service numbers (1177, 114 14,
116 117, ...) to work like on any phone. These numbers are short, so the number plan reads
them as neither extensions nor full numbers; this module recognises them before the plan
is asked, and the SIP edge sends them to the trunk in their short form, past the
destination policy.

Each deployment lists its own (``[sip] emergency_numbers`` and ``service_numbers``); when it
lists none, the defaults of its country (by country code) apply. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

_SEPARATORS = str.maketrans("", "", " -().\u00a0/\t")
MIN_DIGITS = 2
MAX_DIGITS = 6


class ShortKind(StrEnum):
    EMERGENCY = "emergency"
    """Life and safety (112): a callback number is always presented; logged at WARNING."""
    SERVICE = "service"
    """Public service lines (1177): presented like any other call."""


@dataclass(frozen=True, slots=True)
class ShortNumber:
    digits: str
    kind: ShortKind


_DEFAULTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # Sweden: 112 SOS Alarm; police non-emergency, healthcare advice, information on
    # serious events, missing children, children's helpline.
    "46": (("112",), ("11414", "1177", "11313", "116000", "116111")),
    # Norway: fire, police, ambulance; out-of-hours doctor, police non-emergency, missing
    # children, children's helpline, mental health helpline.
    "47": (("110", "112", "113"), ("116117", "02800", "116000", "116111", "116123")),
    # Denmark: 112; police non-emergency, Copenhagen medical helpline.
    "45": (("112",), ("114", "1813", "116000", "116111")),
    # Finland: 112; out-of-hours medical helpline.
    "358": (("112",), ("116117", "116000", "116111")),
}
_EVERYWHERE = (("112",), ())
"""112 reaches the emergency services in every EU/EEA country and from every GSM phone."""


def read_short_number(text: str) -> str:
    """The digits of a configured short number ("114 14" -> "11414"); ValueError if bad."""
    digits = text.strip().translate(_SEPARATORS)
    if not (digits.isdigit() and digits.isascii()):
        raise ValueError(f"a short number is digits (spaces and '-' allowed), got {text!r}")
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise ValueError(
            f"a short number has {MIN_DIGITS}-{MAX_DIGITS} digits, got {text!r} "
            f"({len(digits)} digits)"
        )
    return digits


@dataclass(frozen=True, slots=True)
class ShortNumbers:
    """A deployment's short numbers, recognised in the forms phones dial them."""

    country_code: str
    international_prefix: str
    numbers: tuple[ShortNumber, ...]

    @classmethod
    def for_country(
        cls,
        country_code: str,
        international_prefix: str = "00",
        *,
        emergency: tuple[str, ...] | None = None,
        service: tuple[str, ...] | None = None,
    ) -> ShortNumbers:
        """The given lists, or for a list not given the country's defaults."""
        default_emergency, default_service = _DEFAULTS.get(country_code, _EVERYWHERE)
        chosen = [
            ShortNumber(read_short_number(d), ShortKind.EMERGENCY)
            for d in (default_emergency if emergency is None else emergency)
        ]
        chosen += [
            ShortNumber(read_short_number(d), ShortKind.SERVICE)
            for d in (default_service if service is None else service)
        ]
        return cls(country_code, international_prefix, tuple(chosen))

    @property
    def emergency(self) -> tuple[str, ...]:
        return tuple(n.digits for n in self.numbers if n.kind is ShortKind.EMERGENCY)

    def emergency_forms(self) -> frozenset[str]:
        """Every form ``match`` reads as an emergency number, without separators: what a
        check on raw bytes (before parsing) can compare a Request-URI's user part with."""
        forms: set[str] = set()
        for digits in self.emergency:
            forms |= {digits, f"+{self.country_code}{digits}"}
            if self.international_prefix:
                forms.add(f"{self.international_prefix}{self.country_code}{digits}")
        return frozenset(forms)

    def match(self, dialled: str) -> ShortNumber | None:
        """The short number ``dialled`` reaches, if any: as written ("112", "114 14"), or
        behind our own country code ("+46112", "0046112"), which some phones' dial plans
        put in front of everything."""
        text = dialled.strip().translate(_SEPARATORS)
        if text.startswith("+"):
            text = text[1:]
            if not text.startswith(self.country_code):
                return None
            text = text[len(self.country_code) :]
        elif self.international_prefix and text.startswith(
            self.international_prefix + self.country_code
        ):
            text = text[len(self.international_prefix) + len(self.country_code) :]
        if not MIN_DIGITS <= len(text) <= MAX_DIGITS:
            return None
        for number in self.numbers:
            if number.digits == text:
                return number
        return None
