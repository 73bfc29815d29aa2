"""Error pages for people (issue 16, WCAG 2.4.2 and 3.1.1): a refusal or a failure that a
browser navigated to is shown in the site's frame, with a title, the page's language, a
heading that says what happened and a link back; scripts and API clients keep the JSON of
``security.error_response``.

The language is the reader's (``?lang``, the language cookie, the signed-in person's
language, then Accept-Language). The server's own message is in English and written for
whoever debugs, so the page says what happened in the reader's words and keeps that
message under "technical details", marked ``lang="en"`` (3.1.2).

Rendered without touching the store: an overload refusal (503) is made before anyone is
authenticated and must stay cheap, and a 500 may come from the store itself.
"""

from __future__ import annotations

from typing import Any

import jinja2
import structlog
from aiohttp import web

from switchboard.http.context import ENGINE, PRINCIPAL
from switchboard.http.page_render import LANG_COOKIE, page_person
from switchboard.http.web_kit import LOCALES, WEB, pick_language

log = structlog.get_logger("switchboard.http")

KNOWN = frozenset({400, 401, 403, 404, 405, 413, 415, 422, 429, 500, 503})
"""Statuses with their own words (``errorpage.<status>.title``); others say ``other``."""


def _key(status: int) -> str:
    return str(status) if status in KNOWN else "other"


def error_page(
    request: web.Request, status: int, message: str, extra: dict[str, object]
) -> web.Response | None:
    """The framed page, or None when the page cannot be made (the web kit missing or a
    template failing): the caller then answers in plain text, as before."""
    kit = request.app.get(WEB)
    if kit is None:
        return None
    principal = request.get(PRINCIPAL)
    account = principal.account if principal is not None else None
    try:
        person = page_person(request, account)
        engine = request.app[ENGINE]
        settings = engine.settings
        language = pick_language(
            request.query.get("lang"),
            request.cookies.get(LANG_COOKIE),
            person.language if person is not None else None,
            request.headers.get("Accept-Language"),
            settings.language,
        )
        strings = kit.strings(language)

        def t(key: str, **values: Any) -> str:
            text = strings.get(key, key)
            return text.format(**values) if values else text

        organisation = (
            settings.organisation(person.organisation).name
            if person is not None
            else " · ".join(o.name for o in settings.organisations)
        )
        data: dict[str, object] = {
            "page": "error",
            "lang": language,
            "locale": LOCALES[language],
            "zone": settings.zone.key,
            "csrf": principal.csrf_token if principal is not None else None,
            "strings": {},
            "username": account.username if account is not None else None,
        }
        html = kit.env.get_template("error.html").render(
            t=t,
            lang=language,
            data=data,
            account=account,
            organisation=organisation,
            path=request.path,
            admin_sections=(),
            has_me=person is not None,
            status=status,
            key=_key(status),
            message=message,
            error_id=extra.get("error_id"),
            next_path=request.path_qs if request.method == "GET" else "/",
        )
    except (jinja2.TemplateError, KeyError, ValueError):
        # The page that says something failed must not fail itself: plain text then.
        log.exception("error_page_failed", status=status)
        return None
    return web.Response(status=status, text=html, content_type="text/html")
