"""One answered call's audio as a script uses it: play, record, keys.

A ``Channel`` sits on an ``RtpEndpoint`` and the process's one ``Ticker``: while it plays,
the ticker asks it for a frame every 20 ms on the shared grid (no task per stream, no
relative sleeps); what the caller sends arrives decoded through the endpoint's callbacks
and is kept only while recording. Keys (RFC 4733) stop a play or a recording when the
script asked for them, and are otherwise remembered until the next step asks, so a caller
who presses 1 in the pause between two plays is still heard.

When the call ends (``close``: a BYE, the RTP silence timeout, shutdown) every step under
way returns at once and every later one returns immediately: a script never waits on a
call that is gone. Knows no SIP.

What a channel plays is encoded to G.711 through ``EncodedClips``, shared by every channel
of the process: all callers of a person at lunch hear the same announcement, and encoding
it anew for each play (about 0.3 µs a sample: 3 ms for 9 s of speech, 10 ms for a minute)
held the event loop, and so every stream's next frame, three times per call.
"""

from __future__ import annotations

import asyncio
import math
from array import array
from collections import OrderedDict, deque

from switchboard.media.g711 import Codec, encode, silence
from switchboard.media.pacing import Ticker
from switchboard.media.rtp import Digit
from switchboard.media.stream import SAMPLES_PER_FRAME, RtpEndpoint
from switchboard.voicemail.wav import TARGET_RATE, Audio

FRAME_BYTES = SAMPLES_PER_FRAME * 2
"""One 20 ms frame of 16-bit PCM."""
SILENCE_RMS = 300.0
"""A 20 ms frame quieter than this (about -40 dBFS) counts as silence when recording."""
MAX_PENDING_KEYS = 8
KEPT_SILENCE_FRAMES = 25
"""Half a second of the silence after the last sound stays in a recording."""
ENCODED_BYTES = 16 * 1024 * 1024
"""What ``EncodedClips`` keeps (PCM keys and G.711 values): about 10 minutes of audio."""


class EncodedClips:
    """The G.711 of the clips played lately, keyed by codec and PCM, least recently used
    dropped first. A hit costs hashing the PCM (about 20 µs for 9 s), not encoding it."""

    def __init__(self, max_bytes: int = ENCODED_BYTES) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = self.misses = 0
        self._clips: OrderedDict[tuple[Codec, bytes], bytes] = OrderedDict()

    def encode(self, pcm: bytes, codec: Codec) -> bytes:
        key = (codec, pcm)
        coded = self._clips.get(key)
        if coded is not None:
            self.hits += 1
            self._clips.move_to_end(key)
            return coded
        self.misses += 1
        coded = encode(pcm, codec)
        size = len(pcm) + len(coded)
        if size <= self.max_bytes:
            self._clips[key] = coded
            self.bytes += size
            while self.bytes > self.max_bytes:
                (_, old_pcm), old = self._clips.popitem(last=False)
                self.bytes -= len(old_pcm) + len(old)
        return coded


class Channel:
    def __init__(self, ticker: Ticker, codec: Codec, clips: EncodedClips) -> None:
        self.ticker = ticker
        self.codec = codec
        self.clips = clips
        self.endpoint: RtpEndpoint | None = None
        self._closed = False
        self._playing: bytes | None = None
        self._offset = 0
        self._keys = ""
        self._done: asyncio.Future[str | None] | None = None
        self._pending: deque[str] = deque(maxlen=MAX_PENDING_KEYS)
        self._recording: bytearray | None = None
        self._record_limit = 0
        self._silence_limit = 0
        self._silent_frames = 0
        self._heard = False
        self._recorded: asyncio.Future[str | None] | None = None
        self._watched: list[asyncio.Future[bool]] = []

    def attach(self, endpoint: RtpEndpoint) -> None:
        self.endpoint = endpoint

    @property
    def closed(self) -> bool:
        return self._closed

    # -- playing ------------------------------------------------------------------------

    async def play(self, audio: Audio, *, keys: str = "") -> str | None:
        if self._closed:
            return None
        early = self._take_key(keys)
        if early is not None:
            return early
        if audio.rate != TARGET_RATE:
            raise ValueError(f"audio at {audio.rate} Hz; the line carries {TARGET_RATE}")
        self._playing = self.clips.encode(audio.frames, self.codec)
        self._offset = 0
        self._keys = keys
        self._done = asyncio.get_running_loop().create_future()
        self.ticker.add(self)
        try:
            return await self._done
        finally:
            self._stop_playing()

    def tick(self, frame: int) -> None:
        """The ticker's call on the 20 ms grid: the next frame, or the end of the play."""
        playing, endpoint = self._playing, self.endpoint
        if playing is None or endpoint is None:
            self._finish_play(None)
            return
        chunk = playing[self._offset : self._offset + SAMPLES_PER_FRAME]
        if not chunk:
            self._finish_play(None)
            return
        if len(chunk) < SAMPLES_PER_FRAME:
            chunk += silence(SAMPLES_PER_FRAME - len(chunk), self.codec)
        self._offset += SAMPLES_PER_FRAME
        endpoint.send_frame(chunk, frame, endpoint.loop.time())

    def _finish_play(self, key: str | None) -> None:
        done = self._done
        if done is not None and not done.done():
            done.set_result(key)
        self._stop_playing()

    def _stop_playing(self) -> None:
        self._playing = None
        self._keys = ""
        self.ticker.remove(self)

    # -- recording ----------------------------------------------------------------------

    async def record(self, *, max_seconds: float, silence_seconds: float, keys: str) -> Audio:
        """What the caller says until a key, silence after speech, the limit or hang-up.

        Silence ends a recording only after something was said: a caller who takes a
        breath before speaking is not cut off; one who says nothing at all is, after
        ``silence_seconds``."""
        if self._closed or self._take_key(keys) is not None:
            return Audio(TARGET_RATE, b"")
        self._recording = bytearray()
        self._record_limit = math.ceil(max_seconds * TARGET_RATE) * 2
        self._silence_limit = max(1, round(silence_seconds * 1000 / 20))
        self._silent_frames = 0
        self._heard = False
        self._keys = keys
        self._recorded = asyncio.get_running_loop().create_future()
        try:
            await self._recorded
        finally:
            data = bytes(self._recording or b"")
            self._recording = None
            self._keys = ""
        if self._silent_frames > KEPT_SILENCE_FRAMES and self._heard:
            # The silence that ended the message is not part of it, but its first half
            # second is: a last word often fades below the silence threshold.
            cut = (self._silent_frames - KEPT_SILENCE_FRAMES) * FRAME_BYTES
            data = data[: max(0, len(data) - cut)]
        return Audio(TARGET_RATE, data)

    def on_audio(self, pcm: bytes) -> None:
        """Decoded audio from the endpoint, 20 ms at a time, in sequence order."""
        recording = self._recording
        if recording is None:
            return
        recording += pcm
        if _rms(pcm) < SILENCE_RMS:
            self._silent_frames += 1
        else:
            self._silent_frames = 0
            self._heard = True
        if len(recording) >= self._record_limit or self._silent_frames >= self._silence_limit:
            self._finish_record(None)

    def _finish_record(self, key: str | None) -> None:
        recorded = self._recorded
        if recorded is not None and not recorded.done():
            recorded.set_result(key)

    # -- keys and the end ---------------------------------------------------------------

    def on_digit(self, digit: Digit) -> None:
        key = digit.digit
        if key in self._keys:
            if self._playing is not None:
                self._finish_play(key)
                return
            if self._recording is not None:
                self._finish_record(key)
                return
        self._pending.append(key)

    def _take_key(self, keys: str) -> str | None:
        """A key pressed since the last step that this step listens for (others drop)."""
        while self._pending:
            key = self._pending.popleft()
            if key in keys:
                return key
        return None

    async def until(self, future: asyncio.Future[bool]) -> bool:
        """``future``'s answer, or False as soon as the call is over."""
        if self._closed:
            return False
        self._watched.append(future)
        try:
            return await future
        finally:
            self._watched.remove(future)

    def close(self) -> None:
        """The call is over: every step returns now; the port goes back to the pool."""
        if self._closed:
            return
        self._closed = True
        self._finish_play(None)
        self._finish_record(None)
        for future in self._watched:
            if not future.done():
                future.set_result(False)
        if self.endpoint is not None:
            self.endpoint.close()


def _rms(pcm: bytes) -> float:
    samples = array("h", pcm)
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))
