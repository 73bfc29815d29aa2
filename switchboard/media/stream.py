"""One RTP endpoint on the event loop: send paced frames, receive audio and key presses.

The endpoint knows no SIP: it is given a socket from the ``PortPool`` and the
``Negotiated`` result of offer/answer, and reports through three callbacks: decoded PCM
for a recorder (``on_audio``, in sequence order, silence for frames that never came),
key presses (``on_digit``), and silence on the line (``on_timeout``).

Symmetric RTP (RFC 4961; "comedia"): a caller behind NAT writes its private address into
the SDP, which we cannot reach. Its packets, though, arrive from the NAT's public address
and port, so once a valid packet of a negotiated payload type arrives, replies go to its
source instead of the SDP's address, and packets from any other source are dropped so a
third party cannot take the stream over later. A re-INVITE that moves the media calls
``update``, which starts the latching afresh.

Sending: the pacer calls the owner with frame numbers on the shared 20 ms grid, and the
owner calls ``send_frame(payload, frame, now)``. The RTP timestamp is derived from the frame
number, so a stall the pacer skipped shows up as a timestamp gap; the marker bit is set
on the first packet of each talk spurt (RFC 3551 §4.1): the first, and any after a gap.
Sequence number, timestamp and SSRC start random (RFC 3550 §5.1).

Time: every method that needs the time takes ``now`` (from ``loop.time()``); one timer
handle per endpoint, re-armed only when it fires, checks for silence and for a key press
whose end packets were lost.
"""

from __future__ import annotations

import asyncio
import secrets
import struct
from collections.abc import Callable

from switchboard.media.g711 import decode
from switchboard.media.jitter import JitterBuffer, Missing
from switchboard.media.offer_answer import Negotiated
from switchboard.media.pacing import FRAME_SECONDS
from switchboard.media.ports import PortPool, RtpPort
from switchboard.media.rtp import Digit, DtmfDetector, RtpError, RtpPacket, parse
from switchboard.media.sdp import HOLD_ADDRESSES

_RTP_HEADER = struct.Struct("!BBHII")
SAMPLES_PER_FRAME = 160
"""20 ms at 8 kHz: the RTP timestamp step per frame of the pacing grid."""

Address = tuple[str, int]


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, endpoint: RtpEndpoint) -> None:
        self.endpoint = endpoint

    def datagram_received(self, data: bytes, addr: Address) -> None:
        endpoint = self.endpoint
        endpoint.datagram(data, (addr[0], addr[1]), endpoint.loop.time())

    def error_received(self, exc: Exception) -> None:
        self.endpoint.send_errors += 1  # ICMP unreachable for an earlier send: nothing to do


class RtpEndpoint:
    """Build with ``await RtpEndpoint.open(...)``; ``close()`` gives the port back."""

    def __init__(
        self,
        pool: PortPool,
        port: RtpPort,
        negotiated: Negotiated,
        *,
        loop: asyncio.AbstractEventLoop,
        on_audio: Callable[[bytes], None] | None = None,
        on_digit: Callable[[Digit], None] | None = None,
        on_timeout: Callable[[], None] | None = None,
        silence_timeout: float | None = 30.0,
        symmetric: bool = True,
        jitter_depth: int = 4,
    ) -> None:
        self.pool = pool
        self.port = port
        self.loop = loop
        self.on_audio = on_audio
        self.on_digit = on_digit
        self.on_timeout = on_timeout
        self.silence_timeout = silence_timeout
        self.symmetric = symmetric
        self.ssrc = secrets.randbits(32)
        self.sent = self.not_sent = self.send_errors = 0
        self.received = self.malformed = self.foreign = self.ignored = 0
        self._sequence = secrets.randbits(16)
        self._timestamp = secrets.randbits(32)
        self._last_frame: int | None = None
        self._last_sent_at = 0.0
        self._jitter = JitterBuffer(depth=jitter_depth)
        self._dtmf = DtmfDetector()
        self._frame_samples = SAMPLES_PER_FRAME
        self._transport: asyncio.DatagramTransport | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._closed = False
        self._audio_ssrc: int | None = None
        self.negotiated = negotiated
        self.latched: Address | None = None
        self._send_to: Address | None = None
        """Where ``send_frame`` sends (None: it may not): ``destination``, worked out when
        the SDP or the latch changes rather than 50 times a second."""
        self._aim()
        self._last_received = loop.time()
        self._arm()

    @classmethod
    async def open(
        cls,
        pool: PortPool,
        port: RtpPort,
        negotiated: Negotiated,
        *,
        on_audio: Callable[[bytes], None] | None = None,
        on_digit: Callable[[Digit], None] | None = None,
        on_timeout: Callable[[], None] | None = None,
        silence_timeout: float | None = 30.0,
        symmetric: bool = True,
        jitter_depth: int = 4,
    ) -> RtpEndpoint:
        """Wrap ``port``'s socket in a datagram transport and start listening."""
        loop = asyncio.get_running_loop()
        endpoint = cls(
            pool,
            port,
            negotiated,
            loop=loop,
            on_audio=on_audio,
            on_digit=on_digit,
            on_timeout=on_timeout,
            silence_timeout=silence_timeout,
            symmetric=symmetric,
            jitter_depth=jitter_depth,
        )
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(endpoint), sock=port.socket
        )
        endpoint._transport = transport
        return endpoint

    @property
    def destination(self) -> Address | None:
        """Where frames go now: the latched source, else the SDP address; None on hold."""
        if self.negotiated.on_hold:
            return None
        if self.latched is not None:
            return self.latched
        return (self.negotiated.remote_address, self.negotiated.remote_port)

    def _aim(self) -> None:
        self._send_to = None if not self.negotiated.direction.sends else self.destination

    def update(self, negotiated: Negotiated, now: float) -> None:
        """New offer/answer (a re-INVITE): new address, codec or direction.

        The latched source is kept while the SDP address stays the same (a re-INVITE for
        hold and back says the same unreachable private address again); a new address
        means the media moved, so latching starts afresh.
        """
        old = self.negotiated
        if (old.remote_address, old.remote_port) != (
            negotiated.remote_address,
            negotiated.remote_port,
        ):
            self.latched = None
        self.negotiated = negotiated
        self._aim()
        self._last_received = now
        self._arm()

    def send_frame(self, payload: bytes, frame: int, now: float) -> None:
        """Send frame number ``frame`` of the current pacing run at ``now``.

        Frame numbers count from 0 each time the owner starts pacing (one prompt after
        another); when they go back, the timestamps continue from the time that passed.
        """
        destination = self._send_to
        if self._transport is None or destination is None:
            self.not_sent += 1
            return
        last = self._last_frame
        if last is not None and frame <= last:
            elapsed = max(1, round((now - self._last_sent_at) / FRAME_SECONDS))
            self._timestamp += (last + elapsed - frame) * SAMPLES_PER_FRAME
        marker = 0x80 if last is None or frame != last + 1 else 0
        self._last_frame = frame
        self._last_sent_at = now
        # The header by hand (RFC 3550 §5.1, version 2, no CSRC): this runs 50 times a
        # second for every stream, and a packet value plus serialise() cost twice as much.
        data = _RTP_HEADER.pack(
            0x80,
            self.negotiated.payload_type | marker,
            self._sequence,
            (self._timestamp + frame * SAMPLES_PER_FRAME) & 0xFFFFFFFF,
            self.ssrc,
        )
        self._sequence = (self._sequence + 1) & 0xFFFF
        try:
            # Straight to the socket: a datagram the kernel cannot take now is late anyway,
            # and the transport's own buffering and checks are most of a send's cost.
            self.port.socket.sendto(data + payload, destination)
        except (BlockingIOError, InterruptedError):
            self.not_sent += 1
            return
        except OSError:
            self.send_errors += 1
            return
        self.sent += 1

    def datagram(self, data: bytes, source: Address, now: float) -> None:
        """One datagram from ``source`` at ``now``: the receive path, minus the socket."""
        if self._closed:
            return
        try:
            packet = parse(data)
        except RtpError:
            self.malformed += 1
            return
        negotiated = self.negotiated
        kind = packet.payload_type
        if kind != negotiated.payload_type and kind != negotiated.dtmf_payload_type:
            self.ignored += 1  # comfort noise, RTCP on the RTP port, anything not agreed
            return
        if self.latched is None:
            if self.symmetric:
                self.latched = source
                self._aim()
        elif source != self.latched:
            self.foreign += 1
            return
        self.received += 1
        self._last_received = now
        if kind == negotiated.payload_type:
            self._audio_ssrc = packet.ssrc
        else:
            self._key(packet, now)
            if packet.ssrc != self._audio_ssrc:
                return
        # Events share the audio's sequence numbers, so they go through the jitter buffer
        # too, or each would read as a lost audio frame; they come out as no audio at all.
        self._jitter.push(packet)
        while not self._closed and (item := self._jitter.pop()) is not None:
            self._deliver(item)  # a callback may close the endpoint: then stop at once

    def check(self, now: float) -> None:
        """Report a key press whose end never came, and silence past ``silence_timeout``."""
        if (digit := self._dtmf.poll(now)) is not None and self.on_digit is not None:
            self.on_digit(digit)
        timeout = self._effective_timeout()
        if timeout is not None and now - self._last_received >= timeout:
            self.silence_timeout = None  # once: the owner hangs up
            if self.on_timeout is not None:
                self.on_timeout()

    def close(self) -> None:
        """Stop, hand what the jitter buffer holds to the recorder, give the port back."""
        if self._closed:
            return
        self._closed = True
        if self._handle is not None:
            self._handle.cancel()
        if self._transport is not None:
            self._transport.close()
        self.pool.release(self.port)
        for item in self._jitter.flush():
            self._deliver(item)
        # The owner's callbacks lead back to the owner, which holds this endpoint: a cycle.
        # Dropped here, a finished call is freed by reference counting at once, rather than
        # left to a young-generation collection that then walks thousands of calls in one
        # go on the event loop (150 ms with the collector tuned as ``serve`` tunes it).
        self.on_audio = self.on_digit = self.on_timeout = None

    def _key(self, packet: RtpPacket, now: float) -> None:
        try:
            digits = self._dtmf.feed(packet, now)
        except RtpError:
            self.malformed += 1
            return
        for digit in digits:
            if self.on_digit is not None and not self._closed:
                self.on_digit(digit)
        deadline = self._dtmf.deadline
        if deadline is not None and (self._handle is None or self._handle.when() > deadline):
            self._arm()

    def _deliver(self, item: RtpPacket | Missing) -> None:
        if self.on_audio is None:
            return
        if isinstance(item, Missing):
            self.on_audio(bytes(2 * self._frame_samples))  # as long as the last frame
        elif item.payload_type == self.negotiated.payload_type:
            self._frame_samples = len(item.payload) or self._frame_samples
            self.on_audio(decode(item.payload, self.negotiated.codec))

    def _effective_timeout(self) -> float | None:
        """No timeout while the far end may well be silent: it put the call on hold, in
        either way RFC 3264 §8.4 describes (no send direction, or ``c=0.0.0.0``)."""
        negotiated = self.negotiated
        if not negotiated.direction.receives or negotiated.remote_address in HOLD_ADDRESSES:
            return None
        return self.silence_timeout

    def _arm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._closed:
            return
        deadlines = [d for d in (self._dtmf.deadline,) if d is not None]
        timeout = self._effective_timeout()
        if timeout is not None:
            deadlines.append(self._last_received + timeout)
        if deadlines:
            self._handle = self.loop.call_at(min(deadlines), self._fire)

    def _fire(self) -> None:
        self._handle = None
        self.check(self.loop.time())
        self._arm()
