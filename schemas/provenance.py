"""Where each catalogue value comes from: the datasets, and a facility field's source.

Every displayed fact of a facility (hours, capacity, location, accessibility, contacts, services,
délais) names its source in ``Facility.sources``: a :class:`SourceRef` to one of the
:data:`DATASETS` below (with the row it was read from), or the word ``"estimated"`` when the value
is a typical figure of the facility's type and nobody checked it::

    facility.sources["hours"]     # SourceRef(dataset="ilots-equipements", record="PI13", ...)
    facility.sources["capacity"]  # "estimated"

The datasets are copied into ``schemas/data/sources/`` (see its ``SOURCES.md``), so the catalogue
builds from a fresh clone.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DATASETS",
    "ESTIMATED",
    "Dataset",
    "HoursConfidence",
    "Provenance",
    "SourceRef",
]

ESTIMATED: Literal["estimated"] = "estimated"

HoursConfidence = Literal["official", "estimated", "unknown"]
"""``official``: hours read from a dated dataset; ``estimated``: typical hours of the type."""

_MODEL_CONFIG = ConfigDict(strict=True, frozen=True, extra="forbid")


class Dataset(BaseModel):
    """One source of catalogue values: who publishes it, when, under which licence."""

    model_config = _MODEL_CONFIG

    id: str
    title: str
    publisher: str
    """The credit to show: ``Ville de Paris — opendata.paris.fr``."""
    url: str
    licence: Literal["ODbL-1.0", "Licence Ouverte 2.0", "ODbL-derived"]
    updated: date
    """When the data was last updated by its publisher (the export date)."""
    old: bool = False
    """Older than five years: a value from it may be out of date."""


class SourceRef(BaseModel):
    """The dataset (and row) a value was read from; ``valid_*`` bound hours given for a period."""

    model_config = _MODEL_CONFIG

    dataset: str
    record: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None


Provenance = Annotated[SourceRef | Literal["estimated"], Field(union_mode="left_to_right")]

_ODS = "https://opendata.paris.fr/explore/dataset"
DATASETS: dict[str, Dataset] = {
    dataset.id: dataset
    for dataset in (
        Dataset(
            id="data-es",
            title="Recensement des équipements sportifs (Data ES), extrait Paris",
            publisher="Ministère des Sports — Data ES",
            url="https://equipements.sports.gouv.fr",
            licence="Licence Ouverte 2.0",
            updated=date(2025, 3, 31),
        ),
        Dataset(
            id="ilots-equipements",
            title="Îlots de fraîcheur — équipements et activités",
            publisher="Ville de Paris — opendata.paris.fr",
            url=f"{_ODS}/ilots-de-fraicheur-equipements-activites/",
            licence="ODbL-1.0",
            updated=date(2025, 9, 15),
        ),
        Dataset(
            id="equipements-de-proximite",
            title="Liste des équipements de proximité",
            publisher="Ville de Paris — opendata.paris.fr",
            url=f"{_ODS}/equipements_de_proximite/",
            licence="ODbL-1.0",
            updated=date(2012, 1, 1),
            old=True,
        ),
        Dataset(
            id="paris-wifi",
            title="Sites disposant du service Paris Wi-Fi",
            publisher="Ville de Paris — opendata.paris.fr",
            url=f"{_ODS}/sites-disposant-du-service-paris-wi-fi/",
            licence="ODbL-1.0",
            updated=date(2022, 8, 18),
        ),
        Dataset(
            id="espaces-verts-frais",
            title="Îlots de fraîcheur — espaces verts frais",
            publisher="Ville de Paris — opendata.paris.fr",
            url=f"{_ODS}/ilots-de-fraicheur-espaces-verts-frais/",
            licence="ODbL-1.0",
            updated=date(2023, 7, 5),
        ),
        Dataset(
            id="paris-live-sites",
            title="Relevé des annuaires publics de la Ville (schemas/data/sites.py)",
            publisher="Ville de Paris — paris.fr (annuaires), relevé Paris Live",
            url="https://www.paris.fr",
            licence="ODbL-derived",
            updated=date(2026, 11, 28),
        ),
    )
}
"""Every dataset a catalogue value may cite, by id."""
