"""The pure checks behind connecting one's own calendar (issue 16) and the
``[own_calendars]`` settings: errors name the key, addresses are masked."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from switchboard.presence.own_calendar import (
    OwnCalendar,
    OwnCalendarKind,
    OwnCalendarRefusedError,
    check_feed_url,
    check_mailbox,
    mask_address,
)
from switchboard.settings.config import ConfigError, load_settings, parse_settings
from switchboard.settings.own_calendars import OwnCalendarPolicy
from switchboard.settings.resources import bundled


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://outlook.office365.com/owa/calendar/x/TOKEN/c.ics",
            "https://outlook.office365.com/***",
        ),
        ("http://cal.example:8080/TOKEN.ics?k=TOKEN", "http://cal.example:8080/***"),
        ("not a url at all TOKEN", "***"),
        ("https://[TOKEN/x", "***"),
    ],
)
def test_a_feed_address_is_shown_as_scheme_host_and_port(url: str, shown: str) -> None:
    assert mask_address(OwnCalendarKind.ICS, url) == shown
    assert "TOKEN" not in mask_address(OwnCalendarKind.ICS, url)


def test_a_mailbox_is_no_secret_and_the_repr_hides_the_feed() -> None:
    assert mask_address(OwnCalendarKind.GRAPH, "anna@x.se") == "anna@x.se"
    feed = OwnCalendar(
        "p1", OwnCalendarKind.ICS, "https://h/TOKEN", "anna", datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert "TOKEN" not in repr(feed)
    assert "TOKEN" not in str(feed)


@pytest.mark.parametrize(
    ("url", "hosts", "wanted"),
    [
        ("https://calendar.google.com/x.ics", ("google.com",), "https://calendar.google.com/x.ics"),
        (
            "  https://Outlook.Office365.com/x.ics ",
            ("office365.com",),
            "https://Outlook.Office365.com/x.ics",
        ),
        ("WEBCAL://cal.example/x.ics", (), "https://cal.example/x.ics"),
    ],
)
def test_allowed_feed_urls(url: str, hosts: tuple[str, ...], wanted: str) -> None:
    assert check_feed_url(url, allow_http=False, hosts=hosts) == wanted


def test_http_only_when_allowed() -> None:
    with pytest.raises(OwnCalendarRefusedError) as refused:
        check_feed_url("http://cal.example/x.ics", allow_http=False, hosts=())
    assert (refused.value.field, refused.value.code) == ("url", "calendar_url_scheme")
    assert check_feed_url("http://cal.example/x.ics", allow_http=True, hosts=()).startswith("http:")


@pytest.mark.parametrize(
    "mailbox", ["", "anna", "@x.se", "anna@localhost", "a b@x.se", "a@x.se/evil"]
)
def test_bad_mailboxes(mailbox: str) -> None:
    with pytest.raises(OwnCalendarRefusedError) as refused:
        check_mailbox(mailbox)
    assert refused.value.code == "calendar_mailbox_invalid"


def _with(extra: str) -> dict[str, Any]:
    return tomllib.loads(bundled("configs/sml.toml").read_text("utf-8") + extra)


def test_nothing_is_allowed_by_default() -> None:
    assert load_settings(bundled("configs/sml.toml")).own_calendars == OwnCalendarPolicy()
    assert not OwnCalendarPolicy().allowed


GRAPH = """
[[calendars]]
type = "graph"
name = "m365"
organisation = "sotenas"
tenant = "t"
client_id = "c"
client_secret_env = "SB_GRAPH_SECRET"
"""


def test_a_full_table_is_read() -> None:
    own = '[own_calendars]\nics = true\nics_hosts = ["Office365.com."]\ngraph = "m365"\n'
    text = GRAPH + own + "poll = 120\n"
    policy = parse_settings(_with(text), Path("sml.toml")).own_calendars
    assert policy == OwnCalendarPolicy(True, False, ("office365.com",), "m365", 120)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("[own_calendars]\nics = 1\n", "own_calendars.ics"),
        ("[own_calendars]\nicss = true\n", "own_calendars.icss"),
        ('[own_calendars]\nics_hosts = "office365.com"\n', "own_calendars.ics_hosts"),
        ('[own_calendars]\nics_hosts = ["https://x.se/"]\n', "own_calendars.ics_hosts"),
        ('[own_calendars]\ngraph = "m365"\n', "own_calendars.graph"),
        ("[own_calendars]\npoll = 5\n", "own_calendars.poll"),
    ],
)
def test_errors_name_the_key(table: str, key: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings(_with(table), Path("sml.toml"))
    assert error.value.key == key
