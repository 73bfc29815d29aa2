"""The receptionist's screen follows a write made by another process (issue 14).

A receptionist has Johan Ek on screen; an administrator sets his referral with the CLI, a
separate process on the same store. The running server follows the store's change feed and
the open screen shows the meeting within half a second of the CLI's commit, without a
reload; a directory import from the CLI reaches the search the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from switchboard.settings.resources import bundled
from tests.e2e.conftest import MONDAY_10, Served, new_context, sign_in
from tests.peers.tools import in_ci

if not in_ci():  # in CI a missing Playwright is an error, not a skip
    pytest.importorskip("playwright", reason="playwright is not installed (the test extra)")
from playwright.sync_api import Browser, expect

PROPAGATION = 500
"""Milliseconds from the CLI's commit to the screen (the issue's target)."""


def _cli(served: Served, *args: str) -> float:
    """Run ``switchboard ARGS`` on the served store; the monotonic time it exited."""
    command = [sys.executable, "-m", "switchboard", "--config", str(bundled("configs/sml.toml"))]
    command += ["--data", str(served.data), "--now", MONDAY_10, *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return time.monotonic()


def test_a_referral_set_from_the_cli_reaches_the_open_screen(
    browser: Browser, served: Served
) -> None:
    context = new_context(browser, served)
    try:
        page = sign_in(context, "reception", "/reception")
        expect(page.locator("#live")).to_have_attribute("data-state", "live")
        page.fill("#search", "Johan Ek")
        row = page.locator(".person", has_text="Johan Ek")
        expect(row).to_have_count(1)
        before = row.get_attribute("data-state")
        assert before in ("available", "open")  # the demo gives him an open referral
        page.evaluate("window.__notReloaded = true")

        exited = _cli(served, "presence", "set", "51234", "--reason", "meeting", "--until", "15:00")
        expect(row).to_have_attribute("data-state", "away", timeout=PROPAGATION)
        took = time.monotonic() - exited
        expect(row.locator(".status-text")).to_contain_text("15:00")
        assert page.evaluate("window.__notReloaded") is True
        assert took < PROPAGATION / 1000 + 0.2, f"{took:.3f} s"  # the wait plus one poll

        exited = _cli(served, "presence", "clear", "51234")
        expect(row).to_have_attribute("data-state", "available", timeout=PROPAGATION)
        expect(row.locator(".status-text")).not_to_contain_text("15:00")
    finally:
        context.close()


def test_a_person_imported_from_the_cli_can_be_found_at_once(
    browser: Browser, served: Served, tmp_path: Path
) -> None:
    context = new_context(browser, served)
    try:
        page = sign_in(context, "reception", "/reception")
        demo = bundled("configs/demo/sml-people.csv").read_text(encoding="utf-8")
        csv = tmp_path / "people.csv"
        newcomer = "Nora Vik,0523-664555,070-174 06 99,nora.vik@sotenas.example,Kultur,"
        csv.write_text(demo + newcomer + "Bibliotekarie,sv,no,no,private,,sotenas\n", "utf-8")
        _cli(served, "directory", "import", str(csv))
        time.sleep(PROPAGATION / 1000)
        page.fill("#search", "Nora Vik")
        expect(page.locator(".person", has_text="Nora Vik")).to_have_count(1)
    finally:
        context.close()


def test_a_plan_made_and_cancelled_from_the_cli_reaches_the_open_row(
    browser: Browser, served: Served
) -> None:
    """Issue 16: an administrator plans Johan's holiday with the CLI while ``serve`` runs;
    the receptionist's open row shows the plan beside his current status, and loses it
    when the CLI cancels it, without a reload."""
    context = new_context(browser, served)
    try:
        page = sign_in(context, "reception", "/reception")
        expect(page.locator("#live")).to_have_attribute("data-state", "live")
        page.fill("#search", "Johan Ek")
        row = page.locator(".person", has_text="Johan Ek")
        expect(row).to_have_count(1)
        state = row.get_attribute("data-state")
        planned = row.locator(".planned-text")
        page.evaluate("window.__notReloaded = true")

        plan = ("--from", "2026-12-21T08:00", "--until", "2026-12-29T08:00")
        _cli(served, "presence", "plan", "51234", "--reason", "holiday", *plan)
        expect(planned).to_have_text(
            "Planerat: Semester 21–28 december, tillbaka tisdag 29 december 08:00",
            timeout=PROPAGATION,
        )
        assert row.get_attribute("data-state") == state  # the current status stays

        listed = subprocess.run(
            [
                sys.executable,
                "-m",
                "switchboard",
                "--config",
                str(bundled("configs/sml.toml")),
                "--data",
                str(served.data),
                "--now",
                MONDAY_10,
                "presence",
                "plans",
                "51234",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")},
        )
        [entry] = json.loads(listed.stdout)
        plan_id = str(entry["id"])
        _cli(served, "presence", "cancel", "51234", plan_id)
        expect(planned).to_be_hidden(timeout=PROPAGATION)
        assert page.evaluate("window.__notReloaded") is True
    finally:
        context.close()
