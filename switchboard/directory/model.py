"""People in the directory and the privacy policy that governs their numbers (R4, R8, R14-R18)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum

from switchboard.directory.destinations import DEFAULT_COUNTRIES
from switchboard.directory.hours import WorkingHours

LANGUAGES = ("sv", "nb", "en")


class Arrangement(StrEnum):
    """R8: how the work mobile is used.

    PRIVATE: one phone for work and private life; WORK_ONLY: the phone stays at work, so
    outside working hours calls must not ring it.
    """

    PRIVATE = "private"
    WORK_ONLY = "work_only"


@dataclass(frozen=True, slots=True)
class Person:
    """One employee. ``person_id`` is stable across re-imports (R4: extension optional)."""

    person_id: str
    name: str
    extension: str | None
    mobile: str | None
    """E.164, or None when the SIM is disconnected (R4)."""
    email: str | None
    organisation: str
    unit: str = ""
    title: str = ""
    language: str = "sv"
    hide_mobile: bool = False
    """R14: calls show the extension's full number instead of the mobile."""
    secret_mobile: bool = False
    """R18: the mobile never appears on screens, in logs or in caller ID."""
    hide_extension: bool = False
    """R16: not allowed without an administrator's exception."""
    arrangement: Arrangement = Arrangement.PRIVATE
    hours: WorkingHours | None = None
    """None: the organisation's default working hours apply."""
    ring_after_hours: bool = False
    """R9: a PRIVATE-arrangement employee may choose to be rung outside working hours."""
    tentative_diverts: bool = False
    """Whether tentative calendar items divert calls for this person (calendar issue)."""

    @property
    def public_mobile(self) -> str | None:
        """The mobile as others may see it (R17), never a secret one (R18)."""
        return None if self.secret_mobile else self.mobile


def changed_fields(old: Person, new: Person) -> list[str]:
    """The fields of ``new`` that differ from ``old``, in the order ``Person`` declares them."""
    return [f.name for f in fields(Person) if getattr(old, f.name) != getattr(new, f.name)]


@dataclass(frozen=True, slots=True)
class Organisation:
    """One organisation of the deployment (a municipality), from the config file."""

    org_id: str
    name: str
    hours: WorkingHours
    """Default working hours for its people (R8)."""
    reception: str | None = None
    """The extension callers reach by pressing 0 after a referral."""
    international_countries: tuple[str, ...] = DEFAULT_COUNTRIES
    """Country calling codes its people may call out to, beyond the deployment's own
    (toll fraud; ``directory.destinations``); ``"*"``: any country."""
    email_domains: tuple[str, ...] = ()
    """Lower-case domains of its people's e-mail addresses (``sotenas.se``): an import row
    without an extension or an ``organisation`` belongs to the organisation of its
    e-mail's domain (issue 16). A domain belongs to one organisation at most."""


class PolicyRule(StrEnum):
    """The R16 prohibitions an administrator may lift for one person, with a reason."""

    HIDE_MOBILE_WITHOUT_EXTENSION = "hide_mobile_without_extension"
    HIDE_EXTENSION = "hide_extension"


@dataclass(frozen=True, slots=True)
class PolicyException:
    """An administrator's exception to R16 for one person (by e-mail or extension)."""

    subject: str
    rule: PolicyRule
    reason: str
    granted_by: str
    granted_at: datetime


@dataclass(frozen=True, slots=True)
class PolicyViolation:
    rule: PolicyRule | None
    field: str
    message: str


def subject_keys(person: Person) -> set[str]:
    """The keys an exception may name a person by."""
    keys = {person.person_id}
    if person.email:
        keys.add(person.email.lower())
    if person.extension:
        keys.add(person.extension)
    return keys


def policy_violations(
    person: Person, exceptions: tuple[PolicyException, ...] | list[PolicyException]
) -> list[PolicyViolation]:
    """Every policy rule this person's settings break, after the exceptions granted (R8, R16)."""
    keys = subject_keys(person)
    granted = {e.rule for e in exceptions if e.subject.lower() in keys}
    found: list[PolicyViolation] = []
    if (
        person.hide_mobile
        and person.extension is None
        and PolicyRule.HIDE_MOBILE_WITHOUT_EXTENSION not in granted
    ):
        found.append(
            PolicyViolation(
                PolicyRule.HIDE_MOBILE_WITHOUT_EXTENSION,
                "hide_mobile",
                "hiding the mobile requires an extension to show instead (R16); "
                "an administrator may grant an exception with a reason",
            )
        )
    if person.hide_extension and PolicyRule.HIDE_EXTENSION not in granted:
        found.append(
            PolicyViolation(
                PolicyRule.HIDE_EXTENSION,
                "hide_extension",
                "hiding the extension number is not allowed (R16); "
                "an administrator may grant an exception with a reason",
            )
        )
    if person.arrangement is Arrangement.WORK_ONLY and person.ring_after_hours:
        found.append(
            PolicyViolation(
                None,
                "ring_after_hours",
                "under the work_only arrangement calls must not ring outside working hours (R8)",
            )
        )
    if person.extension is None and person.mobile is None:
        found.append(
            PolicyViolation(None, "number", "a person needs an extension, a mobile or both (R4)")
        )
    return found
