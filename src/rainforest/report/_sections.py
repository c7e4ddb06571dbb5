"""The sections of the health report: an :class:`~rainforest.assessment.Assessment` turned
into plain data for the page.

Every number comes from the assessment (the public analysis and optimisation API); a
section whose analysis cannot run on this document (no money layer, no offers and needs,
no locations) is marked unavailable with the reason, never filled with made-up numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import rainforest.report._figures as figs
from rainforest.analysis.platform import BANDS, GUIDELINES
from rainforest.assessment import (
    SANKEY_NODES,
    STEPS,
    Assessment,
    Progress,
    Unavailable,
    assess,
    finn_meaning,
    format_number,
    format_share,
    money_unit,
)
from rainforest.errors import CurrencyError, in_words_of
from rainforest.model.ecosystem import Ecosystem
from rainforest.model.flowmatrix import FlowMatrix
from rainforest.model.schema import BOUNDARY

#: Above this many actors the network picture shows the largest actors only.
NETWORK_NODES = 250
#: At most this many exchanges are drawn in the network picture.
NETWORK_EDGES = 2500
#: Rows in the ranking tables.
TOP = 15


@dataclass(frozen=True)
class Figure:
    """A figure: its Plotly specification (plain data), title and caption."""

    id: str
    title: str
    spec: dict[str, Any]
    caption: str = ""


@dataclass(frozen=True)
class Table:
    """A table: column names and rows of display values."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class Section:
    """One section of the report: what it found, or why it is not available."""

    id: str
    title: str
    available: bool = True
    reason: str = ""
    text: tuple[str, ...] = ()
    numbers: tuple[dict[str, Any], ...] = ()
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()
    notes: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (figures as their Plotly specifications)."""
        return {
            "id": self.id,
            "title": self.title,
            "available": self.available,
            "reason": self.reason,
            "text": list(self.text),
            "numbers": list(self.numbers),
            "tables": [
                {"title": t.title, "columns": list(t.columns), "rows": [list(r) for r in t.rows], "note": t.note}
                for t in self.tables
            ],
            "figures": [{"id": f.id, "title": f.title, "caption": f.caption, "spec": f.spec} for f in self.figures],
            "notes": list(self.notes),
            "data": self.data,
        }


def unavailable(id: str, title: str, reason: str, **extra: Any) -> Section:
    """A section whose analysis cannot run on this document, with the reason."""
    return Section(id=id, title=title, available=False, reason=reason, **extra)


#: A number for people (see :func:`rainforest.assessment.format_number`).
fmt = format_number
#: A share as a percentage.
pct = format_share


def _unit_label(unit: str) -> str:
    from rainforest.model.units import label

    return label(unit)


class Context:
    """What the sections share: the assessment (every analysis, run once) and the list of
    unknowns the sections add to."""

    def __init__(self, assessment: Assessment) -> None:
        self.a = assessment
        self.eco = assessment.ecosystem
        self.risk = assessment.risk
        self.plan_wanted = assessment.plan_wanted
        self.period = self.eco.period
        self.unknowns: list[dict[str, str]] = [dict(u) for u in assessment.unknowns]
        self.layer = assessment.layer
        self.unit = assessment.unit
        #: exchanges between actors recorded as active flows (any resource, money included)
        self.recorded = assessment.recorded
        #: 'existing': the report reads recorded exchanges; 'plan': a new park with offers and
        #: needs and no exchange yet, where the report leads with what can be done
        self.pathway = assessment.pathway

    def unknown(self, what: str, how: str) -> None:
        """Record a quantity the document does not give and how the report treats it."""
        entry = {"what": what, "how": how}
        if entry not in self.unknowns:
            self.unknowns.append(entry)

    def per_period(self, unit: str) -> str:
        return f"{unit} per {self.period}".strip()


# -- the sections ------------------------------------------------------------------------------------
_BASIS_WORDS = {
    "declared": "declared in the document",
    "revenue": "ranked by revenue",
    "employees": "by head count",
    "capacity": "ranked by capacity",
    "throughflow": "ranked by throughflow, boundary flows recorded",
    "unknown": "unknown, no size in the document",
}


def profile_section(ctx: Context) -> Section:
    pos = ctx.a.positioning
    title = "The rainforest profile"
    placed = any(
        a.stratum or (a.size is not None and (a.size.revenue or a.size.employees or a.size.capacity))
        for a in ctx.eco.actors
    )
    if not ctx.recorded and not placed:
        # strata would all read 'moss' and roles 'consumer' by default: say what is missing instead
        ctx.unknown(
            "the size of the actors (revenue, employees) and their exchanges",
            "no stratum or role is shown: nothing in the document places the actors yet",
        )
        return unavailable(
            "profile",
            title,
            "no actor gives a size (size.revenue, size.employees) or a stratum, and no exchange is recorded yet: "
            "nothing places the actors in the strata of the forest",
        )
    sized = any(p["size_share"] is not None for p in pos.profile)  # a size every actor gives
    rows = tuple(
        (
            p["stratum"],
            p["actors"],
            pct(p["actor_share"]),
            pct(p["throughflow_share"]),
            *((pct(p["size_share"]),) if sized else ()),
            ", ".join(f"{k} {v}" for k, v in sorted(p["roles"].items(), key=lambda kv: -kv[1])),
        )
        for p in pos.profile
    )
    bases: dict[str, list[str]] = {}
    for a in pos.actors:
        bases.setdefault(a.stratum_basis, []).append(a.actor)
    inferred = sum(1 for a in pos.actors if a.stratum_inferred)
    if inferred:
        ctx.unknown(
            f"the stratum of {inferred} of {len(pos.actors)} actor(s)",
            "inferred from "
            + ", ".join(f"{b} ({len(v)})" for b, v in bases.items() if b not in ("declared", "unknown"))
            + " by the documented rule (employees: EU size classes, 250+ canopy, 50+ understory, 10+ shrub; "
            "revenue, capacity, throughflow: canopy to 50% of the total, understory to 80%, shrub to 95%; platforms "
            "canopy, 5+ partners at least understory)",
        )
    if "unknown" in bases:
        ctx.unknown(
            f"the size of {len(bases['unknown'])} actor(s) ({', '.join(bases['unknown'][:8])}"
            f"{'...' if len(bases['unknown']) > 8 else ''})",
            "stratum shown as 'unknown': no declared stratum, no size (revenue, employees, capacity) and no "
            "recorded boundary flow; what an actor happens to exchange does not say how large it is",
        )
    no_stage = sum(1 for a in pos.actors if a.stage is None)
    if no_stage:
        ctx.unknown(f"the life-cycle stage of {no_stage} actor(s)", "shown as 'unknown'; no stage is guessed")
    health = pos.health
    text = [
        "Canopy: the leading firms and platforms; understory and shrubs: mid-size firms; moss: small firms and "
        "start-ups. Each stratum rests on what the document says ("
        + "; ".join(
            f"{_BASIS_WORDS.get(b, b)}: {', '.join(v[:6])}{'...' if len(v) > 6 else ''}" for b, v in bases.items()
        )
        + "); what an actor happens to exchange does not make it large.",
        *[f"Finding: {f}." for f in health["findings"]],
        f"Rule: {health['rule']}.",
    ]
    numbers = (
        {
            "label": "largest actor's share of throughflow",
            "value": pct(health["largest_throughflow_share"]),
            "meaning": "above 50% the forest is a monoculture under one canopy tree",
        },
        {
            "label": "evenness of throughflow",
            "value": f"{health['throughflow_evenness']:.2f}" if health["throughflow_evenness"] is not None else "n/a",
            "meaning": "Pielou's J: 1 = every actor the same size, near 0 = one actor holds everything",
        },
    )
    return Section(
        id="profile",
        title=title,
        text=tuple(text),
        numbers=numbers,
        tables=(
            Table(
                "Strata",
                (
                    "stratum",
                    "actors",
                    "share of actors",
                    "share of throughflow",
                    *((f"share of {pos.size_measure}",) if sized else ()),
                    "roles",
                ),
                rows,
            ),
        ),
        figures=(
            Figure(
                "strata",
                "The layers of the forest",
                figs.strata_picture(pos.profile),
                "Each bar is a stratum (canopy on top); its length is the number of actors, split by life-cycle "
                "stage; the share of throughflow it carries is written at its end.",
            ),
        ),
        data={"profile": list(pos.profile), "health": health},
    )


def network_section(ctx: Context) -> Section:
    eco = ctx.eco
    if not ctx.recorded:
        return unavailable(
            "network",
            "The network",
            "no exchange between actors is recorded yet"
            + ("; the recommended exchanges show the ones that could be" if ctx.pathway == "plan" else ""),
        )
    pos = ctx.a.positioning
    ids = list(eco.actor_ids)
    index = {a: i for i, a in enumerate(ids)}
    through = np.array([p.throughflow for p in pos.actors], dtype=float)
    strata = [p.stratum for p in pos.actors]
    notes: list[str] = []
    keep = np.arange(len(ids))
    if len(ids) > NETWORK_NODES:
        keep = np.sort(np.argsort(-through, kind="stable")[:NETWORK_NODES])
        share = through[keep].sum() / through.sum() if through.sum() else 0.0
        notes.append(
            f"{len(ids):,} actors are more than a browser can draw legibly: the picture shows the {NETWORK_NODES} "
            f"largest by throughflow ({pct(share)} of all throughflow) and the exchanges among them."
        )
    kept = {int(i): k for k, i in enumerate(keep.tolist())}
    units = {r.id: _unit_label(r.unit) for r in eco.resources}
    edges: list[dict[str, Any]] = []
    for f in eco.flows:
        if f.status != "active" or f.source in BOUNDARY or f.target in BOUNDARY:
            continue
        a, b = kept.get(index[f.source]), kept.get(index[f.target])
        if a is None or b is None:
            continue
        edges.append({"from": a, "to": b, "resource": f.resource, "quantity": f.quantity, "unit": units[f.resource]})
    n_edges = len(edges)
    if n_edges > NETWORK_EDGES:
        largest: dict[str, float] = {}
        for e in edges:
            largest[e["resource"]] = max(largest.get(e["resource"], 0.0), e["quantity"] or 0.0)
        edges.sort(key=lambda e: -(e["quantity"] or 0.0) / (largest[e["resource"]] or 1.0))
        edges = edges[:NETWORK_EDGES]
        notes.append(
            f"{n_edges:,} exchanges among the actors shown; the {NETWORK_EDGES:,} largest (relative to the largest "
            "exchange of the same resource) are drawn."
        )
    spec = figs.network(
        [ids[i] for i in keep],
        [eco.actor(ids[i]).name or ids[i] for i in keep],
        [strata[i] for i in keep],
        through[keep].tolist(),
        edges,
        _currency_unit(pos.currency, eco),
    )
    s = ctx.a.structure
    text = [
        "Actors sit in their stratum (canopy on top) and are sized by throughflow; each line is an existing "
        "exchange, coloured by resource, with a marker pointing towards the receiver (exchanges documented "
        "without a quantity are drawn too; hover a marker for the quantity).",
        _structure_sentence(s),
    ]
    loops = "; ".join(" → ".join([*c, c[0]]) for c in s.cycles[:TOP])
    structure = Table(
        "Structure of the documented network (every active exchange between actors, quantified or not)",
        ("measure", "value", "meaning"),
        (
            ("actors (nodes)", f"{s.nodes:,}", "every actor of the document"),
            ("links", f"{s.links:,}", "distinct ordered pairs of actors with at least one exchange"),
            (
                "links without any quantity",
                f"{s.unquantified_links:,}",
                "invisible to every flow-based number (Finn's index, ENA, metabolism)",
            ),
            ("link density", fmt(s.link_density), "links per actor, L/n"),
            ("connectance", fmt(s.connectance), "share of the n² possible directed links that exist, L/n²"),
            (
                "cyclicity",
                fmt(s.cyclicity),
                "dominant eigenvalue of the adjacency matrix: 0 = no loop, 1 = a single loop, above 1 = "
                "interlocking loops",
            ),
            ("loops (simple cycles)", f"{len(s.cycles):,}" + ("" if s.cycles_complete else "+"), s.cycles_note),
        ),
        ("Loops: " + loops + ("; ..." if len(s.cycles) > TOP else "") + ". ") * bool(loops)
        + "Definitions: Pimm (1982), Fath & Halnes (2007), Layton, Bras & Weissburg (2016); as enaR's C, LD, lam1A.",
    )
    return Section(
        id="network",
        title="The network",
        text=tuple(text),
        tables=(structure,),
        figures=(Figure("network", "Who exchanges what with whom", spec),),
        notes=tuple(notes),
        data={
            "actors_drawn": len(keep),
            "exchanges_drawn": len(edges),
            "exchanges": n_edges,
            "structure": s.to_dict(),
        },
    )


def _structure_sentence(s: Any) -> str:
    """What the structure says about loops, in one sentence."""
    if not s.links:
        return "No exchange between actors is documented yet: the network has no links."
    unknown = f", {s.unquantified_links} of them without any quantity" if s.unquantified_links else ""
    if not s.cycles:
        return f"{s.links} links between {s.nodes} actors{unknown}; no loop closes (cyclicity 0)."
    first = " → ".join([*s.cycles[0], s.cycles[0][0]])
    count = f"{len(s.cycles)}{'' if s.cycles_complete else '+'} loop(s)"
    return (
        f"{s.links} links between {s.nodes} actors{unknown}; {count} close (cyclicity {fmt(s.cyclicity)}), "
        f"e.g. {first}."
    )


def _money_unit(ctx: Context) -> str:
    """The currency code money figures carry: the unit of the resources of kind money (EUR),
    else the document's declared currency, else the neutral word 'money'."""
    return money_unit(ctx.eco)


def _per_money(ctx: Context) -> str:
    """'EUR per year', or 'per year' when the document names no currency (the figure is in
    the currency its prices are given in)."""
    money = _money_unit(ctx)
    return ctx.per_period(money) if money != "money" else f"per {ctx.period}"


def co2e_in_t(text: str) -> str:
    """Emission factors written in kg CO2e as t CO2e, so that a page or screen that gives
    totals in t never mixes kg and t.

    >>> co2e_in_t("landfill, 520.5327 kg CO2e/t")
    'landfill, 0.5205 t CO2e/t'
    """
    import re

    return re.sub(r"(\d+(?:\.\d+)?) kg CO2e", lambda m: f"{float(m.group(1)) / 1000:.4g} t CO2e", text)


def _currency_unit(currency: str | None, eco: Ecosystem) -> str:
    from rainforest.model.flowmatrix import CURRENCY_UNITS

    if currency is None:
        return ""
    if currency == "money":
        return "money"
    return _unit_label(CURRENCY_UNITS.get(currency, ""))


def _sankey_bipartite(data: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Group-to-group flows as two columns (suppliers left, receivers right), so flows
    within a stratum are drawn instead of folding back onto themselves."""
    left = {"world": "world (imports)", "environment": "environment (extraction)"}
    right = {"world": "world (exports)", "environment": "environment (losses)"}
    names: list[str] = []
    position: dict[str, int] = {}

    def node(label: str) -> int:
        if label not in position:
            position[label] = len(names)
            names.append(label)
        return position[label]

    nodes = data["nodes"]
    links = []
    order = {s: k for k, s in enumerate([*figs.STRATA, "unknown", "world", "environment"])}
    for link in sorted(
        data["links"], key=lambda lk: (order.get(nodes[lk["source"]], 9), order.get(nodes[lk["target"]], 9))
    ):
        s, t = nodes[link["source"]], nodes[link["target"]]
        links.append(
            {
                "source": node(left.get(s, s)),
                "target": node(right.get(t, f"to {t}")),
                "label": link["label"],
                "value": link["value"],
            }
        )
    return names, links


def metabolism_section(ctx: Context) -> Section:
    title = "Metabolism: how resources flow"
    m = ctx.a.metabolism
    if isinstance(m, Unavailable):
        return unavailable("metabolism", title, m.reason)
    acc, circ = m.accounts, m.circularity
    unit = ctx.unit
    why = {**acc["reasons"], **circ["reasons"]}
    boundary_known = any(acc[k] is not None for k in ("extraction", "imports", "exports", "losses"))
    text = [
        f"Currency: {circ['currency']} in {unit} per {ctx.period}; resources that cannot be expressed in it are "
        "left out of these numbers.",
    ]
    definitions = [
        (
            "residues put to use",
            fmt(circ["landfill_diverted"], ctx.per_period(unit)),
            "by-products and wastes that went from one actor to another instead of to disposal (existing exchanges)",
        ),
        (
            "recycled input share",
            pct(circ["recycled_input_share"]),
            "by-product and waste inputs over all inputs of the actors",
        ),
        ("disposal share", pct(circ["disposal_share"]), "losses to the environment over all outputs"),
        ("exchange share", pct(circ["exchange_share"]), "flows between actors over all outputs"),
        (
            "resource productivity",
            fmt(circ["resource_productivity"], f"money per {unit}"),
            "revenue over direct material input of the actors that report revenue (EUROSTAT's indicator, at "
            "actor level)",
        ),
    ]
    keys = {
        "recycled input share": "recycled_input_share",
        "disposal share": "disposal_share",
        "exchange share": "exchange_share",
        "resource productivity": "resource_productivity",
    }
    # a number that cannot be known says why in place of its meaning
    definitions = [
        (a, b, f"n/a: {why[keys[a]]}" if a in keys and circ[keys[a]] is None and keys[a] in why else c)
        for a, b, c in definitions
    ]
    if not boundary_known:
        ctx.unknown(
            f"all boundary flows in {circ['currency']} (extraction, imports, exports, losses)",
            "the boundary accounts and every share over inputs or outputs are n/a (over the exchanges alone they "
            "would be 100% or 0% by construction); no boundary flow is invented",
        )
        text.append(
            "The document gives no flow across the ecosystem's boundary with a quantity, so imports, exports, "
            "DMI and the input and output shares are not known; only what the exchanges carry is."
        )
    if circ["resource_productivity"] is None:
        actors = ctx.eco.table("actors")
        has_revenue = "size.revenue" in actors and bool(np.isfinite(actors.numbers("size.revenue")).any())
        ctx.unknown(
            "the direct material input (extraction and imports) of the actors that give their revenue"
            if has_revenue
            else "revenue of the actors (size.revenue)",
            f"resource productivity (revenue per {unit} of direct material input) is not computed: "
            f"{why.get('resource_productivity', 'not known')}",
        )
    if circ.get("unquantified"):
        text.append(
            f"{circ['unquantified']} exchange(s) in {circ['currency']} are documented without a quantity: they are "
            "left out of these numbers (the network's structure counts them)."
        )
    numbers = tuple({"label": a, "value": b, "meaning": c} for a, b, c in definitions)
    order = ("extraction", "imports", "internal", "exports", "losses", "stock_change", "DMI", "balance")
    accounts = Table(
        "Boundary accounts",
        ("account", f"{unit} per {ctx.period}", "why n/a, or what it assumes"),
        tuple((k, fmt(acc[k]), acc["reasons"].get(k) or acc["notes"].get(k, "")) for k in order),
        "DMI = extraction + imports; balance = DMI - exports - losses - stock change (zero when every actor balances). "
        "n/a = not recorded in the document, never zero.",
    )
    notes: list[str] = []
    tables = [accounts]
    if m.violations and not boundary_known:
        text.append(
            f"Every actor that exchanges is out of balance ({sum(m.violations.values())} actor-resource pairs): "
            "with no boundary flow recorded, what an actor receives is never matched by what it sends."
        )
    elif m.violations:
        worst = sorted(m.violations.items(), key=lambda kv: -kv[1])
        tables.append(
            Table(
                "Actors out of balance (beyond 1%) per resource",
                ("resource", "actors out of balance"),
                tuple(worst[:TOP]),
                "Inputs = outputs + stock change should hold for every actor; an imbalance is a missing or wrong "
                "flow (often a boundary flow that was not recorded).",
            )
        )
    recon = m.reconciliation
    if recon:
        rows = []
        for r, result in recon.items():
            if isinstance(result, Unavailable):
                notes.append(f"reconciliation of {r} failed: {result.reason}")
                continue
            for adj in result.adjustments()[:TOP]:
                f = ctx.eco.flows[int(adj["flow"])]
                rows.append(
                    (
                        r,
                        f"{f.source} → {f.target}",
                        fmt(adj["measured"]),
                        fmt(adj["reconciled"]),
                        f"{adj['change']:+.4g} ({adj['sigmas']:+.2f} σ)",
                    )
                )
        if rows:
            tables.append(
                Table(
                    "Data reconciliation (weighted least squares, as STAN)",
                    ("resource", "flow", "measured", "reconciled", "change"),
                    tuple(rows),
                    "Flows with an uncertainty move as little as it allows so that every actor balances; flows "
                    "without one are fixed.",
                )
            )
    else:
        ctx.unknown(
            "the uncertainty of every flow",
            "no reconciliation is run: the flows are shown as given and imbalances are listed",
        )
    strata_nodes, strata_links = _sankey_bipartite(m.sankey_strata)
    figures = [
        Figure(
            "sankey-strata",
            "Flows between strata",
            figs.sankey(strata_nodes, strata_links, ctx.per_period(unit)),
            "Suppliers on the left, receivers on the right, grouped by stratum; links coloured by resource kind "
            "(hover a link for its kind and quantity).",
        )
    ]
    if m.sankey_actors is not None:
        sa = m.sankey_actors
        figures.append(
            Figure(
                "sankey-actors",
                "Flows between actors, by resource",
                figs.sankey(sa["nodes"], sa["links"], ctx.per_period(unit)),
                "Every active flow in the currency, actor to actor and across the boundary.",
            )
        )
    else:
        notes.append(
            f"More than {SANKEY_NODES} actors exchange flows: the Sankey diagram is drawn by stratum only "
            "(the data behind an actor-level one is `metabolism.sankey(eco)`)."
        )
    return Section(
        id="metabolism",
        title=title,
        text=tuple(text),
        numbers=numbers,
        tables=tuple(tables),
        figures=tuple(figures),
        notes=tuple(notes),
        data={
            "accounts": acc,
            "circularity": circ,
            "sankey_strata": {"nodes": strata_nodes, "links": strata_links},
            "violations": m.violations,
        },
    )


_ENA_MEANING = {
    "TST": ("total system throughflow", "all flow through the actors: the size of the metabolism"),
    "FCI": ("Finn cycling index", "share of throughflow that comes back round a loop; 0 = open chains only"),
    "APL": ("average path length", "how many actors a unit entering the ecosystem visits before it leaves"),
    "ID.F": ("indirect/direct flow", "above 1, indirect relations carry more than direct exchanges"),
    "ASC.CAP": (
        "degree of order (ascendency / capacity)",
        "how organised the network is; robustness peaks at 1/e = 0.37",
    ),
    "robustness": ("robustness", "Ulanowicz's -a ln a: the balance of efficiency and redundancy (peak 0.368)"),
    "mutualism.F": ("mutualism", "positive over negative direct-and-indirect relations; above 1 = mutualistic"),
    "synergism.F": ("synergism", "benefits over costs in the flow utility analysis; above 1 = synergistic"),
}


def ena_section(ctx: Context) -> Section:
    from rainforest.analysis import ena

    title = "Network health (ecological network analysis)"
    analysis = ctx.a.ena
    if isinstance(analysis, Unavailable):
        return unavailable("ena", title, analysis.reason)
    result = analysis.result
    values = {**result.flow, **result.ascendency, **(result.utility or {})}
    unit = ctx.unit
    numbers = []
    for key, (label, meaning) in _ENA_MEANING.items():
        if key not in values:
            continue
        v = values[key]
        shown = fmt(v, ctx.per_period(unit)) if key == "TST" else (pct(v) if key == "FCI" else fmt(v))
        if key == "FCI":
            meaning = finn_meaning(
                ctx.a.structure,
                float(v),
                ctx.layer.currency if ctx.layer is not None else result.currency,
                ctx.a.names(),
            )
        numbers.append({"label": f"{label} ({key})", "value": shown, "meaning": meaning})
        if key == "FCI":
            s = ctx.a.structure
            numbers.append(
                {
                    "label": "loops in the documented network (cyclicity)",
                    "value": f"{len(s.cycles)}{'' if s.cycles_complete else '+'} loop(s), cyclicity {fmt(s.cyclicity)}",
                    "meaning": "simple cycles over every documented exchange, quantified or not, and the dominant "
                    "eigenvalue of the adjacency matrix (0 = no loop)",
                }
            )
    wov = ena.window_of_vitality(result.ascendency)
    text = [
        f"On the {result.currency} layer. The ecosystem is {wov['side']}: robustness {wov['robustness']:.3f}, "
        f"{pct(wov['relative_robustness'], 0)} of the highest possible.",
        "Methods: Finn (1976) cycling; Ulanowicz (1986, 2009) ascendency and robustness; Patten (1991) and Fath & "
        "Patten (1998) utility; numbers as the R package enaR (Borrett & Lau 2014).",
    ]
    if result.utility is None:
        ctx.unknown("mutualism and synergism", "not computed above the dense size limit (said in the notes)")
    return Section(
        id="ena",
        title=title,
        text=tuple(text),
        numbers=tuple(numbers),
        figures=(
            Figure(
                "window-of-vitality",
                "Robustness on the window-of-vitality curve",
                figs.window_of_vitality(wov, ctx.eco.name[:30]),
                "Left of the peak: redundant and resilient but inefficient; right: efficient but brittle "
                "(Ulanowicz et al. 2009).",
            ),
        ),
        notes=tuple(result.notes),
        data={
            "flow": result.to_dict()["flow"],
            "ascendency": result.to_dict()["ascendency"],
            "utility": result.to_dict().get("utility"),
            "window": {k: v for k, v in wov.items() if k != "curve"},
            "balance": analysis.balance,
        },
    )


def io_section(ctx: Context) -> Section:
    from rainforest.analysis import io_tables

    title = "The money layer (input-output)"
    io = ctx.a.io
    if isinstance(io, Unavailable):
        if ctx.recorded:
            ctx.unknown(
                "the money layer (prices or payments)", "input-output analysis and systemic risk are not computed"
            )
        return unavailable("io", title, io.reason)
    table = io.table
    total = float(table.x.sum())
    ext = io.extraction
    money = _money_unit(ctx)
    n = table.n
    basis = (
        f"Output: the revenue (size.revenue) of the {io.revenue_given} actor(s) that give it"
        + (f"; the recorded sales of the other {n - io.revenue_given}" if io.revenue_given < n else "")
        + "."
        if io.revenue_given
        else "Output: each actor's recorded sales, to members and outside (no actor gives its revenue)."
    )
    if io.revenue_given < n:
        ctx.unknown(
            f"revenue of {n - io.revenue_given} of {n} actor(s)",
            "their output in the input-output table is the sales the flows record (to members and to world)",
        )
    summary = io_tables.multiplier_summary(io.multipliers)
    producing = [a for a in table.ids if a not in set(io.no_output)]
    if len(producing) < n:
        summary = io_tables.multiplier_summary({a: io.multipliers[a] for a in producing})
    ranked = sorted(ext, key=lambda a: -ext[a])
    rows = tuple(
        (
            a,
            fmt(float(table.x[table.ids.index(a)])),
            fmt(ext[a]),
            pct(ext[a] / total),
            f"{io.multipliers[a]:.3f}",
            f"{io.supply[a]:.3f}",
        )
        for a in ranked
    )
    fm = io.fm
    if fm.excluded:
        ctx.unknown(
            f"prices of {len(fm.excluded)} resource(s) ({', '.join(sorted(fm.excluded)[:6])}{'...' if len(fm.excluded) > 6 else ''})",
            "their flows are left out of the money layer",
        )
    notes = []
    if io.no_output:
        notes.append(
            f"{len(io.no_output)} actor(s) sell nothing the document records and give no revenue "
            f"({', '.join(io.no_output[:6])}{'...' if len(io.no_output) > 6 else ''}): their output is "
            "unknown, so they are left out of the ranking and the multiplier summary."
        )
    top_text = ", ".join(f"{a} {v:.3g}" for a, v in summary["top"])
    one = "unit of money" if money == "money" else money
    return Section(
        id="io",
        title=title,
        text=(
            "Actors as the sectors of an enterprise input-output table (Yazan & Fraccascia). Output multiplier: "
            "total output across the ecosystem per unit of final demand for the actor (Leontief); supply "
            "multiplier: the same from the supply side (Ghosh); hypothetical extraction: total output lost if "
            "the actor left and the rest re-balanced (Miller & Blair 2009, 12.2).",
            basis,
            f"Reading the multiplier: when the median actor sells one more {one} outside the ecosystem, the "
            f"ecosystem as a whole produces {summary['median']:.3g} {money} more (its own sale included), through "
            "what it buys from members and they buy in turn. Multipliers are skewed, so the median and the "
            f"10-90% range are shown, not the mean; the largest: {top_text}.",
        ),
        numbers=(
            {
                "label": "total output",
                "value": fmt(total, f"{money} per {ctx.period}"),
                "meaning": "sales of every actor: " + basis[len("Output: ") :].rstrip("."),
            },
            {
                "label": "output multiplier (median)",
                "value": f"{summary['median']:.3g} (10-90%: {summary['p10']:.3g} to {summary['p90']:.3g})",
                "meaning": "total output across the ecosystem per unit of an actor's sales outside it; 1 = its "
                f"demand reaches no member. Largest: {top_text}",
            },
        ),
        notes=tuple(notes),
        tables=(
            Table(
                f"Hypothetical extraction: the {len(rows)} largest actors by output, most output lost first",
                (
                    "actor",
                    f"output ({_per_money(ctx)})",
                    "output lost if it leaves",
                    "share of all output",
                    "output multiplier",
                    "supply multiplier",
                ),
                rows,
            ),
        ),
        figures=(
            Figure(
                "extraction",
                "Output lost if the actor leaves",
                figs.ranking(list(ranked), [ext[a] / total for a in ranked], "", "share of the ecosystem's output"),
            ),
        ),
        data={
            "extraction": ext,
            "total_output": total,
            "output": dict(zip(table.ids, table.x.tolist(), strict=True)),
            "revenue_given": io.revenue_given,
            "multipliers": summary,
        },
    )


def regions_section(ctx: Context) -> Section | None:
    """Regions side by side: output, value added and the emissions each region's final
    demand causes (consumption-based) against what its actors emit (production-based)."""
    title = "Regions (multi-regional input-output)"
    system = ctx.a.regions
    if not ctx.a.has_regions:
        return None  # nothing regional in the document: no section
    if isinstance(system, Unavailable):
        return unavailable("regions", title, system.reason)
    money = _money_unit(ctx)
    R, N = len(system.regions), len(system.sectors)
    output = system.x.reshape(R, N).sum(axis=1)
    added = system.value_added.reshape(R, N).sum(axis=1)
    members = [sum(1 for a in ctx.eco.actors if (a.region or "unassigned") == r) for r in system.regions]
    rows = tuple(
        (r, members[i], fmt(float(output[i]), money), fmt(float(added[i]), money)) for i, r in enumerate(system.regions)
    )
    tables = [
        Table(
            "Regions",
            ("region", "actors", f"output ({money} per {ctx.period})", f"value added ({money} per {ctx.period})"),
            rows,
            "Output: revenue where the actor gives it, else its recorded sales; value added: output less what it "
            "buys from members.",
        )
    ]
    text = [
        f"{R} region(s) from the actors' region field"
        + (" (actors without one form the region 'unassigned')" if "unassigned" in system.regions else "")
        + ". Each actor is a sector of its region; its sales outside the ecosystem are that region's final demand."
    ]
    data: dict[str, Any] = {"regions": list(system.regions), "output": output.tolist(), "value_added": added.tolist()}
    if "emissions" in system.extensions:
        acc = system.accounts("emissions")
        ext = system.extensions["emissions"]
        rows_e = []
        for k, stressor in enumerate(ext.stressors):
            unit = ext.units[k] if ext.units else ""
            for i, r in enumerate(system.regions):
                rows_e.append(
                    (
                        stressor,
                        r,
                        fmt(float(acc.D_pba_reg[k, i]), unit),
                        fmt(float(acc.D_cba_reg[k, i]), unit),
                        fmt(float(acc.D_imp_reg[k, i]), unit),
                        fmt(float(acc.D_exp_reg[k, i]), unit),
                    )
                )
        tables.append(
            Table(
                "Emissions by region: produced and caused",
                ("released", "region", "produced there", "caused by its final demand", "imported", "exported"),
                tuple(rows_e),
                "Produced: released by the region's actors. Caused: released anywhere in the ecosystem to make what "
                "the region's actors sell outside it. Caused = produced - exported + imported.",
            )
        )
        data["emissions"] = {
            "stressors": list(ext.stressors),
            **{k: getattr(acc, k).tolist() for k in ("D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg")},
        }
    else:
        text.append(
            "No flow to the environment is recorded, so no region's emissions (produced or caused) can be shown."
        )
    return Section(id="regions", title=title, text=tuple(text), tables=tuple(tables), data=data)


def risk_section(ctx: Context) -> Section:
    pos = ctx.a.positioning
    title = "Positioning and systemic risk"
    actors = list(pos.actors)
    if not ctx.recorded:
        redundant_rows = tuple(
            (a.actor, r["capability"], ", ".join(r["core_at"][:5])) for a in actors for r in a.redundancies
        )
        return unavailable(
            "risk",
            title,
            "no exchange between actors is recorded yet: roles, systemic risk, keystoneness and irreplaceability "
            "all measure dependence along recorded flows",
            tables=(
                Table(
                    "Redundant investment: non-core capabilities another actor holds as core",
                    ("actor", "capability", "held as core by"),
                    redundant_rows,
                ),
            )
            if redundant_rows
            else (),
            data={"ranking": [], "measure": None, "roles": {}, "esri_reason": "no exchange recorded yet"},
        )
    risk = ctx.a.systemic_risk
    assert not isinstance(risk, Unavailable)  # recorded exchanges: a ranking
    key = risk.measure
    has_esri = key == "esri"
    label = {
        "esri": "ESRI (share of sales between members lost)",
        "keystoneness": "keystoneness (Libralato)",
        "irreplaceability": "irreplaceability",
    }[key]
    ranked = sorted(actors, key=lambda a: -(getattr(a, key) if getattr(a, key) is not None else -math.inf))[:TOP]
    rows = tuple(
        (
            a.actor,
            a.stratum,
            a.role,
            fmt(a.esri) if a.esri is not None else "n/a",
            fmt(a.keystone) if a.keystone is not None else "n/a",
            fmt(a.keystoneness) if a.keystoneness is not None else "n/a",
            fmt(a.irreplaceability) if a.irreplaceability is not None else "n/a",
            pct(a.market_share) if a.market_share is not None else "n/a",
        )
        for a in ranked
    )
    text = [
        "ESRI: the share of the sales between members lost when the actor fails, through its suppliers and customers "
        "(Diem et al. 2022); keystone index: ESRI over the actor's own share (1 = it takes only itself down); "
        "keystoneness: Libralato et al. (2006) from mixed trophic impacts; irreplaceability: 1 - what others "
        "could supply instead over what it supplies (1 = nobody could step in).",
    ]
    esri_reason = risk.esri_reason
    if not has_esri:
        text.append(f"No ESRI: {esri_reason}.")
    else:
        _esri_inputs_unknown(ctx)
    redundant = [(a.actor, r) for a in actors for r in a.redundancies]
    tables = [
        Table(
            f"The {len(rows)} most critical actors by {label}",
            ("actor", "stratum", "role", "ESRI", "keystone index", "keystoneness", "irreplaceability", "market share"),
            rows,
        )
    ]
    if redundant:
        tables.append(
            Table(
                "Redundant investment: non-core capabilities another actor holds as core",
                ("actor", "capability", "held as core by"),
                tuple((a, r["capability"], ", ".join(r["core_at"][:5])) for a, r in redundant[:TOP]),
                f"{len(redundant)} in all. Buying the capability from its core holder lets each focus on its core.",
            )
        )
    values = [getattr(a, key) for a in ranked if getattr(a, key) is not None]
    figures = []
    if values:
        figures.append(
            Figure(
                "risk",
                f"Most critical actors by {label}",
                figs.ranking([a.actor for a in ranked if getattr(a, key) is not None], values, "", label, "#c62828"),
            )
        )
    roles: dict[str, int] = {}
    for a in actors:
        roles[a.role] = roles.get(a.role, 0) + 1
    return Section(
        id="risk",
        title=title,
        text=tuple(text),
        numbers=(
            {
                "label": "roles in the metabolism",
                "value": ", ".join(f"{k} {v}" for k, v in sorted(roles.items(), key=lambda kv: -kv[1])),
                "meaning": "decomposers turn others' residues into inputs; platforms provide modules",
            },
            {
                "label": "redundant non-core investments",
                "value": str(len(redundant)),
                "meaning": "capabilities run as non-core while another member holds them as core",
            },
        ),
        tables=tuple(tables),
        figures=tuple(figures),
        notes=tuple(pos.notes),
        data={
            "ranking": [(a.actor, getattr(a, key)) for a in ranked],
            "measure": key,
            "roles": roles,
            "esri_reason": esri_reason,
        },
    )


def _esri_inputs_unknown(ctx: Context) -> None:
    """Name the buyers whose total input costs the document does not give: the cascade takes
    what they buy from members as all they buy, so a supplier's failure stops them."""
    try:
        fm = FlowMatrix.from_ecosystem(ctx.eco, "money")
    except CurrencyError:
        return
    actors = ctx.eco.table("actors")
    costs = actors.numbers("size.costs") if "size.costs" in actors else np.full(actors.n, np.nan)
    known = dict(zip(actors.texts("id"), np.isfinite(costs).tolist(), strict=True))
    buys = np.asarray(fm.Z.sum(axis=0)).ravel() > 0
    blind = [
        a
        for a, b, imp in zip(fm.ids, buys.tolist(), fm.inputs.tolist(), strict=True)
        if b and not known.get(a) and imp <= 0
    ]
    if blind:
        ctx.unknown(
            f"total input costs of {len(blind)} actor(s) that buy from members (size.costs or purchases from world)",
            "the ESRI cascade takes what they buy from members as all they buy, so losing a supplier stops them "
            "in proportion (or entirely, for essential inputs): their ESRI losses are an upper bound",
        )


def exchanges_section(ctx: Context) -> Section:
    title = "Recommended new exchanges"
    result = ctx.a.plan
    if isinstance(result, Unavailable):
        suggestions = _suggestions(ctx)
        tables: tuple[Table, ...] = ()
        if suggestions:
            tables = (
                Table(
                    "Known uses for this ecosystem's residues (the cited synergy library)",
                    ("resource", "known use", "already used here", "source"),
                    tuple(suggestions),
                    "Declare offers and needs to have them matched and optimised (`rainforest match`).",
                ),
            )
        return unavailable("exchanges", title, result.reason, tables=tables)
    plan, effects, sharing = result.plan, result.impacts, result.sharing
    total = effects["total"]
    units = {r.id: _unit_label(r.unit) for r in ctx.eco.resources}
    rows = tuple(
        (
            e["from"],
            e["to"],
            e["resource"],
            fmt(e["quantity"], units.get(e["resource"], "")),
            fmt(e["money_saved"]),
            fmt(e["co2e_avoided_kg"] / 1000),
        )
        for e in sorted(effects["exchanges"], key=lambda e: -e["money_saved"])[: 2 * TOP]
    )
    numbers = [
        {
            "label": "net benefit",
            "value": fmt(plan.benefit, _per_money(ctx)),
            "meaning": "avoided purchases and disposal - transport - link costs",
        },
        {
            "label": "disposal diverted",
            "value": fmt(total["disposal_diverted_t"], f"t per {ctx.period}"),
            "meaning": "residues that would otherwise be disposed of",
        },
        {
            "label": "CO2e avoided",
            "value": fmt(total["co2e_avoided_kg"] / 1000, f"t per {ctx.period}"),
            "meaning": "avoided disposal + avoided virgin production - transport",
        },
        {
            "label": "water saved",
            "value": fmt(total["water_saved_m3"], f"m³ per {ctx.period}"),
            "meaning": "exchanged resources of kind water",
        },
    ]
    plan_tables = [
        Table(
            f"The plan: {len(plan.exchanges)} exchange(s), largest benefit first",
            ("from", "to", "resource", "quantity", "benefit", "t CO2e avoided"),
            rows,
            f"MILP: {plan.describe()}."
            + (f" Each need keeps its {result.per_need} best candidates." if result.per_need else ""),
        )
    ]
    text = [
        "The plan maximises the net annual benefit over all offers and needs (avoided virgin purchases + avoided "
        "disposal - transport - annualised link costs); impacts are counted the way audited programmes (NISP) "
        "count them.",
    ]
    if isinstance(sharing, dict) and sharing.get("allocation"):
        alloc = sharing["allocation"]
        top = sorted(alloc, key=lambda a: -alloc[a])[:TOP]
        plan_tables.append(
            Table(
                "The gain split (Shapley value)",
                ("actor", "share of the benefit"),
                tuple((a, fmt(alloc[a])) for a in top),
                f"method: {sharing.get('method', 'shapley')}; "
                + (
                    "core not checked (too many participants to solve every coalition)"
                    if sharing.get("in_core") is None
                    else f"in the core (no coalition would rather leave): {'yes' if sharing['in_core'] else 'no'}"
                ),
            )
        )
    notes = [co2e_in_t(n) for n in [*plan.notes, *effects.get("notes", [])]]
    for note in plan.notes:
        if "default" in note or "no co2e" in note.lower():
            ctx.unknown("emission factors of some resources", co2e_in_t(note))
    return Section(
        id="exchanges",
        title=title,
        text=tuple(text),
        numbers=tuple(numbers),
        tables=tuple(plan_tables),
        notes=tuple(dict.fromkeys(notes)),
        data={
            "benefit": plan.benefit,
            "exchanges": len(plan.exchanges),
            "solve": plan.solve_info(),
            "total": {k: v for k, v in total.items() if k != "virgin_saved"},
        },
    )


def _suggestions(ctx: Context) -> list[tuple[str, str, str, str]]:
    from rainforest.optimize.taxonomy import suggest_uses

    eco = ctx.eco
    used = {f.resource for f in eco.flows if f.source not in BOUNDARY and f.target not in BOUNDARY}
    residues = sorted(
        {f.resource for f in eco.flows if f.kind in ("by-product", "waste")} | {o.resource for o in eco.offers}
    )
    out = []
    for r in residues:
        res = eco.resource(r)
        for s in suggest_uses(r, "", res.codes.get("ewc") if res.codes else None):
            out.append((r, s.use, "yes" if r in used else "no", s.source))
    return out


def cluster_section(ctx: Context) -> Section:
    title = "Cluster against ecosystem"
    cluster = ctx.a.cluster
    if isinstance(cluster, Unavailable):
        ctx.unknown("the locations of the actors", "the cluster-against-ecosystem curve is not drawn")
        return unavailable("cluster", title, cluster.reason)
    curve = cluster.data
    name = ctx.eco.name[:40]
    if curve["basis"] == "plan":
        spec = figs.radius_curve({name: curve}, "benefit", f"net benefit per {ctx.period}")
        full = curve["unlimited"]["benefit"]
        half = next(
            (
                r
                for r, b in zip(curve["radius_km"], curve["benefit"], strict=True)
                if b is not None and full and b >= 0.5 * full
            ),
            None,
        )
        text: tuple[str, ...] = (
            "The optimal plan when partners must lie within r km of each other (a cluster bound to one place) "
            "against no limit (an ecosystem across the chain).",
            f"Without a limit: {fmt(full, _per_money(ctx))}; half of it is reached within "
            f"{fmt(half, 'km') if half is not None else 'no radius drawn'}.",
        )
    else:
        spec = figs.radius_curve({name: curve}, "share", "share of today's exchanges")
        text = (
            f"The share of today's exchanges (in {curve['currency']}) whose two partners lie within r km: what a "
            "cluster of that radius would keep of the ecosystem.",
        )
    return Section(
        id="cluster",
        title=title,
        text=text,
        figures=(Figure("radius", "Exchange potential against the radius", spec),),
        data=dict(curve.items()),
    )


def platform_section(ctx: Context) -> Section | None:
    """The platform pathway, when the document declares modules: providers' reach and
    keystone losses, each module kind's concentration and entry barrier, and each
    adopter's dependence."""
    title = "Platform: module providers, dependence and entry barriers"
    result = ctx.a.platform
    if not ctx.eco.modules:
        return None
    if isinstance(result, Unavailable):
        return unavailable("platform", title, result.reason)
    money = result.money
    per = _per_money(ctx)
    reasons: dict[str, None] = {}

    def share(value: float | None, why: Mapping[str, str], key: str) -> str:
        if value is None:
            if key in why:
                reasons[why[key]] = None
            return "n/a"
        return pct(value)

    def cash(value: float | None, why: Mapping[str, str], key: str, unit: str = "") -> str:
        if value is None:
            if key in why:
                reasons[why[key]] = None
            return "n/a"
        return fmt(value, unit)

    def bounds(k: Any) -> str:
        if k.cascade_share is not None:
            return pct(k.cascade_share)
        if k.cascade_bounds is not None:
            reasons[k.reasons.get("cascade_share", "")] = None
            return f"n/a (between {pct(k.cascade_bounds[0])} and {pct(k.cascade_bounds[1])})"
        return share(None, k.reasons, "cascade_share")

    provider_rows = []
    for r in result.providers:
        fails = result.loss(r.id)
        provider_rows.append(
            (
                r.id,
                ", ".join(r.modules),
                str(len(r.adopters)),
                share(r.actors_share, r.reasons, "actors_share"),
                share(r.value_added_share, r.reasons, "value_added_share"),
                share(r.throughflow_share, r.reasons, "throughflow_share"),
                share(fails.direct_share, fails.reasons, "direct_share"),
                bounds(fails),
            )
        )
    kind_rows = []
    for k in result.kinds:
        b = k.barrier
        if k.hhi is None and "hhi" in k.reasons:
            reasons[k.reasons["hhi"]] = None
        if b is not None and b.lock_in_lead is None:
            reasons[b.reasons.get("lock_in_lead", "")] = None
        kind_rows.append(
            (
                k.kind,
                ", ".join(f"{p} {pct(v, 0)}" for p, v in k.shares.items()) or "none",
                fmt(k.hhi_points) if k.hhi_points is not None else "n/a",
                k.band or "n/a",
                ", ".join(k.multi_homing) or "none",
                f"{b.leader} ({b.installed_base}, lead {b.lead})" if b else "n/a",
                cash(b.switching_cost_total, b.reasons, "switching_cost_total", money) if b else "n/a",
                (
                    f"{cash(b.cost_to_match, b.reasons, 'cost_to_match', money)} ({b.lured_to_match} lured from "
                    f"{b.leader}, {b.won_from_rivals} won from rivals)"
                )
                if b
                else "n/a",
                (
                    "n/a"
                    if b.lock_in_lead is None
                    else f"{b.lock_in_lead:.3g} adopters; "
                    + ("locked in" if b.locked_in else "not locked in" if b.locked_in is False else "no rival")
                )
                if b
                else "n/a",
            )
        )
    scenario_rows = []
    for scenario in result.keystone:
        scenario_rows.append(
            (
                scenario.provider,
                "fails" if scenario.module is None else f"withdraws {scenario.module}",
                str(len(scenario.adopters_hit)),
                cash(scenario.direct_loss, scenario.reasons, "direct_loss", per),
                share(scenario.direct_share, scenario.reasons, "direct_share"),
                bounds(scenario),
                ", ".join(f"{layer} {pct(v)}" for layer, v in scenario.by_layer.items()) or "n/a",
                cash(scenario.cascade_cost, scenario.reasons, "cascade_cost", per),
            )
        )
    ranked = sorted(
        result.adoptions,
        key=lambda a: -max(a.capacity_share or 0.0, a.revenue_share or 0.0, a.input_share or 0.0),
    )
    dependence_rows = tuple(
        (
            a.adopter,
            a.module,
            a.provider,
            share(a.revenue_share, a.reasons, "revenue_share"),
            share(a.input_share, a.reasons, "input_share"),
            share(a.capacity_share, a.reasons, "capacity_share"),
            cash(a.switching_cost, a.reasons, "switching_cost", money),
            "yes" if a.multi_homing else "no",
        )
        for a in ranked[: 2 * TOP]
    )
    for a in result.adoptions:
        if a.capacity_share is None:
            ctx.unknown(
                f"the capacity share of module {a.module} (the share of an adopter's output that stops without it)",
                "its direct keystone loss is n/a and the cascade's loss is given as bounds (the share at 0 and at 1)",
            )
        if a.switching_cost is None:
            ctx.unknown(
                f"the switching cost of module {a.module}",
                "the switching cost its adopters face, and what a newcomer must cover, are n/a where it is needed",
            )
    figures = []
    if result.keystone:
        figures.append(
            Figure(
                "platform-keystone",
                "What the ecosystem loses if a provider fails or withdraws a module",
                figs.keystone_losses(
                    [
                        f"{k.provider} fails" if k.module is None else f"{k.provider} withdraws {k.module}"
                        for k in result.keystone
                    ],
                    [k.direct_share for k in result.keystone],
                    [k.cascade_share for k in result.keystone],
                    [k.cascade_bounds for k in result.keystone],
                ),
                "Share of the ecosystem's output lost per period. Direct: the adopters' output that stops "
                "(capacity share) and, when the provider fails, its own; through the layers: the cascade over the "
                f"{', '.join(result.keystone[0].layers) or 'layers'} layers to its fixed point.",
            )
        )
    hhi_kinds = [k for k in result.kinds if k.hhi_points is not None]
    if hhi_kinds:
        guidelines = str(result.parameters["guidelines"])
        figures.append(
            Figure(
                "platform-hhi",
                "Concentration of each module kind (Herfindahl-Hirschman index)",
                figs.concentration(
                    [k.kind for k in hhi_kinds],
                    [float(k.hhi_points or 0.0) for k in hhi_kinds],
                    [(limit, name) for limit, name in BANDS[guidelines] if math.isfinite(limit)],
                ),
                f"Dotted: the band limits of the {GUIDELINES[guidelines]}. With n providers the "
                "index is at least 10,000/n.",
            )
        )
    top = max(result.providers, key=lambda r: len(r.adopters), default=None)
    numbers: list[dict[str, Any]] = []
    if top is not None:
        numbers.append(
            {
                "label": "widest reach",
                "value": f"{top.id}: {len(top.adopters)} adopters ({share(top.actors_share, top.reasons, 'actors_share')} "
                "of actors)",
                "meaning": f"of the ecosystem's value added, {share(top.value_added_share, top.reasons, 'value_added_share')}"
                f" is made by its adopters",
            }
        )
        fails = result.loss(top.id)
        numbers.append(
            {
                "label": f"if {top.id} fails",
                "value": bounds(fails),
                "meaning": "of the ecosystem's output is lost through the layers "
                f"({share(fails.direct_share, fails.reasons, 'direct_share')} directly)",
            }
        )
    if hhi_kinds:
        most = max(hhi_kinds, key=lambda k: k.hhi_points or 0.0)
        numbers.append(
            {
                "label": "most concentrated kind",
                "value": f"{most.kind}: HHI {fmt(most.hhi_points)}",
                "meaning": f"{most.band}, by the bands of the {GUIDELINES[result.parameters['guidelines']]}",
            }
        )
    text = (
        "A platform provider offers modules (logistics, data, technology...) that other members build on. Reach: "
        "its adopters and the shares of the actors, of value added (revenue less input costs) and of throughflow "
        f"({result.throughflow_currency or 'no layer'}) they make. Dependence: the module's value per adopter "
        "against the adopter's revenue and inputs, and the share of its output that stops without the module "
        "(capacity share).",
        "Concentration: the Herfindahl-Hirschman index of each module kind's adoptions, with the bands of the US "
        "DOJ/FTC Merger Guidelines. Entry barriers after Arthur (1989): the installed base a newcomer must match, "
        "the switching cost its adopters face, the least switching cost a newcomer must cover to draw level, and "
        "the lead beyond which increasing returns lock the market in (that needs the returns per adopter and the "
        "preference gap, which the document does not hold). Keystone role after Iansiti & Levien (2004): what the "
        "ecosystem loses if the provider fails or withdraws a module, directly and through the cascade across "
        "layers.",
    )
    tables = [
        Table(
            "Module providers: reach and what the ecosystem loses if each fails",
            (
                "provider",
                "modules",
                "adopters",
                "share of actors",
                "share of value added",
                "share of throughflow",
                "output lost, direct",
                "output lost, through the layers",
            ),
            tuple(provider_rows),
        ),
        Table(
            "Module kinds as markets: concentration and entry barriers",
            (
                "kind",
                "providers' shares of adoptions",
                "HHI (points)",
                "band",
                "multi-homing adopters",
                "leader (installed base, lead)",
                "switching cost of the base",
                "a newcomer's cost to match",
                "lock-in lead (Arthur)",
            ),
            tuple(kind_rows),
            "A newcomer's cost to match: it wins every actor that uses no module of the kind, then the cheapest "
            "mix of the leader's adopters (each one it lures also leaves the leader) and rivals' adopters that "
            "gives it as many adopters as the leader keeps; the cost is what those adopters pay to switch.",
        ),
        Table(
            "Keystone scenarios: a provider fails or withdraws one module",
            (
                "provider",
                "scenario",
                "adopters hit",
                "output lost, direct",
                "share, direct",
                "share through the layers",
                "through each layer alone",
                "extra costs",
            ),
            tuple(scenario_rows),
            "Each layer's column is the output lost through that layer alone; the provider's own loss when it "
            "fails is the shock, in none of them; an actor reached through two layers counts in each, so the "
            "layers do not add up to the total. Extra costs: virgin inputs bought for lost by-products and the "
            "modules' lost value.",
        ),
        Table(
            f"Dependence of each adopter ({len(dependence_rows)} of {len(result.adoptions)}, most dependent first: by the largest of its three shares)",
            (
                "adopter",
                "module",
                "provider",
                "value / revenue",
                "value / inputs",
                "output that stops",
                "switching cost",
                "multi-homes",
            ),
            dependence_rows,
        ),
    ]
    notes = [*result.notes, *(f"n/a: {r}" for r in reasons if r)]
    return Section(
        id="platform",
        title=title,
        text=text,
        numbers=tuple(numbers),
        tables=tuple(tables),
        figures=tuple(figures),
        notes=tuple(dict.fromkeys(notes)),
        data=result.to_dict(),
    )


#: What the report shows once exchanges are recorded (the existing pathway's key numbers).
AFTER_FLOWS = (
    "exchanged between members",
    "residues put to use",
    "cycling (Finn index)",
    "robustness",
    "dependence on one actor (or systemic risk, with money flows)",
    "the network, the metabolism and the network analysis",
)


def unknowns_section(ctx: Context) -> Section:
    eco = ctx.eco
    unquantified = int(np.isnan(eco.table("flows").numbers("quantity")).sum())
    if unquantified:
        ctx.unknowns.insert(
            0,
            {
                "what": f"the quantity of {unquantified} documented exchange(s)",
                "how": "left out of every quantity (no quantity is invented); counted in the network's structure "
                "(links, connectance, cyclicity, loops)",
            },
        )
    planned = sum(1 for status in eco.table("flows").texts("status") if status != "active")
    if planned:
        ctx.unknown(f"{planned} flow(s) not active (planned or ended)", "left out of every number")
    if ctx.layer is not None and ctx.layer.excluded:
        ex = sorted(ctx.layer.excluded)
        ctx.unknown(
            f"a conversion to {ctx.layer.currency} for {len(ex)} resource(s) ({', '.join(ex[:6])}{'...' if len(ex) > 6 else ''})",
            f"their flows are left out of the {ctx.layer.currency} layer (other units cannot be added to {ctx.unit})",
        )
    rows = tuple((u["what"], u["how"]) for u in ctx.unknowns)
    return Section(
        id="unknowns",
        title="What was unknown and how it was treated",
        text=("Every quantity the document does not give, and what the report did instead.",)
        if rows
        else ("Nothing: every quantity the report needs is in the document.",),
        tables=(Table("Unknowns", ("unknown", "treatment"), rows),) if rows else (),
        data={"unknowns": list(ctx.unknowns)},
    )


def compute(
    eco: Ecosystem | Assessment, *, risk: bool = True, plan: bool = True, progress: Progress | None = None
) -> tuple[Context, list[Section], list[dict[str, Any]]]:
    """Assess the ecosystem (unless given its assessment), then build the sections and the
    key numbers (as the report's plain data)."""
    total = len(STEPS) + 1
    if isinstance(eco, Assessment):
        assessment = eco
    else:

        def step(done: int, _steps: int, label: str) -> None:
            if progress is not None:
                progress(done, total, label)

        assessment = assess(eco, risk=risk, plan=plan, progress=step)
    if progress is not None:
        progress(len(STEPS), total, "figures")
    ctx = Context(assessment)
    sections = [
        profile_section(ctx),
        network_section(ctx),
        metabolism_section(ctx),
        ena_section(ctx),
        io_section(ctx),
        *([regions] if (regions := regions_section(ctx)) is not None else []),
        risk_section(ctx),
        *([platform] if (platform := platform_section(ctx)) is not None else []),
        exchanges_section(ctx),
        cluster_section(ctx),
    ]
    if ctx.pathway == "plan":  # a new park: lead with what can be done
        sections = sections[-2:] + sections[:-2]
    # the analyses' messages name Python's options; a report is read as a page
    numbers = [
        {"key": n.key, "label": n.label, "value": n.value, "display": n.display, "meaning": n.meaning}
        for n in assessment.key_numbers("page")
    ]
    sections.append(unknowns_section(ctx))
    if progress is not None:
        progress(total, total, "done")
    sections = [_in_page_words(s) for s in sections]
    return ctx, sections, numbers


def _in_page_words(s: Section) -> Section:
    from dataclasses import replace

    def words(text: str) -> str:
        return in_words_of(text, "page")

    tables = tuple(
        replace(
            t,
            rows=tuple(tuple(words(c) if isinstance(c, str) else c for c in row) for row in t.rows),
            note=words(t.note),
        )
        for t in s.tables
    )
    return replace(
        s,
        reason=words(s.reason),
        text=tuple(words(t) for t in s.text),
        notes=tuple(words(n) for n in s.notes),
        tables=tables,
    )
