"""The media package's one exception base."""

from __future__ import annotations


class MediaError(Exception):
    """Base of every error the media package raises (SDP, RTP, ports, codecs)."""
