"""The ``[mail]`` table: defaults, and errors that name the file and the key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from switchboard.settings.config import ConfigError, load_settings, parse_settings
from switchboard.settings.mail import MailSettings
from switchboard.settings.resources import bundled


def with_mail(mail: Any) -> dict[str, Any]:
    data = tomllib.loads(bundled("configs/sml.toml").read_text(encoding="utf-8"))
    data["mail"] = mail
    return data


def test_no_mail_table_means_nothing_is_sent() -> None:
    assert load_settings(bundled("configs/sml.toml")).mail is None


def test_a_full_mail_table() -> None:
    table = {
        "host": "smtp.kommun.example",
        "port": 465,
        "starttls": False,
        "username_env": "SB_SMTP_USER",
        "password_env": "SB_SMTP_PASSWORD",
        "from_address": "vaxel@kommun.example",
        "timeout": 5,
    }
    settings = parse_settings(with_mail(table), Path("sml.toml"))
    assert settings.mail == MailSettings(
        "smtp.kommun.example",
        "vaxel@kommun.example",
        465,
        False,
        "SB_SMTP_USER",
        "SB_SMTP_PASSWORD",
        5,
    )


def test_defaults() -> None:
    table = {"host": "smtp.kommun.example", "from_address": "vaxel@kommun.example"}
    mail = parse_settings(with_mail(table), Path("sml.toml")).mail
    assert mail is not None
    assert (mail.port, mail.starttls, mail.username_env, mail.timeout) == (587, True, None, 10)


GOOD = {"host": "smtp.kommun.example", "from_address": "vaxel@kommun.example"}


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ({"from_address": "v@k.example"}, "mail.host", "is required"),
        ({"host": "smtp.k.example"}, "mail.from_address", "is required"),
        (GOOD | {"from_address": "not an address"}, "mail.from_address", "must be a string"),
        (GOOD | {"port": 0}, "mail.port", "1-65535"),
        (GOOD | {"port": "25"}, "mail.port", "whole number"),
        (GOOD | {"starttls": "yes"}, "mail.starttls", "true or false"),
        (GOOD | {"password": "hunter2"}, "mail.password", "unknown key"),
        (GOOD | {"username_env": "SB_USER"}, "mail.password_env", "both"),
        (GOOD | {"password_env": "my password", "username_env": "U"}, "mail.password_env", ""),
    ],
    ids=[
        "no host",
        "no sender",
        "bad sender",
        "port 0",
        "port as text",
        "starttls as text",
        "a password in the file",
        "user without password",
        "password env not a name",
    ],
)
def test_errors_name_file_and_key(table: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(with_mail(table), Path("sml.toml"))
    assert caught.value.file == "sml.toml"
    assert caught.value.key == key
    assert problem in caught.value.problem


def test_mail_must_be_a_table() -> None:
    with pytest.raises(ConfigError, match="mail: must be a table"):
        parse_settings(with_mail("smtp.example"), Path("sml.toml"))
