"""Light anti-abuse for the public feedback routes: limits per client address (shared by all
facilities: public Wi-Fi is shared, so budgets are generous) and per anonymous device cookie.

Limits use :class:`api.ratelimit.RateLimiter` with HMAC'd identities: neither Redis nor the logs
hold an address or a cookie value. The honeypot field (``website``) is checked by each service.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from api.context import AppContext
from api.ratelimit import Check, Rate, RateLimiter
from paris_live.settings import Settings

__all__ = [
    "COMPLAINTS_PER_ADDRESS",
    "DEVICE_COOKIE",
    "SURVEY_PER_ADDRESS",
    "SURVEY_PER_DEVICE",
    "address_identity",
    "limit",
]

DEVICE_COOKIE = "pl_device"
SURVEY_PER_DEVICE = Rate(1, 900)
"""One answer per facility and device every 15 minutes."""
SURVEY_PER_ADDRESS = Rate(60, 3600, burst=20)
"""Per client address, every facility together: 20 at once, then one a minute."""
COMPLAINTS_PER_ADDRESS = Rate(10, 3600, burst=5)
"""Per client address: 5 complaints at once, then one every 6 minutes."""


def address_identity(settings: Settings, value: str) -> str:
    """A keyed hash of an address or cookie: stable for rate limits, meaningless elsewhere."""
    digest = hmac.new(settings.jwt_secret.encode(), value.encode(), hashlib.sha256)
    return digest.hexdigest()[:24]


async def limit(request: Request, name: str, *checks: Check) -> None:
    """Consume from the named limits (identities already hashed); 429 with Retry-After."""
    ctx: AppContext = request.state.ctx
    await RateLimiter(ctx.redis, ctx.settings).check(name, *checks)
