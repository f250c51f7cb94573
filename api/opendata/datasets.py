"""What the open datasets publish: for each, its columns (a Frictionless Table Schema), licence,
sources and the SQL that computes it from the history.

Every title and description is a French msgid (:func:`api.i18n.N_`), published in both languages.
Timestamps are Paris time with their offset (``2026-12-03T09:00:00+01:00``), months ``YYYY-MM``
in Paris time. Nothing personal is published: no agent identity (``declared_by``), no complaint
or survey text; of what agents write, only the closure message the public already saw.

The SQL reads the session's temporary tables ``_od_facility`` (facility id → type) and
``_od_commitment`` (procedure → committed days), filled from the catalogue by
:mod:`api.opendata.export`, and takes ``%(from)s`` / ``%(to)s`` (a half-open range of instants).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from api.i18n import N_
from schemas.catalogue import LEVEL_THRESHOLDS

__all__ = [
    "CATALOGUE",
    "DATASETS",
    "ETALAB",
    "HISTORY",
    "LICENCES",
    "ODBL",
    "Column",
    "Dataset",
    "Licence",
]

FieldType = Literal["string", "integer", "number", "boolean", "datetime", "yearmonth"]


@dataclass(frozen=True, slots=True)
class Licence:
    name: str
    title: str
    path: str


ETALAB = Licence(
    "etalab-2.0",
    "Licence Ouverte / Open Licence 2.0 (Etalab)",
    "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
)
ODBL = Licence(
    "ODbL-1.0",
    "Open Data Commons Open Database License 1.0",
    "https://opendatacommons.org/licenses/odbl/1-0/",
)
LICENCES = {ETALAB.name: ETALAB, ODBL.name: ODBL}


@dataclass(frozen=True, slots=True)
class Column:
    """A published column: name, Table Schema type, description (a msgid), constraints."""

    name: str
    type: FieldType
    description: str
    required: bool = False
    enum: tuple[str, ...] = ()
    minimum: float | None = None


@dataclass(frozen=True, slots=True)
class Dataset:
    """One published dataset."""

    name: str
    title: str
    description: str
    licence: Licence
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    sql: str | None
    """``COPY (…) TO STDOUT`` body; None: written from the catalogue in Python."""
    period_column: str | None = None
    """The column ``from`` / ``to`` select on (None: not a history dataset)."""
    sources: tuple[str, ...] = field(default_factory=tuple)
    """Where the figures come from (msgids)."""


_LEVELS = ("low", "moderate", "high", "full")
_DEFAULT_THRESHOLDS = (0.5, 0.8, 0.95)
THRESHOLDS_VALUES = ", ".join(
    f"('{facility_type}', {m}, {h}, {f})" for facility_type, (m, h, f) in LEVEL_THRESHOLDS.items()
)
"""The crowd-level thresholds per facility type, as SQL ``VALUES`` (from the catalogue)."""

_TS = """to_char({col}, 'YYYY-MM-DD"T"HH24:MI:SSOF') || ':00'"""
"""An instant as RFC 3339 in the session's time zone (Europe/Paris: whole-hour offsets)."""

_OCCUPANCY_SQL = f"""
SELECT o.facility_id, {_TS.format(col="o.bucket")} AS hour_start,
       round(o.count_avg::numeric, 1) AS count_avg, o.count_max, o.capacity,
       round(r.ratio::numeric, 3) AS ratio,
       CASE WHEN r.ratio IS NULL THEN NULL
            WHEN r.ratio >= coalesce(t.full_at, {_DEFAULT_THRESHOLDS[2]}) THEN 'full'
            WHEN r.ratio >= coalesce(t.high_at, {_DEFAULT_THRESHOLDS[1]}) THEN 'high'
            WHEN r.ratio >= coalesce(t.moderate_at, {_DEFAULT_THRESHOLDS[0]}) THEN 'moderate'
            ELSE 'low' END AS level,
       o.samples
FROM occupancy_1h o
CROSS JOIN LATERAL (SELECT o.count_avg / nullif(o.capacity, 0) AS ratio) r
LEFT JOIN _od_facility f ON f.facility_id = o.facility_id
LEFT JOIN (VALUES {THRESHOLDS_VALUES}) AS t (type, moderate_at, high_at, full_at)
       ON t.type = f.type
WHERE o.bucket >= %(from)s AND o.bucket < %(to)s
ORDER BY o.facility_id, o.bucket
"""

_CLOSURES_SQL = f"""
SELECT closure_id, facility_id, scope->>'kind' AS scope_kind, scope->>'name' AS scope_area,
       scope->>'service_id' AS scope_service_id, reason,
       message->>'fr' AS message_fr, message->>'en' AS message_en,
       {_TS.format(col="declared_at")} AS declared_at,
       {_TS.format(col="starts_at")} AS starts_at,
       {_TS.format(col="expected_reopening_at")} AS expected_reopening_at,
       {_TS.format(col="ended_at")} AS reopened_at,
       (expected_reopening_at IS NOT NULL
        AND coalesce(ended_at, now()) > expected_reopening_at)::text AS overdue,
       CASE WHEN expected_reopening_at IS NOT NULL
                 AND coalesce(ended_at, now()) > expected_reopening_at
            THEN round((extract(epoch FROM coalesce(ended_at, now()) - expected_reopening_at)
                        / 3600.0)::numeric, 1) END AS overdue_hours
FROM closures
WHERE starts_at >= %(from)s AND starts_at < %(to)s
ORDER BY starts_at, closure_id
"""

_PROCESSING_SQL = """
WITH opened AS (
    SELECT facility_id, data->>'procedure_id' AS procedure_id, data->>'case_id' AS case_id,
           min(time) AS at
    FROM events WHERE type = 'fr.paris.facilities.case.opened'
    GROUP BY 1, 2, 3
), closed AS (
    SELECT facility_id, data->>'procedure_id' AS procedure_id, data->>'case_id' AS case_id,
           min(time) AS at
    FROM events WHERE type = 'fr.paris.facilities.case.closed'
      AND time >= %(from)s AND time < %(to)s
    GROUP BY 1, 2, 3
), cases AS (
    SELECT procedure_id, to_char(closed.at, 'YYYY-MM') AS month,
           extract(epoch FROM closed.at - opened.at) / 86400.0 AS days
    FROM closed JOIN opened USING (facility_id, procedure_id, case_id)
    WHERE closed.at >= opened.at
)
SELECT c.month, c.procedure_id, count(*) AS cases_closed,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY c.days)::numeric, 1) AS median_days,
       round(percentile_disc(0.9) WITHIN GROUP (ORDER BY c.days)::numeric, 1) AS p90_days,
       k.committed_days,
       CASE WHEN k.committed_days IS NOT NULL THEN k.illustrative::text END
           AS committed_illustrative,
       CASE WHEN k.committed_days IS NOT NULL
            THEN count(*) FILTER (WHERE c.days <= k.committed_days) END AS within_commitment,
       CASE WHEN k.committed_days IS NOT NULL
            THEN round((count(*) FILTER (WHERE c.days <= k.committed_days))::numeric
                       / count(*), 3) END AS on_time_rate
FROM cases c LEFT JOIN _od_commitment k ON k.procedure_id = c.procedure_id
GROUP BY c.month, c.procedure_id, k.committed_days, k.illustrative
ORDER BY c.month, c.procedure_id
"""

_QUEUES_SQL = f"""
WITH samples AS (
    SELECT s.facility_id, q->>'service_id' AS service_id,
           date_trunc('hour', s.at) AS hour,
           (q->>'length')::int AS length, (q->>'wait_minutes')::numeric AS wait
    FROM status_changes s
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(s.status->'queues') = 'array' THEN s.status->'queues'
             ELSE '[]'::jsonb END) q
    WHERE s.at >= %(from)s AND s.at < %(to)s
)
SELECT facility_id, service_id, {_TS.format(col="hour")} AS hour_start, count(*) AS samples,
       round(avg(length), 1) AS length_avg, max(length) AS length_max,
       round(avg(wait), 1) AS wait_minutes_avg, max(wait) AS wait_minutes_max
FROM samples
WHERE service_id IS NOT NULL
GROUP BY facility_id, service_id, hour
ORDER BY facility_id, service_id, hour
"""

_FACILITY = Column("facility_id", "string", N_("Identifiant de l'équipement"), required=True)
_HISTORY_SOURCES = (
    N_("Paris Live — mesures des capteurs, bornes de tickets et déclarations des équipes"),
)

HISTORY: tuple[Dataset, ...] = (
    Dataset(
        "occupancy-hourly",
        N_("Affluence horaire par équipement"),
        N_(
            "Personnes présentes en moyenne chaque heure, capacité, taux d'occupation et "
            "niveau d'affluence, par équipement (heure de Paris)."
        ),
        ETALAB,
        (
            _FACILITY,
            Column(
                "hour_start",
                "datetime",
                N_("Début de l'heure (heure de Paris, avec décalage)"),
                required=True,
            ),
            Column("count_avg", "number", N_("Personnes présentes, moyenne de l'heure"), minimum=0),
            Column("count_max", "integer", N_("Personnes présentes, maximum de l'heure")),
            Column("capacity", "integer", N_("Capacité de l'équipement (personnes)")),
            Column("ratio", "number", N_("Taux d'occupation : moyenne / capacité"), minimum=0),
            Column(
                "level",
                "string",
                N_("Niveau d'affluence : low (faible), moderate, high, full (complet)"),
                enum=_LEVELS,
            ),
            Column("samples", "integer", N_("Minutes mesurées dans l'heure"), minimum=0),
        ),
        ("facility_id", "hour_start"),
        _OCCUPANCY_SQL,
        "hour_start",
        _HISTORY_SOURCES,
    ),
    Dataset(
        "closures",
        N_("Fermetures déclarées"),
        N_(
            "Chaque fermeture exceptionnelle ou partielle : portée, motif, message publié, début, "
            "réouverture prévue et réelle, retard éventuel. Sans l'identité des agents."
        ),
        ETALAB,
        (
            Column("closure_id", "string", N_("Identifiant de la fermeture"), required=True),
            _FACILITY,
            Column(
                "scope_kind",
                "string",
                N_("Portée : facility (tout l'équipement), area (un espace), service"),
                required=True,
                enum=("facility", "area", "service"),
            ),
            Column("scope_area", "string", N_("Espace fermé (portée area)")),
            Column("scope_service_id", "string", N_("Service fermé (portée service)")),
            Column(
                "reason",
                "string",
                N_("Motif (staff_shortage, technical_failure, water_quality, weather, …)"),
                required=True,
                enum=(
                    "staff_shortage",
                    "technical_failure",
                    "water_quality",
                    "weather",
                    "security",
                    "works",
                    "strike",
                    "event",
                    "other",
                ),
            ),
            Column("message_fr", "string", N_("Message publié (français)")),
            Column("message_en", "string", N_("Message publié (anglais)")),
            Column("declared_at", "datetime", N_("Déclarée le"), required=True),
            Column("starts_at", "datetime", N_("Début de la fermeture"), required=True),
            Column("expected_reopening_at", "datetime", N_("Réouverture prévue")),
            Column("reopened_at", "datetime", N_("Réouverture effective (vide : toujours fermé)")),
            Column(
                "overdue",
                "boolean",
                N_("Rouvert après l'heure prévue, ou toujours fermé après elle"),
                required=True,
            ),
            Column("overdue_hours", "number", N_("Retard sur la réouverture prévue (heures)")),
        ),
        ("closure_id",),
        _CLOSURES_SQL,
        "starts_at",
        (N_("Paris Live — fermetures déclarées par les équipes des équipements"),),
    ),
    Dataset(
        "processing-delays",
        N_("Délais de traitement des démarches par mois"),
        N_(
            "Dossiers clos chaque mois par démarche : délai médian et 90e centile mesurés, "
            "délai promis et part des dossiers traités dans ce délai."
        ),
        ETALAB,
        (
            Column(
                "month", "yearmonth", N_("Mois de clôture (AAAA-MM, heure de Paris)"), required=True
            ),
            Column("procedure_id", "string", N_("Identifiant de la démarche"), required=True),
            Column("cases_closed", "integer", N_("Dossiers clos dans le mois"), minimum=0),
            Column("median_days", "number", N_("Délai médian (jours)"), minimum=0),
            Column("p90_days", "number", N_("Délai, 90e centile (jours)"), minimum=0),
            Column("committed_days", "integer", N_("Délai promis (jours ; vide : aucun)")),
            Column(
                "committed_illustrative",
                "boolean",
                N_("Délai promis indicatif (estimé), pas un engagement officiel"),
            ),
            Column("within_commitment", "integer", N_("Dossiers traités dans le délai promis")),
            Column("on_time_rate", "number", N_("Part traitée dans le délai promis (0–1)")),
        ),
        ("month", "procedure_id"),
        _PROCESSING_SQL,
        "month",
        (N_("Paris Live — ouvertures et clôtures des dossiers (facility-cases)"),),
    ),
    Dataset(
        "queue-waits",
        N_("Attente aux guichets par équipement, service et heure"),
        N_(
            "Longueur de file et attente estimée, moyenne et maximum de chaque heure, par "
            "équipement et service (heure de Paris)."
        ),
        ETALAB,
        (
            _FACILITY,
            Column("service_id", "string", N_("Identifiant du service"), required=True),
            Column(
                "hour_start", "datetime", N_("Début de l'heure (heure de Paris)"), required=True
            ),
            Column("samples", "integer", N_("Mesures dans l'heure"), minimum=1),
            Column("length_avg", "number", N_("Personnes en attente, moyenne"), minimum=0),
            Column("length_max", "integer", N_("Personnes en attente, maximum"), minimum=0),
            Column("wait_minutes_avg", "number", N_("Attente estimée, moyenne (minutes)")),
            Column("wait_minutes_max", "number", N_("Attente estimée, maximum (minutes)")),
        ),
        ("facility_id", "service_id", "hour_start"),
        _QUEUES_SQL,
        "hour_start",
        (N_("Paris Live — bornes de tickets des guichets"),),
    ),
)

CATALOGUE = Dataset(
    "facilities",
    N_("Catalogue des équipements"),
    N_(
        "Les équipements suivis : type, adresse, position, capacité, avec la source de chaque "
        "valeur ou la mention estimated (estimé)."
    ),
    ODBL,
    (
        _FACILITY,
        Column("name", "string", N_("Nom"), required=True),
        Column("type", "string", N_("Type d'équipement"), required=True),
        Column("arrondissement", "integer", N_("Arrondissement (1–20)"), required=True),
        Column("street", "string", N_("Adresse")),
        Column("postcode", "string", N_("Code postal")),
        Column("latitude", "number", N_("Latitude (WGS 84)")),
        Column("longitude", "number", N_("Longitude (WGS 84)")),
        Column("location_source", "string", N_("Source de la position, ou estimated")),
        Column("capacity", "integer", N_("Capacité (personnes)")),
        Column("capacity_source", "string", N_("Source de la capacité, ou estimated")),
        Column(
            "hours_confidence",
            "string",
            N_("Horaires : official (source datée) ou estimated"),
            enum=("official", "estimated", "unknown"),
        ),
        Column("url", "string", N_("Page de l'équipement sur paris.fr")),
    ),
    ("facility_id",),
    None,
    None,
    (N_("Catalogue Paris Live, construit des jeux de données de opendata.paris.fr et Data ES"),),
)

DATASETS: dict[str, Dataset] = {d.name: d for d in (*HISTORY, CATALOGUE)}
"""Every daily dataset, by name (the catalogue last)."""
