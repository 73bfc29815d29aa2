"""Accounts from the web (issue 16): create, disable, enable, and a one-time link to set a
password; roles are ``api_admin.set_roles``. Until now only ``switchboard users`` could.

Every route asks ``allowed()`` for MANAGE_ACCOUNTS first, so a refusal changes nothing;
every change is audited by the store with who did it, how and from where. A bad field is a
422 that names the field and a code the page translates (``error.<code>``).
"""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import web

from switchboard.accounts.model import USERNAME, Account, AccountError, Role, normalise_username
from switchboard.accounts.reset_links import ResetLink
from switchboard.http.api import require
from switchboard.http.context import ENGINE, json_object, signed_in
from switchboard.http.principal import Permission
from switchboard.http.security import FieldRefused
from switchboard.live.password_links import PasswordLinks
from switchboard.store.protocol import StoreError

log = structlog.get_logger("switchboard.http")

PASSWORD_LINKS = web.AppKey("password_links", PasswordLinks)
MAX_DISPLAY_NAME = 100
routes = web.RouteTableDef()


def link_json(link: ResetLink) -> dict[str, Any]:
    """The link to hand over, shown once: nothing kept can show it again."""
    return {"link": link.path, "expires": link.expires}


def _text(body: dict[str, Any], name: str, code: str, *, required: bool) -> str | None:
    """A text field, trimmed; an optional one may be absent or blank (None)."""
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise FieldRefused(name, f"{name} must be a string", code)
    text = (value or "").strip()
    if not text and required:
        raise FieldRefused(name, f"{name} is required", code)
    return text or None


def _roles(body: dict[str, Any]) -> list[Role]:
    roles = body.get("roles")
    known = {r.value for r in Role}
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise FieldRefused("roles", "roles must be a list of role names", "bad_roles")
    if not roles:
        raise FieldRefused("roles", "give the account at least one role", "no_role")
    if not set(roles) <= known:
        raise FieldRefused("roles", f"roles are {', '.join(sorted(known))}", "bad_roles")
    return [Role(r) for r in roles]


def _username(request: web.Request) -> str:
    username = normalise_username(request.match_info["username"])
    if not USERNAME.fullmatch(username):
        raise web.HTTPNotFound(text="there is no such account")
    return username


@routes.post("/api/v1/admin/accounts")
async def create_account(request: web.Request) -> web.Response:
    """A new account without a password, and a one-time link to set the first one."""
    require(request, Permission.MANAGE_ACCOUNTS, None)
    actor = signed_in(request)
    body = await json_object(request, {"username", "display_name", "person", "roles", "manages"})
    raw = _text(body, "username", "bad_username", required=True) or ""
    username = normalise_username(raw)
    if not USERNAME.fullmatch(username):
        raise FieldRefused(
            "username",
            "a username is 1 to 64 letters, digits and . @ + - _, starting with a letter or digit",
            "bad_username",
        )
    display_name = _text(body, "display_name", "bad_display_name", required=False)
    if display_name is not None and len(display_name) > MAX_DISPLAY_NAME:
        raise FieldRefused(
            "display_name", f"at most {MAX_DISPLAY_NAME} characters", "bad_display_name"
        )
    person = _text(body, "person", "unknown_person", required=False)
    if person is not None and request.app[ENGINE].view.find(person) is None:
        raise FieldRefused(
            "person", "nobody in the directory has that number or e-mail", "unknown_person"
        )
    roles = _roles(body)
    manages = body.get("manages") or []
    if not isinstance(manages, list) or not all(isinstance(m, str) for m in manages):
        raise FieldRefused("manages", "manages must be a list of organisation/unit", "bad_manages")
    links = request.app[PASSWORD_LINKS]
    service = links.accounts
    if await service.find(username) is not None:
        raise FieldRefused("username", "that username is taken", "username_taken")
    try:
        account = await service.add_account(
            username, display_name, roles, person, None, actor.username, manages=manages
        )
    except AccountError as exc:
        raise FieldRefused("username", str(exc), "account_refused") from None
    except StoreError:  # created by someone else between the check and the write
        raise FieldRefused("username", "that username is taken", "username_taken") from None
    _, link = await links.issue(account.username, actor.username)
    log.info("account_created_over_http", username=actor.username, target=account.username)
    return web.json_response(account_json(account) | {"password_link": link_json(link)}, status=201)


def account_json(account: Account) -> dict[str, Any]:
    """An account as the administrator's API shows it (never its password or sessions)."""
    return {
        "username": account.username,
        "display_name": account.display_name,
        "person_id": account.person_id,
        "roles": sorted(r.value for r in account.roles),
        "manages": sorted(account.manages),
        "disabled": account.disabled,
    }


async def _existing(request: web.Request) -> tuple[Account, Account]:
    """The actor and the account the path names (404 if there is none)."""
    require(request, Permission.MANAGE_ACCOUNTS, None)
    actor = signed_in(request)
    target = await request.app[PASSWORD_LINKS].accounts.find(_username(request))
    if target is None:
        raise web.HTTPNotFound(text="there is no such account")
    return actor, target


@routes.post("/api/v1/admin/accounts/{username}/disable")
async def disable(request: web.Request) -> web.Response:
    """Sign-in, sessions and tokens stop at once; not one's own account (no lock-out)."""
    actor, target = await _existing(request)
    if target.account_id == actor.account_id:
        raise FieldRefused("username", "you cannot disable your own account", "own_account")
    changed = await request.app[PASSWORD_LINKS].accounts.disable(target.username, actor.username)
    log.info("account_disabled_over_http", username=actor.username, target=target.username)
    return web.json_response(account_json(changed))


@routes.post("/api/v1/admin/accounts/{username}/enable")
async def enable(request: web.Request) -> web.Response:
    actor, target = await _existing(request)
    changed = await request.app[PASSWORD_LINKS].accounts.enable(target.username, actor.username)
    log.info("account_enabled_over_http", username=actor.username, target=target.username)
    return web.json_response(account_json(changed))


@routes.post("/api/v1/admin/accounts/{username}/password-link")
async def password_link(request: web.Request) -> web.Response:
    """Reset: the old password and every session end now; the link sets a new one, once."""
    actor, target = await _existing(request)
    if target.disabled:
        raise FieldRefused("username", "enable the account first", "account_disabled")
    _, link = await request.app[PASSWORD_LINKS].issue(target.username, actor.username)
    log.info("password_link_over_http", username=actor.username, target=target.username)
    return web.json_response(link_json(link), status=201)
