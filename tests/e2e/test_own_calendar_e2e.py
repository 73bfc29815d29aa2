"""Connecting one's own calendar from the employee's page, in Swedish (issue 16): Anna
pastes her calendar's ICS address into the calendar card, sees "Ansluten: … · senast
synkad …", and disconnects it ("Koppla från" → "Inte ansluten"). An address from a host the
administrator does not allow is refused under the field, in Swedish.

A real ``serve`` whose config allows ICS feeds from 127.0.0.1 over http
(``[own_calendars]``), and a real HTTP server on loopback serving the feed. Screenshots at
1280x900 and 390x844 go to ``test-artifacts/``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from switchboard.settings.resources import bundled
from tests.e2e.conftest import DEMO_PASSWORDS, Served, serve_demo
from tests.peers.tools import in_ci

if not in_ci():  # in CI a missing Playwright is an error, not a skip
    pytest.importorskip("playwright", reason="playwright is not installed (the test extra)")
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

TOKEN = "e2eSECRETcalendarToken"  # noqa: S105 - the feed's secret part
FEED = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//own calendar//EN\r
BEGIN:VEVENT\r
UID:e2e-1@test\r
DTSTAMP:20261120T080000Z\r
DTSTART;TZID=Europe/Stockholm:20261123T140000\r
DTEND;TZID=Europe/Stockholm:20261123T150000\r
SUMMARY:Arbetsplatstr\xc3\xa4ff\r
END:VEVENT\r
END:VCALENDAR\r
"""
OWN_CALENDARS = """
[own_calendars]
ics = true
ics_http = true
ics_hosts = ["127.0.0.1"]
poll = 60
"""
WIDE: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


class _Feed(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != f"/{TOKEN}/anna.ics":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        self.send_header("Content-Length", str(len(FEED)))
        self.end_headers()
        self.wfile.write(FEED)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def feed() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{TOKEN}/anna.ics"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The demo as tests/e2e/conftest.py serves it, with ``[own_calendars]`` added."""
    folder = tmp_path_factory.mktemp("e2e-own-calendar")
    config = folder / "sml.toml"
    config.write_text(bundled("configs/sml.toml").read_text("utf-8") + OWN_CALENDARS, "utf-8")
    with serve_demo(folder, config) as served:
        yield served
    log = served.log
    assert TOKEN not in log.read_text(encoding="utf-8")  # masked in every log line


def _context(browser: Browser, served: Served, viewport: ViewportSize) -> BrowserContext:
    phone = viewport["width"] < 500
    context = browser.new_context(
        base_url=served.url,
        locale="sv-SE",
        timezone_id="Europe/Stockholm",
        viewport=viewport,
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
    )
    context.set_default_timeout(10_000)
    return context


def _sign_in_anna(context: BrowserContext) -> Page:
    page = context.new_page()
    page.goto("/signin")
    page.fill("#username", "anna")
    page.fill("#password", DEMO_PASSWORDS["anna"])
    page.click("#signin-submit")
    page.wait_for_url("**/me")
    return page


def test_anna_connects_her_ics_calendar_sees_the_sync_and_disconnects(
    browser: Browser, served: Served, feed: str, artifacts: Path
) -> None:
    context = _context(browser, served, WIDE)
    try:
        page = _sign_in_anna(context)
        card = page.locator("#own-calendar")
        expect(page.locator("#calendar-none")).to_contain_text("Inte ansluten")
        expect(card.locator("h3")).to_have_text("Anslut din kalender")

        # A host the administrator does not allow: refused under the field, in Swedish.
        page.fill("#own-calendar-url", f"https://calendar.example/{TOKEN}/anna.ics")
        page.click("#own-calendar-connect")
        error = page.locator("#own-calendar-url-error")
        expect(error).to_have_text(
            "Kalendrar kan bara anslutas från de adresser administratören tillåter."
        )
        expect(page.locator("#own-calendar-url")).to_have_attribute("aria-invalid", "true")
        assert TOKEN not in (error.text_content() or "")
        page.locator("#own-calendar").locator("..").screenshot(
            path=artifacts / "me-own-calendar-refused.png"
        )

        page.fill("#own-calendar-url", feed)
        page.click("#own-calendar-connect")
        address = feed.split(f"/{TOKEN}")[0] + "/***"
        expect(page.locator("#own-calendar-address")).to_have_text(f"Ansluten: {address}")
        expect(page.locator("#own-calendar-toast")).to_contain_text("Kalendern är ansluten")
        expect(page.locator("#calendar-none")).to_be_hidden()
        expect(page.locator("#own-calendar-form")).to_be_hidden()
        # The first sync comes within seconds; the card polls until it has it.
        expect(page.locator("#own-calendar-sync")).to_contain_text(
            "ICS-adress · senast synkad 10:", timeout=20_000
        )
        expect(page.locator("#own-calendar-sync")).to_contain_text("nästa synkning")
        expect(page.locator("#own-calendar-error")).to_be_hidden()
        assert TOKEN not in page.content()
        page.screenshot(path=artifacts / "me-own-calendar-desktop.png", full_page=True)
    finally:
        context.close()

    phone = _context(browser, served, PHONE)
    try:
        page = _sign_in_anna(phone)
        expect(page.locator("#own-calendar-sync")).to_contain_text("senast synkad")
        page.screenshot(path=artifacts / "me-own-calendar-mobile.png", full_page=True)

        page.click("#own-calendar-disconnect")
        expect(page.locator("#own-calendar-toast")).to_contain_text("Kalendern är frånkopplad")
        expect(page.locator("#calendar-none")).to_contain_text("Inte ansluten")
        expect(page.locator("#own-calendar-form")).to_be_visible()
        expect(page.locator("#own-calendar-status")).to_be_hidden()
        page.reload()
        expect(page.locator("#calendar-none")).to_contain_text("Inte ansluten")
    finally:
        phone.close()
