"""The name clip on the employee's page (issue 13), in headless Chromium against a real
``switchboard serve``: "Ditt namn", next to the greeting.

Anna records her name with Chromium's fake microphone (a beeping tone), listens to the
preview and saves it: the API hands back an 8 kHz WAV of 0.5-5 s, brought to speech level
and cut to its sound by the server; the greeting next to it is untouched. The recorder
stops by itself at 5 s and what it made is accepted. A file over 5 s is refused in the
reader's language (issue 16); delete asks first. On a 390 px phone the section fits the screen,
and every control of the name box says which box it belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.media.clips import SPEECH_LEVEL_DBFS, speech_level_dbfs
from switchboard.voicemail.wav import read_wav
from tests.e2e.conftest import Served, new_context, sign_in
from tests.e2e.test_voicemail_e2e import make_wav, wav_seconds
from tests.peers.tools import in_ci

if not in_ci():  # in CI a missing Playwright is an error, not a skip
    pytest.importorskip("playwright", reason="playwright is not installed (the test extra)")
from playwright.sync_api import Browser, Page, expect

SAVED = "Namnet är sparat"


@pytest.fixture
def anna(browser: Browser, served: Served) -> Iterator[Page]:
    context = new_context(browser, served)
    try:
        page = sign_in(context, "anna", "/me")
        expect(page.locator("#voicemail")).to_have_attribute("data-loaded", "true")
        yield page
    finally:
        context.close()


def _stored(page: Page) -> tuple[int, bytes]:
    """(status, body) of ``GET .../name-clip`` with the page's session."""
    person = page.locator("#voicemail").get_attribute("data-person")
    response = page.context.request.get(f"/api/v1/people/{person}/name-clip")
    return response.status, response.body()


def _record(page: Page, *, stop_after: str | None) -> None:
    """Record with the fake microphone; stop by hand once the timer shows ``stop_after``,
    or wait for the recorder to stop itself."""
    record = page.locator("#vm-name-record")
    record.click()
    expect(record).to_have_attribute("aria-pressed", "true")
    timer = page.locator("#vm-name-timer")
    expect(timer).to_be_visible()
    if stop_after is not None:
        expect(timer).to_have_text(re.compile(rf"^{stop_after} / 0:05$"), timeout=8000)
        record.click()
    expect(record).to_have_attribute("aria-pressed", "false", timeout=10_000)
    expect(page.locator("#vm-name-preview")).to_be_visible()


def test_anna_records_her_name_next_to_the_greeting(anna: Page, artifacts: Path) -> None:
    box = anna.locator("#vm-name")
    expect(box.get_by_role("heading", name="Ditt namn")).to_be_visible()
    expect(anna.locator("#vm-name-none")).to_be_visible()
    _record(anna, stop_after="0:04")
    recorded = int(box.get_attribute("data-recorded") or 0)
    assert recorded > 44 + 2 * 16000 * 3.0  # more than 3 s of 16 kHz 16-bit mono
    box.screenshot(path=artifacts / "me-name-preview.png")
    anna.click("#vm-name-preview-save")
    expect(anna.locator("#vm-name-status")).to_contain_text(SAVED)
    expect(anna.locator("#vm-name-preview")).to_be_hidden()
    player = anna.locator("#vm-name-audio")
    expect(player).to_be_visible()
    expect(player).to_have_attribute("src", re.compile(r"/api/v1/people/[^/]+/name-clip\?v="))
    expect(anna.locator("#vm-name-meta")).to_contain_text("0:0")

    status, body = _stored(anna)
    assert status == 200
    rate, channels, seconds = wav_seconds(body)
    assert (rate, channels) == (8000, 1)
    assert 0.5 <= seconds <= 5.0
    # The fake microphone's beeps, brought to the speech level of the synthesized words.
    assert abs(speech_level_dbfs(read_wav(body)) - SPEECH_LEVEL_DBFS) < 1.0
    # The greeting is another thing: still the standard one.
    expect(anna.locator("#vm-greeting-none")).to_be_visible()
    anna.locator("#voicemail").screenshot(path=artifacts / "me-voicemail-name.png")


def test_the_recorder_stops_itself_at_five_seconds_and_that_is_accepted(anna: Page) -> None:
    _record(anna, stop_after=None)
    recorded = int(anna.locator("#vm-name").get_attribute("data-recorded") or 0)
    assert 44 + 2 * 16000 * 4.5 < recorded <= 44 + 2 * 16000 * 5
    anna.click("#vm-name-preview-save")
    expect(anna.locator("#vm-name-status")).to_contain_text(SAVED)
    assert _stored(anna)[0] == 200


def test_a_long_file_is_refused_and_delete_asks_first(anna: Page) -> None:
    status = anna.locator("#vm-name-status")
    anna.set_input_files(
        "#vm-name-upload",
        files={"name": "lang.wav", "mimeType": "audio/wav", "buffer": make_wav(8.0)},
    )
    expect(status).to_contain_text("håll det under 5 s")  # in Swedish, issue 16
    expect(status).to_have_class(re.compile("form-error"))
    anna.set_input_files(
        "#vm-name-upload",
        files={"name": "anna.wav", "mimeType": "audio/wav", "buffer": make_wav(1.5)},
    )
    expect(status).to_contain_text(SAVED)
    expect(anna.locator("#vm-name-meta")).to_contain_text("0:02")  # 1.5 s, rounded

    box = anna.locator("#vm-name")
    box.get_by_role("button", name="Radera").click()
    expect(box.locator(".vm-confirm-text")).to_have_text("Ta bort det inspelade namnet?")
    box.get_by_role("button", name="Avbryt").click()
    assert _stored(anna)[0] == 200
    box.get_by_role("button", name="Radera").click()
    box.get_by_role("button", name="Ja, radera").click()
    expect(status).to_contain_text("Namnet är borttaget")
    expect(anna.locator("#vm-name-none")).to_be_visible()
    expect(anna.locator("#vm-name-record")).to_be_focused()
    assert _stored(anna)[0] == 404


def test_the_name_box_fits_a_phone_and_names_its_controls(
    browser: Browser, served: Served, artifacts: Path
) -> None:
    phone = new_context(browser, served, mobile=True)
    try:
        anna = sign_in(phone, "anna", "/me")
        section = anna.locator("#voicemail")
        expect(section).to_have_attribute("data-loaded", "true")
        box = anna.locator("#vm-name")
        box.scroll_into_view_if_needed()
        for control in ("#vm-name-record", "label[for=vm-name-upload]"):
            expect(anna.locator(control)).to_be_in_viewport()
        overflow = anna.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth,"
            " document.getElementById('voicemail').scrollWidth,"
            " document.getElementById('voicemail').clientWidth]"
        )
        assert overflow[0] <= overflow[1], overflow  # no sideways scrolling at 390 px
        assert overflow[2] <= overflow[3], overflow
        box.screenshot(path=artifacts / "me-name-mobile.png")
    finally:
        phone.close()

    # Two "Spela in" buttons on the page: each says whose it is.
    context = new_context(browser, served)
    try:
        anna = sign_in(context, "anna", "/me")
        expect(anna.locator("#vm-name-record")).to_have_accessible_description("Ditt namn")
        expect(anna.locator("#vm-greeting-record")).to_have_accessible_description("Hälsningsfras")
        expect(anna.get_by_role("group", name="Ditt namn")).to_be_visible()
        expect(anna.locator("#vm-name-upload")).to_have_accessible_description("Ditt namn")
    finally:
        context.close()
