"""GraphML and GEXF exports, read back with networkx: every node, edge and attribute."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings

import rainforest as rf
from rainforest.errors import FormatError
from strategies import ecosystems

FORMS = ["graphml", "gexf"]


def read(path: Path) -> nx.MultiDiGraph[str]:
    g = nx.read_graphml(path) if path.suffix == ".graphml" else nx.read_gexf(path, version="1.3")
    return nx.MultiDiGraph(g)


def _thaw(value: Any) -> Any:
    if isinstance(value, rf.model.FrozenMap):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


def _extensions(entity: Any) -> dict[str, Any]:
    return {k: _thaw(v) for k, v in entity.extensions.items() if v is not None}


def expected_nodes(eco: rf.Ecosystem) -> dict[str, dict[str, Any]]:
    """Built from the entities, independently of the exporter's own table walk."""
    out: dict[str, dict[str, Any]] = {}
    for a in eco.actors:
        attrs: dict[str, Any] = {
            "name": a.name,
            "sector": a.sector,
            "stratum": a.stratum,
            "stage": a.stage,
            "location.lat": a.location.lat if a.location else None,
            "location.lon": a.location.lon if a.location else None,
            "size.revenue": a.size.revenue if a.size else None,
            "size.costs": a.size.costs if a.size else None,
            "size.employees": a.size.employees if a.size else None,
            "size.capacity": a.size.capacity if a.size else None,
            "capabilities": "; ".join(c.name if c.core else f"{c.name} [non-core]" for c in a.capabilities) or None,
            "living": a.living,
            "region": a.region,
            "boundary": False,
            **_extensions(a),
        }
        out[a.id] = {k: v for k, v in attrs.items() if v is not None and v != ""}
    for f in eco.flows:
        for end in (f.source, f.target):
            if end in ("world", "environment"):
                out[end] = {"name": end, "boundary": True}
    return out


def expected_edges(eco: rf.Ecosystem) -> dict[str, tuple[str, str, dict[str, Any]]]:
    resources = {r.id: r for r in eco.resources}
    out = {}
    for i, f in enumerate(eco.flows):
        attrs: dict[str, Any] = {
            "resource": f.resource,
            "quantity": f.quantity,
            "unit": resources[f.resource].unit,
            "kind": f.kind,
            "resource_kind": resources[f.resource].kind,
            "quantified": f.quantified,
            "status": f.status,
            "input_class": f.input_class,
            "uncertainty": f.uncertainty,
            **_extensions(f),
        }
        out[f"flows[{i}]"] = (f.source, f.target, {k: v for k, v in attrs.items() if v is not None})
    return out


def same(got: Any, want: Any) -> bool:
    """A value read back equals the one exported (a number or a nested value exported in
    a text column, where the column also holds texts, is read back as its JSON text)."""
    if isinstance(got, str) and not isinstance(want, str):
        got = json.loads(got)
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    return bool(got == want and (isinstance(got, bool) == isinstance(want, bool)))


def check(eco: rf.Ecosystem, path: Path) -> None:
    g = read(path)
    nodes = expected_nodes(eco)
    assert set(g.nodes) == set(nodes)
    for node, want in nodes.items():
        got = {k: v for k, v in g.nodes[node].items() if k != "label"}
        assert set(got) == set(want), node
        assert all(same(got[k], want[k]) for k in want), (node, got, want)
    edges = expected_edges(eco)
    assert g.number_of_edges() == len(edges)
    read_edges = {}
    for u, v, key, data in g.edges(keys=True, data=True):
        edge_id = data.pop("id", key)  # GraphML keeps the id as the edge key, GEXF as an attribute
        data.pop("weight", None)
        read_edges[edge_id] = (u, v, data)
    assert set(read_edges) == set(edges)
    for edge_id, (u, v, want) in edges.items():
        got_u, got_v, got = read_edges[edge_id]
        assert (got_u, got_v) == (u, v), edge_id
        assert set(got) == set(want), edge_id
        assert all(same(got[k], want[k]) for k in want), (edge_id, got, want)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("dataset", ["kalundborg", "park"])
def test_a_bundled_ecosystem_reads_back_whole(tmp_path: Path, form: str, dataset: str) -> None:
    eco = getattr(rf.datasets, dataset)()
    check(eco, rf.save(eco, tmp_path / f"{dataset}.{form}"))


@pytest.mark.parametrize("form", FORMS)
def test_a_synthetic_ecosystem_reads_back_whole(tmp_path: Path, form: str) -> None:
    eco = rf.datasets.synthetic(n_actors=40, rng=3)
    assert any(a.stratum for a in eco.actors)
    assert any(a.location for a in eco.actors)
    check(eco, rf.save(eco, tmp_path / f"synthetic.{form}"))


@pytest.mark.parametrize("form", FORMS)
@given(eco=ecosystems())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_ecosystem_reads_back_whole(tmp_path: Path, form: str, eco: rf.Ecosystem) -> None:
    check(eco, rf.save(eco, tmp_path / f"eco.{form}"))


def test_parallel_flows_and_the_boundary(tmp_path: Path) -> None:
    eco = rf.Ecosystem(
        name="two flows",
        actors=[rf.Actor("a", stratum="canopy", stage="mature"), rf.Actor("b", living=True)],
        resources=[rf.Resource("ash", "material", "t"), rf.Resource("heat", "energy", "MWh")],
        flows=[
            rf.Flow("a", "b", "ash", 2.0, unit="kt", kind="by-product"),
            rf.Flow("a", "b", "heat", 5.0, kind="utility"),
            rf.Flow("world", "a", "ash", 10.0),
            rf.Flow("b", "environment", "ash", None, quantified=False),
        ],
    )
    for form in FORMS:
        path = rf.save(eco, tmp_path / f"two.{form}")
        check(eco, path)
        g = read(path)
        assert g.number_of_edges("a", "b") == 2
        assert [d["quantity"] for _, _, d in g.edges("a", data=True) if d["resource"] == "ash"] == [2000.0]  # in t
        assert g.nodes["world"]["boundary"] is True
        assert g.nodes["a"]["stratum"] == "canopy"
        assert "quantity" not in next(d for _, v, d in g.edges(data=True) if v == "environment")


def test_the_cli_converts_to_a_graph(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rainforest.cli import app

    source = rf.datasets.path("kalundborg")
    for form in FORMS:
        target = tmp_path / f"k.{form}"
        result = CliRunner().invoke(app, ["convert", str(source), str(target)])
        assert result.exit_code == 0, result.output
        check(rf.load(source), target)


@pytest.mark.parametrize("form", FORMS)
def test_a_graph_is_not_read_back(tmp_path: Path, form: str) -> None:
    path = rf.save(rf.datasets.kalundborg(), tmp_path / f"k.{form}")
    with pytest.raises(FormatError, match="not read back"):
        rf.load(path)


def test_a_control_character_is_a_clear_error(tmp_path: Path) -> None:
    eco = rf.Ecosystem(name="x", actors=[rf.Actor("a", extensions=rf.model.FrozenMap({"x_note": "bell\x07"}))])
    with pytest.raises(FormatError, match="actor 'a': x_note: holds a control character"):
        rf.save(eco, tmp_path / "x.graphml")
    assert not (tmp_path / "x.graphml").exists()
