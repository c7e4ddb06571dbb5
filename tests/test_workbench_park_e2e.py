"""Issue 20's "done means", end to end in a real browser (headless Chromium driven by
Playwright) against ``rainforest serve`` started as users start it.

A park manager builds a five-firm park from nothing: the administrator starts a new
ecosystem here with its first firm; the manager adds four firms with the NACE search, places
all five on the map (one by clicking it, the others by typing coordinates), reads the
"typical for these sectors" suggestions while the park has only firms and sectors, adds
resources with the waste-code search, offers with qualities and needs with largest
acceptable qualities, sees the candidates on the board, proposes one, both firms agree (each
member in its own browser), both consent to record it (one member, and the manager for the
other firm with a note), finds the flow in the document, and reverts a mistaken change on
the history page. Screenshots at 1280 px go to ``$RAINFOREST_SHOTS`` when it is set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from test_web import _serve
from test_workbench_data_browser import _code
from test_workbench_data_browser import _shot as shot

MANAGER = ("fiona", "facilitating since 2009")
FIRM_PASSWORD = "a long firm password"
SLUG = "fjord"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    yield from _serve(f"sqlite:///{tmp_path / 'park.db'}")  # type: ignore[misc]


def _sign_in(context: Any, base: str, user: str, password: str) -> Any:
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    shot(page, tmp_path, name, prefix="e2e")


def _drawn(page: Any) -> None:
    """Wait until the scripts have drawn the map and, on the board, loaded the suggestions."""
    expect(page.locator("#map-counts")).to_contain_text("on the map")
    if page.locator("#suggestions-panel").count():
        expect(page.locator("#suggestions-panel")).to_have_attribute("aria-busy", "false")


def _versions(base: str, auth: tuple[str, str]) -> int:
    head = httpx.get(f"{base}/api/ecosystems/{SLUG}/history", auth=auth, timeout=60).json()
    return len(head) if isinstance(head, list) else len(head["versions"])


def test_a_manager_builds_a_five_firm_park_and_records_an_exchange(
    server: tuple[str, str], browser: Any, tmp_path: Path
) -> None:
    base, password = server
    admin = ("admin", password)
    viewport = {"width": 1280, "height": 900}
    problems: list[str] = []

    def watch(page: Any) -> Any:
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        return page

    # -- the administrator starts a new ecosystem, built here, with its first firm -------------
    context = browser.new_context(viewport=viewport)
    page = watch(_sign_in(context, base, "admin", password))
    page.fill("#empty-name", "Fjord Industrial Park")
    page.fill("#empty-slug", SLUG)
    page.fill("#empty-actor", "Fjord Power Station")
    _code(page, "#empty-sector", "electricity production", "35.11")
    _shot(page, tmp_path, "new-park")
    page.click("#new-empty button[type=submit]")
    page.wait_for_url(f"{base}/e/{SLUG}/actors")
    r = httpx.post(
        f"{base}/api/ecosystems/{SLUG}/people",
        auth=admin,
        json={"username": MANAGER[0], "role": "manager", "password": MANAGER[1]},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    context.close()

    # -- the manager adds four firms, each with the NACE search --------------------------------
    context = browser.new_context(viewport=viewport)
    page = watch(_sign_in(context, base, *MANAGER))
    page.goto(f"{base}/e/{SLUG}/actors")
    firms = (
        ("Fjord Plasterboard", "plaster products for construction", "23.62"),
        ("Nordic Cement", "manufacture of cement", "23.51"),
        ("Hansen Brewery", "beer", "11.05"),
        ("Green Acre Farm", "pigs", "01.46"),
    )
    for name, words, code in firms:
        page.fill("#actor-name", name)
        _code(page, "#actor-sector", words, code)
        page.click("#add-actor button[type=submit]")
        page.wait_for_url(f"{base}/e/{SLUG}/actors/*")
        assert page.inner_text("h1") == name
        page.goto(f"{base}/e/{SLUG}/actors")
    directory = page.inner_text("#actors")
    for name in ("Fjord Power Station", *(f[0] for f in firms)):
        assert name in directory
    assert page.locator("#actors tbody tr").count() == 5
    assert page.get_attribute("#actors a:has-text('Fjord Plasterboard')", "title") == "id: fjord_plasterboard"

    # -- the five firms on the map: one by a click, the others by their coordinates ------------
    page.goto(f"{base}/e/{SLUG}")
    page.wait_for_selector("#map-place:not([hidden])")
    status = page.locator("#map-status")
    page.select_option("#map-actor", "fjord_power_station")
    page.locator("#map").click(position={"x": 300, "y": 200})
    assert page.input_value("#map-lat") != ""
    assert "Save to place Fjord Power Station" in status.inner_text()
    page.click("#map-place button[type=submit]")
    expect(status).to_contain_text("Saved as version", timeout=60_000)
    assert "placed Fjord Power Station on the map" in status.inner_text()
    places = {
        "fjord_power_station": (55.6700, 11.0900),  # moved from where it was clicked, typed
        "fjord_plasterboard": (55.6745, 11.1010),
        "nordic_cement": (55.6600, 11.1200),
        "hansen_brewery": (55.6820, 11.0850),
        "green_acre_farm": (55.7010, 11.1500),
    }
    for actor, (lat, lon) in places.items():
        page.select_option("#map-actor", actor)
        page.fill("#map-lat", str(lat))
        page.fill("#map-lon", str(lon))
        page.dispatch_event("#map-lon", "change")
        page.click("#map-place button[type=submit]")
        expect(status).to_contain_text(f"on the map at {lat}", timeout=60_000)
    located = httpx.get(f"{base}/api/ecosystems/{SLUG}/map", auth=MANAGER, timeout=60).json()
    assert sorted(a["id"] for a in located["actors"]) == sorted(places)
    assert located["unplaced"] == []
    page.reload()
    page.wait_for_selector("#map .map-label")
    _shot(page, tmp_path, "overview")

    # -- with only firms and sectors, the board suggests what such sectors typically exchange --
    page.goto(f"{base}/e/{SLUG}/board")
    page.wait_for_selector("#suggestion-list")
    suggested = page.inner_text("#suggestion-list")
    assert "Fjord Power Station" in suggested
    assert "Fjord Plasterboard" in suggested
    assert "gypsum" in suggested.lower()
    assert "Typical for these sectors" in page.inner_text("#suggestions")
    _shot(page, tmp_path, "board-suggestions")

    # -- resources, each with the waste-code search -------------------------------------------
    page.goto(f"{base}/e/{SLUG}/actors")
    for name, words, code, price in (
        ("FGD gypsum", "flue-gas desulphurisation", "10 01 05", "25"),
        ("Fly ash", "fly ash coal", "10 01 02", "40"),
        ("Spent grain", "unsuitable beverages", "02 07 04", "60"),
    ):
        page.fill("#add-resource-name", name)
        page.fill("#add-resource-unit", "t")
        page.fill("#add-resource-price", price)
        _code(page, "#add-resource-ewc", words, code)
        page.click("#add-resource button[type=submit]")
        page.wait_for_url(f"{base}/e/{SLUG}/actors?saved=*")
    assert page.locator("#resource-table tbody tr").count() == 3
    assert "FGD gypsum" in page.inner_text("#resource-table")
    _shot(page, tmp_path, "actors")

    # -- offers with qualities, needs with the largest quality they accept ---------------------
    def part(actor: str, section: str, resource: str, quantity: str, price: str, quality: tuple[str, str]) -> None:
        page.goto(f"{base}/e/{SLUG}/actors/{actor}")
        form = f"#add-{section}"
        page.select_option(f"{form}-resource", resource)
        page.fill(f"{form}-quantity", quantity)
        page.fill(f"{form}-price", price)
        page.locator(f"{form} input[name=q_key]").first.fill(quality[0])
        page.locator(f"{form} input[name=q_value]").first.fill(quality[1])
        page.click(f"{form} button[type=submit]")
        page.wait_for_url(f"{base}/e/{SLUG}/actors/{actor}")

    part("fjord_power_station", "offers", "fgd_gypsum", "150000", "20", ("moisture_pct", "9"))
    part("fjord_power_station", "offers", "fly_ash", "60000", "15", ("loss_on_ignition_pct", "4"))
    part("fjord_plasterboard", "needs", "fgd_gypsum", "120000", "25", ("moisture_pct", "10"))
    part("nordic_cement", "needs", "fly_ash", "40000", "40", ("loss_on_ignition_pct", "5"))
    part("hansen_brewery", "offers", "spent_grain", "9500", "12", ("moisture_pct", "75"))
    part("green_acre_farm", "needs", "spent_grain", "8000", "60", ("moisture_pct", "80"))
    page.goto(f"{base}/e/{SLUG}/actors/fjord_power_station")
    offers = page.inner_text("#offers")
    assert "FGD gypsum" in offers
    assert "moisture_pct 9" in offers
    assert page.input_value("#qty-offers-0 input[name=quantity]") == "150000"
    _drawn(page)
    _shot(page, tmp_path, "actor")
    page.goto(f"{base}/e/{SLUG}/actors/fjord_plasterboard")
    assert "moisture_pct 10" in page.inner_text("#needs")

    # -- the firms' members (the administrator gives them accounts) ----------------------------
    for user, actor in (("powerco", "fjord_power_station"), ("boardco", "fjord_plasterboard")):
        r = httpx.post(
            f"{base}/api/ecosystems/{SLUG}/people",
            auth=admin,
            json={"username": user, "role": "member", "actor": actor, "password": FIRM_PASSWORD},
            timeout=60,
        )
        assert r.status_code == 201, r.text

    # -- the board: candidates by total value, and a proposal from the best one ----------------
    page.goto(f"{base}/e/{SLUG}/board")
    rows = page.locator("#candidates tbody tr")
    assert rows.count() == 3
    first = rows.first
    assert first.locator("td").nth(0).inner_text() == "Fjord Power Station"
    assert "Fjord Plasterboard" in first.inner_text()
    assert first.locator("td .name").first.get_attribute("title") == "id: fjord_power_station"
    page.wait_for_selector("#suggestion-list")
    assert "offered and needed already" in page.inner_text("#suggestion-list")
    _drawn(page)
    _shot(page, tmp_path, "board-candidates")
    quantity = first.locator("input[name=quantity]")
    if quantity.count() and quantity.first.get_attribute("type") != "hidden":
        quantity.first.fill("120000")
    first.locator("button:has-text('propose')").click()
    proposal = page.locator("#proposals tbody tr").first
    assert proposal.locator("td.status").inner_text() == "proposed"
    pid = proposal.get_attribute("id").removeprefix("proposal-")  # type: ignore[union-attr]
    assert f"proposal #{pid}" in page.locator("#candidates tbody tr").first.inner_text()
    proposal.locator("input[name=comment]").fill("Gypsum by truck, weekly from January?")
    proposal.locator("button[value=negotiating]").click()
    assert page.locator(f"#proposal-{pid} td.status").inner_text() == "negotiating"

    # -- both firms agree, each member in its own browser --------------------------------------
    members = {}
    for user in ("powerco", "boardco"):
        members[user] = watch(_sign_in(browser.new_context(viewport=viewport), base, user, FIRM_PASSWORD))
    for member in members.values():
        member.goto(f"{base}/e/{SLUG}/board")
        member.locator(f"#proposal-{pid} button[value=active]").click()
    assert members["boardco"].locator(f"#proposal-{pid} td.status").inner_text() == "active"

    # -- recorded with both parties' consent: the power station's member, the manager for the
    #    plasterboard maker (its consent came by e-mail) ---------------------------------------
    before = _versions(base, admin)
    firm = members["powerco"]
    firm.goto(f"{base}/e/{SLUG}/board")
    firm.locator(f"#proposal-{pid} button.record").click()
    assert "waiting for Fjord Plasterboard" in firm.locator(f"#proposal-{pid}").inner_text()
    _drawn(firm)
    _shot(firm, tmp_path, "board-member")
    page.goto(f"{base}/e/{SLUG}/board")
    consent = page.locator(f"#proposal-{pid} form.consent-form")
    consent.locator("input[name=note]").fill("Fjord Plasterboard's director agreed by e-mail on 2 December")
    consent.locator("button.record").click()
    assert f"recorded as a flow in version {before + 1}" in page.locator(f"#proposal-{pid}").inner_text()
    doc = httpx.get(f"{base}/api/ecosystems/{SLUG}", auth=admin, timeout=60).json()["document"]
    flows = [(f["from"], f["to"], f["resource"], f["quantity"]) for f in doc.get("flows", [])]
    assert flows == [("fjord_power_station", "fjord_plasterboard", "fgd_gypsum", 120000)]
    assert page.locator("#ledger-exchanges-recorded").inner_text() == "1"
    assert "consents to record the flow" in page.locator(f"#proposal-{pid} td.history").inner_text()
    _drawn(page)
    _shot(page, tmp_path, "board-recorded")

    # -- a mistaken change, reverted on the history page ---------------------------------------
    page.goto(f"{base}/e/{SLUG}/actors/hansen_brewery")
    page.fill("#qty-offers-0 input[name=quantity]", "95000")
    page.click("#qty-offers-0 button[type=submit]")
    page.wait_for_url(f"{base}/e/{SLUG}/actors/hansen_brewery")
    head = _versions(base, admin)
    page.goto(f"{base}/e/{SLUG}/history")
    versions = page.inner_text("#versions")
    for words in (
        "added actor Nordic Cement",
        "placed Green Acre Farm on the map at 55.70100, 11.15000",
        "changed actor Green Acre Farm: the latitude from nothing to 55.70100",
        "added resource FGD gypsum",
        "recorded proposal 1: Fjord Power Station -> Fjord Plasterboard, 120,000 t of FGD gypsum",
        "consent: Fjord Power Station by powerco at",
        "changed the quantity of Hansen Brewery's offer of Spent grain from 9,500 t to 95,000 t",
        MANAGER[0],
    ):
        assert words in versions, words
    _shot(page, tmp_path, "history")
    page.click(f"#revert-{head - 1}")
    assert f"Revert to version {head - 1}" in page.inner_text("#confirm")
    page.click("#confirm-yes")
    page.wait_for_url(f"{base}/e/{SLUG}/history?saved=*")
    assert f"revert to version {head - 1}" in page.inner_text(f"#v{head + 1}")
    assert _versions(base, admin) == head + 1
    page.goto(f"{base}/e/{SLUG}/actors/hansen_brewery")
    assert page.input_value("#qty-offers-0 input[name=quantity]") == "9500"
    doc = httpx.get(f"{base}/api/ecosystems/{SLUG}", auth=admin, timeout=60).json()["document"]
    assert [(f["from"], f["to"]) for f in doc.get("flows", [])] == [("fjord_power_station", "fjord_plasterboard")]
    assert problems == []
