"""A loopback EWS endpoint serving recorded Exchange 2016 SOAP responses (aiohttp, port 0).

It answers by what the request asks for, as Exchange does: ``GetFolder`` of the root or the
calendar, ``FindItem`` with a ``CalendarView``. Mailboxes listed in ``denied`` get Exchange's
``ErrorImpersonateUserDenied``. Requests are recorded so tests can see what exchangelib sent.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "calendar" / "ews"
_MAILBOX = re.compile(r"<t:PrimarySmtpAddress>([^<]+)</t:PrimarySmtpAddress>")


@dataclass
class EwsServer:
    endpoint: str = ""
    requests: list[str] = field(default_factory=list)
    """The SOAP operation of each request: GetFolder:root, GetFolder:calendar, FindItem."""
    bodies: list[str] = field(default_factory=list)
    denied: set[str] = field(default_factory=set)
    finditem: str = "finditem-calendarview.xml"


def _operation(body: str) -> str:
    if "<m:FindItem" in body:
        return "FindItem"
    match = re.search(r'<m:GetFolder>.*?DistinguishedFolderId Id="(\w+)"', body, re.DOTALL)
    return f"GetFolder:{match[1]}" if match else "unknown"


@asynccontextmanager
async def ews_server() -> AsyncIterator[EwsServer]:
    server = EwsServer()

    async def soap(request: web.Request) -> web.Response:
        body = await request.text()
        op = _operation(body)
        server.requests.append(op)
        server.bodies.append(body)
        mailbox = _MAILBOX.search(body)
        name: str | None
        if mailbox is not None and mailbox[1] in server.denied:
            name = "access-denied.xml"
        else:
            name = {
                "GetFolder:root": "getfolder-root.xml",
                "GetFolder:calendar": "getfolder-calendar.xml",
                "FindItem": server.finditem,
            }.get(op)
        if name is None:
            return web.Response(status=500, text=f"unexpected request {op}")
        return web.Response(
            body=(RECORDED / name).read_bytes(), content_type="text/xml", charset="utf-8"
        )

    app = web.Application()
    app.router.add_post("/EWS/Exchange.asmx", soap)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server.endpoint = f"http://127.0.0.1:{runner.addresses[0][1]}/EWS/Exchange.asmx"
        yield server
    finally:
        await runner.cleanup()
