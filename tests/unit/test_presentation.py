"""Which number the far end sees on outbound calls and SMS (R14, R15, R16, R18)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.directory.model import Person
from switchboard.directory.numbers import NumberPlan
from switchboard.routing.presentation import OutboundKind, Presentation, present_outbound
from tests.unit.core_fakes import ANNA, BO, CECILIA, NORWAY_PLAN, SML_PLAN

CALL, SMS = OutboundKind.CALL, OutboundKind.SMS
ANNA_MOBILE = "+46701234567"
ANNA_EXTENSION_NUMBER = "+46523664123"

NORWEGIAN = Person(
    person_id="p-kari",
    name="Kari Nordmann",
    extension="89123",
    mobile="+4741234567",
    email="kari@oppland.no",
    organisation="oppland",
    language="nb",
)

# (id, person, plan, kind, allowed, number, withheld, explanation mentions)
PRESENTATIONS = [
    ("r17-call-shows-mobile", ANNA, SML_PLAN, CALL, True, ANNA_MOBILE, False, "(R17)"),
    ("r15-sms-shows-mobile", ANNA, SML_PLAN, SMS, True, ANNA_MOBILE, False, "(R15)"),
    (
        "r14-hidden-mobile-call-shows-extension",
        replace(ANNA, hide_mobile=True),
        SML_PLAN,
        CALL,
        True,
        ANNA_EXTENSION_NUMBER,
        False,
        "(R14)",
    ),
    (
        "r15-hidden-mobile-sms-still-shows-mobile",
        replace(ANNA, hide_mobile=True),
        SML_PLAN,
        SMS,
        True,
        ANNA_MOBILE,
        False,
        "(R15)",
    ),
    (
        "r14-munkedal-five-digit-series",
        replace(CECILIA, hide_mobile=True),
        SML_PLAN,
        CALL,
        True,
        "+4652418007",
        False,
        "(R14)",
    ),
    (
        "r14-norway",
        replace(NORWEGIAN, hide_mobile=True),
        NORWAY_PLAN,
        CALL,
        True,
        "+4761289123",
        False,
        "(R14)",
    ),
    (
        "r16-hidden-mobile-without-extension-is-withheld",
        replace(ANNA, extension=None, hide_mobile=True),
        SML_PLAN,
        CALL,
        True,
        None,
        True,
        "no extension to show instead",
    ),
    (
        "r16-hidden-extension-does-not-hide-the-mobile",
        replace(ANNA, hide_extension=True),
        SML_PLAN,
        CALL,
        True,
        ANNA_MOBILE,
        False,
        "(R17)",
    ),
    (
        "r16-both-hidden-is-withheld",
        replace(ANNA, hide_mobile=True, hide_extension=True),
        SML_PLAN,
        CALL,
        True,
        None,
        True,
        "hidden by an exception (R16)",
    ),
    ("r4-no-mobile-call-shows-extension", BO, SML_PLAN, CALL, True, "+46523613001", False, "(R4)"),
    ("r4-no-mobile-no-sms", BO, SML_PLAN, SMS, False, None, False, "(R4)"),
    (
        "r18-secret-call-shows-extension",
        replace(ANNA, secret_mobile=True),
        SML_PLAN,
        CALL,
        True,
        ANNA_EXTENSION_NUMBER,
        False,
        "(R18)",
    ),
    (
        "r18-secret-without-extension-is-withheld",
        replace(ANNA, secret_mobile=True, extension=None),
        SML_PLAN,
        CALL,
        True,
        None,
        True,
        "(R18)",
    ),
    (
        "r18-secret-with-hidden-extension-is-withheld",
        replace(ANNA, secret_mobile=True, hide_extension=True),
        SML_PLAN,
        CALL,
        True,
        None,
        True,
        "(R18)",
    ),
    (
        "r18-secret-sms-is-refused",
        replace(ANNA, secret_mobile=True),
        SML_PLAN,
        SMS,
        False,
        None,
        False,
        "will not send",
    ),
    (
        "extension-outside-the-plan-is-withheld",
        replace(ANNA, extension="64800", hide_mobile=True),
        SML_PLAN,
        CALL,
        True,
        None,
        True,
        "no extension to show instead",
    ),
]


@pytest.mark.parametrize(
    ("person", "plan", "kind", "allowed", "number", "withheld", "mention"),
    [row[1:] for row in PRESENTATIONS],
    ids=[row[0] for row in PRESENTATIONS],
)
def test_present_outbound(
    person: Person,
    plan: NumberPlan,
    kind: OutboundKind,
    allowed: bool,
    number: str | None,
    withheld: bool,
    mention: str,
) -> None:
    presentation = present_outbound(person, plan, kind)
    assert presentation == Presentation(allowed, number, withheld, presentation.explanation)
    assert mention in presentation.explanation


_SECRET_PEOPLE = st.builds(
    Person,
    person_id=st.just("p-secret"),
    name=st.just("Secret Person"),
    extension=st.sampled_from([None, "64123", "18007", "99799", "64800", "00000"]),
    mobile=st.from_regex(r"\+467[02369][0-9]{7}", fullmatch=True),
    email=st.none(),
    organisation=st.just("sotenas"),
    hide_mobile=st.booleans(),
    secret_mobile=st.just(True),
    hide_extension=st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(person=_SECRET_PEOPLE, kind=st.sampled_from(OutboundKind))
def test_r18_property_secret_mobile_is_never_presented(person: Person, kind: OutboundKind) -> None:
    assert person.mobile is not None
    presentation = present_outbound(person, SML_PLAN, kind)
    assert presentation.number != person.mobile
    assert person.mobile not in presentation.explanation
    if kind is OutboundKind.SMS:
        assert presentation.allowed is False
