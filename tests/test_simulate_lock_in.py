"""Lock-in under increasing returns (Arthur 1989) against its closed form, the public
classic models of the simulator and their parameter checks.

The closed form. Arthur, W. B. (1989), "Competing technologies, increasing returns, and
lock-in by historical events", The Economic Journal 99(394), 116-131, section 3 and
Table 1: agents of type R (probability p) and S (1 - p) arrive one at a time and adopt A
or B; R's payoffs are ``a_R + r n_A`` and ``b_R + r n_B``, S's ``a_S + s n_A`` and
``b_S + s n_B`` (``a_R > b_R``, ``b_S > a_S``: R prefers A, S prefers B).

Write ``d = n_A - n_B``. An R-agent adopts A exactly when ``a_R + r n_A >= b_R + r n_B``,
i.e. ``d >= -Δ_R`` with ``Δ_R = (a_R - b_R) / r``; an S-agent adopts A exactly when
``d > Δ_S`` with ``Δ_S = (b_S - a_S) / s``. Inside the band ``-Δ_R <= d <= Δ_S`` each type
follows its preference, so ``d`` steps +1 with probability p and -1 with probability
q = 1 - p. At ``U = floor(Δ_S) + 1`` both types adopt A and ``d`` only grows: the process
is locked into A; at ``L = -(floor(Δ_R) + 1)`` both adopt B: locked into B (for
non-integer Δ; the tests keep Δ away from integers so no payoff ties in floating point).
So ``d`` is a gambler's-ruin walk from 0 with absorbing barriers L < 0 < U. Shift it to
``x = d - L`` on ``0..N`` with ``N = U - L`` and start ``i = -L``. With ``ρ = q / p``:

- P(locked into A) = ``(1 - ρ^i) / (1 - ρ^N)`` (p ≠ q), ``i / N`` (p = q);
- E[adoptions to lock-in] = ``i / (q - p) - (N / (q - p)) P(A)`` (p ≠ q), ``i (N - i)``
  (p = q)

(the gambler's-ruin probability and duration, Feller, An Introduction to Probability
Theory and Its Applications I, ch. XIV.2-3). The step from which a run is locked in is
the adoption at which ``d`` first reaches a barrier, so "time to lock-in" in adoptions is
the walk's absorption time.

In the simulator, entrants arrive through founding (a Poisson number each period) and
each draws its type and chooses in turn; with ``returns_basis = "count"`` the returns
grow with the entrants that chose each ecosystem so far, so the sequence of choices is
Arthur's process whatever the demography does, and the lock-in probabilities of an
ensemble of whole simulations must match the same closed form.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rainforest as rf
from rainforest import simulate
from rainforest.errors import ParameterError, SimulationError
from rainforest.simulate import competition, scenario, shocks


def gamblers_ruin(a_r: float, b_r: float, a_s: float, b_s: float, r: float, s: float, p: float) -> tuple[float, float]:
    """P(locked into A) and E[adoptions to lock-in], from the module docstring."""
    upper = math.floor((b_s - a_s) / s) + 1
    lower = -(math.floor((a_r - b_r) / r) + 1)
    n, i, q = upper - lower, -lower, 1 - p
    if abs(p - q) < 1e-12:
        return i / n, float(i * (n - i))
    rho = q / p
    prob = (1 - rho**i) / (1 - rho**n)
    return prob, i / (q - p) - n / (q - p) * prob


CASES = [
    # a_R, b_R, a_S, b_S, r, s, p: symmetric; R the majority; unequal barriers; S the majority
    (1.0, 0.75, 0.75, 1.0, 0.1, 0.1, 0.5),
    (1.0, 0.75, 0.8, 1.05, 0.1, 0.1, 0.6),
    (1.0, 0.85, 0.8, 1.15, 0.1, 0.1, 0.5),
    (1.0, 0.65, 0.9, 1.05, 0.1, 0.1, 0.3),
    # unequal returns r != s (Arthur's r and s): barriers -3 (2.7 -> 3) and +6 (5.4 -> 6),
    # P(A) = 0.541; with r and s swapped it would be 0.838, so a swap cannot pass
    (1.0, 0.73, 0.8, 1.07, 0.1, 0.05, 0.55),
]


def test_the_closed_form_itself() -> None:
    """Hand values: symmetric barriers ±3 and p = q give 1/2 and 3 * 3 = 9 adoptions;
    barriers -2 and +4 (Δ_R = 1.5, Δ_S = 3.5) with p = q give 2/6 and 2 * 4 = 8."""
    assert gamblers_ruin(1.0, 0.75, 0.75, 1.0, 0.1, 0.1, 0.5) == pytest.approx((0.5, 9.0))
    assert gamblers_ruin(1.0, 0.85, 0.8, 1.15, 0.1, 0.1, 0.5) == pytest.approx((2 / 6, 8.0))
    prob, mean = gamblers_ruin(1.0, 0.75, 0.8, 1.05, 0.1, 0.1, 0.6)
    assert prob == pytest.approx((1 - (2 / 3) ** 3) / (1 - (2 / 3) ** 6))
    assert mean == pytest.approx(-15 + 30 * prob)
    # r != s: the lower barrier from r, (1 - 0.73) / 0.1 = 2.7 -> -3; the upper from s,
    # (1.07 - 0.8) / 0.05 = 5.4 -> +6; N = 9, i = 3, rho = 0.45 / 0.55 = 9 / 11
    prob, mean = gamblers_ruin(1.0, 0.73, 0.8, 1.07, 0.1, 0.05, 0.55)
    assert prob == pytest.approx((1 - (9 / 11) ** 3) / (1 - (9 / 11) ** 9))
    assert mean == pytest.approx(3 / -0.1 - 9 / -0.1 * prob)


@pytest.mark.parametrize("case", CASES)
def test_arthur_lock_in_matches_the_gamblers_ruin(case: tuple[float, ...]) -> None:
    a_r, b_r, a_s, b_s, r, s, p = case
    prob, mean = gamblers_ruin(a_r, b_r, a_s, b_s, r, s, p)
    runs = 4000
    result = simulate.arthur_lock_in(runs, 300, a_r=a_r, b_r=b_r, a_s=a_s, b_s=b_s, r=r, s=s, share_r=p, rng=11)
    assert result.not_locked == 0  # absorption is certain; 300 adoptions are far past it
    low, high = result.interval(0.999)["A"]
    assert low <= prob <= high
    assert result.probability()["A"] + result.probability()["B"] == pytest.approx(1.0)
    times = np.array(result.times, dtype=float)
    half_width = 3.3 * times.std(ddof=1) / math.sqrt(runs)  # 99.9% for the mean of 4000 draws
    assert abs(times.mean() - mean) <= half_width
    assert result.time()["mean"] == pytest.approx(times.mean())
    # the shortest lock-in is the nearer barrier, reached by the first adopters
    upper = math.floor((b_s - a_s) / s) + 1
    lower = math.floor((a_r - b_r) / r) + 1
    assert result.time()["min"] == min(upper, lower)


def test_the_simulator_ensemble_locks_in_with_arthurs_odds() -> None:
    """Whole simulations with one rival, count-based returns, asymmetric preferences and
    R-agents in the majority (p = 0.6): the share of runs locked into the base ecosystem
    matches the closed form within its 99.9% Wilson interval."""
    a_r, b_r, a_s, b_s, r, s, p = CASES[1]
    prob, _ = gamblers_ruin(a_r, b_r, a_s, b_s, r, s, p)
    eco = rf.datasets.synthetic(n_actors=20, rng=1)
    rival = rf.datasets.synthetic(n_actors=20, rng=2)
    params = simulate.Params().replace(
        **{
            "competition.returns_basis": "count",
            "competition.returns": r,
            "competition.returns_s": s,
            "competition.preferences": (a_r, b_r, a_s, b_s),
            "competition.share_r": p,
            "symbiosis.enabled": False,
            "platform.enabled": False,
            "openness.enabled": False,
            "ena_every": 0,
            "record": "basic",
        }
    )
    ens = scenario.monte_carlo(eco, params, periods=40, runs=800, rng=5, rivals=[rival])
    locked = ens.lock_in()
    assert locked is not None
    assert locked.runs == 800
    assert locked.unit == "period"
    base, other = ens.ecosystems
    assert locked.not_locked == 0
    low, high = locked.interval(0.999)[base]
    assert low <= prob <= high
    # the time distribution: every run counted, times within the horizon, quantiles ordered
    t = locked.time()
    assert t["n"] == 800
    ordered = [t[k] for k in ("min", "p05", "p25", "median", "p75", "p95", "max")]
    values = [float(v) for v in ordered if v is not None]
    assert len(values) == 7
    assert values == sorted(values)
    assert 1 <= values[0] <= values[-1] <= 40
    summary = ens.summary()
    assert "locked_in" not in summary["final"]  # an index, reported as lock-in instead
    assert summary["lock_in"]["probability"][other] == pytest.approx(locked.probability()[other])
    json.dumps(summary, allow_nan=False)


def test_runs_not_locked_in_are_counted_not_dropped() -> None:
    """Without increasing returns nobody locks in: every run is "not locked", the
    probabilities are 0 and the time distribution is empty (None, never 0)."""
    eco = rf.datasets.synthetic(n_actors=20, rng=1)
    rival = rf.datasets.synthetic(n_actors=20, rng=2)
    params = simulate.Params().replace(
        **{"competition.returns": 0.0, "symbiosis.enabled": False, "ena_every": 0, "record": "basic"}
    )
    ens = scenario.monte_carlo(eco, params, periods=8, runs=5, rng=1, rivals=[rival])
    locked = ens.lock_in()
    assert locked is not None
    assert locked.not_locked == 5
    assert locked.probability()["not locked"] == 1.0
    assert locked.time() == {
        "n": 0,
        "mean": None,
        "median": None,
        "p05": None,
        "p25": None,
        "p75": None,
        "p95": None,
        "min": None,
        "max": None,
    }
    assert locked.times == (None,) * 5


def test_no_rivals_no_lock_in() -> None:
    ens = scenario.monte_carlo(rf.datasets.synthetic(n_actors=20, rng=1), periods=3, runs=1, rng=1)
    assert ens.lock_in() is None
    assert "lock_in" not in ens.summary()


def test_lock_in_reads_the_first_period_from_which_a_run_stays_locked() -> None:
    locked = np.array(
        [
            [-1, 0, 0, 0],  # locked into 0 from step 2
            [1, -1, 1, 1],  # locked, unlocked, locked again: from step 3
            [0, 0, 1, 1],  # switched lock: into 1 from step 3
            [0, 0, 0, -1],  # not locked at the horizon
            [np.nan, 1, 1, 1],  # a step not recorded counts as not locked
            [0, 0, 0, 0],  # from the first step
        ]
    )
    result = competition.lock_in(locked, ("A", "B"))
    assert result.times == (2, 3, 3, None, 2, 1)
    assert result.locked_into == (2, 3)
    assert result.not_locked == 1
    assert result.probability() == pytest.approx({"A": 2 / 6, "B": 3 / 6, "not locked": 1 / 6})
    assert result.time()["median"] == 2.0
    with pytest.raises(ParameterError, match="ecosystem index below 2"):
        competition.lock_in(np.array([[2, 2]]), ("A", "B"))
    with pytest.raises(ParameterError, match="runs x steps"):
        competition.lock_in(np.array([0, 1]), ("A", "B"))


def test_share_based_returns_still_work_and_the_old_draw_is_kept_for_many_rivals() -> None:
    eco = rf.datasets.synthetic(n_actors=20, rng=1)
    rivals = [rf.datasets.synthetic(n_actors=20, rng=2), rf.datasets.synthetic(n_actors=20, rng=3)]
    params = simulate.Params().replace(**{"symbiosis.enabled": False, "ena_every": 0})
    result = simulate.Model(eco, params, rng=2, rivals=rivals).run(4)
    assert set(result.series["locked_in"].tolist()) <= {-1.0, 0.0, 1.0, 2.0}
    assert "locked_in" in result.summary()["final"]
    assert (
        "not locked in" in simulate.Model(eco, params, rng=2, rivals=rivals).run(1).summary()["meanings"]["locked_in"]
    )


# -- parameter checks --------------------------------------------------------------------------
def _model(**changes: object) -> simulate.Model:
    eco = rf.datasets.synthetic(n_actors=10, rng=1)
    rival = rf.datasets.synthetic(n_actors=10, rng=2)
    return simulate.Model(eco, simulate.Params().replace(**changes), rng=1, rivals=[rival])


def test_competition_parameters_are_checked_before_a_run() -> None:
    with pytest.raises(ParameterError, match=r"'competition.returns_basis'.*'share' or 'count'.*Did you mean 'count'"):
        _model(**{"competition.returns_basis": "counts"})
    with pytest.raises(ParameterError, match=r"'competition.share_r'.* from 0 to 1\. Got 1.5"):
        _model(**{"competition.share_r": 1.5})
    with pytest.raises(ParameterError, match=r"four numbers \(a_R, b_R, a_S, b_S\)"):
        _model(**{"competition.preferences": (1.0, 0.8, 0.8)})
    with pytest.raises(ParameterError, match=r"'competition.returns'.*at least 0"):
        _model(**{"competition.returns": -1.0})
    with pytest.raises(ParameterError, match=r"'competition.preferences'.*finite"):
        _model(**{"competition.preferences": (1.0, math.nan, 0.8, 1.0)})
    eco = rf.datasets.synthetic(n_actors=10, rng=1)
    two = [rf.datasets.synthetic(n_actors=10, rng=2), rf.datasets.synthetic(n_actors=10, rng=3)]
    with pytest.raises(SimulationError, match="two ecosystems; this run has 3"):
        simulate.Model(eco, simulate.Params().replace(**{"competition.share_r": 0.7}), rng=1, rivals=two)


def test_a_scenario_file_takes_asymmetric_preferences(tmp_path: Path) -> None:
    rf.save(rf.datasets.synthetic(n_actors=10, rng=1), tmp_path / "a.yaml")
    rf.save(rf.datasets.synthetic(n_actors=10, rng=2), tmp_path / "b.yaml")
    (tmp_path / "s.yaml").write_text(
        "base: a.yaml\nrivals: [b.yaml]\nperiods: 3\n"
        "params:\n  competition: {preferences: [1.0, 0.7, 0.8, 1.1], share_r: 0.7, returns_basis: count, returns: 0.1}\n",
        encoding="utf-8",
    )
    spec = scenario.load_scenario(tmp_path / "s.yaml", rf.load)
    assert spec.params.competition.preferences == (1.0, 0.7, 0.8, 1.1)
    assert spec.params.competition.returns_basis == "count"
    (ens,) = scenario.run_scenario(spec)
    assert ens.lock_in() is not None


def test_the_classic_models_are_public() -> None:
    assert simulate.arthur is competition.arthur
    assert simulate.lotka_volterra is competition.lotka_volterra
    assert simulate.threshold_cascade is shocks.threshold_cascade
    assert simulate.competition.arthur is competition.arthur
    for name in ("arthur", "arthur_lock_in", "lock_in", "lotka_volterra", "threshold_cascade", "LockIn"):
        assert name in simulate.__all__
        assert getattr(simulate, name).__doc__


def test_arthur_share_r_tilts_the_odds_and_keeps_the_old_stream() -> None:
    """share_r = 0.5 draws exactly as before (the same seeds give the same paths)."""
    gen = np.random.default_rng(4)
    types = gen.random(50) < 0.5
    d = simulate.arthur(50, r=0.0, s=0.0, rng=4)
    assert np.array_equal(np.diff(np.r_[0, d]) > 0, types)
    assert simulate.arthur(400, share_r=1.0, rng=1)[-1] == 400


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: simulate.arthur(-1), "'adopters' parameter of arthur must be a whole number"),
        (lambda: simulate.arthur(10, share_r=2.0), "'share_r' parameter of arthur must be a number from 0 to 1"),
        (lambda: simulate.arthur(10, r=math.inf), "'r' parameter of arthur must be a finite number"),
        (lambda: simulate.arthur_lock_in(0, 10), "'runs' parameter of arthur_lock_in"),
        (
            lambda: simulate.lotka_volterra((1.0,), (1.0, 1.0), (1.0, 1.0), (0.0, 0.0), 1),  # type: ignore[arg-type]
            "'n0'.*pair",
        ),
        (lambda: simulate.lotka_volterra((1.0, 1.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0), 1), "'k'.*above 0"),
        (lambda: simulate.lotka_volterra((-1.0, 1.0), (1.0, 1.0), (1.0, 1.0), (0.0, 0.0), 1), "'n0'.*at least 0"),
        (lambda: simulate.lotka_volterra((1.0, 1.0), (1.0, 1.0), (1.0, 1.0), (0.0, 0.0), 1, dt=0.3), "'dt'"),
        (lambda: simulate.lotka_volterra((1.0, 1.0), (1.0, 1.0), (1.0, 1.0), (0.0, 0.0), -2), "'periods'"),
        (lambda: simulate.threshold_cascade(3, np.array([0, 1]), np.array([1]), np.array([0]), 0.2), "same length"),
        (lambda: simulate.threshold_cascade(3, np.array([0, 5]), np.array([1, 0]), np.array([0]), 0.2), "'src'.*0 to"),
        (lambda: simulate.threshold_cascade(3, np.array([0]), np.array([1]), np.array([3]), 0.2), "'seeds'"),
        (lambda: simulate.threshold_cascade(3, np.array([0]), np.array([1]), np.array([0]), 1.5), "'phi'.*0 to 1"),
        (lambda: simulate.threshold_cascade(-1, np.array([0]), np.array([1]), np.array([0]), 0.5), "'n' parameter"),
        (lambda: simulate.threshold_cascade(3, np.array([0.5]), np.array([1]), np.array([0]), 0.5), "node indices"),
    ],
)
def test_the_classic_models_reject_bad_parameters(call: object, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        call()  # type: ignore[operator]


def test_threshold_cascade_on_a_star() -> None:
    """A hub with 4 leaves: one failed leaf tips the hub at phi <= 1/4 (and the hub tips
    every leaf, each having one neighbour), not at phi = 0.3."""
    hub, leaves = np.zeros(4, dtype=np.int64), np.arange(1, 5)
    src, dst = np.r_[hub, leaves], np.r_[leaves, hub]
    assert simulate.threshold_cascade(5, src, dst, np.array([1]), 0.25).all()
    assert simulate.threshold_cascade(5, src, dst, np.array([1]), 0.3).tolist() == [False, True, False, False, False]
    assert not simulate.threshold_cascade(5, src, dst, np.array([], dtype=np.int64), 0.5).any()
    # phi = 0: no neighbour needs to have failed, so every connected node fails at once
    assert simulate.threshold_cascade(5, src, dst, np.array([], dtype=np.int64), 0.0).all()


@given(
    st.integers(min_value=1, max_value=12).flatmap(
        lambda width: st.lists(
            st.lists(st.integers(min_value=-1, max_value=2), min_size=width, max_size=width), min_size=1, max_size=20
        )
    )
)
def test_lock_in_properties(rows: list[list[int]]) -> None:
    """Every run is counted once (locked into one ecosystem or not locked), the shares add
    up to 1, and a locked run's time is within the horizon and its state from then on is
    constant."""
    arr = np.array(rows)
    result = competition.lock_in(arr, ("A", "B", "C"))
    assert sum(result.locked_into) + result.not_locked == len(rows)
    assert sum(result.probability().values()) == pytest.approx(1.0)
    for row, t in zip(rows, result.times, strict=True):
        if t is None:
            assert row[-1] == -1
        else:
            assert 1 <= t <= len(row)
            assert set(row[t - 1 :]) == {row[-1]}
            assert t == 1 or row[t - 2] != row[-1]


def test_the_cli_prints_lock_in_with_rivals(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rainforest.cli import app

    rf.save(rf.datasets.synthetic(n_actors=15, rng=1), tmp_path / "a.yaml")
    rf.save(rf.datasets.synthetic(n_actors=15, rng=2), tmp_path / "b.yaml")
    (tmp_path / "s.yaml").write_text(
        "rivals: [b.yaml]\nparams:\n  ena_every: 0\n  symbiosis: {enabled: false}\n"
        "  competition: {returns_basis: count, returns: 0.1, preferences: [1.0, 0.75, 0.8, 1.05], share_r: 0.6}\n",
        encoding="utf-8",
    )
    args = ["simulate", str(tmp_path / "a.yaml"), "--scenario", str(tmp_path / "s.yaml"), "--periods", "15"]
    result = CliRunner().invoke(app, [*args, "--runs", "6", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Lock-in over 6 run(s)" in result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["lock_in"]["runs"] == 6
    assert sum(summary["lock_in"]["locked_into"].values()) + summary["lock_in"]["not_locked"] == 6
