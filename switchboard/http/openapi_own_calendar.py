"""The OpenAPI part of the calendar an employee connects (``api_own_calendar``, issue 16),
merged into the one document by ``openapi.document``."""

from __future__ import annotations

from switchboard.http.openapi_parts import JSON, PERSON_ID, error

STATUS: JSON = {
    "description": "What may be connected, what is, and how its sync goes",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OwnCalendar"}}},
}
ERRORS: JSON = {
    "400": error("The request is malformed; the message says what to change."),
    "401": error("Not signed in, or the bearer token is unknown."),
    "403": error("Only the person themselves or an administrator; or no CSRF token."),
    "404": error("Nobody in the directory has this id (or, to disconnect, nothing is connected)."),
    "413": error("The request body is too large."),
    "500": error("Our fault; the answer carries an error id to quote."),
}
_TEXT = {"type": ["string", "null"]}

SCHEMAS: JSON = {
    "OwnCalendar": {
        "type": "object",
        "required": [
            "person_id",
            "allowed",
            "ics_https_only",
            "ics_hosts",
            "connected",
            "kind",
            "address",
            "connected_by",
            "connected_at",
            "active",
            "last_sync",
            "last_error",
            "last_error_at",
            "next_sync",
            "items",
        ],
        "properties": {
            "person_id": {"type": "string"},
            "allowed": {
                "type": "object",
                "required": ["ics", "graph"],
                "properties": {"ics": {"type": "boolean"}, "graph": {"type": "boolean"}},
                "description": "What the administrator lets employees connect (`[own_calendars]`).",
            },
            "ics_https_only": {"type": "boolean"},
            "ics_hosts": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Feeds only from these hosts; empty: any host.",
            },
            "connected": {"type": "boolean"},
            "kind": {"type": ["string", "null"], "enum": ["ics", "graph", None]},
            "address": {
                "type": ["string", "null"],
                "description": "A feed URL masked to scheme and host "
                "(`https://outlook.office365.com/***`), or the mailbox.",
            },
            "connected_by": _TEXT,
            "connected_at": _TEXT,
            "active": {
                "type": "boolean",
                "description": "False when the policy no longer allows this kind: not read.",
            },
            "last_sync": {**_TEXT, "description": "The last successful read (ISO 8601)."},
            "last_error": {**_TEXT, "description": "Why reads fail now, in words."},
            "last_error_at": _TEXT,
            "next_sync": _TEXT,
            "items": {"type": "integer", "minimum": 0},
        },
    },
    "OwnCalendarInput": {
        "type": "object",
        "required": ["kind"],
        "additionalProperties": False,
        "properties": {
            "kind": {"type": "string", "enum": ["ics", "graph"]},
            "url": {
                "type": "string",
                "maxLength": 2048,
                "description": "ics: the feed, https:// or webcal:// (http:// only where "
                "allowed); no user name or password in it.",
            },
            "mailbox": {
                "type": "string",
                "maxLength": 254,
                "description": "graph: the mailbox; the person's own address unless an "
                "administrator connects it.",
            },
        },
    },
}

PATHS: JSON = {
    "/api/v1/people/{person_id}/calendar": {
        "parameters": [PERSON_ID],
        "get": {
            "summary": "The person's own calendar connection and its last sync (issue 16)",
            "operationId": "getOwnCalendar",
            "responses": {"200": STATUS} | ERRORS,
        },
        "put": {
            "summary": "Connect (or replace) the person's own calendar; audited",
            "description": "For the person themselves or an administrator, as far as "
            "`[own_calendars]` allows. Refusals (422) name the field and carry a code.",
            "operationId": "connectOwnCalendar",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/OwnCalendarInput"}
                    }
                },
            },
            "responses": {"200": STATUS}
            | ERRORS
            | {
                "415": error("The body must be application/json."),
                "422": error("Not allowed, or not a usable address; `field` and `code` say."),
            },
        },
        "delete": {
            "summary": "Disconnect the person's own calendar; audited",
            "operationId": "disconnectOwnCalendar",
            "responses": {"200": STATUS} | ERRORS,
        },
    }
}
