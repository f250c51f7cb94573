"""The static assets of the pages: ``dashboards/pages``, ``dashboards/embed`` and ``dashboards/vendor``
(browser libraries copied from npm by ``scripts/vendor.sh``) files, served under
``/static/`` (and the card at ``/embed/card.js``) from an allow-list built once from the disk.

Each asset is read once per modification and served with a strong ETag, ``Cache-Control`` and a
gzip variant when the browser accepts it. Nothing a client sends is joined to a filesystem path.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import mimetypes
import posixpath
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response

__all__ = [
    "ASSETS",
    "ASSET_MAX_AGE",
    "DASHBOARDS",
    "INLINE_STYLESHEETS",
    "Asset",
    "asset",
    "asset_allow_list",
    "inline_style_source",
    "serve",
]

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
ASSET_MAX_AGE = 300
ASSET_FOLDERS = ("pages", "embed", "vendor")
"""The folders of ``dashboards/`` whose files are served under ``/static/`` (never templates)."""
ASSET_SUFFIXES = frozenset(
    {".js", ".mjs", ".css", ".svg", ".png", ".jpg", ".webp", ".ico", ".woff2"}
)


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str
    media_type: str
    mtime: float

    @property
    def csp_hash(self) -> str:
        """The CSP source allowing this file's text inline (``'sha256-…'``)."""
        digest = hashlib.sha256(self.body).digest()
        return "'sha256-" + base64.b64encode(digest).decode() + "'"


_assets: dict[Path, Asset] = {}


def asset_allow_list(root: Path = DASHBOARDS) -> dict[str, Path]:
    """``relative path → file`` of every servable asset, built once from what is on disk."""
    found: dict[str, Path] = {}
    for folder in ASSET_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and not path.is_symlink() and path.suffix in ASSET_SUFFIXES:
                found[path.relative_to(root).as_posix()] = path
    return found


ASSETS = asset_allow_list()
INLINE_STYLESHEETS = ("pages/pages.css", "pages/forecast.css", "pages/equipment.css")
"""The pages' stylesheets, inlined one after the other by ``templates/layout.html`` (no
render-blocking request): the common one, then the forecast's and the live equipment's blocks."""


def asset(relative: str) -> Asset | None:
    """An allow-listed asset (None for anything else), re-read when it changes.

    The requested path is normalised (``a/../b`` → ``b``) and then only looked up in
    :data:`ASSETS`: nothing a client sends is ever joined to a filesystem path."""
    path = ASSETS.get(posixpath.normpath(relative)) if relative else None
    if path is None:
        return None
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:  # removed since the start: gone
        return None
    cached = _assets.get(path)
    if cached is not None and cached.mtime == mtime:
        return cached
    body = path.read_bytes()
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix in {".js", ".mjs"}:
        media = "text/javascript"
    if media.startswith("text/") or media in {"image/svg+xml", "application/json"}:
        media += "; charset=utf-8"
    found = Asset(
        body,
        gzip.compress(body, compresslevel=9, mtime=0),
        '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"',
        media,
        mtime,
    )
    _assets[path] = found
    return found


def serve(request: Request, found: Asset, max_age: int = ASSET_MAX_AGE) -> Response:
    """The asset, or 304 when the browser has it; gzipped when accepted and worth it."""
    headers = {
        "ETag": found.etag,
        "Cache-Control": f"public, max-age={max_age}, stale-while-revalidate=86400",
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match", "").replace("W/", "") == found.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", "") and len(found.body) > 1024:
        headers["Content-Encoding"] = "gzip"
        return Response(found.gzipped, media_type=found.media_type, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)


def inline_style_source() -> str:
    """The CSP source of the inlined stylesheets as they are on disk now (the layout includes the
    files as they are, one after the other, so both change together)."""
    bodies = []
    for name in INLINE_STYLESHEETS:
        found = asset(name)
        assert found is not None, f"dashboards/{name} is part of the package"
        bodies.append(found.body)
    digest = hashlib.sha256(b"".join(bodies)).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"
