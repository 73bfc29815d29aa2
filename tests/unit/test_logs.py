"""R18: numbers are masked in every log line, including stdlib records from libraries."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest
import structlog

from switchboard.logs import BufferedLines, LineLogger, configure_logging, mask_numbers


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


class _CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_lines_logged_in_one_loop_turn_leave_in_one_write_in_order() -> None:
    sink = _CountingStream()
    stream = BufferedLines(sink)

    async def burst() -> str:
        for n in range(100):
            stream.write(f"line {n}\n")
            stream.flush()
        held = sink.getvalue()
        await asyncio.sleep(0)  # the end of the turn
        return held

    held = asyncio.run(burst())
    assert held == ""  # nothing written mid-turn...
    assert sink.writes == 1  # ...then all of it at once
    assert sink.getvalue().splitlines() == [f"line {n}" for n in range(100)]


def test_with_a_delay_the_lines_of_several_turns_leave_together_within_it() -> None:
    sink = _CountingStream()
    stream = BufferedLines(sink, delay=0.05)

    async def turns() -> str:
        for n in range(5):
            stream.write(f"call {n}\n")
            stream.flush()
            await asyncio.sleep(0.001)  # another datagram, another turn
        held = sink.getvalue()
        await asyncio.sleep(0.06)  # past the delay
        return held

    held = asyncio.run(turns())
    assert held == ""
    assert sink.writes == 1
    assert sink.getvalue().splitlines() == [f"call {n}" for n in range(5)]


def test_outside_a_loop_and_at_a_stopped_loop_nothing_waits() -> None:
    sink = _CountingStream()
    stream = BufferedLines(sink)
    stream.write("from a thread or the CLI\n")
    stream.flush()
    assert sink.getvalue() == "from a thread or the CLI\n"

    async def last_words() -> None:
        stream.write("logged as the loop ends\n")
        stream.flush()  # scheduled, but the loop is gone before it runs

    loop = asyncio.new_event_loop()
    loop.run_until_complete(last_words())
    loop.close()
    stream.write("next line\n")
    stream.flush()  # no loop running now: writes at once, the held line first
    assert sink.getvalue().splitlines()[1:] == ["logged as the loop ends", "next line"]


def test_the_per_call_line_is_structlogs_json_line_masked_the_same_way(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """LineLogger renders without structlog's processors; the line must not differ."""
    configure_logging(level="INFO", json=True)
    try:
        fields = {"action": "redirect", "extension": "64123", "outcome": 302}
        detail = "diverted to +46701740623"
        LineLogger("switchboard.sip").info("call", detail=detail, **fields)
        structlog.get_logger("switchboard.sip").info("call", detail=detail, **fields)
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    fast, slow = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert list(fast) == list(slow)
    assert fast.pop("timestamp").endswith("Z")
    assert slow.pop("timestamp").endswith("Z")
    assert fast == slow
    assert "1740623" not in fast["detail"]


def test_line_logger_respects_the_level(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="WARNING", json=True)
    try:
        LineLogger("switchboard.sip").info("call", outcome=302)
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("person", "3f2a9c1234567b0e"),
        ("person", "0123456789abcdef"),
        ("person", "0123456789012345"),
        ("account", "9d2e6c0f1234567890a1b2c3d4e5f6a7"),
        ("request_id", "5550123456789012"),
        ("detail", "person 3f2a9c1234567b0e refused"),
    ],
    ids=["hex-id", "digits-first", "all-digit-id", "account-id", "request-id", "in-text"],
)
def test_ids_are_not_mangled_by_the_number_masking(key: str, value: str) -> None:
    """Issue 17: a refusal's log line showed the person id partly masked."""
    event = mask_numbers(None, "info", {"event": "x", key: value})
    assert event[key] == value


@pytest.mark.parametrize(
    ("key", "value", "hidden"),
    [
        ("person", "+46701740623", "701740623"),
        ("person", "0701740623", "701740623"),
        ("detail", "ring 070-174 06 23, id 3f2a9c1234567b0e", "1740623"),
        ("caller", "sip:0701740623@example.net", "701740623"),
        ("caller", "tel:+46701740623", "701740623"),
    ],
    ids=["e164-under-id-key", "national-under-id-key", "beside-an-id", "sip-uri", "tel-uri"],
)
def test_r18_numbers_beside_ids_are_still_masked(key: str, value: str, hidden: str) -> None:
    event = mask_numbers(None, "info", {"event": "x", key: value})
    assert hidden not in str(event[key]).replace(" ", "").replace("-", "")
