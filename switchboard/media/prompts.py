"""What a caller hears, as plans of segments: the spoken referral and its options (R10),
the voicemail greeting (R11, R12), and the short prompts around them.

A plan is pure data built from what a routing decision already carries (the person, the
referral, whether a message may be left and whether there is a reception) plus the
organisation, the zone and ``now``: each segment is a text to speak, a recorded clip, a
pause or the beep. Building a plan touches nothing; ``assemble()`` turns one into audio
through a ``Speaker`` and ``prerender()`` warms the speaker's cache for it.

A recorded name clip (from the employee's page) replaces the synthesized name: "[Anna
Berg, in her own voice] Sotenäs kommun, Socialtjänsten, är på lunch, tillbaka klockan 13".
Recorded clips are played as they are: bring them to speech level once when they are
stored (``clips.normalise``), not on every call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from switchboard.directory.model import Organisation, Person
from switchboard.media import phrases
from switchboard.media.clips import RATE, beep, concat, silence
from switchboard.media.tts import Speaker
from switchboard.presence.labels import sentence
from switchboard.presence.model import Referral
from switchboard.voicemail.wav import Audio

SENTENCE_GAP_MS = 400
"""Between two sentences (the engine's own trailing pause is trimmed away)."""
NAME_GAP_MS = 150
"""Between a recorded name and the words after it: the comma's pause."""
BEFORE_BEEP_MS = 300
PAUSE_MS = 300
"""Between "Message 1." and the message itself."""
PLAYS = 2
"""R10: the announcement and its options play twice, then the call ends politely."""


@dataclass(frozen=True, slots=True)
class Say:
    text: str
    language: str


@dataclass(frozen=True, slots=True)
class Play:
    """A recorded clip at 8 kHz: a name or a greeting."""

    audio: Audio
    what: str


@dataclass(frozen=True, slots=True)
class Pause:
    ms: int


@dataclass(frozen=True, slots=True)
class Beep:
    """The tone after which the caller speaks (``clips.beep``)."""


Segment = Say | Play | Pause | Beep


@dataclass(frozen=True, slots=True)
class AnnouncementPlan:
    """R10: ``announcement`` plays up to ``plays`` times while the caller may press a key,
    then ``goodbye`` plays and the call ends."""

    language: str
    announcement: tuple[Segment, ...]
    goodbye: tuple[Segment, ...]
    plays: int


def _name_then(clip: Audio, text: str, language: str) -> list[Segment]:
    return [Play(clip, "name"), Pause(NAME_GAP_MS), Say(text, language)]


def announcement(
    person: Person,
    organisation: Organisation,
    referral: Referral,
    *,
    now: datetime,
    zone: ZoneInfo,
    leave_message: bool,
    reception: bool,
    name_clip: Audio | None = None,
) -> AnnouncementPlan:
    """R10: who, why and until when, in the person's language, then the options.

    ``leave_message`` and ``reception`` are what the decision offers (``Announce.options``:
    ``LEAVE_MESSAGE``, ``RECEPTION``). Without any option the announcement plays once.
    """
    language = phrases.language_of(person.language)
    where = phrases.who("", organisation.name, person.unit)
    if name_clip is None:
        said = sentence(
            f"{phrases.who(person.name, organisation.name, person.unit)},",
            referral,
            now,
            zone,
            language,
            spoken=True,
        )
        segments: list[Segment] = [Say(phrases.spell_numbers(said), language)]
    else:
        rest = sentence(f"{where},", referral, now, zone, language, spoken=True)
        segments = _name_then(name_clip, phrases.spell_numbers(rest), language)
    offered = phrases.caller_options(language, leave_message=leave_message, reception=reception)
    if offered:
        segments += [Pause(SENTENCE_GAP_MS), Say(offered, language)]
    return AnnouncementPlan(
        language,
        tuple(segments),
        (Pause(SENTENCE_GAP_MS), Say(phrases.phrases(language).goodbye, language)),
        PLAYS if offered else 1,
    )


def greeting(
    person: Person,
    organisation: Organisation,
    *,
    recorded: Audio | None = None,
    name_clip: Audio | None = None,
) -> tuple[Segment, ...]:
    """R11, R12: the owner's recorded greeting, or the default one saying who and where
    the caller has reached; then the beep, after which the caller speaks."""
    if recorded is not None:
        return (Play(recorded, "greeting"), Pause(BEFORE_BEEP_MS), Beep())
    language = phrases.language_of(person.language)
    words = phrases.phrases(language)
    if name_clip is None:
        whom = phrases.who(person.name, organisation.name, person.unit)
        segments: list[Segment] = [Say(phrases.default_greeting(language, whom), language)]
    else:
        before, after = phrases.reached_around(language)
        where = phrases.who("", organisation.name, person.unit)
        segments = [Say(before, language), Pause(NAME_GAP_MS)]
        segments += _name_then(name_clip, f"{where}{after} {words.after_the_tone}", language)
    return (*segments, Pause(BEFORE_BEEP_MS), Beep())


def record_prompt(language: str) -> tuple[Segment, ...]:
    """After a referral, when the caller pressed 1: what to do, then the beep."""
    lang = phrases.language_of(language)
    return (Say(phrases.phrases(lang).after_the_tone, lang), Pause(BEFORE_BEEP_MS), Beep())


def voice_message(language: str, number: int, audio: Audio) -> tuple[Segment, ...]:
    """Listening by phone: "Message 1." and the message a caller left (8 kHz, as stored)."""
    lang = phrases.language_of(language)
    return (
        Say(phrases.message_number(lang, number), lang),
        Pause(PAUSE_MS),
        Play(audio, "message"),
    )


def say(text: str, language: str) -> tuple[Segment, ...]:
    """One sentence, e.g. ``say(phrases.phrases(lang).saved, lang)``."""
    return (Say(text, phrases.language_of(language)),)


def texts(segments: Sequence[Segment]) -> list[tuple[str, str]]:
    """The (text, language) pairs a plan speaks: what to render ahead."""
    return [(s.text, s.language) for s in segments if isinstance(s, Say)]


def prerender(segments: Sequence[Segment], speaker: Speaker) -> None:
    """Start rendering every text of a plan now (e.g. when a referral is set)."""
    for text, language in texts(segments):
        speaker.prerender(text, language)


async def assemble(segments: Sequence[Segment], speaker: Speaker) -> Audio:
    """The plan as one 8 kHz clip; the texts are rendered (or found cached) together."""
    spoken = await asyncio.gather(*(speaker.render(t, lang) for t, lang in texts(segments)))
    rendered = iter(spoken)
    parts: list[Audio] = []
    for segment in segments:
        match segment:
            case Say():
                parts.append(next(rendered))
            case Play(audio=audio, what=what):
                if audio.rate != RATE:
                    raise ValueError(f"the recorded {what} is at {audio.rate} Hz, not {RATE}")
                parts.append(audio)
            case Pause(ms=ms):
                parts.append(silence(ms))
            case Beep():
                parts.append(beep())
    return concat(parts)
