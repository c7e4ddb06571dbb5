"""Demography by stratum: density-dependent founding and mortality, liabilities of newness
and smallness, Gibrat growth, life-cycle stages and moves between strata.

Sources: Hannan & Freeman (1977) The population ecology of organizations, AJS 82:929-964;
Hannan & Carroll (1992) Dynamics of Organizational Populations, OUP (density dependence:
legitimation then competition, ``b1 > 0 > b2``, ``d1 < 0 < d2``); Freeman, Carroll & Hannan
(1983) The liability of newness, ASR 48:692-710 (hazard falls with age and size). The
functional forms are described in docs/simulation.md, normalised by each
stratum's initial count (ours, see :class:`rainforest.simulate.params.Demography`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from rainforest.simulate._kernels import demography as demography_kernel
from rainforest.simulate._kernels import stratum_counts
from rainforest.simulate.agents import FloatArray, IntArray

if TYPE_CHECKING:
    from rainforest.simulate.engine import Model


@dataclass
class DemographyState:
    """What demography keeps between periods: the strata's period-0 counts, median sizes and
    size thresholds, and two caches (the age factor table and index buffers)."""

    initial: FloatArray  # living actors per stratum at period 0
    thresholds: FloatArray  # size at which an actor moves up a stratum
    median: FloatArray  # median size per stratum at period 0 (1 for an empty stratum)
    log_thresholds: FloatArray
    age_factor: tuple[float, FloatArray] | None = None  # (e1, (1 + age)^e1 for ages 0..999)
    scratch: IntArray = field(default_factory=lambda: np.empty((0, 0), dtype=np.int64))

    @classmethod
    def setup(cls, model: Model) -> DemographyState:
        a = model.agents
        size, stratum = a["size"], a["stratum"]
        low = _thresholds(size, stratum)
        with np.errstate(divide="ignore"):
            log_low = np.log(np.asarray(low, dtype=np.float64))
        return cls(
            initial=np.bincount(stratum, minlength=4).astype(np.float64),
            thresholds=low,
            median=np.array([float(np.median(size[stratum == s])) if (stratum == s).any() else 1.0 for s in range(4)]),
            log_thresholds=log_low,
        )

    def density(self, model: Model) -> FloatArray:
        a = model.agents
        initial = np.maximum(self.initial, 1.0)
        return np.asarray(stratum_counts(a["stratum"], a.alive) / initial)

    def _scratch(self, model: Model, count: int) -> IntArray:
        """``count`` index buffers as long as the agent arrays (kept between periods)."""
        n = model.agents.n
        buf = self.scratch
        if buf.shape[0] < count or buf.shape[1] < n:
            buf = np.empty((count, max(n, 2 * buf.shape[1])), dtype=np.int64)
            self.scratch = buf
        return buf

    def entry(self, model: Model) -> None:
        """Founding: Poisson births per stratum; entrants are start-ups of the base ecosystem
        (home 0), small (``new_size`` x the stratum's median), with no capability but one
        drawn from those present."""
        p = model.params.demography
        rho = self.density(model)
        initial = self.initial
        rate = np.asarray(p.base_birth) * initial * np.exp(p.b1 * (rho - 1.0) + p.b2 * (rho**2 - 1.0))
        births = model.rng.poisson(rate)
        total = int(births.sum())
        if total == 0:
            return
        a = model.agents
        stratum = np.repeat(np.arange(4, dtype=np.int8), births)
        rng = model.rng
        size = self.median[stratum] * p.new_size * rng.lognormal(0.0, 0.3, total)
        traits = rng.random((4, total))  # knowledge, sigma, kappa, quality: uniform on [0, 1)
        k = len(model.ecosystems)
        first = model.next_uid
        model.next_uid = first + total
        idx = a.add(
            total,
            alive=True,
            uid=np.arange(first, first + total),
            home=0,
            stratum=stratum,
            stage=0,
            age=0,
            born=model.period,
            size=size,
            sector=rng.integers(0, max(len(model.sectors), 1), total),
            knowledge=traits[0],
            sigma=traits[1],
            kappa=traits[2],
            quality=traits[3],
        )
        member = a["member"]
        member[idx, 0] = True
        if k > 1 and model.params.competition.enabled:
            model.competition.choose(model, idx)
        ncap = a["core"].shape[1]
        if model.capabilities:
            a["core"][idx, rng.integers(0, ncap, total)] = True
        model.events.log(model.period, "birth", idx)

    def exit(self, model: Model) -> None:
        """Mortality: hazard by stratum, density, age and size; and the actors a cascade took
        more than ``cascade_threshold`` of their output from."""
        self._demography(model, death=True, growth=False)

    def exit_and_grow(self, model: Model) -> None:
        """:meth:`exit` then :meth:`grow` in one pass over the agents, for periods where no
        mechanism runs between them (the engine's choice)."""
        self._demography(model, death=True, growth=True)

    def grow(self, model: Model) -> None:
        """Gibrat growth with a profit response, ageing, life-cycle stages and strata moves.

        ``log size += g_s + profit_response * clip(profit / value added - margin_s, -0.5, 0.2) +
        vol_s * eps`` (the clip, ours, keeps a windfall from compounding into explosive growth);
        stage: start-up for the first 3 periods, then growth when the last log growth exceeds
        0.03, decline below -0.03, mature otherwise (ours); strata follow the period-0 size
        thresholds (an actor reaching the smallest size of the stratum above moves up)."""
        self._demography(model, death=False, growth=True)

    def _demography(self, model: Model, *, death: bool, growth: bool) -> None:
        p = model.params.demography
        a = model.agents
        none = np.zeros(1)
        rate, age_factor, size_factor = none, none, none
        size = a["size"]
        with np.errstate(divide="ignore"):  # a size of 0 (a shock took everything): log -inf
            log_size = np.log(size)
        if death:
            rho = self.density(model)
            rate = np.asarray(p.base_death, dtype=np.float64) * np.exp(p.d1 * (rho - 1.0) + p.d2 * (rho**2 - 1.0))
            table = self.age_factor
            if table is None or table[0] != p.e1:  # (1 + age)^e1 for ages 0..999, the last for older
                table = (p.e1, np.power(1.0 + np.arange(1000.0), p.e1))
                self.age_factor = table
            age_factor = table[1]
            # (size / median)^e2 = size^e2 * median^-e2: the power on whole arrays (vectorised)
            rate = rate * np.maximum(self.median, 1e-300) ** (-p.e2)
            size_factor = np.exp(p.e2 * np.maximum(log_size, -690.0))  # as if size >= 1e-300
        dead, moved = self._scratch(model, 2)
        n_dead, n_moved = demography_kernel(
            model.rng,
            a.alive,
            a["stratum"],
            a["age"],
            log_size,
            a["cascade_loss"],
            a["profit"],
            a["value_added"],
            a["stage"],
            a["last_growth"],
            death,
            rate,
            age_factor,
            size_factor,
            float(model.params.cascade_threshold),
            growth,
            np.asarray(p.growth, dtype=np.float64),
            np.asarray(p.volatility, dtype=np.float64),
            np.asarray(p.margin, dtype=np.float64),
            float(p.profit_response),
            self.log_thresholds,
            dead,
            moved,
        )
        if n_dead:
            self.kill(model, dead[:n_dead].copy(), "death")
        if growth:  # back from logs on the whole array (the others' sizes within a rounding unit)
            np.exp(log_size, out=size)
        if n_moved:
            model.events.log(model.period, "stratum", moved[:n_moved].copy())

    def kill(self, model: Model, idx: IntArray, kind: str) -> None:
        """Remove actors: they stop producing, their links end, their adoptions lapse."""
        a = model.agents
        a["alive"][idx] = False
        model.events.log(model.period, kind, idx)
        model.symbiosis.drop_actors(model, idx)


def _thresholds(size: FloatArray, stratum: npt.NDArray[np.int8]) -> FloatArray:
    """Size at which an actor moves up a stratum: the smallest size of the stratum above at
    period 0 (canopy has none); down when it falls below its own stratum's smallest."""
    low = np.full(4, 0.0)
    for s in range(4):
        members = size[stratum == s]
        low[s] = float(members.min()) if members.size else (low[s - 1] if s else math.inf)
    return low
