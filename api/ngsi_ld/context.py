"""The JSON-LD ``@context`` of the entities: the Smart Data Models terms they use, then the
NGSI-LD core context (last, as the standard requires), served by this API so that a client needs
nothing else to expand them."""

from __future__ import annotations

from typing import Any, Final

from api.ngsi_ld.entities import ENTITY_TYPES

__all__ = ["CONTEXT_PATH", "CORE_CONTEXT", "context_document", "context_url", "link_header"]

CORE_CONTEXT: Final = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
CONTEXT_PATH: Final = "/ngsi-ld/v1/jsonldContexts/paris-live.jsonld"
_SDM: Final = "https://smartdatamodels.org/"
_TERMS: Final = {
    "name": _SDM + "name",
    "description": _SDM + "description",
    "address": _SDM + "address",
    "streetAddress": "https://schema.org/streetAddress",
    "postalCode": "https://schema.org/postalCode",
    "addressLocality": "https://schema.org/addressLocality",
    "addressRegion": "https://schema.org/addressRegion",
    "addressCountry": "https://schema.org/addressCountry",
    "district": _SDM + "district",
    "source": _SDM + "source",
    "dataProvider": _SDM + "dataProvider",
    "seeAlso": _SDM + "seeAlso",
    "category": _SDM + "dataModel.PointOfInterest/category",
    "capacity": _SDM + "dataModel.PointOfInterest/capacity",
    "dateObserved": _SDM + "dateObserved",
    "peopleCount": _SDM + "dataModel.Transportation/peopleCount",
    "congested": _SDM + "dataModel.Transportation/congested",
}


def context_url(base_url: str) -> str:
    return base_url.rstrip("/") + CONTEXT_PATH


def context_document(base_url: str) -> dict[str, Any]:
    """The served context: type and attribute terms, Paris Live's own terms, then the core."""
    vocab = base_url.rstrip("/") + "/ngsi-ld/vocab#"
    terms: dict[str, Any] = {**ENTITY_TYPES, **_TERMS}
    terms["openState"] = vocab + "openState"
    terms["occupancyLevel"] = vocab + "occupancyLevel"
    terms["provenance"] = vocab + "provenance"
    terms["refPointOfInterest"] = {
        "@id": _SDM + "dataModel.PointOfInterest/refPointOfInterest",
        "@type": "@id",
    }
    return {"@context": [terms, CORE_CONTEXT]}


def link_header(base_url: str) -> str:
    """The ``Link`` header naming the context of an ``application/json`` answer."""
    return (
        f'<{context_url(base_url)}>; rel="http://www.w3.org/ns/json-ld#context"; '
        'type="application/ld+json"'
    )
