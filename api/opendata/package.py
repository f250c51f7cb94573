"""The descriptions of what is published: a Frictionless Data Package (``datapackage.json``, one
Table Schema per resource, licences, sources, created date) and a DCAT-AP catalogue in JSON-LD.

Both languages: titles and descriptions in French (the msgids) in the package, with the English
beside them (``title_en`` …); the DCAT catalogue tags each text with its language.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import frictionless

from api.i18n import Lang, localized
from api.opendata.datasets import DATASETS, LICENCES, Column, Dataset, Licence
from api.opendata.export import Written
from schemas.provenance import DATASETS as CATALOGUE_SOURCES

__all__ = ["PACKAGE_NAME", "dcat_catalog", "package_descriptor", "table_schema"]

PACKAGE_NAME = "paris-live-open-data"
_EU = "http://publications.europa.eu/resource/authority"
_FILE_TYPES = {"csv": "CSV", "parquet": "PARQUET", "json": "JSON"}
_MEDIA_TYPES = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "json": "application/json",
}


def _field(column: Column) -> dict[str, Any]:
    field: dict[str, Any] = {
        "name": column.name,
        "type": column.type,
        "description": localized(column.description)["fr"],
        "description_en": localized(column.description)["en"],
    }
    if column.type == "datetime":
        field["format"] = "%Y-%m-%dT%H:%M:%S%z"
    constraints: dict[str, Any] = {}
    if column.required:
        constraints["required"] = True
    if column.enum:
        constraints["enum"] = list(column.enum)
    if column.minimum is not None:
        constraints["minimum"] = column.minimum
    if constraints:
        field["constraints"] = constraints
    return field


def table_schema(dataset: Dataset) -> frictionless.Schema:
    """The dataset's Table Schema (types, descriptions in both languages, constraints, key)."""
    return frictionless.Schema.from_descriptor(
        {
            "fields": [_field(c) for c in dataset.columns],
            "primaryKey": list(dataset.primary_key),
            "missingValues": [""],
        }
    )


def _licence(licence: Licence) -> dict[str, str]:
    return {"name": licence.name, "path": licence.path, "title": licence.title}


def _sources(dataset: Dataset) -> list[dict[str, str]]:
    sources = [{"title": localized(s)["fr"]} for s in dataset.sources]
    if dataset.sql is None:  # the catalogue: the open datasets it is built from
        sources += [
            {"title": f"{s.title} — {s.publisher} ({s.licence})", "path": s.url}
            for s in CATALOGUE_SOURCES.values()
        ]
    return sources


def package_descriptor(
    written: Mapping[str, tuple[Written, Written]], created: datetime
) -> dict[str, Any]:
    """``datapackage.json``: one tabular resource per dataset (its CSV), the Parquet beside it."""
    resources = []
    for name, (csv_file, parquet_file) in written.items():
        dataset = DATASETS[name]
        title = localized(dataset.title)
        description = localized(dataset.description)
        resource = frictionless.Resource(
            name=name,
            path=csv_file.path.name,
            title=title["fr"],
            description=description["fr"],
            format="csv",
            mediatype="text/csv",
            encoding="utf-8",
            bytes=csv_file.bytes,
            hash=csv_file.sha256,
            licenses=[_licence(dataset.licence)],
            sources=_sources(dataset),
            schema=table_schema(dataset),
        )
        resource.custom.update(
            {
                "title_en": title["en"],
                "description_en": description["en"],
                "rows": csv_file.rows,
                "period_column": dataset.period_column,
                "parquet": {
                    "path": parquet_file.path.name,
                    "mediatype": _MEDIA_TYPES["parquet"],
                    "bytes": parquet_file.bytes,
                    "hash": parquet_file.sha256,
                    "rows": parquet_file.rows,
                },
            }
        )
        resources.append(resource)
    package = frictionless.Package(
        name=PACKAGE_NAME,
        title="Paris Live — données ouvertes",
        description=(
            "Affluence, fermetures, délais de traitement, attente aux guichets et catalogue des "
            "équipements de la Ville de Paris, mis à jour chaque jour."
        ),
        homepage="/donnees",
        created=created.isoformat(timespec="seconds"),
        version=created.strftime("%Y.%m.%d"),
        licenses=[_licence(lic) for lic in LICENCES.values()],
        sources=[{"title": "Ville de Paris — Paris Live"}],
        keywords=["Paris", "équipements publics", "affluence", "fermetures", "délais"],
        resources=resources,
    )
    package.custom["title_en"] = "Paris Live — open data"
    package.custom["description_en"] = (
        "Crowding, closures, processing délais, counter waits and the facility catalogue of the "
        "City of Paris, refreshed daily."
    )
    descriptor: dict[str, Any] = package.to_descriptor()
    return descriptor


def _texts(fr: str, en: str) -> list[dict[str, str]]:
    return [{"@language": "fr", "@value": fr}, {"@language": "en", "@value": en}]


def _date(value: str) -> dict[str, str]:
    return {"@value": value, "@type": "xsd:dateTime"}


def _distribution(url: str, fmt: str, licence: str, size: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "@id": url,
        "@type": "dcat:Distribution",
        "dcat:accessURL": {"@id": url},
        "dcat:downloadURL": {"@id": url},
        "dcat:mediaType": {
            "@id": f"https://www.iana.org/assignments/media-types/{_MEDIA_TYPES[fmt]}"
        },
        "dct:format": {"@id": f"{_EU}/file-type/{_FILE_TYPES[fmt]}"},
        "dct:license": {"@id": licence},
    }
    if size is not None:
        out["dcat:byteSize"] = {"@value": str(size), "@type": "xsd:nonNegativeInteger"}
    return out


def dcat_catalog(
    package: Mapping[str, Any],
    base_url: str,
    monthly: Mapping[str, Mapping[Lang, str]],
) -> dict[str, Any]:
    """The DCAT-AP catalogue of the daily datasets (from their package) and of the monthly
    feedback datasets (``monthly``: name → ``{"fr": title, "en": title}``)."""
    base = base_url.rstrip("/")
    api = f"{base}/v1/open-data"
    publisher = {"@type": "foaf:Agent", "foaf:name": "Ville de Paris"}
    modified = str(package["created"])
    datasets: list[dict[str, Any]] = []
    for resource in package["resources"]:
        licence = resource["licenses"][0]["path"]
        name = resource["name"]
        datasets.append(
            {
                "@id": f"{api}/{name}",
                "@type": "dcat:Dataset",
                "dct:identifier": name,
                "dct:title": _texts(resource["title"], resource["title_en"]),
                "dct:description": _texts(resource["description"], resource["description_en"]),
                "dct:publisher": publisher,
                "dct:license": {"@id": licence},
                "dct:modified": _date(modified),
                "dct:accrualPeriodicity": {"@id": f"{_EU}/frequency/DAILY"},
                "dct:conformsTo": {"@id": f"{api}/datapackage.json"},
                "dcat:landingPage": {"@id": f"{base}/donnees"},
                "dcat:distribution": [
                    _distribution(f"{api}/{name}.csv", "csv", licence, resource.get("bytes")),
                    _distribution(
                        f"{api}/{name}.parquet", "parquet", licence, resource["parquet"]["bytes"]
                    ),
                ],
            }
        )
    monthly_description = localized(
        "Résultats mensuels de la charte « Vous simplifier Paris », comptés sans donnée "
        "personnelle ; le mois se choisit avec ?month=AAAA-MM."
    )
    for name, title in monthly.items():
        licence = LICENCES["etalab-2.0"].path
        datasets.append(
            {
                "@id": f"{api}/{name}",
                "@type": "dcat:Dataset",
                "dct:identifier": name,
                "dct:title": _texts(title["fr"], title["en"]),
                "dct:description": _texts(monthly_description["fr"], monthly_description["en"]),
                "dct:publisher": publisher,
                "dct:license": {"@id": licence},
                "dct:accrualPeriodicity": {"@id": f"{_EU}/frequency/MONTHLY"},
                "dcat:landingPage": {"@id": f"{base}/transparence"},
                "dcat:distribution": [
                    _distribution(f"{api}/{name}.csv", "csv", licence, None),
                    _distribution(f"{api}/{name}.json", "json", licence, None),
                ],
            }
        )
    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
        },
        "@id": f"{api}/catalog.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": _texts("Paris Live — données ouvertes", "Paris Live — open data"),
        "dct:description": _texts(
            str(package.get("description", "")), str(package.get("description_en", ""))
        ),
        "dct:publisher": publisher,
        "dct:language": [{"@id": f"{_EU}/language/FRA"}, {"@id": f"{_EU}/language/ENG"}],
        "dct:modified": _date(modified),
        "foaf:homepage": {"@id": f"{base}/donnees"},
        "dcat:dataset": datasets,
    }
