"""Conditional GETs: a strong ETag over the body, ``Cache-Control``, 304 on ``If-None-Match``."""

from __future__ import annotations

import hashlib

from fastapi import Request
from fastapi.responses import Response

__all__ = ["cached"]

LIVE_MAX_AGE = 5
"""Live data: browsers and CDNs may reuse a response for a few seconds."""


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    candidates = {part.strip().removeprefix("W/") for part in header.split(",")}
    return etag in candidates


def cached(
    request: Request,
    body: bytes,
    media_type: str,
    *,
    max_age: int = LIVE_MAX_AGE,
    headers: dict[str, str] | None = None,
) -> Response:
    """A public GET response with validators; 304 (no body) when the client already has it."""
    etag = etag_of(body)
    out = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": "Accept, Origin",
        **(headers or {}),
    }
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=out)
    return Response(content=body, media_type=media_type, headers=out)
