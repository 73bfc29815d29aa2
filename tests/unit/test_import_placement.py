"""Where an imported person without an extension belongs (issue 16): the row's
``organisation``, else an organisation's ``email_domains``, else ``default_organisation``;
what was inferred is reported, and what cannot be placed names file, line and field."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest

from switchboard.directory.csv_import import (
    NO_ORGANISATION,
    DirectoryImportError,
    Inference,
    InferredOrganisation,
    ParsedDirectory,
    parse_directory,
)
from switchboard.directory.placement import Placement
from switchboard.settings.config import ConfigError, Settings, load_settings
from switchboard.settings.resources import bundled

HEADER = "name,mobile,email\n"
"""The documented columns, without ``organisation``: what a newcomer's file has."""


@pytest.fixture(scope="module")
def settings() -> Settings:
    """The bundled SML configuration: sotenas.se, lysekil.se, munkedal.se and their
    ``.example`` twins are listed; no default organisation."""
    return load_settings(bundled("configs/sml.toml"))


def parse(settings: Settings, text: str) -> ParsedDirectory:
    counter = itertools.count(1)
    return parse_directory(
        text.encode("utf-8"),
        source="people.csv",
        plan=settings.plan,
        organisations=settings.organisations,
        default_language=settings.language,
        existing=[],
        exceptions=[],
        new_id=lambda: f"id{next(counter)}",
        default_organisation=settings.default_organisation,
    )


@pytest.mark.parametrize(
    ("email", "organisation", "domain"),
    [
        ("lena.akesson@sotenas.se", "sotenas", "sotenas.se"),
        ("Lena.Akesson@Lysekil.SE", "lysekil", "lysekil.se"),
        ("lena@skola.munkedal.se", "munkedal", "munkedal.se"),
        ("lena@munkedal.example", "munkedal", "munkedal.example"),
    ],
    ids=["domain", "any-case", "subdomain", "second-domain"],
)
def test_the_email_domain_says_where_a_person_without_an_extension_belongs(
    settings: Settings, email: str, organisation: str, domain: str
) -> None:
    parsed = parse(settings, HEADER + f"Lena Åkesson,070-174 06 56,{email}\n")
    assert parsed.people[0].organisation == organisation
    assert parsed.inferred == (
        InferredOrganisation(2, "Lena Åkesson", organisation, Inference.EMAIL_DOMAIN, domain),
    )


def test_the_default_organisation_places_the_rest(settings: Settings) -> None:
    with_default = replace(settings, default_organisation="lysekil")
    parsed = parse(
        with_default, HEADER + "Bo Ek,070-174 06 57,bo@gmail.example\nCi,070-174 06 58,\n"
    )
    assert [p.organisation for p in parsed.people] == ["lysekil", "lysekil"]
    assert [(i.line, i.how, i.domain) for i in parsed.inferred] == [
        (2, Inference.DEFAULT, None),
        (3, Inference.DEFAULT, None),
    ]
    assert parsed.inferred[0].format("people.csv") == (
        "people.csv:2: organisation: Bo Ek -> lysekil (the configured default_organisation)"
    )


def test_what_is_written_or_numbered_is_not_inferred(settings: Settings) -> None:
    """The number's series and an organisation column are certain: nothing to report;
    nor with a single organisation."""
    parsed = parse(
        replace(settings, default_organisation="lysekil"),
        "name,number,mobile,email,organisation\n"
        "Anna,0523-664123,,anna@lysekil.se,\n"
        "Lena,,070-174 06 56,lena@lysekil.se,sotenas\n",
    )
    assert [p.organisation for p in parsed.people] == ["sotenas", "sotenas"]
    assert parsed.inferred == ()
    single = replace(settings, organisations=settings.organisations[1:2])
    parsed = parse(single, HEADER + "Lena,070-174 06 56,lena@sotenas.se\n")
    assert parsed.people[0].organisation == "lysekil"
    assert parsed.inferred == ()


def test_a_person_nothing_places_names_file_line_and_field(settings: Settings) -> None:
    with pytest.raises(DirectoryImportError) as caught:
        parse(
            settings,
            HEADER + "Anna,070-174 06 05,anna@sotenas.se\nBo Ek,070-174 06 57,bo@gmail.example\n",
        )
    (error,) = caught.value.errors
    assert (error.line, error.column, error.code) == (3, "organisation", NO_ORGANISATION)
    text = error.format("people.csv")
    assert text.startswith("people.csv:3: organisation: a person without an extension")
    for hint in ("'organisation' column (sotenas, lysekil, munkedal)", "email_domains"):
        assert hint in text
    assert "default_organisation" in text


def test_an_unreadable_email_places_nobody(settings: Settings) -> None:
    """A malformed address is its own error, not a guess from what follows an '@'."""
    with pytest.raises(DirectoryImportError) as caught:
        parse(settings, HEADER + "Bo,070-174 06 57,bo@@sotenas.se\n")
    assert {e.column for e in caught.value.errors} == {"email", "organisation"}


def test_placement_walks_up_to_a_listed_parent_domain(settings: Settings) -> None:
    placement = Placement(settings.organisations, None)
    found = placement.of_email("x@a.b.sotenas.se")
    assert found is not None
    assert (found[0].org_id, found[1]) == ("sotenas", "sotenas.se")
    assert placement.of_email("x@se") is None
    assert placement.of_email("x@notsotenas.se") is None


def _config(tmp_path: Path, top: str = "", sotenas: str = "", lysekil: str = "") -> Path:
    text = bundled("configs/sml.toml").read_text(encoding="utf-8")
    text = text.replace('email_domains = ["sotenas.se", "sotenas.example"]\n', sotenas, 1)
    text = text.replace('email_domains = ["lysekil.se", "lysekil.example"]\n', lysekil, 1)
    text = text.replace("ring_timeout = 25", "ring_timeout = 25\n" + top, 1)
    path = tmp_path / "sb.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_configuration_reads_domains_and_the_default(tmp_path: Path) -> None:
    settings = load_settings(
        _config(
            tmp_path,
            top='default_organisation = "munkedal"\n',
            sotenas='email_domains = ["Sotenas.SE", "@skolor.sotenas.se"]\n',
        )
    )
    assert settings.default_organisation == "munkedal"
    assert settings.organisation("sotenas").email_domains == ("sotenas.se", "skolor.sotenas.se")
    assert settings.organisation("lysekil").email_domains == ()
    assert load_settings(_config(tmp_path)).default_organisation is None


@pytest.mark.parametrize(
    ("top", "sotenas", "lysekil", "key", "words"),
    [
        ('default_organisation = "oslo"\n', "", "", "switchboard.default_organisation", "ids:"),
        ("", 'email_domains = "sotenas.se"\n', "", "organisations[0].email_domains", "list"),
        ("", 'email_domains = ["anna@sotenas"]\n', "", "organisations[0].email_domains", "domain"),
        (
            "",
            'email_domains = ["kommun.se"]\n',
            'email_domains = ["KOMMUN.se"]\n',
            "organisations[1].email_domains",
            "already listed by sotenas",
        ),
        (
            "",
            'email_domains = ["kommun.se", "kommun.se"]\n',
            "",
            "organisations[0].email_domains",
            "already listed",
        ),
    ],
    ids=["unknown-default", "not-a-list", "not-a-domain", "two-owners", "twice"],
)
def test_configuration_errors_name_the_file_and_key(
    tmp_path: Path, top: str, sotenas: str, lysekil: str, key: str, words: str
) -> None:
    path = _config(tmp_path, top, sotenas, lysekil)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert (caught.value.file, caught.value.key) == (str(path), key)
    assert words in caught.value.problem
