"""Framing SIP messages on a byte stream (RFC 3261 §18.3, RFC 5626 §4.4.1).

Kept apart from ``parse`` so the stream state (a buffer per connection) lives next to
nothing else; ``parse`` re-exports ``StreamFramer`` for callers.
"""

from __future__ import annotations

from switchboard.sip.grammar import DEFAULT_LIMITS, Limits, ParseError


class StreamFramer:
    """Cuts a TCP byte stream into messages by Content-Length (RFC 3261 §18.3).

    On a stream Content-Length is mandatory. CRLFs between messages are the RFC 5626
    §4.4.1 keep-alive ping (CRLFCRLF) and pong (CRLF): they are skipped and each ping
    is counted in ``pings`` so the transport can answer it. Any ``ParseError`` means
    the stream can no longer be framed: close the connection.
    """

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self._limits = limits
        self._buffer = bytearray()
        self._scanned = 0  # the header end cannot start before this offset
        self._crlf_run = 0  # CR/LF bytes skipped since the last message
        self.pings = 0

    @property
    def pending(self) -> int:
        return len(self._buffer)

    @property
    def has_partial(self) -> bool:
        """True while part of a message waits: the transport's incomplete-header timer."""
        return bool(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer
        buffer += data
        out: list[bytes] = []
        while buffer:
            if not self._scanned and buffer[0] in b"\r\n":
                skipped = len(buffer) - len(buffer.lstrip(b"\r\n"))
                if skipped:
                    self._crlf_run += skipped
                    self.pings += self._crlf_run // 4 - (self._crlf_run - skipped) // 4
                    del buffer[:skipped]
                    continue
            end = buffer.find(b"\r\n\r\n", self._scanned)
            if end < 0:
                if len(buffer) > self._limits.max_message_bytes:
                    raise ParseError(513, "header block over the size limit without an end")
                self._scanned = max(1, len(buffer) - 3)
                break
            self._crlf_run = 0
            total = end + 4 + self._content_length(bytes(buffer[:end]))
            if total > self._limits.max_message_bytes:
                raise ParseError(513, f"message of {total} bytes over the size limit")
            self._scanned = max(1, end)
            if len(buffer) < total:
                break
            out.append(bytes(buffer[:total]))
            del buffer[:total]
            self._scanned = 0
        return out

    @staticmethod
    def _content_length(head: bytes) -> int:
        value: bytes | None = None
        for line in head.split(b"\r\n")[1:]:
            name, colon, rest = line.partition(b":")
            if colon and name.rstrip(b" \t").lower() in (b"content-length", b"l"):
                value = rest.strip(b" \t")
        if value is None:
            raise ParseError(400, "Content-Length: missing on a stream transport")
        if not value.isdigit() or len(value) > 9:
            raise ParseError(400, f"Content-Length: not a number {value[:20]!r}")
        return int(value)
