"""Find, plan and account for symbiotic exchanges between offers and needs.

1. :func:`candidates`: every feasible offer -> need pair with an explanation (why it fits,
   what it saves, what limits it).
2. :func:`plan`: the exchange plan, a MILP solved behind the one-method
   :class:`~rainforest.optimize.solvers.Solver` interface: maximise net annual benefit
   (avoided virgin purchases + avoided disposal - transport - annualised fixed link
   costs), or minimise virgin use, or maximise CO2e avoided; qualities mix linearly and
   every need is met exactly (by exchanges plus virgin supply). Every plan says how far
   it is proven (:meth:`Plan.solve_info`); a plan re-made after a change starts from the
   previous one, and :func:`diff` says what changed.
3. :func:`impacts`: what the plan changes, counted as audited programmes count it (NISP):
   disposal diverted, virgin material saved, CO2e avoided (avoided disposal + avoided
   virgin production - transport), water saved, money saved, per exchange, per actor and
   in total, per period.
4. :func:`pareto`, :func:`expected_benefit`, :func:`share_gains`: the money/CO2e front,
   the plan's worth when partners may fail, and a fair split of its gain.

Baseline (what happens without new exchanges): every need is bought as virgin supply at
its price, every offer is disposed of at its disposal cost.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from rainforest.choices import Formulation, Objective, ShareMethod
from rainforest.errors import PlanError, RainforestError, check_choice
from rainforest.model import units
from rainforest.optimize.sharing import Game, core_violations, nucleolus, shapley
from rainforest.optimize.solvers import MILP, HighsSolver, Solution, Solver, SolverError
from rainforest.optimize.taxonomy import default_factor

__all__ = [
    "Candidate",
    "Plan",
    "PlanDiff",
    "PlanError",
    "candidates",
    "co2e_per_unit",
    "describe_solve",
    "diff",
    "expected_benefit",
    "impacts",
    "pareto",
    "plan",
    "share_gains",
]

EARTH_RADIUS_KM = 6371.0088
_PATTERNS = {"continuous": {"continuous"}, "seasonal": {"seasonal", "one-off"}, "one-off": {"one-off"}}


def great_circle_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Haversine distance in km (arrays broadcast)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


@dataclass(frozen=True, slots=True)
class Candidate:
    """A feasible exchange from offer ``offer`` to need ``need`` (indices in the document)."""

    offer: int
    need: int
    source: str
    target: str
    resource: str
    upper: float
    unit_saving: float
    distance_km: float | None
    unit_transport: float
    why: str
    saves: str
    limits: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            "offer": self.offer,
            "need": self.need,
            "from": self.source,
            "to": self.target,
            "resource": self.resource,
            "max_quantity": self.upper,
            "saving_per_unit": self.unit_saving,
            "distance_km": self.distance_km,
            "transport_per_unit": self.unit_transport,
            "why": self.why,
            "saves": self.saves,
            "limits": self.limits,
        }


@dataclass
class _Data:
    eco: Any
    offers: list[Any]
    needs: list[Any]
    resources: dict[str, Any]
    virgin: dict[str, Any]
    locations: dict[str, tuple[float, float]]
    notes: list[str] = field(default_factory=list)

    def need_price(self, j: int) -> float:
        need = self.needs[j]
        if need.price is not None:
            return float(need.price)
        resource = need.accepted[0]
        if self.resources[resource].price is not None:
            return float(self.resources[resource].price)
        if resource in self.virgin and self.virgin[resource].price is not None:
            return float(self.virgin[resource].price)
        return 0.0

    def virgin_quality(self, resource: str) -> dict[str, float]:
        entry = self.virgin.get(resource)
        return dict(entry.quality) if entry is not None else {}


def _data(eco: Any) -> _Data:
    resources = {r.id: r for r in eco.resources}
    virgin = {v.resource: v for v in eco.virgin}
    locations = {
        a.id: (a.location.lat, a.location.lon)
        for a in eco.actors
        if a.location is not None and a.location.lat is not None and a.location.lon is not None
    }
    return _Data(eco, list(eco.offers), list(eco.needs), resources, virgin, locations)


def _accepts(data: _Data, offer: Any, need: Any) -> str | None:
    """How the need accepts the offer's resource: 'same', 'substitute', or None."""
    if offer.resource in need.accepted:
        return "same"
    if any(r in data.resources[offer.resource].substitutes for r in need.accepted):
        return "substitute"
    return None


def candidates(
    eco: Any,
    *,
    max_distance_km: float | None = None,
    per_need: int | None = None,
) -> list[Candidate]:
    """Every feasible offer -> need pair, explained.

    A pair is feasible when the need accepts the offer's resource (the same resource, one
    listed in the need's ``resources``, or one that declares the need's resource among its
    ``substitutes``); when the offer's quality can serve the need, alone or diluted with
    virgin supply (linear mixing: the largest share ``(max - q_virgin) / (q_offer -
    q_virgin)``); when the supply patterns fit (a one-off offer cannot serve a continuous
    need alone); when both actors differ; and, with ``max_distance_km``, when they are
    that close (cluster mode; without it, ecosystem mode: no limit). Saving per unit =
    the need's virgin price + the offer's disposal cost - transport (``transport_cost`` x
    great-circle distance). ``per_need`` keeps the best candidates of each need by saving
    per unit (a documented pruning for very large ecosystems; off by default).
    """
    data = _data(eco)
    out: list[Candidate] = []
    by_resource: dict[str, list[int]] = {}
    for i, offer in enumerate(data.offers):
        by_resource.setdefault(offer.resource, []).append(i)
    for resource, offer_ids in by_resource.items():
        subs = set(data.resources[resource].substitutes)
        need_ids = [j for j, n in enumerate(data.needs) if resource in n.accepted or subs.intersection(n.accepted)]
        if need_ids:
            out.extend(_block(data, resource, offer_ids, need_ids, max_distance_km, per_need))
    if per_need is not None:
        grouped: dict[int, list[Candidate]] = {}
        for cand in out:
            grouped.setdefault(cand.need, []).append(cand)
        out = [c for group in grouped.values() for c in sorted(group, key=lambda c: -c.unit_saving)[:per_need]]
    out.sort(key=lambda c: (c.need, c.offer))
    return out


_PATTERN_CODE = {"continuous": 0, "seasonal": 1, "one-off": 2}
# offer pattern (row) x need pattern (column): may the offer serve the need alone?
_PATTERN_OK = np.array([[True, True, True], [False, True, True], [False, False, True]])


def _block(
    data: _Data,
    resource: str,
    offer_ids: list[int],
    need_ids: list[int],
    max_distance_km: float | None,
    per_need: int | None,
) -> list[Candidate]:
    """Candidates between the offers of one resource and the needs that accept it,
    computed as arrays (a million pairs in about a second)."""
    offers = [data.offers[i] for i in offer_ids]
    needs = [data.needs[j] for j in need_ids]
    props = sorted({p for n in needs for p in n.max_quality})
    nan = math.nan
    q = np.array([[float(o.quality.get(p, nan)) for p in props] for o in offers]).reshape(len(offers), len(props))
    limit = np.array([[float(n.max_quality.get(p, nan)) for p in props] for n in needs]).reshape(len(needs), len(props))
    vq = np.array([[float(data.virgin_quality(n.accepted[0]).get(p, 0.0)) for p in props] for n in needs]).reshape(
        len(needs), len(props)
    )
    supply = np.array([o.quantity for o in offers])
    demand = np.array([n.quantity for n in needs])
    disposal = np.array([float(o.disposal_cost or 0.0) for o in offers])
    price = np.array([data.need_price(j) for j in need_ids])
    o_pat = np.array([_PATTERN_CODE[o.supply_pattern] for o in offers])
    n_pat = np.array([_PATTERN_CODE[n.supply_pattern] for n in needs])
    o_actor = [o.actor for o in offers]
    n_actor = [n.actor for n in needs]
    actor_code = {a: k for k, a in enumerate(dict.fromkeys(o_actor + n_actor))}
    o_code = np.array([actor_code[a] for a in o_actor])
    n_code = np.array([actor_code[a] for a in n_actor])
    loc = data.locations
    o_ll = np.array([loc.get(a, (nan, nan)) for a in o_actor], dtype=float).reshape(len(offers), 2)
    n_ll = np.array([loc.get(a, (nan, nan)) for a in n_actor], dtype=float).reshape(len(needs), 2)
    rate = float(data.resources[resource].transport_cost or 0.0)
    same = np.array([resource in n.accepted for n in needs])
    out: list[Candidate] = []
    chunk = max(1, 2_000_000 // max(1, len(offers)))
    for start in range(0, len(needs), chunk):
        sl = slice(start, min(start + chunk, len(needs)))
        ok = _PATTERN_OK[o_pat[:, None], n_pat[None, sl]] & (o_code[:, None] != n_code[None, sl])
        share = np.ones(ok.shape)
        limiting = np.full(ok.shape, -1)
        for p in range(len(props)):
            lim = limit[sl, p][None, :]
            has_limit = ~np.isnan(lim)
            qq = q[:, p][:, None]
            v = vq[sl, p][None, :]
            unknown = has_limit & np.isnan(qq)
            over = has_limit & ~np.isnan(qq) & (qq > lim)
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                part = np.where(over, (lim - v) / (qq - v), 1.0)
            blocked = unknown | (over & (v >= lim))
            ok &= ~blocked
            smaller = over & ~blocked & (part < share)
            limiting = np.where(smaller, p, limiting)
            share = np.where(smaller, part, share)
        dist = great_circle_km(o_ll[:, 0][:, None], o_ll[:, 1][:, None], n_ll[sl, 0][None, :], n_ll[sl, 1][None, :])
        located = ~np.isnan(dist)
        if max_distance_km is not None:
            ok &= located & (dist <= max_distance_km)
        transport = np.where(located, rate * np.nan_to_num(dist), 0.0)
        upper = np.minimum(supply[:, None], demand[None, sl] * share)
        ok &= upper > 0
        saving = price[None, sl] + disposal[:, None] - transport
        if per_need is not None and per_need < ok.shape[0]:
            # keep each need's best offers before building any object
            score = np.where(ok, saving, -np.inf)
            best = np.argpartition(-score, per_need - 1, axis=0)[:per_need]
            cols = np.broadcast_to(np.arange(ok.shape[1]), best.shape)
            keep = np.zeros_like(ok)
            keep[best, cols] = True
            ok &= keep
        for a, b in zip(*np.nonzero(ok), strict=True):
            i, j = int(a), start + int(b)
            offer, need = offers[i], needs[j]
            d = float(dist[a, b]) if located[a, b] else None
            how = "" if same[j] else "a substitute for "
            why = f"{need.actor} needs {how}{need.accepted[0]}; {offer.actor} offers {offer.resource}"
            if share[a, b] >= 1.0:
                why += ", within every quality limit"
            sav = float(saving[a, b])
            t = float(transport[a, b])
            saves = f"{price[j]:g} virgin + {disposal[i]:g} disposal - {t:.4g} transport = {sav:.4g} per unit"
            limits = [f"offer {offer.quantity:g}", f"need {need.quantity:g}"]
            if share[a, b] < 1.0:
                limits.append(
                    f"at most {share[a, b]:.1%} of the need because of {props[int(limiting[a, b])]} (diluted with virgin supply)"
                )
            if d is not None:
                limits.append(f"{d:.1f} km apart")
            out.append(
                Candidate(
                    offer_ids[i],
                    need_ids[j],
                    offer.actor,
                    need.actor,
                    offer.resource,
                    float(upper[a, b]),
                    sav,
                    d,
                    t,
                    why,
                    saves,
                    "; ".join(limits),
                )
            )
    return out


# -- the plan ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Exchange:
    """One exchange of a plan."""

    source: str
    target: str
    resource: str
    quantity: float
    benefit: float
    offer: int
    need: int
    co2e_avoided: float

    def to_dict(self) -> dict[str, Any]:
        """The exchange as plain data (the ``match`` command's contract)."""
        return {
            "from": self.source,
            "to": self.target,
            "resource": self.resource,
            "quantity": self.quantity,
            "benefit": self.benefit,
        }


@dataclass(frozen=True)
class Plan:
    """An exchange plan and how well it is proven.

    ``primal`` is the solver's objective for the plan and ``bound`` the best value any
    plan could reach, as proven by the solver, both in the objective's own direction (for
    ``'benefit'`` and ``'co2e'``, maximised, ``bound >= primal``; for ``'virgin'``,
    minimised, ``bound <= primal``; with ``failure_probability`` they are expected
    benefits). ``gap`` is their relative distance; ``status`` is ``'optimal'`` when the
    solver proved the plan within its gap tolerance and ``'time limit'`` when it stopped
    first (the plan is then the best found, within ``gap`` of the best possible);
    ``time_s`` is the wall time of the whole plan (the time limit covers the preparation
    too). ``reductions`` says what was removed before solving (links that can never pay,
    rows implied by others) and how many links were given the row "an open link pays for
    itself" (``links_that_must_pay``); ``warm_start`` whether the solver started from a
    previous plan.
    """

    objective: str
    value: float
    exchanges: tuple[Exchange, ...]
    virgin: dict[str, float]
    discharge: dict[str, float]
    benefit: float
    co2e_avoided: float
    gap: float
    engine: str
    links_built: tuple[int, ...]
    notes: tuple[str, ...] = ()
    primal: float = math.nan
    bound: float = math.nan
    status: str = "optimal"
    time_s: float = 0.0
    reductions: dict[str, int] = field(default_factory=dict)
    warm_start: bool = False

    def solve_info(self) -> dict[str, Any]:
        """How the plan was solved and proven, as plain data (the ``solve`` entry of
        ``match --json`` and of the workbench's plan): status, gap, primal, bound (JSON
        ``null`` with a ``reason`` when no bound is known), time, engine, reductions."""
        info: dict[str, Any] = {
            "status": self.status,
            "gap": self.gap if math.isfinite(self.gap) else None,
            "primal": self.primal if math.isfinite(self.primal) else None,
            "bound": self.bound if math.isfinite(self.bound) else None,
            "time_s": self.time_s,
            "engine": self.engine,
            "reductions": dict(self.reductions),
            "warm_start": self.warm_start,
        }
        if info["gap"] is None or info["bound"] is None:
            info["reason"] = "the solver stopped before it proved any bound"
        return info

    def describe(self) -> str:
        """One line on how far the plan is proven (shown wherever the plan is)."""
        return describe_solve(self.solve_info())

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data, the plan part of ``match --json`` and of the
        workbench's plan: ``objective`` (the objective's value), ``objective_name``
        (``'benefit'``, ``'virgin'`` or ``'co2e'``), ``exchanges`` (``from``, ``to``,
        ``resource``, ``quantity``, ``benefit``), ``virgin`` and ``discharge`` per resource,
        ``benefit``, ``co2e_avoided`` (kg), ``gap``, ``engine``, ``solve``
        (:meth:`solve_info` with its ``text``) and ``notes``. Non-finite numbers are ``None``.
        """

        def number(value: float) -> float | None:
            return float(value) if math.isfinite(value) else None

        return {
            "objective": number(self.value),
            "objective_name": self.objective,
            "exchanges": [e.to_dict() for e in self.exchanges],
            "virgin": {k: number(v) for k, v in self.virgin.items()},
            "discharge": {k: number(v) for k, v in self.discharge.items()},
            "benefit": number(self.benefit),
            "co2e_avoided": number(self.co2e_avoided),
            "gap": number(self.gap),
            "engine": self.engine,
            "solve": {**self.solve_info(), "text": self.describe()},
            "notes": list(self.notes),
        }

    def to_frame(self) -> Any:
        """One row per exchange: ``from``, ``to``, ``resource``, ``quantity``, ``benefit``,
        ``co2e_avoided`` (kg), as a pandas DataFrame."""
        import pandas as pd

        columns = ["from", "to", "resource", "quantity", "benefit", "co2e_avoided"]
        rows = [(*e.to_dict().values(), e.co2e_avoided) for e in self.exchanges]
        return pd.DataFrame(rows, columns=columns).astype({"quantity": float, "benefit": float, "co2e_avoided": float})


def describe_solve(info: Mapping[str, Any]) -> str:
    """One line on how far a plan is proven, from :meth:`Plan.solve_info` (or a stored
    plan's ``solve`` entry; plans stored before it existed have only a gap).

    >>> describe_solve({"status": "optimal", "gap": 0.0, "engine": "highs", "time_s": 0.01})
    'optimal (proven gap 0.00%, highs, 0.0 s)'
    >>> describe_solve({"status": "time limit", "gap": 0.0069, "primal": 24.1e6, "bound": 24.27e6,
    ...                 "engine": "highs", "time_s": 60.0})
    'stopped at the time limit: proven gap 0.69% (plan 24,100,000, bound 24,270,000; highs, 60.0 s)'
    """
    gap = info.get("gap")
    gap_text = f"proven gap {gap:.2%}" if isinstance(gap, (int, float)) and math.isfinite(gap) else "no proven gap"
    engine = info.get("engine", "solver")
    time_s = info.get("time_s")
    when = f", {time_s:.1f} s" if isinstance(time_s, (int, float)) else ""
    if info.get("status", "optimal") == "optimal":
        return f"optimal ({gap_text}, {engine}{when})"
    primal, bound = info.get("primal"), info.get("bound")
    values = f"plan {primal:,.0f}, bound {bound:,.0f}; " if primal is not None and bound is not None else ""
    return f"stopped at the time limit: {gap_text} ({values}{engine}{when})"


@dataclass
class _Model:
    data: _Data
    cands: list[Candidate]
    links: list[tuple[int, Any]]  # (link index in document, link) used by some candidate
    link_of: list[int | None]  # per candidate: position in links or None
    saving: npt.NDArray[np.float64]
    co2: npt.NDArray[np.float64]
    co2_virgin: npt.NDArray[np.float64]  # per need: kg per unit of virgin supply
    notes: list[str]


def _co2_factors(
    data: _Data, cands: Sequence[Candidate]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], list[str]]:
    """CO2e avoided per unit of each candidate (kg), and per unit of virgin per need."""
    notes: list[str] = []
    freight = default_factor("freight")
    landfill = default_factor("landfill")
    used_defaults: set[str] = set()
    unknown_virgin: set[str] = set()

    def disposal(resource: str) -> float:
        r = data.resources[resource]
        if r.co2e_disposal is not None:
            return float(r.co2e_disposal)
        if r.kind == "material" and _is_tonnes(r.unit):
            used_defaults.add("landfill")
            return float(landfill["value"]) * _tonnes(r.unit)
        return 0.0

    def virgin(resource: str) -> float:
        r = data.resources[resource]
        if r.co2e_virgin is not None:
            return float(r.co2e_virgin)
        unknown_virgin.add(resource)
        return 0.0

    per_need = np.array([virgin(n.accepted[0]) for n in data.needs])
    out = np.zeros(len(cands))
    for k, c in enumerate(cands):
        r = data.resources[c.resource]
        transport = 0.0
        if c.distance_km is not None and r.kind == "material" and _is_tonnes(r.unit):
            used_defaults.add("freight")
            transport = float(freight["value"]) * c.distance_km * _tonnes(r.unit)
        out[k] = disposal(c.resource) + per_need[c.need] - transport
    for name in sorted(used_defaults):
        notes.append(
            f"default factor: {default_factor(name)['source']}, {default_factor(name)['value']} {default_factor(name)['unit']}"
        )
    if unknown_virgin:
        notes.append(
            "no co2e_virgin for "
            + ", ".join(sorted(unknown_virgin))
            + ": avoided virgin production is not counted for them"
        )
    return out, per_need, notes


def co2e_per_unit(eco: Any, cands: Sequence[Candidate]) -> tuple[list[float], list[str]]:
    """CO2e avoided per unit of each candidate (kg), counted as :func:`plan` and
    :func:`impacts` count it (avoided disposal + avoided virgin production - transport), and
    the notes on the factors used (defaults, resources without ``co2e_virgin``)."""
    per_unit, _, notes = _co2_factors(_data(eco), cands)
    return [float(x) for x in per_unit], notes


def _is_tonnes(unit: str) -> bool:
    try:
        units.conversion_factor(unit, "t")
    except RainforestError:
        return False
    return True


def _tonnes(unit: str) -> float:
    return units.conversion_factor(unit, "t")


def _model(eco: Any, max_distance_km: float | None, per_need: int | None) -> _Model:
    data = _data(eco)
    cands = candidates(eco, max_distance_km=max_distance_km, per_need=per_need)
    link_index: dict[tuple[str, str, str], int] = {}
    for li, link in enumerate(eco.links):
        link_index.setdefault((link.source, link.target, link.resource), li)
    links: list[tuple[int, Any]] = []
    position: dict[int, int] = {}
    link_of: list[int | None] = []
    all_links = list(eco.links)
    for cand in cands:
        found = link_index.get((cand.source, cand.target, cand.resource))
        if found is None:
            link_of.append(None)
            continue
        li = found
        if li not in position:
            position[li] = len(links)
            links.append((li, all_links[li]))
        link_of.append(position[li])
    saving = np.array([c.unit_saving for c in cands], dtype=np.float64)
    co2, co2_virgin, notes = _co2_factors(data, cands)
    notes = data.notes + notes
    unpriced = [j for j, n in enumerate(data.needs) if data.need_price(j) == 0.0]
    if unpriced:
        notes.append(
            f"{len(unpriced)} need(s) have no price (need, resource or virgin): their virgin supply is valued at 0"
        )
    return _Model(data, cands, links, link_of, saving, co2, co2_virgin, notes)


def _build(
    model: _Model,
    weights: npt.NDArray[np.float64],
    fixed_weight: float,
    virgin_weight: float,
    tight: bool = True,
    drop: npt.NDArray[np.bool_] | None = None,
    implied_rows: bool = False,
    must_pay: npt.NDArray[np.bool_] | None = None,
) -> tuple[MILP, int, int]:
    """Variables: x_k per candidate, v_j virgin per need, y_l per link (binary).

    Minimise ``-weights @ x + fixed_weight * fixed @ y + virgin_weight * sum(v)``.
    Rows: offer capacity, need met exactly, quality per need and property, link
    capacity (tight: sum of its candidates <= min(capacity, their bounds) y) and, per
    candidate on a link, ``x_k <= u_k y`` (the tightening that closes the big-M gap),
    and virgin availability per resource.

    ``drop`` marks candidates fixed at zero (from :func:`_never_pay`): they enter no row,
    and a link left with none is fixed closed. The per-candidate row is left out where
    the link's row already implies it (``u_k >` the link's bound, always so on a link
    with one candidate, where the two rows are the same row) unless ``implied_rows``.

    ``must_pay`` marks links (positions in ``model.links``) that get the row "an open
    link pays for itself", ``weights @ x_link >= fixed_weight * fixed * y`` (from
    :func:`_must_pay`; only for links with a fixed cost).
    """
    data, cands = model.data, model.cands
    nk, nj, nl = len(cands), len(data.needs), len(model.links)
    nvar = nk + nj + nl
    off = np.zeros(nk, dtype=bool) if drop is None else drop
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []

    def row(entries: Sequence[tuple[int, float]], lower: float, upper: float) -> None:
        r = len(lo)
        for col, val in entries:
            rows.append(r)
            cols.append(col)
            vals.append(val)
        lo.append(lower)
        hi.append(upper)

    by_offer: dict[int, list[int]] = {}
    by_need: dict[int, list[int]] = {}
    by_link: dict[int, list[int]] = {}
    for k, c in enumerate(cands):
        if off[k]:
            continue
        by_offer.setdefault(c.offer, []).append(k)
        by_need.setdefault(c.need, []).append(k)
        if model.link_of[k] is not None:
            by_link.setdefault(int(model.link_of[k]), []).append(k)  # type: ignore[arg-type]
    for i, ks in by_offer.items():
        row([(k, 1.0) for k in ks], -math.inf, data.offers[i].quantity)
    for j, need in enumerate(data.needs):
        row([(k, 1.0) for k in by_need.get(j, [])] + [(nk + j, 1.0)], need.quantity, need.quantity)
        vq = data.virgin_quality(need.accepted[0])
        for prop, limit in need.max_quality.items():
            entries = [(k, float(data.offers[cands[k].offer].quality[prop]) - limit) for k in by_need.get(j, [])]
            entries.append((nk + j, float(vq.get(prop, 0.0)) - limit))
            row(entries, -math.inf, 0.0)
    big_m = float(sum(o.quantity for o in data.offers))
    for pos, ks in by_link.items():
        link = model.links[pos][1]
        capacity = float(link.capacity) if link.capacity is not None else math.inf
        if not tight:  # the textbook big-M: one global M (kept to measure against)
            row([(k, 1.0) for k in ks] + [(nk + nj + pos, -big_m)], -math.inf, 0.0)
            if math.isfinite(capacity):
                row([(k, 1.0) for k in ks], -math.inf, capacity)
            continue
        cap = min(capacity, sum(cands[k].upper for k in ks))
        row([(k, 1.0) for k in ks] + [(nk + nj + pos, -cap)], -math.inf, 0.0)
        for k in ks:
            if implied_rows or cands[k].upper < cap:
                row([(k, 1.0), (nk + nj + pos, -min(cands[k].upper, cap))], -math.inf, 0.0)
        charge = fixed_weight * float(link.fixed_cost or 0.0)
        if must_pay is not None and must_pay[pos] and charge > 0:
            row([(k, float(weights[k])) for k in ks] + [(nk + nj + pos, -charge)], 0.0, math.inf)
    for resource, entry in data.virgin.items():
        if entry.available is not None:
            js = [j for j, n in enumerate(data.needs) if n.accepted[0] == resource]
            if js:
                row([(nk + j, 1.0) for j in js], -math.inf, float(entry.available))
    A = sp.csr_array((vals, (rows, cols)), shape=(len(lo), nvar))
    cost = np.zeros(nvar)
    cost[:nk] = -weights
    cost[nk : nk + nj] = virgin_weight
    fixed = np.array([float(link.fixed_cost or 0.0) for _, link in model.links])
    cost[nk + nj :] = fixed_weight * fixed
    lower = np.zeros(nvar)
    upper = np.concatenate([[cand.upper for cand in cands], [n.quantity for n in data.needs], np.ones(nl)])
    upper[:nk][off] = 0.0
    if nl:
        open_links = np.zeros(nl, dtype=bool)
        open_links[list(by_link)] = True
        upper[nk + nj :][~open_links] = 0.0
    integer = np.zeros(nvar, dtype=bool)
    integer[nk + nj :] = True
    return MILP(cost, A, np.array(lo), np.array(hi), lower, upper, integer), nk, nj


_START_FROM = 100  # binaries from which plan() computes a start of its own


def _implied_rows(model: _Model, drop: npt.NDArray[np.bool_] | None) -> int:
    """How many per-candidate rows :func:`_build` leaves out as implied by their link's row."""
    by_link: dict[int, list[int]] = {}
    for k, pos in enumerate(model.link_of):
        if pos is not None and (drop is None or not drop[k]):
            by_link.setdefault(pos, []).append(k)
    count = 0
    for pos, ks in by_link.items():
        link = model.links[pos][1]
        capacity = float(link.capacity) if link.capacity is not None else math.inf
        cap = min(capacity, sum(model.cands[k].upper for k in ks))
        count += sum(1 for k in ks if model.cands[k].upper >= cap)
    return count


def _never_pay(model: _Model, weights: npt.NDArray[np.float64], fixed_weight: float) -> npt.NDArray[np.bool_]:
    """Candidates no optimal plan needs: those on links that can never pay.

    A link can never pay when the most its exchanges could earn (their savings filled
    greedily up to the link's capacity and each one's largest quantity, offers and needs
    ignored: an upper bound) is at most the link's fixed cost; a candidate without a link
    never pays when it saves nothing. Dropping them keeps an optimal plan, provided any
    exchange of theirs could be replaced by virgin supply: the virgin supply of the need's
    resource is unbounded, and it is within the need's limits and at least as clean as the
    offer on every property (else the exchange may be what dilutes a dirtier one). Valid
    for objectives without a virgin term (benefit, CO2e)."""
    cands = model.cands
    drop = np.zeros(len(cands), dtype=bool)
    replaceable = _replaceable(model)
    by_link: dict[int, list[int]] = {}
    for k in range(len(cands)):
        if model.link_of[k] is None:
            drop[k] = replaceable[k] and weights[k] <= 0
        else:
            by_link.setdefault(int(model.link_of[k]), []).append(k)  # type: ignore[arg-type]
    for pos, ks in by_link.items():
        if not all(replaceable[k] for k in ks):
            continue
        link = model.links[pos][1]
        room = float(link.capacity) if link.capacity is not None else math.inf
        most = 0.0
        for k in sorted(ks, key=lambda k: -weights[k]):
            if weights[k] <= 0 or room <= 0:
                break
            q = min(cands[k].upper, room)
            most += weights[k] * q
            room -= q
        if most <= fixed_weight * float(link.fixed_cost or 0.0):
            drop[ks] = True
    return drop


def _replaceable(model: _Model) -> npt.NDArray[np.bool_]:
    """Per candidate: could virgin supply take its place in any plan? Yes when the
    virgin supply of the need's resource is unbounded, within the need's limits and at
    least as clean as the offer on every property the need limits."""
    data = model.data
    out = np.zeros(len(model.cands), dtype=bool)
    for k, c in enumerate(model.cands):
        need = data.needs[c.need]
        entry = data.virgin.get(need.accepted[0])
        if entry is not None and entry.available is not None:
            continue
        vq = data.virgin_quality(need.accepted[0])
        quality = data.offers[c.offer].quality
        out[k] = all(
            float(vq.get(p, 0.0)) <= limit and float(vq.get(p, 0.0)) <= float(quality.get(p, math.inf))
            for p, limit in need.max_quality.items()
        )
    return out


def _must_pay(model: _Model, drop: npt.NDArray[np.bool_] | None) -> npt.NDArray[np.bool_]:
    """Links (positions in ``model.links``) that pay for themselves in every optimal plan:
    their exchanges earn at least the link's fixed cost when it is open.

    If an open link earned less, closing it and buying its quantities as virgin supply
    would give a better plan, so no optimal plan has such a link, provided every exchange
    on it can be replaced that way (:func:`_replaceable`). The row this allows (in
    :func:`_build`) cuts off no optimal plan, only plans no optimum needs; it tells HiGHS
    that an open link carries at least ``fixed cost / saving``, which its cuts and
    heuristics use (bench/bench_exchanges.py ``--compare``: a better plan and bound in the
    same time). Valid for objectives without a virgin term (benefit, CO2e)."""
    replaceable = _replaceable(model)
    keep = np.ones(len(model.cands), dtype=bool) if drop is None else ~drop
    out = np.zeros(len(model.links), dtype=bool)
    seen = np.zeros(len(model.links), dtype=bool)
    for k, pos in enumerate(model.link_of):
        if pos is None or not keep[k]:
            continue
        out[pos] = replaceable[k] if not seen[pos] else out[pos] and replaceable[k]
        seen[pos] = True
    return out


def _fixed_links(problem: MILP, nk: int, nj: int, links_on: npt.NDArray[np.bool_], lp: HighsSolver) -> Solution | None:
    """The best plan on a given set of links (the binaries fixed, an LP): a feasible
    start for the branch-and-bound, or None when no plan on these links meets every
    need."""
    on = links_on & (problem.upper[nk + nj :] > 0.5)
    lower, upper = problem.lower.copy(), problem.upper.copy()
    lower[nk + nj :] = on
    upper[nk + nj :] = on
    fixed = MILP(
        problem.c, problem.A, problem.row_lower, problem.row_upper, lower, upper, np.zeros_like(problem.integer)
    )
    try:
        return lp.solve(fixed)
    except SolverError:
        return None


def _cand_links(model: _Model) -> npt.NDArray[np.int64]:
    """Per candidate: the position of its link in ``model.links``, or -1."""
    return np.array([-1 if p is None else p for p in model.link_of], dtype=np.int64)


def _rounded_start(problem: MILP, nk: int, nj: int, link_of: Sequence[int | None], lp: HighsSolver) -> Solution | None:
    """A good first plan from the LP relaxation: open every link the relaxation uses,
    solve the LP on those links, close the links whose exchanges then earn less than
    their fixed cost (:func:`_polish`), then open the links the plan would gain from
    (:func:`_improve`). On the bench's 50 x 50 market this start was the best plan HiGHS
    had after 60 s on a loaded machine (seed 2: 23.33 M against 22.86 M without it, same
    load)."""
    relaxed = MILP(
        problem.c,
        problem.A,
        problem.row_lower,
        problem.row_upper,
        problem.lower,
        problem.upper,
        np.zeros_like(problem.integer),
    )
    try:
        root = lp.solve(relaxed)
    except SolverError:
        return None
    nl = problem.c.size - nk - nj
    cand_link = np.array([-1 if p is None else p for p in link_of], dtype=np.int64)
    on_link = cand_link >= 0
    links_on = np.zeros(nl, dtype=bool)
    links_on[cand_link[on_link & (root.x[:nk] > 1e-9)]] = True
    best = _polish(problem, nk, nj, cand_link, links_on, lp)
    return _improve(problem, nk, nj, cand_link, best, lp)


def _improve(
    problem: MILP,
    nk: int,
    nj: int,
    cand_link: npt.NDArray[np.int64],
    best: Solution | None,
    lp: HighsSolver,
    rounds: int = 8,
) -> Solution | None:
    """Open links the plan would gain from: the LP relaxation with the plan's links
    already paid for (their binaries fixed open) shows which other links are worth part
    of their fixed cost next to them; open those, polish, and keep the result while it is
    better."""
    on_link = cand_link >= 0
    nl = problem.c.size - nk - nj
    for _ in range(rounds):
        if best is None:
            return None
        links_on = best.x[nk + nj :] > 0.5
        lower = problem.lower.copy()
        lower[nk + nj :] = links_on
        relaxed = dataclasses.replace(problem, lower=lower, integer=np.zeros_like(problem.integer), start=None)
        try:
            guide = lp.solve(relaxed)
        except SolverError:
            return best
        wanted = np.zeros(nl, dtype=bool)
        wanted[cand_link[on_link & (guide.x[:nk] > 1e-9)]] = True
        if not (wanted & ~links_on).any():
            return best
        trial = _polish(problem, nk, nj, cand_link, links_on | wanted, lp)
        if trial is None or trial.objective >= best.objective - 1e-9 * abs(best.objective):
            return best
        best = trial
    return best


def _polish(
    problem: MILP,
    nk: int,
    nj: int,
    cand_link: npt.NDArray[np.int64],
    links_on: npt.NDArray[np.bool_],
    lp: HighsSolver,
) -> Solution | None:
    """The best plan on ``links_on``, then closing the links whose exchanges earn less
    than their fixed cost, while that improves the plan."""
    on_link = cand_link >= 0
    nl = problem.c.size - nk - nj
    best = _fixed_links(problem, nk, nj, links_on, lp)
    for _ in range(10):
        if best is None:
            return None
        earned = np.zeros(nl)
        np.add.at(earned, cand_link[on_link], -problem.c[:nk][on_link] * best.x[:nk][on_link])
        losing = links_on & (earned < problem.c[nk + nj :] - 1e-9)
        if not losing.any():
            break
        trial = _fixed_links(problem, nk, nj, links_on & ~losing, lp)
        if trial is None or trial.objective >= best.objective - 1e-9 * abs(best.objective):
            break
        best, links_on = trial, links_on & ~losing
    return best


def _diagnose(model: _Model) -> str:
    """Which needs no supply can meet, and why."""
    data = model.data
    reasons = []
    for j, need in enumerate(data.needs):
        resource = need.accepted[0]
        vq = data.virgin_quality(resource)
        dirty = [p for p, limit in need.max_quality.items() if float(vq.get(p, 0.0)) > limit]
        offers = [c for c in model.cands if c.need == j]
        if dirty and not offers:
            reasons.append(
                f"needs[{j}] ({need.actor}, {resource}): quality: the virgin supply exceeds its limit on {', '.join(dirty)} "
                "and no offer within reach is clean enough"
            )
    for resource, entry in data.virgin.items():
        if entry.available is None:
            continue
        demand = sum(n.quantity for n in data.needs if n.accepted[0] == resource)
        supply = sum(c.upper for c in model.cands if data.needs[c.need].accepted[0] == resource)
        if demand > float(entry.available) + supply:
            reasons.append(
                f"{resource}: quantity: needs of {demand:g} exceed virgin available {float(entry.available):g} "
                f"plus offers within reach {supply:g}"
            )
    return "; ".join(reasons) or "the constraints cannot all hold (check virgin availability and link capacities)"


def plan(
    eco: Any,
    objective: Objective = "benefit",
    *,
    max_distance_km: float | None = None,
    per_need: int | None = None,
    solver: Solver | None = None,
    failure_probability: float = 0.0,
    formulation: Formulation = "tight",
    previous: Plan | Mapping[str, Any] | None = None,
    presolve: bool = True,
    must_pay: bool = True,
) -> Plan:
    """The optimal exchange plan.

    Parameters
    ----------
    objective:
        ``'benefit'`` (net money per period), ``'virgin'`` (least virgin supply, then most
        benefit) or ``'co2e'`` (most CO2e avoided).
    max_distance_km:
        Cluster mode: only partners this close. ``None``: ecosystem mode.
    per_need:
        Keep the best candidates of each need (pruning for very large ecosystems).
    solver:
        Any :class:`Solver`; HiGHS by default.
    failure_probability:
        With ``p > 0`` the plan maximises the *expected* benefit when each partner fails
        independently with probability ``p`` (an exchange survives with ``(1 - p)^2``;
        link investments are paid regardless): the more robust plan.
    formulation:
        ``'tight'`` (default) bounds each exchange on a link by its own largest quantity
        times the link's binary (``x_k <= u_k y``) and the link by its capacity: the LP
        relaxation is then close to the integer optimum. ``'big-m'`` is the textbook
        form with one large M, kept to show the difference (``bench/bench_exchanges.py``).
    previous:
        A plan made before (a :class:`Plan`, or its JSON form: ``match --json`` output or
        the workbench's plan, anything with ``exchanges`` of ``from``, ``to``,
        ``resource``): the solver starts from the best plan on the links the previous
        plan built (its quantities re-optimised for today's offers and needs), so the
        answer is never worse than the previous plan, when that plan is still feasible.
        Compare the two with :func:`diff`.
    presolve:
        Before solving, drop the links that can never pay (their largest saving is at
        most their fixed cost; see :func:`_never_pay`) and rows implied by others, and
        start from a plan rounded from the LP relaxation. The plan is the same; off only
        to check that.
    must_pay:
        With ``presolve``, tell the solver that an open link pays for itself (its
        exchanges earn at least its fixed cost: true of every optimal plan when virgin
        supply could replace them; see :func:`_must_pay`). The best plan is the same; the
        solver finds it sooner and proves more in the same time; off only to measure that.

    Raises
    ------
    PlanError
        When no plan meets every need, naming the needs and why.
    """
    check_choice("objective", objective, Objective, where="plan")
    check_choice("formulation", formulation, Formulation, where="plan")
    started = time.perf_counter()
    engine = solver or HighsSolver()
    # the LPs of the warm starts run on the engine's HiGHS settings (one thread pool per process)
    lp = engine if isinstance(engine, HighsSolver) else HighsSolver()
    model = _model(eco, max_distance_km, per_need)
    survive = (1.0 - failure_probability) ** 2
    if objective == "benefit":
        weights, fixed_weight, virgin_weight = model.saving * survive, 1.0, 0.0
    elif objective == "co2e":
        weights, fixed_weight, virgin_weight = model.co2, 0.0, 0.0
    else:
        scale = 1.0 + float(np.abs(model.saving).sum())
        weights, fixed_weight, virgin_weight = model.saving / scale * 1e-3, 1e-3 / scale, 1.0
    reduce = presolve and formulation == "tight"
    drop = _never_pay(model, weights, fixed_weight) if reduce and virgin_weight == 0.0 else None
    problem, nk, nj = _build(
        model, weights, fixed_weight, virgin_weight, tight=formulation == "tight", drop=drop, implied_rows=not reduce
    )
    reductions: dict[str, int] = {}
    # the starts are found on the problem without the rows "an open link pays for itself"
    # (an LP on fixed links must be free to leave a link idle); the engine gets them
    pays = _must_pay(model, drop) if reduce and virgin_weight == 0.0 and fixed_weight > 0 and must_pay else None
    paying, _, _ = (
        _build(model, weights, fixed_weight, virgin_weight, drop=drop, must_pay=pays)
        if pays is not None and pays.any()
        else (problem, nk, nj)
    )
    if reduce:
        dropped_links = {model.link_of[k] for k in np.flatnonzero(drop).tolist()} if drop is not None else set()
        reductions = {
            "links_that_never_pay": len(dropped_links - {None}),
            "candidates_dropped": int(drop.sum()) if drop is not None else 0,
            "implied_rows": _implied_rows(model, drop),
            "links_that_must_pay": paying.A.shape[0] - problem.A.shape[0],
        }
    start: Solution | None = None
    warm = False
    if previous is not None and problem.integer.any():
        # the previous plan's links, less those that now earn less than they cost
        start = _polish(problem, nk, nj, _cand_links(model), _links_of(model, previous), lp)
        warm = start is not None
    if reduce and problem.integer.sum() >= _START_FROM:  # smaller ones HiGHS solves before a start would pay
        rounded = _rounded_start(problem, nk, nj, model.link_of, lp)
        if rounded is not None and (start is None or rounded.objective < start.objective):
            start = rounded
    problem = paying
    if start is not None:
        problem = MILP(
            problem.c,
            problem.A,
            problem.row_lower,
            problem.row_upper,
            problem.lower,
            problem.upper,
            problem.integer,
            start.x,
        )
    if isinstance(engine, HighsSolver):  # the time limit is for the whole plan, preparation included
        spent = time.perf_counter() - started
        engine = dataclasses.replace(engine, time_limit_s=max(0.1 * engine.time_limit_s, engine.time_limit_s - spent))
    try:
        solution = engine.solve(problem)
    except SolverError as exc:
        if exc.status == "infeasible":
            raise PlanError(f"no exchange plan meets every need: {_diagnose(model)}") from None
        raise
    solution = dataclasses.replace(solution, time_s=time.perf_counter() - started)
    if start is not None and start.objective < solution.objective - 1e-9 * max(1.0, abs(start.objective)):
        # an engine that ignored the start, or rejected it within its tolerances: keep the
        # better plan (the proven bound stays the engine's)
        gap = (start.objective - solution.bound) / max(1e-9, abs(start.objective))
        solution = Solution(
            start.x, start.objective, max(0.0, gap), solution.bound, solution.status, solution.engine, solution.time_s
        )
    return _plan_from(model, solution, nk, nj, objective, reductions, warm)


def _links_of(model: _Model, previous: Plan | Mapping[str, Any]) -> npt.NDArray[np.bool_]:
    """The links (positions in the model) a previous plan used: those of its exchanges'
    supplier, receiver and resource."""
    used = {(e["from"], e["to"], e["resource"]) for e in _exchange_dicts(previous)}
    on = np.zeros(len(model.links), dtype=bool)
    for k, c in enumerate(model.cands):
        pos = model.link_of[k]
        if pos is not None and (c.source, c.target, c.resource) in used:
            on[pos] = True
    return on


def _exchange_dicts(result: Plan | Mapping[str, Any]) -> list[dict[str, Any]]:
    if isinstance(result, Plan):
        return [e.to_dict() for e in result.exchanges]
    rows = result.get("exchanges")
    if not isinstance(rows, list) or not all(
        isinstance(e, Mapping) and {"from", "to", "resource", "quantity"} <= set(e) for e in rows
    ):
        raise PlanError(
            "a previous plan must have 'exchanges', a list of objects with 'from', 'to', 'resource' and 'quantity' "
            "(the output of `rainforest match --json` or the workbench's plan)"
        )
    return [dict(e) for e in rows]


def _plan_from(
    model: _Model,
    solution: Solution,
    nk: int,
    nj: int,
    objective: str,
    reductions: Mapping[str, int] | None = None,
    warm: bool = False,
) -> Plan:
    data = model.data
    x = np.where(solution.x[:nk] > 1e-9, solution.x[:nk], 0.0)
    v = np.where(solution.x[nk : nk + nj] > 1e-9, solution.x[nk : nk + nj], 0.0)
    y = np.round(solution.x[nk + nj :])
    exchanges = []
    for k in np.flatnonzero(x > 0).tolist():
        c = model.cands[k]
        exchanges.append(
            Exchange(
                c.source,
                c.target,
                c.resource,
                float(x[k]),
                float(x[k] * model.saving[k]),
                c.offer,
                c.need,
                float(x[k] * model.co2[k]),
            )
        )
    fixed = sum(float(link.fixed_cost or 0.0) for (_, link), built in zip(model.links, y, strict=True) if built)
    benefit = float(sum(e.benefit for e in exchanges) - fixed)
    virgin: dict[str, float] = {}
    for j, need in enumerate(data.needs):
        virgin[need.accepted[0]] = virgin.get(need.accepted[0], 0.0) + float(v[j])
    used = np.zeros(len(data.offers))
    for e in exchanges:
        used[e.offer] += e.quantity
    discharge: dict[str, float] = {}
    for i, offer in enumerate(data.offers):
        discharge[offer.resource] = discharge.get(offer.resource, 0.0) + max(0.0, offer.quantity - float(used[i]))
    co2 = float(sum(e.co2e_avoided for e in exchanges))
    value = {"benefit": benefit, "co2e": co2, "virgin": float(sum(virgin.values()))}[objective]
    built = tuple(model.links[i][0] for i in np.flatnonzero(y > 0).tolist())
    sign = 1.0 if objective == "virgin" else -1.0  # benefit and CO2e are maximised (the MILP minimises)
    return Plan(
        objective,
        value,
        tuple(exchanges),
        virgin,
        discharge,
        benefit,
        co2,
        solution.gap,
        solution.engine,
        built,
        tuple(model.notes),
        primal=sign * solution.objective,
        bound=sign * solution.bound,
        status=solution.status,
        time_s=solution.time_s,
        reductions=dict(reductions or {}),
        warm_start=warm,
    )


def evaluate(eco: Any, agreed: Sequence[tuple[str, str, str, float]]) -> tuple[Plan, list[dict[str, Any]]]:
    """Value exchanges that were agreed rather than optimised (the workbench's active
    proposals): each ``(from, to, resource, quantity)`` is matched with the candidate of the
    same supplier, receiver and resource and valued as a plan values it (saving and CO2e per
    unit; the fixed cost of a link it needs is counted once). Returns the plan, to pass to
    :func:`impacts`, and the exchanges that could not be valued with the reason (no matching
    offer and need in the document: nothing to compare with)."""
    model = _model(eco, None, None)
    index: dict[tuple[str, str, str], int] = {}
    for k, c in enumerate(model.cands):
        key = (c.source, c.target, c.resource)
        if key not in index or model.saving[k] > model.saving[index[key]]:
            index[key] = k
    exchanges: list[Exchange] = []
    skipped: list[dict[str, Any]] = []
    links: set[int] = set()
    for source, target, resource, quantity in agreed:
        found = index.get((source, target, resource))
        if found is None:
            skipped.append(
                {
                    "from": source,
                    "to": target,
                    "resource": resource,
                    "quantity": quantity,
                    "reason": "no offer of the supplier and need of the receiver for this resource in the document",
                }
            )
            continue
        k = found
        c = model.cands[k]
        exchanges.append(
            Exchange(
                source,
                target,
                resource,
                float(quantity),
                float(quantity * model.saving[k]),
                c.offer,
                c.need,
                float(quantity * model.co2[k]),
            )
        )
        if model.link_of[k] is not None:
            links.add(int(model.link_of[k]))  # type: ignore[arg-type]
    fixed = sum(float(model.links[i][1].fixed_cost or 0.0) for i in links)
    benefit = float(sum(e.benefit for e in exchanges) - fixed)
    co2 = float(sum(e.co2e_avoided for e in exchanges))
    plan = Plan(
        "agreed",
        benefit,
        tuple(exchanges),
        {},
        {},
        benefit,
        co2,
        0.0,
        "agreed",
        tuple(model.links[i][0] for i in sorted(links)),
        tuple(model.notes),
    )
    return plan, skipped


# -- what changed between two plans ------------------------------------------------------
@dataclass(frozen=True)
class PlanDiff:
    """What changed between two plans, exchange by exchange (an exchange is its supplier,
    receiver and resource; quantities of the same three are added up).

    ``added`` and ``removed`` are ``(from, to, resource, quantity)``; ``changed`` is
    ``(from, to, resource, before, after)`` for quantities that moved by more than the
    relative tolerance; ``unchanged`` counts the others. ``benefit_before`` and
    ``benefit_after`` are the plans' net benefits (``None`` when a plan does not say).
    """

    added: tuple[tuple[str, str, str, float], ...]
    removed: tuple[tuple[str, str, str, float], ...]
    changed: tuple[tuple[str, str, str, float, float], ...]
    unchanged: int
    benefit_before: float | None
    benefit_after: float | None

    @property
    def same(self) -> bool:
        """True when no exchange was added, removed or changed."""
        return not (self.added or self.removed or self.changed)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the ``changes`` entry of ``match --previous ... --json``)."""
        return {
            "added": [{"from": a, "to": b, "resource": r, "quantity": q} for a, b, r, q in self.added],
            "removed": [{"from": a, "to": b, "resource": r, "quantity": q} for a, b, r, q in self.removed],
            "changed": [
                {"from": a, "to": b, "resource": r, "before": q0, "after": q1} for a, b, r, q0, q1 in self.changed
            ],
            "unchanged": self.unchanged,
            "benefit_before": self.benefit_before,
            "benefit_after": self.benefit_after,
        }

    def lines(self) -> list[str]:
        """The changes in words, one per line (the board and ``match`` show them)."""
        if self.same:
            out = [f"same exchanges as the previous plan ({self.unchanged})"]
        else:
            out = [f"added {a} -> {b} ({r}) {q:,.6g}" for a, b, r, q in self.added]
            out += [f"removed {a} -> {b} ({r}) {q:,.6g}" for a, b, r, q in self.removed]
            out += [f"changed {a} -> {b} ({r}) {q0:,.6g} -> {q1:,.6g}" for a, b, r, q0, q1 in self.changed]
            out.append(f"{self.unchanged} exchange(s) unchanged")
        if self.benefit_before is not None and self.benefit_after is not None:
            out.append(
                f"net benefit {self.benefit_before:,.0f} -> {self.benefit_after:,.0f} "
                f"({self.benefit_after - self.benefit_before:+,.0f})"
            )
        return out


def diff(previous: Plan | Mapping[str, Any], current: Plan | Mapping[str, Any], *, rtol: float = 1e-6) -> PlanDiff:
    """What changed from ``previous`` to ``current``: exchanges added, removed, and whose
    quantity changed by more than ``rtol`` (relative). Each plan is a :class:`Plan` or its
    JSON form (``match --json`` output, the workbench's plan).

    >>> before = {"exchanges": [{"from": "a", "to": "b", "resource": "ash", "quantity": 10.0},
    ...                         {"from": "c", "to": "b", "resource": "ash", "quantity": 5.0}]}
    >>> after = {"exchanges": [{"from": "a", "to": "b", "resource": "ash", "quantity": 12.0},
    ...                        {"from": "c", "to": "d", "resource": "ash", "quantity": 5.0}]}
    >>> diff(before, after).lines()
    ['added c -> d (ash) 5', 'removed c -> b (ash) 5', 'changed a -> b (ash) 10 -> 12', '0 exchange(s) unchanged']
    """

    def totals(result: Plan | Mapping[str, Any]) -> dict[tuple[str, str, str], float]:
        out: dict[tuple[str, str, str], float] = {}
        for e in _exchange_dicts(result):
            key = (str(e["from"]), str(e["to"]), str(e["resource"]))
            out[key] = out.get(key, 0.0) + float(e["quantity"])
        return out

    def benefit(result: Plan | Mapping[str, Any]) -> float | None:
        if isinstance(result, Plan):
            return result.benefit
        value = result.get("benefit")
        return float(value) if isinstance(value, (int, float)) else None

    before, after = totals(previous), totals(current)
    added = tuple((*k, after[k]) for k in sorted(after.keys() - before.keys()))
    removed = tuple((*k, before[k]) for k in sorted(before.keys() - after.keys()))
    changed = tuple(
        (*k, before[k], after[k])
        for k in sorted(before.keys() & after.keys())
        if abs(after[k] - before[k]) > rtol * max(abs(before[k]), abs(after[k]), 1e-12)
    )
    unchanged = len(before.keys() & after.keys()) - len(changed)
    return PlanDiff(added, removed, changed, unchanged, benefit(previous), benefit(current))


# -- impacts -----------------------------------------------------------------------------
def impacts(eco: Any, result: Plan) -> dict[str, Any]:
    """What the plan changes per period, per exchange, per actor and in total.

    - ``disposal_diverted``: quantity no longer disposed of (in tonnes where the resource
      is measured in a mass unit);
    - ``virgin_saved``: virgin supply replaced, per resource in its unit (the receiver's side);
    - ``co2e_avoided_kg``: avoided disposal + avoided virgin production - transport;
    - ``water_saved``: quantities of resources of kind water (m**3 where convertible);
    - ``money_saved``: the exchange's net benefit (fixed link costs in the total only).
    """
    data = _data(eco)
    rows = []
    per_actor: dict[str, dict[str, float]] = {}
    totals = {"disposal_diverted_t": 0.0, "co2e_avoided_kg": 0.0, "water_saved_m3": 0.0, "money_saved": 0.0}
    virgin_saved: dict[str, float] = {}
    for e in result.exchanges:
        r = data.resources[e.resource]
        tonnes = e.quantity * _tonnes(r.unit) if _is_tonnes(r.unit) else 0.0
        water = 0.0
        if r.kind == "water":
            try:
                water = e.quantity * units.conversion_factor(r.unit, "m**3")
            except RainforestError:
                water = 0.0
        row = {
            "from": e.source,
            "to": e.target,
            "resource": e.resource,
            "quantity": e.quantity,
            "disposal_diverted_t": tonnes,
            "virgin_saved": e.quantity,
            "co2e_avoided_kg": e.co2e_avoided,
            "water_saved_m3": water,
            "money_saved": e.benefit,
        }
        rows.append(row)
        for actor in (e.source, e.target):
            bucket = per_actor.setdefault(actor, dict.fromkeys(totals, 0.0))
            for key in totals:
                bucket[key] += float(row[key]) / 2  # type: ignore[arg-type]  # each side is credited half
        for key in totals:
            totals[key] += float(row[key])  # type: ignore[arg-type]
        virgin_saved[e.resource] = virgin_saved.get(e.resource, 0.0) + e.quantity
    fixed = result.benefit - sum(e.benefit for e in result.exchanges)
    totals["money_saved"] += fixed
    total: dict[str, Any] = dict(totals)
    total["virgin_saved"] = virgin_saved  # per resource, in its own unit
    return {"exchanges": rows, "actors": per_actor, "total": total, "period": eco.period, "notes": list(result.notes)}


# -- money against CO2e, risk and sharing ------------------------------------------------------
def pareto(
    eco: Any, points: int = 6, *, max_distance_km: float | None = None, solver: Solver | None = None
) -> list[dict[str, float]]:
    """The epsilon-constraint front between net benefit and CO2e avoided.

    From the most profitable plan to the one that avoids most CO2e, ``points`` plans that
    maximise benefit while avoiding at least a given amount of CO2e.
    """
    engine = solver or HighsSolver()
    model = _model(eco, max_distance_km, None)
    richest = plan(eco, "benefit", max_distance_km=max_distance_km, solver=engine)
    greenest = plan(eco, "co2e", max_distance_km=max_distance_km, solver=engine)
    front = []
    for eps in np.linspace(richest.co2e_avoided, greenest.co2e_avoided, points):
        problem, nk, nj = _build(model, model.saving, 1.0, 0.0)
        extra = np.zeros(problem.c.size)
        extra[:nk] = model.co2
        A = sp.vstack([problem.A, sp.csr_array(extra[None, :])]).tocsr()
        constrained = MILP(
            problem.c,
            A,
            np.append(problem.row_lower, eps * (1 - 1e-9) - 1e-9),
            np.append(problem.row_upper, math.inf),
            problem.lower,
            problem.upper,
            problem.integer,
        )
        result = _plan_from(model, engine.solve(constrained), nk, nj, "benefit")
        front.append({"co2e_avoided_kg": result.co2e_avoided, "benefit": result.benefit})
    return front


def expected_benefit(result: Plan, failure_probability: float) -> dict[str, Any]:
    """Expected benefit of a fixed plan when each partner fails independently with
    probability ``p``: an exchange pays only if both its ends survive (``(1 - p)^2``),
    link investments are paid regardless. Per participant: half of each of its exchanges'
    expected benefit."""
    survive = (1.0 - failure_probability) ** 2
    fixed = result.benefit - sum(e.benefit for e in result.exchanges)
    per_actor: dict[str, float] = {}
    for e in result.exchanges:
        for actor in (e.source, e.target):
            per_actor[actor] = per_actor.get(actor, 0.0) + e.benefit * survive / 2
    return {"expected_benefit": sum(e.benefit for e in result.exchanges) * survive + fixed, "actors": per_actor}


def share_gains(
    eco: Any,
    result: Plan,
    *,
    method: ShareMethod = "shapley",
    max_distance_km: float | None = None,
    solver: Solver | None = None,
    exact_limit: int = 10,
    samples: int = 200,
    sample_limit: int = 40,
) -> dict[str, Any]:
    """Split the plan's benefit among its participants by the cooperative game whose
    coalition values are the best plans using only the coalition's own offers, needs and
    links. Exact Shapley (every coalition solved as its own optimisation) up to
    ``exact_limit`` participants, sampled beyond (with standard errors); the nucleolus
    up to ``exact_limit``. Also whether the split is in the core.

    Above ``sample_limit`` participants re-optimising thousands of coalitions is out of
    reach; the game is then the plan as it stands (a coalition earns the exchanges among
    its members, less their links' costs), a graph game whose Shapley value is exact and
    closed-form: each exchange's benefit, and each link's cost, split equally between its
    two ends (Deng & Papadimitriou 1994). ``method`` in the result says which game was
    used; ``in_core`` is then not checked (``None``)."""
    check_choice("method", method, ShareMethod, where="share_gains")
    engine = solver or HighsSolver()
    players = tuple(sorted({a for e in result.exchanges for a in (e.source, e.target)}))
    if not players:
        return {"allocation": {}, "in_core": True, "exact": True, "standard_error": {}}
    if len(players) > sample_limit:
        allocation = dict.fromkeys(players, 0.0)
        for e in result.exchanges:
            allocation[e.source] += e.benefit / 2
            allocation[e.target] += e.benefit / 2
        all_links = list(eco.links)
        for li in result.links_built:
            link = all_links[li]
            allocation[link.source] -= float(link.fixed_cost or 0.0) / 2
            allocation[link.target] -= float(link.fixed_cost or 0.0) / 2
        return {
            "allocation": allocation,
            "in_core": None,
            "exact": True,
            "standard_error": dict.fromkeys(players, 0.0),
            "method": "shapley of the fixed plan (graph game)",
        }
    model = _model(eco, max_distance_km, None)
    cache: dict[int, float] = {}

    def value(mask: int) -> float:
        if mask not in cache:
            members = {p for i, p in enumerate(players) if mask >> i & 1}
            cache[mask] = _coalition_benefit(model, members, engine) if len(members) > 1 else 0.0
        return cache[mask]

    game = Game(players, "profit", value)
    if method == "nucleolus":
        if len(players) > exact_limit:
            raise RainforestError(
                f"the nucleolus of {len(players)} participants is limited to {exact_limit} (exact_limit=)"
            )
        allocation = nucleolus(game)
        se: dict[str, float] = dict.fromkeys(players, 0.0)
        exact = True
    else:
        sh = shapley(game, exact_limit=exact_limit, samples=samples)
        allocation, se, exact = sh.values, sh.standard_error, sh.exact
    in_core = not core_violations(game, allocation, tolerance=1e-6) if len(players) <= 16 else None
    return {"allocation": allocation, "in_core": in_core, "exact": exact, "standard_error": se, "method": method}


def _coalition_benefit(model: _Model, members: set[str], engine: Solver) -> float:
    """Benefit of the best plan among ``members`` only (other candidates switched off)."""
    keep = np.array([c.source in members and c.target in members for c in model.cands])
    if not keep.any():
        return 0.0
    problem, nk, _ = _build(model, model.saving, 1.0, 0.0)
    upper = problem.upper.copy()
    upper[:nk][~keep] = 0.0
    restricted = MILP(problem.c, problem.A, problem.row_lower, problem.row_upper, problem.lower, upper, problem.integer)
    return max(0.0, -engine.solve(restricted).objective)
