"""Who is calling: JWT bearer tokens, checked, turned into a :class:`Principal`.

Tokens are JWTs whose signature, ``exp``, ``aud`` and ``iss`` are checked against an algorithm
allow-list (never ``none``):

* local mode (``PARIS_LIVE_OIDC_JWKS_URL`` unset): ``HS256`` with ``PARIS_LIVE_JWT_SECRET``; tokens
  are issued by ``paris-live token`` (:func:`issue_token`);
* production: ``RS256`` / ``ES256`` only, the key chosen by ``kid`` from the OIDC issuer's JWKS
  (:class:`jwt.PyJWKClient`, cached); an HS256 token is then refused, whatever it is signed with.

Claims (the identity provider maps its attributes to them)::

    sub             the agent, supervisor, operator, device or service staff id
    role            agent | supervisor | ops | device | service
    facilities      facility ids the token acts on (agent: its own; supervisor: extra ones;
                    device: the facilities it counts for)
    facility_types  supervisor only: whole facility types (["pool"]: every pool)
    services        service only: the competent services (ids of ``schemas/data/routing.json``)
                    whose complaints the token handles

Roles: an **agent** manages closures of its own facilities; a **supervisor** those of its set
(explicit ids and/or types) and reads their audit trail; **ops** reads every audit trail and
declares nothing; a **device** key (producers) may publish counts, never closures; **service**
staff acknowledge and answer the complaints routed to their services (the inbox), never closures.

Errors (in the API's one shape, with their headers)::

    ApiError
    ├── Unauthenticated   401 unauthenticated (+ WWW-Authenticate: Bearer …)
    └── Forbidden         403 forbidden
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.errors import ApiError, ServiceUnavailable
from api.i18n import bilingual
from paris_live.settings import Settings
from schemas.catalogue import FACILITY_TYPES
from schemas.events import FACILITY_ID_PATTERN
from schemas.routing import load_routing

__all__ = [
    "LOCAL_ALGORITHMS",
    "OIDC_ALGORITHMS",
    "Authenticated",
    "Forbidden",
    "Principal",
    "Role",
    "TokenVerifier",
    "Unauthenticated",
    "authenticate",
    "issue_token",
    "verifier_for",
]

LOCAL_ALGORITHMS = ("HS256",)
OIDC_ALGORITHMS = ("RS256", "ES256")
LEEWAY_S = 10
"""Clock skew tolerated on ``exp`` / ``nbf`` / ``iat``."""
MAX_TOKEN_BYTES = 8192


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    OPS = "ops"
    DEVICE = "device"
    SERVICE = "service"


class Unauthenticated(ApiError):
    """No token, or a token that is expired, for another audience/issuer, unsigned or tampered."""

    status = 401
    code = "unauthenticated"

    def __init__(self, why: str = "invalid_token") -> None:
        super().__init__(bilingual("Authentification requise : jeton absent, expiré ou invalide"))
        error = "" if why == "missing" else ', error="invalid_token"'
        self.headers = {"WWW-Authenticate": f'Bearer realm="paris-live"{error}'}


class Forbidden(ApiError):
    """Authenticated, but this role or facility set may not do this."""

    status = 403
    code = "forbidden"


class _Claims(BaseModel):
    """The claims Paris Live reads (the registered ones are checked by PyJWT)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    sub: str = Field(min_length=1, max_length=200)
    role: Role
    facilities: list[Annotated[str, Field(pattern=FACILITY_ID_PATTERN)]] = Field(
        default_factory=list, max_length=5000
    )
    facility_types: list[str] = Field(default_factory=list, max_length=50)
    services: list[Annotated[str, Field(max_length=80)]] = Field(
        default_factory=list, max_length=100
    )
    jti: str | None = Field(default=None, max_length=200)
    exp: int


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller."""

    subject: str
    role: Role
    facilities: frozenset[str]
    facility_types: frozenset[str]
    token_id: str | None
    expires_at: dt.datetime
    services: frozenset[str] = frozenset()
    """Service staff only: the competent services whose complaints this token handles."""

    def covers(self, facility_id: str, facility_type: str | None) -> bool:
        """The facility is in this token's set (ids, or types for a supervisor)."""
        if facility_id in self.facilities:
            return True
        return (
            self.role is Role.SUPERVISOR
            and facility_type is not None
            and facility_type in self.facility_types
        )

    def may_manage_closures(self, facility_id: str, facility_type: str | None) -> bool:
        """Declare, update and end closures of this facility."""
        return self.role in (Role.AGENT, Role.SUPERVISOR) and self.covers(
            facility_id, facility_type
        )

    def may_read_audit(self, facility_id: str, facility_type: str | None) -> bool:
        """Read this facility's audit trail (supervisors of it, operations staff)."""
        if self.role is Role.OPS:
            return True
        return self.role is Role.SUPERVISOR and self.covers(facility_id, facility_type)

    def may_handle_complaints(self, service_id: str) -> bool:
        """Acknowledge and answer the complaints routed to this service (its own staff only)."""
        return self.role is Role.SERVICE and service_id in self.services


def _principal(claims: _Claims) -> Principal:
    unknown = set(claims.facility_types) - set(FACILITY_TYPES)
    if unknown:
        raise ValueError(f"unknown facility types {sorted(unknown)}")
    if claims.role is not Role.SUPERVISOR and claims.facility_types:
        raise ValueError("only a supervisor token may name facility types")
    if claims.role is Role.AGENT and not claims.facilities:
        raise ValueError("an agent token names its facilities")
    if claims.role is Role.SERVICE:
        if not claims.services:
            raise ValueError("a service token names its services")
        if claims.facilities:
            raise ValueError("a service token names services, not facilities")
        unknown_services = set(claims.services) - set(load_routing().services)
        if unknown_services:
            raise ValueError(f"unknown services {sorted(unknown_services)}")
    elif claims.services:
        raise ValueError("only a service token may name services")
    return Principal(
        subject=claims.sub,
        role=claims.role,
        facilities=frozenset(claims.facilities),
        facility_types=frozenset(claims.facility_types),
        token_id=claims.jti,
        expires_at=dt.datetime.fromtimestamp(claims.exp, dt.UTC),
        services=frozenset(claims.services),
    )


class TokenVerifier:
    """Checks bearer tokens for one deployment (local secret, or the OIDC issuer's JWKS)."""

    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self._jwks: jwt.PyJWKClient | None = None
        self._secret: str | None = None
        if settings.oidc_jwks_url:
            self.algorithms: tuple[str, ...] = settings.oidc_algorithms
            self._jwks = jwt.PyJWKClient(
                settings.oidc_jwks_url, cache_keys=True, lifespan=300, timeout=5
            )
        else:
            self.algorithms = LOCAL_ALGORITHMS
            self._secret = settings.jwt_secret

    async def verify(self, token: str) -> Principal:
        """The principal of a valid token; :class:`Unauthenticated` otherwise."""
        if len(token) > MAX_TOKEN_BYTES:
            raise Unauthenticated()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated() from None
        if header.get("alg") not in self.algorithms:
            raise Unauthenticated()  # `none`, or a symmetric/asymmetric confusion
        key: Any = self._secret
        if self._jwks is not None:
            try:
                key = (await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)).key
            except jwt.PyJWKClientConnectionError as exc:
                raise ServiceUnavailable(bilingual("Fournisseur d'identité injoignable")) from exc
            except jwt.PyJWTError:
                raise Unauthenticated() from None
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=list(self.algorithms),
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
            return _principal(_Claims.model_validate(payload))
        except (jwt.PyJWTError, ValidationError, ValueError):
            raise Unauthenticated() from None


def issue_token(
    settings: Settings,
    subject: str,
    role: Role | str,
    *,
    facilities: Iterable[str] = (),
    facility_types: Iterable[str] = (),
    services: Iterable[str] = (),
    ttl: dt.timedelta = dt.timedelta(hours=12),
    now: dt.datetime | None = None,
) -> str:
    """A local HS256 token (``paris-live token``); refused when the deployment uses OIDC."""
    if settings.oidc_jwks_url:
        raise ValueError("PARIS_LIVE_OIDC_JWKS_URL is set: tokens come from the identity provider")
    issued = now or dt.datetime.now(dt.UTC)
    claims = _Claims(
        sub=subject,
        role=Role(role),
        facilities=sorted(set(facilities)),
        facility_types=sorted(set(facility_types)),
        services=sorted(set(services)),
        jti=uuid.uuid4().hex,
        exp=int((issued + ttl).timestamp()),
    )
    _principal(claims)  # the same consistency rules as verification
    payload: dict[str, Any] = {
        **claims.model_dump(exclude_defaults=False),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(issued.timestamp()),
        "nbf": int(issued.timestamp()),
    }
    return jwt.encode(payload, settings.jwt_secret, algorithm="HS256")


# ── FastAPI dependencies ──────────────────────────────────────────────────────────────────────

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description=(
        "Jeton d'agent ou de service / agent or service token "
        "(``paris-live token`` locally, OIDC in production)"
    ),
)


def verifier_for(request: Request) -> TokenVerifier:
    """The application's verifier (one per app, so the JWKS cache is shared)."""
    state = request.app.state
    verifier: TokenVerifier | None = getattr(state, "token_verifier", None)
    if verifier is None:
        verifier = TokenVerifier(request.state.ctx.settings)
        state.token_verifier = verifier
    return verifier


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller of this request; 401 without a valid bearer token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("missing")
    principal = await verifier_for(request).verify(credentials.credentials)
    request.state.principal = principal
    return principal


Authenticated = Annotated[Principal, Depends(authenticate)]
