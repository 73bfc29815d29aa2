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
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from switchboard.events import Event
from switchboard.media import phrases, prompts
from switchboard.media.bridge import Bridge
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
from switchboard.sip.call_scripts import PREPARED_ON, Scripts
from switchboard.sip.media_seam import CallControls, MediaRefusedError, Program

log = structlog.get_logger("switchboard.media")

TICK_PHASES = 4
"""The 20 ms grid split into four, 5 ms apart: each sends a quarter of the streams
(``media.pacing.Ticker``)."""
RTP_SILENCE_TIMEOUT = 30.0
"""No RTP from the caller for this long: the call is gone (RFC 3550 gives no BYE)."""


CONFIRM_PLAYS = 2
"""The "press 1 to take the call" prompt plays this often before the leg counts as not
answered (an operator's voicemail greeting never presses 1)."""


@dataclass(frozen=True, slots=True)
class MediaLimits:
    rtp_silence_timeout: float = RTP_SILENCE_TIMEOUT
    confirm_mobile: bool = True
    """Call confirmation on mobile legs in proxy mode."""


class RtpMediaService:
    """``media_seam.MediaService`` over real RTP. ``run()`` in the app's TaskGroup."""

    def __init__(self, pool: PortPool, scripts: Scripts, limits: MediaLimits | None = None) -> None:
        self.pool = pool
        self.scripts = scripts
        self.limits = limits or MediaLimits()
        self.ticker = Ticker(phases=TICK_PHASES)
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

    def prepare(self, event: Event) -> None:
        """A bus listener: when someone's availability changes, what a caller would now
        hear is rendered ahead (``Scripts.prepare``) as a task of the service's group
        (before ``run()`` there is no group, and no call to prepare for); a failure is
        logged, never the group's end."""
        if isinstance(event, PREPARED_ON) and self._group is not None:
            self._group.create_task(self._prepare(event.person_id))

    async def _prepare(self, person_id: str) -> None:
        try:
            await self.scripts.prepare(person_id)
        except Exception:
            log.exception("speech_prepare_failed", person=person_id)

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

    def confirmation(self, language: str) -> RtpConfirmation | None:
        if not self.limits.confirm_mobile or self._group is None:
            return None
        try:
            port = self.pool.allocate()
        except PortsExhaustedError:
            log.warning("rtp_ports_exhausted", problem="no port to confirm a mobile leg")
            return None
        return RtpConfirmation(self, port, language)


class RtpConfirmation:
    """The mobile leg of a confirmed ring (``media_seam.Confirmation``), and later the far
    side of the caller's bridge."""

    def __init__(self, service: RtpMediaService, port: RtpPort, language: str) -> None:
        self.service = service
        self.port = port
        self.language = phrases.language_of(language)
        self._offer = offer(
            address=port.host, port=port.port, session_id=secrets.randbelow(2**62), version=1
        )
        self._sdp = serialise(self._offer)
        self.channel: Channel | None = None
        self.endpoint: RtpEndpoint | None = None
        self.closed = False

    @property
    def offer(self) -> bytes:
        return self._sdp

    def answered(self, answer_sdp: bytes, decided: Callable[[bool], None]) -> None:
        group = self.service._group
        try:
            negotiated = accept_answer(self._offer, parse(answer_sdp))
        except (SdpError, ValueError) as exc:
            log.info("confirmation_refused", problem=str(exc))
            decided(False)
            return
        if self.closed or group is None:
            decided(False)
            return
        group.create_task(self._ask(negotiated, decided))

    async def _ask(self, negotiated: Negotiated, decided: Callable[[bool], None]) -> None:
        channel = Channel(self.service.ticker, negotiated.codec, self.service.clips)
        self.channel = channel
        pressed = False
        try:
            self.endpoint = await RtpEndpoint.open(
                self.service.pool,
                self.port,
                negotiated,
                on_audio=channel.on_audio,
                on_digit=channel.on_digit,
                silence_timeout=None,
            )
            channel.attach(self.endpoint)
            if self.closed:
                channel.close()
                return
            speaker = self.service.scripts.speaker
            words = phrases.phrases(self.language)
            clip = await prompts.assemble(prompts.say(words.take_call, self.language), speaker)
            for _ in range(CONFIRM_PLAYS):
                if await channel.play(clip, keys="1") == "1":
                    pressed = True
                    break
                if channel.closed:
                    break
        except Exception:
            log.exception("confirmation_failed")
        finally:
            decided(pressed)

    def join(self, caller: RtpEndpoint) -> Bridge:
        """The mobile pressed 1 and the caller is answered: the two are bridged."""
        far = self.endpoint
        if far is None:
            raise MediaRefusedError(503, "Service Unavailable", "the mobile leg is gone")
        return Bridge(caller, far)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.channel is not None:
            self.channel.close()  # closes the endpoint, which gives the port back
        if self.endpoint is None:
            self.service.pool.release(self.port)


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
        self._second: RtpPort | None = None
        self._second_offer: SessionDescription | None = None
        self.bridge: Bridge | None = None
        self._controls: CallControls | None = None
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
        self._controls = controls
        group = self.service._group
        if self.closed or group is None or self.negotiated is None:
            controls.hang_up("no media")
            return
        self.channel = Channel(self.service.ticker, self.negotiated.codec, self.service.clips)
        self.task = group.create_task(self._run(controls, self.negotiated, self.channel))

    async def _run(self, controls: CallControls, negotiated: Negotiated, channel: Channel) -> None:
        person = self.program.person.person_id
        join = self.program.join
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
            if isinstance(join, RtpConfirmation):
                self.bridge = join.join(endpoint)
                log.info("media_bridged", person=person, to="mobile")
                return
            await self.service.scripts.run(channel, controls, self.program)
        except Exception:
            log.exception("media_call_failed", person=person)
            controls.hang_up("media error")

    def second_leg_offer(self) -> bytes:
        if self._second is None:
            try:
                self._second = self.service.pool.allocate()
            except PortsExhaustedError:
                raise MediaRefusedError(503, "Service Unavailable", "no RTP port free") from None
        self._second_offer = offer(
            address=self._second.host,
            port=self._second.port,
            session_id=secrets.randbelow(2**62),
            version=1,
        )
        return serialise(self._second_offer)

    def connect_second_leg(self, answer_sdp: bytes) -> None:
        group, port, our_offer = self.service._group, self._second, self._second_offer
        if self.closed or group is None or port is None or our_offer is None:
            raise MediaRefusedError(503, "Service Unavailable", "the call is gone")
        try:
            negotiated = accept_answer(our_offer, parse(answer_sdp))
        except (SdpError, ValueError) as exc:
            raise MediaRefusedError(488, "Not Acceptable Here", str(exc)) from None
        self._second = None  # the endpoint owns it from here
        group.create_task(self._bridge(port, negotiated))

    async def _bridge(self, port: RtpPort, negotiated: Negotiated) -> None:
        controls, channel = self._controls, self.channel

        def far_silent() -> None:
            if controls is not None:
                controls.hang_up("no RTP from the far end")

        try:
            far = await RtpEndpoint.open(
                self.service.pool,
                port,
                negotiated,
                on_timeout=far_silent,
                silence_timeout=self.service.limits.rtp_silence_timeout,
            )
        except Exception:
            log.exception("media_bridge_failed", person=self.program.person.person_id)
            self.service.pool.release(port)
            if controls is not None:
                controls.hang_up("media error")
            return
        if self.closed or channel is None or channel.endpoint is None:
            far.close()
            return
        self.bridge = Bridge(channel.endpoint, far)
        log.info("media_bridged", person=self.program.person.person_id)

    def drop_second_leg(self) -> None:
        if self._second is not None:
            self.service.pool.release(self._second)
            self._second = None

    def dtmf(self, digit: str) -> None:
        if self.channel is not None:
            self.channel.on_digit(Digit(digit, 0, 0, True))

    def close(self, why: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.service.calls.discard(self)
        self.drop_second_leg()
        if self.bridge is not None:
            self.bridge.b.close()
        if isinstance(self.program.join, RtpConfirmation):
            self.program.join.close()
        if self.channel is not None:
            self.channel.close()  # closes the endpoint, which gives the port back
        if self.channel is None or self.channel.endpoint is None:
            self.service.pool.release(self.port)
        log.info("media_call_closed", person=self.program.person.person_id, why=why)
