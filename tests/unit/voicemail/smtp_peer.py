"""A tiny SMTP server (RFC 5321) on loopback for the tests: enough of EHLO, MAIL, RCPT,
DATA, RSET, NOOP and QUIT for ``smtplib`` to deliver a message, which it keeps."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SmtpPeer:
    host: str
    port: int
    inbox: list[Received] = field(default_factory=list)


async def _session(
    peer: SmtpPeer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    async def say(line: str) -> None:
        writer.write(line.encode() + b"\r\n")
        await writer.drain()

    sender, recipients = "", list[str]()
    await say("220 test ESMTP")
    try:
        while line := await reader.readline():
            verb = line[:4].decode("ascii", "replace").upper()
            if verb in ("EHLO", "HELO"):
                await say("250-test\r\n250 8BITMIME" if verb == "EHLO" else "250 test")
            elif verb == "MAIL":
                sender, recipients = line.decode().split(":", 1)[1].strip(), []
                await say("250 OK")
            elif verb == "RCPT":
                recipients.append(line.decode().split(":", 1)[1].strip())
                await say("250 OK")
            elif verb == "DATA":
                await say("354 go ahead")
                raw = bytearray()
                while (data := await reader.readline()) not in (b".\r\n", b""):
                    raw += data[1:] if data.startswith(b"..") else data
                peer.inbox.append(Received(sender, recipients, bytes(raw)))
                await say("250 queued")
            elif verb == "QUIT":
                await say("221 bye")
                break
            else:
                await say("250 OK")
    finally:
        writer.close()


@asynccontextmanager
async def smtp_peer() -> AsyncIterator[SmtpPeer]:
    peer = SmtpPeer("127.0.0.1", 0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _session(peer, reader, writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    peer.port = server.sockets[0].getsockname()[1]
    async with server:
        yield peer
