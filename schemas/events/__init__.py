"""CloudEvents 1.0 (structured JSON mode) carried by every Paris Live input topic.

One pydantic model per event family; each concrete envelope class pins ``type`` to its event types
and ``data`` to its data model, and :data:`AnyEvent` is the union discriminated on ``type``. The
same classes serve producers (:func:`make_event`), the stream processor
(:func:`schemas.codec.decode_event`), the API and the generated JSON Schema / AsyncAPI documents.

Strictness (deliberate, tested):

* unknown attributes in the envelope or in ``data`` are refused — the contract has no extension
  attributes today; add them here when one is needed;
* numbers, booleans and timestamps are not coerced from strings (``"3"`` is not a count,
  ``1700000000`` is not a ``time``); timestamps must carry a UTC offset;
* ``subject`` is the facility id (lowercase slug) and is required.

Closure events: ``.declared`` and ``.updated`` carry the full :class:`ClosureData` (an update
replaces the closure, it is not a patch, so replaying it is harmless); ``.ended`` carries
:class:`ClosureEndData` — only ``closure_id`` is required, the end time is the event ``time``.

The code lives in one module per concept; every public name is importable from here:

* :mod:`schemas.events.base` — ids, timestamps, :class:`LocalizedText`, the :class:`EventData` base;
* :mod:`schemas.events.signals`, :mod:`schemas.events.closures`, :mod:`schemas.events.equipment`,
  :mod:`schemas.events.feedback` — the ``data`` models of each family;
* :mod:`schemas.events.envelope` — :class:`EventType`, the envelope classes, :data:`AnyEvent`,
  :func:`make_event`;
* :mod:`schemas.events.dead_letter` — :class:`DeadLetter`, the record of a refused input.
"""

from __future__ import annotations

from schemas.events.base import (
    FACILITY_ID_PATTERN,
    RFC3339_PATTERN,
    EventData,
    FacilityId,
    Identifier,
    LocalizedText,
    Timestamp,
)
from schemas.events.closures import (
    AreaScope,
    ClosureData,
    ClosureEndData,
    ClosureReason,
    ClosureScope,
    FacilityScope,
    ServiceScope,
)
from schemas.events.dead_letter import (
    DEAD_LETTER_MAX_PAYLOAD,
    DeadLetter,
)
from schemas.events.envelope import (
    ANY_EVENT,
    DATA_MODEL,
    EVENT_CLASS,
    EVENT_CLASSES,
    AnyEvent,
    CaseEvent,
    ClosureDeclared,
    ClosureEnded,
    CloudEvent,
    ComplaintAcknowledged,
    ComplaintAnswered,
    ComplaintFiled,
    EquipmentStatusChanged,
    EventType,
    HeadcountMeasured,
    PassageCounted,
    SlotsPublished,
    SurveySubmitted,
    TicketEvent,
    make_event,
)
from schemas.events.equipment import (
    EquipmentKind,
    EquipmentState,
    EquipmentStatusData,
)
from schemas.events.feedback import (
    Channel,
    ComplaintAcknowledgedData,
    ComplaintAnsweredData,
    ComplaintFiledData,
    FreeText,
    GoldenRule,
    Rating,
    RuleRatings,
    SurveyData,
)
from schemas.events.signals import (
    CaseData,
    HeadcountData,
    PassageData,
    SlotsData,
    TicketData,
)

__all__ = [
    "ANY_EVENT",
    "DATA_MODEL",
    "DEAD_LETTER_MAX_PAYLOAD",
    "EVENT_CLASS",
    "EVENT_CLASSES",
    "FACILITY_ID_PATTERN",
    "RFC3339_PATTERN",
    "AnyEvent",
    "AreaScope",
    "CaseData",
    "CaseEvent",
    "Channel",
    "ClosureData",
    "ClosureDeclared",
    "ClosureEndData",
    "ClosureEnded",
    "ClosureReason",
    "ClosureScope",
    "CloudEvent",
    "ComplaintAcknowledged",
    "ComplaintAcknowledgedData",
    "ComplaintAnswered",
    "ComplaintAnsweredData",
    "ComplaintFiled",
    "ComplaintFiledData",
    "DeadLetter",
    "EquipmentKind",
    "EquipmentState",
    "EquipmentStatusChanged",
    "EquipmentStatusData",
    "EventData",
    "EventType",
    "FacilityId",
    "FacilityScope",
    "FreeText",
    "GoldenRule",
    "HeadcountData",
    "HeadcountMeasured",
    "Identifier",
    "LocalizedText",
    "PassageCounted",
    "PassageData",
    "Rating",
    "RuleRatings",
    "ServiceScope",
    "SlotsData",
    "SlotsPublished",
    "SurveyData",
    "SurveySubmitted",
    "TicketData",
    "TicketEvent",
    "Timestamp",
    "make_event",
]
