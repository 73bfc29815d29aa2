"""What every page shares: its language and strings, the frame around it, the sign-in redirect.

The pages (``pages``) and the administration pages (``pages_admin``) are both built on this
module and import nothing from each other; ``app.build_app`` registers both route tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from aiohttp import web

from switchboard.accounts.model import Account
from switchboard.directory.model import Person
from switchboard.http.admin_nav import admin_sections
from switchboard.http.context import ACCESS, ENGINE, PRINCIPAL
from switchboard.http.page_views import Translate
from switchboard.http.render import instant
from switchboard.http.session_api import session_times
from switchboard.http.web_kit import LOCALES, WEB, pick_language

LANG_COOKIE = "sb_lang"
LANG_COOKIE_AGE = 365 * 24 * 3600


def page_person(request: web.Request, account: Account | None) -> Person | None:
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


def page_strings(request: web.Request, person: Person | None) -> Mapping[str, str]:
    """The catalog of the page's language (key -> text)."""
    return request.app[WEB].strings(_language(request, person))


def page_translator(request: web.Request, person: Person | None) -> Translate:
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


def render_page(
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
    principal = request[PRINCIPAL]
    account = principal.account
    if principal.session_ends is not None:  # the warning before the session ends (2.2.1)
        data = {"session": session_times(request, principal.session_ends), **data}
    data = {
        "lang": language,
        "locale": LOCALES[language],
        "zone": engine.settings.zone.key,
        "now": instant(engine.clock.now(), engine.settings.zone),
        "strings": dict(strings),
        "username": account.username if account is not None else None,
        **data,
    }
    html = kit.env.get_template(template).render(
        t=page_translator(request, person),
        lang=language,
        data=data,
        account=account,
        organisation=_organisation_line(request, person),
        path=request.path,
        admin_sections=admin_sections(account, request.app[ACCESS].allowed),
        **context,
    )
    response = web.Response(text=html, content_type="text/html")
    asked = request.query.get("lang")
    if asked is not None and asked in LOCALES:
        response.set_cookie(
            LANG_COOKIE, asked, max_age=LANG_COOKIE_AGE, path="/", httponly=True, samesite="Lax"
        )
    return response


def signin_redirect(request: web.Request) -> web.HTTPFound:
    return web.HTTPFound(f"/signin?next={quote(request.path_qs, safe='/')}")
