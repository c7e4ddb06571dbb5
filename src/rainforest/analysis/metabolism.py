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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rainforest.choices import SankeyBy
from rainforest.errors import RainforestError, UnknownIdError, check_choice
from rainforest.model import units
from rainforest.model.flowmatrix import CURRENCY_UNITS, FlowMatrix
from rainforest.model.schema import BOUNDARY

__all__ = ["Balance", "Reconciliation", "balances", "boundary_accounts", "circularity", "reconcile", "sankey"]

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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``resource`` and, per actor, inflow, outflow, stock change, imbalance
        and whether it balances."""
        return {
            "resource": self.resource,
            "actors": {
                a: {
                    "inflow": float(self.inflow[i]),
                    "outflow": float(self.outflow[i]),
                    "stock_change": float(self.stock_change[i]),
                    "imbalance": float(self.imbalance[i]),
                    "ok": bool(self.ok[i]),
                }
                for i, a in enumerate(self.ids)
            },
        }

    def to_frame(self) -> Any:
        """One row per actor (the index): inflow, outflow, stock change, imbalance, ok."""
        import pandas as pd

        return pd.DataFrame(
            {
                "inflow": self.inflow,
                "outflow": self.outflow,
                "stock_change": self.stock_change,
                "imbalance": self.imbalance,
                "ok": self.ok,
            },
            index=pd.Index(self.ids, name="actor"),
        )


def _active_flows(eco: Any, resource: str) -> tuple[list[int], list[Any]]:
    if resource not in eco.resource_ids:
        raise UnknownIdError("resource", resource, eco.resource_ids)
    rows = [
        (k, f)
        for k, f in enumerate(eco.flows)
        if f.resource == resource and f.status == "active" and f.quantity is not None
    ]
    return [k for k, _ in rows], [f for _, f in rows]


def _active_rows(eco: Any) -> Iterator[tuple[Any, Any, Any, Any, float]]:
    """(from, to, resource, kind, quantity) of every active flow with a quantity (flows
    marked ``quantified: false`` have none to add), read off the columns."""
    table = eco.table("flows")
    rows = zip(
        table.texts("from"),
        table.texts("to"),
        table.texts("resource"),
        table.texts("kind"),
        table.texts("status"),
        table.numbers("quantity").tolist(),
        strict=True,
    )
    return ((s, d, r, k, q) for s, d, r, k, status, q in rows if status == "active" and not math.isnan(q))


def balances(eco: Any, resource: str, *, absolute: float = 1e-9, relative: float = 1e-6) -> Balance:
    """Mass (or energy, water...) balance of every actor for one resource.

    An actor is in balance when ``|inflow - outflow - stock change| <= absolute + relative
    x max(inflow, outflow)``.
    """
    if resource not in eco.resource_ids:
        raise UnknownIdError("resource", resource, eco.resource_ids)
    fm = FlowMatrix.from_ecosystem(eco, resource=resource)  # active flows, in the resource's unit
    ids = fm.ids
    inflow, outflow, change = fm.inflow(), fm.outflow(), fm.stock_change.copy()
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``resource``, ``chi2``, ``dof`` and, per flow (its document index),
        measured, reconciled, sigma and sigma after (``None`` where not finite)."""

        def number(value: Any) -> float | None:
            x = float(value)
            return x if math.isfinite(x) else None

        return {
            "resource": self.resource,
            "chi2": number(self.chi2),
            "dof": int(self.dof),
            "flows": [
                {
                    "flow": int(idx),
                    "measured": number(self.measured[k]),
                    "reconciled": number(self.reconciled[k]),
                    "sigma": number(self.sigma[k]),
                    "sigma_after": number(self.sigma_after[k]),
                }
                for k, idx in enumerate(self.flows)
            ],
        }

    def to_frame(self) -> Any:
        """One row per flow (its document index): measured, reconciled, sigma, sigma after."""
        import pandas as pd

        return pd.DataFrame(
            {
                "measured": self.measured,
                "reconciled": self.reconciled,
                "sigma": self.sigma,
                "sigma_after": self.sigma_after,
            },
            index=pd.Index(self.flows, name="flow"),
        )


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
    chi2 = float((((x - m)[free] / s[free]) ** 2).sum())  # divide first: a tiny sigma squared underflows
    dof = int(np.linalg.matrix_rank(A[:, free])) if free.any() else 0
    return Reconciliation(resource, tuple(idx), m, np.maximum(x, 0.0), s, sigma_after, chi2, dof)


_ACCOUNT_PLACE = {
    "extraction": "from the environment (extraction)",
    "imports": "from the world (imports)",
    "exports": "to the world (exports)",
    "losses": "to the environment (losses: emissions, disposal)",
    "internal": "between actors",
}


def _not_recorded(fm: Any, account: str) -> str | None:
    """Why an account of ``fm`` is not known, or None when it is recorded."""
    if not fm.recorded:  # built from arrays: every account is given
        return None
    quantified, unquantified = fm.recorded.get(account, (0, 0))
    if quantified:
        return None
    if account == "stock_change":
        return f"no stock change is recorded in {fm.currency}"
    why = f"no flow {_ACCOUNT_PLACE[account]} is recorded in {fm.currency}"
    if unquantified:
        why += f" with a quantity ({unquantified} documented without one)"
    return why


def boundary_accounts(fm: Any) -> dict[str, Any]:
    """System boundary accounts of a flow matrix (any currency), as in economy-wide MFA:
    ``extraction`` (from the environment), ``imports`` (from the world), ``exports`` (to
    the world), ``losses`` (to the environment: emissions, disposal), ``stock_change``,
    ``internal`` (exchanged between actors), ``DMI`` = extraction + imports and
    ``balance`` = DMI - exports - losses - stock_change (zero when every actor balances).

    An account the document does not record (no flow of its kind with a quantity) is
    ``None``, never 0, and ``reasons[account]`` says why. ``DMI`` is known when either of
    its parts is, ``balance`` when ``DMI`` and either output are: a part that is not
    recorded then counts as none, and ``notes[account]`` says which.
    """
    values: dict[str, float | None] = {
        "extraction": float(fm.extraction.sum()),
        "imports": float(fm.imports.sum()),
        "exports": float(fm.exports.sum()),
        "losses": float(fm.losses.sum()),
        "stock_change": float(fm.stock_change.sum()),
        "internal": float(fm.Z.sum()),
    }
    reasons: dict[str, str] = {}
    notes: dict[str, str] = {}
    for account in list(values):
        why = _not_recorded(fm, account)
        if why is not None:
            values[account] = None
            reasons[account] = why

    def total(account: str, parts: tuple[str, ...], sign: tuple[float, ...]) -> None:
        known = [p for p in parts if values[p] is not None]
        missing = [p for p in parts if values[p] is None]
        if not known:
            values[account] = None
            reasons[account] = f"none of its parts ({', '.join(parts)}) is recorded in {fm.currency}"
            return
        values[account] = sum(s * (values[p] or 0.0) for p, s in zip(parts, sign, strict=True))
        if missing:
            notes[account] = "counts as none what is not recorded: " + ", ".join(missing)

    total("DMI", ("extraction", "imports"), (1.0, 1.0))
    if values["DMI"] is None or (values["exports"] is None and values["losses"] is None):
        values["balance"] = None
        reasons["balance"] = (
            "no boundary input is recorded" if values["DMI"] is None else "no boundary output is recorded"
        ) + f" in {fm.currency}"
    else:
        total("balance", ("DMI", "exports", "losses", "stock_change"), (1.0, -1.0, -1.0, -1.0))
    return {**values, "reasons": reasons, "notes": notes}


def circularity(eco: Any, currency: str = "mass") -> dict[str, Any]:
    """Circularity indicators of the active flows in one physical currency, each with its
    definition (the report prints both):

    - ``recycled_input_share``: by-product and waste flows received by actors, over all
      their inputs (internal + boundary): the share of inputs that were someone's residue;
    - ``disposal_share``: losses to the environment over all outputs;
    - ``exchange_share``: flows between actors over all outputs (how much stays inside);
    - ``landfill_diverted``: by-product and waste exchanged between actors per period,
      i.e. residues that reached a user instead of disposal (existing exchanges);
    - ``resource_productivity``: revenue of the actors that report it per unit of direct
      material input of those actors (money per currency unit), or ``None``.

    A share whose denominator is not recorded (no boundary input, or no boundary output,
    in this currency) is ``None`` with ``reasons[name]``: over the exchanges alone it
    would be 100% or 0% by construction. Flows marked ``quantified: false`` are skipped
    (``unquantified`` counts them).
    """
    fm = FlowMatrix.from_ecosystem(eco, currency)  # type: ignore[arg-type]
    factors: dict[str, float] = {}

    res_unit = {r.id: r.unit for r in eco.resources}
    for r in fm.resources:
        try:
            factors[r] = units.conversion_factor(res_unit[r], fm.unit)
        except RainforestError:
            continue
    residue = 0.0
    for src, dst, res, kind, q in _active_rows(eco):
        if res not in factors:
            continue
        if kind in ("by-product", "waste") and src not in BOUNDARY and dst not in BOUNDARY:
            residue += q * factors[res]
    inputs = float(fm.Z.sum() + fm.inputs.sum())
    outputs = float(fm.Z.sum() + fm.exports.sum() + fm.losses.sum())
    reasons: dict[str, str] = {}
    inputs_known = _not_recorded(fm, "imports") is None or _not_recorded(fm, "extraction") is None
    outputs_known = _not_recorded(fm, "exports") is None or _not_recorded(fm, "losses") is None
    recycled: float | None = residue / inputs if inputs else None
    if not inputs_known:
        recycled = None
        reasons["recycled_input_share"] = (
            f"no input from outside the ecosystem is recorded in {fm.currency}, so all inputs are not known"
        )
    disposal: float | None = float(fm.losses.sum()) / outputs if outputs else None
    exchange: float | None = float(fm.Z.sum()) / outputs if outputs else None
    if not outputs_known:
        disposal = exchange = None
        why = f"no output to outside the ecosystem is recorded in {fm.currency}, so all outputs are not known"
        reasons["disposal_share"] = reasons["exchange_share"] = why
    elif _not_recorded(fm, "losses") is not None:
        disposal = None
        reasons["disposal_share"] = str(_not_recorded(fm, "losses"))
    revenue = 0.0
    dmi = 0.0
    reporting = 0
    for i, actor in enumerate(eco.actors):
        if actor.size is not None and actor.size.revenue is not None:
            reporting += 1
            revenue += actor.size.revenue
            dmi += float(fm.inputs[i])
    productivity = revenue / dmi if dmi else None
    if not reporting:
        reasons["resource_productivity"] = "no actor reports its revenue (size.revenue)"
    elif not dmi:
        reasons["resource_productivity"] = (
            f"the {reporting} actor(s) that report revenue have no recorded input from outside in {fm.currency}"
        )
    return {
        "currency": fm.currency,
        "unit": fm.unit,
        "recycled_input_share": recycled,
        "disposal_share": disposal,
        "exchange_share": exchange,
        "landfill_diverted": residue,
        "resource_productivity": productivity,
        "unquantified": fm.unquantified,
        "reasons": reasons,
    }


def sankey(
    eco: Any, by: SankeyBy = "resource", currency: str = "mass", *, strata: Mapping[str, str] | None = None
) -> dict[str, list[Any]]:
    """Sankey data: nodes and links, the links summing to the active flows they stand for.

    ``by='resource'``: one link per (source, target, resource); ``'kind'``: per resource
    kind; ``'stratum'``: actors grouped into their strata (canopy, understory, shrub, moss,
    unknown) with ``world`` and ``environment`` as they are; ``strata`` maps actor ids to
    strata where the document gives none (e.g. those positioning inferred). Quantities in
    the currency.
    """
    check_choice("by", by, SankeyBy, where="sankey")

    target_unit = CURRENCY_UNITS.get(currency)
    kinds = {r.id: r.kind for r in eco.resources}
    factors: dict[str, float] = {}
    for r in eco.resources:
        if target_unit is None:
            continue
        if currency == "water" and r.kind != "water":
            continue
        try:
            factors[r.id] = units.conversion_factor(r.unit, target_unit)
        except RainforestError:
            continue
    stratum = {a.id: (a.stratum or "unknown") for a in eco.actors}
    if strata is not None:
        stratum.update(strata)
    totals: dict[tuple[str, str, str], float] = {}
    for src, dst, res, _, q in _active_rows(eco):
        if res not in factors:
            continue
        if by == "stratum":
            src, dst = stratum.get(src, src), stratum.get(dst, dst)
        label = res if by == "resource" else kinds[res]
        key = (src, dst, label)
        totals[key] = totals.get(key, 0.0) + q * factors[res]
    nodes = sorted({n for s, t, _ in totals for n in (s, t)})
    position = {n: i for i, n in enumerate(nodes)}
    links = [
        {"source": position[s], "target": position[t], "label": lab, "value": v}
        for (s, t, lab), v in sorted(totals.items())
    ]
    return {"nodes": nodes, "links": links, "unit": [target_unit or ""]}
