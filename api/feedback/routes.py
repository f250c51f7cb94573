"""The feedback family's one router (survey, complaints, service inbox, transparency), with the
lifespan that holds its Kafka runtime (:mod:`api.feedback.runtime`)."""

from __future__ import annotations

from fastapi import APIRouter

from api.feedback import routes_complaints, routes_inbox, routes_survey, routes_transparency
from api.feedback.runtime import lifespan

__all__ = ["router"]

router = APIRouter(lifespan=lifespan)
for _module in (routes_survey, routes_complaints, routes_inbox, routes_transparency):
    router.include_router(_module.router)
