"""Quick choices fill sensible times, and a refusal is said in Swedish on its field (issue 16,
"The employee"), in headless Chromium against a real ``switchboard serve`` at a Monday 10:00.

"På möte till…" used to leave the time empty, so saving sent midnight and the server's
English "the return time must be after the referral starts" appeared in a Swedish page.
Now it fills an hour from now rounded up to the quarter and saves at once; "Gått för dagen"
fills the next working day's start; a return time in the past typed by hand is refused by
the server and the page says so in Swedish under the return time, the inputs marked
invalid and described by the message (WCAG 3.3.1), the cursor back in the time. The
administrator's exception form does the same in Norwegian.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Served, made_available, new_context, sign_in
from tests.peers.tools import in_ci

if not in_ci():  # in CI a missing Playwright is an error, not a skip
    pytest.importorskip("playwright", reason="playwright is not installed (the test extra)")
from playwright.sync_api import Browser, Page, Route, expect

TODAY = "2026-11-23"  # the served clock's Monday
ENGLISH = "the return time must be after the referral starts"


@pytest.fixture
def anna(browser: Browser, served: Served) -> Iterator[Page]:
    """Anna on her page, available, with the referral picker open."""
    context = new_context(browser, served)
    try:
        page = sign_in(context, "anna", "/me")
        made_available(page)  # the demo sends her to lunch
        page.click("#toggle")
        expect(page.locator("#picker-card")).to_be_visible()
        yield page
    finally:
        context.close()


def test_in_a_meeting_until_fills_the_time_and_saves_at_once(anna: Page) -> None:
    anna.get_by_role("button", name="På möte till…").click()
    expect(anna.locator("#me-picker-reason")).to_have_value("meeting")
    expect(anna.locator("#me-picker-until-date")).to_have_value(TODAY)
    # 10:00 and some seconds (the served clock runs on) + 1 h, rounded up to the quarter.
    expect(anna.locator("#me-picker-until-time")).to_have_value(re.compile(r"^11:(00|15)$"))
    until = anna.locator("#me-picker-until-time").input_value()
    expect(anna.locator("#me-picker-until-time")).to_be_focused()  # to adjust, if need be
    anna.get_by_role("button", name="Sätt borta").click()
    expect(anna.locator("#picker-card")).to_be_hidden()
    expect(anna.locator("#status-card")).to_have_attribute("data-state", "away")
    expect(anna.locator("#status-detail")).to_contain_text(f"Möte, tillbaka {until}")
    expect(anna.locator("body")).not_to_contain_text(ENGLISH)


def test_gone_for_the_day_fills_the_next_working_days_start(anna: Page) -> None:
    anna.get_by_role("button", name="Gått för dagen").click()
    expect(anna.locator("#me-picker-reason")).to_have_value("gone_for_the_day")
    expect(anna.locator("#me-picker-until-date")).to_have_value("2026-11-24")
    expect(anna.locator("#me-picker-until-time")).not_to_have_value("")
    anna.get_by_role("button", name="Sätt borta").click()
    expect(anna.locator("#status-card")).to_have_attribute("data-state", "away")
    expect(anna.locator("#status-detail")).to_contain_text("tillbaka i morgon")


def test_a_return_time_in_the_past_is_refused_in_swedish_on_the_field(
    anna: Page, artifacts: Path
) -> None:
    anna.get_by_role("button", name="Sätt borta").click()  # no reason: said on the reason
    expect(anna.locator("#me-picker-reason-error")).to_have_text("Välj en orsak.")
    expect(anna.locator("#me-picker-reason")).to_have_attribute("aria-invalid", "true")
    expect(anna.locator("#me-picker-reason")).to_be_focused()
    anna.select_option("#me-picker-reason", "meeting")
    expect(anna.locator("#me-picker-reason-error")).to_be_hidden()
    anna.fill("#me-picker-until-date", TODAY)
    anna.fill("#me-picker-until-time", "09:00")  # an hour ago
    anna.get_by_role("button", name="Sätt borta").click()

    error = anna.locator("#me-picker-until-error")
    expect(error).to_be_visible()
    expect(error).to_have_text(
        "Tiden för tillbaka måste vara senare än när hänvisningen börjar "
        "(nu, om du inte planerar i förväg)."
    )
    for field in ("#me-picker-until-date", "#me-picker-until-time"):
        expect(anna.locator(field)).to_have_attribute("aria-invalid", "true")
        expect(anna.locator(field)).to_have_attribute(
            "aria-describedby", re.compile(r"\bme-picker-until-error\b")
        )
    expect(anna.locator("#me-picker-until-time")).to_be_focused()
    expect(anna.locator("#me-picker .form-error:not(.field-error)")).to_be_hidden()
    expect(anna.locator("body")).not_to_contain_text(ENGLISH)
    expect(anna.locator("#status-card")).to_have_attribute("data-state", "available")
    anna.locator("#picker-card").screenshot(path=artifacts / "me-refused-on-field.png")

    anna.fill("#me-picker-until-time", "15:00")  # corrected: the message goes
    expect(error).to_be_hidden()
    expect(anna.locator("#me-picker-until-time")).not_to_have_attribute("aria-invalid", "true")
    anna.get_by_role("button", name="Sätt borta").click()
    expect(anna.locator("#status-card")).to_have_attribute("data-state", "away")
    expect(anna.locator("#status-detail")).to_contain_text("tillbaka 15:00")


def test_a_refusal_without_a_field_is_said_above_the_buttons_never_in_english(
    anna: Page,
) -> None:
    """A refusal naming no field goes above the buttons, worded from its code; one with a
    code the page does not know reads as the generic sentence, not the server's English.
    The answers are made in the browser (``route``): the server has no such refusal here."""
    answers = [
        (
            '{"error": {"status": 503, "message": "The switchboard is busy", '
            '"code": "unavailable"}}',
            503,
        ),
        (
            '{"error": {"status": 409, "message": "Some new English refusal", '
            '"code": "no_such_code_yet"}}',
            409,
        ),
    ]

    def refuse(route: Route) -> None:
        body, status = answers.pop(0)
        route.fulfill(status=status, content_type="application/json", body=body)

    anna.route(
        "**/availability",
        lambda route: refuse(route) if route.request.method == "PUT" else route.continue_(),
    )
    general = anna.locator("#me-picker .form-error:not(.field-error)")
    anna.get_by_role("button", name="Gått för dagen").click()
    anna.get_by_role("button", name="Sätt borta").click()
    expect(general).to_have_text(
        "Kunde inte spara: Växeln är upptagen eller når inte sin lagring just nu. "
        "Försök igen om en stund."
    )
    expect(anna.locator("#me-picker-reason-error")).to_be_hidden()
    anna.get_by_role("button", name="Sätt borta").click()
    expect(general).to_contain_text("Något gick fel (409)")
    expect(anna.locator("body")).not_to_contain_text("English refusal")
    expect(anna.locator("body")).not_to_contain_text("The switchboard is busy")


def test_a_policy_refusal_is_said_in_norwegian_under_its_field(
    browser: Browser, served: Served
) -> None:
    """The administrator's exception form (R16) in Norwegian: a person nobody in the
    directory is, and a reason holding a secret mobile (R18), are refused by the server and
    said under their fields, not above the button. The person is typed, not chosen from a
    list of everyone."""
    context = new_context(browser, served, locale="nb-NO")
    try:
        admin = sign_in(context, "admin", "/reception")
        admin.goto("/admin/policy?lang=nb")
        expect(admin.locator("html")).to_have_attribute("lang", "nb")
        subject = admin.locator("#grant-subject")
        subject_error = admin.locator("#grant-subject-error")
        admin.click("#grant-form button[type=submit]")  # nobody typed: said on the person
        expect(subject_error).to_have_text(
            "Skriv hvem unntaket gjelder: internnummer, telefonnummer eller e-postadresse."
        )
        expect(subject).to_have_attribute("aria-invalid", "true")
        # Someone the directory does not have: the server refuses, said on the person.
        subject.fill("nobody@example.invalid")
        expect(subject_error).to_be_hidden()
        admin.fill("#grant-reason", "Avtalt med leder")
        admin.click("#grant-form button[type=submit]")
        expect(subject_error).to_have_text(
            "Ingen i katalogen har det internnummeret, telefonnummeret eller e-postadressen."
        )
        expect(subject).to_be_focused()
        expect(subject).to_have_attribute(
            "aria-describedby", "grant-subject-hint grant-subject-error"
        )
        expect(admin.locator("#grant-error")).to_be_hidden()
        # Anna by her extension, as the form's hint asks; a name typed offers her too.
        subject.fill("Anna Be")
        expect(admin.locator("#grant-subject-people option")).not_to_have_count(0)
        subject.fill("64123")
        expect(subject_error).to_be_hidden()
        admin.fill("#grant-reason", "Avtalt med leder, ring 070-174 06 23")
        admin.click("#grant-form button[type=submit]")
        error = admin.locator("#grant-reason-error")
        expect(error).to_have_text(
            "Begrunnelsen inneholder et nummer som er hemmelig (R18). Skriv uten nummeret."
        )
        reason = admin.locator("#grant-reason")
        expect(reason).to_be_focused()
        expect(reason).to_have_attribute("aria-invalid", "true")
        expect(reason).to_have_attribute("aria-describedby", "grant-reason-hint grant-reason-error")
        expect(admin.locator("#grant-error")).to_be_hidden()
    finally:
        context.close()
