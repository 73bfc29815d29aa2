"""The reception's overview before typing, in headless Chromium (issue 16).

Before any search the screen lists who is away now (and until when, with the date when it
is not today), who is back within the hour and who is away later today; it follows the
live feed (Anna comes back and goes again in another browser), filters by organisation and
unit, keeps the keyboard flow, shows planned absences on the rows, fits a 390 px phone, and
a bad number in "take a message" is said under its field in Swedish. Screenshots at
1280×900 and 390×844 go to ``test-artifacts/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Served, made_available, new_context, sign_in
from tests.peers.tools import in_ci

if not in_ci():  # in CI a missing Playwright is an error, not a skip
    pytest.importorskip("playwright", reason="playwright is not installed (the test extra)")
from playwright.sync_api import Browser, Page, expect

LIVE = 2000
"""Milliseconds within which a change reaches the overview (the feed, then one fetch)."""

PLAN_JOHAN = """async () => {
  const page = JSON.parse(document.getElementById("page-data").textContent);
  const found = await fetch("/api/v1/people?q=johan+ek").then((r) => r.json());
  const id = found.people[0].id;
  const headers = {"Content-Type": "application/json", "X-CSRF-Token": page.csrf};
  // Planning no longer wipes the current status (issue 16): his training ends first.
  await fetch(`/api/v1/people/${id}/availability`, {method: "DELETE", headers});
  const response = await fetch(`/api/v1/people/${id}/availability`, {
    method: "PUT",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": page.csrf},
    body: JSON.stringify({state: "referral", reason: "meeting",
      starts: "2026-11-23T14:00:00+01:00", until: "2026-11-23T15:30:00+01:00"}),
  });
  return response.status;
}"""


def _group(page: Page, section: str) -> list[str]:
    names = page.locator(f'.person[data-section="{section}"] .person-name').all_inner_texts()
    return [n.strip() for n in names]


def test_overview_before_typing_live_filtered_and_by_keyboard(
    browser: Browser, served: Served, artifacts: Path
) -> None:
    reception_context = new_context(browser, served)
    anna_context = new_context(browser, served)
    try:
        reception = sign_in(reception_context, "reception", "/reception")
        reception.set_viewport_size({"width": 1280, "height": 900})
        expect(reception.locator("#live")).to_have_attribute("data-state", "live")
        expect(reception.locator("#overview-bar")).to_be_visible()
        expect(reception.locator(".group-head")).to_have_count(3)
        expect(reception.locator('.group-head[data-section="back_soon"]')).to_contain_text(
            "Tillbaka inom en timme"
        )
        back_soon = reception.locator('.person[data-section="back_soon"]')
        expect(back_soon.filter(has_text="Anna Berg")).to_have_count(1)
        away = reception.locator('.person[data-section="away"]')
        expect(away.filter(has_text="Johan Ek")).to_have_count(1)
        fatima = away.filter(has_text="Fatima Haddad")
        # The holiday ends on Friday: the hint says Friday, not just "until 10:00".
        expect(fatima.locator(".cell-calendar")).to_contain_text("fredag 27 november 10:00")
        expect(fatima.locator(".status-text")).to_contain_text("fredag 27 november")

        # A referral planned for the afternoon: Johan moves to "later today", planned.
        assert reception.evaluate(PLAN_JOHAN) == 200
        later = reception.locator('.person[data-section="later"]', has_text="Johan Ek")
        expect(later).to_have_count(1, timeout=LIVE)
        expect(later.locator(".overview-text")).to_have_text("Från 14:00: Möte")
        expect(later.locator(".planned-text")).to_have_text(
            "Planerat: Möte från 14:00, tillbaka 15:30"
        )
        reception.screenshot(path=artifacts / "reception-overview-desktop.png")

        # Live: Anna comes back in her own browser, and goes away again until 13:00.
        anna = sign_in(anna_context, "anna", "/me")
        card = made_available(anna)
        expect(back_soon.filter(has_text="Anna Berg")).to_have_count(0, timeout=LIVE)
        anna.click("#toggle")
        anna.get_by_role("button", name="Lunch 1 h").click()
        anna.fill("#me-picker-until-time", "13:00")
        anna.get_by_role("button", name="Sätt borta").click()
        expect(away.filter(has_text="Anna Berg")).to_have_count(1, timeout=LIVE)

        # Filter: one organisation, then one of its units.
        reception.select_option("#filter-org", "lysekil")
        expect(reception.locator(".person", has_text="Anna Berg")).to_have_count(0)
        assert _group(reception, "away") == ["Fatima Haddad"]
        assert _group(reception, "later") == ["Johan Ek"]
        reception.select_option("#filter-unit", "Hamnen")
        expect(reception.locator(".person", has_text="Fatima Haddad")).to_have_count(0)
        expect(reception.locator(".person")).to_have_count(1)
        reception.select_option("#filter-org", "")
        expect(reception.locator(".person", has_text="Anna Berg")).to_have_count(1)

        # Keyboard: "/" to the search, ↓ into the rows (over the group headings), ↑ back.
        reception.locator("body").click(position={"x": 5, "y": 5})
        reception.keyboard.press("/")
        expect(reception.locator("#search")).to_be_focused()
        reception.keyboard.press("ArrowDown")
        rows = reception.locator(".person")
        expect(rows.nth(0)).to_be_focused()
        reception.keyboard.press("ArrowDown")
        expect(rows.nth(1)).to_be_focused()
        reception.keyboard.press("ArrowUp")
        reception.keyboard.press("ArrowUp")
        expect(reception.locator("#search")).to_be_focused()
        reception.keyboard.press("ArrowDown")
        reception.keyboard.press("Enter")
        expect(reception.locator("#refer-dialog")).to_be_visible()
        reception.keyboard.press("Escape")
        expect(rows.nth(0)).to_be_focused()

        # Typing searches; emptying the search brings the overview back.
        reception.fill("#search", "Lena")
        expect(reception.locator("#overview-bar")).to_be_hidden()
        reception.fill("#search", "")
        expect(reception.locator("#overview-bar")).to_be_visible()
        expect(reception.locator(".group-head")).to_have_count(3)

        anna.click("#toggle")  # back: available again, for the tests that follow
        expect(card).to_have_attribute("data-state", "available")
    finally:
        reception_context.close()
        anna_context.close()

    phone = new_context(browser, served, mobile=True)
    try:
        reception = sign_in(phone, "reception", "/reception")
        expect(reception.locator(".group-head")).to_have_count(3)
        expect(reception.locator(".person").first).to_be_visible()
        wide = reception.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, f"the reception page is {wide} px wide at 390 px"
        reception.screenshot(path=artifacts / "reception-overview-mobile.png", full_page=True)
    finally:
        phone.close()


def test_a_bad_number_in_take_a_message_is_said_under_its_field(
    browser: Browser, served: Served, artifacts: Path
) -> None:
    context = new_context(browser, served)
    try:
        reception = sign_in(context, "reception", "/reception")
        reception.fill("#search", "Anna Berg")
        row = reception.locator(".person", has_text="Anna Berg")
        row.get_by_role("button", name="Ta meddelande").click()
        reception.fill("#message-caller-name", "Örjan Lind")
        reception.fill("#message-caller-number", "664")
        reception.fill("#message-text", "Ring tillbaka")
        reception.click("#message-submit")
        number = reception.locator("#message-caller-number")
        error = reception.locator("#message-number-error")
        expect(error).to_contain_text("Det ser inte ut som ett telefonnummer")
        expect(number).to_have_attribute("aria-invalid", "true")
        expect(number).to_be_focused()
        expect(reception.locator("#message-error")).to_be_hidden()
        reception.locator("#message-dialog").screenshot(
            path=artifacts / "reception-take-message-bad-number.png"
        )
        reception.keyboard.type("1")  # typing clears it
        expect(error).to_be_hidden()
    finally:
        context.close()
