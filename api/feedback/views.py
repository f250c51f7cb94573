"""The feedback pages' layout: one page shell (skip link, language switch, no external
resource, a strict CSP), French first (``?lang=en`` for English), and the assets it serves."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from string import Template

from fastapi.responses import HTMLResponse

from api.errors import ApiError
from api.feedback.errors import InvalidInput

__all__ = ["ASSETS", "DASHBOARD", "esc", "form_error", "page", "template"]

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboards" / "feedback"
ASSETS = {"feedback.css": "text/css", "forms.js": "text/javascript", "inbox.js": "text/javascript"}
"""The files of :data:`DASHBOARD` served under ``/feedback-assets/`` (never the templates)."""

_templates: dict[str, tuple[float, Template]] = {}


def template(name: str) -> Template:
    path = DASHBOARD / name
    mtime = path.stat().st_mtime
    cached = _templates.get(name)
    if cached is None or cached[0] != mtime:
        cached = (mtime, Template(path.read_text(encoding="utf-8")))
        _templates[name] = cached
    return cached[1]


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def page(
    lang: str,
    title: str,
    main: str,
    *,
    path: str,
    status_code: int = 200,
    scripts: Sequence[str] = (),
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A full page in the feedback layout (skip link, language switch, no external resource)."""
    other = "en" if lang == "fr" else "fr"
    switch_label = "English" if other == "en" else "Français"
    body = template("layout.html").substitute(
        lang=lang,
        title=esc(title),
        skip="Aller au contenu" if lang == "fr" else "Skip to content",
        switch=(
            f'<a href="{esc(path)}?lang={other}" lang="{other}" hreflang="{other}">'
            f"{switch_label}</a>"
        ),
        main=main,
        scripts="".join(f'<script type="module" src="{esc(s)}"></script>' for s in scripts),
        footer=(
            '<a href="/transparence">Résultats publics</a> · <a href="/complaints">Réclamation</a>'
            if lang == "fr"
            else f'<a href="/transparence?lang={lang}">Public results</a> · '
            f'<a href="/complaints?lang={lang}">Complaint</a>'
        ),
    )
    return HTMLResponse(
        body,
        status_code=status_code,
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
            "style-src 'self'; script-src 'self'; frame-ancestors 'self'",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            **(headers or {}),
        },
    )


def form_error(
    exc: ApiError, lang: str, *, heading: str, back: str, back_href: str, path: str, extra: str = ""
) -> HTMLResponse:
    """The no-JavaScript path: the error, in words, with a way back to the form."""
    items = ""
    if isinstance(exc, InvalidInput):
        items = "".join(f"<li>{esc(k)} : {esc(v)}</li>" for k, v in exc.fields.items())
    main = (
        f"<h1>{heading}</h1>"
        f'<div role="alert"><p>{esc(exc.message)}</p><ul>{items}</ul>{extra}</div>'
        f'<p><a href="{back_href}">{back}</a></p>'
    )
    return page(
        lang, "Erreur / Error", main, path=path, status_code=exc.status, headers=exc.headers or {}
    )
