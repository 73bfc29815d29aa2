"""Values the contract tests store: people with every field set, referrals, segments."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from switchboard.directory.hours import WorkingHours
from switchboard.directory.model import Arrangement, Person, PolicyException, PolicyRule
from switchboard.presence.model import (
    BusyClass,
    CalendarSegment,
    ManualStatus,
    Reason,
    Referral,
    ReferralKind,
    Source,
    Template,
)
from switchboard.store.protocol import Store, StoreState

T0 = datetime(2024, 5, 2, 9, 30, 15, 123456, tzinfo=UTC)
STOCKHOLM = ZoneInfo("Europe/Stockholm")
ADMIN = "admin@kommun.example"


def person(n: int, **changes: object) -> Person:
    """Person ``n`` with an extension, a mobile and an address derived from ``n``."""
    base = Person(
        person_id=f"p{n}",
        name=f"Person {n}",
        extension=f"64{n:03d}",
        mobile=f"+4670123{n:04d}",
        email=f"person{n}@kommun.example",
        organisation="kommun",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


FULL = Person(
    person_id="emp-1001",
    name="Åsa Öberg",
    extension="64123",
    mobile="+46701234567",
    email="Asa.Oberg@Kommun.example",
    organisation="kommun",
    unit="Socialtjänst",
    title="Handläggare",
    language="nb",
    hide_mobile=True,
    secret_mobile=True,
    hide_extension=True,
    arrangement=Arrangement.WORK_ONLY,
    hours=WorkingHours.parse("mon-thu 08:00-16:30, fri 08:00-15:00"),
    ring_after_hours=True,
    tentative_diverts=True,
)

PEOPLE_TO_ROUND_TRIP = {
    "every-field": FULL,
    "hours-none": replace(FULL, person_id="emp-1002", extension="64124", email=None, hours=None),
    "split-day-hours": person(
        3, hours=WorkingHours.parse("mon-fri 08:00-12:00, mon-fri 13:00-17:00")
    ),
    "no-fixed-hours": person(4, hours=WorkingHours(((),) * 7)),
    "norwegian-no-extension": person(5, name="Bjørn Ødegård", extension=None, language="nb"),
    "no-mobile-no-email": person(6, mobile=None, email=None, name="Zoë “Zed” Ünal"),
}


def lunch_referral(text: str = "På kurs i Malmö", divert_to: str = "+46709876543") -> ManualStatus:
    """A closed referral with every field set, times in a non-UTC zone."""
    return ManualStatus(
        referral=Referral(
            reason=Reason.OTHER,
            kind=ReferralKind.CLOSED,
            until=datetime(2024, 5, 2, 13, 0, tzinfo=STOCKHOLM),
            text=text,
            source=Source.ON_BEHALF,
            divert_to=divert_to,
        ),
        set_by="reception",
        set_at=T0,
        starts=datetime(2024, 5, 2, 12, 0, 0, 500, tzinfo=STOCKHOLM),
    )


def available_until() -> ManualStatus:
    return ManualStatus(
        referral=None, set_by="p1", set_at=T0, until=T0 + timedelta(hours=2, microseconds=7)
    )


def segments(count: int, start: datetime = T0) -> tuple[CalendarSegment, ...]:
    kinds = (BusyClass.BUSY, BusyClass.TENTATIVE, BusyClass.OOF)
    return tuple(
        CalendarSegment(
            start=start + timedelta(hours=2 * i),
            end=start + timedelta(hours=2 * i + 1, minutes=30),
            busy=kinds[i % len(kinds)],
            reason=Reason.MEETING if i % 2 == 0 else Reason.HOLIDAY,
            kind=ReferralKind.OPEN if i % 2 else ReferralKind.CLOSED,
            label=None if i % 3 == 0 else f"Möte {i}",
            private=i % 3 == 0,
        )
        for i in range(count)
    )


def grant(
    subject: str = "person1@kommun.example",
    rule: PolicyRule = PolicyRule.HIDE_EXTENSION,
    reason: str = "Skyddad identitet",
) -> PolicyException:
    return PolicyException(subject, rule, reason, granted_by=ADMIN, granted_at=T0)


LUNCH = Template("Lunch", Reason.LUNCH, duration=timedelta(minutes=45))
GONE = Template("Gone for the day", Reason.GONE_FOR_THE_DAY, ReferralKind.OPEN)
COURSE = Template("Kurs", Reason.OTHER, duration=timedelta(seconds=5400.25), text="Utbildning")


async def state_and_audit(store: Store) -> tuple[StoreState, list[object]]:
    """Everything observable, to show that a refused write changed nothing."""
    return await store.load(), list(await store.audit(10_000))
