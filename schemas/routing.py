"""Complaint routing: facility type × golden rule × topic → competent service and committed délai.

The charter's third rule — being sent to the competent service — applies to complaints too: the
user says *where* (a facility) and *what* (the rule that was not kept and, within it, a topic);
this table says *who* answers and *by when*. It is data (``schemas/data/routing.json``)::

    table = load_routing()
    route = table.resolve("pool", GoldenRule.WELCOME, "safety")
    route.service.service_id          # "djs-piscines"
    route.answer_days                  # 5 (calendar days)
    route.answer_due_at(filed_at)      # end of the Paris-local day, 5 days later

A route matches a key when each of its ``facility_type``, ``rule`` and ``topic`` is equal or
``"*"``. Among matching routes the most specific wins, topic first, then rule, then facility type:
a city-wide route for ``online_info`` (any facility) beats the pools' catch-all route, and a
pool-specific ``safety`` route beats both. Two routes equally specific for one key are refused
when the table loads, as is a key no route covers (:meth:`RoutingTable.coverage`).

A complaint about a démarche (a ``procedure_id`` of ``parcours.json``) goes to the service the
table's ``procedures`` section names for it, whatever its rule and topic, even when it also names
a facility: ``table.resolve_procedure("parking-fine-appeal", GoldenRule.DELAYS, "processing")``
→ ``dvd-forfaits-post-stationnement``, 30 days (:attr:`Route.procedure_id` set, ``facility_type``
``"*"``).

Délais are calendar days counted in Paris time; a due date is the end (23:59:59) of that day.
Errors: :class:`RoutingError` (a :class:`schemas.errors.ContractError`) for a bad table or an
unknown topic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas.catalogue import FACILITY_TYPES, LocalizedText
from schemas.clock import PARIS
from schemas.errors import ContractError
from schemas.events import GoldenRule

__all__ = [
    "PARIS",
    "Route",
    "RoutingError",
    "RoutingTable",
    "ServiceInfo",
    "due_at",
    "load_routing",
]

ANY = "*"
OTHER = "other"
"""Every rule has this topic: what a complaint without a topic is filed under."""

TopicSlug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
ServiceSlug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]

_CONFIG = ConfigDict(strict=True, frozen=True, extra="forbid")


class RoutingError(ContractError):
    """The routing table is inconsistent, or a topic does not belong to the rule."""


class ServiceInfo(BaseModel):
    """A competent service: who reads and answers complaints in the service inbox."""

    model_config = _CONFIG

    service_id: ServiceSlug
    name: LocalizedText
    direction: str = Field(min_length=2, max_length=20)
    acknowledge_days: int = Field(ge=0, le=30)
    answer_days: int = Field(ge=1, le=90)


class _ServiceEntry(BaseModel):
    model_config = _CONFIG

    name: LocalizedText
    direction: str = Field(min_length=2, max_length=20)
    acknowledge_days: int = Field(ge=0, le=30)
    answer_days: int = Field(ge=1, le=90)


class _RouteEntry(BaseModel):
    model_config = _CONFIG

    facility_type: str
    rule: str
    topic: TopicSlug | Literal["*"]
    service: ServiceSlug
    answer_days: int | None = Field(default=None, ge=1, le=90)


class _ProcedureEntry(BaseModel):
    model_config = _CONFIG

    service: ServiceSlug
    answer_days: int | None = Field(default=None, ge=1, le=90)


class _TableFile(BaseModel):
    model_config = _CONFIG

    version: str
    note: str
    topics: dict[str, dict[TopicSlug, LocalizedText]]
    services: dict[ServiceSlug, _ServiceEntry]
    procedures: dict[ServiceSlug, _ProcedureEntry] = {}
    routes: list[_RouteEntry]


def due_at(start: dt.datetime, days: int) -> dt.datetime:
    """The end (23:59:59, Paris time) of the Paris-local day ``days`` days after ``start``."""
    if start.tzinfo is None:
        raise ValueError("naive datetime: a délai starts at an instant with a UTC offset")
    day = start.astimezone(PARIS).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=PARIS)


@dataclass(frozen=True, slots=True)
class Route:
    """Where a complaint goes and the délais the service commits to."""

    facility_type: str
    rule: GoldenRule
    topic: str
    service: ServiceInfo
    acknowledge_days: int
    answer_days: int
    procedure_id: str | None = None
    """The démarche the route was chosen for (``facility_type`` is then ``"*"``)."""

    def acknowledge_due_at(self, filed_at: dt.datetime) -> dt.datetime:
        """When the service must have acknowledged a complaint filed at ``filed_at``."""
        return due_at(filed_at, self.acknowledge_days)

    def answer_due_at(self, filed_at: dt.datetime) -> dt.datetime:
        """When the service must have answered a complaint filed at ``filed_at``."""
        return due_at(filed_at, self.answer_days)


def _specificity(entry: _RouteEntry) -> tuple[int, int, int]:
    return (entry.topic != ANY, entry.rule != ANY, entry.facility_type != ANY)


def _matches(entry: _RouteEntry, facility_type: str, rule: str, topic: str) -> bool:
    return (
        entry.facility_type in (ANY, facility_type)
        and entry.rule in (ANY, rule)
        and entry.topic in (ANY, topic)
    )


class RoutingTable:
    """The loaded, checked routing table; every (type, rule, topic) resolves to one route."""

    def __init__(self, raw: _TableFile) -> None:
        self.version = raw.version
        self.note = raw.note
        self.services: dict[str, ServiceInfo] = {
            sid: ServiceInfo(service_id=sid, **entry.model_dump())
            for sid, entry in raw.services.items()
        }
        self.topics: dict[GoldenRule, dict[str, LocalizedText]] = {}
        for rule in GoldenRule:
            topics = raw.topics.get(rule.value)
            if not topics or OTHER not in topics:
                raise RoutingError(f"rule {rule.value!r} needs its topics, including {OTHER!r}")
            self.topics[rule] = dict(topics)
        unknown_rules = set(raw.topics) - {r.value for r in GoldenRule}
        if unknown_rules:
            raise RoutingError(f"topics listed for unknown rules {sorted(unknown_rules)}")
        for entry in raw.routes:
            self._check_entry(entry)
        for procedure_id, procedure in raw.procedures.items():
            if procedure.service not in self.services:
                raise RoutingError(
                    f"procedure {procedure_id}: unknown service {procedure.service!r}"
                )
        self._procedures = dict(raw.procedures)
        self._entries = list(raw.routes)
        self._routes: dict[tuple[str, GoldenRule, str], Route] = {}
        for facility_type, rule, topic in self.keys():
            self._routes[(facility_type, rule, topic)] = self._pick(facility_type, rule, topic)

    def _check_entry(self, entry: _RouteEntry) -> None:
        where = f"route {entry.facility_type}/{entry.rule}/{entry.topic}"
        if entry.facility_type != ANY and entry.facility_type not in FACILITY_TYPES:
            raise RoutingError(f"{where}: unknown facility type {entry.facility_type!r}")
        if entry.rule != ANY and entry.rule not in {r.value for r in GoldenRule}:
            raise RoutingError(f"{where}: unknown rule {entry.rule!r}")
        if entry.topic != ANY:
            if entry.rule == ANY:
                raise RoutingError(f"{where}: a topic belongs to one rule, name the rule")
            if entry.topic not in self.topics[GoldenRule(entry.rule)]:
                raise RoutingError(f"{where}: topic {entry.topic!r} is not a topic of the rule")
        if entry.service not in self.services:
            raise RoutingError(f"{where}: unknown service {entry.service!r}")

    def _pick(self, facility_type: str, rule: GoldenRule, topic: str) -> Route:
        found = [e for e in self._entries if _matches(e, facility_type, rule.value, topic)]
        if not found:
            raise RoutingError(f"no route for {facility_type}/{rule.value}/{topic}")
        found.sort(key=_specificity, reverse=True)
        best = found[0]
        if len(found) > 1 and _specificity(found[1]) == _specificity(best):
            raise RoutingError(
                f"two routes equally specific for {facility_type}/{rule.value}/{topic}: "
                f"{best.service} and {found[1].service}"
            )
        service = self.services[best.service]
        return Route(
            facility_type=facility_type,
            rule=rule,
            topic=topic,
            service=service,
            acknowledge_days=service.acknowledge_days,
            answer_days=best.answer_days or service.answer_days,
        )

    def keys(self) -> Iterator[tuple[str, GoldenRule, str]]:
        """Every (facility type, rule, topic) a complaint can be filed under."""
        for facility_type in FACILITY_TYPES:
            for rule in GoldenRule:
                for topic in self.topics[rule]:
                    yield facility_type, rule, topic

    def resolve(self, facility_type: str, rule: GoldenRule | str, topic: str | None) -> Route:
        """The route of a complaint; ``topic`` ``None`` means ``other``.

        Raises :class:`RoutingError` when the topic is not one of the rule's, :class:`KeyError`
        for an unknown facility type or rule.
        """
        rule = GoldenRule(rule)
        topic = topic or OTHER
        if topic not in self.topics[rule]:
            raise RoutingError(
                f"topic {topic!r} is not a topic of rule {rule.value!r} "
                f"(one of {', '.join(self.topics[rule])})"
            )
        if facility_type not in FACILITY_TYPES:
            raise KeyError(f"unknown facility type {facility_type!r}")
        return self._routes[(facility_type, rule, topic)]

    def procedure_ids(self) -> list[str]:
        """Every démarche the table routes, in table order."""
        return list(self._procedures)

    def resolve_procedure(
        self, procedure_id: str, rule: GoldenRule | str, topic: str | None
    ) -> Route:
        """The route of a complaint about a démarche: its service, whatever the rule and topic.

        Raises :class:`RoutingError` when the topic is not one of the rule's, :class:`KeyError`
        for a démarche the table does not route or an unknown rule.
        """
        rule = GoldenRule(rule)
        topic = topic or OTHER
        if topic not in self.topics[rule]:
            raise RoutingError(
                f"topic {topic!r} is not a topic of rule {rule.value!r} "
                f"(one of {', '.join(self.topics[rule])})"
            )
        entry = self._procedures[procedure_id]
        service = self.services[entry.service]
        return Route(
            facility_type=ANY,
            rule=rule,
            topic=topic,
            service=service,
            acknowledge_days=service.acknowledge_days,
            answer_days=entry.answer_days or service.answer_days,
            procedure_id=procedure_id,
        )

    def coverage(self) -> dict[tuple[str, GoldenRule], dict[str, Route]]:
        """Per facility type × rule, the route of each topic (every cell is filled)."""
        cells: dict[tuple[str, GoldenRule], dict[str, Route]] = {}
        for (facility_type, rule, topic), route in self._routes.items():
            cells.setdefault((facility_type, rule), {})[topic] = route
        return cells

    def service_ids(self) -> list[str]:
        """Every competent service, in table order."""
        return list(self.services)

    def coverage_markdown(self) -> str:
        """The coverage table: one row per facility type, one column per rule.

        A cell names the service of the rule's catch-all topic and its délai in days, then the
        topics routed elsewhere (``online_info → dicom-information 10 j``).
        """
        rules = list(GoldenRule)
        lines = [
            "| facility type | " + " | ".join(r.value for r in rules) + " |",
            "|---|" + "---|" * len(rules),
        ]
        cells = self.coverage()
        for facility_type in FACILITY_TYPES:
            row = []
            for rule in rules:
                routes = cells[(facility_type, rule)]
                default = routes[OTHER]
                text = f"{default.service.service_id} {default.answer_days} j"
                others = [
                    f"{topic} → {r.service.service_id} {r.answer_days} j"
                    for topic, r in routes.items()
                    if (r.service.service_id, r.answer_days)
                    != (default.service.service_id, default.answer_days)
                ]
                row.append("; ".join([text, *others]))
            lines.append(f"| {facility_type} | " + " | ".join(row) + " |")
        return "\n".join(lines)


@cache
def load_routing() -> RoutingTable:
    """The routing table shipped with the package (read and checked once)."""
    resource = resources.files("schemas").joinpath("data", "routing.json")
    return RoutingTable(_TableFile.model_validate_json(resource.read_bytes()))


if __name__ == "__main__":
    print(load_routing().coverage_markdown())
