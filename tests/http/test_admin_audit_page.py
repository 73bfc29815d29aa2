"""The audit page speaks the reader's language (issue 16): actions by name, not by code,
times in the organisation's zone with UTC on hover, details and changes in the reader's
language, and English (marked) only for entries written before they carried their words."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, timedelta

import pytest

from switchboard.accounts.model import Account, Role
from switchboard.calls.model import CallListRequest
from switchboard.directory.credentials import make_credential
from switchboard.directory.model import PolicyException, PolicyRule
from switchboard.presence.model import (
    ManualStatus,
    PlannedReferral,
    Reason,
    Referral,
    Template,
)
from switchboard.store.audit import AuditDecision
from tests.http.conftest import (
    EMPLOYEE_EXT,
    MONDAY_10,
    OTHER_EXT,
    PASSWORD,
    SECRET_EXT,
    SECRET_MOBILE,
    Env,
)

LABELS = {"sv": "Undantag beviljat", "nb": "Unntak innvilget", "en": "Exception granted"}
DETAILS = {
    "sv": "Undantag från regeln: Dölja anknytningen, med skäl",
    "nb": "Unntak fra regelen: Skjule internnummeret, med begrunnelse",
    "en": "Exception to the rule: Hide the extension, with a reason",
}


@pytest.mark.parametrize("language", ["sv", "nb", "en"])
async def test_the_audit_page_names_actions_and_shows_local_time(env: Env, language: str) -> None:
    engine = env.runtime.engine
    await engine.grant_exception(
        "anna.berg@sotenas.example", PolicyRule.HIDE_EXTENSION, "Decided by HR 2026-11", "t.root"
    )
    entry = (await engine.store.audit(1))[0]
    response = await env.client.get(
        "/admin/audit",
        params={"actor": "t.root", "lang": language},
        headers=env.headers["admin"] | {"Accept": "text/html"},
    )
    html = await response.text()
    assert response.status == 200
    row = html[html.index('data-action="exception_granted"') :]
    row = row[: row.index("</tr>")]
    assert LABELS[language] in row
    assert "<code>exception_granted</code>" not in row
    local = entry.at.astimezone(engine.settings.zone)
    at_utc = entry.at.astimezone(UTC)
    assert local.utcoffset() != timedelta(0)  # Stockholm: local and UTC times differ
    shown = re.search(r'<time datetime="([^"]+)" title="([^"]+)">([^<]+)</time>', html)
    assert shown is not None
    datetime_attr, title, text = shown.groups()
    assert datetime_attr == at_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert text == local.strftime("%Y-%m-%d %H:%M")
    assert title.startswith(at_utc.strftime("%Y-%m-%d %H:%M:%S") + " UTC")
    # The detail and the change in the reader's language, nothing marked English (issue 16).
    assert DETAILS[language] in row
    assert 'lang="en"' not in row
    assert "Decided by HR 2026-11" in row  # the administrator's own words, as typed


ENGLISH_DETAILS = (
    # What the store writes in English (the API's and the CLI's ``detail``): none of it may
    # reach a Swedish or Norwegian audit page once the entries carry their words.
    "referral:",
    "(source ",
    "with a note",
    "diverted",
    "created with roles",
    "no password",
    "roles ",
    "lifted, with a reason",
    "applies again",
    "reason:",
    "requested for",
    "comment:",
    "SIP password set",
    "wrong password",
    "updated:",
    "session started",
    "session(s) ended",
    "unchanged",
    "template '",
    "plan ",
    " until ",
    "[secret]",
)


async def _typical_writes(env: Env) -> None:
    """One of each of the writes an administrator reads most often in the trail."""
    store = env.runtime.engine.store
    at = MONDAY_10
    anna = env.person(EMPLOYEE_EXT)
    lunch = Referral(
        Reason.LUNCH,
        until=at + timedelta(hours=1),
        text="Åter efter lunch",
        divert_to=OTHER_EXT,
    )
    await store.set_manual(anna.person_id, ManualStatus(lunch, "t.anna", at), "t.anna", at)
    holiday = Referral(Reason.HOLIDAY, until=at + timedelta(days=14))
    plan = PlannedReferral("p-holiday", holiday, "t.anna", at, at + timedelta(days=7))
    await store.add_plan(anna.person_id, plan, "t.anna", at)
    template = Template("Lunch", Reason.LUNCH, duration=timedelta(minutes=45), text="Snart")
    await store.save_template(anna.person_id, template, "t.anna", at)
    account = Account("acc-new", "t.new", "Ny Person", None, frozenset({Role.EMPLOYEE}))
    await store.create_account(account, None, "t.root", at)
    await store.update_account(
        replace(account, roles=frozenset({Role.EMPLOYEE, Role.MANAGER})), "t.root", at
    )
    await store.grant_exception(
        PolicyException(anna.person_id, PolicyRule.HIDE_EXTENSION, "Beslut av HR", "t.root", at)
    )
    await store.revoke_exception(
        anna.person_id, PolicyRule.HIDE_EXTENSION, "t.root", at, "Beslutet upphävt"
    )
    boss = await env.accounts.require("t.boss")
    asked = await store.create_call_list_request(
        CallListRequest(
            0,
            anna.person_id,
            boss.account_id,
            "t.boss",
            at - timedelta(days=7),
            at,
            "Granskning av jourschemat",
            at,
        )
    )
    await store.decide_call_list_request(
        asked.request_id,
        True,
        "t.root",
        "Godkänt",
        at,
        expires_at=at + timedelta(days=7),
        downloads=1,
    )
    credential = make_credential(EMPLOYEE_EXT, "switchboard", "ett långt lösenord 12")
    await store.set_sip_credential(credential, "t.root", at)
    await store.import_people([replace(anna, unit="Ny enhet")], "t.root", at)
    await store.save_person(replace(anna, unit="Ny enhet", title="Samordnare"), "t.root", at)
    secret = env.person(SECRET_EXT)
    await store.save_person(replace(secret, title="Jurist"), "t.root", at)
    await env.accounts.set_password("t.anna", PASSWORD, "t.root")
    response = await env.client.post(
        "/signin",
        data={"username": "t.anna", "password": "wrong"},
        headers={"Accept": "text/html", "Origin": env.origin},
    )
    assert response.status == 401


async def _audit_table(env: Env, language: str) -> str:
    response = await env.client.get(
        "/admin/audit",
        params={"lang": language, "limit": "500"},
        headers=env.headers["admin"] | {"Accept": "text/html"},
    )
    assert response.status == 200
    html = await response.text()
    return html[html.index('id="audit-zone"') : html.index("</table>")]


@pytest.mark.parametrize("language", ["sv", "nb"])
async def test_typical_entries_are_said_in_the_readers_language(env: Env, language: str) -> None:
    await _typical_writes(env)
    table = await _audit_table(env, language)
    for action in (
        "manual_set",
        "plan_added",
        "template_saved",
        "account_created",
        "account_roles_changed",
        "exception_granted",
        "exception_revoked",
        "call_list_requested",
        "call_list_approved",
        "sip_credential_set",
        "directory_imported",
        "person_updated",
        "account_password_set",
        "sign_in_failed",
    ):
        assert f'data-action="{action}"' in table, action
    assert 'lang="en"' not in table
    assert "<code>" not in table  # every action by its name (plan_added had none)
    english = [s for s in ENGLISH_DETAILS if s in table]
    assert english == [], f"English details on the {language} audit page: {english}"
    notice = {"sv": "Detaljer som saknar översättning", "nb": "Detaljer som mangler oversettelse"}
    assert notice[language] not in table
    # The user's own words as typed; numbers masked; the secret mobile never shown (R18).
    assert "Åter efter lunch" in table
    assert "Granskning av jourschemat" in table
    assert SECRET_MOBILE not in table
    assert "ett långt lösenord" not in table
    assert PASSWORD not in table
    said = {
        "sv": ("Hänvisning: Lunch", "Roller: Medarbetare → Medarbetare, Chef", "Fel lösenord"),
        "nb": ("Henvisning: Lunsj", "Roller: Ansatt → Ansatt, Leder", "Feil passord"),
    }
    for words in said[language]:
        assert words in table, words
    # Times in the deployment's zone: Anna's lunch ends 11:00 in Stockholm (10:00 UTC).
    assert "2026-11-23 11:00" in table


async def test_an_entry_without_words_is_shown_in_english_and_marked(env: Env) -> None:
    """Entries written before the words (or by a caller that gave only English) still
    render: their English detail and changes, marked lang="en", and the notice says so."""
    store = env.runtime.engine.store
    await store.append_audit(
        MONDAY_10,
        "t.root",
        "access_refused",
        "directory",
        "made up: written long ago",
        AuditDecision.REFUSED,
    )
    table = await _audit_table(env, "sv")
    assert '<span lang="en">made up: written long ago</span>' in table
    assert "Detaljer som saknar översättning visas på engelska." in table
