"""The board's suggestions panel: shown apart from the declared offers and needs, turned
into draft offers and needs by a manager (a new version), confirmed by the firms, with
every role's permissions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import rainforest as rf
from conftest import PASSWORD, _login
from rainforest.store import Store
from rainforest.web import create_app
from rainforest.web.records import Accounts


def _thin_park() -> rf.Ecosystem:
    return rf.Ecosystem(
        name="new park",
        actors=[
            rf.Actor("power", name="Coal power station", sector="35.11"),
            rf.Actor("board", name="Plasterboard plant", sector="23.62"),
            rf.Actor("shed", name="Storage shed"),
        ],
    )


@pytest.fixture
def thin(tmp_path: Path) -> Iterator[tuple[Store, TestClient]]:
    store = Store(f"sqlite:///{tmp_path / 'web.db'}")
    store.create("thin", _thin_park(), author="setup")
    for name, role, actor in (
        ("manny", "manager", None),
        ("pia", "member", "power"),
        ("bob", "member", "board"),
        ("sam", "member", "shed"),
        ("olga", "observer", None),
    ):
        Accounts(store).create_user(name, PASSWORD)
        Accounts(store).grant(name, "thin", role, actor)
    Accounts(store).create_user("outsider", PASSWORD)
    with TestClient(create_app(store, secret="test-secret")) as client:
        yield store, client


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_panel_lists_suggestions_apart_with_sources(thin: tuple[Store, TestClient]) -> None:
    _, client = thin
    data = client.get("/api/ecosystems/thin/suggestions", auth=("olga", PASSWORD)).json()
    first = data["suggestions"][0]
    assert (first["supplier"], first["receiver"], first["synergy"], first["rank"]) == (
        "power",
        "board",
        "fgd_gypsum",
        1,
    )
    assert first["sources"][0].startswith("Kalundborg Symbiosis exchange E16")
    assert data["skipped"][0]["actor"] == "shed"
    assert "no sector" in data["skipped"][0]["reason"]
    assert data["can_draft"] is False  # observers look only
    # the board holds the panel's shell in a card of its own, apart from the candidates
    assert _login(client, "manny") == 303
    board = client.get("/e/thin/board").text
    assert 'id="suggestions"' in board
    assert "Typical for these sectors" in board
    assert board.index('id="suggestions"') < board.index("<h2>Candidates</h2>")
    assert "/static/suggestions.js" in board
    panel = client.get("/e/thin/suggestions/panel").text
    assert "FGD gypsum" in panel
    assert "Coal power station" in panel
    assert 'title="power"' in panel
    assert "Nobody declared them" in panel
    assert "make drafts" in panel
    assert "Storage shed" in panel  # the firm left out, with its reason
    assert client.get("/static/suggestions.js").status_code == 200


def test_a_member_sees_its_own_firms_suggestions_only(thin: tuple[Store, TestClient]) -> None:
    _, client = thin
    sam = client.get("/api/ecosystems/thin/suggestions", auth=("sam", PASSWORD)).json()
    assert sam["suggestions"] == []
    assert [k["actor"] for k in sam["skipped"]] == ["shed"]
    bob = client.get("/api/ecosystems/thin/suggestions", auth=("bob", PASSWORD)).json()
    assert bob["suggestions"]
    assert all("board" in (s["supplier"], s["receiver"]) for s in bob["suggestions"])
    assert client.get("/api/ecosystems/thin/suggestions", auth=("outsider", PASSWORD)).status_code == 404


def test_manager_makes_drafts_as_a_new_version_and_the_firms_confirm(thin: tuple[Store, TestClient]) -> None:
    store, client = thin
    before = store.head("thin")
    body = {"supplier": "power", "receiver": "board", "synergy": "fgd_gypsum", "quantity": 150000, "expected": before}
    for who in ("pia", "olga", "bob"):
        assert (
            client.post("/api/ecosystems/thin/suggestions/drafts", auth=(who, PASSWORD), json=body).status_code == 403
        )
    assert store.head("thin") == before
    r = client.post("/api/ecosystems/thin/suggestions/drafts", auth=("manny", PASSWORD), json=body)
    assert r.status_code == 201, r.text
    assert store.head("thin") == before + 1
    last = store.history("thin")[-1]
    assert last["author"] == "manny"
    assert "for the firms to confirm" in last["message"]
    eco = store.load("thin")
    assert eco.resource("fgd_gypsum").codes["ewc"] == "10 01 05"
    (offer,) = eco.offers
    (need,) = eco.needs
    assert (offer.actor, offer.quantity, offer.extensions["x_draft"]) == ("power", 150000.0, True)
    assert (need.actor, need.extensions["x_suggestion"]["synergy"]) == ("board", "fgd_gypsum")
    # the declared side now sees it as a candidate; the suggestion itself is still listed
    # (an offer and a need are not an exchange yet)
    drafts = client.get("/api/ecosystems/thin/suggestions", auth=("manny", PASSWORD)).json()["drafts"]
    assert [(d["kind"], d["actor"]) for d in drafts] == [("offer", "power"), ("need", "board")]
    # a stale form is refused; an observer and the other firms' members cannot confirm; the firm's can
    stale = client.post("/api/ecosystems/thin/suggestions/drafts", auth=("manny", PASSWORD), json=body)
    assert stale.status_code == 409
    # drafts once: the suggestion now says the offer and need exist, a second request is refused
    listed = client.get("/api/ecosystems/thin/suggestions", auth=("manny", PASSWORD)).json()["suggestions"]
    assert next(x for x in listed if x["synergy"] == "fgd_gypsum")["declared"] is True
    twice = client.post(
        "/api/ecosystems/thin/suggestions/drafts", auth=("manny", PASSWORD), json={**body, "expected": before + 1}
    )
    assert twice.status_code == 409
    assert "already offers" in twice.text
    assert store.head("thin") == before + 1
    need_draft = {"section": "needs", "index": 0}
    assert (
        client.post("/api/ecosystems/thin/drafts/confirm", auth=("olga", PASSWORD), json=need_draft).status_code == 403
    )
    for other in ("pia", "sam"):  # another firm's member does not see the board's draft
        assert (
            client.post("/api/ecosystems/thin/drafts/confirm", auth=(other, PASSWORD), json=need_draft).status_code
            == 404
        )
    ok = client.post("/api/ecosystems/thin/drafts/confirm", auth=("bob", PASSWORD), json=need_draft)
    assert ok.status_code == 200, ok.text
    eco = store.load("thin")
    assert "x_draft" not in eco.needs[0].extensions
    assert eco.needs[0].extensions["x_suggestion"]["by"] == "manny"
    assert store.history("thin")[-1]["author"] == "bob"
    again = client.post("/api/ecosystems/thin/drafts/confirm", auth=("bob", PASSWORD), json=need_draft)
    assert again.status_code == 404


def test_bad_draft_requests_change_nothing(thin: tuple[Store, TestClient]) -> None:
    store, client = thin
    before = store.head("thin")
    manny = ("manny", PASSWORD)
    base = {"supplier": "power", "receiver": "board", "synergy": "fgd_gypsum"}
    for quantity in (0, -5, "lots", None):
        r = client.post("/api/ecosystems/thin/suggestions/drafts", auth=manny, json={**base, "quantity": quantity})
        assert r.status_code == 422
        assert "positive number" in r.text
    r = client.post(
        "/api/ecosystems/thin/suggestions/drafts", auth=manny, json={**base, "synergy": "gold", "quantity": 1}
    )
    assert r.status_code == 422
    assert "no suggestion" in r.text
    r = client.post("/api/ecosystems/thin/drafts/confirm", auth=manny, json={"section": "flows", "index": 0})
    assert r.status_code == 422
    r = client.post("/api/ecosystems/thin/drafts/confirm", auth=manny, json={"section": "offers", "index": "0"})
    assert r.status_code == 422
    assert store.head("thin") == before


def test_page_forms_make_and_confirm_drafts_with_csrf(thin: tuple[Store, TestClient]) -> None:
    store, client = thin
    assert _login(client, "manny") == 303
    panel = client.get("/e/thin/suggestions/panel").text
    token = _csrf(panel)
    form = {"supplier": "power", "receiver": "board", "synergy": "fgd_gypsum", "quantity": "1000"}
    assert client.post("/e/thin/suggestions/drafts", data=form, follow_redirects=False).status_code == 403  # no token
    r = client.post("/e/thin/suggestions/drafts", data={**form, "csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/e/thin/board#suggestions"
    panel = client.get("/e/thin/suggestions/panel").text
    assert "Drafts awaiting the firms" in panel
    assert "draft offer" in panel
    assert "confirm</button>" in panel
    r = client.post(
        "/e/thin/drafts/confirm", data={"section": "offers", "index": "0", "csrf": token}, follow_redirects=False
    )
    assert r.status_code == 303
    assert "x_draft" not in store.load("thin").offers[0].extensions


# -- in a real browser ------------------------------------------------------------------------------
THIN_PARK = """format: rainforest/1
name: Harbour park (firms listed, nothing declared yet)
actors:
  - {id: power, name: Harbour power station, sector: "35.11"}
  - {id: board, name: Plasterboard plant, sector: "23.62"}
  - {id: cement, name: Cement works, sector: "23.51"}
  - {id: refinery, name: Oil refinery, sector: "19.20"}
  - {id: farm, name: Pig and crop farm, sector: "01.50"}
  - {id: depot, name: Logistics depot, sector: logistics}
"""


def test_the_panel_in_a_browser(browser: object, tmp_path: Path) -> None:
    import os

    import httpx

    from test_web import _serve

    shots = Path(os.environ.get("RAINFOREST_SHOTS_DIR") or tmp_path)
    served = _serve(f"sqlite:///{tmp_path / 'b.db'}")
    base, password = next(served)  # type: ignore[call-overload]
    try:
        r = httpx.post(
            f"{base}/api/ecosystems",
            auth=("admin", password),
            data={"slug": "harbour"},
            files={"file": ("harbour.yaml", THIN_PARK.encode())},
            timeout=60,
        )
        assert r.status_code == 201, r.text
        page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        page.set_default_timeout(60_000)
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{base}/login")
        page.fill("#username", "admin")
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/e/harbour/board")
        page.wait_for_selector("#suggestion-list tbody tr")
        rows = page.locator("#suggestion-list tbody tr")
        assert "Harbour power station" in rows.first.inner_text()
        text = page.inner_text("#suggestions")
        assert "Typical for these sectors" in text
        assert "Nobody declared them" in text
        assert "No candidate" in page.inner_text("main")  # the declared side is still empty
        page.click("#suggestions-skipped summary")
        assert "Logistics depot" in page.inner_text("#suggestions-skipped")
        rows.first.locator("summary").click()  # the evidence, with the full citations
        assert "Grann" in rows.first.inner_text()
        page.locator("#suggestions").screenshot(path=str(shots / "h20suggest-board-panel.png"))
        # the manager turns FGD gypsum into drafts: a new version, listed for the firms
        gypsum = rows.filter(has_text="FGD gypsum").filter(has_text="Plasterboard plant").first
        gypsum.locator("input[name=quantity]").fill("150000")
        gypsum.locator("button").click()
        page.wait_for_selector("#draft-list tbody tr")
        assert page.locator("#draft-list tbody tr").count() == 2
        assert "draft offer" in page.inner_text("#draft-list")
        page.locator("#suggestions").screenshot(path=str(shots / "h20suggest-board-drafts.png"))
        page.locator("#draft-list tbody tr").first.locator("button").click()
        page.wait_for_selector("#draft-list tbody tr >> nth=0")
        assert page.locator("#draft-list tbody tr").count() == 1
        history = httpx.get(f"{base}/api/ecosystems/harbour/history", auth=("admin", password), timeout=30).json()
        assert [v["author"] for v in history[-2:]] == ["admin", "admin"]
        assert "confirmed the draft offer" in history[-1]["message"]
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(shots / "h20suggest-board.png"), full_page=True)
        assert not problems, problems
    finally:
        for _ in served:  # type: ignore[attr-defined]
            pass
