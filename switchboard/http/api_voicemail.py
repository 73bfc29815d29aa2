"""The voicemail API (issue 5): greeting and name clip, voicemail inbox, and messages taken
by reception.

Who may do what is ``allowed()``'s alone (through ``api.require``), asked before anything
is read or changed: READ_OWN_VOICEMAIL covers a person's greeting, name clip, inbox and
taken messages (self only, whatever the role: not even an administrator listens to
someone's voicemail); TAKE_MESSAGE lets a receptionist write a message for anyone. The URL
names the target; a body never does.

The greeting and the name clip (``voicemail.model.Recording``) are one set of routes,
``.../greeting`` and ``.../name-clip``. Their upload is the one route with its own body
limit (2 MB of ``audio/wav``, ``security.ROUTE_BODY_LIMITS``); the body is read in chunks
and refused (413) as soon as it grows past that, whatever ``Content-Length`` said.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import structlog
from aiohttp import web

from switchboard.accounts.model import Account
from switchboard.directory.display import display_number
from switchboard.directory.model import Person
from switchboard.directory.numbers import NumberError
from switchboard.directory.secret_text import SecretNumberError
from switchboard.http.api import person_in_url, require
from switchboard.http.context import ENGINE, json_object, signed_in
from switchboard.http.principal import Permission
from switchboard.http.refusals import BadRequest, Code, Unprocessable, not_boolean
from switchboard.http.render import instant
from switchboard.http.security import BAD_NUMBER, ROUTE_BODY_LIMITS, FieldRefused
from switchboard.store.protocol import NotFoundError
from switchboard.voicemail.model import (
    MESSAGE_ID,
    SECRET,
    Recording,
    TakenMessage,
    VoicemailError,
    VoiceMessage,
)
from switchboard.voicemail.notify import MessageDesk, caller_number
from switchboard.voicemail.recordings import StoredRecording
from switchboard.voicemail.service import VoicemailServices
from switchboard.voicemail.spool import Voicemail
from switchboard.voicemail.wav import MAX_UPLOAD_BYTES, WavError

log = structlog.get_logger("switchboard.http")

VOICEMAIL = web.AppKey("voicemail", Voicemail)
DESK = web.AppKey("message_desk", MessageDesk)
RECORDING_UPLOAD = "voicemail_recording_upload"


def segment(recording: Recording) -> str:
    """The last part of a recording's URL: ``greeting``, ``name-clip``."""
    return recording.value.replace("_", "-")


def recording_path(recording: Recording) -> str:
    """The URL of one kind of recording (a route each: the OpenAPI lists each)."""
    return f"/api/v1/people/{{person_id}}/{segment(recording)}"


MISSING = {
    Recording.GREETING: "no greeting recorded; callers hear the standard one",
    Recording.NAME_CLIP: "no name clip recorded; callers hear the name synthesized",
}
WAV_TYPES = frozenset(
    {"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "application/octet-stream"}
)
"""What an upload may be labelled; the bytes are checked as a WAV whatever the label."""
WAV = "audio/wav"
MESSAGE_KEYS = {"caller_name", "caller_number", "text", "call_back"}
routes = web.RouteTableDef()


def install(app: web.Application, services: VoicemailServices) -> None:
    """Routes and services of the voicemail API; the recording upload's own body limit."""
    app[VOICEMAIL] = services.spool
    app[DESK] = services.desk
    limits: dict[str, int] = app.get(ROUTE_BODY_LIMITS, {})
    uploads = {f"{RECORDING_UPLOAD}_{recording.value}": recording for recording in Recording}
    app[ROUTE_BODY_LIMITS] = limits | dict.fromkeys(uploads, MAX_UPLOAD_BYTES)
    for name, recording in uploads.items():
        path = recording_path(recording)
        app.router.add_get(path, get_recording)
        app.router.add_put(path, put_recording, name=name)
        app.router.add_delete(path, delete_recording)
    app.router.add_routes(routes)


def _person(request: web.Request, permission: Permission) -> tuple[Person, Account]:
    """The person in the URL, once ``allowed()`` says this account may do ``permission``."""
    account = signed_in(request)
    person = person_in_url(request)
    require(request, permission, person)
    return person, account


def _message_id(request: web.Request) -> str:
    message_id = request.match_info["message_id"]
    if not MESSAGE_ID.match(message_id):
        raise web.HTTPNotFound(text="no such voicemail")
    return message_id


def _zone(request: web.Request) -> ZoneInfo:
    return request.app[ENGINE].settings.zone


def _recording(request: web.Request) -> Recording:
    """The recording the URL names (a route exists only for those there are)."""
    return Recording(request.path.rsplit("/", 1)[-1].replace("-", "_"))


def recording_json(stored: StoredRecording | None, request: web.Request) -> dict[str, Any] | None:
    if stored is None:
        return None
    return {
        "duration_ms": stored.duration_ms,
        "size": stored.size,
        "updated_at": instant(stored.updated_at, _zone(request)),
        "audio_url": f"/api/v1/people/{stored.person_id}/{segment(stored.recording)}",
    }


def _display(caller: str | None, request: web.Request) -> str | None:
    """The caller's number as the owner reads it (issue 16); ``secret`` (R18) stays a word."""
    if caller is None or caller == SECRET:
        return None
    return display_number(caller, request.app[ENGINE].settings.plan)


def voice_json(message: VoiceMessage, request: web.Request) -> dict[str, Any]:
    return {
        "message_id": message.message_id,
        "received_at": instant(message.received_at, _zone(request)),
        "caller": message.caller,
        "caller_display": _display(message.caller, request),
        "duration_ms": message.duration_ms,
        "heard": message.heard,
        "audio_url": f"/api/v1/people/{message.person_id}/voicemail/{message.message_id}",
    }


def taken_json(message: TakenMessage, request: web.Request) -> dict[str, Any]:
    return {
        "message_id": message.message_id,
        "taken_at": instant(message.taken_at, _zone(request)),
        "taken_by": message.taken_by,
        "caller_name": message.caller_name,
        "caller_number": message.caller_number,
        "caller_display": _display(message.caller_number, request),
        "text": message.text,
        "call_back": message.call_back,
        "email": message.email.value,
    }


# -- greeting and name clip ---------------------------------------------------------------
async def get_recording(request: web.Request) -> web.StreamResponse:
    """The greeting or name clip as stored (8 kHz 16-bit mono WAV), streamed from the spool."""
    person, _ = _person(request, Permission.READ_OWN_VOICEMAIL)
    recording = _recording(request)
    spool = request.app[VOICEMAIL]
    if await spool.recording(person.person_id, recording) is None:
        raise web.HTTPNotFound(text=MISSING[recording])
    path = spool.recording_path(person.person_id, recording)
    return web.FileResponse(path, headers={"Content-Type": WAV})


async def _read_upload(request: web.Request, recording: Recording) -> bytes:
    if request.content_type not in WAV_TYPES:
        raise web.HTTPUnsupportedMediaType(text=f"send the {recording.spoken} as audio/wav")
    body = bytearray()
    while chunk := await request.content.read(64 * 1024):
        body += chunk
        if len(body) > MAX_UPLOAD_BYTES:
            raise web.HTTPRequestEntityTooLarge(
                max_size=MAX_UPLOAD_BYTES,
                actual_size=len(body),
                text=f"a {recording.spoken} may be at most {MAX_UPLOAD_BYTES} bytes",
            )
    return bytes(body)


async def put_recording(request: web.Request) -> web.Response:
    """Replace the greeting (R12: say who you are and where the caller has reached) or the
    name clip (the name callers hear in your own voice, R10-R12)."""
    person, account = _person(request, Permission.READ_OWN_VOICEMAIL)
    recording = _recording(request)
    data = await _read_upload(request, recording)
    try:
        stored = await request.app[VOICEMAIL].set_recording(
            person.person_id, recording, data, account.username
        )
    except WavError as exc:
        # The sentence names the audio's fault in English; the code and params let the
        # pages say it in the reader's language (issue 16).
        raise Unprocessable(exc.code, str(exc), field="file", params=exc.params) from None
    except VoicemailError as exc:
        raise Unprocessable(Code.BAD_AUDIO, str(exc), field="file") from None
    return web.json_response({recording.value: recording_json(stored, request)})


async def delete_recording(request: web.Request) -> web.Response:
    person, account = _person(request, Permission.READ_OWN_VOICEMAIL)
    recording = _recording(request)
    spool = request.app[VOICEMAIL]
    if not await spool.delete_recording(person.person_id, recording, account.username):
        raise web.HTTPNotFound(text=MISSING[recording])
    return web.Response(status=204)


# -- voicemail inbox -----------------------------------------------------------------------
@routes.get("/api/v1/people/{person_id}/voicemail")
async def list_voicemail(request: web.Request) -> web.Response:
    person, _ = _person(request, Permission.READ_OWN_VOICEMAIL)
    spool = request.app[VOICEMAIL]
    messages = await spool.messages(person.person_id)
    recordings = {
        r.value: recording_json(await spool.recording(person.person_id, r), request)
        for r in Recording
    }
    return web.json_response(recordings | {"messages": [voice_json(m, request) for m in messages]})


@routes.get("/api/v1/people/{person_id}/voicemail/{message_id}")
async def get_voicemail(request: web.Request) -> web.StreamResponse:
    """The message's WAV, as a download (``Content-Disposition: attachment``)."""
    person, _ = _person(request, Permission.READ_OWN_VOICEMAIL)
    message_id = _message_id(request)
    spool = request.app[VOICEMAIL]
    message = await spool.message(person.person_id, message_id)
    if message is None:
        raise web.HTTPNotFound(text="no such voicemail")
    stamp = message.received_at.astimezone(_zone(request)).strftime("%Y%m%d-%H%M%S")
    return web.FileResponse(
        spool.message_path(person.person_id, message_id),
        headers={
            "Content-Type": WAV,
            "Content-Disposition": f'attachment; filename="voicemail-{stamp}.wav"',
        },
    )


@routes.post("/api/v1/people/{person_id}/voicemail/{message_id}/heard")
async def mark_heard(request: web.Request) -> web.Response:
    person, account = _person(request, Permission.READ_OWN_VOICEMAIL)
    message_id = _message_id(request)
    try:
        message = await request.app[VOICEMAIL].mark_heard(
            person.person_id, message_id, account.username
        )
    except NotFoundError:
        raise web.HTTPNotFound(text="no such voicemail") from None
    return web.json_response(voice_json(message, request))


@routes.delete("/api/v1/people/{person_id}/voicemail/{message_id}")
async def delete_voicemail(request: web.Request) -> web.Response:
    person, account = _person(request, Permission.READ_OWN_VOICEMAIL)
    message_id = _message_id(request)
    try:
        await request.app[VOICEMAIL].delete(person.person_id, message_id, account.username)
    except NotFoundError:
        raise web.HTTPNotFound(text="no such voicemail") from None
    return web.Response(status=204)


# -- taken messages ------------------------------------------------------------------------


def _string(body: dict[str, Any], key: str, *, required: bool) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise BadRequest(
            Code.REQUIRED if value is None else Code.NOT_TEXT, f"{key} must be a string", field=key
        )
    return value


@routes.post("/api/v1/people/{person_id}/messages")
async def take_message(request: web.Request) -> web.Response:
    """Reception takes a message for the person: stored, then sent by e-mail (never SMS,
    R20). 201 even when the e-mail failed: the message is stored and ``email`` says so."""
    person, account = _person(request, Permission.TAKE_MESSAGE)
    body = await json_object(request, MESSAGE_KEYS)
    call_back = body.get("call_back", False)
    if not isinstance(call_back, bool):
        raise not_boolean("call_back")
    name = _string(body, "caller_name", required=True) or ""
    text = _string(body, "text", required=True) or ""
    raw_number = _string(body, "caller_number", required=False)
    engine = request.app[ENGINE]
    try:
        number = caller_number(raw_number, engine.settings.plan, engine.view.everyone())
        taken = await request.app[DESK].take(
            person,
            caller_name=name,
            caller_number=number,
            text=text,
            call_back=call_back,
            actor=account.username,
            secrets=engine.secret_numbers(),
        )
    except SecretNumberError as exc:
        raise FieldRefused(exc.field, str(exc)) from None
    except NumberError as exc:
        # Named and coded, so the page says it under the field in the reader's language.
        raise FieldRefused("caller_number", f"caller_number: {exc}", BAD_NUMBER) from None
    except VoicemailError as exc:
        raise web.HTTPUnprocessableEntity(text=str(exc)) from None
    return web.json_response(
        {
            "message": taken_json(taken.message, request),
            "email": {"status": taken.message.email.value, "error": taken.email_error},
        },
        status=201,
    )


@routes.get("/api/v1/people/{person_id}/messages")
async def list_messages(request: web.Request) -> web.Response:
    """The messages reception took for the person (their own only)."""
    person, _ = _person(request, Permission.READ_OWN_VOICEMAIL)
    messages = await request.app[DESK].messages(person.person_id)
    return web.json_response({"messages": [taken_json(m, request) for m in messages]})
