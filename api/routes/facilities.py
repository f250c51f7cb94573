"""``GET /v1/facilities`` and ``GET /v1/facilities/{id}`` (JSON, or schema.org JSON-LD)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.caching import cached
from api.context import AppContext, Ctx
from api.errors import ERROR_RESPONSES, NOT_FOUND, InvalidParameter, UnknownFacilityError
from api.i18n import bilingual
from api.jsonld import facility_jsonld
from api.nearby import nearest_open
from api.views import OPEN_STATES, FacilityDetail, FacilityPage, NearbyPage, render_item
from schemas.catalogue import Facility
from schemas.events import FACILITY_ID_PATTERN
from schemas.status import FACILITY_TYPE_PATTERN, FacilityStatus

__all__ = ["FacilityIdParam", "require_facility", "router"]

router = APIRouter(prefix="/v1", tags=["facilities"])

FacilityIdParam = Annotated[
    str,
    Path(
        alias="facility_id",
        pattern=FACILITY_ID_PATTERN,
        description="Identifiant stable de l'équipement / stable facility id",
        examples=["piscine-pontoise"],
    ),
]
_SCAN_CHUNK = 200


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        offset = int(value)
        if kind != "o" or offset < 0:
            raise ValueError(cursor)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidParameter(
            bilingual("Curseur invalide : utilisez la valeur « next » d'une page"),
            code="invalid_cursor",
        ) from None
    return offset


async def require_facility(
    ctx: AppContext, facility_id: str
) -> tuple[Facility | None, bytes | None]:
    """The catalogue entry and live status; 404 when the facility is neither."""
    facility = ctx.catalogue.get(facility_id) if facility_id in ctx.catalogue else None
    raw = await ctx.status(facility_id)
    if facility is None and raw is None:
        raise UnknownFacilityError(facility_id)
    return facility, raw


@router.get(
    "/facilities",
    summary="Équipements et leur statut en direct / Facilities and their live status",
    response_model=FacilityPage,
    responses={**ERROR_RESPONSES},
)
async def list_facilities(
    request: Request,
    ctx: Ctx,
    type: Annotated[
        str | None,
        Query(pattern=FACILITY_TYPE_PATTERN, max_length=50, examples=["pool"]),
    ] = None,
    arrondissement: Annotated[int | None, Query(ge=1, le=20, examples=[5])] = None,
    open_now: Annotated[
        bool | None,
        Query(description="true: ouverts maintenant / open now (open, closing soon, partially)"),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1, max_length=200, description="recherche / search", examples=["pontoise"]
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Facilities matching every filter given, with their live status.

    A facility the streams have not reported on yet is listed with ``live: false`` and
    ``open_state: "unknown"``. Pages follow ``next`` until it is null.
    """
    offset = _decode_cursor(cursor) if cursor else 0
    catalogue = ctx.catalogue
    if q is not None:
        candidates = [f.id for f in catalogue.search(q)]
    else:
        known = sorted(catalogue.ids)
        live_only = sorted(set(await ctx.live_ids()) - catalogue.ids)
        candidates = known + live_only
    now = datetime.now(UTC)
    items: list[bytes] = []
    position = offset
    while position < len(candidates) and len(items) < limit:
        chunk = candidates[position : position + _SCAN_CHUNK]
        statuses = await ctx.statuses(chunk)
        for facility_id in chunk:
            position += 1
            facility = catalogue.get(facility_id) if facility_id in catalogue else None
            raw = statuses.get(facility_id)
            if raw is None and facility is None:
                continue
            if not _matches(facility, raw, type, arrondissement, open_now):
                continue
            items.append(render_item(raw, facility, full=False, now=now))
            if len(items) == limit:
                break
    next_cursor = _encode_cursor(position) if position < len(candidates) else None
    body = (
        b'{"items":['
        + b",".join(items)
        + b'],"next":'
        + (orjson.dumps(next_cursor) if next_cursor else b"null")
        + b"}"
    )
    return cached(request, body, "application/json")


def _matches(
    facility: Facility | None,
    raw: bytes | None,
    type_: str | None,
    arrondissement: int | None,
    open_now: bool | None,
) -> bool:
    if facility is not None:
        kind, where, state = facility.type, facility.arrondissement, "unknown"
    else:
        kind, where, state = None, None, "unknown"
    if raw is not None:
        doc = orjson.loads(raw)
        kind, where = doc.get("type", kind), doc.get("arrondissement", where)
        state = doc.get("open_state", state)
    if type_ is not None and kind != type_:
        return False
    if arrondissement is not None and where != arrondissement:
        return False
    return open_now is None or (state in OPEN_STATES) == open_now


@router.get(
    "/facilities/{facility_id}",
    summary="Un équipement et son statut en direct / One facility and its live status",
    response_model=FacilityDetail,
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        **FacilityStatus.example().model_dump(mode="json"),
                        "live": True,
                        "catalogue": None,
                    }
                },
                "application/ld+json": {
                    "schema": {"type": "object"},
                    "example": {
                        "@context": "https://schema.org",
                        "@type": "PublicSwimmingPool",
                        "name": "Piscine Pontoise",
                        "openingHoursSpecification": [
                            {
                                "@type": "OpeningHoursSpecification",
                                "dayOfWeek": "https://schema.org/Monday",
                                "opens": "07:00",
                                "closes": "20:30",
                            }
                        ],
                        "specialOpeningHoursSpecification": [],
                    },
                },
            },
        },
        **NOT_FOUND,
        **ERROR_RESPONSES,
    },
)
async def get_facility(request: Request, ctx: Ctx, facility_id: FacilityIdParam) -> Response:
    """The facility's FacilityStatus extended with ``live`` and its catalogue entry.

    With ``Accept: application/ld+json``, the facility as schema.org JSON-LD, opening hours and
    exceptional closures included.
    """
    facility, raw = await require_facility(ctx, facility_id)
    now = datetime.now(UTC)
    if "application/ld+json" in request.headers.get("accept", "") and facility is not None:
        status: dict[str, Any] | None = orjson.loads(raw) if raw else None
        document = facility_jsonld(facility, status, base_url=ctx.settings.public_base_url, now=now)
        return cached(request, orjson.dumps(document), "application/ld+json")
    return cached(request, render_item(raw, facility, full=True, now=now), "application/json")


@router.get(
    "/facilities/{facility_id}/nearby",
    summary="Équipements du même type ouverts, les plus proches / Nearest open facilities of the "
    "same type",
    response_model=NearbyPage,
    responses={**NOT_FOUND, **ERROR_RESPONSES},
)
async def nearby_open(
    request: Request,
    ctx: Ctx,
    facility_id: FacilityIdParam,
    limit: Annotated[int, Query(ge=1, le=10)] = 3,
) -> Response:
    """What a closed facility's card and screen suggest instead: up to ``limit`` facilities of
    the same type that are open now, nearest first, each with ``distance_m`` (straight line,
    metres). ``next`` is always null."""
    facility, _raw = await require_facility(ctx, facility_id)
    if facility is None:
        return cached(request, b'{"items":[],"next":null}', "application/json")
    same_type = [f for f in ctx.catalogue if f.type == facility.type]
    raws = await ctx.statuses([f.id for f in same_type])
    states = {fid: orjson.loads(raw).get("open_state", "unknown") for fid, raw in raws.items()}
    now = datetime.now(UTC)
    items = []
    for other, metres in nearest_open(facility, same_type, states, limit=limit):
        item = orjson.loads(render_item(raws.get(other.id), other, full=False, now=now))
        item["distance_m"] = round(metres)
        items.append(item)
    return cached(request, orjson.dumps({"items": items, "next": None}), "application/json")
