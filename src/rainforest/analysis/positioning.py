"""Differentiated positioning: where each actor stands in the rainforest.

For every actor: its stratum (given, or inferred by the rule below), life-cycle stage, its
role in the metabolism, market share in its sector (by revenue or head count when every
actor gives one, else unknown), irreplaceability of what it supplies, a keystone index
(systemic impact relative to size, from the ESRI cascade), and the redundant non-core
investments it shares with an actor that holds them as core.

Every rule here is rainforest's own, stated with its thresholds (none is a published
standard; the constants are module attributes so a study can change them):

Strata (``stratum_basis`` says which rule gave each)
    A stratum says how large and central a firm is, not how much it happens to exchange.
    A stratum the document declares wins (``declared``). Otherwise the first size the
    actor gives decides, in this order (the basis is named after it):

    - ``revenue`` when every actor gives it: ranked among all actors by the ABC rule below
      (money units differ between documents, so no absolute threshold);
    - ``employees``: the head-count classes of the EU definition of enterprises
      (Commission Recommendation 2003/361/EC): 250 or more (large) ``canopy``, 50-249
      (medium) ``understory``, 10-49 (small) ``shrub``, fewer than 10 (micro) ``moss``;
    - ``revenue`` given by some actors only: ranked by the ABC rule among those (at least
      two must give it);
    - ``capacity``: ranked by the ABC rule among the actors that give one (at least two;
      capacities are compared as given, so give them in one unit).

    Without a size, throughflow (inflow + outflow in the first currency of money, mass,
    energy) ranks the actor by the ABC rule, but only when its boundary flows are recorded
    (at least one flow with a quantity from or to ``world``/``environment``): over the
    exchanges alone throughflow measures what a firm happens to exchange, not its size
    (basis ``throughflow``). Else the stratum is ``unknown``. The ABC rule: going down a
    ranking, the actors that make up the first ``CANOPY_SHARE`` (50%) of the total are
    ``canopy``, the next ones up to ``UNDERSTORY_SHARE`` (80%) ``understory``, up to
    ``SHRUB_SHARE`` (95%) ``shrub``, and the tail ``moss``: the ABC analysis of inventory
    management applied to size. Network position then promotes an inferred stratum: a
    platform provider (a module with adopters) is ``canopy``; an actor with at least
    ``HUB_PARTNERS`` (5) distinct partners is at least ``understory``.
Roles (from flows, several may hold; ``role`` is the first in this order)
    ``platform`` provides a module with adopters; ``utility`` sends utility flows (kind
    ``utility``, or resources of kind energy or water) to at least two actors;
    ``decomposer`` takes at least ``DECOMPOSER_SHARE`` (25%) of its inputs (counted in
    flows) from other actors as by-products or waste; ``primary producer`` draws at least half its inputs
    from the environment; ``consumer`` supplies no other actor; else ``transformer``.
Irreplaceability of a supply (actor i sends resource r to j)
    ``1 - min(1, spare / quantity)``, where ``spare`` is what other actors could supply
    instead: their offers of r or of a resource that can replace r (``substitutes``).
    The actor's score is the mean over its supplies weighted by value (price x quantity;
    by quantity share per resource when there is no price). 1 = nobody could step in.
Keystoneness (Libralato, Christensen & Pauly 2006)
    ``log10(eps_i (1 - p_i))`` from the mixed trophic impacts of the throughflow network
    (:func:`rainforest.analysis.ena.mixed_trophic_impacts`), every actor a living
    compartment unless the document says otherwise; absent above the dense size limit or
    when the impact series diverges (both said in the notes).
Keystone index
    ``ESRI_i / own_i``: the share of the ecosystem's output lost when i fails (money layer,
    Diem et al. 2022, see :mod:`rainforest.analysis.cascade`) over i's own share; 1 = it
    takes only itself down. Absent (None) when the document has no money layer.
Redundant investment
    Actor i runs capability c as non-core while actor j holds c as core: i could buy c
    from j and focus on its core (comparative advantage). The formats give no price for a
    capability, so the money at stake is not computed (reported as unknown).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from rainforest.analysis import cascade, ena
from rainforest.errors import CurrencyError, ParameterError, RainforestWarning, SizeLimitError, UnknownIdError
from rainforest.model.ecosystem import Ecosystem
from rainforest.model.flowmatrix import FlowMatrix

__all__ = [
    "STRATA",
    "STRATUM_BASES",
    "ActorPosition",
    "Positioning",
    "abc_strata",
    "position",
    "profile_table",
    "throughflow",
]

STRATA = ("canopy", "understory", "shrub", "moss")
#: Where a stratum comes from, in the order the rule tries them.
STRATUM_BASES = ("declared", "revenue", "employees", "capacity", "throughflow", "unknown")
CANOPY_SHARE = 0.50
UNDERSTORY_SHARE = 0.80
SHRUB_SHARE = 0.95
HUB_PARTNERS = 5
#: Lower head-count bounds of the EU enterprise classes (Recommendation 2003/361/EC):
#: large (canopy), medium (understory), small (shrub); micro below (moss).
EMPLOYEE_CLASSES = (("canopy", 250.0), ("understory", 50.0), ("shrub", 10.0))
DECOMPOSER_SHARE = 0.25
DOMINANCE = 0.5  # one actor holding more of the throughflow than this is a monoculture
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ActorPosition:
    """Where one actor stands."""

    actor: str
    sector: str | None
    stratum: str
    stratum_inferred: bool
    stratum_basis: str
    stage: str | None
    role: str
    roles: tuple[str, ...]
    throughflow: float
    market_share: float | None
    irreplaceability: float | None
    supplies: tuple[dict[str, Any], ...]
    keystone: float | None
    keystoneness: float | None
    esri: float | None
    redundancies: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "actor": self.actor,
            "sector": self.sector,
            "stratum": self.stratum,
            "stratum_inferred": self.stratum_inferred,
            "stratum_basis": self.stratum_basis,
            "stage": self.stage,
            "role": self.role,
            "roles": list(self.roles),
            "throughflow": self.throughflow,
            "market_share": self.market_share,
            "irreplaceability": self.irreplaceability,
            "keystone": self.keystone,
            "keystoneness": self.keystoneness,
            "esri": self.esri,
            "redundancies": list(self.redundancies),
            "supplies": list(self.supplies),
        }


@dataclass(frozen=True)
class Positioning:
    """Every actor's position, the rainforest profile and what was assumed."""

    actors: tuple[ActorPosition, ...]
    profile: tuple[dict[str, Any], ...]
    health: dict[str, Any]
    size_measure: str
    currency: str | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __getitem__(self, actor: str) -> ActorPosition:
        for a in self.actors:
            if a.actor == actor:
                return a

        raise UnknownIdError("actor", actor, [a.actor for a in self.actors])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the CLI's ``position --json``)."""
        return {
            "size_measure": self.size_measure,
            "currency": self.currency,
            "actors": {a.actor: {k: v for k, v in a.to_dict().items() if k != "actor"} for a in self.actors},
            "profile": list(self.profile),
            "health": self.health,
            "notes": list(self.notes),
        }

    def to_frame(self) -> Any:
        """One row per actor (the index): sector, stratum, its basis, stage, role, and the
        numbers (throughflow, market share, irreplaceability, keystone index, keystoneness,
        ESRI; NaN where not known)."""
        import pandas as pd

        columns = ("sector", "stratum", "stratum_inferred", "stratum_basis", "stage", "role", "throughflow")
        numbers = ("market_share", "irreplaceability", "keystone", "keystoneness", "esri")
        rows = [
            {
                **{c: getattr(a, c) for c in columns},
                "roles": ", ".join(a.roles),
                **{c: math.nan if getattr(a, c) is None else float(getattr(a, c)) for c in numbers},
            }
            for a in self.actors
        ]
        return pd.DataFrame(
            rows, index=pd.Index([a.actor for a in self.actors], name="actor"), columns=[*columns, "roles", *numbers]
        )


def throughflow(eco: Ecosystem) -> tuple[FloatArray, str | None, FlowMatrix | None]:
    """Each actor's throughflow (inflow + outflow) in the first currency of money, mass and
    energy that has any flow; with that currency and its flow matrix (None without flows)."""
    for currency in ("money", "mass", "energy"):
        try:
            fm = FlowMatrix.from_ecosystem(eco, currency)
        except CurrencyError:
            continue
        if fm.Z.nnz or fm.inputs.any() or fm.outputs.any():
            internal_in = np.asarray(fm.Z.sum(axis=0)).ravel()
            internal_out = np.asarray(fm.Z.sum(axis=1)).ravel()
            return internal_in + fm.inputs + internal_out + fm.outputs, currency, fm
    return np.zeros(len(eco.actor_ids)), None, None


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def abc_strata(measure: FloatArray) -> list[str]:
    """The documented ABC rule: canopy to ``CANOPY_SHARE`` of the total, understory to
    ``UNDERSTORY_SHARE``, shrub to ``SHRUB_SHARE``, moss after (largest first)."""
    n = len(measure)
    order = np.argsort(-measure, kind="stable")
    total = measure.sum()
    result = ["moss"] * n
    if total <= 0:
        return result
    before = 0.0  # what larger actors hold, in units of the measure
    eps = 1e-9 * total  # 0.5 + 0.2 + 0.1 must count as 80%, not 79.99999999999999%
    for i in order.tolist():
        if before < CANOPY_SHARE * total - eps:
            result[i] = "canopy"
        elif before < UNDERSTORY_SHARE * total - eps:
            result[i] = "understory"
        elif before < SHRUB_SHARE * total - eps:
            result[i] = "shrub"
        before += measure[i]
    return result


def _inferred_strata(
    given: list[str | None], sizes: dict[str, FloatArray], through: FloatArray, fm: FlowMatrix | None
) -> tuple[list[str], list[str]]:
    """Each actor's stratum and its basis by the rule in the module notes."""
    n = len(given)
    strata = ["unknown"] * n
    basis = ["unknown"] * n
    todo = np.array([g is None for g in given], dtype=bool)
    for i in np.flatnonzero(~todo).tolist():
        strata[i], basis[i] = str(given[i]), "declared"
    revenue = np.isfinite(sizes["revenue"])
    if n and revenue.all() and todo.any():
        ranked = abc_strata(sizes["revenue"])
        for i in np.flatnonzero(todo).tolist():
            strata[i], basis[i] = ranked[i], "revenue"
        todo[:] = False
    employees = sizes["employees"]
    for i in np.flatnonzero(todo & np.isfinite(employees)).tolist():
        strata[i] = next((s for s, low in EMPLOYEE_CLASSES if employees[i] >= low), "moss")
        basis[i] = "employees"
        todo[i] = False
    for name in ("revenue", "capacity"):
        values = sizes[name]
        has = np.isfinite(values)
        if has.sum() < 2 or not (todo & has).any():
            continue  # one actor alone cannot be ranked
        ranked = abc_strata(np.where(has, values, 0.0))
        for i in np.flatnonzero(todo & has).tolist():
            strata[i], basis[i] = ranked[i], name
        todo &= ~has
    if todo.any() and fm is not None and fm.recorded:
        boundary = np.zeros(n, dtype=bool)
        if fm.recorded.get("imports", (0, 0))[0] or fm.recorded.get("extraction", (0, 0))[0]:
            boundary |= fm.inputs > 0
        if fm.recorded.get("exports", (0, 0))[0] or fm.recorded.get("losses", (0, 0))[0]:
            boundary |= fm.outputs > 0
        if boundary.sum() >= 2:
            ranked = abc_strata(np.where(boundary, through, 0.0))
            for i in np.flatnonzero(todo & boundary).tolist():
                strata[i], basis[i] = ranked[i], "throughflow"
    return strata, basis


def position(eco: Ecosystem, *, risk: bool = True) -> Positioning:
    """Position every actor of ``eco`` (see the module notes for each rule).

    ``risk=False`` skips the ESRI cascades behind the keystone index.

    Examples
    --------
    >>> import rainforest as rf
    >>> p = position(rf.datasets.kalundborg(), risk=False)
    >>> p["gyproc"].role  # it makes plasterboard from Asnæs's desulphurisation gypsum
    'decomposer'
    """
    actors = eco.table("actors")
    ids: list[str] = actors["id"].tolist()
    n = len(ids)
    pos = {a: i for i, a in enumerate(ids)}
    notes: list[str] = []

    sectors = actors.texts("sector")
    given = actors.texts("stratum")
    stages = actors.texts("stage")
    revenue = actors.numbers("size.revenue")
    employees = actors.numbers("size.employees")
    capacity = actors.numbers("size.capacity")
    through, currency, fm = throughflow(eco)
    if n and np.isfinite(revenue).all():
        measure, size_measure = revenue, "revenue"
    elif n and np.isfinite(employees).all():
        measure, size_measure = employees, "employees"
    else:
        measure, size_measure = through, f"throughflow ({currency})" if currency else "none"
    inferred, basis = _inferred_strata(
        given, {"revenue": revenue, "employees": employees, "capacity": capacity}, through, fm
    )

    # network position: partners, platform providers
    flows = eco.table("flows")
    src = flows["from"].tolist()
    dst = flows["to"].tolist()
    res = flows["resource"].tolist()
    qty = np.asarray(flows["quantity"], dtype=np.float64) if len(flows) else np.zeros(0)
    kinds = flows.texts("kind")
    status = flows.texts("status")
    active = [s in (None, "active") for s in status]
    partners: list[set[str]] = [set() for _ in range(n)]
    for a, b, ok in zip(src, dst, active, strict=True):
        if ok and a in pos and b in pos and a != b:
            partners[pos[a]].add(b)
            partners[pos[b]].add(a)
    modules = eco.table("modules")
    providers: set[str] = set()
    for provider, adopters in zip(
        modules["provider"].tolist() if len(modules) else [],
        modules["adopters"].tolist() if len(modules) else [],
        strict=True,
    ):
        if adopters:
            providers.add(provider)
    strata: list[str] = []
    was_inferred: list[bool] = []
    for i in range(n):
        if given[i] is not None:
            strata.append(given[i])  # type: ignore[arg-type]
            was_inferred.append(False)
            continue
        s = inferred[i]
        if s == "unknown":
            strata.append(s)
            was_inferred.append(False)
            continue
        if ids[i] in providers:
            s = "canopy"
        elif len(partners[i]) >= HUB_PARTNERS and STRATA.index(s) > 1:
            s = "understory"
        strata.append(s)
        was_inferred.append(True)

    # roles from flows (in the throughflow currency where it values the flow, else by count)
    res_table = eco.table("resources")
    res_kind = dict(zip(res_table["id"].tolist(), res_table["kind"].tolist(), strict=True))
    res_price = dict(zip(res_table["id"].tolist(), res_table.numbers("price").tolist(), strict=True))
    res_subst = {
        r: tuple(s or ()) for r, s in zip(res_table["id"].tolist(), res_table["substitutes"].tolist(), strict=True)
    }
    waste_in = np.zeros(n)
    internal_in = np.zeros(n)
    env_in = np.zeros(n)
    all_in = np.zeros(n)
    supplies_to: list[set[str]] = [set() for _ in range(n)]
    utility_to: list[set[str]] = [set() for _ in range(n)]
    for a, b, r, q, k, ok in zip(src, dst, res, qty.tolist(), kinds, active, strict=True):
        if not ok:
            continue
        # by count: quantities of different resources do not add; a documented exchange of
        # unknown quantity (NaN) counts like any other
        v = 1.0 if q > 0 or math.isnan(q) else 0.0
        if b in pos:
            j = pos[b]
            all_in[j] += v
            if a in pos:
                internal_in[j] += v
                if k in ("waste", "by-product"):
                    waste_in[j] += v
            elif a == "environment":
                env_in[j] += v
        if a in pos and b in pos and a != b:
            supplies_to[pos[a]].add(b)
            if k == "utility" or res_kind.get(r) in ("energy", "water"):
                utility_to[pos[a]].add(b)
    roles: list[tuple[str, ...]] = []
    for i in range(n):
        found = []
        if ids[i] in providers:
            found.append("platform")
        if len(utility_to[i]) >= 2:
            found.append("utility")
        if all_in[i] > 0 and waste_in[i] / all_in[i] >= DECOMPOSER_SHARE:
            found.append("decomposer")
        if all_in[i] > 0 and env_in[i] / all_in[i] >= 0.5:
            found.append("primary producer")
        if not supplies_to[i]:
            found.append("consumer")
        if not found or (internal_in[i] > 0 and supplies_to[i] and not {"platform", "utility"} & set(found)):
            found.append("transformer")
        roles.append(tuple(found))
    if not len(flows):
        notes.append("no flows: roles and throughflow cannot be read from the metabolism")

    # market share in the sector (by the size measure)
    sized = size_measure in ("revenue", "employees")
    sector_total: dict[str | None, float] = {}
    for sec, m in zip(sectors, measure.tolist(), strict=True):
        sector_total[sec] = sector_total.get(sec, 0.0) + m
    # a share of the sector's size: by revenue or head count when every actor gives one; what an
    # actor happens to exchange is not its share of a market
    market = [
        (m / sector_total[sec]) if sized and sec is not None and sector_total[sec] > 0 else None
        for sec, m in zip(sectors, measure.tolist(), strict=True)
    ]

    # irreplaceability: spare offers of the same resource or a substitute, from others
    offers = eco.table("offers")
    spare: dict[str, dict[str, float]] = {}
    for a, r, q in zip(
        offers["actor"].tolist() if len(offers) else [],
        offers["resource"].tolist() if len(offers) else [],
        offers["quantity"].tolist() if len(offers) else [],
        strict=True,
    ):
        spare.setdefault(r, {})
        spare[r][a] = spare[r].get(a, 0.0) + float(q)
    replacing: dict[str, list[str]] = {r: [r] for r in res_kind}
    for r, subs in res_subst.items():
        for target in subs:
            replacing.setdefault(target, [target]).append(r)
    suppliers_of: dict[str, set[str]] = {}
    for a, r, ok in zip(src, res, active, strict=True):
        if ok and a in pos:
            suppliers_of.setdefault(r, set()).add(a)
    supplies: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    for a, b, r, q, ok in zip(src, dst, res, qty.tolist(), active, strict=True):
        if not ok or a not in pos or b not in pos or a == b or not q > 0:  # NaN: no quantity to replace
            continue
        alternatives = {
            other: amount
            for candidate in replacing.get(r, [r])
            for other, amount in spare.get(candidate, {}).items()
            if other != a
        }
        other_suppliers = sorted(suppliers_of.get(r, set()) - {a})
        cover = sum(alternatives.values())
        supplies[pos[a]].append(
            {
                "to": b,
                "resource": r,
                "quantity": q,
                "alternatives": [{"actor": o, "spare": v} for o, v in sorted(alternatives.items())],
                "other_suppliers": other_suppliers,
                "irreplaceability": 1.0 - min(1.0, cover / q),
            }
        )
    irreplace: list[float | None] = []
    for i in range(n):
        if not supplies[i]:
            irreplace.append(None)
            continue
        weights = []
        for sup in supplies[i]:
            price = res_price.get(sup["resource"], math.nan)
            weights.append(price * sup["quantity"] if price > 0 else None)
        if all(w is not None for w in weights):
            w_arr = np.array(weights, dtype=np.float64)
        else:  # no prices: each resource counts equally, its supplies by quantity share
            per_res: dict[str, float] = {}
            for sup in supplies[i]:
                per_res[sup["resource"]] = per_res.get(sup["resource"], 0.0) + sup["quantity"]
            w_arr = np.array([sup["quantity"] / per_res[sup["resource"]] for sup in supplies[i]])
        scores = np.array([sup["irreplaceability"] for sup in supplies[i]])
        irreplace.append(float(w_arr @ scores / w_arr.sum()) if w_arr.sum() > 0 else float(scores.mean()))

    # keystone index from the ESRI cascade on the money layer
    esri_of: dict[str, float] = {}
    keystone_of: dict[str, float] = {}
    if risk:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RainforestWarning)
                net = cascade.SupplyNetwork.from_ecosystem(eco, valued=True)
                profile = cascade.esri(net, stop="reference")
            own = net.out_strength / max(net.out_strength.sum(), 1e-300)
            for label, e, o in zip(profile.labels, profile.esri.tolist(), own.tolist(), strict=True):
                esri_of[label] = e
                if o > 0:
                    keystone_of[label] = e / o
            notes.append(
                "keystone = ESRI / own share of output, ESRI on flows valued at their prices (reference stop rule)"
            )
        except (CurrencyError, ParameterError) as exc:  # no money layer; a negative price
            notes.append(f"no keystone index: {exc}")

    # keystoneness from mixed trophic impacts (Libralato et al. 2006) on the same network
    mti: dict[str, float] = {}
    if fm is not None:
        living = fm if fm.living is not None else replace(fm, living=np.ones(fm.n, dtype=np.bool_))
        try:
            mti = ena.mixed_trophic_impacts(living).keystoneness
            notes.append(
                f"keystoneness (Libralato et al. 2006) from mixed trophic impacts in {currency}"
                + ("" if fm.living is not None else ", every actor a living compartment")
            )
        except (ValueError, SizeLimitError) as exc:
            notes.append(f"no MTI keystoneness: {exc}")

    # redundant non-core investment
    caps = actors["capabilities"].tolist() if "capabilities" in actors else [None] * n
    core_of: dict[str, list[str]] = {}
    for a, cs in zip(ids, caps, strict=True):
        for c in cs or ():
            if getattr(c, "core", False):
                core_of.setdefault(c.name, []).append(a)
    redundancies: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    for i, cs in enumerate(caps):
        for c in cs or ():
            holders = [h for h in core_of.get(c.name, []) if h != ids[i]]
            if not getattr(c, "core", True) and holders:
                redundancies[i].append(
                    {
                        "capability": c.name,
                        "core_at": holders,
                        "suggestion": f"buy {c.name} from {holders[0]}",
                        "money_at_stake": None,
                    }
                )

    positions = tuple(
        ActorPosition(
            actor=ids[i],
            sector=sectors[i],
            stratum=strata[i],
            stratum_inferred=was_inferred[i],
            stratum_basis=basis[i],
            stage=stages[i],
            role=roles[i][0],
            roles=roles[i],
            throughflow=float(through[i]),
            market_share=market[i],
            irreplaceability=irreplace[i],
            supplies=tuple(supplies[i]),
            keystone=keystone_of.get(ids[i]),
            keystoneness=_finite(mti.get(ids[i])),
            esri=esri_of.get(ids[i]),
            redundancies=tuple(redundancies[i]),
        )
        for i in range(n)
    )
    table, health = _profile(positions, measure, size_measure)
    if any(was_inferred):
        counts = _count(b for b, w in zip(basis, was_inferred, strict=True) if w)
        notes.append(
            f"strata inferred for {sum(was_inferred)} actor(s) from "
            + ", ".join(f"{k} ({v})" for k, v in counts.items())
            + f" (employees: EU size classes, 250+ canopy, 50+ understory, 10+ shrub; revenue, capacity and "
            f"throughflow: canopy to {CANOPY_SHARE:.0%} of the total, understory to {UNDERSTORY_SHARE:.0%}, "
            f"shrub to {SHRUB_SHARE:.0%}; platform providers canopy, {HUB_PARTNERS}+ partners at least understory)"
        )
    unknown = [ids[i] for i in range(n) if basis[i] == "unknown"]
    if unknown:
        notes.append(
            f"stratum unknown for {len(unknown)} actor(s) ({', '.join(unknown[:8])}{'...' if len(unknown) > 8 else ''}): "
            "no declared stratum, no size (revenue, employees, capacity) and no recorded boundary flow"
        )
    return Positioning(positions, table, health, size_measure, currency, tuple(notes))


def _profile(
    positions: tuple[ActorPosition, ...], measure: FloatArray, size_measure: str
) -> tuple[tuple[dict[str, Any], ...], dict[str, Any]]:
    n = len(positions)
    sized = size_measure in ("revenue", "employees")
    total_t = sum(p.throughflow for p in positions) or 1.0
    total_m = float(measure.sum()) or 1.0
    rows = []
    present = [*STRATA, "unknown"] if any(p.stratum == "unknown" for p in positions) else list(STRATA)
    for s in present:
        members = [i for i, p in enumerate(positions) if p.stratum == s]
        rows.append(
            {
                "stratum": s,
                "actors": len(members),
                "actor_share": len(members) / n if n else 0.0,
                "throughflow_share": sum(positions[i].throughflow for i in members) / total_t,
                # a size share only where every actor gives a size: throughflow is not size
                "size_share": (float(measure[members].sum()) / total_m if members else 0.0) if sized else None,
                "stages": _count(positions[i].stage or "unknown" for i in members),
                "roles": _count(positions[i].role for i in members),
            }
        )
    shares = np.array([p.throughflow for p in positions]) / total_t
    nonzero = shares[shares > 0]
    largest: float | None = float(shares.max()) if n else None
    evenness: float | None = (
        float(-(nonzero * np.log(nonzero)).sum() / math.log(len(nonzero))) if len(nonzero) > 1 else 0.0
    )
    no_flow = not nonzero.size  # nothing flows through any actor: shares are unknown, not 0
    if no_flow:
        largest = evenness = None
    understory = sum(1 for p in positions if p.stratum == "understory")
    unknown = sum(1 for p in positions if p.stratum == "unknown")
    findings = []
    if no_flow:
        findings.append("no throughflow recorded: the shares of throughflow are not known")
    elif largest is not None and largest > DOMINANCE:
        findings.append(f"monoculture: one actor holds {largest:.0%} of the throughflow (more than {DOMINANCE:.0%})")
    if unknown and understory < 2:
        findings.append(
            f"the size of {unknown} of {n} actors is unknown, so whether the understory is populated cannot be judged"
        )
    elif understory < 2:
        findings.append("thin understory: fewer than two mid-size actors between the canopy and the small ones")
    if not findings:
        findings.append("no canopy monoculture and a populated understory")
    health = {
        "largest_throughflow_share": largest,
        "throughflow_evenness": evenness,
        "reason": "no flow between actors or across the boundary is recorded" if no_flow else "",
        "findings": findings,
        "rule": (
            "healthy: no actor holds more than half the throughflow and at least two understory actors; "
            "evenness is Pielou's J of throughflow shares (1 = all equal)"
        ),
    }
    return tuple(rows), health


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def profile_table(p: Positioning) -> list[dict[str, Any]]:
    """The per-actor table of ``rainforest position``: one flat row per actor."""
    return [
        {
            "actor": a.actor,
            "stratum": a.stratum,
            "stratum_basis": a.stratum_basis,
            "stage": a.stage,
            "role": a.role,
            "irreplaceability": a.irreplaceability,
            "keystone": a.keystone,
            "redundancies": [r["capability"] for r in a.redundancies],
        }
        for a in p.actors
    ]
