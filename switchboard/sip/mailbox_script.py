"""Listening to one's voicemail by phone (issue 13): what the owner hears and presses.

Who may listen was settled before the call was answered (``calls.py``): a registered phone
proves its owner by digest; the mobile, through the trunk, only by caller ID, so the PIN
is asked first then (``voicemail/pins.py``: three tries a call). Then:

- "You have 2 new messages." R12 asks owners to listen as soon as possible, so new ones
  come first, newest first, then the heard ones, newest first;
- for each: "Message 1.", the message, then the menu (``phrases.MAILBOX_MENU``): 1 again,
  2 next, 7 delete ("The message has been deleted."), # finish. The keys work during the
  message too; silence through the menu twice ends the call;
- a message played to its end is marked heard; one skipped half-way stays new. Marking and
  deleting go through the spool, whose store publishes ``VoicemailChanged``: the web inbox
  and the phone's message-waiting light follow at once;
- after the last one: "There are no more messages.", goodbye, and the call ends.

Audited as the person on the phone (``phone:<person id>``). Knows no RTP and no SIP: it
plays through what it is given, a ``Channel`` in the switchboard and a fake in tests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Protocol

import structlog

from switchboard.directory.model import Person
from switchboard.media import phrases, prompts
from switchboard.media.clips import silence
from switchboard.media.phrases import Choice
from switchboard.sip.media_seam import CallControls, Mailbox
from switchboard.store.protocol import NotFoundError
from switchboard.voicemail.model import VoiceMessage
from switchboard.voicemail.pins import MAX_DIGITS, PinCheck
from switchboard.voicemail.wav import Audio

log = structlog.get_logger("switchboard.media")

MENU = dict(phrases.MAILBOX_MENU)
MENU_KEYS = "".join(MENU)
PIN_KEYS = "0123456789#"
PIN_TRIES = 3
MENU_PLAYS = 2
"""The menu is said this many times, each followed by a wait for a key."""
WAIT_MS = 5000
"""After a prompt, how long a key is waited for (a PIN's next digit, a menu choice)."""


class Player(Protocol):
    """What the mailbox uses of a call's ``Channel``."""

    @property
    def closed(self) -> bool: ...

    async def play(self, audio: Audio, *, keys: str = "") -> str | None: ...


class MessageSpool(Protocol):
    """What the mailbox uses of ``voicemail.spool.Voicemail``."""

    async def messages(self, person_id: str) -> list[VoiceMessage]: ...

    async def message_audio(self, person_id: str, message_id: str) -> Audio | None: ...

    async def mark_heard(self, person_id: str, message_id: str, actor: str) -> VoiceMessage: ...

    async def delete(self, person_id: str, message_id: str, actor: str) -> None: ...


class PinLock(Protocol):
    """What the mailbox uses of ``voicemail.pins.VoicemailPins``."""

    async def open_to_try(self, person_id: str) -> bool: ...

    async def check(self, person_id: str, pin: str) -> PinCheck: ...


Assemble = Callable[[Sequence[prompts.Segment]], Awaitable[Audio]]
"""A plan of segments as one clip: ``prompts.assemble`` with the switchboard's speaker."""


def listening_order(messages: Sequence[VoiceMessage]) -> list[VoiceMessage]:
    """New before heard, each newest first (R12: the new ones are what the owner needs)."""
    newest = sorted(messages, key=lambda m: (m.received_at, m.message_id), reverse=True)
    return [m for m in newest if not m.heard] + [m for m in newest if m.heard]


def actor_of(person: Person) -> str:
    """Who the audit trail names for a change made by phone: the owner, by id."""
    return f"phone:{person.person_id}"


@dataclass(frozen=True, slots=True)
class MailboxScript:
    spool: MessageSpool
    pins: PinLock
    assemble: Assemble

    async def run(self, channel: Player, controls: CallControls, mailbox: Mailbox) -> None:
        person = mailbox.person
        language = phrases.language_of(person.language)
        words = phrases.phrases(language)
        if mailbox.pin_required and not await self._unlock(channel, person, language):
            outcome = "not opened"
        else:
            outcome = await self._listen(channel, person, language)
        if channel.closed:
            return
        await self._say(channel, words.goodbye, language)
        controls.hang_up(f"mailbox {outcome}")

    # -- the PIN (from the mobile) ----------------------------------------------------

    async def _unlock(self, channel: Player, person: Person, language: str) -> bool:
        words = phrases.phrases(language)
        person_id = person.person_id
        if not await self.pins.open_to_try(person_id):
            log.info("mailbox_refused", person=person_id, why="no PIN, or shut after wrong ones")
            await self._say(channel, words.not_from_this_phone, language)
            return False
        prompt = await self.assemble(prompts.say(words.enter_pin, language))
        for _ in range(PIN_TRIES):
            pin = await self._read_pin(channel, prompt)
            if channel.closed:
                return False
            if not pin:
                continue
            match await self.pins.check(person_id, pin):
                case PinCheck.RIGHT:
                    return True
                case PinCheck.SHUT:
                    await self._say(channel, words.not_from_this_phone, language)
                    return False
                case PinCheck.WRONG:
                    log.info("mailbox_wrong_pin", person=person_id)
                    await self._say(channel, words.wrong_pin, language)
        log.info("mailbox_refused", person=person_id, why=f"no right PIN in {PIN_TRIES} tries")
        return False

    async def _read_pin(self, channel: Player, prompt: Audio) -> str:
        """Digits until ``#``, a pause of ``WAIT_MS``, or more than a PIN can hold."""
        digits = ""
        key = await channel.play(prompt, keys=PIN_KEYS)
        while True:
            if key is None:
                key = await channel.play(silence(WAIT_MS), keys=PIN_KEYS)
            if key is None or key == "#":
                return digits
            digits += key
            if len(digits) > MAX_DIGITS:
                return digits
            key = None

    # -- listening --------------------------------------------------------------------

    async def _listen(self, channel: Player, person: Person, language: str) -> str:
        """Every message, with the menu after each; how it ended, for the log."""
        words = phrases.phrases(language)
        person_id = person.person_id
        messages = listening_order(await self.spool.messages(person_id))
        heard = {m.message_id for m in messages if m.heard}
        played = deleted = 0
        count = phrases.new_messages(language, len(messages) - len(heard))
        choice = MENU.get(await self._say(channel, count, language, keys="#") or "")
        index = 0
        while choice is not Choice.FINISH and index < len(messages) and not channel.closed:
            message = messages[index]
            audio = await self.spool.message_audio(person_id, message.message_id)
            if audio is None:  # deleted on the web meanwhile
                index += 1
                continue
            clip = await self.assemble(prompts.voice_message(language, index + 1, audio))
            key = await channel.play(clip, keys=MENU_KEYS)
            if key is None and not channel.closed:
                played += 1
                if message.message_id not in heard:
                    heard.add(message.message_id)
                    await self._mark_heard(person, message)
                key = await self._menu(channel, language)
            choice = MENU.get(key or "")
            match choice:
                case Choice.NEXT:
                    index += 1
                case Choice.DELETE:
                    await self._delete(person, message)
                    deleted += 1
                    await self._say(channel, words.deleted, language)
                    index += 1
                case None:
                    break
        if channel.closed:
            outcome = "hung up"
        elif not messages:
            outcome = "empty"
        elif choice is Choice.FINISH:
            outcome = "finished"
        elif index >= len(messages):
            outcome = "all played"
            await self._say(channel, words.no_more_messages, language)
        else:
            outcome = "no choice"
        log.info(
            "mailbox_listened",
            person=person_id,
            messages=len(messages),
            played=played,
            deleted=deleted,
            outcome=outcome,
        )
        return outcome

    async def _menu(self, channel: Player, language: str) -> str | None:
        menu = await self.assemble(prompts.say(phrases.mailbox_menu(language), language))
        for _ in range(MENU_PLAYS):
            key = await channel.play(menu, keys=MENU_KEYS)
            if key is None:
                key = await channel.play(silence(WAIT_MS), keys=MENU_KEYS)
            if key is not None or channel.closed:
                return key
        return None

    async def _mark_heard(self, person: Person, message: VoiceMessage) -> None:
        # Deleted on the web while it played: nothing is left to mark.
        with suppress(NotFoundError):
            await self.spool.mark_heard(person.person_id, message.message_id, actor_of(person))

    async def _delete(self, person: Person, message: VoiceMessage) -> None:
        # Deleted on the web meanwhile: gone, as the owner asked.
        with suppress(NotFoundError):
            await self.spool.delete(person.person_id, message.message_id, actor_of(person))

    async def _say(self, channel: Player, text: str, language: str, keys: str = "") -> str | None:
        return await channel.play(await self.assemble(prompts.say(text, language)), keys=keys)
