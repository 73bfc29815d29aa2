"""Words for referrals (R6) and the sentence a caller hears (R10), in sv, nb and en."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from switchboard.presence.labels import back_phrase, label, sentence
from switchboard.presence.model import Reason, Referral, Source
from tests.unit.core_fakes import OSLO, STOCKHOLM, at

LANGUAGES = ("sv", "nb", "en")
# Wednesday 26 November 2025, late morning.
NOW = at(2025, 11, 26, 11, 0)


@pytest.mark.parametrize("language", LANGUAGES)
def test_r6_every_reason_has_a_distinct_label(language: str) -> None:
    labels = [label(reason, language) for reason in Reason]
    assert all(text.strip() for text in labels)
    assert len(set(labels)) == len(Reason)


LABELS = [
    ("en-lunch", Reason.LUNCH, "en", "Lunch"),
    ("sv-meeting", Reason.MEETING, "sv", "Möte"),
    ("nb-meeting", Reason.MEETING, "nb", "Møte"),
    ("sv-holiday", Reason.HOLIDAY, "sv", "Semester"),
    ("nb-holiday", Reason.HOLIDAY, "nb", "Ferie"),
    ("nb-lunch", Reason.LUNCH, "nb", "Lunsj"),
    ("sv-gone", Reason.GONE_FOR_THE_DAY, "sv", "Gått för dagen"),
    ("en-outside-hours", Reason.OUTSIDE_HOURS, "en", "Outside working hours"),
    ("unknown-language-falls-back-to-english", Reason.SICK, "de", "Sick"),
]


@pytest.mark.parametrize(
    ("reason", "language", "expected"), [row[1:] for row in LABELS], ids=[row[0] for row in LABELS]
)
def test_r6_label_in_each_language(reason: Reason, language: str, expected: str) -> None:
    assert label(reason, language) == expected


SENTENCES = [
    # Back later today.
    ("en-today", "en", Referral(Reason.LUNCH, until=at(2025, 11, 26, 13)),
     "Anna Berg is at lunch, back at 13:00."),
    ("sv-today", "sv", Referral(Reason.LUNCH, until=at(2025, 11, 26, 13)),
     "Anna Berg är på lunch, tillbaka klockan 13:00."),
    ("nb-today", "nb", Referral(Reason.LUNCH, until=at(2025, 11, 26, 13)),
     "Anna Berg er på lunsj, tilbake klokken 13:00."),
    # Back tomorrow.
    ("en-tomorrow", "en", Referral(Reason.MEETING, until=at(2025, 11, 27, 8)),
     "Anna Berg is in a meeting, back tomorrow at 08:00."),
    ("sv-tomorrow", "sv", Referral(Reason.MEETING, until=at(2025, 11, 27, 8)),
     "Anna Berg är på möte, tillbaka i morgon klockan 08:00."),
    ("nb-tomorrow", "nb", Referral(Reason.MEETING, until=at(2025, 11, 27, 8)),
     "Anna Berg er i møte, tilbake i morgen klokken 08:00."),
    # Back on a later day, at a time.
    ("en-later-day", "en", Referral(Reason.BUSINESS_TRIP, until=at(2025, 11, 28, 9, 15)),
     "Anna Berg is on a business trip, back on Friday 28 November at 09:15."),
    ("sv-later-day", "sv", Referral(Reason.BUSINESS_TRIP, until=at(2025, 11, 28, 9, 15)),
     "Anna Berg är på tjänsteresa, tillbaka fredag 28 november klockan 09:15."),
    ("nb-later-day", "nb", Referral(Reason.BUSINESS_TRIP, until=at(2025, 11, 28, 9, 15)),
     "Anna Berg er på tjenestereise, tilbake fredag 28. november klokken 09:15."),
    # An all-day absence ends at midnight: back that day, no time.
    ("en-all-day", "en", Referral(Reason.HOLIDAY, until=at(2025, 12, 1)),
     "Anna Berg is on holiday, back on Monday 1 December."),
    ("sv-all-day", "sv", Referral(Reason.HOLIDAY, until=at(2025, 12, 1)),
     "Anna Berg har semester, tillbaka måndag 1 december."),
    ("nb-all-day", "nb", Referral(Reason.HOLIDAY, until=at(2025, 12, 1)),
     "Anna Berg har ferie, tilbake mandag 1. desember."),
    ("en-all-day-ending-tonight", "en", Referral(Reason.SICK, until=at(2025, 11, 27)),
     "Anna Berg is off sick, back on Thursday 27 November."),
    # No return time; free text; the schedule's own reason.
    ("en-no-return-time", "en", Referral(Reason.SICK), "Anna Berg is off sick."),
    ("sv-no-return-time", "sv", Referral(Reason.LEAVE), "Anna Berg är tjänstledig."),
    ("en-other-text", "en", Referral(Reason.OTHER, text="  at the dentist "),
     "Anna Berg is not available: at the dentist."),
    ("nb-other-text", "nb", Referral(Reason.OTHER, text="hos tannlegen"),
     "Anna Berg er ikke tilgjengelig: hos tannlegen."),
    ("en-note-on-other-reason-is-not-read-out", "en",
     Referral(Reason.TRAINING, text="internal note"), "Anna Berg is at a training course."),
    ("sv-outside-hours", "sv",
     Referral(Reason.OUTSIDE_HOURS, until=at(2025, 11, 27, 8), source=Source.SCHEDULE),
     "Anna Berg är utanför arbetstid, tillbaka i morgon klockan 08:00."),
    ("unknown-language-is-english", "fi", Referral(Reason.LUNCH, until=at(2025, 11, 26, 13)),
     "Anna Berg is at lunch, back at 13:00."),
    # The return time is read in the organisation's zone, whatever zone it was given in.
    ("en-utc-return-time", "en", Referral(Reason.LUNCH, until=datetime(2025, 11, 26, 12, 0,
                                                                       tzinfo=UTC)),
     "Anna Berg is at lunch, back at 13:00."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("language", "referral", "expected"),
    [row[1:] for row in SENTENCES],
    ids=[row[0] for row in SENTENCES],
)
def test_r10_sentence(language: str, referral: Referral, expected: str) -> None:
    assert sentence("Anna Berg", referral, NOW, STOCKHOLM, language) == expected


BACK = [
    (
        "over-spring-dst-weekend",
        at(2026, 3, 27, 17),
        at(2026, 3, 30, 8),
        STOCKHOLM,
        "en",
        "back on Monday 30 March at 08:00",
    ),
    (
        "just-after-midnight-tomorrow",
        at(2025, 11, 26, 23, 30),
        at(2025, 11, 27, 0, 30),
        STOCKHOLM,
        "en",
        "back tomorrow at 00:30",
    ),
    (
        "late-evening-utc-is-tomorrow-in-stockholm",
        at(2025, 11, 26, 11),
        datetime(2025, 11, 26, 23, 30, tzinfo=UTC),
        STOCKHOLM,
        "sv",
        "tillbaka i morgon klockan 00:30",
    ),
    (
        "oslo",
        at(2025, 11, 26, 11, zone=OSLO),
        at(2025, 12, 1, 9, zone=OSLO),
        OSLO,
        "nb",
        "tilbake mandag 1. desember klokken 09:00",
    ),
    (
        "next-year",
        at(2025, 12, 30, 11),
        at(2026, 1, 2),
        STOCKHOLM,
        "sv",
        "tillbaka fredag 2 januari",
    ),
]


@pytest.mark.parametrize(
    ("now", "until", "zone", "language", "expected"),
    [row[1:] for row in BACK],
    ids=[row[0] for row in BACK],
)
def test_r10_back_phrase(
    now: datetime, until: datetime, zone: ZoneInfo, language: str, expected: str
) -> None:
    assert back_phrase(until, now, zone, language) == expected


SPOKEN = [
    ("sv-today-on-the-hour", "sv", at(2025, 11, 26, 13), "tillbaka klockan 13"),
    ("sv-today-half-past", "sv", at(2025, 11, 26, 13, 30), "tillbaka klockan 13 30"),
    ("sv-tomorrow-leading-zero", "sv", at(2025, 11, 27, 8, 5), "tillbaka i morgon klockan 8 05"),
    ("sv-first", "sv", at(2025, 12, 1), "tillbaka måndag den 1:a december"),
    ("sv-second", "sv", at(2026, 1, 2), "tillbaka fredag den 2:a januari"),
    ("sv-third", "sv", at(2025, 12, 3), "tillbaka onsdag den 3:e december"),
    ("sv-eleventh-twelfth", "sv", at(2025, 12, 12), "tillbaka fredag den 12:e december"),
    ("sv-twenty-first", "sv", at(2025, 12, 22, 9), "tillbaka måndag den 22:a december klockan 9"),
    ("sv-thirty-first", "sv", at(2025, 12, 31), "tillbaka onsdag den 31:a december"),
    ("nb-today", "nb", at(2025, 11, 26, 13), "tilbake klokken 13"),
    ("nb-day-keeps-the-ordinal-dot", "nb", at(2025, 12, 1, 9, 15),
     "tilbake mandag 1. desember klokken 9 15"),
    ("en-pm", "en", at(2025, 11, 26, 13), "back at 1 pm"),
    ("en-noon", "en", at(2025, 11, 26, 12), "back at 12 noon"),
    ("en-half-past", "en", at(2025, 11, 26, 13, 30), "back at 1 30 pm"),
    ("en-oh-five", "en", at(2025, 11, 27, 8, 5), "back tomorrow at 8 oh 5 am"),
    ("en-after-midnight", "en", at(2025, 11, 27, 0, 30), "back tomorrow at 12 30 am"),
    ("en-first", "en", at(2025, 12, 1), "back on Monday the 1st of December"),
    ("en-eleventh", "en", at(2025, 12, 11, 9), "back on Thursday the 11th of December at 9 am"),
    ("en-twenty-second", "en", at(2025, 12, 22), "back on Monday the 22nd of December"),
    ("en-twenty-third", "en", at(2025, 12, 23), "back on Tuesday the 23rd of December"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("language", "until", "expected"), [row[1:] for row in SPOKEN], ids=[row[0] for row in SPOKEN]
)
def test_r10_spoken_back_phrase_says_times_and_dates_as_people_do(
    language: str, until: datetime, expected: str
) -> None:
    assert back_phrase(until, NOW, STOCKHOLM, language, spoken=True) == expected


def test_r10_spoken_sentence_differs_from_the_written_one_only_in_time_and_date() -> None:
    referral = Referral(Reason.LUNCH, until=at(2025, 11, 26, 13))
    written = sentence("Anna Berg", referral, NOW, STOCKHOLM, "sv")
    spoken = sentence("Anna Berg", referral, NOW, STOCKHOLM, "sv", spoken=True)
    assert written == "Anna Berg är på lunch, tillbaka klockan 13:00."
    assert spoken == "Anna Berg är på lunch, tillbaka klockan 13."
