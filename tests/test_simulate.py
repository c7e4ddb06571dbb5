"""The simulator: classic models reproduced, shape checks of the symbiosis rules, the
mechanisms, reproducibility on every executor, scenarios and the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import rainforest as rf
from rainforest import simulate
from rainforest.cli import app
from rainforest.simulate import competition, scenario, shocks, symbiosis
from rainforest.simulate._setup import random_graph

runner = CliRunner()


@pytest.fixture(scope="module")
def eco() -> rf.Ecosystem:
    return rf.datasets.synthetic(n_actors=150, rng=2)


# -- classic models -------------------------------------------------------------------------------
def test_lotka_volterra_coexistence_equilibrium() -> None:
    """Two competitors coexist at N1* = (K1 - a12 K2) / (1 - a12 a21), N2* symmetric, when
    a12 < K1/K2 and a21 < K2/K1 (Lotka 1925; Volterra 1926; e.g. Gotelli, A Primer of
    Ecology, ch. 5)."""
    K, a = (100.0, 80.0), (0.5, 0.4)
    n = competition.lotka_volterra((5.0, 5.0), (1.0, 0.8), K, a, periods=200)[-1]
    expected = ((K[0] - a[0] * K[1]) / (1 - a[0] * a[1]), (K[1] - a[1] * K[0]) / (1 - a[0] * a[1]))
    assert n == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx((75.0, 50.0))


def test_lotka_volterra_competitive_exclusion() -> None:
    """When a21 > K2/K1 and a12 < K1/K2, species 1 excludes species 2 and sits at K1."""
    n = competition.lotka_volterra((10.0, 10.0), (1.0, 1.0), (100.0, 80.0), (0.5, 1.2), periods=400)[-1]
    assert n[0] == pytest.approx(100.0, rel=1e-4)
    assert n[1] < 1e-3


def test_arthur_increasing_returns_lock_in() -> None:
    """Arthur (1989): with increasing returns the adoption process locks in to one
    technology with probability one; which one is random (each about half the time here,
    as the two types are symmetric). Lock-in happens once |n_A - n_B| exceeds
    (a_R - b_R) / r = 4: after it both types choose the leader."""
    finals = []
    for seed in range(200):
        d = competition.arthur(600, rng=seed)
        assert abs(int(d[-1])) >= 500  # the last adoptions all went to the leader
        late = np.diff(d[-100:])
        assert np.all(late == late[0])
        finals.append(d[-1] > 0)
    share_a = float(np.mean(finals))
    assert 0.5 - 4 * 0.035 < share_a < 0.5 + 4 * 0.035  # binomial sd sqrt(.25/200) = 0.035


def test_arthur_without_increasing_returns_no_lock_in() -> None:
    """With r = s = 0 each type follows its preference: the split stays near half and
    half (a symmetric random walk), no lock-in."""
    d = competition.arthur(20_000, r=0.0, s=0.0, rng=1)
    assert abs(int(d[-1])) < 4 * math.sqrt(20_000)


@pytest.mark.parametrize(("z", "expected"), [(1.5, 0.5828), (2.0, 0.7968), (3.0, 0.9405)])
def test_erdos_renyi_giant_component(z: float, expected: float) -> None:
    """G(n, p) with mean degree z > 1 has a giant component of size S n with
    S = 1 - exp(-z S) (Erdos & Renyi 1960; the fixed point printed to 4 decimals)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    n = 40_000
    src, dst = random_graph(n, z, np.random.default_rng(3))
    graph = sp.coo_array((np.ones(src.size), (src, dst)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    giant = np.bincount(labels).max() / n
    s = 0.5
    for _ in range(200):
        s = 1 - math.exp(-z * s)
    assert s == pytest.approx(expected, abs=1e-4)
    assert giant == pytest.approx(s, abs=0.015)


def _cascade_frequency(z: float, phi: float = 0.18, n: int = 4000, trials: int = 40) -> float:
    rng = np.random.default_rng(int(z * 100))
    hits = 0
    for _ in range(trials):
        a, b = random_graph(n, z, rng)
        src, dst = np.concatenate([a, b]), np.concatenate([b, a])
        failed = shocks.threshold_cascade(n, src, dst, rng.integers(0, n, 1), phi)
        hits += failed.mean() > 0.1
    return hits / trials


def test_watts_cascade_window() -> None:
    """Watts (2002, PNAS 99:5766-5771), Fig. 1: with threshold 0.18 on random graphs, a
    single seed triggers global cascades only inside a window of mean degree, roughly
    1 < z < 6 (none below the percolation threshold, none once nodes have too many
    neighbours to be tipped by one); inside it, the frequency is substantial."""
    assert _cascade_frequency(0.6) == 0.0
    assert _cascade_frequency(3.0) > 0.3
    assert _cascade_frequency(12.0) == 0.0


# -- symbiosis shape checks -----------------------------------------------------------------------
def test_worked_example_of_the_space_of_cooperation() -> None:
    """A worked example of the cost-benefit test (illustrative, not published): q = 100 t,
    c_d = 50, p_v = 30, c_tr = 20, c_tt = 15, F = 500 -> TSC 8000, TAC 4000, alpha in
    [0.25, 1], alpha* = 0.75 and 2000 to each firm."""
    q, c_d, p_v = 100.0, 50.0, 30.0
    tac = q * (20 + 15) + 500
    low, high = symbiosis.space_of_cooperation(q, c_d, p_v, tac)
    assert (float(low), float(high)) == (0.25, 1.0)
    alpha = float(symbiosis.fair_share(q, c_d, p_v, tac))
    assert alpha == 0.75
    assert q * c_d - alpha * tac == q * p_v - (1 - alpha) * tac == 2000.0


def _width(q: float, tax: float = 0.0, subsidy: float = 0.0) -> float:
    c_d, p_v, unit, fixed = 50.0 + tax, 30.0, 35.0 - subsidy, 500.0
    tac = q * unit + fixed
    low, high = symbiosis.space_of_cooperation(q, c_d, p_v, tac)
    return max(0.0, float(high) - float(low))


def test_shape_check_space_shrinks_with_mismatch() -> None:
    """Shape check: the smaller the matched quantity (the larger the supply/demand
    mismatch) against the fixed cost F, the narrower the space of cooperation, until it is
    empty."""
    widths = [_width(q) for q in (200, 100, 50, 20, 12, 10)]
    assert widths == sorted(widths, reverse=True)
    assert widths[0] > widths[-1]
    assert _width(5) == 0.0


def test_shape_check_landfill_tax_and_subsidy_enlarge_the_space() -> None:
    """Shape check: a landfill tax (producer's saving) and a subsidy (lower additional
    cost) each enlarge the space of cooperation; an empty space can become non-empty."""
    for q in (15.0, 50.0, 100.0):
        assert _width(q, tax=20.0) >= _width(q)
        assert _width(q, subsidy=10.0) >= _width(q)
    assert _width(8.0) == 0.0
    assert _width(8.0, tax=60.0) > 0.0


def _synergies(eco: rf.Ecosystem, periods: int = 25, seeds: int = 4, **changes: object) -> np.ndarray:
    params = simulate.Params().replace(
        **{"demography.enabled": False, "competition.enabled": False, "ena_every": 0, **changes}
    )
    return np.mean([simulate.Model(eco, params, rng=s).run(periods).series["synergies"] for s in range(seeds)], axis=0)


def test_shape_check_synergies_rise_and_saturate(eco: rf.Ecosystem) -> None:
    """Shape check (Ghali et al. 2017 via ABSiCE): the cumulative number of synergies rises
    and saturates."""
    s = _synergies(eco, periods=40)
    assert np.all(np.diff(s) >= 0)
    assert s[-1] > s[0]
    assert s[19] - s[0] > s[-1] - s[20]  # more in the first half than in the second


def test_shape_check_denser_social_network_is_faster(eco: rf.Ecosystem) -> None:
    """Shape check: synergies rise faster on a denser social network."""
    sparse = _synergies(eco, periods=15, **{"symbiosis.social_degree": 2})
    dense = _synergies(eco, periods=15, **{"symbiosis.social_degree": 16})
    assert dense[-1] > sparse[-1]


def test_shape_check_higher_thresholds_delay_and_lower(eco: rf.Ecosystem) -> None:
    """Shape check: raising the willingness threshold delays and lowers the plateau."""
    low = _synergies(eco, periods=15, **{"symbiosis.theta_willingness": 0.3})
    high = _synergies(eco, periods=15, **{"symbiosis.theta_willingness": 0.8})
    assert high[-1] < low[-1]
    assert high[4] <= low[4]


# -- mechanisms -----------------------------------------------------------------------------------
def test_density_dependent_founding_falls_beyond_the_initial_density() -> None:
    """Hannan & Carroll: founding rises with density (legitimation) then falls
    (competition): with b1 = 1, b2 = -1 the rate per initial head peaks at rho = 1/2."""
    d = simulate.Demography()
    rate = [math.exp(d.b1 * (r - 1) + d.b2 * (r**2 - 1)) for r in (0.25, 0.5, 1.0, 2.0)]
    assert rate[1] == max(rate)
    assert rate[3] < rate[2] < rate[1]


@pytest.mark.parametrize("fused", [False, True])
def test_mortality_and_growth_follow_their_distributions(fused: bool) -> None:
    """One period of the demography kernel against its stated law (Params.Demography):
    the number of deaths is the sum of Bernoulli(1 - exp(-mu_i)) with mu_i from stratum,
    density, age and size; survivors' log growth is normal with the stratum's mean and
    volatility (profit response off). Both the separate and the fused pass."""
    eco = rf.datasets.synthetic(n_actors=3000, rng=5)
    d = simulate.Demography()
    params = simulate.Params().replace(
        **{
            "symbiosis.enabled": False,
            "platform.enabled": False,
            "openness.enabled": False,
            "demography.profit_response": 0.0,
            "demography.base_death": (0.05, 0.1, 0.2, 0.3),
            "ena_every": 0,
        }
    )
    deaths, expected, variance = 0, 0.0, 0.0
    growth: dict[int, list[np.ndarray]] = {2: [], 3: []}
    for seed in range(8):  # 8 runs of one period: about 3,700 deaths expected
        model = simulate.Model(eco, params, rng=seed)
        a = model.agents
        st = a["stratum"].astype(np.int64)
        rho = np.bincount(st, minlength=4) / model.demography.initial
        base = np.asarray(params.demography.base_death) * np.exp(d.d1 * (rho - 1) + d.d2 * (rho**2 - 1))
        median = model.demography.median
        mu = base[st] * (1.0 + a["age"]) ** d.e1 * (a["size"] / median[st]) ** d.e2
        p = 1.0 - np.exp(-mu)
        size0, stratum0 = a["size"].copy(), st.copy()
        if fused:
            model.demography.exit_and_grow(model)
        else:
            model.demography.exit(model)
            model.demography.grow(model)
        deaths += int((~a.alive).sum())
        expected += float(p.sum())
        variance += float((p * (1 - p)).sum())
        for s, parts in growth.items():
            keep = a.alive & (stratum0 == s)
            parts.append(np.log(a["size"][keep] / size0[keep]))
        assert (a["age"][a.alive] >= 1).all()
    assert abs(deaths - expected) < 4 * math.sqrt(variance)
    for s, parts in growth.items():  # the populous strata
        g = np.concatenate(parts)
        assert abs(g.mean() - d.growth[s]) < 4 * d.volatility[s] / math.sqrt(g.size)
        assert g.std() == pytest.approx(d.volatility[s], rel=0.05)


def test_a_closed_platform_has_no_adopters(eco: rf.Ecosystem) -> None:
    assert len(eco.modules) > 0
    closed = simulate.Params().replace(**{"platform.openness": 0.0, "ena_every": 0})
    result = simulate.Model(eco, closed, rng=1).run(5)
    assert "adoption" not in result.events.counts()
    opened = simulate.Model(eco, simulate.Params().replace(ena_every=0), rng=1).run(5)
    assert opened.events.counts()["adoption"] > 0
    assert opened.series["adoption"][-1] > opened.series["adoption"][0] * 0.9


def test_exit_shock_cascades_and_recovery_is_measured(eco: rf.Ecosystem) -> None:
    from rainforest.analysis import positioning

    hub = max(positioning.position(eco).actors, key=lambda a: a.esri or 0).actor
    params = simulate.Params(shocks=(simulate.Shock(period=3, kind="exit", targets=(hub,)),)).replace(ena_every=0)
    result = simulate.Model(eco, params, rng=4).run(10)
    counts = result.events.counts()
    assert counts["exit (shock)"] == 1
    assert counts["cascade loss"] > 0
    recovery = result.series["recovery"]
    assert np.isnan(recovery[:3]).all()
    assert np.isfinite(recovery[3:]).all()


def test_policy_shock_sets_the_landfill_tax_for_its_duration(eco: rf.Ecosystem) -> None:
    params = simulate.Params(shocks=(simulate.Shock(2, "landfill_tax", magnitude=30.0, duration=3),))
    model = simulate.Model(eco, params.replace(ena_every=0), rng=1)
    seen = []
    for _ in range(7):
        model.step()
        seen.append(model.policy["landfill_tax"])
    assert seen == [0.0, 0.0, 30.0, 30.0, 30.0, 0.0, 0.0]


def test_unknown_shock_target_is_a_clear_error(eco: rf.Ecosystem) -> None:
    params = simulate.Params(shocks=(simulate.Shock(0, "exit", targets=("nobody",)),))
    with pytest.raises(simulate.SimulationError, match="unknown actor"):
        simulate.Model(eco, params, rng=1).run(1)


def test_contagion_spreads_exits_on_the_social_network(eco: rf.Ecosystem) -> None:
    first = eco.actors[0].id
    base = simulate.Params(shocks=(simulate.Shock(1, "exit", targets=(first,)),)).replace(ena_every=0)
    quiet = simulate.Model(eco, base, rng=2).run(3).events.counts()
    loud = simulate.Model(eco, base.replace(contagion=0.01), rng=2).run(3).events.counts()
    assert "exit (contagion)" not in quiet
    assert loud["exit (contagion)"] > 10


def test_rival_ecosystems_compete_for_members(eco: rf.Ecosystem) -> None:
    rival = rf.datasets.synthetic(n_actors=100, rng=9)
    params = simulate.Params().replace(
        **{"competition.switching_cost": 0.0, "competition.switch_rate": 0.5, "ena_every": 0}
    )
    result = simulate.Model(eco, params, rng=3, rivals=[rival]).run(10)
    assert "members_0" in result.series
    assert "members_1" in result.series
    assert result.events.counts().get("switch", 0) > 0


def test_strategy_race_measures_the_lone_firm_against_the_ecosystem(eco: rf.Ecosystem) -> None:
    provider = eco.modules[0].provider
    race = scenario.strategy_race(eco, provider, periods=12, runs=3, rng=1)
    assert len(race["lone"]) == len(race["ecosystem"]) == 12
    assert race["crossover"] is None or 1 <= race["crossover"] <= 12


def test_snapshot_is_a_document_every_analysis_applies_to(eco: rf.Ecosystem) -> None:
    model = simulate.Model(eco, simulate.Params().replace(ena_every=0), rng=1)
    result = model.run(5, keep=[0, 5])
    first, last = result.snapshots[0], result.snapshots[5]
    assert len(first.actors) == len(eco.actors)
    assert len(last.actors) == int(result.series["actors"][-1])
    loaded = rf.load(rf.save(last, Path(__import__("tempfile").mkdtemp()) / "t5.json"))
    assert loaded == last
    assert rf.ena.analyze(rf.FlowMatrix.from_ecosystem(last, "mass"), balance="boundary").flow["TST"] > 0


# -- reproducibility ------------------------------------------------------------------------------
def test_snapshot_of_a_document_without_capabilities() -> None:
    """Kalundborg names no capability; mutation may still set the model's one unnamed
    column, which a snapshot leaves out (it used to fail with an IndexError)."""
    eco = rf.datasets.kalundborg()
    result = simulate.Model(eco, rng=1).run(25, keep=(25,))
    assert all(actor.capabilities == () for actor in result.snapshots[25].actors)


def test_same_seed_same_result_different_seed_different(eco: rf.Ecosystem) -> None:
    a = simulate.Model(eco, rng=11).run(6)
    b = simulate.Model(eco, rng=11).run(6)
    c = simulate.Model(eco, rng=12).run(6)
    for name in a.series:
        assert np.array_equal(a.series[name], b.series[name], equal_nan=True)
    assert a.events.rows() == b.events.rows()
    assert not np.array_equal(a.series["value_added"], c.series["value_added"])


def test_monte_carlo_is_bit_identical_on_every_executor(eco: rf.Ecosystem) -> None:
    kwargs = {"periods": 5, "runs": 4, "rng": 3}
    inline = scenario.monte_carlo(eco, **kwargs)  # type: ignore[arg-type]
    local = scenario.monte_carlo(eco, executor="processes", workers=2, **kwargs)  # type: ignore[arg-type]
    threads = scenario.monte_carlo(eco, executor="threads", workers=2, **kwargs)  # type: ignore[arg-type]
    dask = scenario.monte_carlo(eco, executor="dask", workers=2, **kwargs)  # type: ignore[arg-type]
    for name in inline.metrics():
        assert np.array_equal(inline.metric(name), local.metric(name), equal_nan=True)
        assert np.array_equal(inline.metric(name), threads.metric(name), equal_nan=True)
        assert np.array_equal(inline.metric(name), dask.metric(name), equal_nan=True)
    assert inline.summary() == local.summary() == threads.summary() == dask.summary()


def test_sweep_points() -> None:
    grid = scenario.sweep_points({"a": [1, 2], "b": [3, 4, 5]}, "grid")
    assert len(grid) == 6
    assert grid[0] == {"a": 1, "b": 3}
    lhs = scenario.sweep_points({"x": {"low": 0, "high": 1}, "y": {"low": 10, "high": 20}}, "lhs", samples=10, rng=1)
    xs = sorted(p["x"] for p in lhs)
    # a Latin hypercube puts exactly one point in each tenth of each range
    assert [int(x * 10) for x in xs] == list(range(10))
    assert sorted(int(p["y"] - 10) for p in lhs) == list(range(10))
    assert scenario.sweep_points({"x": {"low": 0, "high": 1}}, "lhs", samples=10, rng=1) != scenario.sweep_points(
        {"x": {"low": 0, "high": 1}}, "lhs", samples=10, rng=2
    )


def test_params_reject_unknown_names() -> None:
    with pytest.raises(simulate.SimulationError, match="unknown symbiosis parameter 'trys'"):
        simulate.Params().replace(**{"symbiosis.trys": 0.3})
    with pytest.raises(simulate.SimulationError, match="unknown parameter group"):
        simulate.Params().replace(**{"symbiotic.tries": 0.3})


def test_scenario_file(tmp_path: Path, eco: rf.Ecosystem) -> None:
    rf.save(eco, tmp_path / "base.yaml")
    (tmp_path / "s.yaml").write_text(
        "base: base.yaml\nperiods: 4\nruns: 2\nseed: 5\n"
        "params:\n  ena_every: 0\n  policy: {landfill_tax: 10}\n  shocks:\n    - {period: 2, kind: price, magnitude: 0.5}\n"
        "sweep:\n  method: grid\n  parameters:\n    symbiosis.tries: [0.1, 0.4]\n"
    )
    spec = scenario.load_scenario(tmp_path / "s.yaml", rf.load)
    assert spec.params.policy.landfill_tax == 10
    ensembles = scenario.run_scenario(spec)
    assert [e.point for e in ensembles] == [{"symbiosis.tries": 0.1}, {"symbiosis.tries": 0.4}]
    (tmp_path / "bad.yaml").write_text("base: base.yaml\nparams:\n  symbiosis: {trys: 1}\n")
    with pytest.raises(simulate.SimulationError, match=r"bad.yaml: params: unknown symbiosis parameter 'trys'"):
        scenario.load_scenario(tmp_path / "bad.yaml", rf.load)


def test_cli_simulate_writes_outputs_and_a_deterministic_summary(tmp_path: Path, eco: rf.Ecosystem) -> None:
    doc = rf.save(eco, tmp_path / "eco.yaml")
    args = ["simulate", str(doc), "--periods", "4", "--runs", "3", "--seed", "9", "--json"]
    first = runner.invoke(app, [*args, "-o", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, [*args, "-o", str(tmp_path / "b"), "--executor", "processes", "--workers", "2"])
    assert first.stdout == second.stdout
    summary = json.loads(first.stdout)
    assert summary["runs"] == 3
    assert summary["final"]["actors"]["mean"] > 0
    out = tmp_path / "a"
    for name in ("series.csv", "series.parquet", "events.csv", "summary.json", "simulation.html"):
        assert (out / name).exists(), name
    import pandas as pd

    series = pd.read_parquet(out / "series.parquet")
    assert sorted(series["run"].unique().tolist()) == [0, 1, 2]
    assert len(series) == 3 * 4
    assert "Plotly.newPlot" in (out / "simulation.html").read_text()


def test_strategy_race_keeps_its_old_address_with_a_warning() -> None:
    from rainforest.simulate import competition, scenario

    with pytest.warns(DeprecationWarning, match="scenario.strategy_race"):
        assert competition.strategy_race is scenario.strategy_race


def test_a_metric_that_cannot_be_computed_is_nan_with_an_event() -> None:
    """A document without a mass layer (its only flows are energy) has no ENA of its
    exchange network: FCI and the other ENA metrics are recorded as NaN, and the event
    log says which metrics failed and why, instead of the columns silently missing."""
    eco = rf.Ecosystem(
        name="energy only",
        actors=[rf.Actor("plant"), rf.Actor("mill"), rf.Actor("farm")],
        resources=[rf.Resource("steam", "energy", "MWh")],
        flows=[rf.Flow("plant", "mill", "steam", 10.0), rf.Flow("mill", "farm", "steam", 4.0)],
    )
    params = simulate.Params().replace(**{"demography.enabled": False, "competition.enabled": False, "ena_every": 2})
    result = simulate.Model(eco, params, rng=1).run(4)
    for metric in ("FCI", "ASC.CAP", "robustness"):
        assert np.isnan(result.series[metric]).all()
    failed = [e for e in result.events.rows() if e["kind"] == "metric failed"]
    assert [e["period"] for e in failed] == [2, 4]
    assert {e["actor"] for e in failed} == {"model"}
    assert failed[0]["detail"].startswith("FCI, ASC.CAP, robustness: the document's mass layer cannot be built")
    assert result.events.counts()["metric failed"] == 2
