"""The presence model's refusals carry a code and the field they concern (issue 16), so an
edge can say them in the reader's language on the right field; the core stays free of the
web (it knows only the words)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from switchboard.presence.model import (
    MAX_TEXT,
    PresenceError,
    Reason,
    Referral,
    ReferralKind,
    Template,
)

AWARE = datetime.fromisoformat("2026-11-23T10:00:00+01:00")
CASES: list[tuple[str, Callable[[], object], str, str, dict[str, object]]] = [
    (
        "naive return time",
        lambda: Referral(Reason.LUNCH, until=AWARE.replace(tzinfo=None)),
        "needs_zone",
        "until",
        {},
    ),
    (
        "other without text",
        lambda: Referral(Reason.OTHER, text="  "),
        "other_needs_text",
        "text",
        {},
    ),
    (
        "text too long",
        lambda: Referral(Reason.MEETING, text="x" * (MAX_TEXT + 1)),
        "too_long",
        "text",
        {"max": MAX_TEXT},
    ),
    ("template without name", lambda: Template(" ", Reason.LUNCH), "required", "name", {}),
    (
        "template other without text",
        lambda: Template("Annat", Reason.OTHER, ReferralKind.CLOSED),
        "other_needs_text",
        "text",
        {},
    ),
    (
        "template of no length",
        lambda: Template("Lunch", Reason.LUNCH, duration=timedelta(0)),
        "not_positive",
        "duration_minutes",
        {},
    ),
]


@pytest.mark.parametrize(
    ("make", "code", "field", "params"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_refused_value_names_its_code_and_field(
    make: Callable[[], object], code: str, field: str, params: dict[str, object]
) -> None:
    with pytest.raises(PresenceError) as caught:
        make()
    assert (caught.value.code, caught.value.field, dict(caught.value.params)) == (
        code,
        field,
        params,
    )
    assert str(caught.value)  # the English sentence stays for logs and API clients
