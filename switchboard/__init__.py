"""switchboard: a telephony switchboard and presence engine."""
