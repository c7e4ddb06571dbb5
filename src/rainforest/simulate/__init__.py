"""Dynamics of industrial ecosystems: a vectorised agent-based simulator.

>>> import rainforest as rf
>>> from rainforest import simulate
>>> model = simulate.Model(rf.datasets.synthetic(n_actors=60, rng=1), rng=7)
>>> result = model.run(5)
>>> result.series["actors"].shape, result.seed
((5,), 7)
>>> again = simulate.Model(rf.datasets.synthetic(n_actors=60, rng=1), rng=7).run(5)
>>> bool(again.series["value_added"][-1] == result.series["value_added"][-1])
True

See :mod:`rainforest.simulate.engine` for the step order and each mechanism's module for
its rules and sources; :mod:`rainforest.simulate.scenario` runs scenarios, sweeps and
Monte Carlo on an executor (in-process, a local process pool, or Dask).

The classic models the mechanisms build on are public too, for users who calibrate and
test: :func:`arthur` (Arthur's 1989 adoption process with increasing returns),
:func:`arthur_lock_in` and :func:`lock_in` (lock-in probabilities and times of an
ensemble), :func:`lotka_volterra` (two competing populations) and
:func:`threshold_cascade` (Watts's 2002 cascade); also as ``competition.arthur``,
``competition.lotka_volterra`` and ``shocks.threshold_cascade``.
"""

from __future__ import annotations

from rainforest.simulate import competition, shocks
from rainforest.simulate.competition import LockIn, arthur, arthur_lock_in, lock_in, lotka_volterra
from rainforest.simulate.engine import AgentSet, Events, Model, Recorder, Result, SimulationError
from rainforest.simulate.params import (
    Competition,
    Demography,
    Openness,
    Params,
    Platform,
    Policy,
    Shock,
    Symbiosis,
)
from rainforest.simulate.shocks import threshold_cascade

__all__ = [
    "AgentSet",
    "Competition",
    "Demography",
    "Events",
    "LockIn",
    "Model",
    "Openness",
    "Params",
    "Platform",
    "Policy",
    "Recorder",
    "Result",
    "Shock",
    "SimulationError",
    "Symbiosis",
    "arthur",
    "arthur_lock_in",
    "competition",
    "lock_in",
    "lotka_volterra",
    "shocks",
    "threshold_cascade",
]
