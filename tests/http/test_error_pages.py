"""Error pages (issue 16; WCAG 2.4.2 page titled, 3.1.1 language of page): a browser that
navigates to a refusal or a failure gets the site's frame with a <title>, ``lang``, a
heading and a link back, in the reader's language; API clients keep their JSON."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from switchboard.http.app import build_app
from switchboard.settings.http import HttpSettings
from tests.http.conftest import Env, Seeded, open_seeded

HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
TITLES = {
    ("sv", 404): "Sidan finns inte",
    ("nb", 404): "Siden finnes ikke",
    ("en", 404): "Page not found",
    ("sv", 403): "Du har inte behörighet",
    ("nb", 403): "Du har ikke tilgang",
    ("en", 403): "You may not see this page",
    ("sv", 405): "Det går inte att göra så här",
    ("en", 500): "Something went wrong on our side",
    ("sv", 500): "Något gick fel hos oss",
    ("sv", 503): "Växeln är upptagen just nu",
    ("nb", 503): "Sentralbordet er opptatt akkurat nå",
}


def _framed(text: str, language: str, status: int) -> None:
    """A page in the frame: lang, a title naming what happened, one h1, a link back."""
    title = TITLES[(language, status)]
    assert f'<html lang="{language}">' in text
    found = re.search(r"<title>(.*?)</title>", text, re.S)
    assert found is not None
    assert found.group(1).startswith(title)
    assert re.search(rf'<h1 id="error-title">{re.escape(title)}</h1>', text)
    assert '<a class="btn btn-primary" href="/" id="error-back">' in text
    assert 'class="topbar"' in text  # the site's frame
    assert "<details" not in text or 'lang="en"' in text  # English detail marked as such


@pytest.mark.parametrize("language", ["sv", "nb", "en"])
async def test_404_is_a_framed_page_in_the_browser_language(env: Env, language: str) -> None:
    response = await env.client.get(
        "/no/such/page", headers=HTML | {"Accept-Language": f"{language},en;q=0.1"}
    )
    assert response.status == 404
    assert response.content_type == "text/html"
    _framed(await response.text(), language, 404)


@pytest.mark.parametrize("language", ["sv", "nb", "en"])
async def test_403_speaks_the_language_chosen_on_the_site(env: Env, language: str) -> None:
    """The employee asks for an administration page: refused, in the language they chose
    (the cookie beats the browser's Accept-Language)."""
    session = env.headers["employee"]
    cookie = f"{session['Cookie']}; sb_lang={language}"
    response = await env.client.get(
        "/admin/people", headers=session | HTML | {"Accept-Language": "de", "Cookie": cookie}
    )
    assert response.status == 403
    text = await response.text()
    _framed(text, language, 403)
    assert "t.anna" in text or "Anna" in text  # signed in: the frame shows who


async def test_405_is_framed(env: Env) -> None:
    response = await env.client.put("/admin", headers=env.headers["admin"] | HTML)
    assert response.status == 405
    _framed(await response.text(), "sv", 405)


async def test_api_errors_stay_json(env: Env) -> None:
    for path in ("/api/v1/nothing-here", "/no/such/page"):
        response = await env.client.get(path, headers={"Accept": "application/json"})
        assert response.status == 404
        body = await response.json()
        assert body["error"]["status"] == 404
    response = await env.client.get("/api/v1/nothing-here", headers=HTML)
    assert response.content_type == "application/json"


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[Seeded]:
    async with open_seeded(tmp_path) as opened:
        yield opened


async def test_500_page_shows_the_error_id_not_the_traceback(seeded: Seeded) -> None:
    app = build_app(seeded.runtime, HttpSettings())

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals: /etc/passwd line 7")

    app.router.add_get("/test/broken", broken)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/test/broken", headers=HTML | {"Accept-Language": "en"})
        text = await response.text()
    assert response.status == 500
    _framed(text, "en", 500)
    assert "secret internals" not in text
    found = re.search(r'<code id="error-id">([0-9a-f]{12})</code>', text)
    assert found is not None


async def test_overload_503_is_framed_for_a_browser(seeded: Seeded) -> None:
    """The overload refusal comes before anyone is signed in: still framed, still cheap."""
    app = build_app(seeded.runtime, HttpSettings(max_in_flight=1, max_streams=1))
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({"ok": True})

    app.router.add_get("/test/slow", slow)
    async with TestClient(TestServer(app)) as client:
        held = asyncio.create_task(client.get("/test/slow"))
        await asyncio.sleep(0.1)
        for language in ("sv", "nb"):
            refused = await client.get("/reception", headers=HTML | {"Accept-Language": language})
            assert refused.status == 503
            assert refused.headers["Retry-After"] == "1"
            _framed(await refused.text(), language, 503)
        release.set()
        assert (await held).status == 200
