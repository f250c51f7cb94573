"""One settings object per process, read once from the environment (prefix ``PARIS_LIVE_``), frozen.

Every variable is documented in the README's configuration table. When ``KAFKA_BOOTSTRAP``,
``REDIS_URL`` or ``DATABASE_URL`` are unset, the project-owned local services under ``STATE_DIR``
are used (and started by ``paris-live services start``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_KAFKA_PORT = 39092
LOCAL_KAFKA_CONTROLLER_PORT = 39093
LOCAL_REDIS_PORT = 36379
LOCAL_POSTGRES_PORT = 35432

DEV_JWT_SECRET = "dev-only-secret-change-me-in-production-0123456789"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"})


class Settings(BaseSettings):
    """Process-wide configuration. Unsafe defaults are refused when ``env`` is ``prod``."""

    model_config = SettingsConfigDict(env_prefix="PARIS_LIVE_", frozen=True, extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    state_dir: Path = Field(default=Path(".local"), description="where local services keep data")
    kafka_bootstrap: str | None = Field(default=None, description="host:port list; unset = local")
    redis_url: str | None = Field(default=None, description="redis://…; unset = local")
    database_url: str | None = Field(default=None, description="postgresql://…; unset = local")
    topic_prefix: str = Field(
        default="", description="prefix for every Kafka topic (test isolation)"
    )
    redis_prefix: str = Field(default="pl:", description="prefix for every Redis key")
    redis_sentinels: str | None = Field(
        default=None,
        description="host:port,host:port… of Redis Sentinels; set: every Redis client finds the "
        "primary through them (the database number still comes from REDIS_URL)",
    )
    redis_sentinel_master: str = Field(
        default="paris-live", description="the primary's name the Sentinels monitor"
    )
    db_schema: str = Field(default="public", description="PostgreSQL schema for every table")
    partitions: int = Field(default=4, ge=1, le=256, description="partitions of each input topic")
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    public_base_url: str = Field(
        default="",
        description="the address people reach the pages at (QR codes, links, calendars): "
        "required, https and not a local address when env is prod; unset elsewhere: the "
        "address the API listens on",
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_json: bool = True
    jwt_secret: str = DEV_JWT_SECRET
    jwt_issuer: str = "https://paris-live.local"
    jwt_audience: str = "paris-live"
    oidc_jwks_url: str | None = None
    allowed_origins: tuple[str, ...] = ("*",)
    # Rate limits ("N/second|minute|hour"), per bearer token and per client address.
    rate_agent_write_per_token: str = "30/minute"
    rate_agent_write_per_address: str = "300/minute"
    rate_agent_read_per_token: str = "120/minute"
    rate_agent_read_per_address: str = "600/minute"
    oidc_algorithms: tuple[str, ...] = ("RS256", "ES256")
    # Live hub (WebSocket /v1/live, SSE): the production policy by default.
    hub_max_facilities: int = Field(default=2000, ge=1, description="facilities per subscription")
    hub_max_filters: int = Field(default=20, ge=1, description="filter subscriptions per client")
    hub_max_strikes: int = Field(default=5, ge=1, description="bad frames before close 1008")
    hub_slow_timeout: float = Field(default=10.0, gt=0, description="s stuck before close 1013")
    hub_heartbeat_interval: float = Field(default=15.0, gt=0, le=15.0, description="s")
    hub_dead_after: float = Field(default=45.0, gt=0, description="s without a pong")
    hub_max_message_bytes: int = Field(default=64 * 1024, ge=1024, description="close 1009 above")
    hub_write_buffer_high: int = Field(default=64 * 1024, ge=1024, description="bytes")
    # Stream consumers: the event time window and the size of dead letters.
    event_max_future_s: float = Field(
        default=3600.0, gt=0, description="an event time further ahead goes to dead-letters (s)"
    )
    event_max_age_s: float | None = Field(
        default=None,
        gt=0,
        description="an older event time goes to dead-letters (s); unset: the topic's retention",
    )
    dead_letter_max_raw_bytes: int = Field(
        default=64 * 1024, ge=1024, description="raw bytes kept in a dead letter (the rest cut)"
    )

    # --- Hostile clients on /v1/live (issue 13): per address and per connection ---------------
    hub_ws_max_per_address: int = Field(
        default=256, ge=1, description="live sockets per client address per API process (429)"
    )
    hub_ws_message_rate: float = Field(
        default=2.0, gt=0, description="client messages per second per socket, sustained"
    )
    hub_ws_message_burst: int = Field(
        default=20, ge=1, description="client messages per socket at once; past the budget: error"
    )

    # ── Hostile input (issue 13): request sizes and closure caps, enforced by the API ──────────
    body_limit_public: int = Field(
        default=16 * 1024, ge=1024, description="bytes of a public form body (413 above)"
    )
    body_limit_staff: int = Field(
        default=64 * 1024, ge=1024, description="bytes of an agent or service body (413 above)"
    )
    query_limit: int = Field(
        default=4096, ge=256, description="bytes of a query string (414 above)"
    )
    header_limit: int = Field(
        default=32 * 1024, ge=4096, description="bytes of all request headers (431 above)"
    )
    max_active_closures: int = Field(
        default=20, ge=1, description="closures in force per facility (409 for one more)"
    )

    # ── Site identity (issue 15): what the legal pages state, the retention the purge applies ──
    legal_host: str | None = Field(
        default=None, description="hosting provider (name, address) shown in the mentions légales"
    )
    feedback_complaint_retention_days: int = Field(
        default=365, ge=1, description="days after its answer (or filing) a complaint is kept whole"
    )
    feedback_survey_retention_days: int = Field(
        default=90, ge=1, description="days a survey answer keeps its free texts"
    )

    # ── Open data (issue 22): where the daily job writes the datasets the API serves ─────────
    open_data_dir: Path = Field(
        default=Path(".local/open-data"),
        description="folder of the open datasets (the open-data job writes, the API reads)",
    )

    # ── The map (issue 16): where /carte draws its background from ─────────────────────────────
    map_tile_url: str = Field(
        default="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="tile address template of the map's background ({s} {z} {x} {y}, as Leaflet "
        "reads it); the map page's CSP allows its origin; without tiles the map still shows its "
        "points and arrondissements",
    )
    map_tile_attribution: str = Field(
        default="© OpenStreetMap contributors",
        description="credit shown on the map for its tiles (plain text)",
    )

    @field_validator("map_tile_url")
    @classmethod
    def _tile_template(cls, value: str) -> str:
        url = urlsplit(value)
        if url.scheme not in {"https", "http"} or not url.netloc:
            raise ValueError(f"map_tile_url must be an http(s) address, not {value!r}")
        missing = [part for part in ("{z}", "{x}", "{y}") if part not in value]
        if missing:
            raise ValueError(f"map_tile_url has no {', '.join(missing)}: {value!r}")
        return value

    @property
    def map_tile_origin(self) -> str:
        """The origin the tiles come from, as a CSP source (``{s}`` subdomains: ``*.``)."""
        url = urlsplit(self.map_tile_url)
        host = url.netloc.replace("{s}", "*")
        return f"{url.scheme}://{host}"

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinel_addresses(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        for address in value.split(","):
            host, _, port = address.strip().rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"expected host:port,host:port…, not {address.strip()!r}")
        return value

    @property
    def sentinel_addresses(self) -> tuple[tuple[str, int], ...]:
        """The Sentinels as (host, port) pairs; empty when Redis is reached directly."""
        if self.redis_sentinels is None:
            return ()
        pairs = (a.strip().rpartition(":") for a in self.redis_sentinels.split(","))
        return tuple((host.strip("[]"), int(port)) for host, _, port in pairs)

    @field_validator("db_schema", "redis_prefix", "topic_prefix")
    @classmethod
    def _safe_identifier(cls, value: str) -> str:
        allowed = set("abcdefghijklmnopqrstuvwxyz0123456789_-:.")
        if any(c not in allowed for c in value):
            raise ValueError("only lowercase letters, digits and _ - : . are allowed")
        return value

    @model_validator(mode="before")
    @classmethod
    def _local_public_base_url(cls, data: Any) -> Any:
        """Outside production an unset public base URL is where the API listens (what
        ``paris-live up`` serves); production must say it (see ``_refuse_unsafe_production``)."""
        if not isinstance(data, dict) or data.get("public_base_url") or data.get("env") == "prod":
            return data
        host = str(data.get("api_host") or "127.0.0.1")
        host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        host = f"[{host}]" if ":" in host else host
        return {**data, "public_base_url": f"http://{host}:{data.get('api_port') or 8000}"}

    @field_validator("public_base_url")
    @classmethod
    def _absolute_base_url(cls, value: str) -> str:
        if not value:
            return value
        url = urlsplit(value)
        if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
            raise ValueError(
                "must be an absolute http(s) URL without query, e.g. https://live.paris.fr"
            )
        return value.rstrip("/")

    @field_validator("oidc_algorithms")
    @classmethod
    def _asymmetric_only(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        allowed = {
            "RS256",
            "RS384",
            "RS512",
            "PS256",
            "PS384",
            "PS512",
            "ES256",
            "ES384",
            "ES512",
            "EdDSA",
        }
        refused = [alg for alg in value if alg not in allowed]
        if refused or not value:
            raise ValueError(f"only asymmetric signature algorithms are allowed, not {refused}")
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env == "prod":
            missing = [
                name
                for name in ("kafka_bootstrap", "redis_url", "database_url")
                if getattr(self, name) is None
            ]
            if missing:
                names = ", ".join(f"PARIS_LIVE_{n.upper()}" for n in missing)
                raise ValueError(f"{names} must be set when PARIS_LIVE_ENV=prod")
            if self.jwt_secret == DEV_JWT_SECRET and self.oidc_jwks_url is None:
                raise ValueError(
                    "PARIS_LIVE_JWT_SECRET or PARIS_LIVE_OIDC_JWKS_URL must be set when "
                    "PARIS_LIVE_ENV=prod"
                )
            if "*" in self.allowed_origins:
                raise ValueError(
                    "PARIS_LIVE_ALLOWED_ORIGINS must not contain * when PARIS_LIVE_ENV=prod"
                )
            url = urlsplit(self.public_base_url)
            if url.scheme != "https" or url.hostname in LOCAL_HOSTS:
                raise ValueError(
                    "PARIS_LIVE_PUBLIC_BASE_URL must be set to the public https address of the "
                    "pages when PARIS_LIVE_ENV=prod (QR codes and links are made from it), "
                    f"not {self.public_base_url or 'unset'!r}"
                )
        return self

    # Effective endpoints: an explicit URL wins, else the project-owned local service.
    @property
    def kafka(self) -> str:
        return self.kafka_bootstrap or f"127.0.0.1:{LOCAL_KAFKA_PORT}"

    @property
    def redis(self) -> str:
        return self.redis_url or f"redis://127.0.0.1:{LOCAL_REDIS_PORT}/0"

    @property
    def database(self) -> str:
        return (
            self.database_url
            or f"postgresql://paris_live@127.0.0.1:{LOCAL_POSTGRES_PORT}/paris_live"
        )

    @property
    def uses_local_services(self) -> bool:
        return not (self.kafka_bootstrap or self.redis_url or self.database_url)

    def topic(self, base: str) -> str:
        """The full Kafka topic name for a contract topic name."""
        return f"{self.topic_prefix}{base}"

    def key(self, *parts: str) -> str:
        """A Redis key under this deployment's prefix."""
        return self.redis_prefix + ":".join(parts)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
