"""The administration API (issue 5): directory import, people and roles, R16 exceptions,
the audit trail; and (from ``api_call_lists``) the call-list requests of R19.

Every route asks ``allowed()`` through ``api.require`` before it reads or changes anything,
so a refused request (401 or 403) has changed nothing; state changes with a cookie pass
the CSRF middleware first. ``install`` is the one line ``build_app`` calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from aiohttp import web

from switchboard.accounts.model import USERNAME, Account, AccountError, Role, normalise_username
from switchboard.calls.requests import CallListService
from switchboard.directory.csv_import import DirectoryImportError
from switchboard.directory.import_preview import SHOWN_PROBLEMS
from switchboard.directory.model import Person, PolicyException, PolicyRule
from switchboard.directory.search import fold
from switchboard.http import api_accounts, api_call_lists
from switchboard.http.api import require, unprocessable
from switchboard.http.api_accounts import PASSWORD_LINKS, account_json
from switchboard.http.api_call_lists import CALL_LISTS, text_field
from switchboard.http.context import BUS, ENGINE, json_object, signed_in
from switchboard.http.people_list import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    CursorError,
    Ordered,
    PeopleOrder,
    Wanted,
    decode_cursor,
    encode_cursor,
)
from switchboard.http.principal import Permission
from switchboard.http.refusals import Code, Unprocessable, bad_choice, not_boolean, not_text
from switchboard.http.render import instant
from switchboard.http.security import MAX_IMPORT_BYTES, ROUTE_BODY_LIMITS, error_response
from switchboard.http.shapes import person_json
from switchboard.live.accounts import AccountService
from switchboard.live.engine import Engine, EngineError
from switchboard.live.password_links import PasswordLinks
from switchboard.store.protocol import AuditEntry, NotFoundError

log = structlog.get_logger("switchboard.http")

ADMIN_ACCOUNTS = web.AppKey("admin_accounts", AccountService)
"""The full account service (roles, listing); the edge's ``Access`` has only sign-in."""
PEOPLE_ORDER = web.AppKey("people_order", PeopleOrder)
"""The directory in name order, for the people list a page at a time (issue 15)."""
MAX_AUDIT = 500
table = web.RouteTableDef()
IMPORT_API = "directory_import_api"
IMPORT_PAGE = "directory_import_page"
"""The directory import's routes (this API's and ``/admin/import``'s): their own body limit."""


def install(app: web.Application, engine: Engine) -> None:
    """Routes and services of the administration API and of call-list requests."""
    app[ADMIN_ACCOUNTS] = AccountService(engine.store, engine.clock, find_person=engine.view.find)
    app[CALL_LISTS] = CallListService(
        engine.store, engine.clock, engine.view.person, secret_numbers=engine.secret_numbers
    )
    app[PEOPLE_ORDER] = PeopleOrder(engine.view.everyone, engine.view.person)
    app[PASSWORD_LINKS] = PasswordLinks(app[ADMIN_ACCOUNTS])
    app.router.add_routes(api_accounts.routes)
    app.cleanup_ctx.append(_order_listener)
    app[ROUTE_BODY_LIMITS] = app.get(ROUTE_BODY_LIMITS, {}) | {
        IMPORT_API: MAX_IMPORT_BYTES,
        IMPORT_PAGE: MAX_IMPORT_BYTES,
    }
    app.router.add_routes(table)
    app.router.add_routes(api_call_lists.routes)


async def _order_listener(app: web.Application) -> AsyncIterator[None]:
    """The people list's order is rebuilt after the directory changes."""
    remove = app[BUS].add_listener(app[PEOPLE_ORDER].changed)
    try:
        yield
    finally:
        remove()


def _actor(request: web.Request) -> Account:
    return signed_in(request)


def _flag(request: web.Request, name: str) -> bool:
    value = request.query.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise not_boolean(name)
    return value in ("true", "1")


# -- directory import ----------------------------------------------------------------------
@table.post("/api/v1/admin/directory/import", name=IMPORT_API)
async def import_directory(request: web.Request) -> web.Response:
    """The CSV import, all or nothing; errors per line as ``{line, column, message}``."""
    require(request, Permission.IMPORT_DIRECTORY, None)
    account = _actor(request)
    dry_run = _flag(request, "dry_run")
    if request.content_type not in ("text/csv", "application/octet-stream", "text/plain"):
        raise web.HTTPUnsupportedMediaType(text="send the CSV file as text/csv")
    data = await request.read()
    engine = request.app[ENGINE]
    try:
        outcome = await engine.import_directory(
            data, "upload.csv", account.username, dry_run=dry_run
        )
    except DirectoryImportError as exc:
        errors = [
            {
                "line": e.line,
                "column": e.column,
                "message": e.message,
                "code": e.code,
                "params": e.values,
            }
            for e in exc.errors[:SHOWN_PROBLEMS]
        ]
        return error_response(
            request, 422, f"{exc.total} problem(s); nothing was imported", errors=errors
        )
    except UnicodeDecodeError:
        errors = [{"line": 1, "column": None, "message": "not UTF-8 or Windows-1252 text"}]
        return error_response(request, 422, "the file is not text", errors=errors)
    result, preview = outcome.result, outcome.preview
    counts: tuple[int | None, int | None, int | None] = (None, None, None)
    if result is not None:
        counts = (result.created, result.updated, result.unchanged)
    elif preview is not None:  # a dry run: what the import would do
        counts = (preview.created_count, preview.updated_count, preview.unchanged)
    log.info("directory_imported_over_http", username=account.username, dry_run=dry_run)
    return web.json_response(
        {
            "dry_run": dry_run,
            "people": outcome.people,
            "created": counts[0],
            "updated": counts[1],
            "unchanged": counts[2],
            "inferred": [
                {
                    "line": i.line,
                    "name": i.name,
                    "organisation": i.organisation,
                    "how": i.how.value,
                    "domain": i.domain,
                }
                for i in outcome.inferred
            ],
            "inferred_count": outcome.inferred_count,
        }
    )


# -- people and roles ----------------------------------------------------------------------
def people_wanted(request: web.Request, accounts: list[Account]) -> Wanted:
    """The page asked for by ``limit``, ``after`` (a cursor), ``q`` (words of a name, unit,
    title, extension, e-mail or username) and ``role``; a bad value is a 400 naming it."""
    limit = _int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT) or DEFAULT_LIMIT
    after = None
    cursor = request.query.get("after", "")
    if cursor:
        try:
            after = decode_cursor(cursor)
        except CursorError:
            raise web.HTTPBadRequest(
                text="after must be the 'next' value of an earlier page"
            ) from None
    text = fold(request.query.get("q", "").strip()[:200])
    role = request.query.get("role", "")
    if role and role not in {r.value for r in Role}:
        raise web.HTTPBadRequest(text=f"role must be one of {', '.join(r.value for r in Role)}")
    also = frozenset(
        a.person_id
        for a in accounts
        if text and a.person_id is not None and text in fold(f"{a.username} {a.display_name}")
    )
    only = None
    if role:
        only = frozenset(
            a.person_id for a in accounts if a.person_id is not None and Role(role) in a.roles
        )
    return Wanted(after, limit, text, also, only)


def account_matches(account: Account, wanted: Wanted, role: str) -> bool:
    """Whether an account that is nobody in the directory belongs in a filtered list."""
    if role and Role(role) not in account.roles:
        return False
    return not wanted.text or wanted.text in fold(f"{account.username} {account.display_name}")


def unit_names(request: web.Request, ordered: Ordered, account: Account) -> list[str]:
    """The units a manager manages, as people read them ("Socialtjänsten, Sotenäs"), not
    as keys ("sotenas/socialtjänsten"); a key no one in the directory has stays a key."""
    organisations = {
        o.org_id.casefold(): o.name for o in request.app[ENGINE].settings.organisations
    }
    names = []
    for key in sorted(account.manages):
        org, _, _unit = key.partition("/")
        unit = ordered.units.get(key)
        names.append(f"{unit}, {organisations.get(org, org)}" if unit is not None else key)
    return names


@table.get("/api/v1/admin/people")
async def people(request: web.Request) -> web.Response:
    """People in name order, a page at a time, with their accounts; and the accounts that
    are nobody in the directory (issue 15: never the whole region in one answer)."""
    require(request, Permission.MANAGE_ACCOUNTS, None)
    engine = request.app[ENGINE]
    accounts = await request.app[ADMIN_ACCOUNTS].accounts()
    wanted = people_wanted(request, accounts)
    role = request.query.get("role", "")
    ordered, ids, next_key = await request.app[PEOPLE_ORDER].page(wanted)
    by_person: dict[str, list[dict[str, Any]]] = {}
    for account in accounts:
        if account.person_id is not None:
            entry = account_json(account) | {"manages_names": unit_names(request, ordered, account)}
            by_person.setdefault(account.person_id, []).append(entry)
    listed = []
    for person_id in ids:
        person = engine.view.person(person_id)
        if person is None:  # removed since the order was built
            continue
        entry = person_json(person, engine)
        entry["accounts"] = by_person.get(person.person_id, [])
        listed.append(entry)
    others = [
        account_json(a) | {"manages_names": unit_names(request, ordered, a)}
        for a in accounts
        if a.person_id is None and account_matches(a, wanted, role)
    ]
    return web.json_response(
        {
            "people": listed,
            "accounts_without_person": others,
            "total": engine.view.count(),
            "limit": wanted.limit,
            "next": None if next_key is None else encode_cursor(next_key),
        }
    )


@table.put("/api/v1/admin/accounts/{username}/roles")
async def set_roles(request: web.Request) -> web.Response:
    """Replace an account's roles (and, for managers, the units they manage: R19)."""
    require(request, Permission.MANAGE_ACCOUNTS, None)
    account = _actor(request)
    username = normalise_username(request.match_info["username"])
    if not USERNAME.fullmatch(username):
        raise web.HTTPNotFound(text="there is no such account")
    body = await json_object(request, {"roles", "manages"})
    roles, manages = body.get("roles"), body.get("manages")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise web.HTTPBadRequest(text="roles must be a list of role names")
    if manages is not None and (
        not isinstance(manages, list) or not all(isinstance(m, str) for m in manages)
    ):
        raise web.HTTPBadRequest(text="manages must be a list of organisation/unit names")
    known = {r.value for r in Role}
    if not set(roles) <= known:
        raise web.HTTPUnprocessableEntity(text=f"roles are {', '.join(sorted(known))}")
    service = request.app[ADMIN_ACCOUNTS]
    if await service.find(username) is None:
        raise web.HTTPNotFound(text="there is no such account")
    try:
        changed = await service.set_roles(
            username, [Role(r) for r in roles], account.username, manages=manages
        )
    except AccountError as exc:
        raise web.HTTPUnprocessableEntity(text=str(exc)) from None
    log.info("account_roles_set_over_http", username=account.username, target=username)
    return web.json_response(account_json(changed))


# -- policy exceptions (R16) ---------------------------------------------------------------
def exception_json(request: web.Request, e: PolicyException) -> dict[str, Any]:
    zone = request.app[ENGINE].settings.zone
    return {
        "subject": e.subject,
        "rule": e.rule.value,
        "reason": e.reason,
        "granted_by": e.granted_by,
        "granted_at": instant(e.granted_at, zone),
    }


def _rule(body: dict[str, Any]) -> PolicyRule:
    value = body.get("rule")
    if value not in {r.value for r in PolicyRule}:
        rules = [r.value for r in PolicyRule]
        raise bad_choice("rule", rules, f"rule must be one of {', '.join(rules)}")
    return PolicyRule(value)


def _grantee(engine: Engine, subject: str) -> Person:
    """The person an exception is granted to, as the administrator typed them: an
    extension, a number or an e-mail (``view.find``, as the audit page's person filter), or
    the person id the exception list shows for someone with neither e-mail nor extension.

    Nobody found is refused here, though the engine would keep any subject as it is: a
    typo would otherwise become an exception that lifts R16 for nobody while the form said
    it was granted. Granting ahead of a directory import (an e-mail not there yet, so that
    the import accepts the person's hidden number) stays with ``switchboard policy grant``.
    The typed text is not echoed: it may be a secret mobile (R18)."""
    person = engine.view.find(subject) or engine.view.person(subject.strip())
    if person is None:
        raise Unprocessable(
            Code.UNKNOWN_PERSON,
            "subject: nobody in the directory has that extension, number or e-mail",
            field="subject",
        )
    return person


@table.get("/api/v1/admin/exceptions")
async def exceptions(request: web.Request) -> web.Response:
    require(request, Permission.MANAGE_POLICY, None)
    found = request.app[ENGINE].view.exceptions
    return web.json_response({"exceptions": [exception_json(request, e) for e in found]})


@table.post("/api/v1/admin/exceptions")
async def grant_exception(request: web.Request) -> web.Response:
    """Lift an R16 rule for one person, with a reason that is kept."""
    require(request, Permission.MANAGE_POLICY, None)
    account = _actor(request)
    body = await json_object(request, {"subject", "rule", "reason"})
    subject, rule = text_field(body, "subject"), _rule(body)
    reason = text_field(body, "reason")
    engine = request.app[ENGINE]
    person = _grantee(engine, subject)
    # The key the engine keeps an exception under, whatever form the person was typed in.
    key = person.email or person.extension or person.person_id
    try:
        granted = await engine.grant_exception(key, rule, reason, account.username)
    except EngineError as exc:
        raise unprocessable(exc) from None
    return web.json_response(exception_json(request, granted), status=201)


@table.post("/api/v1/admin/exceptions/revoke")
async def revoke_exception(request: web.Request) -> web.Response:
    """R16 applies again; refused while the person's settings rely on the exception."""
    require(request, Permission.MANAGE_POLICY, None)
    account = _actor(request)
    body = await json_object(request, {"subject", "rule", "reason"})
    subject, rule = text_field(body, "subject"), _rule(body)
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise not_text("reason")
    try:
        await request.app[ENGINE].revoke_exception(subject, rule, account.username, reason)
    except NotFoundError:
        raise web.HTTPNotFound(text=f"no exception to {rule.value} for {subject!r}") from None
    except EngineError as exc:
        raise unprocessable(exc) from None
    return web.json_response({"revoked": True, "subject": subject, "rule": rule.value})


# -- audit trail ---------------------------------------------------------------------------
def _int(request: web.Request, name: str, default: int | None, lo: int, hi: int) -> int | None:
    text = request.query.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be a whole number") from None
    if not lo <= value <= hi:
        raise web.HTTPBadRequest(text=f"{name} must be between {lo} and {hi}")
    return value


def audit_json(entry: AuditEntry, zone: ZoneInfo) -> dict[str, Any]:
    """One entry: when (in the organisation's zone and in UTC), who, how and from where,
    what, on whom, the decision, and each changed value old -> new (issue 17)."""
    return {
        "seq": entry.seq,
        "at": instant(entry.at, zone),
        "at_utc": entry.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "actor": entry.actor,
        "via": entry.via,
        "source": entry.source,
        "request_id": entry.request_id,
        "action": entry.action,
        "subject": entry.subject,
        "decision": entry.decision.value,
        "detail": entry.detail,
        "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in entry.changes],
    }


@table.get("/api/v1/admin/audit")
async def audit(request: web.Request) -> web.Response:
    """Newest first, a page at a time (``before`` = the ``next_before`` of the last page);
    ``person`` filters by subject (a person_id, ``account:NAME``), ``actor`` by who did it."""
    require(request, Permission.READ_AUDIT, None)
    limit = _int(request, "limit", 100, 1, MAX_AUDIT) or 100
    before = _int(request, "before", None, 1, 2**62)
    person = request.query.get("person") or None
    actor = request.query.get("actor") or None
    engine = request.app[ENGINE]
    entries = await engine.store.audit_page(limit, before=before, subject=person, actor=actor)
    zone = engine.settings.zone
    return web.json_response(
        {
            "entries": [audit_json(e, zone) for e in entries],
            "next_before": entries[-1].seq if len(entries) == limit else None,
        }
    )
