"""Positioning: strata, roles, irreplaceability, keystone index, redundant investment."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rainforest as rf
from rainforest.analysis.positioning import position, profile_table
from rainforest.cli.app import app

DOC = {
    "format": "rainforest/1",
    "name": "positioning case",
    "actors": [
        {"id": "plat", "sector": "62", "size": {"revenue": 50}, "capabilities": [{"name": "logistics", "core": True}]},
        {"id": "power", "sector": "35", "size": {"revenue": 20}},
        {
            "id": "mill",
            "sector": "24",
            "size": {"revenue": 10},
            "capabilities": [{"name": "steel", "core": True}, {"name": "logistics", "core": False}],
        },
        {"id": "recycler", "sector": "38", "size": {"revenue": 10}},
        {"id": "quarry", "sector": "08", "size": {"revenue": 5}},
        {"id": "shop", "sector": "47", "size": {"revenue": 5}, "stratum": "canopy", "stage": "startup"},
    ],
    "resources": [
        {"id": "steam", "kind": "energy", "unit": "MWh", "price": 30},
        {"id": "slag", "kind": "material", "unit": "t", "price": 10, "substitutes": []},
        {"id": "stone", "kind": "material", "unit": "t", "price": 20},
        {"id": "aggregate", "kind": "material", "unit": "t", "substitutes": ["stone"]},
    ],
    "flows": [
        {"from": "power", "to": "mill", "resource": "steam", "quantity": 10, "kind": "utility"},
        {"from": "power", "to": "recycler", "resource": "steam", "quantity": 5, "kind": "utility"},
        {"from": "mill", "to": "recycler", "resource": "slag", "quantity": 8, "kind": "by-product"},
        {"from": "environment", "to": "quarry", "resource": "stone", "quantity": 100},
        {"from": "quarry", "to": "mill", "resource": "stone", "quantity": 10},
        {"from": "recycler", "to": "shop", "resource": "slag", "quantity": 4},
    ],
    "offers": [
        {"actor": "recycler", "resource": "aggregate", "quantity": 6},
        {"actor": "shop", "resource": "stone", "quantity": 2},
    ],
    "modules": [{"id": "m1", "provider": "plat", "name": "market", "kind": "traffic", "adopters": ["mill", "shop"]}],
}


@pytest.fixture
def eco(tmp_path: Path) -> rf.Ecosystem:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(DOC))
    return rf.load(path)


def test_strata_follow_the_documented_rule(eco: rf.Ecosystem) -> None:
    p = position(eco, risk=False)
    # revenues 50, 20, 10, 10, 5 (+ shop's 5, given as canopy) of 100: plat starts at 0% of the
    # total (canopy); power starts at 50% (understory, < 80%); mill at 70% (understory);
    # recycler at 80% (shrub, < 95%); quarry at 90% (shrub).
    assert [p[a].stratum for a in ("plat", "power", "mill", "recycler", "quarry")] == [
        "canopy",
        "understory",
        "understory",
        "shrub",
        "shrub",
    ]
    assert p["shop"].stratum == "canopy"
    assert not p["shop"].stratum_inferred
    assert p["shop"].stage == "startup"
    assert p.size_measure == "revenue"


def test_roles_from_flows(eco: rf.Ecosystem) -> None:
    p = position(eco, risk=False)
    assert p["plat"].role == "platform"
    assert p["power"].role == "utility"  # steam to two actors
    assert p["recycler"].role == "decomposer"  # slag, a by-product, is half its inputs
    assert p["quarry"].role == "primary producer"
    assert p["shop"].role == "consumer"
    assert p["mill"].role == "transformer"


def test_irreplaceability_counts_offers_of_the_resource_and_of_substitutes(eco: rf.Ecosystem) -> None:
    p = position(eco, risk=False)
    # quarry -> mill 10 t stone: shop offers 2 t stone, recycler 6 t aggregate (which can
    # replace stone): 8 of 10 could be covered -> 1 - 8/10 = 0.2
    [supply] = p["quarry"].supplies
    assert supply["irreplaceability"] == pytest.approx(0.2)
    assert {a["actor"] for a in supply["alternatives"]} == {"shop", "recycler"}
    assert p["quarry"].irreplaceability == pytest.approx(0.2)
    # nobody offers steam: power is irreplaceable for both supplies
    assert p["power"].irreplaceability == pytest.approx(1.0)
    # recycler's slag to shop: mill also supplies slag but offers none spare -> 1.0
    [slag] = p["recycler"].supplies
    assert slag["other_suppliers"] == ["mill"]
    assert slag["irreplaceability"] == 1.0


def test_redundant_non_core_capability(eco: rf.Ecosystem) -> None:
    p = position(eco, risk=False)
    [r] = p["mill"].redundancies
    assert r["capability"] == "logistics"
    assert r["core_at"] == ["plat"]
    assert r["money_at_stake"] is None
    assert p["plat"].redundancies == ()


def test_market_share_and_profile(eco: rf.Ecosystem) -> None:
    p = position(eco, risk=False)
    assert p["plat"].market_share == 1.0  # alone in its sector
    canopy = next(row for row in p.profile if row["stratum"] == "canopy")
    assert canopy["actors"] == 2
    assert canopy["size_share"] == pytest.approx(0.55)
    assert sum(row["actors"] for row in p.profile) == 6


def test_keystone_index_from_the_cascade(eco: rf.Ecosystem) -> None:
    p = position(eco)
    # valued at prices: power supplies 15 MWh * 30 = 450, mill 80, quarry 200, recycler 40
    assert p["power"].keystone is not None
    assert p["power"].keystone >= 1.0
    assert p["shop"].keystone is None  # supplies nobody: no own share
    assert p["power"].esri is not None


def test_cli_position_json(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(DOC))
    result = CliRunner().invoke(app, ["position", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    row = data["actors"]["mill"]
    assert {"stratum", "stage", "role", "irreplaceability", "keystone", "redundancies"} <= set(row)
    assert row["redundancies"][0]["capability"] == "logistics"
    table = CliRunner().invoke(app, ["position", str(path)])
    assert table.exit_code == 0
    assert "rainforest profile" in table.stdout


def test_kalundborg_positions_every_actor() -> None:
    eco = rf.datasets.kalundborg()
    rows = profile_table(position(eco, risk=False))
    assert len(rows) == len(eco.actor_ids)
    assert {r["stratum"] for r in rows} <= {"canopy", "understory", "shrub", "moss", "unknown"}


def test_keystoneness_is_libralato_from_mixed_trophic_impacts() -> None:
    from dataclasses import replace

    import numpy as np

    from rainforest.analysis import ena

    eco = rf.datasets.kalundborg()
    p = position(eco, risk=False)
    fm = rf.FlowMatrix.from_ecosystem(eco, "mass")
    expected = ena.mixed_trophic_impacts(replace(fm, living=np.ones(fm.n, dtype=bool))).keystoneness
    for a in p.actors:
        if a.keystoneness is None:
            assert not np.isfinite(expected[a.actor])  # no overall effect: log10(0)
        else:
            assert a.keystoneness == pytest.approx(expected[a.actor])
    assert any(a.keystoneness is not None for a in p.actors)


def test_keystoneness_absent_with_the_reason_when_impacts_diverge() -> None:
    p = position(rf.load(Path(__file__).parents[1] / "docs" / "examples" / "supply_chain.yaml"), risk=False)
    assert all(a.keystoneness is None for a in p.actors)
    assert any("diverges" in note for note in p.notes)


def test_strata_rest_on_size_not_on_what_happens_to_be_exchanged() -> None:
    """Issue 16, item 1: Kalundborg's strata came from exchanged mass (farmers in the
    canopy, the refinery in the moss). With the published head counts (Grann, early 1990s,
    cited in the data README) the four firms are ranked by employees; actors without a
    size or a recorded boundary flow are 'unknown', never ranked by what they receive."""
    p = position(rf.datasets.kalundborg(), risk=False)
    basis = {a.actor: a.stratum_basis for a in p.actors}
    assert {a for a, b in basis.items() if b == "employees"} == {"asnaes", "statoil_refinery", "novo_nordisk", "gyproc"}
    assert p["farmers"].stratum == "unknown"
    assert p["farmers"].stratum_basis == "unknown"
    assert p["novo_nordisk"].stratum == "canopy"  # 1,100 of 2,125 employees
    assert p["statoil_refinery"].stratum != "moss"
    rows = {r["stratum"]: r["actors"] for r in p.profile}
    assert rows["unknown"] == 6
    assert p.to_dict()["actors"]["gyproc"]["stratum_basis"] == "employees"
    # nor is exchanged mass a market share: the farmers were "100% of agriculture"
    assert p["farmers"].market_share is None
    assert all(row["size_share"] is None for row in p.profile)


def test_stratum_basis_follows_the_rule_in_order() -> None:
    doc = {
        "format": "rainforest/1",
        "name": "bases",
        "actors": [
            {"id": "a", "stratum": "moss", "size": {"revenue": 100}},
            {"id": "b", "size": {"revenue": 10}},
            {"id": "c", "size": {"employees": 5}},
            {"id": "d", "size": {"employees": 500}},
            {"id": "e"},
            {"id": "f"},
            {"id": "g"},
        ],
        "resources": [{"id": "ore", "kind": "material", "unit": "t"}],
        "flows": [
            {"from": "world", "to": "e", "resource": "ore", "quantity": 90},
            {"from": "world", "to": "f", "resource": "ore", "quantity": 10},
            {"from": "e", "to": "g", "resource": "ore", "quantity": 1000},
        ],
    }
    path = Path(tempfile.mkdtemp()) / "bases.json"
    path.write_text(json.dumps(doc))
    eco = rf.load(path)
    p = position(eco, risk=False)
    got = {a.actor: (a.stratum, a.stratum_basis) for a in p.actors}
    assert got["a"] == ("moss", "declared")
    assert got["b"][1] == "revenue"
    assert got["d"] == ("canopy", "employees")
    assert got["c"][1] == "employees"
    assert got["e"][1] == got["f"][1] == "throughflow"  # their inputs from the world are recorded
    # g receives 1,000 t, more than anyone, but records nothing across the boundary: unknown
    assert got["g"] == ("unknown", "unknown")
