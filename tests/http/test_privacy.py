"""R18: a receptionist walks every API answer and the event stream and never meets a secret
mobile, in any form; and searching for one finds nobody."""

from __future__ import annotations

import asyncio

from tests.http.conftest import SECRET_EXT, SECRET_MOBILE, Env

FORMS = (
    SECRET_MOBILE,  # +46701740623
    SECRET_MOBILE.lstrip("+"),  # 46701740623
    "0" + SECRET_MOBILE[3:],  # 0701740623
    SECRET_MOBILE[3:],  # 701740623
    "070-174 06 23",
    "070-1740623",
)


def _assert_clean(text: str, where: str) -> None:
    for form in FORMS:
        assert form not in text, f"secret mobile {form!r} in {where}"


async def test_receptionist_never_sees_a_secret_mobile(env: Env) -> None:
    headers = env.headers["receptionist"]
    fatima = env.person(SECRET_EXT)
    assert fatima.secret_mobile
    assert fatima.mobile == SECRET_MOBILE
    seen: list[str] = []

    async with env.client.get("/api/v1/events", headers=headers) as stream:
        hello = await stream.content.readuntil(b"\n\n")
        seen.append(hello.decode())

        async def get(path: str) -> None:
            response = await env.client.get(path, headers=headers)
            assert response.status == 200, path
            seen.append(await response.text())

        for person in env.runtime.engine.view.people():
            base = f"/api/v1/people/{person.person_id}"
            for path in (base, base + "/availability", base + "/route-preview"):
                await get(path)
            await get(f"/api/v1/people?q={person.name.split()[0]}")
        await get("/api/v1/people?q=a&limit=200")
        await get("/api/v1/openapi.json")
        # Changes to her availability and line state travel over the stream, too.
        path = f"/api/v1/people/{fatima.person_id}/availability"
        for body in (
            {"state": "referral", "reason": "other", "text": "Ring reception"},
            {"state": "available"},
        ):
            response = await env.client.put(path, headers=headers, json=body)
            assert response.status == 200
            seen.append(await response.text())
        response = await env.client.delete(path, headers=headers)
        seen.append(await response.text())
        env.runtime.lines.changed(fatima.person_id, True)
        events = b""
        async with asyncio.timeout(5):
            while events.count(b"event: person") < 4:
                events += await stream.content.readuntil(b"\n\n")
        seen.append(events.decode())

    assert any("Fatima Haddad" in text for text in seen)
    for i, text in enumerate(seen):
        _assert_clean(text, f"answer {i}")


async def test_searching_a_secret_number_finds_nobody(env: Env) -> None:
    for form in (*FORMS, "+46 70 174 06 23", "0701740", "46701740623"):
        response = await env.client.get(
            "/api/v1/people", params={"q": form}, headers=env.headers["receptionist"]
        )
        body = await response.json()
        assert "Fatima Haddad" not in [p["name"] for p in body["people"]], form
