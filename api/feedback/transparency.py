"""The public results of the feedback loop, computed: the open-data rows of a month and the
figures ``/transparence`` shows (satisfaction, complaints, response délais).

Figures come from the aggregates the feedback job keeps (:mod:`streams.feedback`):
``satisfaction_monthly``, ``complaint_stats_monthly`` and ``response_delay_monthly``, plus the
count of complaints still unanswered past their délai (from ``complaint_facts``). Nothing here
reads a personal field: the public figures are counts, averages and délais.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable
from typing import Any

from api.context import AppContext
from api.errors import InvalidParameter
from api.feedback import store
from api.feedback.datasets import DATASETS
from api.feedback.labels import ASPECT_LABELS, RULE_LABELS, mediator
from api.i18n import Lang, bilingual, in_language, localized
from api.routes.history import pg
from schemas.catalogue import TYPE_LABELS, Catalogue
from schemas.clock import PARIS
from schemas.events import GoldenRule
from schemas.parcours import load_parcours
from schemas.routing import load_routing

__all__ = [
    "MIN_SAMPLE",
    "dataset_rows",
    "months_available",
    "parse_month",
    "pick_month",
    "report",
    "to_csv",
]

MIN_SAMPLE = 10
"""Answers a month needs before a figure computed from them is published: a satisfaction average
(survey answers rating that aspect, or that type of facility) or a response délai (median, 90th
percentile, share on time: complaints answered). Below it the figure is ``null`` and the page
says « pas assez de réponses ce mois-ci » — one or two answers are an anecdote, not a result.
The counts themselves, and the open-data rows, are always published."""

MONTH = re.compile(r"^(20[0-9]{2})-(0[1-9]|1[0-2])$")
Row = dict[str, Any]


def parse_month(value: str | None) -> dt.date | None:
    """``YYYY-MM`` as the first day of that month (422 when it is not one)."""
    if value is None:
        return None
    match = MONTH.match(value)
    if not match:
        raise InvalidParameter(
            bilingual("Mois invalide : AAAA-MM attendu"),
            code="invalid_parameter",
        )
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


async def months_available(ctx: AppContext) -> list[dt.date]:
    async with pg(ctx) as conn:
        return await store.months_available(conn)


async def pick_month(ctx: AppContext, month: str | None) -> tuple[dt.date, list[dt.date]]:
    """The month asked for (default: the latest with figures, else this one) and those there are."""
    months = await months_available(ctx)
    chosen = parse_month(month)
    if chosen is None:
        now = dt.datetime.now(PARIS)
        chosen = months[0] if months else dt.date(now.year, now.month, 1)
    return chosen, months


# ── Open-data rows ────────────────────────────────────────────────────────────────────────────


def _facility(catalogue: Catalogue, facility_id: str | None) -> tuple[str | None, int | None]:
    if facility_id is None:  # a démarche's complaint naming no facility
        return None, None
    if facility_id in catalogue:
        facility = catalogue.get(facility_id)
        return facility.name, facility.arrondissement
    return facility_id, None


def service_name(service_id: str, lang: Lang = "fr") -> str:
    service = load_routing().services.get(service_id)
    return service_id if service is None else in_language(service.name, lang)


def _satisfaction(catalogue: Catalogue, month: str, r: Row) -> Row:
    name, arr = _facility(catalogue, r["facility_id"])
    responses, ratings = r["responses"], r["ratings"]
    return {
        "month": month,
        "facility_id": r["facility_id"],
        "facility_name": name,
        "facility_type": r["facility_type"],
        "arrondissement": arr,
        "aspect": r["aspect"],
        "responses": responses,
        "average_rating": round(r["rating_sum"] / responses, 2) if responses else None,
        **{f"rating_{i + 1}": ratings[i] for i in range(5)},
        "not_kept": r["not_kept"],
    }


def _complaints(catalogue: Catalogue, month: str, r: Row) -> Row:
    name, arr = _facility(catalogue, r["facility_id"])
    return {
        "month": month,
        "facility_id": r["facility_id"],
        "facility_name": name,
        "facility_type": r["facility_type"],
        "arrondissement": arr,
        "service_id": r["service_id"],
        "service_name": service_name(r["service_id"]),
        **{k: r[k] for k in ("rule", "topic", "filed", "acknowledged", "answered")},
        "answered_on_time": r["answered_on_time"],
        "procedure_id": r["procedure_id"],
        "procedure_name": procedure_name(r["procedure_id"]),
    }


def procedure_name(procedure_id: str | None, lang: Lang = "fr") -> str | None:
    """A démarche's title (its id when ``parcours.json`` no longer has it)."""
    if procedure_id is None:
        return None
    found = next((p for p in load_parcours() if p.parcours_id == procedure_id), None)
    return procedure_id if found is None else in_language(found.title, lang)


def _days(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def _response_delays(_catalogue: Catalogue, month: str, r: Row) -> Row:
    return {
        "month": month,
        "service_id": r["service_id"],
        "service_name": service_name(r["service_id"]),
        **{k: r[k] for k in ("rule", "filed", "answered", "answered_on_time")},
        "on_time_rate": _share(r["answered_on_time"], r["answered"], 3),
        "median_days": _days(r["median_days"]),
        "p90_days": _days(r["p90_days"]),
        "committed_days": r["committed_days"],
    }


_SOURCES: dict[str, tuple[store.MonthlyTable, Callable[[Catalogue, str, Row], Row]]] = {
    "satisfaction": (store.SATISFACTION, _satisfaction),
    "complaints": (store.COMPLAINT_STATS, _complaints),
    "response-delays": (store.RESPONSE_DELAYS, _response_delays),
}


async def _dataset(
    conn: store.Conn, catalogue: Catalogue, dataset: str, month: dt.date
) -> list[Row]:
    table, shape = _SOURCES[dataset]
    label = f"{month:%Y-%m}"
    return [shape(catalogue, label, r) for r in await store.monthly_rows(conn, table, month)]


async def dataset_rows(ctx: AppContext, dataset: str, month: dt.date) -> list[Row]:
    """The rows of one open-data dataset for one month (column order of :data:`DATASETS`)."""
    async with pg(ctx) as conn:
        return await _dataset(conn, ctx.catalogue, dataset, month)


def to_csv(dataset: str, rows: list[Row]) -> bytes:
    """CSV (UTF-8 with BOM for spreadsheet apps, comma separated, header = column names)."""
    out = io.StringIO()
    names = [c.name for c in DATASETS[dataset].columns]
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row[k] is None else row[k] for k in names})
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# ── The month's report ────────────────────────────────────────────────────────────────────────


def _total(rows: Iterable[Row], key: str) -> int:
    """The sum of an integer column."""
    return sum(int(r[key]) for r in rows)


def _share(part: float, whole: float, digits: int) -> float | None:
    return round(part / whole, digits) if whole else None


def _by_aspect(satisfaction: list[Row]) -> list[Row]:
    aspects = []
    for aspect in ASPECT_LABELS:
        rows = [r for r in satisfaction if r["aspect"] == aspect]
        responses = _total(rows, "responses")
        distribution = [_total(rows, f"rating_{i}") for i in range(1, 6)]
        total = sum(i * n for i, n in enumerate(distribution, start=1))
        published = responses >= MIN_SAMPLE
        aspects.append(
            {
                "aspect": aspect,
                "label": localized(ASPECT_LABELS[aspect]),
                "responses": responses,
                "published": published,
                "average": _share(total, responses, 2) if published else None,
                "distribution": distribution if published else None,
                "not_kept": _total(rows, "not_kept"),
            }
        )
    return aspects


def _by_type(satisfaction: list[Row], complaints: list[Row]) -> list[Row]:
    by_type = []
    for kind, label in TYPE_LABELS.items():
        rows = [r for r in satisfaction if r["facility_type"] == kind and r["aspect"] == "overall"]
        filed = _total((r for r in complaints if r["facility_type"] == kind), "filed")
        responses = _total(rows, "responses")
        if not responses and not filed:
            continue
        total = sum(r["average_rating"] * r["responses"] for r in rows if r["responses"])
        published = responses >= MIN_SAMPLE
        by_type.append(
            {
                "facility_type": kind,
                "label": {"fr": label.fr, "en": label.en},
                "responses": responses,
                "published": published,
                "average": _share(total, responses, 2) if published else None,
                "complaints": filed,
            }
        )
    return by_type


def _by_topic(complaints: list[Row]) -> list[Row]:
    """The ten most frequent (rule, topic) pairs."""
    topics: dict[tuple[str, str], int] = {}
    for r in complaints:
        topics[(r["rule"], r["topic"])] = topics.get((r["rule"], r["topic"]), 0) + r["filed"]
    routing = load_routing()
    by_topic = []
    for (rule, topic), filed in sorted(topics.items(), key=lambda kv: -kv[1])[:10]:
        named = routing.topics[GoldenRule(rule)].get(topic) if rule in RULE_LABELS else None
        by_topic.append(
            {
                "rule": rule,
                "topic": topic,
                "label": {"fr": named.fr, "en": named.en} if named else {"fr": topic, "en": topic},
                "filed": filed,
            }
        )
    return by_topic


def _by_procedure(complaints: list[Row]) -> list[Row]:
    """Complaints per démarche (those naming one, with or without a facility), most first."""
    filed: dict[str, int] = {}
    for r in complaints:
        if r["procedure_id"]:
            filed[r["procedure_id"]] = filed.get(r["procedure_id"], 0) + r["filed"]
    return [
        {
            "procedure_id": procedure_id,
            "label": {
                "fr": procedure_name(procedure_id, "fr"),
                "en": procedure_name(procedure_id, "en"),
            },
            "filed": count,
        }
        for procedure_id, count in sorted(filed.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _complaint_figures(complaints: list[Row], overdue: int) -> Row:
    answered = _total(complaints, "answered")
    on_time = _total(complaints, "answered_on_time")
    return {
        "filed": _total(complaints, "filed"),
        "acknowledged": _total(complaints, "acknowledged"),
        "answered": answered,
        "answered_on_time": on_time,
        "on_time_published": answered >= MIN_SAMPLE,
        "on_time_rate": _share(on_time, answered, 3) if answered >= MIN_SAMPLE else None,
        "overdue_unanswered": overdue,
        "by_rule": [
            {
                "rule": rule,
                "label": localized(RULE_LABELS[rule]),
                "filed": _total((r for r in complaints if r["rule"] == rule), "filed"),
            }
            for rule in RULE_LABELS
        ],
        "by_topic": _by_topic(complaints),
        "by_procedure": _by_procedure(complaints),
        "about_procedures": _total((r for r in complaints if r["procedure_id"]), "filed"),
    }


def _published_delays(row: Row) -> Row:
    """A service's délais, the measured ones only from :data:`MIN_SAMPLE` answers on."""
    published = row["answered"] >= MIN_SAMPLE
    hidden = {} if published else dict.fromkeys(("on_time_rate", "median_days", "p90_days"))
    return {
        **row,
        **hidden,
        "published": published,
        "name": {
            "fr": service_name(row["service_id"]),
            "en": service_name(row["service_id"], "en"),
        },
    }


async def report(ctx: AppContext, month: dt.date, months: list[dt.date]) -> Row:
    """The month's figures as /transparence shows them."""
    async with pg(ctx) as conn:
        satisfaction = await _dataset(conn, ctx.catalogue, "satisfaction", month)
        complaints = await _dataset(conn, ctx.catalogue, "complaints", month)
        delays = await _dataset(conn, ctx.catalogue, "response-delays", month)
        overdue = await store.overdue_unanswered(conn, month)
    services = [_published_delays(d) for d in delays if d["rule"] == "*"]
    label = f"{month:%Y-%m}"
    return {
        "month": label,
        "min_sample": MIN_SAMPLE,
        "months": [f"{m:%Y-%m}" for m in months],
        "satisfaction": {
            "by_aspect": _by_aspect(satisfaction),
            "by_type": _by_type(satisfaction, complaints),
        },
        "complaints": _complaint_figures(complaints, overdue),
        "services": services,
        "mediator": mediator(),
        "exports": {
            name: {
                "csv": f"/v1/open-data/{name}.csv?month={label}",
                "json": f"/v1/open-data/{name}.json?month={label}",
            }
            for name in DATASETS
        },
    }
