"""Directory bench (issues 15, 16): the whole city's directory as Chromium renders it.

``.venv/bin/python -m bench.directory [--runs 7]`` starts the API (uvicorn) on real Redis and
PostgreSQL, fills Redis with the whole simulated city (every facility of the catalogue, the last
3 hours), and loads the directory in Debian's Chromium on a phone-sized window, a fresh context
each time:

* **first render** — navigation start → the directory's ``directory-first-render`` mark (results
  painted, live figures asked for), median of ``--runs`` loads; target ≤ 1,000 ms. The baseline,
  measured in the same run, is the same page with every facility in it (``?page=<last>``): what
  the directory rendered before the server filtered and paged it.
* **filter answer** — choosing a type in the form → the ``directory-results`` mark (the server's
  answer swapped in), median over every facility type;
* the HTML's weight (gzipped as served) and the page's DOM size, paged and whole.

Writes ``bench/results/directory.json``. Not a pytest: its figures depend on the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from typing import Any

import httpx

from api.pages.directory import MAX_PAGE
from bench.common import write_result
from bench.pages import (
    CHROMIUM,
    CHROMIUM_ARGS,
    _free_port,
    running_api,
    simulated_city,
)
from schemas.catalogue import FACILITY_TYPES

PHONE = {"width": 360, "height": 800}
FIRST_RENDER = """() => new Promise((done) => {
  const look = () => {
    const mark = performance.getEntriesByName("directory-first-render")[0];
    if (mark) done(mark.startTime); else setTimeout(look, 10);
  };
  look();
})"""
FILTER_ANSWER = """async (type) => {
  const select = document.getElementById("type");
  const before = performance.getEntriesByName("directory-results").length;
  const began = performance.now();
  select.value = type;
  select.dispatchEvent(new Event("input", { bubbles: true }));
  await new Promise((done) => {
    const look = () => performance.getEntriesByName("directory-results").length > before ? done() : setTimeout(look, 5);
    look();
  });
  return performance.getEntriesByName("directory-results").at(-1).startTime - began;
}"""


async def load(browser: Any, url: str) -> dict[str, float]:
    """One fresh load of ``url``: first render (ms) and DOM size (elements)."""
    context = await browser.new_context(viewport=PHONE, locale="fr-FR")
    try:
        page = await context.new_page()
        await page.goto(url, wait_until="commit")
        first = float(await page.evaluate(FIRST_RENDER))
        nodes = float(await page.evaluate("document.getElementsByTagName('*').length"))
        return {"first_render_ms": first, "dom_elements": nodes}
    finally:
        await context.close()


async def filter_answers(browser: Any, base: str) -> list[float]:
    """ms from choosing each facility type to the results swapped in, in one page."""
    context = await browser.new_context(viewport=PHONE, locale="fr-FR")
    try:
        page = await context.new_page()
        await page.goto(base + "/")
        await page.evaluate(FIRST_RENDER)
        return [float(await page.evaluate(FILTER_ANSWER, t)) for t in FACILITY_TYPES]
    finally:
        await context.close()


async def weights(base: str) -> dict[str, float]:
    """Gzipped bytes of the directory's HTML as served, paged and whole."""
    out = {}
    async with httpx.AsyncClient(base_url=base, headers={"Accept-Encoding": "gzip"}) as client:
        for name, params in (("paged", {}), ("whole", {"page": str(MAX_PAGE)})):
            async with client.stream("GET", "/", params=params) as answer:
                raw = b"".join([chunk async for chunk in answer.aiter_raw()])
            out[f"html_{name}_gz_kb"] = round(len(raw) / 1024, 1)
    return out


async def run(runs: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    async with (
        simulated_city("directory") as (settings, facilities),
        running_api(settings, _free_port()) as base,
        async_playwright() as pw,
    ):
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await load(browser, base + "/")  # warm: templates, catalogue, Chromium
            paged, whole = [], []
            for _ in range(runs):  # interleaved, so both see the same machine
                paged.append(await load(browser, base + "/"))
                whole.append(await load(browser, f"{base}/?page={MAX_PAGE}"))
            answers = await filter_answers(browser, base)
        finally:
            await browser.close()
        sizes = await weights(base)
    return {
        "facilities": facilities,
        "paged": paged,
        "whole": whole,
        "answers": answers,
        **sizes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="page loads of each kind")
    args = parser.parse_args()
    out = asyncio.run(run(args.runs))
    paged = [r["first_render_ms"] for r in out["paged"]]
    whole = [r["first_render_ms"] for r in out["whole"]]
    print(f"first render, paged: {[round(t) for t in paged]} ms")
    print(f"first render, whole city in one page: {[round(t) for t in whole]} ms")
    print(f"filter answers: {[round(t) for t in out['answers']]} ms")
    write_result(
        "directory",
        statistics.median(paged),
        "ms",
        "the same directory with every facility in one page (before server-side paging)",
        statistics.median(whole),
        "first render ≤ 1000 ms on a phone-sized window, whole catalogue in Redis",
        facilities=out["facilities"],
        first_render_max_ms=round(max(paged), 1),
        whole_first_render_max_ms=round(max(whole), 1),
        filter_answer_median_ms=round(statistics.median(out["answers"]), 1),
        filter_answer_max_ms=round(max(out["answers"]), 1),
        dom_elements_paged=out["paged"][0]["dom_elements"],
        dom_elements_whole=out["whole"][0]["dom_elements"],
        html_paged_gz_kb=out["html_paged_gz_kb"],
        html_whole_gz_kb=out["html_whole_gz_kb"],
        runs=args.runs,
    )


if __name__ == "__main__":
    main()
