"""The ``/transparence`` page: the month's figures as tables and meters, the mediator, the
open-data exports with their documented columns."""

from __future__ import annotations

from typing import Any

from api.feedback.datasets import DATASETS
from api.feedback.labels import RULE_LABELS
from api.feedback.views import esc

__all__ = ["render"]


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
