"""Industrial metabolism: balances, boundary accounts, circularity, Sankey data, and the
reconciliation of inconsistent measurements.

Every function reads the ecosystem's active flows of one resource (or one currency) and
returns plain data; none mutates the ecosystem.

- :func:`balances`: per actor, inputs = outputs + stock change, with the imbalance and a
  check against an absolute and a relative tolerance (as flodym's mass-balance check).
- :func:`reconcile`: weighted least squares under the balance constraints, the way STAN
  reconciles material flow data (Cencic & Rechberger 2008): flows with an ``uncertainty``
  (standard deviation) move as little as their uncertainty allows to make every actor
  balance; flows without one are fixed. Returns the adjusted flows, their reduced
  uncertainties and the list of adjustments.

References
----------
Cencic, O. & Rechberger, H. (2008). Material flow analysis with software STAN. J. Environ.
Eng. Manage. 18:3-7.
Narasimhan, S. & Jordache, C. (2000). Data Reconciliation and Gross Error Detection. Gulf
(ch. 3: linear steady-state reconciliation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rainforest.errors import RainforestError, UnknownIdError
from rainforest.model.schema import BOUNDARY

__all__ = ["Balance", "Reconciliation", "balances", "reconcile"]

Array = npt.NDArray[Any]


@dataclass(frozen=True)
class Balance:
    """Per actor: inflow, outflow, stock change, imbalance (inflow - outflow - change)."""

    resource: str
    ids: tuple[str, ...]
    inflow: Array
    outflow: Array
    stock_change: Array
    imbalance: Array
    ok: npt.NDArray[np.bool_]

    def violations(self) -> list[tuple[str, float]]:
        """Actors out of balance beyond the tolerance, largest first."""
        order = np.argsort(-np.abs(self.imbalance), kind="stable")
        return [(self.ids[i], float(self.imbalance[i])) for i in order if not self.ok[i]]


def _active_flows(eco: Any, resource: str) -> tuple[list[int], list[Any]]:
    if resource not in eco.resource_ids:
        raise UnknownIdError("resource", resource, eco.resource_ids)
    rows = [(k, f) for k, f in enumerate(eco.flows) if f.resource == resource and f.status == "active"]
    return [k for k, _ in rows], [f for _, f in rows]


def balances(eco: Any, resource: str, *, absolute: float = 1e-9, relative: float = 1e-6) -> Balance:
    """Mass (or energy, water...) balance of every actor for one resource.

    An actor is in balance when ``|inflow - outflow - stock change| <= absolute + relative
    x max(inflow, outflow)``.
    """
    ids = eco.actor_ids
    index = {a: i for i, a in enumerate(ids)}
    n = len(ids)
    inflow, outflow, change = np.zeros(n), np.zeros(n), np.zeros(n)
    for f in _active_flows(eco, resource)[1]:
        if f.target in index:
            inflow[index[f.target]] += f.quantity
        if f.source in index:
            outflow[index[f.source]] += f.quantity
    for s in eco.stocks:
        if s.resource == resource and s.change is not None:
            change[index[s.actor]] += s.change
    imbalance = inflow - outflow - change
    ok = np.abs(imbalance) <= absolute + relative * np.maximum(inflow, outflow)
    return Balance(resource, ids, inflow, outflow, change, imbalance, ok)


@dataclass(frozen=True)
class Reconciliation:
    """Reconciled flows of one resource.

    ``flows[k]`` is the document index of the k-th active flow of the resource;
    ``measured``, ``reconciled``, ``sigma`` and ``sigma_after`` its values; ``chi2`` the
    weighted sum of squared adjustments (compare with the chi-square distribution with
    ``dof`` degrees of freedom to detect gross errors).
    """

    resource: str
    flows: tuple[int, ...]
    measured: Array
    reconciled: Array
    sigma: Array
    sigma_after: Array
    chi2: float
    dof: int

    def adjustments(self) -> list[dict[str, float]]:
        """Every flow that moved: document index, measured, reconciled, change, and the
        change in standard deviations."""
        out = []
        for k, idx in enumerate(self.flows):
            delta = float(self.reconciled[k] - self.measured[k])
            if abs(delta) > 1e-12 * max(1.0, abs(float(self.measured[k]))):
                z = delta / float(self.sigma[k]) if self.sigma[k] > 0 else math.inf
                out.append(
                    {
                        "flow": idx,
                        "measured": float(self.measured[k]),
                        "reconciled": float(self.reconciled[k]),
                        "change": delta,
                        "sigmas": z,
                    }
                )
        return out


def reconcile(eco: Any, resource: str) -> Reconciliation:
    """Make every actor balance for ``resource`` by weighted least squares.

    Minimise ``sum_k ((x_k - m_k) / s_k)^2`` over the flows with an uncertainty ``s_k``,
    subject to ``A x = b``: one row per actor (inflow - outflow = stock change), flows
    without an uncertainty fixed at their measurement (they move ``b``). The solution is
    ``x = m - S A' (A S A')^+ (A m - b)`` with ``S = diag(s^2)``, and the reconciled
    covariance ``S - S A' (A S A')^+ A S`` gives the smaller uncertainties after
    reconciliation. Flows to or from ``world`` and ``environment`` balance nothing at that
    end. Quantities stay non-negative only if the data allow: a negative result is an
    error that names the flow (the measurements contradict each other beyond their
    uncertainties).

    Raises
    ------
    RainforestError
        When the constraints cannot hold (an actor with only exact flows out of balance)
        or a reconciled flow turns negative.
    """
    idx, flows = _active_flows(eco, resource)
    ids = eco.actor_ids
    index = {a: i for i, a in enumerate(ids)}
    m = np.array([f.quantity for f in flows], dtype=np.float64)
    s = np.array([f.uncertainty if f.uncertainty is not None else 0.0 for f in flows], dtype=np.float64)
    involved = sorted({index[a] for f in flows for a in (f.source, f.target) if a not in BOUNDARY})
    row = {a: r for r, a in enumerate(involved)}
    A = np.zeros((len(involved), len(flows)))
    for k, f in enumerate(flows):
        if f.target not in BOUNDARY:
            A[row[index[f.target]], k] += 1.0
        if f.source not in BOUNDARY:
            A[row[index[f.source]], k] -= 1.0
    b = np.zeros(len(involved))
    for st in eco.stocks:
        if st.resource == resource and st.change is not None and index[st.actor] in row:
            b[row[index[st.actor]]] += st.change
    free = s > 0
    residual = A @ m - b
    S = np.diag(s**2)
    M = A @ S @ A.T
    M_pinv = np.linalg.pinv(M)
    x = m - S @ A.T @ M_pinv @ residual
    leftover = A @ x - b
    scale = max(1.0, float(np.abs(m).max(initial=0.0)))
    if np.abs(leftover).max(initial=0.0) > 1e-8 * scale:
        worst = int(np.argmax(np.abs(leftover)))
        raise RainforestError(
            f"the balances of {resource!r} cannot all hold: {ids[involved[worst]]} stays {float(leftover[worst]):g} out of "
            "balance with its exact flows; give an uncertainty to the flows that may be wrong"
        )
    negative = [k for k in range(len(flows)) if x[k] < -1e-9 * scale]
    if negative:
        k = negative[0]
        raise RainforestError(
            f"reconciling {resource!r} would make flows[{idx[k]}] ({flows[k].source} -> {flows[k].target}) negative "
            f"({x[k]:g}): the measurements contradict each other beyond their uncertainties"
        )
    cov = S - S @ A.T @ M_pinv @ A @ S
    sigma_after = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    chi2 = float(((x - m)[free] ** 2 / s[free] ** 2).sum())
    dof = int(np.linalg.matrix_rank(A[:, free])) if free.any() else 0
    return Reconciliation(resource, tuple(idx), m, np.maximum(x, 0.0), s, sigma_after, chi2, dof)
