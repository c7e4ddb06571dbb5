"""The simulation engine: a model that owns its random generator, agent sets as columns of
numpy arrays, a step that runs the mechanisms in order, and a recorder apart from stepping.

The vocabulary is Mesa's (``Model``, ``step()``, ``run()``, ``AgentSet``, a data collector)
so ABM users find their way, but nothing loops over agents in Python: every mechanism
updates whole columns at once. The seed is recorded and every draw comes from one
``numpy.random.Generator`` built from a ``numpy.random.SeedSequence``, so the same seed
gives bit-identical results on any machine and executor.

One step (the order proposed in docs/simulation.md):

1. exogenous drivers and shocks (:mod:`.shocks`);
2. entry (:mod:`.demography`, founding) and complementor entry (:mod:`.platform`);
3. module adoption and openness (:mod:`.platform`, :mod:`.openness`);
4. symbiosis search and negotiation, 5. production and exchange, 6. sharing
   (:mod:`.symbiosis`: the social filter, the bilateral cost-benefit test and the
   bargained cost share, stochastic supply and demand);
7. learning and evolution (:mod:`.openness`: imitation and mutation);
8. exit (:mod:`.demography`, mortality; partners of an exiting firm lose inputs through
   the cascade of :mod:`rainforest.analysis.cascade` in :mod:`.shocks`);
9. ecosystem against ecosystem (:mod:`.competition`), then the record (:mod:`.metrics`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rainforest.executors import RandomState, seed_sequence
from rainforest.model.ecosystem import Ecosystem
from rainforest.simulate._kernels import production
from rainforest.simulate._setup import compact, population, snapshot
from rainforest.simulate.agents import MODEL, STAGES, STRATA, AgentSet, BoolArray, FloatArray, IntArray
from rainforest.simulate.assumptions import assumptions, meaning
from rainforest.simulate.competition import CompetitionState
from rainforest.simulate.demography import DemographyState
from rainforest.simulate.metrics import MetricsState, collect
from rainforest.simulate.openness import OpennessState
from rainforest.simulate.params import Params, SimulationError
from rainforest.simulate.platform import PlatformState
from rainforest.simulate.shocks import ShockState
from rainforest.simulate.symbiosis import SocialNetwork, SymbiosisState

__all__ = [
    "MODEL",
    "STAGES",
    "STRATA",
    "AgentSet",
    "BoolArray",
    "Events",
    "FloatArray",
    "IntArray",
    "Model",
    "Recorder",
    "Result",
    "SimulationError",
]


class Events:
    """The event log, kept as chunks of agent indices (names are resolved when asked for)."""

    def __init__(self, name: Callable[[int], str], uid: Callable[[Any], Any] | None = None) -> None:
        self._name = name
        self._uid = uid
        self._chunks: list[tuple[int, str, npt.NDArray[np.int64], npt.NDArray[np.int64] | None, str]] = []
        self._size = 0

    def log(self, period: int, kind: str, actors: Any, others: Any = None, detail: str = "") -> None:
        """One event per index in ``actors`` (with the partner in ``others``); index -1 is
        the policy maker, :data:`MODEL` the model itself."""
        idx = self._ids(actors)
        if idx.size == 0:
            return
        partner = None if others is None else self._ids(others)
        self._chunks.append((period, kind, idx, partner, detail))
        self._size += idx.size

    def _ids(self, index: Any) -> npt.NDArray[np.int64]:
        idx = np.asarray(index, dtype=np.int64).ravel()
        if self._uid is None or idx.size == 0:
            return idx
        if idx.min() >= 0:  # no policy maker among them
            return np.asarray(self._uid(idx), dtype=np.int64)
        return np.where(idx >= 0, self._uid(np.maximum(idx, 0)), idx).astype(np.int64)

    def __len__(self) -> int:
        return self._size

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _, kind, idx, _, _ in self._chunks:
            out[kind] = out.get(kind, 0) + int(idx.size)
        return dict(sorted(out.items()))

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for period, kind, idx, partner, detail in self._chunks:
            others = partner.tolist() if partner is not None else [None] * idx.size
            for i, j in zip(idx.tolist(), others, strict=True):
                out.append(
                    {
                        "period": period,
                        "kind": kind,
                        "actor": self._name(i),
                        "other": "" if j is None else self._name(j),
                        "detail": detail,
                    }
                )
        return out


class Recorder:
    """Collects one row of metrics per period (Mesa's DataCollector, apart from stepping)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []

    def record(self, row: Mapping[str, float]) -> None:
        self.rows.append(dict(row))

    def series(self) -> dict[str, FloatArray]:
        keys = list(dict.fromkeys(k for row in self.rows for k in row))
        return {k: np.array([row.get(k, math.nan) for row in self.rows], dtype=np.float64) for k in keys}


@dataclass(frozen=True)
class Result:
    """What a run leaves: the per-period series, the event log, the seed, the final model."""

    seed: int
    periods: int
    series: dict[str, FloatArray]
    events: Events
    snapshots: dict[int, Ecosystem]
    model: Any

    def summary(self) -> dict[str, Any]:
        """Plain numbers of the last period and the event counts (no wall times, no paths),
        with the assumptions the model made for what the document does not give, each
        metric's meaning, and the unit of money metrics (relative to period 1 when the
        document has no money; left out when they mean nothing for it)."""
        made = assumptions(self.model.ecosystems[0], self.model.params) if self.model is not None else None
        last: dict[str, float] = {}
        for k, v in self.series.items():
            if not len(v):
                continue
            unit = made.units.get(k) if made is not None else None
            if unit == "":
                continue
            if unit == "relative to period 1":
                if not v[0] > 0:
                    continue
                last[k] = float(v[-1] / v[0])
            else:
                last[k] = float(v[-1])
        return {
            "seed": self.seed,
            "periods": self.periods,
            "final": last,
            "units": {k: u for k, u in (made.units if made is not None else {}).items() if k in last},
            "meanings": {k: meaning(k) for k in last if k != "period"},
            "assumptions": [dict(x) for x in made.items] if made is not None else [],
            "events": self.events.counts(),
        }


Mechanism = Callable[["Model"], None]


def _renamed_seed(rng: RandomState, seed: Any, where: str) -> RandomState:
    """``rng``, or the deprecated ``seed=`` given instead (with a warning)."""
    if seed is None:
        return rng
    if rng is not None:
        raise SimulationError(f"{where}: give rng= (seed= is its old name), not both")
    warnings.warn(
        f"{where}(seed=...) is now {where}(rng=...) (an int, a SeedSequence or a Generator); "
        "seed= will be removed in a future release",
        DeprecationWarning,
        stacklevel=3,
    )
    return seed  # type: ignore[no-any-return]


class Model:
    """An industrial ecosystem in motion.

    Parameters
    ----------
    eco:
        The ecosystem at period 0 (any ``rainforest/1`` document).
    params:
        :class:`rainforest.simulate.Params`; every mechanism is switchable there.
    rng:
        An integer seed, a ``SeedSequence`` or a ``Generator`` (a seed is drawn from it);
        the seed is recorded as ``model.seed``, and ``rng=model.seed`` runs the same model
        again. ``seed=`` is the old name of this parameter (deprecated).
    rivals:
        Other ecosystems competing with this one (ecosystem against ecosystem).

    Notes
    -----
    What the model keeps between steps is typed: the agents' columns (``agents``, see
    :mod:`rainforest.simulate.agents`), the population's names and counters, the profit
    accumulated this period (``profit_extra``, until production), and one state per
    mechanism (``demography``, ``social``, ``symbiosis``, ``platform``, ``openness``,
    ``competition``, ``shocks``, ``metrics``), each built by its ``setup`` and advanced by
    its ``step`` (or the steps the mechanism has, in the order above).
    """

    def __init__(
        self,
        eco: Ecosystem,
        params: Params | None = None,
        rng: RandomState = None,
        rivals: Sequence[Ecosystem] = (),
        *,
        seed: int | np.random.SeedSequence | None = None,
    ) -> None:
        self.params = params if params is not None else Params()
        self.seed_sequence = seed_sequence(_renamed_seed(rng, seed, "Model"))
        self.seed = int(self.seed_sequence.entropy) if isinstance(self.seed_sequence.entropy, int) else 0
        self.rng = np.random.default_rng(self.seed_sequence)
        self.period = 0
        self.ecosystems: list[Ecosystem] = [eco, *rivals]
        self.events = Events(self.uid_name, lambda idx: self.agents["uid"][idx])
        self.recorder = Recorder()
        self.policy: dict[str, float] = {
            "landfill_tax": float(self.params.policy.landfill_tax),
            "subsidy": float(self.params.policy.subsidy),
            "virgin_price_factor": 1.0,
        }
        self.snapshots: dict[int, Ecosystem] = {}
        self.keep: set[int] = set()  # periods whose ecosystem is kept as a document
        people = population(self.ecosystems, self.rng)
        self.agents: AgentSet = people.agents
        self.names: list[str] = people.names  # uid -> id, for the documents' actors
        self.index: dict[str, int] = {name: i for i, name in enumerate(people.names)}  # id -> uid
        self.capabilities: list[str] = people.capabilities  # the columns of "core" and "noncore"
        self.sectors: list[str] = people.sectors  # the values of "sector"
        self.next_uid = len(people.names)
        self.initial_n = len(people.names)
        self.profit_extra: FloatArray | None = None  # added to profit at production (symbioses, royalties...)
        self.demography = DemographyState.setup(self)
        self.social = SocialNetwork.setup(self)
        self.symbiosis = SymbiosisState.setup(self)
        self.platform = PlatformState.setup(self)
        self.competition = CompetitionState.setup(self)
        self.openness = OpennessState()
        self.shocks = ShockState()
        self.metrics = MetricsState()

    def uid_name(self, uid: int) -> str:
        """The id of the agent with permanent number ``uid``: the document's for its actors,
        ``new<uid>`` for entrants, ``policy`` for -1, ``model`` for :data:`MODEL`."""
        if uid == MODEL:
            return "model"
        if uid < 0:
            return "policy"
        return self.names[uid] if uid < len(self.names) else f"new{uid}"

    def name(self, i: int) -> str:
        """The id of the agent at index ``i`` (indices change when dead agents are dropped)."""
        return self.uid_name(int(self.agents["uid"][i]))

    def ids(self, index: npt.NDArray[Any]) -> list[str]:
        uids = self.agents["uid"][np.asarray(index, dtype=np.int64)]
        return [self.uid_name(u) for u in uids.tolist()]

    def positions(self) -> npt.NDArray[np.int64]:
        """``positions()[uid]`` = the agent's current index (-1 once dropped)."""
        uid = self.agents["uid"]
        pos = np.full(int(self.next_uid), -1, dtype=np.int64)
        pos[uid] = np.arange(uid.size)
        return pos

    def index_of(self, actor: str) -> int | None:
        """The current agent index of an id (documents' actors and entrants), None if gone."""
        if actor in self.index:
            uid = self.index[actor]
        elif actor.startswith("new") and actor[3:].isdigit():
            uid = int(actor[3:])
        else:
            return None
        found = np.flatnonzero(self.agents["uid"] == uid)
        return int(found[0]) if found.size else None

    def add_profit(self, index: Any, amount: Any) -> None:
        """Add to the profit of actors this period (accumulated until production)."""
        a = self.agents
        extra = self.profit_extra
        if extra is None or len(extra) < a.n:
            grown = np.zeros(a.n)
            if extra is not None:
                grown[: len(extra)] = extra
            extra = grown
        np.add.at(extra, np.asarray(index, dtype=np.int64), np.asarray(amount, dtype=np.float64))
        self.profit_extra = extra

    def step(self) -> None:
        """One period: every enabled mechanism in the documented order, then the record."""
        p = self.params
        rivals = p.competition.enabled and len(self.ecosystems) > 1
        # with no rivals nothing runs between exit and growth: one pass over the agents does both
        order: list[tuple[bool, Mechanism]] = [
            (True, self.shocks.step),
            (p.demography.enabled, self.demography.entry),
            (p.platform.enabled, self.platform.step),
            (p.openness.enabled, self.openness.outsource),
            (p.symbiosis.enabled, self.symbiosis.step),
            (True, _production),
            (p.openness.enabled, self.openness.evolve),
            (p.demography.enabled and rivals, self.demography.exit),
            (rivals, self.competition.step),
            (p.demography.enabled and rivals, self.demography.grow),
            (p.demography.enabled and not rivals, self.demography.exit_and_grow),
        ]
        for enabled, mechanism in order:
            if enabled:
                mechanism(self)
        self.period += 1
        self.recorder.record(collect(self))
        a = self.agents
        if a.n - int(a.alive.sum()) > max(64, a.n // 4):
            compact(self)
        if self.period in self.keep:
            self.snapshots[self.period] = self.snapshot()

    def run(
        self, periods: int, *, keep: Iterable[int] = (), progress: Callable[[int, int], None] | None = None
    ) -> Result:
        """Step ``periods`` times; ``keep`` lists periods whose ecosystem is kept as a
        ``rainforest/1`` document (``Result.snapshots``)."""
        if periods < 0:
            raise SimulationError(f"periods must be >= 0, got {periods}")
        self.keep = set(keep)
        if 0 in self.keep:
            self.snapshots[0] = self.snapshot()
        for t in range(periods):
            self.step()
            if progress is not None:
                progress(t + 1, periods)
        return Result(self.seed, self.period, self.recorder.series(), self.events, dict(self.snapshots), self)

    def snapshot(self) -> Ecosystem:
        """The ecosystem as it stands, as a ``rainforest/1`` document (every analysis applies)."""
        return snapshot(self)


def _production(model: Model) -> None:
    """Value added and profit of every living actor this period.

    ``y_i = size_i * productivity_i``; profit = margin of the stratum * y_i + the net
    benefit of its symbioses + platform gains - royalties - the cost of redundant non-core
    investment (each kept by its mechanism's state during the step)."""
    a = model.agents
    empty = np.zeros(0)
    boost, openness = model.platform.boost, model.openness.factor
    extra = model.profit_extra
    model.profit_extra = None
    production(
        a.alive,
        a["size"],
        a["stratum"],
        np.asarray(model.params.demography.margin, dtype=np.float64),
        np.asarray(boost, dtype=np.float64) if boost is not None else empty,
        np.asarray(openness, dtype=np.float64) if openness is not None else empty,
        np.asarray(extra, dtype=np.float64) if extra is not None else empty,
        a["productivity"],
        a["value_added"],
        a["profit"],
    )
