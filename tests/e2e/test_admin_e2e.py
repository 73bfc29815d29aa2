"""The administration pages in headless Chromium against a real server (issue 5).

An administrator imports a directory file with one bad line, sees that line's error,
fixes the file and imports it. A manager (made with ``switchboard users add`` on the same
data directory) asks for one employee's call list; an administrator, in a second browser
context, approves it; the manager then sees the download. Screenshots of the import and
the call-list pages go to ``test-artifacts/``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from switchboard.settings.resources import bundled
from tests.e2e.conftest import Served, new_context, sign_in
from tests.peers.tools import in_ci

if not in_ci():  # in CI a missing Playwright is an error, not a skip
    pytest.importorskip("playwright", reason="playwright is not installed (the test extra)")
from playwright.sync_api import Browser, FilePayload, Page, expect

HEADER = (
    "name,number,mobile,email,unit,title,language,hide_mobile,secret_mobile,"
    "arrangement,hours,organisation\n"
)
GOOD = (
    "Nils Nordin,0523-664321,070-174 06 71,nils.nordin@sotenas.example,IT,Tekniker,sv,"
    "no,no,private,,\n"
    "Anna Berg,0523-664123,070-174 06 05,anna.berg@sotenas.example,Socialtjänsten,"
    "Enhetschef,sv,no,no,private,,\n"
)
BAD = "Petra Sand,0523-664322,,petra.sand@sotenas.example,IT,Tekniker,sv,kanske,no,private,,\n"
FIXED = BAD.replace("kanske", "no")
MANAGER = "chef"
MANAGER_PASSWORD = "granskning-av-jourschemat"  # noqa: S105 - a test account


def _choose(page: Page, name: str, text: str) -> None:
    payload: FilePayload = {"name": name, "mimeType": "text/csv", "buffer": text.encode()}
    page.set_input_files("#import-file", files=[payload])
    page.click("#import-check")


def test_admin_imports_after_fixing_the_bad_line(
    browser: Browser, served: Served, artifacts: Path
) -> None:
    context = new_context(browser, served)
    try:
        admin = sign_in(context, "admin", "/reception")
        admin.click(".mainnav a[href='/admin']")
        admin.wait_for_url("**/admin")
        admin.click("#card-import")
        admin.wait_for_url("**/admin/import")

        _choose(admin, "personal.csv", HEADER + GOOD + BAD)
        errors = admin.locator("#import-errors tbody tr")
        expect(errors).to_have_count(1)
        expect(errors.first.locator("td").nth(0)).to_have_text("4")
        expect(errors.first.locator("td").nth(1)).to_have_text("hide_mobile")
        expect(admin.locator("#import-errors-title")).to_contain_text("inget importerades")
        admin.screenshot(path=artifacts / "admin-import-errors.png", full_page=True)

        _choose(admin, "personal.csv", HEADER + GOOD + FIXED)
        changes = admin.locator("#import-changes")
        expect(changes).to_contain_text("Nils Nordin")
        expect(changes).to_contain_text("Petra Sand")
        expect(changes.locator("tr", has_text="Anna Berg")).to_contain_text("title")
        admin.screenshot(path=artifacts / "admin-import.png", full_page=True)

        admin.click("#import-commit")
        expect(admin.locator("#import-done")).to_contain_text("2 nya, 1 ändrade")
        admin.goto("/reception")
        admin.fill("#search", "Petra Sand")
        expect(admin.locator(".person", has_text="Petra Sand")).to_have_count(1)
    finally:
        context.close()


def _add_manager(served: Served) -> None:
    """A manager of Anna's unit, added beside the running server (same SQLite store)."""
    data = served.log.parent / "data"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "switchboard",
            "--config",
            str(bundled("configs/sml.toml")),
            "--data",
            str(data),
            "users",
            "add",
            MANAGER,
            "--role",
            "manager",
            "--manages",
            "sotenas/Socialtjänsten",
            "--name",
            "Karin Chef",
            "--password-stdin",
        ],
        input=MANAGER_PASSWORD + "\n",
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_manager_asks_and_an_admin_approves_in_another_browser(
    browser: Browser, served: Served, artifacts: Path
) -> None:
    _add_manager(served)
    manager_context = new_context(browser, served)
    admin_context = new_context(browser, served)
    try:
        manager = manager_context.new_page()
        manager.goto("/signin?next=/admin/call-lists")
        manager.fill("#username", MANAGER)
        manager.fill("#password", MANAGER_PASSWORD)
        manager.click("#signin-submit")
        # (A glob would match the sign-in page's own URL, ?next=/admin/call-lists.)
        manager.wait_for_url(lambda url: urlsplit(url).path == "/admin/call-lists")
        # Only the call lists: the other sections are not the manager's.
        expect(manager.locator(".admin-tabs a")).to_have_count(2)
        manager.select_option("#ask-person", label="Anna Berg · Socialtjänsten")
        manager.fill("#ask-reason", "Genomgång av jourschemat i hemtjänsten")
        manager.click("#ask-submit")
        request = manager.locator(".request", has_text="Anna Berg")
        expect(request).to_have_attribute("data-status", "pending")
        expect(request.locator(".decide-form")).to_have_count(0)

        admin = sign_in(admin_context, "admin", "/reception")
        admin.goto("/admin/call-lists")
        pending = admin.locator(".request", has_text="Anna Berg")
        expect(pending).to_have_attribute("data-status", "pending")
        expect(pending).to_contain_text("Genomgång av jourschemat")
        pending.locator("input[name=comment]").fill("Godkänd enligt HR-beslut 2026-11")
        admin.screenshot(path=artifacts / "admin-call-lists.png", full_page=True)
        pending.get_by_role("button", name="Godkänn").click()
        expect(pending).to_have_attribute("data-status", "approved")
        expect(pending).to_contain_text("Godkänd enligt HR-beslut")
        expect(pending.locator(".request-download")).to_have_count(0)

        manager.reload()
        download = request.get_by_role("link", name="Ladda ner CSV")
        expect(download).to_be_visible()
        expect(request).to_contain_text("3 nedladdningar kvar")
        manager.screenshot(path=artifacts / "admin-call-lists-manager.png", full_page=True)
    finally:
        manager_context.close()
        admin_context.close()
