"""The OpenAPI part of the session's time left and its extension (``session_api``, WCAG
2.2.1), merged into the one document by ``openapi.document``."""

from __future__ import annotations

from switchboard.http.openapi_parts import JSON, error

SESSION_TIME: JSON = {
    "description": "When the session ends unless it is used",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SessionTime"}}},
}
ERRORS: JSON = {
    "404": error("Asked with a bearer token: only a web session has an idle time."),
    "401": error("Not signed in, or the session has ended."),
    "500": error("Our fault; the answer carries an error id to quote."),
}

SCHEMAS: JSON = {
    "SessionTime": {
        "type": "object",
        "required": ["expires_in", "ends", "warn_before", "idle_minutes"],
        "properties": {
            "expires_in": {
                "type": "number",
                "minimum": 0,
                "description": "Seconds until the session ends (idle or absolute limit).",
            },
            "ends": {"type": "string", "format": "date-time"},
            "warn_before": {
                "type": "integer",
                "description": "Seconds before the end at which the pages warn.",
            },
            "idle_minutes": {"type": "integer", "description": "[http] session_idle_minutes"},
        },
    }
}

PATHS: JSON = {
    "/api/v1/session": {
        "get": {
            "summary": "How long this web session has left; asking does not renew it",
            "operationId": "getSessionTime",
            "security": [{"cookie": []}],
            "responses": {"200": SESSION_TIME} | ERRORS,
        }
    },
    "/api/v1/session/extend": {
        "post": {
            "summary": "Renew the session's idle time now (the pages' \"stay signed in\")",
            "operationId": "extendSession",
            "security": [{"cookie": []}],
            "description": "Needs the X-CSRF-Token header. The absolute lifetime (12 hours) "
            "is never extended.",
            "responses": {"200": SESSION_TIME, "403": error("No or a wrong CSRF token.")} | ERRORS,
        }
    },
}
