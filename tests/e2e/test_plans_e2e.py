"""Planning next month's holiday while at lunch today, in Swedish, in headless Chromium
(issue 16, "The employee").

Anna is at lunch (the demo's Monday 10:00). She plans a holiday from 21 December: lunch
stays her current status, the plan is listed under "Planerat" with its dates in words, an
overlapping second plan is refused naming the first one's dates, the reception sees the
plan on her row, and she cancels it. Screenshots at 1280×900 and 390×844 go to
``test-artifacts/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Served, new_context, sign_in
from tests.peers.tools import in_ci

if not in_ci():  # in CI a missing Playwright is an error, not a skip
    pytest.importorskip("playwright", reason="playwright is not installed (the test extra)")
from playwright.sync_api import Browser, Page, expect

LIVE = 2000
"""Milliseconds within which a change reaches an open screen (the feed, then one fetch)."""
HOLIDAY_WORDS = "Semester 21–28 december, tillbaka tisdag 29 december 08:00"


def _plan(anna: Page, starts: str, until: str) -> None:
    anna.get_by_role("button", name="Planera frånvaro").click()
    expect(anna.locator("#me-picker-title")).to_have_text("Planera frånvaro")
    expect(anna.locator("#me-picker-starts-date")).to_be_focused()
    anna.get_by_role("button", name="Semester till…").click()
    anna.fill("#me-picker-starts-date", starts)
    anna.fill("#me-picker-starts-time", "08:00")
    anna.fill("#me-picker-until-date", until)
    anna.fill("#me-picker-until-time", "08:00")
    anna.get_by_role("button", name="Planera", exact=True).click()


def test_employee_plans_next_months_holiday_while_at_lunch(
    browser: Browser, served: Served, artifacts: Path
) -> None:
    anna_context = new_context(browser, served)
    reception_context = new_context(browser, served)
    try:
        anna = sign_in(anna_context, "anna", "/me")
        anna.set_viewport_size({"width": 1280, "height": 900})
        card = anna.locator("#status-card")
        detail = anna.locator("#status-detail")
        expect(card).to_have_attribute("data-state", "away")
        expect(detail).to_contain_text("Lunch")
        expect(anna.locator("#plans-empty")).to_be_visible()

        _plan(anna, "2026-12-21", "2026-12-29")
        plans = anna.locator("#plans-list .plan-entry")
        expect(plans).to_have_count(1)
        expect(plans).to_have_text(f"{HOLIDAY_WORDS}Avboka")
        expect(anna.locator("#me-toast")).to_have_text(f"Planerat: {HOLIDAY_WORDS}")
        expect(anna.locator("#picker-card")).to_be_hidden()
        # Planning wiped nothing: still at lunch, back at 10:45.
        expect(card).to_have_attribute("data-state", "away")
        expect(detail).to_contain_text("Lunch")
        expect(detail).to_contain_text("10:45")
        expect(anna.locator("#plans-empty")).to_be_hidden()

        # A second holiday over Christmas overlaps: refused, naming the first one's dates.
        _plan(anna, "2026-12-24", "2027-01-04")
        # Said on the start it concerns (the refusal names its field), in Swedish.
        error = anna.locator("#me-picker .form-error", has_text=f"Krockar med: {HOLIDAY_WORDS}")
        expect(error).to_be_visible()
        described = anna.locator("#me-picker-starts-date").get_attribute("aria-describedby") or ""
        assert error.get_attribute("id") in described.split()
        expect(anna.locator("#me-picker-starts-date")).to_have_attribute("aria-invalid", "true")
        expect(plans).to_have_count(1)
        anna.locator("#me-picker [data-cancel]").click()
        anna.screenshot(path=artifacts / "me-plans-desktop.png", full_page=True)

        # The reception sees the plan on Anna's row.
        reception = sign_in(reception_context, "reception", "/reception")
        reception.set_viewport_size({"width": 1280, "height": 900})
        reception.fill("#search", "Anna Berg")
        row = reception.locator(".person", has_text="Anna Berg")
        expect(row).to_have_count(1)
        expect(row.locator(".planned-text")).to_have_text(f"Planerat: {HOLIDAY_WORDS}")
        reception.screenshot(path=artifacts / "reception-plans-desktop.png")

        anna.set_viewport_size({"width": 390, "height": 844})
        anna.locator("#plans-card").scroll_into_view_if_needed()
        anna.screenshot(path=artifacts / "me-plans-mobile.png", full_page=True)

        # Cancel it: gone from the list and, live, from the reception's row; lunch stays.
        plans.get_by_role("button", name=f"Avboka {HOLIDAY_WORDS}").click()
        expect(plans).to_have_count(0)
        expect(anna.locator("#me-toast")).to_have_text(f"Avbokat: {HOLIDAY_WORDS}")
        expect(anna.locator("#plans-empty")).to_be_visible()
        expect(detail).to_contain_text("Lunch")
        expect(row.locator(".planned-text")).to_be_hidden(timeout=LIVE)
    finally:
        anna_context.close()
        reception_context.close()
