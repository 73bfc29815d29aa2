"""The directory CSV: every error on its line, all or nothing, re-imports keep identities."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from switchboard.directory.csv_import import (
    DirectoryImportError,
    ParsedDirectory,
    parse_directory,
)
from switchboard.directory.model import Arrangement, Person, PolicyException, PolicyRule
from switchboard.settings.config import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
HEADER = "name,number,mobile,email,unit,title,language,hide_mobile,secret_mobile,arrangement"


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(REPO / "configs" / "sml.toml")


def parse(
    settings: Settings,
    text: str | bytes,
    existing: list[Person] | None = None,
    exceptions: list[PolicyException] | None = None,
) -> ParsedDirectory:
    counter = itertools.count(1)
    return parse_directory(
        text.encode("utf-8") if isinstance(text, str) else text,
        source="people.csv",
        plan=settings.plan,
        organisations=settings.organisations,
        default_language=settings.language,
        existing=existing or [],
        exceptions=exceptions or [],
        new_id=lambda: f"id{next(counter)}",
    )


def errors_of(settings: Settings, text: str | bytes, **kw: list[Person]) -> list[str]:
    with pytest.raises(DirectoryImportError) as info:
        parse(settings, text, **kw)  # type: ignore[arg-type]
    return [e.format("people.csv") for e in info.value.errors]


def test_a_row_becomes_a_person(settings: Settings) -> None:
    parsed = parse(
        settings,
        HEADER + ",hours\n"
        "Anna Berg,0523-664123,070-174 06 05,Anna.Berg@Sotenas.example,Soc,Handl,sv,no,no,"
        "work_only,mon-fri 07:30-16:00\n",
    )
    (anna,) = parsed.people
    assert anna.extension == "64123"
    assert anna.mobile == "+46701740605"
    assert anna.email == "anna.berg@sotenas.example"
    assert anna.organisation == "sotenas"
    assert anna.arrangement is Arrangement.WORK_ONLY
    assert anna.hours is not None
    assert anna.hours.format() == "mon-fri 07:30-16:00"


def test_header_is_case_insensitive_and_extra_columns_are_ignored(settings: Settings) -> None:
    parsed = parse(
        settings,
        "NAME,Number,Mobile,Employee No\nBo Ek,0524-18007,,A-17\n",
    )
    assert parsed.people[0].extension == "18007"
    assert parsed.people[0].organisation == "munkedal"


def test_excel_semicolons_and_windows_1252(settings: Settings) -> None:
    data = "namn;name;number\nx;Åsa Öberg;0523-613001\n".encode("cp1252")
    parsed = parse(settings, data)
    assert parsed.people[0].name == "Åsa Öberg"
    assert (parsed.encoding, parsed.delimiter) == ("windows-1252", ";")


def test_utf8_bom_is_accepted(settings: Settings) -> None:
    parsed = parse(settings, "\ufeffname,number\nBo Ek,0524-18007\n")
    assert parsed.people[0].name == "Bo Ek"


def test_every_invalid_field_is_reported_with_its_line(settings: Settings) -> None:
    errors = errors_of(
        settings,
        HEADER + "\n,0523-664123,,,,,,,,\nBo,0523-999999,,bo@x,,,fi,maybe,no,sometimes\n",
    )
    assert "people.csv:2: name: a name is required" in errors
    assert any(e.startswith("people.csv:3: number:") for e in errors)
    assert any(e.startswith("people.csv:3: email:") for e in errors)
    assert any(e.startswith("people.csv:3: language:") for e in errors)
    assert any(e.startswith("people.csv:3: hide_mobile:") for e in errors)
    assert any(e.startswith("people.csv:3: arrangement:") for e in errors)


def test_line_numbers_count_physical_lines_of_quoted_fields(settings: Settings) -> None:
    errors = errors_of(
        settings,
        'name,number,unit\n"Anna",0523-664123,"two\nline unit"\nBo,12,\n',
    )
    assert errors == ["people.csv:4: number: '12' is not in any of our number series (R1)"]


def test_r2_duplicates_within_the_file_name_both_lines(settings: Settings) -> None:
    errors = errors_of(
        settings,
        "name,number,email\nA,0523-664123,a@x.example\nB,+46523664123,a@x.example\n",
    )
    assert "people.csv:3: number: same number as line 2" in errors
    assert "people.csv:3: email: same email as line 2" in errors


def test_missing_name_column_is_a_header_error(settings: Settings) -> None:
    errors = errors_of(settings, "who,number\nA,0523-664123\n")
    assert errors[0].startswith("people.csv:1: no 'name' column")


def test_reimport_matches_by_extension_then_email(settings: Settings) -> None:
    first = parse(
        settings,
        "name,number,mobile,email,organisation\n"
        "A,0523-664123,,a@x.example,\n"
        "B,,0701740699,b@x.example,lysekil\n",
    )
    a, b = first.people
    again = parse(
        settings,
        "name,number,mobile,email\n"
        "A2,0523-664123,,new@x.example\n"
        "B2,0523-613555,0701740699,B@X.example\n",
        existing=list(first.people),
    )
    a2, b2 = again.people
    assert a2.person_id == a.person_id  # by extension, despite a new e-mail
    assert b2.person_id == b.person_id  # by e-mail, gaining an extension
    assert b2.extension == "13555"


def test_a_row_matching_two_different_people_is_refused(settings: Settings) -> None:
    existing = [
        Person("p1", "A", "64123", None, "a@x.example", "sotenas"),
        Person("p2", "B", "64124", None, "b@x.example", "sotenas"),
    ]
    errors = errors_of(
        settings, "name,number,email\nX,0523-664123,b@x.example\n", existing=existing
    )
    assert errors[0].startswith("people.csv:2: email: the extension belongs to A but the e-mail")


def test_taking_the_extension_of_someone_not_in_the_file_is_refused(settings: Settings) -> None:
    existing = [Person("p1", "A", "64123", "+46701740605", "a@x.example", "sotenas")]
    errors = errors_of(
        settings,
        "name,mobile,email,organisation\nX,0701740605,x@x.example,sotenas\n",
        existing=existing,
    )
    assert any("mobile: the mobile already belongs to A" in e for e in errors)


def test_r16_policy_violations_are_row_errors_unless_excepted(settings: Settings) -> None:
    text = "name,mobile,email,hide_mobile,organisation\nLo,0701740699,lo@x.example,yes,lysekil\n"
    errors = errors_of(settings, text)
    assert errors[0].startswith("people.csv:2: hide_mobile: hiding the mobile requires")
    granted = PolicyException(
        "lo@x.example",
        PolicyRule.HIDE_MOBILE_WITHOUT_EXTENSION,
        "protected identity",
        "admin",
        datetime(2026, 11, 1, tzinfo=UTC),
    )
    parsed = parse(settings, text, exceptions=[granted])
    assert parsed.people[0].hide_mobile is True


def test_r8_work_only_cannot_ring_after_hours(settings: Settings) -> None:
    errors = errors_of(
        settings, "name,number,arrangement,ring_after_hours\nA,0523-664123,work_only,yes\n"
    )
    assert errors[0].startswith("people.csv:2: ring_after_hours:")


def test_person_without_extension_needs_organisation_when_several(settings: Settings) -> None:
    errors = errors_of(settings, "name,mobile\nA,0701740605\n")
    assert errors[0].startswith("people.csv:2: organisation:")
    single = replace(settings, organisations=settings.organisations[:1])
    assert parse(single, "name,mobile\nA,0701740605\n").people[0].organisation == "sotenas"


@pytest.mark.parametrize(
    "data",
    [b"", b"   \n", b"name,number\n"],
    ids=["empty", "blank", "header-only"],
)
def test_files_without_people_are_refused(settings: Settings, data: bytes) -> None:
    with pytest.raises(DirectoryImportError):
        parse(settings, data)
