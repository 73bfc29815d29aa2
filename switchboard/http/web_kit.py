"""What the pages are made of: Jinja2 templates, the translations, and the static files.

Everything is read from the top-level ``web/`` folder through ``settings.resources.bundled`` so an
installed wheel (where it lives in ``switchboard/_data/web``) serves the same pages as a
checkout. Loaded once when the app is built and kept on the app (``WEB``): no module state.

Static files are served with a version in their URL (``/static/app.css?v=<hash>``): a hash
of every static file, so a new release changes every URL and browsers may keep a versioned
file for a year (``immutable``); an unversioned or stale URL is revalidated each time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import jinja2
from aiohttp import web

from switchboard.presence.labels import label
from switchboard.presence.model import Reason
from switchboard.settings.resources import bundled

LANGUAGES = ("sv", "nb", "en")
"""The page languages (issue 5): Swedish, Norwegian bokmål, English."""
LOCALES = MappingProxyType({"sv": "sv-SE", "nb": "nb-NO", "en": "en-GB"})
"""For ``Intl`` date and time formatting in the browser."""
LANGUAGE_ALIASES = MappingProxyType({"no": "nb", "nn": "nb", "nb": "nb", "sv": "sv", "en": "en"})
"""Accept-Language primary tags we understand: Norwegian of any written form reads bokmål."""

MANUAL_REASONS = tuple(r.value for r in Reason if r is not Reason.OUTSIDE_HOURS)
"""What a person may pick (R6); "outside hours" comes from the schedule alone (R8)."""
STATIC_PATH = "/static/{name}"
LONG_CACHE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class WebAssetsError(Exception):
    """The ``web/`` folder is incomplete: reinstall the package or restore the files."""


@dataclass(frozen=True, slots=True)
class WebKit:
    env: jinja2.Environment
    catalogs: Mapping[str, Mapping[str, str]]
    """Language -> key -> text: the ``web/i18n/*.json`` files plus the referral reasons."""
    static_root: Path
    version: str
    """Short hash of every static file: the cache-busting query of their URLs."""

    def strings(self, language: str) -> Mapping[str, str]:
        return self.catalogs.get(language, self.catalogs["sv"])

    def static_url(self, name: str) -> str:
        return f"/static/{name}?v={self.version}"


def _reason_labels(language: str) -> dict[str, str]:
    """Referral reasons in the words the announcements use (``presence.labels``, R6/R10)."""
    return {f"reason.{reason.value}": label(reason, language) for reason in Reason}


def load_catalogs(folder: Path) -> dict[str, Mapping[str, str]]:
    catalogs: dict[str, Mapping[str, str]] = {}
    for language in LANGUAGES:
        path = folder / f"{language}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise WebAssetsError(f"cannot read the page translations {path}: {exc}") from None
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise WebAssetsError(f"{path} must be one JSON object of strings")
        catalogs[language] = MappingProxyType(data | _reason_labels(language))
    return catalogs


def static_version(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def load_web_kit() -> WebKit:
    try:
        templates = bundled("web/templates")
        static = bundled("web/static")
        i18n = bundled("web/i18n")
    except FileNotFoundError as exc:
        raise WebAssetsError(str(exc)) from None
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    version = static_version(static)
    kit = WebKit(env, load_catalogs(i18n), static.resolve(), version)
    env.globals["static"] = kit.static_url
    env.globals["reasons"] = MANUAL_REASONS
    return kit


WEB = web.AppKey("web_kit", WebKit)


def pick_language(
    asked: str | None,
    cookie: str | None,
    person_language: str | None,
    accept_language: str | None,
    default: str,
) -> str:
    """``?lang=`` beats the cookie, which beats the person's language from the directory,
    which beats the browser's Accept-Language; then the configured default (RFC 9110
    §12.5.4: q-values are honoured, ``*`` and unknown tags skipped)."""
    for choice in (asked, cookie, person_language):
        if choice in LANGUAGES:
            return choice
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if primary in LANGUAGE_ALIASES and quality > 0:
            ranked.append((-quality, index, LANGUAGE_ALIASES[primary]))
    if ranked:
        return min(ranked)[2]
    return default if default in LANGUAGES else "sv"


async def static_file(request: web.Request) -> web.StreamResponse:
    """``GET /static/{name}``: a file of ``web/static`` (never outside it), cached for a
    year when asked for with the current version, revalidated otherwise."""
    kit = request.app[WEB]
    name = request.match_info["name"]
    target = (kit.static_root / name).resolve()
    if not target.is_relative_to(kit.static_root) or not target.is_file():
        raise web.HTTPNotFound(text="no such file")
    response = web.FileResponse(target)
    current = request.query.get("v") == kit.version
    response.headers["Cache-Control"] = LONG_CACHE if current else REVALIDATE
    return response
