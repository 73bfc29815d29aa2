"""``[own_calendars]``: whether employees may connect their own calendar from their page
(issue 16), and which kinds.

Nothing is allowed by default: a feed URL an employee types is fetched by the server, so an
administrator opts in, preferably with a host allow-list (docs/calendar.md). Microsoft 365
goes through a Graph application already configured as a ``[[calendars]]`` source of type
``graph`` (its tenant, client id and secret); the employee gives only the mailbox.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from switchboard.settings.calendar import CalendarSource, CalendarType

Fail = Callable[[str, str], Exception]
OWN_CALENDAR_KEYS = {"ics", "ics_http", "ics_hosts", "graph", "poll"}
_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class OwnCalendarPolicy:
    ics: bool = False
    """Employees may connect an iCalendar feed by URL."""
    ics_http: bool = False
    """Also plain ``http://`` feeds (an internal server); otherwise https only."""
    ics_hosts: tuple[str, ...] = ()
    """Feeds only from these hosts (or hosts below them); empty: any host."""
    graph: str | None = None
    """The name of the ``[[calendars]]`` graph source whose application reads the mailbox;
    None: Microsoft 365 is not offered."""
    poll: int = 300
    """Seconds between reads of each connected calendar."""

    @property
    def allowed(self) -> bool:
        return self.ics or self.graph is not None


def parse_own_calendars(
    table: dict[str, Any], sources: Sequence[CalendarSource], fail: Fail
) -> OwnCalendarPolicy:
    def flag(key: str) -> bool:
        v = table.get(key, False)
        if not isinstance(v, bool):
            raise fail(key, f"must be true or false, got {v!r}")
        return v

    hosts_value = table.get("ics_hosts", [])
    if not isinstance(hosts_value, list) or not all(isinstance(h, str) for h in hosts_value):
        raise fail("ics_hosts", 'must be a list of host names, e.g. ["outlook.office365.com"]')
    hosts: list[str] = []
    for text in hosts_value:
        host = text.strip().lower().rstrip(".")
        if not _HOST.match(host):
            raise fail("ics_hosts", f"{text!r} is not a host name (outlook.office365.com)")
        hosts.append(host)
    graph = table.get("graph")
    if graph is not None:
        graphs = [s.name for s in sources if s.type is CalendarType.GRAPH]
        if not isinstance(graph, str) or graph not in graphs:
            known = ", ".join(graphs) or "none is configured"
            raise fail(
                "graph",
                f"must name a [[calendars]] source of type 'graph' ({known}), got {graph!r}",
            )
    poll = table.get("poll", 300)
    if isinstance(poll, bool) or not isinstance(poll, int) or not 60 <= poll <= 86_400:
        raise fail("poll", f"must be a whole number 60-86400, got {poll!r}")
    return OwnCalendarPolicy(flag("ics"), flag("ics_http"), tuple(hosts), graph, poll)
