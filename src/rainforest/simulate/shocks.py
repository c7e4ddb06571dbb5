"""Shocks and self-regulation: exits, supply disruptions, price and policy shocks.

An ``exit`` shock removes actors; their customers and suppliers then lose output through the
economic systemic-risk cascade of :func:`rainforest.analysis.cascade.cascade` (Diem et al.
2022) on the document's money layer restricted to the living actors: each survivor's size
falls by its loss share, and one losing more than ``cascade_threshold`` exits at the end of
the period (:mod:`.demography`). ``disruption`` scales the supply of the targets' by-products;
``price`` multiplies virgin prices; ``landfill_tax`` and ``subsidy`` set the policy (the
symbiosis test sees them at once). A shock with ``duration`` is undone after that many
periods. Recovery is measured in :mod:`.metrics` (value added against its pre-shock level).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from rainforest.analysis import cascade
from rainforest.errors import CurrencyError, ParameterError, RainforestError, RainforestWarning
from rainforest.simulate.agents import IntArray
from rainforest.simulate.params import Shock, SimulationError

if TYPE_CHECKING:
    from rainforest.simulate.engine import Model

KINDS = ("exit", "disruption", "price", "landfill_tax", "subsidy")


def _targets(model: Model, shock: Shock) -> IntArray:
    found = {t: model.index_of(t) for t in shock.targets}
    missing = [t for t, i in found.items() if i is None]
    if missing:
        raise SimulationError(
            f"shock at period {shock.period}: unknown actor(s) {', '.join(missing)}; expected ids of the document "
            "(or new<i> for an entrant)"
        )
    return np.asarray([found[t] for t in shock.targets], dtype=np.int64)


@dataclass
class ShockState:
    """What shocks leave to undo (period -> what to restore), the periods a shock struck (for
    the recovery metric) and the document's supply network (built at the first exit)."""

    undo: dict[int, list[tuple[str, Any]]] = field(default_factory=dict)
    periods: list[int] = field(default_factory=list)
    supply_network: cascade.SupplyNetwork | None = None

    def step(self, model: Model) -> None:
        undo = self.undo
        for kind, value in undo.pop(model.period, []):
            if kind == "disruption":
                uids, old = value
                a = model.agents
                factor = model.symbiosis.supply_factor
                for u, f in zip(uids.tolist(), old.tolist(), strict=True):
                    found = np.flatnonzero(a["uid"] == u)
                    if found.size and found[0] < factor.size:
                        factor[found[0]] = f
            else:
                model.policy[kind] = value
        for shock in model.params.shocks:
            if shock.period != model.period:
                continue
            if shock.kind not in KINDS:
                raise SimulationError(f"unknown shock kind {shock.kind!r}; expected one of: {', '.join(KINDS)}")
            self.periods.append(model.period)
            end = model.period + shock.duration if shock.duration > 0 else None
            if shock.kind == "exit":
                idx = _targets(model, shock)
                idx = idx[model.agents.alive[idx]]
                model.demography.kill(model, idx, "exit (shock)")
                self._cascade(model, idx)
                _contagion(model, idx)
            elif shock.kind == "disruption":
                idx = _targets(model, shock)
                factor = model.symbiosis.supply_factor
                old = factor[idx].copy()
                factor[idx] = old * max(0.0, 1.0 - shock.magnitude)
                if end is not None:
                    undo.setdefault(end, []).append(("disruption", (model.agents["uid"][idx].copy(), old)))
                model.events.log(model.period, "disruption", idx, detail=f"supply x {1 - shock.magnitude:g}")
            else:
                key = "virgin_price_factor" if shock.kind == "price" else shock.kind
                old_value = model.policy[key]
                model.policy[key] = old_value * (1.0 + shock.magnitude) if shock.kind == "price" else shock.magnitude
                if end is not None:
                    undo.setdefault(end, []).append((key, old_value))
                model.events.log(model.period, shock.kind, [-1], detail=f"{key} = {model.policy[key]:g}")

    def _cascade(self, model: Model, failed: IntArray) -> None:
        """Output lost by the survivors when ``failed`` leave (ESRI cascade, money layer)."""
        eco = model.ecosystems[0]
        alive_ids = set(model.ids(np.flatnonzero(model.agents.alive)))
        # the document's money layer; actors that died earlier already took their partners' losses
        document = set(eco.actor_ids)
        chosen = [name for name in model.ids(failed) if name in document]
        if not chosen:
            return
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RainforestWarning)
                net = self.supply_network
                if net is None:
                    net = cascade.SupplyNetwork.from_ecosystem(eco, valued=True)
                    self.supply_network = net
                result = cascade.cascade(net, dict.fromkeys(chosen, 1.0))
        except (CurrencyError, RainforestError):
            return  # no money layer: exits end links only
        loss = np.asarray(result.loss, dtype=np.float64)
        a = model.agents
        pos = model.positions()
        uids = model.index
        hit = []
        for actor, share in zip(net.ids, loss.tolist(), strict=True):
            if share <= 0 or actor not in alive_ids or actor not in uids:
                continue
            i = int(pos[uids[actor]])
            if i < 0 or not a.alive[i]:
                continue
            a["size"][i] *= max(0.0, 1.0 - share)
            a["cascade_loss"][i] = max(float(a["cascade_loss"][i]), share)
            if share > 1e-9:
                hit.append(i)
        model.events.log(model.period, "cascade loss", hit)


def threshold_cascade(n: int, src: np.ndarray, dst: np.ndarray, seeds: np.ndarray, phi: float) -> np.ndarray:
    """Watts's (2002) threshold cascade on an undirected network.

    A node fails once at least the share ``phi`` of its neighbours have failed; starting
    from the ``seeds``, the rule is applied to every node at once until nothing changes.
    Isolated nodes fail only as seeds.

    Parameters
    ----------
    n:
        The number of nodes (0, 1, ..., n - 1).
    src, dst:
        The edges as two integer arrays of equal length, holding both directions of every
        undirected edge (``src[k] -> dst[k]``), each index in ``[0, n)``.
    seeds:
        The nodes that fail first (integer indices in ``[0, n)``; may be empty).
    phi:
        The threshold, a share of the neighbours in ``[0, 1]``.

    Returns
    -------
    numpy.ndarray
        A boolean mask of length ``n``: the failed nodes at the fixed point.

    Raises
    ------
    ParameterError
        A negative ``n``, edge arrays of unequal length or with an index outside the nodes,
        a seed outside the nodes, a threshold outside [0, 1].

    Notes
    -----
    With ``F`` the failed set and ``k_i`` the degree of node ``i``, a step adds every
    ``i`` with ``k_i > 0`` and ``|N(i) ∩ F| >= phi k_i``. On Erdős-Rényi graphs a single
    seed triggers a global cascade only inside a window of mean degree (Watts 2002, Fig. 1;
    ``rainforest.networks`` computes the window analytically).

    References
    ----------
    Watts, D. J. (2002). A simple model of global cascades on random networks. PNAS
    99(9), 5766-5771.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = np.array([0, 1, 2]), np.array([1, 2, 3])  # the path 0-1-2-3
    >>> threshold_cascade(4, np.r_[a, b], np.r_[b, a], np.array([0]), 0.5).tolist()
    [True, True, True, True]
    >>> threshold_cascade(4, np.r_[a, b], np.r_[b, a], np.array([0]), 0.6).tolist()
    [True, False, False, False]
    """
    where = "threshold_cascade"
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ParameterError(
            f"The 'n' parameter of {where} must be a whole number of at least 0. Got {n!r} instead.", parameter="n"
        )
    try:
        threshold = float(phi)
    except (TypeError, ValueError):
        threshold = math.nan
    if not 0.0 <= threshold <= 1.0:
        raise ParameterError(
            f"The 'phi' parameter of {where} must be a share of the neighbours from 0 to 1. Got {phi!r} instead.",
            parameter="phi",
        )
    arrays = {"src": src, "dst": dst, "seeds": seeds}
    checked: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        arr = np.asarray(value)
        if arr.size == 0:
            arr = arr.astype(np.int64)
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
            raise ParameterError(
                f"The {name!r} parameter of {where} must be a one-dimensional array of node indices. "
                f"Got {arr.dtype} of shape {arr.shape} instead.",
                parameter=name,
            )
        if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= n):
            raise ParameterError(
                f"The {name!r} parameter of {where} must hold node indices from 0 to n - 1 = {n - 1}. "
                f"Got values from {int(arr.min())} to {int(arr.max())} instead.",
                parameter=name,
            )
        checked[name] = arr.astype(np.int64, copy=False)
    if checked["src"].size != checked["dst"].size:
        raise ParameterError(
            f"The 'src' and 'dst' parameters of {where} must have the same length (one entry per edge direction). "
            f"Got {checked['src'].size} and {checked['dst'].size} instead.",
            parameter="dst",
        )
    return _threshold_cascade(n, checked["src"], checked["dst"], checked["seeds"], threshold)


def _threshold_cascade(n: int, src: np.ndarray, dst: np.ndarray, seeds: np.ndarray, phi: float) -> np.ndarray:
    """:func:`threshold_cascade` on checked input (the simulator's own calls)."""
    failed = np.zeros(n, dtype=bool)
    failed[seeds] = True
    degree = np.bincount(src, minlength=n).astype(np.float64)
    while True:
        hit = np.bincount(src, weights=failed[dst].astype(np.float64), minlength=n)
        new = ~failed & (degree > 0) & (hit >= phi * degree)
        if not new.any():
            return failed
        failed |= new


def _contagion(model: Model, failed: IntArray) -> None:
    """With ``params.contagion = phi > 0``, exits spread on the social network by Watts's
    threshold rule."""
    phi = float(model.params.contagion)
    social = model.social
    if phi <= 0 or social is None or failed.size == 0:
        return
    a = model.agents
    dead = ~a.alive
    seeds = np.flatnonzero(dead)
    mask = _threshold_cascade(a.n, social.src, social.dst, seeds, phi)
    new = np.flatnonzero(mask & a.alive)
    if new.size:
        model.demography.kill(model, new, "exit (contagion)")
