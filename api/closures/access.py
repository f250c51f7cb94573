"""Who may do what with closures: rate limits, roles, facilities, and the errors' OpenAPI docs.

Checks, in order: rate limit (429) → token (401) → role and facility (403; for a closure id, the
closure's facility) → known facility / closure (404) → body (422) → state (409, ended closure).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Path

from api.auth import Authenticated, Forbidden, Principal, Role
from api.closures import store
from api.closures.rules import UnknownClosure
from api.context import AppContext, Ctx
from api.errors import ErrorResponse, UnknownFacilityError
from api.i18n import bilingual
from api.ratelimit import RATE_LIMITED, Rate, RateLimit
from api.routes.facilities import FacilityIdParam
from api.routes.history import pg
from paris_live.settings import Settings
from schemas.catalogue import Facility
from schemas.text import LINE_PATTERN

__all__ = [
    "AUTH_ERRORS",
    "CLOSURE_ERRORS",
    "READ_LIMIT",
    "WRITE_LIMIT",
    "ClosureIdPath",
    "ClosureManager",
    "EquipmentReporter",
    "FacilityManager",
    "closure_manager",
    "equipment_reporter",
    "error_doc",
    "facilities_of",
    "facility_manager",
    "facility_type",
]


# ── limits ────────────────────────────────────────────────────────────────────────────────────


@lru_cache(maxsize=32)
def _parse(text: str) -> Rate:
    return Rate.parse(text)


def _setting_rate(field: str) -> Callable[[Settings], Rate]:
    """A rate from a deployment setting (``PARIS_LIVE_<FIELD>``)."""
    return lambda settings: _parse(getattr(settings, field))


WRITE_LIMIT = RateLimit(
    "agents-write",
    per_token=_setting_rate("rate_agent_write_per_token"),
    per_address=_setting_rate("rate_agent_write_per_address"),
)
READ_LIMIT = RateLimit(
    "agents-read",
    per_token=_setting_rate("rate_agent_read_per_token"),
    per_address=_setting_rate("rate_agent_read_per_address"),
)


# ── errors, as OpenAPI documents them ─────────────────────────────────────────────────────────


def error_doc(status: int, description: str, code: str, message: str) -> dict[int | str, Any]:
    return {
        status: {
            "model": ErrorResponse,
            "description": description,
            "content": {
                "application/json": {"example": {"error": {"code": code, "message": message}}}
            },
        }
    }


AUTH_ERRORS: dict[int | str, Any] = {
    **error_doc(401, "Jeton absent ou invalide / Missing or invalid token", "unauthenticated", "…"),
    **error_doc(403, "Rôle ou équipement non autorisé / Not allowed", "forbidden", "…"),
    **RATE_LIMITED,
}
AUTH_ERRORS[401]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
CLOSURE_ERRORS: dict[int | str, Any] = {
    **error_doc(404, "Fermeture ou équipement inconnu / Unknown", "unknown_closure", "…"),
    **error_doc(
        409,
        "Fermeture déjà terminée, ou trop de fermetures en cours / "
        "Already ended, or too many closures in force",
        "closure_ended",
        "…",
    ),
}


# ── access ────────────────────────────────────────────────────────────────────────────────────

ClosureIdPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        pattern=LINE_PATTERN,
        description="Identifiant de la fermeture / closure id",
    ),
]


def facility_type(ctx: AppContext, facility_id: str) -> str | None:
    return ctx.catalogue.get(facility_id).type if facility_id in ctx.catalogue else None


def facilities_of(ctx: AppContext, principal: Principal) -> set[str]:
    """The catalogue facilities a principal's token names, by id or by type."""
    ids = {f for f in principal.facilities if f in ctx.catalogue}
    for kind in principal.facility_types:
        ids.update(f.id for f in ctx.catalogue.by_type(kind))
    return ids


def _require_manager_role(principal: Principal) -> None:
    if principal.role not in (Role.AGENT, Role.SUPERVISOR):
        raise Forbidden(bilingual("Ce rôle ne peut pas gérer les fermetures"))


def _require_manager(principal: Principal, ctx: AppContext, facility_id: str) -> None:
    _require_manager_role(principal)
    if not principal.may_manage_closures(facility_id, facility_type(ctx, facility_id)):
        raise Forbidden(
            bilingual("Vous ne gérez pas l'équipement %(facility_id)s", facility_id=facility_id)
        )


async def facility_manager(
    principal: Authenticated, ctx: Ctx, facility_id: FacilityIdParam
) -> tuple[Principal, Facility]:
    """The caller may manage closures of this (catalogue) facility."""
    _require_manager(principal, ctx, facility_id)
    if facility_id not in ctx.catalogue:
        raise UnknownFacilityError(facility_id)
    return principal, ctx.catalogue.get(facility_id)


async def closure_manager(
    principal: Authenticated, ctx: Ctx, closure_id: ClosureIdPath
) -> tuple[Principal, Facility]:
    """The caller may manage this closure (its facility's)."""
    _require_manager_role(principal)
    async with pg(ctx) as conn:
        facility_id = await store.facility_of(conn, closure_id)
    if facility_id is None:
        raise UnknownClosure(closure_id)
    _require_manager(principal, ctx, facility_id)
    if facility_id not in ctx.catalogue:
        raise UnknownClosure(closure_id)
    return principal, ctx.catalogue.get(facility_id)


async def equipment_reporter(
    principal: Authenticated, ctx: Ctx, facility_id: FacilityIdParam
) -> tuple[Principal, Facility]:
    """The caller may report this facility's equipment: its agents and supervisors, or a device
    (a lift controller) whose token names the facility — a device never reports another's."""
    if principal.role is Role.DEVICE:
        if facility_id not in principal.facilities:
            raise Forbidden(
                bilingual(
                    "Cet appareil ne signale pas les équipements de %(facility_id)s",
                    facility_id=facility_id,
                )
            )
    else:
        _require_manager(principal, ctx, facility_id)
    if facility_id not in ctx.catalogue:
        raise UnknownFacilityError(facility_id)
    return principal, ctx.catalogue.get(facility_id)


FacilityManager = Annotated[tuple[Principal, Facility], Depends(facility_manager)]
EquipmentReporter = Annotated[tuple[Principal, Facility], Depends(equipment_reporter)]
ClosureManager = Annotated[tuple[Principal, Facility], Depends(closure_manager)]
