"""The agent console's reads: ``GET /v1/me`` (who am I, which facilities) and
``GET /v1/audit?facility=`` (the closures' audit trail, supervisors and operations staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from api.auth import Authenticated, Forbidden, Role
from api.closures import store
from api.closures.access import AUTH_ERRORS, READ_LIMIT, facilities_of, facility_type
from api.closures.models import AuditPage, FacilityRef, Me, ServiceRef
from api.context import Ctx
from api.errors import ERROR_RESPONSES
from api.i18n import bilingual
from api.routes.history import pg
from schemas.clock import PARIS

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["agents"])


@router.get(
    "/audit",
    summary="Journal d'audit des fermetures / Closure audit trail",
    response_model=AuditPage,
    responses={**AUTH_ERRORS, **ERROR_RESPONSES},
    dependencies=[Depends(READ_LIMIT)],
)
async def audit_trail(
    ctx: Ctx,
    principal: Authenticated,
    facility: Annotated[
        str | None, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$", description="facility id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")] = None,
) -> JSONResponse:
    """Supervisors (their facilities) and operations staff (all); newest first."""
    if principal.role not in (Role.SUPERVISOR, Role.OPS):
        raise Forbidden(bilingual("Journal réservé aux superviseurs et à l'exploitation"))
    if facility is not None:
        if not principal.may_read_audit(facility, facility_type(ctx, facility)):
            raise Forbidden(
                bilingual("Vous ne supervisez pas l'équipement %(facility)s", facility=facility)
            )
        scope: list[str] | None = [facility]
    elif principal.role is Role.OPS:
        scope = None
    else:
        scope = sorted(facilities_of(ctx, principal))
    before_id = int(cursor) if cursor is not None else 2**62
    async with pg(ctx) as conn:
        items = await store.audit_entries(
            conn, before_id=before_id, facilities=scope, limit=limit + 1
        )
    more = len(items) > limit
    items = items[:limit]
    page = AuditPage(items=items, next=str(items[-1].audit_id) if more else None)
    return JSONResponse(page.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@router.get(
    "/me",
    summary="Qui suis-je ? / Who am I?",
    response_model=Me,
    responses={**AUTH_ERRORS, **ERROR_RESPONSES},
    dependencies=[Depends(READ_LIMIT)],
)
async def me(ctx: Ctx, principal: Authenticated) -> JSONResponse:
    """The caller's role and facilities (with their areas and services) for the agent console."""
    facilities = [ctx.catalogue.get(f) for f in facilities_of(ctx, principal)]
    facilities.sort(key=lambda f: (f.type, f.name))
    manages = principal.role in (Role.AGENT, Role.SUPERVISOR)
    out = Me(
        subject=principal.subject,
        role=principal.role,
        facilities=[
            FacilityRef(
                id=f.id,
                name=f.name,
                type=f.type,
                arrondissement=f.arrondissement,
                areas=list(f.areas),
                services=[ServiceRef(service_id=s.service_id, name=s.name) for s in f.services],
            )
            for f in facilities
        ],
        facility_types=sorted(principal.facility_types),
        expires_at=principal.expires_at.astimezone(PARIS),
        may_manage_closures=manages,
        may_read_audit=principal.role in (Role.SUPERVISOR, Role.OPS),
    )
    return JSONResponse(out.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
