"""QR codes drawn as inline SVG (the in-facility screen's link to the satisfaction survey)."""

from __future__ import annotations

import segno

__all__ = ["qr_svg"]


def qr_svg(url: str, *, labelled_by: str = "qr-label") -> str:
    """The QR code of ``url`` as an inline SVG that scales with its box, labelled by the element
    ``labelled_by`` (the caption that says what it is for)."""
    code = segno.make(url, error="m")
    svg: str = code.svg_inline(scale=1, border=2, omitsize=True, dark="#000", light="#fff")
    return svg.replace("<svg ", f'<svg role="img" aria-labelledby="{labelled_by}" ', 1)
