"""From documents to the model's columns, and back (snapshots)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rainforest.analysis import positioning
from rainforest.analysis.networks import erdos_renyi_edges as random_graph  # noqa: F401  (the old private name, kept)
from rainforest.analysis.networks import watts_strogatz_edges as watts_strogatz  # noqa: F401  (likewise)
from rainforest.model.ecosystem import Ecosystem
from rainforest.model.entities import Actor, Capability, Flow, Size
from rainforest.model.schema import BOUNDARY
from rainforest.simulate.agents import COLUMNS, STAGES, STRATA, AgentSet

if TYPE_CHECKING:
    from rainforest.simulate.engine import Model

# mean initial age by stratum (ours: documents do not give ages)
_AGE = (20.0, 12.0, 8.0, 3.0)


@dataclass
class Population:
    """The agents at period 0 and the names their integer columns refer to."""

    agents: AgentSet
    names: list[str]  # uid -> id ("k:id" for the k-th rival's actors)
    capabilities: list[str]  # the columns of "core" and "noncore"
    sectors: list[str]  # the values of "sector"


def population(ecos: Sequence[Ecosystem], rng: np.random.Generator) -> Population:
    """Every actor of the documents as an agent: stratum, stage, size, sector and
    capabilities from the document, age and traits drawn (in this order, from ``rng``)."""
    names: list[str] = []
    home: list[int] = []
    strata: list[int] = []
    stages: list[int] = []
    sizes: list[float] = []
    sectors: list[str] = []
    caps: list[tuple[Capability, ...]] = []
    for k, eco in enumerate(ecos):
        table = eco.table("actors")
        ids = table.texts("id")
        through, _, _ = positioning.throughflow(eco)
        revenue = table.numbers("size.revenue") if "size.revenue" in table else np.full(len(ids), np.nan)
        given = table.texts("stratum") if "stratum" in table else [None] * len(ids)
        measure = revenue if np.isfinite(revenue).all() and len(ids) else through
        inferred = positioning.abc_strata(np.nan_to_num(measure))
        stage_col = table.texts("stage") if "stage" in table else [None] * len(ids)
        sector_col = table.texts("sector") if "sector" in table else [None] * len(ids)
        cap_col = table["capabilities"].tolist() if "capabilities" in table else [()] * len(ids)
        for i, actor_id in enumerate(ids):
            assert actor_id is not None
            names.append(actor_id if k == 0 else f"{k}:{actor_id}")
            home.append(k)
            name = given[i] if given[i] in STRATA else inferred[i]
            s = STRATA.index(name)
            strata.append(s)
            stages.append(STAGES.index(stage_col[i]) if stage_col[i] in STAGES else (2 if s <= 1 else 1))
            sizes.append(float(revenue[i]) if np.isfinite(revenue[i]) and revenue[i] > 0 else float(through[i]))
            sectors.append(sector_col[i] or "")
            caps.append(tuple(cap_col[i] or ()))
    n = len(names)
    size = np.asarray(sizes, dtype=np.float64)
    stratum = np.asarray(strata, dtype=np.int8)
    for s in range(4):  # actors without any measure take their stratum's median (or 1)
        members = (stratum == s) & (size > 0)
        fill = (
            float(np.median(size[members]))
            if members.any()
            else (float(np.median(size[size > 0])) if (size > 0).any() else 1.0)
        )
        size[(stratum == s) & ~(size > 0)] = fill
    cap_names = sorted({c.name for cs in caps for c in cs})
    sector_names = sorted(set(sectors))
    agents = AgentSet(COLUMNS, capacity=2 * n + 16)
    agents.add_matrix("core", max(len(cap_names), 1))
    agents.add_matrix("noncore", max(len(cap_names), 1))
    agents.add_matrix("member", len(ecos))
    agents.add(
        n,
        alive=True,
        uid=np.arange(n),
        home=np.asarray(home),
        stratum=stratum,
        stage=np.asarray(stages),
        age=rng.geometric(1.0 / np.asarray(_AGE)[stratum]),
        size=size,
        sector=np.asarray([sector_names.index(s) for s in sectors]),
        knowledge=rng.uniform(0.0, 1.0, n),
        sigma=rng.uniform(0.0, 1.0, n),
        kappa=rng.uniform(0.0, 1.0, n),
        quality=rng.uniform(0.0, 1.0, n),
    )
    core, noncore, member = agents["core"], agents["noncore"], agents["member"]
    for i, cs in enumerate(caps):
        for c in cs:
            (core if c.core else noncore)[i, cap_names.index(c.name)] = True
    member[np.arange(n), np.asarray(home)] = True
    return Population(agents, names, cap_names, sector_names)


def _has_money(eco: Ecosystem) -> bool:
    """Sizes are money when every actor gives a positive revenue (the rule of
    :mod:`rainforest.simulate.assumptions`)."""
    table = eco.table("actors")
    if not table.n or "size.revenue" not in table:
        return False
    revenue = table.numbers("size.revenue")
    return bool((np.isfinite(revenue) & (revenue > 0)).all())


def snapshot(model: Model, ecosystem: int = 0) -> Ecosystem:
    """The ecosystem as it stands, as a ``rainforest/1`` document.

    - Actors: the living members, each with what the document said of it (name, location,
      region, other size fields, extensions) and its simulated sector, stratum, stage and
      core and non-core capabilities; entrants appear as ``new<uid>``. The simulated size
      is the actor's ``size.revenue`` when the document's sizes are money (every actor gave
      a revenue); otherwise it is not money, so ``size`` stays as the document gave it and
      the simulated size goes to ``x_simulated_size`` (in the units of the period-0 sizes:
      throughflow, or the median of the stratum).
    - Flows: the document's flows among the living members at their period-0 quantities
      (the simulator does not change them), and the symbioses formed during the run,
      active in the last period, as by-product flows of that period's exchanged quantity.
    - Modules with a living provider, their adopters the living members that have adopted
      them; offers, needs and stocks of the living members; links between living members;
      resources, virgin supplies and essentiality as the document gave them.
    - ``x_simulation``: the seed and the period.
    """
    base = model.ecosystems[ecosystem]
    a = model.agents
    alive = a.alive & a["member"][:, ecosystem]
    living = set(model.ids(np.flatnonzero(alive)))
    prefix = "" if ecosystem == 0 else f"{ecosystem}:"
    originals = {f"{prefix}{actor.id}": actor for actor in base.actors}
    caps = model.capabilities
    money = _has_money(base)
    actors = []
    for i in np.flatnonzero(alive).tolist():
        name = model.name(i)
        old = originals.get(name)
        # a document without capabilities still has one (unnamed) column, which mutation may set
        width = len(caps)
        capabilities = tuple(Capability(caps[c], True) for c in np.flatnonzero(a["core"][i, :width])) + tuple(
            Capability(caps[c], False) for c in np.flatnonzero(a["noncore"][i, :width])
        )
        simulated = float(a["size"][i])
        before = old if old is not None else Actor(name)
        if money:
            size: Size | None = dataclasses.replace(before.size or Size(), revenue=simulated)
            extensions = dict(before.extensions)
        else:
            size = before.size
            extensions = {**before.extensions, "x_simulated_size": simulated}
        actors.append(
            dataclasses.replace(
                before,
                id=name,
                sector=model.sectors[int(a["sector"][i])] or None,
                stratum=STRATA[int(a["stratum"][i])],
                stage=STAGES[int(a["stage"][i])],
                size=size,
                capabilities=capabilities,
                extensions=extensions,
            )
        )
    keep_id = living | set(BOUNDARY)

    def local(actor_id: str) -> str:
        return actor_id if actor_id in BOUNDARY else f"{prefix}{actor_id}"

    flows = [
        dataclasses.replace(f, source=local(f.source), target=local(f.target))
        for f in base.flows
        if local(f.source) in keep_id and local(f.target) in keep_id
    ]
    sym = model.symbiosis.candidates
    if ecosystem == 0:
        # the document's own exchanges ("fixed" links) are already among its flows
        active = np.flatnonzero(sym.active & (sym.last_q > 0) & ~sym.fixed)
        for k in active.tolist():
            s, t = model.name(int(sym.src[k])), model.name(int(sym.dst[k]))
            if s in living and t in living:
                flows.append(Flow(s, t, sym.resource[k], float(sym.last_q[k]), kind="by-product"))
    modules = []
    if ecosystem == 0:
        for m, module in enumerate(base.modules):
            adopters = tuple(model.ids(np.flatnonzero(a["adopted"][:, m] & alive)))
            if local(module.provider) in living:
                modules.append(dataclasses.replace(module, provider=local(module.provider), adopters=adopters))
    own = ecosystem == 0
    return Ecosystem(
        name=f"{base.name} (period {model.period})",
        actors=actors,
        resources=list(base.resources),
        flows=flows,
        offers=[o for o in base.offers if local(o.actor) in living] if own else [],
        needs=[nd for nd in base.needs if local(nd.actor) in living] if own else [],
        modules=modules,
        stocks=[st for st in base.stocks if local(st.actor) in living] if own else [],
        essentiality=list(base.essentiality),
        virgin=list(base.virgin),
        links=[lk for lk in base.links if local(lk.source) in keep_id and local(lk.target) in keep_id] if own else [],
        period=base.period,
        extensions={**base.extensions, "x_simulation": {"seed": model.seed, "period": model.period}},
    )


def compact(model: Model) -> None:
    """Drop dead agents from every per-agent array and remap what refers to agents by index
    (symbiosis candidates, social edges, platform providers, innovations, supply factors).
    Candidate pairs and social edges with a dead end go too: they can never be used again."""
    a = model.agents
    keep = np.flatnonzero(a.alive)
    if keep.size == a.n:
        return
    pos = np.full(a.n, -1, dtype=np.int64)
    pos[keep] = np.arange(keep.size)
    model.symbiosis.candidates.remap(pos)
    if model.social is not None:
        model.social.remap(pos)
    model.platform.remap(pos)
    factor = model.symbiosis.supply_factor
    model.symbiosis.supply_factor = factor[keep] if factor.size >= a.n else factor[keep[keep < factor.size]]
    model.platform.boost = None
    model.openness.factor = None
    a.compact(keep)
    if model.social is not None:
        model.social.known = a.n
