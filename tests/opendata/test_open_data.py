"""The open datasets built from real history rows in PostgreSQL: valid Frictionless packages,
Parquet equal to the CSV, nothing personal, served with cache headers, bad input refused."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import sys
import warnings
from pathlib import Path

import frictionless
import httpx
import orjson
import pyarrow.parquet as pq
import pytest
from rdflib import DCTERMS, RDF, Graph, Namespace

from api.opendata.datasets import DATASETS, HISTORY
from api.opendata.export import read_csv_table
from api.opendata.job import build
from api.opendata.store import current
from paris_live.settings import Settings
from tests.dashboards.dashboards_testkit import start_api
from tests.opendata.opendata_testkit import NOW, PERSONAL, write_history_rows

pytestmark = pytest.mark.integration


@pytest.fixture
async def published(db: Settings, tmp_path: Path) -> Settings:
    """History written, then the datasets built once by the job's own code."""
    settings = db.model_copy(update={"open_data_dir": tmp_path / "open-data"})
    await write_history_rows(settings, tmp_path)
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
    (delays,) = csv.DictReader(io.StringIO((folder / "processing-delays.csv").read_text()))
    # twelve cases of 2 to 13 days against 10 days promised (an illustrative figure)
    assert (delays["cases_closed"], delays["median_days"], delays["p90_days"]) == (
        "12",
        "7.5",
        "12.0",
    )
    assert (delays["committed_days"], delays["committed_illustrative"]) == ("10", "true")
    assert (delays["within_commitment"], delays["on_time_rate"]) == ("9", "0.750")


async def test_api_serves_files_ranges_catalogue_and_errors(
    published: Settings, tmp_path: Path
) -> None:
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
            year = await http.get(
                "/v1/open-data/occupancy-hourly.csv?from=2026-01-01&to=2026-12-31"
            )
            columns = DATASETS["occupancy-hourly"].columns
            (tmp_path / "year.csv").write_bytes(year.content)
            (tmp_path / "full.csv").write_bytes(full.content)
            assert read_csv_table(tmp_path / "year.csv", columns).equals(
                read_csv_table(tmp_path / "full.csv", columns)
            )
            parquet = await http.get(f"/v1/open-data/occupancy-hourly.parquet?from={day}&to={day}")
            assert pq.read_table(io.BytesIO(parquet.content)).num_rows == len(ranged_rows)
            package = (await http.get("/v1/open-data/datapackage.json")).json()
            assert package["name"] == "paris-live-open-data"
            catalog = await http.get("/v1/open-data/catalog.jsonld")
            assert catalog.headers["content-type"].startswith("application/ld+json")
            _check_dcat(catalog.text, len(DATASETS) + 3)
            monthly = await http.get("/v1/open-data/satisfaction.csv")
            assert monthly.status_code == 200  # answered by the feedback route: its columns
            assert monthly.text.lstrip("\ufeff").startswith("month,facility_id,facility_name")
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
            # a download manager's Range is honoured; a bad one answers in the error shape
            # (Starlette's FileResponse answers plain text itself: api.errors.FrameworkErrors)
            part = await http.get("/v1/open-data/facilities.csv", headers={"Range": "bytes=0-9"})
            assert part.status_code == 206 and len(part.content) == 10
            for header, status, code in (
                ("bytes=5-1", 400, "invalid_range_header"),
                ("items=0-1", 400, "invalid_range_header"),
                ("bytes=abc", 400, "invalid_range_header"),
                ("bytes=999999999999-", 416, "range_not_satisfiable"),
            ):
                answer = await http.get("/v1/open-data/facilities.csv", headers={"Range": header})
                assert answer.status_code == status, header
                assert answer.headers["content-type"] == "application/json", header
                error = answer.json()["error"]
                assert error["code"] == code and " / " in error["message"], (header, error)
                if status == 416:
                    assert answer.headers["content-range"].startswith("bytes */"), header
    finally:
        await server.stop()


async def test_before_the_first_build_downloads_say_not_published(
    db: Settings, tmp_path: Path
) -> None:
    """Before the job ran: the index has no daily part, downloads answer 404 not_published."""
    settings = db.model_copy(update={"open_data_dir": tmp_path / "none"})
    server = await start_api(settings)
    try:
        async with httpx.AsyncClient(base_url=server.http, timeout=30) as http:
            index = await http.get("/v1/open-data/")
            assert index.status_code == 200 and index.json()["daily"] is None
            for url in ("/v1/open-data/datapackage.json", "/v1/open-data/closures.csv"):
                answer = await http.get(url)
                assert answer.status_code == 404, url
                assert answer.json()["error"]["code"] == "not_published", url
    finally:
        await server.stop()


def _check_dcat(text: str, datasets: int) -> None:
    """Read as RDF, the catalogue has what DCAT-AP makes mandatory: a titled, described catalogue
    with a publisher; each dataset titled and described in French and English, with a licence and
    distributions that have an access URL."""
    dcat = Namespace("http://www.w3.org/ns/dcat#")
    with warnings.catch_warnings():  # rdflib 7's own JSON-LD parser still builds a
        warnings.simplefilter("ignore", DeprecationWarning)  # ConjunctiveGraph inside
        graph = Graph().parse(data=text, format="json-ld")
    (catalog,) = graph.subjects(RDF.type, dcat.Catalog)
    for prop in (DCTERMS.title, DCTERMS.description, DCTERMS.publisher):
        assert graph.value(catalog, prop) is not None, prop
    found = list(graph.objects(catalog, dcat.dataset))
    assert len(found) == datasets == len(set(graph.subjects(RDF.type, dcat.Dataset)))
    for dataset in found:
        langs = {t.language for t in graph.objects(dataset, DCTERMS.title)}
        assert langs == {"fr", "en"}, dataset
        assert {t.language for t in graph.objects(dataset, DCTERMS.description)} == langs
        assert graph.value(dataset, DCTERMS.license) is not None, dataset
        distributions = list(graph.objects(dataset, dcat.distribution))
        assert len(distributions) == 2, dataset
        assert all(graph.value(d, dcat.accessURL) is not None for d in distributions)
