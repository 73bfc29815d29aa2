"""Line state: who is in a call through the switchboard right now (issue 3).

Not stored: a call in progress is a fact of the SIP edge of the process carrying it, gone
when that process stops. Each change is published on the event bus as
``LineStateChanged`` so the availability side (the receptionist screen, the employee's
page) can show "in a call" at once.

With ``serve --workers`` each worker carries its own calls and tells the others
(``changed(..., worker=sender)``): every worker counts every worker's calls, each apart,
so a screen served by one shows the calls another carries. A worker that starts again
after a crash says so, and the others drop what they counted for it (``replace``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from switchboard.events import LineStateChanged
from switchboard.store.bus import EventBus

HERE = -1
"""The ``worker`` of calls this process carries."""


class LineStates:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._calls: Counter[str] = Counter()
        """Every worker's calls together, per person."""
        self._by_worker: dict[int, Counter[str]] = {}

    def changed(self, person_id: str, in_call: bool, worker: int = HERE) -> None:
        """One call through ``worker`` (default: this process) started (True) or ended
        (False) for this person."""
        mine = self._by_worker.setdefault(worker, Counter())
        if in_call:
            mine[person_id] += 1
            self._add(person_id, 1)
        elif mine[person_id] > 0:
            mine[person_id] -= 1
            if not mine[person_id]:
                del mine[person_id]
            self._add(person_id, -1)
        else:
            mine.pop(person_id, None)  # an end without a start: nothing to count down

    def replace(self, worker: int, counts: Mapping[str, int]) -> None:
        """``worker`` now carries exactly ``counts`` calls per person (none: it restarted)."""
        mine = self._by_worker.setdefault(worker, Counter())
        for person_id in set(mine) | set(counts):
            change = max(0, counts.get(person_id, 0)) - mine[person_id]
            if counts.get(person_id, 0) > 0:
                mine[person_id] = counts[person_id]
            else:
                mine.pop(person_id, None)
            if change:
                self._add(person_id, change)

    def carried(self, worker: int = HERE) -> dict[str, int]:
        """The calls ``worker`` (default: this process) carries, per person."""
        return dict(self._by_worker.get(worker, {}))

    def in_call(self, person_id: str) -> bool:
        return self._calls[person_id] > 0

    def calls(self, person_id: str) -> int:
        return self._calls[person_id]

    def _add(self, person_id: str, change: int) -> None:
        before = self._calls[person_id]
        after = max(0, before + change)
        if after:
            self._calls[person_id] = after
        else:
            self._calls.pop(person_id, None)
        if bool(before) != bool(after):
            self._bus.publish(LineStateChanged(person_id, bool(after), after))
