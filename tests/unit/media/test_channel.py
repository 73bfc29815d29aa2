"""What a Channel plays is encoded once per clip, not once per play (issue 13, benchmark).

Found by ``bench/media_load.py``: every play encoded its whole clip on the event loop
(about 3 ms for the 9 s referral, three plays a call), which at a steady 500 announcement
streams was about half the switchboard's CPU and delayed every stream's next frame.
"""

from __future__ import annotations

import asyncio

from switchboard.media.channel import Channel, EncodedClips
from switchboard.media.g711 import Codec, encode
from switchboard.media.pacing import Ticker
from switchboard.voicemail.wav import Audio

PCM = bytes(range(256)) * 64  # 8,192 samples of every byte pattern


def test_equal_pcm_is_encoded_once_and_the_result_shared() -> None:
    clips = EncodedClips()
    first = clips.encode(PCM, Codec.PCMU)
    again = clips.encode(bytes(bytearray(PCM)), Codec.PCMU)  # equal, another object
    assert again is first
    assert first == encode(PCM, Codec.PCMU)
    assert (clips.hits, clips.misses) == (1, 1)
    assert clips.encode(PCM, Codec.PCMA) == encode(PCM, Codec.PCMA)  # each law its own
    assert (clips.hits, clips.misses) == (1, 2)


def test_the_least_recently_played_goes_first_and_a_clip_too_big_is_not_kept() -> None:
    one, two, three = (bytes([n, 0]) * 1000 for n in (1, 2, 3))  # 3,000 bytes kept each
    clips = EncodedClips(max_bytes=6000)
    clips.encode(one, Codec.PCMU)
    clips.encode(two, Codec.PCMU)
    clips.encode(one, Codec.PCMU)  # one is now the most recent
    clips.encode(three, Codec.PCMU)  # over the bound: two goes
    assert clips.bytes == 6000
    misses = clips.misses
    clips.encode(one, Codec.PCMU)
    clips.encode(three, Codec.PCMU)
    assert clips.misses == misses
    clips.encode(two, Codec.PCMU)
    assert clips.misses == misses + 1
    huge = bytes(8000)
    assert clips.encode(huge, Codec.PCMU) == encode(huge, Codec.PCMU)
    assert clips.bytes <= 6000


async def test_channels_playing_one_announcement_encode_it_once() -> None:
    clips = EncodedClips()
    ticker = Ticker()  # not running: the plays wait for ticks until their calls close
    channels = [Channel(ticker, Codec.PCMU, clips) for _ in range(3)]
    plays = [
        asyncio.create_task(channel.play(Audio(8000, bytes(bytearray(PCM)))))
        for channel in channels
    ]
    await asyncio.sleep(0)
    assert (clips.hits, clips.misses) == (2, 1)
    for channel in channels:
        channel.close()
    assert await asyncio.gather(*plays) == [None, None, None]
