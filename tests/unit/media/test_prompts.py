"""Plans of what a caller hears (R10-R12), built from what a routing decision carries."""

from __future__ import annotations

from dataclasses import replace

import pytest

from switchboard.directory.model import Organisation, Person
from switchboard.media import prompts
from switchboard.media.clips import tone
from switchboard.media.prompts import AnnouncementPlan, Beep, Pause, Play, Say, Segment
from switchboard.presence.model import ManualStatus, PresenceInputs, Reason, Referral
from switchboard.routing.decide import decide
from switchboard.routing.model import Announce, Call, CallerOption
from tests.unit.core_fakes import DEFAULT_HOURS, STOCKHOLM, FakeSnapshot, at

NOW = at(2025, 11, 26, 11)  # a Wednesday
SOTENAS = Organisation("sotenas", "Sotenäs kommun", DEFAULT_HOURS, reception="64000")
ANNA = Person(
    "p-anna", "Anna Berg", "64123", None, None, "sotenas", unit="Socialtjänsten", language="sv"
)
LUNCH = Referral(Reason.LUNCH, until=at(2025, 11, 26, 13))
NAME = tone(300.0, 600)  # stands in for Anna saying her name
GREETING = tone(350.0, 3000)


def plan(
    person: Person = ANNA,
    referral: Referral = LUNCH,
    *,
    leave_message: bool = True,
    reception: bool = True,
) -> AnnouncementPlan:
    return prompts.announcement(
        person,
        SOTENAS,
        referral,
        now=NOW,
        zone=STOCKHOLM,
        leave_message=leave_message,
        reception=reception,
    )


ANNOUNCED = [
    ("sv", "Anna Berg, Sotenäs kommun, Socialtjänsten, är på lunch, tillbaka klockan 13.",
     "Tryck 1 för att lämna ett meddelande, eller 0 för att komma till växeln.",
     "Tack för samtalet. Hej då."),
    ("nb", "Anna Berg, Sotenäs kommun, Socialtjänsten, er på lunsj, tilbake klokken 13.",
     "Trykk 1 for å legge igjen en beskjed, eller 0 for å komme til sentralbordet.",
     "Takk for at du ringte. Ha det bra."),
    ("en", "Anna Berg, Sotenäs kommun, Socialtjänsten, is at lunch, back at 1 pm.",
     "Press 1 to leave a message, or 0 to reach the reception.",
     "Thank you for calling. Goodbye."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("language", "referral", "options", "goodbye"), ANNOUNCED, ids=[a[0] for a in ANNOUNCED]
)
def test_r10_who_why_until_when_then_the_options_twice(
    language: str, referral: str, options: str, goodbye: str
) -> None:
    built = plan(replace(ANNA, language=language))
    assert built == AnnouncementPlan(
        language,
        (Say(referral, language), Pause(400), Say(options, language)),
        (Pause(400), Say(goodbye, language)),
        plays=2,
    )


DAYS = [
    ("sv-another-day", "sv", Referral(Reason.HOLIDAY, until=at(2025, 12, 1)),
     "Anna Berg, Sotenäs kommun, Socialtjänsten, har semester, tillbaka måndag den 1:a "
     "december."),
    ("nb-another-day", "nb", Referral(Reason.HOLIDAY, until=at(2025, 12, 1)),
     "Anna Berg, Sotenäs kommun, Socialtjänsten, har ferie, tilbake mandag 1. desember."),
    ("en-tomorrow", "en", Referral(Reason.MEETING, until=at(2025, 11, 27, 8, 30)),
     "Anna Berg, Sotenäs kommun, Socialtjänsten, is in a meeting, back tomorrow at 8 30 am."),
    ("sv-free-text-with-a-number", "sv",
     Referral(Reason.OTHER, text="På kurs, ring 070-123 45 67"),
     "Anna Berg, Sotenäs kommun, Socialtjänsten, är inte tillgänglig: På kurs, ring "
     "0 7 0 1 2 3 4 5 6 7."),
    ("unknown-language-is-english", "fi", LUNCH,
     "Anna Berg, Sotenäs kommun, Socialtjänsten, is at lunch, back at 1 pm."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("language", "referral", "said"), [d[1:] for d in DAYS], ids=[d[0] for d in DAYS]
)
def test_r10_the_referral_is_said_as_a_person_would_say_it(
    language: str, referral: Referral, said: str
) -> None:
    built = plan(replace(ANNA, language=language), referral)
    assert built.announcement[0] == Say(said, built.language)


def test_r10_without_a_unit_the_organisation_alone_says_where() -> None:
    built = plan(replace(ANNA, unit=""))
    assert built.announcement[0] == Say(
        "Anna Berg, Sotenäs kommun, är på lunch, tillbaka klockan 13.", "sv"
    )


@pytest.mark.parametrize(
    ("leave_message", "reception", "options"),
    [
        (True, False, "Tryck 1 för att lämna ett meddelande."),
        (False, True, "Tryck 0 för att komma till växeln."),
    ],
)
def test_r10_only_the_options_the_decision_offers_are_read(
    leave_message: bool, reception: bool, options: str
) -> None:
    built = plan(leave_message=leave_message, reception=reception)
    assert built.announcement[-1] == Say(options, "sv")
    assert built.plays == 2


def test_r10_without_options_the_referral_plays_once_then_goodbye() -> None:
    built = plan(leave_message=False, reception=False)
    assert built.announcement == (
        Say("Anna Berg, Sotenäs kommun, Socialtjänsten, är på lunch, tillbaka klockan 13.", "sv"),
    )
    assert built.plays == 1


def test_r10_a_recorded_name_replaces_the_synthesized_one() -> None:
    built = prompts.announcement(
        ANNA,
        SOTENAS,
        LUNCH,
        now=NOW,
        zone=STOCKHOLM,
        leave_message=True,
        reception=False,
        name_clip=NAME,
    )
    assert built.announcement == (
        Play(NAME, "name"),
        Pause(150),
        Say("Sotenäs kommun, Socialtjänsten, är på lunch, tillbaka klockan 13.", "sv"),
        Pause(400),
        Say("Tryck 1 för att lämna ett meddelande.", "sv"),
    )


def test_r10_the_plan_is_built_from_what_the_announce_decision_carries() -> None:
    manual = ManualStatus(LUNCH, ANNA.person_id, at(2025, 11, 26, 10, 30))
    snapshot = FakeSnapshot(
        people=(ANNA,),
        organisations=(SOTENAS,),
        inputs=((ANNA.person_id, PresenceInputs(manual=manual)),),
    )
    decision = decide(Call("0523664123"), snapshot, NOW)
    assert isinstance(decision, Announce)
    built = prompts.announcement(
        decision.person,
        snapshot.organisation(decision.person.organisation),
        decision.referral,
        now=NOW,
        zone=snapshot.zone,
        leave_message=CallerOption.LEAVE_MESSAGE in decision.options,
        reception=CallerOption.RECEPTION in decision.options,
    )
    assert built == plan()


GREETINGS = [
    ("sv", "Du har kommit till Anna Berg, Sotenäs kommun, Socialtjänsten. "
           "Lämna ett meddelande efter tonen."),
    ("nb", "Du har kommet til Anna Berg, Sotenäs kommun, Socialtjänsten. "
           "Legg igjen en beskjed etter pipetonen."),
    ("en", "You have reached Anna Berg, Sotenäs kommun, Socialtjänsten. "
           "Please leave a message after the tone."),
]  # fmt: skip


@pytest.mark.parametrize(("language", "said"), GREETINGS, ids=[g[0] for g in GREETINGS])
def test_r12_the_default_greeting_says_who_and_where_then_beeps(language: str, said: str) -> None:
    person = replace(ANNA, language=language)
    assert prompts.greeting(person, SOTENAS) == (Say(said, language), Pause(300), Beep())


def test_r11_the_owner_s_recorded_greeting_plays_instead_then_beeps() -> None:
    segments = prompts.greeting(ANNA, SOTENAS, recorded=GREETING, name_clip=NAME)
    assert segments == (Play(GREETING, "greeting"), Pause(300), Beep())


def test_r12_a_recorded_name_sits_inside_the_default_greeting() -> None:
    segments = prompts.greeting(ANNA, SOTENAS, name_clip=NAME)
    assert segments == (
        Say("Du har kommit till", "sv"),
        Pause(150),
        Play(NAME, "name"),
        Pause(150),
        Say("Sotenäs kommun, Socialtjänsten. Lämna ett meddelande efter tonen.", "sv"),
        Pause(300),
        Beep(),
    )


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("sv", "Lämna ett meddelande efter tonen."),
        ("nb", "Legg igjen en beskjed etter pipetonen."),
        ("en", "Please leave a message after the tone."),
    ],
)
def test_after_pressing_1_the_caller_hears_what_to_do_then_the_beep(
    language: str, said: str
) -> None:
    assert prompts.record_prompt(language) == (Say(said, language), Pause(300), Beep())


def test_texts_lists_what_to_render_ahead_in_order() -> None:
    segments: tuple[Segment, ...] = plan(leave_message=True, reception=False).announcement
    assert prompts.texts(segments) == [
        ("Anna Berg, Sotenäs kommun, Socialtjänsten, är på lunch, tillbaka klockan 13.", "sv"),
        ("Tryck 1 för att lämna ett meddelande.", "sv"),
    ]


def test_a_voice_message_is_announced_by_its_number_in_the_owners_language() -> None:
    """Listening by phone (issue 13): "Meddelande 2.", a pause, the message as stored."""
    said = tone(440.0, 1000)
    assert prompts.voice_message("sv", 2, said) == (
        Say("Meddelande 2.", "sv"),
        Pause(prompts.PAUSE_MS),
        Play(said, "message"),
    )
    assert prompts.voice_message("fi", 1, said)[0] == Say("Message 1.", "en")
