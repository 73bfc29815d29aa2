"""Words for referrals in Swedish, Norwegian (bokmål) and English (R6, R10).

``label()`` is the short name a picker shows; ``sentence()`` is what a caller hears or a
receptionist reads: "Anna Berg is at lunch, back at 13:00".

``spoken=True`` writes times and dates the way a person says them, for a speech engine:
espeak-ng reads "13:00" as "thirteen zero zero" and "måndag 1 december" as "måndag ett
december", so the spoken form is "klockan 13", "måndag den 1:a december", "at 1 pm" and
"Monday the 1st of December" (the engine turns those into words).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from switchboard.presence.model import Reason, Referral

_LABELS: dict[str, dict[Reason, str]] = {
    "en": {
        Reason.LUNCH: "Lunch",
        Reason.MEETING: "Meeting",
        Reason.HOLIDAY: "Holiday",
        Reason.LEAVE: "Leave",
        Reason.SICK: "Sick",
        Reason.TRAINING: "Training",
        Reason.BUSINESS_TRIP: "Business trip",
        Reason.GONE_FOR_THE_DAY: "Gone for the day",
        Reason.OTHER: "Other",
        Reason.OUTSIDE_HOURS: "Outside working hours",
    },
    "sv": {
        Reason.LUNCH: "Lunch",
        Reason.MEETING: "Möte",
        Reason.HOLIDAY: "Semester",
        Reason.LEAVE: "Tjänstledig",
        Reason.SICK: "Sjuk",
        Reason.TRAINING: "Utbildning",
        Reason.BUSINESS_TRIP: "Tjänsteresa",
        Reason.GONE_FOR_THE_DAY: "Gått för dagen",
        Reason.OTHER: "Annat",
        Reason.OUTSIDE_HOURS: "Utanför arbetstid",
    },
    "nb": {
        Reason.LUNCH: "Lunsj",
        Reason.MEETING: "Møte",
        Reason.HOLIDAY: "Ferie",
        Reason.LEAVE: "Permisjon",
        Reason.SICK: "Syk",
        Reason.TRAINING: "Kurs",
        Reason.BUSINESS_TRIP: "Tjenestereise",
        Reason.GONE_FOR_THE_DAY: "Gått for dagen",
        Reason.OTHER: "Annet",
        Reason.OUTSIDE_HOURS: "Utenfor arbeidstid",
    },
}

_PHRASES: dict[str, dict[Reason, str]] = {
    "en": {
        Reason.LUNCH: "is at lunch",
        Reason.MEETING: "is in a meeting",
        Reason.HOLIDAY: "is on holiday",
        Reason.LEAVE: "is on leave",
        Reason.SICK: "is off sick",
        Reason.TRAINING: "is at a training course",
        Reason.BUSINESS_TRIP: "is on a business trip",
        Reason.GONE_FOR_THE_DAY: "has gone for the day",
        Reason.OTHER: "is not available",
        Reason.OUTSIDE_HOURS: "is outside working hours",
    },
    "sv": {
        Reason.LUNCH: "är på lunch",
        Reason.MEETING: "är på möte",
        Reason.HOLIDAY: "har semester",
        Reason.LEAVE: "är tjänstledig",
        Reason.SICK: "är sjuk",
        Reason.TRAINING: "är på utbildning",
        Reason.BUSINESS_TRIP: "är på tjänsteresa",
        Reason.GONE_FOR_THE_DAY: "har gått för dagen",
        Reason.OTHER: "är inte tillgänglig",
        Reason.OUTSIDE_HOURS: "är utanför arbetstid",
    },
    "nb": {
        Reason.LUNCH: "er på lunsj",
        Reason.MEETING: "er i møte",
        Reason.HOLIDAY: "har ferie",
        Reason.LEAVE: "har permisjon",
        Reason.SICK: "er syk",
        Reason.TRAINING: "er på kurs",
        Reason.BUSINESS_TRIP: "er på tjenestereise",
        Reason.GONE_FOR_THE_DAY: "har gått for dagen",
        Reason.OTHER: "er ikke tilgjengelig",
        Reason.OUTSIDE_HOURS: "er utenfor arbeidstid",
    },
}

_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "sv": ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"),
    "nb": ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
}
_MONTHS = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "sv": (
        "januari", "februari", "mars", "april", "maj", "juni",
        "juli", "augusti", "september", "oktober", "november", "december",
    ),
    "nb": (
        "januar", "februar", "mars", "april", "mai", "juni",
        "juli", "august", "september", "oktober", "november", "desember",
    ),
}  # fmt: skip
_BACK = {
    "en": {"today": "back at {t}", "tomorrow": "back tomorrow at {t}", "day": "back on {d}",
           "day_time": "back on {d} at {t}"},
    "sv": {"today": "tillbaka klockan {t}", "tomorrow": "tillbaka i morgon klockan {t}",
           "day": "tillbaka {d}", "day_time": "tillbaka {d} klockan {t}"},
    "nb": {"today": "tilbake klokken {t}", "tomorrow": "tilbake i morgen klokken {t}",
           "day": "tilbake {d}", "day_time": "tilbake {d} klokken {t}"},
}  # fmt: skip


def _lang(language: str) -> str:
    return language if language in _LABELS else "en"


def label(reason: Reason, language: str) -> str:
    """The short name of a reason, for pickers and lists."""
    return _LABELS[_lang(language)][reason]


def _day(at: datetime, language: str) -> str:
    weekday = _WEEKDAYS[language][at.weekday()]
    month = _MONTHS[language][at.month - 1]
    if language == "nb":
        return f"{weekday} {at.day}. {month}"
    return f"{weekday} {at.day} {month}"


def _ordinal(day: int, language: str) -> str:
    """1:a, 2:a, 3:e, 11:e, 21:a (sv); 1st, 2nd, 3rd, 11th, 21st (en)."""
    teen = day % 100 in (11, 12, 13)
    if language == "sv":
        return f"{day}:a" if day % 10 in (1, 2) and not teen else f"{day}:e"
    suffix = "th" if teen else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _spoken_day(at: datetime, language: str) -> str:
    weekday = _WEEKDAYS[language][at.weekday()]
    month = _MONTHS[language][at.month - 1]
    if language == "sv":
        return f"{weekday} den {_ordinal(at.day, language)} {month}"
    if language == "en":
        return f"{weekday} the {_ordinal(at.day, language)} of {month}"
    return _day(at, language)  # nb: "mandag 1. desember" is read "mandag første desember"


def _spoken_time(at: datetime, language: str) -> str:
    """13:00 -> "13", 13:30 -> "13 30", 08:05 -> "8 05" (sv, nb); "1 pm", "8 oh 5 am" (en)."""
    hour, minute = at.hour, at.minute
    if language != "en":
        return f"{hour}" if minute == 0 else f"{hour} {minute:02d}"
    if (hour, minute) == (12, 0):
        return "12 noon"
    clock, suffix = hour % 12 or 12, "am" if hour < 12 else "pm"
    if minute == 0:
        return f"{clock} {suffix}"
    minutes = f"{minute}" if minute >= 10 else f"oh {minute}"
    return f"{clock} {minutes} {suffix}"


def back_phrase(
    until: datetime, now: datetime, zone: ZoneInfo, language: str, *, spoken: bool = False
) -> str:
    """ "back at 13:00" / "back tomorrow at 08:00" / "back on Monday 1 December"."""
    lang = _lang(language)
    local, today = until.astimezone(zone), now.astimezone(zone).date()
    t = _spoken_time(local, lang) if spoken else f"{local:%H:%M}"
    d = _spoken_day(local, lang) if spoken else _day(local, lang)
    days_ahead = (local.date() - today).days
    if days_ahead <= 0:
        return _BACK[lang]["today"].format(t=t)
    if days_ahead == 1 and (local.hour, local.minute) != (0, 0):
        return _BACK[lang]["tomorrow"].format(t=t)
    if (local.hour, local.minute) == (0, 0):
        # An all-day absence ends at midnight: the person is back that day.
        return _BACK[lang]["day"].format(d=d)
    return _BACK[lang]["day_time"].format(d=d, t=t)


def sentence(
    name: str,
    referral: Referral,
    now: datetime,
    zone: ZoneInfo,
    language: str,
    *,
    spoken: bool = False,
) -> str:
    """What a caller hears (R10): "Anna Berg is at lunch, back at 13:00."."""
    lang = _lang(language)
    if referral.reason is Reason.OTHER and referral.text:
        core = f"{name} {_PHRASES[lang][Reason.OTHER]}: {referral.text.strip().rstrip('.')}"
    else:
        core = f"{name} {_PHRASES[lang][referral.reason]}"
    if referral.until is not None:
        core += ", " + back_phrase(referral.until, now, zone, lang, spoken=spoken)
    return core + "."
