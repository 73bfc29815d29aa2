"""The ``[http]`` table's idle timeout (issue 17): default, a chosen value, and errors that
name the file, the key and the problem."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from switchboard.settings.config import ConfigError, parse_settings
from switchboard.settings.resources import bundled


def with_http(http: dict[str, Any]) -> dict[str, Any]:
    data = tomllib.loads(bundled("configs/sml.toml").read_text(encoding="utf-8"))
    data["http"] = http
    return data


def test_the_idle_timeout_is_30_minutes_by_default() -> None:
    settings = parse_settings(with_http({}), Path("sml.toml"))
    assert settings.http.session_idle == timedelta(minutes=30)


def test_the_idle_timeout_can_be_chosen() -> None:
    settings = parse_settings(with_http({"session_idle_minutes": 240}), Path("sml.toml"))
    assert settings.http.session_idle == timedelta(hours=4)


@pytest.mark.parametrize(
    "value", [0, 4, 721, "30", True, 30.5], ids=["zero", "short", "long", "text", "bool", "float"]
)
def test_a_bad_idle_timeout_names_file_key_and_problem(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(with_http({"session_idle_minutes": value}), Path("sml.toml"))
    error = caught.value
    assert error.file == "sml.toml"
    assert error.key == "http.session_idle_minutes"
    assert "whole number of minutes from 5 to 720" in error.problem
    assert str(error).startswith("sml.toml: http.session_idle_minutes: ")
