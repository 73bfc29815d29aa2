"""Shared test data for the pure core: the SML and Norwegian number plans, people, a snapshot.

``FakeSnapshot`` obeys ``switchboard.routing.model.Snapshot`` (checked by mypy where the
tests pass it to ``decide()``, and by the ``_CHECK`` assignment below); no mocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from switchboard.directory.hours import WorkingHours
from switchboard.directory.model import Organisation, Person
from switchboard.directory.numbers import NumberPlan, NumberSeries
from switchboard.presence.model import Availability, PresenceInputs
from switchboard.routing.decide import availability_of
from switchboard.routing.model import Snapshot

STOCKHOLM = ZoneInfo("Europe/Stockholm")
OSLO = ZoneInfo("Europe/Oslo")

SOTENAS = NumberSeries("sotenas", "0523", "664000", "664799")
LYSEKIL_1 = NumberSeries("lysekil", "0523", "613000", "613999")
LYSEKIL_2 = NumberSeries("lysekil", "0523", "651200", "651399")
MUNKEDAL_1 = NumberSeries("munkedal", "0524", "18000", "18499")
MUNKEDAL_2 = NumberSeries("munkedal", "0524", "799500", "799799")
SML_SERIES = (SOTENAS, LYSEKIL_1, LYSEKIL_2, MUNKEDAL_1, MUNKEDAL_2)
SML_PLAN = NumberPlan("46", "0", "00", SML_SERIES)

OPPLAND = NumberSeries("oppland", "", "61289000", "61289999")
NORWAY_PLAN = NumberPlan("47", "", "00", (OPPLAND,))

DEFAULT_HOURS = WorkingHours.parse("mon-fri 08:00-16:30")
NO_FIXED_HOURS = WorkingHours(((),) * 7)


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, zone: ZoneInfo = STOCKHOLM
) -> datetime:
    """An aware instant in the given zone (Stockholm unless told): tests never read a clock."""
    return datetime(year, month, day, hour, minute, tzinfo=zone)


ANNA = Person(
    person_id="p-anna",
    name="Anna Berg",
    extension="64123",
    mobile="+46701234567",
    email="Anna.Berg@sotenas.se",
    organisation="sotenas",
    language="en",
)
"""Sotenäs, English-speaking, extension and mobile, private arrangement."""

BO = Person(
    person_id="p-bo",
    name="Bo Ek",
    extension="13001",
    mobile=None,
    email="bo.ek@lysekil.se",
    organisation="lysekil",
    language="sv",
)
"""Lysekil (no reception), Swedish, extension only (R4: the SIM is disconnected)."""

CECILIA = Person(
    person_id="p-cecilia",
    name="Cecilia Holm",
    extension="18007",
    mobile="+46709876543",
    email="cecilia.holm@munkedal.se",
    organisation="munkedal",
    language="sv",
)
"""Munkedal, Swedish; tests vary her arrangement (R8)."""

RECEPTIONIST = Person(
    person_id="p-reception",
    name="Växeln Sotenäs",
    extension="64000",
    mobile=None,
    email="vaxel@sotenas.se",
    organisation="sotenas",
)

SML_ORGANISATIONS = (
    Organisation("sotenas", "Sotenäs kommun", DEFAULT_HOURS, reception="64000"),
    Organisation("lysekil", "Lysekils kommun", DEFAULT_HOURS, reception=None),
    Organisation("munkedal", "Munkedals kommun", DEFAULT_HOURS, reception="18000"),
)


@dataclass(frozen=True)
class FakeSnapshot:
    """An in-memory directory and presence view, as the store would hand to ``decide()``."""

    plan: NumberPlan = SML_PLAN
    zone: ZoneInfo = STOCKHOLM
    ring_timeout: int = 25
    people: tuple[Person, ...] = (ANNA, BO, CECILIA, RECEPTIONIST)
    organisations: tuple[Organisation, ...] = SML_ORGANISATIONS
    inputs: tuple[tuple[str, PresenceInputs], ...] = field(default=())
    """(person_id, inputs) pairs; a person not listed has no manual status and no calendar."""

    def person_by_extension(self, extension: str) -> Person | None:
        return next((p for p in self.people if p.extension == extension), None)

    def organisation(self, org_id: str) -> Organisation:
        for org in self.organisations:
            if org.org_id == org_id:
                return org
        raise KeyError(org_id)

    def presence_inputs(self, person_id: str) -> PresenceInputs:
        return dict(self.inputs).get(person_id, PresenceInputs())

    def availability(self, person: Person, now: datetime) -> Availability:
        return availability_of(person, self, now)


_CHECK: Snapshot = FakeSnapshot()
