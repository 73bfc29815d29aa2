"""The Store contract, part 8b: an audit entry keeps its words (issue 16).

Same fixture as the other parts. Each write's entry carries its detail and changes as
catalog keys and values beside the English, both backends store and read them the same
way, the English is rendered from them, and an entry given only English has none.
"""

from __future__ import annotations

from switchboard.presence.model import Reason
from switchboard.store.audit import Arg, ArgKind, AuditDecision, Phrase
from switchboard.store.audit_english import english, words_json
from tests.contract.conftest import Backend
from tests.contract.values import ADMIN, LUNCH, T0, grant, lunch_referral, person


async def test_an_entrys_words_round_trip(backend: Backend) -> None:
    store = backend.store
    await store.import_people([person(1)], ADMIN, T0)
    await store.set_manual("p1", lunch_referral(), "reception", T0)
    await store.save_template("p1", LUNCH, "anna", T0)
    await store.grant_exception(grant("p1"))

    entries = await store.audit()
    assert [e.action for e in entries] == [
        "exception_granted",
        "template_saved",
        "manual_set",
        "directory_imported",
        "person_created",
    ]
    for entry in entries:
        assert entry.words is not None, entry.action
        assert english(entry.words.detail) == entry.detail, entry.action
        assert len(entry.words.changes) == len(entry.changes), entry.action
        for change, said in zip(entry.changes, entry.words.changes, strict=True):
            assert said is not None, (entry.action, change.field)
            assert english(said.field) == change.field
            assert english(said.old) == change.old
            assert english(said.new) == change.new

    manual = entries[2]
    assert manual.words is not None
    first = manual.words.detail[0]
    assert first.key == "audit.say.referral"
    assert dict(first.args)["reason"] == Arg(ArgKind.WORD, Reason.OTHER.value, "reason")
    until = manual.words.detail[1]
    assert until == Phrase(
        "audit.say.until", (("at", Arg(ArgKind.INSTANT, "2024-05-02T11:00:00+00:00")),)
    )
    # The note as typed (it is masked if it holds a number), the divert number masked.
    stored = words_json(manual.words)
    assert stored is not None
    assert "På kurs i Malmö" in stored
    assert "+46709876543" not in stored


async def test_an_entry_given_only_english_has_no_words(backend: Backend) -> None:
    await backend.store.append_audit(
        T0, "root", "access_refused", "directory", "made up", AuditDecision.REFUSED
    )
    (entry,) = await backend.store.audit(1)
    assert entry.detail == "made up"
    assert entry.words is None
