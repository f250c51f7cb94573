"""The open datasets built from real history rows in PostgreSQL: valid Frictionless packages,
Parquet equal to the CSV, nothing personal, served with cache headers, bad input refused."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import sys
from pathlib import Path

import frictionless
import httpx
import orjson
import pyarrow.parquet as pq
import pytest
from psycopg.types.json import Jsonb

from api.opendata.datasets import DATASETS, HISTORY
from api.opendata.export import read_csv_table
from api.opendata.job import build
from api.opendata.store import current
from paris_live.db import connect
from paris_live.settings import Settings
from producers.history import occupancy_history
from producers.history_store import write_history
from schemas import topics as contract
from schemas.catalogue import load_catalogue
from schemas.clock import PARIS
from schemas.events import EventType, make_event
from streams.sinks.copy_rows import copy_json, event_row
from streams.sinks.postgres import HistoryWriter
from streams.sinks.spool import HistoryBatch, MergedBatch, Spool
from tests.dashboards.dashboards_testkit import start_api

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=PARIS)
PERSONAL = ("declared_by", "agent", "contact", "email", "phone", "text", "answer", "user")


async def _write_history(settings: Settings, tmp_path: Path) -> dict[str, int]:
    """A week of occupancy (the simulator's history writer), closures (the closure store's
    columns), cases and queue statuses (the stream worker's history writer)."""
    catalogue = load_catalogue()
    pools = [f for f in catalogue if f.type == "pool" and f.capacity][:3]
    town_hall = next(f for f in catalogue if f.type == "town_hall" and f.procedures)
    history = occupancy_history(pools, NOW.date() - dt.timedelta(days=7), 8, seed=7)
    await write_history(settings, history, NOW)

    async with await connect(settings) as conn:
        for i, (ended, expected) in enumerate(((True, 2), (False, 1), (True, 6))):
            start = NOW - dt.timedelta(days=3 - i, hours=1)
            await conn.execute(
                "INSERT INTO closures (closure_id, facility_id, scope, reason, message, starts_at, "
                "expected_reopening_at, ended_at, declared_by, declared_at, updated_at, sequence) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0)",
                (
                    f"clo-{i}",
                    pools[i].id,
                    Jsonb({"kind": "area", "name": "Bassin 50 m"} if i else {"kind": "facility"}),
                    "water_quality",
                    Jsonb({"fr": "Bassin fermé : qualité de l'eau", "en": "Pool closed"}),
                    start,
                    start + dt.timedelta(hours=expected),
                    start + dt.timedelta(hours=4) if ended else None,
                    "agent.dupont@paris.fr",
                    start - dt.timedelta(minutes=10),
                    start,
                ),
            )
        await conn.commit()

    procedure = town_hall.procedures[0].procedure_id
    batch = HistoryBatch(0, {settings.topic(contract.CASES): 40})
    offset = 0
    for case in range(12):
        opened = NOW - dt.timedelta(days=20 + case)
        closed = opened + dt.timedelta(days=2 + case)
        for kind, at in ((EventType.CASE_OPENED, opened), (EventType.CASE_CLOSED, closed)):
            event = make_event(
                kind,
                town_hall.id,
                {"procedure_id": procedure, "case_id": f"case-{case}"},
                source=f"/cases/{town_hall.id}",
                time=at,
            )
            batch.events += event_row(event, settings.topic(contract.CASES), 0, offset)
            batch.n_events += 1
            offset += 1
    service = next(s.service_id for s in town_hall.services if s.queue)
    for seq in range(1, 7):
        at = NOW - dt.timedelta(hours=2, minutes=-10 * seq)
        status = {
            "facility_id": town_hall.id,
            "queues": [{"service_id": service, "length": seq, "wait_minutes": 3.0 * seq}],
        }
        batch.status_changes += (
            b"\t".join(
                (
                    town_hall.id.encode(),
                    str(seq).encode(),
                    at.isoformat().encode(),
                    b"open",
                    b"\\N",
                    b"\\N",
                    b"f",
                    copy_json(orjson.dumps(status)),
                )
            )
            + b"\n"
        )
        batch.n_status_changes += 1

    async def on_stored(_merged: MergedBatch) -> None:
        return None

    spool = Spool(tmp_path / "spool", memory_bytes=10**6, disk_bytes=10**6)
    writer = HistoryWriter(settings, spool, "open-data-test", on_stored)
    spool.push(batch)
    await writer.write_once()
    await writer.close()
    return {"cases": 12, "queue_samples": 6}


@pytest.fixture
async def published(db: Settings, tmp_path: Path) -> Settings:
    """History written, then the datasets built once by the job's own code."""
    settings = db.model_copy(update={"open_data_dir": tmp_path / "open-data"})
    await _write_history(settings, tmp_path)
    await build(settings, now=NOW)
    return settings


async def test_every_dataset_is_a_valid_frictionless_package(published: Settings) -> None:
    """frictionless validates the package (library and CLI); each history dataset has rows."""
    folder = current(published.open_data_dir).folder
    report = frictionless.Package(str(folder / "datapackage.json")).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    package = orjson.loads((folder / "datapackage.json").read_bytes())
    assert {r["name"] for r in package["resources"]} == set(DATASETS)
    rows = {r["name"]: r["rows"] for r in package["resources"]}
    assert all(rows[d.name] > 0 for d in HISTORY), rows
    assert rows["processing-delays"] >= 1 and rows["closures"] == 3
    licences = {r["name"]: r["licenses"][0]["name"] for r in package["resources"]}
    assert licences["facilities"] == "ODbL-1.0" and licences["occupancy-hourly"] == "etalab-2.0"
    cli = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "frictionless"),
        "validate",
        str(folder / "datapackage.json"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await cli.communicate()
    assert cli.returncode == 0, output.decode()
    print(output.decode())  # the validation output, shown with -s


async def test_parquet_has_the_rows_of_the_csv_and_nothing_personal(published: Settings) -> None:
    """Each Parquet file reads back with the CSV's rows; no column or value is personal."""
    folder = current(published.open_data_dir).folder
    for name, dataset in DATASETS.items():
        from_csv = read_csv_table(folder / f"{name}.csv", dataset.columns)
        from_parquet = pq.read_table(folder / f"{name}.parquet")
        assert from_parquet.num_rows == from_csv.num_rows > 0, name
        assert from_parquet.equals(from_csv), name
        header = (folder / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert not any(word in header for word in PERSONAL), header
    closures = (folder / "closures.csv").read_text(encoding="utf-8")
    assert "dupont" not in closures and "Bassin fermé : qualité de l'eau" in closures
    rows = list(csv.DictReader(io.StringIO(closures)))
    assert [r["overdue"] for r in rows] == ["true", "true", "false"]


async def test_api_serves_files_ranges_catalogue_and_errors(published: Settings) -> None:
    """Files with cache headers, a date range, the DCAT catalogue; 404 and 422 in the one
    error shape."""
    server = await start_api(published)
    try:
        async with httpx.AsyncClient(base_url=server.http, timeout=30) as http:
            index = (await http.get("/v1/open-data")).json()
            assert len(index["datasets"]) == 3  # the monthly feedback datasets, unchanged
            assert {d["dataset"] for d in index["daily"]["datasets"]} == set(DATASETS)
            full = await http.get("/v1/open-data/occupancy-hourly.csv")
            assert full.status_code == 200 and "max-age" in full.headers["cache-control"]
            again = await http.get(
                "/v1/open-data/occupancy-hourly.csv",
                headers={"If-None-Match": full.headers["etag"]},
            )
            assert again.status_code == 304
            day = (NOW - dt.timedelta(days=2)).date().isoformat()
            ranged = await http.get(f"/v1/open-data/occupancy-hourly.csv?from={day}&to={day}")
            ranged_rows = list(csv.DictReader(io.StringIO(ranged.text)))
            assert ranged_rows and all(r["hour_start"].startswith(day) for r in ranged_rows)
            full_rows = [
                r for r in csv.DictReader(io.StringIO(full.text)) if r["hour_start"].startswith(day)
            ]
            assert [r["hour_start"] for r in ranged_rows] == [r["hour_start"] for r in full_rows]
            parquet = await http.get(f"/v1/open-data/occupancy-hourly.parquet?from={day}&to={day}")
            assert pq.read_table(io.BytesIO(parquet.content)).num_rows == len(ranged_rows)
            package = (await http.get("/v1/open-data/datapackage.json")).json()
            assert package["name"] == "paris-live-open-data"
            catalog = await http.get("/v1/open-data/catalog.jsonld")
            assert catalog.headers["content-type"].startswith("application/ld+json")
            assert len(catalog.json()["dcat:dataset"]) == len(DATASETS) + 3
            monthly = await http.get("/v1/open-data/satisfaction.csv")
            assert monthly.status_code in (200, 404)  # the feedback route answers it
            for url, status, code in (
                ("/v1/open-data/nope.csv", 404, "unknown_dataset"),
                ("/v1/open-data/closures.xlsx", 404, "unknown_dataset"),
                ("/v1/open-data/closures.csv?from=2026-02-30", 422, "invalid_parameter"),
                (
                    "/v1/open-data/closures.csv?from=2026-05-02&to=2026-05-01",
                    422,
                    "invalid_parameter",
                ),
                (
                    "/v1/open-data/closures.csv?from=2020-01-01&to=2026-01-01",
                    422,
                    "invalid_parameter",
                ),
                ("/v1/open-data/facilities.csv?from=2026-01-01", 422, "invalid_parameter"),
            ):
                answer = await http.get(url)
                assert answer.status_code == status, url
                assert answer.json()["error"]["code"] == code, url
                assert answer.json()["error"]["message"], url
    finally:
        await server.stop()
