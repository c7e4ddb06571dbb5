"""Ecosystem against ecosystem.

- Entrants choose an ecosystem by increasing returns (Arthur 1989, Econ. J. 99:116-131):
  each is of type R (probability ``share_r``) or S; type k's utility of ecosystem E is its
  natural preference (``preferences = (a_R, b_R, a_S, b_S)``, or ``preference`` for its
  favourite and 0 otherwise) plus its returns (``returns`` = r, ``returns_s`` = s) times
  E's share of the living members (``returns_basis = "share"``) or the number of entrants
  that have chosen E so far (``"count"``, Arthur's ``n_A``, ``n_B``); it joins the best,
  a tie going to its favourite. After every period the model records ``locked_in``: the
  ecosystem every type of entrant would now join (-1 while the types still disagree).
  :func:`arthur` is the classic two-technology process itself and :func:`arthur_lock_in`
  its ensemble; :func:`lock_in` reads lock-in probabilities and times off any set of runs
  (the tests check both against the gambler's-ruin closed form).
- Members switch when a rival's utility beats their own ecosystem's by more than the
  switching cost (docs/simulation.md): utility = fit + ``returns *
  share_E`` + what the member has sunk in E (its active symbioses and adopted modules); with
  probability ``multihoming`` it joins the rival while staying (multi-homing).
- Markets overlap: each ecosystem's members grow or shrink with the Lotka-Volterra
  competition term ``1 - (N_E + sum alpha_EF N_F) / K_E`` (value added; ``K_E`` twice the
  period-0 value added; ``alpha`` the Pianka overlap of the two ecosystems' capability
  profiles), so differentiated ecosystems coexist and identical ones exclude each other.
  :func:`lotka_volterra` integrates the two-population model (reproduced against its
  analytic equilibrium in the tests).
- :func:`rainforest.simulate.scenario.strategy_race`: a "lone firm" strategy (the focal firm shares nothing: no
  modules, openness 0, no symbioses of its own) against an "ecosystem" strategy (it opens
  its modules) on the same document and seeds, so the claim that isolated breakthroughs
  win only in the short term becomes a measured outcome.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from rainforest.errors import ParameterError, check_choice, moved
from rainforest.executors import RandomState, seed_sequence
from rainforest.simulate.agents import FloatArray, IntArray
from rainforest.simulate.params import Competition, SimulationError

if TYPE_CHECKING:
    from rainforest.simulate.engine import Model

__all__ = ["LockIn", "arthur", "arthur_lock_in", "lock_in", "lotka_volterra", "pianka"]

#: How an entrant's returns grow: with the ecosystem's share of the members, or with the
#: count of entrants that chose it so far (Arthur's n_A, n_B).
ReturnsBasis = Literal["share", "count"]

_LV_RATE = 0.05  # strength of the market-overlap term per period (ours)


def pianka(p: np.ndarray, q: np.ndarray) -> float:
    """Pianka's niche overlap of two profiles: ``sum p q / sqrt(sum p^2 sum q^2)``."""
    den = math.sqrt(float((p * p).sum()) * float((q * q).sum()))
    return float((p * q).sum()) / den if den > 0 else 0.0


def _finite(name: str, value: Any, where: str, *, low: float | None = None, high: float | None = None) -> float:
    """``value`` as a float, else a :class:`ParameterError` naming the parameter and its range."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    ok = math.isfinite(x) and (low is None or x >= low) and (high is None or x <= high)
    if not ok:
        if low is not None and high is not None:
            want = f"a number from {low:g} to {high:g}"
        elif low is not None:
            want = f"a number of at least {low:g}"
        else:
            want = "a finite number"
        raise ParameterError(
            f"The {name!r} parameter of {where} must be {want}. Got {value!r} instead.", parameter=name
        )
    return x


@dataclass(frozen=True)
class EntrantTypes:
    """The kinds of entrant of a run with rivals: each row of ``natural`` is one type's
    natural preference for each ecosystem, ``returns`` its increasing returns, ``odds``
    the probability that an entrant is of that type, ``favourite`` the ecosystem it joins
    on a tie."""

    natural: FloatArray
    returns: FloatArray
    odds: FloatArray
    favourite: IntArray
    count: bool

    @classmethod
    def of(cls, p: Competition, k: int) -> EntrantTypes:
        """Arthur's R and S types with two ecosystems; one type per favourite with more.
        Raises :class:`ParameterError` for a value the process cannot take."""
        where = "the competition mechanism (competition.*)"
        check_choice("competition.returns_basis", p.returns_basis, ReturnsBasis, where=where)
        r = _finite("competition.returns", p.returns, where, low=0.0)
        s = r if p.returns_s is None else _finite("competition.returns_s", p.returns_s, where, low=0.0)
        share_r = _finite("competition.share_r", p.share_r, where, low=0.0, high=1.0)
        pref = _finite("competition.preference", p.preference, where)
        if p.preferences is not None:
            values = tuple(p.preferences)
            if len(values) != 4:
                raise ParameterError(
                    f"The 'competition.preferences' parameter of {where} must be four numbers (a_R, b_R, a_S, b_S). "
                    f"Got {p.preferences!r} instead.",
                    parameter="competition.preferences",
                )
            a_r, b_r, a_s, b_s = (_finite("competition.preferences", v, where) for v in values)
        else:
            a_r, b_r, a_s, b_s = pref, 0.0, 0.0, pref
        if k == 2:
            natural = np.array([[a_r, b_r], [a_s, b_s]])
            fav = np.array([0 if a_r >= b_r else 1, 0 if a_s > b_s else 1], dtype=np.int64)
            return cls(natural, np.array([r, s]), np.array([share_r, 1.0 - share_r]), fav, p.returns_basis == "count")
        if p.preferences is not None or p.returns_s is not None or share_r != 0.5:
            raise SimulationError(
                f"competition.preferences, returns_s and share_r describe Arthur's two types on two ecosystems; "
                f"this run has {k} (the base and {k - 1} rivals): leave them at their defaults, or keep one rival"
            )
        return cls(
            pref * np.eye(k),
            np.full(k, r),
            np.full(k, 1.0 / k),
            np.arange(k, dtype=np.int64),
            p.returns_basis == "count",
        )

    def draw(self, rng: np.random.Generator) -> int:
        """One entrant's type (two types: R with the first odds; more: uniform)."""
        if self.odds.size == 2:
            return 0 if rng.random() < self.odds[0] else 1
        return int(rng.integers(0, self.odds.size))

    def choice(self, kind: int, x: FloatArray) -> int:
        """The ecosystem type ``kind`` joins given ``x`` (shares or counts); a tie goes to its
        favourite."""
        utility = self.natural[kind] + self.returns[kind] * x
        best = int(np.argmax(utility))
        fav = int(self.favourite[kind])
        return fav if utility[fav] >= utility[best] else best

    def locked(self, x: FloatArray) -> int:
        """The ecosystem every type that can arrive would join given ``x``; -1 when they
        disagree."""
        picks = {self.choice(t, x) for t in range(self.odds.size) if self.odds[t] > 0}
        return picks.pop() if len(picks) == 1 else -1


@dataclass
class CompetitionState:
    """Each ecosystem's carrying capacity (twice its period-0 value added), the Pianka
    overlap matrix ``alpha`` of their capability profiles, the entrants each attracted, and
    the entrant types (None without rivals)."""

    capacity: FloatArray
    alpha: FloatArray
    adopters: FloatArray
    types: EntrantTypes | None = None

    @classmethod
    def setup(cls, model: Model) -> CompetitionState:
        a = model.agents
        k = len(model.ecosystems)
        va0 = np.array([float(a["size"][(a["home"] == e)].sum()) for e in range(k)])
        profiles = np.array([a["core"][a["home"] == e].sum(axis=0) for e in range(k)], dtype=float)
        alpha = np.ones((k, k))
        for e in range(k):
            for f in range(k):
                if e != f:
                    alpha[e, f] = pianka(profiles[e], profiles[f])
        p = model.params.competition
        types = EntrantTypes.of(p, k) if k > 1 and p.enabled else None
        return cls(2.0 * va0, alpha, np.zeros(k), types)

    def _returns_on(self, model: Model) -> FloatArray:
        """What the returns multiply: the living members' shares, or the adopters' counts."""
        if self.types is not None and self.types.count:
            return self.adopters.copy()
        a = model.agents
        k = len(model.ecosystems)
        counts = np.array([float((a.alive & a["member"][:, e]).sum()) for e in range(k)], dtype=np.float64)
        shares: FloatArray = counts / max(float(counts.sum()), 1.0)
        return shares

    def choose(self, model: Model, idx: IntArray) -> None:
        """Entrants pick an ecosystem by increasing returns, one after the other."""
        types = self.types
        if types is None:
            return
        a = model.agents
        k = len(model.ecosystems)
        counts = np.array([float((a.alive & a["member"][:, e]).sum()) for e in range(k)])
        for i in idx.tolist():
            kind = types.draw(model.rng)
            x = self.adopters if types.count else counts / max(counts.sum(), 1.0)
            best = types.choice(kind, x)
            a["member"][i, :] = False
            a["member"][i, best] = True
            a["home"][i] = best
            counts[best] += 1
            self.adopters[best] += 1

    def locked(self, model: Model) -> int:
        """The ecosystem every kind of entrant would join now (-1: not locked in)."""
        if self.types is None:
            return -1
        return self.types.locked(self._returns_on(model))

    def step(self, model: Model) -> None:
        k = len(model.ecosystems)
        if k < 2:
            return
        p = model.params.competition
        a = model.agents
        rng = model.rng
        alive = a.alive
        member = a["member"]
        counts = np.array([float((alive & member[:, e]).sum()) for e in range(k)])
        share = counts / max(counts.sum(), 1.0)
        sym = model.symbiosis.candidates
        stake = np.zeros(a.n)
        if sym.src.size:
            act = sym.active
            stake += 0.1 * (np.bincount(sym.src[act], minlength=a.n) + np.bincount(sym.dst[act], minlength=a.n))[: a.n]
        if "adopted" in a:
            stake += 0.1 * a["adopted"].sum(axis=1)
        home = a["home"].astype(np.int64)
        fit = a["quality"] - 0.5
        own = fit + p.returns * share[home] + stake
        rival_u = p.returns * share[None, :] + fit[:, None]
        rival_u[np.arange(a.n), home] = -np.inf
        best = np.argmax(rival_u, axis=1)
        better = alive & (rival_u[np.arange(a.n), best] - own > p.switching_cost)
        move = better & (rng.random(a.n) < p.switch_rate)
        idx = np.flatnonzero(move)
        if idx.size:
            member[idx, :] = False
            member[idx, best[idx]] = True
            a["home"][idx] = best[idx]
            model.events.log(model.period, "switch", idx, detail="to a rival ecosystem")
            model.symbiosis.drop_actors(model, idx)
        multi = better & ~move & (rng.random(a.n) < p.multihoming)
        jdx = np.flatnonzero(multi)
        if jdx.size:
            member[jdx, best[jdx]] = True
            model.events.log(model.period, "multi-homing", jdx)
        # market overlap (Lotka-Volterra competition on value added)
        va = np.array([float(a["value_added"][alive & (a["home"] == e)].sum()) for e in range(k)])
        pressure = 1.0 - (self.alpha @ va) / np.maximum(self.capacity, 1e-12)
        factor = np.exp(_LV_RATE * np.clip(pressure, -1.0, 1.0))
        a["size"][:] = a["size"] * np.where(alive, factor[a["home"].astype(np.int64)], 1.0)


def arthur(
    adopters: int,
    *,
    a_r: float = 1.0,
    b_r: float = 0.8,
    a_s: float = 0.8,
    b_s: float = 1.0,
    r: float = 0.05,
    s: float = 0.05,
    share_r: float = 0.5,
    rng: RandomState = None,
) -> np.ndarray:
    """Arthur's (1989) adoption process of two competing technologies A and B.

    Agents arrive one by one; each is of type R with probability ``share_r`` (Arthur's
    p), else of type S, and adopts the technology of higher payoff given the previous
    adopters ``n_A`` and ``n_B``:

    ========  ========================  ========================
    type      payoff of A               payoff of B
    ========  ========================  ========================
    R         ``a_R + r n_A``           ``b_R + r n_B``
    S         ``a_S + s n_A``           ``b_S + s n_B``
    ========  ========================  ========================

    (a tie goes to A for type R and to B for type S: each type's natural favourite in
    Arthur's set-up, ``a_R > b_R`` and ``b_S > a_S``).

    Parameters
    ----------
    adopters:
        How many agents adopt (at least 0).
    a_r, b_r, a_s, b_s:
        The natural preferences (finite numbers).
    r, s:
        The increasing returns per previous adopter of each type (0: constant returns;
        negative: diminishing returns).
    share_r:
        The probability that an arriving agent is of type R, in [0, 1].
    rng:
        An int seed, a ``SeedSequence`` or a ``Generator``.

    Returns
    -------
    numpy.ndarray
        ``n_A - n_B`` after each adoption (int64, length ``adopters``).

    Raises
    ------
    ParameterError
        A count below 0, a probability outside [0, 1], a payoff that is not finite.

    Notes
    -----
    Type R adopts A exactly when ``d = n_A - n_B >= (b_R - a_R) / r`` and type S exactly
    when ``d > (b_S - a_S) / s``, so with increasing returns the difference ``d`` is a
    random walk (+1 with probability p, -1 otherwise) between two absorbing barriers:
    once it leaves the band where each type still follows its preference, both types
    adopt the leader for ever (lock-in, which comes with probability one). The
    probability of locking into A and the expected number of adoptions until lock-in are
    the gambler's-ruin formulas (tests/test_simulate_lock_in.py derives them).
    :func:`arthur_lock_in` runs the process many times and reads both off.

    References
    ----------
    Arthur, W. B. (1989). Competing technologies, increasing returns, and lock-in by
    historical events. The Economic Journal 99(394), 116-131 (Table 1; section 3).

    Examples
    --------
    >>> d = arthur(200, rng=1)
    >>> int(abs(d[-1])) > 150  # locked in: the late adopters all went one way
    True
    """
    where = "arthur"
    n = _count("adopters", adopters, where)
    a_r, b_r, a_s, b_s, r, s = (
        _finite(name, value, where)
        for name, value in (("a_r", a_r), ("b_r", b_r), ("a_s", a_s), ("b_s", b_s), ("r", r), ("s", s))
    )
    p = _finite("share_r", share_r, where, low=0.0, high=1.0)
    gen = np.random.default_rng(seed_sequence(rng) if not isinstance(rng, np.random.Generator) else rng)
    types = gen.random(n) < p
    n_a = n_b = 0
    out = np.empty(n, dtype=np.int64)
    for t in range(n):
        if types[t]:
            pick_a = a_r + r * n_a >= b_r + r * n_b
        else:
            pick_a = a_s + s * n_a > b_s + s * n_b
        if pick_a:
            n_a += 1
        else:
            n_b += 1
        out[t] = n_a - n_b
    return out


def _count(name: str, value: Any, where: str, *, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ParameterError(
            f"The {name!r} parameter of {where} must be a whole number of at least {low}. Got {value!r} instead.",
            parameter=name,
        )
    return int(value)


@dataclass(frozen=True)
class LockIn:
    """Lock-in over an ensemble of runs.

    A run is *locked into* E from step ``t`` when, from ``t`` to the horizon, every kind
    of newcomer would choose E whatever its own preference; ``times[k]`` is that first
    step of run ``k`` (1 = after the first period or adoption), None when run ``k`` is not
    locked in at the horizon. Runs not locked in are counted in ``not_locked``, never
    dropped: the probabilities are shares of all runs and add up to 1 with
    ``not_locked / runs``.
    """

    runs: int
    horizon: int
    unit: str  # "period" (a simulation) or "adoption" (Arthur's process)
    ecosystems: tuple[str, ...]
    locked_into: tuple[int, ...]  # runs locked into each ecosystem at the horizon
    not_locked: int
    times: tuple[int | None, ...]

    def probability(self) -> dict[str, float]:
        """Share of all runs locked into each ecosystem (and ``not locked``)."""
        out = {e: c / self.runs for e, c in zip(self.ecosystems, self.locked_into, strict=True)}
        out["not locked"] = self.not_locked / self.runs
        return out

    def interval(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """Wilson score interval of each lock-in probability (Wilson 1927), at ``level``."""
        if not 0 < level < 1:
            raise ParameterError(
                f"The 'level' parameter of LockIn.interval must be between 0 and 1. Got {level!r} instead.",
                parameter="level",
            )
        z = NormalDist().inv_cdf(0.5 + level / 2)
        out: dict[str, tuple[float, float]] = {}
        for name, share in self.probability().items():
            n = self.runs
            centre = (share + z * z / (2 * n)) / (1 + z * z / n)
            half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
            out[name] = (max(0.0, centre - half), min(1.0, centre + half))
        return out

    def time(self) -> dict[str, float | int | None]:
        """Time to lock-in over the runs locked in: count, mean, median, 5/25/75/95%
        quantiles, min and max (None when no run locked in)."""
        done = np.array([t for t in self.times if t is not None], dtype=np.float64)
        if not done.size:
            return {"n": 0, **dict.fromkeys(("mean", "median", "p05", "p25", "p75", "p95", "min", "max"))}
        q = np.quantile(done, [0.05, 0.25, 0.5, 0.75, 0.95])
        return {
            "n": int(done.size),
            "mean": float(done.mean()),
            "median": float(q[2]),
            "p05": float(q[0]),
            "p25": float(q[1]),
            "p75": float(q[3]),
            "p95": float(q[4]),
            "min": float(done.min()),
            "max": float(done.max()),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: runs, horizon, unit, probabilities with 95% intervals, the counts,
        the time distribution and each run's time (None: not locked in)."""
        intervals = self.interval()
        return {
            "runs": self.runs,
            "horizon": self.horizon,
            "unit": self.unit,
            "probability": self.probability(),
            "interval95": {k: list(v) for k, v in intervals.items()},
            "locked_into": dict(zip(self.ecosystems, self.locked_into, strict=True)),
            "not_locked": self.not_locked,
            "time": self.time(),
            "times": list(self.times),
        }


def lock_in(locked: np.ndarray, ecosystems: Sequence[str], *, unit: str = "period") -> LockIn:
    """Lock-in probabilities and times of an ensemble.

    Parameters
    ----------
    locked:
        ``runs x steps``: the ecosystem (0, 1, ...) every kind of newcomer would choose
        after each step, -1 where they disagree (NaN, a step not recorded, counts as -1).
    ecosystems:
        The names of the ecosystems, in index order.
    unit:
        What a step is (``"period"`` or ``"adoption"``), for the reader.

    Returns
    -------
    LockIn
        Each run's time to lock-in: the first step from which it stays locked into the same
        ecosystem to the last step (1-based); None when it is not locked at the last step.
    """
    arr = np.asarray(locked, dtype=np.float64)
    if arr.ndim != 2:
        raise ParameterError(
            f"The 'locked' parameter of lock_in must be a runs x steps array. Got shape {arr.shape} instead.",
            parameter="locked",
        )
    runs, horizon = arr.shape
    if runs < 1:
        raise ParameterError(
            "The 'locked' parameter of lock_in must hold at least one run. Got none.", parameter="locked"
        )
    states = np.where(np.isfinite(arr), arr, -1).astype(np.int64)
    k = len(ecosystems)
    if states.size and (states.max() >= k or states.min() < -1):
        raise ParameterError(
            f"The 'locked' parameter of lock_in must hold -1 or an ecosystem index below {k}. "
            f"Got values from {states.min()} to {states.max()} instead.",
            parameter="locked",
        )
    into = [0] * k
    times: list[int | None] = []
    for row in states:
        last = int(row[-1]) if horizon else -1
        if last < 0:
            times.append(None)
            continue
        into[last] += 1
        other = np.flatnonzero(row != last)
        times.append(int(other[-1]) + 2 if other.size else 1)
    return LockIn(runs, horizon, unit, tuple(ecosystems), tuple(into), runs - sum(into), tuple(times))


def arthur_lock_in(
    runs: int,
    adopters: int,
    *,
    a_r: float = 1.0,
    b_r: float = 0.8,
    a_s: float = 0.8,
    b_s: float = 1.0,
    r: float = 0.05,
    s: float = 0.05,
    share_r: float = 0.5,
    rng: RandomState = 0,
) -> LockIn:
    """:func:`arthur` ``runs`` times (seeds spawned from ``rng``) and the lock-in read off:
    after each adoption the process is locked into A when both types would adopt A
    (``a_S + s n_A > b_S + s n_B`` and ``a_R + r n_A >= b_R + r n_B``), into B when both
    would adopt B. Times are counted in adoptions.

    >>> result = arthur_lock_in(200, 400, share_r=0.5, rng=3)
    >>> result.not_locked, round(sum(result.probability().values()), 6)
    (0, 1.0)
    """
    where = "arthur_lock_in"
    n_runs = _count("runs", runs, where, low=1)
    n = _count("adopters", adopters, where)
    a_r, b_r, a_s, b_s, r, s = (
        _finite(name, value, where)
        for name, value in (("a_r", a_r), ("b_r", b_r), ("a_s", a_s), ("b_s", b_s), ("r", r), ("s", s))
    )
    states = np.empty((n_runs, n), dtype=np.int64)
    for k, child in enumerate(seed_sequence(rng).spawn(n_runs)):
        d = arthur(n, a_r=a_r, b_r=b_r, a_s=a_s, b_s=b_s, r=r, s=s, share_r=share_r, rng=child)
        # n_A - n_B = d and n_A + n_B = t, so each payoff comparison only needs d
        r_a = a_r + r * d >= b_r  # R adopts A   (a_R + r n_A >= b_R + r n_B, r n_A - r n_B = r d)
        s_a = a_s + s * d > b_s  # S adopts A
        states[k] = np.where(r_a & s_a, 0, np.where(~r_a & ~s_a, 1, -1))
    return lock_in(states, ("A", "B"), unit="adoption")


def lotka_volterra(
    n0: tuple[float, float],
    r: tuple[float, float],
    k: tuple[float, float],
    alpha: tuple[float, float],
    periods: int,
    dt: float = 0.01,
) -> np.ndarray:
    """Two competing populations (Lotka 1925; Volterra 1926), integrated by classical RK4.

    .. math::

        \\frac{dN_1}{dt} = r_1 N_1 \\Big(1 - \\frac{N_1 + \\alpha_{12} N_2}{K_1}\\Big), \\qquad
        \\frac{dN_2}{dt} = r_2 N_2 \\Big(1 - \\frac{N_2 + \\alpha_{21} N_1}{K_2}\\Big)

    Parameters
    ----------
    n0:
        The two starting populations ``(N_1, N_2)``, each at least 0.
    r:
        The intrinsic growth rates ``(r_1, r_2)`` per period (finite).
    k:
        The carrying capacities ``(K_1, K_2)``, each above 0.
    alpha:
        The competition coefficients ``(alpha_12, alpha_21)``: the effect of one individual
        of the other population, in units of one's own (finite, at least 0).
    periods:
        Periods to integrate (a whole number, at least 0).
    dt:
        The RK4 step, in periods; ``1 / dt`` must be a whole number (default 0.01).

    Returns
    -------
    numpy.ndarray
        ``(periods + 1) x 2``: the populations at 0, 1, ..., ``periods``.

    Raises
    ------
    ParameterError
        A pair that is not two numbers, a population below 0, a capacity not above 0, a
        step that does not divide a period.

    Notes
    -----
    The two coexist at ``N_1* = (K_1 - alpha_12 K_2) / (1 - alpha_12 alpha_21)`` (and
    symmetrically) when ``alpha_12 < K_1 / K_2`` and ``alpha_21 < K_2 / K_1``; otherwise one
    excludes the other (e.g. Gotelli, A Primer of Ecology, ch. 5). The simulator's market
    overlap uses the same term with Pianka's overlap as ``alpha``.

    Examples
    --------
    >>> n = lotka_volterra((5.0, 5.0), (1.0, 0.8), (100.0, 80.0), (0.5, 0.4), periods=200)
    >>> [round(float(x), 3) for x in n[-1]]
    [75.0, 50.0]
    """
    where = "lotka_volterra"

    def pair(name: str, value: Any, low: float | None, above: bool = False) -> tuple[float, float]:
        try:
            items = tuple(value)
        except TypeError:
            items = ()
        if len(items) != 2:
            raise ParameterError(
                f"The {name!r} parameter of {where} must be a pair of numbers. Got {value!r} instead.", parameter=name
            )
        out = tuple(_finite(name, v, where, low=low) for v in items)
        if above and min(out) <= 0:
            raise ParameterError(
                f"The {name!r} parameter of {where} must be two numbers above 0. Got {value!r} instead.",
                parameter=name,
            )
        return out[0], out[1]

    n_start = pair("n0", n0, 0.0)
    rates = pair("r", r, None)
    caps = pair("k", k, None, above=True)
    comp = pair("alpha", alpha, 0.0)
    count = _count("periods", periods, where)
    step = _finite("dt", dt, where)
    steps = round(1 / step) if step > 0 else 0
    if step <= 0 or step > 1 or abs(steps * step - 1) > 1e-9:
        raise ParameterError(
            f"The 'dt' parameter of {where} must be above 0 with 1 / dt a whole number (0.01, 0.1, 1). "
            f"Got {dt!r} instead.",
            parameter="dt",
        )

    def f(n: np.ndarray) -> np.ndarray:
        return np.array(
            [
                rates[0] * n[0] * (1 - (n[0] + comp[0] * n[1]) / caps[0]),
                rates[1] * n[1] * (1 - (n[1] + comp[1] * n[0]) / caps[1]),
            ]
        )

    n = np.asarray(n_start, dtype=np.float64)
    out = [n.copy()]
    for _ in range(count):
        for _ in range(steps):
            k1 = f(n)
            k2 = f(n + step / 2 * k1)
            k3 = f(n + step / 2 * k2)
            k4 = f(n + step * k3)
            n = n + step / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(n.copy())
    return np.array(out)


if not TYPE_CHECKING:  # the function runs whole models, so it lives above the engine now
    __getattr__ = moved(
        __name__, {"strategy_race": ("rainforest.simulate.scenario", "strategy_race", "it runs whole models")}
    )
