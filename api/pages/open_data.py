"""``/donnees`` (``/data``; ``?lang=en``): the open datasets, each with its description, rows,
size, update time, licence and downloads, and the links to the Data Package and the DCAT
catalogue. The figures are the current build's (:mod:`api.opendata.store`); before the first
build the page says so."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime
from babel.numbers import format_decimal
from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.context import Ctx
from api.feedback.datasets import DATASETS as MONTHLY
from api.i18n import Lang, language, localized, render, translator
from api.opendata import NotPublished
from api.opendata.store import current
from api.pages.legal import LangParam
from api.pages.views import html_page
from api.routes.open_data import daily_index
from schemas.clock import PARIS

__all__ = ["router"]

router = APIRouter()


def file_size(size: int, lang: Lang) -> str:
    """« 1,2 Mo » / "1.2 MB" from a megabyte on, « 12 ko » / "12 kB" below (rounded up)."""
    tr = translator(lang)
    if size >= 1_000_000:
        return tr.gettext(
            "%(size)s Mo", size=format_decimal(size / 1_000_000, format="#,##0.0", locale=lang)
        )
    return tr.gettext("%(size)s ko", size=format_decimal(-(-size // 1000), locale=lang))


@router.get("/donnees", include_in_schema=False)
@router.get("/data", include_in_schema=False)
async def open_data_page(ctx: Ctx, lang: LangParam = None) -> HTMLResponse:
    """The datasets, French first."""
    chosen = language(lang)
    try:
        published = current(ctx.settings.open_data_dir)
    except NotPublished:
        datasets: list[dict[str, object]] = []
        updated = None
    else:
        datasets = []
        for item in daily_index(published):
            datasets.append(
                {
                    **item,
                    "rows_text": format_decimal(int(item["rows"]), locale=chosen),
                    "csv_size": file_size(int(item["csv"]["bytes"]), chosen),
                    "parquet_size": file_size(int(item["parquet"]["bytes"]), chosen),
                }
            )
        created = datetime.fromisoformat(str(published.package["created"])).astimezone(PARIS)
        updated = format_datetime(created, "d MMMM y, HH:mm", tzinfo=PARIS, locale=chosen)
    monthly = [(name, localized(spec.title)) for name, spec in MONTHLY.items()]
    body = render(
        chosen,
        "templates/donnees.html",
        path="/donnees",
        datasets=datasets,
        updated=updated,
        monthly=monthly,
    )
    return html_page(body)
