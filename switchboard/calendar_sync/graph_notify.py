"""Graph change notifications: the receiver and the subscriptions (R7, push).

- **Receiver**: an aiohttp handler for the ``notificationUrl``. Graph first POSTs with
  ``?validationToken=...`` and expects the token echoed as ``text/plain`` within 10 seconds;
  afterwards it POSTs ``{"value": [...]}`` batches and wants a 2xx within 3 seconds, so the
  handler only checks ``clientState`` (the shared secret that proves the sender) and hands a
  :class:`Notification` to the worker, which refreshes that person's calendar.
- **Lifecycle notifications** (same URL, ``lifecycleNotificationUrl``): ``missed`` means
  changes were dropped (a full reconcile follows), ``reauthorizationRequired`` and
  ``subscriptionRemoved`` mean the subscription must be renewed or created again.
- **Subscriptions** on ``/users/{id}/events`` expire (at most 7 days for Outlook resources):
  they are created for three days and renewed when less than a day is left.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import structlog
from aiohttp import web

from switchboard.calendar_sync.graph import GraphClient

log = structlog.get_logger()

LIFETIME = timedelta(days=3)
RENEW_BEFORE = timedelta(days=1)
NOTIFY_PATH = "/graph/notify"


class NotificationKind(StrEnum):
    CHANGED = "changed"
    MISSED = "missed"
    REAUTHORIZATION_REQUIRED = "reauthorization_required"
    REMOVED = "removed"


_LIFECYCLE = {
    "missed": NotificationKind.MISSED,
    "reauthorizationRequired": NotificationKind.REAUTHORIZATION_REQUIRED,
    "subscriptionRemoved": NotificationKind.REMOVED,
}


@dataclass(frozen=True, slots=True)
class Notification:
    subscription_id: str
    kind: NotificationKind


Deliver = Callable[[Notification], None]


def new_client_state() -> str:
    """A fresh shared secret for ``clientState`` (Graph echoes it in every notification)."""
    return secrets.token_urlsafe(24)


def notification_app(client_state: str, deliver: Deliver) -> web.Application:
    """The aiohttp application serving ``NOTIFY_PATH`` for one Graph source."""

    async def notify(request: web.Request) -> web.StreamResponse:
        token = request.query.get("validationToken")
        if token is not None:
            # Graph's handshake: echo the token, as plain text, at once.
            return web.Response(text=token, content_type="text/plain")
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="expected a JSON notification batch") from None
        values = body.get("value") if isinstance(body, dict) else None
        if not isinstance(values, list):
            raise web.HTTPBadRequest(text="expected a JSON notification batch")
        refused = 0
        for value in values:
            if not isinstance(value, dict) or value.get("clientState") != client_state:
                refused += 1
                continue
            kind = _LIFECYCLE.get(str(value.get("lifecycleEvent")), NotificationKind.CHANGED)
            deliver(Notification(str(value.get("subscriptionId")), kind))
        if refused:
            log.warning("graph_notification_refused", count=refused, reason="client_state")
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post(NOTIFY_PATH, notify)
    return app


@dataclass(frozen=True, slots=True)
class Subscription:
    subscription_id: str
    user: str
    expires: datetime

    def due(self, now: datetime) -> bool:
        return self.expires - now < RENEW_BEFORE


def _expiry(now: datetime) -> str:
    return (now + LIFETIME).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def _parse(data: dict[str, Any], user: str, now: datetime) -> Subscription:
    text = str(data.get("expirationDateTime") or "").rstrip("Z")[:26]
    try:
        parsed = datetime.fromisoformat(text)
        expires = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        expires = now + LIFETIME
    return Subscription(str(data["id"]), user, expires)


async def subscribe(
    client: GraphClient, user: str, notification_url: str, client_state: str, now: datetime
) -> Subscription:
    """Create a subscription to ``user``'s events (Graph validates the URL while we wait)."""
    body = {
        "changeType": "created,updated,deleted",
        "notificationUrl": notification_url,
        "lifecycleNotificationUrl": notification_url,
        "resource": f"/users/{quote(user)}/events",
        "expirationDateTime": _expiry(now),
        "clientState": client_state,
    }
    return _parse(await client.send("POST", f"{client.graph_url}/subscriptions", body), user, now)


async def renew(client: GraphClient, subscription: Subscription, now: datetime) -> Subscription:
    """Extend a subscription (also answers ``reauthorizationRequired``)."""
    url = f"{client.graph_url}/subscriptions/{quote(subscription.subscription_id)}"
    data = await client.send("PATCH", url, {"expirationDateTime": _expiry(now)})
    return _parse({"id": subscription.subscription_id, **data}, subscription.user, now)
