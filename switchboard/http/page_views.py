"""What the employee's page shows besides the live status: working hours and arrangement
(R8), number privacy (R14, R16, R18), referral templates (R6) and the calendar connection
(R7). Plain values built from the live view, so the template only lays them out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard.directory.display import display_number, masked_number
from switchboard.directory.hours import Interval, WorkingHours
from switchboard.directory.model import Person, subject_keys
from switchboard.http.render import template_dict
from switchboard.live.engine import Engine
from switchboard.live.health import HealthBoard
from switchboard.settings.config import Settings

Translate = Callable[..., str]


@dataclass(frozen=True, slots=True)
class HoursLine:
    days: str
    times: str


@dataclass(frozen=True, slots=True)
class CalendarLink:
    name: str
    kind: str
    items: int
    """Calendar items this source holds for the person now (in the synced window)."""
    last_sync: str | None = None
    """The last successful sync, local time; None: not reported yet (or no worker)."""
    failing: str | None = None
    """The last error while the source keeps failing (the person's own calendar)."""


@dataclass(frozen=True, slots=True)
class MeView:
    person: Person
    organisation: str
    extension: str | None
    number: str | None
    mobile: str | None
    """The person's own mobile; masked when it is secret (R18: not even on their page)."""
    hours: tuple[HoursLine, ...]
    hours_are_default: bool
    arrangement: str
    ring_after_hours: bool
    hide_mobile: bool
    may_hide_mobile: bool
    """R14/R16: hiding the mobile needs an extension, or an administrator's exception."""
    hide_refusal: str | None
    """Why the person may not choose (``Engine.hide_mobile_refusal``); None: they may."""
    secret_mobile: bool
    calendars: tuple[CalendarLink, ...]
    templates: tuple[Mapping[str, Any], ...]


def _times(intervals: tuple[Interval, ...]) -> str:
    return ", ".join(f"{i.start:%H:%M}–{i.end:%H:%M}" for i in intervals)


def hours_lines(hours: WorkingHours, t: Translate) -> tuple[HoursLine, ...]:
    """Consecutive days with the same hours as one line: "mån–fre 08:00–16:30"."""
    lines: list[HoursLine] = []
    day = 0
    while day < 7:
        intervals = hours.days[day]
        last = day
        while last + 1 < 7 and hours.days[last + 1] == intervals:
            last += 1
        if intervals:
            first_name, last_name = t(f"day.{day}"), t(f"day.{last}")
            days = first_name if day == last else f"{first_name}–{last_name}"
            lines.append(HoursLine(days, _times(intervals)))
        day = last + 1
    return tuple(lines)


def _calendars(
    person: Person, settings: Settings, engine: Engine, health: HealthBoard | None
) -> tuple[CalendarLink, ...]:
    keys = subject_keys(person)
    links: list[CalendarLink] = []
    for source in settings.calendars:
        covers = (source.person is not None and source.person.lower() in keys) or (
            source.person is None
            and source.organisation == person.organisation
            and person.email is not None
        )
        if covers:
            items = len(engine.view.calendar(person.person_id, source.name))
            report = health.get(source.name) if health is not None else None
            links.append(
                CalendarLink(source.name, source.type.value, items, *_sync(report, settings))
            )
    return tuple(links)


def _sync(report: Mapping[str, Any] | None, settings: Settings) -> tuple[str | None, str | None]:
    """The worker's report as page text: when it last succeeded, and why it fails now."""
    if report is None:
        return None, None
    last = report.get("last_success")
    shown = None
    if isinstance(last, str):
        shown = datetime.fromisoformat(last).astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
    error = report.get("last_error") if report.get("failures") else None
    return shown, error if isinstance(error, str) else None


def me_view(
    person: Person, engine: Engine, t: Translate, health: HealthBoard | None = None
) -> MeView:
    settings = engine.settings
    plan = settings.plan
    organisation = settings.organisation(person.organisation)
    hours = person.hours or organisation.hours
    refusal = engine.hide_mobile_refusal(person)
    # One national style (issue 16); a secret mobile masked in it (R18: not even here).
    mobile = (masked_number if person.secret_mobile else display_number)(person.mobile, plan)
    national = plan.national_of_extension(person.extension) if person.extension else None
    return MeView(
        person=person,
        organisation=organisation.name,
        extension=person.extension,
        number=display_number(national, plan),
        mobile=mobile,
        hours=hours_lines(hours, t),
        hours_are_default=person.hours is None,
        arrangement=person.arrangement.value,
        ring_after_hours=person.ring_after_hours,
        hide_mobile=person.hide_mobile,
        may_hide_mobile=refusal is None,
        hide_refusal=refusal,
        secret_mobile=person.secret_mobile,
        calendars=_calendars(person, settings, engine, health),
        templates=tuple(template_dict(x) for x in engine.view.templates(person.person_id)),
    )
