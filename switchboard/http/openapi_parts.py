"""The pieces every part of the OpenAPI document is written with (``openapi*.py``)."""

from __future__ import annotations

from typing import Any

from switchboard.presence.model import Reason

JSON = dict[str, Any]

ID: JSON = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}
"""A person's (or a plan's) id, as ``api.PERSON_ID`` accepts it."""
PERSON_ID: JSON = {"name": "person_id", "in": "path", "required": True, "schema": ID}
REASONS = [r.value for r in Reason if r is not Reason.OUTSIDE_HOURS]
"""The reasons a person may pick (outside_hours is the schedule's, R8)."""


def ref(name: str) -> JSON:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def error(description: str) -> JSON:
    """An answer with the one refusal shape (``Error``)."""
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}


def ok(schema: JSON | str, description: str = "OK") -> JSON:
    """A JSON answer: ``schema`` itself, or the name of a component schema."""
    shape = ref(schema) if isinstance(schema, str) else schema
    return {"description": description, "content": {"application/json": {"schema": shape}}}


def body(schema: JSON) -> JSON:
    """A required JSON request body."""
    return {"required": True, "content": {"application/json": {"schema": schema}}}
