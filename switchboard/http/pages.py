"""The web pages: sign-in, the employee's page and the receptionist screen (issue 5).

Server-rendered with Jinja2 from ``web/templates``; the little JavaScript they need comes
from ``/static`` (the CSP allows no inline script or style). What the scripts need to know
(the person, the CSRF token, the server's clock, the strings of the chosen language) is
handed over in a JSON data block, which the browser never executes.

Every page asks ``allowed()`` like the API does; the pages only decide *where to go*.
Language: ``?lang=sv|nb|en`` (kept in a cookie), else the person's language from the
directory, else the browser's Accept-Language, else the configured default.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from switchboard.accounts.model import Account, Role
from switchboard.directory.model import Person
from switchboard.http.context import ACCESS, CALENDAR_HEALTH, ENGINE, PRINCIPAL, note_refusal
from switchboard.http.oidc import SIGN_IN_PROVIDER
from switchboard.http.page_render import page_person, page_translator, render_page, signin_redirect
from switchboard.http.page_views import me_view
from switchboard.http.principal import Permission

routes = web.RouteTableDef()


def _home(account: Account, person: Person | None) -> str:
    """Receptionists (and accounts that are nobody in the directory) work at the screen."""
    if Role.RECEPTIONIST in account.roles or person is None:
        return "/reception"
    return "/me"


@routes.get("/")
async def root(request: web.Request) -> web.Response:
    account = request[PRINCIPAL].account
    if account is None:
        raise web.HTTPFound("/signin")
    raise web.HTTPFound(_home(account, page_person(request, account)))


def _safe_next(value: str | None) -> str:
    """Only a path on this site (not ``//evil`` or ``https://...``): no open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


@routes.get("/signin")
async def signin_page(request: web.Request) -> web.Response:
    """The form posts (by ``signin.js``) to ``POST /signin``; one message for every
    refusal, never saying whether the user or the password was wrong. With single sign-on
    configured (``[http.oidc]``), a button starts it and comes back to ``next``."""
    next_path = _safe_next(request.query.get("next"))
    provider = request.app.get(SIGN_IN_PROVIDER)
    sso = None if provider is None else f"{provider.start_url}?next={quote(next_path, safe='/')}"
    return render_page(
        request,
        "signin.html",
        None,
        {"page": "signin", "next": next_path},
        next=next_path,
        sso_url=sso,
        sso_name=provider.display_name if provider is not None else None,
    )


@routes.get("/me")
async def me_page(request: web.Request) -> web.Response:
    account = request[PRINCIPAL].account
    if account is None:
        raise signin_redirect(request)
    person = page_person(request, account)
    if person is None:
        raise web.HTTPFound("/reception")
    allowed = request.app[ACCESS].allowed
    if not allowed(account, Permission.WRITE_PRESENCE, target=person):
        note_refusal(request, Permission.WRITE_PRESENCE.value, person.person_id)
        raise web.HTTPForbidden(text="your account may not change this person's availability")
    view = me_view(
        person,
        request.app[ENGINE],
        page_translator(request, person),
        request.app.get(CALENDAR_HEALTH),
    )
    data = {
        "page": "me",
        "person_id": person.person_id,
        "name": person.name,
        "csrf": request[PRINCIPAL].csrf_token,
        "templates": list(view.templates),
        "preview": allowed(account, Permission.PREVIEW_ROUTE, target=person),
        "voicemail": allowed(account, Permission.READ_OWN_VOICEMAIL, target=person),
    }
    return render_page(request, "me.html", person, data, me=view)


@routes.get("/reception")
async def reception_page(request: web.Request) -> web.Response:
    account = request[PRINCIPAL].account
    if account is None:
        raise signin_redirect(request)
    allowed = request.app[ACCESS].allowed
    if not allowed(account, Permission.READ_DIRECTORY):
        note_refusal(request, Permission.READ_DIRECTORY.value)
        raise web.HTTPForbidden(text="your account may not read the directory")
    person = page_person(request, account)
    data = {
        "page": "reception",
        "csrf": request[PRINCIPAL].csrf_token,
        # Without a target only an "any" grant answers yes: may set for anyone (R6, audited).
        "may_write": allowed(account, Permission.WRITE_PRESENCE),
        "may_take_message": allowed(account, Permission.TAKE_MESSAGE),  # R20: e-mail
        "self_id": person.person_id if person is not None else None,
        "organisations": {o.org_id: o.name for o in request.app[ENGINE].settings.organisations},
    }
    return render_page(request, "reception.html", person, data, has_me=person is not None)
