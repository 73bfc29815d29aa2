"""What the switchboard says when it answers a call itself (R10-R13), step by step.

One coroutine per answered call, run by the media service under its TaskGroup:
- **announce** (R10): who, why and until when, then the options (1: leave a message,
  0: the reception), twice; then a goodbye and the call ends;
- **voicemail** (R11, R12): the owner's greeting or a default that says who and where,
  the beep, then recording until hang-up, ``#``, 5 s of silence or the maximum length;
- in the announcement and the default greeting, the name the owner recorded on their
  page (``name_of``) replaces the synthesized name;
- an unanswered ring: voicemail, or for an open referral the referral first;
- **mailbox** (issue 13): the owner listens to their own messages
  (``mailbox_script.py``).

The scripts speak through a ``Channel`` (play, record, keys) and end the call through
``CallControls``; they know no RTP and no SIP message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

import structlog

from switchboard.directory.model import Organisation, Person
from switchboard.events import CalendarChanged, ManualStatusChanged, PlansChanged
from switchboard.live.engine import Engine
from switchboard.media import phrases, prompts
from switchboard.media.clips import speech_level_dbfs
from switchboard.media.tts import Speaker
from switchboard.routing.model import Announce, Call, CallerOption, NoAnswer, Ring, Voicemail
from switchboard.sip.mailbox_script import MailboxScript
from switchboard.sip.media_seam import CallControls, Mailbox, Program
from switchboard.voicemail.wav import Audio

log = structlog.get_logger("switchboard.media")

MAX_MESSAGE_SECONDS = 180.0
SILENCE_SECONDS = 5.0
MIN_MESSAGE_SECONDS = 1.0
"""A recording shorter than this (a caller who hung up at the beep) is not a message."""


class Channel(Protocol):
    """One answered call's audio, as a script uses it."""

    @property
    def closed(self) -> bool:
        """The call is over (hung up, timed out): every further step returns at once."""
        ...

    async def play(self, audio: Audio, *, keys: str = "") -> str | None:
        """Play ``audio`` to the end, or until one of ``keys`` is pressed (that key is
        returned, and playing stops at once); None at the end or when the call closed."""
        ...

    async def record(self, *, max_seconds: float, silence_seconds: float, keys: str) -> Audio:
        """What the caller says, until a key of ``keys``, ``silence_seconds`` of
        silence, ``max_seconds``, or hang-up; 8 kHz 16-bit mono."""
        ...

    async def until(self, future: asyncio.Future[bool]) -> bool:
        """``future``'s answer, or False as soon as the call is over."""
        ...


SaveMessage = Callable[[Person, Audio, str | None], Awaitable[None]]
"""Store a message for a person, with the caller's number as the SIP edge read it."""
GreetingOf = Callable[[Person], Awaitable[Audio | None]]
NameOf = Callable[[Person], Awaitable[Audio | None]]
"""The person's recorded name clip (8 kHz, at speech level), or None."""
PREPARED_ON = (ManualStatusChanged, PlansChanged, CalendarChanged)
"""Events after which a caller may hear a new referral: rendered ahead (``prepare``)."""


@dataclass(frozen=True, slots=True)
class Scripts:
    engine: Engine
    speaker: Speaker
    greeting_of: GreetingOf
    name_of: NameOf
    save_message: SaveMessage
    mailbox: MailboxScript | None = None
    """Listening to one's messages by phone (issue 13); None: such calls just end."""

    async def run(self, channel: Channel, controls: CallControls, program: Program) -> None:
        decision = program.decision
        match decision:
            case Announce():
                await self._announce(channel, controls, program, decision)
            case Voicemail():
                await self._voicemail(channel, controls, program)
            case Ring():
                await self._unanswered(channel, controls, program, decision)
            case Mailbox():
                await self._mailbox(channel, controls, decision)

    # -- the programs -----------------------------------------------------------------

    async def _announce(
        self, channel: Channel, controls: CallControls, program: Program, decision: Announce
    ) -> None:
        person = decision.person
        leave = CallerOption.LEAVE_MESSAGE in decision.options
        reception = decision.reception if CallerOption.RECEPTION in decision.options else None
        plan = prompts.announcement(
            person,
            self._organisation(person),
            decision.referral,
            now=program.now,
            zone=self._zone,
            leave_message=leave,
            reception=reception is not None,
            name_clip=await self.name_of(person),
        )
        await self._offer(channel, controls, program, plan, leave, reception)

    async def _unanswered(
        self, channel: Channel, controls: CallControls, program: Program, decision: Ring
    ) -> None:
        referral = decision.availability.referral
        if decision.on_no_answer is NoAnswer.ANNOUNCE and referral is not None:
            org = self._organisation(decision.person)
            plan = prompts.announcement(
                decision.person,
                org,
                referral,
                now=program.now,
                zone=self._zone,
                leave_message=True,
                reception=False,
                name_clip=await self.name_of(decision.person),
            )
            await self._offer(channel, controls, program, plan, True, None)
            return
        await self._voicemail(channel, controls, program)

    async def _offer(
        self,
        channel: Channel,
        controls: CallControls,
        program: Program,
        plan: prompts.AnnouncementPlan,
        leave: bool,
        reception: str | None,
    ) -> None:
        """The announcement with its options, ``plan.plays`` times (R10)."""
        audio = await prompts.assemble(plan.announcement, self.speaker)
        keys = ("1" if leave else "") + ("0" if reception else "")
        for _ in range(plan.plays):
            key = await channel.play(audio, keys=keys)
            if channel.closed:
                return
            if key == "1":
                prompt = prompts.record_prompt(plan.language)
                await self._take_message(channel, controls, program, prompt)
                return
            if key == "0" and reception is not None:
                if await self._connect(channel, controls, plan.language, reception):
                    return  # bridged: the two talk, and the script is done
                if channel.closed:
                    return
        await channel.play(await prompts.assemble(plan.goodbye, self.speaker))
        controls.hang_up("announcement played")

    async def _connect(
        self, channel: Channel, controls: CallControls, language: str, extension: str
    ) -> bool:
        """0: "connecting you", then the reception rings; True once it answered."""
        words = phrases.phrases(language)
        await channel.play(
            await prompts.assemble(prompts.say(words.connecting, language), self.speaker)
        )
        if channel.closed:
            return False
        connected: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def done(ok: bool) -> None:
            if not connected.done():
                connected.set_result(ok)

        controls.transfer(extension, done)
        if await channel.until(connected):
            return True
        if not channel.closed:
            sorry = prompts.say(words.not_reached, language)
            await channel.play(await prompts.assemble(sorry, self.speaker))
        return False

    async def _voicemail(self, channel: Channel, controls: CallControls, program: Program) -> None:
        person = program.person
        recorded = await self.greeting_of(person)
        # A recorded greeting replaces the whole default one, the name with it.
        name = None if recorded is not None else await self.name_of(person)
        greeting = prompts.greeting(
            person, self._organisation(person), recorded=recorded, name_clip=name
        )
        await self._take_message(channel, controls, program, greeting)

    async def _take_message(
        self,
        channel: Channel,
        controls: CallControls,
        program: Program,
        before: tuple[prompts.Segment, ...],
    ) -> None:
        """R11: the greeting (``#`` skips to the beep), the beep, the message."""
        person = program.person
        segments = before[:-1] if len(before) > 1 else before
        await channel.play(await prompts.assemble(segments, self.speaker), keys="#")
        if channel.closed:
            return
        await channel.play(await prompts.assemble(before[-1:], self.speaker))
        audio = await channel.record(
            max_seconds=MAX_MESSAGE_SECONDS, silence_seconds=SILENCE_SECONDS, keys="#"
        )
        if audio.duration >= MIN_MESSAGE_SECONDS and speech_level_dbfs(audio) > -60.0:
            await self.save_message(person, audio, program.caller)
            saved = True
        else:
            log.info("voicemail_not_kept", person=person.person_id, ms=audio.duration_ms)
            saved = False
        if channel.closed:
            return
        language = phrases.language_of(person.language)
        words = phrases.phrases(language)
        if saved:
            await channel.play(
                await prompts.assemble(prompts.say(words.saved, language), self.speaker)
            )
        await channel.play(
            await prompts.assemble(prompts.say(words.goodbye, language), self.speaker)
        )
        controls.hang_up("message taken" if saved else "no message")

    async def _mailbox(self, channel: Channel, controls: CallControls, decision: Mailbox) -> None:
        """The owner listens to their own messages (issue 13): ``mailbox_script.py``."""
        if self.mailbox is None:
            controls.hang_up("no mailbox service")
            return
        await self.mailbox.run(channel, controls, decision)

    # -- rendering ahead --------------------------------------------------------------

    async def prepare(self, person_id: str) -> None:
        """When someone's availability changed (``PREPARED_ON``) and a caller would now
        hear a referral, its speech is rendered at once, so the first caller waits for
        nothing (the speaker's cache keeps it). With their recorded name, that is the
        sentence after the name. Run by the media service as a task of its group
        (``RtpMediaService.prepare``, a bus listener): the name clip is read from the
        spool."""
        person = self.engine.view.person(person_id)
        if person is None or person.extension is None:
            return
        decision = self.engine.route(Call(person.extension))
        if not isinstance(decision, Announce):
            return
        name = await self.name_of(person)
        plan = prompts.announcement(
            person,
            self._organisation(person),
            decision.referral,
            now=self.engine.clock.now(),
            zone=self._zone,
            leave_message=CallerOption.LEAVE_MESSAGE in decision.options,
            reception=decision.reception is not None and CallerOption.RECEPTION in decision.options,
            name_clip=name,
        )
        prompts.prerender((*plan.announcement, *plan.goodbye), self.speaker)

    # -- lookups ----------------------------------------------------------------------

    def _organisation(self, person: Person) -> Organisation:
        return self.engine.view.organisation(person.organisation)

    @property
    def _zone(self) -> ZoneInfo:
        return self.engine.view.zone
