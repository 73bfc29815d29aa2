"""The OpenAPI part of the voicemail routes (``api_voicemail``), merged into the one document
by ``openapi.document``. Same rules: what we promise, every error answer.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]


def _ref(name: str) -> JSON:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> JSON:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _ok(schema: JSON, description: str = "OK") -> JSON:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _nullable(kind: str, **extra: Any) -> JSON:
    return {"type": [kind, "null"], **extra}


def _op(summary: str, op_id: str, responses: JSON, **extra: Any) -> JSON:
    return {"summary": summary, "operationId": op_id, "responses": responses, **extra}


ERRORS: JSON = {
    "400": _error("The request is malformed; the message says what to change."),
    "401": _error("Not signed in, or the bearer token is unknown."),
    "403": _error("Not your own voicemail, or not a receptionist; or a missing CSRF token."),
    "404": _error("No such person, greeting or message."),
    "413": _error("The request body is too large (a greeting: at most 2 MB)."),
    "500": _error("Our fault; the answer carries an error id to quote."),
}
WRITE: JSON = ERRORS | {
    "415": _error("Wrong content type (audio/wav for a greeting, application/json else)."),
    "422": _error("Understood, but refused; the message says why (e.g. a stereo WAV)."),
}
PERSON_ID: JSON = {
    "name": "person_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
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
    "Greeting": {
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
            "duration_ms": {"type": "integer"},
            "heard": {"type": "boolean"},
            "audio_url": {"type": "string"},
        },
    },
    "Voicemail": {
        "type": "object",
        "required": ["greeting", "messages"],
        "properties": {
            "greeting": _ref("Greeting"),
            "messages": {"type": "array", "items": _ref("VoiceMessage")},
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
            "text": {"type": "string"},
            "call_back": {"type": "boolean"},
            "email": {"enum": EMAIL_STATUS},
        },
    },
    "MessageTaken": {
        "type": "object",
        "required": ["message", "email"],
        "properties": {
            "message": _ref("TakenMessage"),
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
PATHS: JSON = {
    f"{PEOPLE}/greeting": {
        "parameters": [PERSON_ID],
        "get": _op(
            "Your voicemail greeting as stored (8 kHz, 16-bit, mono WAV)",
            "getGreeting",
            {"200": WAV_ANSWER} | ERRORS,
        ),
        "put": _op(
            "Replace your greeting: a WAV, 16-bit PCM mono, 1-60 s, at most 2 MB "
            "(8 kHz kept; 11.025-48 kHz resampled to 8 kHz)",
            "putGreeting",
            {"200": _ok({"type": "object", "properties": {"greeting": _ref("Greeting")}})} | WRITE,
            requestBody={
                "required": True,
                "content": {
                    "audio/wav": {"schema": WAV_BODY},
                    "application/octet-stream": {"schema": WAV_BODY},
                },
            },
        ),
        "delete": _op(
            "Delete your greeting (callers hear the standard one)",
            "deleteGreeting",
            {"204": {"description": "Deleted"}} | ERRORS,
        ),
    },
    f"{PEOPLE}/voicemail": {
        "parameters": [PERSON_ID],
        "get": _op(
            "Your greeting and voicemail messages, newest first",
            "listVoicemail",
            {"200": _ok(_ref("Voicemail"))} | ERRORS,
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
            {"200": _ok(_ref("VoiceMessage"))} | ERRORS,
        ),
    },
    f"{PEOPLE}/messages": {
        "parameters": [PERSON_ID],
        "get": _op(
            "The messages reception took for you, newest first",
            "listMessages",
            {
                "200": _ok(
                    {
                        "type": "object",
                        "properties": {
                            "messages": {"type": "array", "items": _ref("TakenMessage")}
                        },
                    }
                )
            }
            | ERRORS,
        ),
        "post": _op(
            "Take a message (receptionist): stored, then e-mailed to the person (never SMS, "
            "R20); 201 even when the e-mail failed, with email.status saying so",
            "takeMessage",
            {"201": _ok(_ref("MessageTaken"), "Stored")} | WRITE,
            requestBody=TAKE_BODY,
        ),
    },
}
