"""The Paris Live contract, in code: event and status models, topic names, codecs.

* :mod:`schemas.events` — CloudEvents envelope, ``data`` models, ``EventType``, ``make_event``
* :mod:`schemas.status` — :class:`FacilityStatus` and its parts
* :mod:`schemas.topics` — Kafka topic names and properties
* :mod:`schemas.ws` — WebSocket ``/v1/live`` messages
* :mod:`schemas.codec` — bytes ⇄ models on the hot path
* :mod:`schemas.errors` — :class:`ContractError` and its subclasses
* ``python -m schemas.generate`` — JSON Schema, AsyncAPI and sample events under ``schemas/``
"""
