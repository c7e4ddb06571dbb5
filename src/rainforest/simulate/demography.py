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

import numpy as np

from rainforest.simulate.engine import Model


def _density(model: Model) -> np.ndarray:
    from rainforest.simulate._kernels import stratum_counts

    a = model.agents
    initial = np.maximum(model.state["initial"], 1.0)
    return np.asarray(stratum_counts(a["stratum"], a.alive) / initial)


def _log_thresholds(model: Model) -> np.ndarray:
    """The log of the strata size thresholds (kept: they are fixed at period 0)."""
    low = model.state["thresholds"]
    cached = model.state.get("log_thresholds")
    if cached is None or cached[0] is not low:
        with np.errstate(divide="ignore"):
            cached = (low, np.log(np.asarray(low, dtype=np.float64)))
        model.state["log_thresholds"] = cached
    return cached[1]


def _scratch(model: Model, count: int) -> np.ndarray:
    """``count`` index buffers as long as the agent arrays (kept between periods)."""
    n = model.agents.n
    buf: np.ndarray | None = model.state.get("scratch")
    if buf is None or buf.shape[0] < count or buf.shape[1] < n:
        buf = np.empty((count, max(n, 2 * (0 if buf is None else buf.shape[1]))), dtype=np.int64)
        model.state["scratch"] = buf
    return buf


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
    traits = rng.random((4, total))  # knowledge, sigma, kappa, quality: uniform on [0, 1)
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
        knowledge=traits[0],
        sigma=traits[1],
        kappa=traits[2],
        quality=traits[3],
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
    _demography(model, death=True, growth=False)


def exit_and_grow(model: Model) -> None:
    """:func:`exit` then :func:`grow` in one pass over the agents, for periods where no
    mechanism runs between them (the engine's choice)."""
    _demography(model, death=True, growth=True)


def _demography(model: Model, *, death: bool, growth: bool) -> None:
    from rainforest.simulate import _kernels

    p = model.params.demography
    a = model.agents
    none = np.zeros(1)
    rate, age_factor, size_factor = none, none, none
    size = a["size"]
    with np.errstate(divide="ignore"):  # a size of 0 (a shock took everything): log -inf
        log_size = np.log(size)
    if death:
        rho = _density(model)
        rate = np.asarray(p.base_death, dtype=np.float64) * np.exp(p.d1 * (rho - 1.0) + p.d2 * (rho**2 - 1.0))
        table = model.state.get("age_factor")
        if table is None or table[0] != p.e1:  # (1 + age)^e1 for ages 0..999, the last for older
            table = (p.e1, np.power(1.0 + np.arange(1000.0), p.e1))
            model.state["age_factor"] = table
        age_factor = table[1]
        # (size / median)^e2 = size^e2 * median^-e2: the power on whole arrays (vectorised)
        rate = rate * np.maximum(model.state["median"], 1e-300) ** (-p.e2)
        size_factor = np.exp(p.e2 * np.maximum(log_size, -690.0))  # as if size >= 1e-300
    dead, moved = _scratch(model, 2)
    n_dead, n_moved = _kernels.demography(
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
        _log_thresholds(model),
        dead,
        moved,
    )
    if n_dead:
        kill(model, dead[:n_dead].copy(), "death")
    if growth:  # back from logs on the whole array (the others' sizes within a rounding unit)
        np.exp(log_size, out=size)
    if n_moved:
        model.events.log(model.period, "stratum", moved[:n_moved].copy())


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
    _demography(model, death=False, growth=True)
