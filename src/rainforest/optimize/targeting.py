"""Resource-recycling targets: the material recovery pinch.

Before any exchange is designed, pinch analysis says how little virgin resource and how
little discharge an ecosystem can reach by reusing its by-products, and where the
bottleneck (the pinch) lies. Sources are offers of a resource (by-products, waste water)
with a quality (a contaminant concentration, say); sinks are needs with a largest
acceptable quality; the virgin supply has its own quality. Qualities mix linearly
(quantity-weighted average) and every need is met exactly.

Two independent methods compute the same targets, and the tests hold them to agreement:

- :func:`cascade_target`: the algebraic material cascade (El-Halwagi, Gabriel & Harell 2003;
  Prakash & Shenoy 2005): a cascade of cumulative flows and contaminant loads over the
  quality levels; the virgin target makes every cumulative load non-negative.
- :func:`lp_target`: a linear program over every source-to-sink allocation (HiGHS).

Threshold problems (targets set by the flow balance, not by a pinch: zero discharge, or
zero virgin supply) are reported as such, with no pinch.

References
----------
Wang, Y.P. & Smith, R. (1994). Wastewater minimisation. Chem. Eng. Sci. 49:981-1006.
El-Halwagi, M.M., Gabriel, F. & Harell, D. (2003). Rigorous graphical targeting for
resource conservation via material recycle/reuse networks. Ind. Eng. Chem. Res.
42:4319-4328.
Prakash, R. & Shenoy, U.V. (2005). Targeting and design of water networks for fixed
flowrate and fixed contaminant load operations. Chem. Eng. Sci. 60:255-268.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.sparse import lil_array

from rainforest.choices import TargetMethod
from rainforest.errors import TargetingError, UnknownIdError, check_choice, moved

__all__ = ["Stream", "Target", "TargetingError", "cascade_target", "lp_target", "streams_of", "target"]

#: Relative tolerance for a pinch (a cumulative load at zero).
PINCH_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Stream:
    """A source (offer) or sink (need) of one resource: quantity per period and quality
    (for a sink, the largest acceptable quality; ``inf`` when it accepts anything)."""

    id: str
    quantity: float
    quality: float


@dataclass(frozen=True)
class Target:
    """The targets of a resource-recycling problem.

    Attributes
    ----------
    virgin, discharge:
        Minimum virgin supply and the discharge that goes with it (resource's unit).
    pinch:
        Quality level(s) where the cumulative load is zero: the bottleneck; empty for a
        threshold problem.
    threshold:
        ``None``, ``'zero virgin'`` or ``'zero discharge'``.
    cascade:
        The cascade table (levels, net flow, cumulative flow, interval load, cumulative
        load at the target), for display.
    """

    virgin: float
    discharge: float
    pinch: tuple[float, ...]
    threshold: str | None = None
    virgin_quality: float = 0.0
    method: str = "cascade"
    cascade: dict[str, list[float]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The targets as plain data."""
        return {
            "virgin": self.virgin,
            "discharge": self.discharge,
            "pinch": list(self.pinch),
            "threshold": self.threshold,
            "virgin_quality": self.virgin_quality,
            "method": self.method,
            "notes": list(self.notes),
        }

    def to_frame(self) -> Any:
        """The cascade table (one row per quality level: net flow, cumulative flow, interval
        load, cumulative load at the target) as a pandas DataFrame; empty for an LP target."""
        import pandas as pd

        return pd.DataFrame(self.cascade)


def _validate(sources: Sequence[Stream], sinks: Sequence[Stream], virgin_quality: float) -> None:
    problems = []
    for s in [*sources, *sinks]:
        if not (math.isfinite(s.quantity) and s.quantity >= 0):
            problems.append(f"{s.id}: quantity must be a finite number >= 0, got {s.quantity!r}")
    for s in sources:
        if not math.isfinite(s.quality):
            problems.append(f"{s.id}: a source's quality must be a finite number, got {s.quality!r}")
    for s in sinks:
        if math.isnan(s.quality):
            problems.append(f"{s.id}: quality must be a number, got {s.quality!r}")
    if problems:
        raise TargetingError("; ".join(problems))


def cascade_target(sources: Sequence[Stream], sinks: Sequence[Stream], virgin_quality: float = 0.0) -> Target:
    """Targets by the algebraic material cascade.

    Levels are the distinct qualities (of sources, sinks and virgin supply), ascending.
    With ``F`` virgin entering at ``q_v``, the cumulative flow below level ``k`` is
    ``F + sum of net flows (sources - sinks) at levels < k`` and the cumulative load at
    level ``k`` is ``sum over intervals of cumulative flow x interval width``. It is linear
    in ``F``: ``L_k(F) = L_k(0) + F (q_k - q_v)``, so the least ``F`` keeping every
    ``L_k >= 0`` is ``max_k(-L_k(0) / (q_k - q_v))``, and the flow balance adds
    ``F >= total sink - total source``. Sinks that accept any quality take what is left.
    """
    _validate(sources, sinks, virgin_quality)
    limited = [s for s in sinks if math.isfinite(s.quality)]
    unlimited = sum(s.quantity for s in sinks if not math.isfinite(s.quality))
    levels = sorted({virgin_quality, *(s.quality for s in sources), *(s.quality for s in limited)})
    net = dict.fromkeys(levels, 0.0)
    for s in sources:
        net[s.quality] += s.quantity
    for s in limited:
        net[s.quality] -= s.quantity
    q = np.array(levels)
    m = np.array([net[v] for v in levels])
    # cumulative flow entering each interval above level k (without virgin)
    flow0 = np.cumsum(m)
    widths = np.diff(q)
    load0 = np.concatenate([[0.0], np.cumsum(flow0[:-1] * widths)])  # load at each level
    above = q > virgin_quality
    required = np.where(above, -load0 / np.where(above, q - virgin_quality, 1.0), 0.0)
    # levels below the virgin quality can only be met by sources (checked by the flows there)
    below = q <= virgin_quality
    short = below & (load0 < -1e-12 * max(1.0, float(np.abs(load0).max(initial=0.0))))
    if short.any():
        raise TargetingError(
            f"needs cleaner than the virgin supply (quality {virgin_quality:g}) cannot be met: the sources at or "
            f"below quality {float(q[short][0]):g} carry too little clean flow. Add a cleaner virgin supply or source."
        )
    load_target = float(max(0.0, required.max(initial=0.0)))
    total_sources = float(sum(s.quantity for s in sources))
    total_sinks = float(sum(s.quantity for s in sinks))
    balance_target = max(0.0, total_sinks - total_sources)
    virgin = max(load_target, balance_target)
    discharge = virgin + total_sources - total_sinks
    flows = flow0 + virgin
    loads = load0 + virgin * np.where(above, q - virgin_quality, 0.0)
    scale = max(1.0, float(np.abs(loads).max(initial=0.0)), virgin * float(q.max(initial=0.0)))
    pinch: tuple[float, ...] = ()
    threshold = None
    if virgin == 0.0:
        threshold = "zero virgin"
    elif balance_target >= load_target and balance_target > 0 and (load_target < balance_target * (1 - 1e-12)):
        threshold = "zero discharge"
    else:
        pinch = tuple(float(q[k]) for k in range(len(q)) if above[k] and abs(loads[k]) <= PINCH_TOLERANCE * scale)
    return Target(
        virgin=virgin,
        discharge=max(discharge, 0.0) if abs(discharge) < 1e-12 * max(1.0, total_sinks) else discharge,
        pinch=pinch,
        threshold=threshold,
        virgin_quality=virgin_quality,
        method="cascade",
        cascade={
            "level": q.tolist(),
            "net_flow": m.tolist(),
            "cumulative_flow": flows.tolist(),
            "cumulative_load": loads.tolist(),
        },
        notes=(f"{unlimited:g} of need accepts any quality",) if unlimited else (),
    )


def lp_target(sources: Sequence[Stream], sinks: Sequence[Stream], virgin_quality: float = 0.0) -> Target:
    """Targets by linear programming over every allocation (HiGHS through SciPy).

    Variables: ``x_ij`` (source i to sink j), ``v_j`` (virgin to sink j), ``w_i`` (source i
    discharged). Each source is used or discharged (``sum_j x_ij + w_i = F_i``), each need
    met exactly (``sum_i x_ij + v_j = D_j``), each mix within its limit
    (``sum_i q_i x_ij + q_v v_j <= Q_j D_j``); minimise ``sum_j v_j``.
    """
    from scipy.optimize import linprog as scipy_linprog

    linprog: Any = scipy_linprog  # the stubs do not admit sparse constraint matrices, SciPy does
    _validate(sources, sinks, virgin_quality)
    ns, nk = len(sources), len(sinks)
    nx = ns * nk
    nvar = nx + nk + ns
    c = np.zeros(nvar)
    c[nx : nx + nk] = 1.0
    A_eq = lil_array((ns + nk, nvar))
    b_eq = np.zeros(ns + nk)
    for i, s in enumerate(sources):
        for j in range(nk):
            A_eq[i, i * nk + j] = 1.0
        A_eq[i, nx + nk + i] = 1.0
        b_eq[i] = s.quantity
    for j, d in enumerate(sinks):
        for i in range(ns):
            A_eq[ns + j, i * nk + j] = 1.0
        A_eq[ns + j, nx + j] = 1.0
        b_eq[ns + j] = d.quantity
    limited = [j for j, d in enumerate(sinks) if math.isfinite(d.quality)]
    A_ub = lil_array((len(limited), nvar))
    b_ub = np.zeros(len(limited))
    for r, j in enumerate(limited):
        d = sinks[j]
        for i, s in enumerate(sources):
            A_ub[r, i * nk + j] = s.quality - d.quality
        A_ub[r, nx + j] = virgin_quality - d.quality
    result = linprog(
        c,
        A_ub=A_ub.tocsr() if limited else None,
        b_ub=b_ub if limited else None,
        A_eq=A_eq.tocsr(),
        b_eq=b_eq,
        bounds=(0, None),
        method="highs",
    )
    if result.status == 2:
        raise TargetingError("no allocation meets every need within its quality limit (the LP is infeasible)")
    if result.status != 0:
        raise TargetingError(f"the targeting LP found no solution: {result.message}")
    virgin = float(result.x[nx : nx + nk].sum())
    discharge = float(result.x[nx + nk :].sum())
    reference = cascade_target(sources, sinks, virgin_quality)
    return Target(
        virgin=virgin,
        discharge=discharge,
        pinch=reference.pinch,
        threshold=reference.threshold,
        virgin_quality=virgin_quality,
        method="lp",
        cascade=reference.cascade,
    )


def streams_of(eco: Any, resource: str, prop: str | None = None) -> tuple[list[Stream], list[Stream], float, str]:
    """Sources (offers), sinks (needs accepting the resource) and the virgin quality of one
    resource, for one quality property.

    The property defaults to the only one the resource's offers and needs name. A source
    without it, or a virgin entry without it, is an error (a quality cannot be guessed);
    a need without ``max_quality`` for it accepts any quality.
    """
    if resource not in eco.resource_ids:
        raise UnknownIdError("resource", resource, eco.resource_ids)
    offers = [(i, o) for i, o in enumerate(eco.offers) if o.resource == resource]
    needs = [(i, n) for i, n in enumerate(eco.needs) if resource in n.accepted]
    if not offers and not needs:
        raise TargetingError(f"no offer or need of resource {resource!r}: nothing to target")
    names = {k for _, o in offers for k in o.quality} | {k for _, n in needs for k in n.max_quality}
    if prop is None:
        if len(names) != 1:
            found = ", ".join(sorted(names)) or "none"
            raise TargetingError(
                f"choose the quality property to target for {resource!r} (found: {found}); pass property= (CLI: --property)"
            )
        prop = next(iter(names))
    missing = [f"offers[{i}] ({o.actor})" for i, o in offers if prop not in o.quality]
    if missing:
        raise TargetingError(
            f"{len(missing)} offer(s) of {resource!r} give no {prop!r} quality: {', '.join(missing[:10])}. "
            "Give every source's quality; it cannot be assumed."
        )
    sources = [Stream(f"offers[{i}] {o.actor}", o.quantity, float(o.quality[prop])) for i, o in offers]
    sinks = [Stream(f"needs[{i}] {n.actor}", n.quantity, float(n.max_quality.get(prop, math.inf))) for i, n in needs]
    virgin_entries = [v for v in eco.virgin if v.resource == resource]
    if virgin_entries and prop in virgin_entries[0].quality:
        virgin_quality = float(virgin_entries[0].quality[prop])
    elif virgin_entries:
        raise TargetingError(
            f"the virgin supply of {resource!r} gives no {prop!r} quality; give it (0 for a clean supply)"
        )
    else:
        virgin_quality = 0.0
    return sources, sinks, virgin_quality, prop


def target(eco: Any, resource: str, prop: str | None = None, method: TargetMethod = "cascade") -> Target:
    """Minimum virgin supply, discharge and pinch of one resource of an ecosystem.

    Examples
    --------
    >>> import rainforest as rf
    >>> from rainforest.optimize.targeting import Stream, cascade_target
    >>> sinks = [Stream("op1", 20, 0), Stream("op2", 100, 50), Stream("op3", 40, 50), Stream("op4", 10, 400)]
    >>> sources = [Stream("op1", 20, 100), Stream("op2", 100, 100), Stream("op3", 40, 800), Stream("op4", 10, 800)]
    >>> t = cascade_target(sources, sinks)
    >>> t.virgin, t.discharge, t.pinch
    (90.0, 90.0, (100.0,))
    """
    check_choice("method", method, TargetMethod, where="target")
    sources, sinks, virgin_quality, _ = streams_of(eco, resource, prop)
    if method == "lp":
        return lp_target(sources, sinks, virgin_quality)
    return cascade_target(sources, sinks, virgin_quality)


if not TYPE_CHECKING:  # old names, kept working with a warning (type checkers see only the new ones)
    __getattr__ = moved(
        __name__, {"cascade": (__name__, "cascade_target", "rainforest.cascade is the failure cascade")}
    )
