"""What a simulation assumed: every quantity the document does not give, the rule that
supplied it, and the unit each recorded metric is in.

A simulation needs sizes, ages, stages, exit and founding hazards, growth rates and the
economics of each exchange for every actor; a document gives few of them (the bundled
Kalundborg gives none of sizes, prices or revenue). The model fills each gap by a stated
rule (see :mod:`rainforest.simulate._setup` and :mod:`rainforest.simulate.params`);
:func:`assumptions` lists those rules for one document, so the summary of a run, the CLI
and the simulation page say where each number comes from.

Money figures (value added, the symbioses' net benefit) are money only when the document
has money: every actor's revenue (``size.revenue``) for value added, prices or disposal
costs for the benefit. Otherwise sizes are throughflows or medians and value added is in
those size units: the summary then gives it relative to its first-period level.

>>> import rainforest as rf
>>> from rainforest.simulate.assumptions import assumptions
>>> a = assumptions(rf.datasets.kalundborg())
>>> a.money, a.units["value_added"]
(False, 'relative to period 1')
>>> "exit and founding hazards" in [x["quantity"] for x in a.items]
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rainforest.analysis import positioning
from rainforest.model.ecosystem import Ecosystem
from rainforest.simulate.params import Params

__all__ = ["MEANINGS", "MONEY_METRICS", "Assumptions", "assumptions", "meaning"]

#: What each recorded metric means, in one sentence (per-stratum and per-ecosystem
#: variants are read through :func:`meaning`).
MEANINGS: dict[str, str] = {
    "actors": "Living actors at the end of the period.",
    "value_added": "Value the living actors add in the period (size x productivity, less what they pay for "
    "modules and links).",
    "productivity": "Value added over what the actors spent on inputs (1 = they only recover their costs).",
    "survival": "Share of the period-0 actors still alive (1 = nobody has left).",
    "diversity": "Shannon diversity of the living actors over sectors (0 = one sector; higher = more sectors, "
    "more evenly filled).",
    "niches": "Occupied niches: distinct (sector, core capability) pairs among living actors.",
    "exchanged": "Quantity the symbioses exchanged this period (summed over resources, each in its own unit).",
    "disposal": "Quantity of offered residues disposed of this period instead of exchanged.",
    "virgin": "Quantity of needs bought as virgin inputs this period instead of exchanged.",
    "benefit": "Net benefit of the symbioses this period: avoided purchases and disposal less transport and "
    "link costs.",
    "circularity": "Exchanged over exchanged plus disposed residues this period.",
    "links": "Active symbioses (exchange links) at the end of the period.",
    "synergies": "Candidate pairs that have formed a link at least once so far (cumulative).",
    "capture": "Platform providers' share of the total profit (keystone: moderate; dominator: high).",
    "adoption": "Share of members that have adopted a platform module.",
    "member_productivity": "Mean productivity of the module adopters.",
    "complementors": "Actors offering complements on the platform.",
    "balance": "Largest real part of the strata community matrix's eigenvalues (below 0 = a stable balance "
    "between strata).",
    "recovery": "Value added over its level just before the first shock (1 = fully recovered).",
    "FCI": "Finn cycling index of the evolving exchange network (share of throughflow that cycles).",
    "ASC.CAP": "Degree of order of the evolving exchange network (ascendency over capacity; robustness peaks at 1/e).",
    "robustness": "Ulanowicz robustness of the evolving exchange network (peak 0.368).",
    "locked_in": "The ecosystem every kind of entrant would now join whatever its own preference (0 = this one, "
    "then the rivals; -1 = not locked in).",
}

#: Metrics in money when the document has money.
MONEY_METRICS = ("value_added", "benefit")

_STRATA = ("canopy", "understory", "shrub", "moss")
_AGE = (20.0, 12.0, 8.0, 3.0)  # the mean initial age by stratum used by _setup.build


def meaning(metric: str) -> str:
    """The one-sentence meaning of a recorded metric (``n_moss``, ``value_added_1`` too)."""
    if metric in MEANINGS:
        return MEANINGS[metric]
    head, _, tail = metric.rpartition("_")
    if metric.startswith("n_") and metric[2:] in _STRATA:
        return f"Living actors in the {metric[2:]} stratum."
    if metric.startswith("diversity_") and tail in _STRATA:
        return f"Shannon diversity over sectors within the {tail} stratum."
    if head == "members" and tail.isdigit():
        return f"Members of ecosystem {tail} (0 = this one, then the rivals)."
    if head == "value_added" and tail.isdigit():
        return f"Value added by the members of ecosystem {tail} (0 = this one, then the rivals)."
    return ""


@dataclass(frozen=True)
class Assumptions:
    """The rules a simulation of one document used for what the document does not give.

    ``items`` are ``{"quantity", "rule"}`` pairs, in the order a reader needs them;
    ``money`` tells whether value added is in money (every actor gives its revenue);
    ``units`` maps money metrics to their unit: a currency code or ``money``,
    ``relative to period 1``, or ``""`` when the metric means nothing for this document
    and is left out of summaries.
    """

    money: bool
    money_unit: str
    items: tuple[dict[str, str], ...]
    units: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "money": self.money,
            "money_unit": self.money_unit,
            "items": [dict(x) for x in self.items],
            "units": dict(self.units),
        }


def _money_unit(eco: Ecosystem) -> str:
    units = {r.unit for r in eco.resources if r.kind == "money"}
    return str(units.pop()) if len(units) == 1 else "money"


def assumptions(eco: Ecosystem, params: Any = None) -> Assumptions:
    """The rules a simulation of ``eco`` with ``params`` (default :class:`Params`) uses for
    every quantity the document does not give, and the units of its money metrics."""
    p = params if params is not None else Params()
    table = eco.table("actors")
    n = table.n
    revenue = table.numbers("size.revenue") if "size.revenue" in table else np.full(n, np.nan)
    has_revenue = np.isfinite(revenue) & (revenue > 0)
    through, _, _ = positioning.throughflow(eco)
    through = np.asarray(through, dtype=float)
    money = bool(n and has_revenue.all())
    unit = _money_unit(eco)
    items: list[dict[str, str]] = []
    missing = int((~has_revenue).sum())
    if missing:
        by_flow = int(((~has_revenue) & (through > 0)).sum())
        if not has_revenue.any() and not (through > 0).any():
            how = "nothing in the document measures size, so every actor starts at size 1"
        else:
            parts = []
            if by_flow:
                parts.append(f"{by_flow} take their throughflow (what they exchange, in the document's units)")
            if missing - by_flow:
                parts.append(f"{missing - by_flow} the median size of their stratum")
            how = " and ".join(parts)
        items.append(
            {
                "quantity": "actor sizes",
                "rule": f"{missing} of {n} actor(s) give no revenue (size.revenue): {how}. Value added follows "
                "size, so it is not money: it is shown relative to its level in period 1.",
            }
        )
    given = table.texts("stratum") if "stratum" in table else [None] * n
    inferred = sum(1 for s in given if s not in _STRATA)
    if inferred:
        basis = "revenue" if money else "throughflow"
        items.append(
            {
                "quantity": "strata",
                "rule": f"{inferred} of {n} actor(s) have no declared stratum: inferred from {basis} by the ABC rule "
                "(canopy to 50% of the total, understory to 80%, shrub to 95%, moss after). The stratum sets "
                "the exit and founding hazards and growth below.",
            }
        )
    stages = table.texts("stage") if "stage" in table else [None] * n
    no_stage = sum(1 for s in stages if s is None)
    if no_stage:
        items.append(
            {
                "quantity": "life-cycle stages",
                "rule": f"{no_stage} actor(s) have no stage: mature in the canopy and understory, growth below.",
            }
        )
    items.append(
        {
            "quantity": "ages",
            "rule": "documents give no ages: each actor's age at period 0 is drawn from a geometric distribution "
            f"with mean {', '.join(f'{a:g}' for a in _AGE)} periods (canopy, understory, shrub, moss).",
        }
    )
    d = p.demography
    if d.enabled:
        items.append(
            {
                "quantity": "exit and founding hazards",
                "rule": "per period and stratum (canopy, understory, shrub, moss): exit "
                f"{', '.join(f'{x:.0%}' for x in d.base_death)}, founding "
                f"{', '.join(f'{x:.0%}' for x in d.base_birth)} per head of the starting population, moved by "
                "density, age and size (Hannan & Freeman 1977; magnitudes are the model's defaults, not "
                "estimates for this ecosystem).",
            }
        )
        items.append(
            {
                "quantity": "growth rates",
                "rule": "mean log growth per period "
                f"{', '.join(f'{x:.0%}' for x in d.growth)}, volatility "
                f"{', '.join(f'{x:.0%}' for x in d.volatility)} by stratum (Gibrat; the model's defaults).",
            }
        )
    resources = {r.id: r for r in eco.resources}
    traded = {o.resource for o in eco.offers} | {x for nd in eco.needs for x in (nd.resources or (nd.resource,)) if x}
    unpriced = sorted(r for r in traded if r in resources and resources[r].price is None)
    if p.symbiosis.enabled and unpriced:
        items.append(
            {
                "quantity": "prices",
                "rule": f"{len(unpriced)} offered or needed resource(s) have no price ({', '.join(unpriced[:6])}"
                f"{'...' if len(unpriced) > 6 else ''}): exchanging them saves no purchase; only disposal costs "
                "count in a symbiosis's benefit.",
            }
        )
    residue_flows = sum(
        1
        for f in eco.flows
        if f.status == "active" and f.kind in ("by-product", "waste") and f.source in table.texts("id")
    )
    if residue_flows:
        items.append(
            {
                "quantity": "economics of the existing exchanges",
                "rule": f"the document's {residue_flows} by-product and waste exchange(s) carry no costs or "
                "benefits: they stay as links until a partner exits.",
            }
        )
    if p.symbiosis.enabled and eco.offers and eco.needs:
        items.append(
            {
                "quantity": "trust, knowledge and willingness",
                "rule": "drawn uniform for every actor and social tie (the ABSiCE model's rule); a new link needs "
                f"trust above {p.symbiosis.theta_trust:g} and knowledge above {p.symbiosis.theta_knowledge:g}.",
            }
        )
    # value added follows sizes (money only when every actor gives revenue); the benefit of
    # a symbiosis is priced exchanges and disposal costs, money whenever the document has them
    offers = eco.table("offers")
    disposal = offers.numbers("disposal_cost") if len(eco.offers) and "disposal_cost" in offers else np.zeros(0)
    priced = len(unpriced) < len(traded) or bool(np.isfinite(disposal).any())
    units = {
        "value_added": unit if money else "relative to period 1",
        "benefit": unit if priced else "",
    }
    if not priced and p.symbiosis.enabled and eco.offers and eco.needs:
        items.append(
            {
                "quantity": "the symbioses' benefit",
                "rule": "no offered or needed resource has a price and no offer a disposal cost: the benefit is not "
                "money and is not reported.",
            }
        )
    return Assumptions(money=money, money_unit=unit, items=tuple(items), units=units)
