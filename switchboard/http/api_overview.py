"""``GET /api/v1/overview``: the reception's overview before typing (issue 16).

Who is away now and when each is back, who comes back within the hour, and who is away
later today, filtered by organisation and unit; from the live view (``OverviewCache``),
for accounts that may read everyone's presence, and each person only if the account may
read theirs. Numbers as in the search (R17), never a secret mobile (R18). Each section is
cut to ``limit`` people and says how many there are in all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from switchboard.directory.model import Person
from switchboard.http.api import require
from switchboard.http.context import ACCESS, BUS, ENGINE, LINES, OVERVIEW, PRINCIPAL
from switchboard.http.overview_cache import OverviewCache
from switchboard.http.principal import Permission
from switchboard.http.refusals import BadRequest, Code, not_whole_number, out_of_range
from switchboard.http.render import instant
from switchboard.http.shapes import person_json, presence_json
from switchboard.live.overview import OverviewEntry, Section, select

routes = web.RouteTableDef()
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_FILTER = 200


def install(app: web.Application) -> None:
    engine = app[ENGINE]
    app[OVERVIEW] = OverviewCache(engine.view, engine.settings.zone)
    app.router.add_routes(routes)
    app.cleanup_ctx.append(_listen)


async def _listen(app: web.Application) -> AsyncIterator[None]:
    """The overview hears whose inputs change, for as long as the app runs."""
    remove = app[BUS].add_listener(app[OVERVIEW].changed)
    try:
        yield
    finally:
        remove()


def _filter(request: web.Request, name: str) -> str | None:
    values = request.query.getall(name, [])
    if len(values) > 1:
        raise BadRequest(Code.GIVEN_TWICE, f"{name}: give it once", field=name)
    value = values[0].strip() if values else ""
    if len(value) > MAX_FILTER:
        raise BadRequest(
            Code.TOO_LONG,
            f"{name} may be at most {MAX_FILTER} characters",
            field=name,
            params={"max": MAX_FILTER},
        )
    return value or None


def _limit(request: web.Request) -> int:
    try:
        limit = int(request.query.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise not_whole_number("limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise out_of_range("limit", 1, MAX_LIMIT)
    return limit


@routes.get("/api/v1/overview")
async def overview(request: web.Request) -> web.Response:
    require(request, Permission.READ_PRESENCE, None)
    organisation = _filter(request, "organisation")
    unit = _filter(request, "unit")
    limit = _limit(request)
    engine, lines = request.app[ENGINE], request.app[LINES]
    zone = engine.settings.zone
    now = engine.clock.now()
    account = request[PRINCIPAL].account
    allowed = request.app[ACCESS].allowed

    def visible(person: Person) -> bool:
        return allowed(account, Permission.READ_PRESENCE, target=person)

    snapshot = await request.app[OVERVIEW].snapshot(now)
    sections, units = select(
        snapshot.entries.values(),
        now,
        limit,
        organisation=organisation,
        unit=unit,
        visible=visible,
    )

    def row(e: OverviewEntry, section: Section) -> dict[str, Any]:
        out = person_json(e.person, engine)
        out["presence"] = presence_json(e.person, engine, lines, now)
        out["overview"] = {
            "section": section.value,
            "reason": e.reason.value,
            "kind": e.kind.value,
            "source": e.source.value,
            "starts": instant(e.starts, zone),
            "until": instant(e.until, zone),
            "label": e.label,
        }
        return out

    return web.json_response(
        {
            "at": instant(now, zone),
            "organisation": organisation,
            "unit": unit,
            "units": units,
            "sections": {
                s.value: {
                    "total": listed.total,
                    "people": [row(e, s) for e in listed.entries],
                }
                for s, listed in sections.items()
            },
        }
    )
