"""The OpenAPI part of ``GET /api/v1/overview`` (``api_overview``, issue 16), merged into the
one document by ``openapi.document``."""

from __future__ import annotations

from switchboard.http.openapi_parts import JSON, error, ref

INSTANT: JSON = {"type": ["string", "null"], "format": "date-time"}
FILTER: JSON = {"type": "string", "maxLength": 200}

SCHEMAS: JSON = {
    "OverviewEntry": {
        "allOf": [
            ref("Person"),
            {
                "type": "object",
                "required": ["presence", "overview"],
                "properties": {
                    "presence": ref("Presence"),
                    "overview": {
                        "type": "object",
                        "required": ["section", "reason", "kind", "source", "starts", "until"],
                        "properties": {
                            "section": {"type": "string", "enum": ["away", "back_soon", "later"]},
                            "reason": {"type": "string"},
                            "kind": {"type": "string", "enum": ["open", "closed"]},
                            "source": {
                                "type": "string",
                                "enum": ["manual", "on_behalf", "calendar"],
                            },
                            "starts": {
                                **INSTANT,
                                "description": "When the absence begins (later today); "
                                "null when it has begun.",
                            },
                            "until": {**INSTANT, "description": "Back at; null when not said."},
                            "label": {
                                "type": ["string", "null"],
                                "description": "A calendar item's subject; never a private item's.",
                            },
                        },
                    },
                },
            },
        ]
    },
    "OverviewSection": {
        "type": "object",
        "required": ["total", "people"],
        "properties": {
            "total": {"type": "integer", "minimum": 0},
            "people": {"type": "array", "items": ref("OverviewEntry")},
        },
    },
    "Overview": {
        "type": "object",
        "required": ["at", "organisation", "unit", "units", "sections"],
        "properties": {
            "at": {"type": "string", "format": "date-time"},
            "organisation": {"type": ["string", "null"]},
            "unit": {"type": ["string", "null"]},
            "units": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The units of the organisation's people on the overview.",
            },
            "sections": {
                "type": "object",
                "required": ["away", "back_soon", "later"],
                "properties": {
                    "away": ref("OverviewSection"),
                    "back_soon": ref("OverviewSection"),
                    "later": ref("OverviewSection"),
                },
            },
        },
    },
}

PATHS: JSON = {
    "/api/v1/overview": {
        "get": {
            "summary": "Who is away now, who is back within the hour, who is away later today",
            "description": "The reception's overview before typing, from the live view: "
            "manual referrals (also those planned to start later today) and calendar items; "
            "working hours alone put nobody here. Soonest back first; later today, soonest "
            "gone first. Each section is cut to `limit` and carries its `total`. For "
            "accounts that may read everyone's presence (`read_presence`). Numbers as in "
            "the search (R17), never a secret mobile (R18).",
            "operationId": "overview",
            "parameters": [
                {"name": "organisation", "in": "query", "schema": FILTER},
                {"name": "unit", "in": "query", "schema": FILTER},
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                },
            ],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": ref("Overview")}},
                },
                "400": error("A parameter is repeated or malformed; the message names it."),
                "401": error("Not signed in, or the bearer token is unknown."),
                "403": error("The account may not read everyone's presence."),
                "500": error("Our fault; the answer carries an error id to quote."),
            },
        }
    }
}
