"""The OpenAPI part of ``/healthz``, ``/readyz`` and ``/metrics`` (``http.health``, issue 15),
merged into the one document by ``openapi.document``."""

from __future__ import annotations

from switchboard.http.openapi_parts import JSON

READY: JSON = {
    "type": "object",
    "required": ["ready", "checks"],
    "properties": {
        "ready": {"type": "boolean"},
        "checks": {
            "type": "object",
            "description": "Each check (store, sip, calendar when configured, search where "
            "the node serves the web): ``ok`` "
            "or what is wrong, never where the store is.",
            "additionalProperties": {"type": "string"},
        },
    },
}

PATHS: JSON = {
    "/healthz": {
        "get": {
            "summary": "The process answers (no sign-in)",
            "security": [],
            "responses": {
                "200": {
                    "description": "Alive",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["status"],
                                "properties": {"status": {"const": "alive"}},
                            }
                        }
                    },
                },
                "503": {"description": "Busy: over the cap of requests in flight"},
            },
        }
    },
    "/readyz": {
        "get": {
            "summary": "The node can take work: store, SIP, calendar, search index (no sign-in)",
            "security": [],
            "responses": {
                "200": {
                    "description": "Ready",
                    "content": {"application/json": {"schema": READY}},
                },
                "503": {
                    "description": "Not ready (or busy); the checks say which",
                    "content": {"application/json": {"schema": READY}},
                },
            },
        }
    },
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics, for administrators and their API tokens",
            "responses": {
                "200": {
                    "description": "The Prometheus text format",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                "401": {"description": "Not signed in, or the bearer token is unknown."},
                "403": {"description": "Not an administrator."},
                "503": {"description": "Busy: over the cap of requests in flight"},
            },
        }
    },
}
