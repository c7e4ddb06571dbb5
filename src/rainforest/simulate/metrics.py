"""What the recorder writes each period: health, circularity, diversity, balance, network
(``Params.record = "basic"`` keeps only the period, the actors and the value added).

- Health (Iansiti & Levien 2004): ``productivity`` = value added / inputs (inputs = value
  added - profit: what the actors spent), ``survival`` = share of period-0 actors alive
  (robustness), ``niches`` = occupied (sector, core-capability) niches and
  ``diversity`` = Shannon diversity of members over sectors (niche creation).
- Value capture: the platform providers' share of total profit (``capture``) and the mean
  productivity of adopters (``member_productivity``): keystone = moderate capture with
  rising member productivity; dominator = high capture, stagnant members.
- Circularity: exchanged, disposed and virgin quantities of the symbioses this period and
  ``circularity`` = exchanged / (exchanged + disposed); ``links`` active now and
  ``synergies`` = candidate pairs that have formed a link so far (cumulative).
- Recovery: after a shock, value added over its level in the period before the first shock
  (``recovery``: 1 = fully recovered; the time to 0.9 is read off the series).
- Balance: the largest real part of the eigenvalues of the strata community matrix
  ``J = diag(N) (-C + G)`` (ours; May 1972): ``N`` the strata's value-added shares, ``C``
  self-limitation 1 and Pianka sector overlap between strata, ``G`` the strata's mutual
  benefit from active symbioses (exchanged quantity shares). Negative = a stable balance.
- Lock-in, with rivals: ``locked_in`` = the ecosystem every kind of entrant would now join
  whatever its own preference (0 = the base, then the rivals; -1 while the kinds disagree;
  Arthur 1989); :meth:`rainforest.simulate.scenario.Ensemble.lock_in` reads lock-in
  probabilities and times off it.
- ENA of the evolving exchange network every ``ena_every`` periods (Finn cycling ``FCI``,
  ``ASC.CAP`` and robustness) on the mass layer: the document's flows among living actors
  plus the active symbioses, each gap closed at the boundary.

A metric that cannot be computed (the document has no mass layer, the network is out of
reach of the analysis) is recorded as NaN, and the period's event log says which metric
failed and why (kind ``"metric failed"``, actor ``model``); it never silently disappears.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from rainforest.analysis import ena
from rainforest.errors import RainforestError
from rainforest.model import units
from rainforest.model.flowmatrix import FlowMatrix
from rainforest.simulate._kernels import living_total
from rainforest.simulate.agents import MODEL, FloatArray, IntArray

if TYPE_CHECKING:
    from rainforest.simulate.engine import Model


@dataclass(frozen=True)
class MassLayer:
    """The document's mass layer as arrays over its actors (``Z`` as coordinates, boundary
    inputs and outputs) and a tonne factor per resource of the symbioses."""

    row: IntArray
    col: IntArray
    data: FloatArray
    inputs: FloatArray
    outputs: FloatArray
    factor: dict[str, float]


@dataclass
class MetricsState:
    """What the recorder keeps: the mass layer, built at the first ENA (None when the
    document has none)."""

    mass_layer: MassLayer | None = None
    mass_layer_built: bool = False
    mass_layer_error: str = ""  # why there is no mass layer, when there is none


#: The ENA metrics recorded every ``ena_every`` periods.
ENA_METRICS = ("FCI", "ASC.CAP", "robustness")


def _shannon(counts: np.ndarray) -> float:
    c = counts[counts > 0].astype(np.float64)
    if c.size == 0:
        return 0.0
    p = c / c.sum()
    return float(-(p * np.log(p)).sum())


def collect(model: Model) -> dict[str, float]:
    a = model.agents
    alive = a.alive
    row: dict[str, float] = {"period": float(model.period)}
    if model.params.record == "basic":
        count, total = living_total(alive, a["value_added"])
        row["actors"] = float(count)
        row["value_added"] = float(total)
        if model.competition.types is not None:
            row["locked_in"] = float(model.competition.locked(model))
        return row
    row["actors"] = float(alive.sum())
    strata = np.bincount(a["stratum"][alive], minlength=4)
    for name, count in zip(("canopy", "understory", "shrub", "moss"), strata.tolist(), strict=True):
        row[f"n_{name}"] = float(count)
    va = a["value_added"][alive]
    profit = a["profit"][alive]
    row["value_added"] = float(va.sum())
    inputs = float((va - profit).sum())
    row["productivity"] = float(va.sum()) / inputs if inputs > 0 else math.nan
    initial = model.initial_n
    row["survival"] = float((alive & (a["uid"] < initial)).sum()) / initial if initial else math.nan
    sectors = a["sector"][alive]
    row["diversity"] = _shannon(np.bincount(sectors)) if sectors.size else 0.0
    for s, name in enumerate(("canopy", "understory", "shrub", "moss")):
        row[f"diversity_{name}"] = _shannon(np.bincount(a["sector"][alive & (a["stratum"] == s)]))
    core = a["core"][alive]
    width = core.shape[1]
    main = np.where(core.any(axis=1), core.argmax(axis=1), -1) if width else np.full(sectors.size, -1)
    row["niches"] = float(np.unique(sectors.astype(np.int64) * (width + 1) + main + 1).size)
    flows, model.symbiosis.flows = model.symbiosis.flows, None
    flows = flows or {
        "exchanged": 0.0,
        "disposal": 0.0,
        "virgin": 0.0,
        "benefit": 0.0,
    }
    row.update({k: float(v) for k, v in flows.items()})
    total = flows["exchanged"] + flows["disposal"]
    row["circularity"] = flows["exchanged"] / total if total > 0 else math.nan
    sym = model.symbiosis.candidates
    row["links"] = float(sym.active.sum())
    row["synergies"] = float((sym.ever & ~sym.fixed).sum())
    plat = model.platform
    if plat.modules:
        providers = plat.provider[plat.provider >= 0]
        total_profit = float(np.maximum(profit, 0).sum())
        row["capture"] = (
            float(np.maximum(a["profit"][providers], 0).sum()) / total_profit if total_profit > 0 else math.nan
        )
        adopters = alive & a["adopted"].any(axis=1)
        row["adoption"] = float(adopters.sum()) / max(float(alive.sum()), 1.0)
        row["member_productivity"] = float(a["productivity"][adopters].mean()) if adopters.any() else math.nan
        row["complementors"] = float((a["complementor"] & alive).sum())
    row["balance"] = _balance(model)
    shocks = model.shocks.periods
    if shocks:
        first = min(shocks)  # value added relative to the period before the first shock
        before = [r["value_added"] for r in model.recorder.rows if r["period"] == first]
        if before and before[0] > 0:
            row["recovery"] = row["value_added"] / before[0]
    k = len(model.ecosystems)
    if k > 1:
        for e in range(k):
            row[f"members_{e}"] = float((alive & a["member"][:, e]).sum())
            row[f"value_added_{e}"] = float(a["value_added"][alive & (a["home"] == e)].sum())
        if model.competition.types is not None:
            row["locked_in"] = float(model.competition.locked(model))
    every = int(model.params.ena_every)
    if every > 0 and model.period % every == 0:
        row.update(_ena(model))
    return row


def platform_role(capture: np.ndarray, member_productivity: np.ndarray, adopters: np.ndarray) -> str | None:
    """Keystone or dominator (Iansiti & Levien 2004), read off the series by the rule
    docs/simulation.md states: a keystone captures a moderate share of profit (below one half on
    average) while members' productivity rises; a dominator captures more, or members'
    productivity or numbers stagnate or fall. None without a platform."""
    c = capture[np.isfinite(capture)]
    m = member_productivity[np.isfinite(member_productivity)]
    n = adopters[np.isfinite(adopters)]
    if c.size < 2 or m.size < 2:
        return None
    rising = m[-1] > m[0] and (n.size < 2 or n[-1] >= n[0])
    return "keystone" if float(c.mean()) < 0.5 and rising else "dominator"


def _balance(model: Model) -> float:
    a = model.agents
    alive = a.alive
    s = a["stratum"]
    va = np.array([float(a["value_added"][alive & (s == k)].sum()) for k in range(4)])
    if va.sum() <= 0:
        return math.nan
    n = va / va.sum()
    prof = np.array(
        [np.bincount(a["sector"][alive & (s == k)], minlength=max(len(model.sectors), 1)) for k in range(4)],
        dtype=float,
    )
    C = np.eye(4)
    for i in range(4):
        for j in range(4):
            if i != j:
                den = math.sqrt(float((prof[i] ** 2).sum() * (prof[j] ** 2).sum()))
                C[i, j] = float((prof[i] * prof[j]).sum()) / den if den > 0 else 0.0
    G = np.zeros((4, 4))
    sym = model.symbiosis.candidates
    if sym.src.size:
        act = sym.active & (sym.last_q > 0)
        if act.any():
            np.add.at(G, (s[sym.src[act]], s[sym.dst[act]]), sym.last_q[act])
            G = G + G.T
            G /= max(float(G.sum()), 1e-12)
    J = n[:, None] * (-C + G)  # diag(n) (-C + G) without a BLAS call (no thread pool woken in workers)
    return float(np.linalg.eigvals(J).real.max())


def _failed(model: Model, metrics: tuple[str, ...], reason: str) -> dict[str, float]:
    """NaN for each of ``metrics``, and an event saying which failed and why."""
    model.events.log(model.period, "metric failed", [MODEL], detail=f"{', '.join(metrics)}: {reason}")
    return dict.fromkeys(metrics, math.nan)


def _mass_layer(model: Model) -> MassLayer | None:
    """The document's mass layer as arrays over agent indices, and a tonne factor per
    resource of the symbioses (computed once); None when there is none (the reason is in
    ``model.metrics.mass_layer_error``)."""
    state = model.metrics
    if state.mass_layer_built:
        return state.mass_layer
    state.mass_layer_built = True
    eco = model.ecosystems[0]
    try:
        fm = FlowMatrix.from_ecosystem(eco, "mass")
    except RainforestError as exc:
        state.mass_layer_error = f"the document's mass layer cannot be built: {exc}"
        return None
    Z = fm.Z.tocoo()
    unit = {r.id: r.unit for r in eco.resources}
    factor: dict[str, float] = {}
    for r in set(model.symbiosis.candidates.resource):
        try:
            factor[r] = units.conversion_factor(unit[r], "t")
        except (RainforestError, KeyError):
            factor[r] = 0.0
    state.mass_layer = MassLayer(
        row=Z.row.astype(np.int64),
        col=Z.col.astype(np.int64),
        data=Z.data.astype(np.float64),
        inputs=fm.inputs.copy(),
        outputs=fm.outputs.copy(),
        factor=factor,
    )
    return state.mass_layer


def _ena(model: Model) -> dict[str, float]:
    """ENA of the evolving mass network: the document's flows among living members of the
    base ecosystem plus the symbioses active this period (in tonnes)."""
    layer = _mass_layer(model)
    if layer is None:
        return _failed(model, ENA_METRICS, model.metrics.mass_layer_error)
    a = model.agents
    keep = a.alive & a["member"][:, 0]
    n0 = layer.inputs.size
    where = np.full(n0, -1, dtype=np.int64)  # document actor (uid) -> current index
    doc = np.flatnonzero(a["uid"] < n0)
    where[a["uid"][doc]] = doc
    ok_doc = (where[layer.row] >= 0) & (where[layer.col] >= 0)
    rows = [where[layer.row][ok_doc]]
    cols = [where[layer.col][ok_doc]]
    data = [layer.data[ok_doc]]
    sym = model.symbiosis.candidates
    if sym.src.size:
        act = np.flatnonzero(sym.active & ~sym.fixed & (sym.last_q > 0))
        f = np.array([layer.factor.get(sym.resource[k], 0.0) for k in act.tolist()])
        rows.append(sym.src[act])
        cols.append(sym.dst[act])
        data.append(sym.last_q[act] * f)
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(data)
    ok = keep[r] & keep[c] & (v > 0)
    nodes = np.flatnonzero(keep)
    pos = np.full(a.n, -1, dtype=np.int64)
    pos[nodes] = np.arange(nodes.size)
    m = nodes.size
    if not ok.any() or m < 2:
        return {}
    Z = sp.csr_array((v[ok], (pos[r[ok]], pos[c[ok]])), shape=(m, m))
    inputs = np.zeros(m)
    outputs = np.zeros(m)
    base = nodes[a["uid"][nodes] < n0]
    inputs[pos[base]] = layer.inputs[a["uid"][base]]
    outputs[pos[base]] = layer.outputs[a["uid"][base]]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fm = ena.balance(FlowMatrix.from_arrays(Z, inputs, outputs, np.zeros(m), unit="t"), "boundary")
            flow = ena.flow(fm, dense_limit=0, walkers=20_000)  # the sparse engine: exact per cycle component
            asc = ena.ascendency(fm)
    except RainforestError as exc:
        return _failed(model, ENA_METRICS, f"the ENA of the exchange network failed: {exc}")
    return {"FCI": float(flow.scalars["FCI"]), "ASC.CAP": float(asc["ASC.CAP"]), "robustness": float(asc["robustness"])}
