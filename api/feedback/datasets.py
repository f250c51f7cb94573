"""The open-data datasets of the feedback loop: monthly, Licence Ouverte 2.0, each column
documented in French and English (the JSON export and ``/v1/open-data`` carry the documentation,
both languages from the message catalogues)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from api.i18n import N_, localized

__all__ = ["DATASETS", "Column", "Dataset", "DatasetName", "columns_doc"]

DatasetName = Literal["satisfaction", "complaints", "response-delays"]


@dataclass(frozen=True, slots=True)
class Column:
    """A documented column: its name, type and description (a msgid)."""

    name: str
    type: Literal["string", "integer", "number", "date"]
    description: str


@dataclass(frozen=True, slots=True)
class Dataset:
    """A dataset's title (a msgid) and its columns, in CSV order."""

    title: str
    columns: list[Column]


DATASETS: dict[str, Dataset] = {
    "satisfaction": Dataset(
        N_("Satisfaction par équipement, engagement et mois"),
        [
            Column("month", "date", N_("Mois (AAAA-MM, heure de Paris)")),
            Column("facility_id", "string", N_("Identifiant de l'équipement")),
            Column("facility_name", "string", N_("Nom de l'équipement")),
            Column("facility_type", "string", N_("Type d'équipement")),
            Column("arrondissement", "integer", N_("Arrondissement (1–20)")),
            Column(
                "aspect",
                "string",
                N_("overall (globale) ou règle : information, delays, orientation, welcome"),
            ),
            Column("responses", "integer", N_("Réponses notant cet aspect")),
            Column("average_rating", "number", N_("Note moyenne (1 à 5)")),
            Column("rating_1", "integer", N_("Réponses notées 1")),
            Column("rating_2", "integer", N_("Réponses notées 2")),
            Column("rating_3", "integer", N_("Réponses notées 3")),
            Column("rating_4", "integer", N_("Réponses notées 4")),
            Column("rating_5", "integer", N_("Réponses notées 5")),
            Column("not_kept", "integer", N_("Réponses disant l'engagement non tenu")),
        ],
    ),
    "complaints": Dataset(
        N_("Réclamations par équipement, service, engagement, nature et mois de dépôt"),
        [
            Column("month", "date", N_("Mois de dépôt (AAAA-MM)")),
            Column("facility_id", "string", N_("Identifiant de l'équipement")),
            Column("facility_name", "string", N_("Nom de l'équipement")),
            Column("facility_type", "string", N_("Type d'équipement")),
            Column("arrondissement", "integer", N_("Arrondissement")),
            Column("service_id", "string", N_("Service compétent")),
            Column("service_name", "string", N_("Nom du service compétent")),
            Column("rule", "string", N_("Engagement non tenu")),
            Column("topic", "string", N_("Nature de la réclamation")),
            Column("filed", "integer", N_("Réclamations déposées")),
            Column("acknowledged", "integer", N_("Dont prises en charge")),
            Column("answered", "integer", N_("Dont répondues")),
            Column("answered_on_time", "integer", N_("Dont répondues dans le délai")),
            Column(
                "procedure_id",
                "string",
                N_("Démarche concernée (identifiant, vide si la réclamation vise un équipement)"),
            ),
            Column("procedure_name", "string", N_("Nom de la démarche concernée")),
        ],
    ),
    "response-delays": Dataset(
        N_("Délais de réponse par service, engagement et mois de dépôt"),
        [
            Column("month", "date", N_("Mois de dépôt (AAAA-MM)")),
            Column("service_id", "string", N_("Service compétent")),
            Column("service_name", "string", N_("Nom du service")),
            Column("rule", "string", N_("Engagement (* = tous)")),
            Column("filed", "integer", N_("Réclamations déposées")),
            Column("answered", "integer", N_("Réclamations répondues")),
            Column("answered_on_time", "integer", N_("Répondues dans le délai")),
            Column("on_time_rate", "number", N_("Part répondue dans le délai (0–1)")),
            Column("median_days", "number", N_("Délai médian de réponse (jours)")),
            Column("p90_days", "number", N_("Délai de réponse, 90e centile (jours)")),
            Column("committed_days", "integer", N_("Délai promis (jours)")),
        ],
    ),
}
"""Open-data datasets: title and documented columns (in CSV order)."""


def columns_doc(dataset: str) -> dict[str, Any]:
    """The dataset's titles and documented columns, as the JSON answers carry them."""
    spec = DATASETS[dataset]
    return {
        "dataset": dataset,
        "title": localized(spec.title),
        "columns": [
            {"name": c.name, "type": c.type, "description": localized(c.description)}
            for c in spec.columns
        ],
    }
