"""The OpenAPI part of the mobile-hiding choice (``api_presentation``, R14/R16/R18), merged
into the one document by ``openapi.document``."""

from __future__ import annotations

from switchboard.http.openapi_parts import JSON, PERSON_ID, error

PRESENTATION: JSON = {
    "description": "OK",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/NumberPresentation"}}
    },
}
ERRORS: JSON = {
    "400": error("The request is malformed; the message says what to change."),
    "401": error("Not signed in, or the bearer token is unknown."),
    "403": error("Only the person themselves or an administrator; or no CSRF token."),
    "404": error("Nobody in the directory has this id."),
    "413": error("The request body is too large."),
    "500": error("Our fault; the answer carries an error id to quote."),
}

SCHEMAS: JSON = {
    "NumberPresentation": {
        "type": "object",
        "required": ["person_id", "hide_mobile", "secret_mobile", "may_choose", "refusal", "shows"],
        "properties": {
            "person_id": {"type": "string"},
            "hide_mobile": {
                "type": "boolean",
                "description": "Calls show the extension's number instead (R14); always "
                "true for a secret mobile (R18).",
            },
            "secret_mobile": {"type": "boolean"},
            "may_choose": {"type": "boolean"},
            "refusal": {
                "type": ["string", "null"],
                "enum": ["secret", "no_mobile", "no_extension", None],
                "description": "Why the person may not choose: a secret mobile is always "
                "hidden (R18); no mobile to hide; no extension to show instead (R16).",
            },
            "shows": {
                "type": "string",
                "enum": ["mobile", "extension", "withheld"],
                "description": "What the far end of a call sees (never the number itself).",
            },
        },
    },
    "NumberPresentationInput": {
        "type": "object",
        "required": ["hide_mobile"],
        "additionalProperties": False,
        "properties": {"hide_mobile": {"type": "boolean"}},
    },
}

PATHS: JSON = {
    "/api/v1/people/{person_id}/presentation": {
        "parameters": [PERSON_ID],
        "get": {
            "summary": "Whether calls show the mobile or the extension (R14), and whether "
            "the person may choose (R16, R18)",
            "operationId": "getPresentation",
            "responses": {"200": PRESENTATION} | ERRORS,
        },
        "put": {
            "summary": "Hide or show the mobile behind the extension (R14); audited",
            "description": "For the person themselves or an administrator. Refused (422) "
            "without an extension unless an exception is granted (R16), and for a secret "
            "mobile, which is always hidden (R18). A later directory import sets the flag "
            "from its `hide_mobile` column again.",
            "operationId": "setPresentation",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/NumberPresentationInput"}
                    }
                },
            },
            "responses": {"200": PRESENTATION}
            | ERRORS
            | {
                "415": error("The body must be application/json."),
                "422": error("Refused by the policy (R16, R18); the message says why."),
            },
        },
    }
}
