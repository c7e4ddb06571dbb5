"""Demography by stratum: density-dependent founding and mortality, liabilities of newness
and smallness, Gibrat growth, life-cycle stages and moves between strata.

Sources: Hannan & Freeman (1977) The population ecology of organizations, AJS 82:929-964;
Hannan & Carroll (1992) Dynamics of Organizational Populations, OUP (density dependence:
legitimation then competition, ``b1 > 0 > b2``, ``d1 < 0 < d2``); Freeman, Carroll & Hannan
(1983) The liability of newness, ASR 48:692-710 (hazard falls with age and size). The
functional forms are those of ``shared/spec/simulation-model.md`` 2.5, normalised by each
stratum's initial count (ours, see :class:`rainforest.simulate.params.Demography`).
"""

from __future__ import annotations

import numpy as np

from rainforest.simulate.engine import Model


def _density(model: Model) -> np.ndarray:
    a = model.agents
    counts = np.bincount(a["stratum"], weights=a.alive, minlength=4)
    initial = np.maximum(model.state["initial"], 1.0)
    return np.asarray(counts / initial)


def entry(model: Model) -> None:
    """Founding: Poisson births per stratum; entrants are start-ups of the base ecosystem
    (home 0), small (``new_size`` x the stratum's median), with no capability but one
    drawn from those present."""
    p = model.params.demography
    rho = _density(model)
    initial = model.state["initial"]
    rate = np.asarray(p.base_birth) * initial * np.exp(p.b1 * (rho - 1.0) + p.b2 * (rho**2 - 1.0))
    births = model.rng.poisson(rate)
    total = int(births.sum())
    if total == 0:
        return
    a = model.agents
    stratum = np.repeat(np.arange(4, dtype=np.int8), births)
    rng = model.rng
    size = model.state["median"][stratum] * p.new_size * rng.lognormal(0.0, 0.3, total)
    k = len(model.ecosystems)
    first = int(model.state["next_uid"])
    model.state["next_uid"] = first + total
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
        sector=rng.integers(0, max(len(model.state["sectors"]), 1), total),
        knowledge=rng.uniform(0.0, 1.0, total),
        sigma=rng.uniform(0.0, 1.0, total),
        kappa=rng.uniform(0.0, 1.0, total),
        quality=rng.uniform(0.0, 1.0, total),
    )
    member = a["member"]
    member[idx, 0] = True
    if k > 1 and model.params.competition.enabled:
        from rainforest.simulate import competition

        competition.choose(model, idx)
    ncap = a["core"].shape[1]
    if model.state["capabilities"]:
        a["core"][idx, rng.integers(0, ncap, total)] = True
    model.events.log(model.period, "birth", idx)


def exit(model: Model) -> None:
    """Mortality: hazard by stratum, density, age and size; and the actors a cascade took
    more than ``cascade_threshold`` of their output from."""
    from rainforest.simulate._kernels import mortality

    p = model.params.demography
    a = model.agents
    live = np.flatnonzero(a.alive)
    rho = _density(model)
    stratum_rate = np.asarray(p.base_death, dtype=np.float64) * np.exp(p.d1 * (rho - 1.0) + p.d2 * (rho**2 - 1.0))
    table = model.state.get("age_factor")
    if table is None or table[0] != p.e1:  # (1 + age)^e1 for ages 0..999, the last for older
        table = (p.e1, np.power(1.0 + np.arange(1000.0), p.e1))
        model.state["age_factor"] = table
    dies = mortality(
        live,
        a.alive,
        a["stratum"],
        a["age"],
        a["size"],
        a["cascade_loss"],
        model.rng.standard_exponential(live.size),
        stratum_rate,
        table[1],
        p.e2,
        np.log(np.maximum(model.state["median"], 1e-300)),
        float(model.params.cascade_threshold),
    )
    idx = np.flatnonzero(dies)
    if idx.size:
        kill(model, idx, "death")


def kill(model: Model, idx: np.ndarray, kind: str) -> None:
    """Remove actors: they stop producing, their links end, their adoptions lapse."""
    a = model.agents
    a["alive"][idx] = False
    model.events.log(model.period, kind, idx)
    from rainforest.simulate import symbiosis

    symbiosis.drop_actors(model, idx)


def grow(model: Model) -> None:
    """Gibrat growth with a profit response, ageing, life-cycle stages and strata moves.

    ``log size += g_s + profit_response * clip(profit / value added - margin_s, -0.5, 0.2) +
    vol_s * eps`` (the clip, ours, keeps a windfall from compounding into explosive growth);
    stage: start-up for the first 3 periods, then growth when the last log growth exceeds
    0.03, decline below -0.03, mature otherwise (ours); strata follow the period-0 size
    thresholds (an actor reaching the smallest size of the stratum above moves up)."""
    from rainforest.simulate._kernels import growth

    p = model.params.demography
    a = model.agents
    live = np.flatnonzero(a.alive)
    moved = growth(
        live,
        a.alive,
        a["stratum"],
        a["age"],
        a["size"],
        a["profit"],
        a["value_added"],
        a["stage"],
        a["last_growth"],
        model.rng.standard_normal(live.size),
        np.asarray(p.growth, dtype=np.float64),
        np.asarray(p.volatility, dtype=np.float64),
        np.asarray(p.margin, dtype=np.float64),
        float(p.profit_response),
        model.state["thresholds"],
    )
    idx = np.flatnonzero(moved)
    if idx.size:
        model.events.log(model.period, "stratum", idx)
