"""What the switchboard says on the phone, in Swedish, Norwegian (bokmål) and English
(R10-R13).

Translators: every sentence a caller or a mailbox owner hears is in the three tables
below, one per language, and nowhere else; the referral itself ("Anna Berg är på lunch,
tillbaka klockan 13") comes from ``presence/labels.py``. ``{who}`` is "name,
organisation, unit"; ``{n}`` a number. A choice reads as the rest of "Tryck 1 ...":
"för att lämna ett meddelande".

Pure functions of a language and values: nothing here speaks; ``prompts`` turns these
texts into what a caller hears.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Choice(StrEnum):
    """Something a caller or a mailbox owner may do by pressing a key."""

    LEAVE_MESSAGE = "leave_message"
    RECEPTION = "reception"
    LISTEN = "listen"
    REPEAT = "repeat"
    NEXT = "next"
    DELETE = "delete"
    FINISH = "finish"


LEAVE_MESSAGE_KEY = "1"
RECEPTION_KEY = "0"
"""R10: after a referral, 1 leaves a message and 0 reaches the organisation's reception."""
MAILBOX_MENU: tuple[tuple[str, Choice], ...] = (
    ("1", Choice.REPEAT),
    ("2", Choice.NEXT),
    ("7", Choice.DELETE),
    ("#", Choice.FINISH),
)
"""Listening to one's messages by phone, after each message."""


@dataclass(frozen=True, slots=True)
class Phrases:
    """Every sentence in one language; a missing one is a type error, not a silent gap."""

    press: str
    or_: str
    keys: Mapping[str, str]
    """How ``#`` and ``*`` are said (digits are said by the speech engine)."""
    choices: Mapping[Choice, str]
    reached: str
    after_the_tone: str
    goodbye: str
    saved: str
    nothing_recorded: str
    invalid_choice: str
    connecting: str
    not_reached: str
    """The reception did not answer (the options play again)."""
    take_call: str
    """Said to a mobile that answers a call through the switchboard (call confirmation)."""
    new_messages: tuple[str, str, str]
    """No new messages, one, and ``{n}``."""
    message_number: str
    no_more_messages: str
    deleted: str
    enter_pin: str
    """Listening from the mobile (issue 13): the PIN first."""
    wrong_pin: str
    not_from_this_phone: str
    """No PIN set, or too many wrong ones lately: no listening from this phone."""


_PHRASES: dict[str, Phrases] = {
    "sv": Phrases(
        press="Tryck",
        or_="eller",
        keys={"#": "fyrkant", "*": "stjärna"},
        choices={
            Choice.LEAVE_MESSAGE: "för att lämna ett meddelande",
            Choice.RECEPTION: "för att komma till växeln",
            Choice.LISTEN: "för att lyssna",
            Choice.REPEAT: "för att lyssna igen",
            Choice.NEXT: "för nästa meddelande",
            Choice.DELETE: "för att radera meddelandet",
            Choice.FINISH: "för att avsluta",
        },
        reached="Du har kommit till {who}.",
        after_the_tone="Lämna ett meddelande efter tonen.",
        goodbye="Tack för samtalet. Hej då.",
        saved="Ditt meddelande är sparat.",
        nothing_recorded="Inget meddelande spelades in.",
        invalid_choice="Det valet finns inte.",
        connecting="Du kopplas nu till växeln.",
        not_reached="Växeln kunde inte nås just nu.",
        take_call="Samtal till ditt arbetsnummer. Tryck 1 för att ta samtalet.",
        new_messages=(
            "Du har inga nya meddelanden.",
            "Du har ett nytt meddelande.",
            "Du har {n} nya meddelanden.",
        ),
        message_number="Meddelande {n}.",
        no_more_messages="Det finns inga fler meddelanden.",
        deleted="Meddelandet är raderat.",
        enter_pin="Ange din kod och avsluta med fyrkant.",
        wrong_pin="Fel kod.",
        not_from_this_phone="Det går inte att lyssna på meddelanden från den här telefonen.",
    ),
    "nb": Phrases(
        press="Trykk",
        or_="eller",
        keys={"#": "firkant", "*": "stjerne"},
        choices={
            Choice.LEAVE_MESSAGE: "for å legge igjen en beskjed",
            Choice.RECEPTION: "for å komme til sentralbordet",
            Choice.LISTEN: "for å lytte",
            Choice.REPEAT: "for å høre meldingen igjen",
            Choice.NEXT: "for neste melding",
            Choice.DELETE: "for å slette meldingen",
            Choice.FINISH: "for å avslutte",
        },
        reached="Du har kommet til {who}.",
        after_the_tone="Legg igjen en beskjed etter pipetonen.",
        goodbye="Takk for at du ringte. Ha det bra.",
        saved="Beskjeden din er lagret.",
        nothing_recorded="Ingen beskjed ble spilt inn.",
        invalid_choice="Det valget finnes ikke.",
        connecting="Du blir nå satt over til sentralbordet.",
        not_reached="Sentralbordet kunne ikke nås akkurat nå.",
        take_call="Anrop til jobbnummeret ditt. Trykk 1 for å ta samtalen.",
        new_messages=(
            "Du har ingen nye meldinger.",
            "Du har én ny melding.",
            "Du har {n} nye meldinger.",
        ),
        message_number="Melding {n}.",
        no_more_messages="Det er ingen flere meldinger.",
        deleted="Meldingen er slettet.",
        enter_pin="Tast inn koden din og avslutt med firkant.",
        wrong_pin="Feil kode.",
        not_from_this_phone="Det er ikke mulig å lytte på meldinger fra denne telefonen.",
    ),
    "en": Phrases(
        press="Press",
        or_="or",
        keys={"#": "hash", "*": "star"},
        choices={
            Choice.LEAVE_MESSAGE: "to leave a message",
            Choice.RECEPTION: "to reach the reception",
            Choice.LISTEN: "to listen",
            Choice.REPEAT: "to listen again",
            Choice.NEXT: "for the next message",
            Choice.DELETE: "to delete the message",
            Choice.FINISH: "to finish",
        },
        reached="You have reached {who}.",
        after_the_tone="Please leave a message after the tone.",
        goodbye="Thank you for calling. Goodbye.",
        saved="Your message has been saved.",
        nothing_recorded="No message was recorded.",
        invalid_choice="That is not a valid choice.",
        connecting="Connecting you to the reception.",
        not_reached="The reception could not be reached just now.",
        take_call="A call to your work number. Press 1 to take the call.",
        new_messages=(
            "You have no new messages.",
            "You have one new message.",
            "You have {n} new messages.",
        ),
        message_number="Message {n}.",
        no_more_messages="There are no more messages.",
        deleted="The message has been deleted.",
        enter_pin="Enter your PIN, then press hash.",
        wrong_pin="That PIN is not correct.",
        not_from_this_phone="Messages cannot be played from this phone.",
    ),
}

LANGUAGES = tuple(_PHRASES)
_NUMBER = re.compile(r"\+?\d(?:[ -]?\d){4,}")
"""Five digits or more (a phone number, an extension), maybe grouped by spaces or dashes."""


def language_of(language: str) -> str:
    """``language`` when we speak it, else English (as ``presence/labels.py`` falls back)."""
    return language if language in _PHRASES else "en"


def phrases(language: str) -> Phrases:
    return _PHRASES[language_of(language)]


def who(name: str, organisation: str = "", unit: str = "") -> str:
    """ "Anna Berg, Sotenäs kommun, Socialtjänsten" (R12, R13: who and where), blanks left out."""
    return ", ".join(part.strip() for part in (name, organisation, unit) if part.strip())


def spell_numbers(text: str) -> str:
    """Phone numbers and extensions said digit by digit: espeak-ng reads "64123" as "sixty-
    four thousand ..." and "0701234567" as a decimal; a person says "6 4 1 2 3"."""
    return _NUMBER.sub(lambda m: " ".join(c for c in m.group() if c.isdigit()), text)


def _key(key: str, language: str) -> str:
    return phrases(language).keys.get(key, key)


def options(language: str, choices: Sequence[tuple[str, Choice]]) -> str:
    """ "Tryck 1 för att lämna ett meddelande, eller 0 för att komma till växeln." ("" when
    there is nothing to choose)."""
    words = phrases(language)
    items = [f"{_key(key, language)} {words.choices[choice]}" for key, choice in choices]
    if not items:
        return ""
    if len(items) > 1:
        items[-1] = f"{words.or_} {items[-1]}"
    return f"{words.press} {', '.join(items)}."


def caller_options(language: str, *, leave_message: bool, reception: bool) -> str:
    """What a caller may do after a referral (R10): 1 for a message when voicemail is
    possible, 0 for the reception when the organisation has one."""
    choices: list[tuple[str, Choice]] = []
    if leave_message:
        choices.append((LEAVE_MESSAGE_KEY, Choice.LEAVE_MESSAGE))
    if reception:
        choices.append((RECEPTION_KEY, Choice.RECEPTION))
    return options(language, choices)


def reached(language: str, who_text: str) -> str:
    """ "Du har kommit till Anna Berg, Sotenäs kommun, Socialtjänsten." (R12, R13)."""
    return phrases(language).reached.format(who=who_text)


def reached_around(language: str) -> tuple[str, str]:
    """The words before and after ``{who}`` in ``reached``, for a recorded name between."""
    before, _, after = phrases(language).reached.partition("{who}")
    return before.strip(), after.strip()


def default_greeting(language: str, who_text: str) -> str:
    """R12's default when the owner has recorded none: who, where, and what to do."""
    return f"{reached(language, who_text)} {phrases(language).after_the_tone}"


def new_messages(language: str, count: int) -> str:
    none, one, many = phrases(language).new_messages
    if count <= 0:
        return none
    return one if count == 1 else many.format(n=count)


def message_number(language: str, number: int) -> str:
    return phrases(language).message_number.format(n=number)


def mailbox_menu(language: str) -> str:
    return options(language, MAILBOX_MENU)
