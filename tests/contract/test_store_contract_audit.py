"""The Store contract, part 8: what an audit entry records (issue 17).

Same fixture as the other parts. Every entry carries the origin of its write (how the
actor proved who they are, from which address, in which request), its decision, and the
old and new value of each thing it changed; ``append_audit`` records what is no write (a
refusal, a failed sign-in) without a version or an event.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from switchboard.accounts.model import Account, Role
from switchboard.presence.model import Template
from switchboard.store.audit import AuditDecision, Change
from switchboard.store.origin import SYSTEM, Origin, acting_from, current_origin
from tests.contract.conftest import Backend
from tests.contract.values import ADMIN, LUNCH, T0, available_until, grant, lunch_referral, person

WEB = Origin("session", "192.0.2.7", "5f0c1d2e3a4b5c6d")
TOKEN = Origin("token:crm", "198.51.100.9", "0a1b2c3d4e5f6a7b")
HASH = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
ANNA = Account("acc-anna", "anna", "Anna Berg", "p1", frozenset({Role.EMPLOYEE}))


def changes(entry_changes: tuple[Change, ...]) -> dict[str, tuple[str, str]]:
    return {c.field: (c.old, c.new) for c in entry_changes}


async def test_every_entry_carries_the_origin_of_its_write(backend: Backend) -> None:
    store = backend.store
    await store.import_people([person(1)], ADMIN, T0)  # outside any request: the system
    with acting_from(WEB):
        await store.set_manual("p1", lunch_referral(), "anna", T0)
        await store.create_account(ANNA, HASH, ADMIN, T0)
    with acting_from(TOKEN):
        await store.set_manual("p1", None, "anna", T0)
    assert current_origin() == SYSTEM

    entries = await store.audit()
    seen = [(e.action, e.via, e.source, e.request_id) for e in entries]
    assert seen == [
        ("manual_cleared", "token:crm", "198.51.100.9", "0a1b2c3d4e5f6a7b"),
        ("account_created", "session", "192.0.2.7", "5f0c1d2e3a4b5c6d"),
        ("manual_set", "session", "192.0.2.7", "5f0c1d2e3a4b5c6d"),
        ("directory_imported", "system", "", ""),
        ("person_created", "system", "", ""),
    ]
    assert {e.decision for e in entries} == {AuditDecision.ALLOWED}
    assert all(e.at == T0 and e.at.utcoffset() == timedelta(0) for e in entries)


async def test_a_session_and_a_token_of_the_same_user_are_told_apart(backend: Backend) -> None:
    await backend.store.import_people([person(1)], ADMIN, T0)
    with acting_from(WEB):
        await backend.store.set_manual("p1", available_until(), "anna", T0)
    with acting_from(TOKEN):
        await backend.store.set_manual("p1", available_until(), "anna", T0)
    token_entry, session_entry = await backend.store.audit(2)
    assert token_entry.actor == session_entry.actor == "anna"
    assert (token_entry.via, session_entry.via) == ("token:crm", "session")


async def test_append_audit_records_a_refusal_without_a_version_or_event(
    backend: Backend,
) -> None:
    await backend.store.import_people([person(1)], ADMIN, T0)
    version = await backend.store.version()
    backend.take_events()
    with acting_from(WEB):
        await backend.store.append_audit(
            T0,
            "anna",
            "access_refused",
            "p2",
            "write_presence: PUT /api/v1/people/p2/availability",
            AuditDecision.REFUSED,
        )
    await backend.store.append_audit(
        T0, "anonymous", "sign_in_failed", "account:anna", "wrong password", AuditDecision.FAILED
    )
    failed, refused = await backend.store.audit(2)
    assert (refused.actor, refused.action, refused.subject, refused.decision) == (
        "anna",
        "access_refused",
        "p2",
        AuditDecision.REFUSED,
    )
    assert (refused.via, refused.source, refused.request_id) == (
        WEB.via,
        WEB.source,
        WEB.request_id,
    )
    assert refused.changes == ()
    assert (failed.decision, failed.subject) == (AuditDecision.FAILED, "account:anna")
    assert await backend.store.version() == version
    assert backend.events == []
    page = await backend.store.audit_page(10, actor="anna")
    assert [e.action for e in page] == ["access_refused"]


async def test_a_person_change_records_old_and_new_values(backend: Backend) -> None:
    store = backend.store
    await store.import_people([person(1, unit="IT")], ADMIN, T0)
    await store.save_person(person(1, unit="Skola", title="Rektor", hide_mobile=True), ADMIN, T0)
    updated = (await store.audit(1))[0]
    assert changes(updated.changes) == {
        "unit": ("IT", "Skola"),
        "title": ("", "Rektor"),
        "hide_mobile": ("no", "yes"),
    }
    await store.remove_person("p1", ADMIN, T0)
    removed = changes((await store.audit(1))[0].changes)
    assert removed["name"] == ("Person 1", "")
    assert removed["unit"] == ("Skola", "")


async def test_a_number_is_masked_on_both_sides_and_a_secret_one_is_never_shown(
    backend: Backend,
) -> None:
    """R18: a public mobile is masked; one that is (or becomes) secret is ``[secret]``."""
    store = backend.store
    await store.import_people([person(1), person(2)], ADMIN, T0)
    await store.save_person(person(1, mobile="+46735550101"), ADMIN, T0)
    public = changes((await store.audit(1))[0].changes)["mobile"]
    assert public == ("+467******01", "+467******01")
    await store.save_person(person(2, secret_mobile=True), ADMIN, T0)
    became_secret = changes((await store.audit(1))[0].changes)
    assert became_secret["secret_mobile"] == ("no", "yes")
    assert "mobile" not in became_secret  # the number did not change, nor is it shown
    await store.save_person(person(2, secret_mobile=True, mobile="+46735550202"), ADMIN, T0)
    assert changes((await store.audit(1))[0].changes)["mobile"] == ("[secret]", "[secret]")


async def test_availability_templates_and_exceptions_record_old_and_new(
    backend: Backend,
) -> None:
    store = backend.store
    await store.import_people([person(1)], ADMIN, T0)
    await store.set_manual("p1", lunch_referral(text="Kurs"), "reception", T0)
    first = changes((await store.audit(1))[0].changes)
    assert first["status"][0] == ""
    assert first["status"][1].startswith("closed referral: other")
    assert first["note"] == ("", "Kurs")
    await store.set_manual("p1", lunch_referral(text="Kurs i Malmö"), "reception", T0)
    assert changes((await store.audit(1))[0].changes)["note"] == ("Kurs", "Kurs i Malmö")
    await store.set_manual("p1", None, "p1", T0)
    cleared = changes((await store.audit(1))[0].changes)
    assert cleared["status"][1] == "cleared"
    assert cleared["note"] == ("Kurs i Malmö", "")

    await store.save_template("p1", LUNCH, "p1", T0)
    await store.save_template("p1", replace(LUNCH, duration=timedelta(minutes=30)), "p1", T0)
    assert changes((await store.audit(1))[0].changes) == {
        "template Lunch": ("lunch, closed, 45 min", "lunch, closed, 30 min")
    }
    await store.delete_template("p1", "Lunch", "p1", T0)
    assert changes((await store.audit(1))[0].changes) == {
        "template Lunch": ("lunch, closed, 30 min", "")
    }
    await store.save_template("p1", Template("Kurs", LUNCH.reason, text="Ring 64001"), "p1", T0)

    await store.grant_exception(grant(reason="Skyddad identitet"))
    await store.grant_exception(grant(reason="Skyddad identitet, beslut 12"))
    assert changes((await store.audit(1))[0].changes) == {
        "exception to hide_extension": ("Skyddad identitet", "Skyddad identitet, beslut 12")
    }
    await store.revoke_exception("person1@kommun.example", grant().rule, ADMIN, T0, "slut")
    assert changes((await store.audit(1))[0].changes) == {
        "exception to hide_extension": ("Skyddad identitet, beslut 12", "")
    }


async def test_account_changes_record_old_and_new_but_never_a_hash(backend: Backend) -> None:
    store = backend.store
    await store.import_people([person(1)], ADMIN, T0)
    await store.create_account(ANNA, HASH, ADMIN, T0)
    created = changes((await store.audit(1))[0].changes)
    assert created["roles"] == ("", "employee")
    assert created["password"] == ("", "set")
    boss = replace(
        ANNA, roles=frozenset({Role.EMPLOYEE, Role.MANAGER}), manages=frozenset({"kommun/it"})
    )
    await store.update_account(boss, ADMIN, T0)
    updated = {e.action: changes(e.changes) for e in await store.audit(2)}
    assert updated["account_roles_changed"] == {"roles": ("employee", "employee, manager")}
    assert updated["account_updated"] == {"manages": ("none", "kommun/it")}
    await store.set_password_hash(ANNA.account_id, HASH.replace("aGFz", "bmV3"), ADMIN, T0)
    assert changes((await store.audit(1))[0].changes) == {"password": ("set", "new")}
    everything = " ".join(
        f"{e.detail} {c.old} {c.new}" for e in await store.audit(100) for c in e.changes
    )
    assert "argon2" not in everything
