"""policy_violations(): what an administrator may not set without an exception (R4, R8, R16)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from switchboard.directory.model import (
    Arrangement,
    Person,
    PolicyException,
    PolicyRule,
    policy_violations,
)
from tests.unit.core_fakes import ANNA, at

HIDE_MOBILE_NO_EXT = PolicyRule.HIDE_MOBILE_WITHOUT_EXTENSION
HIDE_EXT = PolicyRule.HIDE_EXTENSION


def _exception(subject: str, rule: PolicyRule) -> PolicyException:
    return PolicyException(subject, rule, "protected identity", "admin@sml.se", at(2025, 11, 1))


NO_EXTENSION_HIDDEN = replace(ANNA, extension=None, hide_mobile=True)

# (id, person, exceptions, expected (rule, field) pairs)
VIOLATIONS: list[tuple[str, Person, list[PolicyException], list[tuple[PolicyRule | None, str]]]] = [
    ("plain-person-is-fine", ANNA, [], []),
    ("r14-hide-mobile-with-extension-is-fine", replace(ANNA, hide_mobile=True), [], []),
    (
        "r16-hide-mobile-without-extension",
        NO_EXTENSION_HIDDEN,
        [],
        [(HIDE_MOBILE_NO_EXT, "hide_mobile")],
    ),
    (
        "r16-excepted-by-email-case-insensitively",
        NO_EXTENSION_HIDDEN,
        [_exception("ANNA.BERG@SOTENAS.SE", HIDE_MOBILE_NO_EXT)],
        [],
    ),
    (
        "r16-excepted-by-lowercase-email-of-mixed-case-address",
        NO_EXTENSION_HIDDEN,
        [_exception("anna.berg@sotenas.se", HIDE_MOBILE_NO_EXT)],
        [],
    ),
    (
        "r16-excepted-by-person-id",
        NO_EXTENSION_HIDDEN,
        [_exception("p-anna", HIDE_MOBILE_NO_EXT)],
        [],
    ),
    (
        "r16-exception-for-someone-else-does-not-apply",
        NO_EXTENSION_HIDDEN,
        [_exception("bo.ek@lysekil.se", HIDE_MOBILE_NO_EXT)],
        [(HIDE_MOBILE_NO_EXT, "hide_mobile")],
    ),
    (
        "r16-exception-for-another-rule-does-not-apply",
        NO_EXTENSION_HIDDEN,
        [_exception("anna.berg@sotenas.se", HIDE_EXT)],
        [(HIDE_MOBILE_NO_EXT, "hide_mobile")],
    ),
    ("r16-hide-extension", replace(ANNA, hide_extension=True), [], [(HIDE_EXT, "hide_extension")]),
    (
        "r16-hide-extension-excepted-by-extension",
        replace(ANNA, hide_extension=True),
        [_exception("64123", HIDE_EXT)],
        [],
    ),
    (
        "r16-hide-extension-excepted-by-email",
        replace(ANNA, hide_extension=True),
        [_exception("Anna.Berg@Sotenas.se", HIDE_EXT)],
        [],
    ),
    (
        "r16-exception-by-another-extension-does-not-apply",
        replace(ANNA, hide_extension=True),
        [_exception("64124", HIDE_EXT)],
        [(HIDE_EXT, "hide_extension")],
    ),
    (
        "r8-work-only-cannot-ring-after-hours",
        replace(ANNA, arrangement=Arrangement.WORK_ONLY, ring_after_hours=True),
        [],
        [(None, "ring_after_hours")],
    ),
    ("r9-private-may-ring-after-hours", replace(ANNA, ring_after_hours=True), [], []),
    ("r8-work-only-alone-is-fine", replace(ANNA, arrangement=Arrangement.WORK_ONLY), [], []),
    ("r4-neither-number", replace(ANNA, extension=None, mobile=None), [], [(None, "number")]),
    ("r4-extension-only", replace(ANNA, mobile=None), [], []),
    ("r4-mobile-only", replace(ANNA, extension=None), [], []),
    (
        "everything-at-once-in-order",
        replace(
            ANNA,
            extension=None,
            mobile=None,
            hide_mobile=True,
            hide_extension=True,
            arrangement=Arrangement.WORK_ONLY,
            ring_after_hours=True,
        ),
        [],
        [
            (HIDE_MOBILE_NO_EXT, "hide_mobile"),
            (HIDE_EXT, "hide_extension"),
            (None, "ring_after_hours"),
            (None, "number"),
        ],
    ),
    (
        "exceptions-lift-only-r16",
        replace(
            ANNA,
            extension=None,
            hide_mobile=True,
            hide_extension=True,
            arrangement=Arrangement.WORK_ONLY,
            ring_after_hours=True,
        ),
        [_exception("p-anna", HIDE_MOBILE_NO_EXT), _exception("p-anna", HIDE_EXT)],
        [(None, "ring_after_hours")],
    ),
]


@pytest.mark.parametrize(
    ("person", "exceptions", "expected"),
    [row[1:] for row in VIOLATIONS],
    ids=[row[0] for row in VIOLATIONS],
)
def test_policy_violations(
    person: Person,
    exceptions: list[PolicyException],
    expected: list[tuple[PolicyRule | None, str]],
) -> None:
    found = policy_violations(person, exceptions)
    assert [(v.rule, v.field) for v in found] == expected
    assert policy_violations(person, tuple(exceptions)) == found


@pytest.mark.parametrize(
    ("person", "rule_id"),
    [
        (NO_EXTENSION_HIDDEN, "(R16)"),
        (replace(ANNA, hide_extension=True), "(R16)"),
        (replace(ANNA, arrangement=Arrangement.WORK_ONLY, ring_after_hours=True), "(R8)"),
        (replace(ANNA, extension=None, mobile=None), "(R4)"),
    ],
    ids=["hide-mobile", "hide-extension", "work-only-after-hours", "no-number"],
)
def test_violation_message_cites_the_rule(person: Person, rule_id: str) -> None:
    (violation,) = policy_violations(person, [])
    assert rule_id in violation.message
