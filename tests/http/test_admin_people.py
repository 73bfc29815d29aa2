"""The people list of the administration, paged, searched and filtered on the server
(issue 15), with managers' units by name (issue 16)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from switchboard.accounts.model import Role, unit_key
from tests.http.conftest import EMPLOYEE_EXT, Env

HTML = {"Accept": "text/html"}
API = "/api/v1/admin/people"


async def _get(env: Env, **params: str) -> dict[str, Any]:
    response = await env.client.get(API, params=params, headers=env.headers["admin"])
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def test_the_api_pages_through_everyone_in_name_order(env: Env) -> None:
    view = env.runtime.engine.view
    seen: list[str] = []
    pages = 0
    params = {"limit": "3"}
    while True:
        body = await _get(env, **params)
        pages += 1
        assert body["total"] == view.count()
        assert body["limit"] == 3
        assert len(body["people"]) <= 3
        seen += [p["name"] for p in body["people"]]
        if body["next"] is None:
            break
        params = {"limit": "3", "after": body["next"]}
    assert seen == [p.name for p in view.people()]
    assert pages == -(-view.count() // 3)


async def test_the_api_searches_and_filters(env: Env) -> None:
    anna = env.person(EMPLOYEE_EXT)
    by_name = await _get(env, q=anna.name.split()[-1].upper())
    assert anna.name in [p["name"] for p in by_name["people"]]
    by_username = await _get(env, q="t.anna")
    assert [p["name"] for p in by_username["people"]] == [anna.name]
    employees = await _get(env, role="employee")
    assert [p["name"] for p in employees["people"]] == [anna.name]
    admins = await _get(env, role="admin")
    assert admins["people"] == []
    others = admins["accounts_without_person"]
    assert "t.root" in [a["username"] for a in others]
    assert all("admin" in a["roles"] for a in others)
    assert "t.reception" not in [a["username"] for a in others]
    nobody = await _get(env, q="zzzz-nobody")
    assert nobody["people"] == []
    assert nobody["next"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"after": "not-a-cursor"}, "after"),
        ({"role": "king"}, "role"),
    ],
    ids=["zero", "too-many", "not-a-number", "junk-cursor", "unknown-role"],
)
async def test_bad_parameters_are_400_naming_the_parameter(
    env: Env, params: dict[str, str], field: str
) -> None:
    response = await env.client.get(API, params=params, headers=env.headers["admin"])
    assert response.status == 400
    assert (await response.json())["error"]["message"].startswith(field)


async def test_the_page_is_paged_and_searched_and_names_managers_units(env: Env) -> None:
    anna = env.person(EMPLOYEE_EXT)
    await env.accounts.set_roles(
        "t.boss", [Role.MANAGER], "test", manages=[unit_key(anna.organisation, anna.unit)]
    )
    admin = env.headers["admin"] | HTML
    response = await env.client.get("/admin/people", params={"limit": "2"}, headers=admin)
    html = await response.text()
    assert response.status == 200
    assert html.count('<th scope="row"') == 2
    found = re.search(r'id="people-next" href="([^"]+)"', html)
    assert found is not None
    second = await env.client.get(
        "/admin/people" + found.group(1).replace("&amp;", "&"), headers=admin
    )
    page_two = await second.text()
    assert 'id="people-first"' in page_two
    first_names = re.findall(r'<div class="person-name">([^<]+)</div>', html)
    second_names = re.findall(r'<div class="person-name">([^<]+)</div>', page_two)
    assert not set(first_names[:2]) & set(second_names[:2])

    searched = await env.client.get("/admin/people", params={"q": "t.anna"}, headers=admin)
    text = await searched.text()
    assert text.count('<th scope="row"') == 1
    assert anna.name in text

    org = env.settings.organisation(anna.organisation).name
    boss = await env.client.get("/admin/people", params={"role": "manager"}, headers=admin)
    boss_html = await boss.text()
    assert f"{anna.unit}, {org}" in boss_html
    assert unit_key(anna.organisation, anna.unit) not in boss_html
