"""Issue 16 (honest headlines): every number a park manager reads means what its label says.

Each test reproduces one misleading statement the issue reported and checks it is gone at
its source (the analysis), so the CLI, the report and the workbench agree.
"""

from __future__ import annotations

import json
import re

import pytest

import rainforest as rf
from rainforest import assessment, report

PARK = "docs/examples/park.yaml"


@pytest.fixture(scope="module")
def park() -> rf.Ecosystem:
    return rf.load(PARK)


def test_cluster_curve_ends_at_the_plan_without_a_limit(park: rf.Ecosystem) -> None:
    """The last radius is the largest offer-need distance, not that distance rounded down
    (which left the farthest candidate out: 13.8 million against 15 million)."""
    curve = report.radius_curve(park)
    assert curve["benefit"][-1] == pytest.approx(curve["unlimited"]["benefit"])
    located = {a.id: a.location for a in park.actors if a.location is not None}
    assert curve["radius_km"][-1] == pytest.approx(max(assessment._offer_need_distances(park, located)))


THIN = """
format: rainforest/1
name: Five-firm park
actors:
  - {id: power, sector: "35.11", size: {revenue: 120000000}}
  - {id: cement, sector: "23.51", size: {revenue: 60000000}}
  - {id: board, sector: "23.62", size: {revenue: 30000000}}
  - {id: brewery, sector: "11.05", size: {revenue: 15000000}}
  - {id: farm, sector: "01.46", size: {revenue: 5000000}}
resources:
  - {id: fly_ash, kind: material, unit: t, price: 40}
  - {id: gypsum, kind: material, unit: t, price: 25}
  - {id: spent_grain, kind: material, unit: t, price: 180}
  - {id: steam, kind: energy, unit: MWh, price: 30}
flows:
  - {from: power, to: cement, resource: fly_ash, quantity: 90000, kind: by-product}
  - {from: power, to: board, resource: gypsum, quantity: 150000, kind: by-product}
  - {from: brewery, to: farm, resource: spent_grain, quantity: 6000, kind: by-product}
  - {from: power, to: brewery, resource: steam, quantity: 300000}
"""


@pytest.fixture(scope="module")
def thin_report(tmp_path_factory: pytest.TempPathFactory) -> report.Report:
    path = tmp_path_factory.mktemp("thin") / "thin.yaml"
    path.write_text(THIN, encoding="utf-8")
    return report.health_report(rf.load(path), plan=False)


def test_thin_park_uses_the_declared_revenue_as_output(thin_report: report.Report) -> None:
    """Issue 16, item 3: 'total output 17.4 million' (recorded sales between members) while
    the actors declare 230 million of revenue; every actor, also those that sell nothing,
    '100% of output lost if it leaves'."""
    io = thin_report.section("io")
    assert io.available
    assert io.data["total_output"] == pytest.approx(230e6)
    assert io.data["output"]["cement"] == pytest.approx(60e6)
    shares = {a: v / io.data["total_output"] for a, v in io.data["extraction"].items()}
    assert max(shares.values()) < 1.0
    # cement sells nothing to members: what leaves with it is its own revenue and what it buys
    assert shares["cement"] == pytest.approx((60e6 + 90_000 * 40) / 230e6)


def test_thin_park_unknowns_name_what_is_really_missing(thin_report: report.Report) -> None:
    what = [u["what"] for u in thin_report.section("unknowns").data["unknowns"]]
    assert not any(w.startswith("revenue of") for w in what), what
    assert any("direct material input" in w for w in what)
    assert any("input costs" in w for w in what)  # the ESRI cascade's blind spot is named
    dependence = next(n for n in thin_report.key_numbers if n["key"] == "dependence")
    assert "ecosystem's output" not in dependence["meaning"]


def test_io_without_any_sale_outside_shows_no_number(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Without revenue or sales to world the final demand is zero: no multipliers, a reason."""
    path = tmp_path / "closed.yaml"
    path.write_text(THIN.replace("size: {revenue: ", "x_size: {r: "), encoding="utf-8")
    r = report.health_report(rf.load(path), plan=False, risk=False)
    io = r.section("io")
    assert not io.available
    assert "size.revenue" in io.reason
    assert "world" in io.reason
    assert not io.numbers
    assert not io.tables


def test_multipliers_are_summarised_by_median_and_range() -> None:
    """Issue 16, item 6: a mean of skewed multipliers (14.1 with median 3.6, max 212)."""
    from rainforest.analysis import io_tables

    values = {f"a{k}": v for k, v in enumerate([1.0, 1.2, 2.0, 3.0, 3.6, 3.6, 4.0, 5.0, 6.0, 212.0])}
    s = io_tables.multiplier_summary(values)
    assert s["median"] == pytest.approx(3.6)
    assert s["p90"] < 212.0 < s["mean"] * 10
    assert s["top"][0] == ("a9", 212.0)


def test_report_multiplier_number_is_the_median(thin_report: report.Report) -> None:
    from rainforest.analysis import io_tables

    io = thin_report.section("io")
    [number] = [n for n in io.numbers if "multiplier" in n["label"]]
    assert "median" in number["label"]
    assert "mean" not in number["label"]
    assert number["value"].startswith(f"{io.data['multipliers']['median']:.3g} (10-90%")
    assert io.data["multipliers"]["top"][0][0] in number["meaning"]
    assert any(t.startswith("Reading the multiplier") for t in io.text)
    assert io_tables.multiplier_summary  # the summary comes from the analysis, not the report


@pytest.fixture(scope="module")
def park_vs_synthetic(park: rf.Ecosystem) -> report.Comparison:
    synthetic = rf.datasets.synthetic(n_actors=40, mean_degree=3, rng=3)
    return report.compare([park, synthetic], plan=False)


def test_a_side_without_the_data_never_leads(park_vs_synthetic: report.Comparison) -> None:
    """Issue 16, item 5: the park (no flows) 'led' on the largest actor's share with 0.0%,
    and its n/a values were explained as 'different currencies'."""
    park_name = park_vs_synthetic.reports[0].ecosystem
    for ind in park_vs_synthetic.indicators:
        if ind["key"] in ("actors", "exchanges"):
            continue
        assert ind["values"][0] is None, ind["key"]
        assert ind["leader"] != park_name
        assert ind["reasons"][0], ind["key"]
        assert "currencies" not in ind["note"]
    share = next(i for i in park_vs_synthetic.indicators if i["key"] == "largest_throughflow_share")
    assert "no exchange is recorded" in share["reasons"][0]
    residues = next(i for i in park_vs_synthetic.indicators if i["key"] == "residues")
    assert "by-products" not in residues["reasons"][0]  # a reason, not the definition


def test_no_plan_is_obeyed_by_the_cluster_curve(park_vs_synthetic: report.Comparison) -> None:
    park_report, synthetic_report = park_vs_synthetic.reports
    assert not park_report.section("cluster").available
    assert "not asked for" in park_report.section("cluster").reason
    assert synthetic_report.section("cluster").data["basis"] == "existing"


def test_simulation_states_its_assumptions_and_units() -> None:
    """Issue 16, item 10: simulating Kalundborg (no prices, no revenue) reported 'value_added
    2.76 million' with no word on where the sizes, hazards and growth came from."""
    from rainforest.simulate import scenario

    ens = scenario.monte_carlo(rf.datasets.kalundborg(), periods=4, runs=2, rng=1)
    s = ens.summary()
    quantities = [a["quantity"] for a in s["assumptions"]]
    for needed in ("actor sizes", "strata", "ages", "exit and founding hazards", "growth rates"):
        assert needed in quantities
    assert s["units"]["value_added"] == "relative to period 1"
    raw = ens.metric("value_added")
    assert s["final"]["value_added"]["mean"] == pytest.approx(float((raw[:, -1] / raw[:, 0].mean()).mean()))
    assert "benefit" not in s["final"]  # no prices, no disposal costs: not money, not reported
    assert all(s["meanings"].get(m) for m in s["final"]), [m for m in s["final"] if not s["meanings"].get(m)]
    page = report.simulation_page([ens], "Kalundborg")
    assert "Assumptions" in page
    assert "exit and founding hazards" in page
    assert "relative to period 1" in page


def test_simulation_in_money_when_the_document_has_money() -> None:
    from rainforest import simulate

    eco = rf.datasets.synthetic(n_actors=40, rng=2)
    result = simulate.Model(eco, rng=3).run(3)
    s = result.summary()
    assert s["units"]["value_added"] == "EUR"
    assert s["final"]["value_added"] == pytest.approx(float(result.series["value_added"][-1]))
    assert "actor sizes" not in [a["quantity"] for a in s["assumptions"]]  # every actor gives its revenue
    assert s["meanings"]["survival"].startswith("Share of the period-0 actors")


def test_cli_simulate_lists_the_assumptions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from rainforest.cli import app

    doc = rf.save(rf.datasets.kalundborg(), tmp_path / "k.yaml")
    result = CliRunner().invoke(app, ["simulate", str(doc), "--periods", "3", "-o", str(tmp_path / "sim")])
    assert result.exit_code == 0, result.output
    assert "Assumed" in result.stdout
    assert "growth rates" in result.stdout
    assert re.search(r"value_added\s*│\s*[0-9.]+x", result.stdout)  # a multiple of period 1, not money
    summary = json.loads((tmp_path / "sim" / "summary.json").read_text(encoding="utf-8"))
    assert summary["assumptions"]


# -- item 8: the interface's own words ---------------------------------------------------------------
PYTHON_WORDS = re.compile(r"\b\w+=(True|False)\b|\b(resource|kind|currency|property)=(?=[ ,]|$)|dense_limit")


def _cli(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from rainforest.cli import app

    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "80"})
    return result.exit_code, result.output


def test_cli_messages_name_cli_options(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 16, item 8: 'pass eigen_check=False', 'valued=True', 'a resource= or a kind='."""
    path = tmp_path / "thin.yaml"
    path.write_text(THIN, encoding="utf-8")
    code, printed = _cli("ena", str(path))
    assert code != 0
    assert "--resource or --kind" in printed
    code, printed = _cli("position", "docs/examples/supply_chain.yaml")
    assert code == 0, printed
    assert "eigenvalue of Q" in printed  # the note is there, in the CLI's words
    assert not PYTHON_WORDS.search(printed), printed


def test_page_words_name_no_keyword_arguments() -> None:
    from rainforest.errors import in_words_of

    for message in (
        "no resource of kind money; pass valued=True (CLI: --valued) to value flows at prices",
        "so M = (I - Q)^-1 - I is not their sum (enaR returns NA here). Pass eigen_check=False to compute M anyway.",
        "the document has 4 resources; choose a currency ('mass', 'energy', 'water', 'money'), a resource= or a kind=",
        "Pass force_dense=True (CLI: --force-dense) to compute it anyway, or raise dense_limit.",
        "left out: 3,000 nodes is above the dense limit of 2,000 (force_dense=True computes it)",
    ):
        for interface in ("cli", "page"):
            assert not PYTHON_WORDS.search(in_words_of(message, interface)), (interface, message)
        assert "CLI" not in in_words_of(message, "cli")


def test_report_says_no_python_option() -> None:
    r = report.health_report(rf.load("docs/examples/supply_chain.yaml"), plan=False)
    text = json.dumps(r.to_dict()["sections"])
    assert not PYTHON_WORDS.search(text)


def test_risk_without_money_values_flows_at_prices(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "thin.yaml"
    path.write_text(THIN, encoding="utf-8")
    code, printed = _cli("risk", str(path))
    assert code == 0, printed
    assert "valued at" in printed
    assert "power" in printed


def test_cli_numbers_units_and_80_columns() -> None:
    from rainforest.cli.app import number

    assert number(14_997_224.3, "EUR") == "14,997,200 EUR"
    assert number(80_069.6, "t") == "80,070 t"
    assert number(68.7712) == "68.77"
    code, printed = _cli("match", PARK)
    assert code == 0, printed
    assert "e+0" not in printed
    assert "m**3" not in printed
    assert "m³" in printed
    assert "14,997,200" in printed
    assert "kg CO2e" not in printed  # t only: never kg and t on one screen
    code, printed = _cli("position", "docs/examples/supply_chain.yaml")
    table = [line for line in printed.splitlines() if line.startswith(("┏", "┃", "│", "└"))]
    assert max(len(line) for line in table) <= 80
    assert "irreplace-" in printed
    assert "…" not in printed  # nothing cut


def test_inputs_people_write_get_a_hint(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "hints.yaml"
    path.write_text(
        """format: rainforest/1
name: hints
actors:
  - {id: a, size: {revenue: 120e6}}
  - {id: b}
resources:
  - {id: water, kind: water, unit: m3}
  - {id: ash, kind: material, unit: t}
flows:
  - {from: a, to: b, resource: ash, quantity: 300 kt}
""",
        encoding="utf-8",
    )
    with pytest.raises(rf.DocumentError) as caught:
        rf.load(path)
    hints = {i.path: i.hint or "" for i in caught.value.issues}
    assert "write 120000000" in hints["actors[0].size.revenue"]
    assert "m**3" in hints["resources[0].unit"]
    assert "unit: kt" in hints["flows[0].quantity"]


# -- item 9: the first report of a new park ----------------------------------------------------------
def test_new_park_report_leads_with_what_can_be_done(park: rf.Ecosystem) -> None:
    """Issue 16, item 9: park.yaml (offers and needs, no flows) showed five n/a tiles, every
    firm as 'moss / consumer' and an empty network."""
    from rainforest.optimize import exchanges

    r = report.health_report(park)
    assert r.facts["pathway"] == "plan"
    numbers = {n["key"]: n for n in r.key_numbers}
    assert list(numbers) == ["candidates", "benefit", "co2e", "disposal", "split"]
    assert all(n["value"] is not None for n in numbers.values())
    plan = exchanges.plan(park)
    assert numbers["benefit"]["value"] == pytest.approx(plan.benefit)
    assert numbers["candidates"]["value"] == len(exchanges.candidates(park))
    assert numbers["co2e"]["value"] == pytest.approx(exchanges.impacts(park, plan)["total"]["co2e_avoided_kg"] / 1000)
    assert [s.id for s in r.sections][:2] == ["exchanges", "cluster"]
    assert "cycling (Finn index)" in r.facts["after_flows"]
    assert not r.section("network").available
    assert not r.section("risk").available  # no 'consumer' role read off flows that do not exist
    assert "recorded yet" in r.section("io").reason
    assert not r.section("profile").available  # not six 'moss' firms: nothing places them yet
    assert "recorded yet" in r.section("metabolism").reason
    html = r.to_html()
    assert "What this park can do" in html
    assert "Once exchanges are recorded" in html
    # read as a reader: one unit of CO2e on the page, quantities with their units, no 'money' unit
    assert "kg CO2e" not in html
    assert "500,000 m³" in html
    assert "money per" not in html


def test_existing_ecosystem_keeps_its_five_numbers() -> None:
    r = report.health_report(rf.datasets.kalundborg(), risk=False, plan=False)
    assert r.facts["pathway"] == "existing"
    assert [n["key"] for n in r.key_numbers] == ["exchanged", "residues", "cycling", "robustness", "dependence"]


def test_bundled_park_is_the_documented_park() -> None:
    from pathlib import Path

    assert rf.datasets.path("park").read_text(encoding="utf-8") == Path(PARK).read_text(encoding="utf-8")
