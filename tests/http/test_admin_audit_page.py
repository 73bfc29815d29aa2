"""The audit page speaks the reader's language (issue 16): actions by name, not by code,
times in the organisation's zone with UTC on hover, details and changes in the reader's
language, and English (marked) only for entries written before they carried their words."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import pytest

from switchboard.directory.model import PolicyRule
from tests.http.conftest import Env

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
