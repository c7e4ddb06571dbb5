"""rainforest.assess: every analysis of the report in one typed, frozen result, and the
to_dict / to_frame of every result type."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rainforest as rf
from rainforest import report
from rainforest.analysis import cascade, ena, io_tables, metabolism, mrio, positioning, structure
from rainforest.assessment import (
    Assessment,
    ClusterCurve,
    ExchangePlan,
    InputOutput,
    KeyNumber,
    Metabolism,
    NetworkAnalysis,
    Unavailable,
    assess,
)
from rainforest.optimize import exchanges
from strategies import ecosystems

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"

BARE = """
format: rainforest/1
name: Bare park
actors:
  - {id: mill}
  - {id: farm}
resources:
  - {id: ash, kind: material, unit: t}
"""


def _json_round_trip(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` survives strict JSON (no NaN, no numpy) unchanged."""
    text = json.dumps(data, allow_nan=False)
    back: dict[str, Any] = json.loads(text)
    assert back == data
    return back


@pytest.fixture(scope="module")
def kalundborg() -> Assessment:
    return assess(rf.datasets.kalundborg(), risk=False, plan=False)


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Assessment:
    path = tmp_path_factory.mktemp("bare") / "bare.yaml"
    path.write_text(BARE, encoding="utf-8")
    return assess(rf.load(path))


@pytest.fixture(scope="module")
def towns() -> Assessment:
    return assess(rf.load(EXAMPLES / "two_towns.yaml"), plan=False)


@pytest.fixture(scope="module")
def park() -> Assessment:
    return assess(rf.load(EXAMPLES / "park.yaml"))


def test_the_names_are_public() -> None:
    assert rf.assess is assess
    assert rf.Assessment is Assessment
    assert rf.Unavailable is Unavailable


def test_each_analysis_has_a_typed_field(kalundborg: Assessment) -> None:
    a = kalundborg
    assert isinstance(a.positioning, positioning.Positioning)
    assert isinstance(a.structure, structure.NetworkStructure)
    assert isinstance(a.metabolism, Metabolism)
    assert isinstance(a.ena, NetworkAnalysis)
    assert isinstance(a.ena.result, ena.ENA)
    assert a.io == Unavailable("no resource has a price and none is of kind money; money flows cannot be valued")
    assert a.regions == Unavailable("no actor gives its region")
    assert a.plan == Unavailable("the exchange plan was not asked for")
    assert isinstance(a.cluster, ClusterCurve | Unavailable)
    assert a.pathway == "existing"
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.io = Unavailable("x")  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.io.reason = "x"  # type: ignore[misc]


def test_thin_data_says_why_each_analysis_is_unavailable(bare: Assessment) -> None:
    """A document without flows: every flow-based analysis says why, no number is made up."""
    a = bare
    recorded = "no exchange between actors is recorded yet"
    assert a.metabolism == Unavailable(recorded)
    assert a.ena == Unavailable(recorded)
    assert isinstance(a.io, Unavailable)
    assert a.io.reason
    assert isinstance(a.plan, Unavailable)
    assert "0 offer(s) and 0 need(s)" in a.plan.reason
    assert a.cluster == Unavailable("no actor has a location, so no distance between partners is known")
    assert a.layer is None
    numbers = a.key_numbers()
    assert [n.key for n in numbers] == ["exchanged", "residues", "cycling", "robustness", "dependence"]
    for n in numbers:
        assert n.value is None
        assert n.display == "n/a"
        assert n.reason == n.meaning
        assert n.reason
    data = _json_round_trip(a.to_dict())
    assert data["ena"] == {"available": False, "reason": recorded}
    assert all(n["value"] is None for n in data["key_numbers"])


@pytest.mark.parametrize(
    "document",
    ["kalundborg", "park", "thin", "two_towns", "supply_chain", "bare"],
)
def test_key_numbers_agree_with_the_reports_headline(document: str, tmp_path: Path) -> None:
    """The headline of the report is the assessment's key numbers, in the words of a page."""
    if document == "kalundborg":
        eco = rf.datasets.kalundborg()
    elif document == "park":
        eco = rf.datasets.park()
    elif document == "thin":
        from test_headlines import THIN

        (tmp_path / "thin.yaml").write_text(THIN, encoding="utf-8")
        eco = rf.load(tmp_path / "thin.yaml")
    elif document == "bare":
        (tmp_path / "bare.yaml").write_text(BARE, encoding="utf-8")
        eco = rf.load(tmp_path / "bare.yaml")
    else:
        eco = rf.load(EXAMPLES / f"{document}.yaml")
    r = report.health_report(eco, risk=False)
    numbers = assess(eco, risk=False).key_numbers("page")
    assert len(numbers) == 5
    for n, shown in zip(numbers, r.key_numbers, strict=True):
        assert (n.key, n.label, n.display, n.meaning) == (
            shown["key"],
            shown["label"],
            shown["display"],
            shown["meaning"],
        )
        assert n.value == shown["value"] or (n.value is not None and n.value == pytest.approx(shown["value"]))
    for n in numbers:
        if n.value is None:
            assert n.display == "n/a"
            assert n.reason
        else:
            assert math.isfinite(n.value)
            assert not n.reason


def test_key_numbers_carry_their_units(kalundborg: Assessment, park: Assessment) -> None:
    units = {n.key: n.unit for n in kalundborg.key_numbers()}
    assert units["exchanged"] == units["residues"] == f"{kalundborg.unit} per {kalundborg.ecosystem.period}"
    assert units["cycling"] == units["dependence"] == "share"
    plan = {n.key: n for n in park.key_numbers()}
    assert plan["co2e"].unit == "t CO2e per year"
    assert plan["benefit"].value == pytest.approx(park.plan.plan.benefit)  # type: ignore[union-attr]
    assert isinstance(plan["split"], KeyNumber)


def test_the_report_renders_a_given_assessment(towns: Assessment) -> None:
    """health_report takes the assessment and computes nothing again: the same report."""
    eco = towns.ecosystem
    direct = report.health_report(eco, plan=False).to_dict()
    given = report.health_report(towns).to_dict()
    assert given == direct


def test_assessment_to_dict_is_plain_json(towns: Assessment) -> None:
    data = _json_round_trip(towns.to_dict())
    assert data["pathway"] == "existing"
    assert data["regions"]["regions"] == ["north", "south"]
    assert data["io"]["revenue_given"] == 0
    assert [n["key"] for n in data["key_numbers"]][:2] == ["exchanged", "residues"]


# -- every result type: to_dict (strict JSON) and to_frame (pandas) ---------------------------------
def test_plan_and_exchange_plan_round_trip(park: Assessment) -> None:
    assert isinstance(park.plan, ExchangePlan)
    plan = park.plan.plan
    data = _json_round_trip(plan.to_dict())
    assert data["objective"] == pytest.approx(plan.value)
    assert data["objective_name"] == "benefit"
    assert [tuple(e.values()) for e in data["exchanges"]] == [
        (e.source, e.target, e.resource, e.quantity, e.benefit) for e in plan.exchanges
    ]
    assert data["solve"]["text"] == plan.describe()
    frame = plan.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert frame["quantity"].tolist() == [e.quantity for e in plan.exchanges]
    assert frame["co2e_avoided"].tolist() == [e.co2e_avoided for e in plan.exchanges]
    # the plan's JSON reads back as a previous plan
    assert exchanges.diff(data, plan).same

    full = _json_round_trip(park.plan.to_dict())
    assert {k: v for k, v in full.items() if k in data} == data
    assert sum(full["sharing"].values()) == pytest.approx(plan.benefit, rel=1e-9)
    assert full["candidates"] == park.plan.candidates
    assert full["impacts"]["co2e_avoided_kg"] == pytest.approx(sum(e.co2e_avoided for e in plan.exchanges))
    assert len(full["exchange_impacts"]) == len(plan.exchanges)
    wide = park.plan.to_frame()
    assert wide["disposal_diverted_t"].sum() == pytest.approx(full["impacts"]["disposal_diverted_t"])


def test_exchange_plan_without_sharing_says_why() -> None:
    eco = rf.datasets.park()
    plan = exchanges.plan(eco)
    data = _json_round_trip(ExchangePlan.of(eco, plan, share=False).to_dict())
    assert data["sharing"] is None
    assert data["in_core"] is None
    assert data["sharing_reason"] == "the split of the gain was not asked for"
    shared = ExchangePlan.of(eco, plan).to_dict()
    assert shared["sharing"] == pytest.approx(exchanges.share_gains(eco, plan)["allocation"])


def test_cli_match_json_is_the_exchange_plan_shape() -> None:
    """The one shape of a plan: what ``match --json`` prints is ExchangePlan.to_dict(), and
    the keys the CLI always printed are still there."""
    from typer.testing import CliRunner

    from rainforest.cli.app import app

    result = CliRunner().invoke(app, ["match", str(EXAMPLES / "park.yaml"), "--json"])
    assert result.exit_code == 0, result.stdout
    printed = json.loads(result.stdout)
    eco = rf.load(EXAMPLES / "park.yaml")
    expected = ExchangePlan.of(eco, exchanges.plan(eco)).to_dict()
    for data in (printed, expected):  # how long the solve took differs from run to run
        del data["solve"]["time_s"], data["solve"]["text"]
    assert printed == expected
    for key in ("objective", "exchanges", "virgin", "discharge", "impacts", "sharing", "in_core", "benefit", "gap"):
        assert key in printed


def test_ena_result_round_trip(kalundborg: Assessment) -> None:
    assert isinstance(kalundborg.ena, NetworkAnalysis)
    result = kalundborg.ena.result
    data = _json_round_trip(kalundborg.ena.to_dict())
    assert data["flow"]["FCI"] == pytest.approx(result.flow["FCI"])
    assert data["balance"] == kalundborg.ena.balance
    assert data["window"]["robustness"] == pytest.approx(kalundborg.ena.window["robustness"])
    frame = kalundborg.ena.to_frame()
    fci = frame[(frame["section"] == "flow") & (frame["name"] == "FCI")]["value"].item()
    assert fci == pytest.approx(result.flow["FCI"])


def test_metabolism_round_trip(kalundborg: Assessment) -> None:
    m = kalundborg.metabolism
    assert isinstance(m, Metabolism)
    data = _json_round_trip(m.to_dict())
    assert data["circularity"]["landfill_diverted"] == pytest.approx(m.circularity["landfill_diverted"])
    frame = m.to_frame()
    row = frame[(frame["group"] == "accounts") & (frame["name"] == "internal")]
    assert row["value"].item() == pytest.approx(m.accounts["internal"])
    unknown = frame[frame["value"].isna()]
    assert (unknown["reason"] != "").all()  # every n/a says why


def test_balance_and_reconciliation_round_trip() -> None:
    from test_metabolism import plant

    eco = plant(mid=2.0, out=2.0)
    balance = metabolism.balances(eco, "ore")
    data = _json_round_trip(balance.to_dict())
    assert data["actors"]["b"]["imbalance"] == pytest.approx(2.0)
    assert balance.to_frame().loc["b", "ok"] == bool(balance.ok[1])
    recon = metabolism.reconcile(eco, "ore")
    rdata = _json_round_trip(recon.to_dict())
    assert [f["flow"] for f in rdata["flows"]] == list(recon.flows)
    np.testing.assert_allclose(recon.to_frame()["reconciled"].to_numpy(), recon.reconciled)
    a = assess(eco, risk=False, plan=False)
    assert isinstance(a.metabolism, Metabolism)
    assert set(a.metabolism.reconciliation) == {"ore"}


def test_positioning_and_structure_round_trip(kalundborg: Assessment) -> None:
    pos = kalundborg.positioning
    _json_round_trip(pos.to_dict())
    frame = pos.to_frame()
    assert list(frame.index) == [a.actor for a in pos.actors]
    assert frame["stratum"].tolist() == [a.stratum for a in pos.actors]
    s = kalundborg.structure
    _json_round_trip(s.to_dict())
    values = dict(zip(s.to_frame()["name"], s.to_frame()["value"], strict=True))
    assert values["links"] == s.links
    assert values["cycles"] == len(s.cycles)


def test_risk_results_round_trip(towns: Assessment) -> None:
    eco = towns.ecosystem
    profile = cascade.esri(eco, valued=True)
    _json_round_trip(profile.to_dict())
    frame = profile.to_frame()
    assert list(frame.index) == list(profile.labels)
    np.testing.assert_allclose(frame["esri"].to_numpy(), profile.esri)
    one = cascade.cascade(eco, {"mill": 1.0}, valued=True)
    data = _json_round_trip(one.to_dict())
    assert data["losses"] == dict(zip(one.actors, one.to_frame()["loss"].tolist(), strict=True))


def test_io_results_round_trip(towns: Assessment) -> None:
    io = towns.io
    assert isinstance(io, InputOutput)
    data = _json_round_trip(io.to_dict())
    assert data["table"]["ids"] == list(io.table.ids)
    assert sum(v for _, _, v in data["table"]["Z"]) == pytest.approx(float(io.table.Z.sum()))
    frame = io.to_frame()
    np.testing.assert_allclose(frame["output"].to_numpy(), io.table.x)
    assert frame.loc["mill", "output_multiplier"] == pytest.approx(io.multipliers["mill"])
    _json_round_trip(io.table.to_dict())
    assert isinstance(io.table, io_tables.IOTable)

    system = towns.regions
    assert isinstance(system, mrio.IOSystem)
    _json_round_trip(system.to_dict())
    frame = system.to_frame()
    assert frame["value_added"].groupby(level="region").sum().tolist() == pytest.approx([80.0, 70.0])
    acc = system.accounts("emissions")
    _json_round_trip(acc.to_dict())
    caused = acc.to_frame().set_index("region")["caused"]
    assert caused.tolist() == pytest.approx([8.82 / 0.94, 5.28 / 0.94])


def test_cluster_curve_round_trip(park: Assessment) -> None:
    curve = park.cluster
    assert isinstance(curve, ClusterCurve)
    data = _json_round_trip(curve.to_dict())
    assert data["basis"] == "plan"
    frame = curve.to_frame()
    assert list(frame.index) == data["radius_km"]
    assert frame["benefit"].iloc[-1] == pytest.approx(data["unlimited"]["benefit"])


def test_unavailable_and_key_number_to_dict() -> None:
    assert _json_round_trip(Unavailable("why").to_dict()) == {"available": False, "reason": "why"}
    n = KeyNumber("k", "label", math.nan, "t", "n/a", "not finite")
    assert _json_round_trip(n.to_dict())["value"] is None


def test_network_figure_is_the_reports_picture(kalundborg: Assessment) -> None:
    """The workbench's overview picture without the rest of the report: the same figure the
    report's network section draws (what web.jobs.network_figure reads off a report)."""
    r = report.health_report(kalundborg)
    drawn = next(s for s in r.sections if s.id == "network").to_dict()["figures"][0]
    assert report.network_figure(kalundborg) == json.loads(report.to_json(drawn))


def test_network_figure_without_exchanges_is_none(bare: Assessment) -> None:
    assert report.network_figure(bare) is None


def test_the_cluster_curve_can_be_left_out() -> None:
    a = assess(rf.datasets.park(), risk=False, cluster=False)
    assert a.cluster == Unavailable("the cluster-against-ecosystem curve was not asked for")
    assert [n.key for n in a.key_numbers()] == ["candidates", "benefit", "co2e", "disposal", "split"]


def test_target_round_trip() -> None:
    from rainforest.optimize import targeting

    eco = rf.load(EXAMPLES / "wang_smith_1994.yaml")
    t = targeting.target(eco, "water")
    data = _json_round_trip(t.to_dict())
    assert data["virgin"] == pytest.approx(90.0)
    frame = t.to_frame()
    assert list(frame.columns) == list(t.cascade)
    assert len(frame) == len(next(iter(t.cascade.values())))


def test_systemic_risk_ranks_by_esri_where_money_allows(
    kalundborg: Assessment, towns: Assessment, bare: Assessment
) -> None:
    from rainforest.assessment import SystemicRisk

    risk = towns.systemic_risk
    assert isinstance(risk, SystemicRisk)
    assert risk.measure == "esri"
    assert risk.esri_reason == ""
    dependence = next(n for n in towns.key_numbers() if n.key == "dependence")
    assert max(risk.values.values()) == pytest.approx(dependence.value)
    data = _json_round_trip(risk.to_dict())
    assert [actor for actor, _ in data["ranking"]] == list(risk.values)
    assert risk.to_frame()["esri"].is_monotonic_decreasing
    unasked = kalundborg.systemic_risk
    assert isinstance(unasked, SystemicRisk)
    assert unasked.measure != "esri"
    assert unasked.esri_reason == "the ESRI cascades were not asked for"
    assert isinstance(bare.systemic_risk, Unavailable)
    assert "no exchange between actors is recorded yet" in bare.systemic_risk.reason


@st.composite
def parks(draw: st.DrawFn) -> rf.Ecosystem:
    """Well-formed parks: 2-6 actors (some with a region, a revenue), residues exchanged
    between distinct actors, boundary flows or none, priced or not. The property below also
    runs on tests/strategies.py's documents of every shape (self-loops, zero and tiny
    quantities, actors without exchanges)."""
    n = draw(st.integers(2, 6))
    ids = [f"a{k}" for k in range(n)]
    amounts = st.floats(1.0, 1e6)
    actors = [
        rf.Actor(
            a,
            region=draw(st.sampled_from([None, "north", "south"])),
            size=rf.Size(revenue=draw(amounts)) if draw(st.booleans()) else None,
        )
        for a in ids
    ]
    price = draw(st.sampled_from([None, 40.0]))
    resources = [rf.Resource("ash", "material", "t", price=price), rf.Resource("steam", "energy", "MWh")]
    pairs = draw(
        st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)).filter(lambda p: p[0] != p[1]), max_size=8)
    )
    flows = [rf.Flow(a, b, draw(st.sampled_from(["ash", "steam"])), draw(amounts)) for a, b in pairs]
    for a in draw(st.lists(st.sampled_from(ids), max_size=3, unique=True)):
        flows.append(rf.Flow("environment", a, "ash", draw(amounts)))
        flows.append(rf.Flow(a, draw(st.sampled_from(["world", "environment"])), "ash", draw(amounts)))
    return rf.Ecosystem(name="park", actors=actors, resources=resources, flows=flows)


@given(parks(), st.booleans())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_park_is_assessed_with_reasons(eco: rf.Ecosystem, risk: bool) -> None:
    """Whatever the park records: every field is a result or Unavailable with a reason, the
    whole assessment is strict JSON, and a key number is n/a only with a reason."""
    a = assess(eco, risk=risk, plan=False)
    for name in ("systemic_risk", "metabolism", "ena", "io", "regions", "plan", "cluster"):
        value = getattr(a, name)
        if isinstance(value, Unavailable):
            assert value.reason
        else:
            assert hasattr(value, "to_dict")
            assert hasattr(value, "to_frame")
    json.dumps(a.to_dict(), allow_nan=False)
    for n in a.key_numbers():
        assert (n.value is None) == (n.display == "n/a")
        assert n.meaning


@given(ecosystems(), st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_document_is_assessed_without_a_crash_or_a_warning(eco: rf.Ecosystem, risk: bool) -> None:
    """On tests/strategies.py's documents of every shape (self-loops, zero and tiny
    quantities and uncertainties, negative prices, actors without exchanges): no error but a
    RainforestError and no warning (warnings are errors under pytest), every field a result
    or Unavailable with a reason, strict JSON, and a key number n/a only with its reason."""
    try:
        a = assess(eco, risk=risk, plan=False)
    except rf.RainforestError:
        return
    for name in ("systemic_risk", "metabolism", "ena", "io", "regions", "plan", "cluster"):
        value = getattr(a, name)
        assert not isinstance(value, Unavailable) or value.reason
    json.dumps(a.to_dict(), allow_nan=False)
    for n in a.key_numbers():
        assert (n.value is None) == (n.display == "n/a")
        assert n.meaning


def test_a_negative_price_leaves_out_the_keystone_index_with_the_reason() -> None:
    """ESRI cascades need weights >= 0: a residue sold at a negative price (a gate fee) gives
    no keystone index, with the reason among the positioning notes, not an error out of assess."""
    eco = rf.Ecosystem(
        name="gate fee",
        actors=[rf.Actor("mill"), rf.Actor("farm")],
        resources=[rf.Resource("ash", "material", "t", price=-5.0)],
        flows=[rf.Flow("mill", "farm", "ash", 10.0)],
    )
    positions = assess(eco, risk=True, plan=False, cluster=False).positioning
    assert isinstance(positions, positioning.Positioning)
    assert any(note.startswith("no keystone index") for note in positions.notes)


def test_the_pathway_is_known_before_assessing() -> None:
    """The workbench decides whether a plan is needed before running anything: the
    pathway from the document alone is the Assessment's."""
    from rainforest.assessment import pathway

    for eco in (rf.datasets.park(), rf.datasets.kalundborg()):
        assert pathway(eco) == assess(eco, risk=False, plan=False, cluster=False).pathway
    assert pathway(rf.datasets.park()) == "plan"
    assert pathway(rf.datasets.kalundborg()) == "existing"


def test_key_numbers_name_actors_by_their_names_not_ids() -> None:
    """The overview and the report read "sent or received by Novo Nordisk (Kalundborg
    site)", not "novo_nordisk"; a loop is told with names too."""
    eco = rf.datasets.kalundborg()
    numbers = {k.key: k for k in rf.assess(eco, risk=False, plan=False).key_numbers("page")}
    novo = eco.actor("novo_nordisk").name
    assert novo is not None
    assert novo in numbers["dependence"].meaning
    assert "novo_nordisk" not in numbers["dependence"].meaning
    assert "asnaes →" not in numbers["cycling"].meaning
    assert f"{eco.actor('asnaes').name} →" in numbers["cycling"].meaning
