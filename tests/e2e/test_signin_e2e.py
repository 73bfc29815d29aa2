"""Signing in with JavaScript turned off, and the sign-in page while signed in (issue 16).

Headless Chromium with scripts disabled posts the form itself: a wrong password shows the
page again with the Swedish message and the name kept; the right one lands on the page
asked for. With scripts on, a signed-in receptionist opens /signin, is told so, and signs
in as the employee through the same form (the script posts JSON with the CSRF token).
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import DEMO_PASSWORDS, DESKTOP, Served, new_context, sign_in
from tests.peers.tools import in_ci

if not in_ci():  # in CI a missing Playwright is an error, not a skip
    pytest.importorskip("playwright", reason="playwright is not installed (the test extra)")
from playwright.sync_api import Browser, expect


def test_the_form_signs_in_without_javascript(
    browser: Browser, served: Served, artifacts: Path
) -> None:
    context = browser.new_context(
        base_url=served.url,
        locale="sv-SE",
        timezone_id="Europe/Stockholm",
        viewport=DESKTOP,
        java_script_enabled=False,
    )
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto("/reception")
        page.wait_for_url("**/signin?next=/reception")
        page.fill("#username", "reception")
        page.fill("#password", "inte lösenordet")
        page.click("#signin-submit")
        page.wait_for_load_state()
        error = page.locator("#signin-error")
        expect(error).to_be_visible()
        expect(error).to_have_text(
            "Användarnamnet och lösenordet hör inte ihop med något konto. "
            "Kontrollera båda och försök igen."
        )
        expect(page.locator("#username")).to_have_value("reception")
        expect(page.locator("#password")).to_have_value("")
        page.screenshot(path=artifacts / "signin-no-js-refused.png")
        # One failure makes this address wait a second (accounts/throttle.py): the page
        # says so, in Swedish, and the next try after the wait gets through.
        deadline = time.monotonic() + 10
        while True:
            page.fill("#password", DEMO_PASSWORDS["reception"])
            page.click("#signin-submit")
            page.wait_for_load_state()
            if page.url.endswith("/reception") or time.monotonic() > deadline:
                break
            expect(error).to_contain_text("För många försök. Vänta")
            page.wait_for_timeout(500)
        page.wait_for_url("**/reception")
        expect(page.locator("#search-label")).to_have_text("Sök person")
    finally:
        context.close()


def test_signed_in_the_page_says_so_and_signs_in_as_someone_else(
    browser: Browser, served: Served, artifacts: Path
) -> None:
    context = new_context(browser, served)
    try:
        page = sign_in(context, "reception", "/reception")
        page.goto("/signin?next=/me")
        expect(page.locator("#signin-already")).to_contain_text("Du är inloggad som")
        page.screenshot(path=artifacts / "signin-signed-in.png")
        page.fill("#username", "anna")
        page.fill("#password", DEMO_PASSWORDS["anna"])
        page.click("#signin-submit")
        page.wait_for_url(lambda url: urlsplit(url).path == "/me")  # not ?next=/me
        expect(page.locator(".who")).to_contain_text("Anna")
    finally:
        context.close()
