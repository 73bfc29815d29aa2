"""The sentences a caller and a mailbox owner hear, in sv, nb and en (R10-R13)."""

from __future__ import annotations

from dataclasses import fields

import pytest

from switchboard.media import phrases
from switchboard.media.phrases import Choice

LANGUAGES = ("sv", "nb", "en")


def test_every_language_has_every_sentence_and_every_choice() -> None:
    assert phrases.LANGUAGES == LANGUAGES
    for language in LANGUAGES:
        words = phrases.phrases(language)
        for f in fields(words):
            value = getattr(words, f.name)
            if isinstance(value, str):
                texts = [value]
            elif isinstance(value, dict):
                texts = list(value.values())
            else:
                texts = list(value)
            assert texts, (language, f.name)
            assert all(t.strip() for t in texts), (language, f.name)
        assert set(words.choices) == set(Choice), language


OPTIONS = [
    ("sv-both", "sv", True, True,
     "Tryck 1 för att lämna ett meddelande, eller 0 för att komma till växeln."),
    ("sv-no-reception", "sv", True, False, "Tryck 1 för att lämna ett meddelande."),
    ("sv-no-voicemail", "sv", False, True, "Tryck 0 för att komma till växeln."),
    ("nb-both", "nb", True, True,
     "Trykk 1 for å legge igjen en beskjed, eller 0 for å komme til sentralbordet."),
    ("nb-no-reception", "nb", True, False, "Trykk 1 for å legge igjen en beskjed."),
    ("nb-no-voicemail", "nb", False, True, "Trykk 0 for å komme til sentralbordet."),
    ("en-both", "en", True, True, "Press 1 to leave a message, or 0 to reach the reception."),
    ("en-no-reception", "en", True, False, "Press 1 to leave a message."),
    ("en-no-voicemail", "en", False, True, "Press 0 to reach the reception."),
    ("nothing-to-choose", "sv", False, False, ""),
    ("unknown-language-is-english", "fi", True, False, "Press 1 to leave a message."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("language", "leave_message", "reception", "expected"),
    [row[1:] for row in OPTIONS],
    ids=[row[0] for row in OPTIONS],
)
def test_r10_caller_options(
    language: str, leave_message: bool, reception: bool, expected: str
) -> None:
    said = phrases.caller_options(language, leave_message=leave_message, reception=reception)
    assert said == expected


GREETINGS = [
    ("sv", "Du har kommit till Anna Berg, Sotenäs kommun, Socialtjänsten. "
           "Lämna ett meddelande efter tonen."),
    ("nb", "Du har kommet til Anna Berg, Sotenäs kommun, Socialtjänsten. "
           "Legg igjen en beskjed etter pipetonen."),
    ("en", "You have reached Anna Berg, Sotenäs kommun, Socialtjänsten. "
           "Please leave a message after the tone."),
]  # fmt: skip


@pytest.mark.parametrize(("language", "expected"), GREETINGS, ids=[g[0] for g in GREETINGS])
def test_r12_default_greeting_says_who_and_where(language: str, expected: str) -> None:
    whom = phrases.who("Anna Berg", "Sotenäs kommun", "Socialtjänsten")
    assert phrases.default_greeting(language, whom) == expected


@pytest.mark.parametrize("language", LANGUAGES)
def test_r12_the_words_around_a_recorded_name_rebuild_the_greeting(language: str) -> None:
    before, after = phrases.reached_around(language)
    assert f"{before} Anna Berg{after}" == phrases.reached(language, "Anna Berg")


def test_who_leaves_blank_parts_out() -> None:
    assert phrases.who("Anna Berg", "Sotenäs kommun", "") == "Anna Berg, Sotenäs kommun"
    assert phrases.who(" ", "Sotenäs kommun", " Socialtjänsten ") == (
        "Sotenäs kommun, Socialtjänsten"
    )


MAILBOX = [
    ("sv", 0, "Du har inga nya meddelanden."),
    ("sv", 1, "Du har ett nytt meddelande."),
    ("sv", 3, "Du har 3 nya meddelanden."),
    ("nb", 0, "Du har ingen nye meldinger."),
    ("nb", 1, "Du har én ny melding."),
    ("nb", 12, "Du har 12 nye meldinger."),
    ("en", 0, "You have no new messages."),
    ("en", 1, "You have one new message."),
    ("en", 2, "You have 2 new messages."),
]


@pytest.mark.parametrize(("language", "count", "expected"), MAILBOX)
def test_new_messages_counts_in_each_language(language: str, count: int, expected: str) -> None:
    assert phrases.new_messages(language, count) == expected


MENUS = [
    ("sv", "Tryck 1 för att lyssna igen, 2 för nästa meddelande, 7 för att radera "
           "meddelandet, eller fyrkant för att avsluta."),
    ("nb", "Trykk 1 for å høre meldingen igjen, 2 for neste melding, 7 for å slette "
           "meldingen, eller firkant for å avslutte."),
    ("en", "Press 1 to listen again, 2 for the next message, 7 to delete the message, "
           "or hash to finish."),
]  # fmt: skip


@pytest.mark.parametrize(("language", "expected"), MENUS, ids=[m[0] for m in MENUS])
def test_mailbox_menu_names_keys_as_people_do(language: str, expected: str) -> None:
    assert phrases.mailbox_menu(language) == expected
    assert phrases.message_number(language, 2).endswith(" 2.")


SPELLED = [
    ("a mobile", "ring 0701234567", "ring 0 7 0 1 2 3 4 5 6 7"),
    ("grouped", "ring 070-123 45 67 i stället", "ring 0 7 0 1 2 3 4 5 6 7 i stället"),
    ("international", "call +46 70 123 45 67", "call 4 6 7 0 1 2 3 4 5 6 7"),
    ("an extension", "ring 64123", "ring 6 4 1 2 3"),
    ("a time stays", "klockan 13 30", "klockan 13 30"),
    ("a year stays", "i december 2026", "i december 2026"),
]


@pytest.mark.parametrize(
    ("text", "expected"), [s[1:] for s in SPELLED], ids=[s[0] for s in SPELLED]
)
def test_numbers_are_said_digit_by_digit(text: str, expected: str) -> None:
    assert phrases.spell_numbers(text) == expected
