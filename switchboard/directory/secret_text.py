"""Secret mobiles in free text (R18, issue 17): find them in any dialled form, to refuse or mask.

A receptionist who types "Ring Bo på 070-999 31 41" into a referral note, a taken message
or a template shows Bo's secret mobile to every employee and sends it down the live feed.
Every way a free text enters checks it here: ``find`` reads each run of digits in the text
(with the spaces, dashes, dots, slashes and parentheses people put between them) and says
which runs hold a secret mobile in any dialled form.

How the forms are caught with one comparison: every dialled form of a number holds its
national significant number (the digits after the country code) as a run of digits:
national ``0709993141`` and E.164 ``+46709993141``, ``0046709993141``, ``+46 (0)70-999 31
41``, even ``70 999 31 41`` without the trunk prefix. So a run whose digits contain a
secret mobile's NSN holds it. A longer run that merely contains it (two numbers written
together) counts too: refusing such a text costs a retype, missing one leaks the number.
Unicode digits count as the digits they are ("０７０…"). Numbers spelled in words ("noll
sju noll") are not read.

Pure: the caller passes the people (or their secret mobiles) and the number plan.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from switchboard.directory.model import Person
from switchboard.directory.numbers import NumberPlan

MASK = "***"
"""What a masked number reads as (calendar subjects, which nobody can be asked to retype)."""
MIN_DIGITS = 6
"""Shorter runs hold no mobile (an NSN is at least 7 digits in the countries we serve)."""
_RUN = re.compile(r"\+?\d(?:[\s\-./()\u00a0\u2010-\u2015]{0,3}\d)*")
"""Digits with up to three separators between each two: "070 - 999 31 41", "(0)70"."""


class SecretNumberError(ValueError):
    """A free text holds someone's secret mobile (R18); ``field`` names where."""

    def __init__(self, field: str) -> None:
        super().__init__(
            f"{field}: holds a number that is secret (R18); write it without the number"
        )
        self.field = field


def _digits(run: str) -> str:
    return "".join(str(unicodedata.decimal(c)) for c in run if c.isdecimal())


@dataclass(frozen=True, slots=True)
class SecretNumbers:
    """The secret mobiles, as the digit strings every dialled form of them contains."""

    cores: frozenset[str]

    @classmethod
    def of(cls, people: Iterable[Person], plan: NumberPlan) -> SecretNumbers:
        cores: set[str] = set()
        for person in people:
            if person.secret_mobile and person.mobile:
                core = national_core(person.mobile, plan)
                if len(core) >= MIN_DIGITS:
                    cores.add(core)
        return cls(frozenset(cores))

    def find(self, text: str) -> list[tuple[int, int]]:
        """The (start, end) of each run of digits in ``text`` that holds a secret mobile."""
        if not self.cores:
            return []
        found: list[tuple[int, int]] = []
        for match in _RUN.finditer(text):
            digits = _digits(match.group(0))
            if len(digits) >= MIN_DIGITS and any(core in digits for core in self.cores):
                found.append(match.span())
        return found

    def holds(self, text: str | None) -> bool:
        return bool(text) and bool(self.find(text or ""))

    def mask(self, text: str) -> str:
        """``text`` with every run that holds a secret mobile replaced by ``MASK``."""
        spans = self.find(text)
        for start, end in reversed(spans):
            text = text[:start] + MASK + text[end:]
        return text

    def refuse(self, field: str, text: str | None) -> None:
        """Raise SecretNumberError naming ``field`` when ``text`` holds a secret mobile."""
        if self.holds(text):
            raise SecretNumberError(field)


NO_SECRETS = SecretNumbers(frozenset())


def national_core(mobile: str, plan: NumberPlan) -> str:
    """The digits every dialled form of ``mobile`` (E.164, as stored) contains: its national
    significant number when it is in our country, else all its digits after the ``+``.
    A mobile stored in another form is read with the plan first."""
    e164 = plan.e164_or_none(mobile) or mobile
    digits = _digits(e164)
    if e164.startswith("+") and digits.startswith(plan.country_code):
        return digits[len(plan.country_code) :]
    return digits
