"""Keyboard, focus, the live region and the session warning (issue 16: WCAG 2.1 AA).

- Focus never drops to the page: after "Gör tillgänglig", after the privacy switch saves,
  after a server refusal in the referral dialog; the dialog gives focus back to the button
  that opened it (2.4.3).
- The page's one polite live region says a status change the server pushes, and the
  receptionist's own change (4.1.3).
- A few minutes before the session ends unused, a dialog says so; "Fortsätt inloggad"
  renews it and nothing typed is lost (2.2.1). The browser's clock is moved on with
  Playwright's clock, the server's session is made old by writing ``last_seen`` in the
  server's SQLite store from the test (a second process, like ``switchboard users``).
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.a11y import audit, axe_script
from tests.e2e.conftest import DEMO_PASSWORDS, Served, made_available, new_context, sign_in
from tests.peers.tools import in_ci

if not in_ci():  # in CI a missing Playwright is an error, not a skip
    pytest.importorskip("playwright", reason="playwright is not installed (the test extra)")
from playwright.sync_api import Browser, Locator, Page, Route, expect

LIVE = 2000


def _focused(page: Page) -> str:
    """The focused element, as ``tag#id[data-action]`` ("body" when focus dropped)."""
    found: str = page.evaluate(
        """() => {
          const e = document.activeElement;
          if (!e || e === document.body) return "body";
          const action = e.dataset?.action ? `[${e.dataset.action}]` : "";
          return `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}${action}`;
        }"""
    )
    return found


def _anna_row(page: Page) -> None:
    page.fill("#search", "Anna Berg")
    expect(page.locator(".person")).to_have_count(1)


def test_focus_stays_and_changes_are_announced_at_the_reception(
    browser: Browser, served: Served
) -> None:
    context = new_context(browser, served)
    anna_context = new_context(browser, served)
    try:
        page = sign_in(context, "reception", "/reception")
        expect(page.locator("#live")).to_have_attribute("data-state", "live")
        _anna_row(page)
        row = page.locator(".person", has_text="Anna Berg")
        announcer = page.locator("#announcer")
        expect(announcer).to_have_attribute("aria-live", "polite")

        # A status change made elsewhere (Anna's own browser) is said, without focus moving.
        anna = sign_in(anna_context, "anna", "/me")
        made_available(anna)
        expect(row).to_have_attribute("data-state", "available", timeout=LIVE)
        page.focus("#search")
        anna.click("#toggle")
        anna.get_by_role("button", name="Lunch 1 h").click()
        anna.get_by_role("button", name="Sätt borta").click()
        expect(row).to_have_attribute("data-state", "away", timeout=LIVE)
        expect(announcer).to_contain_text("Anna Berg: Borta, Lunch", timeout=LIVE)
        assert _focused(page) == "input#search"

        # "Gör tillgänglig" by keyboard: focus goes to the row's referral button, and the
        # receptionist's own change is said.
        available = row.locator('[data-action="available"]')
        available.focus()
        page.keyboard.press("Enter")
        expect(row).to_have_attribute("data-state", "available")
        expect(available).to_be_hidden()
        expect(row.locator('[data-action="refer"]')).to_be_focused()
        expect(announcer).to_contain_text("Sparat för Anna Berg: Tillgänglig")

        # The referral dialog gives focus back to the button that opened it, not the row.
        page.keyboard.press("Enter")
        dialog = page.locator("#refer-dialog")
        expect(dialog).to_be_visible()
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        expect(row.locator('[data-action="refer"]')).to_be_focused()

        # A refusal from the server inside the dialog keeps the focus in the dialog.
        page.keyboard.press("Enter")
        expect(dialog).to_be_visible()
        dialog.locator("select[name=reason]").select_option("lunch")
        dialog.locator("input[name=until_date]").fill("2020-01-01")
        dialog.locator("input[name=until_time]").fill("10:00")
        submit = dialog.get_by_role("button", name="Sätt borta")
        submit.focus()
        page.keyboard.press("Enter")
        # Said under the return time it concerns; the focus goes there, inside the dialog.
        expect(dialog.locator("#refer-picker-until-error")).to_be_visible()
        expect(dialog.locator("input[name=until_time]")).to_be_focused()
        assert _focused(page) != "body"
        assert page.evaluate(
            "document.getElementById('refer-dialog').contains(document.activeElement)"
        )
        page.keyboard.press("Escape")
        expect(row.locator('[data-action="refer"]')).to_be_focused()
    finally:
        context.close()
        anna_context.close()


def test_the_privacy_switch_keeps_the_focus_while_it_saves(
    browser: Browser, served: Served
) -> None:
    context = new_context(browser, served)
    try:
        page = sign_in(context, "anna", "/me")
        switch = page.locator("#hide-mobile")
        before = switch.get_attribute("aria-checked")
        switch.focus()
        page.keyboard.press("Space")
        expect(switch).not_to_have_attribute("aria-checked", before or "")
        expect(switch).to_be_focused()
        expect(page.locator("#announcer")).to_contain_text(
            page.locator("#hide-mobile-state").inner_text()
        )
        page.keyboard.press("Space")  # back as it was, for the tests that follow
        expect(switch).to_have_attribute("aria-checked", before or "")
        expect(switch).to_be_focused()
    finally:
        context.close()


def _signed_in_with_a_clock(browser: Browser, served: Served, who: str, lands_on: str) -> Page:
    """Signed in on a page whose clock Playwright moves (``page.clock``); the CSP is
    bypassed only so that axe-core can be injected."""
    context = browser.new_context(
        base_url=served.url, locale="sv-SE", timezone_id="Europe/Stockholm", bypass_csp=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.clock.install()
    page.goto(f"/signin?next={lands_on}")
    page.fill("#username", who)
    page.fill("#password", DEMO_PASSWORDS[who])
    page.click("#signin-submit")
    page.wait_for_url(lambda url: urlsplit(url).path == lands_on)
    return page


def _session_id(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "sb_session")


def _age_session(served: Served, session_id: str, minutes: float) -> None:
    """Make the server's session look unused for ``minutes`` (its idle time is 30)."""
    key = hashlib.sha256(session_id.encode()).hexdigest()
    with sqlite3.connect(served.data / "switchboard.db") as db:
        (seen,) = db.execute(
            "SELECT last_seen FROM sessions WHERE session_id_hash = ?", (key,)
        ).fetchone()
        older = datetime.fromisoformat(seen) - timedelta(minutes=minutes)
        db.execute(
            "UPDATE sessions SET last_seen = ? WHERE session_id_hash = ?",
            (older.isoformat(), key),
        )


def test_the_session_warns_before_it_ends_and_can_be_extended(
    browser: Browser, served: Served, artifacts: Path
) -> None:
    page = _signed_in_with_a_clock(browser, served, "anna", "/me")
    try:
        note = _writing_a_referral(page)
        note.fill("Ring växeln så länge")
        note.focus()
        dialog = page.locator("#session-dialog")
        expect(dialog).to_be_hidden()

        _age_session(served, _session_id(page), 28.5)  # 90 seconds left on the server
        page.clock.fast_forward("27:30")  # the page asks 3 minutes before its own estimate
        expect(dialog).to_be_visible()
        expect(dialog).to_have_attribute("role", "alertdialog")
        expect(page.locator("#session-text")).to_contain_text("loggas du ut")
        extend = page.get_by_role("button", name="Fortsätt inloggad")
        expect(extend).to_be_focused()
        page.screenshot(path=artifacts / "a11y-session-warning.png")
        audit(page, axe_script(), "the session warning", "#session-dialog")

        page.keyboard.press("Enter")
        expect(dialog).to_be_hidden()
        expect(note).to_be_focused()  # back where the reader was, the note still there
        expect(note).to_have_value("Ring växeln så länge")
        expect(page.locator("#announcer")).to_contain_text("Du är fortfarande inloggad")
        left = page.request.get("/api/v1/session").json()["expires_in"]
        assert left > 29 * 60  # renewed on the server, not just in the page
    finally:
        page.context.close()


def test_the_end_of_the_session_is_said_with_a_way_back(browser: Browser, served: Served) -> None:
    # (The employee's page: the reception's overview asks the server each minute, and any
    # request renews the session, so it ends only when the screen is left without search.)
    page = _signed_in_with_a_clock(browser, served, "anna", "/me")
    try:
        expect(page.locator("#status-card")).not_to_have_attribute("data-state", "loading")
        session_id = _session_id(page)
        _age_session(served, session_id, 31)  # already over on the server
        page.clock.fast_forward("27:30")
        _the_end_is_said(page)
    finally:
        page.context.close()


def test_a_request_that_finds_the_session_over_says_so_and_keeps_the_page(
    browser: Browser, served: Served
) -> None:
    """The first to find the end may be a request of the page rather than its timer: the
    same dialog says so, and the page stays with what was typed (WCAG 2.2.5), instead of
    going to the sign-in page and losing it."""
    page = _signed_in_with_a_clock(browser, served, "anna", "/me")
    try:
        note = _writing_a_referral(page)
        page.select_option("#me-picker-reason", "meeting")
        note.fill("Ring växeln så länge")
        _age_session(served, _session_id(page), 31)
        page.click('#me-picker button[type="submit"]')
        _the_end_is_said(page)
        assert urlsplit(page.url).path == "/me"
        expect(note).to_have_value("Ring växeln så länge")
        expect(page.locator("#status-card")).not_to_have_attribute("data-state", "away")
    finally:
        page.context.close()


def _writing_a_referral(page: Page) -> Locator:
    """Anna's page, loaded, with the referral picker open (she was available): its note."""
    made_available(page)
    page.click("#toggle")
    return page.locator("#me-picker-text")


def _the_end_is_said(page: Page) -> None:
    dialog = page.locator("#session-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Du har loggats ut")
    link = page.get_by_role("link", name="Logga in igen")
    expect(link).to_be_focused()
    assert link.get_attribute("href") == "/signin?next=/me"


def test_the_connection_state_is_announced(browser: Browser, served: Served) -> None:
    """The reception's live feed lost and back again is said in the live region (4.1.3),
    not only shown by the pill's colour and word. The feed's first answer is a stream that
    ends at once, the next few fail, then the real server's stream goes through."""
    context = new_context(browser, served)
    calls: list[Route] = []

    def feed(route: Route) -> None:
        calls.append(route)
        if len(calls) == 1:
            route.fulfill(status=200, content_type="text/event-stream", body="retry: 400\n\n")
        elif len(calls) <= 6:
            route.abort()
        else:
            route.continue_()

    context.route("**/api/v1/events", feed)
    try:
        page = sign_in(context, "reception", "/reception")
        live = page.locator("#live")
        announcer = page.locator("#announcer")
        expect(announcer).to_contain_text("Anslutningen bröts", timeout=LIVE)
        expect(live).to_have_attribute("data-state", "connecting")
        expect(live).to_have_attribute("data-state", "live", timeout=10_000)
        expect(announcer).to_contain_text("Ansluten igen")
        assert len(calls) >= 7
    finally:
        context.close()
