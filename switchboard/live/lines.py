"""Line state: who is in a call through the switchboard right now (issue 3).

Not stored: a call in progress is a fact of this process's SIP edge, gone when it stops.
Each change is published on the event bus as ``LineStateChanged`` so the availability side
(the receptionist screen, the employee's page) can show "in a call" at once.
"""

from __future__ import annotations

from collections import Counter

from switchboard.events import LineStateChanged
from switchboard.store.bus import EventBus


class LineStates:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._calls: Counter[str] = Counter()

    def changed(self, person_id: str, in_call: bool) -> None:
        """One call through us started (True) or ended (False) for this person."""
        before = self._calls[person_id]
        after = before + 1 if in_call else max(0, before - 1)
        if after:
            self._calls[person_id] = after
        else:
            self._calls.pop(person_id, None)
        if bool(before) != bool(after):
            self._bus.publish(LineStateChanged(person_id, bool(after), after))

    def in_call(self, person_id: str) -> bool:
        return self._calls[person_id] > 0

    def calls(self, person_id: str) -> int:
        return self._calls[person_id]
