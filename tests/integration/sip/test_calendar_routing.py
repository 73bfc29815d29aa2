"""A calendar drives what a SIP caller gets, end to end (issue 4 "Done when", R7).

A real HTTP server serves an iCalendar feed; ``switchboard serve`` polls it (every 10 s,
the shortest poll allowed); a SIP INVITE then gets the meeting referral. The meeting is
removed at the source, and within one poll interval (plus margin) the same call rings.
``calendar health`` reports the source as healthy.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.integration.sip.conftest import Switchboard, seed
from tests.integration.sip.rawsip import trunk_call

Factory = Callable[..., Switchboard]

# Monday 23 November 2026, Stockholm: the server runs "as if" 10:00 (conftest MONDAY_10).
MEETING = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//switchboard tests//EN\r
BEGIN:VEVENT\r
UID:meeting-1@test\r
DTSTAMP:20261120T080000Z\r
DTSTART:20261123T083000Z\r
DTEND:20261123T110000Z\r
SUMMARY:Budgetmöte\r
X-MICROSOFT-CDO-BUSYSTATUS:BUSY\r
END:VEVENT\r
END:VCALENDAR\r
"""
EMPTY = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//switchboard tests//EN\r\nEND:VCALENDAR\r\n"


class Feed:
    def __init__(self) -> None:
        self.body = MEETING
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                data = feed.body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/maria.ics"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def feed() -> Iterator[Feed]:
    f = Feed()
    yield f
    f.close()


def _call(server: Switchboard, extension: str) -> tuple[int, str]:
    return trunk_call(server.host, server.port, extension)


def test_a_meeting_in_the_feed_refers_callers_and_its_removal_rings_again(
    switchboard_factory: Factory, feed: Feed, tmp_path: Path
) -> None:
    directory = tmp_path / "calendar"
    directory.mkdir()
    config, data_dir = seed(directory)
    with config.open("a", encoding="utf-8") as f:
        f.write(f'\n[[calendars]]\ntype = "ics"\nperson = "18007"\nurl = "{feed.url}"\npoll = 10\n')
    server = switchboard_factory(
        trunk="127.0.0.1:5999", trusted=("127.0.0.1/32",), config=config, data_dir=data_dir
    )

    deadline = time.monotonic() + 15
    while "möte" not in (answer := _call(server, "18007"))[1] and time.monotonic() < deadline:
        time.sleep(0.2)
    status, reason = answer
    assert status == 480, answer
    assert "Maria Nilsson är på möte" in reason, answer

    command = [sys.executable, "-m", "switchboard", "--config", str(config)]
    health = subprocess.run(
        [*command, "--data", str(data_dir), "calendar", "health"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert health.returncode == 0, health.stdout + health.stderr
    assert '"items": 1' in health.stdout

    feed.body = EMPTY
    changed = time.monotonic()
    while _call(server, "18007")[0] != 302:
        assert time.monotonic() - changed < 10 + 5, "the change did not arrive within the poll"
        time.sleep(0.2)
