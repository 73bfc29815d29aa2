"""A registration as the store keeps it: plain values, so the store needs no SIP code.

The registrar's bindings live in memory and expire on the event loop's monotonic clock;
a saved binding carries its expiry as a wall-clock instant (UTC) instead, which is what
still means something after a restart. The contact is kept as the text the 200 to the
REGISTER showed (``format_name_addr``), and the flow as the transport and source address
the REGISTER came from, which is where requests for the phone go (through NAT).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SavedBinding:
    aor: str
    """The address of record: the registered extension."""
    contact: str
    """The Contact as a name-addr, without ``expires``."""
    expires_at: datetime
    """When the binding lapses (UTC)."""
    call_id: str
    cseq: int
    """The REGISTER's Call-ID and CSeq number: a later REGISTER that reuses the Call-ID
    with a CSeq not above it is out of order (RFC 3261 §10.3 step 7), after a restart too."""
    transport: str
    host: str
    port: int
    q: float | None = None
