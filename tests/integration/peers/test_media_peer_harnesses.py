"""The media harnesses proven peer-to-peer, before the switchboard speaks (issue 13).

Each test pits real implementations against each other and judges the RTP on the wire
(``RtpSink``) or the audio a phone recorded (``tests.peers.audio``): SIPp's key presses
and spoken message, its late offer, baresip's DTMF, recordings, microphone switching and
message-waiting indication. When a server test fails later, these say the harness works.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import numpy as np
import pytest

from tests.peers import audio
from tests.peers.audio import Samples
from tests.peers.baresip import Account, Baresip
from tests.peers.baresip_media import recordings
from tests.peers.rtp import (
    PCMU,
    TELEPHONE_EVENT,
    RtpPacket,
    RtpSink,
    decode_audio,
    dtmf_digits,
    dtmf_events,
    read_pcap,
)
from tests.peers.sipp import run_async
from tests.peers.sipp_media import dtmf_pcap, media_answerer, media_call

MESSAGE = "Hej Anna, det är Johan. Ring mig när du är tillbaka."
LUNCH = "Anna Berg är på lunch, tillbaka klockan tretton."


@pytest.fixture(scope="module")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="module")
def message_wav(speech_dir: Path) -> Path:
    return audio.speak(MESSAGE, speech_dir / "message.wav")


@pytest.fixture(scope="module")
def lunch_wav(speech_dir: Path) -> Path:
    return audio.speak(LUNCH, speech_dir / "lunch.wav")


def assert_same_speech(recording: Samples, reference: Samples) -> None:
    """The issue's bar: the reference is in the recording (correlation) and the speech
    lasts as long (within 10 %)."""
    found = audio.best_correlation(recording, reference)
    assert found.peak > 0.9, found
    heard = audio.speech_seconds(recording[int(found.lag_seconds * audio.RATE) :])
    assert heard == pytest.approx(audio.speech_seconds(reference), rel=0.1)


# -- SIPp ---------------------------------------------------------------------------------


@pytest.mark.parametrize("digit", [*"0123456789", "*", "#"])
def test_sipp_dtmf_pcaps_hold_one_rfc4733_event_on_pt_101(digit: str) -> None:
    packets = read_pcap(dtmf_pcap(digit))

    assert {packet.payload_type for packet in packets} == {TELEPHONE_EVENT}
    [event] = dtmf_events(packets)
    assert (event.digit, event.marker, event.ended, event.end_packets) == (digit, True, True, 3)
    assert event.duration == 2240  # 280 ms at 8 kHz


@pytest.mark.parametrize("digit", ["1", "0", "#"])
async def test_sipp_caller_presses_a_key_as_rfc4733(tmp_path: Path, digit: str) -> None:
    async with RtpSink() as sink:
        with media_answerer(tmp_path / "uas", rtp_port=sink.port, max_calls=1) as phone:
            spec = media_call(
                "uac_invite_media_dtmf", phone.address, tmp_path / "uac", digit=digit, listen=0.2
            )
            result = await run_async(spec, tmp_path / "uac")
            answered = phone.wait(timeout=5)

    assert result.ok, result.describe()
    assert answered.stats.successful == 1, answered.describe()
    assert result.log_lines == ("hangup=near",)
    [event] = dtmf_events(sink.packets)
    assert (event.digit, event.marker, event.end_packets) == (digit, True, 3)
    assert {packet.payload_type for packet in sink.packets} == {TELEPHONE_EVENT}


async def test_sipp_caller_without_a_key_sends_no_event(tmp_path: Path) -> None:
    async with RtpSink() as sink:
        with media_answerer(tmp_path / "uas", rtp_port=sink.port) as phone:
            spec = media_call("uac_invite_media_dtmf", phone.address, tmp_path, listen=0.5)
            result = await run_async(spec, tmp_path)

    assert result.ok, result.describe()
    assert sink.packets == []


@pytest.mark.flaky(reruns=2)
# Two peers with their own clocks: SIPp now and then meets baresip's BYE outside the wait
# loop it expects it in. The harness's own test; the product's tests do not depend on it.
async def test_sipp_caller_hears_baresip_take_its_key_and_hang_up(tmp_path: Path) -> None:
    async with Baresip(Account("reception", answermode="auto"), directory=tmp_path / "b") as phone:
        spec = media_call(
            "uac_invite_media_dtmf",
            f"127.0.0.1:{phone.sip_port}",
            tmp_path / "uac",
            service="reception",
            digit="0",
            listen=0.3,
            bye_wait=8.0,
        )
        async with asyncio.TaskGroup() as calls:
            caller = calls.create_task(run_async(spec, tmp_path / "uac"))
            assert await phone.wait_dtmf(timeout=5) == "0"
            reason = await phone.end_call()
        result = caller.result()

    assert reason == "Connection reset by user"
    assert result.ok, result.describe()
    assert result.log_lines == ("hangup=far",)


async def test_sipp_caller_speaks_its_message_as_pcmu(tmp_path: Path, message_wav: Path) -> None:
    message = audio.read_wav(message_wav)
    async with RtpSink() as sink:
        with media_answerer(tmp_path / "uas", rtp_port=sink.port) as phone:
            spec = media_call(
                "uac_invite_media_message",
                phone.address,
                tmp_path / "uac",
                digit="1",
                message=message_wav,
                listen=0.2,
                after_key=0.2,
            )
            result = await run_async(spec, tmp_path / "uac")

    assert result.ok, result.describe()
    assert dtmf_digits(sink.packets) == "1"
    spoken = sink.of_type(PCMU)
    # The whole file, in 20 ms packets, and nothing else (no WAV header, no second loop).
    assert len(spoken) == -(-len(message) // 160)
    assert all(len(packet.payload) == 160 for packet in spoken)
    assert_same_speech(decode_audio(spoken), message)


async def test_baresip_records_the_message_a_sipp_caller_leaves(
    tmp_path: Path, message_wav: Path
) -> None:
    async with Baresip(Account("anna", answermode="auto"), directory=tmp_path / "b") as phone:
        spec = media_call(
            "uac_invite_media_message",
            f"127.0.0.1:{phone.sip_port}",
            tmp_path / "uac",
            service="anna",
            digit="1",
            message=message_wav,
            listen=0.3,
            after_key=0.3,
        )
        result = await run_async(spec, tmp_path / "uac")
        assert await phone.wait_dtmf() == "1"
        assert await phone.wait_closed() == "Connection reset by peer"
        recording = await phone.last_call_recording()

    assert result.ok, result.describe()
    assert result.log_lines == ("hangup=near",)
    assert_same_speech(audio.read_wav(recording.received), audio.read_wav(message_wav))


def padded(wav: Path, seconds: float, directory: Path) -> Path:
    """``wav`` followed by silence: baresip hangs up when its microphone file ends."""
    samples = np.concatenate([audio.read_wav(wav), audio.silence(seconds)])
    return audio.write_wav(directory / f"padded-{wav.name}", samples)


async def test_late_offer_caller_answers_baresip_in_the_ack(
    tmp_path: Path, lunch_wav: Path
) -> None:
    account = Account("anna", answermode="auto")
    source = padded(lunch_wav, 5.0, tmp_path)
    async with (
        RtpSink() as sink,
        Baresip(account, directory=tmp_path / "b", source=source) as phone,
    ):
        spec = media_call(
            "uac_invite_late_offer",
            f"127.0.0.1:{phone.sip_port}",
            tmp_path / "uac",
            service="anna",
            rtp_port=sink.port,
            listen=audio.duration(audio.read_wav(lunch_wav)) + 0.5,
        )
        result = await run_async(spec, tmp_path / "uac")

    assert result.ok, result.describe()
    offer, hangup = result.log_lines
    # baresip's offer in the 200, as the caller's ereg found it (PCMU among the formats).
    assert re.fullmatch(r"offer=m=audio \d+ RTP/AVP 0 8 101", offer), offer
    assert hangup == "hangup=near"
    # baresip took the answer from the ACK: its microphone arrives where the ACK said.
    assert_same_speech(decode_audio(sink.of_type(PCMU)), audio.read_wav(lunch_wav))


# -- baresip ------------------------------------------------------------------------------


async def test_baresip_presses_keys_as_rfc4733(tmp_path: Path) -> None:
    async with RtpSink() as sink:
        with media_answerer(tmp_path / "uas", rtp_port=sink.port) as phone:
            async with Baresip(Account("johan"), directory=tmp_path / "a") as caller:
                await caller.dial(f"sip:anna@{phone.address}")
                await caller.wait_event("CALL_ESTABLISHED")
                await caller.send_dtmf("10#")
                await sink.wait_for(lambda packets: completed(packets) == "10#", timeout=3)
                await caller.end_call()

    events = dtmf_events(sink.packets)
    assert [event.digit for event in events] == ["1", "0", "#"]
    assert all(event.marker for event in events)
    assert sink.of_type(PCMU), "audio flows beside the events"


def completed(packets: list[RtpPacket]) -> str:
    """Digits whose three end packets (RFC 4733 2.5.1.4) all arrived."""
    return "".join(event.digit for event in dtmf_events(packets) if event.end_packets == 3)


async def test_baresip_refuses_keys_it_cannot_send(tmp_path: Path) -> None:
    async with Baresip(Account("johan"), directory=tmp_path / "a") as phone:
        with pytest.raises(ValueError, match="not DTMF"):
            await phone.send_dtmf("1x")


async def test_baresip_records_what_it_hears_not_what_it_says(
    tmp_path: Path, lunch_wav: Path
) -> None:
    lunch = audio.read_wav(lunch_wav)
    async with (
        Baresip(Account("johan"), directory=tmp_path / "a", source=lunch_wav) as caller,
        Baresip(Account("anna", answermode="auto"), directory=tmp_path / "b") as callee,
    ):
        await caller.dial(callee.uri)
        await caller.wait_event("CALL_ESTABLISHED")
        await caller.send_dtmf("1")
        assert await callee.wait_dtmf() == "1"
        reason = await caller.end_call(after=audio.duration(lunch) + 0.3)
        assert await callee.wait_closed() == "Connection reset by peer"
        heard = await callee.last_call_recording()
        said = await caller.last_call_recording()

    assert reason == "Connection reset by user"
    assert_same_speech(audio.read_wav(heard.received), lunch)
    assert_same_speech(audio.read_wav(said.sent), lunch)
    # The callee's own microphone is the harness's tone, not the caller's words.
    assert audio.best_correlation(audio.read_wav(heard.sent), lunch).peak < 0.3


async def test_baresip_speaks_a_message_and_hangs_up_at_its_end(
    tmp_path: Path, message_wav: Path
) -> None:
    async with (
        Baresip(Account("johan"), directory=tmp_path / "a") as caller,
        Baresip(Account("anna", answermode="auto"), directory=tmp_path / "b") as callee,
    ):
        await caller.dial(callee.uri)
        await caller.wait_event("CALL_ESTABLISHED")
        await caller.play(message_wav)
        assert await caller.wait_closed(timeout=10) == "end of file"
        assert await callee.wait_closed() == "Connection reset by peer"
        heard = await callee.last_call_recording()

    assert_same_speech(audio.read_wav(heard.received), audio.read_wav(message_wav))


async def test_baresip_hears_itself_through_the_sipp_echo(tmp_path: Path, lunch_wav: Path) -> None:
    lunch = audio.read_wav(lunch_wav)
    with media_answerer(tmp_path / "uas") as echo:
        async with Baresip(Account("johan"), directory=tmp_path / "a", source=lunch_wav) as phone:
            await phone.dial(f"sip:echo@{echo.address}")
            await phone.wait_event("CALL_ESTABLISHED")
            await phone.end_call(after=audio.duration(lunch) + 0.5)
            recording = await phone.last_call_recording()

    found = audio.best_correlation(audio.read_wav(recording.received), lunch)
    assert found.peak > 0.9, found
    assert found.lag_seconds < 0.3


def test_one_calls_two_recordings_pair_across_a_second_boundary(tmp_path: Path) -> None:
    """sndfile names each file by the second it opens it: the decoder's file of a call may
    carry the next second's stamp. Both still make one recording; a later call's files do
    not join an earlier call's."""
    for name in (
        "dump-2026-12-07-04-18-19-enc.wav",
        "dump-2026-12-07-04-18-20-dec.wav",
        "dump-2026-12-07-04-18-30-enc.wav",
        "dump-2026-12-07-04-18-30-dec.wav",
        "dump-2026-12-07-04-18-40-dec.wav",  # its encoder's file never came
    ):
        (tmp_path / name).write_bytes(b"")
    found = recordings(tmp_path)
    assert [(r.started, r.received.name, r.sent.name) for r in found] == [
        (
            "2026-12-07-04-18-19",
            "dump-2026-12-07-04-18-20-dec.wav",
            "dump-2026-12-07-04-18-19-enc.wav",
        ),
        (
            "2026-12-07-04-18-30",
            "dump-2026-12-07-04-18-30-dec.wav",
            "dump-2026-12-07-04-18-30-enc.wav",
        ),
    ]
