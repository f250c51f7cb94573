"""The pages: directory ``/``, facility ``/facilities/{id}``, ``/embed/card.js``, the in-facility
screen ``/screen/{id}``, the agent console ``/agent``, the operations dashboard ``/ops``, the static
assets under ``/static/``, and ``GET /v1/ops/summary`` (what the operations dashboard polls;
a bearer token of role ``ops`` or ``supervisor``, which the ``/ops`` page asks for and keeps in the
browser tab like the agent console).

Pages are HTML rendered here from the catalogue and the live statuses (so they read without
JavaScript and carry schema.org JSON-LD), then enhanced by the ES modules of ``dashboards/``.
Assets are read from disk once per modification, served with a strong ETag, ``Cache-Control`` and
a gzip variant when the browser accepts it.

The operations summary is computed from what an API process has: the statuses it mirrors
(counts by state, stale sources, overdue closures), its hub (clients, status changes/s) and Kafka
itself (input end offsets → events/s, the stream workers' committed offsets → consumer lag, the
``dead-letters`` end offsets → dead-letter count) — the workers' own Prometheus endpoints are not
reachable from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import html
import logging
import mimetypes
import posixpath
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from typing import Annotated, Any

import orjson
import segno
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.auth import Authenticated, Forbidden, Role
from api.context import Ctx
from api.errors import ERROR_RESPONSES, ErrorResponse, error_response
from api.jsonld import facility_jsonld
from api.views import OPEN_STATES, render_item
from paris_live.settings import Settings
from schemas import topics as contract
from schemas.catalogue import FACILITY_TYPES, TYPE_LABELS, Facility, normalize_text
from schemas.clock import PARIS

__all__ = ["OpsSampler", "router"]

logger = logging.getLogger("paris_live.api.pages")
DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
ASSET_MAX_AGE = 300
STREAMS_GROUP = "paris-live-streams"
"""The stream workers' consumer group (``streams.app.APP_NAME``), before the topic prefix."""
LAG_ALERT = 10_000
"""Records behind before the dashboard raises a consumer-lag alert."""

# ── Words the server writes (the card carries its own; French first) ─────────────────────────
WORDS: dict[str, dict[str, Any]] = {
    "fr": {
        "states": {
            "open": "Ouvert",
            "closing_soon": "Ferme bientôt",
            "closed": "Fermé",
            "exceptionally_closed": "Fermé exceptionnellement",
            "partially_closed": "Partiellement fermé",
            "unknown": "État inconnu",
        },
        "levels": {
            "low": "Peu de monde",
            "moderate": "Affluence modérée",
            "high": "Forte affluence",
            "full": "Complet",
        },
        "directory": "Équipements de la Ville de Paris en direct",
        "search": "Rechercher un équipement",
        "type": "Type d'équipement",
        "all_types": "Tous les types",
        "arrondissement": "Arrondissement",
        "all": "Tous",
        "open_now": "Ouvert maintenant",
        "low_crowd": "Peu d'affluence",
        "accessible": "Accessible en fauteuil roulant",
        "filter": "Filtrer",
        "details": "Détail et meilleur moment pour venir",
        "results": "équipements",
        "today": "Aujourd'hui",
        "closed_today": "Fermé aujourd'hui",
        "closures": "Fermeture en cours",
        "address": "Adresse",
        "contact": "Contact",
        "back": "Tous les équipements",
        "other_lang": ("English", "en"),
        "screen": "Écran d'accueil",
        "agent": "Console agents — fermetures exceptionnelles",
        "ops": "Supervision — Paris Live",
        "not_found": "Équipement inconnu",
        "skip": "Aller au contenu",
        "feedback": "Votre avis compte : scannez pour répondre",
    },
    "en": {
        "states": {
            "open": "Open",
            "closing_soon": "Closing soon",
            "closed": "Closed",
            "exceptionally_closed": "Exceptionally closed",
            "partially_closed": "Partly closed",
            "unknown": "Status unknown",
        },
        "levels": {
            "low": "Quiet",
            "moderate": "Moderately busy",
            "high": "Very busy",
            "full": "Full",
        },
        "directory": "City of Paris facilities, live",
        "search": "Search a facility",
        "type": "Type of facility",
        "all_types": "All types",
        "arrondissement": "Arrondissement",
        "all": "All",
        "open_now": "Open now",
        "low_crowd": "Not crowded",
        "accessible": "Wheelchair accessible",
        "filter": "Filter",
        "details": "Details and best time to come",
        "results": "facilities",
        "today": "Today",
        "closed_today": "Closed today",
        "closures": "Current closure",
        "address": "Address",
        "contact": "Contact",
        "back": "All facilities",
        "other_lang": ("Français", "fr"),
        "screen": "Welcome screen",
        "agent": "Staff console — exceptional closures",
        "ops": "Operations — Paris Live",
        "not_found": "Unknown facility",
        "skip": "Skip to content",
        "feedback": "Your opinion matters: scan to answer",
    },
}
ICONS = {"open": "✓", "closing_soon": "◔", "partially_closed": "◑"}
TONES = {
    "open": "ok",
    "closing_soon": "warn",
    "partially_closed": "warn",
    "exceptionally_closed": "alert",
}

Lang = Annotated[str | None, Query(pattern="^(fr|en)$", description="fr (default) or en")]


def _lang(value: str | None) -> str:
    return "en" if value == "en" else "fr"


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


# ── Assets ────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str
    media_type: str
    mtime: float


_assets: dict[Path, Asset] = {}
_templates: dict[str, tuple[float, Template]] = {}


ASSET_FOLDERS = ("pages", "embed")
"""The folders of ``dashboards/`` whose files are served under ``/static/`` (never templates)."""
ASSET_SUFFIXES = frozenset(
    {".js", ".mjs", ".css", ".svg", ".png", ".jpg", ".webp", ".ico", ".woff2"}
)


def asset_allow_list(root: Path = DASHBOARDS) -> dict[str, Path]:
    """``relative path → file`` of every servable asset, built once from what is on disk."""
    found: dict[str, Path] = {}
    for folder in ASSET_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and not path.is_symlink() and path.suffix in ASSET_SUFFIXES:
                found[path.relative_to(root).as_posix()] = path
    return found


ASSETS = asset_allow_list()


def asset(relative: str) -> Asset | None:
    """An allow-listed asset (None for anything else), re-read when it changes.

    The requested path is normalised (``a/../b`` → ``b``) and then only looked up in
    :data:`ASSETS`: nothing a client sends is ever joined to a filesystem path."""
    path = ASSETS.get(posixpath.normpath(relative)) if relative else None
    if path is None:
        return None
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:  # removed since the start: gone
        return None
    cached = _assets.get(path)
    if cached is not None and cached.mtime == mtime:
        return cached
    body = path.read_bytes()
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix in {".js", ".mjs"}:
        media = "text/javascript"
    if media.startswith("text/") or media in {"image/svg+xml", "application/json"}:
        media += "; charset=utf-8"
    found = Asset(
        body,
        gzip.compress(body, compresslevel=9, mtime=0),
        '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"',
        media,
        mtime,
    )
    _assets[path] = found
    return found


def serve_asset(request: Request, found: Asset, max_age: int = ASSET_MAX_AGE) -> Response:
    headers = {
        "ETag": found.etag,
        "Cache-Control": f"public, max-age={max_age}, stale-while-revalidate=86400",
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match", "").replace("W/", "") == found.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", "") and len(found.body) > 1024:
        headers["Content-Encoding"] = "gzip"
        return Response(found.gzipped, media_type=found.media_type, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)


def template(name: str) -> Template:
    path = DASHBOARDS / "templates" / name
    mtime = path.stat().st_mtime
    cached = _templates.get(name)
    if cached is None or cached[0] != mtime:
        cached = (mtime, Template(path.read_text(encoding="utf-8")))
        _templates[name] = cached
    return cached[1]


def html_page(body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        body,
        status_code=status_code,
        headers={
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
    )


def layout(
    lang: str, title: str, main: str, *, scripts: Iterable[str] = (), head: str = "", path: str
) -> str:
    words = WORDS[lang]
    label, other = words["other_lang"]
    script_tags = "".join(f'<script type="module" src="{esc(s)}"></script>' for s in scripts)
    return template("layout.html").substitute(
        lang=lang,
        title=esc(title),
        head=head + script_tags,
        skip=esc(words["skip"]),
        switch=f'<a href="{esc(path)}?lang={other}" lang="{other}" hreflang="{other}">{label}</a>',
        main=main,
    )


# ── Rendering helpers ─────────────────────────────────────────────────────────────────────────


def state_badge(state: str, lang: str) -> str:
    tone = TONES.get(state, "off")
    icon = ICONS.get(
        state, "✕" if state == "exceptionally_closed" else "?" if state == "unknown" else "☾"
    )
    words = WORDS[lang]["states"].get(state, WORDS[lang]["states"]["unknown"])
    return (
        f'<span class="badge {tone}" data-state="{esc(state)}">'
        f'<span aria-hidden="true">{icon}</span> {esc(words)}</span>'
    )


def hours_text(status: dict[str, Any], lang: str) -> str:
    spans = ", ".join(f"{h['opens']}–{h['closes']}" for h in status.get("today_hours") or [])
    words = WORDS[lang]
    return f"{words['today']} : {spans}" if spans else words["closed_today"]


async def _statuses(ctx: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    now = datetime.now(UTC)
    raws = await ctx.statuses(ids)
    out = {}
    for facility_id in ids:
        facility = ctx.catalogue.get(facility_id) if facility_id in ctx.catalogue else None
        if facility is None and facility_id not in raws:
            continue
        out[facility_id] = orjson.loads(
            render_item(raws.get(facility_id), facility, full=False, now=now)
        )
    return out


def _matches(
    item: dict[str, Any],
    *,
    type_: str | None,
    arrondissement: int | None,
    open_now: bool,
    low_crowd: bool,
    accessible: bool,
    allowed: set[str] | None,
) -> bool:
    if allowed is not None and item["facility_id"] not in allowed:
        return False
    if type_ and item["type"] != type_:
        return False
    if arrondissement and item["arrondissement"] != arrondissement:
        return False
    if open_now and item["open_state"] not in OPEN_STATES:
        return False
    occupancy = item.get("occupancy") or {}
    if low_crowd and occupancy.get("level") not in {"low", None}:
        return False
    features = (item.get("catalogue") or {}).get("accessibility") or []
    return not (accessible and "wheelchair_accessible" not in features)


def directory_item(item: dict[str, Any], lang: str, *, hidden: bool) -> str:
    """One facility of the directory; its data attributes let the page filter and update it."""
    words = WORDS[lang]
    label = TYPE_LABELS.get(item["type"])
    kind = (label.en if lang == "en" else label.fr) if label else item["type"]
    occupancy = item.get("occupancy") or {}
    level = occupancy.get("level")
    crowd = (
        f'<span class="crowd lvl-{esc(level)}">{esc(words["levels"][level])}</span>'
        if level
        else ""
    )
    closure = ""
    if item.get("closures"):
        first = item["closures"][0]
        message = first["message"].get(lang) or first["message"]["fr"]
        closure = f'<p class="closure-note">{esc(words["closures"])} : {esc(message)}</p>'
    summary = item.get("catalogue") or {}
    address = (summary.get("address") or {}).get("street", "")
    haystack = normalize_text(
        f"{item['name']} {address} {label.fr if label else ''} "
        f"{label.en if label else ''} {item['facility_id']}"
    )
    href = f"/facilities/{esc(item['facility_id'])}" + ("?lang=en" if lang == "en" else "")
    return (
        f'<li class="facility" data-id="{esc(item["facility_id"])}" data-type="{esc(item["type"])}"'
        f' data-arr="{item["arrondissement"]}" data-search="{esc(haystack)}"'
        f' data-access="{esc(" ".join(summary.get("accessibility") or []))}"'
        f"{' hidden' if hidden else ''}>"
        f'<h2><a href="{href}">{esc(item["name"])}</a></h2>'
        f'<p class="meta">{esc(kind)} · {arr_label(item["arrondissement"], lang)}</p>'
        f'<p class="live">{state_badge(item["open_state"], lang)} {crowd}</p>'
        f'<p class="hours">{esc(hours_text(item, lang))}</p>{closure}'
        f'<button type="button" class="more" aria-controls="detail">{esc(words["details"])}'
        f'<span class="visually-hidden"> — {esc(item["name"])}</span></button></li>'
    )


def arr_label(n: int, lang: str) -> str:
    if lang == "en":
        return f"Paris {n:02d}"
    return "1er arrondissement" if n == 1 else f"{n}e arrondissement"


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as an inline SVG that scales with its box."""
    code = segno.make(url, error="m")
    svg: str = code.svg_inline(scale=1, border=2, omitsize=True, dark="#000", light="#fff")
    return svg.replace("<svg ", '<svg role="img" aria-labelledby="qr-label" ', 1)


def json_script(element_id: str, value: Any) -> str:
    """JSON in a ``<script type="application/json">`` that no text can close early."""
    text = orjson.dumps(value).decode().replace("<", "\\u003c")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def not_found(lang: str, path: str) -> HTMLResponse:
    words = WORDS[lang]
    main = f'<h1>{esc(words["not_found"])}</h1><p><a href="/">{esc(words["back"])}</a></p>'
    return html_page(layout(lang, words["not_found"], main, path=path), status_code=404)


# ── The ops summary ───────────────────────────────────────────────────────────────────────────


@dataclass
class OpsSampler:
    """Samples Kafka (end offsets, the workers' committed offsets) at most every ``every``
    seconds and keeps the last samples for the sparklines; one per API process."""

    every: float = 4.0
    keep: int = 90
    samples: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=90))
    error: str | None = None
    _clients: tuple[Any, Any] | None = None
    _bootstrap: str | None = None
    _retry_at: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _last_updates: tuple[float, int] | None = None

    async def close(self) -> None:
        if self._clients is not None:
            consumer, admin = self._clients
            self._clients = None
            with contextlib.suppress(Exception):
                await consumer.stop()
            with contextlib.suppress(Exception):
                await admin.close()

    async def _connect(self, settings: Settings) -> tuple[Any, Any]:
        from aiokafka import AIOKafkaConsumer
        from aiokafka.admin import AIOKafkaAdminClient

        if self._clients is not None and self._bootstrap == settings.kafka:
            return self._clients
        await self.close()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka, request_timeout_ms=3000, client_id="paris-live-ops"
        )
        admin = AIOKafkaAdminClient(
            bootstrap_servers=settings.kafka, request_timeout_ms=3000, client_id="paris-live-ops"
        )
        try:
            await asyncio.wait_for(consumer.start(), timeout=4.0)
            await asyncio.wait_for(admin.start(), timeout=4.0)
        except BaseException:
            with contextlib.suppress(Exception):
                await consumer.stop()
            with contextlib.suppress(Exception):
                await admin.close()
            raise
        self._clients, self._bootstrap = (consumer, admin), settings.kafka
        return self._clients

    async def _kafka(self, settings: Settings) -> dict[str, int | None]:
        from aiokafka import TopicPartition

        consumer, admin = await self._connect(settings)
        input_names = [settings.topic(base) for base in contract.INPUT_TOPICS]
        dead_name = settings.topic(contract.DEAD_LETTERS)
        described = await asyncio.wait_for(
            admin.describe_topics([*input_names, dead_name]), timeout=4.0
        )
        partitions = {
            t["topic"]: sorted(p["partition"] for p in t["partitions"])
            for t in described
            if not t["error_code"]
        }
        inputs = [TopicPartition(n, p) for n in input_names for p in partitions.get(n, ())]
        dead = [TopicPartition(dead_name, p) for p in partitions.get(dead_name, ())]
        ends = await asyncio.wait_for(consumer.end_offsets(inputs + dead), timeout=4.0)
        committed = await asyncio.wait_for(
            admin.list_consumer_group_offsets(settings.topic(STREAMS_GROUP)), timeout=4.0
        )
        lag: int | None = None
        if committed:
            lag = sum(
                max(0, ends[tp] - max(0, committed[tp].offset if tp in committed else 0))
                for tp in inputs
            )
        return {
            "events_total": sum(ends[tp] for tp in inputs),
            "dead_letters": sum(ends[tp] for tp in dead) if dead else None,
            "consumer_lag": lag,
        }

    async def sample(self, settings: Settings, updates_in: int) -> dict[str, Any]:
        """The latest sample, taking a new one when the last is older than ``every`` seconds."""
        async with self._lock:
            now = time.monotonic()
            if self.samples and now - self.samples[-1]["mono"] < self.every:
                return self.samples[-1]
            kafka: dict[str, int | None] = {}
            if now >= self._retry_at:
                try:
                    kafka = await self._kafka(settings)
                    self.error = None
                except Exception as exc:  # Kafka away: the dashboard says so, the API stays up
                    self.error = f"{type(exc).__name__}: {exc}"[:200]
                    self._retry_at = now + 15.0
                    await self.close()
                    logger.warning("ops summary: Kafka unreachable: %s", self.error)
            previous = self.samples[-1] if self.samples else None
            sample: dict[str, Any] = {
                "mono": now,
                "at": datetime.now(PARIS).isoformat(timespec="seconds"),
                "events_total": kafka.get("events_total"),
                "consumer_lag": kafka.get("consumer_lag"),
                "dead_letters": kafka.get("dead_letters"),
                "updates_total": updates_in,
                "events_per_s": None,
                "status_changes_per_s": None,
            }
            if previous is not None and now > previous["mono"]:
                elapsed = now - previous["mono"]
                if sample["events_total"] is not None and previous["events_total"] is not None:
                    sample["events_per_s"] = round(
                        max(0, sample["events_total"] - previous["events_total"]) / elapsed, 2
                    )
                sample["status_changes_per_s"] = round(
                    max(0, updates_in - previous["updates_total"]) / elapsed, 2
                )
            self.samples.append(sample)
            return sample


def summarize(
    statuses: dict[str, dict[str, Any]],
    catalogue_names: dict[str, str],
    sample: dict[str, Any],
    series: list[dict[str, Any]],
    *,
    kafka_error: str | None,
    clients: int,
) -> dict[str, Any]:
    """The operations summary (pure: statuses, catalogue names and samples in, JSON out)."""
    by_state = {state: 0 for state in WORDS["fr"]["states"]}
    stale: list[dict[str, Any]] = []
    overdue: list[dict[str, Any]] = []
    for facility_id in sorted(set(catalogue_names) | set(statuses)):
        status = statuses.get(facility_id)
        if status is None:
            by_state["unknown"] += 1
            continue
        by_state[status["open_state"]] = by_state.get(status["open_state"], 0) + 1
        name = status.get("name") or catalogue_names.get(facility_id, facility_id)
        if status.get("stale"):
            stale.append(
                {
                    "facility_id": facility_id,
                    "name": name,
                    "last_data_at": status.get("last_data_at"),
                }
            )
        for closure in status.get("closures") or []:
            if closure.get("overdue"):
                overdue.append(
                    {
                        "facility_id": facility_id,
                        "name": name,
                        "closure_id": closure["closure_id"],
                        "reason": closure["reason"],
                        "expected_reopening_at": closure.get("expected_reopening_at"),
                        "declared_by": closure.get("declared_by"),
                    }
                )
    alerts: list[dict[str, str]] = []
    if kafka_error:
        alerts.append(
            {
                "level": "critical",
                "code": "kafka_unreachable",
                "message": "Kafka injoignable depuis l'API / Kafka unreachable from the API",
            }
        )
    if sample.get("consumer_lag") is not None and sample["consumer_lag"] > LAG_ALERT:
        alerts.append(
            {
                "level": "critical",
                "code": "consumer_lag",
                "message": f"Retard de traitement : {sample['consumer_lag']} événements / "
                f"Consumer lag: {sample['consumer_lag']} events",
            }
        )
    if len(series) >= 2 and None not in (series[-1]["dead_letters"], series[0]["dead_letters"]):
        grown = series[-1]["dead_letters"] - series[0]["dead_letters"]
        if grown > 0:
            alerts.append(
                {
                    "level": "warning",
                    "code": "dead_letters",
                    "message": f"{grown} nouveaux rejets (dead-letters) / {grown} new dead letters",
                }
            )
    for item in overdue:
        alerts.append(
            {
                "level": "warning",
                "code": "overdue_closure",
                "message": f"Réouverture dépassée : {item['name']} / Reopening overdue: "
                f"{item['name']}",
            }
        )
    if stale:
        alerts.append(
            {
                "level": "warning",
                "code": "stale_sources",
                "message": f"{len(stale)} sources sans données récentes / {len(stale)} stale sources",
            }
        )
    live = len(statuses)
    return {
        "at": sample["at"],
        "facilities": {
            "total": len(set(catalogue_names) | set(statuses)),
            "live": live,
            "by_state": by_state,
            "stale": len(stale),
        },
        "stale": stale[:200],
        "overdue_closures": overdue,
        "stream": {
            "available": kafka_error is None and sample.get("events_total") is not None,
            "error": kafka_error,
            "events_per_s": sample.get("events_per_s"),
            "consumer_lag": sample.get("consumer_lag"),
            "dead_letters": sample.get("dead_letters"),
        },
        "api": {"clients": clients, "status_changes_per_s": sample.get("status_changes_per_s")},
        "series": [
            {k: s[k] for k in s if k not in {"mono", "events_total", "updates_total"}}
            for s in series
        ],
        "alerts": alerts,
        "missing": [
            "processing_lag_seconds, sink flush times, history backlog: Prometheus of the stream "
            "workers (not reachable from the API)"
        ],
    }


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    sampler = OpsSampler()
    app.state.ops_sampler = sampler
    try:
        yield
    finally:
        await sampler.close()


router = APIRouter(lifespan=_lifespan)


# ── Routes ────────────────────────────────────────────────────────────────────────────────────


@router.get("/static/{path:path}", include_in_schema=False)
async def static_file(request: Request, path: str) -> Response:
    found = asset(path)
    if found is None:
        return error_response(404, "not_found", "Ressource introuvable / Not found")
    return serve_asset(request, found)


@router.get("/embed/card.js", include_in_schema=False)
async def card_script(request: Request) -> Response:
    found = asset("embed/card.js")
    assert found is not None, "dashboards/embed/card.js is part of the package"
    return serve_asset(request, found)


@router.get("/", include_in_schema=False)
async def directory(
    ctx: Ctx,
    lang: Lang = None,
    type: Annotated[str | None, Query(max_length=50)] = None,
    arrondissement: Annotated[str | None, Query(max_length=2)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    open_now: bool = False,
    low_crowd: bool = False,
    accessible: bool = False,
) -> HTMLResponse:
    """Every facility with its live state; the filters work without JavaScript too."""
    language = _lang(lang)
    words = WORDS[language]
    catalogue = ctx.catalogue
    ids = [f.id for f in catalogue]
    items = await _statuses(ctx, ids)
    arr = int(arrondissement) if arrondissement and arrondissement.isdigit() else None
    allowed = {f.id for f in catalogue.search(q)} if q else None
    kind = type if type in FACILITY_TYPES else None
    matching = {
        item["facility_id"]
        for item in items.values()
        if _matches(
            item,
            type_=kind,
            arrondissement=arr,
            open_now=open_now,
            low_crowd=low_crowd,
            accessible=accessible,
            allowed=allowed,
        )
    }
    ordered = sorted(items.values(), key=lambda i: (i["arrondissement"], i["name"]))
    type_options = "".join(
        f'<option value="{t}"{" selected" if t == kind else ""}>'
        f"{esc(TYPE_LABELS[t].en if language == 'en' else TYPE_LABELS[t].fr)}</option>"
        for t in catalogue.types()
    )
    arr_options = "".join(
        f'<option value="{n}"{" selected" if n == arr else ""}>{arr_label(n, language)}</option>'
        for n in range(1, 21)
    )
    main = template("directory.html").substitute(
        title=esc(words["directory"]),
        lang=language,
        search=esc(words["search"]),
        q=esc(q or ""),
        type_label=esc(words["type"]),
        all_types=esc(words["all_types"]),
        type_options=type_options,
        arr_label=esc(words["arrondissement"]),
        all=esc(words["all"]),
        arr_options=arr_options,
        open_now=esc(words["open_now"]),
        open_checked=" checked" if open_now else "",
        low_crowd=esc(words["low_crowd"]),
        low_checked=" checked" if low_crowd else "",
        accessible=esc(words["accessible"]),
        acc_checked=" checked" if accessible else "",
        filter=esc(words["filter"]),
        count=len(matching),
        results=esc(words["results"]),
        items="".join(
            directory_item(item, language, hidden=item["facility_id"] not in matching)
            for item in ordered
        ),
    )
    return html_page(
        layout(
            language,
            words["directory"],
            main,
            scripts=["/embed/card.js", "/static/pages/directory.js"],
            head='<link rel="stylesheet" href="/static/pages/pages.css">',
            path="/",
        )
    )


@router.get("/facilities/{facility_id}", include_in_schema=False)
async def facility_page(ctx: Ctx, facility_id: str, lang: Lang = None) -> HTMLResponse:
    """A facility's page: the live card over a server-rendered fallback, with JSON-LD."""
    language = _lang(lang)
    path = f"/facilities/{facility_id}"
    if facility_id not in ctx.catalogue:
        return not_found(language, path)
    facility = ctx.catalogue.get(facility_id)
    now = datetime.now(UTC)
    raw = await ctx.status(facility_id)
    item = orjson.loads(render_item(raw, facility, full=True, now=now))
    document = facility_jsonld(
        facility, orjson.loads(raw) if raw else None, base_url=ctx.settings.public_base_url, now=now
    )
    jsonld = orjson.dumps(document).decode().replace("<", "\\u003c")
    main = template("facility.html").substitute(
        lang=language,
        id=esc(facility_id),
        name=esc(facility.name),
        fallback=fallback_html(facility, item, language),
        back=esc(WORDS[language]["back"]),
        back_href="/?lang=en" if language == "en" else "/",
    )
    return html_page(
        layout(
            language,
            facility.name,
            main,
            scripts=["/embed/card.js", "/static/pages/facility.js"],
            head=f'<link rel="stylesheet" href="/static/pages/pages.css">'
            f'<script type="application/ld+json">{jsonld}</script>',
            path=path,
        )
    )


def fallback_html(facility: Facility, item: dict[str, Any], lang: str) -> str:
    """What the card shows before (or without) JavaScript: the essentials, in words."""
    words = WORDS[lang]
    parts = [
        f"<h2>{esc(facility.name)}</h2>",
        f"<p>{state_badge(item['open_state'], lang)}</p>",
        f"<p>{esc(hours_text(item, lang))}</p>",
    ]
    for closure in item.get("closures") or []:
        message = closure["message"].get(lang) or closure["message"]["fr"]
        parts.append(f"<p><strong>{esc(words['closures'])}</strong> : {esc(message)}</p>")
    occupancy = item.get("occupancy") or {}
    if occupancy.get("level"):
        parts.append(f"<p>{esc(words['levels'][occupancy['level']])}</p>")
    parts.append(f"<p>{esc(words['address'])} : {esc(facility.address.one_line())}</p>")
    for contact in facility.contacts_for("information")[:1]:
        name = contact.service_name.en if lang == "en" else contact.service_name.fr
        parts.append(f"<p>{esc(words['contact'])} : {esc(name)} {esc(contact.phone or '')}</p>")
    return "".join(parts)


@router.get("/screen/{facility_id}", include_in_schema=False)
async def screen(ctx: Ctx, facility_id: str, lang: Lang = None) -> HTMLResponse:
    """The in-facility screen: first render from the embedded status, then live."""
    language = _lang(lang)
    path = f"/screen/{facility_id}"
    if facility_id not in ctx.catalogue:
        return not_found(language, path)
    facility = ctx.catalogue.get(facility_id)
    raw = await ctx.status(facility_id)
    item = orjson.loads(render_item(raw, facility, full=True, now=datetime.now(UTC)))
    feedback = f"{ctx.settings.public_base_url.rstrip('/')}/feedback/{facility_id}"
    page = template("screen.html").substitute(
        lang=language,
        title=esc(f"{facility.name} — {WORDS[language]['screen']}"),
        name=esc(facility.name),
        qr=qr_svg(feedback),
        feedback=esc(WORDS[language]["feedback"]),
        feedback_url=esc(feedback.split("://", 1)[-1]),
        data=json_script("screen-data", item),
    )
    return html_page(page)


@router.get("/agent", include_in_schema=False)
async def agent(ctx: Ctx, lang: Lang = None) -> HTMLResponse:
    """The agent console (the API checks every action against the agent's token)."""
    language = _lang(lang)
    main = template("agent.html").substitute(
        lang=language,
        local="true" if ctx.settings.env != "prod" else "false",
    )
    return html_page(
        layout(
            language,
            WORDS[language]["agent"],
            main,
            scripts=["/embed/card.js", "/static/pages/agent.js"],
            head='<link rel="stylesheet" href="/static/pages/pages.css">',
            path="/agent",
        )
    )


@router.get("/ops", include_in_schema=False)
async def ops(ctx: Ctx, lang: Lang = None) -> HTMLResponse:
    """The operations dashboard (it signs in with an ops or supervisor token, then polls the
    summary with it; the page itself holds only the public catalogue)."""
    language = _lang(lang)
    names = {f.id: {"name": f.name, "arrondissement": f.arrondissement} for f in ctx.catalogue}
    main = template("ops.html").substitute(
        lang=language,
        local="true" if ctx.settings.env != "prod" else "false",
        data=json_script("ops-data", names),
    )
    return html_page(
        layout(
            language,
            WORDS[language]["ops"],
            main,
            scripts=["/embed/card.js", "/static/pages/ops.js"],
            head='<link rel="stylesheet" href="/static/pages/pages.css">',
            path="/ops",
        )
    )


OPS_ROLES = (Role.OPS, Role.SUPERVISOR)
OPS_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ErrorResponse,
        "description": "Jeton absent ou invalide / Missing or invalid token",
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    403: {
        "model": ErrorResponse,
        "description": "Réservé à l'exploitation et aux superviseurs / Operations staff only",
    },
}


@router.get(
    "/v1/ops/summary",
    tags=["operations"],
    summary="Synthèse d'exploitation / Operations summary",
    responses={**OPS_AUTH_ERRORS, **ERROR_RESPONSES},
)
async def ops_summary(request: Request, ctx: Ctx, principal: Authenticated) -> JSONResponse:
    """Counts by state, stale sources, overdue closures, events/s, consumer lag, dead letters,
    status changes/s and the last samples (for sparklines), with the alerts they raise.

    Operations staff and supervisors only (bearer token of role ``ops`` or ``supervisor``)."""
    if principal.role not in OPS_ROLES:
        raise Forbidden(
            "Synthèse réservée à l'exploitation et aux superviseurs / "
            "Summary for operations staff and supervisors only"
        )
    sampler: OpsSampler = request.app.state.ops_sampler
    sample = await sampler.sample(ctx.settings, ctx.hub.updates_in)
    statuses = {fid: orjson.loads(update.status) for fid, update in ctx.hub.latest.items()}
    names = {f.id: f.name for f in ctx.catalogue}
    body = summarize(
        statuses,
        names,
        sample,
        list(sampler.samples),
        kafka_error=sampler.error,
        clients=len(ctx.hub.subscribers),
    )
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
