"""Toll fraud: the international rules (``directory.destinations``) and their config keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.directory.destinations import (
    DEFAULT_COUNTRIES,
    PREMIUM_AND_SATELLITE,
    Refusal,
    Refused,
    international_refusal,
)
from switchboard.settings.config import ConfigError, load_settings
from switchboard.settings.resources import bundled

SE = "46"


@pytest.mark.parametrize(
    ("e164", "countries", "blocked", "expected"),
    [
        ("+46701234567", DEFAULT_COUNTRIES, PREMIUM_AND_SATELLITE, None),
        ("+4522334455", DEFAULT_COUNTRIES, PREMIUM_AND_SATELLITE, None),
        ("+35891234567", DEFAULT_COUNTRIES, PREMIUM_AND_SATELLITE, None),
        ("+3548001234", DEFAULT_COUNTRIES, PREMIUM_AND_SATELLITE, None),
        ("+4930123456", DEFAULT_COUNTRIES, PREMIUM_AND_SATELLITE, None),
        ("+35312345678", DEFAULT_COUNTRIES, PREMIUM_AND_SATELLITE, None),
        (
            "+881631234567",
            DEFAULT_COUNTRIES,
            PREMIUM_AND_SATELLITE,
            Refusal(Refused.PREMIUM_OR_SATELLITE, "881"),
        ),
        (
            "+88213123456",
            DEFAULT_COUNTRIES,
            PREMIUM_AND_SATELLITE,
            Refusal(Refused.PREMIUM_OR_SATELLITE, "882"),
        ),
        (
            "+8835100123",
            ("*",),
            PREMIUM_AND_SATELLITE,
            Refusal(Refused.PREMIUM_OR_SATELLITE, "883"),
        ),
        (
            "+97912345678",
            DEFAULT_COUNTRIES,
            PREMIUM_AND_SATELLITE,
            Refusal(Refused.PREMIUM_OR_SATELLITE, "979"),
        ),
        (
            "+870773123456",
            DEFAULT_COUNTRIES,
            PREMIUM_AND_SATELLITE,
            Refusal(Refused.PREMIUM_OR_SATELLITE, "870"),
        ),
        (
            "+12125551234",
            DEFAULT_COUNTRIES,
            PREMIUM_AND_SATELLITE,
            Refusal(Refused.COUNTRY, "121"),
        ),
        (
            "+2348012345678",
            DEFAULT_COUNTRIES,
            PREMIUM_AND_SATELLITE,
            Refusal(Refused.COUNTRY, "234"),
        ),
        (
            "+447700900123",  # the UK left the EU: not in the default list
            DEFAULT_COUNTRIES,
            PREMIUM_AND_SATELLITE,
            Refusal(Refused.COUNTRY, "447"),
        ),
        ("+12125551234", ("1", "45"), PREMIUM_AND_SATELLITE, None),
        ("+12125551234", ("*",), PREMIUM_AND_SATELLITE, None),
        # Our own country is national: the allow-list is no concern of it.
        ("+46701234567", (), PREMIUM_AND_SATELLITE, None),
        ("+4522334455", (), PREMIUM_AND_SATELLITE, Refusal(Refused.COUNTRY, "452")),
        # A blocked prefix may sit inside our own country too.
        (
            "+46900123456",
            DEFAULT_COUNTRIES,
            ("46900",),
            Refusal(Refused.PREMIUM_OR_SATELLITE, "46900"),
        ),
        ("+881631234567", DEFAULT_COUNTRIES, (), Refusal(Refused.COUNTRY, "881")),
        ("+881631234567", ("*",), (), None),
    ],
)
def test_international_refusal(
    e164: str, countries: tuple[str, ...], blocked: tuple[str, ...], expected: Refusal | None
) -> None:
    assert international_refusal(e164, SE, countries, blocked) == expected


def test_the_default_countries_are_the_nordic_and_eu_ones() -> None:
    assert {"45", "46", "47", "354", "358"} <= set(DEFAULT_COUNTRIES)  # Nordic
    assert len(set(DEFAULT_COUNTRIES)) == 5 + 27 - 3  # EU-27, three of them Nordic
    assert "44" not in DEFAULT_COUNTRIES
    assert "1" not in DEFAULT_COUNTRIES


def _config(tmp_path: Path, org_lines: str = "", sip: str = "") -> Path:
    base = bundled("configs/sml.toml").read_text(encoding="utf-8")
    base = base.replace('id = "sotenas"\n', 'id = "sotenas"\n' + org_lines, 1)
    base = base.replace("\n[sip]\n", "\n[sip]\n" + sip, 1)
    path = tmp_path / "sb.toml"
    path.write_text(base, "utf-8")
    return path


def test_organisations_default_to_the_nordic_and_eu_countries(tmp_path: Path) -> None:
    settings = load_settings(_config(tmp_path))
    assert {o.international_countries for o in settings.organisations} == {DEFAULT_COUNTRIES}
    assert settings.sip.blocked_international == PREMIUM_AND_SATELLITE


def test_an_organisation_lists_its_own_countries(tmp_path: Path) -> None:
    settings = load_settings(
        _config(
            tmp_path,
            'international_countries = ["45", "+47", "1", "47"]\n',
            'blocked_international = ["+881", "979", "4470"]\n',
        )
    )
    assert settings.organisation("sotenas").international_countries == ("45", "47", "1")
    assert settings.organisation("lysekil").international_countries == DEFAULT_COUNTRIES
    assert settings.sip.blocked_international == ("881", "979", "4470")
    anywhere = load_settings(_config(tmp_path, 'international_countries = ["*"]\n'))
    assert anywhere.organisation("sotenas").international_countries == ("*",)


@pytest.mark.parametrize(
    ("org_lines", "sip", "key", "words"),
    [
        (
            'international_countries = "45"\n',
            "",
            "organisations[0].international_countries",
            "list",
        ),
        (
            'international_countries = ["4545"]\n',
            "",
            "organisations[0].international_countries",
            "1 to 3",
        ),
        (
            'international_countries = ["DK"]\n',
            "",
            "organisations[0].international_countries",
            "country calling code",
        ),
        (
            'international_countries = ["\uff14\uff15"]\n',
            "",
            "organisations[0].international_countries",
            "E.164 digits",
        ),
        ("", 'blocked_international = ["+88x"]\n', "sip.blocked_international", "E.164 digits"),
        ("", 'blocked_international = "881"\n', "sip.blocked_international", "list of strings"),
    ],
)
def test_errors_name_the_file_and_key(
    tmp_path: Path, org_lines: str, sip: str, key: str, words: str
) -> None:
    path = _config(tmp_path, org_lines, sip)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.key == key
    assert caught.value.file == str(path)
    assert words in caught.value.problem
