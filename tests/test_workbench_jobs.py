"""The long-work pages (issue 20, item 6): labelled inputs, work that cannot run on an
ecosystem not offered (with the reason), and the simulation's controls, plots and words."""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import rainforest as rf
from conftest import PASSWORD
from rainforest.store import Store
from rainforest.web.jobs import MECHANISMS, availability, check_params, run
from rainforest.web.records import Accounts, JobQueue

MANNY = ("manny", PASSWORD)


class _Controls(HTMLParser):
    """The form controls of a page and the ``for`` of its labels (and whether a control
    sits inside a label)."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str]] = []
        self.labelled: set[str] = set()
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "label":
            self.depth += 1
            if a.get("for"):
                self.labelled.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append({**a, "tag": tag, "in_label": "yes" if self.depth else ""})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.depth -= 1


def _controls(html: str) -> _Controls:
    parser = _Controls()
    parser.feed(html)
    return parser


def _csrf(client: TestClient, url: str) -> str:
    page = client.get(url, auth=MANNY).text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _finish(store: Store, jid: int, slug: str = "park", timeout: float = 300) -> str:
    """The job's final status: run here unless the app's worker has it already, then wait."""
    status = run(store, slug, jid)
    deadline = time.monotonic() + timeout
    while status not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        status = JobQueue(store).job(slug, jid).status
    return status


def _section(html: str, kind: str) -> str:
    found = re.search(rf'<section id="work-{kind}".*?</section>', html, flags=re.S)
    assert found, kind
    return found.group(0)


def test_every_input_of_the_long_work_page_has_a_visible_label(world: tuple[Store, TestClient]) -> None:
    _, client = world
    html = client.get("/e/park/jobs", auth=MANNY).text
    parsed = _controls(html)
    assert len(parsed.controls) >= 9  # objective, distance, periods, runs, seed, four mechanisms
    for control in parsed.controls:
        name = control.get("name", "")
        assert control.get("id") in parsed.labelled or control["in_label"], f"{control['tag']} {name} has no label"
        assert "aria-label" not in control  # a visible label, not a hidden one
    for label in ("Objective", "Periods", "Runs", "Seed", "Mechanisms"):
        assert f">{label}<" in html or f">{label} <" in html


def test_work_that_cannot_run_is_not_offered_and_says_why(world: tuple[Store, TestClient]) -> None:
    store, client = world
    html = client.get("/e/park/jobs", auth=MANNY).text
    # the park has offers and needs: the plan is offered; its ash has no price and no money flows: no risk
    assert "<form" in _section(html, "plan")
    risk = _section(html, "risk")
    assert "<form" not in risk
    assert "Not available on this version." in risk
    assert "no money flows and no resource with a price" in risk
    # a park of firms only: no plan either, and the page says what to record
    bare = rf.Ecosystem(name="bare", actors=[rf.Actor("a"), rf.Actor("b")])
    store.create("bare", bare, author="setup")
    Accounts(store).grant("manny", "bare", "manager")
    html = client.get("/e/bare/jobs", auth=MANNY).text
    plan = _section(html, "plan")
    assert "<form" not in plan
    assert "0 offer(s) and 0 need(s)" in plan
    assert "<form" in _section(html, "simulate")
    assert "<form" in _section(html, "analyses")
    # the JSON twin
    available = client.get("/api/ecosystems/bare/jobs/available", auth=MANNY).json()
    assert available["simulate"] is None
    assert "offer" in available["plan"]
    # asking anyway is refused with the reason, nothing queued (API and page)
    r = client.post("/api/ecosystems/bare/jobs", auth=MANNY, json={"kind": "plan"})
    assert r.status_code == 422
    assert "The exchange plan cannot run on this ecosystem" in r.json()["error"]
    token = _csrf(client, "/e/bare/jobs")
    page = client.post("/e/bare/jobs", auth=MANNY, data={"kind": "plan", "csrf": token})
    assert page.status_code == 422
    assert "0 offer(s) and 0 need(s)" in page.text
    assert JobQueue(store).jobs("bare") == []


def test_risk_values_flows_at_prices_when_there_is_no_money_flow(world: tuple[Store, TestClient]) -> None:
    store, client = world
    eco = store.load("park")
    priced = rf.Ecosystem(
        name=eco.name,
        actors=list(eco.actors),
        resources=[dataclasses.replace(r, price=12.0) for r in eco.resources],
        flows=list(eco.flows),
        offers=list(eco.offers),
        needs=list(eco.needs),
    )
    assert availability(priced)["risk"] is None
    store.commit("park", priced, author="manny", message="prices")
    html = client.get("/e/park/jobs", auth=MANNY).text
    assert "<form" in _section(html, "risk")
    r = client.post("/api/ecosystems/park/jobs", auth=MANNY, json={"kind": "risk"})
    assert r.status_code == 201, r.text
    assert _finish(store, r.json()["id"]) == "done", JobQueue(store).job("park", r.json()["id"]).message
    job = JobQueue(store).job("park", r.json()["id"])
    assert "valued at their resources' prices" in job.summary["note"]
    page = client.get(f"/e/park/jobs/{job.id}", auth=MANNY).text
    assert "valued at their resources&#39; prices" in page or "valued at their resources' prices" in page


def test_the_simulation_form_chooses_mechanisms_and_the_page_plots_and_explains(
    world: tuple[Store, TestClient],
) -> None:
    store, client = world
    token = _csrf(client, "/e/park/jobs")
    r = client.post(
        "/e/park/jobs",
        auth=MANNY,
        data={
            "kind": "simulate",
            "csrf": token,
            "periods": "6",
            "runs": "3",
            "seed": "4",
            "mechanisms_shown": "1",
            "mechanisms": ["demography", "symbiosis"],
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    jid = int(r.headers["location"].rsplit("/", 1)[1])
    job = JobQueue(store).job("park", jid)
    assert job.params == {"periods": 6, "runs": 3, "seed": 4, "mechanisms": ["demography", "symbiosis"]}
    assert _finish(store, jid) == "done", JobQueue(store).job("park", jid).message
    result = JobQueue(store).result("park", jid)
    assert result["mechanisms"] == ["demography", "symbiosis"]
    plotted = {p["metric"]: p for p in result["plots"]}
    assert {"actors", "value_added", "survival"} <= set(plotted)
    assert "adoption" not in plotted  # the platform was off
    for p in plotted.values():
        assert len(p["mean"]) == 6
        assert p["meaning"]
        assert all(lo is None or hi is None or lo <= hi + 1e-12 for lo, hi in zip(p["low"], p["high"], strict=True))
    html = client.get(f"/e/park/jobs/{jid}", auth=MANNY).text
    assert "3 run(s) of 6 period(s) each, seed 4" in html
    assert "Mechanisms on: <strong>demography</strong>, <strong>symbiosis</strong>; off: platform, openness." in html
    assert 'src="/static/plotly.min.js"' in html
    for metric in ("actors", "value_added", "survival"):
        assert f'id="plot-{metric}"' in html
    assert "Share of the period-0 actors still alive" in html  # each plot explained in words
    assert "the band where 90% of the runs fall" in html


def test_no_mechanism_ticked_means_every_mechanism_off(world: tuple[Store, TestClient]) -> None:
    store, client = world
    token = _csrf(client, "/e/park/jobs")
    r = client.post(
        "/e/park/jobs",
        auth=MANNY,
        data={"kind": "simulate", "csrf": token, "periods": "2", "runs": "1", "mechanisms_shown": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    jid = int(r.headers["location"].rsplit("/", 1)[1])
    assert JobQueue(store).job("park", jid).params["mechanisms"] == []


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"mechanisms": ["demografy"]}, "Did you mean 'demography'"),
        ({"mechanisms": 3}, "must be a list of mechanism names"),
        ({"periods": 0}, "'periods'"),
    ],
)
def test_simulation_parameters_are_checked(given: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_params("simulate", given)


def test_the_api_takes_mechanisms_and_all_are_on_without_them(world: tuple[Store, TestClient]) -> None:
    _, client = world
    r = client.post(
        "/api/ecosystems/park/jobs", auth=MANNY, json={"kind": "simulate", "periods": 2, "runs": 1, "mechanisms": []}
    )
    assert r.status_code == 201, r.text
    assert r.json()["params"]["mechanisms"] == []
    assert check_params("simulate", {})["periods"] == 30
    assert "mechanisms" not in check_params("simulate", {})
    bad = client.post("/api/ecosystems/park/jobs", auth=MANNY, json={"kind": "simulate", "mechanisms": ["rivals"]})
    assert bad.status_code == 422
    assert all(m in bad.json()["error"] for m in MECHANISMS)


def test_observers_see_why_but_no_forms(world: tuple[Store, TestClient]) -> None:
    _, client = world
    html = client.get("/e/park/jobs", auth=("olga", PASSWORD)).text
    assert '<form method="post" action="/e/park/jobs"' not in html
    assert "Managers start long work" in html
    assert "Not available on this version." in _section(html, "risk")


# -- in a real browser -------------------------------------------------------------------------
EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    from test_web import _serve

    yield from _serve(f"sqlite:///{tmp_path / 'jobs.db'}")  # type: ignore[misc]


def test_the_long_work_pages_in_a_browser(served: tuple[str, str], browser: Any, tmp_path: Path) -> None:
    """A manager opens the long-work page: labelled controls, the work this park cannot do
    greyed out with its reason; starts a simulation with chosen periods, runs, seed and
    mechanisms; the job page draws a plot per metric, each explained. Screenshots at
    1280 px go to ``RAINFOREST_SHOTS`` when set (else the test's folder)."""
    base, password = served
    shots = Path(os.environ.get("RAINFOREST_SHOTS") or tmp_path)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(120_000)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{base}/login")
    page.fill("#username", "admin")
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.fill("#slug", "park")
    page.set_input_files("#file", str(EXAMPLES / "park.yaml"))
    page.click("#create button[type=submit]")
    page.wait_for_url(f"{base}/e/park")

    page.goto(f"{base}/e/park/jobs")
    # every control is reachable by its label
    page.get_by_label("Objective").select_option("virgin")
    page.get_by_label("Periods").fill("12")
    page.get_by_label("Runs").fill("4")
    page.get_by_label("Seed").fill("7")
    assert page.get_by_label("demography").is_checked()
    assert not page.get_by_label("platform").is_checked()  # no modules here: nothing to adopt
    assert "no modules: nothing to adopt" in page.inner_text("#work-simulate")
    page.get_by_label("openness").uncheck()
    risk = page.inner_text("#work-risk")
    assert "Not available on this version." in risk
    assert page.locator("#work-risk form").count() == 0
    page.screenshot(path=str(shots / "h21sim-jobs-park.png"), full_page=True)

    page.click("#work-simulate button[type=submit]")
    page.wait_for_url(re.compile(r".*/e/park/jobs/\d+$"))
    page.wait_for_selector("#job-done", timeout=300_000)
    page.wait_for_selector("#plot-actors .main-svg")
    text = page.inner_text("main")
    assert "4 run(s) of 12 period(s) each, seed 7" in text
    assert "off: platform, openness" in text
    assert page.locator(".plots figure").count() >= 4
    assert "Share of the period-0 actors still alive" in page.inner_text("#plot-survival figcaption")
    page.screenshot(path=str(shots / "h21sim-simulation-job.png"), full_page=True)

    # the bundled demo has no offers, needs or prices: neither the plan nor the risk is offered
    page.goto(f"{base}/e/kalundborg/jobs")
    assert "0 offer(s) and 0 need(s)" in page.inner_text("#work-plan")
    assert page.locator("#work-plan form, #work-risk form").count() == 0
    page.screenshot(path=str(shots / "h21sim-jobs-kalundborg.png"), full_page=True)
    assert problems == []
