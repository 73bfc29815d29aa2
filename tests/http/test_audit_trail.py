"""Issue 17: refusals and failed sign-ins in the audit trail, with who (by name), on whom,
what, the decision, the source address and the request id; a session and a token of the
same user told apart; and the refusal's log line with the name and an unmangled id."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import structlog
import structlog.testing

from switchboard.logs import mask_numbers
from switchboard.store.audit import AuditDecision
from tests.http.conftest import EMPLOYEE_EXT, OTHER_EXT, PASSWORD, Env

REQUEST_ID = re.compile(r"[0-9a-f]{16}")


async def test_every_answer_carries_a_request_id_of_its_own(env: Env) -> None:
    first = await env.client.get("/api/v1/openapi.json", headers={"X-Request-Id": "mine"})
    second = await env.client.get("/nowhere")
    ids = [first.headers["X-Request-Id"], second.headers["X-Request-Id"]]
    assert all(REQUEST_ID.fullmatch(i) for i in ids), ids
    assert ids[0] != ids[1]  # made by the server, never taken from the client


async def test_a_refusal_is_in_the_audit_trail_with_name_target_source_and_request(
    env: Env,
) -> None:
    """An employee tries to set a colleague's availability: 403, nothing changed, and the
    trail says who (by name, not account id), on whom, what, where from and which request."""
    johan = env.person(OTHER_EXT)
    changes = await env.audit_count()
    response = await env.client.put(
        f"/api/v1/people/{johan.person_id}/availability",
        headers=env.headers["employee"],
        json={"state": "available"},
    )
    assert response.status == 403
    assert await env.audit_count() == changes
    [entry] = await env.refusals()
    assert entry.actor == "t.anna"
    assert entry.action == "access_refused"
    assert entry.subject == johan.person_id
    assert entry.decision is AuditDecision.REFUSED
    assert entry.via == "session"
    assert entry.source == "127.0.0.1"
    assert entry.request_id == response.headers["X-Request-Id"]
    assert entry.detail.startswith(
        f"write_presence: PUT /api/v1/people/{johan.person_id}/availability"
    )
    assert entry.at == env.clock.now()


async def test_a_csrf_refusal_and_an_admin_page_refusal_are_audited_too(env: Env) -> None:
    johan = env.person(OTHER_EXT)
    headers = dict(env.headers["receptionist"])
    headers["X-CSRF-Token"] = "wrong"
    response = await env.client.put(
        f"/api/v1/people/{johan.person_id}/availability", headers=headers, json={}
    )
    assert response.status == 403
    page = await env.client.get("/admin/audit", headers=env.headers["employee"])
    assert page.status == 403
    admin_page, csrf = await env.refusals()
    assert (csrf.actor, csrf.subject, csrf.detail.split(":")[0]) == (
        "t.reception",
        f"/api/v1/people/{johan.person_id}/availability",
        "csrf_token",
    )
    assert (admin_page.actor, admin_page.subject) == ("t.anna", "/admin/audit")
    assert admin_page.detail.startswith("admin_audit: GET /admin/audit")


async def test_a_session_and_a_token_of_the_same_user_are_told_apart(env: Env) -> None:
    """The integration account acts with its API token and with a web session."""
    johan = env.person(OTHER_EXT)
    path = f"/api/v1/people/{johan.person_id}/availability"
    session = await env.session_headers("t.integration")
    by_token = await env.client.put(
        path, headers=env.headers["bearer"], json={"state": "available"}
    )
    by_session = await env.client.delete(path, headers=session)
    assert (by_token.status, by_session.status) == (200, 200)
    cleared, made = await env.runtime.engine.store.audit(2)
    assert made.actor == cleared.actor == "t.integration"
    assert (made.via, cleared.via) == ("token:tests", "session")
    assert made.request_id == by_token.headers["X-Request-Id"]
    assert cleared.request_id == by_session.headers["X-Request-Id"]
    # A refusal tells them apart too.
    refused = await env.client.get("/api/v1/admin/audit", headers=env.headers["bearer"])
    assert refused.status == 403
    assert (await env.refusals())[0].via == "token:tests"


async def test_a_change_over_http_records_old_and_new(env: Env) -> None:
    anna = env.person(EMPLOYEE_EXT)
    path = f"/api/v1/people/{anna.person_id}/availability"
    body = {"state": "referral", "reason": "other", "text": "Kurs i Malmö"}
    first = await env.client.put(path, headers=env.headers["employee"], json=body)
    second = await env.client.put(
        path, headers=env.headers["employee"], json=body | {"text": "Kurs i Lund"}
    )
    assert (first.status, second.status) == (200, 200)
    entry = (await env.runtime.engine.store.audit(1))[0]
    notes = [(c.old, c.new) for c in entry.changes if c.field == "note"]
    assert notes == [("Kurs i Malmö", "Kurs i Lund")]


async def test_failed_sign_ins_to_an_account_are_audited_and_others_only_logged(
    env: Env,
) -> None:
    await env.accounts.set_password("t.anna", PASSWORD, "test")
    wrong = await env.client.post(
        "/signin", json={"username": "t.anna", "password": "not the password"}
    )
    env.clock.advance(1)  # the per-source wait after a failure
    ghost = await env.client.post("/signin", json={"username": "ghost", "password": "x"})
    assert (wrong.status, ghost.status) == (401, 401)
    failed = [
        e for e in await env.runtime.engine.store.audit(50) if e.decision is AuditDecision.FAILED
    ]
    assert len(failed) == 1  # the unknown name is nobody's account: the log has it
    [entry] = failed
    assert (entry.action, entry.subject, entry.actor) == (
        "sign_in_failed",
        "account:t.anna",
        "anonymous",
    )
    assert (entry.via, entry.source) == ("password", "127.0.0.1")
    assert entry.request_id == wrong.headers["X-Request-Id"]
    assert entry.detail == "wrong password"
    assert "not the password" not in json.dumps([e.detail for e in failed])

    env.clock.advance(2)
    ok = await env.client.post("/signin", json={"username": "t.anna", "password": PASSWORD})
    assert ok.status == 200
    signed_in = (await env.runtime.engine.store.audit(1))[0]
    assert (signed_in.action, signed_in.via) == ("signed_in", "password")


async def test_the_audit_api_and_page_show_the_new_fields(env: Env) -> None:
    johan = env.person(OTHER_EXT)
    refused = await env.client.put(
        f"/api/v1/people/{johan.person_id}/availability",
        headers=env.headers["employee"],
        json={"state": "available"},
    )
    api = await env.client.get("/api/v1/admin/audit?limit=1", headers=env.headers["admin"])
    [entry] = (await api.json())["entries"]
    assert entry["decision"] == "refused"
    assert entry["actor"] == "t.anna"
    assert entry["via"] == "session"
    assert entry["source"] == "127.0.0.1"
    assert entry["request_id"] == refused.headers["X-Request-Id"]
    assert entry["at_utc"].endswith("Z")
    assert entry["changes"] == []
    page = await env.client.get("/admin/audit?lang=en", headers=env.headers["admin"])
    html = await page.text()
    assert refused.headers["X-Request-Id"] in html
    assert "Refused" in html


async def test_the_refusal_log_line_has_name_id_request_and_source(env: Env) -> None:
    """Issue 17: the line had the account id, and the person id half masked; no request
    id, source or path. Captured before rendering, then masked as every line is."""
    johan = env.person(OTHER_EXT)
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logged:
        response = await env.client.put(
            f"/api/v1/people/{johan.person_id}/availability",
            headers=env.headers["employee"],
            json={"state": "available"},
        )
    assert response.status == 403
    [line] = [x for x in logged if x["event"] == "http_refused"]
    line = dict(mask_numbers(None, "info", line))
    assert line["actor"] == "t.anna"
    assert line["subject"] == johan.person_id
    assert line["request_id"] == response.headers["X-Request-Id"]
    assert line["source"] == "127.0.0.1"
    assert line["path"] == f"/api/v1/people/{johan.person_id}/availability"


async def test_a_refused_call_list_request_is_audited_on_the_person(env: Env) -> None:
    """R19 asks that access be restricted and logged: an employee asking for a colleague's
    calls is refused, and the trail names the colleague."""
    johan = env.person(OTHER_EXT)
    end = env.clock.now() - timedelta(days=1)
    body = {
        "person_id": johan.person_id,
        "start": (end - timedelta(days=7)).isoformat(),
        "end": end.isoformat(),
        "reason": "Vill se samtalen",
    }
    response = await env.client.post(
        "/api/v1/call-lists", headers=env.headers["employee"], json=body
    )
    assert response.status == 403
    [entry] = await env.refusals()
    assert (entry.actor, entry.subject) == ("t.anna", johan.person_id)
    assert entry.detail.startswith("request_call_list: POST /api/v1/call-lists")
