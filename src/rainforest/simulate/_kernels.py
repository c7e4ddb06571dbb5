"""Compiled inner loops of the simulator (numba): where a loop over agents or pairs is
cheaper than any array expression. Random numbers come in as arrays drawn from the model's
``numpy.random.Generator``, so results depend only on the model's seed."""

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
def mortality(  # pragma: no cover - compiled
    live: Any,
    alive: Any,
    stratum: Any,
    age: Any,
    size: Any,
    cascade_loss: Any,
    exponentials: Any,
    stratum_rate: Any,
    age_factor: Any,
    e2: float,
    log_median: Any,
    cascade_threshold: float,
) -> Any:
    """Deaths this period: an actor with hazard ``mu = stratum_rate_s * (1 + age)^e1 *
    (size / median_s)^e2`` dies when a standard exponential draw falls below ``mu``
    (probability ``1 - exp(-mu)``), or when a cascade took more than the threshold.
    ``stratum_rate`` carries the base rate and the density term, ``age_factor[k] = (1 +
    k)^e1`` (see :func:`rainforest.simulate.demography.exit`)."""
    dies = np.zeros(alive.size, dtype=np.bool_)
    top = age_factor.size - 1
    for k in range(live.size):
        i = live[k]
        s = stratum[i]
        a = age[i]
        af = age_factor[a if a < top else top]
        mu = stratum_rate[s] * af * np.exp(e2 * (np.log(max(size[i], 1e-300)) - log_median[s]))
        if exponentials[k] < mu or cascade_loss[i] > cascade_threshold:
            dies[i] = True
        cascade_loss[i] = 0.0
    return dies


@njit(cache=True)
def growth(  # pragma: no cover - compiled
    live: Any,
    alive: Any,
    stratum: Any,
    age: Any,
    size: Any,
    profit: Any,
    value_added: Any,
    stage: Any,
    last_growth: Any,
    normals: Any,
    mean: Any,
    volatility: Any,
    margin: Any,
    profit_response: float,
    low: Any,
) -> Any:
    """Growth, ageing, stage and stratum moves in place (see
    :func:`rainforest.simulate.demography.grow`); returns the mask of stratum moves."""
    moved = np.zeros(alive.size, dtype=np.bool_)
    for k in range(live.size):
        i = live[k]
        s = stratum[i]
        rate = profit[i] / max(value_added[i], 1e-12) - margin[s]
        rate = min(max(rate, -0.5), 0.2)
        g = mean[s] + profit_response * rate + volatility[s] * normals[k]
        size[i] = size[i] * np.exp(g)
        last_growth[i] = g
        age[i] += 1
        if age[i] < 3:
            stage[i] = 0
        elif g > 0.03:
            stage[i] = 1
        elif g < -0.03:
            stage[i] = 3
        else:
            stage[i] = 2
        new = s
        while new > 0 and size[i] >= low[new - 1]:
            new -= 1
        if new == s and s < 3 and size[i] < low[s]:
            new = s + 1
        if new != s:
            stratum[i] = new
            moved[i] = True
    return moved
