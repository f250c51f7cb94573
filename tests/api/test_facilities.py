"""REST /v1/facilities: lists, one facility, JSON-LD, errors, ETag/304, CORS."""

from __future__ import annotations

import httpx
import pytest
import redis.asyncio as aioredis

from paris_live.settings import Settings
from schemas.catalogue import load_catalogue
from tests.api.api_testkit import facilities_of, make_status, put_status

pytestmark = pytest.mark.integration


async def test_list_pages_cover_the_catalogue(http: httpx.AsyncClient) -> None:
    """Following next through small pages lists every facility once, in a stable order."""
    seen: list[str] = []
    cursor = None
    for _ in range(200):
        params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
        page = (await http.get("/v1/facilities", params=params)).json()
        assert set(page) == {"items", "next"}
        seen += [item["facility_id"] for item in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(load_catalogue().ids)


async def test_list_merges_live_status_and_catalogue(
    http: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """Items carry the live status when there is one, else an unknown state from the catalogue."""
    live, quiet = facilities_of("pool", 2)
    await put_status(redis_client, settings, make_status(live, 12, open_state="open"))
    page = (await http.get("/v1/facilities", params={"type": "pool", "limit": 200})).json()
    items = {item["facility_id"]: item for item in page["items"]}
    assert {item["type"] for item in page["items"]} == {"pool"}
    assert items[live.id]["live"] is True and items[live.id]["seq"] == 12
    assert items[live.id]["catalogue"]["address"]["postcode"] == live.address.postcode
    assert items[quiet.id]["live"] is False
    assert items[quiet.id]["open_state"] == "unknown" and items[quiet.id]["seq"] == 0


async def test_filters_arrondissement_q_and_open_now(
    http: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """arrondissement, q and open_now each narrow the list to what they say."""
    pool = facilities_of("pool", 1)[0]
    await put_status(redis_client, settings, make_status(pool, 1, open_state="open"))
    by_arr = (
        await http.get(
            "/v1/facilities", params={"arrondissement": pool.arrondissement, "limit": 200}
        )
    ).json()
    assert by_arr["items"] and all(
        i["arrondissement"] == pool.arrondissement for i in by_arr["items"]
    )
    found = (await http.get("/v1/facilities", params={"q": pool.name})).json()
    assert found["items"][0]["facility_id"] == pool.id
    open_now = (await http.get("/v1/facilities", params={"open_now": "true", "limit": 200})).json()
    assert [i["facility_id"] for i in open_now["items"]] == [pool.id]


async def test_one_facility_and_unknown_one(
    http: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """A facility answers its status and full catalogue entry; an unknown id answers 404 in the
    error shape, French first."""
    pool = facilities_of("pool", 1)[0]
    await put_status(redis_client, settings, make_status(pool, 3))
    body = (await http.get(f"/v1/facilities/{pool.id}")).json()
    assert body["facility_id"] == pool.id and body["seq"] == 3 and body["live"] is True
    assert body["catalogue"]["hours"]["weekly"]["mon"] is not None
    missing = await http.get("/v1/facilities/xyz")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {
            "code": "unknown_facility",
            "message": "Équipement inconnu : xyz / Unknown facility: xyz",
        }
    }


async def test_validation_errors_use_the_error_shape(http: httpx.AsyncClient) -> None:
    """Invalid query values and unknown routes answer the one error shape."""
    for path, params, status in (
        ("/v1/facilities", {"arrondissement": "21"}, 422),
        ("/v1/facilities", {"cursor": "%%%"}, 422),
        ("/v1/facilities/BAD ID", {}, 422),
        ("/v1/nothing-here", {}, 404),
    ):
        response = await http.get(path, params=params)
        assert response.status_code == status, path
        assert set(response.json()) == {"error"}
        assert set(response.json()["error"]) == {"code", "message"}


async def test_jsonld_has_hours_and_closures(
    http: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """JSON-LD describes the place with its weekly hours and current closures."""
    pool = facilities_of("pool", 1)[0]
    await put_status(redis_client, settings, make_status(pool, 1))  # the example has a closure
    response = await http.get(
        f"/v1/facilities/{pool.id}", headers={"Accept": "application/ld+json"}
    )
    assert response.headers["content-type"].startswith("application/ld+json")
    doc = response.json()
    assert doc["@context"] == "https://schema.org" and doc["@type"] == "PublicSwimmingPool"
    assert doc["openingHoursSpecification"][0]["dayOfWeek"].startswith("https://schema.org/")
    closure = [
        s
        for s in doc["specialOpeningHoursSpecification"]
        if "Bassin fermé" in s.get("description", "")
    ]
    assert closure and closure[0]["opens"] == closure[0]["closes"] == "00:00"


async def test_etag_304_and_cors(
    http: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """A repeated GET with If-None-Match answers 304; a change gives a new ETag; CORS is open."""
    pool = facilities_of("pool", 1)[0]
    await put_status(redis_client, settings, make_status(pool, 1))
    first = await http.get(f"/v1/facilities/{pool.id}", headers={"Origin": "https://example.org"})
    assert first.headers["access-control-allow-origin"] == "*"
    assert "max-age" in first.headers["cache-control"]
    etag = first.headers["etag"]
    again = await http.get(f"/v1/facilities/{pool.id}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    await put_status(redis_client, settings, make_status(pool, 2))  # read from Redis: no wait
    changed = await http.get(f"/v1/facilities/{pool.id}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


async def test_nearby_suggests_the_nearest_open_ones_of_the_same_type(
    http: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """A closed pool's suggestions: open pools only, nearest first, never itself nor a library."""
    from api.nearby import distance_m

    closed, *others = facilities_of("pool", 6)
    await put_status(
        redis_client, settings, make_status(closed, 3, open_state="exceptionally_closed")
    )
    states = ["open", "closed", "closing_soon", "exceptionally_closed", "partially_closed"]
    for seq, (pool, state) in enumerate(zip(others, states, strict=True), start=1):
        await put_status(redis_client, settings, make_status(pool, seq, open_state=state))
    library = facilities_of("library", 1)[0]
    await put_status(redis_client, settings, make_status(library, 1, open_state="open"))

    answer = (await http.get(f"/v1/facilities/{closed.id}/nearby", params={"limit": 10})).json()
    open_ones = {
        p.id
        for p, s in zip(others, states, strict=True)
        if s in {"open", "closing_soon", "partially_closed"}
    }
    got = [item["facility_id"] for item in answer["items"]]
    assert set(got) == open_ones and answer["next"] is None
    distances = [item["distance_m"] for item in answer["items"]]
    assert distances == sorted(distances)
    by_id = {p.id: p for p in others}
    assert distances[0] == round(distance_m(closed.location, by_id[got[0]].location))
    one = (await http.get(f"/v1/facilities/{closed.id}/nearby", params={"limit": 1})).json()
    assert [i["facility_id"] for i in one["items"]] == got[:1]
    missing = await http.get("/v1/facilities/nulle-part/nearby")
    assert missing.status_code == 404 and missing.json()["error"]["code"]
