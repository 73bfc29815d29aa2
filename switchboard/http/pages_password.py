"""``/password``: set a password with a one-time link an administrator handed over
(``accounts.reset_links``, issue 16). A plain form, no script: it works in any browser the
person happens to open the link in. The link's three values travel as hidden fields."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from switchboard.accounts.passwords import PasswordPolicyError
from switchboard.accounts.reset_links import PATH
from switchboard.http.api_accounts import PASSWORD_LINKS
from switchboard.http.context import PRINCIPAL
from switchboard.http.page_render import page_person, page_translator, render_page
from switchboard.live.password_links import LinkError

routes = web.RouteTableDef()


def _link(values: Mapping[str, object]) -> tuple[str, int, str]:
    """The link's account, expiry and token from the query or the form; empty if any is
    missing or malformed (the page then says the link does not work)."""
    username, expires, token = values.get("u"), values.get("e"), values.get("k")
    if not all(isinstance(v, str) and v for v in (username, expires, token)):
        return "", 0, ""
    try:
        return str(username)[:64], int(str(expires)), str(token)[:128]
    except ValueError:
        return "", 0, ""


def _page(
    request: web.Request,
    stage: str,
    link: tuple[str, int, str],
    status: int = 200,
    error: str = "",
) -> web.Response:
    principal = request[PRINCIPAL]
    person = page_person(request, principal.account)
    data: dict[str, object] = {"page": "password", "csrf": principal.csrf_token or ""}
    username, expires, token = link
    response = render_page(
        request,
        "password.html",
        person,
        data,
        stage=stage,
        username=username,
        expires=expires,
        token=token,
        error=error,
    )
    response.set_status(status)
    return response


@routes.get(PATH)
async def password_page(request: web.Request) -> web.Response:
    link = _link(request.query)
    if not link[0] or await request.app[PASSWORD_LINKS].valid(*link) is None:
        return _page(request, "dead", link, 410)
    return _page(request, "choose", link)


@routes.post(PATH)
async def password_post(request: web.Request) -> web.Response:
    form = await request.post()
    link = _link(form)
    password, repeat = form.get("password"), form.get("repeat")
    t = page_translator(request, page_person(request, request[PRINCIPAL].account))
    if not link[0]:
        return _page(request, "dead", link, 410)
    if not isinstance(password, str) or not password:
        return _page(request, "choose", link, 422, error=t("password.error.empty"))
    if password != repeat:
        return _page(request, "choose", link, 422, error=t("password.error.mismatch"))
    try:
        await request.app[PASSWORD_LINKS].use(*link, password)
    except PasswordPolicyError as exc:
        return _page(request, "choose", link, 422, error=t(f"password.error.{exc.code}"))
    except LinkError:
        return _page(request, "dead", link, 410)
    return _page(request, "done", link)
