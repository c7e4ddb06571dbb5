"""Compiled kernel of the ESRI cascade (see :mod:`rainforest.analysis.cascade`).

The same sweeps, in the same order of operations, as the batched numpy engine, fused
into one pass over the links per sweep. ``SLOTS`` scenarios run side by side as the
columns of n x SLOTS arrays: each link's coefficient is read once for all of them, and
the SLOTS sums live in registers (the helpers below spell the lanes out, which is what
lets the compiler keep them there; a loop over a small array would not). A slot whose
scenario has stopped takes the next one from the queue, so every slot stays busy.

The threads (numba's ``prange``; as many as ``numba.get_num_threads()`` when called)
each run their own SLOTS slots over every T-th scenario, with their own state: they never
wait for one another (a barrier in every sweep cost more than the sweep itself on a busy
machine), and the numbers do not depend on the thread count, as every scenario runs
exactly as it would on one thread.

Every scenario starts from its shock (``l(0) = phi``, the reference's start).
Shocks apply after each pass, to the few shocked rows only: a shock ``phi <= 1``, so
``max(min(t, 1), phi) == min(max(t, phi), 1)``, and the pass's change for a shocked row
never exceeds its true change.

The functions are plain Python over arrays; :func:`compiled` returns the kernel compiled
by numba (``cache=True``: compiled once per installation). numba is a dependency of
rainforest (the simulator's kernels need it too), so there is no uncompiled fallback here;
the batched numpy engine of :mod:`rainforest.analysis.cascade` is an engine of its own,
chosen by ``engine="numpy"`` and tested against this one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

prange: Any = numba.prange


FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
SLOTS = 16  # scenarios side by side; the lane helpers below are written for exactly this many
F = TypeVar("F", bound=Callable[..., Any])


def _jit(f: F) -> F:
    """Compile a helper of the kernel (lazily, on first use)."""
    return cast(F, numba.njit(cache=True, nogil=True)(f))


def _inline(f: F) -> F:
    """Compile a helper to be inlined into the kernel."""
    return cast(F, numba.njit(inline="always", cache=True)(f))


@_inline
def _dot(lo: int, hi: int, idx: IntArray, val: FloatArray, x: FloatArray) -> tuple[float, ...]:
    """``sum(val[p] * x[idx[p], lane])`` over ``p`` in ``lo..hi``, for every lane."""
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = a9 = a10 = a11 = a12 = a13 = a14 = a15 = 0.0
    for p in range(lo, hi):
        c = val[p]
        q = idx[p]
        a0 += c * x[q, 0]
        a1 += c * x[q, 1]
        a2 += c * x[q, 2]
        a3 += c * x[q, 3]
        a4 += c * x[q, 4]
        a5 += c * x[q, 5]
        a6 += c * x[q, 6]
        a7 += c * x[q, 7]
        a8 += c * x[q, 8]
        a9 += c * x[q, 9]
        a10 += c * x[q, 10]
        a11 += c * x[q, 11]
        a12 += c * x[q, 12]
        a13 += c * x[q, 13]
        a14 += c * x[q, 14]
        a15 += c * x[q, 15]
    return (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15)


@_inline
def _max(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    """Lane-wise maximum."""
    return (
        max(a[0], b[0]),
        max(a[1], b[1]),
        max(a[2], b[2]),
        max(a[3], b[3]),
        max(a[4], b[4]),
        max(a[5], b[5]),
        max(a[6], b[6]),
        max(a[7], b[7]),
        max(a[8], b[8]),
        max(a[9], b[9]),
        max(a[10], b[10]),
        max(a[11], b[11]),
        max(a[12], b[12]),
        max(a[13], b[13]),
        max(a[14], b[14]),
        max(a[15], b[15]),
    )


@_inline
def _finish(t: tuple[float, ...], old: FloatArray, new: FloatArray, j: int, change: FloatArray) -> None:
    """Row ``j``'s new losses ``min(t, 1)`` into ``new``; each lane's largest change."""
    v = min(t[0], 1.0)
    change[0] = max(change[0], v - old[j, 0])
    new[j, 0] = v
    v = min(t[1], 1.0)
    change[1] = max(change[1], v - old[j, 1])
    new[j, 1] = v
    v = min(t[2], 1.0)
    change[2] = max(change[2], v - old[j, 2])
    new[j, 2] = v
    v = min(t[3], 1.0)
    change[3] = max(change[3], v - old[j, 3])
    new[j, 3] = v
    v = min(t[4], 1.0)
    change[4] = max(change[4], v - old[j, 4])
    new[j, 4] = v
    v = min(t[5], 1.0)
    change[5] = max(change[5], v - old[j, 5])
    new[j, 5] = v
    v = min(t[6], 1.0)
    change[6] = max(change[6], v - old[j, 6])
    new[j, 6] = v
    v = min(t[7], 1.0)
    change[7] = max(change[7], v - old[j, 7])
    new[j, 7] = v
    v = min(t[8], 1.0)
    change[8] = max(change[8], v - old[j, 8])
    new[j, 8] = v
    v = min(t[9], 1.0)
    change[9] = max(change[9], v - old[j, 9])
    new[j, 9] = v
    v = min(t[10], 1.0)
    change[10] = max(change[10], v - old[j, 10])
    new[j, 10] = v
    v = min(t[11], 1.0)
    change[11] = max(change[11], v - old[j, 11])
    new[j, 11] = v
    v = min(t[12], 1.0)
    change[12] = max(change[12], v - old[j, 12])
    new[j, 12] = v
    v = min(t[13], 1.0)
    change[13] = max(change[13], v - old[j, 13])
    new[j, 13] = v
    v = min(t[14], 1.0)
    change[14] = max(change[14], v - old[j, 14])
    new[j, 14] = v
    v = min(t[15], 1.0)
    change[15] = max(change[15], v - old[j, 15])
    new[j, 15] = v


def run_scenarios(
    n: int,
    ne_ptr: IntArray,  # by customer: non-essential suppliers and coefficients
    ne_idx: IntArray,
    ne_val: FloatArray,
    cg_ptr: IntArray,  # by customer: its essential groups (one per supplier sector)
    g_ptr: IntArray,  # by group: its suppliers and coefficients in es_idx / es_val
    es_idx: IntArray,
    es_val: FloatArray,
    up_ptr: IntArray,  # by supplier: customers and coefficients
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
    threads: int,  # groups of slots (one per thread)
) -> None:
    """Run scenario ``s`` (shocked actors ``sc_idx[sc_ptr[s]:sc_ptr[s+1]]``) for every s.

    Thread ``c`` runs scenarios ``c, c + T, c + 2T, ...`` in its own SLOTS slots: the
    threads never wait for each other (a barrier per sweep costs more than the sweep on a
    busy machine), and every scenario's numbers are those of a run on one thread.
    """
    k = len(sc_ptr) - 1
    total = 0.0
    for i in range(n):
        total += weight[i]
    norm = total if total > 0.0 else 1.0
    threads = max(1, min(threads, (k + SLOTS - 1) // SLOTS))
    for c in prange(threads):
        _slots(
            np.arange(c, k, threads),
            n,
            ne_ptr,
            ne_idx,
            ne_val,
            cg_ptr,
            g_ptr,
            es_idx,
            es_val,
            up_ptr,
            up_idx,
            up_val,
            s_out,
            sector,
            n_sectors,
            substitution,
            sc_ptr,
            sc_idx,
            sc_val,
            weight,
            norm,
            tol,
            max_sweeps,
            losses,
            out,
            sweeps_out,
        )


@_inline
def _start(
    s: int,
    b: int,
    sc_ptr: IntArray,
    sc_idx: IntArray,
    sc_val: FloatArray,
    phi: FloatArray,
    ld: FloatArray,
    lu: FloatArray,
) -> None:
    """Scenario ``s`` into slot ``b`` as the reference starts it: the shocked actors at their shock."""
    for p in range(sc_ptr[s], sc_ptr[s + 1]):
        i = sc_idx[p]
        phi[i, b] = max(phi[i, b], sc_val[p])
        ld[i, b] = phi[i, b]
        lu[i, b] = phi[i, b]


@_jit
def _slots(
    queue: IntArray,
    n: int,
    ne_ptr: IntArray,
    ne_idx: IntArray,
    ne_val: FloatArray,
    cg_ptr: IntArray,
    g_ptr: IntArray,
    es_idx: IntArray,
    es_val: FloatArray,
    up_ptr: IntArray,
    up_idx: IntArray,
    up_val: FloatArray,
    s_out: FloatArray,
    sector: IntArray,
    n_sectors: int,
    substitution: bool,
    sc_ptr: IntArray,
    sc_idx: IntArray,
    sc_val: FloatArray,
    weight: FloatArray,
    norm: float,
    tol: float,
    max_sweeps: int,
    losses: FloatArray,
    out: FloatArray,
    sweeps_out: IntArray,
) -> None:
    """The scenarios of ``queue`` in SLOTS slots; a slot whose scenario stopped takes the next."""
    k = len(queue)
    keep = losses.shape[0] > 0
    B = SLOTS
    ld = np.zeros((n, B))
    lu = np.zeros((n, B))
    vd = np.zeros((n, B))
    vu = np.zeros((n, B))
    phi = np.zeros((n, B))
    x = np.zeros((n, B)) if substitution else ld
    volume = np.zeros((n_sectors, B))
    change = np.zeros(B)
    running = np.full(B, -1, dtype=np.int64)  # scenario in each slot, -1 = empty
    sweeps = np.zeros(B, dtype=np.int64)
    queued = 0
    busy = 0
    for b in range(B):
        if queued < k:
            s = queue[queued]
            running[b] = s
            _start(s, b, sc_ptr, sc_idx, sc_val, phi, ld, lu)
            queued += 1
            busy += 1
    while busy > 0:
        change[:] = 0.0
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
            best = _dot(ne_ptr[j], ne_ptr[j + 1], ne_idx, ne_val, x)
            for g in range(cg_ptr[j], cg_ptr[j + 1]):
                best = _max(best, _dot(g_ptr[g], g_ptr[g + 1], es_idx, es_val, x))
            _finish(best, ld, vd, j, change)
            _finish(_dot(up_ptr[j], up_ptr[j + 1], up_idx, up_val, lu), lu, vu, j, change)
        for b in range(B):
            s = running[b]
            if s < 0:
                continue
            for p in range(sc_ptr[s], sc_ptr[s + 1]):
                i = sc_idx[p]
                v = max(vd[i, b], phi[i, b])
                change[b] = max(change[b], v - ld[i, b])
                vd[i, b] = v
                v = max(vu[i, b], phi[i, b])
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
                s = queue[queued]
                running[b] = s
                _start(s, b, sc_ptr, sc_idx, sc_val, phi, ld, lu)
                queued += 1
            else:
                running[b] = -1
                busy -= 1


@cache
def compiled() -> Any:
    """The kernel compiled by numba (on first use; cached on disk)."""
    kernel: Any = numba.njit(cache=True, nogil=True, parallel=True)(run_scenarios)

    def call(*args: Any) -> None:
        kernel(*args, numba.get_num_threads())

    return call
