"""FlowMatrix: the numeric view in every currency."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

import rainforest as rf
from strategies import ecosystems


def small() -> rf.Ecosystem:
    return rf.Ecosystem(
        name="small",
        actors=[rf.Actor("a"), rf.Actor("b"), rf.Actor("c")],
        resources=[
            rf.Resource("ash", "material", "t", price=10.0),
            rf.Resource("heat", "energy", "GJ"),
            rf.Resource("water", "water", "m**3", price=2.0),
            rf.Resource("cash", "money", "EUR"),
        ],
        flows=[
            rf.Flow("world", "a", "ash", 10.0),
            rf.Flow("environment", "a", "water", 4.0),
            rf.Flow("a", "b", "ash", 2.0, unit="kt"),
            rf.Flow("a", "c", "heat", 36.0),
            rf.Flow("b", "world", "ash", 1500.0),
            rf.Flow("b", "environment", "ash", 500.0),
            rf.Flow("a", "environment", "water", 4.0),
            rf.Flow("b", "a", "cash", 99.0),
            rf.Flow("a", "c", "ash", 7.0, status="proposed"),
        ],
        stocks=[rf.Stock("a", "ash", quantity=3.0, change=-1.0)],
    )


def test_one_resource_in_its_unit() -> None:
    fm = rf.FlowMatrix.from_ecosystem(small(), resource="ash")
    assert fm.ids == ("a", "b", "c")
    assert fm.unit == "t"
    np.testing.assert_array_equal(fm.dense(), [[0, 2000, 0], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(fm.imports, [10, 0, 0])
    np.testing.assert_array_equal(fm.exports, [0, 1500, 0])
    np.testing.assert_array_equal(fm.losses, [0, 500, 0])
    np.testing.assert_array_equal(fm.stock, [3, 0, 0])
    np.testing.assert_array_equal(fm.stock_change, [-1, 0, 0])


def test_statuses_filter_flows() -> None:
    fm = rf.FlowMatrix.from_ecosystem(small(), resource="ash", statuses=("active", "proposed"))
    assert fm.dense()[0, 2] == 7.0
    assert rf.FlowMatrix.from_ecosystem(small(), resource="ash").dense()[0, 2] == 0.0


def test_physical_currencies_convert_units() -> None:
    eco = small()
    energy = rf.FlowMatrix.from_ecosystem(eco, "energy")
    assert energy.unit == "MWh"
    assert energy.dense()[0, 2] == pytest.approx(10.0)  # 36 GJ
    water = rf.FlowMatrix.from_ecosystem(eco, "water")
    np.testing.assert_array_equal(water.extraction, [4, 0, 0])
    np.testing.assert_array_equal(water.losses, [4, 0, 0])
    mass = rf.FlowMatrix.from_ecosystem(eco, "mass")
    assert mass.resources == ("ash",)


def test_money_values_flows_at_prices_and_lists_exclusions() -> None:
    fm = rf.FlowMatrix.from_ecosystem(small(), "money")
    assert fm.unit == "EUR"
    assert fm.dense()[0, 1] == 20_000.0  # 2 kt of ash at 10 EUR/t
    assert fm.dense()[1, 0] == 99.0  # money at face value
    assert fm.excluded == {"heat": "no price"}


def test_kind_currency_and_mixed_units() -> None:
    fm = rf.FlowMatrix.from_ecosystem(small(), kind="material")
    assert fm.unit == "t"
    with pytest.raises(rf.CurrencyError, match="do not convert"):
        rf.FlowMatrix.from_ecosystem(rf.datasets.kalundborg(), kind="energy")


def test_currency_choice_errors() -> None:
    eco = small()
    with pytest.raises(rf.CurrencyError, match="only one"):
        rf.FlowMatrix.from_ecosystem(eco, "mass", resource="ash")
    with pytest.raises(rf.CurrencyError, match="choose a currency"):
        rf.FlowMatrix.from_ecosystem(eco)
    with pytest.raises(rf.UnknownIdError, match="Did you mean 'ash'"):
        rf.FlowMatrix.from_ecosystem(eco, resource="asj")
    with pytest.raises(rf.CurrencyError, match=r"'currency' parameter of FlowMatrix\.from_ecosystem must be 'mass'"):
        rf.FlowMatrix.from_ecosystem(eco, "gold")  # type: ignore[arg-type]


def test_kalundborg_mass() -> None:
    fm = rf.FlowMatrix.from_ecosystem(rf.datasets.kalundborg(), "mass")
    assert fm.Z.sum() == 1_519_000.0
    fly_ash = rf.FlowMatrix.from_ecosystem(rf.datasets.kalundborg(), resource="fly_ash")
    i, j = fly_ash.ids.index("asnaes"), fly_ash.ids.index("cement_industry")
    assert fly_ash.dense()[i, j] == 135_000.0
    assert fly_ash.Z.nnz == 1


def test_oyster_reef_is_at_steady_state() -> None:
    fm = rf.FlowMatrix.from_ecosystem(rf.datasets.ena_model("oyster_reef"))
    assert np.abs(fm.imbalance()).max() / fm.inflow().max() < 1e-4
    assert fm.living is not None
    assert fm.living.tolist() == [True] * 5 + [False]


def test_synthetic_actors_balance_in_mass() -> None:
    fm = rf.FlowMatrix.from_ecosystem(rf.datasets.synthetic(n_actors=800, rng=2), "mass")
    assert np.abs(fm.imbalance()).max() <= 1e-9 * fm.inflow().max()


def test_from_arrays_checks_shapes() -> None:
    fm = rf.FlowMatrix.from_arrays([[0, 1], [0, 0]], inputs=[1, 0], exports=[0, 0], losses=[0, 1])
    assert fm.n == 2
    assert fm.imbalance().tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="length 2"):
        rf.FlowMatrix.from_arrays([[0, 1], [0, 0]], inputs=[1], exports=[0, 0], losses=[0, 0])


@given(eco=ecosystems())
def test_every_active_quantity_lands_once(eco: rf.Ecosystem) -> None:
    resource = eco.resources[0]
    fm = rf.FlowMatrix.from_ecosystem(eco, resource=resource.id)
    mine = [f for f in eco.flows if f.resource == resource.id and f.status == "active"]
    total = sum(f.quantity for f in mine if f.quantity is not None)
    placed = fm.Z.sum() + fm.inputs.sum() + fm.exports.sum() + fm.losses.sum()
    assert placed == pytest.approx(total, rel=1e-12, abs=1e-9)
    assert fm.unquantified == sum(not f.quantified for f in mine)  # skipped, and counted


# -- to_frame and to_networkx ------------------------------------------------------------
def test_to_frame_is_labelled_by_actor_ids() -> None:
    fm = rf.FlowMatrix.from_ecosystem(small(), resource="ash")
    frame = fm.to_frame()
    assert list(frame.index) == list(frame.columns) == list(fm.ids)
    assert (frame.index.name, frame.columns.name) == ("from", "to")
    np.testing.assert_array_equal(frame.to_numpy(), fm.dense())
    assert frame.loc["a", "b"] == 2000.0
    sparse = fm.to_frame(sparse=True)
    np.testing.assert_array_equal(sparse.sparse.to_dense().to_numpy(), fm.dense())
    assert list(sparse.index) == list(fm.ids)


def test_to_networkx_holds_every_flow_and_boundary() -> None:
    fm = rf.FlowMatrix.from_ecosystem(small(), currency="mass")
    g = fm.to_networkx()
    assert list(g.nodes) == list(fm.ids)
    z = fm.dense()
    want = {(fm.ids[i], fm.ids[j]): z[i, j] for i in range(fm.n) for j in range(fm.n) if z[i, j] != 0}
    assert {(u, v): w for u, v, w in g.edges(data="weight")} == want
    for i, actor in enumerate(fm.ids):
        for name in ("imports", "extraction", "exports", "losses", "stock", "stock_change"):
            assert g.nodes[actor][name] == getattr(fm, name)[i], (actor, name)
    assert (g.graph["currency"], g.graph["unit"]) == (fm.currency, fm.unit)


@given(eco=ecosystems())
def test_to_frame_and_to_networkx_agree_with_the_matrix(eco: rf.Ecosystem) -> None:
    fm = rf.FlowMatrix.from_ecosystem(eco, resource=eco.resources[0].id)
    frame = fm.to_frame()
    np.testing.assert_array_equal(frame.to_numpy(), fm.dense())
    g = fm.to_networkx()
    assert g.number_of_nodes() == fm.n
    assert g.number_of_edges() == int(np.count_nonzero(fm.dense()))
    assert sum(w for _, _, w in g.edges(data="weight")) == pytest.approx(fm.dense().sum())
