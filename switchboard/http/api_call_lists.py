"""Call-list requests over HTTP (R19): ask, decide, download; the rules are the service's.

``switchboard.calls.requests.CallListService`` decides every step with ``allowed()`` and
its own R19 rules (nobody decides on their own request; only the manager who asked
downloads); this module only translates: JSON in, JSON or CSV out, refusals to 401, 403,
404, 409 or 422. No other route returns call records.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from aiohttp import web

from switchboard.calls.model import CallListRequest, CallsError, record_json, records_csv
from switchboard.calls.requests import (
    CallListConflictError,
    CallListNotFoundError,
    CallListRefusedError,
    CallListService,
    CallListTextError,
)
from switchboard.http.api import PERSON_ID
from switchboard.http.context import ENGINE, json_object, note_refusal, signed_in
from switchboard.http.refusals import BadRequest, Code, bad_choice
from switchboard.http.render import instant
from switchboard.http.security import FieldRefused

log = structlog.get_logger("switchboard.http")

CALL_LISTS = web.AppKey("call_lists", CallListService)
REQUEST_ID = "{request_id:[0-9]{1,9}}"
routes = web.RouteTableDef()


def text_field(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise BadRequest(
            Code.REQUIRED if value is None else Code.NOT_TEXT,
            f"{key} is required and must be a string",
            field=key,
        )
    return value


def instant_field(body: dict[str, Any], key: str) -> datetime:
    value = text_field(body, key)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            Code.BAD_INSTANT, f"{key}: not an ISO 8601 instant: {value!r}", field=key
        ) from None
    if parsed.tzinfo is None:
        raise BadRequest(Code.NEEDS_ZONE, f"{key} needs a time zone (e.g. +01:00 or Z)", field=key)
    return parsed


def request_json(request: web.Request, item: CallListRequest) -> dict[str, Any]:
    engine = request.app[ENGINE]
    zone = engine.settings.zone
    person = engine.view.person(item.person_id)
    return {
        "id": item.request_id,
        "person_id": item.person_id,
        "person_name": person.name if person else None,
        "requester": item.requester,
        "start": instant(item.start, zone),
        "end": instant(item.end, zone),
        "reason": item.reason,
        "created_at": instant(item.created_at, zone),
        "status": item.status.value,
        "decided_by": item.decided_by,
        "decided_at": instant(item.decided_at, zone),
        "comment": item.comment,
        "expires_at": instant(item.expires_at, zone),
        "downloads_left": item.downloads_left,
    }


def _refusal(
    exc: CallsError, request: web.Request, step: str, subject: str | None = None
) -> web.HTTPException:
    if isinstance(exc, CallListRefusedError):
        note_refusal(request, step, subject)  # audited by the refusals middleware
        return web.HTTPForbidden(text=str(exc))
    if isinstance(exc, CallListNotFoundError):
        return web.HTTPNotFound(text=str(exc))
    if isinstance(exc, CallListConflictError):
        return web.HTTPConflict(text=str(exc))
    if isinstance(exc, CallListTextError):
        return FieldRefused(exc.field, str(exc))
    return web.HTTPUnprocessableEntity(text=str(exc))


def _id(request: web.Request) -> int:
    return int(request.match_info["request_id"])


@routes.post("/api/v1/call-lists")
async def ask(request: web.Request) -> web.Response:
    """A manager asks for one employee's calls in one period, with a reason (R19)."""
    account = signed_in(request)
    body = await json_object(request, {"person_id", "start", "end", "reason"})
    person_id = text_field(body, "person_id")
    start, end = instant_field(body, "start"), instant_field(body, "end")
    reason = text_field(body, "reason")
    try:
        made = await request.app[CALL_LISTS].request(account, person_id, start, end, reason)
    except CallsError as exc:
        log.info("call_list_refused", username=account.username, step="request")
        # The subject only when it is someone: a body's text never reaches the trail raw.
        known = request.app[ENGINE].view.person(person_id) if PERSON_ID.match(person_id) else None
        subject = known.person_id if known is not None else None
        raise _refusal(exc, request, "request_call_list", subject) from None
    log.info("call_list_requested", username=account.username, call_list=made.request_id)
    return web.json_response(request_json(request, made), status=201)


@routes.get("/api/v1/call-lists")
async def list_requests(request: web.Request) -> web.Response:
    """Administrators see every request; everyone else the ones they made (maybe none)."""
    account = signed_in(request)
    found = await request.app[CALL_LISTS].visible(account)
    return web.json_response({"requests": [request_json(request, r) for r in found]})


@routes.get(f"/api/v1/call-lists/{REQUEST_ID}")
async def get_request(request: web.Request) -> web.Response:
    account = signed_in(request)
    try:
        found = await request.app[CALL_LISTS].get(account, _id(request))
    except CallsError as exc:
        raise _refusal(exc, request, "read_call_list") from None
    return web.json_response(request_json(request, found))


async def _decide(request: web.Request, approve: bool) -> web.Response:
    account = signed_in(request)
    body = await json_object(request, {"comment"})
    comment = text_field(body, "comment")
    try:
        decided = await request.app[CALL_LISTS].decide(account, _id(request), approve, comment)
    except CallsError as exc:
        log.info("call_list_refused", username=account.username, step="decide")
        raise _refusal(exc, request, "approve_call_list") from None
    return web.json_response(request_json(request, decided))


@routes.post(f"/api/v1/call-lists/{REQUEST_ID}/approve")
async def approve(request: web.Request) -> web.Response:
    return await _decide(request, True)


@routes.post(f"/api/v1/call-lists/{REQUEST_ID}/reject")
async def reject(request: web.Request) -> web.Response:
    return await _decide(request, False)


@routes.get(f"/api/v1/call-lists/{REQUEST_ID}/records")
async def download(request: web.Request) -> web.Response:
    """The approved call list, to the manager who asked: JSON, or CSV with ?format=csv.

    Each download counts (at most 3, within 7 days of approval) and is audited.
    """
    account = signed_in(request)
    kind = request.query.get("format", "json")
    if kind not in ("json", "csv"):
        raise bad_choice("format", ["json", "csv"], "format must be json or csv")
    try:
        released, records = await request.app[CALL_LISTS].download(account, _id(request))
    except CallsError as exc:
        log.info("call_list_refused", username=account.username, step="download")
        raise _refusal(exc, request, "download_call_list") from None
    log.info("call_list_downloaded", username=account.username, count=len(records))
    if kind == "csv":
        name = f"call-list-{released.request_id}.csv"
        return web.Response(
            text=records_csv(records),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return web.json_response(
        {"request": request_json(request, released), "calls": [record_json(r) for r in records]}
    )
