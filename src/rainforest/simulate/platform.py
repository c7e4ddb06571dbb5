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

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from rainforest.simulate.agents import FloatArray, IntArray

if TYPE_CHECKING:
    from rainforest.simulate.engine import Model


@dataclass
class PlatformState:
    """The modules' providers (agent index, -1 without one) and quality, the public
    commons, the live innovations ``(period, owner, value)``, last period's royalty income,
    and this period's productivity boost of every agent (for production)."""

    provider: IntArray
    quality: FloatArray
    modules: int
    public: float = 0.0
    innovations: list[tuple[int, int, float]] = field(default_factory=list)
    royalty_income: float = 0.0
    boost: FloatArray | None = None

    @classmethod
    def setup(cls, model: Model) -> PlatformState:
        eco = model.ecosystems[0]
        a = model.agents
        index = model.index
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
        return cls(provider, quality, len(modules))

    def remap(self, pos: IntArray) -> None:
        """Agents moved to ``pos`` (-1: dropped)."""
        provider = self.provider
        self.provider = np.where(provider >= 0, pos[np.maximum(provider, 0)], -1)
        self.innovations = [(t, int(pos[i]), v) for t, i, v in self.innovations if pos[i] >= 0]

    def step(self, model: Model) -> None:
        a = model.agents
        p = model.params.platform
        adopted = a["adopted"]
        alive = a.alive
        nm = self.modules
        boost = np.ones(a.n)
        if nm:
            provider = self.provider
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
            quality = self.quality[:nm]
            ar, ac = np.nonzero(adopted[:, :nm])
            capital = np.bincount(ar, weights=quality[ac], minlength=a.n)[: a.n]
            public = (1.0 + self.public) ** p.module_effect
            modules = (1.0 + p.openness * capital + self.public) ** p.module_effect / public
            boost = modules * public
            # the provider uses the part of its core it keeps closed in-house, exclusively (ours)
            own = np.bincount(provider[live_provider], weights=quality[live_provider], minlength=a.n)[: a.n]
            boost *= (1.0 + (1.0 - p.openness) * own) ** p.module_effect
            # royalty on the value the modules (not the commons, not in-house use) add
            pay = p.royalty * a["value_added"] * (1.0 - 1.0 / modules)
            model.add_profit(np.arange(a.n), -pay)
            income = np.bincount(ac, weights=pay[ar] * quality[ac] / np.maximum(capital[ar], 1e-12), minlength=nm)[:nm]
            model.add_profit(np.maximum(provider, 0)[live_provider], income[live_provider])
            self.royalty_income = float(income.sum())
            out = float(a["value_added"][alive].sum()) or 1.0
            self.quality[:nm] = (1.0 - p.decay) * self.quality[:nm] + np.where(live_provider, income / out, 0.0)
            self._complementors(model, users.sum() / (total * nm))
        self.boost = boost

    def _complementors(self, model: Model, user_share: float) -> None:
        p = model.params.platform
        a = model.agents
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
            self.innovations.append((model.period, i, float(q[i]) * 0.01))
        live: list[tuple[int, int, float]] = []
        rents_idx, rents = [], []
        for born, owner, value in self.innovations:
            if model.period - born >= p.ip_duration:
                self.public += value
            else:
                live.append((born, owner, value))
                rents_idx.append(owner)
                rents.append(value * float(a["size"][owner]))
        self.innovations = live
        if rents_idx:
            model.add_profit(np.asarray(rents_idx), np.asarray(rents))
