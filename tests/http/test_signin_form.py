"""The sign-in page without JavaScript, and while signed in (issue 16).

A browser posting the form itself (a form body, ``Accept: text/html``) is sent on with a
``303`` to ``next``, a local path only; a refusal shows the page again with the message
in the reader's language and the name typed (never the password). ``GET /signin`` while
signed in says so and still signs in as someone else, with the session's CSRF token.
The JSON answer to ``signin.js`` is unchanged (test_auth.py).
"""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.http.conftest import PASSWORD, Env

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(autouse=True)
async def passwords(env: Env) -> None:
    for username, key in (("t.anna", "employee"), ("t.reception", "receptionist")):
        await env.accounts.set_password(username, PASSWORD, "test")
        env.headers[key] = await env.session_headers(username)


def _form(username: str, password: str, next_path: str | None = "/reception") -> dict[str, str]:
    fields = {"username": username, "password": password}
    if next_path is not None:
        fields["next"] = next_path
    return fields


def _error(html: str) -> str:
    found = re.search(r'<p class="form-error" id="signin-error" role="alert"\s*>([^<]*)</p>', html)
    assert found is not None, html
    return unescape(found.group(1))


async def test_a_plain_form_post_signs_in_and_goes_on_to_next(env: Env) -> None:
    response = await env.client.post(
        "/signin",
        data=_form("t.reception", PASSWORD),
        headers=BROWSER | {"Origin": env.origin},
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/reception"
    cookie = response.cookies["sb_session"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    page = await env.client.get(
        "/reception", headers=BROWSER | {"Cookie": f"sb_session={cookie.value}"}
    )
    assert page.status == 200


@pytest.mark.parametrize(
    "asked",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\t/evil.example",
        "/\\evil.example",
        "/\n/evil.example",
        "reception",
        "",
        None,
    ],
    ids=["scheme-relative", "absolute", "tab", "backslash", "newline", "relative", "empty", "none"],
)
async def test_next_is_only_ever_a_local_path(env: Env, asked: str | None) -> None:
    response = await env.client.post(
        "/signin",
        data=_form("t.anna", PASSWORD, asked),
        headers=BROWSER | {"Origin": env.origin},
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("accept_language", "message"),
    [
        ("sv", "Användarnamnet och lösenordet hör inte ihop med något konto."),
        ("nb", "Brukernavnet og passordet"),
        ("en", "That username and password do not match an account."),
    ],
)
async def test_a_refused_form_shows_the_page_again_in_the_readers_language(
    env: Env, accept_language: str, message: str
) -> None:
    response = await env.client.post(
        "/signin",
        data=_form("t.anna", "not the password"),
        headers=BROWSER | {"Origin": env.origin, "Accept-Language": accept_language},
        allow_redirects=False,
    )
    assert response.status == 401
    assert response.content_type == "text/html"
    assert "Set-Cookie" not in response.headers
    html = await response.text()
    assert f'lang="{accept_language}"' in html
    assert _error(html).startswith(message)
    assert 'value="t.anna"' in html  # the name typed is kept ...
    assert "not the password" not in html  # ... the password never
    assert 'name="next" value="/reception"' in html
    assert 'aria-invalid="true"' in html


async def test_an_empty_form_is_refused_on_the_page(env: Env) -> None:
    response = await env.client.post(
        "/signin",
        data=_form("", "", None),
        headers=BROWSER | {"Origin": env.origin},
        allow_redirects=False,
    )
    assert response.status == 400
    assert _error(await response.text()).startswith("Användarnamnet och lösenordet")


async def test_a_throttled_form_says_how_long_to_wait(env: Env) -> None:
    first = await env.client.post(
        "/signin", data=_form("t.anna", "wrong"), headers=BROWSER | {"Origin": env.origin}
    )
    assert first.status == 401
    response = await env.client.post(
        "/signin",
        data=_form("t.anna", PASSWORD),
        headers=BROWSER | {"Origin": env.origin, "Accept-Language": "en"},
        allow_redirects=False,
    )
    assert response.status == 429
    seconds = response.headers["Retry-After"]
    assert int(seconds) >= 1
    assert _error(await response.text()) == (
        f"Too many attempts. Wait {seconds} seconds and try again."
    )


async def test_a_form_from_another_site_is_refused(env: Env) -> None:
    response = await env.client.post(
        "/signin",
        data=_form("t.anna", PASSWORD),
        headers=BROWSER | {"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert response.status == 403
    assert "Set-Cookie" not in response.headers


async def test_the_signin_page_while_signed_in_says_so_and_carries_the_csrf_token(
    env: Env,
) -> None:
    """It answered 500 ('dict object' has no attribute 'csrf'): the frame's sign-out form
    needs the session's token, and so does signing in as someone else."""
    headers = env.headers["employee"]
    response = await env.client.get("/signin?next=/me", headers=BROWSER | headers)
    assert response.status == 200
    html = await response.text()
    token = headers["X-CSRF-Token"]
    assert html.count(f'name="csrf_token" value="{token}"') == 2  # sign-out, sign-in
    assert 'id="signin-already"' in html
    assert "Du är inloggad som" in html
    assert 'href="/me" id="signin-continue"' in html


async def test_signing_in_as_someone_else_by_form_needs_the_token_and_rotates(
    env: Env,
) -> None:
    headers = env.headers["employee"]
    old_id = headers["Cookie"].removeprefix("sb_session=")
    cookie_only = BROWSER | {"Cookie": headers["Cookie"], "Origin": env.origin}
    refused = await env.client.post(
        "/signin", data=_form("t.reception", PASSWORD), headers=cookie_only
    )
    assert refused.status == 403
    assert await env.accounts.session(old_id) is not None
    with_token = _form("t.reception", PASSWORD) | {"csrf_token": headers["X-CSRF-Token"]}
    response = await env.client.post(
        "/signin", data=with_token, headers=cookie_only, allow_redirects=False
    )
    assert response.status == 303
    assert response.headers["Location"] == "/reception"
    assert await env.accounts.session(old_id) is None
    new = await env.accounts.session(response.cookies["sb_session"].value)
    assert new is not None
    assert new[1].username == "t.reception"


async def test_the_page_keeps_the_script_path(env: Env) -> None:
    """signin.js still posts JSON and reads JSON back (its tests: test_auth.py, e2e)."""
    html = await (await env.client.get("/signin")).text()
    assert re.search(r'<script type="module" src="/static/signin\.js\?v=\w+">', html)
    response = await env.client.post(
        "/signin",
        json={"username": "t.anna", "password": PASSWORD},
        headers={"Accept": "application/json", "Origin": env.origin},
    )
    assert response.status == 200
    assert "csrf_token" in await response.json()
