"""The floor for a SIP server in Python here: a bare responder, not a SIP server.

``bench/sip_load.py --target bare-redirect`` runs it beside Kamailio and switchboard. It
answers each INVITE with a 302 (Via, From, To, Call-ID and CSeq lines copied, a To tag
added, one Contact), each OPTIONS with 200, and drops the rest (the ACK). No parsing past
splitting lines, no transaction, no routing, no log line, no call record: what is left is
the event loop (uvloop when installed, as ``switchboard serve`` uses), the Python
callback and the kernel's receive and send. Its CPU per call is the least any Python
server pays on this machine, so switchboard's CPU minus this is what its SIP work costs.

Usage: python bench/bare_redirect.py PORT [TRUNK_HOST:PORT]
"""

from __future__ import annotations

import asyncio
import sys
from typing import cast

COPIED = (b"Via:", b"From:", b"To:", b"Call-ID:", b"CSeq:")


class BareRedirect(asyncio.DatagramProtocol):
    def __init__(self, contact: bytes) -> None:
        self.contact = contact
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's UDP transport is not a subclass of asyncio's, only alike.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if data.startswith(b"INVITE "):
            status = b"SIP/2.0 302 Moved Temporarily"
        elif data.startswith(b"OPTIONS "):
            status = b"SIP/2.0 200 OK"
        else:
            return  # the ACK to our 302, or anything else
        head = data.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]
        lines = [status]
        for line in head:
            if line.startswith(COPIED):
                lines.append(line + b";tag=bare" if line.startswith(b"To:") else line)
        lines += [self.contact, b"Content-Length: 0", b"", b""]
        if self.transport is not None:
            self.transport.sendto(b"\r\n".join(lines), addr)


async def serve(port: int, trunk: str) -> None:
    contact = f"Contact: <sip:+46706000001@{trunk}>".encode()
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(
        lambda: BareRedirect(contact), local_addr=("127.0.0.1", port)
    )
    await asyncio.Event().wait()


def main(argv: list[str]) -> None:
    port = int(argv[0])
    trunk = argv[1] if len(argv) > 1 else "127.0.0.1:5090"
    try:
        import uvloop  # optional, as for switchboard serve
    except ImportError:
        asyncio.run(serve(port, trunk))
    else:
        uvloop.run(serve(port, trunk))


if __name__ == "__main__":
    main(sys.argv[1:])
