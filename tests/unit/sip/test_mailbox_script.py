"""Listening to one's voicemail by phone (issue 13), step by step, against fakes.

The fakes obey the script's own protocols (``Player``, ``MessageSpool``, ``PinLock``,
``CallControls``): a channel that knows what each clip says (the fake ``assemble`` writes
the words into the clip) and presses the keys a test scripts for it, a spool in memory,
a PIN lock with one PIN. What a real phone hears is tested with baresip in
``tests/integration/sip/test_mailbox_calls.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from switchboard.directory.model import Person
from switchboard.media.prompts import Pause, Play, Say, Segment
from switchboard.sip.mailbox_script import MailboxScript, listening_order
from switchboard.sip.media_seam import Mailbox
from switchboard.store.protocol import NotFoundError
from switchboard.voicemail.model import VoiceMessage
from switchboard.voicemail.pins import PinCheck
from switchboard.voicemail.wav import Audio

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ANNA = Person("p-anna", "Anna Berg", "64123", None, None, "sotenas", language="en")
WAIT = "(wait)"


def message(n: int, *, heard: bool = False) -> VoiceMessage:
    return VoiceMessage(f"{n:032x}", "p-anna", T0 + timedelta(minutes=n), None, 3000, heard)


async def assemble(segments: Sequence[Segment]) -> Audio:
    """A clip that carries its words: the fake channel reads them back."""
    words: list[str] = []
    for segment in segments:
        match segment:
            case Say(text=text):
                words.append(text)
            case Play(audio=audio):
                words.append(audio.frames.decode())
            case Pause():
                pass
            case _:
                raise AssertionError(segment)
    return Audio(8000, " ".join(words).encode())


@dataclass
class FakeChannel:
    """Presses ``presses`` in order: (words the clip must contain, key, or None to hang up)."""

    presses: list[tuple[str, str | None]]
    heard: list[str] = field(default_factory=list)
    closed: bool = False

    async def play(self, audio: Audio, *, keys: str = "") -> str | None:
        if self.closed:
            return None
        said = WAIT if not audio.frames.strip(b"\0") else audio.frames.decode()
        self.heard.append(said)
        if self.presses and self.presses[0][0] in said:
            _, key = self.presses.pop(0)
            if key is None:
                self.closed = True
                return None
            assert key in keys, (key, keys, said)
            return key
        return None


@dataclass
class FakeControls:
    hung_up: list[str] = field(default_factory=list)

    def hang_up(self, why: str) -> None:
        self.hung_up.append(why)

    def transfer(self, extension: str, done: Callable[[bool], None]) -> None:
        raise AssertionError("the mailbox transfers nobody")


@dataclass
class FakeSpool:
    stored: list[VoiceMessage]
    gone_audio: set[str] = field(default_factory=set)
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    """(what, message id, actor)."""
    listed: int = 0

    async def messages(self, person_id: str) -> list[VoiceMessage]:
        self.listed += 1
        return sorted(
            (m for m in self.stored if m.person_id == person_id),
            key=lambda m: m.received_at,
            reverse=True,
        )

    async def message_audio(self, person_id: str, message_id: str) -> Audio | None:
        if message_id in self.gone_audio:
            return None
        return Audio(8000, f"<message {int(message_id, 16)}>".encode())

    def _find(self, person_id: str, message_id: str) -> VoiceMessage:
        for m in self.stored:
            if (m.person_id, m.message_id) == (person_id, message_id):
                return m
        raise NotFoundError(f"voicemail {message_id}")

    async def mark_heard(self, person_id: str, message_id: str, actor: str) -> VoiceMessage:
        old = self._find(person_id, message_id)
        new = replace(old, heard=True)
        self.stored[self.stored.index(old)] = new
        self.changes.append(("heard", message_id, actor))
        return new

    async def delete(self, person_id: str, message_id: str, actor: str) -> None:
        self.stored.remove(self._find(person_id, message_id))
        self.changes.append(("deleted", message_id, actor))


@dataclass
class FakePins:
    pin: str | None = "2580"
    shut: bool = False
    tried: list[str] = field(default_factory=list)

    async def open_to_try(self, person_id: str) -> bool:
        return self.pin is not None and not self.shut

    async def check(self, person_id: str, pin: str) -> PinCheck:
        self.tried.append(pin)
        if self.pin is None or self.shut:
            return PinCheck.SHUT
        return PinCheck.RIGHT if pin == self.pin else PinCheck.WRONG


MENU = (
    "Press 1 to listen again, 2 for the next message, 7 to delete the message, or hash to finish."
)


async def listen(
    spool: FakeSpool,
    presses: Sequence[tuple[str, str | None]],
    *,
    pins: FakePins | None = None,
    pin_required: bool = False,
) -> tuple[FakeChannel, FakeControls]:
    channel, controls = FakeChannel(list(presses)), FakeControls()
    script = MailboxScript(spool, pins or FakePins(), assemble)
    await script.run(channel, controls, Mailbox(ANNA, pin_required))
    assert channel.presses == [], f"not pressed: {channel.presses}; heard: {channel.heard}"
    return channel, controls


def test_new_messages_come_first_newest_first_then_the_heard_ones() -> None:
    stored = [message(1), message(2, heard=True), message(3), message(4, heard=True)]
    assert [int(m.message_id, 16) for m in listening_order(stored)] == [3, 1, 4, 2]


async def test_next_delete_and_finish_mark_heard_delete_and_end_the_call() -> None:
    """R12: "You have 2 new messages", the newest first; a message played to its end is
    marked heard by the owner on the phone; 7 deletes it; # ends politely."""
    spool = FakeSpool([message(1), message(2), message(0, heard=True)])
    channel, controls = await listen(spool, [(MENU, "2"), (MENU, "7"), (MENU, "#")])
    assert channel.heard == [
        "You have 2 new messages.",
        "Message 1. <message 2>",
        MENU,
        "Message 2. <message 1>",
        MENU,
        "The message has been deleted.",
        "Message 3. <message 0>",
        MENU,
        "Thank you for calling. Goodbye.",
    ]
    actor = "phone:p-anna"
    assert spool.changes == [
        ("heard", message(2).message_id, actor),
        ("heard", message(1).message_id, actor),
        ("deleted", message(1).message_id, actor),
    ]
    assert controls.hung_up == ["mailbox finished"]


async def test_after_the_last_message_there_are_no_more() -> None:
    spool = FakeSpool([message(1)])
    channel, controls = await listen(spool, [(MENU, "2")])
    assert channel.heard[-2:] == ["There are no more messages.", "Thank you for calling. Goodbye."]
    assert controls.hung_up == ["mailbox all played"]


async def test_deleting_the_last_message_says_so_and_that_there_are_no_more() -> None:
    spool = FakeSpool([message(1)])
    channel, _ = await listen(spool, [(MENU, "7")])
    assert channel.heard[-3:] == [
        "The message has been deleted.",
        "There are no more messages.",
        "Thank you for calling. Goodbye.",
    ]
    assert spool.stored == []


async def test_1_plays_the_message_again_and_it_is_marked_heard_once() -> None:
    spool = FakeSpool([message(1)])
    channel, _ = await listen(spool, [(MENU, "1"), (MENU, "#")])
    assert channel.heard.count("Message 1. <message 1>") == 2
    assert [c[0] for c in spool.changes] == ["heard"]


async def test_a_key_during_the_message_skips_it_and_it_stays_new() -> None:
    """Heard means played to its end: a message skipped half-way is still new."""
    spool = FakeSpool([message(1), message(2)])
    channel, _ = await listen(spool, [("<message 2>", "2"), ("<message 1>", "7")])
    assert MENU not in channel.heard
    assert spool.changes == [("deleted", message(1).message_id, "phone:p-anna")]
    assert spool.stored == [message(2)]


async def test_silence_through_the_menu_twice_ends_the_call() -> None:
    spool = FakeSpool([message(1)])
    channel, controls = await listen(spool, [])
    assert channel.heard[2:] == [MENU, WAIT, MENU, WAIT, "Thank you for calling. Goodbye."]
    assert controls.hung_up == ["mailbox no choice"]


async def test_an_empty_mailbox_says_so_and_ends() -> None:
    channel, controls = await listen(FakeSpool([]), [])
    assert channel.heard == ["You have no new messages.", "Thank you for calling. Goodbye."]
    assert controls.hung_up == ["mailbox empty"]


async def test_hash_during_the_count_finishes_at_once() -> None:
    spool = FakeSpool([message(1)])
    channel, controls = await listen(spool, [("You have one new message.", "#")])
    assert channel.heard == ["You have one new message.", "Thank you for calling. Goodbye."]
    assert spool.changes == []
    assert controls.hung_up == ["mailbox finished"]


async def test_a_message_deleted_on_the_web_meanwhile_is_skipped() -> None:
    spool = FakeSpool([message(1), message(2)], gone_audio={message(2).message_id})
    channel, _ = await listen(spool, [(MENU, "#")])
    assert channel.heard[:2] == ["You have 2 new messages.", "Message 2. <message 1>"]


async def test_hanging_up_mid_message_changes_nothing_and_sends_no_bye() -> None:
    spool = FakeSpool([message(1)])
    _, controls = await listen(spool, [("<message 1>", None)])
    assert spool.changes == []
    assert controls.hung_up == []  # the caller's BYE ended it already


# -- the PIN, from the mobile ----------------------------------------------------------

ENTER = "Enter your PIN, then press hash."
WRONG = "That PIN is not correct."


async def test_the_right_pin_opens_the_mailbox() -> None:
    """Digits one by one, the first while the prompt plays, ended by #."""
    pins = FakePins()
    spool = FakeSpool([message(1)])
    presses = [(ENTER, "2"), (WAIT, "5"), (WAIT, "8"), (WAIT, "0"), (WAIT, "#"), (MENU, "#")]
    channel, controls = await listen(spool, presses, pins=pins, pin_required=True)
    assert pins.tried == ["2580"]
    assert channel.heard[5:7] == ["You have one new message.", "Message 1. <message 1>"]
    assert controls.hung_up == ["mailbox finished"]


async def test_a_pause_ends_the_pin_as_hash_does() -> None:
    pins = FakePins()
    presses = [(ENTER, "2"), (WAIT, "5"), (WAIT, "8"), (WAIT, "0")]
    _, controls = await listen(FakeSpool([]), presses, pins=pins, pin_required=True)
    assert pins.tried == ["2580"]
    assert controls.hung_up == ["mailbox empty"]


async def test_three_wrong_pins_end_the_call_before_anything_is_read() -> None:
    pins = FakePins()
    spool = FakeSpool([message(1)])
    presses = [(ENTER, "1"), (WAIT, "#")] * 3
    channel, controls = await listen(spool, presses, pins=pins, pin_required=True)
    assert pins.tried == ["1", "1", "1"]
    assert channel.heard.count(WRONG) == 3
    assert channel.heard[-1] == "Thank you for calling. Goodbye."
    assert spool.listed == 0
    assert controls.hung_up == ["mailbox not opened"]


async def test_nothing_typed_is_not_a_wrong_pin() -> None:
    pins = FakePins()
    _, controls = await listen(FakeSpool([]), [], pins=pins, pin_required=True)
    assert pins.tried == []
    assert controls.hung_up == ["mailbox not opened"]


@pytest.mark.parametrize(
    "pins", [FakePins(pin=None), FakePins(shut=True)], ids=["no-pin-set", "shut-after-guesses"]
)
async def test_without_a_pin_to_try_the_mobile_cannot_listen(pins: FakePins) -> None:
    spool = FakeSpool([message(1)])
    channel, controls = await listen(spool, [], pins=pins, pin_required=True)
    assert channel.heard == [
        "Messages cannot be played from this phone.",
        "Thank you for calling. Goodbye.",
    ]
    assert pins.tried == []
    assert spool.listed == 0
    assert controls.hung_up == ["mailbox not opened"]


async def test_a_registered_phone_is_not_asked_for_the_pin() -> None:
    pins = FakePins()
    channel, _ = await listen(FakeSpool([]), [], pins=pins, pin_required=False)
    assert ENTER not in channel.heard
    assert pins.tried == []
