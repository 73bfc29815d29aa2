"""The OpenAPI part of the administration and call-list routes (``api_admin``,
``api_call_lists``), merged into the one document by ``openapi.document``.

Kept apart so openapi.py stays readable; same rules: what we promise, every error answer.
"""

from __future__ import annotations

from typing import Any

from switchboard.http.openapi_parts import JSON, body, error, ok, ref


def _nullable(kind: str, **extra: Any) -> JSON:
    return {"type": [kind, "null"], **extra}


ERRORS: JSON = {
    "400": error("The request is malformed; the message says what to change."),
    "401": error("Not signed in, or the bearer token is unknown."),
    "403": error("Not allowed for this account, or a missing CSRF token with a cookie."),
    "413": error("The request body is too large."),
    "500": error("Our fault; the answer carries an error id to quote."),
}
WRITE: JSON = ERRORS | {
    "404": error("No such account, exception or request."),
    "415": error("The body must be application/json (text/csv for an import)."),
    "422": error("Understood, but refused; the message says why."),
}
REQUEST_ID: JSON = {
    "name": "request_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "maximum": 999_999_999},
}
INSTANT = _nullable("string", format="date-time")
USERNAME: JSON = {"name": "username", "in": "path", "required": True, "schema": {"type": "string"}}
COMMENT = body(
    {
        "type": "object",
        "required": ["comment"],
        "additionalProperties": False,
        "properties": {"comment": {"type": "string", "minLength": 5, "maxLength": 500}},
    }
)

SCHEMAS: JSON = {
    "AuditEntry": {
        "type": "object",
        "required": [
            "seq",
            "at",
            "at_utc",
            "actor",
            "via",
            "source",
            "request_id",
            "action",
            "subject",
            "decision",
            "detail",
            "changes",
        ],
        "properties": {
            "seq": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"},
            "at_utc": {"type": "string", "format": "date-time"},
            "actor": {"type": "string"},
            "via": {
                "type": "string",
                "description": "session, token:NAME, password, sso, cli or system; "
                "empty before issue 17",
            },
            "source": {"type": "string"},
            "request_id": {"type": "string"},
            "action": {"type": "string"},
            "subject": {"type": "string"},
            "decision": {"enum": ["allowed", "refused", "failed", "limited"]},
            "detail": {"type": "string"},
            "changes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "old", "new"],
                    "properties": {
                        "field": {"type": "string"},
                        "old": {"type": "string"},
                        "new": {"type": "string"},
                    },
                },
            },
        },
    },
    "ImportErrors": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message", "errors"],
                "properties": {
                    "status": {"type": "integer"},
                    "message": {"type": "string"},
                    "errors": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["line", "column", "message", "code"],
                            "properties": {
                                "line": {"type": "integer"},
                                "column": _nullable("string"),
                                "message": {"type": "string"},
                                "code": _nullable(
                                    "string",
                                    description="A stable code for problems a page "
                                    "translates (no_organisation); null for the others",
                                ),
                            },
                        },
                    },
                },
            }
        },
    },
    "ImportResult": {
        "type": "object",
        "description": "What the import did; for a dry run, what it would do (the same "
        "counts, nothing written)",
        "required": [
            "dry_run",
            "people",
            "created",
            "updated",
            "unchanged",
            "inferred",
            "inferred_count",
        ],
        "properties": {
            "dry_run": {"type": "boolean"},
            "people": {"type": "integer"},
            "created": _nullable("integer"),
            "updated": _nullable("integer"),
            "unchanged": _nullable("integer"),
            "inferred_count": {
                "type": "integer",
                "description": "How many people the import placed in an organisation "
                "the file did not name (``inferred`` lists the first 200)",
            },
            "inferred": {
                "description": "People without an extension whose organisation the file "
                "did not name: found from their e-mail's domain (the organisation's "
                "email_domains) or the configured default_organisation; the first 200",
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["line", "name", "organisation", "how", "domain"],
                    "properties": {
                        "line": {"type": "integer"},
                        "name": {"type": "string"},
                        "organisation": {"type": "string"},
                        "how": {"type": "string", "enum": ["email_domain", "default"]},
                        "domain": _nullable("string"),
                    },
                },
            },
        },
    },
    "Account": {
        "type": "object",
        "required": ["username", "display_name", "person_id", "roles", "manages", "disabled"],
        "properties": {
            "username": {"type": "string"},
            "display_name": {"type": "string"},
            "person_id": _nullable("string"),
            "roles": {"type": "array", "items": {"type": "string"}},
            "manages": {"type": "array", "items": {"type": "string"}},
            "disabled": {"type": "boolean"},
        },
    },
    "PasswordLink": {
        "type": "object",
        "required": ["link", "expires"],
        "properties": {
            "link": {"type": "string", "description": "A path on this site: /password?..."},
            "expires": {"type": "integer", "description": "Unix seconds"},
        },
    },
    "PolicyException": {
        "type": "object",
        "required": ["subject", "rule", "reason", "granted_by", "granted_at"],
        "properties": {
            "subject": {"type": "string"},
            "rule": {"type": "string"},
            "reason": {"type": "string"},
            "granted_by": {"type": "string"},
            "granted_at": INSTANT,
        },
    },
    "CallListRequest": {
        "type": "object",
        "required": ["id", "person_id", "requester", "start", "end", "reason", "status"],
        "properties": {
            "id": {"type": "integer"},
            "person_id": {"type": "string"},
            "person_name": _nullable("string"),
            "requester": {"type": "string"},
            "start": INSTANT,
            "end": INSTANT,
            "reason": {"type": "string"},
            "created_at": INSTANT,
            "status": {"type": "string", "enum": ["pending", "approved", "rejected"]},
            "decided_by": _nullable("string"),
            "decided_at": INSTANT,
            "comment": _nullable("string"),
            "expires_at": INSTANT,
            "downloads_left": {"type": "integer"},
        },
    },
}

RULES = ["hide_mobile_without_extension", "hide_extension"]
SUBJECT_AND_RULE: JSON = {
    "subject": {
        "type": "string",
        "description": "The person: an e-mail, an extension or a number, or the subject as "
        "the exception list shows it. A grant refuses one nobody in the directory has.",
    },
    "rule": {"type": "string", "enum": RULES},
}
EXCEPTION_INPUT: JSON = {
    "type": "object",
    "required": ["subject", "rule"],
    "additionalProperties": False,
    "properties": SUBJECT_AND_RULE
    | {"reason": {"type": "string", "minLength": 5, "maxLength": 500}},
}


def _op(summary: str, op_id: str, responses: JSON, **extra: Any) -> JSON:
    return {"summary": summary, "operationId": op_id, "responses": responses, **extra}


PATHS: JSON = {
    "/api/v1/admin/directory/import": {
        "post": _op(
            "Import the directory CSV, all or nothing (IMPORT_DIRECTORY)",
            "importDirectory",
            {
                "200": ok(ref("ImportResult")),
                "422": {
                    "description": "Problems per line; nothing was imported",
                    "content": {"application/json": {"schema": ref("ImportErrors")}},
                },
            }
            | {k: v for k, v in WRITE.items() if k != "422"},
            parameters=[{"name": "dry_run", "in": "query", "schema": {"type": "boolean"}}],
            requestBody={"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}},
        )
    },
    "/api/v1/admin/people": {
        "get": _op(
            "People with their accounts and roles, a page at a time (MANAGE_ACCOUNTS)",
            "adminPeople",
            {
                "200": ok(
                    {
                        "type": "object",
                        "required": [
                            "people",
                            "accounts_without_person",
                            "total",
                            "limit",
                            "next",
                        ],
                        "properties": {
                            "people": {"type": "array", "items": {"type": "object"}},
                            "accounts_without_person": {
                                "type": "array",
                                "items": {"type": "object"},
                            },
                            "total": {"type": "integer", "minimum": 0},
                            "limit": {"type": "integer", "minimum": 1, "maximum": 500},
                            "next": _nullable("string"),
                        },
                    }
                )
            }
            | ERRORS,
            parameters=[
                {
                    "name": "limit",
                    "in": "query",
                    "description": "People per page (default 50).",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 500},
                },
                {
                    "name": "after",
                    "in": "query",
                    "description": "The `next` of the previous page.",
                    "schema": {"type": "string", "maxLength": 2000},
                },
                {
                    "name": "q",
                    "in": "query",
                    "description": "Words of a name, unit, title, extension, e-mail or username.",
                    "schema": {"type": "string", "maxLength": 200},
                },
                {
                    "name": "role",
                    "in": "query",
                    "description": "Only people (and accounts) with an account of this role.",
                    "schema": {
                        "type": "string",
                        "enum": ["employee", "receptionist", "manager", "admin", "router"],
                    },
                },
            ],
            description=(
                "People in name order with their accounts, and the accounts that are nobody "
                "in the directory (those are not paged). Pass the answer's `next` as `after` "
                "for the following page; `next` is null on the last page. The cursor holds "
                "the last row's place in the name order, so pages stay right while people "
                "are added or removed. `total` counts everyone in the directory."
            ),
        )
    },
    "/api/v1/admin/accounts": {
        "post": _op(
            "Create an account without a password, and a one-time link to set it (MANAGE_ACCOUNTS)",
            "createAccount",
            {
                "201": ok(
                    {
                        "allOf": [
                            ref("Account"),
                            {
                                "type": "object",
                                "required": ["password_link"],
                                "properties": {"password_link": ref("PasswordLink")},
                            },
                        ]
                    },
                    "Created; the link is in this answer only",
                )
            }
            | WRITE,
            requestBody=body(
                {
                    "type": "object",
                    "required": ["username", "roles"],
                    "additionalProperties": False,
                    "properties": {
                        "username": {"type": "string", "maxLength": 64},
                        "display_name": {"type": "string", "maxLength": 100},
                        "person": {
                            "type": "string",
                            "description": "The directory person: extension, number or e-mail.",
                        },
                        "roles": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "string",
                                "enum": ["employee", "receptionist", "manager", "admin", "router"],
                            },
                        },
                        "manages": {"type": "array", "items": {"type": "string"}},
                    },
                }
            ),
            description=(
                "A 422 names the refused field and a code (bad_username, username_taken, "
                "unknown_person, no_role, bad_roles, bad_display_name, bad_manages)."
            ),
        )
    },
    "/api/v1/admin/accounts/{username}/disable": {
        "post": _op(
            "Disable an account: its sign-in, sessions and tokens stop at once; not your own "
            "(MANAGE_ACCOUNTS)",
            "disableAccount",
            {"200": ok(ref("Account"))} | WRITE,
            parameters=[USERNAME],
        )
    },
    "/api/v1/admin/accounts/{username}/enable": {
        "post": _op(
            "Let a disabled account sign in again (MANAGE_ACCOUNTS)",
            "enableAccount",
            {"200": ok(ref("Account"))} | WRITE,
            parameters=[USERNAME],
        )
    },
    "/api/v1/admin/accounts/{username}/password-link": {
        "post": _op(
            "Reset a password: the old one and every session end now, and a one-time link "
            "sets a new one (MANAGE_ACCOUNTS)",
            "passwordLink",
            {"201": ok(ref("PasswordLink"), "The link, in this answer only")} | WRITE,
            parameters=[USERNAME],
            description=(
                "The link works once and for 72 hours; a newer link makes older ones fail "
                "(docs/accounts.md)."
            ),
        )
    },
    "/api/v1/admin/accounts/{username}/roles": {
        "put": _op(
            "Replace an account's roles and managed units (MANAGE_ACCOUNTS)",
            "setRoles",
            {"200": ok(ref("Account"))} | WRITE,
            parameters=[
                {"name": "username", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            requestBody=body(
                {
                    "type": "object",
                    "required": ["roles"],
                    "additionalProperties": False,
                    "properties": {
                        "roles": {
                            "type": "array",
                            "items": {
                                "type": "string",
                                "enum": ["employee", "receptionist", "manager", "admin", "router"],
                            },
                        },
                        "manages": {"type": "array", "items": {"type": "string"}},
                    },
                }
            ),
        )
    },
    "/api/v1/admin/exceptions": {
        "get": _op(
            "R16 exceptions with their reasons (MANAGE_POLICY)",
            "listExceptions",
            {"200": ok({"type": "object", "required": ["exceptions"]})} | ERRORS,
        ),
        "post": _op(
            "Grant an R16 exception with a reason that is kept (MANAGE_POLICY)",
            "grantException",
            {"201": ok(ref("PolicyException"), "Granted")}
            | WRITE
            | {
                "422": error(
                    "Refused: unknown_person (field subject) when nobody in the directory has "
                    "that extension, number or e-mail; exception_needs_reason (field reason)."
                )
            },
            requestBody=body(EXCEPTION_INPUT | {"required": ["subject", "rule", "reason"]}),
        ),
    },
    "/api/v1/admin/exceptions/revoke": {
        "post": _op(
            "Revoke an R16 exception, optionally saying why (kept in the audit; MANAGE_POLICY)",
            "revokeException",
            {"200": ok({"type": "object", "required": ["revoked"]})} | WRITE,
            requestBody=body(EXCEPTION_INPUT),
        )
    },
    "/api/v1/admin/audit": {
        "get": _op(
            "The audit trail, newest first, paged; filter by person (subject) or actor",
            "auditTrail",
            {
                "200": ok(
                    {
                        "type": "object",
                        "required": ["entries", "next_before"],
                        "properties": {
                            "entries": {"type": "array", "items": ref("AuditEntry")},
                            "next_before": _nullable("integer"),
                        },
                    }
                )
            }
            | ERRORS,
            parameters=[
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 500},
                },
                {
                    "name": "before",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 2**62},
                },
                {"name": "person", "in": "query", "schema": {"type": "string"}},
                {"name": "actor", "in": "query", "schema": {"type": "string"}},
            ],
        )
    },
    "/api/v1/call-lists": {
        "get": _op(
            "Call-list requests: all for an administrator, else those the account made",
            "listCallLists",
            {"200": ok({"type": "object", "required": ["requests"]})} | ERRORS,
        ),
        "post": _op(
            "Ask for one employee's calls in one period, with a reason (R19, managers)",
            "requestCallList",
            {"201": ok(ref("CallListRequest"), "Requested")} | WRITE,
            requestBody=body(
                {
                    "type": "object",
                    "required": ["person_id", "start", "end", "reason"],
                    "additionalProperties": False,
                    "properties": {
                        "person_id": {"type": "string"},
                        "start": {"type": "string", "format": "date-time"},
                        "end": {"type": "string", "format": "date-time"},
                        "reason": {"type": "string", "minLength": 5, "maxLength": 500},
                    },
                }
            ),
        ),
    },
    "/api/v1/call-lists/{request_id}": {
        "get": _op(
            "One request (the manager who asked, or an administrator)",
            "getCallList",
            {"200": ok(ref("CallListRequest"))} | WRITE,
            parameters=[REQUEST_ID],
        )
    },
    "/api/v1/call-lists/{request_id}/approve": {
        "post": _op(
            "Approve with a comment (an administrator; never one's own request)",
            "approveCallList",
            {"200": ok(ref("CallListRequest")), "409": error("Decided already.")} | WRITE,
            parameters=[REQUEST_ID],
            requestBody=COMMENT,
        )
    },
    "/api/v1/call-lists/{request_id}/reject": {
        "post": _op(
            "Reject with a comment (an administrator)",
            "rejectCallList",
            {"200": ok(ref("CallListRequest")), "409": error("Decided already.")} | WRITE,
            parameters=[REQUEST_ID],
            requestBody=COMMENT,
        )
    },
    "/api/v1/call-lists/{request_id}/records": {
        "get": _op(
            "The approved call list, to the manager who asked only (counted, audited)",
            "downloadCallList",
            {
                "200": {
                    "description": "The calls of exactly that person and period",
                    "content": {
                        "application/json": {"schema": {"type": "object"}},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                "409": error("Not approved, expired, or downloaded as often as allowed."),
            }
            | WRITE,
            parameters=[
                REQUEST_ID,
                {
                    "name": "format",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["json", "csv"]},
                },
            ],
        )
    },
}
