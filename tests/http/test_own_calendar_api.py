"""Connecting one's own calendar over HTTP (issue 16): who may, what the administrator
allows (``[own_calendars]``), bad addresses refused on their field without being repeated,
the feed's secret token masked in answers, logs and the audit trail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import structlog

from switchboard.events import Event, OwnCalendarChanged
from switchboard.http.context import CALENDAR_HEALTH
from switchboard.settings.own_calendars import OwnCalendarPolicy
from tests.http.conftest import EMPLOYEE_EXT, OTHER_EXT, Env, open_env

TOKEN = "Zq81SECRETtokenAbc"  # noqa: S105 - the feed's secret part
FEED = f"https://outlook.office365.com/owa/calendar/4f1/{TOKEN}/reachcalendar.ics"
MASKED = "https://outlook.office365.com/***"


def allow(env: Env, **policy: Any) -> None:
    engine = env.runtime.engine
    engine.settings = replace(engine.settings, own_calendars=OwnCalendarPolicy(**policy))


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with open_env(tmp_path) as opened:
        allow(opened, ics=True, ics_hosts=("office365.com", "calendar.google.com"), graph="m365")
        yield opened


def path(env: Env, extension: str = EMPLOYEE_EXT) -> str:
    return f"/api/v1/people/{env.person(extension).person_id}/calendar"


async def call(
    env: Env, method: str, who: str, body: Any = None, extension: str = EMPLOYEE_EXT
) -> tuple[int, Any]:
    kw = {} if body is None else {"json": body}
    async with env.client.request(
        method, path(env, extension), headers=env.headers[who], **kw
    ) as response:
        return response.status, await response.json()


async def refused(env: Env, body: Any, field: str, code: str, who: str = "employee") -> str:
    """422 naming ``field`` with ``code``; nothing stored, audited or published."""
    changes = await env.audit_count()
    published: list[Event] = []
    remove = env.runtime.bus.add_listener(published.append)
    try:
        status, answer = await call(env, "PUT", who, body)
    finally:
        remove()
    assert status == 422, answer
    error = answer["error"]
    assert (error["field"], error["code"]) == (field, code)
    assert error["message"].startswith(f"{field}: ")
    assert await env.runtime.engine.store.own_calendars() == []
    assert await env.audit_count() == changes
    assert published == []
    return str(error["message"])


async def test_an_employee_connects_a_feed_and_sees_it_masked(env: Env) -> None:
    anna = env.person(EMPLOYEE_EXT)
    published: list[Event] = []
    env.runtime.bus.add_listener(published.append)
    with structlog.testing.capture_logs() as logs:
        status, answer = await call(env, "PUT", "employee", {"kind": "ics", "url": FEED})
    assert status == 200, answer
    assert answer["connected"] is True
    assert (answer["kind"], answer["address"], answer["connected_by"]) == ("ics", MASKED, "t.anna")
    assert answer["active"] is True
    assert (answer["last_sync"], answer["last_error"]) == (None, None)
    assert TOKEN not in str(answer)
    assert TOKEN not in str(logs)
    assert any(e.get("event") == "own_calendar_connected" for e in logs)
    assert OwnCalendarChanged(anna.person_id) in published

    stored = await env.runtime.engine.store.own_calendar(anna.person_id)
    assert stored is not None
    assert stored.address == FEED
    (entry,) = await env.runtime.engine.store.audit(1, subject=anna.person_id)
    assert (entry.actor, entry.action) == ("t.anna", "calendar_connected")
    assert MASKED in entry.detail
    assert TOKEN not in f"{entry.detail} {entry.changes}"

    status, again = await call(env, "GET", "employee")
    assert (status, again["address"]) == (200, MASKED)


async def test_the_card_shows_the_workers_last_sync_and_error(env: Env) -> None:
    anna = env.person(EMPLOYEE_EXT)
    await call(env, "PUT", "employee", {"kind": "ics", "url": FEED})
    env.app[CALENDAR_HEALTH].update(
        [
            {
                "source": f"own:{anna.person_id}",
                "type": "ics",
                "last_success": "2026-11-23T09:02:00+00:00",
                "last_error": f"{anna.person_id}: {MASKED}: HTTP 404 Not Found: check the URL",
                "last_error_at": "2026-11-23T09:07:00+00:00",
                "failures": 2,
                "next_run": "2026-11-23T09:08:00+00:00",
            }
        ]
    )
    _, answer = await call(env, "GET", "employee")
    assert answer["last_sync"] == "2026-11-23T09:02:00+00:00"
    assert answer["last_error"] == f"{MASKED}: HTTP 404 Not Found: check the URL"
    assert answer["next_sync"] == "2026-11-23T09:08:00+00:00"


async def test_disconnecting_is_audited_and_a_second_time_is_not_found(env: Env) -> None:
    anna = env.person(EMPLOYEE_EXT)
    await call(env, "PUT", "employee", {"kind": "ics", "url": FEED})
    status, answer = await call(env, "DELETE", "employee")
    assert (status, answer["connected"], answer["address"]) == (200, False, None)
    assert await env.runtime.engine.store.own_calendar(anna.person_id) is None
    (entry,) = await env.runtime.engine.store.audit(1, subject=anna.person_id)
    assert (entry.actor, entry.action) == ("t.anna", "calendar_disconnected")
    status, _ = await call(env, "DELETE", "employee")
    assert status == 404


@pytest.mark.parametrize(
    ("who", "extension", "expected"),
    [
        ("anonymous", EMPLOYEE_EXT, 401),
        ("employee", OTHER_EXT, 403),
        ("receptionist", OTHER_EXT, 403),
        ("manager", OTHER_EXT, 403),
        ("bearer", OTHER_EXT, 403),
        ("admin", OTHER_EXT, 200),
        ("employee", EMPLOYEE_EXT, 200),
    ],
    ids=lambda v: str(v),
)
async def test_only_the_person_or_an_administrator(
    env: Env, who: str, extension: str, expected: int
) -> None:
    changes = await env.audit_count()
    for method, body in (("GET", None), ("PUT", {"kind": "ics", "url": FEED}), ("DELETE", None)):
        status, _ = await call(env, method, who, body, extension)
        assert status == expected, (method, status)
    if expected != 200:
        assert await env.audit_count() == changes
        assert await env.runtime.engine.store.own_calendars() == []


async def test_an_administrator_connects_on_behalf_audited_as_themselves(env: Env) -> None:
    johan = env.person(OTHER_EXT)
    body = {"kind": "graph", "mailbox": "hamnen@lysekil.example"}  # not his own: an admin may
    status, answer = await call(env, "PUT", "admin", body, OTHER_EXT)
    assert status == 200, answer
    assert (answer["kind"], answer["address"], answer["connected_by"]) == (
        "graph",
        "hamnen@lysekil.example",
        "t.root",
    )
    (entry,) = await env.runtime.engine.store.audit(1, subject=johan.person_id)
    assert (entry.actor, entry.action) == ("t.root", "calendar_connected")


async def test_an_employee_connects_only_their_own_mailbox(env: Env) -> None:
    await refused(
        env,
        {"kind": "graph", "mailbox": "johan.ek@lysekil.example"},
        "mailbox",
        "calendar_mailbox_not_own",
    )
    await refused(
        env, {"kind": "graph", "mailbox": "not an address"}, "mailbox", "calendar_mailbox_invalid"
    )
    status, answer = await call(
        env, "PUT", "employee", {"kind": "graph", "mailbox": "Anna.Berg@sotenas.example"}
    )
    assert (status, answer["kind"]) == (200, "graph")


async def test_nothing_may_be_connected_unless_the_administrator_allows_it(env: Env) -> None:
    allow(env)  # the default: nothing
    status, answer = await call(env, "GET", "employee")
    assert (status, answer["allowed"]) == (200, {"ics": False, "graph": False})
    await refused(env, {"kind": "ics", "url": FEED}, "kind", "calendar_not_allowed")
    await refused(
        env,
        {"kind": "graph", "mailbox": "anna.berg@sotenas.example"},
        "kind",
        "calendar_not_allowed",
    )
    allow(env, ics=True)
    await refused(
        env,
        {"kind": "graph", "mailbox": "anna.berg@sotenas.example"},
        "kind",
        "calendar_not_allowed",
    )


async def test_a_connection_the_policy_no_longer_allows_is_shown_inactive(env: Env) -> None:
    await call(env, "PUT", "employee", {"kind": "ics", "url": FEED})
    allow(env, graph="m365")
    _, answer = await call(env, "GET", "employee")
    assert (answer["connected"], answer["active"]) == (True, False)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://outlook.office365.com/owa/calendar.ics", "calendar_url_scheme"),
        ("ftp://outlook.office365.com/calendar.ics", "calendar_url_scheme"),
        ("javascript:alert(1)", "calendar_url_scheme"),
        ("outlook.office365.com/calendar.ics", "calendar_url_scheme"),
        ("https://anna:hunter2pw@outlook.office365.com/calendar.ics", "calendar_url_credentials"),
        ("https://evil.example/office365.com/cal.ics", "calendar_url_host"),
        ("https://office365.com.evil.example/cal.ics", "calendar_url_host"),
        ("https://outlook.office365.com/" + "a" * 2100, "calendar_url_long"),
        ("https://outlook.office365.com/a b.ics", "calendar_url_invalid"),
        ("https://outlook.office365.com:99999/cal.ics", "calendar_url_invalid"),
        ("   ", "calendar_url_missing"),
    ],
    ids=lambda v: v[:40],
)
async def test_a_bad_url_is_refused_on_its_field_without_repeating_it(
    env: Env, url: str, code: str
) -> None:
    message = await refused(env, {"kind": "ics", "url": url}, "url", code)
    assert "hunter2pw" not in message
    assert url.strip() not in message or not url.strip()


async def test_http_only_where_allowed_and_webcal_is_https(env: Env) -> None:
    allow(env, ics=True, ics_http=True)
    status, answer = await call(
        env, "PUT", "employee", {"kind": "ics", "url": "http://cal.example/a.ics"}
    )
    assert (status, answer["address"]) == (200, "http://cal.example/***")
    status, answer = await call(
        env, "PUT", "employee", {"kind": "ics", "url": f"webcal://cal.example/{TOKEN}.ics"}
    )
    assert (status, answer["address"]) == (200, "https://cal.example/***")
    anna = env.person(EMPLOYEE_EXT)
    stored = await env.runtime.engine.store.own_calendar(anna.person_id)
    assert stored is not None
    assert stored.address == f"https://cal.example/{TOKEN}.ics"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "kind", "calendar_kind"),
        ({"kind": "exchange", "url": FEED}, "kind", "calendar_kind"),
        ({"kind": "ics"}, "url", "calendar_url_missing"),
        ({"kind": "ics", "url": 7}, "url", "calendar_url_missing"),
        ({"kind": "ics", "url": FEED, "mailbox": "a@b.se"}, "mailbox", "calendar_field"),
        ({"kind": "graph", "url": FEED}, "url", "calendar_field"),
    ],
    ids=lambda v: str(v)[:30],
)
async def test_a_malformed_body_names_the_field(
    env: Env, body: dict[str, Any], field: str, code: str
) -> None:
    message = await refused(env, body, field, code)
    assert TOKEN not in message


async def test_unknown_fields_are_refused(env: Env) -> None:
    status, _ = await call(env, "PUT", "employee", {"kind": "ics", "url": FEED, "person_id": "x"})
    assert status == 400


HTML = {"Accept": "text/html"}


async def test_the_card_offers_only_what_the_administrator_allows(env: Env) -> None:
    allow(env)
    page = await (await env.client.get("/me", headers=env.headers["employee"] | HTML)).text()
    assert 'id="own-calendar"' not in page
    assert "Inte ansluten" in page

    allow(env, ics=True)
    page = await (await env.client.get("/me", headers=env.headers["employee"] | HTML)).text()
    assert 'id="own-calendar-url"' in page
    assert 'id="own-calendar-mailbox"' not in page
    assert 'name="kind" value="ics"' in page

    allow(env, ics=True, graph="m365")
    page = await (await env.client.get("/me", headers=env.headers["employee"] | HTML)).text()
    assert 'value="graph"' in page
    assert 'value="anna.berg@sotenas.example"' in page  # the mailbox starts as her own


async def test_the_page_shows_a_connection_masked(env: Env) -> None:
    await call(env, "PUT", "employee", {"kind": "ics", "url": FEED})
    page = await (await env.client.get("/me", headers=env.headers["employee"] | HTML)).text()
    assert f"Ansluten: {MASKED}" in page
    assert TOKEN not in page


async def test_the_admin_policy_page_says_what_employees_may_connect(env: Env) -> None:
    await call(env, "PUT", "employee", {"kind": "ics", "url": FEED})
    response = await env.client.get("/admin/policy", headers=env.headers["admin"] | HTML)
    page = await response.text()
    assert response.status == 200
    assert "Egna kalendrar" in page
    assert "office365.com, calendar.google.com" in page
    assert "tillåts (m365)" in page
    assert "Anslutna kalendrar just nu: 1." in page
    assert TOKEN not in page
