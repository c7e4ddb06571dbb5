"""Failure cascades and firm-level economic systemic risk (ESRI).

This is the shock propagation of Diem, Borsos, Reisch, Kertész & Thurner (2022),
"Quantifying firm-level economic systemic risk from nation-wide supply networks",
Scientific Reports 12:7719 (Methods, "Shock propagation", and its Supplementary
Information), on the money layer of an ecosystem: ``W[i, j]`` is the value actor ``i``
supplies to actor ``j`` per period.

The model, in losses ``l = 1 - h`` (``h`` is the production level, 1 = undisturbed):

(E1) Initial shock. ``psi_i`` in [0, 1] is the production level actor ``i`` may keep
     (0 = it stops); ``phi_i = 1 - psi_i`` is the shock.
(E2) Upstream (a customer's failure cuts its suppliers' sales): production is linear in
     sales, ``lu_i(t+1) = max(phi_i, sum_j Lu_ij lu_j(t))`` with ``Lu_ij = W_ij / R_i``,
     ``R_i`` the revenue of ``i`` where it is given, else its out-strength
     ``s_out_i = sum_j W_ij`` (a zero ``R_i`` counts as 1).
(E3) Downstream (a supplier's failure cuts its customers' inputs), the generalized
     Leontief production function: a customer ``j`` needs each *essential* supplier
     sector ``k`` (Leontief), and loses *non-essential* inputs in proportion to their
     share of all its inputs; *negligible* inputs do not limit production:

         ld_j(t+1) = max(phi_j,  max_k  sum_{i in k, essential} Ld_ij sigma_i ld_i(t),
                                 sum_{i non-essential} Ld_ij sigma_i ld_i(t))

     with ``Ld_ij = W_ij / E_jk * D_j`` for an essential input (``E_jk`` the essential
     inputs ``j`` buys from sector ``k``), ``Ld_ij = W_ij / z_j * D_j`` for a
     non-essential one (``z_j = s_in_j``, all inputs, negligible and essential ones
     included), and the cost adjustment ``D_j = z_j / costs_j`` where ``j``'s costs are
     given, else 1 (a zero ``z_j`` or ``costs_j`` counts as 1). Losses above 1 are 1.
(E4) Substitution (optional): a customer replaces the part of a lost supply that the
     rest of the supplier's sector can still deliver; the part it cannot replace is the
     supplier's share of its sector's remaining output,
     ``sigma_i(t) = min(1, s_out_i / sum_{m in sector(i)} s_out_m h_m^d(t))``, and 1 when
     nothing remains. Without substitution ``sigma = 1``.
(E5) The final loss of actor ``j`` is ``max(ld_j, lu_j)`` (production level
     ``min(h^d, h^u)``), and the systemic risk of the scenario is the weighted loss
     ``ESRI = sum_j w_j max(ld_j, lu_j) / sum_j w_j``; its downstream and upstream parts
     use ``ld`` and ``lu`` alone. Weights ``w`` default to the out-strength.
(E6) Both cascades start from the shock (``l(0) = phi``) and are swept together (Jacobi:
     every update uses the previous sweep's state); ``sweeps`` counts the updates. The
     default stop is the fixed point (largest change of a sweep at most 1e-14).
     ``stop='reference'`` is the reference's rule: stop after the first sweep whose
     largest change is at most ``eps`` (default 1e-2).

The reference implementation is the R package behind Diem et al. (2022): GLcascade with
its C++ engine fastcascade, version 0.9.3 (``GL_cascade``, ``conv_type = 1``). Its
damping is (E2) and (E3) above: ``revenue`` divides the upstream impacts and
``in-strength / costs`` multiplies every downstream impact, essential and non-essential
alike. That is ``damping='reference'``, the default: on a document whose actors give
``size.revenue`` and ``size.costs`` the ESRI is the published one. Deliberate
differences, each for a reason:

- **Input classes per link.** A flow's ``input_class`` wins, else the document's
  ``essentiality`` table for (supplier sector, customer sector), else non-essential (the
  document's default); the reference takes classes per sector pair only. So ``E_jk`` counts
  the *essential* inputs of ``j`` from sector ``k``; the reference's ``Pi_jk`` counts all
  of them, which is the same thing when classes come by sector pair (a document that
  marks single links needs the per-link rule to mean anything).
- **Revenue and costs per actor, and from trade with ``world``.** The reference takes a
  revenue (costs) vector for all firms or none; here an actor without ``size.revenue``
  whose document records its sales to ``world`` has revenue ``s_out + sales to world``
  (costs likewise ``s_in + purchases from world``), and an actor with neither keeps
  ``R = s_out`` (``D = 1``), what the reference does without the vector. Flows to and from
  ``world`` are the same information as a revenue in another form.
- **The default stop is the fixed point**, because what the cascade converges to should
  not depend on a tolerance; ``stop='reference'`` gives the published numbers. The
  reference's other stop rule (``conv_type = 2``, relative ESRI change) is not offered.
- **Substitution within the supplier's own sector**; the reference can use a separate
  market classification (``p_market``). The document has one sector per actor. And when
  nothing of the sector remains, nothing is replaced (``sigma = 1``); the reference
  divides by 1 when the remaining output is at most 1e-10, so a supplier selling less
  than 1 would become partly replaceable by a sector that has nothing left, and a larger
  shock could mean a smaller loss.

``damping='outside-trade'`` is an alternative for documents of a complete ecosystem
(every link between its actors recorded, as in a park's metabolism, unlike the
reference's national VAT data, where a reporting threshold hides links and the
revenue/costs adjustment stands in for them): ``R_i = max(s_out_i, revenue_i)``,
``C_j = max(s_in_j, costs_j)`` in place of ``z_j`` for non-essential inputs, and
essential inputs undamped, because inputs bought outside the ecosystem cannot stand in
for an essential input that was recorded in full. ``damping='none'`` (CLI
``--no-damping``) uses out- and in-strengths only. Without revenue data every sale is
assumed to stay inside the network; iterated to the fixed point the upstream cascade of
a strongly connected network then tends to total loss (a warning says so).

Single-actor profiles run as batches of scenarios: the losses of B scenarios are the
columns of an n-by-B array and each sweep is a few sparse-times-dense products, so the
cost per scenario falls with B. The same batches run on a Dask cluster with identical
numbers (every column is computed with the same operations in the same order).
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, get_args

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from rainforest.choices import CascadeDamping as Damping
from rainforest.choices import CascadeEngine as Engine
from rainforest.choices import CascadeStop as Stop
from rainforest.errors import (
    CurrencyError,
    ParameterError,
    RainforestError,
    RainforestWarning,
    UnknownIdError,
    check_choice,
)
from rainforest.executors import ExecutorSpec, dask_client, is_dask_client, normalise
from rainforest.executors import executor as _executor
from rainforest.model.ecosystem import Ecosystem

__all__ = [
    "ESSENTIAL",
    "NEGLIGIBLE",
    "NON_ESSENTIAL",
    "CascadeResult",
    "ESRIProfile",
    "SupplyNetwork",
    "actor_weights",
    "cascade",
    "esri",
    "shock_vector",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
DAMPINGS: tuple[Damping, ...] = get_args(Damping)

NEGLIGIBLE, NON_ESSENTIAL, ESSENTIAL = 0, 1, 2
CLASS_CODES = {"negligible": NEGLIGIBLE, "non-essential": NON_ESSENTIAL, "essential": ESSENTIAL}
FIXED_POINT_TOL = 1e-14
REFERENCE_EPS = 1e-2
MAX_SWEEPS = 100_000
IMPACT_CAP = 1e300  # largest impact coefficient: it only changes losses below 1e-300
BATCH = 128
COMPILED_CHUNK = 1024


@dataclass(frozen=True, eq=False)
class SupplyNetwork:
    """A supply network: actors, their sectors, and value links supplier -> customer.

    Build it with :meth:`from_ecosystem` (the money layer of a document) or
    :meth:`from_arrays`. Links are kept as given (several links between one pair are
    summed by the operators, each keeps its own input class).
    """

    ids: tuple[str, ...]
    supplier: IntArray
    customer: IntArray
    weight: FloatArray
    link_class: npt.NDArray[np.int8]
    sector: IntArray
    sectors: tuple[str, ...]
    revenue: FloatArray
    costs: FloatArray
    final_demand: FloatArray
    outside_inputs: FloatArray
    excluded: Mapping[str, str] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of actors."""
        return len(self.ids)

    @property
    def out_strength(self) -> FloatArray:
        """Value each actor supplies to the others, ``s_out``."""
        return np.bincount(self.supplier, weights=self.weight, minlength=self.n).astype(np.float64)

    @property
    def in_strength(self) -> FloatArray:
        """Value each actor buys from the others, ``s_in``."""
        return np.bincount(self.customer, weights=self.weight, minlength=self.n).astype(np.float64)

    @property
    def has_outside_data(self) -> bool:
        """Whether any actor gives total sales or sales outside the network (damping data)."""
        return bool(np.isfinite(self.revenue).any() or (self.final_demand > 0).any())

    def index(self, actor: str) -> int:
        """Position of ``actor``; :class:`UnknownIdError` names the nearest ids."""
        try:
            return self._positions[actor]
        except KeyError:
            raise UnknownIdError("actor", actor, self.ids) from None

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {a: i for i, a in enumerate(self.ids)}

    def sector_members(self, sector: str) -> IntArray:
        """Positions of the actors of ``sector``."""
        if sector not in self.sectors:
            raise UnknownIdError("sector", sector, self.sectors)
        return np.flatnonzero(self.sector == self.sectors.index(sector)).astype(np.int64)

    @classmethod
    def from_arrays(
        cls,
        ids: Sequence[str],
        supplier: Sequence[int] | IntArray,
        customer: Sequence[int] | IntArray,
        weight: Sequence[float] | FloatArray,
        *,
        sector: Sequence[str] | None = None,
        link_class: Sequence[int] | npt.NDArray[np.integer[Any]] | None = None,
        revenue: Sequence[float] | FloatArray | None = None,
        costs: Sequence[float] | FloatArray | None = None,
        final_demand: Sequence[float] | FloatArray | None = None,
        outside_inputs: Sequence[float] | FloatArray | None = None,
        excluded: Mapping[str, str] | None = None,
    ) -> SupplyNetwork:
        """A network from link arrays (positions into ``ids``).

        ``sector`` gives each actor's sector (default: every actor its own sector);
        ``link_class`` each link's class (0 negligible, 1 non-essential, 2 essential;
        default non-essential); ``revenue``/``costs`` total sales and input costs per
        actor (NaN = unknown); ``final_demand``/``outside_inputs`` sales to and purchases
        from outside the network (default 0); ``excluded`` resources left out and why.
        """
        n = len(ids)
        src = np.asarray(supplier, dtype=np.int64)
        dst = np.asarray(customer, dtype=np.int64)
        w = np.asarray(weight, dtype=np.float64)
        if not (len(src) == len(dst) == len(w)):
            raise ParameterError(
                "The 'supplier', 'customer' and 'weight' parameters of SupplyNetwork.from_arrays must have one entry per link. "
                f"Got lengths {len(src)}, {len(dst)} and {len(w)} instead.",
                parameter="weight",
            )
        if len(src) and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
            raise ParameterError(
                f"The 'supplier' and 'customer' parameters of SupplyNetwork.from_arrays must be positions 0..{n - 1} into ids. "
                "Got a link endpoint outside them.",
                parameter="supplier",
            )
        if (w < 0).any() or not np.isfinite(w).all():
            raise ParameterError(
                "The 'weight' parameter of SupplyNetwork.from_arrays must hold finite link weights >= 0. "
                f"Got {int((w < 0).sum())} negative and {int((~np.isfinite(w)).sum())} non-finite.",
                parameter="weight",
            )
        if sector is None:
            sec_names: tuple[str, ...] = tuple(ids)
            sec = np.arange(n, dtype=np.int64)
        else:
            if len(sector) != n:
                raise ParameterError(
                    f"The 'sector' parameter of SupplyNetwork.from_arrays must have one entry per actor ({n}). Got {len(sector)} instead.",
                    parameter="sector",
                )
            sec_names = tuple(dict.fromkeys(sector))
            lookup = {s: k for k, s in enumerate(sec_names)}
            sec = np.fromiter((lookup[s] for s in sector), dtype=np.int64, count=n)
        cls_arr = (
            np.full(len(src), NON_ESSENTIAL, dtype=np.int8)
            if link_class is None
            else np.asarray(link_class, dtype=np.int8)
        )
        if len(cls_arr) != len(src) or not np.isin(cls_arr, (0, 1, 2)).all():
            raise ParameterError(
                "The 'link_class' parameter of SupplyNetwork.from_arrays must hold one of 0, 1, 2 (negligible, non-essential, "
                f"essential) per link ({len(src)}). Got {len(cls_arr)} values, not all of them 0, 1 or 2.",
                parameter="link_class",
            )

        def per_actor(v: Sequence[float] | FloatArray | None, what: str, absent: float = np.nan) -> FloatArray:
            if v is None:
                return np.full(n, absent)
            a = np.asarray(v, dtype=np.float64)
            if a.shape != (n,):
                raise ParameterError(
                    f"The {what!r} parameter of SupplyNetwork.from_arrays must have one value per actor ({n}). Got shape {a.shape} instead.",
                    parameter=what,
                )
            return a

        return cls(
            ids=tuple(ids),
            supplier=src,
            customer=dst,
            weight=w,
            link_class=cls_arr,
            sector=sec,
            sectors=sec_names,
            revenue=per_actor(revenue, "revenue"),
            costs=per_actor(costs, "costs"),
            final_demand=per_actor(final_demand, "final_demand", 0.0),
            outside_inputs=per_actor(outside_inputs, "outside_inputs", 0.0),
            excluded=dict(excluded or {}),
        )

    @classmethod
    def from_ecosystem(cls, eco: Ecosystem, *, valued: bool = False) -> SupplyNetwork:
        """The money layer of ``eco`` as a supply network.

        By default the links are the active flows of resources of kind ``money``; with
        ``valued=True`` every active flow counts, valued at its resource's ``price``
        (money resources at face value; resources without a price are left out and
        listed in :attr:`excluded`). A flow goes from supplier to customer, except flows
        of kind ``payment``, which go from the payer (the customer) to the payee.
        Flows from an actor to ``world`` are sales outside the network (final demand),
        flows from ``world`` purchases from outside; both feed the damping.
        """
        actors = eco.table("actors")
        ids: list[str] = actors["id"].tolist()
        pos = {a: i for i, a in enumerate(ids)}
        n = len(ids)
        res = eco.table("resources")
        value: dict[str, float] = {}
        excluded: dict[str, str] = {}
        for rid, kind, price in zip(res["id"].tolist(), res["kind"].tolist(), res.numbers("price"), strict=True):
            if kind == "money":
                value[rid] = 1.0
            elif not valued:
                excluded[rid] = "not of kind money (valued=True counts it at its price)"
            elif not math.isnan(price):
                value[rid] = float(price)
            else:
                excluded[rid] = "no price"
        if not value:
            raise CurrencyError(
                "no resource of kind money"
                + (
                    " and none with a price"
                    if valued
                    else "; pass valued=True (CLI: --valued) to value flows at prices"
                )
            )
        flows = eco.table("flows")
        src_l: list[int] = []
        dst_l: list[int] = []
        w_l: list[float] = []
        cls_l: list[int | None] = []
        final_demand = np.zeros(n)
        outside = np.zeros(n)
        for a, b, rid, q, status, kind, c in zip(
            flows["from"].tolist(),
            flows["to"].tolist(),
            flows["resource"].tolist(),
            flows["quantity"].tolist(),
            flows.texts("status"),
            flows.texts("kind"),
            flows.texts("input_class"),
            strict=True,
        ):
            if status not in (None, "active"):
                continue
            factor = value.get(rid)
            if factor is None or q == 0 or math.isnan(q):  # NaN: a flow marked 'quantified: false'
                continue
            v = float(q) * factor
            if kind == "payment":
                a, b = b, a
            if a in pos and b in pos:
                src_l.append(pos[a])
                dst_l.append(pos[b])
                w_l.append(v)
                cls_l.append(CLASS_CODES[c] if c is not None else None)
            elif a in pos and b == "world":
                final_demand[pos[a]] += v
            elif a == "world" and b in pos:
                outside[pos[b]] += v
        if not w_l:
            raise CurrencyError(
                "no money flows between actors: the supply network is empty"
                + ("" if valued else "; pass valued=True (CLI: --valued) to value all flows at their prices")
            )
        raw_sector = actors.texts("sector")
        sector_names = [s if s is not None else f"(no sector: {a})" for s, a in zip(raw_sector, ids, strict=True)]
        table: dict[tuple[str, str], int] = {}
        ess = eco.table("essentiality")
        if len(ess):
            for s, c, k in zip(
                ess["supplier_sector"].tolist(), ess["customer_sector"].tolist(), ess["class"].tolist(), strict=True
            ):
                table[(str(s), str(c))] = CLASS_CODES[k]
        link_class = [
            c
            if c is not None
            else table.get((sector_names[i], sector_names[j]), NON_ESSENTIAL)
            if raw_sector[i] is not None and raw_sector[j] is not None
            else NON_ESSENTIAL
            for i, j, c in zip(src_l, dst_l, cls_l, strict=True)
        ]
        return cls.from_arrays(
            ids,
            src_l,
            dst_l,
            w_l,
            sector=sector_names,
            link_class=link_class,
            revenue=actors.numbers("size.revenue"),
            costs=actors.numbers("size.costs"),
            final_demand=final_demand,
            outside_inputs=outside,
            excluded=excluded,
        )


@dataclass(frozen=True, eq=False)
class _Operators:
    """The sparse operators of one network and one choice of damping/substitution."""

    n: int
    up: Any  # csr n x n: up[i, j] = W_ij / R_i
    down: Any  # csr (n + g) x n: rows < n non-essential W_ij / C_j at [j, i]; rows >= n essential groups
    group_of_row: IntArray  # customer of each essential group row (sorted)
    group_customer: IntArray  # customers that have essential groups (sorted)
    group_start: IntArray  # first group row (relative to n) of each of those customers
    s_out: FloatArray
    sector_matrix: Any  # csr n_sectors x n with s_out entries (substitution), or None
    sector: IntArray
    substitution: bool

    @cached_property
    def kernel(self) -> tuple[Any, ...]:
        """The operators as the compiled kernel reads them (CSR arrays by row)."""
        n, down, up = self.n, self.down, self.up
        ptr = down.indptr.astype(np.int64)
        idx = down.indices.astype(np.int64)
        start = ptr[n]
        ne = (ptr[: n + 1], idx[:start], down.data[:start])
        groups_per_customer = np.bincount(self.group_of_row, minlength=n)
        cg_ptr = np.concatenate([[0], np.cumsum(groups_per_customer)]).astype(np.int64)
        es = (cg_ptr, ptr[n:] - start, idx[start:], down.data[start:])
        return (
            *ne,
            *es,
            up.indptr.astype(np.int64),
            up.indices.astype(np.int64),
            up.data,
            self.s_out,
            self.sector,
            int(self.sector.max()) + 1 if n else 1,
            self.substitution,
        )


def _damping(damping: Damping | bool) -> Damping:
    """The damping rule by name (``True`` is the default rule, ``False`` none)."""
    if damping is True:
        return "reference"
    if damping is False:
        return "none"
    check_choice("damping", damping, Damping, where="cascade and esri")
    return damping


def _ratio(a: FloatArray, b: FloatArray | float) -> FloatArray:
    """``a / b`` kept at most IMPACT_CAP (a revenue or cost of 1e-300 against sales of 10
    gives an impact so large that any loss is total; infinity would make 0 * inf, and the
    cap leaves room for links summed by the sparse operators)."""
    with np.errstate(over="ignore"):
        out: FloatArray = np.minimum(np.asarray(a, dtype=np.float64) / b, IMPACT_CAP)
    return out


def _operators(net: SupplyNetwork, *, damping: Damping | bool, substitution: bool) -> _Operators:
    n = net.n
    rule = _damping(damping)
    s_out, s_in = net.out_strength, net.in_strength
    src, dst, w, cls = net.supplier, net.customer, net.weight, net.link_class
    keep = w > 0
    src, dst, w, cls = src[keep], dst[keep], w[keep], cls[keep]
    ne = cls == NON_ESSENTIAL
    es = cls == ESSENTIAL
    e_src, e_dst, e_w = src[es], dst[es], w[es]
    key = e_dst * (len(net.sectors) + 1) + net.sector[e_src]
    groups, group_of = np.unique(key, return_inverse=True)
    group_total = np.bincount(group_of, weights=e_w, minlength=len(groups))
    ess_vals = e_w / group_total[group_of]
    if rule == "outside-trade":
        rev = np.where(np.isfinite(net.revenue), net.revenue, s_out + net.final_demand)
        cost = np.where(np.isfinite(net.costs), net.costs, s_in + net.outside_inputs)
        R = np.maximum(s_out, rev)
        ne_vals = w[ne] / np.maximum(s_in, cost)[dst[ne]]
    else:
        # the reference (GLcascade 0.9.3): upstream W_ij / revenue_i, downstream
        # W_ij / z_j or W_ij / Pi_jk, both then times z_j / costs_j; a zero denominator is 1
        z = np.where(s_in > 0, s_in, 1.0)
        ne_vals = w[ne] / z[dst[ne]]
        R = np.where(s_out > 0, s_out, 1.0)
        if rule == "reference":
            rev = np.where(np.isfinite(net.revenue), net.revenue, s_out + net.final_demand)
            cost = np.where(np.isfinite(net.costs), net.costs, s_in + net.outside_inputs)
            R = np.where(rev > 0, rev, 1.0)
            given = np.isfinite(net.costs) | (net.outside_inputs > 0)
            if given.any():
                # z_j / costs_j first, then the product, in the reference's order
                factor = np.where(given, _ratio(z, np.where(cost > 0, cost, 1.0)), 1.0)
                with np.errstate(over="ignore"):
                    ne_vals = _ratio(ne_vals * factor[dst[ne]], 1.0)
                    ess_vals = _ratio(ess_vals * factor[e_dst], 1.0)
    up = sp.csr_matrix((_ratio(w, R[src]), (src, dst)), shape=(n, n))
    g = len(groups)
    down = sp.csr_matrix(
        (
            np.concatenate([ne_vals, ess_vals]),
            (np.concatenate([dst[ne], n + group_of]), np.concatenate([src[ne], e_src])),
        ),
        shape=(n + g, n),
    )
    # links of one pair are summed: keep the sums finite too
    np.minimum(up.data, IMPACT_CAP, out=up.data)
    np.minimum(down.data, IMPACT_CAP, out=down.data)
    group_cust = groups // (len(net.sectors) + 1)
    cust, start = np.unique(group_cust, return_index=True)
    sector_matrix = None
    if substitution:
        sector_matrix = sp.csr_matrix((s_out, (net.sector, np.arange(n))), shape=(len(net.sectors), n))
    return _Operators(
        n=n,
        up=up,
        down=down,
        group_of_row=group_cust.astype(np.int64),
        group_customer=cust.astype(np.int64),
        group_start=start.astype(np.int64),
        s_out=s_out,
        sector_matrix=sector_matrix,
        sector=net.sector,
        substitution=substitution,
    )


def _sweeps(ops: _Operators, shock: FloatArray, tol: float, max_sweeps: int) -> tuple[FloatArray, FloatArray, IntArray]:
    """Run the cascades of the scenarios in the columns of ``shock`` (losses phi, n x B).

    Returns the downstream and upstream losses (n x B) and the sweeps of each scenario;
    each column stops after its first sweep whose largest change is at most ``tol``.
    """
    n, b = shock.shape
    out_d = np.empty((n, b))
    out_u = np.empty((n, b))
    sweeps = np.zeros(b, dtype=np.int64)
    active = np.arange(b)
    phi = np.ascontiguousarray(shock)
    # the reference's start: the shocked actors at their shock, the others undisturbed
    ld = phi.copy()
    lu = phi.copy()
    has_groups = len(ops.group_customer) > 0
    for sweep in range(1, max_sweeps + 1):
        x = ld
        if ops.substitution:
            volume = ops.sector_matrix @ (1.0 - ld)  # sectors x B: remaining output per sector
            remaining = volume[ops.sector]
            share = np.ones_like(ld)
            np.divide(ops.s_out[:, None], remaining, out=share, where=remaining > 0)
            np.minimum(share, 1.0, out=share)
            x = ld * share
        y = ops.down @ x
        new_d = np.asarray(y[:n])
        if has_groups:
            ess = np.maximum.reduceat(np.asarray(y[n:]), ops.group_start, axis=0)
            np.maximum(new_d[ops.group_customer], ess, out=ess)
            new_d[ops.group_customer] = ess
        np.maximum(new_d, phi, out=new_d)
        np.minimum(new_d, 1.0, out=new_d)
        new_u = np.asarray(ops.up @ lu)
        np.maximum(new_u, phi, out=new_u)
        np.minimum(new_u, 1.0, out=new_u)
        change = np.maximum(np.abs(new_d - ld).max(axis=0), np.abs(new_u - lu).max(axis=0))
        ld, lu = new_d, new_u
        done = change <= tol
        if sweep == max_sweeps:
            done[:] = True
        if done.any():
            finished = active[done]
            out_d[:, finished] = ld[:, done]
            out_u[:, finished] = lu[:, done]
            sweeps[finished] = sweep
            if done.all():
                break
            keep = ~done
            active = active[keep]
            ld = np.ascontiguousarray(ld[:, keep])
            lu = np.ascontiguousarray(lu[:, keep])
            phi = np.ascontiguousarray(phi[:, keep])
    return out_d, out_u, sweeps


def actor_weights(
    net: SupplyNetwork, weights: str | Sequence[float] | FloatArray, eco: Ecosystem | None = None
) -> FloatArray:
    """The ESRI weight of every actor of ``net`` (E5).

    ``weights`` is ``'out-strength'``, ``'revenue'``, ``'costs'``, an actor column of
    ``eco`` (``'employees'`` reads ``size.employees``; ``'x_value'`` an extension) or one
    number per actor. Every actor needs a value: a missing one is an error naming it.
    """
    if not isinstance(weights, str):
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (net.n,):
            raise ParameterError(
                f"The 'weights' parameter of actor_weights must have one value per actor ({net.n}). "
                f"Got shape {w.shape} instead.",
                parameter="weights",
            )
        return w
    if weights == "out-strength":
        return net.out_strength
    if weights in ("revenue", "costs"):
        values = net.revenue if weights == "revenue" else net.costs
    elif eco is not None:
        actors = eco.table("actors")
        column = weights if weights in actors else f"size.{weights}"
        if column not in actors:
            known = ["out-strength", "revenue", "costs", *[c for c in actors.names if c not in ("id",)]]
            raise UnknownIdError("weight column", weights, known)
        try:
            values = actors.numbers(column)
        except (TypeError, ValueError):
            raise RainforestError(f"weights column {column!r} is not numeric") from None
    else:
        raise ParameterError(
            f"The 'weights' parameter of actor_weights names the column {weights!r}, but no ecosystem was given "
            "to read it from. Pass the ecosystem, or give one number per actor instead.",
            parameter="weights",
        )
    missing = [a for a, v in zip(net.ids, values, strict=True) if not np.isfinite(v)]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise RainforestError(
            f"weights {weights!r}: {len(missing)} actor(s) have no value ({shown}); "
            "give the value for every actor or use the default weights 'out-strength'"
        )
    return values.astype(np.float64)


@dataclass(frozen=True)
class ESRIProfile:
    """Systemic risk of a set of scenarios (one per label; for a profile, one per actor).

    ``esri``, ``esri_down`` and ``esri_up`` are (E5) per scenario; ``sweeps`` the sweeps
    each took; ``losses`` (actors x scenarios, the final ``max(ld, lu)``) when asked.
    """

    labels: tuple[str, ...]
    esri: FloatArray
    esri_down: FloatArray
    esri_up: FloatArray
    sweeps: IntArray
    actors: tuple[str, ...]
    losses: FloatArray | None = None
    stop: Stop = "fixed-point"
    tol: float = FIXED_POINT_TOL

    def to_dict(self, *, losses: bool = False) -> dict[str, Any]:
        """The CLI's JSON shape: ``{"esri": {label: value}, "esri_down", "esri_up", "sweeps"}``."""
        out: dict[str, Any] = {
            "esri": dict(zip(self.labels, self.esri.tolist(), strict=True)),
            "esri_down": dict(zip(self.labels, self.esri_down.tolist(), strict=True)),
            "esri_up": dict(zip(self.labels, self.esri_up.tolist(), strict=True)),
            "sweeps": dict(zip(self.labels, self.sweeps.tolist(), strict=True)),
        }
        if losses:
            if self.losses is None:
                raise ParameterError(
                    "The 'losses' parameter of ESRIProfile.to_dict is True, but the losses were not kept. "
                    "Run esri with losses=True.",
                    parameter="losses",
                )
            out["losses"] = {
                label: dict(zip(self.actors, self.losses[:, k].tolist(), strict=True))
                for k, label in enumerate(self.labels)
            }
        return out

    def to_frame(self) -> Any:
        """One row per scenario (the index): ``esri``, ``esri_down``, ``esri_up``, ``sweeps``."""
        import pandas as pd

        return pd.DataFrame(
            {"esri": self.esri, "esri_down": self.esri_down, "esri_up": self.esri_up, "sweeps": self.sweeps},
            index=pd.Index(self.labels, name="scenario"),
        )

    def ranking(self) -> list[tuple[str, float]]:
        """Scenarios by decreasing ESRI."""
        order = np.argsort(-self.esri, kind="stable")
        return [(self.labels[k], float(self.esri[k])) for k in order]


@dataclass(frozen=True)
class CascadeResult:
    """One scenario: the final downstream/upstream losses of every actor and the ESRI."""

    actors: tuple[str, ...]
    loss_down: FloatArray
    loss_up: FloatArray
    esri: float
    esri_down: float
    esri_up: float
    sweeps: int

    @property
    def loss(self) -> FloatArray:
        """Final production loss per actor, ``max(ld, lu)``."""
        return np.maximum(self.loss_down, self.loss_up)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "esri": self.esri,
            "esri_down": self.esri_down,
            "esri_up": self.esri_up,
            "sweeps": self.sweeps,
            "losses": dict(zip(self.actors, self.loss.tolist(), strict=True)),
        }

    def to_frame(self) -> Any:
        """One row per actor (the index): ``loss_down``, ``loss_up`` and ``loss`` (their maximum)."""
        import pandas as pd

        return pd.DataFrame(
            {"loss_down": self.loss_down, "loss_up": self.loss_up, "loss": self.loss},
            index=pd.Index(self.actors, name="actor"),
        )


def _check_choices(stop: Stop, damping: Damping | bool, engine: Engine | None, *, where: str) -> None:
    check_choice("stop", stop, Stop, where=where)
    if not isinstance(damping, bool):
        check_choice("damping", damping, Damping, where=where)
    if engine is not None:
        check_choice("engine", engine, Engine, where=where)


def _tolerance(stop: Stop, eps: float | None) -> float:
    check_choice("stop", stop, Stop, where="cascade and esri")
    if stop == "fixed-point":
        return FIXED_POINT_TOL if eps is None else float(eps)
    return REFERENCE_EPS if eps is None else float(eps)


def _network(source: SupplyNetwork | Ecosystem, valued: bool) -> tuple[SupplyNetwork, Ecosystem | None]:
    if isinstance(source, SupplyNetwork):
        return source, None
    return SupplyNetwork.from_ecosystem(source, valued=valued), source


def _warn_undamped(net: SupplyNetwork, damping: Damping | bool) -> None:
    """Warn when damping is asked for but nothing in the document gives outside sales.

    ``damping='none'`` is chosen on purpose, so it does not warn.
    """
    if _damping(damping) != "none" and not net.has_outside_data:
        warnings.warn(
            "no actor gives its revenue (size.revenue) or sales outside the ecosystem (flows to 'world'): "
            "every sale is assumed to stay inside the network, so the upstream cascade tends to total loss "
            "wherever the network is strongly connected (at the fixed point). Give revenues or final demand, "
            "read esri_down, or use stop='reference' as Diem et al. did; damping='none' (CLI --no-damping) "
            "silences this.",
            RainforestWarning,
            stacklevel=3,
        )


def shock_vector(
    net: SupplyNetwork, shock: Mapping[str, float] | None = None, sectors: Mapping[str, float] | None = None
) -> FloatArray:
    """The shock ``phi`` (share of production lost, 0..1) per actor from actor and sector shocks.

    An actor hit twice keeps the larger shock.
    """
    phi = np.zeros(net.n)
    for actor, size in (shock or {}).items():
        _check_size(size, f"shock of {actor!r}")
        i = net.index(actor)
        phi[i] = max(phi[i], size)
    for sec, size in (sectors or {}).items():
        _check_size(size, f"shock of sector {sec!r}")
        members = net.sector_members(sec)
        phi[members] = np.maximum(phi[members], size)
    return phi


def _check_size(size: float, what: str) -> None:
    if not (isinstance(size, int | float) and 0.0 <= float(size) <= 1.0):
        raise ParameterError(f"{what} must be a share of production lost between 0 and 1. Got {size!r} instead.")


def cascade(
    source: SupplyNetwork | Ecosystem,
    shock: Mapping[str, float] | Sequence[float] | FloatArray,
    *,
    sectors: Mapping[str, float] | None = None,
    substitution: bool = False,
    stop: Stop = "fixed-point",
    eps: float | None = None,
    weights: str | Sequence[float] | FloatArray = "out-strength",
    damping: Damping | bool = "reference",
    valued: bool = False,
    max_sweeps: int = MAX_SWEEPS,
) -> CascadeResult:
    """Propagate one shock (E1-E6) and return every actor's loss and the scenario's ESRI.

    Parameters
    ----------
    source:
        An ecosystem (its money layer is used) or a :class:`SupplyNetwork`.
    shock:
        ``{actor: share of production lost}`` (1 = the actor stops; 0.3 = it loses 30%),
        or an array with one share per actor. Several actors at once are one scenario.
    sectors:
        ``{sector: share lost}``: every actor of the sector is hit.

    Examples
    --------
    >>> net = SupplyNetwork.from_arrays(["a", "b", "c"], [0, 1], [1, 2], [10.0, 5.0])
    >>> r = cascade(net, {"a": 1.0}, stop="reference", damping=False)
    >>> r.loss.tolist(), round(r.esri, 6)
    ([1.0, 1.0, 1.0], 1.0)
    """
    _check_choices(stop, damping, None, where="cascade")
    net, eco = _network(source, valued)
    if isinstance(shock, Mapping):
        phi = shock_vector(net, shock, sectors)
    else:
        phi = np.asarray(shock, dtype=np.float64)
        if phi.shape != (net.n,) or (phi < 0).any() or (phi > 1).any():
            raise ParameterError(
                f"The 'shock' parameter of cascade must hold one share in [0, 1] per actor ({net.n}). "
                f"Got shape {phi.shape} with values from {phi.min(initial=0.0):g} to {phi.max(initial=0.0):g}.",
                parameter="shock",
            )
        if sectors:
            phi = np.maximum(phi, shock_vector(net, None, sectors))
    _warn_undamped(net, damping)
    w = actor_weights(net, weights, eco)
    ops = _operators(net, damping=damping, substitution=substitution)
    ld, lu, sw = _sweeps(ops, phi[:, None].copy(), _tolerance(stop, eps), max_sweeps)
    total = w.sum()
    norm = total if total > 0 else 1.0
    loss = np.maximum(ld[:, 0], lu[:, 0])
    return CascadeResult(
        actors=net.ids,
        loss_down=ld[:, 0].copy(),
        loss_up=lu[:, 0].copy(),
        esri=float(_weighted(w, loss[:, None])[0] / norm),
        esri_down=float(_weighted(w, ld)[0] / norm),
        esri_up=float(_weighted(w, lu)[0] / norm),
        sweeps=int(sw[0]),
    )


def _engine(engine: Engine) -> Engine:
    check_choice("engine", engine, Engine, where="esri")
    if engine == "numpy":
        return engine
    return "compiled"  # numba is a dependency of rainforest: the compiled engine is always there


@dataclass(frozen=True, eq=False)
class _Job:
    """Everything a batch of scenarios needs besides the scenarios themselves (what a
    Dask worker receives once)."""

    ops: _Operators
    w: FloatArray
    tol: float
    max_sweeps: int
    keep: bool
    engine: Engine
    step: int  # scenarios per engine call

    def run(self, columns: Sequence[Mapping[int, float]]) -> tuple[Any, ...]:
        """Scenarios given as sparse shocks ``{position: share}``, one engine call per step."""
        return _join([self.batch(columns[k : k + self.step]) for k in range(0, len(columns), self.step)])

    def batch(
        self, columns: Sequence[Mapping[int, float]]
    ) -> tuple[FloatArray, FloatArray, FloatArray, IntArray, FloatArray | None]:
        """ESRI, its downstream and upstream parts, sweeps and losses of one engine call."""
        ops, w, keep = self.ops, self.w, self.keep
        if self.engine == "compiled":
            from rainforest.analysis._cascade_kernel import compiled

            k = len(columns)
            sc_ptr = np.zeros(k + 1, dtype=np.int64)
            sc_ptr[1:] = np.cumsum([len(c) for c in columns])
            sc_idx = np.fromiter((i for c in columns for i in c), dtype=np.int64, count=int(sc_ptr[-1]))
            sc_val = np.fromiter((v for c in columns for v in c.values()), dtype=np.float64, count=int(sc_ptr[-1]))
            losses = np.zeros((ops.n, k) if keep else (0, 0))
            out = np.zeros((k, 3))
            sweeps = np.zeros(k, dtype=np.int64)
            compiled()(ops.n, *ops.kernel, sc_ptr, sc_idx, sc_val, w, self.tol, self.max_sweeps, losses, out, sweeps)
            return out[:, 0].copy(), out[:, 1].copy(), out[:, 2].copy(), sweeps, (losses if keep else None)
        phi = np.zeros((ops.n, len(columns)))
        for k, col in enumerate(columns):
            for i, s in col.items():
                phi[i, k] = s
        ld, lu, sw = _sweeps(ops, phi, self.tol, self.max_sweeps)
        total = w.sum()
        norm = total if total > 0 else 1.0
        loss = np.maximum(ld, lu)
        return (
            _weighted(w, loss) / norm,
            _weighted(w, ld) / norm,
            _weighted(w, lu) / norm,
            sw,
            (loss if keep else None),
        )


def _weighted(w: FloatArray, losses: FloatArray) -> FloatArray:
    """``w @ losses`` column by column, each column summed on its own (a BLAS product
    would sum in an order that depends on how many columns there are)."""
    result: FloatArray = (np.ascontiguousarray(losses.T) * w).sum(axis=1)
    return result


@contextlib.contextmanager
def threads(count: int) -> Iterator[None]:
    """Run the compiled cascade engine on ``count`` threads in this block (by default it
    uses every core numba sees: the rows of each sweep are split among them, with the same
    numbers whatever the count). Workers that already run in parallel use one each.

    >>> with threads(1):
    ...     pass
    """
    try:
        import numba
    except ImportError:  # pragma: no cover - the numpy engine has no threads of its own
        yield
        return
    before = numba.get_num_threads()
    most = int(getattr(numba.config, "NUMBA_NUM_THREADS", 1))
    numba.set_num_threads(max(1, min(int(count), most)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _run_job(job: _Job, columns: list[dict[int, float]]) -> tuple[Any, ...]:
    """What a Dask worker runs: one chunk of scenarios, on one thread (the parallelism
    comes from the workers: W single-threaded workers scale as 1/W)."""
    with threads(1):
        return job.run(columns)


def _join(parts: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    """Concatenate the per-chunk results (esri, esri_down, esri_up, sweeps, losses)."""
    if not parts:
        return (None,) * 5
    return tuple(np.concatenate([p[i] for p in parts], axis=-1) if parts[0][i] is not None else None for i in range(5))


def esri(
    source: SupplyNetwork | Ecosystem,
    actors: Iterable[str] | None = None,
    *,
    scenarios: Mapping[str, Mapping[str, float]] | None = None,
    substitution: bool = False,
    stop: Stop = "fixed-point",
    eps: float | None = None,
    weights: str | Sequence[float] | FloatArray = "out-strength",
    damping: Damping | bool = "reference",
    valued: bool = False,
    losses: bool = False,
    batch: int = BATCH,
    executor: ExecutorSpec | None = "serial",
    workers: int | None = None,
    max_sweeps: int = MAX_SWEEPS,
    progress: Callable[[int, int], None] | None = None,
    engine: Engine = "auto",
    dask: str | Any | None = None,
) -> ESRIProfile:
    """Economic systemic risk index of single-actor failures (a profile) or of scenarios.

    Parameters
    ----------
    source:
        An ecosystem (its money layer) or a :class:`SupplyNetwork`.
    actors:
        The actors whose failure is computed, one scenario each (default: every actor).
    scenarios:
        Instead of single failures: ``{label: {actor: share lost}}``; several actors or
        partial shocks per scenario. (Sector shocks: :func:`shock_vector` or
        :func:`cascade` with ``sectors=``.)
    substitution:
        Replace lost supplies within the supplier's sector by market share (E4).
    stop, eps:
        ``'fixed-point'`` (default, tolerance 1e-14) or ``'reference'`` (eps default 1e-2).
    weights:
        ``'out-strength'`` (default), ``'revenue'``, ``'costs'``, any numeric actor
        column (``'employees'``, ``'size.capacity'``, ``'x_value'``) or an array.
    damping:
        ``'reference'`` (default: revenues and costs damp as in the reference
        implementation), ``'outside-trade'`` or ``'none'`` (see the module notes);
        ``True``/``False`` mean ``'reference'``/``'none'``.
    losses:
        Keep every scenario's per-actor losses (actors x scenarios).
    batch:
        Scenarios per batch (columns of the dense state arrays).
    executor, workers:
        Where the batches run (:mod:`rainforest.executors`): ``'serial'`` (default, in
        this process), ``'threads'``, ``'processes'``, ``'dask'`` (a ``LocalCluster`` of
        ``workers`` single-threaded processes), ``'dask:ADDRESS'``, a
        ``concurrent.futures.Executor`` or a ``distributed.Client``. Numbers are
        identical on every executor.
    progress:
        Called with (scenarios done, scenarios total) after each batch, or each chunk
        when an executor other than Dask runs them.
    dask:
        The old way to ask for Dask (deprecated): ``'local'`` is ``executor='dask'``, an
        address is ``executor='dask:ADDRESS'``, a client is ``executor=client``.
    engine:
        ``'compiled'`` (numba: 16 scenarios side by side per thread, each sweep one
        fused pass over the links, a finished scenario's slot refilled at once), ``'numpy'`` (batches of ``batch`` scenarios as the columns of
        sparse-times-dense products) or ``'auto'`` (compiled when numba is installed).
        Both give the same numbers up to rounding (1e-12 in the tests).

    Examples
    --------
    >>> net = SupplyNetwork.from_arrays(["a", "b", "c"], [0, 1], [1, 2], [10.0, 5.0])
    >>> esri(net, stop="reference", damping=False).to_dict()["esri"]  # a chain: any failure stops it all
    {'a': 1.0, 'b': 1.0, 'c': 1.0}
    """
    _check_choices(stop, damping, engine, where="esri")
    net, eco = _network(source, valued)
    if scenarios is not None:
        if actors is not None:
            raise ParameterError(
                "The 'actors' and 'scenarios' parameters of esri exclude each other: give actors= (single "
                "failures) or scenarios=, not both.",
                parameter="scenarios",
            )
        labels = tuple(scenarios)
        columns: list[dict[int, float]] = []
        for label, shock in scenarios.items():
            col: dict[int, float] = {}
            for actor, size in shock.items():
                _check_size(size, f"scenario {label!r}: shock of {actor!r}")
                i = net.index(actor)
                col[i] = max(col.get(i, 0.0), float(size))
            columns.append(col)
    else:
        chosen = list(net.ids) if actors is None else list(dict.fromkeys(actors))
        labels = tuple(chosen)
        columns = [{net.index(a): 1.0} for a in chosen]
    _warn_undamped(net, damping)
    w = actor_weights(net, weights, eco)
    tol = _tolerance(stop, eps)
    ops = _operators(net, damping=damping, substitution=substitution)
    if batch < 1:
        raise ParameterError(f"The 'batch' parameter of esri must be >= 1. Got {batch!r} instead.", parameter="batch")
    chosen_engine = _engine(engine)
    # the compiled engine keeps its slots busy across a whole chunk; the numpy engine
    # works on one batch of columns at a time
    step = batch if chosen_engine == "numpy" else max(batch, COMPILED_CHUNK)
    job = _Job(ops, w, tol, int(max_sweeps), losses, chosen_engine, step)
    if dask is not None:
        warnings.warn(
            "esri(dask=...) is now esri(executor=...): dask='local' is executor='dask', an address is "
            "executor='dask:ADDRESS', a client is executor=client; dask= will be removed in a future release",
            DeprecationWarning,
            stacklevel=2,
        )
        executor = "dask" if dask == "local" else (f"dask:{dask}" if isinstance(dask, str) else dask)
    spec = normalise(executor)
    if spec == "serial":
        parts = []
        for k in range(0, len(columns), step):
            parts.append(job.batch(columns[k : k + step]))
            if progress is not None:
                progress(min(k + step, len(columns)), len(columns))
        result = _join(parts)
    elif is_dask_client(spec) or (isinstance(spec, str) and spec.split(":", 1)[0] == "dask"):
        with dask_client(spec, workers) as client:
            result = _run_dask(client, workers, job, columns)
    else:
        with _executor(spec, workers) as pool:
            assert pool is not None  # not serial
            result = _run_pool(pool, workers, job, columns, progress)
    if not columns:
        empty = np.zeros(0)
        return ESRIProfile(labels, empty, empty, empty, np.zeros(0, dtype=np.int64), net.ids, None, stop, tol)
    e, ed, eu, sw, ls = result
    if e is None or ed is None or eu is None or sw is None:  # pragma: no cover - columns is not empty
        raise RainforestError("the cascade engine returned no result")
    return ESRIProfile(labels, e, ed, eu, sw.astype(np.int64), net.ids, ls, stop, tol)


def _chunks(columns: list[dict[int, float]], step: int, n_workers: int) -> list[list[dict[int, float]]]:
    """A few chunks per worker balance the load; each chunk is a multiple of the step, so
    the engine calls (and their numbers) are the same as in a serial run."""
    per = max(step, math.ceil(len(columns) / (4 * n_workers) / step) * step)
    return [columns[k : k + per] for k in range(0, len(columns), per)]


def _run_pool(
    pool: Executor,
    workers: int | None,
    job: _Job,
    columns: list[dict[int, float]],
    progress: Callable[[int, int], None] | None,
) -> tuple[Any, ...]:
    chunks = _chunks(columns, job.step, getattr(pool, "_max_workers", None) or workers or 1)
    futures = {pool.submit(_run_job, job, chunk): k for k, chunk in enumerate(chunks)}
    parts: list[tuple[Any, ...] | None] = [None] * len(chunks)
    done = 0
    for future in as_completed(futures):
        k = futures[future]
        parts[k] = future.result()
        done += len(chunks[k])
        if progress is not None:
            progress(done, len(columns))
    return _join([p for p in parts if p is not None])


def _run_dask(client: Any, workers: int | None, job: _Job, columns: list[dict[int, float]]) -> tuple[Any, ...]:
    n_workers = max(1, len(client.scheduler_info().get("workers", {})) or (workers or 1))
    chunks = _chunks(columns, job.step, n_workers)
    [job_f] = client.scatter(
        [job], broadcast=True, hash=False
    )  # a fresh key: a client used twice may still be releasing the last one
    futures = [client.submit(_run_job, job_f, c, pure=False) for c in chunks]
    return _join(client.gather(futures))
