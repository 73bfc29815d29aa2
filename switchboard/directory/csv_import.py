"""Reading a directory CSV into people, all or nothing, with every error on its line.

The file has a header row; column names are case-insensitive and extra columns are
ignored. Columns: ``name`` (required), ``number`` (full national number, may be empty, R4),
``mobile``, ``email``, ``unit``, ``title``, ``language``, ``hide_mobile``, ``secret_mobile``,
``arrangement``, and optionally ``hours``, ``organisation``, ``hide_extension``,
``ring_after_hours``, ``tentative_diverts``.

Spreadsheets in the Nordics save CSV with ``;`` and, on Windows, in Windows-1252: both are
accepted. A re-import matches people by extension, then by e-mail, and keeps their
``person_id`` so their availability survives.

A person's organisation comes from their number's series. One without an extension (R4)
belongs, in this order, to the ``organisation`` the row names, to the organisation whose
``email_domains`` hold their e-mail's domain, to ``default_organisation``, or to the only
organisation there is; the two middle ones are guesses the data allows, so they are
reported (``ParsedDirectory.inferred``) for the person importing to check (issue 16).

Pure: text in, people or errors out; new ids come from the ``new_id`` the caller passes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from switchboard.directory.hours import HoursError, WorkingHours
from switchboard.directory.model import (
    LANGUAGES,
    Arrangement,
    Organisation,
    Person,
    PolicyException,
    policy_violations,
)
from switchboard.directory.numbers import NumberError, NumberPlan
from switchboard.directory.placement import (
    NO_ORGANISATION,
    Inference,
    InferredOrganisation,
    Placement,
)

__all__ = [
    "NO_ORGANISATION",
    "DirectoryImportError",
    "Inference",
    "InferredOrganisation",
    "ParsedDirectory",
    "RowError",
    "parse_directory",
]

KNOWN_COLUMNS = (
    "name",
    "number",
    "mobile",
    "email",
    "unit",
    "title",
    "language",
    "hide_mobile",
    "secret_mobile",
    "arrangement",
    "hours",
    "organisation",
    "hide_extension",
    "ring_after_hours",
    "tentative_diverts",
)
_YES = {"yes", "y", "ja", "j", "true", "1", "x"}
_NO = {"no", "n", "nej", "nei", "false", "0", ""}
_ARRANGEMENTS = {
    "private": Arrangement.PRIVATE,
    "privat": Arrangement.PRIVATE,
    "work_only": Arrangement.WORK_ONLY,
    "work only": Arrangement.WORK_ONLY,
    "work-only": Arrangement.WORK_ONLY,
    "": Arrangement.PRIVATE,
}
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
MAX_FIELD = 200


ROW_CODES = frozenset(
    {
        "too_long",
        "not_yes_no",
        "not_text",
        "empty",
        "unreadable_row",
        "column_twice",
        "no_name_column",
        "no_number_column",
        "field_count",
        "no_people",
        "required",
        "bad_number",
        "not_our_series",
        "bad_email",
        "unknown_organisation",
        "organisation_mismatch",
        "bad_choice",
        "bad_hours",
        "duplicate",
        "belongs_to_other",
        "email_conflict",
        "policy_hide_mobile",
        "policy_hide_extension",
        "policy_ring_after_hours",
        "policy_number",
        NO_ORGANISATION,
    }
)
"""Every ``RowError.code``, listed once: the pages say each as ``import.error.<code>`` in
sv, nb and en (issue 16; ``tests/http/test_refusals.py`` holds the catalogs to it)."""


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str | None
    message: str
    code: str | None = None
    """For the pages to say it in the reader's language (``import.error.<code>``, with
    ``params``); None: only ``message`` (English) exists."""
    params: tuple[tuple[str, str], ...] = ()
    """The values the translated sentence names (the value read, another line, ...)."""

    def __post_init__(self) -> None:
        if self.code is not None and self.code not in ROW_CODES:
            raise ValueError(f"RowError code {self.code!r} is not in ROW_CODES")

    @property
    def values(self) -> dict[str, str]:
        return dict(self.params)

    def format(self, source: str) -> str:
        col = f" {self.column}:" if self.column else ""
        return f"{source}:{self.line}:{col} {self.message}"


class DirectoryImportError(Exception):
    """The file cannot be imported; ``errors`` names its problems (every one, or the first
    of ``total``). Nothing was changed."""

    def __init__(self, source: str, errors: Sequence[RowError], total: int | None = None) -> None:
        self.source = source
        self.errors = tuple(errors)
        self.total = len(self.errors) if total is None else total
        lines = "\n".join(e.format(source) for e in self.errors[:50])
        more = f"\n... and {self.total - 50} more" if self.total > 50 else ""
        super().__init__(f"{self.total} problem(s); nothing was imported:\n{lines}{more}")


@dataclass(frozen=True, slots=True)
class ParsedDirectory:
    people: tuple[Person, ...]
    encoding: str
    delimiter: str
    inferred: tuple[InferredOrganisation, ...] = ()
    """Rows whose organisation was found from the e-mail domain or the default."""


def rows_in(data: bytes) -> int:
    """The lines of a file, header included: what its size is judged by before reading it."""
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else Windows-1252 as Excel writes it."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="strict"), "windows-1252"


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class _Row:
    """One record with the helpers that turn fields into values or RowErrors."""

    def __init__(self, line: int, fields: dict[str, str], errors: list[RowError]) -> None:
        self.line, self.fields, self.errors = line, fields, errors

    def text(self, column: str) -> str:
        value = self.fields.get(column, "").strip()
        if len(value) > MAX_FIELD:
            self.error(column, f"longer than {MAX_FIELD} characters", "too_long", max=MAX_FIELD)
            return value[:MAX_FIELD]
        return value

    def error(
        self, column: str | None, message: str, code: str | None = None, **params: object
    ) -> None:
        values = tuple((k, str(v)) for k, v in params.items())
        self.errors.append(RowError(self.line, column, message, code, values))

    def flag(self, column: str) -> bool:
        value = self.text(column).lower()
        if value in _YES:
            return True
        if value not in _NO:
            self.error(column, f"write yes or no, got {value!r}", "not_yes_no", value=value)
        return False


def parse_directory(
    data: bytes,
    *,
    source: str,
    plan: NumberPlan,
    organisations: Sequence[Organisation],
    default_language: str,
    existing: Iterable[Person],
    exceptions: Sequence[PolicyException],
    new_id: Callable[[], str],
    default_organisation: str | None = None,
) -> ParsedDirectory:
    """Parse and validate the whole file, or raise DirectoryImportError with every problem."""
    try:
        text, encoding = decode(data)
    except UnicodeDecodeError:
        raise DirectoryImportError(
            source,
            [RowError(1, None, "the file is neither UTF-8 nor Windows-1252 text", "not_text")],
        ) from None
    if not text.strip():
        raise DirectoryImportError(source, [RowError(1, None, "the file is empty", "empty")])
    delimiter = _delimiter(text.splitlines()[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    errors: list[RowError] = []
    try:
        header = [h.strip().lower() for h in next(reader)]
    except csv.Error as exc:
        raise DirectoryImportError(
            source, [RowError(1, None, f"header: {exc}", "unreadable_row")]
        ) from None
    seen: set[str] = set()
    for h in header:
        if h in seen and h in KNOWN_COLUMNS:
            errors.append(RowError(1, h, "column appears twice", "column_twice"))
        seen.add(h)
    if "name" not in header:
        errors.append(
            RowError(
                1,
                None,
                f"no 'name' column; known columns: {', '.join(KNOWN_COLUMNS)}",
                "no_name_column",
                (("columns", ", ".join(KNOWN_COLUMNS)),),
            )
        )
    if "number" not in header and "mobile" not in header:
        errors.append(
            RowError(1, None, "needs a 'number' or a 'mobile' column (R4)", "no_number_column")
        )
    if errors:
        raise DirectoryImportError(source, errors)

    orgs = Placement(organisations, default_organisation)
    inferred: list[InferredOrganisation] = []
    old = list(existing)
    by_ext = {p.extension: p for p in old if p.extension}
    by_email = {p.email.lower(): p for p in old if p.email}
    people: list[tuple[int, Person]] = []
    line = 1
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(
                RowError(reader.line_num, None, f"cannot read the row: {exc}", "unreadable_row")
            )
            raise DirectoryImportError(source, errors) from None
        line = start
        if not any(field.strip() for field in record):
            continue
        if len(record) > len(header):
            errors.append(
                RowError(
                    line,
                    None,
                    f"{len(record)} fields but the header has {len(header)}",
                    "field_count",
                    (("count", str(len(record))), ("header", str(len(header)))),
                )
            )
            continue
        fields = dict(zip(header, record, strict=False))
        row = _Row(line, fields, errors)
        person = _person(row, plan, orgs, default_language, new_id, inferred)
        if person is None:
            continue
        match_ext = by_ext.get(person.extension) if person.extension else None
        match_email = by_email.get(person.email.lower()) if person.email else None
        if match_ext and match_email and match_ext.person_id != match_email.person_id:
            row.error(
                "email",
                f"the extension belongs to {match_ext.name} but the e-mail to "
                f"{match_email.name}; fix one of them",
                "email_conflict",
                extension_owner=match_ext.name,
                email_owner=match_email.name,
            )
            continue
        match = match_ext or match_email
        if match is not None:
            person = replace(person, person_id=match.person_id)
        for v in policy_violations(person, tuple(exceptions)):
            # One code per rule the row breaks: import.error.policy_hide_mobile, ...
            row.error(v.field, v.message, f"policy_{v.field}")
        people.append((line, person))

    _check_unique(people, old, errors)
    if errors:
        raise DirectoryImportError(source, sorted(errors, key=lambda e: e.line))
    if not people:
        raise DirectoryImportError(
            source, [RowError(line, None, "no people in the file", "no_people")]
        )
    return ParsedDirectory(tuple(p for _, p in people), encoding, delimiter, tuple(inferred))


def _person(
    row: _Row,
    plan: NumberPlan,
    orgs: Placement,
    default_language: str,
    new_id: Callable[[], str],
    inferred: list[InferredOrganisation],
) -> Person | None:
    before = len(row.errors)
    name = row.text("name")
    if not name:
        row.error("name", "a name is required", "required")
    extension = organisation = None
    number = row.text("number")
    if number:
        try:
            dialled = plan.classify(number)
        except NumberError as exc:
            row.error("number", exc.problem, "bad_number", value=number)
        else:
            if dialled.extension is None or dialled.series is None:
                row.error(
                    "number",
                    f"{number!r} is not in any of our number series (R1)",
                    "not_our_series",
                    value=number,
                )
            else:
                extension, organisation = dialled.extension, dialled.series.organisation
    mobile = None
    if raw_mobile := row.text("mobile"):
        try:
            mobile = plan.to_e164(raw_mobile)
        except NumberError as exc:
            row.error("mobile", exc.problem, "bad_number", value=raw_mobile)
    email = row.text("email").lower() or None
    if email and not _EMAIL.match(email):
        row.error("email", f"{email!r} is not an e-mail address", "bad_email", value=email)
    org_text = row.text("organisation")
    if org_text:
        org = orgs.by_key.get(org_text.lower()) or orgs.by_key.get(org_text)
        if org is None:
            row.error(
                "organisation",
                f"unknown organisation {org_text!r}",
                "unknown_organisation",
                value=org_text,
            )
        elif organisation is not None and org.org_id != organisation:
            row.error(
                "organisation",
                f"the number belongs to {organisation}, not {org.org_id}",
                "organisation_mismatch",
                owner=organisation,
                value=org.org_id,
            )
        else:
            organisation = org.org_id
    if organisation is None and extension is None and not number and not org_text:
        valid_email = email if email and _EMAIL.match(email) else None
        organisation, how = orgs.place(row.line, name, valid_email)
        if how is not None:
            inferred.append(how)
        if organisation is None:
            row.error("organisation", orgs.unplaced(), NO_ORGANISATION)
    language = row.text("language").lower() or default_language
    if language not in LANGUAGES:
        row.error(
            "language",
            f"must be one of {', '.join(LANGUAGES)}, got {language!r}",
            "bad_choice",
            value=language,
            choices=", ".join(LANGUAGES),
        )
    arrangement = _ARRANGEMENTS.get(row.text("arrangement").lower())
    if arrangement is None:
        row.error(
            "arrangement",
            "write private or work_only (R8)",
            "bad_choice",
            value=row.text("arrangement"),
            choices="private, work_only",
        )
    hours = None
    if hours_text := row.text("hours"):
        try:
            hours = WorkingHours.parse(hours_text)
        except HoursError as exc:
            row.error("hours", exc.problem, "bad_hours", value=hours_text)
    flags = {
        f: row.flag(f)
        for f in (
            "hide_mobile",
            "secret_mobile",
            "hide_extension",
            "ring_after_hours",
            "tentative_diverts",
        )
    }
    if len(row.errors) > before or organisation is None or arrangement is None:
        return None
    return Person(
        person_id=new_id(),
        name=name,
        extension=extension,
        mobile=mobile,
        email=email,
        organisation=organisation,
        unit=row.text("unit"),
        title=row.text("title"),
        language=language,
        arrangement=arrangement,
        hours=hours,
        **flags,
    )


def _check_unique(
    people: list[tuple[int, Person]], old: list[Person], errors: list[RowError]
) -> None:
    """No two people may share an extension, an e-mail or a mobile (R2, R4)."""
    imported_ids = {p.person_id for _, p in people}
    keep = [p for p in old if p.person_id not in imported_ids]
    keys: tuple[tuple[str, Callable[[Person], str | None]], ...] = (
        ("number", lambda p: p.extension),
        ("email", lambda p: p.email),
        ("mobile", lambda p: p.mobile),
    )
    for column, key in keys:
        owners: dict[str, int] = {}
        for line, p in people:
            value = key(p)
            if value is None:
                continue
            if value in owners:
                errors.append(
                    RowError(
                        line,
                        column,
                        f"same {column} as line {owners[value]}",
                        "duplicate",
                        (("other", str(owners[value])),),
                    )
                )
            else:
                owners[value] = line
        for p in keep:
            value = key(p)
            if value is not None and value in owners:
                errors.append(
                    RowError(
                        owners[value],
                        column,
                        f"the {column} already belongs to {p.name}, who is not in this file",
                        "belongs_to_other",
                        (("name", p.name),),
                    )
                )
