"""Configuration: TOML files read once at start into typed, validated settings.

Every error names the file, the key and what is wrong, e.g.
``configs/sml.toml: organisations[1].series[0].first: must be digits, got '66x000'``.
Unknown keys are errors too: a misspelt key silently ignored is a setting silently lost.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from switchboard.directory.destinations import ANY_COUNTRY, DEFAULT_COUNTRIES, read_e164_prefix
from switchboard.directory.hours import HoursError, WorkingHours
from switchboard.directory.model import LANGUAGES, Organisation
from switchboard.directory.numbers import (
    EXTENSION_LENGTH,
    NumberPlan,
    NumberSeries,
    overlapping_extensions,
)
from switchboard.directory.short_numbers import ShortNumbers
from switchboard.settings.calendar import CalendarSource, parse_calendars
from switchboard.settings.http import HTTP_KEYS, HttpSettings, parse_http
from switchboard.settings.mail import MailSettings, parse_mail
from switchboard.settings.media import MEDIA_KEYS, MediaSettings, parse_media
from switchboard.settings.own_calendars import (
    OWN_CALENDAR_KEYS,
    OwnCalendarPolicy,
    parse_own_calendars,
)
from switchboard.settings.sip import SIP_KEYS, SipSettings, parse_sip
from switchboard.settings.store import StoreSettings, parse_store


class ConfigError(Exception):
    def __init__(self, file: Path | str, key: str, problem: str) -> None:
        where = f"{file}: {key}: " if key else f"{file}: "
        super().__init__(where + problem)
        self.file = str(file)
        self.key = key
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Settings:
    source: Path
    plan: NumberPlan
    zone: ZoneInfo
    language: str
    default_hours: WorkingHours
    ring_timeout: int
    organisations: tuple[Organisation, ...]
    sip: SipSettings = field(default_factory=SipSettings)
    calendars: tuple[CalendarSource, ...] = ()
    http: HttpSettings = field(default_factory=HttpSettings)
    call_records_days: int = 90
    """How long call records are kept (R19); ``[switchboard] call_records_days``."""
    mail: MailSettings | None = None
    """``[mail]``: the SMTP server for taken messages; None: nothing is e-mailed."""
    media: MediaSettings = field(default_factory=MediaSettings)
    """``[media]``: answering calls with speech and voicemail over RTP."""
    default_organisation: str | None = None
    """``[switchboard] default_organisation``: where an import row without an extension,
    an ``organisation`` and a known e-mail domain belongs; None: such a row is refused
    (unless there is one organisation)."""
    store: StoreSettings = field(default_factory=StoreSettings)
    """``[store]``: SQLite in the data folder (the default) or a shared Redis."""
    own_calendars: OwnCalendarPolicy = field(default_factory=OwnCalendarPolicy)
    """``[own_calendars]``: which calendars employees may connect from their page."""

    def organisation(self, org_id: str) -> Organisation:
        for org in self.organisations:
            if org.org_id == org_id:
                return org
        raise KeyError(org_id)


_TOP_KEYS = {
    "switchboard",
    "organisations",
    "sip",
    "calendars",
    "http",
    "mail",
    "media",
    "store",
    "own_calendars",
}
_SWITCHBOARD_KEYS = {
    "country_code",
    "trunk_prefix",
    "international_prefix",
    "timezone",
    "language",
    "working_hours",
    "ring_timeout",
    "call_records_days",
    "default_organisation",
}
_ORG_KEYS = {
    "id",
    "name",
    "reception",
    "working_hours",
    "series",
    "international_countries",
    "email_domains",
}
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_SERIES_KEYS = {"area_code", "first", "last"}
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class _Reader:
    """Typed access to one table of the parsed TOML, naming the key in every error."""

    def __init__(self, file: Path, prefix: str, table: dict[str, Any], allowed: set[str]) -> None:
        self.file, self.prefix, self.table = file, prefix, table
        for key in table:
            if key not in allowed:
                hint = ", ".join(sorted(allowed))
                raise ConfigError(file, self.key(key), f"unknown key (known keys: {hint})")

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, problem: str) -> ConfigError:
        return ConfigError(self.file, self.key(name), problem)

    def string(self, name: str, default: str | None = None) -> str:
        value = self.table.get(name, default)
        if value is None:
            raise self.fail(name, "is required")
        if not isinstance(value, str):
            raise self.fail(name, f"must be a string in quotes, got {value!r}")
        return value

    def digits(self, name: str, default: str | None = None, *, empty_ok: bool = False) -> str:
        value = self.string(name, default)
        if (value or not empty_ok) and not (value.isdigit() and value.isascii()):
            raise self.fail(name, f"must be digits, got {value!r}")
        return value

    def integer(self, name: str, default: int, lo: int, hi: int) -> int:
        value = self.table.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, f"must be a whole number, got {value!r}")
        if not lo <= value <= hi:
            raise self.fail(name, f"must be between {lo} and {hi}, got {value}")
        return value

    def hours(self, name: str, default: str | None = None) -> WorkingHours:
        text = self.string(name, default)
        try:
            return WorkingHours.parse(text)
        except HoursError as exc:
            raise self.fail(name, exc.problem) from None

    def tables(self, name: str) -> list[dict[str, Any]]:
        value = self.table.get(name)
        if value is None:
            raise self.fail(name, "is required")
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(name, "must be an array of tables ([[...]] or [{...}, ...])")
        return value


def load_settings(path: Path) -> Settings:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read the file: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(path, "", "the file is not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"not valid TOML: {exc}") from None
    return parse_settings(data, path)


def parse_settings(data: dict[str, Any], path: Path) -> Settings:
    top = _Reader(path, "", data, _TOP_KEYS)
    section = data.get("switchboard", {})
    if not isinstance(section, dict):
        raise top.fail("switchboard", "must be a table ([switchboard])")
    sb = _Reader(path, "switchboard", section, _SWITCHBOARD_KEYS)
    country_code = sb.digits("country_code")
    if not 1 <= len(country_code) <= 3:
        raise sb.fail("country_code", "a country code has one to three digits (46, 47)")
    trunk_prefix = sb.digits("trunk_prefix", "0", empty_ok=True)
    international_prefix = sb.digits("international_prefix", "00")
    zone_name = sb.string("timezone")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise sb.fail("timezone", f"unknown time zone {zone_name!r}") from None
    language = sb.string("language", "sv")
    if language not in LANGUAGES:
        raise sb.fail("language", f"must be one of {', '.join(LANGUAGES)}, got {language!r}")
    default_hours = sb.hours("working_hours", "mon-fri 08:00-17:00")
    ring_timeout = sb.integer("ring_timeout", 25, 5, 300)
    call_records_days = sb.integer("call_records_days", 90, 1, 3650)

    organisations: list[Organisation] = []
    labelled: list[tuple[str, NumberSeries]] = []
    for i, table in enumerate(top.tables("organisations")):
        org = _Reader(path, f"organisations[{i}]", table, _ORG_KEYS)
        org_id = org.string("id")
        if not _ID.match(org_id):
            raise org.fail("id", "use lower-case letters, digits, '-' and '_' (e.g. 'sotenas')")
        if any(o.org_id == org_id for o in organisations):
            raise org.fail("id", f"{org_id!r} is used by another organisation")
        name = org.string("name")
        hours = org.hours("working_hours") if "working_hours" in table else default_hours
        for j, s_table in enumerate(org.tables("series")):
            s = _Reader(path, f"organisations[{i}].series[{j}]", s_table, _SERIES_KEYS)
            series = _series(s, org_id, trunk_prefix)
            labelled.append((s.prefix, series))
        reception = org.digits("reception") if "reception" in table else None
        countries = _countries(org) if "international_countries" in table else DEFAULT_COUNTRIES
        domains = _email_domains(org, organisations) if "email_domains" in table else ()
        organisations.append(Organisation(org_id, name, hours, reception, countries, domains))
    if not organisations:
        raise top.fail("organisations", "at least one organisation is needed")
    default_organisation = None
    if "default_organisation" in section:
        default_organisation = sb.string("default_organisation")
        if not any(o.org_id == default_organisation for o in organisations):
            known = ", ".join(o.org_id for o in organisations)
            raise sb.fail(
                "default_organisation",
                f"{default_organisation!r} is not the id of an organisation (ids: {known})",
            )

    _refuse_overlaps(path, labelled)
    plan = NumberPlan(
        country_code, trunk_prefix, international_prefix, tuple(s for _, s in labelled)
    )
    for i, org_value in enumerate(organisations):
        if org_value.reception is not None and plan.extension_of(org_value.reception) is None:
            raise ConfigError(
                path,
                f"organisations[{i}].reception",
                f"{org_value.reception!r} is not an extension in any configured series",
            )
    sip_table = data.get("sip", {})
    if not isinstance(sip_table, dict):
        raise top.fail("sip", "must be a table ([sip])")
    sip_reader = _Reader(path, "sip", sip_table, SIP_KEYS)
    sip = parse_sip(sip_table, sip_reader.fail)
    _refuse_short_number_clashes(sip, plan, sip_reader)
    http_table = data.get("http", {})
    if not isinstance(http_table, dict):
        raise top.fail("http", "must be a table ([http])")
    http = parse_http(http_table, _Reader(path, "http", http_table, HTTP_KEYS).fail)
    mail_table = data.get("mail")
    mail = None
    if mail_table is not None:
        if not isinstance(mail_table, dict):
            raise top.fail("mail", "must be a table ([mail])")
        mail = parse_mail(
            mail_table, lambda key, problem: ConfigError(path, f"mail.{key}", problem)
        )
    media_table = data.get("media", {})
    if not isinstance(media_table, dict):
        raise top.fail("media", "must be a table ([media])")
    media_reader = _Reader(path, "media", media_table, MEDIA_KEYS)
    media = parse_media(media_table, media_reader.fail)
    _refuse_voicemail_number_clashes(media, sip, plan, media_reader)
    store_table = data.get("store", {})
    if not isinstance(store_table, dict):
        raise top.fail("store", "must be a table ([store])")
    store = parse_store(
        store_table, lambda key, problem: ConfigError(path, f"store.{key}", problem)
    )
    calendars = parse_calendars(
        data.get("calendars"),
        {o.org_id for o in organisations},
        lambda key, problem: ConfigError(path, key, problem),
    )
    own_table = data.get("own_calendars", {})
    if not isinstance(own_table, dict):
        raise top.fail("own_calendars", "must be a table ([own_calendars])")
    own_reader = _Reader(path, "own_calendars", own_table, OWN_CALENDAR_KEYS)
    own_calendars = parse_own_calendars(own_table, calendars, own_reader.fail)
    return Settings(
        path,
        plan,
        zone,
        language,
        default_hours,
        ring_timeout,
        tuple(organisations),
        sip,
        calendars,
        http,
        call_records_days,
        mail,
        media,
        default_organisation,
        store,
        own_calendars,
    )


def _email_domains(org: _Reader, before: list[Organisation]) -> tuple[str, ...]:
    """``email_domains``: e-mail domains of the organisation's people, each belonging to
    one organisation only (an import must not have to guess between two)."""
    value = org.table["email_domains"]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise org.fail("email_domains", 'must be a list of strings, e.g. ["sotenas.se"]')
    domains: list[str] = []
    for text in value:
        domain = text.strip().lower().removeprefix("@")
        if not _DOMAIN.match(domain):
            raise org.fail("email_domains", f"{text!r} is not a domain name (sotenas.se)")
        owner = next((o for o in before if domain in o.email_domains), None)
        if owner is not None or domain in domains:
            who = owner.org_id if owner is not None else "this organisation"
            raise org.fail("email_domains", f"{domain!r} is already listed by {who}")
        domains.append(domain)
    return tuple(domains)


def _countries(org: _Reader) -> tuple[str, ...]:
    """``international_countries``: country calling codes ("45", "+354") or "*"."""
    value = org.table["international_countries"]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise org.fail("international_countries", 'must be a list of strings, e.g. ["45", "47"]')
    codes: list[str] = []
    for text in value:
        if text.strip() == ANY_COUNTRY:
            codes.append(ANY_COUNTRY)
            continue
        try:
            codes.append(read_e164_prefix(text, max_digits=3))
        except ValueError as exc:
            raise org.fail(
                "international_countries", f"a country calling code or '*': {exc}"
            ) from None
    return tuple(dict.fromkeys(codes))


def _refuse_short_number_clashes(sip: SipSettings, plan: NumberPlan, reader: _Reader) -> None:
    """A short number that is also an extension or listed twice would make calls to it
    ambiguous: which does "02800" reach, the police or an employee?"""
    short = short_numbers(sip, plan)
    seen: set[str] = set()
    for number in short.numbers:
        key = f"{number.kind.value}_numbers"
        listed = getattr(sip, key) is not None
        if number.digits in seen:
            raise reader.fail(key, f"{number.digits!r} is listed as emergency and service both")
        seen.add(number.digits)
        if plan.extension_of(number.digits) is not None:
            problem = f"{number.digits!r} is also an extension in a configured series"
            if not listed:
                problem += (
                    f" (it is a default for country code {plan.country_code}: write the "
                    "list without it)"
                )
            raise reader.fail(key, problem)


def _refuse_voicemail_number_clashes(
    media: MediaSettings, sip: SipSettings, plan: NumberPlan, reader: _Reader
) -> None:
    """The voicemail number is answered before anything else is asked, so it must not be
    a number someone could mean otherwise: an employee, an emergency or service line, or
    a telephone number outside."""
    number = media.voicemail_number
    if number is None:
        return
    if plan.extension_of(number) is not None:
        problem = f"{number!r} is also an extension in a configured series"
    elif (short := short_numbers(sip, plan).match(number)) is not None:
        kind = short.kind.value
        problem = f"{number!r} is also one of the {kind} numbers ([sip] {kind}_numbers)"
    elif (e164 := plan.e164_or_none(number)) is not None:
        problem = f"{number!r} reads as the telephone number {e164}; use a short code like '*98'"
    else:
        return
    raise reader.fail("voicemail_number", problem)


def short_numbers(sip: SipSettings, plan: NumberPlan) -> ShortNumbers:
    """The deployment's emergency and service numbers: as configured, or the country's."""
    return ShortNumbers.for_country(
        plan.country_code,
        plan.international_prefix,
        emergency=sip.emergency_numbers,
        service=sip.service_numbers,
    )


def _series(s: _Reader, organisation: str, trunk_prefix: str) -> NumberSeries:
    area_code = s.digits("area_code", "", empty_ok=True)
    if area_code and trunk_prefix and not area_code.startswith(trunk_prefix):
        raise s.fail("area_code", f"write it as dialled nationally, starting with {trunk_prefix!r}")
    first, last = s.digits("first"), s.digits("last")
    if len(first) != len(last):
        raise s.fail("last", f"must have as many digits as first ({first!r} vs {last!r})")
    if len(first) < EXTENSION_LENGTH:
        raise s.fail("first", f"a local number needs at least {EXTENSION_LENGTH} digits (R2)")
    if int(last) < int(first):
        raise s.fail("last", f"must not be below first ({last} < {first})")
    series = NumberSeries(organisation, area_code, first, last)
    if trunk_prefix and any(
        str(lo).zfill(EXTENSION_LENGTH).startswith(trunk_prefix)
        for lo, _ in series.extension_ranges()
    ):
        raise s.fail(
            "first",
            f"the series yields extensions starting with {trunk_prefix!r}, which callers "
            "cannot dial as extensions (they read as national numbers)",
        )
    if series.yields_duplicate_extensions():
        raise s.fail(
            "last",
            f"the series holds more than {10**EXTENSION_LENGTH} numbers, so their last "
            f"{EXTENSION_LENGTH} digits repeat (R2)",
        )
    return series


def _refuse_overlaps(path: Path, labelled: list[tuple[str, NumberSeries]]) -> None:
    """R2: a deployment's series must yield unique extensions; name both offenders."""
    for i, (key_a, a) in enumerate(labelled):
        for key_b, b in labelled[i + 1 :]:
            clash = overlapping_extensions(a, b)
            if clash is None:
                continue
            lo, hi = (str(v).zfill(EXTENSION_LENGTH) for v in clash)
            span = lo if lo == hi else f"{lo}–{hi}"
            raise ConfigError(
                path,
                f"{key_a} and {key_b}",
                f"series {a.label} and {b.label} both yield extensions {span}; "
                "extensions must be unique (R2)",
            )
