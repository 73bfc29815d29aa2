"""The name clip over the API (issue 13): ``/api/v1/people/{id}/name-clip`` beside the
greeting, with the same permissions (the matrix is in ``test_voicemail_api.py``), the same
accepted WAVs and the same 2 MB limit; stored cut to its sound at speech level, and listed
with the greeting."""

from __future__ import annotations

import io
from typing import Any

import pytest

from switchboard.media.clips import SPEECH_LEVEL_DBFS, speech_level_dbfs
from switchboard.voicemail.model import Recording
from switchboard.voicemail.recordings import prepare_name_clip
from switchboard.voicemail.wav import read_wav, to_wav
from tests.http.conftest import EMPLOYEE_EXT, Env
from tests.http.test_voicemail_api import snapshot
from tests.unit.voicemail.sounds import spoken, wav


def _url(env: Env, last: str = "name-clip") -> str:
    return f"/api/v1/people/{env.person(EMPLOYEE_EXT).person_id}/{last}"


async def _put(env: Env, data: bytes, content_type: str = "audio/wav") -> tuple[int, Any]:
    headers = env.headers["employee"] | {"Content-Type": content_type}
    async with env.client.put(_url(env), headers=headers, data=io.BytesIO(data)) as response:
        return response.status, await response.json()


async def test_a_name_is_stored_ready_to_play_listed_and_deleted(env: Env) -> None:
    headers = env.headers["employee"]
    async with env.client.get(_url(env), headers=headers) as response:
        assert response.status == 404
    upload = spoken(1.5, before=1.0, after=2.0, rate=48000)
    status, body = await _put(env, upload)
    assert status == 200, body
    assert body["name_clip"]["duration_ms"] == 1580
    assert body["name_clip"]["audio_url"] == _url(env)
    async with env.client.get(_url(env), headers=headers) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "audio/wav"
        served = await response.read()
    assert served == to_wav(prepare_name_clip(upload))
    assert speech_level_dbfs(read_wav(served)) == pytest.approx(SPEECH_LEVEL_DBFS, abs=0.5)

    async with env.client.get(_url(env, "voicemail"), headers=headers) as response:
        listing = await response.json()
    assert listing["name_clip"] == body["name_clip"]
    assert listing["greeting"] is None  # a name is not a greeting

    async with env.client.delete(_url(env), headers=headers) as response:
        assert response.status == 204
    async with env.client.delete(_url(env), headers=headers) as response:
        assert response.status == 404
    spool = env.runtime.voicemail.spool
    person_id = env.person(EMPLOYEE_EXT).person_id
    assert await spool.recording(person_id, Recording.NAME_CLIP) is None
    [deleted, added] = await env.runtime.engine.store.audit(2)
    assert (deleted.action, added.action) == ("name_clip_deleted", "name_clip_set")
    assert deleted.actor == added.actor == "t.anna"


@pytest.mark.parametrize(
    ("data", "content_type", "status", "problem"),
    [
        (spoken(7.0), "audio/wav", 422, "keep it under 5 s"),
        (spoken(0.2, before=1.0), "audio/wav", 422, "at least 0.5 s"),
        (wav(2.0, channels=2), "audio/wav", 422, "stereo; record in mono"),
        (wav(2.0), "audio/ogg", 415, "send the name clip as audio/wav"),
        (wav(2.0) + bytes(2 * 1024 * 1024), "audio/wav", 413, "at most"),
    ],
    ids=["too long", "too short", "stereo", "wrong type", "over 2 MB"],
)
async def test_bad_names_say_why_and_change_nothing(
    env: Env, data: bytes, content_type: str, status: int, problem: str
) -> None:
    await _put(env, spoken(1.0))
    before = await snapshot(env)
    got, body = await _put(env, data, content_type)
    assert got == status
    assert problem in body["error"]["message"]
    assert await snapshot(env) == before
