"""Planned referrals beside the current status (issue 16): which one is in force, which
plans are still to come, and which two would overlap.

Pure: every function takes the instant it is asked about.

Precedence (decided here, documented in docs/routing.md): at any instant the candidates are
the current manual status, if it applies, and every plan that applies; the one that
*started last* wins. Lunch set at 12:00 gives way to a holiday planned from the 21st; a
person back early from that holiday who sets "available" on the 23rd beats it again,
because that status started later. Two plans of one person never overlap: the engine
refuses the second (``overlapping``), so this order never has to choose between plans.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from switchboard.presence.model import ManualStatus, PlannedReferral


def in_force(
    manual: ManualStatus | None, plans: Iterable[PlannedReferral], now: datetime
) -> ManualStatus | None:
    """The status that applies at ``now``: the latest-starting of the current status and the
    active plans (a plan as ``PlannedReferral.status()``, with its start in ``starts``).
    When nothing applies, the current status itself (expired, or not yet started), so
    resolve() can still say why it does not apply."""
    best = manual if manual is not None and manual.active_at(now) else None
    for plan in plans:
        if plan.active_at(now) and (best is None or plan.starts >= best.start):
            best = plan.status()
    return best if best is not None else manual


def pending(plans: Iterable[PlannedReferral], now: datetime) -> tuple[PlannedReferral, ...]:
    """The plans that have not ended at ``now`` (in force or still to come), by start."""
    return tuple(sorted((p for p in plans if not p.ended_at(now)), key=lambda p: p.starts))


def overlapping(
    plans: Iterable[PlannedReferral], starts: datetime, end: datetime | None
) -> PlannedReferral | None:
    """The first plan whose stretch meets [``starts``, ``end``) (None: open-ended), if any."""
    for plan in sorted(plans, key=lambda p: p.starts):
        plan_end = plan.end
        if (end is None or plan.starts < end) and (plan_end is None or starts < plan_end):
            return plan
    return None
