"""The live hub's policy, from the process settings (``PARIS_LIVE_HUB_*``)."""

from __future__ import annotations

from api.hub import HubLimits
from paris_live.settings import Settings

__all__ = ["hub_limits"]


def hub_limits(settings: Settings) -> HubLimits:
    """The hub limits a process runs with."""
    return HubLimits(
        max_facilities=settings.hub_max_facilities,
        max_filters=settings.hub_max_filters,
        max_strikes=settings.hub_max_strikes,
        slow_timeout=settings.hub_slow_timeout,
        heartbeat_interval=settings.hub_heartbeat_interval,
        dead_after=settings.hub_dead_after,
    )
