"""Call records and call lists (R19): what the SIP edge saw, kept for a while, and released
only to the nearest manager on an approved request."""
