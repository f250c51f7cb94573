"""Forecast frames on ``/v1/live``: the fan-out of the forecasting job's changes.

The job publishes each FacilityForecast that changed on ``{prefix}forecast-changes``
(:func:`streams.forecast.store.forecast_channel`); the API's one Redis subscription
(:mod:`api.feed`) hands those messages here. Each becomes ONE ``forecast`` frame
(:func:`schemas.ws.forecast_frame`, encoded once) written to the subscribers of that facility — by
id, or by a filter its mirrored status matches. Forecasts are not mirrored nor collapsed: a
subscriber whose transport is paused (slow) skips it — the next comes in 15 minutes and the route
``GET /v1/facilities/{id}/forecast`` always has the latest.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from api.hub import Hub
from api.subscriber import Subscriber
from schemas.ws import forecast_frame

__all__ = ["push_forecasts"]


def push_forecasts(hub: Hub, raws: Iterable[bytes]) -> int:
    """Write each forecast to its facility's subscribers; returns the frames written."""
    written = 0
    for raw in raws:
        try:
            facility_id = orjson.loads(raw)["facility_id"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue
        audience: set[Subscriber] = set(hub.by_id.get(facility_id) or ())
        status = hub.latest.get(facility_id)
        if status is not None and hub.by_filter:
            for key in (
                (status.type, status.arrondissement),
                (status.type, None),
                (None, status.arrondissement),
            ):
                audience |= hub.by_filter.get(key) or set()
        frame = forecast_frame(raw)
        for sub in audience:
            if sub.closed or sub.paused_since is not None:
                continue
            sub.send_message(frame, "forecast")
            written += 1
    return written
