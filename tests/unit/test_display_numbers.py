"""One national style for every number shown to people (issue 16)."""

from __future__ import annotations

import pytest

from switchboard.directory.display import display_number, masked_number
from switchboard.directory.numbers import NumberPlan, NumberSeries

SE = NumberPlan("46", "0", "00", (NumberSeries("sotenas", "0523", "664000", "664999"),))
NO = NumberPlan("47", "", "00", (NumberSeries("oslo", "", "22000000", "22999999"),))


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("+46709993141", "070-999 31 41"),
        ("070-999 31 41", "070-999 31 41"),
        ("0709993141", "070-999 31 41"),
        ("+46311234567", "031-123 45 67"),
        ("0311234567", "031-123 45 67"),  # the voicemail list's two styles agree now
        ("+46523664123", "0523-66 41 23"),
        ("0523664123", "0523-66 41 23"),
        ("+4681234567", "08-123 45 67"),
        ("+4530123456", "+4530123456"),  # foreign: international
        (None, None),
    ],
    ids=lambda v: str(v),
)
def test_swedish_numbers_read_nationally(number: str | None, shown: str | None) -> None:
    assert display_number(number, SE) == shown


@pytest.mark.parametrize(
    ("number", "shown"),
    [("+4791234567", "912 34 567"), ("+4722123456", "22 12 34 56"), ("22123456", "22 12 34 56")],
)
def test_norwegian_numbers_read_nationally(number: str, shown: str) -> None:
    assert display_number(number, NO) == shown


def test_a_secret_number_is_masked_in_the_same_style() -> None:
    assert masked_number("+46701740623", SE) == "070-*** ** 23"
    assert masked_number("+4791234567", NO) == "*** ** *67"
    assert masked_number("+4530123456", SE) == "+********56"
    masked = masked_number("+46701740623", SE)
    assert masked is not None
    assert "1740" not in masked.replace(" ", "")
