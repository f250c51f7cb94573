"""``paris-live token``: issue a local agent/supervisor/ops/device/service token (the lead mounts
:data:`agents_app`'s commands at the root).

::

    paris-live token --agent a.martin --facility piscine-pontoise
    paris-live token --agent s.durand --role supervisor --type pool --facility mairie-5
    paris-live token --agent ops-1 --role ops --ttl 8h
    paris-live token --agent gate-7 --role device --facility piscine-pontoise
    paris-live token --agent c.petit --role service --service djs-piscines

Local mode only (HS256 with ``PARIS_LIVE_JWT_SECRET``): when ``PARIS_LIVE_OIDC_JWKS_URL`` is set,
tokens come from the identity provider and this command refuses.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

import typer

from api.auth import Role, issue_token
from paris_live.settings import get_settings
from schemas.catalogue import FACILITY_TYPES, load_catalogue
from schemas.routing import load_routing

__all__ = ["agents_app", "parse_ttl"]

agents_app = typer.Typer(help="Agents' tokens (local mode).", no_args_is_help=True)

_TTL = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> dt.timedelta:
    """``90m``, ``12h``, ``7d`` → a timedelta (at most 30 days)."""
    match = _TTL.match(text.strip().lower())
    if not match:
        raise typer.BadParameter("expected a number and a unit: 90m, 12h, 7d")
    ttl = dt.timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    if not dt.timedelta(seconds=1) <= ttl <= dt.timedelta(days=30):
        raise typer.BadParameter("between 1 s and 30 days")
    return ttl


@agents_app.callback()
def _agents() -> None:
    """Agents' tokens (local mode)."""


@agents_app.command("token")
def token(
    agent: Annotated[
        str, typer.Option("--agent", help="agent (device, service staff) id: the token's sub")
    ],
    facility: Annotated[
        list[str] | None, typer.Option("--facility", help="facility id (repeatable)")
    ] = None,
    role: Annotated[
        Role, typer.Option("--role", help="agent, supervisor, ops, device or service")
    ] = Role.AGENT,
    facility_type: Annotated[
        list[str] | None,
        typer.Option("--type", help="supervisor: every facility of this type (repeatable)"),
    ] = None,
    service: Annotated[
        list[str] | None,
        typer.Option("--service", help="service: a competent service id (repeatable)"),
    ] = None,
    ttl: Annotated[str, typer.Option("--ttl", help="lifetime: 90m, 12h, 7d")] = "12h",
) -> None:
    """Print a signed token for the local API (HS256, PARIS_LIVE_JWT_SECRET)."""
    settings = get_settings()
    facilities = facility or []
    types = facility_type or []
    catalogue = load_catalogue()
    unknown = [f for f in facilities if f not in catalogue]
    if unknown:
        raise typer.BadParameter(
            f"not in the catalogue: {', '.join(unknown)}", param_hint="--facility"
        )
    bad_types = [t for t in types if t not in FACILITY_TYPES]
    if bad_types:
        raise typer.BadParameter(
            f"unknown type {', '.join(bad_types)} (known: {', '.join(FACILITY_TYPES)})",
            param_hint="--type",
        )
    services = service or []
    known_services = load_routing().service_ids()
    bad_services = [s for s in services if s not in known_services]
    if bad_services:
        raise typer.BadParameter(
            f"unknown service {', '.join(bad_services)} (known: {', '.join(known_services)})",
            param_hint="--service",
        )
    try:
        value = issue_token(
            settings,
            agent,
            role,
            facilities=facilities,
            facility_types=types,
            services=services,
            ttl=parse_ttl(ttl),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(value)


if __name__ == "__main__":
    agents_app()
