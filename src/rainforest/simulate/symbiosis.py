"""Symbiosis formation and breakage: the social filter, then the bilateral cost-benefit test.

1. Social filter (Ghali, Frayret & Ahabchane 2017, J. Cleaner Production 161:452-465, as
   NREL's ABSiCE codes it; see docs/simulation.md): firms sit
   on a Watts-Strogatz small world; trust ``T_ij`` moves towards the mean trust of common
   neighbours by the influenceability ``sigma_i``, plus a random social event U(-1, 1),
   clipped to [-1, 1]; knowledge diffuses through trusted contacts plus own learning;
   acceptance rises with the share of neighbours already in a synergy and with new
   knowledge; willingness ``W_ij = A_i`` when ``T_ij >= theta_T`` and ``K_i > theta_K``.
2. Economic test (the Fraccascia / Yazan enterprise input-output family): with
   ``q`` the exchanged quantity, ``TSC = q (c_d + landfill tax + p_v)``, ``TAC = q (c_tr +
   c_tt - subsidy) + F``; the space of cooperation ``max(0, 1 - q p_v / TAC) <= alpha <=
   min(1, q c_d / TAC)`` is non-empty iff ``TSC >= TAC``; the pair takes the equal-surplus
   share ``alpha* = (q c_d - q p_v + TAC) / (2 TAC)`` (Nash bargaining with zero
   disagreement point = two-player Shapley value).
3. Each period supply and demand are drawn (normal, ``supply_cv``); an offer's supply is
   split among its links by planned quantity, each link carries ``min(supply share, demand
   share)``; unmatched waste goes to disposal, unmet need to virgin purchase. A link breaks
   when a partner's net benefit over the last ``break_after`` periods is negative, or when
   a partner exits. Candidate pairs come from :func:`rainforest.optimize.exchanges.candidates`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from rainforest.analysis.networks import erdos_renyi_edges as random_graph
from rainforest.analysis.networks import watts_strogatz_edges as watts_strogatz
from rainforest.optimize import exchanges
from rainforest.simulate._kernels import common_neighbour_mean, ended_links
from rainforest.simulate.agents import BoolArray, FloatArray, IntArray
from rainforest.simulate.params import SimulationError

if TYPE_CHECKING:
    from rainforest.simulate.engine import Model


def space_of_cooperation(q: Any, c_d: Any, p_v: Any, tac: Any) -> tuple[Any, Any]:
    """The cost shares ``alpha`` (producer's share of the additional cost) both firms accept:
    ``(low, high)``; empty when ``low > high``."""
    q, c_d, p_v, tac = (np.asarray(v, dtype=np.float64) for v in (q, c_d, p_v, tac))
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.maximum(0.0, 1.0 - q * p_v / tac)
        high = np.minimum(1.0, q * c_d / tac)
    return low, high


def fair_share(q: Any, c_d: Any, p_v: Any, tac: Any) -> Any:
    """The equal-surplus cost share ``alpha* = (q c_d - q p_v + TAC) / (2 TAC)``."""
    q, c_d, p_v, tac = (np.asarray(v, dtype=np.float64) for v in (q, c_d, p_v, tac))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (q * c_d - q * p_v + tac) / (2.0 * tac)


@dataclass
class SocialNetwork:
    """The firms' acquaintances (both directions of every undirected edge) with the trust of
    ``src`` in ``dst``, its running mean and the number of periods averaged; used by symbiosis,
    openness and contagion. ``known``: agents already connected (entrants beyond it join)."""

    src: IntArray
    dst: IntArray
    trust: FloatArray
    mean: FloatArray
    count: FloatArray
    known: int = 0

    @classmethod
    def setup(cls, model: Model) -> SocialNetwork | None:
        """Per ecosystem, a small world or a random graph; None when no mechanism uses it
        (symbiosis, openness and contagion all off: it would only cost draws)."""
        p = model.params.symbiosis
        if p.network not in ("small-world", "random"):
            raise SimulationError(f"unknown social network {p.network!r}; expected small-world or random")
        rng = model.rng
        needs_social = p.enabled or model.params.openness.enabled or model.params.contagion > 0
        src_list, dst_list = [], []
        home = model.agents["home"]
        for k in range(len(model.ecosystems) if needs_social else 0):
            members = np.flatnonzero(home == k)
            if p.network == "random":
                s, d = random_graph(members.size, p.social_degree, rng)
            else:
                s, d = watts_strogatz(members.size, p.social_degree, p.rewiring, rng)
            src_list.append(members[s])
            dst_list.append(members[d])
        src = np.concatenate(src_list) if src_list else np.zeros(0, dtype=np.int64)
        dst = np.concatenate(dst_list) if dst_list else np.zeros(0, dtype=np.int64)
        both_src, both_dst = np.concatenate([src, dst]), np.concatenate([dst, src])
        trust = rng.uniform(-1.0, 1.0, both_src.size)
        social = cls(both_src, both_dst, trust, trust.copy(), np.ones(both_src.size))
        return social if needs_social else None

    def remap(self, pos: IntArray) -> None:
        """Agents moved to ``pos`` (-1: dropped): edges with a dropped end go."""
        if not self.src.size:
            return
        rows = np.flatnonzero((pos[self.src] >= 0) & (pos[self.dst] >= 0))
        self.src, self.dst = pos[self.src[rows]], pos[self.dst[rows]]
        self.trust, self.mean, self.count = self.trust[rows], self.mean[rows], self.count[rows]

    def connect_newcomers(self, model: Model) -> None:
        """Entrants join the social network of their home ecosystem: ``social_degree / 2``
        contacts drawn uniformly among living members, trust U(-1, 1)."""
        a = model.agents
        known = self.known or int(max(self.src.max(initial=-1), self.dst.max(initial=-1)) + 1)
        if a.n <= known:
            self.known = a.n
            return
        new = np.arange(known, a.n)
        new = new[a.alive[new]]
        rng = model.rng
        half = max(1, model.params.symbiosis.social_degree // 2)
        src_l, dst_l = [], []
        for k in np.unique(a["home"][new]).tolist():
            pool = np.flatnonzero(a.alive & (a["home"] == k))
            mine = new[a["home"][new] == k]
            if pool.size < 2:
                continue
            picks = rng.integers(0, pool.size, (mine.size, half))
            src_l.append(np.repeat(mine, half))
            dst_l.append(pool[picks.ravel()])
        if src_l:
            s, d = np.concatenate(src_l), np.concatenate(dst_l)
            keep = s != d
            s, d = s[keep], d[keep]
            trust = rng.uniform(-1.0, 1.0, 2 * s.size)
            self.src = np.concatenate([self.src, s, d])
            self.dst = np.concatenate([self.dst, d, s])
            self.trust = np.concatenate([self.trust, trust])
            self.mean = np.concatenate([self.mean, trust])
            self.count = np.concatenate([self.count, np.ones(trust.size)])
        self.known = a.n


@dataclass
class Candidates:
    """The candidate pairs (one row each, columns over the pairs): producer ``src``, user
    ``dst`` and ``resource``; planned quantity ``q`` and unit terms ``c_d`` (disposal),
    ``p_v`` (virgin price), ``c_tr`` (transport), ``c_tt`` (treatment), fixed cost ``F``;
    the offer and need rows (-1 for the document's own exchanges, ``fixed``); the pair's
    trust, whether it is ``active``, its cost share ``alpha``, the quantity exchanged this
    period ``last_q``, the net benefits of the last periods ``history`` (period, pair,
    partner), when it formed and whether it ``ever`` did."""

    src: IntArray
    dst: IntArray
    resource: npt.NDArray[np.object_]
    q: FloatArray
    c_d: FloatArray
    p_v: FloatArray
    c_tr: FloatArray
    c_tt: FloatArray
    F: FloatArray
    offer: IntArray
    need: IntArray
    fixed: BoolArray
    trust: FloatArray
    active: BoolArray
    alpha: FloatArray
    last_q: FloatArray
    history: FloatArray
    formed_at: IntArray
    ever: BoolArray

    def remap(self, pos: IntArray) -> None:
        """Agents moved to ``pos`` (-1: dropped): pairs with a dropped end go."""
        if not self.src.size:
            return
        rows = np.flatnonzero((pos[self.src] >= 0) & (pos[self.dst] >= 0))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            setattr(self, f.name, value[:, rows, :] if f.name == "history" else value[rows])
        self.src = pos[self.src]
        self.dst = pos[self.dst]


@dataclass
class SymbiosisState:
    """The candidate pairs, the supply factor of each agent (shocks scale it) and this
    period's exchanged, disposed and virgin quantities with the net benefit (for the record)."""

    candidates: Candidates
    supply_factor: FloatArray
    flows: dict[str, float] | None = None

    @classmethod
    def setup(cls, model: Model) -> SymbiosisState:
        """Candidate pairs from :func:`rainforest.optimize.exchanges.candidates` (base
        ecosystem) and the document's active residue exchanges between actors."""
        p = model.params.symbiosis
        index = model.index
        rng = model.rng
        eco = model.ecosystems[0]
        rows: dict[str, list[Any]] = {
            k: [] for k in ("src", "dst", "resource", "q", "c_d", "p_v", "c_tr", "F", "offer", "need", "fixed")
        }
        links = {(lk.source, lk.target, lk.resource): lk for lk in eco.links}
        disposal = np.nan_to_num(eco.table("offers").numbers("disposal_cost")) if len(eco.offers) else np.zeros(0)
        if eco.offers and eco.needs and p.enabled:  # disabled: only the document's own exchanges stay
            for c in exchanges.candidates(eco, per_need=p.per_need):
                c_d = float(disposal[c.offer])
                link = links.get((c.source, c.target, c.resource))
                rows["src"].append(index[c.source])
                rows["dst"].append(index[c.target])
                rows["resource"].append(c.resource)
                rows["q"].append(float(c.upper))
                rows["c_d"].append(c_d)
                rows["p_v"].append(float(c.unit_saving + c.unit_transport - c_d))
                rows["c_tr"].append(float(c.unit_transport))
                rows["F"].append(
                    float(link.fixed_cost) if link is not None and link.fixed_cost is not None else p.transaction_cost
                )
                rows["offer"].append(c.offer)
                rows["need"].append(c.need)
                rows["fixed"].append(False)
        # existing residue exchanges between actors stay as links (economics unknown: they end only with a partner)
        flows = eco.table("flows")
        for source, target, resource, kind, status, quantity in zip(
            flows.texts("from"),
            flows.texts("to"),
            flows.texts("resource"),
            flows.texts("kind"),
            flows.texts("status"),
            flows.numbers("quantity").tolist(),
            strict=True,
        ):
            if (
                status == "active"
                and kind in ("by-product", "waste")
                and source in index
                and target in index
                and not math.isnan(quantity)  # a flow marked 'quantified: false' has no quantity to simulate
            ):
                rows["src"].append(index[source])
                rows["dst"].append(index[target])
                rows["resource"].append(resource)
                rows["q"].append(float(quantity))
                for key in ("c_d", "p_v", "c_tr", "F"):
                    rows[key].append(0.0)
                rows["offer"].append(-1)
                rows["need"].append(-1)
                rows["fixed"].append(True)
        nc = len(rows["src"])
        fixed = np.asarray(rows["fixed"], dtype=np.bool_)
        candidates = Candidates(
            src=np.asarray(rows["src"], dtype=np.int64),
            dst=np.asarray(rows["dst"], dtype=np.int64),
            resource=_objects(rows["resource"]),
            q=np.asarray(rows["q"], dtype=np.float64),
            c_d=np.asarray(rows["c_d"], dtype=np.float64),
            p_v=np.asarray(rows["p_v"], dtype=np.float64),
            c_tr=np.asarray(rows["c_tr"], dtype=np.float64),
            c_tt=np.full(nc, p.treatment_cost),
            F=np.asarray(rows["F"], dtype=np.float64),
            offer=np.asarray(rows["offer"], dtype=np.int64),
            need=np.asarray(rows["need"], dtype=np.int64),
            fixed=fixed,
            trust=rng.uniform(-1.0, 1.0, nc),
            active=fixed.copy(),
            alpha=np.full(nc, 0.5),
            last_q=np.where(fixed, np.asarray(rows["q"], dtype=np.float64), 0.0),
            history=np.zeros((max(p.break_after, 1), nc, 2)),
            formed_at=np.zeros(nc, dtype=np.int64),
            ever=fixed.copy(),
        )
        return cls(candidates, np.ones(model.agents.n))

    def step(self, model: Model) -> None:
        """Trust, knowledge and acceptance on the social network; then links form, exchange
        and break."""
        p = model.params.symbiosis
        a = model.agents
        rng = model.rng
        social, sym = model.social, self.candidates
        assert social is not None  # built whenever symbiosis is enabled
        alive = a.alive
        social.connect_newcomers(model)
        s_src, s_dst = social.src, social.dst
        live_edge = alive[s_src] & alive[s_dst]
        # trust (reputation + random social events) on social edges and candidate pairs
        c_src, c_dst = sym.src, sym.dst
        rep, rep_c = _common_neighbour_mean(model, social, [(s_src, s_dst), (c_src, c_dst)])
        sigma = a["sigma"]
        new_t = np.clip(social.mean + sigma[s_src] * (rep - social.mean) + rng.uniform(-1, 1, s_src.size), -1.0, 1.0)
        social.trust = np.where(live_edge, new_t, social.trust)
        social.count += live_edge
        social.mean += np.where(live_edge, (social.trust - social.mean) / social.count, 0.0)
        if c_src.size:
            sym.trust = np.clip(
                sym.trust + sigma[c_src] * (rep_c - sym.trust) + rng.uniform(-1, 1, c_src.size) * 0.5, -1.0, 1.0
            )
        # knowledge through trusted contacts, plus own learning
        k_old = a["knowledge"].copy()
        trusted = live_edge & (social.trust >= p.theta_trust)
        gain = np.where(trusted, rng.uniform(0, 1, s_src.size) * (k_old[s_dst] - k_old[s_src]), 0.0)
        k_new = k_old + sigma * np.bincount(s_src, weights=gain, minlength=a.n) + rng.uniform(0, p.learning, a.n)
        a["knowledge"][:] = np.where(alive, np.clip(k_new, 0.0, 1.0), k_old)
        # acceptance: neighbours already in a synergy, and new knowledge
        in_syn = np.zeros(a.n, dtype=bool)
        act = sym.active
        in_syn[c_src[act]] = True
        in_syn[c_dst[act]] = True
        deg = np.bincount(s_src, weights=live_edge.astype(float), minlength=a.n)
        share = np.bincount(s_src, weights=(live_edge & in_syn[s_dst]).astype(float), minlength=a.n) / np.maximum(
            deg, 1.0
        )
        acc = a["acceptance"] + sigma * share + a["kappa"] * (a["knowledge"] - k_old)
        a["acceptance"][:] = np.where(alive, np.clip(acc, 0.0, 1.0), a["acceptance"])
        if c_src.size == 0:
            return
        self._form(model)
        self._exchange(model)

    def _terms(self, model: Model) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Per candidate: disposal saving with the landfill tax, virgin price with its shock
        factor, and the per-unit additional cost net of the subsidy."""
        sym, pol = self.candidates, model.policy
        c_d = sym.c_d + pol["landfill_tax"]
        p_v = sym.p_v * pol["virgin_price_factor"]
        unit = sym.c_tr + sym.c_tt - pol["subsidy"]
        return c_d, p_v, unit

    def _form(self, model: Model) -> None:
        p = model.params.symbiosis
        a = model.agents
        sym = self.candidates
        alive = a.alive
        src, dst = sym.src, sym.dst
        willing = (sym.trust >= p.theta_trust) & (a["knowledge"][src] > p.theta_knowledge)
        w = np.where(willing, a["acceptance"][src], 0.0)
        meet = model.rng.random(src.size) < p.tries
        open_ = ~sym.active & alive[src] & alive[dst] & (w >= p.theta_willingness) & meet & ~sym.fixed
        if not open_.any():
            return
        c_d, p_v, unit = self._terms(model)
        q = sym.q
        tac = q * unit + sym.F
        tsc = q * (c_d + p_v)
        forms = open_ & (tsc >= tac) & (tac > 0)
        k = np.flatnonzero(forms)
        if k.size == 0:
            return
        sym.active[k] = True
        sym.ever[k] = True
        sym.alpha[k] = np.clip(fair_share(q[k], c_d[k], p_v[k], tac[k]), 0.0, 1.0)
        sym.history[:, k, :] = 0.0
        sym.formed_at[k] = model.period
        model.events.log(model.period, "link formed", src[k], dst[k])

    def _exchange(self, model: Model) -> None:
        """This period's quantities, payments, disposal and virgin purchases; breakage."""
        p = model.params.symbiosis
        a = model.agents
        rng = model.rng
        sym = self.candidates
        act = sym.active & a.alive[sym.src] & a.alive[sym.dst]
        q_plan = sym.q
        factor = self.supply_factor
        if factor.size < a.n:
            factor = np.concatenate([factor, np.ones(a.n - factor.size)])
            self.supply_factor = factor
        noise_s = np.maximum(0.0, 1.0 + p.supply_cv * rng.standard_normal(q_plan.size))
        noise_d = np.maximum(0.0, 1.0 + p.supply_cv * rng.standard_normal(q_plan.size))
        supply = q_plan * noise_s * factor[sym.src]
        demand = q_plan * noise_d
        q = np.where(act, np.minimum(supply, demand), 0.0)
        sym.last_q = q
        c_d, p_v, unit = self._terms(model)
        tac = q * unit + np.where(act, sym.F, 0.0)
        alpha = sym.alpha
        nb_i = np.where(act & ~sym.fixed, q * c_d - alpha * tac, 0.0)
        nb_j = np.where(act & ~sym.fixed, q * p_v - (1.0 - alpha) * tac, 0.0)
        model.add_profit(sym.src, nb_i)
        model.add_profit(sym.dst, nb_j)
        hist = sym.history
        hist[:-1] = hist[1:].copy()
        hist[-1, :, 0] = nb_i
        hist[-1, :, 1] = nb_j
        self.flows = {
            "exchanged": float(q.sum()),
            "disposal": float(np.where(act, np.maximum(supply - q, 0.0), 0.0).sum()),
            "virgin": float(np.where(act, np.maximum(demand - q, 0.0), 0.0).sum()),
            "benefit": float((nb_i + nb_j).sum()),
        }
        full = model.period - sym.formed_at >= hist.shape[0]
        losing = act & ~sym.fixed & full & ((hist[:, :, 0].sum(axis=0) < 0) | (hist[:, :, 1].sum(axis=0) < 0))
        k = np.flatnonzero(losing)
        if k.size:
            sym.active[k] = False
            model.events.log(model.period, "link broken", sym.src[k], sym.dst[k], "net benefit < 0")

    def drop_actors(self, model: Model, idx: IntArray) -> None:
        """End the links of actors that leave."""
        sym = self.candidates
        if sym.src.size == 0:
            return
        k = ended_links(sym.active, sym.src, sym.dst, np.asarray(idx, dtype=np.int64), model.agents.n)
        if k.size:
            sym.active[k] = False
            model.events.log(model.period, "link broken", sym.src[k], sym.dst[k], "partner exit")


def _common_neighbour_mean(
    model: Model, social: SocialNetwork, pairs: list[tuple[IntArray, IntArray]]
) -> list[FloatArray]:
    """For each (i, j) of each list: mean trust of i in the common living neighbours of i
    and j (0 without any); the adjacency is sorted once for all lists."""
    if social.src.size == 0:
        return [np.zeros(i.size) for i, _ in pairs]
    alive = model.agents.alive
    live = alive[social.src] & alive[social.dst]
    return common_neighbour_mean(model.agents.n, social.src[live], social.dst[live], social.trust[live], pairs)


def _objects(values: list[Any]) -> np.ndarray:
    """A 1-d object array (resource ids per candidate: compaction indexes it like the rest)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
