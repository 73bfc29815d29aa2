"""The media service behind the seam: SDP, an RTP port and a script for each answered call.

``open`` does what must happen before the ``200 OK`` leaves (negotiate the offer or write
our own, reserve a port); ``start`` (on the ACK) opens the RTP endpoint and runs the call's
script as a task of the service's TaskGroup, beside the one ``Ticker`` that paces every
stream. A script that fails is logged and its call hung up; it never takes the group, and
so the switchboard, down with it. ``close`` releases the port whatever happened.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

import structlog

from switchboard.media.channel import Channel, EncodedClips
from switchboard.media.offer_answer import (
    Negotiated,
    NotAcceptableError,
    accept_answer,
    answer,
    offer,
)
from switchboard.media.pacing import Ticker
from switchboard.media.ports import PortPool, PortsExhaustedError, RtpPort
from switchboard.media.rtp import Digit
from switchboard.media.sdp import SdpError, SessionDescription, serialise
from switchboard.media.sdp_parse import parse
from switchboard.media.stream import RtpEndpoint
from switchboard.sip.call_scripts import Scripts
from switchboard.sip.media_seam import CallControls, MediaRefusedError, Program

log = structlog.get_logger("switchboard.media")

RTP_SILENCE_TIMEOUT = 30.0
"""No RTP from the caller for this long: the call is gone (RFC 3550 gives no BYE)."""


@dataclass(frozen=True, slots=True)
class MediaLimits:
    rtp_silence_timeout: float = RTP_SILENCE_TIMEOUT


class RtpMediaService:
    """``media_seam.MediaService`` over real RTP. ``run()`` in the app's TaskGroup."""

    def __init__(self, pool: PortPool, scripts: Scripts, limits: MediaLimits | None = None) -> None:
        self.pool = pool
        self.scripts = scripts
        self.limits = limits or MediaLimits()
        self.ticker = Ticker()
        self.clips = EncodedClips()
        self._group: asyncio.TaskGroup | None = None
        self.calls: set[RtpCall] = set()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            self._group = group
            try:
                await self.ticker.run()
            finally:
                self._group = None
                for call in list(self.calls):
                    call.close("shutting down")

    def open(self, offer_sdp: bytes | None, program: Program) -> RtpCall:
        if self._group is None:
            raise MediaRefusedError(503, "Service Unavailable", "media is not running", 5)
        try:
            port = self.pool.allocate()
        except PortsExhaustedError as exc:
            log.warning("rtp_ports_exhausted", problem=str(exc))
            raise MediaRefusedError(503, "Service Unavailable", "no RTP port free", 5) from None
        try:
            call = RtpCall(self, port, program, offer_sdp)
        except BaseException:
            self.pool.release(port)
            raise
        self.calls.add(call)
        return call


class RtpCall:
    """One answered call's media (``media_seam.MediaSession``)."""

    def __init__(
        self, service: RtpMediaService, port: RtpPort, program: Program, offer_sdp: bytes | None
    ) -> None:
        self.service = service
        self.port = port
        self.program = program
        self.negotiated: Negotiated | None = None
        self._our_offer: SessionDescription | None = None
        self.channel: Channel | None = None
        self.task: asyncio.Task[None] | None = None
        self.closed = False
        session_id = secrets.randbelow(2**62)
        if offer_sdp is None:
            self._our_offer = offer(
                address=port.host, port=port.port, session_id=session_id, version=1
            )
            self._sdp = serialise(self._our_offer)
            return
        try:
            described = parse(offer_sdp)
            result = answer(
                described, address=port.host, port=port.port, session_id=session_id, version=1
            )
        except NotAcceptableError as exc:
            raise MediaRefusedError(488, "Not Acceptable Here", str(exc)) from None
        except SdpError as exc:
            raise MediaRefusedError(400, "Bad Request - SDP", str(exc)) from None
        self.negotiated = result.negotiated
        self._sdp = serialise(result.description)

    @property
    def local_sdp(self) -> bytes:
        return self._sdp

    def remote_answer(self, sdp: bytes) -> None:
        if self._our_offer is None:
            return
        try:
            self.negotiated = accept_answer(self._our_offer, parse(sdp))
        except (SdpError, ValueError) as exc:
            raise MediaRefusedError(488, "Not Acceptable Here", str(exc)) from None

    def start(self, controls: CallControls) -> None:
        group = self.service._group
        if self.closed or group is None or self.negotiated is None:
            controls.hang_up("no media")
            return
        self.channel = Channel(self.service.ticker, self.negotiated.codec, self.service.clips)
        self.task = group.create_task(self._run(controls, self.negotiated, self.channel))

    async def _run(self, controls: CallControls, negotiated: Negotiated, channel: Channel) -> None:
        person = self.program.person.person_id
        try:
            endpoint = await RtpEndpoint.open(
                self.service.pool,
                self.port,
                negotiated,
                on_audio=channel.on_audio,
                on_digit=channel.on_digit,
                on_timeout=lambda: controls.hang_up("no RTP from the caller"),
                silence_timeout=self.service.limits.rtp_silence_timeout,
            )
            channel.attach(endpoint)
            if self.closed:
                channel.close()
                return
            await self.service.scripts.run(channel, controls, self.program)
        except Exception:
            log.exception("media_call_failed", person=person)
            controls.hang_up("media error")

    def dtmf(self, digit: str) -> None:
        if self.channel is not None:
            self.channel.on_digit(Digit(digit, 0, 0, True))

    def close(self, why: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.service.calls.discard(self)
        if self.channel is not None:
            self.channel.close()  # closes the endpoint, which gives the port back
        if self.channel is None or self.channel.endpoint is None:
            self.service.pool.release(self.port)
        log.info("media_call_closed", person=self.program.person.person_id, why=why)
