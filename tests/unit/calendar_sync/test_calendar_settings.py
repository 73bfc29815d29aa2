"""The [[calendars]] tables: valid sources parse, mistakes name file and key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from switchboard.settings.calendar import CalendarType, EwsAccess
from switchboard.settings.config import ConfigError, parse_settings

REPO = Path(__file__).resolve().parents[3]
BASE = (REPO / "configs" / "sml.toml").read_text(encoding="utf-8")


def _settings(extra: str) -> object:
    return parse_settings(tomllib.loads(BASE + "\n" + extra), Path("x.toml"))


def test_three_kinds_of_source_parse() -> None:
    settings = _settings(
        """
[[calendars]]
type = "ics"
person = "64123"
url_env = "SB_ANNA_FEED"
poll = 120
tentative_diverts = true

[[calendars]]
type = "ews"
organisation = "lysekil"
url = "https://mail.lysekil.example/EWS/Exchange.asmx"
username_env = "SB_EWS_USER"
password_env = "SB_EWS_PASSWORD"
access = "delegate"

[[calendars]]
type = "graph"
organisation = "sotenas"
tenant = "contoso"
client_id = "abc"
client_secret_env = "SB_GRAPH_SECRET"
codes = { UTE = "business_trip" }
"""
    )
    ics, ews, graph = settings.calendars  # type: ignore[attr-defined]
    assert (ics.type, ics.name, ics.poll, ics.tentative_diverts) == (
        CalendarType.ICS,
        "ics:64123",
        120,
        True,
    )
    assert (ews.access, ews.organisation) == (EwsAccess.DELEGATE, "lysekil")
    assert graph.graph_url == "https://graph.microsoft.com/v1.0"
    assert dict(graph.codes) == {"UTE": "business_trip"}


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ('type = "caldav"\nperson = "1"', "calendars[0].type", "must be 'ics', 'ews' or 'graph'"),
        ('type = "ics"\nurl = "https://a/b"', "calendars[0].person", "exactly one of"),
        (
            'type = "ics"\nperson = "1"\nurl = "https://a/b"\npoll = 1',
            "calendars[0].poll",
            "10-86400",
        ),
        ('type = "ics"\nperson = "1"\nurl = "ftp://a/b"', "calendars[0].url", "must start with"),
        (
            'type = "ics"\nperson = "1"\nurl = "https://a"\nsecret = "x"',
            "calendars[0].secret",
            "unknown key",
        ),
        (
            'type = "ics"\norganisation = "x"\nurl = "https://a"',
            "calendars[0].organisation",
            "not a configured",
        ),
        (
            'type = "graph"\nperson = "1"\ntenant = "t"\nclient_id = "c"',
            "calendars[0].client_secret_env",
            "is required",
        ),
        (
            'type = "graph"\nperson = "1"\ntenant = "t"\nclient_id = "c"\n'
            'client_secret_env = "my secret!"',
            "calendars[0].client_secret_env",
            "environment variable",
        ),
        (
            'type = "ews"\nperson = "1"\nurl = "https://a/EWS"',
            "calendars[0].username_env",
            "required",
        ),
        (
            'type = "ics"\nperson = "1"\nurl = "https://a"\ncodes = { UTE = "nap" }',
            "calendars[0].codes.UTE",
            "unknown reason",
        ),
    ],
    ids=[
        "type",
        "who",
        "poll",
        "scheme",
        "unknown",
        "org",
        "secret",
        "env-name",
        "ews-creds",
        "codes",
    ],
)
def test_mistakes_name_file_and_key(table: str, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings("[[calendars]]\n" + table)
    assert caught.value.file == "x.toml"
    assert caught.value.key == key
    assert problem in caught.value.problem


def test_names_must_be_unique() -> None:
    one = '[[calendars]]\ntype = "ics"\nperson = "1"\nurl = "https://a"\n'
    with pytest.raises(ConfigError, match=r"calendars\[1\]\.name"):
        _settings(one + one)


def test_no_calendars_is_fine() -> None:
    assert _settings("").calendars == ()  # type: ignore[attr-defined]
