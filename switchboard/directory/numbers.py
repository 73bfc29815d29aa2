"""The number plan: an organisation's number series and how dialled forms map to extensions.

R1: an organisation owns series (an area code and a range of local numbers).
R2: the last five digits of an employee's full number are their extension; a deployment's
series must yield unique extensions.
R3: a call may arrive for the extension, the national number or E.164; all reach the same
person.

Pure: no I/O, standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

EXTENSION_LENGTH = 5
_EXTENSION_SPACE: int = 10**EXTENSION_LENGTH
_MAX_REMEMBERED = 4096
# Characters people and systems put between digits: "0523-66 41 23", "(0523) 664.123".
_SEPARATORS = str.maketrans("", "", " -().\u00a0/\t")


class NumberError(ValueError):
    """A number that cannot be read at all (letters, empty, too long)."""

    def __init__(self, raw: str, problem: str) -> None:
        super().__init__(f"{raw!r}: {problem}")
        self.raw = raw
        self.problem = problem


@dataclass(frozen=True, slots=True)
class NumberSeries:
    """A block of local numbers under one area code, owned by one organisation (R1).

    ``area_code`` is written as dialled nationally, including the trunk prefix ("0523");
    it is empty where the country has no area codes (Norway). ``first`` and ``last`` are
    local numbers of the same length.
    """

    organisation: str
    """The owning organisation's id (config `organisations[].id`)."""
    area_code: str
    first: str
    last: str

    @property
    def label(self) -> str:
        area = f"{self.area_code} " if self.area_code else ""
        return f"{self.organisation} {area}{self.first}–{self.last}"

    _ranges: tuple[tuple[int, int], ...] = field(
        init=False, repr=False, compare=False, hash=False, default=()
    )

    def __post_init__(self) -> None:
        # Computed once: the SIP edge classifies a number on every INVITE.
        object.__setattr__(self, "_ranges", self._compute_ranges())

    def extension_ranges(self) -> tuple[tuple[int, int], ...]:
        """The extensions this series yields, as inclusive ranges (R2: last five digits)."""
        return self._ranges

    def _compute_ranges(self) -> tuple[tuple[int, int], ...]:
        lo, hi = int(self.first), int(self.last)
        if hi - lo + 1 >= _EXTENSION_SPACE:
            return ((0, _EXTENSION_SPACE - 1),)
        a, b = lo % _EXTENSION_SPACE, hi % _EXTENSION_SPACE
        if a <= b:
            return ((a, b),)
        return ((a, _EXTENSION_SPACE - 1), (0, b))

    def yields_duplicate_extensions(self) -> bool:
        return int(self.last) - int(self.first) + 1 > _EXTENSION_SPACE


def overlapping_extensions(a: NumberSeries, b: NumberSeries) -> tuple[int, int] | None:
    """The first range of extensions both series yield, or None when they are disjoint."""
    for lo_a, hi_a in a.extension_ranges():
        for lo_b, hi_b in b.extension_ranges():
            lo, hi = max(lo_a, lo_b), min(hi_a, hi_b)
            if lo <= hi:
                return (lo, hi)
    return None


class DialledKind(StrEnum):
    EXTENSION = "extension"
    NATIONAL = "national"
    INTERNATIONAL = "international"


@dataclass(frozen=True, slots=True)
class Dialled:
    """What a dialled string turned out to be."""

    kind: DialledKind
    digits: str
    e164: str | None
    """The number in E.164 ("+46523664123"); None for a bare extension that is not ours."""
    extension: str | None
    """Our extension when the number belongs to one of our series (R2, R3); else None."""
    series: NumberSeries | None


@dataclass(frozen=True, slots=True)
class NumberPlan:
    """Country dialling conventions plus the organisation's series."""

    country_code: str
    trunk_prefix: str
    international_prefix: str
    series: tuple[NumberSeries, ...]
    _read: dict[str, Dialled | NumberError] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    """Dialled strings already read: the plan never changes, so neither does the answer.
    Every call reads its number two or three times (SIP edge, routing core); bounded."""

    def _nsn_prefix(self, s: NumberSeries) -> str:
        area = s.area_code
        if self.trunk_prefix and area.startswith(self.trunk_prefix):
            area = area[len(self.trunk_prefix) :]
        return area

    def _series_for_nsn(self, nsn: str) -> NumberSeries | None:
        for s in self.series:
            prefix = self._nsn_prefix(s)
            if not nsn.startswith(prefix):
                continue
            local = nsn[len(prefix) :]
            if len(local) == len(s.first) and s.first <= local <= s.last:
                return s
        return None

    def local_forms(self, digits: str) -> list[str]:
        """``digits`` read as a local number (or the start of one) of a series with an area
        code, as national significant digits: "664124" in 0523's 664000-664999 is
        "523664124". What a caller dials within the area code ("six-digit local number",
        issue 16); only where the series holds numbers that begin so, so a short run of
        digits does not turn into every series' prefix."""
        forms: list[str] = []
        for s in self.series:
            if not s.area_code or len(digits) > len(s.first):
                continue
            width = len(s.first)
            low, high = int(digits.ljust(width, "0")), int(digits.ljust(width, "9"))
            if low <= int(s.last) and high >= int(s.first):
                form = self._nsn_prefix(s) + digits
                if form not in forms:
                    forms.append(form)
        return forms

    def _series_for_extension(self, extension: str) -> NumberSeries | None:
        value = int(extension)
        for s in self.series:
            for lo, hi in s._ranges:
                if lo <= value <= hi:
                    return s
        return None

    def classify(self, raw: str) -> Dialled:
        """Read any dialled form (R3): extension, national, E.164 or international prefix."""
        known = self._reading(raw)
        if isinstance(known, NumberError):
            raise NumberError(known.raw, known.problem)  # a fresh one: no stale traceback
        return known

    def _reading(self, raw: str) -> Dialled | NumberError:
        known = self._read.get(raw)
        if known is None:
            try:
                known = self._classify(raw)
            except NumberError as exc:
                known = exc  # a caller's "anonymous" is as common as a number
            if len(self._read) >= _MAX_REMEMBERED:
                self._read.clear()  # callers choose the strings: keep the memory bounded
            self._read[raw] = known
        return known

    def _classify(self, raw: str) -> Dialled:
        text = raw.strip().translate(_SEPARATORS)
        if not text:
            raise NumberError(raw, "empty number")
        plus = text.startswith("+")
        digits = text[1:] if plus else text
        if not digits.isdigit() or not digits.isascii():
            raise NumberError(raw, "a number may hold only digits, spaces, '-', '(', ')' and '+'")
        if len(digits) > 15 + len(self.international_prefix):
            raise NumberError(raw, "too long for a telephone number")

        if (
            not plus
            and len(digits) == EXTENSION_LENGTH
            and not (self.trunk_prefix and digits.startswith(self.trunk_prefix))
        ):
            s = self._series_for_extension(digits)
            e164 = self.e164_of_extension(digits) if s is not None else None
            return Dialled(DialledKind.EXTENSION, digits, e164, digits if s else None, s)

        if plus or (self.international_prefix and digits.startswith(self.international_prefix)):
            international = digits if plus else digits[len(self.international_prefix) :]
            e164 = "+" + international
            if not international.startswith(self.country_code):
                return Dialled(DialledKind.INTERNATIONAL, digits, e164, None, None)
            nsn = international[len(self.country_code) :]
            kind = DialledKind.INTERNATIONAL
        else:
            nsn = digits
            if self.trunk_prefix:
                if not digits.startswith(self.trunk_prefix):
                    # A local number without area code: we cannot tell which area it is in.
                    return Dialled(DialledKind.NATIONAL, digits, None, None, None)
                nsn = digits[len(self.trunk_prefix) :]
            e164 = f"+{self.country_code}{nsn}"
            kind = DialledKind.NATIONAL
        s = self._series_for_nsn(nsn)
        extension = nsn[-EXTENSION_LENGTH:] if s is not None else None
        return Dialled(kind, digits, e164, extension, s)

    def extension_of(self, raw: str) -> str | None:
        """Our extension for a dialled form, or None when the number is not ours (R3)."""
        try:
            return self.classify(raw).extension
        except NumberError:
            return None

    def national_of_extension(self, extension: str) -> str | None:
        """The full national number of one of our extensions ("64123" -> "0523664123")."""
        s = self._series_for_extension(extension)
        if s is None:
            return None
        width = len(s.first)
        lo, hi = int(s.first), int(s.last)
        value = int(extension)
        # The local number in [lo, hi] whose last five digits are the extension (R2).
        base = lo - lo % _EXTENSION_SPACE + value
        for candidate in (base, base + _EXTENSION_SPACE):
            if lo <= candidate <= hi:
                return s.area_code + str(candidate).zfill(width)
        return None  # pragma: no cover - _series_for_extension guarantees a candidate

    def e164_of_extension(self, extension: str) -> str | None:
        national = self.national_of_extension(extension)
        if national is None:
            return None
        nsn = national
        if self.trunk_prefix and nsn.startswith(self.trunk_prefix):
            nsn = nsn[len(self.trunk_prefix) :]
        return f"+{self.country_code}{nsn}"

    def to_e164(self, raw: str) -> str:
        """Normalise an outside number (a mobile, a caller) to E.164, or raise NumberError."""
        dialled = self.classify(raw)
        problem = self._not_e164(dialled)
        if problem is not None:
            raise NumberError(raw, problem)
        assert dialled.e164 is not None  # noqa: S101 - _not_e164 found none missing
        return dialled.e164

    def e164_or_none(self, raw: str) -> str | None:
        """``to_e164`` for a caller id that may be anything ("anonymous", a SIP user
        name): None instead of an exception, on every call's path."""
        dialled = self._reading(raw)
        if isinstance(dialled, NumberError) or self._not_e164(dialled) is not None:
            return None
        return dialled.e164

    def _not_e164(self, dialled: Dialled) -> str | None:
        """Why a number read from a dialled form is no full E.164 number; None if it is."""
        if dialled.kind is DialledKind.EXTENSION:
            if dialled.e164 is None:
                return "five digits is an extension, and not one of ours"
            return None
        if dialled.e164 is None:
            return f"give the number with its area code ({self.trunk_prefix}...) or as +E.164"
        if not 8 <= len(dialled.e164) - 1 <= 15:
            return "not a valid length for a telephone number (E.164)"
        return None


def mask_number(number: str) -> str:
    """Show a number in logs and non-privileged views without revealing it (R18)."""
    digits = [c for c in number if c.isdigit()]
    if len(digits) <= 5:
        return number
    keep_head = 3 if number.startswith("+") else 2
    head = "".join(digits[:keep_head])
    tail = "".join(digits[-2:])
    return (
        ("+" if number.startswith("+") else "") + head + "*" * (len(digits) - keep_head - 2) + tail
    )
