"""An ecosystem as several networks at once, and failures that cross between them.

An industrial ecosystem is a supply network (money for goods and services), a web of
by-product and waste exchanges, a platform of shared modules and a map of places, all
over the same actors. :class:`Layers` is that view of one :class:`Ecosystem`, with the
dependency map between the layers: which actor depends on which, through which layer,
and what losing it costs. :func:`layered_cascade` propagates a failure across the layers
to a fixed point; :func:`layered_profile` runs every actor's failure alone.

The rules (docs/layers.md explains them with the citations):

(L1) Supply layer. The money layer of :mod:`rainforest.analysis.cascade` (Diem et al.
     2022, Sci. Rep. 12:7719): downstream ``D_j`` (a supplier's lost output cuts its
     customers' inputs, generalized Leontief) and upstream ``U_i`` (a customer's lost
     output cuts its suppliers' sales) with the same operators and damping. ``ld`` and
     ``lu`` keep the two cascades apart as ESRI does.
(L2) By-product layer. A flow of kind ``by-product`` or ``waste`` from actor ``s`` to actor
     ``c`` shrinks with ``s``'s output: ``L_s * q`` units stop per period. Where the input is
     *essential* for ``c`` (the flow's ``input_class``, else the essentiality table, else
     non-essential), ``c`` stops in proportion to the share of its supply of that resource
     that is lost, ``B_c = max_r sum_s q_scr L_s / Q_cr`` (``Q_cr`` all of ``c``'s active
     inflows of ``r``, from outside the ecosystem too). A *non-essential* input is bought
     as virgin: extra cost ``L_s q (p_virgin - p_by-product)`` per period. A *negligible*
     one costs nothing.
(L3) Platform layer. Module ``m`` of provider ``p`` works at level ``1 - M_m`` with
     ``M_m = 1`` while withdrawn, else ``L_p``; an adopter ``a`` loses
     ``P_a = min(1, sum_m capacity_share_m M_m)`` of its output and the value
     ``value_per_adopter_m M_m`` per period. An unknown ``capacity_share`` is never a
     number: the cascade runs with it at 0 (``loss``, a lower bound) and at 1
     (``loss_upper``), and lists the module as unquantified.
(L4) Coupling. An actor's loss is ``L = max(phi, ld, lu)`` with
     ``ld = min(1, max(phi, B, P, D))`` and ``lu = min(1, max(phi, B, P, U))``: a loss
     that comes through another layer acts in the supply layer as a shock does, in both
     directions. Starting from the shock, the sweeps (every update from the previous
     sweep's state) rise monotonically to the least fixed point; they stop when the
     largest change is at most 1e-14. With the supply layer alone this is exactly the
     ESRI cascade at its fixed point.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from rainforest.analysis.cascade import (
    CLASS_CODES,
    ESSENTIAL,
    NON_ESSENTIAL,
    SupplyNetwork,
    _damping,
    _Operators,
    _operators,
    _warn_undamped,
)
from rainforest.choices import CascadeDamping as Damping
from rainforest.errors import CurrencyError, ParameterError, RainforestError, UnknownIdError, check_choice
from rainforest.model.ecosystem import Ecosystem
from rainforest.model.table import Table

__all__ = [
    "LAYERS",
    "ByproductLayer",
    "Dependencies",
    "LayeredCascadeResult",
    "LayeredProfile",
    "Layers",
    "PlatformLayer",
    "SpatialLayer",
    "layered_cascade",
    "layered_profile",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Layer = Literal["supply", "byproducts", "platform"]
#: The layers a failure can travel through, in the order results list them.
LAYERS: tuple[Layer, ...] = get_args(Layer)
BYPRODUCT_KINDS = ("by-product", "waste")
FIXED_POINT_TOL = 1e-14
MAX_SWEEPS = 100_000
#: A loss above this counts an actor as reached (and a dependence it cuts as touched):
#: smaller ones are the numerical tail of the fixed point, below any data's precision.
REACH = 1e-9
EARTH_RADIUS_KM = 6371.0088
_CLASS_NAMES = {v: k for k, v in CLASS_CODES.items()}


def _check_layers(layers: Iterable[str] | str, where: str) -> tuple[Layer, ...]:
    """The layers asked for, checked (a word not in :data:`LAYERS` is a ParameterError)."""
    names = [s.strip() for s in layers.split(",")] if isinstance(layers, str) else list(layers)
    chosen: list[Layer] = []
    for name in names:
        check_choice("layers", name, Layer, where=where)
        if name not in chosen:
            chosen.append(name)  # type: ignore[arg-type]  # checked just above
    return tuple(layer for layer in LAYERS if layer in chosen)


# ---------------------------------------------------------------------------- the layers


@dataclass(frozen=True, eq=False)
class ByproductLayer:
    """Flows of kind by-product or waste between two actors, one entry per flow.

    ``supplier``/``customer`` are actor positions; ``quantity`` is per period in the
    resource's unit; ``input_class`` 0 negligible, 1 non-essential, 2 essential;
    ``customer_input`` is all of the customer's active inflows of that resource (``Q``
    of L2); ``substitute`` the virgin resource that replaces it, ``virgin_price`` and
    ``byproduct_price`` money per unit (NaN = unknown), ``extra_cost_per_unit`` their
    difference (NaN when either is unknown, and ``reason`` says why); ``distance_km`` the
    great-circle distance where both actors have a location.
    """

    supplier: IntArray
    customer: IntArray
    resource: tuple[str, ...]
    quantity: FloatArray
    input_class: npt.NDArray[np.int8]
    customer_input: FloatArray
    substitute: tuple[str | None, ...]
    virgin_price: FloatArray
    byproduct_price: FloatArray
    reason: tuple[str | None, ...]
    distance_km: FloatArray
    skipped: int = 0  # by-product flows between actors left out (not active or not quantified)

    @property
    def extra_cost_per_unit(self) -> FloatArray:
        """``virgin_price - byproduct_price`` per link (NaN where either is unknown)."""
        return self.virgin_price - self.byproduct_price

    def __len__(self) -> int:
        return len(self.supplier)


@dataclass(frozen=True, eq=False)
class PlatformLayer:
    """Modules and their adoptions.

    ``provider[m]`` is the actor position of module ``m``'s provider; ``capacity_share``,
    ``value_per_adopter`` and ``switching_cost`` per module (NaN = unknown); one entry of
    ``adoption_module``/``adopter`` per (module, adopter) pair.
    """

    modules: tuple[str, ...]
    provider: IntArray
    kind: tuple[str | None, ...]
    capacity_share: FloatArray
    value_per_adopter: FloatArray
    switching_cost: FloatArray
    adoption_module: IntArray
    adopter: IntArray

    def __len__(self) -> int:
        return len(self.modules)

    def index(self, module: str) -> int:
        """Position of ``module``; :class:`UnknownIdError` names the nearest ids."""
        try:
            return self._positions[module]
        except KeyError:
            raise UnknownIdError("module", module, self.modules) from None

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {m: k for k, m in enumerate(self.modules)}


@dataclass(frozen=True, eq=False)
class SpatialLayer:
    """Where the actors are: latitude and longitude in degrees (NaN = no location)."""

    ids: tuple[str, ...]
    lat: FloatArray
    lon: FloatArray

    @property
    def located(self) -> npt.NDArray[np.bool_]:
        """Whether each actor has a location."""
        return np.isfinite(self.lat) & np.isfinite(self.lon)

    def distances_km(self, origin: int, targets: IntArray | Sequence[int] | None = None) -> FloatArray:
        """Great-circle distances (haversine, km) from actor position ``origin`` to
        ``targets`` (default every actor); NaN where either has no location."""
        t = np.arange(len(self.ids)) if targets is None else np.asarray(targets, dtype=np.int64)
        return _haversine(self.lat[origin], self.lon[origin], self.lat[t], self.lon[t])

    def distance_km(self, a: str, b: str) -> float | None:
        """Distance between two actors, ``None`` when either has no location."""
        i, j = self._pos(a), self._pos(b)
        d = float(_haversine(self.lat[i], self.lon[i], self.lat[j : j + 1], self.lon[j : j + 1])[0])
        return None if math.isnan(d) else d

    def within(self, lat: float, lon: float, radius_km: float) -> tuple[str, ...]:
        """Actors at most ``radius_km`` from (``lat``, ``lon``): the failed set of a
        regional shock (a flood, a blackout). Actors without a location are not in it."""
        if not (math.isfinite(radius_km) and radius_km >= 0):
            raise ParameterError(
                f"The 'radius_km' parameter of SpatialLayer.within must be a distance >= 0. Got {radius_km!r} instead.",
                parameter="radius_km",
            )
        d = _haversine(float(lat), float(lon), self.lat, self.lon)
        return tuple(a for a, x in zip(self.ids, (d <= radius_km).tolist(), strict=True) if x)

    def _pos(self, actor: str) -> int:
        try:
            return self.ids.index(actor)
        except ValueError:
            raise UnknownIdError("actor", actor, self.ids) from None


def _haversine(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> FloatArray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    out: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True)
class Dependencies:
    """The dependency map: one row per (dependent actor, actor it depends on, layer, via).

    ``share_lost`` is the share of the dependent's output that stops at once when the
    other fails entirely (NaN = unknown; 0 where the layer's rule costs money instead);
    ``extra_cost`` the money per period it pays or loses instead (NaN = unknown); ``stop``
    whether the input is essential (production stops in proportion); ``reason`` says why
    a number is unknown.
    """

    rows: tuple[dict[str, Any], ...]

    COLUMNS = ("actor", "depends_on", "layer", "via", "direction", "share_lost", "extra_cost", "stop", "reason")

    def to_dict(self) -> list[dict[str, Any]]:
        """Rows as JSON-ready dicts (unknown numbers are ``None``)."""
        return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in self.rows]

    def to_frame(self) -> Any:
        """One row per dependency, the columns of :attr:`COLUMNS`."""
        import pandas as pd

        return pd.DataFrame(list(self.rows), columns=list(self.COLUMNS))

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True, eq=False)
class Layers:
    """The layers of one ecosystem over the same actors (positions into :attr:`ids`).

    ``supply`` is ``None`` when the document has no money layer (``supply_reason`` says
    why); the others are always there, possibly empty.
    """

    ids: tuple[str, ...]
    supply: SupplyNetwork | None
    supply_reason: str | None
    byproducts: ByproductLayer
    platform: PlatformLayer
    spatial: SpatialLayer
    eco: Ecosystem = field(repr=False)
    valued: bool = False

    @property
    def n(self) -> int:
        """Number of actors."""
        return len(self.ids)

    def index(self, actor: str) -> int:
        """Position of ``actor``; :class:`UnknownIdError` names the nearest ids."""
        try:
            return self._positions[actor]
        except KeyError:
            raise UnknownIdError("actor", actor, self.ids) from None

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {a: i for i, a in enumerate(self.ids)}

    @classmethod
    def from_ecosystem(cls, eco: Ecosystem, *, valued: bool = False) -> Layers:
        """Every layer of ``eco``.

        The supply layer is :meth:`SupplyNetwork.from_ecosystem` (money flows; with
        ``valued=True`` every priced flow except by-products and waste, which travel
        through their own layer: a flow is in one layer only).
        """
        ids = tuple(eco.table("actors")["id"].tolist())
        supply: SupplyNetwork | None = None
        reason: str | None = None
        try:
            supply = SupplyNetwork.from_ecosystem(_without_byproducts(eco) if valued else eco, valued=valued)
        except CurrencyError as exc:
            reason = str(exc)
        spatial = _spatial(eco, ids)
        return cls(
            ids=ids,
            supply=supply,
            supply_reason=reason,
            byproducts=_byproducts(eco, ids, spatial),
            platform=_platform(eco, ids),
            spatial=spatial,
            eco=eco,
            valued=valued,
        )

    def dependencies(
        self, layers: Iterable[str] | str = LAYERS, *, damping: Damping | bool = "reference"
    ) -> Dependencies:
        """The dependency map (see :class:`Dependencies`) over ``layers``.

        Supply: the customer depends on the supplier downstream (its share of the
        customer's inputs as ESRI damps it, or of its essential inputs from that sector),
        the supplier on the customer upstream (its share of the supplier's revenue).
        By-products: essential inputs stop the customer in proportion, non-essential ones
        cost ``q (p_virgin - p_by-product)`` per period. Platform: an adopter loses the
        module's ``capacity_share`` and ``value_per_adopter`` per period.
        """
        chosen = _check_layers(layers, "Layers.dependencies")
        rows: list[dict[str, Any]] = []
        ids = self.ids
        if "supply" in chosen and self.supply is not None:
            ops = _operators(self.supply, damping=damping, substitution=False)
            n = self.n
            down = ops.down.tocoo()
            ne = down.row < n
            for j, i, v in zip(down.row[ne].tolist(), down.col[ne].tolist(), down.data[ne].tolist(), strict=True):
                rows.append(_row(ids[j], ids[i], "supply", "money", "downstream", min(v, 1.0), 0.0, False, None))
            es = ~ne
            for g, i, v in zip(down.row[es].tolist(), down.col[es].tolist(), down.data[es].tolist(), strict=True):
                j = int(ops.group_of_row[g - n])
                rows.append(_row(ids[j], ids[i], "supply", "money", "downstream", min(v, 1.0), 0.0, True, None))
            up = ops.up.tocoo()
            for i, j, v in zip(up.row.tolist(), up.col.tolist(), up.data.tolist(), strict=True):
                rows.append(_row(ids[i], ids[j], "supply", "money", "upstream", min(v, 1.0), 0.0, False, None))
        if "byproducts" in chosen:
            b = self.byproducts
            extra = b.extra_cost_per_unit
            for k in range(len(b)):
                s, c, cls_ = int(b.supplier[k]), int(b.customer[k]), int(b.input_class[k])
                q = float(b.quantity[k])
                if cls_ == ESSENTIAL:
                    share = q / b.customer_input[k] if b.customer_input[k] > 0 else 1.0
                    rows.append(
                        _row(
                            ids[c], ids[s], "byproducts", b.resource[k], "downstream", min(share, 1.0), 0.0, True, None
                        )
                    )
                elif cls_ == NON_ESSENTIAL:
                    cost = q * float(extra[k])
                    rows.append(
                        _row(ids[c], ids[s], "byproducts", b.resource[k], "downstream", 0.0, cost, False, b.reason[k])
                    )
                else:
                    rows.append(
                        _row(
                            ids[c],
                            ids[s],
                            "byproducts",
                            b.resource[k],
                            "downstream",
                            0.0,
                            0.0,
                            False,
                            "negligible input",
                        )
                    )
        if "platform" in chosen:
            p = self.platform
            for m, a in zip(p.adoption_module.tolist(), p.adopter.tolist(), strict=True):
                share = float(p.capacity_share[m])
                value = float(p.value_per_adopter[m])
                why = []
                if math.isnan(share):
                    why.append("capacity_share unknown")
                if math.isnan(value):
                    why.append("value_per_adopter unknown")
                rows.append(
                    _row(
                        ids[a],
                        ids[int(p.provider[m])],
                        "platform",
                        p.modules[m],
                        "downstream",
                        share,
                        value,
                        False,
                        "; ".join(why) or None,
                    )
                )
        return Dependencies(tuple(rows))

    def to_dict(self) -> dict[str, Any]:
        """A summary per layer and the dependency map (JSON-ready)."""
        b, p, s = self.byproducts, self.platform, self.spatial
        supply: dict[str, Any] = (
            {"links": 0, "reason": self.supply_reason}
            if self.supply is None
            else {"links": len(self.supply.weight), "excluded": dict(self.supply.excluded)}
        )
        return {
            "actors": len(self.ids),
            "layers": {
                "supply": supply,
                "byproducts": {
                    "links": len(b),
                    "resources": sorted(set(b.resource)),
                    "essential": int((b.input_class == ESSENTIAL).sum()),
                    "skipped": b.skipped,
                },
                "platform": {
                    "modules": len(p),
                    "adoptions": len(p.adopter),
                    "capacity_share_unknown": [
                        m for m, c in zip(p.modules, p.capacity_share.tolist(), strict=True) if math.isnan(c)
                    ],
                },
                "spatial": {
                    "located": int(s.located.sum()),
                    "unlocated": [a for a, ok in zip(s.ids, s.located.tolist(), strict=True) if not ok],
                },
            },
            "dependencies": self.dependencies().to_dict(),
        }

    def to_frame(self) -> Any:
        """The dependency map as a frame (see :meth:`Dependencies.to_frame`)."""
        return self.dependencies().to_frame()


def _row(
    actor: str, on: str, layer: str, via: str, direction: str, share: float, cost: float, stop: bool, reason: str | None
) -> dict[str, Any]:
    return {
        "actor": actor,
        "depends_on": on,
        "layer": layer,
        "via": via,
        "direction": direction,
        "share_lost": share,
        "extra_cost": cost,
        "stop": stop,
        "reason": reason,
    }


def _without_byproducts(eco: Ecosystem) -> Ecosystem:
    """``eco`` without its by-product and waste flows (the supply layer of a valued run)."""
    flows = eco.table("flows")
    keep = np.array([k not in BYPRODUCT_KINDS for k in flows.texts("kind")], dtype=bool)
    if keep.all():
        return eco
    table = Table({name: flows[name][keep] for name in flows.names}, int(keep.sum()))
    tables = {name: eco.table(name) for name in eco._tables}
    tables["flows"] = table
    return Ecosystem._from_tables(eco.name, eco.period, tables, eco.extensions.to_dict())


def _spatial(eco: Ecosystem, ids: tuple[str, ...]) -> SpatialLayer:
    actors = eco.table("actors")
    return SpatialLayer(ids, actors.numbers("location.lat"), actors.numbers("location.lon"))


def _virgin_prices(eco: Ecosystem) -> tuple[dict[str, float], dict[str, float]]:
    """Resource prices and virgin-supply prices (money per unit; absent = not listed)."""
    res = eco.table("resources")
    price = {
        r: float(p) for r, p in zip(res["id"].tolist(), res.numbers("price").tolist(), strict=True) if not math.isnan(p)
    }
    virgin: dict[str, float] = {}
    vt = eco.table("virgin")
    if len(vt):
        for r, p in zip(vt["resource"].tolist(), vt.numbers("price").tolist(), strict=True):
            if not math.isnan(p):
                virgin[r] = float(p)
            elif r in price:
                virgin[r] = price[r]  # a virgin supply without a price is sold at the resource's price
    return price, virgin


def _substitute(
    eco: Ecosystem, resource: str, price: Mapping[str, float], virgin: Mapping[str, float]
) -> tuple[str | None, float, str | None]:
    """The virgin resource that replaces ``resource``, its price, and why it is unknown.

    First the resources it declares it can replace (``substitutes``), in order, with a
    virgin supply price, else a resource price; else a virgin supply of the resource
    itself; else none (the price is NaN and the reason says so).
    """
    subs = eco.resource(resource).substitutes
    for s in subs:
        if s in virgin:
            return s, virgin[s], None
    for s in subs:
        if s in price:
            return s, price[s], None
    if resource in virgin:
        return resource, virgin[resource], None
    if subs:
        return subs[0], math.nan, f"no price for {', '.join(subs)} (the virgin resources {resource} replaces)"
    return None, math.nan, f"no virgin supply of {resource} and no resource it replaces (substitutes) in the document"


def _byproducts(eco: Ecosystem, ids: tuple[str, ...], spatial: SpatialLayer) -> ByproductLayer:
    flows = eco.table("flows")
    pos = {a: i for i, a in enumerate(ids)}
    price, virgin = _virgin_prices(eco)
    ess_table: dict[tuple[str, str], int] = {}
    ess = eco.table("essentiality")
    if len(ess):
        for s, c, k in zip(
            ess["supplier_sector"].tolist(), ess["customer_sector"].tolist(), ess["class"].tolist(), strict=True
        ):
            ess_table[(str(s), str(c))] = CLASS_CODES[k]
    sectors = eco.table("actors").texts("sector")
    src_l: list[int] = []
    dst_l: list[int] = []
    res_l: list[str] = []
    q_l: list[float] = []
    cls_l: list[int] = []
    inflow: dict[tuple[int, str], float] = {}
    skipped = 0
    for a, b, rid, q, status, kind, c in zip(
        flows["from"].tolist(),
        flows["to"].tolist(),
        flows["resource"].tolist(),
        flows.numbers("quantity").tolist(),
        flows.texts("status"),
        flows.texts("kind"),
        flows.texts("input_class"),
        strict=True,
    ):
        active = status in (None, "active") and not math.isnan(q)
        if active and b in pos:
            key = (pos[b], rid)
            inflow[key] = inflow.get(key, 0.0) + q
        if kind not in BYPRODUCT_KINDS or a not in pos or b not in pos:
            continue
        if not active or q == 0:
            skipped += int(not active)
            continue
        i, j = pos[a], pos[b]
        src_l.append(i)
        dst_l.append(j)
        res_l.append(rid)
        q_l.append(float(q))
        if c is not None:
            cls_l.append(CLASS_CODES[c])
        elif sectors[i] is not None and sectors[j] is not None:
            cls_l.append(ess_table.get((str(sectors[i]), str(sectors[j])), NON_ESSENTIAL))
        else:
            cls_l.append(NON_ESSENTIAL)
    subs: dict[str, tuple[str | None, float, str | None]] = {r: _substitute(eco, r, price, virgin) for r in set(res_l)}
    reasons: list[str | None] = []
    byprice: list[float] = []
    for r in res_l:
        why = subs[r][2]
        p = price.get(r, math.nan)
        if math.isnan(p):
            why = "; ".join(x for x in (why, f"no price for the by-product {r}") if x)
        byprice.append(p)
        reasons.append(why)
    src = np.asarray(src_l, dtype=np.int64)
    dst = np.asarray(dst_l, dtype=np.int64)
    dist = (
        _haversine(spatial.lat[src], spatial.lon[src], spatial.lat[dst], spatial.lon[dst]) if len(src) else np.zeros(0)
    )
    return ByproductLayer(
        supplier=src,
        customer=dst,
        resource=tuple(res_l),
        quantity=np.asarray(q_l, dtype=np.float64),
        input_class=np.asarray(cls_l, dtype=np.int8),
        customer_input=np.asarray([inflow[(j, r)] for j, r in zip(dst_l, res_l, strict=True)], dtype=np.float64),
        substitute=tuple(subs[r][0] for r in res_l),
        virgin_price=np.asarray([subs[r][1] for r in res_l], dtype=np.float64),
        byproduct_price=np.asarray(byprice, dtype=np.float64),
        reason=tuple(reasons),
        distance_km=dist,
        skipped=skipped,
    )


def _platform(eco: Ecosystem, ids: tuple[str, ...]) -> PlatformLayer:
    pos = {a: i for i, a in enumerate(ids)}
    mods = list(eco.modules)
    am: list[int] = []
    ad: list[int] = []
    for k, m in enumerate(mods):
        for a in dict.fromkeys(m.adopters):
            if a == m.provider:  # in-house use: withdrawing a module never hits its own provider
                continue
            am.append(k)
            ad.append(pos[a])

    def num(v: float | None) -> float:
        return math.nan if v is None else float(v)

    return PlatformLayer(
        modules=tuple(m.id for m in mods),
        provider=np.asarray([pos[m.provider] for m in mods], dtype=np.int64),
        kind=tuple(m.kind for m in mods),
        capacity_share=np.asarray([num(m.capacity_share) for m in mods], dtype=np.float64),
        value_per_adopter=np.asarray([num(m.value_per_adopter) for m in mods], dtype=np.float64),
        switching_cost=np.asarray([num(m.switching_cost) for m in mods], dtype=np.float64),
        adoption_module=np.asarray(am, dtype=np.int64),
        adopter=np.asarray(ad, dtype=np.int64),
    )


# ------------------------------------------------------------------------ the cascade


@dataclass(frozen=True, eq=False)
class _Coupled:
    """The operators of the layers taking part in one cascade (see L1-L4)."""

    n: int
    layers: tuple[Layer, ...]
    supply: _Operators | None
    # by-products, essential inputs: rows are (customer, resource) groups
    b_ess: Any  # csr groups x n: q_scr / Q_cr at [group, s]
    b_group_customer: IntArray
    # by-products, non-essential inputs: per link, the extra cost per unit lost (NaN = unknown)
    b_src: IntArray
    b_dst: IntArray
    b_cost: FloatArray
    # platform
    m_provider: IntArray
    m_share: FloatArray  # NaN = unknown
    m_value: FloatArray  # NaN = unknown
    adoption_module: IntArray
    adopter: IntArray

    @property
    def has_unknown_share(self) -> bool:
        return "platform" in self.layers and bool(np.isnan(self.m_share).any())

    def platform_matrix(self, upper: bool) -> Any:
        """csr n x modules: capacity share of each adoption (unknown at 0, or 1 when ``upper``)."""
        share = np.where(np.isnan(self.m_share), 1.0 if upper else 0.0, self.m_share)
        return sp.csr_matrix(
            (share[self.adoption_module], (self.adopter, self.adoption_module)), shape=(self.n, len(self.m_share))
        )


def _coupled(lay: Layers, layers: tuple[Layer, ...], damping: Damping | bool) -> _Coupled:
    n = lay.n
    supply = None
    if "supply" in layers:
        if lay.supply is None:
            raise CurrencyError(
                f"the supply layer cannot be built: {lay.supply_reason}. Leave 'supply' out of layers "
                "(CLI: --layers byproducts,platform) or record the money flows"
            )
        supply = _operators(lay.supply, damping=damping, substitution=False)
    b = lay.byproducts
    use_b = "byproducts" in layers
    ess = (b.input_class == ESSENTIAL) if use_b else np.zeros(len(b), dtype=bool)
    keys = b.customer[ess].astype(np.int64) * (len(set(b.resource)) + 1)
    res_code = {r: k for k, r in enumerate(sorted(set(b.resource)))}
    keys = keys + np.asarray([res_code[r] for r, e in zip(b.resource, ess.tolist(), strict=True) if e], dtype=np.int64)
    groups, group_of = np.unique(keys, return_inverse=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(b.customer_input[ess] > 0, b.quantity[ess] / b.customer_input[ess], 1.0)
    b_ess = sp.csr_matrix((share, (group_of, b.supplier[ess])), shape=(len(groups), n))
    ne = (b.input_class == NON_ESSENTIAL) if use_b else np.zeros(len(b), dtype=bool)
    p = lay.platform
    use_p = "platform" in layers
    return _Coupled(
        n=n,
        layers=layers,
        supply=supply,
        b_ess=b_ess,
        b_group_customer=(groups // (len(set(b.resource)) + 1)).astype(np.int64),
        b_src=b.supplier[ne],
        b_dst=b.customer[ne],
        b_cost=(b.quantity * b.extra_cost_per_unit)[ne],
        m_provider=p.provider if use_p else np.zeros(0, dtype=np.int64),
        m_share=p.capacity_share if use_p else np.zeros(0),
        m_value=p.value_per_adopter if use_p else np.zeros(0),
        adoption_module=p.adoption_module if use_p else np.zeros(0, dtype=np.int64),
        adopter=p.adopter if use_p else np.zeros(0, dtype=np.int64),
    )


def _module_loss(c: _Coupled, total: FloatArray, withdrawn: FloatArray) -> FloatArray:
    """``M`` of L3 (modules x scenarios)."""
    return np.maximum(withdrawn, total[c.m_provider])


def _fixed_point(
    c: _Coupled, phi: FloatArray, withdrawn: FloatArray, upper: bool, tol: float, max_sweeps: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, int]:
    """Sweep L1-L4 for the scenarios in the columns of ``phi`` (n x K) and ``withdrawn``
    (modules x K, 1 = withdrawn) to the fixed point.

    Returns ``ld, lu`` (with shocks), the supply operators' values ``D, U``, ``B``, ``P``
    (all n x K) and the sweeps.
    """
    n, k = phi.shape
    zero = np.zeros((n, k))
    ld, lu = phi.copy(), phi.copy()
    d_op, u_op, b_op, p_op = zero, zero, zero, zero
    pm = c.platform_matrix(upper) if "platform" in c.layers and len(c.m_provider) else None
    has_b = c.b_ess.shape[0] > 0
    ops = c.supply
    sweeps = 0
    for sweeps in range(1, max_sweeps + 1):  # noqa: B007 - the count is returned
        total = np.maximum(ld, lu)
        if has_b:
            y = c.b_ess @ total
            b_new = np.zeros((n, k))
            np.maximum.at(b_new, c.b_group_customer, y)
        else:
            b_new = zero
        if pm is not None:
            p_new = np.asarray(pm @ _module_loss(c, total, withdrawn))
        else:
            p_new = zero
        other = np.maximum(phi, np.maximum(b_new, p_new))
        if ops is not None:
            y2 = ops.down @ ld
            d_new = np.asarray(y2[:n])
            if len(ops.group_customer):
                es = np.maximum.reduceat(np.asarray(y2[n:]), ops.group_start, axis=0)
                np.maximum(d_new[ops.group_customer], es, out=es)
                d_new[ops.group_customer] = es
            u_new = np.asarray(ops.up @ lu)
        else:
            d_new = u_new = zero
        new_d = np.minimum(np.maximum(other, d_new), 1.0)
        new_u = np.minimum(np.maximum(other, u_new), 1.0)
        change = max(float(np.abs(new_d - ld).max(initial=0.0)), float(np.abs(new_u - lu).max(initial=0.0)))
        ld, lu, d_op, u_op, b_op, p_op = new_d, new_u, d_new, u_new, b_new, p_new
        if change <= tol:
            break
    return ld, lu, d_op, u_op, b_op, p_op, sweeps


def _costs(c: _Coupled, total: FloatArray, withdrawn: FloatArray) -> tuple[FloatArray, FloatArray]:
    """By-product and platform costs per actor (n x K, money per period), unknowns left out."""
    n, k = total.shape
    byp = np.zeros((n, k))
    if len(c.b_src):
        known = ~np.isnan(c.b_cost)
        np.add.at(byp, c.b_dst[known], total[c.b_src[known]] * c.b_cost[known][:, None])
    plat = np.zeros((n, k))
    if len(c.adopter):
        mod = _module_loss(c, total, withdrawn)
        value = c.m_value[c.adoption_module]
        known = ~np.isnan(value)
        np.add.at(plat, c.adopter[known], mod[c.adoption_module[known]] * value[known][:, None])
    return byp, plat


def _unquantified(lay: Layers, c: _Coupled, total: FloatArray, withdrawn: FloatArray) -> list[dict[str, Any]]:
    """What the scenario (column 0, unknowns at their upper value) touches but cannot count."""
    out: list[dict[str, Any]] = []
    ids = lay.ids
    if "byproducts" in c.layers:
        b = lay.byproducts
        for k in np.flatnonzero((b.input_class == NON_ESSENTIAL) & np.isnan(b.extra_cost_per_unit)).tolist():
            lost = float(total[b.supplier[k], 0]) * float(b.quantity[k])
            if total[b.supplier[k], 0] > REACH:
                out.append(
                    {
                        "actor": ids[b.customer[k]],
                        "layer": "byproducts",
                        "via": b.resource[k],
                        "from": ids[b.supplier[k]],
                        "what": "extra cost",
                        "quantity_lost": lost,
                        "reason": b.reason[k],
                    }
                )
    if "platform" in c.layers and len(c.m_provider):
        p = lay.platform
        mod = _module_loss(c, total, withdrawn)[:, 0]
        for m, a in zip(p.adoption_module.tolist(), p.adopter.tolist(), strict=True):
            if mod[m] <= REACH:
                continue
            for what, value in (("capacity_share", p.capacity_share[m]), ("value_per_adopter", p.value_per_adopter[m])):
                if math.isnan(value):
                    out.append(
                        {
                            "actor": ids[a],
                            "layer": "platform",
                            "via": p.modules[m],
                            "from": ids[int(p.provider[m])],
                            "what": "production loss" if what == "capacity_share" else "lost value",
                            "module_loss": float(mod[m]),
                            "reason": f"module {p.modules[m]} has no {what}",
                        }
                    )
    return out


def _weights(lay: Layers, weights: str | Sequence[float] | FloatArray) -> FloatArray:
    """ESRI-style weights: ``'out-strength'`` of the money layer (default), ``'equal'``,
    any numeric actor column (``'revenue'`` = ``size.revenue``, ``'employees'``) or an array."""
    n = lay.n
    if not isinstance(weights, str):
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (n,) or not np.isfinite(w).all() or (w < 0).any():
            raise ParameterError(
                f"The 'weights' parameter must have one finite value >= 0 per actor ({n}). Got shape {w.shape} instead.",
                parameter="weights",
            )
        return w
    if weights == "equal":
        return np.ones(n)
    if weights == "out-strength":
        if lay.supply is None:
            raise ParameterError(
                f"The 'weights' parameter is 'out-strength' (the default), but the document has no money layer "
                f"({lay.supply_reason}). Pass weights='equal', 'revenue' or another actor column.",
                parameter="weights",
            )
        return lay.supply.out_strength
    actors = lay.eco.table("actors")
    column = weights if weights in actors else f"size.{weights}"
    if column not in actors:
        raise UnknownIdError("weight column", weights, ["out-strength", "equal", "revenue", "costs", *actors.names])
    values = actors.numbers(column)
    missing = [a for a, v in zip(lay.ids, values.tolist(), strict=True) if not math.isfinite(v)]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise RainforestError(
            f"weights {weights!r}: {len(missing)} actor(s) have no value ({shown}); give it for every actor, "
            "or use weights='equal' or 'out-strength'"
        )
    return values


@dataclass(frozen=True)
class LayeredCascadeResult:
    """One scenario of the cross-layer cascade.

    Per actor (arrays in the order of :attr:`actors`): ``loss`` the share of output lost
    (0..1), ``loss_upper`` the same with unknown capacity shares at 1 (equal to ``loss``
    when nothing unknown is touched), ``loss_down``/``loss_up`` the supply layer's two
    cascades (ESRI's ``ld``/``lu``, losses from other layers included as shocks),
    ``loss_by_layer[layer]`` the loss that reaches the actor through that layer alone
    (given every other actor's final state), ``cost`` the money per period lost through
    every layer (extra virgin purchases, lost module value; unknown prices left out and
    listed in ``unquantified``), ``cost_upper`` at ``loss_upper``, ``cost_by_layer``.
    ``score``/``score_upper`` the weighted loss ``sum w L / sum w``; ``cost_total`` the
    ecosystem's cost per period.
    """

    actors: tuple[str, ...]
    layers: tuple[Layer, ...]
    failed: Mapping[str, float]
    withdrawn: tuple[str, ...]
    loss: FloatArray
    loss_upper: FloatArray
    loss_down: FloatArray
    loss_up: FloatArray
    loss_by_layer: Mapping[str, FloatArray]
    cost: FloatArray
    cost_upper: FloatArray
    cost_by_layer: Mapping[str, FloatArray]
    score: float
    score_upper: float
    cost_total: float
    cost_total_upper: float
    unquantified: tuple[Mapping[str, Any], ...]
    sweeps: int

    @property
    def complete(self) -> bool:
        """Whether every dependence the failure touched has its numbers (nothing unquantified)."""
        return not self.unquantified

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the scenario, its scores, per actor and per layer losses and costs."""
        per_actor: dict[str, Any] = {}
        for i, a in enumerate(self.actors):
            per_actor[a] = {
                "loss": float(self.loss[i]),
                "loss_upper": float(self.loss_upper[i]),
                "loss_by_layer": {k: float(v[i]) for k, v in self.loss_by_layer.items()},
                "cost": float(self.cost[i]),
                "cost_upper": float(self.cost_upper[i]),
                "cost_by_layer": {k: float(v[i]) for k, v in self.cost_by_layer.items()},
            }
        return {
            "failed": dict(self.failed),
            "withdrawn": list(self.withdrawn),
            "layers": list(self.layers),
            "score": self.score,
            "score_upper": self.score_upper,
            "cost_total": self.cost_total,
            "cost_total_upper": self.cost_total_upper,
            "complete": self.complete,
            "sweeps": self.sweeps,
            "actors": per_actor,
            "unquantified": [dict(u) for u in self.unquantified],
        }

    def to_frame(self) -> Any:
        """One row per actor: ``loss``, ``loss_upper``, ``loss_<layer>``, ``cost``, ``cost_upper``, ``cost_<layer>``."""
        import pandas as pd

        cols: dict[str, Any] = {"loss": self.loss, "loss_upper": self.loss_upper}
        cols.update({f"loss_{k}": v for k, v in self.loss_by_layer.items()})
        cols.update({"cost": self.cost, "cost_upper": self.cost_upper})
        cols.update({f"cost_{k}": v for k, v in self.cost_by_layer.items()})
        return pd.DataFrame(cols, index=pd.Index(self.actors, name="actor"))


def _source(source: Ecosystem | Layers, valued: bool) -> Layers:
    if isinstance(source, Layers):
        return source
    if isinstance(source, Ecosystem):
        return Layers.from_ecosystem(source, valued=valued)
    raise ParameterError(
        f"The 'eco' parameter must be an Ecosystem or Layers. Got {type(source).__name__} instead.", parameter="eco"
    )


def _shock(lay: Layers, failed: Iterable[str] | Mapping[str, float] | str) -> dict[str, float]:
    if isinstance(failed, str):
        failed = [failed]
    items = failed.items() if isinstance(failed, Mapping) else ((a, 1.0) for a in failed)
    out: dict[str, float] = {}
    for actor, size in items:
        lay.index(actor)
        if not (isinstance(size, int | float) and not isinstance(size, bool) and 0.0 <= float(size) <= 1.0):
            raise ParameterError(
                f"The 'failed' parameter gives actor {actor!r} the loss {size!r}. Expected a share of output lost "
                "between 0 and 1 (1 = the actor stops).",
                parameter="failed",
            )
        out[actor] = max(out.get(actor, 0.0), float(size))
    return out


def layered_cascade(
    eco: Ecosystem | Layers,
    failed: Iterable[str] | Mapping[str, float] | str = (),
    withdrawn: Iterable[str] | str = (),
    *,
    layers: Iterable[str] | str = LAYERS,
    damping: Damping | bool = "reference",
    valued: bool = False,
    weights: str | Sequence[float] | FloatArray = "out-strength",
    tol: float = FIXED_POINT_TOL,
    max_sweeps: int = MAX_SWEEPS,
) -> LayeredCascadeResult:
    """Propagate a failure through the layers of ``eco`` to the fixed point (L1-L4).

    Parameters
    ----------
    eco:
        An ecosystem or its :class:`Layers` (build them once to run many scenarios).
    failed:
        Actor ids that stop (loss 1), or ``{actor: share of output lost}``.
    withdrawn:
        Module ids withdrawn by their provider (the provider keeps producing): every
        adopter loses the module's ``capacity_share`` and ``value_per_adopter``. A failed
        provider withdraws its modules by itself (in proportion to its loss).
    layers:
        Which layers the failure may travel through: any of ``'supply'``, ``'byproducts'``,
        ``'platform'`` (default all three; a comma-separated string works too).
    damping, valued:
        The supply layer's damping and valuation, as for :func:`rainforest.analysis.cascade.cascade`.
    weights:
        For the score: ``'out-strength'`` (money layer, default), ``'equal'``, an actor
        column (``'revenue'``, ``'employees'``) or one number per actor.

    Examples
    --------
    >>> import rainforest as rf
    >>> from rainforest.analysis.layers import layered_cascade
    >>> eco = rf.datasets.synthetic(n_actors=50, rng=3)
    >>> r = layered_cascade(eco, failed=["a00"], valued=True)
    >>> float(r.loss[0]), bool((r.loss <= r.loss_upper).all())
    (1.0, True)
    """
    chosen = _check_layers(layers, "layered_cascade")  # the choices first, then the data
    check = _damping(damping)
    lay = _source(eco, valued)
    shock = _shock(lay, failed)
    wd = (withdrawn,) if isinstance(withdrawn, str) else tuple(dict.fromkeys(withdrawn))
    mods = np.zeros((len(lay.platform), 1))
    for m in wd:
        mods[lay.platform.index(m), 0] = 1.0
    if tol < 0 or not math.isfinite(tol):
        raise ParameterError(
            f"The 'tol' parameter of layered_cascade must be >= 0. Got {tol!r} instead.", parameter="tol"
        )
    if "supply" in chosen and lay.supply is not None:
        _warn_undamped(lay.supply, check)
    c = _coupled(lay, chosen, check)
    w = _weights(lay, weights)
    phi = np.zeros((lay.n, 1))
    for a, s in shock.items():
        phi[lay.index(a), 0] = s
    ld, lu, d_op, u_op, b_op, p_op, sweeps = _fixed_point(c, phi, mods, False, tol, max_sweeps)
    total = np.maximum(ld, lu)
    if c.has_unknown_share:
        ld2, lu2, *_rest, sweeps2 = _fixed_point(c, phi, mods, True, tol, max_sweeps)
        total_hi = np.maximum(ld2, lu2)
        sweeps = max(sweeps, sweeps2)
    else:
        total_hi = total
    byp, plat = _costs(c, total, mods)
    byp_hi, plat_hi = _costs(c, total_hi, mods) if total_hi is not total else (byp, plat)
    by_layer: dict[str, FloatArray] = {}
    cost_by: dict[str, FloatArray] = {}
    for layer in chosen:
        if layer == "supply":
            by_layer[layer] = np.minimum(np.maximum(d_op, u_op), 1.0)[:, 0]
            cost_by[layer] = np.zeros(lay.n)
        elif layer == "byproducts":
            by_layer[layer] = np.minimum(b_op, 1.0)[:, 0]
            cost_by[layer] = byp[:, 0]
        else:
            by_layer[layer] = np.minimum(p_op, 1.0)[:, 0]
            cost_by[layer] = plat[:, 0]
    cost = (byp + plat)[:, 0]
    cost_hi = (byp_hi + plat_hi)[:, 0]
    norm = float(w.sum()) or 1.0
    return LayeredCascadeResult(
        actors=lay.ids,
        layers=chosen,
        failed=shock,
        withdrawn=wd,
        loss=total[:, 0],
        loss_upper=total_hi[:, 0],
        loss_down=ld[:, 0],
        loss_up=lu[:, 0],
        loss_by_layer=by_layer,
        cost=cost,
        cost_upper=cost_hi,
        cost_by_layer=cost_by,
        score=float((w * total[:, 0]).sum() / norm),
        score_upper=float((w * total_hi[:, 0]).sum() / norm),
        cost_total=float(cost.sum()),
        cost_total_upper=float(cost_hi.sum()),
        unquantified=tuple(_unquantified(lay, c, total_hi, mods)),
        sweeps=sweeps,
    )


# --------------------------------------------------------------------------- the profile

Engine = Literal["auto", "compiled", "numpy"]
PROFILE_BATCH = 64


def _csr(
    rows: IntArray, cols: IntArray, n_rows: int, vals: FloatArray | None = None
) -> tuple[IntArray, IntArray, FloatArray]:
    """Row pointers, columns and values of the pairs grouped by row (order kept within a row)."""
    order = np.argsort(rows, kind="stable")
    ptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=ptr[1:])
    v = np.zeros(len(rows)) if vals is None else np.asarray(vals, dtype=np.float64)[order]
    return ptr, np.ascontiguousarray(cols[order], dtype=np.int64), np.ascontiguousarray(v)


def _kernel_arrays(lay: Layers, c: _Coupled) -> tuple[Any, ...]:
    """The arrays of :mod:`rainforest.analysis._layers_kernel` (its docstring names them)."""
    n = lay.n
    if c.supply is not None:
        dn = c.supply.down.T.tocsr()
        dn.sort_indices()
        dn_ptr, dn_slot, dn_val = dn.indptr.astype(np.int64), dn.indices.astype(np.int64), dn.data.astype(np.float64)
        cg_ptr = c.supply.kernel[3]
        g_owner = c.supply.group_of_row.astype(np.int64)
        ut = c.supply.up.T.tocsr()
        ut.sort_indices()
        ut_ptr, ut_idx, ut_val = ut.indptr.astype(np.int64), ut.indices.astype(np.int64), ut.data.astype(np.float64)
    else:
        dn_ptr, dn_slot, dn_val = np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        cg_ptr, g_owner = np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
        ut_ptr, ut_idx, ut_val = np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    bp = c.b_ess.T.tocsr()
    bp.sort_indices()
    bc_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(c.b_group_customer, minlength=n), out=bc_ptr[1:])
    bn_ptr, _, bn_cost = _csr(c.b_src, c.b_dst, n, c.b_cost)
    n_mod = len(c.m_provider)
    pm_ptr, pm_mod, _ = _csr(c.m_provider, np.arange(n_mod, dtype=np.int64), n)
    ma_ptr, ma_idx, _ = _csr(c.adoption_module, c.adopter, n_mod)
    unknown = np.isnan(c.m_share)
    return tuple(
        np.ascontiguousarray(a) if isinstance(a, np.ndarray) else a
        for a in (
            n,
            dn_ptr,
            dn_slot,
            dn_val,
            cg_ptr,
            g_owner,
            ut_ptr,
            ut_idx,
            ut_val,
            bp.indptr.astype(np.int64),
            bp.indices.astype(np.int64),
            bp.data.astype(np.float64),
            bc_ptr,
            c.b_group_customer.astype(np.int64),
            bn_ptr,
            bn_cost,
            pm_ptr,
            pm_mod,
            ma_ptr,
            ma_idx,
            np.where(unknown, 0.0, c.m_share).astype(np.float64),
            np.where(unknown, 1.0, c.m_share).astype(np.float64),
            unknown,
            c.m_value.astype(np.float64),
        )
    )


@dataclass(frozen=True)
class LayeredProfile:
    """Every scenario of a profile: an actor failing alone (``kinds`` ``'actor'``) or a
    module withdrawn alone (``'module'``), one entry per label.

    ``score`` is the systemic score ``sum_j w_j L_j / sum_j w_j`` (unknown capacity
    shares at 0), ``score_upper`` with them at 1; ``score_by_layer[layer]`` the same
    weighted sum of the losses that come through that layer; ``cost`` the money per
    period the scenario costs the ecosystem (by-product replacement, lost module value;
    unknown prices left out), ``cost_upper`` at the upper losses; ``reached`` the actors
    with a loss; ``unquantified`` how many dependences the scenario touches without the
    numbers to count them (0 = complete); ``updates`` the work-list updates (or sweeps,
    numpy engine).
    """

    labels: tuple[str, ...]
    kinds: tuple[str, ...]
    layers: tuple[Layer, ...]
    score: FloatArray
    score_upper: FloatArray
    score_by_layer: Mapping[str, FloatArray]
    cost: FloatArray
    cost_upper: FloatArray
    cost_by_layer: Mapping[str, FloatArray]
    reached: IntArray
    unquantified: IntArray
    updates: IntArray

    def to_dict(self) -> dict[str, Any]:
        """``{"layers": [...], "actors": {id: {...}}, "modules": {id: {...}}}``."""
        out: dict[str, Any] = {"layers": list(self.layers), "actors": {}, "modules": {}}
        for k, (label, kind) in enumerate(zip(self.labels, self.kinds, strict=True)):
            out["actors" if kind == "actor" else "modules"][label] = {
                "score": float(self.score[k]),
                "score_upper": float(self.score_upper[k]),
                "score_by_layer": {layer: float(v[k]) for layer, v in self.score_by_layer.items()},
                "cost": float(self.cost[k]),
                "cost_upper": float(self.cost_upper[k]),
                "cost_by_layer": {layer: float(v[k]) for layer, v in self.cost_by_layer.items()},
                "reached": int(self.reached[k]),
                "unquantified": int(self.unquantified[k]),
            }
        return out

    def to_frame(self) -> Any:
        """One row per scenario (index ``scenario``, column ``kind``)."""
        import pandas as pd

        cols: dict[str, Any] = {"kind": list(self.kinds), "score": self.score, "score_upper": self.score_upper}
        cols.update({f"score_{k}": v for k, v in self.score_by_layer.items()})
        cols.update({"cost": self.cost, "cost_upper": self.cost_upper})
        cols.update({f"cost_{k}": v for k, v in self.cost_by_layer.items()})
        cols.update({"reached": self.reached, "unquantified": self.unquantified})
        return pd.DataFrame(cols, index=pd.Index(self.labels, name="scenario"))

    def ranking(self) -> list[tuple[str, str, float]]:
        """Scenarios by decreasing score: ``(kind, label, score)``."""
        order = np.argsort(-self.score, kind="stable")
        return [(self.kinds[k], self.labels[k], float(self.score[k])) for k in order]


def layered_profile(
    eco: Ecosystem | Layers,
    actors: Iterable[str] | None = None,
    modules: Iterable[str] | None = None,
    *,
    layers: Iterable[str] | str = LAYERS,
    damping: Damping | bool = "reference",
    valued: bool = False,
    weights: str | Sequence[float] | FloatArray = "out-strength",
    engine: Engine = "auto",
    tol: float = FIXED_POINT_TOL,
    max_updates: int | None = None,
) -> LayeredProfile:
    """Every actor failing alone (and, with ``modules``, every module withdrawn alone),
    each to its fixed point across ``layers``: the systemic score of each.

    ``actors`` default every actor (none when only ``modules`` are given). The
    ``'compiled'`` engine (default) runs each scenario as a work list on numba's threads;
    ``'numpy'`` runs batches of scenarios as the columns of the sweeps of
    :func:`layered_cascade`. Both reach the same fixed point (1e-9 in the tests).
    ``max_updates`` bounds the work per scenario (default ``1000 * n``); a scenario that
    reaches it raises :class:`RainforestError`.

    Examples
    --------
    >>> import rainforest as rf
    >>> p = layered_profile(rf.datasets.synthetic(n_actors=50, rng=3), valued=True)
    >>> len(p.labels), bool(((0 <= p.score) & (p.score <= p.score_upper) & (p.score_upper <= 1)).all())
    (50, True)
    """
    chosen = _check_layers(layers, "layered_profile")  # the choices first, then the data
    check_choice("engine", engine, Engine, where="layered_profile")
    rule = _damping(damping)
    lay = _source(eco, valued)
    if "supply" in chosen and lay.supply is not None:
        _warn_undamped(lay.supply, rule)
    c = _coupled(lay, chosen, rule)
    w = _weights(lay, weights)
    if actors is None and modules is None:
        chosen_actors = list(lay.ids)
    else:
        chosen_actors = list(dict.fromkeys(actors or ()))
    chosen_modules = list(dict.fromkeys(modules or ()))
    sc_actor = np.asarray([lay.index(a) for a in chosen_actors] + [-1] * len(chosen_modules), dtype=np.int64)
    sc_module = np.asarray([-1] * len(chosen_actors) + [lay.platform.index(m) for m in chosen_modules], dtype=np.int64)
    if chosen_modules and "platform" not in chosen:
        raise ParameterError(
            "The 'modules' parameter of layered_profile withdraws modules, but 'platform' is not among the layers. "
            "Add it (layers=('supply', 'byproducts', 'platform')).",
            parameter="modules",
        )
    labels = tuple(chosen_actors) + tuple(chosen_modules)
    kinds = ("actor",) * len(chosen_actors) + ("module",) * len(chosen_modules)
    limit = int(max_updates) if max_updates is not None else 1000 * max(lay.n, 1)
    run = _run_numpy if engine == "numpy" else _run_compiled
    out, out_hi, counts = run(lay, c, w, sc_actor, sc_module, tol, limit)
    stuck = np.flatnonzero(counts[:, 3])
    if len(stuck):
        raise RainforestError(
            f"the cross-layer cascade of {len(stuck)} scenario(s) (first: {labels[stuck[0]]!r}) did not settle within "
            f"{limit} updates; raise max_updates or tol"
        )
    norm = float(w.sum()) or 1.0
    col = {"supply": 1, "byproducts": 2, "platform": 3}
    return LayeredProfile(
        labels=labels,
        kinds=kinds,
        layers=chosen,
        score=out[:, 0] / norm,
        score_upper=out_hi[:, 0] / norm,
        score_by_layer={layer: out[:, col[layer]] / norm for layer in chosen},
        cost=out[:, 4] + out[:, 5],
        cost_upper=out_hi[:, 4] + out_hi[:, 5],
        cost_by_layer={
            layer: (np.zeros(len(labels)) if layer == "supply" else out[:, 4 if layer == "byproducts" else 5].copy())
            for layer in chosen
        },
        reached=counts[:, 0].copy(),
        unquantified=counts[:, 5].copy(),
        updates=counts[:, 2].copy(),
    )


def _run_compiled(
    lay: Layers, c: _Coupled, w: FloatArray, sc_actor: IntArray, sc_module: IntArray, tol: float, limit: int
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Lower and upper numbers of every scenario (see the kernel), and its counts."""
    from rainforest.analysis._layers_kernel import compiled

    k = len(sc_actor)
    out = np.zeros((k, 12))
    counts = np.zeros((k, 6), dtype=np.int64)
    compiled()(
        *_kernel_arrays(lay, c), w.astype(np.float64), sc_actor, sc_module, float(tol), REACH, limit, out, counts
    )
    return out[:, :6], out[:, 6:], counts


def _run_numpy(
    lay: Layers, c: _Coupled, w: FloatArray, sc_actor: IntArray, sc_module: IntArray, tol: float, limit: int
) -> tuple[FloatArray, FloatArray, IntArray]:
    """The same numbers by batched sweeps: the lower run, then the upper one for the
    scenarios that reach a module of unknown capacity share."""
    out, counts = _sweep_batches(lay, c, w, sc_actor, sc_module, False, tol, limit)
    out_hi = out.copy()
    counts = np.concatenate([counts, counts[:, 1:2]], axis=1)
    again = np.flatnonzero(counts[:, 4])
    if len(again):
        hi, counts_hi = _sweep_batches(lay, c, w, sc_actor[again], sc_module[again], True, tol, limit)
        out_hi[again] = hi
        counts[again, 3] |= counts_hi[:, 3]
        counts[again, 5] = counts_hi[:, 1]
        counts[again, 2] += counts_hi[:, 2]
    return out, out_hi, counts


def _sweep_batches(
    lay: Layers,
    c: _Coupled,
    w: FloatArray,
    sc_actor: IntArray,
    sc_module: IntArray,
    upper: bool,
    tol: float,
    limit: int,
) -> tuple[FloatArray, IntArray]:
    n, k_all = lay.n, len(sc_actor)
    out = np.zeros((k_all, 6))
    counts = np.zeros((k_all, 5), dtype=np.int64)
    n_mod = len(c.m_provider)
    for start in range(0, k_all, PROFILE_BATCH):
        stop = min(start + PROFILE_BATCH, k_all)
        k = stop - start
        phi = np.zeros((n, k))
        mods = np.zeros((n_mod, k))
        for col, (a, m) in enumerate(zip(sc_actor[start:stop].tolist(), sc_module[start:stop].tolist(), strict=True)):
            if a >= 0:
                phi[a, col] = 1.0
            if m >= 0:
                mods[m, col] = 1.0
        ld, lu, d_op, u_op, b_op, p_op, sweeps = _fixed_point(c, phi, mods, upper, tol, limit)
        total = np.maximum(ld, lu)
        byp, plat = _costs(c, total, mods)
        out[start:stop, 0] = w @ total
        out[start:stop, 1] = w @ np.minimum(np.maximum(d_op, u_op), 1.0)
        out[start:stop, 2] = w @ np.minimum(b_op, 1.0)
        out[start:stop, 3] = w @ np.minimum(p_op, 1.0)
        out[start:stop, 4] = byp.sum(axis=0)
        out[start:stop, 5] = plat.sum(axis=0)
        counts[start:stop, 0] = (total > REACH).sum(axis=0)
        counts[start:stop, 1] = _unknown_counts(c, total, mods)
        counts[start:stop, 2] = sweeps
        counts[start:stop, 3] = int(sweeps >= limit)
        if len(c.adopter):
            level = _module_loss(c, total, mods)[c.adoption_module]
            counts[start:stop, 4] = ((level > 0) & np.isnan(c.m_share[c.adoption_module])[:, None]).any(axis=0)
    return out, counts


def _unknown_counts(c: _Coupled, total: FloatArray, mods: FloatArray) -> IntArray:
    """Per scenario: non-essential by-product links with an unknown price whose supplier
    lost output, plus adoptions of a module that lost level with an unknown share or value."""
    count = np.zeros(total.shape[1], dtype=np.int64)
    if len(c.b_src):
        unknown = np.isnan(c.b_cost)
        count += (total[c.b_src[unknown]] > REACH).sum(axis=0)
    if len(c.adopter):
        level = _module_loss(c, total, mods)[c.adoption_module]
        per = np.isnan(c.m_share[c.adoption_module]).astype(np.int64) + np.isnan(c.m_value[c.adoption_module])
        count += ((level > REACH) * per[:, None]).sum(axis=0)
    return count
