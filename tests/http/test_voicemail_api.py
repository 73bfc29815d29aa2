"""The voicemail API over aiohttp's test client: the authorization matrix (refused *and*
nothing changed, files and rows), the greeting upload's own 2 MB limit, the audio coming
back exactly, and taken messages reaching a real SMTP server on loopback."""

from __future__ import annotations

import contextlib
import io
import socket
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from switchboard.app import Runtime
from switchboard.http.app import build_app
from switchboard.http.oidc import PendingFlows
from switchboard.live.accounts import AccountService
from switchboard.live.engine import Engine
from switchboard.live.health import HealthBoard
from switchboard.live.lines import LineStates
from switchboard.live.metrics import Metrics
from switchboard.live.readiness import Readiness
from switchboard.settings.http import HttpSettings
from switchboard.settings.mail import MailSettings
from switchboard.store.bus import EventBus
from switchboard.voicemail.model import Recording
from switchboard.voicemail.notify import MessageDesk, SmtpTransport
from switchboard.voicemail.service import VoicemailServices
from switchboard.voicemail.wav import Audio, prepare_greeting, read_wav, to_wav
from tests.http.conftest import EMPLOYEE_EXT, OTHER_EXT, SECRET_MOBILE, Env, open_seeded
from tests.unit.voicemail.smtp_peer import smtp_peer
from tests.unit.voicemail.sounds import tone, wav

PRINCIPALS = {
    "anonymous": ("anonymous", EMPLOYEE_EXT),
    "employee on self": ("employee", EMPLOYEE_EXT),
    "employee on another": ("employee", OTHER_EXT),
    "receptionist": ("receptionist", EMPLOYEE_EXT),
    "manager": ("manager", EMPLOYEE_EXT),
    "admin": ("admin", EMPLOYEE_EXT),
    "bearer token": ("bearer", EMPLOYEE_EXT),
}
OWN = (401, 200, 403, 403, 403, 403, 403)
"""Only the person themselves, whatever the other account's role."""
MESSAGE = {"caller_name": "Örjan Lind", "caller_number": "031-123 45 67", "text": "Ring mig"}
MATRIX: dict[tuple[str, str], tuple[int, ...]] = {
    ("GET", "/greeting"): OWN,
    ("PUT", "/greeting"): OWN,
    ("DELETE", "/greeting"): (401, 204, 403, 403, 403, 403, 403),
    ("GET", "/name-clip"): OWN,
    ("PUT", "/name-clip"): OWN,
    ("DELETE", "/name-clip"): (401, 204, 403, 403, 403, 403, 403),
    ("GET", "/voicemail"): OWN,
    ("GET", "/voicemail/{msg}"): OWN,
    ("POST", "/voicemail/{msg}/heard"): OWN,
    ("DELETE", "/voicemail/{msg}"): (401, 204, 403, 403, 403, 403, 403),
    ("GET", "/messages"): OWN,
    ("POST", "/messages"): (401, 403, 403, 201, 403, 403, 201),
}
CASES = [
    pytest.param(method, path, who, expected, id=f"{method} {path} as {who}")
    for (method, path), statuses in MATRIX.items()
    for who, expected in zip(PRINCIPALS, statuses, strict=True)
]


async def seed(env: Env, extension: str) -> str:
    """A greeting, a name clip and one voicemail for the person; the message id."""
    person_id = env.person(extension).person_id
    spool = env.runtime.voicemail.spool
    await spool.set_recording(person_id, Recording.GREETING, wav(2.0), "seed")
    await spool.set_recording(person_id, Recording.NAME_CLIP, wav(2.0), "seed")
    saved = await spool.save_message(person_id, read_wav(wav(1.0)), None)
    return saved.message_id


async def snapshot(env: Env) -> tuple[Any, ...]:
    """Everything a voicemail request could change: files, rows, the audit trail."""
    root = env.runtime.voicemail.spool.root
    files = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    store = env.runtime.engine.store
    ids = [env.person(e).person_id for e in (EMPLOYEE_EXT, OTHER_EXT)]
    rows = [(await store.voice_messages(i), await store.taken_messages(i)) for i in ids]
    return files, rows, await env.audit_count(), await env.version()


def _body(method: str, path: str) -> dict[str, Any]:
    if method == "PUT":
        return {"data": wav(3.0), "headers": {"Content-Type": "audio/wav"}}
    if method == "POST" and path == "/messages":
        return {"json": MESSAGE}
    return {}


@pytest.mark.parametrize(("method", "path", "who", "expected"), CASES)
async def test_matrix(env: Env, method: str, path: str, who: str, expected: int) -> None:
    key, extension = PRINCIPALS[who]
    message_id = await seed(env, extension)
    person_id = env.person(extension).person_id
    url = f"/api/v1/people/{person_id}{path.replace('{msg}', message_id)}"
    before = await snapshot(env)
    body = _body(method, path)
    headers = env.headers[key] | body.pop("headers", {})
    async with env.client.request(method, url, headers=headers, **body) as response:
        await response.read()
        assert response.status == expected, await response.text()
    if expected >= 400:
        assert await snapshot(env) == before
    elif method != "GET":
        assert await snapshot(env) != before
        [entry] = await env.runtime.engine.store.audit(1)
        actors = {"employee": "t.anna", "receptionist": "t.reception", "bearer": "t.integration"}
        assert entry.actor == actors[key]
        assert entry.subject == person_id


TRICKS = [
    pytest.param("GET", "/api/v1/people/..%2F..%2Fetc/greeting", id="encoded traversal"),
    pytest.param("GET", "/api/v1/people/{anna}/voicemail/..%2Fgreeting", id="encoded message"),
    pytest.param("DELETE", "/api/v1/people/{johan}/voicemail/{msg}", id="own message, other url"),
    pytest.param("POST", "/api/v1/people/{johan}/voicemail/{msg}/heard", id="heard via other"),
    pytest.param("PUT", "/api/v1/people/{johan}/greeting", id="greeting of another"),
]


@pytest.mark.parametrize(("method", "template"), TRICKS)
async def test_tricks_are_refused_and_change_nothing(env: Env, method: str, template: str) -> None:
    message_id = await seed(env, EMPLOYEE_EXT)
    url = template.format(
        anna=env.person(EMPLOYEE_EXT).person_id,
        johan=env.person(OTHER_EXT).person_id,
        msg=message_id,
    )
    before = await snapshot(env)
    headers = env.headers["employee"] | {"Content-Type": "audio/wav"}
    async with env.client.request(method, url, headers=headers, data=wav(2.0)) as response:
        assert response.status in (403, 404)
    assert await snapshot(env) == before


async def test_a_body_never_chooses_the_target(env: Env) -> None:
    anna, johan = env.person(EMPLOYEE_EXT), env.person(OTHER_EXT)
    before = await snapshot(env)
    async with env.client.post(
        f"/api/v1/people/{anna.person_id}/messages",
        headers=env.headers["receptionist"],
        json=MESSAGE | {"person_id": johan.person_id},
    ) as response:
        assert response.status == 400
    assert await snapshot(env) == before


async def test_a_method_override_is_refused(env: Env) -> None:
    message_id = await seed(env, EMPLOYEE_EXT)
    before = await snapshot(env)
    url = f"/api/v1/people/{env.person(EMPLOYEE_EXT).person_id}/voicemail/{message_id}"
    headers = env.headers["employee"] | {"X-HTTP-Method-Override": "DELETE"}
    async with env.client.get(url, headers=headers) as response:
        assert response.status == 400
    assert await snapshot(env) == before


def greeting_url(env: Env) -> str:
    return f"/api/v1/people/{env.person(EMPLOYEE_EXT).person_id}/greeting"


async def put_greeting(env: Env, data: Any, **headers: str) -> tuple[int, Any]:
    sent = env.headers["employee"] | {"Content-Type": "audio/wav"} | headers
    if isinstance(data, bytes):
        data = io.BytesIO(data)  # aiohttp warns about large raw bytes bodies
    async with env.client.put(greeting_url(env), headers=sent, data=data) as response:
        return response.status, await response.json()


async def test_the_upload_comes_back_exactly(env: Env) -> None:
    """1.9 MB (over the app's 64 KiB body limit): the greeting route has its own limit."""
    data = wav(59.0, 16000)
    assert len(data) > 1_800_000
    status, body = await put_greeting(env, data)
    assert status == 200, body
    assert body["greeting"]["duration_ms"] == 59_000
    async with env.client.get(greeting_url(env), headers=env.headers["employee"]) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "audio/wav"
        assert response.headers["Cache-Control"] == "no-store"
        assert await response.read() == to_wav(prepare_greeting(data))
    exact = wav(2.0, 8000)
    assert (await put_greeting(env, exact))[0] == 200
    async with env.client.get(greeting_url(env), headers=env.headers["employee"]) as response:
        assert await response.read() == exact


async def test_over_2_mb_is_413_and_changes_nothing(env: Env) -> None:
    await put_greeting(env, wav(2.0))
    before = await snapshot(env)
    too_big = wav(2.0) + bytes(2 * 1024 * 1024)
    assert (await put_greeting(env, too_big))[0] == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for _ in range(40):
            yield bytes(64 * 1024)

    assert (await put_greeting(env, chunks()))[0] == 413
    assert await snapshot(env) == before


@pytest.mark.parametrize(
    ("data", "content_type", "status", "problem"),
    [
        (wav(2.0, channels=2), "audio/wav", 422, "stereo; record in mono"),
        (wav(2.0, rate=12000), "audio/wav", 422, "12 kHz"),
        (b"OggS" + bytes(100), "audio/wav", 422, "not a WAV"),
        (wav(2.0), "audio/ogg", 415, "audio/wav"),
    ],
    ids=["stereo", "odd rate", "ogg", "wrong type"],
)
async def test_bad_uploads_say_why_and_change_nothing(
    env: Env, data: bytes, content_type: str, status: int, problem: str
) -> None:
    before = await snapshot(env)
    got, body = await put_greeting(env, data, **{"Content-Type": content_type})
    assert got == status
    assert problem in body["error"]["message"]
    assert await snapshot(env) == before


async def test_the_inbox_plays_downloads_marks_and_deletes(env: Env) -> None:
    anna = env.person(EMPLOYEE_EXT).person_id
    spool = env.runtime.voicemail.spool
    audio = Audio(8000, tone(2.0))
    saved = await spool.save_message(anna, audio, SECRET_MOBILE)
    headers = env.headers["employee"]
    async with env.client.get(f"/api/v1/people/{anna}/voicemail", headers=headers) as response:
        listing = await response.json()
    [entry] = listing["messages"]
    assert entry["caller"] == "secret"
    assert entry["heard"] is False
    assert listing["greeting"] is None
    async with env.client.get(entry["audio_url"], headers=headers) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "audio/wav"
        assert response.headers["Content-Disposition"].startswith("attachment; filename=")
        assert await response.read() == to_wav(audio)
    async with env.client.post(entry["audio_url"] + "/heard", headers=headers) as response:
        assert (await response.json())["heard"] is True
    async with env.client.delete(entry["audio_url"], headers=headers) as response:
        assert response.status == 204
    assert not spool.message_path(anna, saved.message_id).exists()
    async with env.client.get(entry["audio_url"], headers=headers) as response:
        assert response.status == 404


@dataclass(frozen=True)
class MailRuntime:
    """The seeded runtime with a message desk that mails through ``transport``."""

    runtime: Runtime
    voicemail: VoicemailServices

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    @property
    def bus(self) -> EventBus:
        return self.runtime.bus

    @property
    def lines(self) -> LineStates:
        return self.runtime.lines

    @property
    def accounts(self) -> AccountService:
        return self.runtime.accounts

    @property
    def calendar_health(self) -> HealthBoard:
        return self.runtime.calendar_health

    @property
    def metrics(self) -> Metrics:
        return self.runtime.metrics

    @property
    def readiness(self) -> Readiness:
        return self.runtime.readiness

    @property
    def sign_ins(self) -> PendingFlows:
        return self.runtime.sign_ins


@contextlib.asynccontextmanager
async def mailing_client(
    tmp_path: Path, port: int
) -> AsyncIterator[tuple[TestClient[web.Request, web.Application], Runtime, str]]:
    async with open_seeded(tmp_path) as seeded:
        runtime = seeded.runtime
        engine = runtime.engine
        settings = MailSettings("127.0.0.1", "vaxel@kommun.example", port=port, starttls=False)
        with ThreadPoolExecutor(1) as executor:
            desk = MessageDesk(
                engine.store,
                engine.clock,
                executor,
                engine.settings.zone,
                SmtpTransport(settings, environ={}),
                settings.from_address,
            )
            services = replace(runtime.voicemail, desk=desk)
            app = build_app(MailRuntime(runtime, services), HttpSettings())
            async with TestClient(TestServer(app)) as client:
                yield client, runtime, seeded.token


async def test_a_taken_message_is_emailed_without_secret_numbers(tmp_path: Path) -> None:
    async with smtp_peer() as peer, mailing_client(tmp_path, peer.port) as (client, rt, token):
        anna = rt.engine.view.person_by_extension(EMPLOYEE_EXT)
        assert anna is not None
        assert anna.email is not None
        bearer = {"Authorization": f"Bearer {token}"}
        url = f"/api/v1/people/{anna.person_id}/messages"
        body = MESSAGE | {"caller_number": SECRET_MOBILE, "call_back": True}
        async with client.post(url, json=body, headers=bearer) as response:
            assert response.status == 201
            answer = await response.json()
    assert answer["email"] == {"status": "sent", "error": None}
    assert answer["message"]["caller_number"] == "secret"
    [mail] = peer.inbox
    assert mail.recipients == [f"<{anna.email}>"]
    assert "Ring mig" in mail.message.get_content()
    assert SECRET_MOBILE[4:].encode() not in mail.raw


async def test_smtp_down_stores_the_message_and_says_the_email_failed(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    async with mailing_client(tmp_path, port) as (client, runtime, token):
        anna = runtime.engine.view.person_by_extension(EMPLOYEE_EXT)
        assert anna is not None
        url = f"/api/v1/people/{anna.person_id}/messages"
        bearer = {"Authorization": f"Bearer {token}"}
        async with client.post(url, json=MESSAGE, headers=bearer) as response:
            assert response.status == 201
            answer = await response.json()
        stored = await runtime.engine.store.taken_messages(anna.person_id)
    assert answer["email"]["status"] == "failed"
    assert "127.0.0.1" in answer["email"]["error"]
    assert [m.text for m in stored] == ["Ring mig"]
    assert [m.email.value for m in stored] == ["failed"]


async def test_the_person_reads_the_messages_taken_for_them(env: Env) -> None:
    anna = env.person(EMPLOYEE_EXT).person_id
    url = f"/api/v1/people/{anna}/messages"
    async with env.client.post(url, json=MESSAGE, headers=env.headers["receptionist"]) as response:
        taken = await response.json()
    assert taken["email"] == {"status": "not_configured", "error": None}
    async with env.client.get(url, headers=env.headers["employee"]) as response:
        listing = await response.json()
    assert listing["messages"] == [taken["message"]]
    assert listing["messages"][0]["caller_number"] == "+46311234567"
    assert listing["messages"][0]["taken_by"] == "t.reception"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"caller_name": "A"}, 400),
        (MESSAGE | {"call_back": "yes"}, 400),
        (MESSAGE | {"caller_number": "call me maybe"}, 422),
        (MESSAGE | {"caller_name": "A\nBcc: x@y"}, 422),
        (MESSAGE | {"text": ""}, 422),
        ([MESSAGE], 400),
    ],
    ids=["no text", "call_back text", "bad number", "two-line name", "empty text", "an array"],
)
async def test_bad_messages_are_refused_and_not_stored(env: Env, body: Any, status: int) -> None:
    before = await snapshot(env)
    url = f"/api/v1/people/{env.person(EMPLOYEE_EXT).person_id}/messages"
    async with env.client.post(url, json=body, headers=env.headers["receptionist"]) as response:
        assert response.status == status
    assert await snapshot(env) == before


async def test_a_bad_number_is_refused_naming_the_field_with_a_code_pages_translate(
    env: Env,
) -> None:
    """Issue 16: the page puts the refusal under the number field in the reader's words."""
    url = f"/api/v1/people/{env.person(EMPLOYEE_EXT).person_id}/messages"
    body = MESSAGE | {"caller_number": "664"}
    async with env.client.post(url, json=body, headers=env.headers["receptionist"]) as response:
        assert response.status == 422
        error = (await response.json())["error"]
    assert (error["field"], error["code"]) == ("caller_number", "bad_number")
