"""Emergency and service short numbers: recognised in every form phones dial, configured
per deployment with the country's defaults, and an emergency call's callback number."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from switchboard.directory.short_numbers import ShortKind, ShortNumbers, read_short_number
from switchboard.routing.presentation import present_emergency
from switchboard.settings.config import ConfigError, load_settings, short_numbers
from switchboard.settings.resources import bundled
from tests.unit.core_fakes import ANNA, NORWAY_PLAN, SML_PLAN

SWEDEN = ShortNumbers.for_country("46", "00")
NORWAY = ShortNumbers.for_country("47", "00")


@pytest.mark.parametrize(
    ("numbers", "dialled", "expected"),
    [
        (SWEDEN, "112", ("112", ShortKind.EMERGENCY)),
        (SWEDEN, "+46112", ("112", ShortKind.EMERGENCY)),
        (SWEDEN, "0046112", ("112", ShortKind.EMERGENCY)),
        (SWEDEN, "114 14", ("11414", ShortKind.SERVICE)),
        (SWEDEN, "1177", ("1177", ShortKind.SERVICE)),
        (SWEDEN, "116-000", ("116000", ShortKind.SERVICE)),
        (SWEDEN, "110", None),  # Norway's fire service, not Sweden's
        (SWEDEN, "+47112", None),  # another country's 112 is an international number
        (SWEDEN, "1120", None),
        (SWEDEN, "11", None),
        (SWEDEN, "0523664123", None),
        (SWEDEN, "+", None),
        (NORWAY, "110", ("110", ShortKind.EMERGENCY)),
        (NORWAY, "113", ("113", ShortKind.EMERGENCY)),
        (NORWAY, "02800", ("02800", ShortKind.SERVICE)),
        (NORWAY, "+4702800", ("02800", ShortKind.SERVICE)),
        (ShortNumbers.for_country("49"), "112", ("112", ShortKind.EMERGENCY)),
        (ShortNumbers.for_country("49"), "1177", None),
    ],
)
def test_short_numbers_are_recognised_in_every_dialled_form(
    numbers: ShortNumbers, dialled: str, expected: tuple[str, ShortKind] | None
) -> None:
    found = numbers.match(dialled)
    assert (None if found is None else (found.digits, found.kind)) == expected


def test_a_configured_list_replaces_the_countrys_defaults() -> None:
    numbers = ShortNumbers.for_country("46", emergency=("112", "90000"), service=())
    assert numbers.emergency == ("112", "90000")
    assert numbers.match("1177") is None
    assert numbers.emergency_forms() == {
        "112",
        "+46112",
        "0046112",
        "90000",
        "+4690000",
        "0046900" + "00",
    }


@pytest.mark.parametrize("bad", ["1", "1234567", "11a", "", "+112", "１１２"])
def test_bad_short_numbers_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="short number"):
        read_short_number(bad)


def _config(tmp_path: Path, sip: str, bundle: str = "configs/sml.toml") -> Path:
    path = tmp_path / "sb.toml"
    base = bundled(bundle).read_text(encoding="utf-8").partition("\n[sip]\n")[0]
    path.write_text(base + "\n[sip]\n" + sip, "utf-8")
    return path


def test_the_bundled_configs_reach_their_countrys_numbers() -> None:
    for bundle, dialled in [("configs/sml.toml", "112"), ("configs/innlandet.toml", "113")]:
        settings = load_settings(bundled(bundle))
        assert settings.sip.emergency_numbers is None  # the country's defaults
        found = short_numbers(settings.sip, settings.plan).match(dialled)
        assert found is not None
        assert found.kind is ShortKind.EMERGENCY


def test_configured_lists_are_read(tmp_path: Path) -> None:
    sip = load_settings(
        _config(tmp_path, 'emergency_numbers = ["112"]\nservice_numbers = ["114 14"]\n')
    ).sip
    assert sip.emergency_numbers == ("112",)
    assert sip.service_numbers == ("11414",)


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ('emergency_numbers = ["11x"]', "sip.emergency_numbers", "digits"),
        ('emergency_numbers = "112"', "sip.emergency_numbers", "list of strings"),
        (
            'emergency_numbers = ["112"]\nservice_numbers = ["112"]',
            "sip.service_numbers",
            "emergency and service both",
        ),
        ('service_numbers = ["64123"]', "sip.service_numbers", "also an extension"),
    ],
)
def test_short_number_errors_name_the_key(tmp_path: Path, table: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_config(tmp_path, table + "\n"))
    assert caught.value.key == key
    assert words in caught.value.problem


def test_a_default_that_is_an_extension_is_named(tmp_path: Path) -> None:
    """Norway's 02800 is a default; a series yielding extension 02800 must say so."""
    path = tmp_path / "no.toml"
    text = bundled("configs/innlandet.toml").read_text(encoding="utf-8")
    text = text.replace(
        'first = "61289000", last = "61289999"', 'first = "61202000", last = "61202999"'
    )
    text = text.replace('reception = "89000"', 'reception = "02000"')
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.key == "sip.service_numbers"
    assert "default for country code 47" in caught.value.problem


# (id, person changes, reception, expected number, withheld)
CALLBACKS = [
    ("extension-first", {}, None, "+46523664123", False),
    ("hidden-extension-still-shown", {"hide_extension": True}, None, "+46523664123", False),
    ("no-extension-public-mobile", {"extension": None}, None, "+46701234567", False),
    (
        "no-extension-hidden-mobile-shown-for-safety",
        {"extension": None, "hide_mobile": True},
        None,
        "+46701234567",
        False,
    ),
    (
        "r18-secret-mobile-gives-the-reception",
        {"extension": None, "secret_mobile": True},
        "64000",
        "+46523664000",
        False,
    ),
    ("r18-no-number-at-all-withheld", {"extension": None, "secret_mobile": True}, None, None, True),
]


@pytest.mark.parametrize(
    ("changes", "reception", "number", "withheld"),
    [c[1:] for c in CALLBACKS],
    ids=[c[0] for c in CALLBACKS],
)
def test_an_emergency_call_shows_a_callback_number(
    changes: dict[str, object], reception: str | None, number: str | None, withheld: bool
) -> None:
    person = replace(ANNA, **changes)  # type: ignore[arg-type]
    shown = present_emergency(person, SML_PLAN, reception)
    assert (shown.allowed, shown.number, shown.withheld) == (True, number, withheld)
    if person.secret_mobile:
        assert shown.number != person.mobile


def test_a_norwegian_extension_is_shown_as_its_full_number() -> None:
    kari = replace(ANNA, extension="89123", mobile="+4741234567", organisation="oppland")
    assert present_emergency(kari, NORWAY_PLAN, None).number == "+4761289123"
