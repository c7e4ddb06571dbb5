"""Scenarios, Monte Carlo and sweeps, on any executor.

Every run gets its own ``numpy.random.SeedSequence`` spawned from the scenario's seed, so
the same scenario gives bit-identical results in-process, on a local process pool and on a
Dask cluster (``Client.get_executor()``, the standard ``concurrent.futures`` interface).

A scenario file (YAML)::

    base: park.yaml            # the ecosystem (relative to the scenario file)
    rivals: [rival.yaml]       # optional: competing ecosystems
    periods: 30
    runs: 20
    seed: 7
    params:                    # any mechanism parameter, and shocks
      symbiosis: {tries: 0.3}
      policy: {landfill_tax: 20}
      shocks:
        - {period: 10, kind: exit, targets: [power]}
    sweep:                     # optional
      method: grid             # grid | random | lhs
      parameters:
        policy.landfill_tax: [0, 20, 40]      # grid: values
        symbiosis.tries: {low: 0.1, high: 0.5} # random / lhs: a range
      samples: 8               # random / lhs
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from threadpoolctl import threadpool_limits

from rainforest.analysis import cascade
from rainforest.errors import ParameterError, UnknownIdError
from rainforest.executors import ExecutorSpec, RandomState, seed_sequence
from rainforest.executors import executor as _executor
from rainforest.model.ecosystem import Ecosystem
from rainforest.simulate.assumptions import Assumptions, assumptions, meaning
from rainforest.simulate.competition import LockIn, lock_in
from rainforest.simulate.engine import Model, SimulationError, _renamed_seed
from rainforest.simulate.params import Params

METHODS = ("grid", "random", "lhs")


@dataclass(frozen=True)
class Scenario:
    """What to simulate: the base ecosystem, rivals, parameters, horizon, runs and seed."""

    base: Ecosystem
    params: Params = field(default_factory=Params)
    rivals: tuple[Ecosystem, ...] = ()
    periods: int = 30
    runs: int = 1
    seed: int = 0
    sweep: dict[str, Any] | None = None
    name: str = "scenario"


def load_scenario(
    path: str | Path, loader: Callable[[Path], Ecosystem] | None = None, base: Ecosystem | None = None
) -> Scenario:
    """Read a scenario file; documents are loaded with ``loader`` (``rainforest.load``).
    ``base`` (the CLI's FILE) replaces the file's ``base``, which is then optional."""
    where = Path(path)
    try:
        data = yaml.safe_load(where.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SimulationError(f"{where}: not valid YAML ({exc}); expected a scenario mapping") from None
    if not isinstance(data, dict):
        raise SimulationError(f"{where}: expected a mapping with at least 'base', got {type(data).__name__}")
    known = {"base", "rivals", "periods", "runs", "seed", "params", "sweep", "name"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SimulationError(f"{where}: unknown key {unknown[0]!r}; expected one of: {', '.join(sorted(known))}")
    if "base" not in data and base is None:
        raise SimulationError(f"{where}: 'base' is missing; expected the path of the ecosystem document")
    if loader is None:
        raise SimulationError("load_scenario needs a loader for the documents (e.g. rainforest.load)")
    try:
        params = Params.from_dict(data.get("params") or {})
    except SimulationError as exc:
        raise SimulationError(f"{where}: params: {exc}") from None
    sweep = data.get("sweep")
    if sweep is not None:
        _check_sweep(sweep, where)
    return Scenario(
        base=base if base is not None else loader(where.parent / data["base"]),
        params=params,
        rivals=tuple(loader(where.parent / r) for r in data.get("rivals") or ()),
        periods=int(data.get("periods", 30)),
        runs=int(data.get("runs", 1)),
        seed=int(data.get("seed", 0)),
        sweep=sweep,
        name=str(data.get("name", where.stem)),
    )


def _check_sweep(sweep: Any, where: Any) -> None:
    if not isinstance(sweep, dict) or "parameters" not in sweep:
        raise SimulationError(f"{where}: sweep must be a mapping with 'parameters'")
    method = sweep.get("method", "grid")
    if method not in METHODS:
        raise SimulationError(f"{where}: sweep.method {method!r} is unknown; expected one of: {', '.join(METHODS)}")
    for name, spec in sweep["parameters"].items():
        if method == "grid" and not isinstance(spec, list):
            raise SimulationError(f"{where}: sweep.parameters.{name}: a grid needs a list of values, got {spec!r}")
        if method != "grid" and not (isinstance(spec, dict) and {"low", "high"} <= set(spec)):
            raise SimulationError(f"{where}: sweep.parameters.{name}: {method} needs {{low, high}}, got {spec!r}")


# -- one run, as a picklable task -----------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    """The series and event counts of one run (no model: cheap to send between processes)."""

    index: int
    seed: tuple[int, tuple[int, ...]]
    series: dict[str, np.ndarray]
    events: dict[str, int]
    event_rows: list[dict[str, Any]]


def _task(args: tuple[Ecosystem, tuple[Ecosystem, ...], Params, int, int, tuple[int, ...], int, bool]) -> Run:
    eco, rivals, params, entropy, index, spawn_key, periods, keep_events = args
    seq = np.random.SeedSequence(entropy, spawn_key=spawn_key)
    # one BLAS thread per run: parallelism comes from the runs; W workers each waking a
    # BLAS pool on 2 cores made W=2 slower than W=1 (bench/bench_simulate.py)
    with threadpool_limits(limits=1, user_api="blas"), cascade.threads(1):
        model = Model(eco, params, seq, rivals=rivals)
        result = model.run(periods)
    return Run(
        index, (entropy, spawn_key), result.series, result.events.counts(), result.events.rows() if keep_events else []
    )


@contextmanager
def executor_for(spec: ExecutorSpec | None, workers: int | None = None) -> Iterator[Executor | None]:
    """The executor of :mod:`rainforest.executors` (``"serial"``, ``"threads"``,
    ``"processes"``, ``"dask"``, ``"dask:ADDRESS"``, an ``Executor`` or a Dask ``Client``);
    ``None`` for ``"serial"``. The old ``"inline"`` and ``"local"`` warn."""
    with _executor(spec, workers) as pool:
        yield pool


@dataclass(frozen=True)
class Ensemble:
    """Runs of one scenario point: per-metric means and bands over runs."""

    runs: tuple[Run, ...]
    periods: int
    seed: int
    point: dict[str, Any] = field(default_factory=dict)
    assumptions: Assumptions | None = None
    ecosystems: tuple[str, ...] = ()  # the base's name, then the rivals' (for lock-in)

    def lock_in(self) -> LockIn | None:
        """Lock-in over the runs (Arthur 1989): the share of runs locked into each
        ecosystem at the horizon, the runs not locked in (counted, never dropped) and the
        distribution of the period from which each run stayed locked in; None without
        rivals (nothing to lock into).

        A run is locked into E from period t when, from t to the last period, every kind
        of entrant would join E whatever its own preference (the recorded ``locked_in``)."""
        if "locked_in" not in self.metrics() or not self.periods:
            return None
        names = self.ecosystems or tuple(
            "base" if e == 0 else f"rival {e}" for e in range(int(np.nanmax(self.metric("locked_in"))) + 2)
        )
        return lock_in(self.metric("locked_in"), names, unit="period")

    def metric(self, name: str) -> np.ndarray:
        """``runs x periods`` values of one metric (NaN where a run did not record it)."""
        out = np.full((len(self.runs), self.periods), np.nan)
        for k, run in enumerate(self.runs):
            values = run.series.get(name)
            if values is not None:
                out[k, : values.size] = values
        return out

    def metrics(self) -> list[str]:
        return list(dict.fromkeys(k for run in self.runs for k in run.series))

    def band(self, name: str, level: float = 0.9, *, scaled: bool = False) -> dict[str, np.ndarray]:
        """Mean and the central ``level`` band over runs, per period (NaN-aware); with
        ``scaled``, of the values as reported (:meth:`scaled`; all NaN when not reported)."""
        values = self.metric(name)
        if scaled:
            shown = self.scaled(name)
            values = shown if shown is not None else np.full_like(values, np.nan)
        lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return {
                "mean": np.nanmean(values, axis=0),
                "low": np.nanquantile(values, lo, axis=0),
                "high": np.nanquantile(values, hi, axis=0),
            }

    def scaled(self, name: str) -> np.ndarray | None:
        """``runs x periods`` values of a metric as reported: money metrics of a document
        without money relative to their first-period mean over runs; ``None`` when the
        metric is not money here and has no meaning (see :mod:`~rainforest.simulate.assumptions`)."""
        values = self.metric(name)
        unit = self.assumptions.units.get(name) if self.assumptions is not None else None
        if unit is None or unit not in ("", "relative to period 1"):
            return values
        if unit == "":
            return None
        first = values[:, 0][np.isfinite(values[:, 0])] if self.periods else values[:, :0]
        base = float(first.mean()) if first.size else 0.0
        return values / base if base > 0 else None

    def summary(self) -> dict[str, Any]:
        """Deterministic plain numbers: last-period mean and 5-95% band of every metric, mean
        event counts per run, each metric's unit and meaning, and the assumptions the model
        made for what the document does not give. The same scenario and seed give the same
        summary anywhere."""
        final: dict[str, Any] = {}
        units: dict[str, str] = {}
        meanings: dict[str, str] = {}
        for name in self.metrics():
            if name in ("period", "locked_in"):  # an index, not a quantity: see "lock_in"
                continue
            column = self.scaled(name)
            if column is None:
                continue
            last = column[:, -1] if self.periods else column[:, :0]
            last = last[np.isfinite(last)]
            if last.size:
                final[name] = {
                    "mean": float(last.mean()),
                    "p05": float(np.quantile(last, 0.05)),
                    "p95": float(np.quantile(last, 0.95)),
                }
                if self.assumptions is not None and name in self.assumptions.units:
                    units[name] = self.assumptions.units[name]
                meanings[name] = meaning(name)
        kinds = sorted({k for run in self.runs for k in run.events})
        events = {k: sum(run.events.get(k, 0) for run in self.runs) / max(len(self.runs), 1) for k in kinds}
        locked = self.lock_in()
        return {
            "periods": self.periods,
            "runs": len(self.runs),
            "seed": self.seed,
            "point": self.point,
            **({"lock_in": locked.to_dict()} if locked is not None else {}),
            "final": final,
            "units": units,
            "meanings": meanings,
            "assumptions": [dict(x) for x in self.assumptions.items] if self.assumptions is not None else [],
            "events": events,
        }


def monte_carlo(
    eco: Ecosystem,
    params: Params | None = None,
    *,
    periods: int = 30,
    runs: int = 10,
    rng: RandomState = 0,
    rivals: Sequence[Ecosystem] = (),
    executor: ExecutorSpec | None = "serial",
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep_events: bool = False,
    point: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> Ensemble:
    """``runs`` independent runs with seeds spawned from ``rng`` (an int seed, a
    ``SeedSequence`` or a ``Generator``); results in run order, and the same numbers,
    whatever the executor (:mod:`rainforest.executors`).

    ``seed=`` is the old name of ``rng``: still taken, without a warning until the
    workbench's job runner has moved to ``rng=``; it will warn, then go.
    """
    if runs < 1:
        raise SimulationError(f"runs must be at least 1, got {runs}")
    if seed is not None:
        rng = seed
    p = params if params is not None else Params()
    root = seed_sequence(rng)
    if not isinstance(root.entropy, int):
        raise SimulationError(
            f"monte_carlo: rng must be an int, a Generator or a SeedSequence made from one int, got entropy {root.entropy!r}"
        )
    seed = int(root.entropy)
    children = root.spawn(runs)
    tasks = [
        (eco, tuple(rivals), p, seed, k, tuple(int(x) for x in c.spawn_key), periods, keep_events)
        for k, c in enumerate(children)
    ]
    results: list[Run | None] = [None] * runs
    with executor_for(executor, workers) as pool:
        if pool is None:
            for k, task in enumerate(tasks):
                results[k] = _task(task)
                if progress is not None:
                    progress(k + 1, runs)
        else:
            futures = {pool.submit(_task, task): k for k, task in enumerate(tasks)}
            for done, future in enumerate(as_completed(futures), start=1):
                results[futures[future]] = future.result()
                if progress is not None:
                    progress(done, runs)
    return Ensemble(
        tuple(r for r in results if r is not None),
        periods,
        seed,
        dict(point or {}),
        assumptions(eco, p),
        ecosystem_names([eco, *rivals]),
    )


def ecosystem_names(ecosystems: Sequence[Ecosystem]) -> tuple[str, ...]:
    """Each ecosystem's name, made unique (a repeated name gets ``(rival k)`` or ``(base)``)."""
    names = [e.name or ("base" if k == 0 else f"rival {k}") for k, e in enumerate(ecosystems)]
    out = []
    for k, name in enumerate(names):
        out.append(name if names.count(name) == 1 else f"{name} ({'base' if k == 0 else f'rival {k}'})")
    return tuple(out)


def sweep_points(
    parameters: Mapping[str, Any],
    method: str = "grid",
    samples: int = 8,
    rng: RandomState = 0,
    *,
    seed: int | None = None,
) -> list[dict[str, Any]]:
    """The parameter points of a sweep: the full grid of the listed values, ``samples``
    uniform random points, or a Latin hypercube of ``samples`` points (McKay, Beckman &
    Conover 1979: each range cut into ``samples`` strata, each stratum used once per
    parameter, in a random pairing)."""
    if method not in METHODS:
        raise SimulationError(f"unknown sweep method {method!r}; expected one of: {', '.join(METHODS)}")
    names = list(parameters)
    if method == "grid":
        return [dict(zip(names, values, strict=True)) for values in itertools.product(*(parameters[n] for n in names))]
    if seed is not None:
        rng = _renamed_seed(None, seed, "sweep_points")
    gen = np.random.default_rng(seed_sequence(rng).spawn(1)[0])
    lows = np.array([float(parameters[n]["low"]) for n in names])
    highs = np.array([float(parameters[n]["high"]) for n in names])
    if method == "random":
        u = gen.random((samples, len(names)))
    else:
        u = np.empty((samples, len(names)))
        for d in range(len(names)):
            u[:, d] = (gen.permutation(samples) + gen.random(samples)) / samples
    values = lows + u * (highs - lows)
    return [{n: float(v) for n, v in zip(names, row, strict=True)} for row in values]


def run_scenario(
    scenario: Scenario,
    *,
    executor: ExecutorSpec | None = "serial",
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep_events: bool = True,
) -> list[Ensemble]:
    """The scenario's Monte Carlo, once per sweep point (one point without a sweep)."""
    points: list[dict[str, Any]] = [{}]
    if scenario.sweep:
        sweep = scenario.sweep
        points = sweep_points(
            sweep["parameters"], sweep.get("method", "grid"), int(sweep.get("samples", 8)), scenario.seed
        )
    out = []
    total = len(points) * scenario.runs
    for k, point in enumerate(points):

        def step(done: int, _n: int, k: int = k) -> None:
            if progress is not None:
                progress(k * scenario.runs + done, total)

        params = scenario.params.replace(**point) if point else scenario.params
        out.append(
            monte_carlo(
                scenario.base,
                params,
                periods=scenario.periods,
                runs=scenario.runs,
                rng=scenario.seed,
                rivals=scenario.rivals,
                executor=executor,
                workers=workers,
                progress=step,
                keep_events=keep_events,
                point=point,
            )
        )
    return out


def final_document(scenario: Scenario, *, run: int = 0, point: int = 0) -> Ecosystem:
    """The final state of one run of ``scenario`` as a ``rainforest/1`` document.

    Run ``run`` (0-based) of sweep point ``point`` is run again with its own seed (the one
    :func:`monte_carlo` spawned for it), so the document is the end of exactly the run
    whose series the ensemble holds; see :meth:`rainforest.simulate.Model.snapshot` for
    what it keeps (the living actors with their sizes, stages and strata, the flows among
    them and the symbioses formed, the modules and their adopters). Every analysis, and
    ``rainforest.load`` after ``rainforest.save``, applies to it.

    Raises
    ------
    ParameterError
        ``run`` or ``point`` outside the scenario's runs or sweep points.
    """
    points: list[dict[str, Any]] = [{}]
    if scenario.sweep:
        sweep = scenario.sweep
        points = sweep_points(
            sweep["parameters"], sweep.get("method", "grid"), int(sweep.get("samples", 8)), scenario.seed
        )
    for name, value, count in (("run", run, scenario.runs), ("point", point, len(points))):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < count:
            raise ParameterError(
                f"The {name!r} parameter of final_document must be a whole number from 0 to {count - 1} "
                f"(the scenario has {count} {name}s). Got {value!r} instead.",
                parameter=name,
            )
    chosen = points[point]
    params = scenario.params.replace(**chosen) if chosen else scenario.params
    root = seed_sequence(scenario.seed)
    child = root.spawn(scenario.runs)[run]
    seq = np.random.SeedSequence(root.entropy, spawn_key=child.spawn_key)
    with threadpool_limits(limits=1, user_api="blas"), cascade.threads(1):
        model = Model(scenario.base, params, seq, rivals=scenario.rivals)
        model.run(scenario.periods)
    return model.snapshot()


def strategy_race(
    eco: Any,
    focal: str,
    periods: int = 30,
    runs: int = 10,
    rng: RandomState = 0,
    params: Any = None,
    *,
    seed: int | None = None,
) -> dict[str, Any]:
    """The focal firm's value added per period under a "lone firm" strategy (openness 0, no
    royalty-bearing modules shared, symbiosis off) and an "ecosystem" strategy (the
    document's modules open at the given openness), mean over ``runs`` seeds (the same seeds
    for both). Returns both series, the ecosystem-wide value added of each, and the first
    period from which the ecosystem strategy stays ahead for the focal firm (or None).

    Formerly ``rainforest.simulate.competition.strategy_race``: it runs whole models, so it
    lives with the other experiments over many runs (the engine imports the mechanisms,
    not the other way round)."""
    base = params if params is not None else Params()
    lone = base.replace(**{"platform.openness": 0.0, "symbiosis.enabled": False})
    if seed is not None:
        rng = _renamed_seed(None, seed, "strategy_race")
    seeds = seed_sequence(rng).spawn(runs)
    series: dict[str, list[np.ndarray]] = {"lone": [], "ecosystem": [], "lone_total": [], "ecosystem_total": []}
    for s in seeds:
        for name, p in (("lone", lone), ("ecosystem", base)):
            model = Model(eco, p, np.random.SeedSequence(s.entropy, spawn_key=s.spawn_key))
            if model.index_of(focal) is None:
                raise UnknownIdError("actor", focal, list(model.index))
            values, totals = [], []
            for _ in range(periods):
                model.step()
                i = model.index_of(focal)
                values.append(float(model.agents["value_added"][i]) if i is not None and model.agents.alive[i] else 0.0)
                totals.append(float(model.agents["value_added"][model.agents.alive].sum()))
            series[name].append(np.array(values))
            series[f"{name}_total"].append(np.array(totals))
    mean = {k: np.mean(np.array(v), axis=0) for k, v in series.items()}
    ahead = mean["ecosystem"] > mean["lone"]
    crossover = None
    for t in range(periods):
        if ahead[t:].all():
            crossover = t + 1
            break
    return {"periods": periods, "runs": runs, **{k: v.tolist() for k, v in mean.items()}, "crossover": crossover}
