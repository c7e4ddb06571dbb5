"""The health report in a real browser: headless Chromium (Debian's package, installed by
``.ci/run``) driven by Playwright. It must render every figure with no console error and
no network request, and print."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import rainforest as rf
from rainforest import report


def _open(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_function("document.querySelectorAll('div.figure .main-svg').length > 0")
    return page, problems, requests


@pytest.mark.parametrize("which", ["kalundborg", "synthetic"])
def test_report_renders_offline_without_errors(browser: Any, tmp_path: Path, which: str) -> None:
    eco = rf.datasets.kalundborg() if which == "kalundborg" else rf.datasets.synthetic(n_actors=80, rng=3)
    r = report.health_report(eco, plan=which == "kalundborg")
    path = r.save(tmp_path / "report.html")
    page, problems, requests = _open(browser, path)
    try:
        assert problems == []
        assert requests == [path.as_uri()]  # the page itself, nothing else
        figures = [f for s in r.sections for f in s.figures]
        drawn = page.evaluate(
            "Array.from(document.querySelectorAll('div.figure')).map(d => [d.id, d.querySelectorAll('.main-svg').length])"
        )
        assert len(drawn) == len(figures)
        assert all(count > 0 for _, count in drawn), drawn
        # the Sankey draws one path per link
        spec = next(f.spec for f in figures if f.id == "sankey-strata")
        links = page.evaluate("document.querySelectorAll('#fig-sankey-strata .sankey-link').length")
        assert links == len(spec["data"][0]["link"]["value"])
        # the five numbers are on the page as the reader sees them
        shown = page.evaluate("Array.from(document.querySelectorAll('.key .value')).map(e => e.textContent)")
        assert shown == [n["display"] for n in r.key_numbers]
        pdf = page.pdf(format="A4")  # printable
        assert pdf[:4] == b"%PDF"
        assert pdf.count(b"/Type /Page") >= len(r.sections)
    finally:
        page.close()


def test_comparison_renders_offline_without_errors(browser: Any, tmp_path: Path) -> None:
    a = rf.datasets.synthetic(n_actors=60, mean_degree=3, rng=1)
    b = rf.datasets.synthetic(n_actors=50, mean_degree=2, rng=2)
    path = report.compare([a, b], risk=False, plan=False).save(tmp_path / "compare.html")
    page, problems, requests = _open(browser, path)
    try:
        assert problems == []
        assert requests == [path.as_uri()]
        assert (
            page.evaluate(
                "document.querySelectorAll('#fig-radius-all .main-svg, #all-fig-radius-all .main-svg').length"
            )
            > 0
        )
        leads = page.evaluate("document.querySelectorAll('td.lead').length")
        assert leads > 0
    finally:
        page.close()
