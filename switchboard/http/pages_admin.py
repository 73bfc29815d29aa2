"""The administration pages (issue 5): the directory import, people and roles, R16
exceptions, the audit trail and R19 call-list requests.

Each page asks ``allowed()`` (through ``admin_nav``) before it reads anything, and shows
only what the account may use. The import is a plain form (a file upload needs no
script): the first post is a dry run that shows every change and every error by line;
the second imports the very bytes that were checked, all or nothing. Everything else
changes state through the administration JSON API from ``admin.js``, with the session's
CSRF token, so the rules live in one place.
"""

from __future__ import annotations

import asyncio
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from aiohttp import web

from switchboard.accounts.model import Account, Role
from switchboard.calls.model import CallListRequest, RequestStatus
from switchboard.directory.csv_import import DirectoryImportError, InferredOrganisation
from switchboard.directory.import_preview import PREVIEW_ROWS, SHOWN_PROBLEMS
from switchboard.directory.import_preview import Change as PersonChange
from switchboard.directory.model import PolicyRule
from switchboard.http import admin_nav, carried_file
from switchboard.http.admin_nav import Section
from switchboard.http.api_admin import (
    ADMIN_ACCOUNTS,
    IMPORT_PAGE,
    MAX_AUDIT,
    PEOPLE_ORDER,
    account_matches,
    people_wanted,
    unit_names,
)
from switchboard.http.api_call_lists import CALL_LISTS
from switchboard.http.audit_view import audit_row
from switchboard.http.context import ACCESS, ENGINE, PRINCIPAL, note_refusal
from switchboard.http.forms import Upload, read_form
from switchboard.http.page_render import page_person, page_strings, render_page, signin_redirect
from switchboard.http.people_list import encode_cursor
from switchboard.http.principal import Permission
from switchboard.live.engine import Engine

routes = web.RouteTableDef()
AUDIT_PAGE = 50
COLUMN_NAMES = {"extension": "number", "person_id": "id"}
"""Person fields by the CSV column that sets them (the administrator knows the file)."""


@dataclass(frozen=True, slots=True)
class Change:
    name: str
    columns: tuple[str, ...]
    """The changed columns; empty for someone new."""

    @classmethod
    def of(cls, change: PersonChange) -> Change:
        return cls(change.name, tuple(COLUMN_NAMES.get(f, f) for f in change.fields))


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    column: str | None
    message: str
    code: str | None = None
    """Set: the page says it in the reader's language (``import.error.<code>``)."""
    params: Mapping[str, str] = field(default_factory=dict)
    """The values the translated sentence names (issue 16)."""


@dataclass(frozen=True, slots=True)
class Placed:
    """A person whose organisation the import inferred, as the page shows them."""

    line: int
    name: str
    organisation: str
    """The organisation's display name."""
    how: str
    """``email_domain`` or ``default``: the page's ``import.inferred_<how>``."""
    domain: str | None


def _placed(engine: Engine, inferred: Sequence[InferredOrganisation]) -> list[Placed]:
    names = {o.org_id: o.name for o in engine.settings.organisations}
    return [
        Placed(i.line, i.name, names.get(i.organisation, i.organisation), i.how.value, i.domain)
        for i in inferred
    ]


def _account(request: web.Request) -> Account:
    account = request[PRINCIPAL].account
    if account is None:
        if request.method == "GET":
            raise signin_redirect(request)
        raise web.HTTPUnauthorized(text="sign in first")
    return account


def _require(request: web.Request, section: Section) -> Account:
    """The account, if it may use ``section``; otherwise 401/redirect or 403, unchanged."""
    account = _account(request)
    if not admin_nav.may_use(section, account, request.app[ACCESS].allowed):
        note_refusal(request, f"admin_{section.key}")
        raise web.HTTPForbidden(text="your account may not use this part of the administration")
    return account


def _page(
    request: web.Request, template: str, page: str, status: int = 200, **context: Any
) -> web.Response:
    account = request[PRINCIPAL].account
    person = page_person(request, account)
    data = {"page": page, "csrf": request[PRINCIPAL].csrf_token}
    response = render_page(request, template, person, data, has_me=person is not None, **context)
    response.set_status(status)
    return response


def _local(engine: Engine, at: datetime | None) -> str:
    return "" if at is None else at.astimezone(engine.settings.zone).strftime("%Y-%m-%d %H:%M")


# -- overview --------------------------------------------------------------------------------
@routes.get("/admin")
async def overview(request: web.Request) -> web.Response:
    account = _account(request)
    engine = request.app[ENGINE]
    allowed = request.app[ACCESS].allowed
    sections = admin_nav.admin_sections(account, allowed)
    if not sections:
        note_refusal(request, "admin")
        raise web.HTTPForbidden(text="your account has no part in the administration")
    counts: dict[str, int] = {
        "import": engine.view.count(),
        "policy": len(engine.view.exceptions),
    }
    if admin_nav.PEOPLE in sections:
        counts["people"] = len(await request.app[ADMIN_ACCOUNTS].accounts())
    if admin_nav.CALL_LISTS in sections:
        visible = await request.app[CALL_LISTS].visible(account)
        counts["call_lists"] = sum(1 for r in visible if r.status is RequestStatus.PENDING)
    return _page(request, "admin_index.html", "admin", counts=counts)


# -- directory import ------------------------------------------------------------------------
class _UploadRefusedError(Exception):
    """No file to check, or a carried file that arrived damaged: the import page says so
    on its file field, in the reader's language (``key``; issue 16, WCAG 3.3.1)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


async def _uploaded(request: web.Request) -> tuple[bytes, str, bool]:
    """The CSV bytes (a new file, or the checked file carried to the import step), its
    name, and whether to import (True) or only check (False)."""
    form = await read_form(request)
    upload = form.get("file")
    carried = form.get("carried")
    if isinstance(upload, Upload) and upload.filename:
        return upload.data, upload.filename, False
    if isinstance(carried, str) and carried:
        try:
            data = await carried_file.decoded(carried)
        except (binascii.Error, ValueError):
            raise _UploadRefusedError("import.damaged") from None
        name = form.get("filename")
        return data, name if isinstance(name, str) and name else "upload.csv", True
    raise _UploadRefusedError("import.need_file")


@routes.get("/admin/import")
async def import_page(request: web.Request) -> web.Response:
    _require(request, admin_nav.IMPORT)
    return _page(request, "admin_import.html", "admin-import", stage="choose")


@routes.post("/admin/import", name=IMPORT_PAGE)
async def import_post(request: web.Request) -> web.StreamResponse:
    """A new file is checked (dry run); a checked file is imported. Errors: 422, by line."""
    account = _require(request, admin_nav.IMPORT)
    try:
        data, filename, commit = await _uploaded(request)
    except _UploadRefusedError as exc:
        return _page(
            request, "admin_import.html", "admin-import", 400, stage="choose", file_error=exc.key
        )
    engine = request.app[ENGINE]
    try:
        outcome = await engine.import_directory(
            data, filename, account.username, dry_run=not commit
        )
    except DirectoryImportError as exc:
        problems = [
            RowProblem(e.line, e.column, e.message, e.code, e.values)
            for e in exc.errors[:SHOWN_PROBLEMS]
        ]
        return _page(
            request,
            "admin_import.html",
            "admin-import",
            422,
            stage="errors",
            filename=filename,
            problems=problems,
            problem_count=exc.total,
        )
    if commit and outcome.result is not None:
        result = outcome.result
        return _page(
            request,
            "admin_import.html",
            "admin-import",
            stage="done",
            filename=filename,
            result=result,
            inferred=_placed(engine, outcome.inferred),
            inferred_count=outcome.inferred_count,
        )
    preview = outcome.preview
    if preview is None:  # pragma: no cover - a dry run always has one
        raise web.HTTPInternalServerError(text="the check made no preview")
    page = _page(
        request,
        "admin_import.html",
        "admin-import",
        stage="checked",
        filename=filename,
        carried=carried_file.MARK,
        created=[Change.of(c) for c in preview.created],
        updated=[Change.of(c) for c in preview.updated],
        created_count=preview.created_count,
        updated_count=preview.updated_count,
        unchanged=preview.unchanged,
        shown=PREVIEW_ROWS,
        total=outcome.people,
        inferred=_placed(engine, outcome.inferred),
        inferred_count=outcome.inferred_count,
    )
    return await carried_file.send_with(request, page, data)


# -- people and roles ------------------------------------------------------------------------
@routes.get("/admin/people")
async def people_page(request: web.Request) -> web.Response:
    """A page of people at a time, searched and filtered on the server (issue 15): at
    100,000 people the whole list is neither sorted per request nor sent."""
    _require(request, admin_nav.PEOPLE)
    engine = request.app[ENGINE]
    accounts = await request.app[ADMIN_ACCOUNTS].accounts()
    wanted = people_wanted(request, accounts)
    role = request.query.get("role", "")
    ordered, ids, next_key = await request.app[PEOPLE_ORDER].page(wanted)
    by_person: dict[str, list[Account]] = {}
    for item in accounts:
        if item.person_id is not None:
            by_person.setdefault(item.person_id, []).append(item)
    rows = [
        (p, by_person.get(p.person_id, []))
        for p in (engine.view.person(i) for i in ids)
        if p is not None
    ]
    others = [a for a in accounts if a.person_id is None and account_matches(a, wanted, role)]
    shown = [a for _, listed in rows for a in listed] + others
    return _page(
        request,
        "admin_people.html",
        "admin-people",
        rows=rows,
        others=others,
        roles=[r.value for r in Role],
        plan=engine.settings.plan,
        units={a.username: unit_names(request, ordered, a) for a in shown},
        query=request.query.get("q", "").strip()[:200],
        role_filter=role,
        paged=wanted.after is not None,
        next_cursor=None if next_key is None else encode_cursor(next_key),
        limit=wanted.limit,
        total=engine.view.count(),
    )


# -- policy exceptions (R16) -----------------------------------------------------------------
@routes.get("/admin/policy")
async def policy_page(request: web.Request) -> web.Response:
    _require(request, admin_nav.POLICY)
    engine = request.app[ENGINE]
    listed = [
        (e, engine.view.find(e.subject), _local(engine, e.granted_at))
        for e in engine.view.exceptions
    ]
    # No list of everyone to choose from: the form takes a typed person, which the API
    # resolves (at region scale such a list made the page megabytes).
    return _page(
        request,
        "admin_policy.html",
        "admin-policy",
        exceptions=listed,
        rules=[r.value for r in PolicyRule],
        own_policy=engine.settings.own_calendars,
        own_connected=len(await engine.store.own_calendars()),
    )


# -- audit trail -----------------------------------------------------------------------------
def _number(request: web.Request, name: str, highest: int) -> int | None:
    text = request.query.get(name, "")
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) <= highest:
        raise web.HTTPBadRequest(text=f"{name} must be a whole number from 1 to {highest}")
    return int(text)


@routes.get("/admin/audit")
async def audit_page(request: web.Request) -> web.Response:
    """Newest first, ``AUDIT_PAGE`` (or ``limit``) at a time; ``person`` is a number or an
    e-mail found in the directory, or a subject as the trail writes it (``account:NAME``)."""
    _require(request, admin_nav.AUDIT)
    engine = request.app[ENGINE]
    person_text = request.query.get("person", "").strip()[:200]
    actor = request.query.get("actor", "").strip()[:200] or None
    subject = None
    if person_text:
        found = engine.view.find(person_text)
        subject = found.person_id if found is not None else person_text
    before = _number(request, "before", 2**62)
    limit = _number(request, "limit", MAX_AUDIT) or AUDIT_PAGE
    entries = await engine.store.audit_page(limit, before=before, subject=subject, actor=actor)
    names = {p.person_id: p.name for p in engine.view.everyone()}
    strings = page_strings(request, page_person(request, request[PRINCIPAL].account))
    zone = engine.settings.zone
    rows = [
        audit_row(e, _local(engine, e.at), names.get(e.subject), strings, zone) for e in entries
    ]
    return _page(
        request,
        "admin_audit.html",
        "admin-audit",
        rows=rows,
        some_english=any(r.english for r in rows),
        person_filter=person_text,
        actor_filter=actor or "",
        first_page=before is None,
        limit=limit,
        next_before=entries[-1].seq if len(entries) == limit else None,
        utc_zone=UTC,
    )


# -- call lists (R19) ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RequestRow:
    item: CallListRequest
    person_name: str
    period: str
    created: str
    decided: str
    may_decide: bool
    may_download: bool


def _period(engine: Engine, start: datetime, end: datetime) -> str:
    """Whole days read as days, the last one included ("2026-11-16 – 2026-11-22"); any
    other period with its times."""
    zone = engine.settings.zone
    first, after = start.astimezone(zone), end.astimezone(zone)
    if first.time() == after.time() == time(0):
        last = (after - timedelta(days=1)).date()
        return first.date().isoformat() + ("" if last == first.date() else f" – {last}")
    return f"{_local(engine, start)} – {_local(engine, end)}"


def _request_row(
    engine: Engine, account: Account, item: CallListRequest, may_approve: bool
) -> RequestRow:
    person = engine.view.person(item.person_id)
    now = engine.clock.now()
    return RequestRow(
        item,
        person.name if person is not None else item.person_id,
        _period(engine, item.start, item.end),
        _local(engine, item.created_at),
        _local(engine, item.decided_at),
        may_decide=may_approve
        and item.status is RequestStatus.PENDING
        and item.requester_id != account.account_id
        and item.person_id != account.person_id,
        may_download=item.requester_id == account.account_id and item.downloadable(now),
    )


@routes.get("/admin/call-lists")
async def call_lists_page(request: web.Request) -> web.Response:
    account = _require(request, admin_nav.CALL_LISTS)
    engine = request.app[ENGINE]
    allowed = request.app[ACCESS].allowed
    may_approve = allowed(account, Permission.APPROVE_CALL_LIST)
    asked = await request.app[CALL_LISTS].visible(account)
    rows = [_request_row(engine, account, r, may_approve) for r in asked]
    # Whom this manager may ask for: a scan of the directory, in a thread (60-80 ms at
    # 100,000 people).
    people = await asyncio.to_thread(
        admin_nav.requestable, account, allowed, engine.view.everyone()
    )
    return _page(
        request,
        "admin_call_lists.html",
        "admin-call-lists",
        rows=rows,
        people=people,
        may_approve=may_approve,
        pending=sum(1 for r in rows if r.may_decide),
    )
