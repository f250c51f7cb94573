"""The satisfaction survey: ``GET /feedback/{facility_id}`` (the page the screens' QR code opens)
and ``POST /v1/facilities/{facility_id}/feedback`` (JSON, or the page's form without JavaScript).

Under three minutes: one overall rating, a 1–5 rating per golden rule (each may be skipped) and
three optional sentences — « ce qui est appréciable / améliorable / ce qui ne va pas ». No account.
An answer becomes a ``fr.paris.feedback.survey.submitted`` event on ``feedback-surveys`` (keyed by
facility); the feedback job (:mod:`streams.feedback`) counts it.

Anti-abuse, light: a honeypot field (filled → answered as accepted, dropped, counted), a cooldown
per device and facility (the page sets an anonymous ``pl_device`` cookie), and a budget per client
address shared by all facilities (public Wi-Fi is shared, so the budget is generous). Limits use
:class:`api.ratelimit.RateLimiter` with HMAC'd identities: neither Redis nor the logs hold an
address or a cookie value.

This module also holds what the three feedback routers share (:class:`FeedbackRuntime`: the Kafka
publisher of the API process; the page layout; body parsing with errors tied to fields).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import html
import os
import secrets
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from string import Template
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import parse_qsl

import orjson
import structlog
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from api.caching import etag_of
from api.context import AppContext, Ctx
from api.errors import ApiError, ErrorResponse, UnknownFacilityError
from api.inputs import Honeypot, ShortText
from api.ratelimit import RATE_LIMITED, Check, Rate, RateLimited, RateLimiter, client_address
from api.routes.facilities import FacilityIdParam
from paris_live.settings import Settings
from producers.errors import ProducerError
from producers.publisher import Publisher, PublisherOptions
from producers.spool import Record
from schemas.catalogue import TYPE_LABELS, Facility
from schemas.clock import PARIS
from schemas.codec import encode_event
from schemas.events import CloudEvent, EventType, GoldenRule, make_event

__all__ = [
    "DASHBOARD",
    "FeedbackRuntime",
    "InvalidInput",
    "SurveyIn",
    "address_identity",
    "errors_doc",
    "page",
    "publish",
    "router",
]

log = structlog.get_logger("api.feedback")
M = TypeVar("M", bound=BaseModel)
DASHBOARD = Path(__file__).resolve().parents[2] / "dashboards" / "feedback"
MAX_BODY = 16 * 1024
"""Bytes a feedback or complaint body may have (413 above)."""
DEVICE_COOKIE = "pl_device"
SURVEY_PER_DEVICE = Rate(1, 900)
"""One answer per facility and device every 15 minutes."""
SURVEY_PER_ADDRESS = Rate(60, 3600, burst=20)
"""Per client address, every facility together: 20 at once, then one a minute."""

RULE_LABELS: dict[str, dict[str, str]] = {
    "information": {
        "fr": "Information en temps réel sur l'accès",
        "en": "Real-time information on access",
    },
    "delays": {"fr": "Délais annoncés (attente, rendez-vous)", "en": "Announced delays"},
    "orientation": {"fr": "Orientation vers le bon service", "en": "Sent to the right service"},
    "welcome": {"fr": "Qualité de l'accueil", "en": "Quality of the welcome"},
}
"""How a citizen reads each golden rule."""


# ── Shared runtime: the API process's publisher ──────────────────────────────────────────────


class FeedbackRuntime:
    """The Kafka publisher of this API process, started on first use, closed with the app."""

    def __init__(self) -> None:
        self._publisher: Publisher | None = None
        self._lock = asyncio.Lock()

    async def publisher(self, settings: Settings) -> Publisher:
        if self._publisher is None:
            async with self._lock:
                if self._publisher is None:
                    options = PublisherOptions(
                        name=f"api-feedback-{os.getpid()}", delivery_timeout_s=5.0
                    )
                    publisher = Publisher(settings, options)
                    await publisher.start()
                    self._publisher = publisher
        return self._publisher

    async def close(self) -> None:
        if self._publisher is not None:
            await self._publisher.close()
            self._publisher = None


@contextlib.asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    runtime = FeedbackRuntime()
    try:
        yield {"feedback_runtime": runtime}
    finally:
        await runtime.close()


class PublishFailed(ApiError):
    status = 503
    code = "unavailable"


async def publish(
    request: Request, events: Sequence[CloudEvent], *, routed_to: str | None = None
) -> None:
    """Publish events to their contract topic (keyed by facility) and, with ``routed_to``, to
    ``complaints-routed`` keyed by that service. Returns once Kafka acknowledged or spooled them."""
    from schemas.topics import COMPLAINTS_ROUTED

    ctx: AppContext = request.state.ctx
    runtime: FeedbackRuntime = request.state.feedback_runtime
    try:
        publisher = await runtime.publisher(ctx.settings)
        await publisher.publish_many(events)
        if routed_to is not None:
            topic = ctx.settings.topic(COMPLAINTS_ROUTED)
            await publisher.publish_records(
                [Record(topic, routed_to, e.id, encode_event(e)) for e in events]
            )
    except ProducerError as exc:
        log.error("feedback_publish_failed", error=type(exc).__name__, events=len(events))
        raise PublishFailed(
            "Enregistrement momentanément impossible, réessayez / "
            "Cannot record it right now, please retry"
        ) from exc


def address_identity(settings: Settings, value: str) -> str:
    """A keyed hash of an address or cookie: stable for rate limits, meaningless elsewhere."""
    digest = hmac.new(settings.jwt_secret.encode(), value.encode(), hashlib.sha256)
    return digest.hexdigest()[:24]


async def limit(request: Request, name: str, *checks: Check) -> None:
    """Consume from the named limits (identities already hashed); 429 with Retry-After."""
    ctx: AppContext = request.state.ctx
    await RateLimiter(ctx.redis, ctx.settings).check(name, *checks)


# ── Input: JSON or an HTML form, errors tied to fields ───────────────────────────────────────


class InvalidInput(ApiError):
    """A body the route cannot use; ``fields`` maps each bad field to its message."""

    status = 422
    code = "invalid_input"

    def __init__(self, fields: dict[str, str]) -> None:
        halves = {name: _fr_en(text) for name, text in fields.items()}
        fr = "; ".join(f"{name} : {pair[0]}" for name, pair in halves.items())
        en = "; ".join(f"{name}: {pair[1]}" for name, pair in halves.items())
        super().__init__(f"Saisie invalide — {fr} / Invalid input — {en}")
        self.fields = fields


def _fr_en(text: str) -> tuple[str, str]:
    """The French and English halves of a « fr / en » field message (the same text twice when it
    has no English half)."""
    fr, sep, en = text.partition(" / ")
    return (fr, en) if sep else (text, text)


FIELD_MESSAGES: dict[str, str] = {
    "missing": "champ obligatoire / required",
    "string_too_short": "trop court / too short",
    "string_too_long": "trop long / too long",
    "less_than_equal": "valeur trop grande / value too large",
    "greater_than_equal": "valeur trop petite / value too small",
    "extra_forbidden": "champ inconnu / unknown field",
    "enum": "valeur non proposée / not one of the choices",
    "literal_error": "valeur non proposée / not one of the choices",
    "string_pattern_mismatch": "format invalide / invalid format",
    "int_parsing": "nombre attendu / a number is expected",
    "int_type": "nombre attendu / a number is expected",
    "string_type": "texte attendu / text is expected",
}


def _field_errors(exc: ValidationError) -> dict[str, str]:
    """Messages per field that never echo the input (it may hold personal data)."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_input=False, include_url=False):
        name = ".".join(str(p) for p in error["loc"]) or "body"
        if error["type"] == "value_error":
            text = str(error.get("ctx", {}).get("error", "valeur invalide / invalid value"))
        else:
            text = FIELD_MESSAGES.get(error["type"], "valeur invalide / invalid value")
        fields.setdefault(name, text)
    return fields


def is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/x-www-form-urlencoded"


class TooLarge(ApiError):
    status = 413
    code = "too_large"

    def __init__(self) -> None:
        super().__init__(
            f"Contenu trop volumineux (au plus {MAX_BODY // 1024} ko) / "
            f"Content too large (at most {MAX_BODY // 1024} kB)"
        )


async def _bounded_body(request: Request) -> bytes:
    """The body, refused past :data:`MAX_BODY` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise TooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise TooLarge()
        chunks.append(chunk)
    body = b"".join(chunks)
    return body


async def read_body(request: Request) -> dict[str, Any]:
    """The body as a dict: JSON object, or form fields (``a.b`` names nest, blanks dropped)."""
    raw = await _bounded_body(request)
    if is_form(request):
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=False, max_num_fields=50)
        except (UnicodeDecodeError, ValueError):
            raise InvalidInput({"body": "formulaire illisible / unreadable form"}) from None
        doc: dict[str, Any] = {}
        for name, value in pairs:
            if not value.strip():
                continue
            target = doc
            *parents, leaf = name.split(".")
            for parent in parents:
                target = target.setdefault(parent, {})
                if not isinstance(target, dict):
                    raise InvalidInput({name: "champ en double / repeated field"})
            target[leaf] = value
        return doc
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput({"body": "JSON invalide / invalid JSON"}) from None
    if not isinstance(value, dict):
        raise InvalidInput({"body": "objet JSON attendu / a JSON object is expected"})
    return value


def parse(model: type[M], doc: dict[str, Any]) -> M:
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise InvalidInput(_field_errors(exc)) from None


def input_error_response(exc: InvalidInput, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        {"error": {"code": exc.code, "message": exc.message, "fields": exc.fields}},
        status_code=exc.status,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def api_error_response(exc: ApiError) -> Response:
    if isinstance(exc, InvalidInput):
        return input_error_response(exc)
    body = {"error": {"code": exc.code, "message": exc.message}}
    headers = {"Cache-Control": "no-store", **(getattr(exc, "headers", None) or {})}
    return JSONResponse(body, status_code=exc.status, headers=headers)


def errors_doc(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of the error statuses a feedback route can answer (one shape)."""
    descriptions = {
        400: "Requête invalide / Bad request",
        401: "Jeton absent ou invalide / Missing or invalid token",
        403: "Non autorisé / Forbidden",
        404: "Introuvable / Not found",
        409: "Conflit / Conflict",
        413: "Contenu trop volumineux / Content too large",
        422: "Saisie invalide / Invalid input",
        429: "Trop de requêtes / Too many requests",
        503: "Service indisponible / Service unavailable",
    }
    docs: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        if status == 429:
            docs.update(RATE_LIMITED)
            continue
        docs[status] = {"model": ErrorResponse, "description": descriptions[status]}
    return docs


# ── Pages: one layout, French first (``?lang=en`` for English) ───────────────────────────────

_templates: dict[str, tuple[float, Template]] = {}


def template(name: str) -> Template:
    path = DASHBOARD / name
    mtime = path.stat().st_mtime
    cached = _templates.get(name)
    if cached is None or cached[0] != mtime:
        cached = (mtime, Template(path.read_text(encoding="utf-8")))
        _templates[name] = cached
    return cached[1]


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


Lang = Annotated[Literal["fr", "en"] | None, Query(description="fr (défaut) ou en")]


def language(request: Request, lang: str | None) -> Literal["fr", "en"]:
    """French first: English only when asked for (``?lang=en``, the switch on every page)."""
    return "en" if lang == "en" else "fr"


def page(
    lang: str,
    title: str,
    main: str,
    *,
    path: str,
    status_code: int = 200,
    scripts: Sequence[str] = (),
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A full page in the feedback layout (skip link, language switch, no external resource)."""
    other = "en" if lang == "fr" else "fr"
    switch_label = "English" if other == "en" else "Français"
    body = template("layout.html").substitute(
        lang=lang,
        title=esc(title),
        skip="Aller au contenu" if lang == "fr" else "Skip to content",
        switch=(
            f'<a href="{esc(path)}?lang={other}" lang="{other}" hreflang="{other}">'
            f"{switch_label}</a>"
        ),
        main=main,
        scripts="".join(f'<script type="module" src="{esc(s)}"></script>' for s in scripts),
        footer=(
            '<a href="/transparence">Résultats publics</a> · <a href="/complaints">Réclamation</a>'
            if lang == "fr"
            else f'<a href="/transparence?lang={lang}">Public results</a> · '
            f'<a href="/complaints?lang={lang}">Complaint</a>'
        ),
    )
    return HTMLResponse(
        body,
        status_code=status_code,
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
            "style-src 'self'; script-src 'self'; frame-ancestors 'self'",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            **(headers or {}),
        },
    )


router = APIRouter(lifespan=_lifespan)

_ASSETS = {"feedback.css": "text/css", "forms.js": "text/javascript", "inbox.js": "text/javascript"}


@router.get("/feedback-assets/{name}", include_in_schema=False)
async def feedback_asset(request: Request, name: str) -> Response:
    """The feedback pages' stylesheet and scripts (served here, never from a CDN)."""
    media = _ASSETS.get(name)
    if media is None:
        return api_error_response(
            ApiError("Ressource introuvable / Not found", code="not_found", status=404)
        )
    body = (DASHBOARD / name).read_bytes()
    etag = etag_of(body)
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=300",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media, headers=headers)


# ── The survey ────────────────────────────────────────────────────────────────────────────────


class RuleRatingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    information: int | None = Field(default=None, ge=1, le=5)
    delays: int | None = Field(default=None, ge=1, le=5)
    orientation: int | None = Field(default=None, ge=1, le=5)
    welcome: int | None = Field(default=None, ge=1, le=5)


class SurveyIn(BaseModel):
    """One survey answer as the page (or any client) posts it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rating: int = Field(ge=1, le=5, description="Satisfaction globale, 1 (très insatisfait) à 5")
    rule_ratings: RuleRatingsIn | None = None
    rules_not_kept: list[GoldenRule] | None = Field(
        default=None, description="défaut : les règles notées 1 ou 2 / default: rules rated 1–2"
    )
    liked: ShortText | None = Field(default=None, description="Ce qui est appréciable")
    to_improve: ShortText | None = Field(default=None, description="Ce qui est améliorable")
    went_wrong: ShortText | None = Field(default=None, description="Ce qui ne va pas")
    service_id: (
        Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80)] | None
    ) = None
    channel: Literal["screen", "web", "on_site"] = "web"
    language: Literal["fr", "en"] = "fr"
    website: Honeypot | None = Field(
        default=None, description="Laisser vide (anti-spam) / leave empty"
    )

    @field_validator("liked", "to_improve", "went_wrong", "website", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class SurveyReceipt(BaseModel):
    response_id: str
    received_at: dt.datetime
    message: str


def _survey_event(facility: Facility, answer: SurveyIn, now: dt.datetime) -> CloudEvent:
    ratings = answer.rule_ratings.model_dump(exclude_none=True) if answer.rule_ratings else {}
    not_kept = (
        [r.value for r in answer.rules_not_kept]
        if answer.rules_not_kept is not None
        else [rule for rule, value in ratings.items() if value <= 2]
    )
    return make_event(
        EventType.SURVEY_SUBMITTED,
        facility.id,
        {
            "response_id": f"srv-{secrets.token_hex(8)}",
            "service_id": answer.service_id,
            "channel": answer.channel,
            "rating": answer.rating,
            "rules_not_kept": sorted(not_kept),
            "language": answer.language,
            "rule_ratings": ratings or None,
            "liked": answer.liked,
            "to_improve": answer.to_improve,
            "went_wrong": answer.went_wrong,
        },
        source=f"/feedback/{answer.channel}",
        time=now,
    )


def _known(ctx: AppContext, facility_id: str) -> Facility:
    if facility_id not in ctx.catalogue:
        raise UnknownFacilityError(facility_id)
    return ctx.catalogue.get(facility_id)


@router.post(
    "/v1/facilities/{facility_id}/feedback",
    tags=["feedback"],
    status_code=202,
    summary="Répondre au questionnaire de satisfaction / Answer the satisfaction survey",
    response_model=SurveyReceipt,
    responses=errors_doc(404, 413, 422, 429, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": SurveyIn.model_json_schema()}},
        }
    },
)
async def submit_survey(request: Request, ctx: Ctx, facility_id: FacilityIdParam) -> Response:
    """Record one answer; 202 once it is on Kafka (or safely spooled), 429 during a cooldown."""
    form = is_form(request)
    try:
        facility = _known(ctx, facility_id)
        answer = parse(SurveyIn, await read_body(request))
        if answer.service_id is not None and answer.service_id not in {
            s.service_id for s in facility.services
        }:
            raise InvalidInput({"service_id": "service inconnu ici / unknown service here"})
        if answer.website:  # the honeypot: a person never sees this field
            log.info("survey_honeypot", facility_id=facility_id)
            return _survey_done(form, facility_id, answer.language, None)
        address = address_identity(ctx.settings, client_address(request))
        checks: list[Check] = [("addr", address, SURVEY_PER_ADDRESS)]
        device = request.cookies.get(DEVICE_COOKIE)
        if device:
            device_id = address_identity(ctx.settings, device)
            checks.append(("device", f"{device_id}:{facility_id}", SURVEY_PER_DEVICE))
        await limit(request, "feedback-survey", *checks)
        event = _survey_event(facility, answer, dt.datetime.now(PARIS))
        await publish(request, [event])
    except ApiError as exc:
        if form:
            return _form_error(exc, facility_id, language(request, None))
        return api_error_response(exc)
    log.info("survey_recorded", facility_id=facility_id, event_id=event.id)
    return _survey_done(form, facility_id, answer.language, event)


def _survey_done(form: bool, facility_id: str, lang: str, event: CloudEvent | None) -> Response:
    if form:
        return RedirectResponse(f"/feedback/{facility_id}?merci=1&lang={lang}", status_code=303)
    response_id = getattr(event.data, "response_id", "") if event else f"srv-{secrets.token_hex(8)}"
    return JSONResponse(
        {
            "response_id": response_id,
            "received_at": (event.time if event else dt.datetime.now(PARIS)).isoformat(),
            "message": "Merci pour votre avis ! / Thank you for your feedback!",
        },
        status_code=202,
        headers={"Cache-Control": "no-store"},
    )


def _form_error(exc: ApiError, facility_id: str, lang: str) -> Response:
    """The no-JavaScript path: the error, in words, with a way back to the form."""
    fr = lang == "fr"
    items = ""
    if isinstance(exc, InvalidInput):
        items = "".join(f"<li>{esc(k)} : {esc(v)}</li>" for k, v in exc.fields.items())
    retry = ""
    if isinstance(exc, RateLimited):
        retry = (
            f"<p>Vous pourrez répondre à nouveau dans {exc.retry_after} s.</p>"
            if fr
            else f"<p>You may answer again in {exc.retry_after} s.</p>"
        )
    main = (
        f"<h1>{'Votre réponse n’a pas été enregistrée' if fr else 'Your answer was not recorded'}</h1>"
        f'<div role="alert"><p>{esc(exc.message)}</p><ul>{items}</ul>{retry}</div>'
        f'<p><a href="/feedback/{esc(facility_id)}?lang={lang}">'
        f"{'Revenir au questionnaire' if fr else 'Back to the survey'}</a></p>"
    )
    headers = getattr(exc, "headers", None) or {}
    return page(
        lang,
        "Erreur / Error",
        main,
        path=f"/feedback/{facility_id}",
        status_code=exc.status,
        headers=headers,
    )


def _rating_group(name: str, legend: str, lang: str, *, required: bool) -> str:
    fr = lang == "fr"
    words = (
        ["Très insatisfait", "Insatisfait", "Moyen", "Satisfait", "Très satisfait"]
        if fr
        else ["Very unhappy", "Unhappy", "Average", "Happy", "Very happy"]
    )
    error_id = f"err-{name.replace('.', '-')}"
    options = "".join(
        f'<label class="rating"><input type="radio" name="{name}" value="{n}"'
        f"{' required' if required and n == 1 else ''}><span>{n}</span>"
        f'<span class="visually-hidden"> — {words[n - 1]}</span></label>'
        for n in range(1, 6)
    )
    if not required:
        options += (
            f'<label class="rating no-opinion"><input type="radio" name="{name}" value="" checked>'
            f"<span>{'Sans avis' if fr else 'No opinion'}</span></label>"
        )
    mark = (
        ' <span class="req">(obligatoire)</span>'
        if required and fr
        else (' <span class="req">(required)</span>' if required else "")
    )
    return (
        f'<fieldset class="scale" data-field="{name}" aria-describedby="{error_id}">'
        f"<legend>{esc(legend)}{mark}</legend>"
        f'<p class="hint">1 = {words[0].lower()}, 5 = {words[4].lower()}</p>'
        f'<div class="options">{options}</div>'
        f'<p class="field-error" id="{error_id}" hidden></p></fieldset>'
    )


def _text_field(name: str, label: str, lang: str) -> str:
    hint = (
        "Facultatif, 1 000 caractères au plus"
        if lang == "fr"
        else "Optional, up to 1,000 characters"
    )
    return (
        f'<div class="field" data-field="{name}"><label for="f-{name}">{esc(label)}</label>'
        f'<p class="hint" id="hint-{name}">{hint}. '
        f"{'N’indiquez pas de données personnelles.' if lang == 'fr' else 'Please do not include personal details.'}</p>"
        f'<textarea id="f-{name}" name="{name}" rows="3" maxlength="1000" '
        f'aria-describedby="hint-{name} err-{name}"></textarea>'
        f'<p class="field-error" id="err-{name}" hidden></p></div>'
    )


@router.get("/feedback/{facility_id}", include_in_schema=False)
async def survey_page(
    request: Request,
    ctx: Ctx,
    facility_id: FacilityIdParam,
    lang: Lang = None,
    merci: Annotated[int | None, Query(ge=0, le=1)] = None,
    service: Annotated[str | None, Query(max_length=80)] = None,
    channel: Annotated[Literal["screen", "web", "on_site"], Query()] = "screen",
) -> Response:
    """The survey page of a facility (the QR code of its screen)."""
    chosen = language(request, lang)
    fr = chosen == "fr"
    path = f"/feedback/{facility_id}"
    if facility_id not in ctx.catalogue:
        main = (
            f"<h1>{'Équipement inconnu' if fr else 'Unknown facility'}</h1>"
            f'<p><a href="/complaints?lang={chosen}">'
            f"{'Faire une réclamation' if fr else 'File a complaint'}</a></p>"
        )
        return page(
            chosen, "Équipement inconnu / Unknown facility", main, path=path, status_code=404
        )
    facility = ctx.catalogue.get(facility_id)
    kind = TYPE_LABELS[facility.type]
    if merci:
        main = (
            f'<h1 tabindex="-1" id="thanks">{"Merci pour votre avis !" if fr else "Thank you for your feedback!"}</h1>'
            f"<p>{esc(facility.name)}</p>"
            f"<p>{'Les résultats sont publiés chaque mois sur' if fr else 'Results are published monthly on'} "
            f'<a href="/transparence?lang={chosen}">/transparence</a>.</p>'
            f"<p>{'Un problème à signaler ?' if fr else 'A problem to report?'} "
            f'<a href="/complaints?facility={esc(facility_id)}&lang={chosen}">'
            f"{'Faire une réclamation' if fr else 'File a complaint'}</a></p>"
        )
        return page(chosen, "Merci / Thank you", main, path=path)
    services = "".join(
        f'<option value="{esc(s.service_id)}"{" selected" if s.service_id == service else ""}>'
        f"{esc(s.name.fr if fr else s.name.en)}</option>"
        for s in facility.services
    )
    service_field = (
        f'<div class="field" data-field="service_id"><label for="f-service">'
        f"{'Service concerné (facultatif)' if fr else 'Service (optional)'}</label>"
        f'<select id="f-service" name="service_id" aria-describedby="err-service_id">'
        f'<option value="">{"—"}</option>{services}</select>'
        f'<p class="field-error" id="err-service_id" hidden></p></div>'
        if len(facility.services) > 1
        else ""
    )
    rules = "".join(
        _rating_group(
            f"rule_ratings.{rule.value}", RULE_LABELS[rule.value][chosen], chosen, required=False
        )
        for rule in GoldenRule
    )
    main = template("survey.html").substitute(
        title=esc("Votre avis sur" if fr else "Your opinion of"),
        name=esc(facility.name),
        kind=esc(kind.fr if fr else kind.en),
        intro=esc(
            "Moins de 3 minutes, sans compte. Seule la note globale est obligatoire."
            if fr
            else "Less than 3 minutes, no account. Only the overall rating is required."
        ),
        action=esc(f"/v1/facilities/{facility_id}/feedback"),
        errors_title=esc("Le formulaire contient des erreurs" if fr else "The form has errors"),
        overall=_rating_group(
            "rating",
            "Êtes-vous satisfait de votre visite ?"
            if fr
            else "Were you satisfied with your visit?",
            chosen,
            required=True,
        ),
        rules_legend=esc(
            "Les engagements de la charte « Vous simplifier Paris »"
            if fr
            else "The charter's commitments"
        ),
        rules=rules,
        texts=_text_field("liked", "Ce qui est appréciable" if fr else "What was good", chosen)
        + _text_field(
            "to_improve", "Ce qui est améliorable" if fr else "What could be better", chosen
        )
        + _text_field("went_wrong", "Ce qui ne va pas" if fr else "What went wrong", chosen),
        service_field=service_field,
        channel=esc(channel),
        lang=chosen,
        honeypot=esc("Ne pas remplir ce champ" if fr else "Leave this field empty"),
        submit=esc("Envoyer mon avis" if fr else "Send my feedback"),
        sending=esc("Envoi…" if fr else "Sending…"),
        thanks=esc("Merci pour votre avis !" if fr else "Thank you for your feedback!"),
        complaint=esc("Faire une réclamation" if fr else "File a complaint"),
        facility_id=esc(facility_id),
        privacy=esc(
            "Vos réponses sont anonymes. Un cookie technique limite les envois répétés ; "
            "les commentaires sont effacés après 90 jours."
            if fr
            else "Your answers are anonymous. A technical cookie limits repeated answers; "
            "comments are deleted after 90 days."
        ),
    )
    headers: dict[str, str] = {}
    response = page(
        chosen,
        f"{'Votre avis' if fr else 'Your opinion'} — {facility.name}",
        main,
        path=path,
        scripts=["/feedback-assets/forms.js"],
        headers=headers,
    )
    if DEVICE_COOKIE not in request.cookies:
        response.set_cookie(
            DEVICE_COOKIE,
            secrets.token_urlsafe(18),
            max_age=365 * 86400,
            httponly=True,
            samesite="lax",
            secure=ctx.settings.public_base_url.startswith("https://"),
            path="/",
        )
    return response
