"""Numbers as people read them (issue 16): one national style, with the country's grouping.

Screens and the API's display fields write every number the same way: "070-999 31 41",
"031-123 45 67", "0523-66 41 23" in Sweden; "912 34 567", "22 12 34 56" in Norway; a
foreign number stays international. A secret mobile (R18) is only ever shown masked, in the
same style: "070-*** ** 41". Pure: the plan says the country and its area codes.
"""

from __future__ import annotations

from switchboard.directory.numbers import NumberPlan

SWEDISH_SHORT_AREAS = frozenset(
    {
        "010",
        "011",
        "013",
        "016",
        "018",
        "019",
        "020",
        "021",
        "023",
        "026",
        "031",
        "033",
        "035",
        "036",
        "040",
        "042",
        "044",
        "046",
        "054",
        "060",
        "063",
        "090",
    }
)
"""Swedish area codes of two digits after the trunk prefix; "08" has one, most have three."""
MASK = "*"


def _pairs(digits: str) -> str:
    """Subscriber digits in pairs from the end, a leading odd digit in a triple (Swedish
    custom): "174 06 05", "66 41 23", "12 34"."""
    out: list[str] = []
    rest = digits
    while len(rest) > 4:
        out.insert(0, rest[-2:])
        rest = rest[:-2]
    out.insert(0, f"{rest[:2]} {rest[2:]}" if len(rest) == 4 else rest)
    return " ".join(out)


def _national_digits(number: str, plan: NumberPlan) -> str | None:
    """The number as dialled nationally (digits only), or None when it is foreign."""
    digits = "".join(c for c in number if c.isdigit())
    if number.startswith("+"):
        if not digits.startswith(plan.country_code):
            return None
        return plan.trunk_prefix + digits[len(plan.country_code) :]
    return digits


def _swedish_area(national: str, plan: NumberPlan) -> int:
    """How many leading digits (trunk prefix included) are the area code."""
    for s in plan.series:  # the plan's own area codes first ("0523")
        if s.area_code and national.startswith(s.area_code):
            return len(s.area_code)
    if national.startswith("08"):
        return 2
    if national.startswith("07") or national[:3] in SWEDISH_SHORT_AREAS:
        return 3
    return 4


def _split(number: str, plan: NumberPlan) -> tuple[str, str] | None:
    """(area code, grouped subscriber number) in the country's style; None: not ours."""
    national = _national_digits(number, plan)
    if national is None or len(national) < 5:
        return None
    if plan.country_code == "46" and national.startswith("0"):
        area = _swedish_area(national, plan)
        return national[:area], _pairs(national[area:])
    if plan.country_code == "47" and len(national) == 8:
        if national[0] in "49":
            return "", f"{national[:3]} {national[3:5]} {national[5:]}"
        return "", f"{national[:2]} {national[2:4]} {national[4:6]} {national[6:]}"
    return "", _pairs(national)


def display_number(number: str | None, plan: NumberPlan) -> str | None:
    """``number`` (E.164 or national, any punctuation) written nationally; a foreign number
    as "+" and its digits; None stays None."""
    if not number:
        return None
    split = _split(number, plan)
    if split is None:
        digits = "".join(c for c in number if c.isdigit())
        return f"+{digits}" if number.startswith("+") else number
    area, rest = split
    return f"{area}-{rest}" if area else rest


def masked_number(number: str | None, plan: NumberPlan) -> str | None:
    """A secret number (R18) in the same style with every digit hidden but the area code
    and the last two: "070-*** ** 41"; a foreign one keeps only its last two digits."""
    if not number:
        return None
    split = _split(number, plan)
    if split is None:
        digits = "".join(c for c in number if c.isdigit())
        return "+" + MASK * (len(digits) - 2) + digits[-2:]
    area, rest = split
    total = sum(c.isdigit() for c in rest)
    seen = 0
    hidden = []
    for c in rest:
        if c.isdigit():
            seen += 1
            hidden.append(c if seen > total - 2 else MASK)
        else:
            hidden.append(c)
    masked = "".join(hidden)
    return f"{area}-{masked}" if area else masked
