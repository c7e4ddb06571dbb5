"""rainforest.networks: generators, giant components and percolation, and the analytic
results they are checked against (Erdős-Rényi's giant component, Watts 2002's cascade
window, Buldyrev et al. 2010's interdependent collapse)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import rainforest as rf
from rainforest.analysis import networks
from rainforest.cli import app
from rainforest.errors import ParameterError

runner = CliRunner()


def er_giant_se(c: float, n: int) -> float:
    """Standard error of the giant component's share in G(n, c/n): its central limit
    theorem (Pittel 1990) gives variance S (1 - S) / (n (1 - c (1 - S))^2)."""
    S = networks.er_giant_fraction(c)
    return math.sqrt(S * (1 - S) / (n * (1 - c * (1 - S)) ** 2))


# --------------------------------------------------------------------------- Erdős-Rényi


@pytest.mark.parametrize(
    ("c", "S"),
    [(0.5, 0.0), (1.0, 0.0), (1.5, 0.5828), (2.0, 0.7968), (3.0, 0.9405), (5.0, 0.9930)],
)
def test_er_giant_fraction_solves_the_closed_form(c: float, S: float) -> None:
    got = networks.er_giant_fraction(c)
    assert round(got, 4) == S
    assert got == pytest.approx(1 - math.exp(-c * got), abs=1e-12)


@pytest.mark.parametrize(("c", "seed"), [(1.5, 1), (2.0, 2), (3.0, 3), (4.0, 4)])
def test_simulated_er_giant_within_three_standard_errors(c: float, seed: int) -> None:
    n = 20_000
    src, dst = networks.erdos_renyi(n, c, rng=seed)
    simulated = networks.giant_fraction(src, dst, n)
    assert abs(simulated - networks.er_giant_fraction(c)) < 3 * er_giant_se(c, n)


@given(st.floats(0, 50), st.floats(0, 50))
@settings(max_examples=200, deadline=None)
def test_er_giant_fraction_is_a_share_monotone_in_c(c1: float, c2: float) -> None:
    lo, hi = sorted((c1, c2))
    s_lo, s_hi = networks.er_giant_fraction(lo), networks.er_giant_fraction(hi)
    assert 0.0 <= s_lo <= s_hi <= 1.0


@given(st.integers(0, 300), st.floats(0, 8), st.integers(0, 2**32))
@settings(max_examples=50, deadline=None)
def test_giant_fraction_is_a_share(n: int, c: float, seed: int) -> None:
    src, dst = networks.erdos_renyi(n, c, rng=seed)
    assert 0.0 <= networks.giant_fraction(src, dst, n) <= 1.0
    assert src.size == 0 or (src.min() >= 0 and dst.max() < n and bool(np.all(src < dst)))


def test_site_and_bond_percolation_follow_er_theory() -> None:
    n, c, q = 20_000, 4.0, 0.5
    src, dst = networks.erdos_renyi(n, c, rng=7)
    site = networks.site_percolation(src, dst, n, q, rng=8)
    bond = networks.bond_percolation(src, dst, n, q, rng=9)
    assert site == pytest.approx(q * networks.er_giant_fraction(c * q), abs=0.02)
    assert bond == pytest.approx(networks.er_giant_fraction(c * q), abs=0.02)
    assert networks.site_percolation(src, dst, n, 0.0, rng=1) == 0.0
    assert networks.bond_percolation(src, dst, n, 1.0, rng=1) == networks.giant_fraction(src, dst, n)


# --------------------------------------------------------------------------- generators


def test_generators_take_every_rng_form() -> None:
    same = [networks.erdos_renyi(500, 3.0, rng=r) for r in (11, np.random.SeedSequence(11))]
    assert all(np.array_equal(a, b) for a, b in zip(same[0], same[1], strict=True))
    g = np.random.default_rng(5)
    first, second = networks.erdos_renyi(500, 3.0, rng=g), networks.erdos_renyi(500, 3.0, rng=g)
    assert not np.array_equal(first[0], second[0])  # a generator is used as is, and advances
    with pytest.raises(rf.RainforestError):
        networks.erdos_renyi(10, 1.0, rng="seven")  # type: ignore[arg-type]


def test_the_simulator_uses_these_generators() -> None:
    from rainforest.simulate import _setup, symbiosis

    assert _setup.random_graph is networks.erdos_renyi_edges
    assert symbiosis.random_graph is networks.erdos_renyi_edges
    assert symbiosis.watts_strogatz is networks.watts_strogatz_edges
    # the public functions draw exactly what the simulator draws from the same generator
    for public, edges, args in [
        (networks.erdos_renyi, networks.erdos_renyi_edges, (300, 4.0)),
        (networks.watts_strogatz, networks.watts_strogatz_edges, (300, 6, 0.2)),
    ]:
        mine = public(*args, rng=np.random.default_rng(9))  # type: ignore[operator]
        theirs = edges(*args, np.random.default_rng(9))  # type: ignore[operator]
        assert all(np.array_equal(x, y) for x, y in zip(mine, theirs, strict=True))


def test_configuration_model_keeps_the_degrees() -> None:
    degrees = np.random.default_rng(1).poisson(4.0, 10_000)
    src, dst = networks.configuration_model(degrees, rng=2)
    realised = np.bincount(np.concatenate([src, dst]), minlength=degrees.size)
    assert np.all(realised <= degrees)
    assert realised.sum() >= 0.99 * (degrees.sum() - 1)  # only self-loops and repeats dropped


def test_chung_lu_gives_the_expected_degrees() -> None:
    weights = np.where(np.arange(20_000) % 2 == 0, 2.0, 6.0)
    src, dst = networks.chung_lu(weights, rng=3)
    degree = np.bincount(np.concatenate([src, dst]), minlength=weights.size)
    assert degree[0::2].mean() == pytest.approx(2.0, rel=0.03)
    assert degree[1::2].mean() == pytest.approx(6.0, rel=0.03)


def test_random_geometric_links_close_points_only() -> None:
    src, dst, points = networks.random_geometric(2000, 0.03, rng=4)
    distance = np.linalg.norm(points[src] - points[dst], axis=1)
    assert distance.max() < 0.03
    # every closer pair is linked: count them by brute force
    d = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2)
    assert src.size == int((np.triu(d < 0.03, k=1)).sum())


def test_watts_strogatz_without_rewiring_is_a_ring_lattice() -> None:
    src, dst = networks.watts_strogatz(10, 4, 0.0, rng=1)
    assert src.size == 20
    assert networks.giant_fraction(src, dst, 10) == 1.0


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda: networks.erdos_renyi(-1, 2.0), "n"),
        (lambda: networks.erdos_renyi(10, -2.0), "mean_degree"),
        (lambda: networks.configuration_model([1, -1]), "degrees"),
        (lambda: networks.chung_lu([1.0, math.nan]), "weights"),
        (lambda: networks.coupled_er_giant(4.0, 1.5), "p"),
        (lambda: networks.watts_window(0.0), "phi"),
        (lambda: networks.giant_fraction(np.array([0]), np.array([1]), 3, alive=np.ones(2, bool)), "alive"),
    ],
)
def test_bad_parameters_are_parameter_errors(call: object, parameter: str) -> None:
    with pytest.raises(ParameterError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.parameter == parameter


# --------------------------------------------------------------------------- Watts 2002


def test_watts_window_at_phi_018() -> None:
    """Watts (2002, PNAS 99:5766), Fig. 1 (uniform threshold phi = 0.18 on ER graphs):
    global cascades happen for mean degrees between about 1 and about 6; the analytic
    boundary (his eq. 4 with Poisson degrees) closes just below z = 6 (5.76)."""
    low, high = networks.watts_window(0.18)  # type: ignore[misc]
    assert 1.0 < low < 1.05
    assert 5.5 < high < 6.0
    assert (round(low, 4), round(high, 4)) == (1.0207, 5.7647)


def test_watts_window_closes_above_a_quarter() -> None:
    """Watts (2002), Fig. 2: the cascade window in the (z, phi) plane closes near
    phi = 1/4; the condition z P(Poisson(z) <= floor(1/phi) - 2) = 1 has roots only for
    floor(1/phi) >= 4."""
    assert networks.watts_window(0.25) is not None
    assert networks.watts_window(0.26) is None
    assert networks.watts_window(0.5) is None
    assert networks.watts_window(1.0) is None


@given(st.floats(0.02, 0.25))
@settings(max_examples=60, deadline=None)
def test_watts_window_edges_solve_the_cascade_condition(phi: float) -> None:
    window = networks.watts_window(phi)
    assert window is not None
    K = math.floor(1 / phi + 1e-12)
    for z in window:
        g0pp = sum(k * (k - 1) * math.exp(-z) * z**k / math.factorial(k) for k in range(K + 1))
        assert g0pp == pytest.approx(z, rel=1e-8)
    assert 1.0 <= window[0] < window[1]  # z_low -> 1 as phi -> 0 (rounds to 1 for small phi)
    # a higher threshold makes fewer nodes vulnerable: the window shrinks
    wider = networks.watts_window(phi / 2)
    assert wider is not None
    assert wider[0] <= window[0] + 1e-12
    assert wider[1] >= window[1]


# --------------------------------------------------------------------------- Buldyrev 2010


def test_coupled_er_critical_point_matches_buldyrev_2010() -> None:
    """Buldyrev et al. (2010, Nature 464:1025): two interdependent ER networks of equal
    mean degree k collapse at p_c = 2.4554 / <k>, where the mutual giant component
    jumps from 0 to (1 - f_c)^2 = 0.5117 of the p_c N nodes left (1.2564 / <k> of all)."""
    critical = networks.coupled_er_critical()
    assert round(critical.p_c_times_k, 4) == 2.4554
    assert round(critical.mutual_giant_at_p_c, 4) == 0.5117
    assert round(critical.mutual_giant_at_p_c * critical.p_c_times_k, 4) == 1.2564
    k = 4.0
    p_c = critical.p_c_times_k / k
    just_above = networks.coupled_er_giant(k, p_c * (1 + 1e-7))
    assert just_above / p_c == pytest.approx(critical.mutual_giant_at_p_c, abs=2e-3)
    assert networks.coupled_er_giant(k, p_c * (1 - 1e-4)) == 0.0


@given(st.floats(0.5, 20), st.floats(0, 1))
@settings(max_examples=100, deadline=None)
def test_coupled_er_giant_is_a_fixed_point(k: float, p: float) -> None:
    P = networks.coupled_er_giant(k, p)
    assert 0.0 <= P <= p
    assert abs(P - p * (1 - math.exp(-k * P)) ** 2) < 1e-9
    if p * k < 2.4554:
        assert P == 0.0


def test_mutual_giant_converges_to_the_analytic_value() -> None:
    """Above p_c the simulated mutual giant component tends to the analytic one as n
    grows (Buldyrev et al. 2010, Fig. 3's finite-size approach): the mean error over
    seeds falls at least threefold from n = 1,000 to n = 100,000."""
    k, p = 4.0, 0.8  # p_c = 0.614
    analytic = networks.coupled_er_giant(k, p)

    def error(n: int) -> float:
        errors = []
        for seed in range(4):
            rng = np.random.default_rng(seed)
            a, b = networks.erdos_renyi(n, k, rng), networks.erdos_renyi(n, k, rng)
            errors.append(abs(networks.mutual_giant_fraction(a, b, n, p, rng) - analytic))
        return float(np.mean(errors))

    small, large = error(1_000), error(100_000)
    assert large < 0.005
    assert large < small / 3


def test_mutual_giant_collapses_below_p_c() -> None:
    n, k = 50_000, 4.0
    rng = np.random.default_rng(1)
    a, b = networks.erdos_renyi(n, k, rng), networks.erdos_renyi(n, k, rng)
    assert networks.mutual_giant_fraction(a, b, n, 0.5, rng) < 0.01  # p_c = 0.614


def test_mutual_giant_of_a_network_depending_on_itself_is_its_giant() -> None:
    n = 5000
    a = networks.erdos_renyi(n, 3.0, rng=1)
    assert networks.mutual_giant_fraction(a, a, n, 1.0, rng=2, dependency=np.arange(n)) == networks.giant_fraction(
        *a, n
    )


# --------------------------------------------------------------------------- CLI


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["networks", *args])
    return result.exit_code, result.output


def test_cli_er_giant() -> None:
    code, out = run("giant", "--model", "er", "--mean-degree", "2", "--json")
    assert code == 0
    assert json.loads(out) == {"analytic": networks.er_giant_fraction(2.0)}
    code, out = run("giant", "--model", "er", "--mean-degree", "2", "--n", "20000", "--seed", "1", "--json")
    data = json.loads(out)
    assert code == 0
    assert set(data) == {"analytic", "simulated"}
    assert abs(data["simulated"] - data["analytic"]) < 3 * er_giant_se(2.0, 20_000)
    code, out = run("giant", "--model", "er", "--mean-degree", "2")
    assert code == 0
    assert "0.7968" in out


def test_cli_coupled_er() -> None:
    code, out = run("giant", "--model", "coupled-er", "--critical", "--json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["p_c_times_k", "mutual_giant_at_p_c"]
    assert round(data["p_c_times_k"], 4) == 2.4554
    code, out = run(
        "giant", "--model", "coupled-er", "--mean-degree", "4", "--p", "0.8", "--n", "20000", "--seed", "3", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"analytic", "simulated"}
    assert data["simulated"] == pytest.approx(data["analytic"], abs=0.02)


def test_cli_watts_window() -> None:
    code, out = run("watts-window", "--phi", "0.18", "--json")
    assert code == 0
    assert json.loads(out) == {"window": list(networks.watts_window(0.18))}  # type: ignore[arg-type]
    code, out = run("watts-window", "--phi", "0.3", "--json")
    assert code == 0
    assert json.loads(out)["window"] is None
    code, out = run("watts-window", "--phi", "0.18")
    assert "1.0207 < z < 5.7647" in out


@pytest.mark.parametrize(
    "args",
    [
        ("giant", "--model", "nope", "--mean-degree", "2"),
        ("giant", "--model", "er"),
        ("giant", "--model", "er", "--mean-degree", "-1"),
        ("giant", "--model", "er", "--mean-degree", "2", "--critical"),
        ("giant", "--model", "coupled-er", "--mean-degree", "4"),
        ("watts-window", "--phi", "2"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(args: tuple[str, ...]) -> None:
    code, out = run(*args, "--json")
    assert code == 2
    assert "error" in json.loads(out)
    code, out = run(*args)
    assert code == 2
    assert len([line for line in out.splitlines() if line.strip()]) == 1
