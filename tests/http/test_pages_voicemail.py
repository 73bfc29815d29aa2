"""The voicemail section of the employee's page and the take-a-message control of the
receptionist screen (issue 5), over aiohttp's test client.

The section is for the person themselves only (READ_OWN_VOICEMAIL, self): it names the
owner's id and nobody else's, and it disappears when ``allowed()`` says no. The
take-a-message dialog is there only for accounts with TAKE_MESSAGE (receptionists: R20,
the message goes by e-mail). Its assets are files (CSP) and every text is translated.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from switchboard.accounts.model import Account, Permission, Role, allowed
from switchboard.directory.model import Person
from switchboard.http.app import build_app
from switchboard.http.principal import Access
from switchboard.settings.http import HttpSettings
from tests.http.conftest import EMPLOYEE_EXT, OTHER_EXT, Env, open_seeded

HTML = {"Accept": "text/html"}
SECTION = re.compile(r'<section class="card vm-card" id="voicemail"[^>]*data-person="([^"]+)"')
DIALOG = 'id="message-dialog"'


def _data(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert found is not None
    data = json.loads(found.group(1))
    assert isinstance(data, dict)
    return data


async def _html(env: Env, path: str, headers: dict[str, str]) -> str:
    response = await env.client.get(path, headers=headers | HTML, allow_redirects=False)
    assert response.status == 200, path
    return await response.text()


async def test_the_owner_sees_their_own_voicemail_section(env: Env) -> None:
    html = await _html(env, "/me", env.headers["employee"])
    anna = env.person(EMPLOYEE_EXT)
    assert SECTION.findall(html) == [anna.person_id]
    assert _data(html)["voicemail"] is True
    assert "Röstbrevlåda" in html  # Swedish by default
    for box in ("vm-greeting", "vm-name"):  # the greeting and, next to it, the name clip
        assert f'id="{box}-upload"' in html
        assert f'id="{box}-record"' in html
    assert 'data-recording="name-clip"' in html
    assert "Ditt namn" in html
    assert 'id="vm-row-template"' in html
    assert re.search(r'<script type="module" src="/static/voicemail\.js\?v=[0-9a-f]+">', html)
    # Nothing of the take-a-message dialog on the employee's own page.
    assert DIALOG not in html


async def test_another_employee_sees_only_their_own_section(env: Env) -> None:
    await env.accounts.add_account("t.johan", None, {Role.EMPLOYEE}, OTHER_EXT, None, "test")
    html = await _html(env, "/me", await env.session_headers("t.johan"))
    johan, anna = env.person(OTHER_EXT), env.person(EMPLOYEE_EXT)
    assert SECTION.findall(html) == [johan.person_id]
    assert anna.person_id not in html


@pytest.mark.parametrize("who", ["receptionist", "manager", "admin"])
async def test_accounts_that_are_nobody_have_no_voicemail_section(env: Env, who: str) -> None:
    me = await env.client.get("/me", headers=env.headers[who] | HTML, allow_redirects=False)
    assert me.status == 302
    assert me.headers["Location"] == "/reception"
    html = await _html(env, "/reception", env.headers[who])
    assert 'id="voicemail"' not in html
    assert "voicemail.js" not in html


async def test_no_section_when_allowed_says_no(tmp_path: Path) -> None:
    """The template follows ``allowed()``, not the role: without READ_OWN_VOICEMAIL the
    owner's page has no section (and the rest of the page is still there)."""

    def no_voicemail(
        account: Account | None, permission: Permission, *, target: Person | None = None
    ) -> bool:
        if permission is Permission.READ_OWN_VOICEMAIL:
            return False
        return allowed(account, permission, target=target)

    async with open_seeded(tmp_path) as seeded:
        runtime = seeded.runtime
        access = Access(runtime.accounts, no_voicemail)
        app = build_app(runtime, HttpSettings(max_body=64 * 1024), access=access)
        async with TestClient(TestServer(app)) as client:
            account = await runtime.accounts.require("t.anna")
            session_id, _session = await runtime.accounts.start_session(account)
            headers = {"Cookie": f"sb_session={session_id}"} | HTML
            response = await client.get("/me", headers=headers)
            assert response.status == 200
            html = await response.text()
    assert 'id="toggle"' in html
    assert 'id="voicemail"' not in html
    assert _data(html)["voicemail"] is False


async def test_reception_offers_take_a_message_to_receptionists_only(env: Env) -> None:
    reception = await _html(env, "/reception", env.headers["receptionist"])
    assert _data(reception)["may_take_message"] is True
    assert DIALOG in reception
    assert re.search(
        r'<script type="module" src="/static/take_message\.js\?v=[0-9a-f]+">', reception
    )
    assert "Ta meddelande" in reception
    for who in ("employee", "manager", "admin"):
        html = await _html(env, "/reception", env.headers[who])
        assert _data(html)["may_take_message"] is False, who
        assert DIALOG not in html, who
        assert "take_message.js" not in html, who


@pytest.mark.parametrize("lang", ["sv", "nb", "en"])
async def test_the_sections_speak_each_language(env: Env, lang: str) -> None:
    words = {
        "sv": ("Röstbrevlåda", "Ta meddelande"),
        "nb": ("Talepostkasse", "Ta imot beskjed"),
        "en": ("Voicemail", "Take a message"),
    }[lang]
    me = await _html(env, f"/me?lang={lang}", env.headers["employee"])
    assert words[0] in me
    reception = await _html(env, f"/reception?lang={lang}", env.headers["receptionist"])
    assert words[1] in reception
    assert _data(reception)["strings"]["tm.email.not_configured"]  # type: ignore[index]


@pytest.mark.parametrize(
    "name", ["voicemail.js", "recording.js", "take_message.js", "wav.js", "voicemail.css"]
)
async def test_the_new_assets_are_served(env: Env, name: str) -> None:
    response = await env.client.get(f"/static/{name}")
    assert response.status == 200
    assert len(await response.read()) > 500
