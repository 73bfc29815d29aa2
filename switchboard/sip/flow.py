"""Where a SIP message came from or goes to: transport and address (RFC 3261 §18)."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.routing.values import quick_init


@quick_init
@dataclass(frozen=True, slots=True)
class Flow:
    """One hop: ``transport`` is ``udp`` or ``tcp``; ``host`` an IP literal (no brackets)."""

    transport: str
    host: str
    port: int

    @property
    def reliable(self) -> bool:
        """Reliable transports need no retransmissions (RFC 3261 §17.1.1.2, timers A/E/G)."""
        return self.transport != "udp"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport}:{host}:{self.port}"
