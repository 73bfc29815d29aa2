"""The OpenAPI part of the planned referrals (``api_plans``, issue 16), merged into the one
document by ``openapi.document``."""

from __future__ import annotations

from switchboard.http.openapi_parts import ID, JSON, PERSON_ID, REASONS, error, ok, ref

INSTANT: JSON = {"type": ["string", "null"], "format": "date-time"}
ERRORS: JSON = {
    "400": error("The request is malformed; the message says what to change."),
    "401": error("Not signed in, or the bearer token is unknown."),
    "403": error("Signed in, but not allowed; or a missing CSRF token with a cookie."),
    "404": error("Nobody in the directory has this id (or, for a plan, no such plan)."),
    "413": error("The request body is too large."),
    "500": error("Our fault; the answer carries an error id to quote."),
}

SCHEMAS: JSON = {
    "Plan": {
        "type": "object",
        "description": "A referral planned in advance, beside the current status. It applies "
        "from `starts` until `until` (null: until cancelled); while it applies it wins over "
        "a current status that started before it.",
        "required": ["id", "reason", "kind", "starts", "until", "text", "in_force"],
        "properties": {
            "id": {"type": "string"},
            "reason": {"type": "string", "enum": REASONS},
            "kind": {"type": "string", "enum": ["open", "closed"]},
            "starts": {"type": "string", "format": "date-time"},
            "until": INSTANT,
            "text": {"type": ["string", "null"]},
            "divert_to": {"type": ["string", "null"]},
            "source": {"type": "string", "enum": ["manual", "on_behalf"]},
            "set_by": {"type": "string"},
            "set_at": {"type": "string", "format": "date-time"},
            "in_force": {"type": "boolean", "description": "It applies right now."},
        },
    },
    "Plans": {
        "type": "object",
        "required": ["person_id", "at", "plans"],
        "properties": {
            "person_id": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "plans": {
                "type": "array",
                "description": "Every plan that has not ended, by start.",
                "items": ref("Plan"),
            },
            "plan": ref("Plan"),
        },
    },
    "PlanInput": {
        "type": "object",
        "required": ["reason", "starts"],
        "additionalProperties": False,
        "properties": {
            "reason": {"type": "string", "enum": REASONS},
            "kind": {"type": "string", "enum": ["open", "closed"]},
            "starts": {"type": "string", "format": "date-time"},
            "until": INSTANT,
            "text": {"type": ["string", "null"], "maxLength": 200},
            "divert_to": {"type": ["string", "null"]},
        },
        "description": "The person is the one in the URL. `starts` must be in the future and "
        "`until` after it; a plan that overlaps another of the person's is refused (422, "
        "field `starts`, code `plan_overlap`, naming the other plan's dates).",
    },
}

PATHS: JSON = {
    "/api/v1/people/{person_id}/plans": {
        "parameters": [PERSON_ID],
        "get": {
            "summary": "The person's planned referrals that have not ended (issue 16)",
            "operationId": "listPlans",
            "responses": {"200": ok("Plans")} | ERRORS,
        },
        "post": {
            "summary": "Plan a referral beside the current status; audited with the account",
            "operationId": "addPlan",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref("PlanInput")}},
            },
            "responses": {
                "201": ok("Plans", "Planned: every plan, and the new one in `plan`"),
                "415": error("The body must be application/json."),
                "422": error(
                    "Refused, naming the field: `starts` in the past (plan_starts_past) or "
                    "overlapping another plan (plan_overlap), `until` not after `starts` "
                    "(return_before_start), or a text holding a secret number."
                ),
            }
            | ERRORS,
        },
    },
    "/api/v1/people/{person_id}/plans/{plan_id}": {
        "parameters": [
            PERSON_ID,
            {"name": "plan_id", "in": "path", "required": True, "schema": ID},
        ],
        "delete": {
            "summary": "Cancel one plan; the current status and the other plans stay",
            "operationId": "cancelPlan",
            "responses": {"200": ok("Plans")} | ERRORS,
        },
    },
}
