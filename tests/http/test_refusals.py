"""Refusals the pages can say in the reader's language (issue 16): one code list, each code
with sv, nb and en texts, and the API's error body carrying code, field and params beside
the English message API clients read."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from switchboard.directory.csv_import import ROW_CODES, RowError
from switchboard.http.refusals import STATUS_CODES, Code
from switchboard.settings.resources import bundled
from tests.http.conftest import EMPLOYEE_EXT, Env

LANGUAGES = ("sv", "nb", "en")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _catalog(language: str) -> dict[str, str]:
    data = json.loads((bundled("web/i18n") / f"{language}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_refusal_code_has_a_text(language: str) -> None:
    catalog = _catalog(language)
    missing = [code.value for code in Code if not catalog.get(f"error.{code.value}")]
    assert missing == [], f"{language}: no error.<code> for {missing}"
    assert catalog.get("error.generic"), "the fallback for a refusal without a known code"


@pytest.mark.parametrize("language", ["sv", "nb"])
def test_refusal_texts_are_written_in_the_language_with_the_same_placeholders(
    language: str,
) -> None:
    """Not the English copied over, and naming the same parameters (a missing one would
    show as ``{max}`` in the page; a wrong one would leave a value unsaid)."""
    english, catalog = _catalog("en"), _catalog(language)
    keys = [k for k in english if k.startswith(("error.", "import.error."))]
    assert len(keys) > len(Code)
    for key in keys:
        assert catalog[key] != english[key], f"{language} {key} is the English text"
        assert set(PLACEHOLDER.findall(catalog[key])) == set(PLACEHOLDER.findall(english[key])), key


def test_every_status_code_has_a_code() -> None:
    assert set(STATUS_CODES) >= {400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503}


def _codes_raised_in(folder: Path) -> set[str]:
    """Codes the core, the engine and the voicemail raise, as written in their source."""
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'\bcode="([a-z_0-9]+)"', text))
        found |= set(re.findall(r'"(audio_[a-z_0-9]+)"', text))
    return found


def test_every_code_the_core_raises_is_listed_once() -> None:
    package = Path(__file__).resolve().parents[2] / "switchboard"
    raised = set()
    for folder in ("presence", "live", "voicemail"):
        raised |= _codes_raised_in(package / folder)
    assert {"return_before_start", "other_needs_text", "audio_too_long"} <= raised
    assert raised <= {c.value for c in Code}, sorted(raised - {c.value for c in Code})


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_import_row_code_has_a_text(language: str) -> None:
    catalog = _catalog(language)
    assert sorted(c for c in ROW_CODES if not catalog.get(f"import.error.{c}")) == []


def test_a_row_error_with_an_unlisted_code_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="ROW_CODES"):
        RowError(2, "name", "a name is required", "no_such_code")


# -- the error body ------------------------------------------------------------------------


async def test_a_return_time_before_now_is_refused_with_code_and_field(env: Env) -> None:
    """The message issue 16 saw in English on a Swedish page: now a code on the field."""
    anna = env.person(EMPLOYEE_EXT)
    past = (env.clock.now() - timedelta(hours=1)).isoformat()
    response = await env.client.put(
        f"/api/v1/people/{anna.person_id}/availability",
        json={"state": "referral", "reason": "meeting", "until": past},
        headers=env.headers["employee"],
    )
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "return_before_start"
    assert error["field"] == "until"
    assert error["message"] == "the return time must be after the referral starts"


async def test_a_presence_value_refused_by_the_model_names_its_field(env: Env) -> None:
    anna = env.person(EMPLOYEE_EXT)
    response = await env.client.put(
        f"/api/v1/people/{anna.person_id}/availability",
        json={"state": "referral", "reason": "other"},
        headers=env.headers["employee"],
    )
    assert response.status == 422
    error = (await response.json())["error"]
    assert (error["code"], error["field"]) == ("other_needs_text", "text")


async def test_a_bad_parameter_is_coded_with_its_limits(env: Env) -> None:
    response = await env.client.get(
        "/api/v1/people?q=anna&limit=999", headers=env.headers["receptionist"]
    )
    assert response.status == 400
    error = (await response.json())["error"]
    assert error == {
        "status": 400,
        "message": "limit must be between 1 and 200",
        "code": "out_of_range",
        "field": "limit",
        "params": {"min": 1, "max": 200},
    }


async def test_unknown_fields_are_named(env: Env) -> None:
    anna = env.person(EMPLOYEE_EXT)
    response = await env.client.put(
        f"/api/v1/people/{anna.person_id}/availability",
        json={"state": "available", "person_id": "x"},
        headers=env.headers["employee"],
    )
    assert response.status == 400
    error = (await response.json())["error"]
    assert (error["code"], error["field"], error["params"]) == (
        "unknown_fields",
        "person_id",
        {"fields": "person_id"},
    )


@pytest.mark.parametrize(
    ("path", "who", "status", "code"),
    [
        ("/api/v1/people/nobody-here", "receptionist", 404, "not_found"),
        ("/api/v1/people", "anonymous", 401, "unauthorized"),
        ("/api/v1/admin/exceptions", "employee", 403, "forbidden"),
    ],
    ids=["404", "401", "403"],
)
async def test_an_error_without_its_own_code_has_its_status_code(
    env: Env, path: str, who: str, status: int, code: str
) -> None:
    response = await env.client.get(path, headers=env.headers[who])
    assert response.status == status
    error = (await response.json())["error"]
    assert error["code"] == code
    assert error["message"]  # the English sentence stays for API clients


async def test_a_change_without_the_csrf_token_says_why_in_a_code(env: Env) -> None:
    anna = env.person(EMPLOYEE_EXT)
    headers = {k: v for k, v in env.headers["employee"].items() if k != "X-CSRF-Token"}
    response = await env.client.delete(
        f"/api/v1/people/{anna.person_id}/availability", headers=headers
    )
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "csrf"
