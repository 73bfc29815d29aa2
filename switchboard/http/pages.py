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

from typing import Any
from urllib.parse import quote

from aiohttp import web

from switchboard.accounts.model import Account, Role
from switchboard.directory.model import Person
from switchboard.http.admin_nav import admin_sections
from switchboard.http.context import ACCESS, CALENDAR_HEALTH, ENGINE, PRINCIPAL
from switchboard.http.oidc import SIGN_IN_PROVIDER
from switchboard.http.page_views import Translate, me_view
from switchboard.http.principal import Permission
from switchboard.http.render import instant
from switchboard.http.web_kit import LOCALES, WEB, load_web_kit, pick_language, static_file

routes = web.RouteTableDef()
LANG_COOKIE = "sb_lang"
LANG_COOKIE_AGE = 365 * 24 * 3600


STATIC_PATH = "/static/{name}"


def page_routes() -> frozenset[tuple[str, str]]:
    """(method, path) of every page and of ``/static``: HTML and files, not the JSON API,
    so the OpenAPI document does not list them."""
    from switchboard.http import pages_admin  # built on this module: imported when used

    tables = (routes, pages_admin.routes)
    pages = {(r.method, r.path) for t in tables for r in t if isinstance(r, web.RouteDef)}
    return frozenset(pages | {("GET", STATIC_PATH)})


def install(app: web.Application) -> None:
    """Add the pages, the administration pages and ``/static`` (called by ``build_app``)."""
    from switchboard.http import pages_admin  # built on this module: imported when used

    app[WEB] = load_web_kit()
    app.router.add_routes(routes)
    app.router.add_routes(pages_admin.routes)
    app.router.add_get(STATIC_PATH.replace("}", ":.+}"), static_file, name="static")


def _person(request: web.Request, account: Account | None) -> Person | None:
    if account is None or account.person_id is None:
        return None
    return request.app[ENGINE].view.person(account.person_id)


def _language(request: web.Request, person: Person | None) -> str:
    return pick_language(
        request.query.get("lang"),
        request.cookies.get(LANG_COOKIE),
        person.language if person is not None else None,
        request.headers.get("Accept-Language"),
        request.app[ENGINE].settings.language,
    )


def _translator(request: web.Request, person: Person | None) -> Translate:
    """``t(key, **values)`` in the page's language; an unknown key shows as itself (a
    test keeps every key the templates and scripts use in all three catalogs)."""
    strings = request.app[WEB].strings(_language(request, person))

    def t(key: str, **values: Any) -> str:
        text = strings.get(key, key)
        return text.format(**values) if values else text

    return t


def _organisation_line(request: web.Request, person: Person | None) -> str:
    settings = request.app[ENGINE].settings
    if person is not None:
        return settings.organisation(person.organisation).name
    return " · ".join(o.name for o in settings.organisations)


def _render(
    request: web.Request,
    template: str,
    person: Person | None,
    data: dict[str, Any],
    **context: Any,
) -> web.Response:
    kit = request.app[WEB]
    language = _language(request, person)
    strings = kit.strings(language)
    engine = request.app[ENGINE]
    account = request[PRINCIPAL].account
    data = {
        "lang": language,
        "locale": LOCALES[language],
        "zone": engine.settings.zone.key,
        "now": instant(engine.clock.now(), engine.settings.zone),
        "strings": dict(strings),
        "username": account.username if account is not None else None,
        # Longest first, so "0523" wins over "052": numbers are shown as "0523-66 41 23".
        "area_codes": sorted(
            {s.area_code for s in engine.settings.plan.series if s.area_code}, key=len, reverse=True
        ),
        **data,
    }
    html = kit.env.get_template(template).render(
        t=_translator(request, person),
        lang=language,
        data=data,
        account=account,
        organisation=_organisation_line(request, person),
        path=request.path,
        admin_sections=admin_sections(account, request.app[ACCESS].allowed, engine.view.people()),
        **context,
    )
    response = web.Response(text=html, content_type="text/html")
    asked = request.query.get("lang")
    if asked is not None and asked in LOCALES:
        response.set_cookie(
            LANG_COOKIE, asked, max_age=LANG_COOKIE_AGE, path="/", httponly=True, samesite="Lax"
        )
    return response


def _signin_redirect(request: web.Request) -> web.HTTPFound:
    return web.HTTPFound(f"/signin?next={quote(request.path_qs, safe='/')}")


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
    raise web.HTTPFound(_home(account, _person(request, account)))


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
    return _render(
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
        raise _signin_redirect(request)
    person = _person(request, account)
    if person is None:
        raise web.HTTPFound("/reception")
    allowed = request.app[ACCESS].allowed
    if not allowed(account, Permission.WRITE_PRESENCE, target=person):
        raise web.HTTPForbidden(text="your account may not change this person's availability")
    view = me_view(
        person,
        request.app[ENGINE],
        _translator(request, person),
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
    return _render(request, "me.html", person, data, me=view)


@routes.get("/reception")
async def reception_page(request: web.Request) -> web.Response:
    account = request[PRINCIPAL].account
    if account is None:
        raise _signin_redirect(request)
    allowed = request.app[ACCESS].allowed
    if not allowed(account, Permission.READ_DIRECTORY):
        raise web.HTTPForbidden(text="your account may not read the directory")
    person = _person(request, account)
    data = {
        "page": "reception",
        "csrf": request[PRINCIPAL].csrf_token,
        # Without a target only an "any" grant answers yes: may set for anyone (R6, audited).
        "may_write": allowed(account, Permission.WRITE_PRESENCE),
        "may_take_message": allowed(account, Permission.TAKE_MESSAGE),  # R20: e-mail
        "self_id": person.person_id if person is not None else None,
        "organisations": {o.org_id: o.name for o in request.app[ENGINE].settings.organisations},
    }
    return _render(request, "reception.html", person, data, has_me=person is not None)
