"""Voicemail as the app wires it: the spool, the message desk, the PINs for listening from
outside, and the executor they share.

``open_voicemail`` is what ``switchboard.app.open_runtime`` enters: it owns the one bounded
executor for blocking voicemail work (fsync, resampling, ``smtplib``), sweeps the spool
before anything writes to it, and shuts the executor down on the way out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from switchboard.clock import Clock
from switchboard.settings.mail import MailSettings
from switchboard.store.protocol import VoicemailStore
from switchboard.voicemail.notify import MailTransport, MessageDesk, SmtpTransport
from switchboard.voicemail.pins import VoicemailPins
from switchboard.voicemail.spool import SPOOL_NAME, Voicemail

THREADS = 2
"""Uploads and e-mails are rare; two threads keep one slow SMTP server from blocking all."""


@dataclass(frozen=True, slots=True)
class VoicemailServices:
    spool: Voicemail
    desk: MessageDesk
    pins: VoicemailPins
    """The PINs that open a mailbox from outside (listening by phone, issue 13)."""


@asynccontextmanager
async def open_voicemail(
    data_dir: Path,
    store: VoicemailStore,
    clock: Clock,
    zone: ZoneInfo,
    mail: MailSettings | None,
    is_secret: Callable[[str], bool],
    transport: MailTransport | None = None,
) -> AsyncIterator[VoicemailServices]:
    """The services on ``data_dir/voicemail``; ``is_secret`` says whether a number is one
    of our secret mobiles (the directory); ``transport`` replaces SMTP (tests)."""
    executor = ThreadPoolExecutor(THREADS, thread_name_prefix="voicemail")
    try:
        spool = Voicemail(data_dir / SPOOL_NAME, store, clock, executor, is_secret)
        await spool.sweep()
        if transport is None and mail is not None:
            transport = SmtpTransport(mail)
        sender = mail.from_address if mail is not None else None
        desk = MessageDesk(store, clock, executor, zone, transport, sender)
        yield VoicemailServices(spool, desk, VoicemailPins(store, clock, executor))
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
