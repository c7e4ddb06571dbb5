"""Openness and positioning: outsourcing non-core activities, the cost of redundant
investment, and self-upgrading by imitation and mutation.

- Outsourcing (docs/simulation.md, comparative advantage): an actor
  running capability c outside its core pays ``noncore_cost``; a living member of its
  ecosystem holding c as core supplies it at ``core_cost`` plus a transaction cost
  ``tau_i = transaction_cost * (1 - trust_i)`` with ``trust_i`` the actor's mean positive
  trust in its contacts (trust lowers transaction costs). When the provider is cheaper the
  actor drops c with probability ``outsource_rate`` per period and the provider earns a
  service margin.
- Redundant investment: each non-core capability a cheaper provider could supply costs
  ``penalty`` of productivity (the report's ``redundancies`` of
  :mod:`rainforest.analysis.positioning`, made a cost).
- Self-upgrading (Nelson & Winter 1982, An Evolutionary Theory of Economic Change): each
  actor looks at one random contact; if the contact's profit rate is higher it copies one
  of the contact's core capabilities with probability ``imitation * gap``; and with
  probability ``mutation`` it gains or loses one random core capability (local search).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rainforest.simulate.agents import FloatArray

if TYPE_CHECKING:
    from rainforest.simulate.engine import Model


def _trust(model: Model) -> FloatArray:
    a = model.agents
    social = model.social
    if social is None or social.src.size == 0:
        return np.zeros(a.n)
    pos = np.maximum(social.trust, 0.0)
    total = np.bincount(social.src, weights=pos, minlength=a.n)[: a.n]
    count = np.bincount(social.src, minlength=a.n)[: a.n]
    return np.asarray(total / np.maximum(count, 1))


@dataclass
class OpennessState:
    """This period's productivity factor of every agent for its redundant non-core
    investment (for production; None before the first outsourcing step)."""

    factor: FloatArray | None = None

    def outsource(self, model: Model) -> None:
        p = model.params.openness
        a = model.agents
        alive = a.alive
        core, noncore = a["core"], a["noncore"]
        k = len(model.ecosystems)
        held = np.zeros((k, core.shape[1]), dtype=bool)
        home = a["home"]
        for e in range(k):
            held[e] = (core & (alive & (home == e))[:, None]).any(axis=0)
        tau = p.transaction_cost * (1.0 - _trust(model))
        cheaper = (p.core_cost + tau) < p.noncore_cost
        available = noncore & held[home] & alive[:, None]
        redundant = (available & cheaper[:, None]).sum(axis=1)
        take = available & cheaper[:, None] & (model.rng.random(noncore.shape) < p.outsource_rate)
        rows, cols = np.nonzero(take)
        if rows.size:
            noncore[rows, cols] = False
            model.events.log(model.period, "outsourced", rows, detail="non-core capability bought in")
            # a provider per capability: the largest living holder in the buyer's ecosystem
            for c in np.unique(cols).tolist():
                buyers = rows[cols == c]
                for e in np.unique(home[buyers]).tolist():
                    holders = np.flatnonzero(core[:, c] & alive & (home == e))
                    provider = holders[np.argmax(a["size"][holders])]
                    mine = buyers[home[buyers] == e]
                    model.add_profit(np.full(mine.size, provider), 0.005 * a["size"][mine])
        redundant = redundant - np.bincount(rows, minlength=a.n)[: a.n]
        a["redundant"][:] = np.maximum(redundant, 0)
        self.factor = np.maximum(0.0, 1.0 - p.penalty * a["redundant"])

    def evolve(self, model: Model) -> None:
        p = model.params.openness
        a = model.agents
        rng = model.rng
        alive = a.alive
        core = a["core"]
        social = model.social
        n, width = core.shape
        if social is not None and social.src.size:
            # one random contact per actor: pick a random directed edge out of each actor
            order = np.argsort(social.src, kind="stable")
            src_sorted = social.src[order]
            starts = np.searchsorted(src_sorted, np.arange(n))
            ends = np.searchsorted(src_sorted, np.arange(n), side="right")
            has = ends > starts
            pick = starts + (rng.random(n) * np.maximum(ends - starts, 1)).astype(np.int64)
            contact = np.where(has, social.dst[order][np.minimum(pick, src_sorted.size - 1)], -1)
            rate = a["profit"] / np.maximum(a["value_added"], 1e-12)
            ok = has & alive & (contact >= 0)
            gap = np.where(ok, rate[np.maximum(contact, 0)] - rate, 0.0)
            copy = ok & (gap > 0) & (rng.random(n) < p.imitation * gap * 10.0)
            for i in np.flatnonzero(copy).tolist():
                j = int(contact[i])
                new = np.flatnonzero(core[j] & ~core[i])
                if new.size:
                    core[i, new[rng.integers(0, new.size)]] = True
                    model.events.log(model.period, "imitation", [i], [j])
        mutate = alive & (rng.random(n) < p.mutation)
        idx = np.flatnonzero(mutate)
        if idx.size and width:
            cols = rng.integers(0, width, idx.size)
            core[idx, cols] = ~core[idx, cols]
            model.events.log(model.period, "mutation", idx)
