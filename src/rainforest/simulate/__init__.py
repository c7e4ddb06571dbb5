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
"""

from __future__ import annotations

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

__all__ = [
    "AgentSet",
    "Competition",
    "Demography",
    "Events",
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
]
