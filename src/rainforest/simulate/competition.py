"""Ecosystem against ecosystem.

- Entrants choose an ecosystem by increasing returns (Arthur 1989, Econ. J. 99:116-131):
  half are of type R, half of type S; type k's utility of ecosystem E is its natural
  preference (``preference`` for its favourite, 0 otherwise) plus ``returns * share_E`` of
  the adopters so far; it joins the best. :func:`arthur` is the classic two-technology
  process itself (used by the tests to reproduce lock-in).
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
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rainforest.errors import moved
from rainforest.simulate.agents import FloatArray, IntArray

if TYPE_CHECKING:
    from rainforest.simulate.engine import Model

_LV_RATE = 0.05  # strength of the market-overlap term per period (ours)


def pianka(p: np.ndarray, q: np.ndarray) -> float:
    """Pianka's niche overlap of two profiles: ``sum p q / sqrt(sum p^2 sum q^2)``."""
    den = math.sqrt(float((p * p).sum()) * float((q * q).sum()))
    return float((p * q).sum()) / den if den > 0 else 0.0


@dataclass
class CompetitionState:
    """Each ecosystem's carrying capacity (twice its period-0 value added), the Pianka
    overlap matrix ``alpha`` of their capability profiles, and the entrants each attracted."""

    capacity: FloatArray
    alpha: FloatArray
    adopters: FloatArray

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
        return cls(2.0 * va0, alpha, np.zeros(k))

    def choose(self, model: Model, idx: IntArray) -> None:
        """Entrants pick an ecosystem by increasing returns (types alternate R, S, ...)."""
        p = model.params.competition
        a = model.agents
        k = len(model.ecosystems)
        counts = np.array([float((a.alive & a["member"][:, e]).sum()) for e in range(k)])
        for i in idx.tolist():
            kind = int(model.rng.integers(0, k))
            utility = p.returns * counts / max(counts.sum(), 1.0)
            utility[kind] += p.preference
            best = int(np.argmax(utility))
            a["member"][i, :] = False
            a["member"][i, best] = True
            a["home"][i] = best
            counts[best] += 1
            self.adopters[best] += 1

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
    rng: int | np.random.SeedSequence | np.random.Generator | None = None,
) -> np.ndarray:
    """Arthur's (1989) adoption process: agents of type R or S (equal odds) arrive one by one
    and adopt A or B by ``a_R + r n_A`` vs ``b_R + r n_B`` (type R) and ``a_S + s n_A`` vs
    ``b_S + s n_B`` (type S). Returns ``n_A - n_B`` after each adoption. With increasing
    returns the difference leaves the band where both types still follow their preference
    and lock-in follows with probability one."""
    gen = np.random.default_rng(rng)
    types = gen.random(adopters) < 0.5
    n_a = n_b = 0
    out = np.empty(adopters, dtype=np.int64)
    for t in range(adopters):
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


def lotka_volterra(
    n0: tuple[float, float],
    r: tuple[float, float],
    k: tuple[float, float],
    alpha: tuple[float, float],
    periods: int,
    dt: float = 0.01,
) -> np.ndarray:
    """Two competing populations, ``dN_1/dt = r_1 N_1 (1 - (N_1 + a_12 N_2) / K_1)`` and
    symmetrically, by classical RK4 with step ``dt``; returns the states at 0, 1, ... periods."""

    def f(n: np.ndarray) -> np.ndarray:
        return np.array(
            [
                r[0] * n[0] * (1 - (n[0] + alpha[0] * n[1]) / k[0]),
                r[1] * n[1] * (1 - (n[1] + alpha[1] * n[0]) / k[1]),
            ]
        )

    steps = round(1 / dt)
    n = np.asarray(n0, dtype=np.float64)
    out = [n.copy()]
    for _ in range(periods):
        for _ in range(steps):
            k1 = f(n)
            k2 = f(n + dt / 2 * k1)
            k3 = f(n + dt / 2 * k2)
            k4 = f(n + dt * k3)
            n = n + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(n.copy())
    return np.array(out)


if not TYPE_CHECKING:  # the function runs whole models, so it lives above the engine now
    __getattr__ = moved(
        __name__, {"strategy_race": ("rainforest.simulate.scenario", "strategy_race", "it runs whole models")}
    )
