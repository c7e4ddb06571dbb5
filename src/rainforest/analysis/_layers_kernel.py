"""Compiled kernel of the cross-layer cascade profile (see :mod:`rainforest.analysis.layers`).

One scenario (an actor failing alone, or a module withdrawn alone) runs as a work list
of *pushes*: every sum of rules L1-L3 is kept as an accumulator (an actor's
non-essential supply inputs, each essential input group, its upstream sales, each
essential by-product group, its module capacity), and when an actor's loss rises by
``delta`` it adds ``coefficient * delta`` to the accumulators that read it and puts
their owners on the list. An actor taken from the list recomputes its losses from its
own accumulators (L4): the work of a rise is the number of actors that read it, not their
in-degrees. A rise is pushed once it exceeds ``tol`` (smaller ones wait and add up).

Every map is monotone and the state starts at the shock, so losses only rise and the list
empties at the least fixed point above the shock, the point the sweeps of
:func:`rainforest.analysis.layers.layered_cascade` reach (up to ``tol`` per actor).

Scenarios are independent: numba's threads (``prange``) each take every T-th scenario
with their own state, reset through the list of actors the scenario touched, so a
scenario costs in proportion to what it reaches, not to the size of the ecosystem; the
numbers do not depend on the thread count.

Arrays (CSR: ``*_ptr`` by row):

- supply: ``dn_ptr``/``dn_slot``/``dn_val``: supplier -> accumulator slots that read its
  ``ld`` (slot ``j < n``: customer ``j``'s non-essential inputs; ``n + g``: essential group
  ``g``) and ``Ld``; ``cg_ptr`` customer -> its groups, ``g_owner`` group -> customer;
  ``ut_ptr``/``ut_idx``/``ut_val``: customer -> suppliers that read its ``lu`` and ``Lu``.
- by-products: ``bp_ptr``/``bp_grp``/``bp_val``: supplier -> essential groups (``q/Q``);
  ``bc_ptr`` customer -> groups, ``b_owner`` group -> customer; ``bn_ptr``/``bn_cost``:
  supplier -> extra cost of each non-essential link per unit of loss (NaN unknown).
- platform: ``pm_ptr``/``pm_mod`` provider -> modules, ``ma_ptr``/``ma_idx`` module ->
  adopters; per module ``m_share_lo``/``m_share_hi`` (unknown shares at 0 and at 1),
  ``m_unknown`` and ``m_value`` (NaN unknown).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

prange: Any = numba.prange
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _profile(
    n: int,
    dn_ptr: IntArray,
    dn_slot: IntArray,
    dn_val: FloatArray,
    cg_ptr: IntArray,
    g_owner: IntArray,
    ut_ptr: IntArray,
    ut_idx: IntArray,
    ut_val: FloatArray,
    bp_ptr: IntArray,
    bp_grp: IntArray,
    bp_val: FloatArray,
    bc_ptr: IntArray,
    b_owner: IntArray,
    bn_ptr: IntArray,
    bn_cost: FloatArray,
    pm_ptr: IntArray,
    pm_mod: IntArray,
    ma_ptr: IntArray,
    ma_idx: IntArray,
    m_share_lo: FloatArray,
    m_share_hi: FloatArray,
    m_unknown: npt.NDArray[np.bool_],
    m_value: FloatArray,
    w: FloatArray,
    sc_actor: IntArray,
    sc_module: IntArray,
    tol: float,
    reach: float,
    max_updates: int,
    out: FloatArray,
    counts: IntArray,
    n_threads: int,
) -> None:
    """Run every scenario ``k`` (actor ``sc_actor[k]`` fails, or -1; module
    ``sc_module[k]`` withdrawn, or -1) to its fixed point, first with the modules'
    capacity shares ``m_share_lo`` (unknown ones at 0), then, when the scenario reached a
    module whose share is unknown, on from there with ``m_share_hi`` (unknown ones at 1):
    the upper map is above the lower one, so the lower fixed point is a valid start and
    the work list only adds what the larger shares add.

    An actor counts as reached, and a dependence it cuts as touched, when its loss
    exceeds ``reach``. ``out[k, 0:6]`` (lower) and ``out[k, 6:12]`` (upper): score,
    supply, by-product and platform scores (weighted sums, not yet divided by the total
    weight), by-product cost, platform cost. ``counts[k]``: actors reached (lower),
    unquantified dependences touched (lower), updates, 1 if ``max_updates`` was
    reached, 1 if a module with an unknown capacity share lost level, unquantified
    dependences touched (upper).
    """
    n_sc = len(sc_actor)
    n_groups = len(g_owner)
    n_bgroups = len(b_owner)
    for t in prange(n_threads):
        ld = np.zeros(n)
        lu = np.zeros(n)
        pld = np.zeros(n)  # the ld, lu and total loss last pushed
        plu = np.zeros(n)
        ptot = np.zeros(n)
        phi = np.zeros(n)
        acc_ne = np.zeros(n)
        acc_u = np.zeros(n)
        acc_p = np.zeros(n)
        acc_g = np.zeros(n_groups)
        acc_b = np.zeros(n_bgroups)
        queued = np.zeros(n, dtype=np.bool_)
        seen = np.zeros(n, dtype=np.bool_)
        queue = np.empty(n + 1, dtype=np.int64)
        touched = np.empty(n, dtype=np.int64)
        for k in range(t, n_sc, n_threads):
            f = sc_actor[k]
            wm = sc_module[k]
            head = 0
            tail = 0
            n_touched = 0
            updates = 0
            hit_limit = 0
            share_unknown = 0
            if f >= 0:
                phi[f] = 1.0
                queued[f] = True
                queue[tail] = f
                tail += 1
                seen[f] = True
                touched[n_touched] = f
                n_touched += 1
            for phase in range(2):
                share = m_share_lo if phase == 0 else m_share_hi
                if phase == 1:
                    if share_unknown == 0:
                        for c in range(6):
                            out[k, 6 + c] = out[k, c]
                        counts[k, 5] = counts[k, 1]
                        break
                    # raise the unknown shares from their lower to their upper value
                    n0 = n_touched
                    for q in range(n0):
                        i = touched[q]
                        if ptot[i] <= 0.0:
                            continue
                        for p in range(pm_ptr[i], pm_ptr[i + 1]):
                            m = pm_mod[p]
                            if m == wm or not m_unknown[m]:
                                continue
                            for r in range(ma_ptr[m], ma_ptr[m + 1]):
                                j = ma_idx[r]
                                acc_p[j] += (m_share_hi[m] - m_share_lo[m]) * ptot[i]
                                if not seen[j]:
                                    seen[j] = True
                                    touched[n_touched] = j
                                    n_touched += 1
                                if not queued[j]:
                                    queued[j] = True
                                    queue[tail] = j
                                    tail = tail + 1 if tail < n else 0
                if wm >= 0 and (phase == 0 or m_unknown[wm]):
                    for p in range(ma_ptr[wm], ma_ptr[wm + 1]):
                        a = ma_idx[p]
                        acc_p[a] += share[wm] if phase == 0 else m_share_hi[wm] - m_share_lo[wm]
                        if not seen[a]:
                            seen[a] = True
                            touched[n_touched] = a
                            n_touched += 1
                        if not queued[a]:
                            queued[a] = True
                            queue[tail] = a
                            tail = tail + 1 if tail < n else 0
                while head != tail:
                    if updates >= max_updates:
                        hit_limit = 1
                        break
                    i = queue[head]
                    head = head + 1 if head < n else 0
                    queued[i] = False
                    updates += 1
                    b = 0.0
                    for g in range(bc_ptr[i], bc_ptr[i + 1]):
                        b = max(b, acc_b[g])
                    other = max(phi[i], b, min(acc_p[i], 1.0))
                    d = acc_ne[i]
                    for g in range(cg_ptr[i], cg_ptr[i + 1]):
                        d = max(d, acc_g[g])
                    ld[i] = max(ld[i], min(max(other, d), 1.0))
                    lu[i] = max(lu[i], min(max(other, acc_u[i]), 1.0))
                    rise = ld[i] - pld[i]
                    if rise > tol:
                        pld[i] = ld[i]
                        for p in range(dn_ptr[i], dn_ptr[i + 1]):
                            slot = dn_slot[p]
                            if slot < n:
                                acc_ne[slot] += dn_val[p] * rise
                                j = slot
                            else:
                                acc_g[slot - n] += dn_val[p] * rise
                                j = g_owner[slot - n]
                            if not seen[j]:
                                seen[j] = True
                                touched[n_touched] = j
                                n_touched += 1
                            if not queued[j]:
                                queued[j] = True
                                queue[tail] = j
                                tail = tail + 1 if tail < n else 0
                    rise = lu[i] - plu[i]
                    if rise > tol:
                        plu[i] = lu[i]
                        for p in range(ut_ptr[i], ut_ptr[i + 1]):
                            j = ut_idx[p]
                            acc_u[j] += ut_val[p] * rise
                            if not seen[j]:
                                seen[j] = True
                                touched[n_touched] = j
                                n_touched += 1
                            if not queued[j]:
                                queued[j] = True
                                queue[tail] = j
                                tail = tail + 1 if tail < n else 0
                    total = max(ld[i], lu[i])
                    rise = total - ptot[i]
                    if rise > tol:
                        ptot[i] = total
                        for p in range(bp_ptr[i], bp_ptr[i + 1]):
                            g = bp_grp[p]
                            acc_b[g] += bp_val[p] * rise
                            j = b_owner[g]
                            if not seen[j]:
                                seen[j] = True
                                touched[n_touched] = j
                                n_touched += 1
                            if not queued[j]:
                                queued[j] = True
                                queue[tail] = j
                                tail = tail + 1 if tail < n else 0
                        for p in range(pm_ptr[i], pm_ptr[i + 1]):
                            m = pm_mod[p]
                            if m == wm:
                                continue  # withdrawn: already at level 1
                            for q in range(ma_ptr[m], ma_ptr[m + 1]):
                                j = ma_idx[q]
                                acc_p[j] += share[m] * rise
                                if not seen[j]:
                                    seen[j] = True
                                    touched[n_touched] = j
                                    n_touched += 1
                                if not queued[j]:
                                    queued[j] = True
                                    queue[tail] = j
                                    tail = tail + 1 if tail < n else 0
                while head != tail:  # left by the update limit
                    queued[queue[head]] = False
                    head = head + 1 if head < n else 0
                # the scenario's numbers, from the touched actors
                score = 0.0
                s_sup = 0.0
                s_byp = 0.0
                s_plat = 0.0
                c_byp = 0.0
                c_plat = 0.0
                unknown = 0
                reached = 0
                for q in range(n_touched):
                    i = touched[q]
                    total = max(ld[i], lu[i])
                    if total <= 0.0:
                        continue
                    if total > reach:
                        reached += 1
                    score += w[i] * total
                    b = 0.0
                    for g in range(bc_ptr[i], bc_ptr[i + 1]):
                        b = max(b, acc_b[g])
                    s_byp += w[i] * min(b, 1.0)
                    s_plat += w[i] * min(acc_p[i], 1.0)
                    d = acc_ne[i]
                    for g in range(cg_ptr[i], cg_ptr[i + 1]):
                        d = max(d, acc_g[g])
                    s_sup += w[i] * min(max(d, acc_u[i]), 1.0)
                    for p in range(bn_ptr[i], bn_ptr[i + 1]):
                        c = bn_cost[p]
                        if math.isnan(c):  # a price is unknown
                            unknown += total > reach
                        else:
                            c_byp += total * c
                    for p in range(pm_ptr[i], pm_ptr[i + 1]):
                        m = pm_mod[p]
                        if m == wm:
                            continue  # counted below at level 1
                        adopters = ma_ptr[m + 1] - ma_ptr[m]
                        if math.isnan(m_value[m]):
                            unknown += adopters * (total > reach)
                        else:
                            c_plat += total * m_value[m] * adopters
                        if m_unknown[m] and adopters > 0:
                            unknown += adopters * (total > reach)
                            share_unknown = 1
                if wm >= 0:
                    adopters = ma_ptr[wm + 1] - ma_ptr[wm]
                    if math.isnan(m_value[wm]):
                        unknown += adopters
                    else:
                        c_plat += m_value[wm] * adopters
                    if m_unknown[wm] and adopters > 0:
                        unknown += adopters
                        share_unknown = 1
                base = 6 * phase
                out[k, base] = score
                out[k, base + 1] = s_sup
                out[k, base + 2] = s_byp
                out[k, base + 3] = s_plat
                out[k, base + 4] = c_byp
                out[k, base + 5] = c_plat
                if phase == 0:
                    counts[k, 0] = reached
                    counts[k, 1] = unknown
                else:
                    counts[k, 5] = unknown
            counts[k, 2] = updates
            counts[k, 3] = hit_limit
            counts[k, 4] = share_unknown
            # reset the state of every actor the scenario touched
            for q in range(n_touched):
                i = touched[q]
                ld[i] = 0.0
                lu[i] = 0.0
                pld[i] = 0.0
                plu[i] = 0.0
                ptot[i] = 0.0
                phi[i] = 0.0
                acc_ne[i] = 0.0
                acc_u[i] = 0.0
                acc_p[i] = 0.0
                for g in range(cg_ptr[i], cg_ptr[i + 1]):
                    acc_g[g] = 0.0
                for g in range(bc_ptr[i], bc_ptr[i + 1]):
                    acc_b[g] = 0.0
                seen[i] = False


@cache
def compiled() -> Callable[..., None]:
    """The profile kernel compiled by numba (cached on disk after the first call), called
    with every argument but the thread count, which is numba's at the time of the call."""
    kernel: Any = numba.njit(parallel=True, cache=True, nogil=True)(_profile)

    def call(*args: Any) -> None:
        kernel(*args, numba.get_num_threads())

    return call
