"""The platform pathway: module adoption with network effects, complementor entry against an
entry barrier, openness and IP duration, and the platform's value capture.

- Adoption (Katz & Shapiro 1985, AER 75:424-440; logit choice): a non-adopter's utility of
  module m is ``U = theta_i + beta (n_m / N)^gamma - fee`` with ``n_m`` last period's
  adopters and ``theta_i`` its idiosyncratic fit; it adopts with probability
  ``speed * exp(U / mu) / (1 + exp(U / mu))`` per period (the outside option has U = 0).
- Value (after Parker & Van Alstyne 2018, Mgmt Sci 64:3015-3032; form ours as in
  docs/simulation.md): an adopter's productivity is multiplied by
  ``(1 + openness * sum of its modules' quality + S_pub)^a``; the public commons ``S_pub``
  (expired innovations) helps every member.
- Royalty: the provider takes ``royalty`` of the value its modules add to adopters.
- Complementors (Boudreau 2012, Org. Sci. 23:1409-1427, crowding): a member of quality
  ``q_j >= min_quality`` enters when ``R (1 - royalty) (users / N) q_j / (q_j + Q) >=
  entry_barrier`` with ``Q`` the complementors' total quality; each complementor
  innovates with probability ``innovation_rate * openness`` per period; an innovation
  earns its owner rents for ``ip_duration`` periods, then joins ``S_pub``.
- In-house use (ours): the provider's own productivity is multiplied by ``(1 + (1 -
  openness) * quality of its modules)^a``: what it keeps closed is its exclusive edge, what
  it opens earns royalties as adoption grows. A closed platform (openness 0) has no adopters.
- Core stock: ``a_m <- (1 - decay) a_m + R&D`` with R&D the royalty income over total
  output; keystone or dominator is read off the value-capture share and members'
  productivity in :mod:`.metrics`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rainforest.simulate._setup import add_profit
from rainforest.simulate.engine import Model


def setup(model: Model) -> None:
    eco = model.ecosystems[0]
    a = model.agents
    index: dict[str, int] = model.state["index"]
    modules = list(eco.modules)
    width = max(len(modules), 1)
    a.add_matrix("adopted", width)
    provider = np.full(width, -1, dtype=np.int64)
    quality = np.zeros(width)
    values = [float(m.value_per_adopter or 1.0) for m in modules]
    top = max(values) if values else 1.0
    for m, module in enumerate(modules):
        provider[m] = index.get(module.provider, -1)
        quality[m] = values[m] / top
        for adopter in module.adopters:
            if adopter in index:
                a["adopted"][index[adopter], m] = True
    model.state["platform"] = {
        "provider": provider,
        "quality": quality,
        "modules": len(modules),
        "public": 0.0,
        "innovations": [],  # (period, owner, value)
        "royalty_income": 0.0,
    }


def step(model: Model) -> None:
    plat: dict[str, Any] = model.state["platform"]
    a = model.agents
    p = model.params.platform
    adopted = a["adopted"]
    alive = a.alive
    nm = plat["modules"]
    boost = np.ones(a.n)
    if nm:
        provider = plat["provider"]
        live_provider = (provider >= 0) & alive[np.maximum(provider, 0)]
        members = alive & a["member"][:, 0]
        total = max(int(members.sum()), 1)
        users = (adopted[:, :nm] & members[:, None]).sum(axis=0)
        fit = a["quality"] - 0.5
        eligible = members[:, None] & ~adopted[:, :nm] & live_provider[None, :] & (p.openness > 0)
        eligible[np.maximum(provider, 0)[live_provider], np.flatnonzero(live_provider)] = False
        rows, cols = np.nonzero(eligible)
        utility = fit[rows] + p.beta * (users[cols] / total) ** p.gamma - p.fee
        prob = p.speed / (1.0 + np.exp(-utility / p.noise))
        take = model.rng.random(rows.size) < prob
        if take.any():
            rows, cols = rows[take], cols[take]
            adopted[rows, cols] = True
            model.events.log(model.period, "adoption", rows, provider[cols])
        adopted[~alive, :nm] = False
        quality = plat["quality"][:nm]
        ar, ac = np.nonzero(adopted[:, :nm])
        capital = np.bincount(ar, weights=quality[ac], minlength=a.n)[: a.n]
        public = (1.0 + plat["public"]) ** p.module_effect
        modules = (1.0 + p.openness * capital + plat["public"]) ** p.module_effect / public
        boost = modules * public
        # the provider uses the part of its core it keeps closed in-house, exclusively (ours)
        own = np.bincount(provider[live_provider], weights=quality[live_provider], minlength=a.n)[: a.n]
        boost *= (1.0 + (1.0 - p.openness) * own) ** p.module_effect
        # royalty on the value the modules (not the commons, not in-house use) add
        pay = p.royalty * a["value_added"] * (1.0 - 1.0 / modules)
        add_profit(model, np.arange(a.n), -pay)
        income = np.bincount(ac, weights=pay[ar] * quality[ac] / np.maximum(capital[ar], 1e-12), minlength=nm)[:nm]
        add_profit(model, np.maximum(provider, 0)[live_provider], income[live_provider])
        plat["royalty_income"] = float(income.sum())
        out = float(a["value_added"][alive].sum()) or 1.0
        plat["quality"][:nm] = (1.0 - p.decay) * plat["quality"][:nm] + np.where(live_provider, income / out, 0.0)
        _complementors(model, users.sum() / (total * nm))
    model.state["platform_boost"] = boost


def _complementors(model: Model, user_share: float) -> None:
    p = model.params.platform
    a = model.agents
    plat = model.state["platform"]
    alive = a.alive
    comp = a["complementor"]
    comp &= alive
    q_total = float(a["quality"][comp].sum())
    q = a["quality"]
    expected = p.complement_revenue * (1.0 - p.royalty) * user_share * q / (q + q_total + 1e-12)
    enter = alive & ~comp & a["member"][:, 0] & (q >= p.min_quality) & (expected >= p.entry_barrier)
    enter &= model.rng.random(a.n) < 0.2  # not every eligible firm moves in the same period (ours)
    idx = np.flatnonzero(enter)
    if idx.size:
        comp[idx] = True
        model.events.log(model.period, "complementor entry", idx)
    owners = np.flatnonzero(comp & (model.rng.random(a.n) < p.innovation_rate * p.openness))
    for i in owners.tolist():
        plat["innovations"].append((model.period, i, float(q[i]) * 0.01))
    live: list[tuple[int, int, float]] = []
    rents_idx, rents = [], []
    for born, owner, value in plat["innovations"]:
        if model.period - born >= p.ip_duration:
            plat["public"] += value
        else:
            live.append((born, owner, value))
            rents_idx.append(owner)
            rents.append(value * float(a["size"][owner]))
    plat["innovations"] = live
    if rents_idx:
        add_profit(model, np.asarray(rents_idx), np.asarray(rents))
