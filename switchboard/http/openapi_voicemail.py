"""The OpenAPI part of the voicemail routes (``api_voicemail``), merged into the one document
by ``openapi.document``. Same rules: what we promise, every error answer.
"""

from __future__ import annotations

from typing import Any

from switchboard.http.openapi_parts import JSON, PERSON_ID, error, ok, ref


def _nullable(kind: str, **extra: Any) -> JSON:
    return {"type": [kind, "null"], **extra}


def _op(summary: str, op_id: str, responses: JSON, **extra: Any) -> JSON:
    return {"summary": summary, "operationId": op_id, "responses": responses, **extra}


ERRORS: JSON = {
    "400": error("The request is malformed; the message says what to change."),
    "401": error("Not signed in, or the bearer token is unknown."),
    "403": error("Not your own voicemail, or not a receptionist; or a missing CSRF token."),
    "404": error("No such person, greeting, name clip or message."),
    "413": error("The request body is too large (a greeting or name clip: at most 2 MB)."),
    "500": error("Our fault; the answer carries an error id to quote."),
}
WRITE: JSON = ERRORS | {
    "415": error(
        "Wrong content type (audio/wav for a greeting or name clip, application/json else)."
    ),
    "422": error("Understood, but refused; the message says why (e.g. a stereo WAV)."),
}
MESSAGE_ID: JSON = {
    "name": "message_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
}
WAV_BODY: JSON = {"type": "string", "format": "binary"}
WAV_ANSWER: JSON = {"description": "The WAV", "content": {"audio/wav": {"schema": WAV_BODY}}}
INSTANT: JSON = {"type": "string", "format": "date-time"}
EMAIL_STATUS = ["pending", "sent", "failed", "no_address", "not_configured"]

SCHEMAS: JSON = {
    "Recording": {
        "description": "A greeting or name clip as stored (8 kHz, 16-bit, mono WAV)",
        "type": ["object", "null"],
        "required": ["duration_ms", "size", "updated_at", "audio_url"],
        "properties": {
            "duration_ms": {"type": "integer"},
            "size": {"type": "integer"},
            "updated_at": INSTANT,
            "audio_url": {"type": "string"},
        },
    },
    "VoiceMessage": {
        "type": "object",
        "required": ["message_id", "received_at", "caller", "duration_ms", "heard", "audio_url"],
        "properties": {
            "message_id": {"type": "string"},
            "received_at": INSTANT,
            "caller": _nullable(
                "string", description="E.164, or 'secret' for a secret number (R18)"
            ),
            "caller_display": _nullable(
                "string", description="The number in national style; null when secret or none"
            ),
            "duration_ms": {"type": "integer"},
            "heard": {"type": "boolean"},
            "audio_url": {"type": "string"},
        },
    },
    "Voicemail": {
        "type": "object",
        "required": ["greeting", "name_clip", "messages"],
        "properties": {
            "greeting": ref("Recording"),
            "name_clip": ref("Recording"),
            "messages": {"type": "array", "items": ref("VoiceMessage")},
        },
    },
    "TakenMessage": {
        "type": "object",
        "required": [
            "message_id",
            "taken_at",
            "taken_by",
            "caller_name",
            "caller_number",
            "text",
            "call_back",
            "email",
        ],
        "properties": {
            "message_id": {"type": "string"},
            "taken_at": INSTANT,
            "taken_by": {"type": "string"},
            "caller_name": {"type": "string"},
            "caller_number": _nullable("string"),
            "caller_display": _nullable(
                "string", description="The number in national style; null when secret or none"
            ),
            "text": {"type": "string"},
            "call_back": {"type": "boolean"},
            "email": {"enum": EMAIL_STATUS},
        },
    },
    "MessageTaken": {
        "type": "object",
        "required": ["message", "email"],
        "properties": {
            "message": ref("TakenMessage"),
            "email": {
                "type": "object",
                "required": ["status", "error"],
                "properties": {"status": {"enum": EMAIL_STATUS}, "error": _nullable("string")},
            },
        },
    },
}
TAKE_BODY: JSON = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["caller_name", "text"],
                "additionalProperties": False,
                "properties": {
                    "caller_name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "caller_number": _nullable("string", maxLength=40),
                    "text": {"type": "string", "minLength": 1, "maxLength": 2000},
                    "call_back": {"type": "boolean"},
                },
            }
        }
    },
}
PEOPLE = "/api/v1/people/{person_id}"
WAV_UPLOAD: JSON = {
    "required": True,
    "content": {
        "audio/wav": {"schema": WAV_BODY},
        "application/octet-stream": {"schema": WAV_BODY},
    },
}


def _recording(key: str, name: str, what: str, rules: str, without: str) -> JSON:
    """The three routes of a greeting or a name clip (``name`` in the operation ids)."""
    return {
        "parameters": [PERSON_ID],
        "get": _op(
            f"Your {what} as stored (8 kHz, 16-bit, mono WAV)",
            f"get{name}",
            {"200": WAV_ANSWER} | ERRORS,
        ),
        "put": _op(
            f"Replace your {what}: a WAV, 16-bit PCM mono, at most 2 MB; {rules}",
            f"put{name}",
            {"200": ok({"type": "object", "properties": {key: ref("Recording")}})} | WRITE,
            requestBody=WAV_UPLOAD,
        ),
        "delete": _op(
            f"Delete your {what} ({without})",
            f"delete{name}",
            {"204": {"description": "Deleted"}} | ERRORS,
        ),
    }


PATHS: JSON = {
    f"{PEOPLE}/greeting": _recording(
        "greeting",
        "Greeting",
        "greeting",
        "1-60 s (8 kHz kept; 11.025-48 kHz resampled to 8 kHz)",
        "callers hear the standard one",
    ),
    f"{PEOPLE}/name-clip": _recording(
        "name_clip",
        "NameClip",
        "name clip (your name in your own voice, in place of the synthesized one)",
        "0.5-5 s of sound, stored at 8 kHz, cut to its sound and brought to speech level",
        "callers hear your name synthesized",
    ),
    f"{PEOPLE}/voicemail": {
        "parameters": [PERSON_ID],
        "get": _op(
            "Your greeting, name clip and voicemail messages, newest first",
            "listVoicemail",
            {"200": ok(ref("Voicemail"))} | ERRORS,
        ),
    },
    f"{PEOPLE}/voicemail/{{message_id}}": {
        "parameters": [PERSON_ID, MESSAGE_ID],
        "get": _op(
            "One message's audio, as a download", "getVoicemail", {"200": WAV_ANSWER} | ERRORS
        ),
        "delete": _op(
            "Delete a message (its row, then its file)",
            "deleteVoicemail",
            {"204": {"description": "Deleted"}} | ERRORS,
        ),
    },
    f"{PEOPLE}/voicemail/{{message_id}}/heard": {
        "parameters": [PERSON_ID, MESSAGE_ID],
        "post": _op(
            "Mark a message heard",
            "markVoicemailHeard",
            {"200": ok(ref("VoiceMessage"))} | ERRORS,
        ),
    },
    f"{PEOPLE}/messages": {
        "parameters": [PERSON_ID],
        "get": _op(
            "The messages reception took for you, newest first",
            "listMessages",
            {
                "200": ok(
                    {
                        "type": "object",
                        "properties": {"messages": {"type": "array", "items": ref("TakenMessage")}},
                    }
                )
            }
            | ERRORS,
        ),
        "post": _op(
            "Take a message (receptionist): stored, then e-mailed to the person (never SMS, "
            "R20); 201 even when the e-mail failed, with email.status saying so",
            "takeMessage",
            {"201": ok(ref("MessageTaken"), "Stored")} | WRITE,
            requestBody=TAKE_BODY,
        ),
    },
}
