"""`switchboard calendar explain` end to end, in a subprocess: from a file and from a URL."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.cli.conftest import REPO, Run
from tests.integration.calendar.server import feed_server

CORPUS = REPO / "tests" / "fixtures" / "calendar"
PROBES = json.loads((CORPUS / "probes.json").read_text(encoding="utf-8"))
HOURS = PROBES["hours"]


def _probe(probe_id: str) -> dict[str, object]:
    return next(p for p in PROBES["probes"] if p["id"] == probe_id)


@pytest.mark.parametrize(
    "probe_id",
    ["holiday-back-on-monday", "code-mot-open", "tentative-no-divert", "google-all-day-sick",
     "google-declined-ignored", "caldav-gfd-back-next-morning"],
)  # fmt: skip
def test_explain_a_file_at_probe_instants(sb: Run, probe_id: str) -> None:
    probe = _probe(probe_id)
    args = ["calendar", "explain", str(CORPUS / str(probe["feed"])), "--at", str(probe["at"])]
    args += ["--tz", str(probe["zone"]), "--hours", HOURS, "--language", str(probe["language"])]
    if probe["owner"]:
        args += ["--owner", str(probe["owner"])]
    out = sb(*args).json()
    for key in ("busy", "kind", "until", "reason", "referral_kind", "show_subject"):
        assert out[key] == probe[key], key
    assert out.get("subject") == probe["subject"]
    assert ("subject" in out) is bool(probe["show_subject"])
    assert isinstance(out["problems"], list)


def test_a_private_item_never_appears_in_the_output(sb: Run) -> None:
    result = sb(
        "calendar", "explain", str(CORPUS / "outlook.ics"), "--at", "2026-03-26T10:30",
        "--tz", "Europe/Stockholm",
    )  # fmt: skip
    out = result.json()
    assert (out["busy"], out["kind"], out["show_subject"]) == (True, "private", False)
    assert "subject" not in out
    for secret in PROBES["private_subjects"]:
        assert secret not in result.out
        assert secret not in result.err


def test_the_broken_event_is_listed_in_problems(sb: Run) -> None:
    out = sb(
        "calendar", "explain", str(CORPUS / "outlook.ics"), "--at", "2026-03-27T10:30+01:00"
    ).json()  # fmt: skip
    assert out["kind"] == "free"
    assert [p["uid"] for p in out["problems"]] == ["outlook-broken-0327"]
    assert out["problems"][0]["line"] > 1


def test_a_missing_file_and_a_bad_zone_are_refused(sb: Run) -> None:
    missing = sb("calendar", "explain", "/nonexistent/feed.ics", expect=1)
    assert "/nonexistent/feed.ics: cannot read the file" in missing.err
    zone = sb("calendar", "explain", str(CORPUS / "google.ics"), "--tz", "Mars/Olympus", expect=1)
    assert "--tz 'Mars/Olympus' is not an IANA time zone" in zone.err


async def test_explain_a_url_from_a_local_server(sb: Run) -> None:
    async with feed_server() as server:
        url = f"{server.base}/secret-token-123/google.ics"
        result = await asyncio.to_thread(
            sb, "calendar", "explain", url, "--at", "2026-03-30T09:15", "--tz", "Europe/Oslo",
            "--owner", "kari.nordmann@example.no", "--language", "nb",
        )  # fmt: skip
        gone = await asyncio.to_thread(
            sb, "calendar", "explain", f"{server.base}/secret-token-123/none.ics", expect=1
        )
    out = result.json()
    assert (out["busy"], out["kind"], out["reason"], out["subject"]) == (
        True, "meeting", "meeting", "Styremøte",
    )  # fmt: skip
    assert out["until"] == "2026-03-30T10:30:00+02:00"
    assert out["source"] == f"{server.base}/***"
    assert "secret-token-123" not in result.out + result.err
    assert "HTTP 404" in gone.err
    assert "secret-token-123" not in gone.err
