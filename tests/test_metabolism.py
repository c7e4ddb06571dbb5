"""Balances and data reconciliation."""

from __future__ import annotations

import numpy as np
import pytest

import rainforest as rf
from rainforest.analysis import metabolism


def plant(**uncertainty: float) -> rf.Ecosystem:
    """A two-step process: 100 t in, 60 t passed on, 38 t product out (2 t missing)."""
    u = uncertainty.get
    return rf.Ecosystem(
        name="measured plant",
        actors=[rf.Actor("a"), rf.Actor("b")],
        resources=[rf.Resource("ore", "material", "t")],
        flows=[
            rf.Flow("environment", "a", "ore", 100.0, uncertainty=u("in")),
            rf.Flow("a", "b", "ore", 60.0, uncertainty=u("mid")),
            rf.Flow("a", "environment", "ore", 40.0, uncertainty=u("loss")),
            rf.Flow("b", "world", "ore", 58.0, uncertainty=u("out")),
        ],
    )


def test_balances_flag_the_actor_out_of_balance() -> None:
    result = metabolism.balances(plant(), "ore")
    assert result.ok.tolist() == [True, False]
    assert result.violations() == [("b", 2.0)]


def test_reconciliation_moves_only_uncertain_flows_by_their_weights() -> None:
    """Actor b receives 60 and sends 58. With the input and the loss of actor a exact, a's
    balance pins the middle flow at 60, so the whole gap goes to the output."""
    result = metabolism.reconcile(plant(mid=2.0, out=2.0), "ore")
    np.testing.assert_allclose(result.reconciled, [100.0, 60.0, 40.0, 60.0])
    assert result.chi2 == pytest.approx(1.0)  # (2 / 2)^2
    assert {a["flow"] for a in result.adjustments()} == {3}
    np.testing.assert_allclose(result.sigma_after[[1, 3]], [0.0, 0.0], atol=1e-6)  # fully determined (sqrt of rounding)


def test_reconciliation_by_hand_with_three_uncertain_flows() -> None:
    """With loss, middle and output uncertain (s = 1 each), the constraints mid = out = y and
    loss = 100 - y leave min (y - 60)^2 + (60 - y)^2 + (y - 58)^2: y = 178 / 3."""
    result = metabolism.reconcile(plant(mid=1.0, loss=1.0, out=1.0), "ore")
    y = 178 / 3
    np.testing.assert_allclose(result.reconciled, [100.0, y, 100 - y, y], rtol=1e-12)
    assert result.chi2 == pytest.approx(2 * (60 - y) ** 2 + (y - 58) ** 2)
    assert result.dof == 2
    assert all(after <= before + 1e-12 for after, before in zip(result.sigma_after, result.sigma, strict=True))


def test_reconciled_flows_balance_every_actor() -> None:
    eco = plant(**{"in": 5.0, "mid": 2.0, "loss": 4.0, "out": 2.0})
    result = metabolism.reconcile(eco, "ore")
    flows = list(eco.flows)
    adjusted = rf.Ecosystem(
        name="adjusted",
        actors=list(eco.actors),
        resources=list(eco.resources),
        flows=[
            rf.Flow(f.source, f.target, f.resource, float(q)) for f, q in zip(flows, result.reconciled, strict=True)
        ],
    )
    assert metabolism.balances(adjusted, "ore").ok.all()


def test_exact_flows_that_cannot_balance_are_an_error() -> None:
    with pytest.raises(rf.RainforestError, match="cannot all hold"):
        metabolism.reconcile(plant(), "ore")
    with pytest.raises(rf.UnknownIdError):
        metabolism.balances(plant(), "oar")


def test_uncertainty_round_trips_and_converts_with_its_unit(tmp_path: object) -> None:
    eco = rf.Ecosystem(
        name="u",
        actors=[rf.Actor("a")],
        resources=[rf.Resource("ore", "material", "t")],
        flows=[rf.Flow("world", "a", "ore", 2.0, unit="kt", uncertainty=0.1)],
    )
    assert eco.flows[0].uncertainty == pytest.approx(100.0)  # 0.1 kt


def test_boundary_accounts_close_for_a_balanced_economy() -> None:
    eco = rf.datasets.synthetic(n_actors=400, rng=9)
    accounts = metabolism.boundary_accounts(rf.FlowMatrix.from_ecosystem(eco, "mass"))
    assert accounts["balance"] == pytest.approx(0.0, abs=1e-6 * accounts["DMI"])
    # the synthetic economy records imports but no extraction: DMI is the imports, and says so
    assert accounts["extraction"] is None
    assert "environment" in accounts["reasons"]["extraction"]
    assert accounts["DMI"] == pytest.approx(accounts["imports"])
    assert "extraction" in accounts["notes"]["DMI"]


def test_unrecorded_boundary_accounts_are_unknown_not_zero() -> None:
    """Kalundborg publishes no quantity for any flow across its boundary: imports,
    exports, DMI and the balance are unknown, each with its reason (issue 16, item 2)."""
    eco = rf.datasets.kalundborg()
    accounts = metabolism.boundary_accounts(rf.FlowMatrix.from_ecosystem(eco, "water"))
    for key in ("extraction", "imports", "exports", "losses", "DMI", "balance"):
        assert accounts[key] is None, key
        assert accounts["reasons"][key], key
    # two water intakes from Lake Tissø are documented, without a published volume
    assert "2 documented without one" in accounts["reasons"]["extraction"]
    assert accounts["internal"] == pytest.approx(700_000.0)  # cooling water, the one quantified water flow
    # a recorded zero stays zero: an import of 0 t is a measurement, not a gap
    zero = rf.Ecosystem(
        "z",
        actors=[rf.Actor("a"), rf.Actor("b")],
        resources=[rf.Resource("ore", "material", "t")],
        flows=[rf.Flow("world", "a", "ore", 0.0), rf.Flow("a", "b", "ore", 5.0), rf.Flow("b", "world", "ore", 5.0)],
    )
    acc = metabolism.boundary_accounts(rf.FlowMatrix.from_ecosystem(zero, "mass"))
    assert acc["imports"] == 0.0
    assert acc["DMI"] == 0.0
    assert acc["exports"] == 5.0
    assert acc["extraction"] is None
    assert acc["losses"] is None
    assert acc["balance"] == pytest.approx(-5.0)
    assert "losses" in acc["notes"]["balance"]


def test_circularity_indicators_on_kalundborg() -> None:
    eco = rf.datasets.kalundborg()
    c = metabolism.circularity(eco, "mass")
    # every published Kalundborg exchange in mass is a by-product or waste between actors
    expected = sum(
        f.quantity
        for f in eco.flows
        if f.quantified and f.kind in ("by-product", "waste") and eco.resource(f.resource).unit == "t"
    )
    assert c["landfill_diverted"] == pytest.approx(expected)
    # no boundary input is published: the share of inputs is unknown, not 100%
    assert c["recycled_input_share"] is None
    assert "no input from outside" in c["reasons"]["recycled_input_share"]
    assert c["disposal_share"] is None
    assert c["exchange_share"] is None
    assert c["resource_productivity"] is None  # no revenue is published
    assert "revenue" in c["reasons"]["resource_productivity"]
    assert c["unquantified"] == 4  # steam to the refinery and Novo Nordisk, fish-pond and sewage sludge


def test_sankey_links_sum_to_the_flows() -> None:
    eco = rf.datasets.synthetic(n_actors=300, rng=2)
    total = rf.FlowMatrix.from_ecosystem(eco, "mass")
    expected = float(total.Z.sum() + total.inputs.sum() + total.outputs.sum())
    for by in ("resource", "kind", "stratum"):
        data = metabolism.sankey(eco, by=by, currency="mass")
        assert sum(link["value"] for link in data["links"]) == pytest.approx(expected, rel=1e-12)
    strata = metabolism.sankey(eco, by="stratum")["nodes"]
    assert set(strata) <= {"canopy", "understory", "shrub", "moss", "world", "environment"}
