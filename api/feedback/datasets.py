"""The open-data datasets of the feedback loop: monthly, Licence Ouverte 2.0, each column
documented in French and English (the JSON export and ``/v1/open-data`` carry the documentation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["DATASETS", "Column", "DatasetName", "columns_doc"]

DatasetName = Literal["satisfaction", "complaints", "response-delays"]


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


def columns_doc(dataset: str) -> dict[str, Any]:
    """The dataset's titles and documented columns, as the JSON answers carry them."""
    fr, en, columns = DATASETS[dataset]
    return {
        "dataset": dataset,
        "title": {"fr": fr, "en": en},
        "columns": [
            {"name": c.name, "type": c.type, "description": {"fr": c.fr, "en": c.en}}
            for c in columns
        ],
    }
