"""The pages as HTTP serves them: assets with validators and gzip, server-rendered fallbacks with
schema.org JSON-LD, server-side filters, and the operations summary (real Redis, Kafka, PG)."""

from __future__ import annotations

import html
import json
import re

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from api.auth import issue_token
from api.pages.directory import PAGE_SIZE
from paris_live.settings import Settings
from schemas.catalogue import load_catalogue
from tests.api.api_testkit import InProcessServer, make_status, put_status
from tests.streams.streams_testkit import passage, produce
from tests.testkit import wait_until

pytestmark = pytest.mark.integration


async def test_card_script_is_cached_compressed_and_embeddable(city_api: InProcessServer) -> None:
    """/embed/card.js carries an ETag and Cache-Control, answers 304, is gzipped, and any site
    may load it (CORS), so one script tag embeds the card anywhere."""
    async with httpx.AsyncClient(base_url=city_api.http) as client:
        plain = await client.get("/embed/card.js", headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200
        assert plain.headers["content-type"].startswith("text/javascript")
        assert "max-age=" in plain.headers["cache-control"]
        assert 'customElements.define("paris-facility-card"' in plain.text
        zipped = await client.get("/embed/card.js", headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip"
        assert len(zipped.content) == len(plain.content)  # httpx decoded it
        raw_size = int(zipped.headers["content-length"])
        assert raw_size < 30 * 1024 and raw_size < len(plain.content) / 2
        again = await client.get("/embed/card.js", headers={"If-None-Match": plain.headers["etag"]})
        assert again.status_code == 304 and not again.content
        cross = await client.get("/embed/card.js", headers={"Origin": "https://www.paris.fr"})
        assert cross.headers["access-control-allow-origin"] in {"*", "https://www.paris.fr"}


async def test_static_files_stay_inside_dashboards(city_api: InProcessServer) -> None:
    """Static paths cannot climb out of dashboards/ nor read the page templates."""
    async with httpx.AsyncClient(base_url=city_api.http) as client:
        assert (await client.get("/static/pages/pages.css")).status_code == 200
        for path in (
            "/static/%2e%2e/api/app.py",
            "/static/../pyproject.toml",
            "/static/templates/layout.html",
            "/static/pages/nothing.js",
        ):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert b"create_app" not in response.content


async def test_facility_page_carries_jsonld_and_a_readable_fallback(
    city_api: InProcessServer,
) -> None:
    """/facilities/{id} is readable without JavaScript (state in words, hours, address, links to
    the survey and the complaint form) and carries schema.org JSON-LD; ?lang=en is in English; an
    unknown id is an HTML 404."""
    async with httpx.AsyncClient(base_url=city_api.http) as client:
        page = await client.get("/facilities/piscine-pontoise")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<html lang="fr">' in page.text
        found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page.text, re.S)
        assert found is not None
        document = json.loads(found.group(1))
        assert document["@type"] == "PublicSwimmingPool" and document["name"] == "Piscine Pontoise"
        assert document["openingHoursSpecification"]
        assert "19 rue de Pontoise, 75005 Paris" in page.text
        assert re.search(r"Ouvert|Fermé|Ferme bientôt", page.text)
        assert '<a href="/feedback/piscine-pontoise?channel=web">Donner mon avis</a>' in page.text
        assert (
            '<a href="/complaints?facility=piscine-pontoise">Faire une réclamation</a>' in page.text
        )
        english = await client.get("/facilities/piscine-pontoise?lang=en")
        assert '<html lang="en">' in english.text and "Address" in english.text
        assert "/complaints?facility=piscine-pontoise&amp;lang=en" in english.text
        for path in (
            "/feedback/piscine-pontoise?channel=web",
            "/complaints?facility=piscine-pontoise",
        ):
            assert (await client.get(path)).status_code == 200, path
        missing = await client.get("/facilities/nowhere-at-all")
        assert missing.status_code == 404 and "Équipement inconnu" in missing.text
        assert (await client.get("/screen/nowhere-at-all")).status_code == 404


def _listed(html: str) -> list[tuple[str, str]]:
    """(id, body) of each facility of a directory page, in order."""
    return re.findall(
        r'<li class="facility" id="f-[^"]+" data-id="([^"]+)"[^>]*>(.*?)</li>', html, re.S
    )


def _total(html: str) -> int:
    found = re.search(r'<span id="count">([\d\u202f\u00a0 ]+)</span>', html)
    assert found is not None
    return int(re.sub(r"\D", "", found.group(1)))


async def test_directory_filters_work_without_javascript(
    city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """The directory form filters on the server: ?type=pool&open_now=true lists only open pools,
    and nothing else is in the page, hidden or not. Every page is asked for at once (by day more open
    pools than one page holds)."""
    current = orjson.loads(
        await redis_client.hget(settings.key("facility", "piscine-pontoise"), "json")
    )
    opened = dict(current, seq=current["seq"] + 1, open_state="open", closures=[])
    await put_status(redis_client, settings, orjson.dumps(opened))
    async with httpx.AsyncClient(base_url=city_api.http) as client:
        page = await client.get("/", params={"type": "pool", "open_now": "true", "page": "999999"})
    shown = _listed(page.text)
    assert "piscine-pontoise" in [fid for fid, _ in shown]
    assert " hidden" not in "".join(re.findall(r'<li class="facility"[^>]*>', page.text))
    assert _total(page.text) == len(shown)
    for _, body in shown:
        assert "Piscine" in body
        assert re.search(r'data-state="(open|closing_soon|partially_closed)"', body)


async def test_directory_pages_the_whole_city_without_javascript(city_api: InProcessServer) -> None:
    """1,000+ facilities never land in one page: the first page holds PAGE_SIZE of them with the
    total in words; "Afficher plus" (a plain link) adds the next ones after the same first ones;
    following it to the end lists every facility of the catalogue once, in order."""
    catalogue = load_catalogue()
    async with httpx.AsyncClient(base_url=city_api.http) as client:
        first = (await client.get("/")).text
        assert len(_listed(first)) == PAGE_SIZE
        assert _total(first) == len(catalogue)
        assert f"Affichage : {PAGE_SIZE} sur" in first
        href = re.search(r'id="more" href="([^"#]+)', first)
        assert href is not None and "page=2" in href.group(1)
        second = (await client.get(html.unescape(href.group(1)))).text
        assert _listed(second)[:PAGE_SIZE] == _listed(first)
        assert len(_listed(second)) == 2 * PAGE_SIZE
        everything = (await client.get("/", params={"page": "999999"})).text
        ids = [fid for fid, _ in _listed(everything)]
        assert sorted(ids) == sorted(f.id for f in catalogue)
        assert 'id="more"' not in everything
        fragment = (await client.get("/directory/results", params={"page": "2"})).text
        assert _listed(fragment) == _listed(second)
        assert "<html" not in fragment
        english = (await client.get("/", params={"lang": "en", "type": "pool"})).text
        assert "Showing" in english and "Show more facilities" in english
        assert '<a href="/carte?type=pool&amp;lang=en">' in english  # the same facilities, mapped
        assert (await client.get("/", params={"page": "0"})).status_code == 422


async def test_ops_summary_counts_states_stale_sources_and_overdue_closures(
    settings: Settings, db: Settings, redis_client: aioredis.Redis, kafka_topics: Settings
) -> None:
    """/v1/ops/summary (with an ops token) counts facilities by state, lists stale sources and
    overdue closures with alerts, and reads events/s and dead letters from Kafka itself."""
    from tests.dashboards.dashboards_testkit import start_api

    pools = ["piscine-pontoise", "piscine-jean-taris", "piscine-suzanne-berlioux"]
    example = orjson.loads(make_status(pools[0], 1))
    overdue = dict(example["closures"][0], overdue=True)
    await put_status(redis_client, settings, make_status(pools[0], 5, closures=[overdue]))
    await put_status(
        redis_client, settings, make_status(pools[1], 5, stale=True, closures=[], open_state="open")
    )
    await put_status(
        redis_client, settings, make_status(pools[2], 5, closures=[], open_state="closed")
    )
    server = await start_api(settings)
    try:
        app = server.server.config.app
        app.state.ops_sampler.every = 0.2
        ops = {"Authorization": f"Bearer {issue_token(settings, 'ops-1', 'ops')}"}
        async with httpx.AsyncClient(base_url=server.http, timeout=10, headers=ops) as client:
            first = (await client.get("/v1/ops/summary")).json()
            await produce(settings, [passage(pools[0], "in") for _ in range(40)])
            second = first

            async def sampled_again() -> bool:
                # the sampler takes a new sample (at most every 0.2 s) only when asked
                nonlocal second
                second = (await client.get("/v1/ops/summary")).json()
                return len(second["series"]) > len(first["series"])

            await wait_until(sampled_again, within=10, every=0.1, what="a sample after the events")
    finally:
        await server.stop()
    by_state = first["facilities"]["by_state"]
    assert by_state["partially_closed"] == 1 and by_state["open"] == 1 and by_state["closed"] == 1
    assert by_state["unknown"] == first["facilities"]["total"] - 3
    assert [s["facility_id"] for s in first["stale"]] == [pools[1]]
    assert [c["facility_id"] for c in first["overdue_closures"]] == [pools[0]]
    codes = {a["code"] for a in first["alerts"]}
    assert {"overdue_closure", "stale_sources"} <= codes and "kafka_unreachable" not in codes
    assert second["stream"]["available"] is True
    assert second["stream"]["events_per_s"] > 0, (first["series"], second["series"])
    assert second["stream"]["dead_letters"] == 0
    assert second["stream"]["consumer_lag"] is None  # no stream worker ran on these topics
    assert len(second["series"]) >= 2


async def test_ops_summary_is_for_operations_staff_and_supervisors_only(
    city_api: InProcessServer, settings: Settings
) -> None:
    """Without a token the summary answers 401 (with WWW-Authenticate), with an agent, device or
    service token 403, both in the error shape; ops and supervisor tokens read it."""
    pool = "piscine-pontoise"
    tokens = {
        "agent": issue_token(settings, "agent-1", "agent", facilities=[pool]),
        "device": issue_token(settings, "gate-7", "device", facilities=[pool]),
        "service": issue_token(settings, "c.petit", "service", services=["djs-piscines"]),
        "ops": issue_token(settings, "ops-1", "ops"),
        "supervisor": issue_token(settings, "s.durand", "supervisor", facility_types=["pool"]),
    }
    async with httpx.AsyncClient(base_url=city_api.http, timeout=10) as client:
        anonymous = await client.get("/v1/ops/summary")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        assert anonymous.json()["error"]["code"] == "unauthenticated"
        forged = await client.get("/v1/ops/summary", headers={"Authorization": "Bearer x.y.z"})
        assert forged.status_code == 401
        answers = {
            role: await client.get("/v1/ops/summary", headers={"Authorization": f"Bearer {value}"})
            for role, value in tokens.items()
        }
        page = await client.get("/ops")
    for role in ("agent", "device", "service"):
        assert answers[role].status_code == 403, role
        assert answers[role].json()["error"]["code"] == "forbidden"
    for role in ("ops", "supervisor"):
        assert answers[role].status_code == 200, answers[role].text
        assert answers[role].json()["facilities"]["total"] == len(load_catalogue())
        assert answers[role].headers["cache-control"] == "no-store"
    assert page.status_code == 200 and 'data-local="true"' in page.text
    assert "/static/pages/ops.js" in page.text


def _shown(html: str) -> list[str]:
    return [fid for fid, _ in _listed(html)]


async def test_a_search_without_result_says_where_to_go_without_javascript(
    city_api: InProcessServer,
) -> None:
    """?q=passeport renders no facility, the "aucun équipement" help, the démarche's page and
    the passport hint linking to the town halls; ?q=FPS leads to its démarche; a search that finds facilities shows neither; ?q=15e finds the
    facilities of the 15e as the page's script does (the same words are searched)."""
    async with httpx.AsyncClient(base_url=city_api.http) as client:
        passeport = (await client.get("/", params={"q": "passeport"})).text
        fps = (await client.get("/", params={"q": "FPS"})).text
        pools = (await client.get("/", params={"q": "piscine 15e"})).text
        english = (await client.get("/", params={"q": "passport", "lang": "en"})).text
    assert _shown(passeport) == []
    assert '<section id="empty" class="empty" aria-labelledby="empty-title">' in passeport
    assert "Aucun équipement ne correspond à votre recherche." in passeport
    hint = re.search(r'<section id="hints".*?<li>(.*?)</li>', passeport, re.S)
    assert hint is not None and 'href="/?type=town_hall"' in hint.group(1)
    assert "Passeport" in passeport and '<a href="/demarches/identity-document">' in passeport
    assert _shown(fps) == [] and '<section id="hints"' in fps
    assert not re.search(r'<section id="hints"[^>]* hidden>', fps)
    assert '<a href="/demarches/parking-fine-appeal">' in fps  # the démarche it names
    assert 'href="/?type=town_hall">Voir les mairies' in fps
    pools_15 = {f.id for f in load_catalogue() if f.type == "pool" and f.arrondissement == 15}
    assert set(_shown(pools)) == pools_15
    assert re.search(r'<section id="empty"[^>]* hidden>', pools)
    assert "No facility matches your search." in english
    assert 'href="/?type=town_hall&amp;lang=en"' in english
