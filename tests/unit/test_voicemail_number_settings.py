"""``[media] voicemail_number``: what owners dial to hear their messages (issue 13).

It is answered before anything else is asked, so it must not be a number anyone could mean
otherwise: an extension of a series (R2), an emergency or service line, or a telephone
number outside. Errors name the file, the key and the problem.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.settings.config import ConfigError, load_settings
from switchboard.settings.resources import bundled


def _config(tmp_path: Path, media: str, bundle: str = "configs/sml.toml") -> Path:
    path = tmp_path / "sb.toml"
    base = bundled(bundle).read_text(encoding="utf-8")
    path.write_text(base + "\n[media]\n" + media, "utf-8")
    return path


def test_no_voicemail_number_by_default() -> None:
    assert load_settings(bundled("configs/sml.toml")).media.voicemail_number is None


@pytest.mark.parametrize("number", ["*98", "64999", "98", "*12345678"])
def test_a_short_code_or_a_free_extension_is_taken(tmp_path: Path, number: str) -> None:
    settings = load_settings(_config(tmp_path, f'voicemail_number = "{number}"\n'))
    assert settings.media.voicemail_number == number


BAD = [
    ("an-extension", '"64123"', "also an extension in a configured series"),
    ("a-reception", '"64000"', "also an extension in a configured series"),
    ("emergency", '"112"', "one of the emergency numbers ([sip] emergency_numbers)"),
    ("service", '"1177"', "one of the service numbers ([sip] service_numbers)"),
    ("a-telephone-number", '"0701234"', "reads as the telephone number +46701234"),
    ("one-digit", '"9"', "must be 2-8 digits"),
    ("too-long", '"123456789"', "must be 2-8 digits"),
    ("not-a-string", "98", "must be 2-8 digits in quotes"),
    ("hash", '"#98"', "must be 2-8 digits"),
    ("trailing-newline", '"*98\\n"', "must be 2-8 digits"),
    ("wide-digits", '"\uff19\uff18"', "must be 2-8 digits"),
]


@pytest.mark.parametrize(("value", "words"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_voicemail_number_that_clashes_is_refused_naming_the_key(
    tmp_path: Path, value: str, words: str
) -> None:
    path = _config(tmp_path, f"voicemail_number = {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.file == str(path)
    assert caught.value.key == "media.voicemail_number"
    assert words in caught.value.problem


def test_a_norwegian_eight_digit_number_is_a_telephone_number(tmp_path: Path) -> None:
    """Norway has no trunk prefix: eight digits are a full number there, not a code."""
    path = _config(tmp_path, 'voicemail_number = "12345678"\n', "configs/innlandet.toml")
    with pytest.raises(ConfigError, match=r"reads as the telephone number \+4712345678"):
        load_settings(path)
