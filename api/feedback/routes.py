"""The feedback family's one router (survey, complaints, service inbox, transparency); it publishes
through the process's Kafka clients (:mod:`api.feedback.runtime`)."""

from __future__ import annotations

from fastapi import APIRouter

from api.feedback import routes_complaints, routes_inbox, routes_survey, routes_transparency

__all__ = ["router"]

router = APIRouter()
for _module in (routes_survey, routes_complaints, routes_inbox, routes_transparency):
    router.include_router(_module.router)
