"""R18: numbers are masked in every log line, including stdlib records from libraries."""

from __future__ import annotations

import logging

import pytest
import structlog

from switchboard.logs import configure_logging, mask_numbers


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("call from +46701740623 routed", "701740623"),
        ("mobile 070-174 06 23", "1740623"),
        ("dialled 0046523664123", "0523664123"),
    ],
    ids=["e164", "national-spaced", "international-prefix"],
)
def test_r18_numbers_are_masked(text: str, hidden: str) -> None:
    event = mask_numbers(None, "info", {"event": "x", "detail": text})
    assert hidden not in str(event["detail"]).replace(" ", "").replace("-", "")
    assert "*" in str(event["detail"])


def test_extensions_stay_readable() -> None:
    event = mask_numbers(None, "info", {"event": "call_routed", "extension": "64123"})
    assert event["extension"] == "64123"


def test_r18_stdlib_and_structlog_records_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="INFO", json=True)
    try:
        structlog.get_logger().info("call_routed", caller="+46701740623")
        logging.getLogger("aiohttp.access").info("GET /?n=%s", "+46701740623")
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    err = capsys.readouterr().err
    assert "call_routed" in err
    assert "GET /?n=" in err
    assert "701740623" not in err
