"""R18 in free text (issue 17): a secret mobile is found in any dialled form, and nothing
else is taken for one."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.directory.secret_text import (
    MASK,
    NO_SECRETS,
    SecretNumberError,
    SecretNumbers,
    national_core,
)
from tests.unit.core_fakes import ANNA, CECILIA, NORWAY_PLAN, SML_PLAN

BO = replace(CECILIA, person_id="p-bo", name="Bo Ek", mobile="+46709993141", secret_mobile=True)
SECRETS = SecretNumbers.of([ANNA, CECILIA, BO], SML_PLAN)


@pytest.mark.parametrize(
    "text",
    [
        "Ring Bo på 070-999 31 41",
        "Ring Bo på 0709993141",
        "+46709993141",
        "+46 70 999 31 41 efter lunch",
        "0046709993141",
        "+46 (0)70-999 31 41",
        "070 - 999 31 41",
        "070/999 31 41",
        "070.999.31.41",
        "70 999 31 41",
        "0 7 0 9 9 9 3 1 4 1",
        "Bo: 070‐999\u00a031\u00a041.",
        "\uff10\uff17\uff10\uff19\uff19\uff19\uff13\uff11\uff14\uff11",
        "070-999 31 41 eller 64123",
        "ring\n070 999\n31 41",
    ],
    ids=[
        "national-dashed",
        "national",
        "e164",
        "e164-spaced",
        "international-prefix",
        "e164-with-trunk",
        "spaced-dash",
        "slash",
        "dots",
        "without-trunk",
        "every-digit-apart",
        "unicode-dash-nbsp",
        "fullwidth-digits",
        "beside-an-extension",
        "across-lines",
    ],
)
def test_r18_a_secret_mobile_is_found_in_any_dialled_form(text: str) -> None:
    assert SECRETS.holds(text)
    with pytest.raises(SecretNumberError) as refused:
        SECRETS.refuse("text", text)
    assert refused.value.field == "text"
    assert str(refused.value).startswith("text: ")
    masked = SECRETS.mask(text)
    assert MASK in masked
    assert "9993141" not in "".join(c for c in masked if c.isdigit())
    assert not SECRETS.holds(masked)


@pytest.mark.parametrize(
    "text",
    [
        "Ring Anna på 070-123 45 67",  # a public mobile (R17)
        "Cecilia +46709876543",
        "Ring 64123 eller 0523-66 41 23",  # extensions and office numbers
        "Tillbaka 13:00, 2026-11-23",
        "Möte i rum 709",
        "Beställning 99931",  # part of the number, too short to be it
        "",
    ],
    ids=["public-mobile", "other-e164", "extension", "time-and-date", "room", "fragment", "empty"],
)
def test_nothing_else_is_taken_for_a_secret(text: str) -> None:
    assert not SECRETS.holds(text)
    assert SECRETS.mask(text) == text
    SECRETS.refuse("text", text)


def test_a_masked_text_keeps_its_words() -> None:
    assert SECRETS.mask("Ring Bo på +46 70-999 31 41, tack") == "Ring Bo på ***, tack"


def test_without_secret_mobiles_nothing_is_refused() -> None:
    assert SecretNumbers.of([ANNA, CECILIA], SML_PLAN) == NO_SECRETS
    assert not NO_SECRETS.holds("070-999 31 41")
    assert not SECRETS.holds(None)


def test_the_core_of_a_number_is_its_national_significant_number() -> None:
    assert national_core("+46709993141", SML_PLAN) == "709993141"
    assert national_core("0709993141", SML_PLAN) == "709993141"  # stored nationally
    assert national_core("+4741234567", NORWAY_PLAN) == "41234567"
    assert national_core("+4520304050", SML_PLAN) == "4520304050"  # a Danish mobile
    norway = SecretNumbers.of([replace(BO, mobile="+4741234567")], NORWAY_PLAN)
    assert norway.holds("Ring 412 34 567")
    assert norway.holds("+47 41 23 45 67")


SEPARATORS = st.sampled_from(["", "", " ", "-", " - ", ".", "/", "\u00a0", "\u2013"])


@given(
    form=st.sampled_from(["0709993141", "+46709993141", "0046709993141", "709993141"]),
    gaps=st.lists(SEPARATORS, min_size=13, max_size=13),
    before=st.text(alphabet="abcåäö ,:;!?", max_size=20),
    after=st.text(alphabet="abcåäö ,:;!?", max_size=20),
)
def test_r18_the_secret_is_found_however_it_is_spaced(
    form: str, gaps: list[str], before: str, after: str
) -> None:
    written = "".join(c + gap for c, gap in zip(form, gaps, strict=False)).rstrip(" -./\u00a0–")
    text = f"{before} {written} {after}"
    assert SECRETS.holds(text), text
    masked = SECRETS.mask(text)
    assert "709993141" not in "".join(c for c in masked if c.isdigit())
