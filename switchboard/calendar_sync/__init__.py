"""Calendar sources (R7): each reads a calendar and produces neutral CalendarItem values.

The meaning of those items is decided once, in the pure core
(:mod:`switchboard.presence.calendar`); the sources here only fetch and translate.
"""

from switchboard.calendar_sync.errors import CalendarError

__all__ = ["CalendarError"]
