"""The health report and the comparison: the data behind every figure, not pixels."""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import rainforest as rf
from rainforest import report
from rainforest.analysis import metabolism, positioning
from rainforest.cli import app
from rainforest.report import _sections

runner = CliRunner()


@pytest.fixture(scope="module")
def kalundborg() -> report.Report:
    return report.health_report(rf.datasets.kalundborg())


@pytest.fixture(scope="module")
def synthetic_eco() -> rf.Ecosystem:
    return rf.datasets.synthetic(n_actors=90, mean_degree=3, rng=11)


@pytest.fixture(scope="module")
def synthetic(synthetic_eco: rf.Ecosystem) -> report.Report:
    return report.health_report(synthetic_eco)


def _figure(r: report.Report, section: str, figure: str) -> dict:
    for f in r.section(section).figures:
        if f.id == figure:
            return f.spec
    raise AssertionError(f"no figure {figure} in {section}")


def test_kalundborg_key_numbers_come_from_the_analyses(kalundborg: report.Report) -> None:
    eco = rf.datasets.kalundborg()
    numbers = {n["key"]: n for n in kalundborg.key_numbers}
    assert list(numbers) == ["exchanged", "residues", "cycling", "robustness", "dependence"]
    fm = rf.FlowMatrix.from_ecosystem(eco, "mass")
    assert numbers["exchanged"]["value"] == pytest.approx(1_519_000)
    assert numbers["exchanged"]["value"] == pytest.approx(float(fm.Z.sum()))
    assert numbers["residues"]["value"] == metabolism.circularity(eco)["landfill_diverted"]
    assert numbers["cycling"]["value"] == 0.0  # the published exchanges form no loop
    closed = rf.ena.analyze(fm, balance="boundary")
    assert numbers["robustness"]["value"] == pytest.approx(closed.ascendency["robustness"])
    # Novo Nordisk sends 1.005 Mt of 1.519 Mt (sludge and yeast to the farmers)
    assert numbers["dependence"]["value"] == pytest.approx(1_005_000 / 1_519_000)
    assert "Novo Nordisk (Kalundborg site)" in numbers["dependence"]["meaning"]  # its name, not its id


def test_sections_without_their_analysis_say_why_and_show_no_numbers(kalundborg: report.Report) -> None:
    for sid, reason in (
        ("io", "price"),
        ("exchanges", "0 offer(s) and 0 need(s)"),
        ("cluster", "no actor has a location"),
    ):
        s = kalundborg.section(sid)
        assert not s.available
        assert reason in s.reason
        assert s.numbers == ()
        assert s.figures == ()
    # the synergy library still says what the residues are known to be good for
    uses = kalundborg.section("exchanges").tables[0]
    assert ("fgd_gypsum", "plasterboard manufacturing (replaces mined gypsum)") in [r[:2] for r in uses.rows]


def test_every_unknown_is_stated(kalundborg: report.Report) -> None:
    unknowns = {u["what"]: u["how"] for u in kalundborg.section("unknowns").data["unknowns"]}
    text = " | ".join(unknowns)
    assert "the quantity of 11 documented exchange(s)" in text
    assert "the stratum of 4 of 10 actor(s)" in text  # from the published head counts
    assert "the size of 6 actor(s)" in text
    assert "the money layer" in text
    assert "locations" in text
    assert any("closed at the boundary" in how for how in unknowns.values())


def test_kalundborg_headlines_say_what_is_known(kalundborg: report.Report) -> None:
    """Issue 16, items 1, 2 and 4: no stratum from exchanged mass, no unrecorded account
    shown as 0, and Finn's 0% not read as 'no loop' when a documented loop exists."""
    cycling = next(n for n in kalundborg.key_numbers if n["key"] == "cycling")
    assert "no loop closed" not in cycling["meaning"]
    assert "Asnaes Power Station (Asnaesvaerket) → Kalundborg oil refinery" in cycling["meaning"]  # names
    assert "quantified" in cycling["meaning"]
    network = kalundborg.section("network").data["structure"]
    assert network["cycles"] == [["asnaes", "statoil_refinery"]]
    accounts = kalundborg.section("metabolism").data["accounts"]
    for key in ("imports", "exports", "DMI"):
        assert accounts[key] is None
        assert accounts["reasons"][key]
    table = next(t for t in kalundborg.section("metabolism").tables if t.title == "Boundary accounts")
    shown = {row[0]: row[1] for row in table.rows}
    assert shown["imports"] == shown["exports"] == shown["DMI"] == "n/a"
    profile = " ".join(kalundborg.section("profile").text)
    assert "by head count: asnaes, statoil_refinery, novo_nordisk, gyproc" in profile
    strata = {row[0]: row[1] for row in kalundborg.section("profile").tables[0].rows}
    assert strata["unknown"] == 6  # the farmers among them, no longer canopy
    assert strata["moss"] == 0  # the refinery (250 employees) is not moss


def test_sankey_links_sum_to_the_flows(synthetic_eco: rf.Ecosystem, synthetic: report.Report) -> None:
    fm = rf.FlowMatrix.from_ecosystem(synthetic_eco, "mass")
    total = float(fm.Z.sum() + fm.inputs.sum() + fm.outputs.sum())
    data = synthetic.section("metabolism").data["sankey_strata"]
    assert sum(link["value"] for link in data["links"]) == pytest.approx(total, rel=1e-12)
    spec = _figure(synthetic, "metabolism", "sankey-strata")["data"][0]
    assert sum(spec["link"]["value"]) == pytest.approx(total, rel=1e-12)
    assert spec["node"]["label"] == data["nodes"]
    # suppliers left, receivers right: no node is both a source and a target
    assert not set(spec["link"]["source"]) & set(spec["link"]["target"])
    # every stratum's outflow in the diagram is the flow its actors send
    strata = {a.actor: a.stratum for a in positioning.position(synthetic_eco, risk=False).actors}
    for stratum in ("canopy", "moss"):
        sent = sum(fm.Z[i, :].sum() + fm.outputs[i] for i, a in enumerate(fm.ids) if strata[a] == stratum)
        k = data["nodes"].index(stratum)
        assert sum(link["value"] for link in data["links"] if link["source"] == k) == pytest.approx(sent)


def test_actor_sankey_for_small_ecosystems(kalundborg: report.Report) -> None:
    spec = _figure(kalundborg, "metabolism", "sankey-actors")["data"][0]
    assert sum(spec["link"]["value"]) == pytest.approx(1_519_000)
    assert len(spec["link"]["value"]) == 6  # the 6 quantified mass exchanges (cooling water is in m**3)


def test_strata_picture_matches_the_profile(synthetic_eco: rf.Ecosystem, synthetic: report.Report) -> None:
    spec = _figure(synthetic, "profile", "strata")
    counts: dict[str, int] = {}
    for trace in spec["data"]:
        for stratum, x in zip(trace["y"], trace["x"], strict=True):
            counts[stratum] = counts.get(stratum, 0) + x
    given = {}
    for a in synthetic_eco.actors:
        given[a.stratum] = given.get(a.stratum, 0) + 1
    assert counts == given
    assert sum(counts.values()) == len(synthetic_eco.actors)
    table = synthetic.section("profile").tables[0]
    assert {row[0]: row[1] for row in table.rows} == given


def test_network_draws_every_actor_and_exchange_of_a_small_ecosystem(
    synthetic_eco: rf.Ecosystem, synthetic: report.Report
) -> None:
    spec = _figure(synthetic, "network", "network")
    nodes = [t for t in spec["data"] if t.get("legendgroup") == "strata"]
    assert sum(len(t["x"]) for t in nodes) == len(synthetic_eco.actors)
    ids = set(synthetic_eco.actor_ids)
    internal = [f for f in synthetic_eco.flows if f.status == "active" and f.source in ids and f.target in ids]
    markers = [t for t in spec["data"] if t["mode"] == "markers" and t.get("legendgroup") != "strata"]
    assert sum(len(t["x"]) for t in markers) == len(internal)
    # colours follow the strata
    for t in nodes:
        stratum = t["name"].split(" ")[0]
        assert t["marker"]["color"] == report._figures.STRATUM_COLOURS[stratum]


def test_network_samples_what_a_browser_cannot_draw(
    monkeypatch: pytest.MonkeyPatch, synthetic_eco: rf.Ecosystem
) -> None:
    monkeypatch.setattr(_sections, "NETWORK_NODES", 20)
    monkeypatch.setattr(_sections, "NETWORK_EDGES", 15)
    r = report.health_report(synthetic_eco, risk=False, plan=False)
    s = r.section("network")
    assert s.data["actors_drawn"] == 20
    assert s.data["exchanges_drawn"] <= 15
    assert any("the 20 largest by throughflow" in n for n in s.notes)


def test_money_layer_sections(synthetic_eco: rf.Ecosystem, synthetic: report.Report) -> None:
    io = synthetic.section("io")
    assert io.available
    from rainforest.analysis import io_tables

    fm = rf.FlowMatrix.from_ecosystem(synthetic_eco, "money")
    # output is each actor's declared revenue (every synthetic actor gives one), or its
    # recorded sales where they exceed it
    revenue = dict(zip(synthetic_eco.actor_ids, synthetic_eco.table("actors").numbers("size.revenue"), strict=True))
    recorded = np.asarray(fm.Z.sum(axis=1)).ravel() + fm.exports + fm.losses
    table = io_tables.io_table(fm, np.maximum([revenue[a] for a in fm.ids], recorded))
    assert io.data["output"] == dict(zip(table.ids, table.x.tolist(), strict=True))
    first = next(iter(io.data["extraction"]))
    assert io.data["extraction"][first] == pytest.approx(io_tables.hypothetical_extraction(table, [first])[first])
    risk = synthetic.section("risk")
    assert risk.data["measure"] == "esri"
    values = [v for _, v in risk.data["ranking"]]
    assert values == sorted(values, reverse=True)
    numbers = {n["key"]: n for n in synthetic.key_numbers}
    assert numbers["dependence"]["value"] == pytest.approx(values[0])


def test_exchanges_section_reports_the_plan(synthetic_eco: rf.Ecosystem, synthetic: report.Report) -> None:
    from rainforest.optimize import exchanges

    s = synthetic.section("exchanges")
    assert s.available
    plan = exchanges.plan(synthetic_eco)
    assert s.data["benefit"] == pytest.approx(plan.benefit)
    assert s.data["exchanges"] == len(plan.exchanges)
    assert any(t.title.startswith("The gain split") for t in s.tables)
    assert s.data["solve"]["status"] == "optimal"  # how far the plan is proven, wherever it is shown
    assert s.tables[0].note.startswith("MILP: optimal (proven gap 0.00%")


def test_radius_curve_never_falls_and_reaches_the_ecosystem(synthetic_eco: rf.Ecosystem) -> None:
    curve = report.radius_curve(synthetic_eco)
    assert curve["basis"] == "plan"
    benefits = curve["benefit"]
    assert all(b is not None for b in benefits)
    assert all(b2 >= b1 - 1e-6 for b1, b2 in itertools.pairwise(benefits))
    # the largest radius covers every candidate: cluster = ecosystem
    assert benefits[-1] == pytest.approx(curve["unlimited"]["benefit"])
    assert benefits[0] <= curve["unlimited"]["benefit"]


def test_radius_curve_of_existing_exchanges() -> None:
    eco = rf.Ecosystem(
        name="three sites",
        actors=[
            rf.Actor("a", location=rf.Location(55.0, 11.0)),
            rf.Actor("b", location=rf.Location(55.0, 11.1)),
            rf.Actor("c", location=rf.Location(56.0, 11.0)),
        ],
        resources=[rf.Resource("ash", "material", "t")],
        flows=[rf.Flow("a", "b", "ash", 30.0), rf.Flow("a", "c", "ash", 10.0)],
    )
    curve = report.radius_curve(eco, radii=[1.0, 10.0, 200.0])
    assert curve["basis"] == "existing"
    assert curve["share"] == [0.0, 0.75, 1.0]  # a-b is 6.4 km apart, a-c 111 km


def test_radius_curve_needs_locations() -> None:
    with pytest.raises(rf.RainforestError, match="no actor has a location"):
        report.radius_curve(rf.datasets.kalundborg())


def test_progress_is_reported_in_order() -> None:
    seen: list[tuple[int, int, str]] = []
    report.health_report(rf.datasets.kalundborg(), progress=lambda d, t, label: seen.append((d, t, label)))
    done = [d for d, _, _ in seen]
    assert done == sorted(done)
    assert seen[-1][0] == seen[-1][1]
    assert seen[0][2] == "positioning and systemic risk"


def test_html_is_self_contained(kalundborg: report.Report) -> None:
    html = kalundborg.to_html()
    assert html.startswith("<!doctype html>")
    assert "default-src 'none'" in html  # the page may not fetch anything
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?(https?:)?//", html)
    assert "Plotly.newPlot" in html
    specs = re.findall(r'<script type="application/json" id="spec-([\w-]+)">(.*?)</script>', html, re.S)
    figures = {f.id: f.spec for s in kalundborg.sections for f in s.figures}
    assert {sid for sid, _ in specs} == set(figures)
    for sid, text in specs:
        assert json.loads(text.replace("<\\/", "</")) == json.loads(report.to_json(figures[sid]))
    for s in kalundborg.sections:
        assert f'id="{s.id}"' in html
        if not s.available:
            assert "Not available for this ecosystem" in html


def test_to_dict_is_strict_json(synthetic: report.Report) -> None:
    text = json.dumps(synthetic.to_dict(), allow_nan=False)
    data = json.loads(text)
    assert [s["id"] for s in data["sections"]] == [
        "profile",
        "network",
        "metabolism",
        "ena",
        "io",
        "risk",
        "platform",  # the synthetic ecosystem declares modules: the platform pathway has a section
        "exchanges",
        "cluster",
        "unknowns",
    ]


def test_leader_rules() -> None:
    leader = report._leader
    assert leader(["A", "B"], [1.0, 2.0], "higher") == "B"
    assert leader(["A", "B"], [1.0, 2.0], "lower") == "A"
    assert leader(["A", "B"], [0.25, 0.40], "peak") == "B"  # |0.40 - 1/e| < |0.25 - 1/e|
    assert leader(["A", "B"], [1.0, 1.0], "higher") == "tie"
    assert leader(["A", "B"], [1.0, None], "higher") is None
    assert leader(["A", "B"], [1.0, 2.0], None) is None


def test_compare_two_ecosystems(synthetic_eco: rf.Ecosystem) -> None:
    rival = rf.datasets.synthetic(n_actors=70, mean_degree=2, rng=4)
    result = report.compare([synthetic_eco, rival], risk=False, plan=False)
    names = [r.ecosystem for r in result.reports]
    assert len(set(names)) == 2
    by_key = {i["key"]: i for i in result.indicators}
    a, b = by_key["exchanges"]["values"]
    assert by_key["exchanges"]["leader"] == (names[0] if a > b else names[1])
    leads = result.leads()
    assert sum(len(v) for v in leads.values()) == sum(1 for i in result.indicators if i["leader"] in names)
    assert result.cluster_figure() is not None
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["ecosystems"] == names
    html = result.to_html()
    assert "Who leads on what" in html


def test_compare_refuses_to_rank_different_currencies() -> None:
    water = rf.Ecosystem(
        name="water park",
        actors=[rf.Actor("a"), rf.Actor("b")],
        resources=[rf.Resource("w", "water", "m**3")],
        flows=[rf.Flow("a", "b", "w", 5.0)],
    )
    result = report.compare([rf.datasets.kalundborg(), water], risk=False, plan=False)
    exchanged = next(i for i in result.indicators if i["key"] == "exchanged")
    assert exchanged["leader"] is None
    assert "not comparable" in exchanged["note"]


def test_cli_report_writes_html_and_json(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(rf.datasets.path("kalundborg")), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists()
    assert out.stat().st_size < 20e6
    assert "report written to" in result.stdout
    assert "residues put to use" in result.stdout
    result = runner.invoke(app, ["report", str(rf.datasets.path("kalundborg")), "-o", str(out), "--json"])
    data = json.loads(result.stdout)
    assert data["output"] == str(out)
    assert next(n["key"] for n in data["key_numbers"]) == "exchanged"


def test_cli_report_of_a_bad_document_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: rainforest/1\nname: x\nactors: [{id: a}, {id: a}]\nresources: []\n")
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(bad), "-o", str(out)])
    assert result.exit_code == 2
    assert not out.exists()


def test_cli_compare_one_and_two(tmp_path: Path, synthetic_eco: rf.Ecosystem) -> None:
    a = rf.save(synthetic_eco, tmp_path / "a.yaml")
    b = rf.save(rf.datasets.synthetic(n_actors=60, mean_degree=2, rng=5), tmp_path / "b.yaml")
    out = tmp_path / "c.html"
    result = runner.invoke(app, ["compare", str(a), "-o", str(out), "--no-risk", "--no-plan", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["cluster"][0]["basis"] == "existing"  # --no-plan: today's exchanges, no plan per radius
    result = runner.invoke(app, ["compare", str(a), str(b), "-o", str(out), "--no-risk", "--no-plan"])
    assert result.exit_code == 0, result.output
    assert "side by side" in result.stdout
    assert "A: " in result.stdout
    assert "B: " in result.stdout
    assert out.exists()


def test_cli_demo_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "demo.html"
    park = tmp_path / "park.html"
    result = runner.invoke(app, ["demo", "-o", str(out), "--park-output", str(park)])
    assert result.exit_code == 0, result.output
    assert out.exists()
    assert park.exists()  # the second pathway: a new park's plan
    assert "the five numbers that matter" in result.stdout
    assert "what its optimal exchange plan can do" in result.stdout
    assert "health report written to" in result.stdout
    data = json.loads(runner.invoke(app, ["demo", "-o", str(out), "--park-output", str(park), "--json"]).stdout)
    assert data["report"] == str(out)
    assert len(data["key_numbers"]) == 5
    assert all(n["value"] is None or math.isfinite(n["value"]) for n in data["key_numbers"])
    assert data["park"]["pathway"] == "plan"
    assert [n["key"] for n in data["park"]["key_numbers"]][:2] == ["candidates", "benefit"]
    assert all(n["value"] is not None for n in data["park"]["key_numbers"])


def test_format_numbers() -> None:
    fmt = _sections.fmt
    assert fmt(1_519_000, "t") == "1.52 million t"
    assert fmt(9100.4) == "9,100"
    assert fmt(12.345) == "12.3"
    assert fmt(-4.8e-17) == "0"
    assert fmt(float("nan")) == "n/a"
    assert fmt(None) == "n/a"
    assert _sections.pct(0.1234) == "12.3%"


def test_sankey_by_inferred_strata() -> None:
    eco = rf.datasets.kalundborg()
    strata = {a.actor: a.stratum for a in positioning.position(eco, risk=False).actors}
    plain = metabolism.sankey(eco, by="stratum")
    assert plain["nodes"] == ["unknown"]
    inferred = metabolism.sankey(eco, by="stratum", strata=strata)
    # the four firms with a published head count get a stratum; the six others stay unknown
    assert inferred["nodes"] == ["canopy", "understory", "unknown"]
    assert sum(lk["value"] for lk in inferred["links"]) == pytest.approx(sum(lk["value"] for lk in plain["links"]))
    assert np.isclose(sum(lk["value"] for lk in inferred["links"]), 1_519_000)
