"""Compiled inner loops of the simulator (numba): where a loop over agents or pairs is
cheaper than any array expression. Random numbers come from the model's ``numpy.random.Generator``
(passed in: numba draws the same stream as numpy and advances the same state), so results
depend only on the model's seed."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit


@njit(cache=True)
def _common_mean(indptr: Any, indices: Any, weight: Any, pi: Any, pj: Any) -> Any:  # pragma: no cover - compiled
    out = np.zeros(pi.size)
    for k in range(pi.size):
        i = pi[k]
        j = pj[k]
        a = indptr[i]
        a_end = indptr[i + 1]
        b = indptr[j]
        b_end = indptr[j + 1]
        total = 0.0
        count = 0
        while a < a_end and b < b_end:
            x = indices[a]
            y = indices[b]
            if x == y:
                total += weight[a]
                count += 1
                a += 1
                b += 1
            elif x < y:
                a += 1
            else:
                b += 1
        if count > 0:
            out[k] = total / count
    return out


def common_neighbour_mean(n: int, src: Any, dst: Any, weight: Any, pairs: list[tuple[Any, Any]]) -> list[np.ndarray]:
    """For each pair (i, j) of each list: the mean of ``weight`` on the edges i -> k over
    the common neighbours k of i and j (0 when there are none). Edges are directed rows of
    the adjacency; both directions must be present for an undirected network."""
    order = np.lexsort((dst, src))
    s, d, w = src[order], dst[order].astype(np.int64), weight[order].astype(np.float64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(s, minlength=n), out=indptr[1:])
    return [
        _common_mean(indptr, d, w, np.asarray(pi, dtype=np.int64), np.asarray(pj, dtype=np.int64)) for pi, pj in pairs
    ]


@njit(cache=True)
def stratum_counts(stratum: Any, alive: Any) -> Any:  # pragma: no cover - compiled
    """Living agents per stratum (4 floats)."""
    c0 = c1 = c2 = c3 = 0  # four counters rather than out[stratum[i]] += 1: vectorises
    for i in range(alive.size):
        v = np.int64(alive[i])
        s = stratum[i]
        c0 += v * (s == 0)
        c1 += v * (s == 1)
        c2 += v * (s == 2)
        c3 += v * (s == 3)
    return np.array([c0, c1, c2, c3], dtype=np.float64)


@njit(cache=True)
def demography(  # pragma: no cover - compiled
    rng: Any,
    alive: Any,
    stratum: Any,
    age: Any,
    log_size: Any,
    cascade_loss: Any,
    profit: Any,
    value_added: Any,
    stage: Any,
    last_growth: Any,
    die: bool,
    stratum_rate: Any,
    age_factor: Any,
    size_factor: Any,
    cascade_threshold: float,
    grow: bool,
    mean: Any,
    volatility: Any,
    margin: Any,
    profit_response: float,
    log_low: Any,
    dead: Any,
    moved: Any,
) -> tuple[int, int]:
    """Mortality (``die``), growth (``grow``), or both in one pass (for periods where
    nothing runs between them), over the living actors in index order, in place.

    Mortality: an actor with hazard ``mu = stratum_rate_s * age_factor[age] *
    size_factor[i]`` dies with probability ``1 - exp(-mu)`` (a uniform draw ``u``: ``u <
    mu`` first, as ``1 - exp(-mu) <= mu``, so the exact test runs only then), or when a
    cascade took more than ``cascade_threshold``. ``stratum_rate`` carries the base rate,
    the density term and ``median_s^-e2``, ``age_factor[k] = (1 + k)^e1``, ``size_factor =
    size^e2`` (computed on whole arrays by numpy, whose exp and log are vectorised; see
    :func:`rainforest.simulate.demography.exit`). The dead are written to ``dead``; they
    stay alive here (``kill`` ends them) and do not grow.

    Growth: Gibrat growth of ``log_size`` with a profit response and one standard normal
    draw, ageing, the stage and the stratum moves at the log sizes ``log_low`` (see
    :func:`rainforest.simulate.demography.grow`; the caller turns log sizes back into sizes
    on the whole array, where numpy's exp is vectorised); the movers are written to
    ``moved``.

    Returns the numbers of dead and movers. Draws come from the model's generator: a
    uniform, then (if it survives) a normal per living actor."""
    n_dead = 0
    n_moved = 0
    top = age_factor.size - 1
    for i in range(alive.size):
        if not alive[i]:
            continue
        s = stratum[i]
        if die:
            a = age[i]
            mu = stratum_rate[s] * age_factor[a if a < top else top] * size_factor[i]
            u = rng.random()
            dies = (u < mu and u < -np.expm1(-mu)) or cascade_loss[i] > cascade_threshold
            cascade_loss[i] = 0.0
            if dies:
                dead[n_dead] = i
                n_dead += 1
                continue
        if grow:
            rate = profit[i] / max(value_added[i], 1e-12) - margin[s]
            rate = min(max(rate, -0.5), 0.2)
            g = mean[s] + profit_response * rate + volatility[s] * rng.standard_normal()
            log_size[i] += g
            last_growth[i] = g
            age[i] += 1
            # start-up (0) while young, else growth (1), mature (2) or decline (3): no branch
            # on g, whose sign is a coin toss for the predictor
            stage[i] = (age[i] >= 3) * (2 - (g > 0.03) + (g < -0.03))
            new = s
            while new > 0 and log_size[i] >= log_low[new - 1]:
                new -= 1
            if new == s and s < 3 and log_size[i] < log_low[s]:
                new = s + 1
            if new != s:
                stratum[i] = new
                moved[n_moved] = i
                n_moved += 1
    return n_dead, n_moved


@njit(cache=True)
def production(  # pragma: no cover - compiled
    alive: Any,
    size: Any,
    stratum: Any,
    margin: Any,
    boost: Any,
    openness: Any,
    extra: Any,
    productivity: Any,
    value_added: Any,
    profit: Any,
) -> None:
    """Productivity (the product of the factors, 1 past a factor's end), value added and
    profit of every agent in place (0 for the dead); see
    :func:`rainforest.simulate.engine._production`."""
    for i in range(alive.size):
        f = 1.0
        if i < boost.size:
            f *= boost[i]
        if i < openness.size:
            f *= openness[i]
        productivity[i] = f
        if alive[i]:
            y = size[i] * f
            value_added[i] = y
            profit[i] = margin[stratum[i]] * y + (extra[i] if i < extra.size else 0.0)
        else:
            value_added[i] = 0.0
            profit[i] = 0.0


@njit(cache=True)
def living_total(alive: Any, values: Any) -> tuple[int, float]:  # pragma: no cover - compiled
    """The number of living agents and the sum of ``values`` over them."""
    count = 0
    total = 0.0
    for i in range(alive.size):
        if alive[i]:
            count += 1
            total += values[i]
    return count, total


@njit(cache=True)
def ended_links(active: Any, src: Any, dst: Any, leaving: Any, n: int) -> Any:  # pragma: no cover - compiled
    """The active links with an end among the agents ``leaving`` (in link order)."""
    gone = np.zeros(n, dtype=np.bool_)
    for i in leaving:
        gone[i] = True
    out = np.empty(active.size, dtype=np.int64)
    count = 0
    for k in range(active.size):
        if active[k] and (gone[src[k]] or gone[dst[k]]):
            out[count] = k
            count += 1
    return out[:count]


@njit(cache=True)
def keep_rows(arr: Any, keep: Any) -> None:  # pragma: no cover - compiled
    """``arr[:keep.size] = arr[keep]`` in place, without a temporary: ``keep`` ascending,
    so each row moves down or stays. One- or two-dimensional ``arr``."""
    if arr.ndim == 1:
        for j in range(keep.size):
            arr[j] = arr[keep[j]]
    else:
        flat = arr.reshape(arr.shape[0], -1)
        width = flat.shape[1]
        for j in range(keep.size):
            k = keep[j]
            for c in range(width):
                flat[j, c] = flat[k, c]
