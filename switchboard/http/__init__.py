"""The HTTP edge: the JSON API, sign-in and the live event stream (pages come later)."""
