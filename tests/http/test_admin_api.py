"""The administration API: who may call it (refused AND unchanged), what it does, and the
CSV import's errors per line.

Principals as in conftest: anonymous, employee, receptionist, manager, admin (session
with CSRF token) and a receptionist's bearer token. Only the admin may use these routes.
"""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.accounts.model import Role
from switchboard.http.context import HTTP
from switchboard.settings.resources import bundled
from tests.http.conftest import EMPLOYEE_EXT, Env

CSV_TYPE = {"Content-Type": "text/csv"}
ANNA_EMAIL = "anna.berg@sotenas.example"
REASON = "Protected identity, decided by HR"
GOOD_ROW = "Nils Nordin,0523-664321,,nils.nordin@sotenas.example,IT,Tekniker,sv,no,no,private,,\n"
HEADER = (
    "name,number,mobile,email,unit,title,language,hide_mobile,secret_mobile,"
    "arrangement,hours,organisation\n"
)


def _routes() -> list[tuple[str, str, dict[str, Any]]]:
    """Every admin route with a request that would change something if allowed."""
    return [
        ("POST", "/api/v1/admin/directory/import", {"data": HEADER + GOOD_ROW}),
        ("GET", "/api/v1/admin/people", {}),
        ("PUT", "/api/v1/admin/accounts/t.anna/roles", {"json": {"roles": ["admin"]}}),
        ("GET", "/api/v1/admin/exceptions", {}),
        (
            "POST",
            "/api/v1/admin/exceptions",
            {"json": {"subject": ANNA_EMAIL, "rule": "hide_extension", "reason": REASON}},
        ),
        (
            "POST",
            "/api/v1/admin/exceptions/revoke",
            {"json": {"subject": ANNA_EMAIL, "rule": "hide_extension"}},
        ),
        ("GET", "/api/v1/admin/audit", {}),
    ]


async def _state(env: Env) -> tuple[object, ...]:
    store = env.runtime.engine.store
    return (
        await env.audit_count(),
        await env.version(),
        await store.accounts(),
        len(env.runtime.engine.view.people()),
        env.runtime.engine.view.exceptions,
    )


@pytest.mark.parametrize(
    "who", ["anonymous", "employee", "receptionist", "manager", "bearer", "admin_without_csrf"]
)
async def test_everyone_but_an_admin_is_refused_and_nothing_changes(env: Env, who: str) -> None:
    if who == "admin_without_csrf":
        headers = {k: v for k, v in env.headers["admin"].items() if k != "X-CSRF-Token"}
    else:
        headers = env.headers[who]
    before = await _state(env)
    for method, path, kwargs in _routes():
        if who == "admin_without_csrf" and method == "GET":
            continue  # reads need no CSRF token
        extra = CSV_TYPE if "data" in kwargs else {}
        response = await env.client.request(method, path, headers=headers | extra, **kwargs)
        expected = {401} if who == "anonymous" else {403}
        assert response.status in expected, (who, method, path, response.status)
    assert await _state(env) == before


async def test_an_admin_may_do_it_all(env: Env) -> None:
    admin = env.headers["admin"]
    client = env.client
    response = await client.post(
        "/api/v1/admin/directory/import",
        params={"dry_run": "true"},
        data=bundled("configs/demo/sml-people.csv").read_bytes(),
        headers=admin | CSV_TYPE,
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["dry_run"] is True
    assert body["people"] == len(env.runtime.engine.view.people())
    # What the import would do: the demo file is the directory as it stands.
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, body["people"])

    response = await client.get("/api/v1/admin/people", headers=admin)
    people = (await response.json())["people"]
    anna = next(p for p in people if p["extension"] == EMPLOYEE_EXT)
    assert "t.anna" in [a["username"] for a in anna["accounts"]]

    response = await client.put(
        "/api/v1/admin/accounts/t.anna/roles",
        json={"roles": ["employee", "receptionist"]},
        headers=admin,
    )
    assert response.status == 200
    assert (await env.accounts.require("t.anna")).roles == {Role.EMPLOYEE, Role.RECEPTIONIST}
    response = await client.put(
        "/api/v1/admin/accounts/nobody.here/roles", json={"roles": ["admin"]}, headers=admin
    )
    assert response.status == 404

    exception = {"subject": ANNA_EMAIL, "rule": "hide_extension", "reason": REASON}
    response = await client.post("/api/v1/admin/exceptions", json=exception, headers=admin)
    assert response.status == 201, await response.text()
    response = await client.get("/api/v1/admin/exceptions", headers=admin)
    listed = (await response.json())["exceptions"]
    assert [(e["subject"], e["reason"], e["granted_by"]) for e in listed] == [
        (ANNA_EMAIL, REASON, "t.root")
    ]
    response = await client.post(
        "/api/v1/admin/exceptions", json=exception | {"reason": ""}, headers=admin
    )
    assert response.status == 422  # R16: a reason that is kept
    revoke = {"subject": ANNA_EMAIL, "rule": "hide_extension"}
    ended = revoke | {"reason": "the protected-identity decision has expired"}
    response = await client.post("/api/v1/admin/exceptions/revoke", json=ended, headers=admin)
    assert response.status == 200
    assert env.runtime.engine.view.exceptions == ()
    response = await client.post("/api/v1/admin/exceptions/revoke", json=revoke, headers=admin)
    assert response.status == 404

    response = await client.get(
        "/api/v1/admin/audit", params={"actor": "t.root", "limit": "2"}, headers=admin
    )
    page = await response.json()
    assert [e["action"] for e in page["entries"]] == ["exception_revoked", "exception_granted"]
    assert "reason: the protected-identity decision has expired" in page["entries"][0]["detail"]
    response = await client.get(
        "/api/v1/admin/audit",
        params={"actor": "t.root", "before": str(page["next_before"])},
        headers=admin,
    )
    actions = [e["action"] for e in (await response.json())["entries"]]
    assert "account_roles_changed" in actions
    assert "exception_granted" not in actions


async def test_a_bad_csv_gets_its_errors_per_line_and_imports_nothing(env: Env) -> None:
    before = await _state(env)
    bad = (
        HEADER
        + GOOD_ROW
        + "Utan Nummer,,,utan@sotenas.example,IT,Tekniker,sv,no,no,private,,\n"
        + "Fel Flagga,0523-664322,,fel@sotenas.example,IT,Tekniker,sv,kanske,no,private,,\n"
    )
    response = await env.client.post(
        "/api/v1/admin/directory/import", data=bad, headers=env.headers["admin"] | CSV_TYPE
    )
    assert response.status == 422
    error = (await response.json())["error"]
    lines = {(e["line"], e["column"]) for e in error["errors"]}
    assert 3 in {line for line, _ in lines}
    assert (4, "hide_mobile") in lines
    assert all(set(e) == {"line", "column", "message", "code", "params"} for e in error["errors"])
    assert all(e["code"] for e in error["errors"]), "every row error has a code to translate"
    assert await _state(env) == before


PLAIN = "name,mobile,email\n"
"""The documented columns only: no extension, no organisation column (issue 16)."""


async def test_an_import_reports_the_organisations_it_inferred(env: Env) -> None:
    data = PLAIN + "Lo Ek,070-174 06 91,lo.ek@skola.lysekil.se\n"
    response = await env.client.post(
        "/api/v1/admin/directory/import?dry_run=true",
        data=data,
        headers=env.headers["admin"] | CSV_TYPE,
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["inferred"] == [
        {
            "line": 2,
            "name": "Lo Ek",
            "organisation": "lysekil",
            "how": "email_domain",
            "domain": "lysekil.se",
        }
    ]


async def test_a_person_nothing_places_is_refused_with_a_code(env: Env) -> None:
    before = await _state(env)
    data = PLAIN + "Lo Ek,070-174 06 91,lo.ek@gmail.example\n"
    response = await env.client.post(
        "/api/v1/admin/directory/import", data=data, headers=env.headers["admin"] | CSV_TYPE
    )
    assert response.status == 422
    (problem,) = (await response.json())["error"]["errors"]
    assert (problem["line"], problem["column"], problem["code"]) == (
        2,
        "organisation",
        "no_organisation",
    )
    assert await _state(env) == before


async def test_an_import_changes_the_directory(env: Env) -> None:
    data = bundled("configs/demo/sml-people.csv").read_text(encoding="utf-8") + GOOD_ROW
    response = await env.client.post(
        "/api/v1/admin/directory/import", data=data, headers=env.headers["admin"] | CSV_TYPE
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["created"] == 1
    assert env.runtime.engine.view.person_by_extension("64321") is not None


async def test_a_directory_file_larger_than_other_bodies_is_imported(env: Env) -> None:
    """A region's file (100,000 people, 12 MB) is far above the body limit of every other
    route (64 KiB here): the import has its own (``security.MAX_IMPORT_BYTES``)."""
    padding = ",,,,,,,,,,,\n" * 20_000  # empty rows, skipped: 240 KB
    data = (HEADER + GOOD_ROW + padding).encode()
    assert len(data) > env.client.app[HTTP].max_body
    response = await env.client.post(
        "/api/v1/admin/directory/import", data=data, headers=env.headers["admin"] | CSV_TYPE
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["created"] == 1
    assert env.runtime.engine.view.find("nils.nordin@sotenas.example") is not None
    # Every other route keeps its limit.
    response = await env.client.post(
        "/api/v1/admin/exceptions", data=data, headers=env.headers["admin"] | CSV_TYPE
    )
    assert response.status == 413
