"""NGSI-LD (ETSI GS CIM 009), read-only: the facilities as Smart Data Models entities.

::

    GET /ngsi-ld/v1/entities                    query: type, id, q, attrs, limit, offset, count,
                                                options=keyValues (see :mod:`api.ngsi_ld.query`)
    GET /ngsi-ld/v1/entities/{id}               one entity
    GET /ngsi-ld/v1/jsonldContexts/paris-live.jsonld   the @context the entities use

Two entity types, each a Smart Data Models model (:mod:`api.ngsi_ld.entities`):

* ``PointOfInterest`` (dataModel.PointOfInterest) — every facility of the catalogue, with its
  category (the facility type), address, location, capacity and live ``openState``;
* ``CrowdFlowObserved`` (dataModel.Transportation) — the live crowd of each facility whose status
  has an occupancy: ``peopleCount``, ``congested``, ``dateObserved``, ``refPointOfInterest``.

Answers are ``application/ld+json`` with the ``@context`` in the body (the default), or
``application/json`` with the context in a ``Link`` header when the client asks for JSON. Errors
answer the NGSI-LD problem details (``type: https://uri.etsi.org/ngsi-ld/errors/...``,
:mod:`api.ngsi_ld.errors`).
"""
