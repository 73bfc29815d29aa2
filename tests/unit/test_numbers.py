"""The number plan (R1-R3) and masking for logs (R18)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.directory.numbers import (
    DialledKind,
    NumberError,
    NumberPlan,
    NumberSeries,
    mask_number,
    overlapping_extensions,
)
from tests.unit.core_fakes import (
    LYSEKIL_1,
    LYSEKIL_2,
    MUNKEDAL_1,
    MUNKEDAL_2,
    NORWAY_PLAN,
    OPPLAND,
    SML_PLAN,
    SML_SERIES,
    SOTENAS,
)

# (id, plan, dialled, extension, series)
DIALLED_FORMS = [
    ("sotenas-extension", SML_PLAN, "64123", "64123", SOTENAS),
    ("sotenas-national-dash", SML_PLAN, "0523-664123", "64123", SOTENAS),
    ("sotenas-national-spaced", SML_PLAN, "0523 66 41 23", "64123", SOTENAS),
    ("sotenas-national-bare", SML_PLAN, "0523664123", "64123", SOTENAS),
    ("sotenas-e164", SML_PLAN, "+46523664123", "64123", SOTENAS),
    ("sotenas-e164-spaced", SML_PLAN, "+46 523 66 41 23", "64123", SOTENAS),
    ("sotenas-00-prefix", SML_PLAN, "0046523664123", "64123", SOTENAS),
    ("sotenas-parenthesised-area", SML_PLAN, "(0523) 664 123", "64123", SOTENAS),
    ("sotenas-no-break-space", SML_PLAN, "0523\u00a0664123", "64123", SOTENAS),
    ("sotenas-surrounding-blanks", SML_PLAN, "  64123 \t", "64123", SOTENAS),
    ("sotenas-first", SML_PLAN, "0523664000", "64000", SOTENAS),
    ("sotenas-last", SML_PLAN, "0523664799", "64799", SOTENAS),
    ("lysekil-first", SML_PLAN, "0523-613000", "13000", LYSEKIL_1),
    ("lysekil-last-e164", SML_PLAN, "+46523613999", "13999", LYSEKIL_1),
    ("lysekil-second-series", SML_PLAN, "0523-651399", "51399", LYSEKIL_2),
    ("lysekil-second-extension", SML_PLAN, "51200", "51200", LYSEKIL_2),
    ("munkedal-five-digit-local", SML_PLAN, "0524-18007", "18007", MUNKEDAL_1),
    ("munkedal-five-digit-e164", SML_PLAN, "+4652418007", "18007", MUNKEDAL_1),
    ("munkedal-five-digit-extension", SML_PLAN, "18007", "18007", MUNKEDAL_1),
    ("munkedal-six-digit-local", SML_PLAN, "0524 799 799", "99799", MUNKEDAL_2),
    ("munkedal-six-digit-00", SML_PLAN, "0046524799500", "99500", MUNKEDAL_2),
    ("norway-extension", NORWAY_PLAN, "89123", "89123", OPPLAND),
    ("norway-national", NORWAY_PLAN, "612 89 123", "89123", OPPLAND),
    ("norway-e164", NORWAY_PLAN, "+47 61 28 91 23", "89123", OPPLAND),
    ("norway-00-prefix", NORWAY_PLAN, "004761289123", "89123", OPPLAND),
]


@pytest.mark.parametrize(
    ("plan", "dialled", "extension", "series"),
    [row[1:] for row in DIALLED_FORMS],
    ids=[row[0] for row in DIALLED_FORMS],
)
def test_r3_every_dialled_form_reaches_same_extension(
    plan: NumberPlan, dialled: str, extension: str, series: NumberSeries
) -> None:
    result = plan.classify(dialled)
    assert result.extension == extension
    assert result.series == series
    assert plan.extension_of(dialled) == extension
    assert result.e164 == plan.e164_of_extension(extension)


KINDS = [
    ("extension", "64123", DialledKind.EXTENSION, "+46523664123"),
    ("national", "0523-664123", DialledKind.NATIONAL, "+46523664123"),
    ("e164", "+46523664123", DialledKind.INTERNATIONAL, "+46523664123"),
    ("00-prefix", "0046523664123", DialledKind.INTERNATIONAL, "+46523664123"),
    ("foreign-e164", "+45 20 12 34 56", DialledKind.INTERNATIONAL, "+4520123456"),
    ("foreign-00", "0045 20 12 34 56", DialledKind.INTERNATIONAL, "+4520123456"),
    ("mobile", "070-123 45 67", DialledKind.NATIONAL, "+46701234567"),
    ("local-without-area-code", "664123", DialledKind.NATIONAL, None),
    ("five-digits-not-ours", "64800", DialledKind.EXTENSION, None),
    ("five-digits-with-trunk-prefix", "05236", DialledKind.NATIONAL, "+465236"),
]


@pytest.mark.parametrize(
    ("dialled", "kind", "e164"), [row[1:] for row in KINDS], ids=[row[0] for row in KINDS]
)
def test_classify_reports_kind_and_e164(dialled: str, kind: DialledKind, e164: str | None) -> None:
    result = SML_PLAN.classify(dialled)
    assert result.kind is kind
    assert result.e164 == e164


NOT_OURS = [
    ("just-after-sotenas", SML_PLAN, "0523664800"),
    ("just-before-lysekil", SML_PLAN, "0523-612999"),
    ("just-after-lysekil-second", SML_PLAN, "0523651400"),
    ("just-before-lysekil-second", SML_PLAN, "+46523651199"),
    ("just-after-munkedal-first", SML_PLAN, "0524-18500"),
    ("just-before-munkedal-second", SML_PLAN, "0524799499"),
    ("sotenas-local-under-munkedal-area", SML_PLAN, "0524664123"),
    ("munkedal-local-under-sotenas-area", SML_PLAN, "052318007"),
    ("longer-local-than-series", SML_PLAN, "05236641234"),
    ("unassigned-extension-space", SML_PLAN, "64800"),
    ("other-country-same-digits", SML_PLAN, "+47523664123"),
    ("foreign", SML_PLAN, "+4520123456"),
    ("mobile", SML_PLAN, "070-123 45 67"),
    ("local-without-area-code", SML_PLAN, "664123"),
    ("norway-outside-range", NORWAY_PLAN, "61290000"),
    ("norway-mobile", NORWAY_PLAN, "+4741234567"),
    ("norway-extension-not-ours", NORWAY_PLAN, "88999"),
    ("sweden-for-norway", NORWAY_PLAN, "+46523664123"),
]


@pytest.mark.parametrize(
    ("plan", "dialled"), [row[1:] for row in NOT_OURS], ids=[row[0] for row in NOT_OURS]
)
def test_r1_number_outside_our_series_has_no_extension(plan: NumberPlan, dialled: str) -> None:
    result = plan.classify(dialled)
    assert result.extension is None
    assert result.series is None
    assert plan.extension_of(dialled) is None


UNREADABLE = [
    ("empty", ""),
    ("blank", "   "),
    ("letters", "abc"),
    ("letter-inside", "0523-66412x"),
    ("plus-alone", "+"),
    ("double-plus", "++46523664123"),
    ("plus-inside", "46+523664123"),
    ("non-ascii-digits", "\u0666\u0664\u0661\u0662\u0663"),
    ("too-long", "0046" + "1" * 16),
    ("sip-uri", "sip:64123@example.org"),
]


@pytest.mark.parametrize("raw", [row[1] for row in UNREADABLE], ids=[row[0] for row in UNREADABLE])
def test_unreadable_number_raises_number_error(raw: str) -> None:
    with pytest.raises(NumberError) as caught:
        SML_PLAN.classify(raw)
    assert caught.value.raw == raw
    assert caught.value.problem
    assert SML_PLAN.extension_of(raw) is None


EXTENSIONS = [
    ("sotenas", SML_PLAN, "64123", "0523664123", "+46523664123"),
    ("sotenas-first", SML_PLAN, "64000", "0523664000", "+46523664000"),
    ("lysekil", SML_PLAN, "13000", "0523613000", "+46523613000"),
    ("lysekil-second", SML_PLAN, "51399", "0523651399", "+46523651399"),
    ("munkedal-five-digit", SML_PLAN, "18007", "052418007", "+4652418007"),
    ("munkedal-six-digit", SML_PLAN, "99799", "0524799799", "+46524799799"),
    ("norway", NORWAY_PLAN, "89123", "61289123", "+4761289123"),
]


@pytest.mark.parametrize(
    ("plan", "extension", "national", "e164"),
    [row[1:] for row in EXTENSIONS],
    ids=[row[0] for row in EXTENSIONS],
)
def test_r2_extension_round_trips_through_national_and_e164(
    plan: NumberPlan, extension: str, national: str, e164: str
) -> None:
    assert plan.national_of_extension(extension) == national
    assert plan.e164_of_extension(extension) == e164
    assert plan.extension_of(national) == extension
    assert plan.extension_of(e164) == extension


WRAPPING = NumberSeries("wrap", "0523", "699990", "700009")
WRAPPING_PLAN = NumberPlan("46", "0", "00", (WRAPPING,))


@pytest.mark.parametrize(
    ("extension", "national"),
    [("99990", "0523699990"), ("99999", "0523699999"), ("00000", "0523700000"),
     ("00009", "0523700009")],
    ids=["first", "below-the-wrap", "above-the-wrap", "last"],
)  # fmt: skip
def test_r2_series_crossing_a_hundred_thousand_boundary(extension: str, national: str) -> None:
    assert WRAPPING_PLAN.national_of_extension(extension) == national
    assert WRAPPING_PLAN.extension_of(national) == extension


@pytest.mark.parametrize(
    ("plan", "extension"),
    [(SML_PLAN, "64800"), (SML_PLAN, "00000"), (SML_PLAN, "18500"), (NORWAY_PLAN, "88999")],
    ids=["past-sotenas", "zeros", "past-munkedal", "norway-below-range"],
)
def test_r2_unassigned_extension_has_no_full_number(plan: NumberPlan, extension: str) -> None:
    assert plan.national_of_extension(extension) is None
    assert plan.e164_of_extension(extension) is None


OVERLAPS = [
    (
        "same-extensions-different-area-codes",
        NumberSeries("sotenas", "0523", "664000", "664099"),
        NumberSeries("munkedal", "0524", "764000", "764099"),
        (64000, 64099),
    ),
    (
        "partial-overlap-same-area",
        NumberSeries("a", "0523", "664000", "664799"),
        NumberSeries("b", "0523", "664500", "665000"),
        (64500, 64799),
    ),
    (
        "five-digit-series-against-six-digit",
        MUNKEDAL_1,
        NumberSeries("x", "0523", "618400", "618600"),
        (18400, 18499),
    ),
    (
        "one-inside-the-other",
        SOTENAS,
        NumberSeries("x", "0524", "164100", "164101"),
        (64100, 64101),
    ),
    (
        "wrapping-series-low-end",
        NumberSeries("a", "0523", "699990", "700009"),
        NumberSeries("b", "0524", "700000", "700005"),
        (0, 5),
    ),
    (
        "wrapping-series-high-end",
        NumberSeries("a", "0523", "699990", "700009"),
        NumberSeries("b", "0524", "199995", "199999"),
        (99995, 99999),
    ),
    (
        "a-single-shared-extension",
        NumberSeries("a", "0523", "664000", "664100"),
        NumberSeries("b", "0524", "764100", "764200"),
        (64100, 64100),
    ),
    (
        "norway-against-sweden-shaped",
        OPPLAND,
        NumberSeries("x", "0523", "689500", "689600"),
        (89500, 89600),
    ),
]


@pytest.mark.parametrize(
    ("a", "b", "expected"), [row[1:] for row in OVERLAPS], ids=[row[0] for row in OVERLAPS]
)
def test_r2_overlapping_series_are_detected_both_ways(
    a: NumberSeries, b: NumberSeries, expected: tuple[int, int]
) -> None:
    assert overlapping_extensions(a, b) == expected
    assert overlapping_extensions(b, a) == expected


DISJOINT = [
    ("adjacent", SOTENAS, NumberSeries("x", "0523", "664800", "664899")),
    ("adjacent-below", SOTENAS, NumberSeries("x", "0524", "763000", "763999")),
    ("same-local-digits-other-extension", SOTENAS, NumberSeries("x", "0523", "665000", "665100")),
] + [
    (f"sml-{a.organisation}-{a.first}-vs-{b.organisation}-{b.first}", a, b)
    for a, b in itertools.combinations(SML_SERIES, 2)
]


@pytest.mark.parametrize(
    ("a", "b"), [row[1:] for row in DISJOINT], ids=[row[0] for row in DISJOINT]
)
def test_r2_disjoint_series_do_not_overlap(a: NumberSeries, b: NumberSeries) -> None:
    assert overlapping_extensions(a, b) is None
    assert overlapping_extensions(b, a) is None


@pytest.mark.parametrize(
    ("series", "duplicates", "ranges"),
    [
        (SOTENAS, False, ((64000, 64799),)),
        (MUNKEDAL_1, False, ((18000, 18499),)),
        (NumberSeries("x", "0523", "100000", "199999"), False, ((0, 99999),)),
        (NumberSeries("x", "0523", "100000", "200000"), True, ((0, 99999),)),
        (NumberSeries("x", "0523", "699990", "700009"), False, ((99990, 99999), (0, 9))),
    ],
    ids=["sotenas", "munkedal", "exactly-one-extension-space", "one-too-many", "wraps"],
)
def test_r2_extension_ranges_and_duplicates(
    series: NumberSeries, duplicates: bool, ranges: tuple[tuple[int, int], ...]
) -> None:
    assert series.extension_ranges() == ranges
    assert series.yields_duplicate_extensions() is duplicates


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (SOTENAS, "sotenas 0523 664000–664799"),
        (OPPLAND, "oppland 61289000–61289999"),
    ],
    ids=["with-area-code", "without-area-code"],
)
def test_series_label_names_organisation_and_range(series: NumberSeries, expected: str) -> None:
    assert series.label == expected


TO_E164 = [
    ("mobile-dashed", SML_PLAN, "070-123 45 67", "+46701234567"),
    ("mobile-bare", SML_PLAN, "0701234567", "+46701234567"),
    ("mobile-e164", SML_PLAN, "+46701234567", "+46701234567"),
    ("mobile-e164-spaced", SML_PLAN, "+46 70 123 45 67", "+46701234567"),
    ("mobile-00", SML_PLAN, "0046701234567", "+46701234567"),
    ("our-extension", SML_PLAN, "64123", "+46523664123"),
    ("our-national", SML_PLAN, "0524-18007", "+4652418007"),
    ("landline-elsewhere", SML_PLAN, "08-123 456 78", "+46812345678"),
    ("foreign-e164", SML_PLAN, "+45 20 12 34 56", "+4520123456"),
    ("foreign-00", SML_PLAN, "0045 20123456", "+4520123456"),
    ("norway-mobile", NORWAY_PLAN, "412 34 567", "+4741234567"),
    ("norway-mobile-e164", NORWAY_PLAN, "+47 412 34 567", "+4741234567"),
    ("norway-mobile-00", NORWAY_PLAN, "0047 41234567", "+4741234567"),
    ("norway-extension", NORWAY_PLAN, "89123", "+4761289123"),
]


@pytest.mark.parametrize(
    ("plan", "raw", "expected"), [row[1:] for row in TO_E164], ids=[row[0] for row in TO_E164]
)
def test_to_e164_normalises_every_form(plan: NumberPlan, raw: str, expected: str) -> None:
    assert plan.to_e164(raw) == expected


TO_E164_ERRORS = [
    ("five-digits-not-our-extension", SML_PLAN, "64800", "extension"),
    ("local-without-area-code", SML_PLAN, "1234567", "area code"),
    ("too-short", SML_PLAN, "+46123", "length"),
    ("too-short-national", SML_PLAN, "012345", "length"),
    ("letters", SML_PLAN, "abc", "digits"),
    ("empty", SML_PLAN, "", "empty"),
    ("norway-five-digits-not-ours", NORWAY_PLAN, "12345", "extension"),
]


@pytest.mark.parametrize(
    ("plan", "raw", "problem"),
    [row[1:] for row in TO_E164_ERRORS],
    ids=[row[0] for row in TO_E164_ERRORS],
)
def test_to_e164_refuses_what_it_cannot_place(plan: NumberPlan, raw: str, problem: str) -> None:
    with pytest.raises(NumberError) as caught:
        plan.to_e164(raw)
    assert problem in caught.value.problem


MASKS = [
    ("e164-mobile", "+46701234567", "+467******67"),
    ("national-mobile", "0701234567", "07******67"),
    ("national-mobile-with-separators", "070-123 45 67", "07******67"),
    ("00-prefixed", "0046701234567", "00*********67"),
    ("norway-mobile", "+4741234567", "+474*****67"),
    ("six-digits", "123456", "12**56"),
    ("extension-is-not-secret", "64123", "64123"),
]


@pytest.mark.parametrize(
    ("number", "masked"), [row[1:] for row in MASKS], ids=[row[0] for row in MASKS]
)
def test_r18_mask_number_hides_the_middle(number: str, masked: str) -> None:
    assert mask_number(number) == masked


@settings(max_examples=150, deadline=None)
@given(
    plus=st.booleans(),
    digits=st.text(alphabet="0123456789", min_size=6, max_size=15),
)
def test_r18_mask_number_never_reveals_the_middle_digits(plus: bool, digits: str) -> None:
    number = ("+" if plus else "") + digits
    masked = mask_number(number)
    head = 3 if plus else 2
    shown = masked.removeprefix("+")
    # Same length, the head and the last two digits as they were, only stars between.
    assert len(shown) == len(digits)
    assert shown[:head] == digits[:head]
    assert shown[-2:] == digits[-2:]
    assert set(shown[head:-2]) <= {"*"}
    assert sum(c.isdigit() for c in masked) <= 5


# R3 property: every dialled form of every number in every series reaches one extension.

_PLANS_AND_SERIES = [(SML_PLAN, s) for s in SML_PLAN.series] + [(NORWAY_PLAN, OPPLAND)]


@st.composite
def _number_in_series(draw: st.DrawFn) -> tuple[NumberPlan, NumberSeries, str]:
    plan, series = draw(st.sampled_from(_PLANS_AND_SERIES))
    value = draw(st.integers(int(series.first), int(series.last)))
    return plan, series, str(value).zfill(len(series.first))


def _with_separators(data: st.DataObject, digits: str) -> str:
    seps = data.draw(
        st.lists(
            st.sampled_from(["", "", " ", "-", "/", ".", "\u00a0"]),
            min_size=len(digits) - 1,
            max_size=len(digits) - 1,
        )
    )
    return digits[0] + "".join(sep + d for sep, d in zip(seps, digits[1:], strict=True))


@settings(max_examples=200, deadline=None)
@given(number=_number_in_series(), data=st.data())
def test_r3_property_every_form_of_any_series_number_reaches_same_extension(
    number: tuple[NumberPlan, NumberSeries, str], data: st.DataObject
) -> None:
    plan, series, local = number
    extension = local[-5:]
    nsn = series.area_code.removeprefix(plan.trunk_prefix) + local
    national = series.area_code + local
    forms = {
        "extension": extension,
        "national": national,
        "national-with-separators": _with_separators(data, national),
        "e164": f"+{plan.country_code}{nsn}",
        "e164-with-separators": "+" + _with_separators(data, plan.country_code + nsn),
        "international-prefix": f"{plan.international_prefix}{plan.country_code}{nsn}",
    }
    for name, form in forms.items():
        dialled = plan.classify(form)
        assert dialled.extension == extension, name
        assert dialled.series == series, name
        assert dialled.e164 == f"+{plan.country_code}{nsn}", name
    assert plan.national_of_extension(extension) == national


def test_a_remembered_reading_is_the_reading_and_memory_stays_bounded() -> None:
    """classify() remembers what it read (every call reads its number several times);
    remembering must never change an answer, and callers cannot grow it without end."""
    plan = NumberPlan("46", "0", "00", SML_PLAN.series)
    first = plan.classify("0523-664123")
    assert plan.classify("0523-664123") is first
    assert first == NumberPlan("46", "0", "00", SML_PLAN.series).classify("0523-664123")
    for n in range(10_000):
        plan.classify(f"+4670{n:07d}")
    assert len(plan._read) <= 4096
    assert plan.classify("64123").extension == "64123"
    assert plan == SML_PLAN  # what it remembers is not part of the plan's value
    for _ in range(2):  # an unreadable caller is remembered too, and still refused
        with pytest.raises(NumberError, match="anonymous"):
            plan.classify("anonymous")


@settings(max_examples=300)
@given(
    raw=st.one_of(
        st.text(alphabet="0123456789+-() ", max_size=20),
        st.sampled_from(["anonymous", "bench", "64123", "99999", "+46701740623", "070-1"]),
    )
)
def test_e164_or_none_is_to_e164_without_the_exception(raw: str) -> None:
    """The per-call path reads a caller id that may be anything without raising; it must
    give exactly what ``to_e164`` gives, or None where that refuses."""
    assert SML_PLAN.e164_or_none(raw) == _or_none(SML_PLAN, raw)
    assert NORWAY_PLAN.e164_or_none(raw) == _or_none(NORWAY_PLAN, raw)


def _or_none(plan: NumberPlan, raw: str) -> str | None:
    try:
        return plan.to_e164(raw)
    except NumberError:
        return None


def test_local_forms_read_digits_after_each_series_area_code() -> None:
    """Issue 16: "664124" is dialled within 0523; the search reads it as 523664124."""
    from switchboard.directory.numbers import NumberPlan, NumberSeries

    plan = NumberPlan(
        "46",
        "0",
        "00",
        (
            NumberSeries("sotenas", "0523", "664000", "664999"),
            NumberSeries("lysekil", "0523", "651000", "651999"),
            NumberSeries("oslo", "", "22000000", "22999999"),
        ),
    )
    assert plan.local_forms("664124") == ["523664124"]
    assert plan.local_forms("66") == ["52366"]  # the start of a local number
    assert plan.local_forms("6") == ["5236"]  # one form: both series share the area code
    assert plan.local_forms("700000") == []  # no series holds such numbers
    assert plan.local_forms("6641240") == []  # longer than a local number
