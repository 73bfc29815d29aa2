"""Refusals the pages can say in the reader's language (issue 16).

Every error answer is ``{"error": {"status", "message", "code", "field"?, "params"?}}``:
``code`` is a stable word from ``Code`` below, ``field`` the public name of the body field
or query parameter it concerns, ``params`` the values its sentence needs (a limit, a list
of names). ``message`` stays the English sentence for API clients and logs; the pages look
up ``error.<code>`` in ``web/i18n/*.json`` instead and put it on the field (WCAG 3.3.1).

An error raised without a code (``web.HTTPNotFound(text=...)``) gets the code of its
status (``STATUS_CODES``), so a page always has something to translate and never shows
English inside Swedish or Norwegian text (WCAG 3.1.2).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from aiohttp import web

from switchboard.live.engine import EngineError
from switchboard.presence.model import PresenceError


class Code(StrEnum):
    """Every refusal code, listed once; each has ``error.<code>`` in sv, nb and en
    (``tests/http/test_refusals.py`` holds the translations to this list)."""

    # Answers of a status with nothing more specific to say.
    BAD_REQUEST = "bad_request"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    TOO_LARGE = "too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    UNPROCESSABLE = "unprocessable"
    THROTTLED = "throttled"
    INTERNAL = "internal"
    BAD_GATEWAY = "bad_gateway"
    UNAVAILABLE = "unavailable"
    # The shape of a request.
    BAD_JSON = "bad_json"
    UNKNOWN_FIELDS = "unknown_fields"
    REQUIRED = "required"
    NOT_TEXT = "not_text"
    NOT_BOOLEAN = "not_boolean"
    NOT_WHOLE_NUMBER = "not_whole_number"
    OUT_OF_RANGE = "out_of_range"
    TOO_LONG = "too_long"
    NOT_POSITIVE = "not_positive"
    BAD_CHOICE = "bad_choice"
    GIVEN_TWICE = "given_twice"
    BAD_INSTANT = "bad_instant"
    NEEDS_ZONE = "needs_zone"
    CSRF = "csrf"
    CROSS_ORIGIN = "cross_origin"
    METHOD_OVERRIDE = "method_override"
    # What the engine and the presence model refuse (``EngineError``, ``PresenceError``).
    REFUSED = "refused"
    INVALID_REFERRAL = "invalid_referral"
    RETURN_BEFORE_START = "return_before_start"
    IN_THE_PAST = "in_the_past"
    OTHER_NEEDS_TEXT = "other_needs_text"
    OUTSIDE_HOURS_BY_HAND = "outside_hours_by_hand"
    DIVERT_TO_SELF = "divert_to_self"
    NO_SUCH_TEMPLATE = "no_such_template"
    EXCEPTION_NEEDS_REASON = "exception_needs_reason"
    EXCEPTION_IN_USE = "exception_in_use"
    SECRET_ALWAYS_HIDDEN = "secret_always_hidden"  # noqa: S105 - an error code
    HIDE_NEEDS_EXTENSION = "hide_needs_extension"
    # A person named by what an administrator typed (an extension, a number, an e-mail).
    UNKNOWN_PERSON = "unknown_person"
    # Planned referrals (``PlanError``, issue 16).
    PLAN_STARTS_PAST = "plan_starts_past"
    PLAN_OVERLAP = "plan_overlap"
    PLAN_UNKNOWN = "plan_unknown"
    # Numbers and free text (issue 16, R18).
    BAD_NUMBER = "bad_number"
    SECRET_NUMBER = "secret_number"  # noqa: S105 - an error code, no secret
    # Voicemail recordings (``WavError``).
    BAD_AUDIO = "bad_audio"
    AUDIO_NOT_WAV = "audio_not_wav"
    AUDIO_DAMAGED = "audio_damaged"
    AUDIO_NOT_PCM = "audio_not_pcm"
    AUDIO_NOT_MONO = "audio_not_mono"
    AUDIO_NOT_16BIT = "audio_not_16bit"
    AUDIO_BAD_RATE = "audio_bad_rate"
    AUDIO_TOO_SHORT = "audio_too_short"
    AUDIO_TOO_LONG = "audio_too_long"
    AUDIO_TOO_BIG = "audio_too_big"
    AUDIO_SILENT = "audio_silent"


STATUS_CODES: Mapping[int, Code] = {
    400: Code.BAD_REQUEST,
    401: Code.UNAUTHORIZED,
    403: Code.FORBIDDEN,
    404: Code.NOT_FOUND,
    405: Code.METHOD_NOT_ALLOWED,
    409: Code.CONFLICT,
    413: Code.TOO_LARGE,
    415: Code.UNSUPPORTED_MEDIA_TYPE,
    422: Code.UNPROCESSABLE,
    429: Code.THROTTLED,
    500: Code.INTERNAL,
    502: Code.BAD_GATEWAY,
    503: Code.UNAVAILABLE,
}
"""The code of an error raised without one, by its status."""

Params = Mapping[str, str | int | float]


@dataclass(frozen=True, slots=True)
class Detail:
    """What an error body carries beside ``status`` and ``message``."""

    code: str
    field: str | None = None
    params: Params = dataclasses.field(default_factory=dict)

    def body(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code}
        if self.field is not None:
            out["field"] = self.field
        if self.params:
            out["params"] = dict(self.params)
        return out


def status_code(status: int) -> str:
    """The code of a bare error of this status (400 for an unknown 4xx, 500 for a 5xx)."""
    known = STATUS_CODES.get(status)
    if known is not None:
        return known
    return Code.INTERNAL if status >= 500 else Code.BAD_REQUEST


class _Refusal:
    """Mixed into the aiohttp error classes below: the error carries its ``Detail``."""

    detail: Detail

    def _set(self, code: str, field: str | None, params: Params | None) -> None:
        self.detail = Detail(code, field, dict(params or {}))


class BadRequest(web.HTTPBadRequest, _Refusal):
    """400: the request itself is wrong (a missing or malformed field or parameter)."""

    def __init__(
        self, code: Code, message: str, *, field: str | None = None, params: Params | None = None
    ) -> None:
        super().__init__(text=message)
        self._set(code, field, params)


class Unprocessable(web.HTTPUnprocessableEntity, _Refusal):
    """422: understood, but refused (a return time before the start, a secret number)."""

    def __init__(
        self, code: str, message: str, *, field: str | None = None, params: Params | None = None
    ) -> None:
        super().__init__(text=message)
        self._set(code, field, params)


class NotFound(web.HTTPNotFound, _Refusal):
    """404 for one thing a request named that is not there (a plan's id)."""

    def __init__(self, code: Code, message: str, *, field: str | None = None) -> None:
        super().__init__(text=message)
        self._set(code, field, None)


class Forbidden(web.HTTPForbidden, _Refusal):
    """403 with a more specific code than ``forbidden`` (a missing CSRF token)."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(text=message)
        self._set(code, None, None)


def detail_of(exc: web.HTTPException) -> Detail:
    """The error's own detail, or the code of its status."""
    if isinstance(exc, _Refusal):
        return exc.detail
    return Detail(status_code(exc.status))


def from_engine(exc: EngineError | PresenceError) -> Unprocessable:
    """The 422 for what the engine or the presence model refused, with its code and field."""
    return Unprocessable(exc.code, str(exc), field=exc.field, params=exc.params)


def unknown_fields(names: list[str]) -> BadRequest:
    """400 for body fields nobody asked for (a body never picks a target or an actor)."""
    return BadRequest(
        Code.UNKNOWN_FIELDS,
        f"unknown fields: {', '.join(names)}",
        field=names[0] if names else None,
        params={"fields": ", ".join(names)},
    )


def not_text(name: str, message: str | None = None) -> BadRequest:
    return BadRequest(Code.NOT_TEXT, message or f"{name} must be a string", field=name)


def not_boolean(name: str, message: str | None = None) -> BadRequest:
    return BadRequest(Code.NOT_BOOLEAN, message or f"{name} must be true or false", field=name)


def bad_choice(name: str, choices: list[str], message: str) -> BadRequest:
    return BadRequest(Code.BAD_CHOICE, message, field=name, params={"choices": ", ".join(choices)})


def not_whole_number(name: str) -> BadRequest:
    return BadRequest(Code.NOT_WHOLE_NUMBER, f"{name} must be a whole number", field=name)


def out_of_range(name: str, low: int, high: int) -> BadRequest:
    return BadRequest(
        Code.OUT_OF_RANGE,
        f"{name} must be between {low} and {high}",
        field=name,
        params={"min": low, "max": high},
    )
