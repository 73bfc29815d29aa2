"""A small receive jitter buffer: packets in arrival order, frames out in sequence order.

What the switchboard does with received audio is record it (voicemail), so the buffer is
driven by data, not by a playout clock: a frame is released as soon as it is the next in
sequence, and a missing one is given up, as ``Missing``, once ``depth`` later frames have
arrived, so the recorder writes silence in its place and the message keeps its length.
Any packet overtaken by at most ``depth`` later ones therefore still comes out in order.

Sequence numbers are 16 bits and wrap (RFC 3550 §5.1), so each is placed relative to
the next expected one. Duplicates and packets older than what was already released are
dropped and counted. A new SSRC means a new source (the far end restarted, or a
re-INVITE moved the media): what is held is released, then the buffer starts afresh. A
jump of more than ``max_jump`` frames either way is believed only when the following
packet continues it, as RFC 3550 appendix A.1 does, so one stray packet cannot make the
buffer throw the stream away.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from switchboard.media.rtp import RtpPacket

_WRAP = 0x10000


@dataclass(frozen=True, slots=True)
class Missing:
    """A frame that never came, or came too late: the recorder puts silence there."""

    sequence: int


class JitterBuffer:
    """Reorders one RTP stream; push packets as they arrive, pop frames until None."""

    def __init__(self, *, depth: int = 4, max_jump: int = 100) -> None:
        if depth < 1 or max_jump <= depth:
            raise ValueError("need depth >= 1 and max_jump > depth")
        self.depth = depth
        self.max_jump = max_jump
        self.late = 0
        self.duplicates = 0
        self.lost = 0
        self.resets = 0
        self.strays = 0
        self._ready: deque[RtpPacket | Missing] = deque()
        self._held: dict[int, RtpPacket] = {}
        self._ssrc: int | None = None
        self._next = 0  # extended (unwrapped) sequence number of the next frame out
        self._highest = 0
        self._released = False
        self._stray: RtpPacket | None = None

    def push(self, packet: RtpPacket) -> None:
        if packet.ssrc != self._ssrc:
            if self._ssrc is not None:
                self.resets += 1
            self._restart(packet)
            return
        base = self._next
        ext = base + ((packet.sequence - base + 0x8000) % _WRAP - 0x8000)
        if abs(ext - base) > self.max_jump:
            self._jump(packet)
            return
        self._stray = None
        if ext < base:
            if self._released or self._highest - ext > self.depth:
                self.late += 1
                return
            self._next = ext  # nothing released yet: an early packet came in late, wait for it
        if ext in self._held:
            self.duplicates += 1
            return
        self._held[ext] = packet
        self._highest = max(self._highest, ext)

    def pop(self) -> RtpPacket | Missing | None:
        """The next frame, ``Missing`` for one given up, or None until more arrives."""
        if self._ready:
            return self._ready.popleft()
        if not self._held:
            return None
        packet = self._held.pop(self._next, None)
        if packet is None:
            if self._highest - self._next <= self.depth:
                return None
            self.lost += 1
        self._released = True
        self._next += 1
        return packet if packet is not None else Missing((self._next - 1) % _WRAP)

    def flush(self) -> list[RtpPacket | Missing]:
        """Everything still held, in order with gaps marked: the call has ended."""
        self._drain()
        out = list(self._ready)
        self._ready.clear()
        self._ssrc = None
        return out

    def _drain(self) -> None:
        """Move what is held to the ready queue, gaps included."""
        if self._held:
            for ext in range(self._next, self._highest + 1):
                packet = self._held.pop(ext, None)
                if packet is None:
                    self.lost += 1
                self._ready.append(packet if packet is not None else Missing(ext % _WRAP))
        self._stray = None

    def _restart(self, packet: RtpPacket) -> None:
        self._drain()
        self._ssrc = packet.ssrc
        self._next = self._highest = packet.sequence
        self._held = {packet.sequence: packet}
        self._released = False

    def _jump(self, packet: RtpPacket) -> None:
        """Believe a far jump only when the next packet follows on from it (RFC 3550 A.1)."""
        stray = self._stray
        if stray is not None and (stray.sequence + 1) % _WRAP == packet.sequence:
            self.resets += 1
            self._restart(stray)
            self.push(packet)
        else:
            self.strays += 1
            self._stray = packet
