"""``/transparence``: the public results of the feedback loop, and their monthly open-data exports.

::

    GET /transparence                          the page (French; ?lang=en), a month at a time
    GET /v1/transparency?month=YYYY-MM         the same figures as JSON
    GET /v1/open-data                          datasets, documented columns, months available
    GET /v1/open-data/{dataset}.{csv|json}?month=YYYY-MM

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
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.caching import cached
from api.context import AppContext, Ctx
from api.errors import InvalidParameter
from api.routes.feedback import RULE_LABELS, Lang, errors_doc, esc, language, page
from api.routes.history import pg
from schemas.catalogue import TYPE_LABELS
from schemas.clock import PARIS
from schemas.events import GoldenRule
from schemas.routing import load_routing

__all__ = ["DATASETS", "router"]

router = APIRouter()
MONTH = re.compile(r"^(20[0-9]{2})-(0[1-9]|1[0-2])$")
ASPECT_LABELS = {"overall": {"fr": "Satisfaction globale", "en": "Overall satisfaction"}} | {
    rule: label for rule, label in RULE_LABELS.items()
}
MEDIATOR = {
    "name": "Médiateur de la Ville de Paris",
    "fr": "Si la réponse du service ne vous satisfait pas, ou sans réponse dans le délai annoncé, "
    "vous pouvez saisir gratuitement le Médiateur de la Ville de Paris, autorité indépendante "
    "qui règle à l'amiable les litiges entre les usagers et l'administration parisienne. "
    "Joignez la référence de votre réclamation (REC-…). Saisine en ligne sur paris.fr "
    "(rubrique « Médiateur de la Ville de Paris ») ou par courrier.",
    "en": "If the service's answer does not satisfy you, or if it did not answer in time, you "
    "may refer the dispute, free of charge, to the Médiateur de la Ville de Paris — the City's "
    "independent ombudsman, who settles disputes between users and the Paris administration "
    "amicably. Quote your complaint's reference (REC-…). Online on paris.fr (« Médiateur de la "
    "Ville de Paris ») or by post.",
    "url": "https://www.paris.fr/",
}


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: Literal["string", "integer", "number", "date"]
    fr: str
    en: str


DATASETS: dict[str, tuple[str, str, list[Column]]] = {
    "satisfaction": (
        "Satisfaction par équipement, engagement et mois",
        "Satisfaction per facility, commitment and month",
        [
            Column(
                "month", "date", "Mois (AAAA-MM, heure de Paris)", "Month (YYYY-MM, Paris time)"
            ),
            Column("facility_id", "string", "Identifiant de l'équipement", "Facility id"),
            Column("facility_name", "string", "Nom de l'équipement", "Facility name"),
            Column("facility_type", "string", "Type d'équipement", "Facility type"),
            Column("arrondissement", "integer", "Arrondissement (1–20)", "Arrondissement (1–20)"),
            Column(
                "aspect",
                "string",
                "overall (globale) ou règle : information, delays, orientation, welcome",
                "overall, or a rule: information, delays, orientation, welcome",
            ),
            Column("responses", "integer", "Réponses notant cet aspect", "Answers rating it"),
            Column("average_rating", "number", "Note moyenne (1 à 5)", "Average rating (1–5)"),
            Column("rating_1", "integer", "Réponses notées 1", "Answers rated 1"),
            Column("rating_2", "integer", "Réponses notées 2", "Answers rated 2"),
            Column("rating_3", "integer", "Réponses notées 3", "Answers rated 3"),
            Column("rating_4", "integer", "Réponses notées 4", "Answers rated 4"),
            Column("rating_5", "integer", "Réponses notées 5", "Answers rated 5"),
            Column(
                "not_kept",
                "integer",
                "Réponses disant l'engagement non tenu",
                "Answers saying the commitment was not kept",
            ),
        ],
    ),
    "complaints": (
        "Réclamations par équipement, service, engagement, nature et mois de dépôt",
        "Complaints per facility, service, commitment, topic and filing month",
        [
            Column("month", "date", "Mois de dépôt (AAAA-MM)", "Filing month (YYYY-MM)"),
            Column("facility_id", "string", "Identifiant de l'équipement", "Facility id"),
            Column("facility_name", "string", "Nom de l'équipement", "Facility name"),
            Column("facility_type", "string", "Type d'équipement", "Facility type"),
            Column("arrondissement", "integer", "Arrondissement", "Arrondissement"),
            Column("service_id", "string", "Service compétent", "Competent service id"),
            Column("service_name", "string", "Nom du service compétent", "Competent service"),
            Column("rule", "string", "Engagement non tenu", "Commitment not kept"),
            Column("topic", "string", "Nature de la réclamation", "Complaint topic"),
            Column("filed", "integer", "Réclamations déposées", "Complaints filed"),
            Column("acknowledged", "integer", "Dont prises en charge", "Of which acknowledged"),
            Column("answered", "integer", "Dont répondues", "Of which answered"),
            Column(
                "answered_on_time", "integer", "Dont répondues dans le délai", "Answered on time"
            ),
        ],
    ),
    "response-delays": (
        "Délais de réponse par service, engagement et mois de dépôt",
        "Response délais per service, commitment and filing month",
        [
            Column("month", "date", "Mois de dépôt (AAAA-MM)", "Filing month (YYYY-MM)"),
            Column("service_id", "string", "Service compétent", "Competent service id"),
            Column("service_name", "string", "Nom du service", "Service name"),
            Column("rule", "string", "Engagement (* = tous)", "Commitment (* = all)"),
            Column("filed", "integer", "Réclamations déposées", "Complaints filed"),
            Column("answered", "integer", "Réclamations répondues", "Complaints answered"),
            Column("answered_on_time", "integer", "Répondues dans le délai", "Answered on time"),
            Column(
                "on_time_rate", "number", "Part répondue dans le délai (0–1)", "On-time share (0–1)"
            ),
            Column("median_days", "number", "Délai médian de réponse (jours)", "Median (days)"),
            Column("p90_days", "number", "Délai de réponse, 90e centile (jours)", "p90 (days)"),
            Column("committed_days", "integer", "Délai promis (jours)", "Committed délai (days)"),
        ],
    ),
}
"""Open-data datasets: French title, English title, documented columns (in CSV order)."""


def parse_month(value: str | None) -> dt.date | None:
    if value is None:
        return None
    match = MONTH.match(value)
    if not match:
        raise InvalidParameter(
            "Mois invalide : AAAA-MM attendu / Invalid month: YYYY-MM expected",
            code="invalid_parameter",
        )
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


MonthParam = Annotated[str | None, Query(max_length=7, description="AAAA-MM / YYYY-MM")]


async def months_available(ctx: AppContext) -> list[dt.date]:
    async with pg(ctx) as conn:
        cur = await conn.execute(
            "SELECT month FROM satisfaction_monthly UNION SELECT month FROM complaint_stats_monthly "
            "ORDER BY 1 DESC LIMIT 120"
        )
        return [row[0] for row in await cur.fetchall()]


async def pick_month(ctx: AppContext, month: str | None) -> tuple[dt.date, list[dt.date]]:
    months = await months_available(ctx)
    chosen = parse_month(month)
    if chosen is None:
        now = dt.datetime.now(PARIS)
        chosen = months[0] if months else dt.date(now.year, now.month, 1)
    return chosen, months


def _facility(ctx: AppContext, facility_id: str) -> tuple[str, int | None]:
    if facility_id in ctx.catalogue:
        facility = ctx.catalogue.get(facility_id)
        return facility.name, facility.arrondissement
    return facility_id, None


def _service_name(service_id: str, lang: str = "fr") -> str:
    service = load_routing().services.get(service_id)
    if service is None:
        return service_id
    return service.name.fr if lang == "fr" else service.name.en


async def dataset_rows(ctx: AppContext, dataset: str, month: dt.date) -> list[dict[str, Any]]:
    """The rows of one open-data dataset for one month (column order of :data:`DATASETS`)."""
    label = f"{month:%Y-%m}"
    async with pg(ctx) as conn:
        if dataset == "satisfaction":
            cur = await conn.execute(
                "SELECT facility_id, facility_type, aspect, responses, rating_sum, ratings, "
                "not_kept FROM satisfaction_monthly WHERE month = %s ORDER BY facility_id, aspect",
                (month,),
            )
            rows = []
            for fid, ftype, aspect, responses, total, ratings, not_kept in await cur.fetchall():
                name, arr = _facility(ctx, fid)
                rows.append(
                    {
                        "month": label,
                        "facility_id": fid,
                        "facility_name": name,
                        "facility_type": ftype,
                        "arrondissement": arr,
                        "aspect": aspect,
                        "responses": responses,
                        "average_rating": round(total / responses, 2) if responses else None,
                        **{f"rating_{i + 1}": ratings[i] for i in range(5)},
                        "not_kept": not_kept,
                    }
                )
            return rows
        if dataset == "complaints":
            cur = await conn.execute(
                "SELECT facility_id, facility_type, service_id, rule, topic, filed, acknowledged, "
                "answered, answered_on_time FROM complaint_stats_monthly WHERE month = %s "
                "ORDER BY facility_id, service_id, rule, topic",
                (month,),
            )
            rows = []
            for (
                fid,
                ftype,
                sid,
                rule,
                topic,
                filed,
                acked,
                answered,
                on_time,
            ) in await cur.fetchall():
                name, arr = _facility(ctx, fid)
                rows.append(
                    {
                        "month": label,
                        "facility_id": fid,
                        "facility_name": name,
                        "facility_type": ftype,
                        "arrondissement": arr,
                        "service_id": sid,
                        "service_name": _service_name(sid),
                        "rule": rule,
                        "topic": topic,
                        "filed": filed,
                        "acknowledged": acked,
                        "answered": answered,
                        "answered_on_time": on_time,
                    }
                )
            return rows
        cur = await conn.execute(
            "SELECT service_id, rule, filed, answered, answered_on_time, median_days, p90_days, "
            "committed_days FROM response_delay_monthly WHERE month = %s ORDER BY service_id, rule",
            (month,),
        )
        return [
            {
                "month": label,
                "service_id": sid,
                "service_name": _service_name(sid),
                "rule": rule,
                "filed": filed,
                "answered": answered,
                "answered_on_time": on_time,
                "on_time_rate": round(on_time / answered, 3) if answered else None,
                "median_days": None if median is None else round(float(median), 2),
                "p90_days": None if p90 is None else round(float(p90), 2),
                "committed_days": committed,
            }
            for sid, rule, filed, answered, on_time, median, p90, committed in (
                await cur.fetchall()
            )
        ]


def _columns_doc(dataset: str) -> dict[str, Any]:
    fr, en, columns = DATASETS[dataset]
    return {
        "dataset": dataset,
        "title": {"fr": fr, "en": en},
        "columns": [
            {"name": c.name, "type": c.type, "description": {"fr": c.fr, "en": c.en}}
            for c in columns
        ],
    }


def to_csv(dataset: str, rows: list[dict[str, Any]]) -> bytes:
    """CSV (UTF-8 with BOM for spreadsheet apps, comma separated, header = column names)."""
    out = io.StringIO()
    names = [c.name for c in DATASETS[dataset][2]]
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row[k] is None else row[k] for k in names})
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@router.get(
    "/v1/open-data",
    tags=["transparency"],
    summary="Jeux de données ouverts / Open-data datasets",
    responses=errors_doc(503),
)
async def open_data_index(request: Request, ctx: Ctx) -> Response:
    """Every dataset with its documented columns, and the months available."""
    months = await months_available(ctx)
    body = {
        "licence": "Licence Ouverte / Open Licence 2.0 (Etalab)",
        "frequency": "monthly",
        "months": [f"{m:%Y-%m}" for m in months],
        "datasets": [
            {
                **_columns_doc(name),
                "csv": f"/v1/open-data/{name}.csv?month=YYYY-MM",
                "json": f"/v1/open-data/{name}.json?month=YYYY-MM",
            }
            for name in DATASETS
        ],
    }
    return cached(request, orjson.dumps(body), "application/json", max_age=300)


@router.get(
    "/v1/open-data/{dataset}.{fmt}",
    tags=["transparency"],
    summary="Export mensuel / Monthly export (CSV or JSON)",
    response_class=Response,
    responses={
        200: {
            "description": "CSV (en-tête = noms de colonnes) ou JSON (colonnes documentées)",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        },
        **errors_doc(404, 422, 503),
    },
)
async def open_data(
    request: Request,
    ctx: Ctx,
    dataset: Literal["satisfaction", "complaints", "response-delays"],
    fmt: Literal["csv", "json"],
    month: MonthParam = None,
) -> Response:
    """One month of one dataset; JSON carries the column documentation with the rows."""
    chosen, _ = await pick_month(ctx, month)
    rows = await dataset_rows(ctx, dataset, chosen)
    filename = f"paris-live-{dataset}-{chosen:%Y-%m}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        return cached(
            request, to_csv(dataset, rows), "text/csv; charset=utf-8", max_age=300, headers=headers
        )
    body = {**_columns_doc(dataset), "month": f"{chosen:%Y-%m}", "rows": rows}
    return cached(request, orjson.dumps(body), "application/json", max_age=300, headers=headers)


async def report(ctx: AppContext, month: dt.date, months: list[dt.date]) -> dict[str, Any]:
    """The month's figures as /transparence shows them."""
    satisfaction = await dataset_rows(ctx, "satisfaction", month)
    complaints = await dataset_rows(ctx, "complaints", month)
    delays = await dataset_rows(ctx, "response-delays", month)
    aspects = []
    for aspect in ASPECT_LABELS:
        rows = [r for r in satisfaction if r["aspect"] == aspect]
        responses = sum(r["responses"] for r in rows)
        distribution = [sum(r[f"rating_{i}"] for r in rows) for i in range(1, 6)]
        total = sum(i * n for i, n in enumerate(distribution, start=1))
        aspects.append(
            {
                "aspect": aspect,
                "label": ASPECT_LABELS[aspect],
                "responses": responses,
                "average": round(total / responses, 2) if responses else None,
                "distribution": distribution,
                "not_kept": sum(r["not_kept"] for r in rows),
            }
        )
    by_type = []
    for kind, label in TYPE_LABELS.items():
        rows = [r for r in satisfaction if r["facility_type"] == kind and r["aspect"] == "overall"]
        filed = sum(r["filed"] for r in complaints if r["facility_type"] == kind)
        responses = sum(r["responses"] for r in rows)
        if not responses and not filed:
            continue
        total = sum(r["average_rating"] * r["responses"] for r in rows if r["responses"])
        by_type.append(
            {
                "facility_type": kind,
                "label": {"fr": label.fr, "en": label.en},
                "responses": responses,
                "average": round(total / responses, 2) if responses else None,
                "complaints": filed,
            }
        )
    by_rule = [
        {
            "rule": rule,
            "label": RULE_LABELS[rule],
            "filed": sum(r["filed"] for r in complaints if r["rule"] == rule),
        }
        for rule in RULE_LABELS
    ]
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
    services = [
        {
            **d,
            "name": {
                "fr": _service_name(d["service_id"]),
                "en": _service_name(d["service_id"], "en"),
            },
        }
        for d in delays
        if d["rule"] == "*"
    ]
    async with pg(ctx) as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM complaint_facts WHERE month = %s AND answered_at IS NULL "
            "AND answer_due_at < now()",
            (month,),
        )
        row = await cur.fetchone()
    overdue = int(row[0]) if row else 0
    filed = sum(r["filed"] for r in complaints)
    answered = sum(r["answered"] for r in complaints)
    on_time = sum(r["answered_on_time"] for r in complaints)
    return {
        "month": f"{month:%Y-%m}",
        "months": [f"{m:%Y-%m}" for m in months],
        "satisfaction": {"by_aspect": aspects, "by_type": by_type},
        "complaints": {
            "filed": filed,
            "acknowledged": sum(r["acknowledged"] for r in complaints),
            "answered": answered,
            "answered_on_time": on_time,
            "on_time_rate": round(on_time / answered, 3) if answered else None,
            "overdue_unanswered": overdue,
            "by_rule": by_rule,
            "by_topic": by_topic,
        },
        "services": services,
        "mediator": MEDIATOR,
        "exports": {
            name: {
                "csv": f"/v1/open-data/{name}.csv?month={month:%Y-%m}",
                "json": f"/v1/open-data/{name}.json?month={month:%Y-%m}",
            }
            for name in DATASETS
        },
    }


@router.get(
    "/v1/transparency",
    tags=["transparency"],
    summary="Résultats publics du mois / The month's public results",
    responses=errors_doc(422, 503),
)
async def transparency(request: Request, ctx: Ctx, month: MonthParam = None) -> Response:
    """Satisfaction, complaints and response délais of one month (default: the latest)."""
    chosen, months = await pick_month(ctx, month)
    body = await report(ctx, chosen, months)
    return cached(request, orjson.dumps(body), "application/json", max_age=60)


# ── The page ──────────────────────────────────────────────────────────────────────────────────


def _num(value: float | None, lang: str, digits: int = 1) -> str:
    if value is None:
        return "—"
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "fr" else text


def _pct(part: int, whole: int, lang: str) -> str:
    if not whole:
        return "—"
    return f"{_num(100 * part / whole, lang, 0)} %"


def _bar(value: float, maximum: float, *, high: float | None = None) -> str:
    """A native ``<meter>`` (no inline style: the page's CSP forbids it); the number is in the
    next cell, so the meter is hidden from assistive technologies."""
    limit = f' low="{high}" high="{high}"' if high is not None else ""
    return (
        f'<meter min="0" max="{max(maximum, 0.01)}" value="{value}"{limit} optimum="0" '
        'aria-hidden="true"></meter>'
    )


def _month_name(month: str, lang: str) -> str:
    names_fr = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                "septembre", "octobre", "novembre", "décembre"]  # fmt: skip
    names_en = ["January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December"]  # fmt: skip
    year, number = month.split("-")
    return f"{(names_fr if lang == 'fr' else names_en)[int(number) - 1]} {year}"


def render(data: dict[str, Any], lang: str) -> str:
    fr = lang == "fr"
    month = data["month"]
    overall = data["satisfaction"]["by_aspect"][0]
    c = data["complaints"]
    kpis = (
        f'<ul class="kpis">'
        f'<li><span class="value">{_num(overall["average"], lang)}/5</span>'
        f"{'Satisfaction moyenne' if fr else 'Average satisfaction'} "
        f"({overall['responses']} {'réponses' if fr else 'answers'})</li>"
        f'<li><span class="value">{c["filed"]}</span>{"Réclamations déposées" if fr else "Complaints filed"}</li>'
        f'<li><span class="value">{_pct(c["answered"], c["filed"], lang)}</span>'
        f"{'Réclamations répondues' if fr else 'Complaints answered'}</li>"
        f'<li><span class="value">{_pct(c["answered_on_time"], c["answered"], lang)}</span>'
        f"{'Réponses dans le délai promis' if fr else 'Answers within the committed délai'}</li>"
        f'<li><span class="value">{c["overdue_unanswered"]}</span>'
        f"{'Sans réponse, délai dépassé' if fr else 'Unanswered past the délai'}</li>"
        f"</ul>"
    )
    aspect_rows = "".join(
        f'<tr><th scope="row">{esc(a["label"][lang])}</th><td class="num">{a["responses"]}</td>'
        f'<td class="num">{_num(a["average"], lang)}</td>'
        f"<td>{_bar(a['average'] or 0, 5)}</td>"
        f'<td class="num">{a["not_kept"] if a["aspect"] != "overall" else "—"}</td></tr>'
        for a in data["satisfaction"]["by_aspect"]
    )
    satisfaction = (
        f"<table><caption>{'Satisfaction par engagement de la charte' if fr else 'Satisfaction per charter commitment'}</caption>"
        f'<thead><tr><th scope="col">Aspect</th><th scope="col" class="num">{"Réponses" if fr else "Answers"}</th>'
        f'<th scope="col" class="num">{"Note moyenne (sur 5)" if fr else "Average (out of 5)"}</th><th scope="col"><span class="visually-hidden">{"Graphique" if fr else "Chart"}</span></th>'
        f'<th scope="col" class="num">{"« Non tenu »" if fr else "“Not kept”"}</th></tr></thead><tbody>{aspect_rows}</tbody></table>'
    )
    type_rows = "".join(
        f'<tr><th scope="row">{esc(t["label"][lang])}</th><td class="num">{t["responses"]}</td>'
        f'<td class="num">{_num(t["average"], lang)}</td><td class="num">{t["complaints"]}</td></tr>'
        for t in data["satisfaction"]["by_type"]
    )
    by_type = (
        f"<table><caption>{'Par type d’équipement' if fr else 'Per facility type'}</caption>"
        f'<thead><tr><th scope="col">Type</th><th scope="col" class="num">{"Réponses" if fr else "Answers"}</th>'
        f'<th scope="col" class="num">{"Note moyenne" if fr else "Average"}</th><th scope="col" class="num">{"Réclamations" if fr else "Complaints"}</th></tr></thead>'
        f"<tbody>{type_rows}</tbody></table>"
    )
    max_rule = max([r["filed"] for r in c["by_rule"]] + [1])
    rule_rows = "".join(
        f'<tr><th scope="row">{esc(r["label"][lang])}</th><td class="num">{r["filed"]}</td><td>{_bar(r["filed"], max_rule)}</td></tr>'
        for r in c["by_rule"]
    )
    topic_rows = "".join(
        f'<tr><th scope="row">{esc(t["label"][lang])}</th><td>{esc(RULE_LABELS.get(t["rule"], {}).get(lang, t["rule"]))}</td><td class="num">{t["filed"]}</td></tr>'
        for t in c["by_topic"]
    )
    complaints = (
        f"<table><caption>{'Réclamations par engagement non tenu' if fr else 'Complaints per commitment not kept'}</caption>"
        f'<thead><tr><th scope="col">{"Engagement" if fr else "Commitment"}</th><th scope="col" class="num">{"Réclamations" if fr else "Complaints"}</th><th scope="col"><span class="visually-hidden">{"Graphique" if fr else "Chart"}</span></th></tr></thead>'
        f"<tbody>{rule_rows}</tbody></table>"
        f"<table><caption>{'Natures les plus fréquentes' if fr else 'Most frequent topics'}</caption>"
        f'<thead><tr><th scope="col">{"Nature" if fr else "Topic"}</th><th scope="col">{"Engagement" if fr else "Commitment"}</th><th scope="col" class="num">{"Réclamations" if fr else "Complaints"}</th></tr></thead>'
        f"<tbody>{topic_rows}</tbody></table>"
    )
    max_days = max(
        [s["p90_days"] or 0 for s in data["services"]]
        + [s["committed_days"] for s in data["services"]]
        + [1]
    )
    service_rows = "".join(
        f'<tr><th scope="row">{esc(s["name"][lang])}</th><td class="num">{s["filed"]}</td><td class="num">{s["answered"]}</td>'
        f'<td class="num">{_num(s["median_days"], lang)}</td><td class="num">{_num(s["p90_days"], lang)}</td>'
        f'<td class="num">{s["committed_days"]}</td>'
        f"<td>{_bar(s['p90_days'] or 0, max_days, high=s['committed_days'])}</td>"
        f'<td class="num">{_pct(s["answered_on_time"], s["answered"], lang)}</td></tr>'
        for s in data["services"]
    )
    services = (
        f"<table><caption>{'Délais de réponse par service compétent (jours)' if fr else 'Response délais per competent service (days)'}</caption>"
        f'<thead><tr><th scope="col">Service</th><th scope="col" class="num">{"Déposées" if fr else "Filed"}</th><th scope="col" class="num">{"Répondues" if fr else "Answered"}</th>'
        f'<th scope="col" class="num">{"Médiane" if fr else "Median"}</th><th scope="col" class="num">{"90e centile" if fr else "p90"}</th>'
        f'<th scope="col" class="num">{"Délai promis" if fr else "Committed"}</th><th scope="col"><span class="visually-hidden">{"Graphique du 90e centile" if fr else "p90 chart"}</span></th>'
        f'<th scope="col" class="num">{"Dans le délai" if fr else "On time"}</th></tr></thead>'
        f"<tbody>{service_rows}</tbody></table>"
    )
    month_options = "".join(
        f'<option value="{m}"{" selected" if m == month else ""}>{_month_name(m, lang)}</option>'
        for m in (data["months"] or [month])
    )
    exports = "".join(
        f"<li>{esc(DATASETS[name][0] if fr else DATASETS[name][1])} : "
        f'<a href="{links["csv"]}">CSV</a> · <a href="{links["json"]}">JSON</a></li>'
        for name, links in data["exports"].items()
    )
    columns = "".join(
        f"<details><summary>{esc(DATASETS[name][0] if fr else DATASETS[name][1])}</summary><dl>"
        + "".join(
            f"<dt><code>{c.name}</code> ({c.type})</dt><dd>{esc(c.fr if fr else c.en)}</dd>"
            for c in DATASETS[name][2]
        )
        + "</dl></details>"
        for name in DATASETS
    )
    mediator = data["mediator"]
    return (
        f"<h1>{'Résultats publics' if fr else 'Public results'} — {_month_name(month, lang)}</h1>"
        f'<p class="intro">{"Ce que les usagers disent du respect des engagements de la charte « Vous simplifier Paris », et comment les services répondent à leurs réclamations. Publié chaque mois." if fr else "What users say about the commitments of the « Vous simplifier Paris » charter, and how services answer their complaints. Published monthly."}</p>'
        f'<form class="month" method="get" action="/transparence"><input type="hidden" name="lang" value="{lang}">'
        f'<label for="f-month">{"Mois" if fr else "Month"}</label><select id="f-month" name="month">{month_options}</select>'
        f'<button type="submit" class="secondary">{"Afficher" if fr else "Show"}</button></form>'
        f"{kpis}"
        f'<section aria-labelledby="h-sat"><h2 id="h-sat">Satisfaction</h2>{satisfaction}{by_type}</section>'
        f'<section aria-labelledby="h-rec"><h2 id="h-rec">{"Réclamations" if fr else "Complaints"}</h2>{complaints}</section>'
        f'<section aria-labelledby="h-del"><h2 id="h-del">{"Délais de réponse" if fr else "Response délais"}</h2>{services}'
        f'<p class="note">{"Délai : jours calendaires entre le dépôt et la réponse. Barre rouge : 90e centile au-delà du délai promis." if fr else "Délai: calendar days from filing to answer. Red bar: p90 beyond the committed délai."}</p></section>'
        f'<section class="mediator" id="mediateur" aria-labelledby="h-med"><h2 id="h-med">{esc(mediator["name"])}</h2>'
        f'<p>{esc(mediator["fr"] if fr else mediator["en"])}</p><p><a href="{esc(mediator["url"])}">paris.fr</a></p></section>'
        f'<section aria-labelledby="h-open"><h2 id="h-open">{"Données ouvertes" if fr else "Open data"}</h2>'
        f"<p>{'Exports mensuels, Licence Ouverte 2.0. CSV en UTF-8, séparateur virgule ; JSON avec la description des colonnes.' if fr else 'Monthly exports, Open Licence 2.0. CSV in UTF-8, comma separated; JSON carries the column descriptions.'} "
        f'<a href="/v1/open-data">/v1/open-data</a></p><ul>{exports}</ul>{columns}</section>'
    )


@router.get("/transparence", include_in_schema=False)
@router.get("/transparency", include_in_schema=False)
async def transparency_page(
    request: Request, ctx: Ctx, lang: Lang = None, month: MonthParam = None
) -> Response:
    """The public results page."""
    chosen_lang = language(request, lang)
    try:
        chosen, months = await pick_month(ctx, month)
    except InvalidParameter:
        chosen, months = await pick_month(ctx, None)
    data = await report(ctx, chosen, months)
    title = "Résultats publics" if chosen_lang == "fr" else "Public results"
    return page(
        chosen_lang, f"{title} — Paris Live", render(data, chosen_lang), path="/transparence"
    )
