"""The OpenAPI part of ``GET /api/v1/route`` (``api_route``, issue 14), merged into the one
document by ``openapi.document``."""

from __future__ import annotations

from switchboard.http.openapi_parts import JSON, error

NUMBER: JSON = {"type": "string", "pattern": "^[A-Za-z0-9+*#%._-]{1,64}$"}

SCHEMAS: JSON = {
    "RouteTarget": {
        "type": "object",
        "required": ["uri", "role", "number"],
        "properties": {
            "uri": {
                "type": "string",
                "description": "A SIP URI for the 302's Contact: a number on the operator "
                "trunk (`sip:+46...@trunk;user=phone`) or a registered phone's Contact.",
            },
            "role": {"type": "string", "enum": ["mobile", "phone", "divert"]},
            "number": {
                "type": ["string", "null"],
                "description": "E.164 for a number on the trunk; null for a phone. Never a "
                "secret mobile (R18): such calls are relayed instead.",
            },
        },
    },
    "RouteAnswer": {
        "type": "object",
        "description": "What a SIP front end does with the INVITE. Never holds a secret "
        "mobile (R18), in any field or in the explanation.",
        "required": [
            "action",
            "status",
            "reason",
            "targets",
            "relay",
            "decision",
            "extension",
            "ring_timeout",
            "caller",
            "explanation",
        ],
        "properties": {
            "action": {
                "type": "string",
                "enum": ["redirect", "relay", "reject"],
                "description": "`redirect`: answer `status` (302) with a Contact per target. "
                "`relay`: send the INVITE on to a switchboard node, which carries the call. "
                "`reject`: answer `status` and `reason`.",
            },
            "status": {
                "type": ["integer", "null"],
                "description": "The SIP final status to answer with; null for relay.",
            },
            "reason": {"type": ["string", "null"]},
            "targets": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/RouteTarget"},
                "description": "For redirect, in the order to list them; empty otherwise.",
            },
            "relay": {
                "type": ["string", "null"],
                "enum": ["media", "secret_number", "outbound", "mailbox", None],
                "description": "Why a node carries the call: it answers with media "
                "(announce, voicemail, nothing to ring), a target is secret (R18), an "
                "employee's call out needs its caller-ID rewritten, or the voicemail number.",
            },
            "decision": {
                "type": "string",
                "enum": [
                    "ring",
                    "announce",
                    "voicemail",
                    "divert",
                    "reject",
                    "mailbox",
                    "outbound",
                ],
                "description": "What the routing core decided, or what the SIP edge does "
                "before asking it.",
            },
            "extension": {"type": ["string", "null"], "description": "Whose call it is."},
            "ring_timeout": {
                "type": ["integer", "null"],
                "description": "Seconds the targets ring, for a redirect.",
            },
            "caller": {
                "type": ["string", "null"],
                "description": "The caller's number as the called side may see it (E.164); "
                "null when `from` is no number or is one of our secret mobiles (R18).",
            },
            "explanation": {"type": "string", "description": "Why, in words."},
        },
    },
}

PATHS: JSON = {
    "/api/v1/route": {
        "get": {
            "summary": "What a SIP front end (Kamailio) does with a new INVITE",
            "description": "Answered from memory, as the switchboard's redirect mode answers "
            "a trusted peer, except that a secret mobile is never in the answer: such a "
            "call is relayed. For the `router` role (an integration) and administrators "
            "(`route_calls`).",
            "operationId": "routeCall",
            "parameters": [
                {
                    "name": "to",
                    "in": "query",
                    "required": True,
                    "description": "The dialled number: the Request-URI's user part.",
                    "schema": NUMBER,
                },
                {
                    "name": "from",
                    "in": "query",
                    "required": False,
                    "description": "The caller: the From's user part; empty or absent when "
                    "unknown.",
                    "schema": NUMBER,
                },
            ],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/RouteAnswer"}}
                    },
                },
                "400": error(
                    "A parameter is missing, repeated, unknown or malformed; the message names it."
                ),
                "401": error("Not signed in, or the bearer token is unknown."),
                "403": error("The account may not route calls (`route_calls`)."),
                "500": error("Our fault; the answer carries an error id to quote."),
            },
        }
    }
}
