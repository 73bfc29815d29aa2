"""``GET /api/v1/route`` (issue 14): what Kamailio in front does with an INVITE, from memory.

The demo directory at Monday 10:00 (see conftest): Anna Berg (64123) at lunch, Fatima
Haddad (13456, secret mobile) on holiday, Johan Ek (51234) rings under an open referral,
Maria Nilsson (18007) available. The trunk is 127.0.0.1:5999, as in the SIP tests, so the
targets can be compared with what the switchboard's own 302 says.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from switchboard.accounts.model import Role
from switchboard.app import Runtime, open_runtime
from switchboard.cli.demo import CALENDAR_SOURCE, run_demo
from switchboard.http.app import build_app
from switchboard.live.engine import SecretInTextError
from switchboard.presence.model import ManualStatus, Reason, Referral
from switchboard.settings.config import load_settings
from switchboard.settings.http import HttpSettings
from switchboard.settings.resources import bundled
from switchboard.settings.sip import parse_trunk
from tests.http.conftest import MONDAY_10, SECRET_EXT, SECRET_MOBILE, StepClock

TRUNK = "127.0.0.1:5999"
JOHAN_MOBILE = "+46701740638"
JOHAN_URI = f"sip:{JOHAN_MOBILE}@{TRUNK};user=phone"
MARIA_MOBILE = "+46701740642"
PHONE = "sip:18007@192.0.2.44:5062;transport=udp"
SECRET_FORMS = (SECRET_MOBILE, SECRET_MOBILE[1:], "0" + SECRET_MOBILE[3:], SECRET_MOBILE[3:])


@dataclass
class RouteEnv:
    runtime: Runtime
    client: TestClient[web.Request, web.Application]
    headers: dict[str, dict[str, str]]

    async def ask(self, who: str = "router", **params: str) -> tuple[int, dict[str, Any]]:
        response = await self.client.get("/api/v1/route", params=params, headers=self.headers[who])
        return response.status, await response.json()


def phones(extension: str) -> tuple[str, ...]:
    """A stand-in for the registrar: Maria Nilsson's desk phone is registered."""
    return (PHONE,) if extension == "18007" else ()


@contextlib.asynccontextmanager
async def open_route_env(
    tmp_path: Path, trunk: str | None = TRUNK, voicemail_number: str | None = "*98"
) -> AsyncIterator[RouteEnv]:
    settings = load_settings(bundled("configs/sml.toml"))
    settings = replace(
        settings,
        sip=replace(settings.sip, trunk=parse_trunk(trunk) if trunk else None),
        media=replace(settings.media, voicemail_number=voicemail_number),
    )
    async with open_runtime(settings, tmp_path, StepClock(MONDAY_10)) as runtime:
        with contextlib.redirect_stdout(io.StringIO()):
            await run_demo(runtime.engine, tmp_path, force=True)
        accounts = runtime.accounts
        tokens = {}
        for username, role in [
            ("t.kamailio", Role.ROUTER),
            ("t.root", Role.ADMIN),
            ("t.reception", Role.RECEPTIONIST),
            ("t.anna", Role.EMPLOYEE),
        ]:
            account = await accounts.add_account(username, None, {role}, None, None, "test")
            tokens[username] = await accounts.create_token(account.account_id, "front", "test")
        app = build_app(runtime, HttpSettings(), devices=phones)
        async with TestClient(TestServer(app)) as client:
            headers = {
                "anonymous": {},
                "router": {"Authorization": f"Bearer {tokens['t.kamailio']}"},
                "admin": {"Authorization": f"Bearer {tokens['t.root']}"},
                "receptionist": {"Authorization": f"Bearer {tokens['t.reception']}"},
                "employee": {"Authorization": f"Bearer {tokens['t.anna']}"},
            }
            yield RouteEnv(runtime, client, headers)


@pytest.fixture
async def route_env(tmp_path: Path) -> AsyncIterator[RouteEnv]:
    async with open_route_env(tmp_path) as env:
        yield env


@pytest.mark.parametrize(
    "dialled",
    ["51234", "0523651234", "+46523651234", "0046523651234"],
    ids=["extension", "national", "e164", "international-prefix"],
)
async def test_a_ring_is_a_redirect_to_the_mobile_on_the_trunk(
    route_env: RouteEnv, dialled: str
) -> None:
    """R3, R5: every form of the number; the target is what the switchboard's 302 says
    (tests/integration/sip/test_redirect_and_proxy.py)."""
    status, body = await route_env.ask(to=dialled, **{"from": "0701112233"})
    assert status == 200
    assert body["action"] == "redirect"
    assert (body["status"], body["reason"]) == (302, "Moved Temporarily")
    assert body["targets"] == [{"uri": JOHAN_URI, "role": "mobile", "number": JOHAN_MOBILE}]
    assert (body["decision"], body["extension"], body["relay"]) == ("ring", "51234", None)
    assert body["ring_timeout"] == 25
    assert body["caller"] == "+46701112233"


async def test_registered_phones_are_listed_before_the_mobile(route_env: RouteEnv) -> None:
    """As in the switchboard's 302: every registered phone, then the mobile."""
    _, body = await route_env.ask(to="18007")
    assert [(t["uri"], t["role"]) for t in body["targets"]] == [
        (PHONE, "phone"),
        (f"sip:{MARIA_MOBILE}@{TRUNK};user=phone", "mobile"),
    ]
    assert body["targets"][0]["number"] is None
    assert body["caller"] is None


@pytest.mark.parametrize(
    ("extension", "decision"),
    [("64123", "announce"), (SECRET_EXT, "announce")],
    ids=["lunch", "holiday"],
)
async def test_a_referral_is_relayed_to_the_switchboards_media(
    route_env: RouteEnv, extension: str, decision: str
) -> None:
    """R10: the switchboard speaks the referral, so Kamailio sends the call to a node."""
    status, body = await route_env.ask(to=extension)
    assert status == 200
    assert (body["action"], body["relay"], body["decision"]) == ("relay", "media", decision)
    assert (body["status"], body["reason"], body["targets"]) == (None, None, [])
    assert body["extension"] == extension


async def test_a_secret_mobile_is_never_a_target_the_call_is_relayed(
    route_env: RouteEnv,
) -> None:
    """R18: redirect mode would show it to a trusted trunk; an API shows it to nobody."""
    engine = route_env.runtime.engine
    fatima = engine.find(SECRET_EXT)
    await engine.set_calendar(fatima, CALENDAR_SOURCE, (), "test")  # back from holiday
    response = await route_env.client.get(
        "/api/v1/route", params={"to": SECRET_EXT}, headers=route_env.headers["router"]
    )
    text = await response.text()
    body = await response.json()
    assert (body["action"], body["relay"], body["decision"]) == ("relay", "secret_number", "ring")
    assert body["targets"] == []
    for form in SECRET_FORMS:
        assert form not in text


async def test_a_divert_to_a_secret_mobile_is_relayed_and_not_spelled_out(
    route_env: RouteEnv,
) -> None:
    """The engine now refuses a secret mobile as a divert target (R18), but a store written
    before that may hold one, and a number may turn secret after the referral was set: the
    answer then neither redirects there nor names it in the explanation."""
    engine = route_env.runtime.engine
    anna = engine.find("64123")
    with pytest.raises(SecretInTextError):
        await engine.set_referral(anna, Referral(Reason.MEETING, divert_to="070-174 06 23"), "t")
    now = engine.clock.now()
    status = ManualStatus(Referral(Reason.MEETING, divert_to="+46701740623"), "legacy", now)
    await engine.store.set_manual(anna.person_id, status, "legacy", now)  # as stored before
    response = await route_env.client.get(
        "/api/v1/route", params={"to": "64123"}, headers=route_env.headers["router"]
    )
    text = await response.text()
    body = await response.json()
    assert (body["action"], body["relay"], body["decision"]) == ("relay", "secret_number", "divert")
    for form in SECRET_FORMS:
        assert form not in text


async def test_a_divert_outside_is_a_redirect_and_one_to_an_extension_is_decided_again(
    route_env: RouteEnv,
) -> None:
    engine = route_env.runtime.engine
    anna = engine.find("64123")
    await engine.set_referral(anna, Referral(Reason.MEETING, divert_to="031-7001000"), "test")
    _, body = await route_env.ask(to="64123")
    assert body["action"] == "redirect"
    assert body["targets"] == [
        {"uri": f"sip:+46317001000@{TRUNK};user=phone", "role": "divert", "number": "+46317001000"}
    ]
    await engine.set_referral(anna, Referral(Reason.MEETING, divert_to="51234"), "test")
    _, body = await route_env.ask(to="64123")
    assert (body["action"], body["decision"], body["extension"]) == ("redirect", "ring", "51234")
    assert body["targets"][0]["uri"] == JOHAN_URI


async def test_a_change_is_answered_at_once(route_env: RouteEnv) -> None:
    """From memory: the live view follows every write, no cache to wait out."""
    engine = route_env.runtime.engine
    _, before = await route_env.ask(to="51234")
    assert before["action"] == "redirect"
    await engine.set_referral(engine.find("51234"), Referral(Reason.LUNCH), "test")
    _, after = await route_env.ask(to="51234")
    assert (after["action"], after["decision"]) == ("relay", "announce")


@pytest.mark.parametrize(
    ("to", "caller", "expected"),
    [
        ("13999", None, ("reject", 404, None)),  # our series, nobody has it
        ("07011122", None, ("reject", 404, None)),  # outside, from a stranger
        ("0317001000", "0701740638", ("relay", None, "outbound")),  # Johan calls out
        ("112", "0701740638", ("relay", None, "outbound")),  # emergency, from Johan's mobile
        ("*98", "0701740638", ("relay", None, "mailbox")),  # Johan's own mailbox
        ("%2A98", "+46701740638", ("relay", None, "mailbox")),  # the star escaped
        ("*98", "0701112233", ("reject", 404, None)),  # nobody's mobile
        ("+4611", None, ("reject", 404, None)),  # outside (too short), from a stranger
        ("abc", None, ("reject", 484, None)),  # no number at all
    ],
    ids=[
        "unknown-extension",
        "outside-stranger",
        "outbound",
        "emergency",
        "mailbox",
        "mailbox-escaped",
        "mailbox-stranger",
        "too-short",
        "unreadable",
    ],
)
async def test_what_the_sip_edge_does_before_asking_the_core(
    route_env: RouteEnv, to: str, caller: str | None, expected: tuple[str, int | None, str | None]
) -> None:
    """The same steps as ``CallHandler.invite`` for a trusted peer."""
    params = {"to": to} | ({"from": caller} if caller else {})
    status, body = await route_env.ask(**params)
    assert status == 200, body
    assert (body["action"], body["status"], body["relay"]) == expected


async def test_without_a_trunk_a_mobile_cannot_be_redirected_to(tmp_path: Path) -> None:
    """Nothing to ring (no trunk, no phone): the switchboard answers, as its own edge does."""
    async with open_route_env(tmp_path, trunk=None) as env:
        _, body = await env.ask(to="51234")
        assert (body["action"], body["relay"], body["decision"]) == ("relay", "media", "ring")
        _, body = await env.ask(to="18007")
        assert body["action"] == "redirect"
        assert [t["role"] for t in body["targets"]] == ["phone"]


async def test_a_secret_caller_is_not_shown(route_env: RouteEnv) -> None:
    _, body = await route_env.ask(to="51234", **{"from": "070-1740623"})
    assert body["caller"] is None
    _, body = await route_env.ask(to="51234", **{"from": "anonymous"})
    assert body["caller"] is None


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("", "to:"),
        ("to=", "to:"),
        ("to=%20", "to:"),
        ("to=51%20234", "to:"),
        ("to=" + "1" * 65, "to:"),
        ("to=sip:51234@x", "to:"),
        ("to=51234&to=64123", "to:"),
        ("to=51234&from=%3Cscript%3E", "from:"),
        ("to=51234&from=1&from=2", "from:"),
        ("to=51234&form=0701740638", "form"),
    ],
    ids=[
        "missing",
        "empty",
        "blank",
        "space",
        "too-long",
        "uri",
        "twice",
        "from-bad",
        "from-twice",
        "unknown",
    ],
)
async def test_bad_input_is_400_naming_the_parameter(
    route_env: RouteEnv, query: str, named: str
) -> None:
    response = await route_env.client.get(
        f"/api/v1/route?{query}", headers=route_env.headers["router"]
    )
    assert response.status == 400
    body = await response.json()
    assert named in body["error"]["message"]


async def test_only_routers_and_administrators_may_ask(route_env: RouteEnv) -> None:
    """``route_calls`` (docs/accounts.md): the router role and administrators."""
    seen = {}
    for who in ("anonymous", "employee", "receptionist", "admin", "router"):
        status, _ = await route_env.ask(who, to="51234")
        seen[who] = status
    assert seen == {
        "anonymous": 401,
        "employee": 403,
        "receptionist": 403,
        "admin": 200,
        "router": 200,
    }


async def test_a_router_token_opens_nothing_else(route_env: RouteEnv) -> None:
    """The token sits in Kamailio's config on another machine: it reads no directory, no
    availability, changes nothing."""
    headers = route_env.headers["router"]
    anna = route_env.runtime.engine.find("64123")
    base = f"/api/v1/people/{anna.person_id}"
    for path in ("/api/v1/people?q=anna", base, base + "/availability", base + "/route-preview"):
        response = await route_env.client.get(path, headers=headers)
        assert response.status == 403, path
    response = await route_env.client.put(
        base + "/availability", headers=headers, json={"state": "available"}
    )
    assert response.status == 403


async def test_no_answer_holds_a_secret_mobile(route_env: RouteEnv) -> None:
    """R18 across the whole directory: every extension, called from every mobile."""
    engine = route_env.runtime.engine
    fatima = engine.find(SECRET_EXT)
    await engine.set_calendar(fatima, CALENDAR_SOURCE, (), "test")
    people = engine.view.people()
    callers = [p.mobile for p in people if p.mobile] + [None]
    for person in people:
        if person.extension is None:
            continue
        for caller in callers:
            params = {"to": person.extension} | ({"from": caller} if caller else {})
            response = await route_env.client.get(
                "/api/v1/route", params=params, headers=route_env.headers["router"]
            )
            assert response.status == 200
            text = await response.text()
            for form in SECRET_FORMS:
                assert form not in text, (person.extension, caller)
