"""``allowed()`` against the documented matrix, cell by cell, and its safety properties.

The table in docs/accounts.md is the specification: this test parses it, so the page and
the code cannot drift. Every role x permission x target (none, self, managed, other) is a
case, plus anonymous.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.accounts.model import (
    Account,
    AccountError,
    Permission,
    Relation,
    Role,
    allowed,
    allowed_by_name,
    relation,
    unit_key,
)
from switchboard.directory.model import Person

DOC = Path(__file__).resolve().parents[3] / "docs" / "accounts.md"
MANAGED_UNIT = unit_key("kommun", "IT")

ME = Person("p-self", "Me Myself", "64001", "+46701000001", "me@kommun.example", "kommun", "IT")
COLLEAGUE = Person(
    "p-managed", "Col League", "64002", "+46701000002", "col@kommun.example", "kommun", "IT"
)
STRANGER = Person(
    "p-other", "Stran Ger", "64003", "+46701000003", "str@kommun.example", "kommun", "Skola"
)
TARGETS: dict[Relation, Person | None] = {
    Relation.NONE: None,
    Relation.SELF: ME,
    Relation.MANAGED: COLLEAGUE,
    Relation.OTHER: STRANGER,
}
CELL = {
    "no": frozenset[Relation](),
    "any": frozenset(Relation),
    "self": frozenset({Relation.SELF}),
    "managed": frozenset({Relation.MANAGED}),
}


def account(*roles: Role, disabled: bool = False) -> Account:
    return Account(
        account_id="a1",
        username="me",
        display_name="Me Myself",
        person_id=ME.person_id,
        roles=frozenset(roles),
        disabled=disabled,
        manages=frozenset({MANAGED_UNIT}),
    )


def documented_matrix() -> dict[tuple[str, Permission], frozenset[Relation]]:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(
        r"<!-- permission-matrix:start -->(.*?)<!-- permission-matrix:end -->", text, re.S
    )
    assert block is not None, "docs/accounts.md lost its permission matrix markers"
    rows = [line.strip() for line in block.group(1).strip().splitlines()]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    assert header == ["permission", "anonymous", *[r.value for r in Role]]
    matrix: dict[tuple[str, Permission], frozenset[Relation]] = {}
    for row in rows[2:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        permission = Permission(cells[0].strip("`"))
        for who, cell in zip(header[1:], cells[1:], strict=True):
            matrix[(who, permission)] = CELL[cell]
    assert {p for _, p in matrix} == set(Permission), "every permission has a row"
    return matrix


MATRIX = documented_matrix()
CASES = [
    (who, permission, rel, rel in granted)
    for (who, permission), granted in MATRIX.items()
    for rel in Relation
]


@pytest.mark.parametrize(
    ("who", "permission", "rel", "expected"),
    CASES,
    ids=[f"{w}-{p.value}-{r.value}" for w, p, r, _ in CASES],
)
def test_allowed_matches_the_documented_matrix(
    who: str, permission: Permission, rel: Relation, expected: bool
) -> None:
    asking = None if who == "anonymous" else account(Role(who))
    assert allowed(asking, permission, target=TARGETS[rel]) is expected


def test_the_fixture_targets_relate_as_named() -> None:
    me = account(Role.EMPLOYEE)
    assert {rel: relation(me, person) for rel, person in TARGETS.items()} == {
        rel: rel for rel in Relation
    }


def test_an_account_tied_to_nobody_has_no_self() -> None:
    nobody = Account("a2", "kiosk", "Kiosk", None, frozenset({Role.EMPLOYEE}))
    assert not allowed(nobody, Permission.WRITE_PRESENCE, target=ME)
    assert allowed(nobody, Permission.READ_PRESENCE, target=ME)


def test_managed_units_compare_case_folded_with_the_organisation() -> None:
    boss = Account(
        "a3", "boss", "Boss", None, frozenset({Role.MANAGER}), False, frozenset({MANAGED_UNIT})
    )
    shouty = Person("p9", "Shouty", None, "+46701000009", None, "KOMMUN", " it ")
    elsewhere = Person("p8", "Same unit name", None, "+46701000008", None, "grannkommun", "IT")
    assert allowed(boss, Permission.REQUEST_CALL_LIST, target=shouty)
    assert not allowed(boss, Permission.REQUEST_CALL_LIST, target=elsewhere)


def test_allowed_by_name_is_the_same_rule_for_an_edge_that_names_permissions() -> None:
    me = account(Role.EMPLOYEE)
    for permission in Permission:
        for person in TARGETS.values():
            assert allowed_by_name(me, permission.name, target=person) == allowed(
                me, permission, target=person
            )
    assert not allowed_by_name(me, "WRITE_EVERYTHING", target=None)
    assert not allowed_by_name(object(), "READ_DIRECTORY", target=None)
    assert not allowed_by_name(None, "READ_DIRECTORY", target=None)


@pytest.mark.parametrize("username", ["Anna", " anna", "", "a b", "anna/x", "x" * 65], ids=repr)
def test_unusable_usernames_are_refused(username: str) -> None:
    with pytest.raises(AccountError, match="username"):
        Account("a", username, "Anna", None, frozenset({Role.EMPLOYEE}))


# -- properties ----------------------------------------------------------------------------
role_sets = st.frozensets(st.sampled_from(list(Role)))
targets = st.sampled_from(list(TARGETS.values()))
permissions = st.sampled_from(list(Permission))


def any_account(roles: frozenset[Role], disabled: bool, tied: bool, manages: bool) -> Account:
    return Account(
        "a1",
        "me",
        "Me",
        ME.person_id if tied else None,
        roles,
        disabled,
        frozenset({MANAGED_UNIT, unit_key("kommun", "Skola")}) if manages else frozenset(),
    )


@given(role_sets, st.booleans(), st.booleans(), st.booleans(), targets)
def test_nobody_ever_reads_secret_numbers(
    roles: frozenset[Role], disabled: bool, tied: bool, manages: bool, target: Person | None
) -> None:
    who = any_account(roles, disabled, tied, manages)
    assert not allowed(who, Permission.READ_SECRET_NUMBERS, target=target)


@given(role_sets, st.booleans(), st.booleans(), permissions, targets)
def test_a_disabled_account_is_allowed_nothing(
    roles: frozenset[Role], tied: bool, manages: bool, permission: Permission, target: Person | None
) -> None:
    assert not allowed(any_account(roles, True, tied, manages), permission, target=target)


@given(st.booleans(), st.booleans(), st.sampled_from([COLLEAGUE, STRANGER]))
def test_an_employee_never_writes_another_persons_presence(
    tied: bool, manages: bool, other: Person
) -> None:
    for roles in ({Role.EMPLOYEE}, {Role.EMPLOYEE, Role.MANAGER}):
        who = any_account(frozenset(roles), False, tied, manages)
        assert not allowed(who, Permission.WRITE_PRESENCE, target=other)


@given(role_sets, st.booleans(), st.booleans(), permissions, targets)
def test_roles_add_up_and_never_more(
    roles: frozenset[Role], tied: bool, manages: bool, permission: Permission, target: Person | None
) -> None:
    together = allowed(any_account(roles, False, tied, manages), permission, target=target)
    apart = any(
        allowed(any_account(frozenset({r}), False, tied, manages), permission, target=target)
        for r in roles
    )
    assert together == apart
