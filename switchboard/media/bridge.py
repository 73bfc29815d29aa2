"""Two RTP endpoints joined: what one side says, the other hears.

When the switchboard connects a caller it answered to someone else (0: the reception),
it stays in the media path: each side keeps its own negotiated stream (codec, payload
type, address, symmetric RTP), and every 20 ms frame received on one side, decoded in
sequence order by its jitter buffer (silence for a lost frame), is encoded for the other
and sent at once. No pacing is needed: the talker paces. Keys are not relayed. Knows no
SIP.
"""

from __future__ import annotations

from collections.abc import Callable

from switchboard.media.g711 import encode
from switchboard.media.stream import RtpEndpoint


class Bridge:
    def __init__(self, a: RtpEndpoint, b: RtpEndpoint) -> None:
        self.a = a
        self.b = b
        self.relayed = [0, 0]
        """Frames sent to ``b`` and to ``a``."""
        a.on_audio = self._towards(b, 0)
        b.on_audio = self._towards(a, 1)
        a.on_digit = None
        b.on_digit = None

    def _towards(self, target: RtpEndpoint, side: int) -> Callable[[bytes], None]:
        def send(pcm: bytes) -> None:
            frame = self.relayed[side]
            self.relayed[side] = frame + 1
            payload = encode(pcm, target.negotiated.codec)
            target.send_frame(payload, frame, target.loop.time())

        return send

    def close(self) -> None:
        """Both endpoints close and give their ports back."""
        self.a.close()
        self.b.close()
