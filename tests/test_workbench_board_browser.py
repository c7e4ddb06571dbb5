"""The matchmaking board in a real browser (headless Chromium, Playwright) against
``rainforest serve``: the facilitator sorts and filters the candidates with the form (no
script needed), optimises the plan, proposes from a plan row, is refused a second proposal
of the same exchange, both firms agree in their own browsers and consent to record the
exchange, and the flow is in a new version with the ledger's recorded column filled.

Screenshots at 1280 px go to ``$RAINFOREST_SHOTS`` when it is set (else the test's folder)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from test_web import _serve

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
FIRM_PASSWORD = "a long firm password"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    yield from _serve(f"sqlite:///{tmp_path / 'board.db'}")  # type: ignore[misc]


def _sign_in(context: Any, base: str, user: str, password: str) -> Any:
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def test_propose_from_the_plan_agree_and_record_the_flow(server: tuple[str, str], browser: Any, tmp_path: Path) -> None:
    base, password = server
    shots = Path(os.environ.get("RAINFOREST_SHOTS", tmp_path))
    admin = ("admin", password)
    # the park and its two firms (the API: set-up, not what is tested here)
    with (EXAMPLES / "park.yaml").open("rb") as f:
        made = httpx.post(
            f"{base}/api/ecosystems", auth=admin, data={"slug": "park"}, files={"file": ("park.yaml", f)}, timeout=60
        )
    assert made.status_code == 201, made.text
    for user, actor in (("powerco", "power"), ("boardco", "board")):
        r = httpx.post(
            f"{base}/api/ecosystems/park/people",
            auth=admin,
            json={"username": user, "role": "member", "actor": actor, "password": FIRM_PASSWORD},
            timeout=60,
        )
        assert r.status_code == 201, r.text

    viewport = {"width": 1280, "height": 900}
    manager = browser.new_context(viewport=viewport)
    page = _sign_in(manager, base, "admin", password)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{base}/e/park/board")

    # the candidates: best total value first; names, with the ids on hover
    first = page.locator("#candidates tbody tr").first
    assert first.locator("td").nth(0).inner_text() == "Coal power station"
    assert first.locator("td .name").first.get_attribute("title") == "id: power"
    assert "6.72 million" in first.inner_text()
    # filtered and sorted with the form: a GET with query parameters
    page.select_option("#filters select[name=resource]", "spent_grain")
    page.click("#filters button[type=submit]")
    assert "resource=spent_grain" in page.url
    assert page.locator("#candidates tbody tr").count() == 1
    assert "1 of 4 candidate(s) match" in page.inner_text("#candidates-card")
    page.click("#candidates-card >> text=clear")
    page.click("#candidates thead >> text=distance")
    assert "sort=distance" in page.url
    km = [r.locator("td").nth(6).inner_text() for r in page.locator("#candidates tbody tr").all()]
    assert [float(k) for k in km] == sorted(float(k) for k in km)
    page.screenshot(path=str(shots / "h20board-candidates.png"), full_page=True)

    # the plan, then a proposal from its first row
    page.goto(f"{base}/e/park/board")
    page.click("text=Optimise the exchange plan")
    try:
        page.wait_for_selector("#plan tbody tr", timeout=150_000)
    except Exception:
        print(page.inner_text("main"))
        raise
    row = page.locator("#plan tbody tr", has_text="Plasterboard plant")
    row.locator("button.propose").click()
    proposal = page.locator("#proposals tbody tr").first
    assert proposal.locator("td.status").inner_text() == "proposed"
    pid = proposal.get_attribute("id").removeprefix("proposal-")  # type: ignore[union-attr]
    assert f"proposal #{pid}" in page.locator("#plan tbody tr", has_text="Plasterboard plant").inner_text()
    # the same exchange again, from the candidates' form posted by hand: refused, with a link
    page.evaluate(
        """() => { const f = document.createElement('form'); f.method = 'post'; f.action = '/e/park/proposals';
        for (const [k, v] of Object.entries({source: 'power', target: 'board', resource: 'gypsum', quantity: '5',
             csrf: document.querySelector('input[name=csrf]').value})) {
          const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i); }
        document.body.appendChild(f); f.submit(); }"""
    )
    page.wait_for_selector("#refused")
    assert f"proposal #{pid}" in page.inner_text("#refused")
    assert page.locator("#proposals tbody tr").count() == 1
    proposal = page.locator(f"#proposal-{pid}")
    proposal.locator("input[name=comment]").fill("Gypsum weekly from January?")
    proposal.locator("button[value=negotiating]").click()
    assert page.locator(f"#proposal-{pid} td.status").inner_text() == "negotiating"

    # both firms agree, each in its own browser, then consent to record the flow
    firms = {}
    for user in ("powerco", "boardco"):
        firms[user] = _sign_in(browser.new_context(viewport=viewport), base, user, FIRM_PASSWORD)
    for firm in firms.values():
        firm.goto(f"{base}/e/park/board")
        firm.locator(f"#proposal-{pid} button[value=active]").click()
    assert firms["boardco"].locator(f"#proposal-{pid} td.status").inner_text() == "active"
    head = httpx.get(f"{base}/api/ecosystems/park/history", auth=admin, timeout=60).json()
    before = len(head) if isinstance(head, list) else len(head["versions"])
    firm = firms["powerco"]
    firm.goto(f"{base}/e/park/board")
    firm.locator(f"#proposal-{pid} button.record").click()
    assert "waiting for Plasterboard plant" in firm.locator(f"#proposal-{pid}").inner_text()
    firm = firms["boardco"]
    firm.goto(f"{base}/e/park/board")
    firm.locator(f"#proposal-{pid} button.record").click()
    recorded = firm.locator(f"#proposal-{pid}").inner_text()
    assert f"recorded as a flow in version {before + 1}" in recorded
    firm.screenshot(path=str(shots / "h20board-member.png"), full_page=True)

    # the new version has the flow; the ledger's recorded column counts it
    doc = httpx.get(f"{base}/api/ecosystems/park", auth=admin, timeout=60).json()["document"]
    assert [(f["from"], f["to"], f["resource"]) for f in doc.get("flows", [])] == [("power", "board", "gypsum")]
    page.goto(f"{base}/e/park/board")
    assert page.locator("#ledger-exchanges-recorded").inner_text() == "1"
    assert page.locator("#ledger-disposal_diverted_t-recorded").inner_text() == "150,000"
    history = page.locator(f"#proposal-{pid} td.history").inner_text()
    for words in ("consents to record the flow", "recorded as a flow in version", "UTC"):
        assert words in history
    page.screenshot(path=str(shots / "h20board-board.png"), full_page=True)
    page.goto(f"{base}/e/park")
    page.screenshot(path=str(shots / "h20board-overview.png"), full_page=True)
    assert problems == []
