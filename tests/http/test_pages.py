"""The web pages over aiohttp's test client: where each role lands, the language choice,
what the pages may contain (no inline script or style for the CSP, no secret number, R18),
static files with cache busting, and the three translation catalogs kept in step."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from switchboard.accounts.model import Role
from switchboard.http.app import build_app
from switchboard.http.context import SIGN_IN_PROVIDER, SignInProvider
from switchboard.http.web_kit import LONG_CACHE, REVALIDATE, WEB, load_web_kit, pick_language
from switchboard.routing.model import TargetKind
from switchboard.settings.http import HttpSettings
from switchboard.settings.resources import bundled
from tests.http.conftest import SECRET_EXT, SECRET_MOBILE, Env, open_seeded

HTML = {"Accept": "text/html"}


def _page_data(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert found is not None
    data = json.loads(found.group(1))
    assert isinstance(data, dict)
    return data


def _lang(html: str) -> str:
    found = re.search(r'<html lang="([a-z]+)">', html)
    assert found is not None
    return found.group(1)


# -- the translation catalogs ------------------------------------------------------------


def _catalog(language: str) -> dict[str, str]:
    data = json.loads((bundled("web/i18n") / f"{language}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_three_catalogs_have_the_same_keys_and_no_empty_text() -> None:
    catalogs = {language: _catalog(language) for language in ("sv", "nb", "en")}
    keys = set(catalogs["en"])
    for language, catalog in catalogs.items():
        assert set(catalog) == keys, f"{language}: {sorted(set(catalog) ^ keys)}"
        empty = [k for k, v in catalog.items() if not v.strip()]
        assert not empty, f"{language} has empty texts: {empty}"
    assert catalogs["sv"]["status.away"] != catalogs["en"]["status.away"]


@pytest.mark.parametrize("language", ["sv", "nb", "en"])
def test_every_ring_target_kind_has_words(language: str) -> None:
    """me.js shows ``preview.target.<kind>`` for each target a ring decision names (issue 16:
    "Ringer: preview.target.devices, mobil")."""
    catalog = _catalog(language)
    for kind in TargetKind:
        assert catalog.get(f"preview.target.{kind.value}"), kind


def _used_keys(folder: Path, suffix: str) -> set[str]:
    """Literal keys of ``t("...")`` calls; a key ending in "." is a prefix completed at run
    time (``t(`reason.${r}`)``, ``t("lang." ~ code)``)."""
    pattern = re.compile(r"""\bt\(\s*(["'`])([a-z0-9_.]+)(?:\1|\$\{)""")
    used: set[str] = set()
    for path in folder.glob(f"*.{suffix}"):
        used |= {m.group(2) for m in pattern.finditer(path.read_text(encoding="utf-8"))}
    return used


def test_every_key_the_templates_and_scripts_use_is_translated() -> None:
    # The served catalogs: the files plus the referral reasons from presence.labels.
    catalogs = load_web_kit().catalogs
    keys = set(catalogs["en"])
    assert set(catalogs["sv"]) == set(catalogs["nb"]) == keys
    templates = _used_keys(bundled("web/templates"), "html")
    scripts = _used_keys(bundled("web/static"), "js")
    assert len(templates) > 50
    assert len(scripts) > 30
    used = templates | scripts
    missing = {k for k in used if not k.endswith(".") and k not in keys}
    missing |= {k for k in used if k.endswith(".") and not any(x.startswith(k) for x in keys)}
    assert sorted(missing) == []


@pytest.mark.parametrize(
    ("asked", "cookie", "person", "accept", "expected"),
    [
        (None, None, None, None, "sv"),
        ("en", "nb", "sv", "sv", "en"),
        (None, "nb", "en", "en", "nb"),
        (None, None, "en", "nb", "en"),
        (None, None, None, "de-DE,nn;q=0.8,en;q=0.5", "nb"),
        (None, None, None, "en-US,en;q=0.9,sv;q=0.8", "en"),
        (None, None, None, "sv;q=0.2,en;q=0.7", "en"),
        (None, None, None, "fr, *;q=0.5", "sv"),
        ("xx", "yy", None, None, "sv"),
    ],
    ids=["default", "query", "cookie", "person", "no-nn", "en", "q-values", "unknown", "junk"],
)
def test_pick_language(
    asked: str | None, cookie: str | None, person: str | None, accept: str | None, expected: str
) -> None:
    assert pick_language(asked, cookie, person, accept, "sv") == expected


# -- where each role lands ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "location"),
    [("anonymous", "/signin"), ("employee", "/me"), ("receptionist", "/reception")],
)
async def test_root_sends_each_role_to_its_page(env: Env, who: str, location: str) -> None:
    response = await env.client.get("/", headers=env.headers[who] | HTML, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == location


@pytest.mark.parametrize("path", ["/me", "/reception"])
async def test_pages_send_the_anonymous_to_sign_in_and_back(env: Env, path: str) -> None:
    response = await env.client.get(path, headers=HTML, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == f"/signin?next={path}"


async def test_an_account_that_is_nobody_in_the_directory_works_at_the_reception(
    env: Env,
) -> None:
    response = await env.client.get(
        "/me", headers=env.headers["admin"] | HTML, allow_redirects=False
    )
    assert response.status == 302
    assert response.headers["Location"] == "/reception"


# -- the pages themselves ----------------------------------------------------------------


async def test_signin_page_is_swedish_by_default_and_posts_to_signin(env: Env) -> None:
    response = await env.client.get("/signin?next=//evil.example/x")
    assert response.status == 200
    html = await response.text()
    assert _lang(html) == "sv"
    assert "Logga in" in html
    assert 'action="/signin"' in html
    assert _page_data(html)["next"] == "/"  # no open redirect after sign-in


async def test_language_from_accept_language_then_from_the_query_kept_in_a_cookie(
    env: Env,
) -> None:
    norwegian = await env.client.get("/signin", headers={"Accept-Language": "nb-NO,nb;q=0.9"})
    assert _lang(await norwegian.text()) == "nb"
    english = await env.client.get("/signin?lang=en", headers={"Accept-Language": "nb"})
    html = await english.text()
    assert _lang(html) == "en"
    assert "Sign in" in html
    assert english.cookies["sb_lang"].value == "en"
    again = await env.client.get("/signin", headers={"Accept-Language": "nb"})
    assert _lang(await again.text()) == "en"  # the cookie jar sent the choice back


async def test_employee_page_shows_the_person_hours_numbers_and_templates(env: Env) -> None:
    response = await env.client.get("/me", headers=env.headers["employee"] | HTML)
    assert response.status == 200
    html = await response.text()
    data = _page_data(html)
    anna = env.person("64123")
    assert data["person_id"] == anna.person_id
    assert data["csrf"] == env.headers["employee"]["X-CSRF-Token"]
    assert data["preview"] is True
    assert anna.name in html
    assert "Arbetstid" in html
    assert "mån–fre" in html
    assert "08:00–16:30" in html
    assert "Inte ansluten" in html  # no calendar source covers her
    assert 'role="switch"' in html
    assert response.headers["Cache-Control"] == "no-store"


async def test_reception_page_knows_whether_the_account_may_set_referrals(env: Env) -> None:
    reception = await env.client.get("/reception", headers=env.headers["receptionist"] | HTML)
    assert reception.status == 200
    assert _page_data(await reception.text())["may_write"] is True
    employee = await env.client.get("/reception", headers=env.headers["employee"] | HTML)
    assert employee.status == 200
    assert _page_data(await employee.text())["may_write"] is False


async def test_reception_page_has_the_plan_cancel_dialog_only_for_those_who_may_use_it(
    env: Env,
) -> None:
    """Issue 16: cancelling a plan on someone's behalf asks WRITE_PRESENCE for anyone, as the
    DELETE does; an employee at the reception gets no dialog (and reception_plans.js no
    buttons: it reads the same ``may_write``)."""
    reception = await env.client.get("/reception", headers=env.headers["receptionist"] | HTML)
    html = await reception.text()
    assert 'id="plan-cancel-dialog"' in html
    assert "Avboka planerad frånvaro?" in html
    employee = await env.client.get("/reception", headers=env.headers["employee"] | HTML)
    assert 'id="plan-cancel-dialog"' not in await employee.text()


@pytest.mark.parametrize("who", ["anonymous", "employee", "receptionist"])
async def test_pages_carry_no_inline_script_or_style(env: Env, who: str) -> None:
    path = {"anonymous": "/signin", "employee": "/me", "receptionist": "/reception"}[who]
    response = await env.client.get(path, headers=env.headers[who] | HTML)
    html = await response.text()
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers either
    assert "<style" not in html


async def test_a_secret_mobile_is_masked_even_on_its_owners_page(env: Env) -> None:
    await env.accounts.add_account("t.fatima", None, {Role.EMPLOYEE}, SECRET_EXT, None, "test")
    headers = await env.session_headers("t.fatima")
    html = await (await env.client.get("/me", headers=headers | HTML)).text()
    digits = SECRET_MOBILE[1:]
    assert digits not in re.sub(r"\D", "", html)
    assert "hemligt" in html  # the page tells her it is secret (R18)
    assert "070-*** ** 23" in html  # masked in the one national style (issue 16)
    # ... and that SMS is refused rather than revealing it, not that SMS shows it (issue 16)
    shown = re.sub(r'<script type="application/json".*?</script>', "", html, flags=re.S)
    assert "SMS skickas inte från en hemlig mobil" in shown
    assert "SMS visar alltid ditt riktiga" not in shown
    reception = await env.client.get("/reception", headers=env.headers["receptionist"] | HTML)
    assert digits not in re.sub(r"\D", "", await reception.text())


# -- static files ------------------------------------------------------------------------


async def test_static_files_are_versioned_for_long_caching(env: Env) -> None:
    version = env.app[WEB].version
    for who in ("anonymous", "employee"):
        current = await env.client.get(f"/static/app.css?v={version}", headers=env.headers[who])
        assert current.status == 200
        assert current.headers["Cache-Control"] == LONG_CACHE
        assert current.content_type == "text/css"
    stale = await env.client.get("/static/app.css?v=old")
    assert stale.headers["Cache-Control"] == REVALIDATE
    script = await env.client.get("/static/me.js")
    assert script.content_type in ("text/javascript", "application/javascript")
    html = await (await env.client.get("/signin")).text()
    assert f"/static/app.css?v={version}" in html


@pytest.mark.parametrize(
    "path", ["/static/../i18n/sv.json", "/static/%2e%2e/templates/me.html", "/static/nope.js"]
)
async def test_static_never_serves_outside_its_folder(env: Env, path: str) -> None:
    response = await env.client.get(path)
    assert response.status == 404


def test_an_installed_wheel_serves_the_pages_from_its_own_copy(tmp_path: Path) -> None:
    """``web/`` is force-included as ``switchboard/_data/web``; the kit must load it from
    there (not from a checkout that happens to be near)."""
    repo = Path(__file__).resolve().parents[2]
    build = ["pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run(
        [sys.executable, "-m", *build, "-w", str(tmp_path / "dist"), str(repo)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("switchboard-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("templates/me.html", "static/reception.js", "i18n/nb.json"):
        assert f"switchboard/_data/web/{name}" in names
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    script = (
        "from switchboard.http.web_kit import load_web_kit\n"
        "kit = load_web_kit()\n"
        "print(kit.static_root)\n"
        "print(kit.strings('nb')['reception.search'])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    out = subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        capture_output=True,
        text=True,
        env=env | {"PYTHONPATH": str(target)},
        cwd=tmp_path,
        timeout=60,
    ).stdout.splitlines()
    assert out[0] == str((target / "switchboard/_data/web/static").resolve())
    assert out[1] == "Finn en person"


async def test_signin_page_offers_single_sign_on_when_configured(tmp_path: Path) -> None:
    async with open_seeded(tmp_path) as seeded:
        app = build_app(seeded.runtime, HttpSettings())
        app[SIGN_IN_PROVIDER] = SignInProvider("Microsoft Entra ID", "/signin/oidc")
        async with TestClient(TestServer(app)) as client:
            html = await (await client.get("/signin?next=/reception")).text()
    assert 'href="/signin/oidc?next=/reception"' in html
    assert "Logga in med Microsoft Entra ID" in html


async def test_signin_page_has_no_sso_button_without_it(env: Env) -> None:
    html = await (await env.client.get("/signin")).text()
    assert "signin-sso" not in html
