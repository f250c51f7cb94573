"""Token verification (local HS256 and OIDC JWKS with RS256/ES256) and ``paris-live token``.

The JWKS is served over real HTTP by a local server; no service is mocked.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from typer.testing import CliRunner

from api.agents_cli import agents_app
from api.auth import Role, TokenVerifier, Unauthenticated, issue_token
from api.errors import ServiceUnavailable
from paris_live.settings import Settings, get_settings
from tests.api.agents_testkit import bearer, cast, declare, rows, token
from tests.api.api_testkit import InProcessServer

SECRET = "a-test-secret-that-is-long-enough-for-hs256-0123456789"


def _local() -> Settings:
    return Settings(env="test", jwt_secret=SECRET)


async def test_an_issued_token_verifies_into_its_principal() -> None:
    """A supervisor token for all pools plus one town hall covers any pool and that town hall,
    not a library; it may manage their closures and read their audit trail."""
    settings = _local()
    team = cast()
    value = issue_token(
        settings, "s.durand", "supervisor", facilities=["mairie-5"], facility_types=["pool"]
    )
    principal = await TokenVerifier(settings).verify(value)
    assert (principal.subject, principal.role) == ("s.durand", Role.SUPERVISOR)
    assert principal.may_manage_closures(team.pool_b.id, "pool")
    assert principal.may_manage_closures("mairie-5", "town_hall")
    assert not principal.may_manage_closures(team.library.id, "library")
    assert principal.may_read_audit(team.pool_a.id, "pool")
    assert principal.expires_at > dt.datetime.now(dt.UTC) + dt.timedelta(hours=11)


async def test_an_agent_manages_only_its_facilities_and_reads_no_audit() -> None:
    """An agent token covers exactly its facility ids, even another facility of the same type."""
    settings = _local()
    team = cast()
    principal = await TokenVerifier(settings).verify(
        issue_token(settings, "a.martin", "agent", facilities=[team.pool_a.id])
    )
    assert principal.may_manage_closures(team.pool_a.id, "pool")
    assert not principal.may_manage_closures(team.pool_b.id, "pool")
    assert not principal.may_read_audit(team.pool_a.id, "pool")


@pytest.mark.parametrize(
    "claims",
    [
        {"role": "agent", "facilities": []},
        {"role": "agent", "facility_types": ["pool"]},
        {"role": "supervisor", "facility_types": ["spaceport"]},
        {"role": "janitor"},
        {"facilities": ["Not A Slug"]},
        {"sub": ""},
        {"role": "service", "facilities": []},
        {"role": "service", "facilities": [], "services": ["dgs-spatioport"]},
        {"role": "service", "services": ["djs-piscines"]},
        {"services": ["djs-piscines"]},
    ],
)
async def test_inconsistent_claims_are_refused(claims: dict[str, Any]) -> None:
    """A correctly signed token whose claims make no sense (agent without facilities or with
    types, unknown type or role, malformed ids, service staff without a known service or with
    facilities, services on an agent) is refused like a forged one."""
    settings = _local()
    now = int(dt.datetime.now(dt.UTC).timestamp())
    payload = {
        "sub": "x",
        "role": "agent",
        "facilities": ["piscine-pontoise"],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
        **claims,
    }
    with pytest.raises(Unauthenticated):
        await TokenVerifier(settings).verify(jwt.encode(payload, SECRET, algorithm="HS256"))


async def test_a_service_token_handles_its_services_complaints_and_no_closure() -> None:
    """A service-staff token verifies with its services: it handles the complaints of those
    services only, and manages no closure and reads no audit trail, even of a facility."""
    settings = _local()
    pool = cast().pool_a
    value = issue_token(
        settings, "c.petit", Role.SERVICE, services=["djs-piscines", "dac-bibliotheques"]
    )
    principal = await TokenVerifier(settings).verify(value)
    assert (principal.subject, principal.role) == ("c.petit", Role.SERVICE)
    assert principal.services == frozenset({"djs-piscines", "dac-bibliotheques"})
    assert jwt.decode(value, options={"verify_signature": False})["role"] == "service"
    assert principal.may_handle_complaints("djs-piscines")
    assert not principal.may_handle_complaints("dicom-information")
    assert not principal.may_manage_closures(pool.id, "pool")
    assert not principal.may_read_audit(pool.id, "pool")
    with pytest.raises(ValueError, match="names its services"):
        issue_token(settings, "c.petit", Role.SERVICE)


async def test_a_huge_token_is_refused_before_parsing() -> None:
    """A token over 8 KiB is refused outright."""
    with pytest.raises(Unauthenticated):
        await TokenVerifier(_local()).verify("a" * 9000)


# ── OIDC: JWKS over HTTP ─────────────────────────────────────────────────────────────────────


class _Jwks:
    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        rsa_jwk = json.loads(RSAAlgorithm.to_jwk(self.rsa.public_key()))
        ec_jwk = json.loads(ECAlgorithm.to_jwk(self.ec.public_key()))
        self.document = json.dumps(
            {
                "keys": [
                    {**rsa_jwk, "kid": "rsa-1", "alg": "RS256", "use": "sig"},
                    {**ec_jwk, "kid": "ec-1", "alg": "ES256", "use": "sig"},
                ]
            }
        ).encode()


@pytest.fixture(scope="module")
def jwks() -> Iterator[tuple[_Jwks, str]]:
    """An identity provider's JWKS document served on 127.0.0.1."""
    keys = _Jwks()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(keys.document)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield keys, f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()
    server.server_close()


def _oidc(url: str) -> Settings:
    return Settings(
        env="test",
        jwt_issuer="https://idp.paris.fr",
        jwt_audience="paris-live",
        oidc_jwks_url=url,
    )


def _claims(settings: Settings, **extra: Any) -> dict[str, Any]:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    return {
        "sub": "a.martin",
        "role": "agent",
        "facilities": ["piscine-pontoise"],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
        **extra,
    }


async def test_oidc_tokens_verify_against_the_jwks(jwks: tuple[_Jwks, str]) -> None:
    """RS256 and ES256 tokens signed by the identity provider's keys verify (key by kid)."""
    keys, url = jwks
    settings = _oidc(url)
    verifier = TokenVerifier(settings)
    rs = jwt.encode(_claims(settings), keys.rsa, algorithm="RS256", headers={"kid": "rsa-1"})
    es = jwt.encode(_claims(settings), keys.ec, algorithm="ES256", headers={"kid": "ec-1"})
    assert (await verifier.verify(rs)).subject == "a.martin"
    assert (await verifier.verify(es)).role is Role.AGENT


async def test_oidc_refuses_symmetric_unknown_key_and_wrong_audience(
    jwks: tuple[_Jwks, str],
) -> None:
    """With a JWKS: an HS256 token (even signed with the public key: algorithm confusion), a
    key id the provider does not publish, another audience, a local token → 401."""
    keys, url = jwks
    settings = _oidc(url)
    verifier = TokenVerifier(settings)
    public_pem = keys.rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = {
        "confusion": _hs256_with(public_pem, _claims(settings)),
        "unknown kid": jwt.encode(
            _claims(settings), stranger, algorithm="RS256", headers={"kid": "rsa-2"}
        ),
        "stranger with a known kid": jwt.encode(
            _claims(settings), stranger, algorithm="RS256", headers={"kid": "rsa-1"}
        ),
        "wrong audience": jwt.encode(
            _claims(settings, aud="another-app"),
            keys.rsa,
            algorithm="RS256",
            headers={"kid": "rsa-1"},
        ),
        "local token": issue_token(_local(), "a", "agent", facilities=["piscine-pontoise"]),
    }
    for name, value in bad.items():
        with pytest.raises(Unauthenticated):
            await verifier.verify(value)
            pytest.fail(f"{name} was accepted")  # pragma: no cover


def _hs256_with(secret: bytes, claims: dict[str, Any]) -> str:
    """An HS256 token keyed with ``secret`` (PyJWT refuses PEM secrets, so sign by hand)."""
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    body = b64(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


async def test_an_unreachable_identity_provider_is_a_503_not_a_401() -> None:
    """When the JWKS cannot be fetched, requests answer 503 (retry later), not 401."""
    settings = _oidc("http://127.0.0.1:9/jwks.json")
    value = jwt.encode(
        _claims(settings),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": "rsa-1"},
    )
    with pytest.raises(ServiceUnavailable):
        await TokenVerifier(settings).verify(value)


# ── paris-live token ─────────────────────────────────────────────────────────────────────────


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("PARIS_LIVE_JWT_SECRET", SECRET)
    monkeypatch.delenv("PARIS_LIVE_OIDC_JWKS_URL", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


async def test_the_token_command_issues_tokens_the_api_accepts(cli_env: Settings) -> None:
    """``paris-live token`` prints an agent token and a supervisor-of-pools token that verify
    with the deployment's settings and carry what was asked."""
    runner = CliRunner()
    pool = cast().pool_a.id
    agent = runner.invoke(agents_app, ["token", "--agent", "a.martin", "--facility", pool])
    assert agent.exit_code == 0, agent.output
    principal = await TokenVerifier(cli_env).verify(agent.output.strip())
    assert (principal.subject, principal.role, principal.facilities) == (
        "a.martin",
        Role.AGENT,
        frozenset({pool}),
    )
    sup = runner.invoke(
        agents_app,
        ["token", "--agent", "s.durand", "--role", "supervisor", "--type", "pool", "--ttl", "90m"],
    )
    assert sup.exit_code == 0, sup.output
    principal = await TokenVerifier(cli_env).verify(sup.output.strip())
    assert principal.facility_types == frozenset({"pool"})
    left = principal.expires_at - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=85) < left <= dt.timedelta(minutes=90)


async def test_the_token_command_issues_service_tokens(cli_env: Settings) -> None:
    """``paris-live token --role service --service ID...`` prints a token of those services
    that the API accepts."""
    result = CliRunner().invoke(
        agents_app,
        ["token", "--agent", "c.petit", "--role", "service", "--service", "djs-piscines",
         "--service", "dicom-information"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    principal = await TokenVerifier(cli_env).verify(result.output.strip())
    assert (principal.subject, principal.role, principal.services) == (
        "c.petit",
        Role.SERVICE,
        frozenset({"djs-piscines", "dicom-information"}),
    )
    assert principal.facilities == frozenset()


@pytest.mark.parametrize(
    "args",
    [
        ["--agent", "a"],  # an agent without a facility
        ["--agent", "a", "--facility", "piscine-de-mars"],
        ["--agent", "a", "--role", "supervisor", "--type", "spaceport"],
        ["--agent", "a", "--role", "agent", "--type", "pool", "--facility", "piscine-pontoise"],
        ["--agent", "a", "--facility", "piscine-pontoise", "--ttl", "90 years"],
        ["--agent", "a", "--role", "janitor"],
        ["--agent", "a", "--role", "service"],  # service staff without a service
        ["--agent", "a", "--role", "service", "--service", "dgs-spatioport"],
        ["--agent", "a", "--facility", "piscine-pontoise", "--service", "djs-piscines"],
    ],
)
def test_the_token_command_refuses_what_the_api_would_refuse(
    cli_env: Settings, args: list[str]
) -> None:
    """Missing facilities, unknown facility, type, role or service, types on an agent, services
    on an agent or none for service staff, a bad lifetime → a usage error (exit code 2), no
    token printed."""
    result = CliRunner().invoke(agents_app, ["token", *args])
    assert result.exit_code == 2, result.output
    assert "eyJ" not in result.output


def test_the_token_command_refuses_when_oidc_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With an identity provider configured, local tokens are not issued."""
    monkeypatch.setenv("PARIS_LIVE_OIDC_JWKS_URL", "https://idp.paris.fr/jwks.json")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            agents_app, ["token", "--agent", "a", "--facility", "piscine-pontoise"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "identity provider" in result.output


# ── service tokens on the real API ───────────────────────────────────────────────────────────


@pytest.fixture
async def api(
    kafka_topics: Settings, api_server: InProcessServer
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of an API whose topics exist (closures and complaints are published)."""
    async with httpx.AsyncClient(base_url=api_server.http, timeout=15.0) as client:
        yield client


@pytest.mark.integration
async def test_a_service_token_gets_403_on_every_closure_route(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    """Service staff of the pools declare, change, end no closure of a pool and read no audit
    trail: 403 in the error shape, and the closure stays as the agent declared it."""
    pool = cast().pool_a
    created = await declare(api, pool.id, token(settings, "agent", pool.id))
    assert created.status_code == 201, created.text
    closure_id = created.json()["closure_id"]
    state = (
        "SELECT closure_id, ended_at IS NULL, reason, sequence, expected_reopening_at, "
        "(SELECT count(*) FROM audit_log) FROM closures"
    )
    before = await rows(settings, state)
    service = bearer(issue_token(settings, "c.petit", Role.SERVICE, services=["djs-piscines"]))
    me = await api.get("/v1/me", headers=service)
    assert me.status_code == 200 and me.json()["role"] == "service"
    assert me.json()["may_manage_closures"] is False
    attempts = [
        ("POST", f"/v1/facilities/{pool.id}/closures", {"reason": "works"}),
        ("PATCH", f"/v1/closures/{closure_id}", {"expected_reopening_at": None}),
        ("POST", f"/v1/closures/{closure_id}/end", None),
        ("GET", f"/v1/audit?facility={pool.id}", None),
        ("GET", "/v1/audit", None),
    ]
    for method, url, body in attempts:
        response = await api.request(method, url, json=body, headers=service)
        assert response.status_code == 403, (method, url, response.text)
        assert response.json()["error"]["code"] == "forbidden"
    assert await rows(settings, state) == before
    assert before[0][:3] == (closure_id, True, "technical_failure")


@pytest.mark.integration
async def test_a_service_token_cannot_act_on_another_services_complaint(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    """A complaint about a pool goes to the pools' service: the libraries' staff get 403 on
    acknowledge and answer and do not see it; the pools' staff then acknowledge it."""
    pool = cast().pool_a
    filed = await api.post(
        "/v1/complaints",
        json={
            "facility_id": pool.id,
            "rule": "welcome",
            "topic": "cleanliness",
            "text": "Vestiaires sales samedi vers 18 h, aucun nettoyage malgré ma demande.",
        },
    )
    assert filed.status_code == 201, filed.text
    assert filed.json()["service"]["service_id"] == "djs-piscines"
    reference = filed.json()["reference"]
    libraries = bearer(
        issue_token(settings, "l.bernard", Role.SERVICE, services=["dac-bibliotheques"])
    )
    pools = bearer(issue_token(settings, "c.petit", Role.SERVICE, services=["djs-piscines"]))
    answer = {"answer": {"fr": "Le nettoyage du soir a été renforcé."}}
    for url, body in [
        (f"/v1/complaints/{reference}/acknowledge", None),
        (f"/v1/complaints/{reference}/answer", answer),
    ]:
        denied = await api.post(url, json=body, headers=libraries)
        assert denied.status_code == 403, (url, denied.text)
        assert denied.json()["error"]["code"] == "forbidden"
    inbox = await api.get("/v1/inbox/complaints", headers=libraries)
    assert inbox.status_code == 200 and inbox.json()["items"] == []
    assert (await api.get(f"/v1/complaints/{reference}")).json()["status"] == "received"
    acked = await api.post(f"/v1/complaints/{reference}/acknowledge", headers=pools)
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
