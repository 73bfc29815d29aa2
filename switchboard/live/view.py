"""The live view: the directory and presence inputs in memory, kept current from events.

It implements routing's Snapshot, so a routing decision touches no store and no network.
Built from a full StoreState at start, then applies the store's events (wazo-style:
snapshot, then deltas). A gap in versions marks the view stale so its owner reloads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from switchboard.directory.credentials import SipCredential
from switchboard.directory.model import Organisation, Person, PolicyException
from switchboard.directory.numbers import NumberError, NumberPlan
from switchboard.directory.secret_text import SecretNumbers
from switchboard.events import (
    BindingsChanged,
    CalendarChanged,
    DirectoryImported,
    Event,
    ExceptionsChanged,
    LineStateChanged,
    ManualStatusChanged,
    OwnCalendarChanged,
    PersonRemoved,
    PersonSaved,
    PlansChanged,
    PresenceTicked,
    SipCredentialChanged,
    StoreReloaded,
    TemplatesChanged,
    VoicemailChanged,
)
from switchboard.presence.model import (
    Availability,
    CalendarSegment,
    ManualStatus,
    PlannedReferral,
    PresenceInputs,
    Template,
)
from switchboard.routing.decide import (
    availability_of,
    callee,
    decide,
    decide_for,
    owner_calls,
    timeless,
)
from switchboard.routing.model import Call, Decision, Reject
from switchboard.settings.config import Settings
from switchboard.store.protocol import StoreState

_UNFORESEEN = timedelta(seconds=60)
"""How long an answer with no foreseeable next change is kept (events clear it anyway)."""
MAX_KEPT_DECISIONS = 10_000
"""Dialled texts whose decision is kept: every form of every extension, with room."""


@dataclass(frozen=True, slots=True)
class Tables:
    """What a view holds, made from a store state by ``prepare``: in a worker thread when a
    large directory is reloaded, so the event loop only swaps them in."""

    version: int
    people: dict[str, Person]
    by_extension: dict[str, Person]
    manual: dict[str, ManualStatus]
    calendar: dict[str, dict[str, tuple[CalendarSegment, ...]]]
    templates: dict[str, tuple[Template, ...]]
    exceptions: tuple[PolicyException, ...]
    credentials: dict[str, SipCredential]
    plans: dict[str, tuple[PlannedReferral, ...]]
    # The directory's indexes, made with the tables (a reload) or else on first use: at
    # 100,000 people each is a scan of everyone, tens of milliseconds on the event loop.
    secret_mobiles: frozenset[str] | None = None
    by_mobile: dict[str, Person] | None = None
    by_email: dict[str, Person] | None = None
    secrets: SecretNumbers | None = None
    """Only when ``prepare`` was given the number plan."""


def _secret_mobiles_of(people: Iterable[Person]) -> frozenset[str]:
    return frozenset(p.mobile for p in people if p.secret_mobile and p.mobile)


def _by_mobile_of(people: Iterable[Person]) -> dict[str, Person]:
    return {p.mobile: p for p in people if p.mobile}


def _by_email_of(people: Iterable[Person]) -> dict[str, Person]:
    by_email: dict[str, Person] = {}
    for p in people:
        if p.email:
            by_email.setdefault(p.email.lower(), p)
    return by_email


def prepare(state: StoreState, plan: NumberPlan | None = None) -> Tables:
    """The tables of ``state``, all new objects: safe to make off the event loop; with
    ``plan``, the secret numbers as free-text checks read them too."""
    return Tables(
        version=state.version,
        people={p.person_id: p for p in state.people},
        by_extension={p.extension: p for p in state.people if p.extension},
        manual=dict(state.manual),
        calendar={k: dict(v) for k, v in state.calendar.items()},
        templates=dict(state.templates),
        exceptions=state.exceptions,
        credentials=dict(state.sip_credentials),
        plans={k: v for k, v in state.plans.items() if v},
        secret_mobiles=_secret_mobiles_of(state.people),
        by_mobile=_by_mobile_of(state.people),
        by_email=_by_email_of(state.people),
        secrets=None if plan is None else SecretNumbers.of(state.people, plan),
    )


_TABLES = (
    "_people",
    "_by_extension",
    "_manual",
    "_calendar",
    "_templates",
    "_credentials",
    "_plans",
    "_availability",
    "_decisions",
    "_by_mobile",
    "_by_email",
)
"""What ``install`` replaces, and hands back to be let go of."""


class LiveView:
    def __init__(self, settings: Settings, state: StoreState) -> None:
        self._settings = settings
        self.directory_version = 0
        """Counts changes to the people themselves (not to their presence): what is built
        from the directory alone is kept until it moves."""
        self.reset(state)

    def reset(self, state: StoreState) -> None:
        """Start again from ``state``: what a process that fell behind the change feed
        reloaded (``live.follow``, which prepares the tables in a worker thread)."""
        self.install(prepare(state, self._settings.plan))

    def install(self, tables: Tables) -> list[object]:
        """Swap in tables ``prepare`` made: a handful of assignments on the event loop.

        Returns what the view held before, for the caller to let go of off the loop: at
        100,000 people freeing the old tables takes tens of milliseconds.
        """
        retired: list[object] = [
            held for name in _TABLES if (held := getattr(self, name, None)) is not None
        ]
        self.version = tables.version
        self.stale = False
        self._people: dict[str, Person] = tables.people
        self._directory_changed(tables)
        self._by_extension: dict[str, Person] = tables.by_extension
        self._manual: dict[str, ManualStatus] = tables.manual
        self._calendar: dict[str, dict[str, tuple[CalendarSegment, ...]]] = tables.calendar
        self._templates: dict[str, tuple[Template, ...]] = tables.templates
        self._exceptions: tuple[PolicyException, ...] = tables.exceptions
        self._credentials: dict[str, SipCredential] = tables.credentials
        self._plans: dict[str, tuple[PlannedReferral, ...]] = tables.plans
        self._availability: dict[str, tuple[datetime, datetime, Person, Availability]] = {}
        self._decisions: dict[str, tuple[Person, Availability, Decision]] = {}
        return retired

    def _directory_changed(self, tables: Tables | None = None) -> None:
        """People were saved, removed or imported: what is built from them is built again on
        first use, unless ``tables`` (a reload) made it already. A presence or calendar
        change keeps it (a calendar round writes for thousands of people; rebuilding these
        per write cost a scan of everyone each)."""
        self.directory_version += 1
        self._secret_mobiles: frozenset[str] | None = (
            None if tables is None else tables.secret_mobiles
        )
        """Every secret mobile."""
        self._by_mobile: dict[str, Person] | None = None if tables is None else tables.by_mobile
        """Mobile (E.164) -> person."""
        self._by_email: dict[str, Person] | None = None if tables is None else tables.by_email
        """Lower-cased e-mail address -> person."""
        self._secrets: SecretNumbers | None = None if tables is None else tables.secrets
        """The secret numbers as free-text checks read them (``Engine.secret_numbers``)."""

    # -- Snapshot protocol -------------------------------------------------------------
    @property
    def plan(self) -> NumberPlan:
        return self._settings.plan

    @property
    def zone(self) -> ZoneInfo:
        return self._settings.zone

    @property
    def ring_timeout(self) -> int:
        return self._settings.ring_timeout

    def person_by_extension(self, extension: str) -> Person | None:
        return self._by_extension.get(extension)

    def organisation(self, org_id: str) -> Organisation:
        return self._settings.organisation(org_id)

    def presence_inputs(self, person_id: str) -> PresenceInputs:
        sources = self._calendar.get(person_id, {})
        segments = tuple(s for key in sorted(sources) for s in sources[key])
        return PresenceInputs(self._manual.get(person_id), segments, self.plans(person_id))

    def availability(self, person: Person, now: datetime) -> Availability:
        """The person's availability at ``now``, resolved once per stretch of time.

        ``resolve()`` names the next instant its answer may change; until then, and until
        any store event, the answer is kept. A call for an extension then costs a dict
        look-up here instead of a resolve (the SIP edge asks on every INVITE), and the
        answer is exactly the one a fresh resolve would give (tested as a property).
        """
        cached = self._availability.get(person.person_id)
        if cached is not None:
            start, until, person_then, availability = cached
            if start <= now < until and person_then is person:
                return availability
        availability = availability_of(person, self, now)
        until = availability.next_change or now + _UNFORESEEN
        # Kept in UTC, the clock's zone: aware instants of one tzinfo compare without
        # asking each zone for its offset, and this comparison runs on every call.
        start = now.astimezone(UTC)
        self._availability[person.person_id] = (start, until.astimezone(UTC), person, availability)
        return availability

    def decision(self, call: Call, now: datetime) -> Decision:
        """``decide(call, self, now)``, kept per dialled text between calls.

        A kept decision is reused while its person and their kept availability are the
        same objects (any store event or the availability's next change replaces them)
        and only if ``decide_for`` made it without reading ``now`` (``timeless``). The
        caller is checked afresh every call, so the key needs only the dialled text: the
        reception's number, called all day by different people, decides once per change.
        """
        found = callee(call, self)
        if isinstance(found, Reject):
            return found  # reaches nobody: decide() would say the same
        if owner_calls(call, found[0], self):
            return decide(call, self, now)
        person, extension = found
        availability = self.availability(person, now)
        kept = self._decisions.get(call.dialled)
        if kept is not None and kept[0] is person and kept[1] is availability:
            return kept[2]
        decision = decide_for(call, person, extension, availability, self, now)
        if timeless(decision):
            if len(self._decisions) >= MAX_KEPT_DECISIONS:
                self._decisions.clear()
            self._decisions[call.dialled] = (person, availability, decision)
        return decision

    # -- reads for the edges --------------------------------------------------------------
    def people(self) -> list[Person]:
        return sorted(self._people.values(), key=lambda p: (p.name.casefold(), p.person_id))

    def everyone(self) -> list[Person]:
        """Every person in no particular order: a copy of references, which costs about a
        millisecond at 100,000 people where sorting them (``people``) costs a hundred."""
        return list(self._people.values())

    def person(self, person_id: str) -> Person | None:
        return self._people.get(person_id)

    def is_secret_mobile(self, number: str) -> bool:
        """Whether an E.164 number is someone's secret mobile (R18). Asked for every call
        the switchboard answers: a set built once per directory state, not a scan of
        every person per call (100,000 at region scale)."""
        return number in self.secret_mobiles()

    def secret_mobiles(self) -> frozenset[str]:
        """Every secret mobile (E.164), built once per directory state."""
        secret = self._secret_mobiles
        if secret is None:
            secret = self._secret_mobiles = _secret_mobiles_of(self._people.values())
        return secret

    def prepared_secrets(self) -> SecretNumbers | None:
        """The secret numbers a reload made off the loop (None: build them on first use)."""
        return self._secrets

    def person_by_mobile(self, e164: str) -> Person | None:
        """The person whose mobile (E.164) this is: a dict built once per directory state,
        not a scan per trunk call."""
        by_mobile = self._by_mobile
        if by_mobile is None:
            by_mobile = self._by_mobile = _by_mobile_of(self._people.values())
        return by_mobile.get(e164)

    def _email_index(self) -> dict[str, Person]:
        by_email = self._by_email
        if by_email is None:
            by_email = self._by_email = _by_email_of(self._people.values())
        return by_email

    def count(self) -> int:
        return len(self._people)

    def find(self, key: str) -> Person | None:
        """A person by e-mail, or by any dialled form of their extension or mobile."""
        key = key.strip()
        if "@" in key:
            return self._email_index().get(key.lower())
        extension = self.plan.extension_of(key)
        if extension is not None:
            return self._by_extension.get(extension)
        try:
            e164 = self.plan.to_e164(key)
        except NumberError:
            return None
        return self.person_by_mobile(e164)

    def presence_ids(self) -> Iterator[str]:
        """Everyone with a manual status, plans or calendar items: the only people anything
        but working hours can take away (the reception's overview scans these, not
        everyone). Copies of the keys (under a millisecond at region scale), yielded one by
        one, so a caller that gives the loop back between them holds it for no union."""
        manual = list(self._manual)
        yield from manual
        seen = set(manual)
        planned = [k for k in list(self._plans) if k not in seen]
        yield from planned
        seen.update(planned)
        yield from (k for k in list(self._calendar) if k not in seen)

    def manual(self, person_id: str) -> ManualStatus | None:
        return self._manual.get(person_id)

    def plans(self, person_id: str) -> tuple[PlannedReferral, ...]:
        """The person's planned referrals by start, ended ones included until the store
        drops them (``presence.plans.pending`` leaves those out)."""
        return self._plans.get(person_id, ())

    def calendar(self, person_id: str, source: str) -> tuple[CalendarSegment, ...]:
        return self._calendar.get(person_id, {}).get(source, ())

    def templates(self, person_id: str) -> tuple[Template, ...]:
        return self._templates.get(person_id, ())

    @property
    def exceptions(self) -> tuple[PolicyException, ...]:
        return self._exceptions

    def credential(self, user: str) -> SipCredential | None:
        """The SIP digest credential of extension ``user``: the registrar's ``lookup``."""
        return self._credentials.get(user)

    # -- applying events -------------------------------------------------------------------
    def apply(self, event: Event) -> None:
        if isinstance(
            event,
            LineStateChanged
            | PresenceTicked
            | VoicemailChanged
            | BindingsChanged
            | OwnCalendarChanged
            | StoreReloaded,
        ):
            return  # not routing inputs: line state lives in LineStates, voicemail in the
            # spool, registrations in the SIP registrar, own calendar connections in the
            # calendar worker, and a tick changes nothing
        if event.version < self.version:
            return
        if event.version > self.version + 1:
            self.stale = True
        self.version = event.version
        self._availability.clear()  # kept answers were for the old inputs
        self._decisions.clear()
        if isinstance(event, PersonSaved | PersonRemoved | DirectoryImported):
            self._directory_changed()
        match event:
            case PersonSaved(person=person):
                old = self._people.get(person.person_id)
                if old is not None and old.extension:
                    # Only drop the old entry if it is still ours: in an import where two
                    # people swap extensions, the other one may already hold it.
                    holder = self._by_extension.get(old.extension)
                    if holder is not None and holder.person_id == person.person_id:
                        del self._by_extension[old.extension]
                self._people[person.person_id] = person
                if person.extension:
                    self._by_extension[person.extension] = person
            case PersonRemoved(person_id=person_id):
                gone = self._people.pop(person_id, None)
                if gone is not None and gone.extension:
                    holder = self._by_extension.get(gone.extension)
                    if holder is not None and holder.person_id == person_id:
                        del self._by_extension[gone.extension]
                self._manual.pop(person_id, None)
                self._plans.pop(person_id, None)
                self._calendar.pop(person_id, None)
                self._templates.pop(person_id, None)
            case ManualStatusChanged(person_id=person_id, status=status):
                if status is None:
                    self._manual.pop(person_id, None)
                else:
                    self._manual[person_id] = status
            case PlansChanged(person_id=person_id, plans=plans):
                if plans:
                    self._plans[person_id] = plans
                else:
                    self._plans.pop(person_id, None)
            case CalendarChanged(person_id=person_id, source=source, segments=segments):
                self._calendar.setdefault(person_id, {})[source] = segments
            case TemplatesChanged(person_id=person_id, templates=templates):
                self._templates[person_id] = templates
            case ExceptionsChanged(exceptions=exceptions):
                self._exceptions = exceptions
            case SipCredentialChanged(user=user, credential=credential):
                if credential is None:
                    self._credentials.pop(user, None)
                else:
                    self._credentials[user] = credential
            case DirectoryImported():
                pass
