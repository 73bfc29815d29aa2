"""The R16 exception form takes a typed person (an extension, a number, an e-mail), which
the server finds as the audit page's person filter does; nobody found is refused with a
code and the field, and the policy page no longer lists everyone (its size does not grow
with the directory)."""

from __future__ import annotations

import pytest

from switchboard.directory.model import PolicyRule
from switchboard.settings.resources import bundled
from tests.http.conftest import EMPLOYEE_EXT, Env

ANNA_EMAIL = "anna.berg@sotenas.example"
REASON = "Skyddad identitet, beslut 2026-11"
GRANT = "/api/v1/admin/exceptions"
HTML = {"Accept": "text/html"}


async def _grant(env: Env, subject: str) -> tuple[int, dict[str, object]]:
    body = {"subject": subject, "rule": "hide_extension", "reason": REASON}
    response = await env.client.post(GRANT, json=body, headers=env.headers["admin"])
    answer: dict[str, object] = await response.json()
    return response.status, answer


@pytest.mark.parametrize(
    "typed",
    [EMPLOYEE_EXT, " 0523-664123 ", ANNA_EMAIL, "Anna.Berg@Sotenas.Example"],
    ids=["extension", "national-number", "e-mail", "e-mail-in-capitals"],
)
async def test_a_typed_person_is_found_and_kept_under_one_key(env: Env, typed: str) -> None:
    status, answer = await _grant(env, typed)
    assert status == 201, answer
    # However she was typed, the exception is kept under her e-mail, as the list shows it.
    assert answer["subject"] == ANNA_EMAIL
    assert [e.subject for e in env.runtime.engine.view.exceptions] == [ANNA_EMAIL]


async def test_the_subject_as_the_exception_list_shows_it_is_found_too(env: Env) -> None:
    anna = env.person(EMPLOYEE_EXT)
    status, answer = await _grant(env, anna.person_id)
    assert status == 201, answer
    assert answer["subject"] == ANNA_EMAIL


@pytest.mark.parametrize(
    "typed",
    ["nobody@sotenas.example", "64999", "0701234567", "Anna Berg", "   "],
    ids=["unknown-e-mail", "free-extension", "unknown-mobile", "a-name", "blank"],
)
async def test_nobody_found_is_refused_on_the_subject_and_grants_nothing(
    env: Env, typed: str
) -> None:
    before = await env.audit_count()
    status, answer = await _grant(env, typed)
    assert status == 422
    error = answer["error"]
    assert isinstance(error, dict)
    assert error["code"] == "unknown_person"
    assert error["field"] == "subject"
    if typed.strip():  # what was typed is never echoed: it may be a secret mobile (R18)
        assert typed.strip() not in str(error["message"])
    assert env.runtime.engine.view.exceptions == ()
    assert await env.audit_count() == before


async def test_revoking_still_takes_a_subject_the_directory_no_longer_has(env: Env) -> None:
    """Only the grant checks the directory: an exception of someone who has left (or one
    granted ahead of an import with ``switchboard policy grant``) can still be ended."""
    engine = env.runtime.engine
    await engine.grant_exception(
        "gone@sotenas.example", PolicyRule.HIDE_EXTENSION, REASON, "t.root"
    )
    body = {"subject": "gone@sotenas.example", "rule": "hide_extension"}
    response = await env.client.post(f"{GRANT}/revoke", json=body, headers=env.headers["admin"])
    assert response.status == 200, await response.text()
    assert engine.view.exceptions == ()


def _more_people(count: int) -> bytes:
    """The demo directory and ``count`` more people in Sotenäs' number series."""
    rows = [
        f"Extra Person {i:03d},0523-664{500 + i},,extra{i}@sotenas.example,IT,Tekniker,sv,"
        "no,no,private,,sotenas\n"
        for i in range(count)
    ]
    demo = bundled("configs/demo/sml-people.csv").read_bytes()
    return demo + "".join(rows).encode()


async def test_the_policy_page_does_not_grow_with_the_directory(env: Env) -> None:
    """At 100,000 people a list of everyone made the page megabytes; now the form holds a
    text field, and 200 more people add nothing to the page."""

    async def size() -> tuple[int, str]:
        response = await env.client.get("/admin/policy", headers=env.headers["admin"] | HTML)
        assert response.status == 200
        html = await response.text()
        return len(html.encode()), html

    before, html = await size()
    assert '<input id="grant-subject" name="subject" type="text"' in html
    assert 'aria-describedby="grant-subject-hint"' in html
    assert '<select id="grant-subject"' not in html
    assert "Anna Berg" not in html  # nobody is listed to choose from
    await env.runtime.engine.import_directory(_more_people(200), "more.csv", "t.root")
    assert len(env.runtime.engine.view.everyone()) >= 200
    after, html = await size()
    assert "Extra Person" not in html
    assert abs(after - before) < 200, (before, after)  # a version or a count, not people
