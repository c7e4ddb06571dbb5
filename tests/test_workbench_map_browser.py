"""The map in a real browser (headless Chromium driven by Playwright) against ``rainforest
serve`` started as users start it, without a tile server: the firms are drawn as named
markers on a plain background with a scale bar, today's exchanges as solid lines and the
board's candidates as dashed ones, the cluster radius as a circle; firms without a location
are listed beside the map; a manager places firms by clicking the map, and each placement
is a new version with its author and message. Screenshots at 1280 px go to ``tmp_path`` (and
to ``$RAINFOREST_SHOTS`` when set)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from test_web import _serve

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    yield from _serve(f"sqlite:///{tmp_path / 'map.db'}")  # type: ignore[misc]


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"map-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    target = os.environ.get("RAINFOREST_SHOTS")
    if target:
        shutil.copy(path, Path(target) / path.name)


def _wait_drawn(page: Any, markers: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('#map .leaflet-marker-icon').length === n && "
        "document.getElementById('map-counts').textContent !== ''",
        arg=markers,
    )


def _lines(page: Any) -> dict[str, int]:
    """The lines on the map by how they are drawn: solid (today's exchanges), dashed (the
    plan's), dotted (other candidates)."""
    return page.evaluate(
        """() => {
        const out = {solid: 0, dashed: 0, dotted: 0, circle: 0};
        document.querySelectorAll('#map path[stroke]').forEach(p => {
          const dash = p.getAttribute('stroke-dasharray');
          const colour = p.getAttribute('stroke');
          if (colour === '#43a047') { out.circle += 1; }
          else if (!dash) { out.solid += 1; }
          else if (dash.startsWith('8')) { out.dashed += 1; }
          else { out.dotted += 1; }
        });
        return out;
      }"""
    )


def _place(page: Any, actor: str, dx: int, dy: int, message: str = "") -> str:
    """Choose ``actor``, click the map at (dx, dy) from its centre, save; the status line."""
    page.select_option("#map-actor", actor)
    page.locator("#map").scroll_into_view_if_needed()
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy)
    assert page.input_value("#map-lat")
    assert page.input_value("#map-lon")
    assert page.inner_text("#map-status").startswith("Save to place ")
    if message:
        page.fill("#map-message", message)
    page.click("#map-confirm")
    page.wait_for_function("() => document.getElementById('map-status').textContent.startsWith('Saved as version')")
    return str(page.inner_text("#map-status"))


def test_the_map_in_a_browser(server: tuple[str, str], browser: Any, tmp_path: Path) -> None:
    base, password = server
    auth = ("admin", password)
    with (EXAMPLES / "park.yaml").open("rb") as f:
        made = httpx.post(
            f"{base}/api/ecosystems", auth=auth, data={"slug": "park"}, files={"file": ("park.yaml", f)}, timeout=60
        )
    assert made.status_code == 201, made.text
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)  # a busy machine: the first plan and map of a fresh server are slow
    problems: list[str] = []  # a script error or a blocked load (the policy) fails the test
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    page.goto(f"{base}/login")
    page.fill("#username", "admin")
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    # the overview of a park whose six firms all have a location: six named markers, the
    # board's four candidates as dotted lines (no plan yet), the cluster radius as a circle,
    # a scale bar and no tile (no tile server configured)
    page.goto(f"{base}/e/park")
    _wait_drawn(page, 6)
    labels = page.locator("#map .leaflet-tooltip").all_inner_texts()
    assert {"Coal power station", "Brewery", "Pig farm"} <= set(labels)
    assert _lines(page) == {"solid": 0, "dashed": 0, "dotted": 4, "circle": 1}
    assert page.locator("#map .leaflet-control-scale-line").is_visible()
    assert page.locator("#map img.leaflet-tile").count() == 0
    assert page.locator("#map-tiles").is_visible()
    assert "no tile server configured" in page.inner_text("#map-tiles").lower()
    assert page.inner_text("#map-radius").startswith("cluster radius 4 km, around the firms' centre")
    assert page.locator("#map-unplaced").is_hidden()
    _shot(page, tmp_path, "overview")

    # the board with the optimised plan: the plan's exchanges dashed, the others dotted
    page.goto(f"{base}/e/park/board")
    page.click("text=Optimise the exchange plan")
    page.wait_for_selector("#plan tbody tr", timeout=150_000)
    _wait_drawn(page, 6)
    drawn = _lines(page)
    planned = page.locator("#plan tbody tr").count()
    assert drawn["dashed"] == planned, drawn
    assert drawn["dashed"] + drawn["dotted"] == 4, drawn
    assert "the plan of version 1" in page.inner_text("#map-counts")
    _shot(page, tmp_path, "board")

    # the demo ecosystem has no locations: nothing is drawn at 0,0, every firm is listed
    # beside the map, and no radius is claimed
    page.goto(f"{base}/e/kalundborg/actors/asnaes")
    _wait_drawn(page, 0)
    assert page.inner_text("#map-unplaced").startswith("no location: Asnaes Power Station")
    assert "n/a" in page.inner_text("#map-radius")
    assert page.input_value("#map-actor") == "asnaes"  # the page's actor is chosen first

    # a manager types the power station's coordinates (nothing to aim at on a blank world),
    # then places the refinery by clicking beside it: two versions, and today's exchanges
    # between them appear as solid lines
    page.fill("#map-lat", "55.6605")
    page.fill("#map-lon", "11.0877")
    page.fill("#map-message", "from the plant's address")
    page.click("#map-confirm")
    page.wait_for_function("() => document.getElementById('map-status').textContent.startsWith('Saved as version')")
    assert page.inner_text("#map-status").startswith("Saved as version 2 by admin: from the plant's address")
    _wait_drawn(page, 1)
    status = _place(page, "statoil_refinery", 90, -60)
    assert status.startswith("Saved as version 3 by admin: placed Kalundborg oil refinery (Tidewater 1961, ")
    _wait_drawn(page, 2)
    assert _lines(page)["solid"] >= 1
    assert "Asnaes Power Station" not in page.inner_text("#map-unplaced")
    history = httpx.get(f"{base}/api/ecosystems/kalundborg/history", auth=auth, timeout=30).json()
    assert [(v["number"], v["author"]) for v in history[-2:]] == [(2, "admin"), (3, "admin")]
    assert history[-2]["message"] == "from the plant's address"
    record = httpx.get(f"{base}/api/ecosystems/kalundborg", auth=auth, timeout=30).json()["document"]["actors"]
    assert next(a["location"] for a in record if a["id"] == "asnaes") == {"lat": 55.6605, "lon": 11.0877}
    where = next(a["location"] for a in record if a["id"] == "statoil_refinery")
    assert -90 <= where["lat"] <= 90
    assert -180 <= where["lon"] <= 180

    # a click then "Clear" changes nothing
    page.select_option("#map-actor", "gyproc")
    page.locator("#map").scroll_into_view_if_needed()
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + 100, box["y"] + 100)
    page.click("#map-cancel")
    assert page.inner_text("#map-status") == "Nothing was changed."
    assert page.input_value("#map-lat") == ""
    assert len(httpx.get(f"{base}/api/ecosystems/kalundborg/history", auth=auth, timeout=30).json()) == 3

    # coordinates typed instead of a click (without tiles there is nothing to aim at)
    page.fill("#map-lat", "91")
    page.fill("#map-lon", "11.1")
    page.click("#map-confirm")  # the browser refuses it (the field's range); the server would too
    assert page.evaluate("() => document.getElementById('map-lat').validity.rangeOverflow")
    assert len(httpx.get(f"{base}/api/ecosystems/kalundborg/history", auth=auth, timeout=30).json()) == 3
    page.fill("#map-lat", "55.655")
    page.fill("#map-lon", "11.1")
    page.click("#map-confirm")
    page.wait_for_function("() => document.getElementById('map-status').textContent.startsWith('Saved as version 4')")
    _wait_drawn(page, 3)
    record = httpx.get(f"{base}/api/ecosystems/kalundborg", auth=auth, timeout=30).json()["document"]["actors"]
    assert next(a["location"] for a in record if a["id"] == "gyproc") == {"lat": 55.655, "lon": 11.1}

    # someone saves meanwhile (version 5): the map drawn on version 4 refuses to overwrite,
    # reloads, and shows the other change
    r = httpx.post(
        f"{base}/api/ecosystems/kalundborg/actors/novo_nordisk/location",
        auth=auth,
        json={"lat": 55.668, "lon": 11.105},
        timeout=30,
    )
    assert r.json()["number"] == 5
    page.select_option("#map-actor", "fish_farm")
    page.fill("#map-lat", "55.659")
    page.fill("#map-lon", "11.08")
    page.click("#map-confirm")
    page.wait_for_function("() => document.getElementById('map-status').textContent.startsWith('Someone saved')")
    assert "place the firm again" in page.inner_text("#map-status")
    conflict = [p for p in problems if "409 (Conflict)" in p]
    assert len(conflict) == 1  # the browser logs the refused request, as it should
    problems.remove(conflict[0])
    _wait_drawn(page, 4)
    assert len(httpx.get(f"{base}/api/ecosystems/kalundborg/history", auth=auth, timeout=30).json()) == 5

    page.goto(f"{base}/e/kalundborg/actors/asnaes")
    _wait_drawn(page, 4)
    _shot(page, tmp_path, "actor")

    assert not problems, problems
    assert not outside, outside  # no CDN, no tile server: nothing but this server
    context.close()
