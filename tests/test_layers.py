"""The layers of an ecosystem and the cross-layer cascade (rainforest.analysis.layers).

No published cross-layer numbers exist for this economic cascade (Buldyrev et al. 2010
give the percolation version, tested in test_networks.py), so the reference cases here
are derived by hand, the derivation in each docstring. The supply layer alone is checked
against the ESRI cascade of Diem et al. (2022) as rainforest.analysis.cascade implements it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import rainforest as rf
from rainforest.analysis.cascade import SupplyNetwork, cascade, esri
from rainforest.analysis.layers import (
    LAYERS,
    Layers,
    layered_cascade,
    layered_profile,
)
from rainforest.cli import app
from rainforest.errors import CurrencyError, ParameterError, UnknownIdError

ROOT = Path(__file__).resolve().parents[1]
FIVE = ROOT / "docs" / "examples" / "layers.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def five() -> rf.Ecosystem:
    return rf.load(FIVE)


def _at(result: object, actor: str, values: np.ndarray) -> float:
    return float(values[result.actors.index(actor)])  # type: ignore[attr-defined]


# ------------------------------------------------------------------ hand-derived cases


def test_power_fails(five: rf.Ecosystem) -> None:
    """docs/examples/layers.yaml, power stops (loss 1).

    Supply layer (money, reference damping): cement buys 100 from power and nothing else
    in the network, costs 400, so ``Ld = 100/100 * 100/400 = 0.25``: D_cement = 0.25.
    By-products: power's steam is essential for cement and half of cement's steam (200
    of 200 + 200 from outside): B_cement = 200/400 * 1 = 0.5. So cement loses
    max(0.25, 0.5) = 0.5. Upstream, cement's loss cuts power's sales: U_power = 100/400
    (power's revenue) * 0.5 = 0.125 (power is at 1 anyway). power's gypsum is a
    non-essential input of board: board buys 1000 t of natural gypsum at the virgin
    price 20 instead of 5: cost 1000 * (20 - 5) = 15,000 per period, no output lost.
    Score with out-strength weights (power 100, cloud 50): (100 * 1 + 50 * 0) / 150 = 2/3.
    """
    r = layered_cascade(five, ["power"])
    assert r.layers == LAYERS
    assert _at(r, "power", r.loss) == 1.0
    assert _at(r, "cement", r.loss) == pytest.approx(0.5)
    assert _at(r, "cement", r.loss_by_layer["supply"]) == pytest.approx(0.25)
    assert _at(r, "cement", r.loss_by_layer["byproducts"]) == pytest.approx(0.5)
    assert _at(r, "power", r.loss_by_layer["supply"]) == pytest.approx(0.125)
    assert _at(r, "board", r.loss) == 0.0
    assert _at(r, "board", r.cost_by_layer["byproducts"]) == pytest.approx(15_000)
    assert r.cost_total == pytest.approx(15_000)
    assert r.score == pytest.approx(2 / 3)
    assert r.complete
    assert r.score_upper == r.score
    # the supply layer alone: cement loses only its money input
    s = layered_cascade(five, ["power"], layers="supply")
    assert _at(s, "cement", s.loss) == pytest.approx(0.25)
    assert s.cost_total == 0.0


def test_cloud_fails(five: rf.Ecosystem) -> None:
    """cloud (provider of erp, capacity share 0.3, value 1000, adopters board and cement;
    and logistics, capacity share unknown, value 500, adopter farm) stops.

    Platform: board and cement lose 0.3 each and 1000 per period. Supply: board buys 50
    from cloud, its only money input, costs 200: D_board = 50/50 * 50/200 = 0.25 < 0.3.
    cement's 0.3 cuts power's sales: U_power = 100/400 * 0.3 = 0.075; power's loss
    0.075 cuts cement's steam: B_cement = 0.5 * 0.075 = 0.0375 (< 0.3) and board's
    gypsum: 0.075 * 1000 * 15 = 1125 per period. farm: capacity share unknown: loss 0
    as a lower bound, 1 as the upper; its lost module value 500 is known. board's output
    loss 0.3 cuts 3 t of offcuts to farm, whose price is unknown: listed. Costs: board
    1000 + 1125, cement 1000, farm 500: 3625. Score (power 100, cloud 50 weights):
    (100 * 0.075 + 50 * 1) / 150 = 0.38333.
    """
    r = layered_cascade(five, ["cloud"])
    expected = {"power": 0.075, "cement": 0.3, "board": 0.3, "cloud": 1.0, "farm": 0.0}
    for actor, loss in expected.items():
        assert _at(r, actor, r.loss) == pytest.approx(loss), actor
    assert _at(r, "farm", r.loss_upper) == 1.0
    assert _at(r, "cement", r.loss_by_layer["byproducts"]) == pytest.approx(0.0375)
    assert _at(r, "board", r.loss_by_layer["supply"]) == pytest.approx(0.25)
    assert _at(r, "board", r.cost) == pytest.approx(2125)
    assert _at(r, "cement", r.cost) == pytest.approx(1000)
    assert _at(r, "farm", r.cost) == pytest.approx(500)
    assert r.cost_total == pytest.approx(3625)
    assert r.score == pytest.approx(0.38333333333)
    assert not r.complete
    reasons = {(u["actor"], u["via"], u["what"]) for u in r.unquantified}
    assert reasons == {("farm", "offcuts", "extra cost"), ("farm", "logistics", "production loss")}
    offcuts = next(u for u in r.unquantified if u["via"] == "offcuts")
    assert offcuts["quantity_lost"] == pytest.approx(3.0)


def test_module_withdrawn(five: rf.Ecosystem) -> None:
    """erp withdrawn; cloud keeps producing.

    board and cement lose 0.3 (platform). board's 0.3 cuts cloud's sales upstream:
    U_cloud = 50/100 * 0.3 = 0.15, so cloud's other module (logistics) works at 0.85:
    farm loses between 0 and 0.15 and 500 * 0.15 = 75 per period. power 0.075 as when
    cloud fails (cement's 0.3 upstream), board's gypsum cost 1125. Costs: 2125 + 1000 +
    75 = 3200. Score: (100 * 0.075 + 50 * 0.15) / 150 = 0.1.
    """
    r = layered_cascade(five, withdrawn=["erp"])
    assert _at(r, "cloud", r.loss) == pytest.approx(0.15)
    assert _at(r, "farm", r.loss) == 0.0
    assert _at(r, "farm", r.loss_upper) == pytest.approx(0.15)
    assert _at(r, "farm", r.cost) == pytest.approx(75)
    assert r.cost_total == pytest.approx(3200)
    assert r.score == pytest.approx(0.1)
    assert r.withdrawn == ("erp",)
    # without the platform layer, withdrawing a module changes nothing
    assert layered_cascade(five, withdrawn=["erp"], layers="supply,byproducts").loss.max() == 0.0


def test_a_provider_adopting_its_own_module_is_not_hit_by_its_withdrawal(five: rf.Ecosystem, tmp_path: Path) -> None:
    """cloud listed as an adopter of its own erp: in-house use, not a dependence, so the
    result is the one without that listing (cloud loses 0.15 through the supply layer only)."""
    import yaml

    doc = yaml.safe_load(FIVE.read_text(encoding="utf-8"))
    erp = next(m for m in doc["modules"] if m["id"] == "erp")
    erp["adopters"] = [*erp["adopters"], erp["provider"]]
    (tmp_path / "own.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    listed = layered_cascade(rf.load(tmp_path / "own.yaml"), withdrawn=["erp"])
    plain = layered_cascade(five, withdrawn=["erp"])
    np.testing.assert_array_equal(listed.loss, plain.loss)
    np.testing.assert_array_equal(listed.loss_upper, plain.loss_upper)
    assert listed.cost_total == pytest.approx(plain.cost_total)


def test_byproduct_chain_without_money() -> None:
    """Three actors, by-products only, no money flows: a -> b slag (essential, all of b's
    slag), b -> c ash (essential, 40 of c's 100 t; the rest from outside), b -> c chips
    (non-essential, 10 t, price 2, replaces wood at 12: cost 10 * 10 = 100 per period).

    a fails: B_b = 1 (all its essential slag lost): b stops; B_c = 40/100 = 0.4; c's
    chips cost 1 * 10 * (12 - 2) = 100. Equal weights: (1 + 1 + 0.4) / 3 = 0.8.
    With a's loss 0.5 instead: b 0.5, c 0.2, cost 50.
    """
    eco = rf.Ecosystem(
        "chain",
        actors=[rf.Actor(id="a"), rf.Actor(id="b"), rf.Actor(id="c")],
        resources=[
            rf.Resource(id="slag", kind="material", unit="t", price=1.0),
            rf.Resource(id="ash", kind="material", unit="t", price=1.0),
            rf.Resource(id="chips", kind="material", unit="t", price=2.0, substitutes=("wood",)),
            rf.Resource(id="wood", kind="material", unit="t", price=12.0),
        ],
        flows=[
            rf.Flow("a", "b", "slag", 50.0, kind="by-product", input_class="essential"),
            rf.Flow("b", "c", "ash", 40.0, kind="waste", input_class="essential"),
            rf.Flow("world", "c", "ash", 60.0, kind="product"),
            rf.Flow("b", "c", "chips", 10.0, kind="by-product"),
        ],
    )
    r = layered_cascade(eco, ["a"], layers="byproducts", weights="equal")
    assert r.loss.tolist() == pytest.approx([1.0, 1.0, 0.4])
    assert r.cost.tolist() == pytest.approx([0.0, 0.0, 100.0])
    assert r.score == pytest.approx(0.8)
    half = layered_cascade(eco, {"a": 0.5}, layers="byproducts", weights="equal")
    assert half.loss.tolist() == pytest.approx([0.5, 0.5, 0.2])
    assert half.cost_total == pytest.approx(50.0)
    deps = Layers.from_ecosystem(eco).dependencies().to_dict()
    chips = next(d for d in deps if d["via"] == "chips")
    assert chips["extra_cost"] == pytest.approx(100.0)
    assert not chips["stop"]
    ash = next(d for d in deps if d["via"] == "ash")
    assert ash["share_lost"] == pytest.approx(0.4)
    assert ash["stop"]
    # the supply layer needs money flows: said so, not a silent zero
    with pytest.raises(CurrencyError, match="supply layer"):
        layered_cascade(eco, ["a"], weights="equal")
    with pytest.raises(ParameterError, match="weights"):
        layered_cascade(eco, ["a"], layers="byproducts")  # default weights need the money layer


def test_layers_view(five: rf.Ecosystem) -> None:
    lay = Layers.from_ecosystem(five)
    assert lay.supply is not None
    assert len(lay.supply.weight) == 2
    b = lay.byproducts
    assert len(b) == 3
    assert set(b.resource) == {"gypsum", "steam", "offcuts"}
    k = b.resource.index("gypsum")
    assert b.substitute[k] == "natural_gypsum"
    assert b.virgin_price[k] == 20
    assert b.byproduct_price[k] == 5
    assert b.distance_km[k] == pytest.approx(1.2, abs=0.2)
    assert math.isnan(b.distance_km[b.resource.index("offcuts")])  # farm has no location
    assert lay.platform.modules == ("erp", "logistics")
    assert math.isnan(lay.platform.capacity_share[1])
    d = lay.spatial.distance_km("power", "cloud")
    assert d is not None
    assert 85 < d < 95
    assert lay.spatial.distance_km("power", "farm") is None
    assert set(lay.spatial.within(55.67, 11.10, 10)) == {"power", "cement", "board"}
    summary = lay.to_dict()
    assert summary["layers"]["platform"]["capacity_share_unknown"] == ["logistics"]
    assert summary["layers"]["spatial"]["unlocated"] == ["farm"]
    frame = lay.to_frame()
    assert set(frame["layer"]) == {"supply", "byproducts", "platform"}
    farm = frame[(frame["actor"] == "farm") & (frame["layer"] == "platform")].iloc[0]
    assert math.isnan(farm["share_lost"])
    assert farm["reason"] == "capacity_share unknown"
    json.dumps(summary, allow_nan=False)


def test_result_shapes(five: rf.Ecosystem) -> None:
    r = layered_cascade(five, ["cloud"])
    data = r.to_dict()
    json.dumps(data, allow_nan=False)
    assert data["actors"]["farm"]["loss_upper"] == 1.0
    assert set(data["actors"]["board"]["loss_by_layer"]) == set(LAYERS)
    frame = r.to_frame()
    assert list(frame.index) == list(r.actors)
    assert {"loss", "loss_upper", "loss_supply", "cost_byproducts"} <= set(frame.columns)


# ------------------------------------------------------------------ profiles and engines


def test_profile_matches_single_scenarios(five: rf.Ecosystem) -> None:
    for engine in ("compiled", "numpy"):
        p = layered_profile(five, modules=["erp", "logistics"], actors=five.actor_ids, engine=engine)
        for label, kind, score, upper, cost in zip(
            p.labels, p.kinds, p.score, p.score_upper, p.cost_upper, strict=True
        ):
            one = layered_cascade(five, [label] if kind == "actor" else [], [label] if kind == "module" else [])
            assert score == pytest.approx(one.score, abs=1e-12), (engine, label)
            assert upper == pytest.approx(one.score_upper, abs=1e-12), (engine, label)
            assert cost == pytest.approx(one.cost_total_upper, abs=1e-9), (engine, label)
    p = layered_profile(five)
    assert p.ranking()[0][1] == "power"
    assert dict(zip(p.labels, p.unquantified.tolist(), strict=True))["cloud"] == 2
    json.dumps(p.to_dict(), allow_nan=False)
    assert list(p.to_frame().index) == list(five.actor_ids)


@pytest.fixture(scope="module")
def synthetic_layers() -> Layers:
    return Layers.from_ecosystem(rf.datasets.synthetic(n_actors=300, mean_degree=3, rng=11), valued=True)


def test_engines_agree_on_a_synthetic_ecosystem(synthetic_layers: Layers) -> None:
    """The compiled work list and the numpy sweeps reach the same fixed point."""
    a = layered_profile(synthetic_layers, engine="compiled", modules=synthetic_layers.platform.modules)
    b = layered_profile(synthetic_layers, engine="numpy", modules=synthetic_layers.platform.modules)
    np.testing.assert_allclose(a.score, b.score, atol=1e-10)
    np.testing.assert_allclose(a.score_upper, b.score_upper, atol=1e-10)
    for layer in LAYERS:
        np.testing.assert_allclose(a.score_by_layer[layer], b.score_by_layer[layer], atol=1e-10)
    np.testing.assert_allclose(a.cost, b.cost, rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(a.unquantified, b.unquantified)
    np.testing.assert_array_equal(a.reached, b.reached)
    assert (a.score_upper >= a.score - 1e-12).all()


def test_supply_only_is_the_esri_cascade(synthetic_layers: Layers, five: rf.Ecosystem) -> None:
    """With the supply layer alone, the profile is the ESRI profile at the fixed point
    (same network, weights and damping), and one scenario is cascade()'s."""
    net = synthetic_layers.supply
    assert net is not None
    for damping in ("reference", "outside-trade"):
        ref = esri(net, damping=damping)
        mine = layered_profile(synthetic_layers, layers="supply", damping=damping)
        np.testing.assert_allclose(mine.score, ref.esri, atol=1e-12)
    one = cascade(five, {"cloud": 1.0})
    mine1 = layered_cascade(five, ["cloud"], layers=["supply"])
    np.testing.assert_allclose(mine1.loss, one.loss, atol=1e-14)
    np.testing.assert_allclose(mine1.loss_down, one.loss_down, atol=1e-14)
    assert mine1.score == pytest.approx(one.esri)


def test_valued_supply_layer_leaves_byproducts_to_their_layer() -> None:
    eco = rf.datasets.synthetic(n_actors=60, rng=5)
    lay = Layers.from_ecosystem(eco, valued=True)
    full = SupplyNetwork.from_ecosystem(eco, valued=True)
    assert lay.supply is not None
    assert len(lay.supply.weight) == len(full.weight) - len(lay.byproducts)


# ------------------------------------------------------------------ properties


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[rf.Ecosystem, list[str], list[str], list[str]]:
    eco = rf.datasets.synthetic(
        n_actors=draw(st.integers(5, 40)), mean_degree=draw(st.floats(1.0, 4.0)), rng=draw(st.integers(0, 10_000))
    )
    ids = list(eco.actor_ids)
    small = draw(st.lists(st.sampled_from(ids), max_size=3, unique=True))
    extra = draw(st.lists(st.sampled_from(ids), max_size=3, unique=True))
    mods = [m.id for m in eco.modules]
    withdrawn = draw(st.lists(st.sampled_from(mods), max_size=2, unique=True)) if mods else []
    return eco, small, sorted(set(small) | set(extra)), withdrawn


PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(scenarios(), st.lists(st.sampled_from(LAYERS), unique=True))
def test_losses_are_shares_and_grow_with_the_failed_set(
    case: tuple[rf.Ecosystem, list[str], list[str], list[str]], layers: list[str]
) -> None:
    eco, small, large, withdrawn = case
    lay = Layers.from_ecosystem(eco, valued=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.errors.RainforestWarning)
        a = layered_cascade(lay, small, withdrawn, layers=layers)
        b = layered_cascade(lay, large, withdrawn, layers=layers)
    for r in (a, b):
        for arr in (r.loss, r.loss_upper, r.loss_down, r.loss_up, *r.loss_by_layer.values()):
            assert ((arr >= 0) & (arr <= 1)).all()
        assert (r.loss <= r.loss_upper + 1e-12).all()
        assert 0 <= r.score <= r.score_upper + 1e-12 <= 1 + 1e-12
        assert (r.cost >= -1e-9).all()  # synthetic virgin prices are never below the by-product's
        failed = [r.actors.index(x) for x in r.failed]
        assert (r.loss[failed] == 1).all()
    assert (a.loss <= b.loss + 1e-12).all()
    assert (a.loss_upper <= b.loss_upper + 1e-12).all()
    assert (a.cost <= b.cost + 1e-6 * (1 + abs(b.cost))).all()


@PROPERTY
@given(scenarios())
def test_no_layer_no_loss(case: tuple[rf.Ecosystem, list[str], list[str], list[str]]) -> None:
    eco, small, _large, withdrawn = case
    r = layered_cascade(eco, small, withdrawn, layers=(), valued=True)
    shock = np.zeros(len(r.actors))
    shock[[r.actors.index(a) for a in small]] = 1.0
    np.testing.assert_array_equal(r.loss, shock)
    np.testing.assert_array_equal(r.loss_upper, shock)
    assert r.cost_total == 0.0
    assert r.complete


@PROPERTY
@given(scenarios())
def test_more_layers_never_lose_less(case: tuple[rf.Ecosystem, list[str], list[str], list[str]]) -> None:
    eco, small, _large, withdrawn = case
    lay = Layers.from_ecosystem(eco, valued=True)
    one = layered_cascade(lay, small, withdrawn, layers="supply")
    two = layered_cascade(lay, small, withdrawn, layers="supply,byproducts")
    three = layered_cascade(lay, small, withdrawn)
    assert (one.loss <= two.loss + 1e-12).all()
    assert (two.loss <= three.loss + 1e-12).all()


# ------------------------------------------------------------------ bad input


def test_bad_input(five: rf.Ecosystem) -> None:
    with pytest.raises(ParameterError, match=r"'layers'.*'supply', 'byproducts' or 'platform'.*'suply'") as info:
        layered_cascade(five, ["power"], layers=["suply"])
    assert "Did you mean 'supply'" in str(info.value)
    with pytest.raises(ParameterError, match="'layers'"):
        layered_profile(five, layers="supply,money")
    with pytest.raises(UnknownIdError, match="powr"):
        layered_cascade(five, ["powr"])
    with pytest.raises(UnknownIdError, match="module"):
        layered_cascade(five, withdrawn=["crm"])
    with pytest.raises(ParameterError, match="between 0 and 1"):
        layered_cascade(five, {"power": 1.5})
    with pytest.raises(ParameterError, match="weights"):
        layered_cascade(five, ["power"], weights=[1.0, 2.0])
    with pytest.raises(ParameterError, match="engine"):
        layered_profile(five, engine="gpu")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="platform"):
        layered_profile(five, modules=["erp"], layers="supply")
    with pytest.raises(ParameterError, match="Ecosystem or Layers"):
        layered_cascade("docs/examples/layers.yaml", ["power"])  # type: ignore[arg-type]


# ------------------------------------------------------------------ the command line


def test_cli_profile_json() -> None:
    result = runner.invoke(app, ["risk", str(FIVE), "--layers", "supply,byproducts,platform", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["layers"] == ["supply", "byproducts", "platform"]
    assert data["actors"]["power"]["score"] == pytest.approx(2 / 3)
    assert data["actors"]["power"]["cost_by_layer"]["byproducts"] == pytest.approx(15_000)


def test_cli_scenario_json_per_actor_and_layer() -> None:
    result = runner.invoke(
        app, ["risk", str(FIVE), "--layers", "platform,supply", "--actors", "cloud", "--together", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["layers"] == ["supply", "platform"]
    assert data["actors"]["board"]["loss_by_layer"] == {"supply": pytest.approx(0.25), "platform": pytest.approx(0.3)}
    assert data["actors"]["farm"]["loss_upper"] == 1.0
    assert data["complete"] is False
    result = runner.invoke(app, ["risk", str(FIVE), "--layers", "supply,byproducts,platform", "--withdraw", "erp"])
    assert result.exit_code == 0, result.output
    assert "score 0.1000" in result.stdout
    assert "0.0000..0.1500" in result.stdout


def test_cli_bad_layers() -> None:
    result = runner.invoke(app, ["risk", str(FIVE), "--layers", "supply,foo", "--json"])
    assert result.exit_code == 2
    message = json.loads(result.stdout)["error"]
    assert "'supply', 'byproducts' or 'platform'" in message
    assert "'foo'" in message
    result = runner.invoke(app, ["risk", str(FIVE), "--withdraw", "erp"])
    assert result.exit_code == 2
    assert "--withdraw needs --layers" in result.output
    result = runner.invoke(app, ["risk", str(FIVE), "--layers", "supply", "--substitution"])
    assert result.exit_code == 2
    assert "--substitution" in result.output


@PROPERTY
@given(st.integers(0, 10_000), st.lists(st.sampled_from([0.0, 0.3, 1.0, math.nan]), min_size=1, max_size=8))
def test_profile_is_each_scenario_with_mixed_capacity_shares(seed: int, shares: list[float]) -> None:
    """The compiled profile (the upper bound continued from the lower fixed point) gives
    every scenario's numbers as the single cascade does, whatever shares are unknown."""
    eco = rf.datasets.synthetic(n_actors=60, mean_degree=3.0, rng=seed)
    lay = Layers.from_ecosystem(eco, valued=True)
    k = len(lay.platform)
    share = np.resize(np.asarray(shares), k)
    lay = dataclasses.replace(lay, platform=dataclasses.replace(lay.platform, capacity_share=share))
    actors = list(lay.ids[:: max(1, lay.n // 8)])
    modules = list(lay.platform.modules[:3])
    p = layered_profile(lay, actors=actors, modules=modules)
    for label, kind, score, upper, cost, cost_hi in zip(
        p.labels, p.kinds, p.score, p.score_upper, p.cost, p.cost_upper, strict=True
    ):
        one = layered_cascade(lay, [label] if kind == "actor" else [], [label] if kind == "module" else [])
        assert score == pytest.approx(one.score, abs=1e-10)
        assert upper == pytest.approx(one.score_upper, abs=1e-10)
        assert cost == pytest.approx(one.cost_total, rel=1e-9, abs=1e-6)
        assert cost_hi == pytest.approx(one.cost_total_upper, rel=1e-9, abs=1e-6)


def test_cli_values_flows_when_the_document_has_no_money(tmp_path: Path) -> None:
    path = tmp_path / "synthetic.json"
    rf.save(rf.datasets.synthetic(n_actors=40, rng=2), path)
    result = runner.invoke(app, ["risk", str(path), "--layers", "supply,byproducts,platform", "--top", "3"])
    assert result.exit_code == 0, result.output
    assert "values flows at their resources' prices" in result.output
    assert "(top 3 of 40; --json gives all)" in result.output
    result = runner.invoke(app, ["risk", str(path), "--layers", "byproducts", "--weights", "revenue", "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["actors"]) == 40
