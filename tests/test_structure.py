"""Exchanges documented without a quantity (``quantified: false``) and the structure
metrics over every documented exchange (issue 16, item 4)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import rainforest as rf
from rainforest.analysis import ena, metabolism
from rainforest.analysis.structure import network_structure, spectral_radius
from rainforest.cli import app
from rainforest.errors import DocumentError

PARK = """format: rainforest/1
name: Loop park
actors:
  - id: plant
  - id: refinery
  - id: farm
resources:
  - id: steam
    kind: energy
    unit: t
  - id: water
    kind: water
    unit: m**3
flows:
  - from: refinery
    to: plant
    resource: water
    quantity: 700000
  - from: plant
    to: refinery
    resource: steam
    quantified: false
    x_reason: no published quantity
  - from: plant
    to: farm
    resource: steam
    quantified: false
"""


def _load(tmp_path: Path, text: str = PARK, name: str = "park.yaml") -> rf.Ecosystem:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return rf.load(path)


def test_an_unquantified_flow_loads_without_a_quantity(tmp_path: Path) -> None:
    eco = _load(tmp_path)
    flow = eco.flows[1]
    assert (flow.quantified, flow.quantity, flow.extensions["x_reason"]) == (False, None, "no published quantity")
    assert eco.flows[0].quantified is True
    assert "quantified" not in eco.to_dict()["flows"][0]  # the default is not written
    assert eco.to_dict()["flows"][1]["quantified"] is False


@pytest.mark.parametrize("form", ["yaml", "json", "xlsx", "csv", "store"])
def test_unquantified_flows_round_trip_in_every_form(tmp_path: Path, form: str) -> None:
    eco = _load(tmp_path)
    if form == "store":
        from rainforest.store import Store

        with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
            store.create("park", eco, author="test")
            back = store.load("park")
    else:
        target = tmp_path / ("out" if form == "csv" else f"out.{form}")
        rf.save(eco, target)
        back = rf.load(target)
    assert back == eco, eco.differences(back)
    assert [f.quantified for f in back.flows] == [True, False, False]


def test_a_missing_quantity_is_still_an_error_and_says_how_to_mark_it(tmp_path: Path) -> None:
    text = PARK.replace("    quantity: 700000\n", "")
    with pytest.raises(DocumentError) as info:
        _load(tmp_path, text)
    (issue,) = info.value.issues
    assert issue.path == "flows[0]"
    assert "missing required field 'quantity'" in issue.message
    assert issue.hint is not None
    assert "quantified: false" in issue.hint


def test_a_quantity_on_an_unquantified_flow_is_an_error(tmp_path: Path) -> None:
    text = PARK.replace("    quantified: false\n    x_reason", "    quantified: false\n    quantity: 3\n    x_reason")
    with pytest.raises(DocumentError) as info:
        _load(tmp_path, text)
    (issue,) = info.value.issues
    assert issue.path == "flows[1].quantity"
    assert "quantified: false" in issue.message


def test_csv_rows_may_leave_the_quantity_empty_when_marked(tmp_path: Path) -> None:
    folder = tmp_path / "eco"
    folder.mkdir()
    (folder / "ecosystem.csv").write_text("format,name\nrainforest/1,P\n")
    (folder / "actors.csv").write_text("id\na\nb\n")
    (folder / "resources.csv").write_text("id,kind,unit\nash,material,t\n")
    (folder / "flows.csv").write_text("from,to,resource,quantity,quantified\na,b,ash,5,\nb,a,ash,,false\n")
    eco = rf.load(folder)
    assert [f.quantity for f in eco.flows] == [5.0, None]


def test_quantitative_analyses_skip_unquantified_flows_and_count_them(tmp_path: Path) -> None:
    eco = _load(tmp_path)
    steam = rf.FlowMatrix.from_ecosystem(eco, "mass")  # steam is counted in tonnes
    assert steam.Z.nnz == 0
    assert steam.unquantified == 2
    water = rf.FlowMatrix.from_ecosystem(eco, "water")
    assert water.Z.sum() == 700_000.0
    assert water.unquantified == 0
    assert metabolism.circularity(eco, "water")["unquantified"] == 0
    assert not np.isnan(metabolism.sankey(eco, currency="water")["links"][0]["value"])


def test_structure_counts_every_documented_exchange(tmp_path: Path) -> None:
    s = network_structure(_load(tmp_path))
    assert (s.nodes, s.links, s.unquantified_links) == (3, 3, 2)
    assert s.link_density == pytest.approx(1.0)
    assert s.connectance == pytest.approx(1 / 3)
    assert s.cyclicity == pytest.approx(1.0)  # one loop of two: the eigenvalues of [[0,1],[1,0]] are +-1
    assert s.cycles == (("plant", "refinery"),)
    assert s.cycles_complete


def test_kalundborg_has_the_documented_loop_finn_cannot_see() -> None:
    """Asnæs sends steam to the refinery (E07, 1982) and the refinery sends cooling water,
    treated effluent and gas back (E11-E13): the loop of Ehrenfeld & Gertler (1997,
    J. Ind. Ecol. 1(1):67-79, fig. 1). Only the cooling water has a published quantity, so
    the quantified network has no loop and Finn's index is 0."""
    eco = rf.datasets.kalundborg()
    s = network_structure(eco)
    assert s.cycles == (("asnaes", "statoil_refinery"),)
    assert s.cyclicity == pytest.approx(1.0)
    assert (s.nodes, s.links, s.unquantified_links) == (10, 13, 7)
    quantified = rf.FlowMatrix.from_ecosystem(eco, "mass")
    assert ena.structure(quantified)["lam1A"] == pytest.approx(0.0)  # no loop among quantified flows


def test_cyclicity_agrees_with_enar_lam1a() -> None:
    """The fast spectral radius equals enaR's lam1A as ena.structure computes it."""
    eco = rf.datasets.synthetic(n_actors=300, rng=4)
    fm = rf.FlowMatrix.from_ecosystem(eco, "mass")
    adjacency = (fm.Z != 0).astype(np.float64)
    assert spectral_radius(adjacency) == pytest.approx(ena.structure(fm)["lam1A"], rel=1e-8)


def test_cycles_are_bounded_and_the_cut_is_said() -> None:
    ids = [f"a{i}" for i in range(6)]
    flows = [rf.Flow(a, b, "x", 1.0) for a in ids for b in ids if a != b]  # complete digraph: 409 simple cycles
    eco = rf.Ecosystem(
        "k6", actors=[rf.Actor(a) for a in ids], resources=[rf.Resource("x", "material", "t")], flows=flows
    )
    s = network_structure(eco, max_cycles=50)
    assert len(s.cycles) == 50
    assert not s.cycles_complete
    assert "first 50" in s.cycles_note
    assert len(set(s.cycles)) == 50
    assert all(len(set(c)) == len(c) for c in s.cycles)
    full = network_structure(eco, max_cycles=1000)
    # simple cycles of K6: sum over k=2..6 of C(6,k) (k-1)! = 15 + 40 + 90 + 144 + 120
    assert len(full.cycles) == 409
    assert full.cycles_complete
    assert len(network_structure(eco, max_length=2, max_cycles=1000).cycles) == 15


def test_info_json_gives_the_network() -> None:
    result = CliRunner().invoke(app, ["info", str(rf.datasets.path("kalundborg")), "--json"])
    assert result.exit_code == 0
    net = json.loads(result.stdout)["network"]
    assert {"nodes", "links", "link_density", "connectance", "cyclicity", "cycles", "unquantified_links"} <= set(net)
    assert net["cycles"] == [["asnaes", "statoil_refinery"]]
    assert (net["links"], net["unquantified_links"]) == (13, 7)
    text = CliRunner().invoke(app, ["info", str(rf.datasets.path("kalundborg"))]).stdout
    assert "asnaes → statoil_refinery → asnaes" in text


def test_json_schema_states_the_quantity_rule() -> None:
    import jsonschema

    schema = rf.json_schema()
    base = {
        "format": "rainforest/1",
        "name": "p",
        "actors": [{"id": "a"}, {"id": "b"}],
        "resources": [{"id": "ash", "kind": "material", "unit": "t"}],
    }
    ok = [
        {"from": "a", "to": "b", "resource": "ash", "quantity": 1},
        {"from": "b", "to": "a", "resource": "ash", "quantified": False},
    ]
    jsonschema.validate({**base, "flows": ok}, schema)
    for bad in (
        {"from": "a", "to": "b", "resource": "ash"},
        {"from": "a", "to": "b", "resource": "ash", "quantity": 1, "quantified": False},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**base, "flows": [bad]}, schema)
