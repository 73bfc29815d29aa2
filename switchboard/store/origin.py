"""Where a write comes from, for the audit trail (issue 17): how the actor proved who they
are, from which address, and in which request.

The edges know it (the HTTP edge per request, the CLI per command); the store writes it
into every audit entry it appends while it is set. It travels as a context variable, not
as a parameter: every write already takes its actor, and threading a second value through
each store and engine method would change every signature for a value no rule decides on.
A ``ContextVar`` belongs to the task that set it, so two requests never see each other's,
and ``acting_from`` puts the previous value back when the block ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

MAX_FIELD = 200
"""Longer values are cut: a source or a token name is short, and the trail must stay so."""


@dataclass(frozen=True, slots=True)
class Origin:
    via: str = "system"
    """How the actor proved who they are: ``session`` (a web session), ``token:NAME`` (an
    API token), ``password`` or ``sso`` (a sign-in), ``cli`` (the command line on the
    server), ``system`` (the switchboard itself: calendar, SIP, start-up)."""
    source: str = ""
    """The address the request came from (empty when there is none, as for the CLI)."""
    request_id: str = ""
    """The id the HTTP answer carries in ``X-Request-Id`` (or the CLI run's id)."""

    def __post_init__(self) -> None:
        for name in ("via", "source", "request_id"):
            value = getattr(self, name)
            if len(value) > MAX_FIELD:
                object.__setattr__(self, name, value[:MAX_FIELD])


SYSTEM = Origin()
_CURRENT: ContextVar[Origin] = ContextVar("switchboard_origin", default=SYSTEM)


def current_origin() -> Origin:
    return _CURRENT.get()


@contextmanager
def acting_from(origin: Origin) -> Iterator[Origin]:
    """Audit entries written inside the block carry ``origin``."""
    token = _CURRENT.set(origin)
    try:
        yield origin
    finally:
        _CURRENT.reset(token)
