"""A real ``switchboard serve`` (demo directory and demo accounts, the clock at a Monday
10:00) and headless Chromium driven by Playwright (PEERS.md, Chromium).

Chromium is Debian's ``/usr/bin/chromium``; Playwright never downloads a browser here
(``PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD``; ``playwright install`` is never run). Each browser
context is a fresh profile: ``launch()`` starts Chromium on a new temporary user-data-dir
and removes it afterwards. Missing Chromium or Playwright skips locally and fails in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from switchboard.cli.demo_accounts import DEMO_ACCOUNTS
from switchboard.settings.resources import bundled
from tests.peers.tools import missing

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize

MONDAY_10 = "2026-11-23T10:00:00+01:00"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A fake microphone (a beeping tone) that needs no permission prompt: the greeting
    # recorder of the employee's page (tests/e2e/test_voicemail_e2e.py).
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEMO_PASSWORDS = {d.username: d.password for d in DEMO_ACCOUNTS}
"""The demo's public passwords (``switchboard demo`` prints them)."""
DESKTOP: ViewportSize = {"width": 1360, "height": 860}
MOBILE: ViewportSize = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Served:
    url: str
    log: Path
    data: Path
    """The data directory (SQLite store, voicemail spool): tests may seed it as a second
    process, like ``switchboard users`` does."""
    sip: str = ""
    """host:port of SIP (media on): callers from ``CALLER_HOST`` need no digest."""


CALLER_HOST = "127.0.0.1"
"""Where the e2e tests' SIP callers (baresip binds 127.0.0.1) send from: trusted, like a
trunk, so they need no digest."""


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    return env | {"PYTHONUNBUFFERED": "1", "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}


@contextmanager
def serve_demo(folder: Path, config: Path, *serve_args: str) -> Iterator[Served]:
    """``switchboard demo`` to seed ``folder``, then ``serve`` on free ports until the end
    of the block (``serve_args``: more options for serve)."""
    base = [sys.executable, "-m", "switchboard", "--config", str(config)]
    base += ["--data", str(folder / "data"), "--now", MONDAY_10]
    subprocess.run(
        [*base, "demo", "--force", "--seed-only"],
        check=True,
        capture_output=True,
        env=_environment(),
        timeout=120,
    )
    log = folder / "serve.log"
    listen = ["--sip-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"]
    with log.open("w", encoding="utf-8") as err:
        process = subprocess.Popen(
            [*base, "serve", *listen, *serve_args],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=_environment(),
        )
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
        if not line:
            process.wait(10)
            raise RuntimeError(f"switchboard did not start:\n{log.read_text()}")
        ready = json.loads(line)["ready"]
        yield Served(f"http://{ready['http']}", log, folder / "data", ready["sip"])
    finally:
        process.terminate()
        try:
            process.wait(15)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(5)
            process.stdout.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``switchboard demo`` to seed, then ``serve --http-listen 127.0.0.1:0``."""
    folder = tmp_path_factory.mktemp("e2e")
    config = bundled("configs/sml.toml")
    with serve_demo(folder, config, "--trusted", f"{CALLER_HOST}/32") as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        missing("chromium not found (Debian package chromium, see .ci/run)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install -e '.[test]')")
        raise
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    executable = CHROMIUM if os.path.exists(CHROMIUM) else str(shutil.which("chromium"))
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def new_context(
    browser: Browser, served: Served, *, locale: str = "sv-SE", mobile: bool = False
) -> BrowserContext:
    context = browser.new_context(
        base_url=served.url,
        locale=locale,
        timezone_id="Europe/Stockholm",
        viewport=MOBILE if mobile else DESKTOP,
        device_scale_factor=2 if mobile else 1,
        is_mobile=mobile,
        has_touch=mobile,
    )
    context.set_default_timeout(10_000)
    return context


def sign_in(context: BrowserContext, username: str, lands_on: str) -> Page:
    page = context.new_page()
    page.goto("/signin")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORDS[username])
    page.click("#signin-submit")
    page.wait_for_url(f"**{lands_on}")
    return page


def made_available(page: Page) -> Locator:
    """The employee's page loaded and its owner available (the demo sends Anna to lunch;
    another test may have left her away): its status card."""
    from playwright.sync_api import expect

    card = page.locator("#status-card")
    expect(card).not_to_have_attribute("data-state", "loading")
    if card.get_attribute("data-state") != "available":
        page.click("#toggle")
        expect(card).to_have_attribute("data-state", "available")
    return card


def page_api(page: Page, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    """The JSON API as the signed-in page itself calls it (its session and CSRF token):
    ``{"status": ..., "json": ...}``. For seeding what a test needs, as another screen would."""
    return page.evaluate(
        """async ([method, url, body]) => {
          const csrf = JSON.parse(document.getElementById("page-data").textContent).csrf;
          const response = await fetch(url, {
            method, credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
            body: body === null ? undefined : JSON.stringify(body),
          });
          return { status: response.status, json: await response.json() };
        }""",
        [method, url, body],
    )
