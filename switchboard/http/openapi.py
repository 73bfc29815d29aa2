"""The OpenAPI 3.1 document of the JSON API, hand-written as data and served as is.

Written by hand rather than generated so that it says what we promise (nullable fields,
every error answer) and nothing an implementation detail happens to do; the schemathesis
test holds the server to it. Keep it in step with ``api.py``, ``auth.py`` and ``stream.py``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from switchboard.http import (
    openapi_admin,
    openapi_health,
    openapi_overview,
    openapi_own_calendar,
    openapi_plans,
    openapi_presentation,
    openapi_route,
    openapi_session,
    openapi_voicemail,
)
from switchboard.http.context import SIGN_IN_PROVIDER
from switchboard.http.openapi_parts import JSON, PERSON_ID, REASONS, error, ok, ref
from switchboard.http.refusals import Code


def _nullable(kind: str, **extra: Any) -> JSON:
    return {"type": [kind, "null"], **extra}


ERRORS: JSON = {
    "400": error("The request is malformed; the message says what to change."),
    "401": error("Not signed in, or the bearer token is unknown."),
    "403": error("Signed in, but not allowed; or a missing CSRF token with a cookie."),
    "413": error("The request body is too large."),
    "500": error("Our fault; the answer carries an error id to quote."),
}
PERSON_ERRORS: JSON = ERRORS | {"404": error("Nobody in the directory has this id.")}
WRITE_ERRORS: JSON = PERSON_ERRORS | {
    "415": error("The body must be application/json."),
    "422": error("Understood, but refused (e.g. a return time in the past)."),
}
INSTANT = _nullable("string", format="date-time")

SCHEMAS: JSON = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message", "code"],
                "properties": {
                    "status": {"type": "integer"},
                    "message": {
                        "type": "string",
                        "description": "Why, in English, for people reading API answers",
                    },
                    "error_id": {"type": "string"},
                    "code": {
                        "type": "string",
                        "enum": [code.value for code in Code],
                        "description": "Why, as a stable word (issue 16): pages say it in the "
                        "reader's language from it, never from 'message'. The status's code "
                        "(bad_request, forbidden, not_found, ...) when nothing more specific "
                        "applies; e.g. 'return_before_start', 'secret_number' (a text holds "
                        "someone's secret mobile, R18), 'bad_number' (no telephone number). "
                        "The list: docs/api.md",
                    },
                    "field": {
                        "type": "string",
                        "description": "The public name of the body field or query parameter "
                        "the refusal concerns, when it concerns one",
                    },
                    "params": {
                        "type": "object",
                        "additionalProperties": {"type": ["string", "number"]},
                        "description": "Values the sentence names (a limit, field names)",
                    },
                },
            }
        },
    },
    "Person": {
        "type": "object",
        "description": "Numbers a receptionist may give out (R17); never a secret mobile (R18).",
        "required": ["id", "name", "organisation", "extension", "number", "mobile"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "organisation": {"type": "string"},
            "unit": {"type": "string"},
            "title": {"type": "string"},
            "email": _nullable("string"),
            "language": {"type": "string"},
            "extension": _nullable("string"),
            "number": _nullable("string", description="The office number in E.164."),
            "national": _nullable("string"),
            "mobile": _nullable("string", description="E.164; null when secret or none."),
            "mobile_secret": {"type": "boolean"},
            "national_display": _nullable(
                "string", description="The office number as people read it: '0523-66 41 23'."
            ),
            "mobile_display": _nullable(
                "string", description="The public mobile as people read it: '070-174 06 05'."
            ),
        },
    },
    "Referral": {
        "type": "object",
        "required": ["reason", "kind", "until", "text", "source", "divert_to"],
        "properties": {
            "reason": {"type": "string"},
            "kind": {"type": "string", "enum": ["open", "closed"]},
            "until": INSTANT,
            "text": _nullable("string"),
            "source": {"type": "string"},
            "divert_to": _nullable("string"),
        },
    },
    "CalendarHint": {
        "type": ["object", "null"],
        "description": "The next hour in the calendar; never a private item's subject.",
        "properties": {
            "now": {"type": "boolean"},
            "busy": {"type": "string"},
            "reason": {"type": "string"},
            "starts": INSTANT,
            "ends": INSTANT,
            "label": _nullable("string"),
            "text": {"type": "string"},
        },
    },
    "Presence": {
        "type": "object",
        "required": ["available", "referral", "explanation", "line", "calendar"],
        "properties": {
            "available": {"type": "boolean"},
            "referral": {"oneOf": [ref("Referral"), {"type": "null"}]},
            "explanation": {"type": "string"},
            "next_change": INSTANT,
            "hints": {"type": "array", "items": {"type": "string"}},
            "sentence": _nullable("string"),
            "line": {
                "type": "object",
                "required": ["in_call", "calls"],
                "properties": {"in_call": {"type": "boolean"}, "calls": {"type": "integer"}},
            },
            "calendar": ref("CalendarHint"),
            "planned": {
                "type": "array",
                "description": "Referrals set in advance that have not started yet.",
                "items": {
                    "type": "object",
                    "required": ["reason", "kind", "starts", "until", "text"],
                    "properties": {
                        "id": {"type": ["string", "null"], "description": "The plan's id"},
                        "reason": {"type": "string"},
                        "kind": {"type": "string", "enum": ["open", "closed"]},
                        "starts": {"type": "string", "format": "date-time"},
                        "until": INSTANT,
                        "text": _nullable("string"),
                    },
                },
            },
        },
    },
    "Availability": {
        "allOf": [
            ref("Presence"),
            {
                "type": "object",
                "required": ["person_id", "at", "manual"],
                "properties": {
                    "person_id": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"},
                    "manual": {"type": ["object", "null"]},
                    "plans": {"type": "array", "items": ref("Plan")},
                },
            },
        ]
    },
    "SearchResult": {
        "type": "object",
        "required": ["query", "at", "people"],
        "properties": {
            "query": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "people": {
                "type": "array",
                "items": {
                    "allOf": [
                        ref("Person"),
                        {
                            "type": "object",
                            "required": ["presence"],
                            "properties": {
                                "presence": {"oneOf": [ref("Presence"), {"type": "null"}]}
                            },
                        },
                    ]
                },
            },
        },
    },
    "AvailabilityInput": {
        "oneOf": [
            {
                "type": "object",
                "required": ["state"],
                "additionalProperties": False,
                "properties": {"state": {"const": "available"}, "until": INSTANT},
            },
            {
                "type": "object",
                "required": ["state", "reason"],
                "additionalProperties": False,
                "properties": {
                    "state": {"const": "referral"},
                    "reason": {
                        "type": "string",
                        "enum": REASONS,
                    },
                    "kind": {"type": "string", "enum": ["open", "closed"]},
                    "until": INSTANT,
                    "starts": INSTANT,
                    "text": _nullable("string", maxLength=200),
                    "divert_to": _nullable("string"),
                },
            },
        ],
        "description": "The person is the one in the URL; a body naming anyone is refused.",
    },
    "RoutePreview": {
        "type": "object",
        "required": ["person_id", "at", "decision", "explanation"],
        "properties": {
            "person_id": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "decision": {
                "type": ["object", "null"],
                "required": ["action", "explanation"],
                "properties": {
                    "action": {
                        "type": "string",
                        "enum": ["ring", "announce", "voicemail", "divert", "reject"],
                    },
                    "explanation": {"type": "string"},
                },
            },
            "explanation": {"type": "string"},
        },
    },
    "SignIn": {
        "type": "object",
        "required": ["username", "password"],
        "properties": {
            "username": {"type": "string", "minLength": 1, "maxLength": 256},
            "password": {"type": "string", "maxLength": 256},
            "next": {
                "type": "string",
                "description": "The sign-in form's page to go on to (a local path; else /): "
                "read only for a form asking for text/html",
            },
        },
    },
    "SignedIn": {
        "type": "object",
        "required": ["account", "csrf_token"],
        "properties": {"account": {"type": "object"}, "csrf_token": {"type": "string"}},
    },
}


def _op(summary: str, responses: JSON, **extra: Any) -> JSON:
    return {"summary": summary, "responses": responses, **extra}


PATHS: JSON = {
    "/api/v1/people": {
        "get": _op(
            "Search the directory (name, unit, title, number, e-mail; folded, typo-tolerant)",
            {"200": ok("SearchResult")} | ERRORS,
            operationId="searchPeople",
            parameters=[
                {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}},
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                },
            ],
        )
    },
    "/api/v1/people/{person_id}": {
        "get": _op(
            "One person's directory entry",
            {"200": ok("Person")} | PERSON_ERRORS,
            operationId="getPerson",
            parameters=[PERSON_ID],
        )
    },
    "/api/v1/people/{person_id}/availability": {
        "parameters": [PERSON_ID],
        "get": _op(
            "Effective availability, referral, return time, line state, calendar hint",
            {"200": ok("Availability")} | PERSON_ERRORS,
            operationId="getAvailability",
        ),
        "put": _op(
            "Set available or a referral (R6); audited with the account as actor",
            {"200": ok("Availability")} | WRITE_ERRORS,
            operationId="setAvailability",
            requestBody={
                "required": True,
                "content": {"application/json": {"schema": ref("AvailabilityInput")}},
            },
        ),
        "delete": _op(
            "Clear the manual status: calendar and working hours take over (R7, R8)",
            {"200": ok("Availability")} | PERSON_ERRORS,
            operationId="clearAvailability",
        ),
    },
    "/api/v1/people/{person_id}/route-preview": {
        "get": _op(
            "What a caller gets right now, and why",
            {"200": ok("RoutePreview")} | PERSON_ERRORS,
            operationId="previewRoute",
            parameters=[PERSON_ID],
        )
    },
    "/api/v1/events": {
        "get": _op(
            "Live changes as server-sent events (hello, person, removed, directory, reload)",
            {
                "200": {
                    "description": "An event stream; `reload` means resynchronise",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                }
            }
            | ERRORS,
            operationId="events",
        )
    },
    "/api/v1/openapi.json": {
        "get": _op(
            "This document",
            {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
            operationId="openapi",
            security=[],
        )
    },
    "/signin": {
        "post": _op(
            "Sign in; sets a new HttpOnly session cookie (rotation)",
            {
                "200": ok("SignedIn"),
                "303": {
                    "description": "A browser's own form post (a form body, Accept: "
                    "text/html): signed in, on to `next`. Refusals then answer the sign-in "
                    "page (text/html) with the status below.",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                "400": error("No username or password."),
                "401": error("Wrong username or password (the same answer for both)."),
                "403": error("A cross-site request, or a session without its CSRF token."),
                "413": error("The request body is too large."),
                "415": error("Send a form or JSON."),
                "429": error("Too many attempts; see Retry-After."),
                "500": error("Our fault."),
            },
            operationId="signIn",
            security=[],
            requestBody={
                "required": True,
                "content": {
                    "application/json": {"schema": ref("SignIn")},
                    "application/x-www-form-urlencoded": {"schema": ref("SignIn")},
                },
            },
        )
    },
    "/signout": {
        "post": _op(
            "Sign out: ends the session and removes the cookie",
            {
                "200": {
                    "description": "Signed out",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            }
            | ERRORS,
            operationId="signOut",
            security=[],
            description="Idempotent: without a session there is nothing to end.",
        )
    },
}


SSO_PATHS: JSON = {
    "/signin/oidc": {
        "get": _op(
            "Single sign-on: redirects the browser to the OpenID Connect provider",
            {
                "302": {"description": "To the provider's authorization endpoint (PKCE S256)"},
                "502": error("The provider cannot be reached; the answer has an error id."),
            },
            operationId="signInOidc",
            security=[],
            description="Present only when [http.oidc] is configured. "
            "`next` is a local path to land on after signing in.",
            parameters=[
                {"name": "next", "in": "query", "schema": {"type": "string", "maxLength": 2048}}
            ],
        )
    },
    "/signin/oidc/callback": {
        "get": _op(
            "Single sign-on: the provider sends the browser back here with a code",
            {
                "302": {"description": "Signed in: a new session cookie, on to `/` or `next`"},
                "400": error("Unknown, used or expired sign-in, or a token that fails a check."),
                "403": error("Refused at the provider, or no usable account for the person."),
                "502": error("The provider cannot be reached; the answer has an error id."),
            },
            operationId="signInOidcCallback",
            security=[],
            parameters=[
                {"name": "code", "in": "query", "schema": {"type": "string"}},
                {"name": "state", "in": "query", "schema": {"type": "string"}},
                {"name": "error", "in": "query", "schema": {"type": "string"}},
            ],
        )
    },
}
"""Documented only when single sign-on is configured (the routes exist only then)."""


def document(server_url: str | None = None, *, sso: bool = False) -> JSON:
    doc: JSON = {
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard API",
            "version": "1",
            "description": "Directory search, availability and the caller-gets preview. "
            "Numbers follow R17; a secret mobile (R18) never appears.",
        },
        "paths": PATHS
        | openapi_admin.PATHS
        | openapi_voicemail.PATHS
        | openapi_presentation.PATHS
        | openapi_own_calendar.PATHS
        | openapi_route.PATHS
        | openapi_health.PATHS
        | openapi_overview.PATHS
        | openapi_plans.PATHS
        | openapi_session.PATHS
        | (SSO_PATHS if sso else {}),
        "components": {
            "schemas": SCHEMAS
            | openapi_admin.SCHEMAS
            | openapi_voicemail.SCHEMAS
            | openapi_presentation.SCHEMAS
            | openapi_own_calendar.SCHEMAS
            | openapi_route.SCHEMAS
            | openapi_overview.SCHEMAS
            | openapi_plans.SCHEMAS
            | openapi_session.SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "sbt_..."},
                "cookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "sb_session",
                    "description": "State changes also need the X-CSRF-Token header. "
                    "Named __Host-sb_session when the site runs on https.",
                },
            },
        },
        "security": [{"bearer": []}, {"cookie": []}],
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


routes = web.RouteTableDef()


@routes.get("/api/v1/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(document(sso=request.app.get(SIGN_IN_PROVIDER) is not None))
