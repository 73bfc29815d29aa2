"""Every page, rendered in Swedish and Norwegian, holds no untranslated key and no English
server message (issue 16; WCAG 3.1.2: no English shown unmarked inside another language).

A key shows as itself when a template asks for one that no catalog has; an English server
message shows when a page prints a refusal's ``message`` instead of its ``code``. The
directory import's error table and the sign-in page's refusal are rendered too, since
those carry the server's words."""

from __future__ import annotations

import re

import aiohttp
import pytest

from switchboard.http.web_kit import load_web_kit
from tests.http.conftest import Env

HTML = {"Accept": "text/html"}
PAGES = [
    ("anonymous", "/signin"),
    ("employee", "/me"),
    ("receptionist", "/reception"),
    ("admin", "/admin"),
    ("admin", "/admin/import"),
    ("admin", "/admin/people"),
    ("admin", "/admin/policy"),
    ("admin", "/admin/audit"),
    ("admin", "/admin/call-lists"),
]
ENGLISH_SERVER_MESSAGES = (
    # What the API and the import said in English before issue 16 (and still say to API
    # clients in ``message``): none of it may reach a Swedish or Norwegian page.
    "the return time must be after the referral starts",
    "must be in the future",
    "must be a string",
    "unknown fields",
    "write yes or no",
    "a name is required",
    "is not in any of our number series",
    "is not an e-mail address",
    "unknown organisation",
    "same number as line",
    "fields but the header has",
    "Something went wrong",
    "nobody in the directory",
    "your account may not",
)
BAD_CSV = (
    "name,number,mobile,email,unit,title,language,hide_mobile,secret_mobile,"
    "arrangement,hours,organisation\n"
    "Fel Flagga,0523-664322,,fel@sotenas.example,IT,Tekniker,sv,kanske,no,private,,\n"
    ",0523-664323,,utan.namn@sotenas.example,IT,,sv,no,no,private,,\n"
    "Fel Nummer,0523-99,,felnr@sotenas.example,IT,,sv,no,no,private,,\n"
    "Utanför,031-123456,,ute@sotenas.example,IT,,sv,no,no,private,,\n"
    "Fel Post,0523-664324,,inte-en-adress,IT,,sv,no,no,private,,\n"
    "Fel Org,,+46701112299,org@sotenas.example,IT,,sv,no,no,private,,Ingenstans\n"
    "Fel Tid,0523-664325,,tid@sotenas.example,IT,,sv,no,no,private,mån 8-16,\n"
    "Fel Språk,0523-664326,,sprak@sotenas.example,IT,,de,no,no,sometimes,,\n"
    "Dubbel,0523-664327,,dubbel1@sotenas.example,IT,,sv,no,no,private,,\n"
    "Dubbel,0523-664327,,dubbel2@sotenas.example,IT,,sv,no,no,private,,\n"
    "För Många,0523-664328,,many@sotenas.example,IT,,sv,no,no,private,,,extra\n"
)


def _visible(html: str) -> str:
    """The page without its scripts (the page data carries the whole catalog, keys and
    all): what a reader or a screen reader gets, attributes included."""
    return re.sub(r"<script\b.*?</script>", "", html, flags=re.S)


def _keys() -> list[str]:
    catalogs = load_web_kit().catalogs
    return sorted(set(catalogs["en"]) | set(catalogs["sv"]))


def assert_translated(html: str, language: str, where: str) -> None:
    assert f'<html lang="{language}">' in html, where
    shown = _visible(html)
    keys = [k for k in _keys() if re.search(rf"(?<![\w.-]){re.escape(k)}(?![\w.-])", shown)]
    assert keys == [], f"{where} ({language}) shows untranslated keys {keys}"
    english = [m for m in ENGLISH_SERVER_MESSAGES if m.lower() in shown.lower()]
    assert english == [], f"{where} ({language}) shows English server text {english}"


def test_the_check_finds_a_key_and_an_english_message() -> None:
    """The check itself can fail: a key left in a page and an English refusal are found."""
    with pytest.raises(AssertionError, match=r"picker\.title"):
        assert_translated('<html lang="sv"><h2>picker.title</h2>', "sv", "made up")
    with pytest.raises(AssertionError, match="English"):
        assert_translated(
            '<html lang="sv"><p>the return time must be after the referral starts</p>',
            "sv",
            "made up",
        )
    assert_translated(
        '<html lang="sv"><script>{"picker.title": "x"}</script><p>Hej</p>', "sv", "made up"
    )


@pytest.mark.parametrize("language", ["sv", "nb"])
@pytest.mark.parametrize(("who", "path"), PAGES, ids=[p for _, p in PAGES])
async def test_every_page_is_translated(env: Env, who: str, path: str, language: str) -> None:
    response = await env.client.get(f"{path}?lang={language}", headers=env.headers[who] | HTML)
    assert response.status == 200, path
    assert_translated(await response.text(), language, path)


@pytest.mark.parametrize("language", ["sv", "nb"])
async def test_import_errors_are_said_in_the_readers_language(env: Env, language: str) -> None:
    """Every problem of a bad file, by line and column, in the page's language."""
    form = aiohttp.FormData()
    form.add_field("csrf_token", env.headers["admin"]["X-CSRF-Token"])
    form.add_field("file", BAD_CSV.encode(), filename="people.csv", content_type="text/csv")
    headers = {k: v for k, v in env.headers["admin"].items() if k != "X-CSRF-Token"} | HTML
    response = await env.client.post(f"/admin/import?lang={language}", data=form, headers=headers)
    assert response.status == 422
    html = await response.text()
    table = html[html.index('id="import-errors"') :]
    rows = re.findall(r'<tr><td class="mono">(\d+)</td><td><code>([^<]*)</code></td><td>', table)
    assert len(rows) >= 10, rows  # every kind of problem above is listed, by line and column
    assert ("2", "hide_mobile") in rows
    assert "kanske" in table  # the value read is named inside the translated sentence
    assert_translated(html, language, "/admin/import (errors)")


@pytest.mark.parametrize("language", ["sv", "nb"])
async def test_a_refused_sign_in_is_said_in_the_readers_language(env: Env, language: str) -> None:
    response = await env.client.post(
        f"/signin?lang={language}",
        data={"username": "t.anna", "password": "wrong"},
        headers=HTML | {"Origin": env.origin},
    )
    assert response.status == 401
    assert_translated(await response.text(), language, "/signin (refused)")


@pytest.mark.parametrize(
    ("language", "said"),
    [("sv", "Välj en CSV-fil att kontrollera."), ("nb", "Velg en CSV-fil som skal kontrolleres.")],
)
async def test_an_import_without_a_file_says_so_on_the_file_field(
    env: Env, language: str, said: str
) -> None:
    """Was a plain-text English "choose a CSV file to check"; now the page, with the
    message under the file field it concerns (WCAG 3.3.1)."""
    form = aiohttp.FormData()
    form.add_field("csrf_token", env.headers["admin"]["X-CSRF-Token"])
    headers = {k: v for k, v in env.headers["admin"].items() if k != "X-CSRF-Token"} | HTML
    response = await env.client.post(f"/admin/import?lang={language}", data=form, headers=headers)
    assert response.status == 400
    html = await response.text()
    assert f'<p class="form-error field-error" id="import-file-error">{said}</p>' in html
    field = re.search(r'<input id="import-file"[^>]*>', html)
    assert field is not None
    assert 'aria-invalid="true"' in field.group(0)
    assert 'aria-describedby="import-file-error"' in field.group(0)
    assert_translated(html, language, "/admin/import (no file)")
