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
from switchboard.http.api_own_calendar import status_json
from switchboard.http.context import (
    ACCESS,
    CALENDAR_HEALTH,
    ENGINE,
    PRINCIPAL,
    SIGN_IN_PROVIDER,
    note_refusal,
)
from switchboard.http.page_render import page_person, page_translator, render_page, signin_redirect
from switchboard.http.page_views import me_view
from switchboard.http.principal import Permission
from switchboard.http.render import instant
from switchboard.http.security import safe_next

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


@routes.get("/signin")
async def signin_page(request: web.Request) -> web.Response:
    """The form posts to ``POST /signin``: as JSON by ``signin.js``, or as a plain form
    without JavaScript (``auth.signin`` then redirects, or renders this page again with
    the error). One message for every refusal, never saying whether the user or the
    password was wrong. With single sign-on configured (``[http.oidc]``), a button starts
    it and comes back to ``next``. Signed in already, the page says so and still signs
    in as someone else (the form then carries the session's CSRF token)."""
    return render_signin(request, safe_next(request.query.get("next")))


def render_signin(
    request: web.Request,
    next_path: str,
    *,
    status: int = 200,
    error: str | None = None,
    username: str = "",
) -> web.Response:
    """The sign-in page; ``error`` (already in the page's language) and the ``username``
    typed when a form sign-in failed (never the password)."""
    provider = request.app.get(SIGN_IN_PROVIDER)
    sso = None if provider is None else f"{provider.start_url}?next={quote(next_path, safe='/')}"
    principal = request[PRINCIPAL]
    data: dict[str, object] = {"page": "signin", "next": next_path}
    if principal.account is not None:
        data["csrf"] = principal.csrf_token or ""  # base.html's sign-out form needs it
    response = render_page(
        request,
        "signin.html",
        None,
        data,
        next=next_path,
        sso_url=sso,
        sso_name=provider.display_name if provider is not None else None,
        error=error,
        username=username,
    )
    response.set_status(status)
    return response


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
        # The announcement callers hear is in the person's language, whatever the page's:
        # marked with lang= where it shows (WCAG 3.1.2).
        "announcement_lang": person.language,
        "csrf": request[PRINCIPAL].csrf_token,
        "templates": list(view.templates),
        "preview": allowed(account, Permission.PREVIEW_ROUTE, target=person),
        "voicemail": allowed(account, Permission.READ_OWN_VOICEMAIL, target=person),
        # "Gått för dagen" fills this return time (issue 16); the server sets the same
        # when none is sent, so a page left open past it may send none.
        "gone_until": _gone_until(request, person),
    }
    # The calendar the employee connects themselves (issue 16); me_calendar.js starts here.
    engine = request.app[ENGINE]
    own = await engine.store.own_calendar(person.person_id)
    own_status = status_json(person, own, engine, request.app.get(CALENDAR_HEALTH))
    return render_page(
        request, "me.html", person, data | {"own_calendar": own_status}, me=view, own=own_status
    )


def _gone_until(request: web.Request, person: Person) -> str | None:
    """When the person's next working day starts (their hours, else the organisation's)."""
    engine = request.app[ENGINE]
    settings = engine.settings
    hours = person.hours or settings.organisation(person.organisation).hours
    start = hours.next_start(engine.clock.now(), settings.zone)
    return None if start is None else instant(start, settings.zone)


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
