"""Open311 ⇄ Paris Live complaints, pure: the service list from the routing table, a posted
request to a :class:`api.feedback.models.ComplaintIn` document, a public case record to an Open311
service request.

Services: one per golden rule × topic of ``schemas/data/routing.json`` (``service_code``
``welcome-safety``). The competent service depends on the facility or démarche named, so it is
chosen when the request is filed, exactly as for ``/v1/complaints``; ``expected_datetime`` is the
answer due date, the délai that service committed to.

Fields of a request:

* ``service_code`` → ``rule`` and ``topic``; ``description`` → the complaint's text;
* ``attribute[facility_id]`` (or ``address_id``) → the facility; ``attribute[procedure_id]`` → the
  démarche; with neither, ``lat``/``long`` name the facility within :data:`NEAREST_WITHIN_M`;
* ``email`` (or, without one, ``phone``) → the contact the answer goes to; ``first_name``,
  ``last_name``, ``device_id``, ``account_id``, ``media_url`` and ``api_key`` are not kept (the
  complaint service needs none of them and keeps no more personal data than it needs);
* ``attribute[language]`` → ``fr`` (default) or ``en``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Final

from api.feedback import labels
from api.i18n import N_, Lang, translator
from api.nearby import distance_m
from api.open311.store import PublicCase
from schemas.catalogue import Catalogue, Location
from schemas.clock import PARIS
from schemas.events import GoldenRule
from schemas.routing import load_routing

__all__ = [
    "JURISDICTION",
    "NEAREST_WITHIN_M",
    "BadLocation",
    "ServiceCode",
    "UnknownService",
    "complaint_document",
    "service_definition",
    "service_request",
    "services",
]

JURISDICTION: Final = "paris.fr"
"""The one ``jurisdiction_id`` served (a request may omit it)."""
NEAREST_WITHIN_M: Final = 150.0
"""How close a ``lat``/``long`` must be to a facility for a request to be about it."""
SEPARATOR: Final = "-"

_ABOUT = N_(
    "%(rule)s — %(topic)s. Le service compétent dépend de l'équipement ou de la démarche : "
    "indiquez attribute[facility_id] ou attribute[procedure_id]."
)
_FACILITY_ATTRIBUTE = N_("Identifiant de l'équipement (GET /v1/facilities), ex. piscine-pontoise")
_PROCEDURE_ATTRIBUTE = N_("Identifiant de la démarche (GET /v1/procedures), ex. passport")
_LANGUAGE_ATTRIBUTE = N_("Langue de la réponse")
_NOTICE = N_("Réponse promise sous %(days)s jours par %(service)s")


class UnknownService(ValueError):
    """A ``service_code`` no service has."""


class BadLocation(ValueError):
    """A ``lat``/``long`` that is not a point on Earth (not a number, infinite, out of range)."""


@dataclass(frozen=True, slots=True)
class ServiceCode:
    """``welcome-safety`` ⇄ (rule ``welcome``, topic ``safety``)."""

    rule: GoldenRule
    topic: str

    @property
    def code(self) -> str:
        return f"{self.rule.value}{SEPARATOR}{self.topic}"

    @classmethod
    def parse(cls, code: str) -> ServiceCode:
        rule_text, _, topic = code.partition(SEPARATOR)
        try:
            rule = GoldenRule(rule_text)
        except ValueError:
            raise UnknownService(code) from None
        if topic not in load_routing().topics[rule]:
            raise UnknownService(code)
        return cls(rule, topic)


def _topic_name(code: ServiceCode, lang: Lang) -> str:
    label = load_routing().topics[code.rule][code.topic]
    return label.en if lang == "en" and label.en else label.fr


def all_codes() -> list[ServiceCode]:
    """Every service, rule by rule, topics in the routing table's order."""
    table = load_routing()
    return [ServiceCode(rule, topic) for rule in GoldenRule for topic in table.topics[rule]]


def services(lang: Lang) -> list[dict[str, Any]]:
    """``services.json``: the service list, names and descriptions in ``lang``."""
    tr = translator(lang)
    items = []
    for code in all_codes():
        rule_name = tr.gettext(labels.RULE_LABELS[code.rule.value])
        topic = _topic_name(code, lang)
        items.append(
            {
                "service_code": code.code,
                "service_name": topic,
                "description": tr.gettext(_ABOUT, rule=rule_name, topic=topic),
                "metadata": True,
                "type": "realtime",
                "keywords": f"{code.rule.value}, {code.topic}",
                "group": rule_name,
            }
        )
    return items


def service_definition(code: ServiceCode, lang: Lang) -> dict[str, Any]:
    """``services/{code}.json``: the attributes a request may carry."""
    tr = translator(lang)

    def attribute(name: str, order: int, description: str, **extra: Any) -> dict[str, Any]:
        return {
            "variable": True,
            "code": name,
            "datatype": "string",
            "required": False,
            "datatype_description": None,
            "order": order,
            "description": tr.gettext(description),
            **extra,
        }

    return {
        "service_code": code.code,
        "attributes": [
            attribute("facility_id", 1, _FACILITY_ATTRIBUTE),
            attribute("procedure_id", 2, _PROCEDURE_ATTRIBUTE),
            attribute(
                "language",
                3,
                _LANGUAGE_ATTRIBUTE,
                datatype="singlevaluelist",
                values=[{"key": "fr", "name": "Français"}, {"key": "en", "name": "English"}],
            ),
        ],
    }


def _nearest(catalogue: Catalogue, lat: str, lon: str) -> str | None:
    """The facility within :data:`NEAREST_WITHIN_M` of the point (None: none that close).

    Raises :class:`BadLocation` when the point is not one (``nan``, ``inf``, out of range)."""
    try:
        y, x = float(lat), float(lon)
    except ValueError:
        raise BadLocation(f"{lat}, {lon}") from None
    if not (math.isfinite(y) and math.isfinite(x) and -90 <= y <= 90 and -180 <= x <= 180):
        raise BadLocation(f"{lat}, {lon}")
    point = Location.model_construct(lat=y, lon=x)
    best = min(catalogue, key=lambda f: distance_m(point, f.location), default=None)
    if best is None or distance_m(point, best.location) > NEAREST_WITHIN_M:
        return None
    return best.id


def complaint_document(fields: dict[str, Any], catalogue: Catalogue) -> dict[str, Any]:
    """The ``ComplaintIn`` document of a posted request (validated by the complaint service).

    Raises :class:`UnknownService` for a missing or unknown ``service_code``."""
    code = ServiceCode.parse(str(fields.get("service_code", "")))

    def text(name: str) -> str | None:
        value = fields.get(name)
        return value if isinstance(value, str) and value.strip() else None

    facility = text("attribute[facility_id]") or text("address_id")
    procedure = text("attribute[procedure_id]")
    if facility is None and procedure is None and text("lat") and text("long"):
        facility = _nearest(catalogue, fields["lat"], fields["long"])
    doc: dict[str, Any] = {
        "rule": code.rule.value,
        "topic": code.topic,
        "text": text("description"),
        "contact": text("email") or text("phone"),
        "facility_id": facility,
        "procedure_id": procedure,
        "channel": "web",
        "language": text("attribute[language]") or "fr",
    }
    return {name: value for name, value in doc.items() if value is not None}


FIELD_NAMES: Final = {
    "text": "description",
    "contact": "email",
    "facility_id": "attribute[facility_id]",
    "procedure_id": "attribute[procedure_id]",
    "language": "attribute[language]",
    "rule": "service_code",
    "topic": "service_code",
}
"""A complaint field → the Open311 field it came from (what an error names)."""


def _latest(*instants: dt.datetime | None) -> dt.datetime:
    return max(i for i in instants if i is not None)


def _paris(instant: dt.datetime) -> str:
    """RFC 3339 in Paris time (the offset says which)."""
    return instant.astimezone(PARIS).isoformat()


def service_request(case: PublicCase, catalogue: Catalogue, lang: Lang) -> dict[str, Any]:
    """One Open311 service request from a public case:
    no description, no contact — what anyone may read."""
    tr = translator(lang)
    code = ServiceCode(GoldenRule(case.rule), case.topic)
    status = (
        "answered" if case.answered_at else "acknowledged" if case.acknowledged_at else "received"
    )
    facility = (
        catalogue.get(case.facility_id)
        if case.facility_id is not None and case.facility_id in catalogue
        else None
    )
    service = labels.service_name(case.service_id, lang)
    days = (
        case.answer_due_at.astimezone(PARIS).date() - case.filed_at.astimezone(PARIS).date()
    ).days
    return {
        "service_request_id": case.reference,
        "status": "closed" if case.answered_at else "open",
        "status_notes": tr.gettext(labels.STATUS_WORDS[status]),
        "service_name": _topic_name(code, lang),
        "service_code": code.code,
        "description": None,
        "agency_responsible": service,
        "service_notice": tr.gettext(_NOTICE, days=days, service=service),
        "requested_datetime": _paris(case.filed_at),
        "updated_datetime": _paris(_latest(case.filed_at, case.acknowledged_at, case.answered_at)),
        "expected_datetime": _paris(case.answer_due_at),
        "address": facility.address.one_line() if facility else None,
        "address_id": case.facility_id,
        "zipcode": facility.address.postcode if facility else None,
        "lat": facility.location.lat if facility else None,
        "long": facility.location.lon if facility else None,
        "media_url": None,
    }
