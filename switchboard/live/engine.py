"""The engine: every read and write the edges (CLI, web, SIP, calendar) need, in one place.

Reads come from the live view; writes are validated here against policy, then go to the
store, whose events bring the view up to date. The engine decides nothing about routing
itself: it asks the pure core.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from switchboard.clock import Clock
from switchboard.directory.credentials import SipCredential, make_credential
from switchboard.directory.csv_import import (
    InferredOrganisation,
    ParsedDirectory,
    parse_directory,
    rows_in,
)
from switchboard.directory.import_preview import PREVIEW_ROWS, ImportPreview, preview_import
from switchboard.directory.model import (
    Person,
    PolicyException,
    PolicyRule,
    policy_violations,
    subject_keys,
)
from switchboard.directory.secret_text import SecretNumberError, SecretNumbers
from switchboard.live import collector
from switchboard.live.metrics import Metrics
from switchboard.live.view import LiveView
from switchboard.presence.model import (
    Availability,
    CalendarSegment,
    ManualStatus,
    Params,
    PlannedReferral,
    PresenceError,
    Reason,
    Referral,
    RefusedError,
    Source,
    Template,
)
from switchboard.presence.plans import overlapping, pending
from switchboard.routing.model import Call, Decision
from switchboard.routing.presentation import (
    OutboundKind,
    Presentation,
    present_emergency,
    present_outbound,
)
from switchboard.settings.config import Settings, short_numbers
from switchboard.store.protocol import ImportResult, Store

MIN_SIP_PASSWORD = 10
APART_AT = 2_000
"""Rows of a directory file above which ``serve`` imports it in a process of its own."""


class EngineError(RefusedError):
    """A request the engine refuses; the message says what to do instead, the code and
    field where (``presence.model.RefusedError``)."""

    @classmethod
    def of(cls, exc: PresenceError) -> EngineError:
        """The engine's refusal for a presence value that cannot be made, code and all."""
        return cls(str(exc), code=exc.code, field=exc.field, params=exc.params)


class PlanError(EngineError):
    """A referral or plan refused for one field's value (issue 16): ``field`` names the body
    field, ``code`` is what the pages translate."""

    field: str

    def __init__(self, field: str, code: str, message: str, params: Params | None = None) -> None:
        # The field leads the message, for the CLI and API clients that read only the text.
        super().__init__(f"{field}: {message}", code=code, field=field, params=params)


class SecretInTextError(EngineError):
    """A free text holds someone's secret mobile (R18, issue 17); ``field`` names it, so the
    web can say where in its own words and the API can name the field."""

    field: str

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, code="secret_number", field=field)


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What an import read, and what it did."""

    people: int
    """How many people the file holds."""
    encoding: str
    delimiter: str
    inferred: tuple[InferredOrganisation, ...]
    """The first ``PREVIEW_ROWS`` rows whose organisation was found from the e-mail domain
    or the default (a region's file without the column has 100,000)."""
    inferred_count: int
    result: ImportResult | None
    """None for a dry run."""
    preview: ImportPreview | None = None
    """A dry run's: what the import would do to the directory."""
    parsed: tuple[Person, ...] = ()
    """The people read, when the caller asked for them (``keep_people``). An import run in
    a process of its own (``live.import_apart``) keeps them there."""

    @classmethod
    def of(
        cls,
        parsed: ParsedDirectory,
        result: ImportResult | None,
        preview: ImportPreview | None = None,
        *,
        keep_people: bool,
    ) -> ImportOutcome:
        return cls(
            len(parsed.people),
            parsed.encoding,
            parsed.delimiter,
            parsed.inferred[:PREVIEW_ROWS],
            len(parsed.inferred),
            result,
            preview,
            parsed.people if keep_people else (),
        )


ImportRunner = Callable[[bytes, str, str, bool, datetime], Awaitable[ImportOutcome]]
"""Runs an import elsewhere: ``(data, source, actor, dry_run, at)``; raises as
``Engine.import_directory`` does."""


def _new_id() -> str:
    return uuid.uuid4().hex[:16]


class Engine:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        view: LiveView,
        clock: Clock,
        new_id: Callable[[], str] = _new_id,
        *,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.short_numbers = short_numbers(settings.sip, settings.plan)
        """Emergency and service numbers, which go out past every policy."""
        self.store = store
        self.view = view
        self.clock = clock
        self._new_id = new_id
        self._route_seconds = None if metrics is None else metrics.route_seconds
        self._secrets: tuple[int, SecretNumbers] | None = None
        self.import_apart: ImportRunner | None = None
        """Set by ``serve``: where a large import runs, apart from this process's event
        loop (``live.import_apart``). None (the CLI): here, in threads."""

    # -- lookups ---------------------------------------------------------------------------
    def find(self, key: str) -> Person:
        person = self.view.find(key)
        if person is None:
            raise EngineError(f"nobody in the directory has the number or e-mail {key!r}")
        return person

    def availability(self, person: Person, at: datetime | None = None) -> Availability:
        return self.view.availability(person, at or self.clock.now())

    def route(self, call: Call, at: datetime | None = None) -> Decision:
        if self._route_seconds is None:
            return self.view.decision(call, at or self.clock.now())
        start = time.perf_counter()
        decision = self.view.decision(call, at or self.clock.now())
        self._route_seconds.observe(time.perf_counter() - start)
        return decision

    def present(self, person: Person, kind: OutboundKind) -> Presentation:
        return present_outbound(person, self.settings.plan, kind)

    def present_emergency(self, person: Person) -> Presentation:
        """The callback number an emergency call shows (never a secret mobile, R18)."""
        try:
            reception = self.settings.organisation(person.organisation).reception
        except KeyError:
            reception = None
        return present_emergency(person, self.settings.plan, reception)

    def credential(self, user: str) -> SipCredential | None:
        """What the SIP edge passes to ``DigestAuthenticator.verify`` as ``lookup``."""
        return self.view.credential(user)

    # -- secret numbers in free text (R18, issue 17) ---------------------------------------
    def secret_numbers(self) -> SecretNumbers:
        """Every secret mobile of the directory, as free-text checks read them; made again
        only when the people have changed (not at every presence or calendar write)."""
        version = self.view.directory_version
        if self._secrets is None or self._secrets[0] != version:
            made = self.view.prepared_secrets()
            if made is None:
                made = SecretNumbers.of(self.view.everyone(), self.settings.plan)
            self._secrets = (version, made)
        return self._secrets[1]

    def refuse_secret_numbers(self, **texts: str | None) -> None:
        """SecretInTextError for the first text (by its field name) that holds a secret
        mobile in any dialled form. Where a person types a text, they are asked to write it
        without the number: refusing tells them why, masking would store what they did not
        mean to say."""
        secrets = self.secret_numbers()
        for field, text in texts.items():
            try:
                secrets.refuse(field, text)
            except SecretNumberError as exc:
                raise SecretInTextError(exc.field, str(exc)) from None

    # -- directory -------------------------------------------------------------------------
    async def import_directory(
        self,
        data: bytes,
        source: str,
        actor: str,
        *,
        dry_run: bool = False,
        keep_people: bool = False,
    ) -> ImportOutcome:
        """All or nothing: a file with any invalid row raises DirectoryImportError.

        The file is read in a thread: a region's 100,000 rows take seconds to parse, which
        the event loop spends answering SIP instead (issue 15). The directory it is matched
        against is the view's at the call (a list of immutable people). A file of more
        than ``APART_AT`` rows goes to ``import_apart`` when it is set: in a thread, the
        parse and the writes still take the interpreter lock from the event loop for
        seconds. A dry run's outcome holds a preview of the changes (made in the same
        thread or process). ``keep_people``: the outcome holds the people read (never
        apart)."""
        apart = self.import_apart
        if apart is not None and not keep_people and rows_in(data) > APART_AT:
            return await apart(data, source, actor, dry_run, self.clock.now())
        existing, exceptions = self.view.everyone(), self.view.exceptions

        def parse() -> tuple[ParsedDirectory, ImportPreview | None]:
            parsed = parse_directory(
                data,
                source=source,
                plan=self.settings.plan,
                organisations=self.settings.organisations,
                default_language=self.settings.language,
                existing=existing,
                exceptions=exceptions,
                new_id=self._new_id,
                default_organisation=self.settings.default_organisation,
            )
            if not dry_run:
                return parsed, None
            return parsed, preview_import(parsed.people, {p.person_id: p for p in existing})

        with collector.bulk_work():  # 100,000 rows: no collection walks them meanwhile
            parsed, preview = await asyncio.to_thread(parse)
            if dry_run:
                return ImportOutcome.of(parsed, None, preview, keep_people=keep_people)
            result = await self.store.import_people(list(parsed.people), actor, self.clock.now())
            return ImportOutcome.of(parsed, result, keep_people=keep_people)

    # -- availability ----------------------------------------------------------------------
    def _source(self, person: Person, actor: str) -> Source:
        return Source.MANUAL if actor.lower() in subject_keys(person) else Source.ON_BEHALF

    async def set_referral(
        self,
        person: Person,
        referral: Referral,
        actor: str,
        starts: datetime | None = None,
        *,
        by_self: bool | None = None,
    ) -> ManualStatus | PlannedReferral:
        """Deactivate the extension with a referral (R6), now or planned from ``starts``.

        A future ``starts`` adds a plan beside the current status (issue 16: planning a
        holiday while at lunch keeps lunch), exactly as ``plan_referral``; otherwise the
        referral becomes the current status, and the plans stay as they are.
        ``by_self``: whether the person set it themselves (the web knows the signed-in
        account's person); None derives it from ``actor`` (the CLI's ``--by``)."""
        now = self.clock.now()
        if starts is not None and starts > now:
            return await self.plan_referral(person, referral, actor, starts, by_self=by_self)
        final = self._checked(person, referral, actor, now, by_self)
        status = ManualStatus(final, actor, now)
        await self.store.set_manual(person.person_id, status, actor, now)
        return status

    async def plan_referral(
        self,
        person: Person,
        referral: Referral,
        actor: str,
        starts: datetime,
        *,
        by_self: bool | None = None,
    ) -> PlannedReferral:
        """Plan a referral from ``starts`` (issue 16), beside the current status.

        Refused (``PlanError``, naming the field) when ``starts`` is not in the future, the
        return time is not after it, or it meets another plan of the person's: plans never
        overlap, so which plan applies is never a question (``presence.plans``)."""
        now = self.clock.now()
        if starts <= now:
            raise PlanError("starts", "plan_starts_past", "a plan must start in the future")
        final = self._checked(person, referral, actor, starts, by_self)
        other = overlapping(pending(self.view.plans(person.person_id), now), starts, final.until)
        if other is not None:
            raise PlanError(
                "starts",
                "plan_overlap",
                f"this plan overlaps {person.name}'s plan {other.plan_id} "
                f"({other.referral.reason.value} {self._stretch(other)}); "
                "cancel that one first or choose other dates",
            )
        plan = PlannedReferral(self._new_id(), final, actor, now, starts)
        await self.store.add_plan(person.person_id, plan, actor, now)
        return plan

    async def cancel_plan(self, person: Person, plan_id: str, actor: str) -> PlannedReferral:
        """Cancel one plan that has not ended; PlanError (field ``plan_id``) otherwise."""
        now = self.clock.now()
        plan = next(
            (p for p in pending(self.view.plans(person.person_id), now) if p.plan_id == plan_id),
            None,
        )
        if plan is None:
            raise PlanError(
                "plan_id",
                "plan_unknown",
                f"{person.name} has no plan {plan_id!r} that has not ended "
                "(cancelled already, ended, or never made)",
            )
        await self.store.cancel_plan(person.person_id, plan_id, actor, now)
        return plan

    async def prune_plans(self, person_id: str, actor: str) -> int | None:
        """Drop the person's plans that have ended (housekeeping, at their end); None when
        the view knows of none, so the common case writes nothing."""
        now = self.clock.now()
        if not any(p.ended_at(now) for p in self.view.plans(person_id)):
            return None
        return await self.store.prune_plans(person_id, actor, now)

    def plans(self, person: Person) -> tuple[PlannedReferral, ...]:
        """The person's plans that have not ended, by start (issue 16)."""
        return pending(self.view.plans(person.person_id), self.clock.now())

    def _stretch(self, plan: PlannedReferral) -> str:
        zone = self.settings.zone
        start = f"{plan.starts.astimezone(zone):%Y-%m-%d %H:%M}"
        end = plan.end
        return f"from {start}" + (
            "" if end is None else f" to {end.astimezone(zone):%Y-%m-%d %H:%M}"
        )

    def _checked(
        self,
        person: Person,
        referral: Referral,
        actor: str,
        starts: datetime,
        by_self: bool | None,
    ) -> Referral:
        """The referral as it is stored from ``starts``: checked against policy (R6, R18),
        with its return time ("gone for the day": the next working start) and its source."""
        if referral.reason is Reason.OUTSIDE_HOURS:
            raise EngineError(
                "'outside_hours' is set by the working-hours schedule, not by hand",
                code="outside_hours_by_hand",
                field="reason",
            )
        # A divert target is shown wherever the referral is (the route preview, the
        # receptionist's screen, Kamailio's route answer): never someone's secret mobile.
        self.refuse_secret_numbers(text=referral.text, divert_to=referral.divert_to)
        until = referral.until
        if until is None and referral.reason is Reason.GONE_FOR_THE_DAY:
            # "Gone for the day" ends when the next working day starts.
            org = self.settings.organisation(person.organisation)
            hours = person.hours or org.hours
            until = hours.next_start(starts, self.settings.zone)
        if until is not None and until <= starts:
            raise EngineError(
                "the return time must be after the referral starts",
                code="return_before_start",
                field="until",
            )
        divert_to = referral.divert_to
        if divert_to is not None:
            divert_to = self._divert_target(person, divert_to)
        try:
            return Referral(
                referral.reason,
                referral.kind,
                until,
                referral.text,
                self._source(person, actor)
                if by_self is None
                else (Source.MANUAL if by_self else Source.ON_BEHALF),
                divert_to,
            )
        except PresenceError as exc:
            raise EngineError.of(exc) from None

    def _divert_target(self, person: Person, target: str) -> str:
        """Our extension for a number of ours, else the number in E.164."""
        extension = self.settings.plan.extension_of(target)
        if extension is not None:
            if extension == person.extension:
                raise EngineError(
                    "a referral cannot divert calls to the same extension",
                    code="divert_to_self",
                    field="divert_to",
                )
            return extension
        try:
            return self.settings.plan.to_e164(target)
        except ValueError as exc:
            raise EngineError(
                f"cannot divert to {target!r}: {exc}", code="bad_number", field="divert_to"
            ) from None

    async def set_available(
        self, person: Person, actor: str, until: datetime | None = None
    ) -> ManualStatus:
        """Activate the extension, overriding the calendar until ``until`` (or cleared)."""
        now = self.clock.now()
        if until is not None and until <= now:
            raise EngineError("'until' must be in the future", code="in_the_past", field="until")
        status = ManualStatus(None, actor, now, None, until)
        await self.store.set_manual(person.person_id, status, actor, now)
        return status

    async def clear(self, person: Person, actor: str) -> None:
        """Remove the manual status: the calendar and the schedule take over again."""
        await self.store.set_manual(person.person_id, None, actor, self.clock.now())

    async def save_template(self, person: Person, template: Template, actor: str) -> None:
        self.refuse_secret_numbers(name=template.name, text=template.text)
        await self.store.save_template(person.person_id, template, actor, self.clock.now())

    async def delete_template(self, person: Person, name: str, actor: str) -> None:
        await self.store.delete_template(person.person_id, name, actor, self.clock.now())

    def template(self, person: Person, name: str) -> Template:
        for t in self.view.templates(person.person_id):
            if t.name.casefold() == name.casefold():
                return t
        known = ", ".join(t.name for t in self.view.templates(person.person_id)) or "none"
        raise EngineError(
            f"{person.name} has no template {name!r} (templates: {known})",
            code="no_such_template",
            field="name",
        )

    # -- policy exceptions (R16) -----------------------------------------------------------
    def _exception_subject(self, subject: str) -> tuple[str, Person | None]:
        """The key an exception is kept under: a known person's e-mail (or extension)."""
        key = subject.strip().lower()
        person = self.view.find(key)
        if person is not None:
            key = person.email or person.extension or person.person_id
        return key, person

    async def grant_exception(
        self, subject: str, rule: PolicyRule, reason: str, actor: str
    ) -> PolicyException:
        if len(reason.strip()) < 5:
            raise EngineError(
                "an exception needs a reason that will be kept (R16)",
                code="exception_needs_reason",
                field="reason",
            )
        self.refuse_secret_numbers(reason=reason)
        key, _ = self._exception_subject(subject)
        exception = PolicyException(key, rule, reason.strip(), actor, self.clock.now())
        await self.store.grant_exception(exception)
        return exception

    async def revoke_exception(
        self, subject: str, rule: PolicyRule, actor: str, reason: str | None = None
    ) -> None:
        """R16 applies again; ``reason`` (why the exception ended) goes into the audit."""
        reason = reason.strip() if reason else None
        self.refuse_secret_numbers(reason=reason)
        key, person = self._exception_subject(subject)
        if person is not None:
            remaining = tuple(
                e
                for e in self.view.exceptions
                if not (e.subject.lower() == key.lower() and e.rule is rule)
            )
            if policy_violations(person, remaining):
                raise EngineError(
                    f"{person.name}'s settings rely on this exception; change them first",
                    code="exception_in_use",
                    params={"name": person.name},
                )
        await self.store.revoke_exception(key, rule, actor, self.clock.now(), reason)

    # -- number privacy (R14, R16, R18) -------------------------------------------------------
    def hide_mobile_refusal(self, person: Person) -> str | None:
        """Why ``person`` may not choose to hide their mobile, or None when they may.

        ``"secret"``: a secret mobile is always hidden (R18), there is nothing to choose;
        ``"no_mobile"``: nothing to hide (R4); ``"no_extension"``: hiding needs an extension
        to show instead (R16), unless an administrator granted an exception.
        """
        if person.secret_mobile:
            return "secret"
        if person.mobile is None:
            return "no_mobile"
        trial = replace(person, hide_mobile=True)
        if any(v.field == "hide_mobile" for v in policy_violations(trial, self.view.exceptions)):
            return "no_extension"
        return None

    async def set_hide_mobile(self, person: Person, hide: bool, actor: str) -> Person:
        """The person's choice to show the extension instead of the mobile (R14).

        Checked like an imported row (R16: without an extension only with an exception; a
        secret mobile stays hidden, R18), then saved through the store's person path, which
        audits and publishes it. The directory import owns the same column: a later CSV
        import sets ``hide_mobile`` from the file again.
        """
        if person.secret_mobile and not hide:
            raise EngineError(
                "a secret mobile is always hidden (R18); it cannot be shown",
                code="secret_always_hidden",
                field="hide_mobile",
            )
        changed = replace(person, hide_mobile=hide)
        if changed == person:
            return person
        for violation in policy_violations(changed, self.view.exceptions):
            if violation.field == "hide_mobile":
                raise EngineError(
                    violation.message, code="hide_needs_extension", field="hide_mobile"
                )
        await self.store.save_person(changed, actor, self.clock.now())
        return changed

    # -- calendar (R7) -----------------------------------------------------------------------
    async def set_calendar(
        self,
        person: Person,
        source: str,
        segments: tuple[CalendarSegment, ...],
        actor: str,
    ) -> bool:
        """Replace what one calendar source says about a person; False if nothing changed.

        Calendar workers re-read feeds often: an unchanged answer writes nothing, so the
        version (and every node's and screen's view) and the audit trail stay quiet.
        """
        # The last gate for calendar text (R18): every source's labels are masked here,
        # whatever mapped them (``map_items`` masks already when given the secrets).
        secrets = self.secret_numbers()
        segments = tuple(
            replace(s, label=secrets.mask(s.label)) if s.label and secrets.holds(s.label) else s
            for s in segments
        )
        if self.view.calendar(person.person_id, source) == segments:
            return False
        await self.store.set_calendar(person.person_id, source, segments, actor, self.clock.now())
        return True

    # -- SIP credentials (issue 3) ---------------------------------------------------------
    def _sip_person(self, extension: str) -> Person:
        person = self.view.person_by_extension(extension)
        if person is None:
            raise EngineError(
                f"extension {extension!r} belongs to nobody in the directory; SIP passwords "
                "are set for a person's own extension"
            )
        return person

    async def set_sip_password(
        self,
        extension: str,
        password: str,
        realm: str,
        actor: str,
        *,
        sha256_only: bool = False,
    ) -> SipCredential:
        """Store the digest hashes of ``password`` for ``extension``; the password is dropped.

        Only HA1 = H(extension:realm:password) is kept (RFC 3261 §22.4), so changing the
        realm later needs new passwords. ``sha256_only`` keeps no MD5 hash: the phone is
        then challenged with SHA-256 alone (``directory.credentials``).
        """
        self._sip_person(extension)
        if len(password) < MIN_SIP_PASSWORD:
            raise EngineError(
                f"a SIP password needs at least {MIN_SIP_PASSWORD} characters: phones on the "
                "internet are guessed at all day"
            )
        if extension in password:
            raise EngineError("a SIP password must not contain the extension itself")
        credential = make_credential(extension, realm, password, sha256_only=sha256_only)
        await self.store.set_sip_credential(credential, actor, self.clock.now())
        return credential

    async def remove_sip_password(self, extension: str, actor: str) -> None:
        if self.view.credential(extension) is None:
            raise EngineError(f"extension {extension!r} has no SIP password to remove")
        await self.store.remove_sip_credential(extension, actor, self.clock.now())
