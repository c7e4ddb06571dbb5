"""Compiled per-scenario kernel of the ESRI cascade (see :mod:`rainforest.analysis.cascade`).

The same sweeps, in the same order of operations, as the batched numpy engine, fused into
one pass per sweep: a few scenarios run side by side (``SLOTS``, one cache line per
actor), so every link's coefficient is read once for all of them, and a slot whose
scenario has stopped takes the next one from the queue.

The function below is plain Python over arrays; :func:`compiled` returns it compiled by
numba (``cache=True``: compiled once per installation) or ``None`` when numba is absent.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
SLOTS = 8  # scenarios side by side: one cache line of float64 per actor
IntArray = npt.NDArray[np.int64]


def run_scenarios(
    n: int,
    ne_ptr: IntArray,  # by customer: non-essential suppliers
    ne_idx: IntArray,
    ne_val: FloatArray,
    es_ptr: IntArray,  # by customer: essential suppliers, grouped by supplier sector
    es_idx: IntArray,
    es_val: FloatArray,
    es_new: npt.NDArray[np.bool_],  # True where a new sector group starts
    up_ptr: IntArray,  # by supplier: customers
    up_idx: IntArray,
    up_val: FloatArray,
    s_out: FloatArray,
    sector: IntArray,
    n_sectors: int,
    substitution: bool,
    sc_ptr: IntArray,  # scenarios: shocked actors and shares
    sc_idx: IntArray,
    sc_val: FloatArray,
    weight: FloatArray,
    tol: float,
    max_sweeps: int,
    losses: FloatArray,  # n x k when kept, else 0 x 0
    out: FloatArray,  # k x 3: esri, esri_down, esri_up
    sweeps_out: IntArray,
) -> None:
    """Run scenario ``s`` (shocked actors ``sc_idx[sc_ptr[s]:sc_ptr[s+1]]``) for every s.

    ``SLOTS`` scenarios run side by side as the columns of n x slots arrays: a link's
    coefficient is read once per sweep for all of them. A slot whose scenario has
    stopped takes the next one, so every slot stays busy until the queue is empty.
    """
    k = len(sc_ptr) - 1
    keep = losses.shape[0] > 0
    total = 0.0
    for i in range(n):
        total += weight[i]
    norm = total if total > 0.0 else 1.0
    B = SLOTS  # a compile-time constant: numba unrolls and vectorises the slot loops
    ld = np.zeros((n, B))
    lu = np.zeros((n, B))
    vd = np.zeros((n, B))
    vu = np.zeros((n, B))
    phi = np.zeros((n, B))
    x = np.zeros((n, B)) if substitution else ld
    volume = np.zeros((n_sectors, B))
    acc = np.zeros(B)
    best = np.zeros(B)
    change = np.zeros(B)
    running = np.full(B, -1, dtype=np.int64)  # scenario in each slot, -1 = empty
    sweeps = np.zeros(B, dtype=np.int64)
    queued = 0
    for b in range(B):
        if queued < k:
            running[b] = queued
            for p in range(sc_ptr[queued], sc_ptr[queued + 1]):
                phi[sc_idx[p], b] = max(phi[sc_idx[p], b], sc_val[p])
            queued += 1
    busy = 0
    for b in range(B):
        if running[b] >= 0:
            busy += 1
    while busy > 0:
        for b in range(B):
            change[b] = 0.0
        if not substitution:
            x = ld
        else:
            volume[:, :] = 0.0
            for i in range(n):
                for b in range(B):
                    volume[sector[i], b] += s_out[i] * (1.0 - ld[i, b])
            for i in range(n):
                for b in range(B):
                    v = volume[sector[i], b]
                    share = min(1.0, s_out[i] / v) if v > 0.0 else 1.0
                    x[i, b] = ld[i, b] * share
        # every row from the previous sweep's state (Jacobi)
        for j in range(n):
            for b in range(B):
                acc[b] = 0.0
            for p in range(ne_ptr[j], ne_ptr[j + 1]):
                c = ne_val[p]
                q = ne_idx[p]
                for b in range(B):
                    acc[b] += c * x[q, b]
            for b in range(B):
                best[b] = acc[b]
                acc[b] = 0.0
            for p in range(es_ptr[j], es_ptr[j + 1]):
                if es_new[p]:
                    for b in range(B):
                        best[b] = max(best[b], acc[b])
                        acc[b] = 0.0
                c = es_val[p]
                q = es_idx[p]
                for b in range(B):
                    acc[b] += c * x[q, b]
            for b in range(B):
                v = min(max(best[b], acc[b], phi[j, b]), 1.0)
                change[b] = max(change[b], v - ld[j, b])
                vd[j, b] = v
        for i in range(n):
            for b in range(B):
                acc[b] = 0.0
            for p in range(up_ptr[i], up_ptr[i + 1]):
                c = up_val[p]
                q = up_idx[p]
                for b in range(B):
                    acc[b] += c * lu[q, b]
            for b in range(B):
                v = min(max(acc[b], phi[i, b]), 1.0)
                change[b] = max(change[b], v - lu[i, b])
                vu[i, b] = v
        # the new state becomes the current one (the old buffers are overwritten next sweep)
        ld, vd = vd, ld
        lu, vu = vu, lu
        for b in range(B):
            s = running[b]
            if s < 0:
                continue
            sweeps[b] += 1
            if change[b] > tol and sweeps[b] < max_sweeps:
                continue
            e = 0.0
            e_d = 0.0
            e_u = 0.0
            for i in range(n):
                loss = max(ld[i, b], lu[i, b])
                e += weight[i] * loss
                e_d += weight[i] * ld[i, b]
                e_u += weight[i] * lu[i, b]
                if keep:
                    losses[i, s] = loss
                ld[i, b] = 0.0
                lu[i, b] = 0.0
            for p in range(sc_ptr[s], sc_ptr[s + 1]):
                phi[sc_idx[p], b] = 0.0
            out[s, 0] = e / norm
            out[s, 1] = e_d / norm
            out[s, 2] = e_u / norm
            sweeps_out[s] = sweeps[b]
            sweeps[b] = 0
            if queued < k:
                running[b] = queued
                for p in range(sc_ptr[queued], sc_ptr[queued + 1]):
                    phi[sc_idx[p], b] = max(phi[sc_idx[p], b], sc_val[p])
                queued += 1
            else:
                running[b] = -1
                busy -= 1


@cache
def compiled() -> Any:
    """The kernel compiled by numba, or ``None`` when numba is not installed."""
    try:
        import numba
    except ImportError:
        return None
    return numba.njit(cache=True, nogil=True)(run_scenarios)
