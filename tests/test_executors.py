"""One executor vocabulary and one rng vocabulary: every spelling, the same numbers."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import rainforest as rf
from rainforest import executors
from rainforest.analysis.cascade import ESRIProfile, SupplyNetwork, esri
from rainforest.errors import RainforestWarning
from rainforest.simulate import scenario


def network(n: int = 120, seed: int = 5) -> SupplyNetwork:
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, 4 * n)
    dst = rng.integers(0, n, 4 * n)
    keep = src != dst
    return SupplyNetwork.from_arrays(
        [f"f{i}" for i in range(n)], src[keep], dst[keep], rng.lognormal(0, 1, int(keep.sum()))
    )


def quiet(*args: object, **kwargs: object) -> ESRIProfile:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RainforestWarning)
        return esri(*args, **kwargs)  # type: ignore[arg-type]


def same(a: ESRIProfile, b: ESRIProfile) -> None:
    np.testing.assert_array_equal(a.esri, b.esri)
    np.testing.assert_array_equal(a.esri_down, b.esri_down)
    np.testing.assert_array_equal(a.sweeps, b.sweeps)


def test_esri_is_identical_on_every_executor() -> None:
    net = network()
    serial = quiet(net, stop="reference", batch=8)
    seen: list[tuple[int, int]] = []
    same(
        serial,
        quiet(net, stop="reference", batch=8, executor="threads", workers=2, progress=lambda d, t: seen.append((d, t))),
    )
    assert seen[-1] == (net.n, net.n)
    same(serial, quiet(net, stop="reference", batch=8, executor="processes", workers=2))
    with ThreadPoolExecutor(2) as pool:
        same(serial, quiet(net, stop="reference", batch=8, executor=pool))
        assert pool.submit(int, "1").result() == 1  # a pool we were given stays open


@pytest.mark.slow
def test_esri_on_dask_by_name_and_by_client() -> None:
    distributed = pytest.importorskip("distributed")
    net = network()
    serial = quiet(net, stop="reference")
    same(serial, quiet(net, stop="reference", executor="dask", workers=2))
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        same(serial, quiet(net, stop="reference", executor=client))
        with pytest.warns(DeprecationWarning, match="executor=client"):
            same(serial, quiet(net, stop="reference", dask=client))


@pytest.mark.parametrize(
    ("old", "new"), [("inline", "serial"), ("local", "processes"), ("thread", "threads"), ("process", "processes")]
)
def test_old_executor_names_warn_and_mean_the_new_ones(old: str, new: str) -> None:
    with pytest.warns(DeprecationWarning, match=f"executor='{old}' is now executor='{new}'"):
        assert executors.normalise(old) == new
    assert executors.normalise(None) == "serial"
    assert executors.normalise("dask:tcp://10.0.0.5:8786") == "dask:tcp://10.0.0.5:8786"


def test_an_unknown_executor_is_a_clear_error() -> None:
    with pytest.raises(
        ValueError, match=r"'executor' parameter must be one of 'serial', 'threads'.* Got 'gpu' instead"
    ):
        executors.normalise("gpu")
    with pytest.raises(ValueError, match="Got 'dask:' instead"):
        quiet(network(), executor="dask:")


def test_the_old_simulate_names_run_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    eco = rf.datasets.synthetic(n_actors=30, rng=2)
    reference = scenario.monte_carlo(eco, periods=3, runs=2, rng=4)
    with pytest.warns(DeprecationWarning, match="executor='inline' is now executor='serial'"):
        old = scenario.monte_carlo(eco, periods=3, runs=2, rng=4, executor="inline")
    assert old.summary() == reference.summary()
    assert scenario.monte_carlo(eco, periods=3, runs=2, seed=4).summary() == reference.summary()  # old name of rng


def test_rng_takes_a_seed_a_seed_sequence_or_a_generator() -> None:
    eco = rf.datasets.synthetic(n_actors=30, rng=2)
    by_int = rf.simulate.Model(eco, rng=9).run(3)
    by_sequence = rf.simulate.Model(eco, rng=np.random.SeedSequence(9)).run(3)
    assert by_int.seed == by_sequence.seed == 9
    for name in by_int.series:
        np.testing.assert_array_equal(by_int.series[name], by_sequence.series[name])
    gen = np.random.default_rng(1)
    first = rf.simulate.Model(eco, rng=gen)
    second = rf.simulate.Model(eco, rng=gen)
    assert first.seed != second.seed  # the generator advances
    again = rf.simulate.Model(eco, rng=first.seed).run(3)  # the recorded seed replays the run
    replay = first.run(3)
    for name in replay.series:
        np.testing.assert_array_equal(replay.series[name], again.series[name])
    with pytest.raises(ValueError, match=r"'rng' parameter must be an int, a numpy\.random\.SeedSequence"):
        rf.simulate.Model(eco, rng="7")  # type: ignore[arg-type]


def test_seed_is_the_deprecated_name_of_rng() -> None:
    eco = rf.datasets.synthetic(n_actors=30, rng=2)
    with pytest.warns(DeprecationWarning, match=r"Model\(seed=...\) is now Model\(rng=...\)"):
        model = rf.simulate.Model(eco, seed=5)
    assert model.seed == 5
    with pytest.raises(ValueError, match="not both"):
        rf.simulate.Model(eco, rng=5, seed=5)
    with pytest.warns(DeprecationWarning, match=r"sweep_points\(seed=...\)"):
        old = scenario.sweep_points({"x": {"low": 0, "high": 1}}, "lhs", samples=4, seed=3)
    assert old == scenario.sweep_points({"x": {"low": 0, "high": 1}}, "lhs", samples=4, rng=3)


def test_the_cli_takes_executor(tmp_path: Path) -> None:
    from rainforest.cli import app

    doc = str(rf.save(rf.datasets.synthetic(n_actors=40, rng=1), tmp_path / "s.yaml"))
    runner = CliRunner()
    serial = runner.invoke(app, ["risk", doc, "--json"])
    threads = runner.invoke(app, ["risk", doc, "--json", "--executor", "threads", "--workers", "2"])
    assert serial.exit_code == threads.exit_code == 0, serial.output + threads.output
    assert serial.stdout == threads.stdout


def test_every_rng_parameter_takes_a_seed_sequence() -> None:
    by_sequence = rf.datasets.synthetic(n_actors=20, rng=np.random.SeedSequence(7))
    by_int = rf.datasets.synthetic(n_actors=20, rng=7)
    assert list(by_sequence.flows) == list(by_int.flows)
    assert list(by_sequence.actors) == list(by_int.actors)
    from rainforest.optimize.sharing import Game, shapley

    game = Game(("a", "b", "c"), "profit", lambda mask: float(bin(mask).count("1") ** 2))
    sampled = shapley(game, exact_limit=0, samples=50, rng=3)
    assert not sampled.exact
    assert sampled == shapley(game, exact_limit=0, samples=50, rng=np.random.SeedSequence(3))
