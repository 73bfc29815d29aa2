"""The receptionist cancels someone's planned referral, in Swedish, in headless Chromium
(issue 16, "The receptionist").

Anna Berg has two plans (a holiday at Christmas, a course in January). The reception
sees both on her row, each with "Avboka"; cancelling asks first (Escape keeps the plan and
gives the focus back), then the plan goes from the row, the live region says so, focus
moves to the next plan's button, and the live feed's echo changes nothing. A plan someone
else cancelled meanwhile is refused in Swedish in the dialog. An account that may not
change Anna's presence sees her plans without a button. Screenshots at 1280×900 and
390×844 go to ``test-artifacts/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Served, new_context, page_api, sign_in
from tests.peers.tools import in_ci

if not in_ci():  # in CI a missing Playwright is an error, not a skip
    pytest.importorskip("playwright", reason="playwright is not installed (the test extra)")
from playwright.sync_api import Browser, Locator, Page, expect

LIVE = 2000
"""Milliseconds within which a change reaches an open screen (the feed, then one fetch)."""
HOLIDAY_WORDS = "Semester 21–28 december, tillbaka tisdag 29 december 08:00"
HOLIDAY = {
    "reason": "holiday",
    "starts": "2026-12-21T08:00:00+01:00",
    "until": "2026-12-29T08:00:00+01:00",
}
COURSE = {
    "reason": "training",
    "starts": "2027-01-11T08:00:00+01:00",
    "until": "2027-01-13T08:00:00+01:00",
}


def _anna(page: Page) -> Locator:
    page.fill("#search", "Anna Berg")
    # The search's answer, not the overview drawn before it (Anna is there too).
    expect(page.locator("#results-count")).to_have_text("Träffar: 1")
    row = page.locator(".person", has_text="Anna Berg")
    expect(row).to_have_count(1)
    return row


def _focused_action(page: Page) -> str | None:
    found: str | None = page.evaluate("() => document.activeElement?.dataset?.action ?? null")
    return found


def test_receptionist_cancels_a_planned_referral(
    browser: Browser, served: Served, artifacts: Path
) -> None:
    context = new_context(browser, served)
    anna_context = new_context(browser, served)
    try:
        page = sign_in(context, "reception", "/reception")
        page.set_viewport_size({"width": 1280, "height": 900})
        expect(page.locator("#live")).to_have_attribute("data-state", "live")
        row = _anna(page)
        person_id = row.get_attribute("data-person-id")
        base = f"/api/v1/people/{person_id}/plans"
        holiday = page_api(page, "POST", base, HOLIDAY)
        course = page_api(page, "POST", base, COURSE)
        assert holiday["status"] == 201, holiday
        assert course["status"] == 201, course
        holiday_id = holiday["json"]["plan"]["id"]
        course_id = course["json"]["plan"]["id"]

        items = row.locator(".planned-item")
        expect(items).to_have_count(2, timeout=LIVE)  # live: the feed brought both
        expect(items.first.locator(".planned-text")).to_have_text(f"Planerat: {HOLIDAY_WORDS}")
        cancel = row.get_by_role("button", name=f"Avboka {HOLIDAY_WORDS} för Anna Berg")
        expect(cancel).to_be_visible()
        expect(items.nth(1).get_by_role("button", name="Avboka")).to_be_visible()
        page.screenshot(path=artifacts / "reception-plan-cancel-desktop.png")

        # Asked first; Escape keeps the plan and gives the focus back to its button.
        cancel.click()
        dialog = page.locator("#plan-cancel-dialog")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("heading")).to_have_text("Avboka planerad frånvaro?")
        expect(page.locator("#plan-cancel-text")).to_have_text(
            f"Anna Berg: {HOLIDAY_WORDS}. Det som gäller nu påverkas inte."
        )
        expect(dialog.get_by_role("button", name="Behåll")).to_be_focused()
        page.screenshot(path=artifacts / "reception-plan-confirm-desktop.png")
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        expect(items).to_have_count(2)
        expect(cancel).to_be_focused()

        # Cancelled: gone from the row, said politely, focus on the next plan's button.
        cancel.press("Enter")
        dialog.get_by_role("button", name="Ja, avboka").click()
        expect(dialog).to_be_hidden()
        expect(items).to_have_count(1)
        expect(items.first).to_contain_text("Planerat: Utbildning")
        expect(page.locator("#announcer")).to_contain_text(
            f"Avbokat för Anna Berg: {HOLIDAY_WORDS}"
        )
        assert _focused_action(page) == f"cancel-plan-{course_id}"
        # The server agrees, and the live feed's echo leaves the row and the focus alone.
        listed = page_api(page, "GET", base)
        assert [p["id"] for p in listed["json"]["plans"]] == [course_id]
        page.wait_for_timeout(LIVE // 2)  # a deadline for the echo, then the same state
        expect(items).to_have_count(1)
        assert _focused_action(page) == f"cancel-plan-{course_id}"
        assert holiday_id not in (row.inner_html())

        # On the phone: someone else cancels the course while the dialog asks; refused in
        # Swedish, in the dialog, and nothing left to confirm.
        page.set_viewport_size({"width": 390, "height": 844})
        row.get_by_role("button", name="Avboka").click()
        expect(dialog).to_be_visible()
        gone = page_api(page, "DELETE", f"{base}/{course_id}")
        assert gone["status"] == 200
        dialog.get_by_role("button", name="Ja, avboka").click()
        error = page.locator("#plan-cancel-error")
        expect(error).to_have_text("Den planerade frånvaron finns inte längre. Ladda om sidan.")
        expect(dialog.get_by_role("button", name="Ja, avboka")).to_be_hidden()
        expect(dialog.get_by_role("button", name="Behåll")).to_be_focused()
        page.screenshot(path=artifacts / "reception-plan-refused-mobile.png")
        dialog.get_by_role("button", name="Behåll").click()
        expect(dialog).to_be_hidden()
        expect(items).to_have_count(0, timeout=LIVE)
        expect(row).to_be_focused()  # its button went with the plan: the row, not the page

        # Anna herself at the reception may not change others' presence: no button at all.
        again = page_api(page, "POST", base, HOLIDAY)
        assert again["status"] == 201
        expect(items).to_have_count(1, timeout=LIVE)
        page.screenshot(path=artifacts / "reception-plan-cancel-mobile.png")
        anna = sign_in(anna_context, "anna", "/me")
        anna.goto("/reception")
        anna_row = _anna(anna)
        expect(anna_row.locator(".planned-text")).to_have_text(f"Planerat: {HOLIDAY_WORDS}")
        expect(anna_row.locator(".plan-cancel")).to_have_count(0)
        expect(anna.locator("#plan-cancel-dialog")).to_have_count(0)
    finally:
        context.close()
        anna_context.close()
