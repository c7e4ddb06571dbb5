"""The numeric view every analysis reads: :class:`FlowMatrix`.

``Z[i, j]`` is the flow from actor ``i`` to actor ``j`` in one *currency*: a single
resource, one kind of resource, a physical dimension (mass, energy, water), or money
(quantities valued at their resources' prices). Boundary flows are kept apart:
``inputs`` (from ``world`` = imports, from ``environment`` = extraction), ``exports``
(to ``world``) and ``losses`` (to ``environment``: emissions, disposal, the
dissipation or respiration of ecological network analysis).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from rainforest.errors import CurrencyError, ParameterError, UnitError, UnknownIdError, check_choice
from rainforest.model.schema import ENVIRONMENT, RESOURCE_KINDS, WORLD
from rainforest.model.table import Table
from rainforest.model.units import conversion_factor

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd
    import scipy.sparse as sp

    from rainforest.model.ecosystem import Ecosystem

__all__ = ["CURRENCY_UNITS", "Currency", "FlowMatrix"]

Currency = Literal["mass", "energy", "water", "money"]

#: The unit each physical currency is expressed in.
CURRENCY_UNITS: dict[str, str] = {"mass": "t", "energy": "MWh", "water": "m**3"}
_DIMENSION_OF_CURRENCY = {"mass": "t", "energy": "MWh", "water": "m**3"}

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class FlowMatrix:
    """Flows between actors as a sparse matrix, with the boundary flows beside it.

    Attributes
    ----------
    ids:
        Actor ids; row/column ``i`` of ``Z`` is ``ids[i]``.
    Z:
        ``scipy.sparse.csr_array`` (n x n), ``Z[i, j]`` = flow from ``i`` to ``j``.
    imports, extraction:
        Boundary inputs per actor from ``world`` and from ``environment``.
    exports, losses:
        Boundary outputs per actor to ``world`` and to ``environment``.
    stock, stock_change:
        Stocks held and their change over the period (zeros where none are given).
    currency, unit:
        What the numbers measure, e.g. ``'resource:fly_ash'`` in ``'t'``.
    resources:
        The resources whose flows are included.
    excluded:
        Resources left out and why (e.g. no price for the money currency).
    living:
        Per actor: living compartment (ecological models), or ``None`` when unknown.
    unquantified:
        How many flows of the included resources (and statuses) were left out because the
        document marks them ``quantified: false`` (a documented exchange of unknown size).
    recorded:
        Per account (``internal``, ``imports``, ``extraction``, ``exports``, ``losses``,
        ``stock_change``): how many entries of the document stand behind it, as
        ``(quantified, unquantified)``; empty for a matrix built from arrays. An account
        with no quantified entry is *not recorded*, which is not the same as zero.
    """

    ids: tuple[str, ...]
    Z: sp.csr_array
    imports: FloatArray
    extraction: FloatArray
    exports: FloatArray
    losses: FloatArray
    stock: FloatArray
    stock_change: FloatArray
    currency: str
    unit: str
    resources: tuple[str, ...]
    excluded: dict[str, str] = field(default_factory=dict)
    living: npt.NDArray[np.bool_] | None = None
    unquantified: int = 0
    recorded: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of actors (nodes)."""
        return len(self.ids)

    @property
    def inputs(self) -> FloatArray:
        """All boundary inputs per actor (imports + extraction)."""
        return self.imports + self.extraction

    @property
    def outputs(self) -> FloatArray:
        """All boundary outputs per actor (exports + losses)."""
        return self.exports + self.losses

    def inflow(self) -> FloatArray:
        """Total inflow per actor: internal in + boundary inputs."""
        return np.asarray(self.Z.sum(axis=0)).ravel() + self.inputs

    def outflow(self) -> FloatArray:
        """Total outflow per actor: internal out + boundary outputs."""
        return np.asarray(self.Z.sum(axis=1)).ravel() + self.outputs

    def imbalance(self) -> FloatArray:
        """Per actor: inflow - outflow - stock change (zero at steady state)."""
        return self.inflow() - self.outflow() - self.stock_change

    def dense(self) -> FloatArray:
        """``Z`` as a dense array (small networks only)."""
        return np.asarray(self.Z.toarray(), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (dense lists): for small networks, JSON output and tests."""
        return {
            "ids": list(self.ids),
            "Z": self.dense().tolist(),
            "imports": self.imports.tolist(),
            "extraction": self.extraction.tolist(),
            "exports": self.exports.tolist(),
            "losses": self.losses.tolist(),
            "stock": self.stock.tolist(),
            "stock_change": self.stock_change.tolist(),
            "currency": self.currency,
            "unit": self.unit,
            "resources": list(self.resources),
            "excluded": dict(self.excluded),
            "unquantified": self.unquantified,
        }

    def to_frame(self, *, sparse: bool = False) -> pd.DataFrame:
        """``Z`` as a pandas DataFrame labelled by actor ids: rows ``from``, columns ``to``.

        ``sparse=True`` keeps the zeros out of memory (pandas' sparse columns), for
        networks too large for an n x n table of floats.

        Examples
        --------
        >>> fm = FlowMatrix.from_arrays([[0, 5], [1, 0]], inputs=[5, 0], exports=[0, 1], losses=[0, 4], ids=["a", "b"])
        >>> fm.to_frame()
        to      a    b
        from
        a     0.0  5.0
        b     1.0  0.0
        """
        import pandas as pd  # the model loads without pandas (import rainforest stays cheap)

        index = pd.Index(self.ids, name="from")
        columns = pd.Index(self.ids, name="to")
        if sparse:
            frame: pd.DataFrame = pd.DataFrame.sparse.from_spmatrix(  # type: ignore[attr-defined]  # the stubs miss the accessor
                self.Z, index=index, columns=columns
            )
            return frame
        return pd.DataFrame(self.dense(), index=index, columns=columns)

    def to_networkx(self) -> nx.DiGraph[str]:
        """A networkx ``DiGraph``: one node per actor, one edge per nonzero ``Z[i, j]``.

        Edges carry ``weight`` (the flow, in :attr:`unit`); nodes carry their boundary
        flows (``imports``, ``extraction``, ``exports``, ``losses``), ``stock`` and
        ``stock_change`` (and ``living`` when known); the graph carries ``currency``,
        ``unit`` and ``resources``. networkx is not a dependency of rainforest: install
        it to use this (``pip install networkx``).

        Examples
        --------
        >>> fm = FlowMatrix.from_arrays([[0, 5], [1, 0]], inputs=[5, 0], exports=[0, 1], losses=[0, 4], ids=["a", "b"])
        >>> g = fm.to_networkx()
        >>> g.edges["a", "b"]["weight"], g.nodes["a"]["extraction"]
        (5.0, 5.0)
        """
        try:
            import networkx as nx
        except ImportError:
            raise ImportError(
                "FlowMatrix.to_networkx needs networkx, which rainforest does not install: pip install networkx"
            ) from None
        g: nx.DiGraph[str] = nx.DiGraph(currency=self.currency, unit=self.unit, resources=self.resources)
        columns = {
            "imports": self.imports,
            "extraction": self.extraction,
            "exports": self.exports,
            "losses": self.losses,
            "stock": self.stock,
            "stock_change": self.stock_change,
        }
        values = {k: v.tolist() for k, v in columns.items()}
        living = None if self.living is None else self.living.tolist()
        for i, actor in enumerate(self.ids):
            attrs = {k: v[i] for k, v in values.items()}
            if living is not None:
                attrs["living"] = living[i]
            g.add_node(actor, **attrs)
        coo = self.Z.tocoo()
        g.add_weighted_edges_from(
            (self.ids[i], self.ids[j], w)
            for i, j, w in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)
            if w != 0
        )
        return g

    @classmethod
    def from_arrays(
        cls,
        Z: Any,
        inputs: Sequence[float] | FloatArray,
        exports: Sequence[float] | FloatArray,
        losses: Sequence[float] | FloatArray,
        ids: Sequence[str] | None = None,
        stock: Sequence[float] | FloatArray | None = None,
        unit: str = "",
        living: Sequence[bool] | None = None,
    ) -> FlowMatrix:
        """A flow matrix from arrays (inputs count as extraction from the environment)."""
        import scipy.sparse as sp

        matrix = sp.csr_array(Z, dtype=np.float64)
        n = matrix.shape[0]
        if matrix.shape != (n, n):
            raise ParameterError(
                f"The 'Z' parameter of FlowMatrix.from_arrays must be a square matrix. Got shape {matrix.shape} instead.",
                parameter="Z",
            )
        names = tuple(ids) if ids is not None else tuple(f"n{i}" for i in range(n))

        def vec(v: Any, what: str) -> FloatArray:
            arr = np.zeros(n) if v is None else np.asarray(v, dtype=np.float64)
            if arr.shape != (n,):
                raise ParameterError(
                    f"The {what!r} parameter of FlowMatrix.from_arrays must have length {n} (one value per node). "
                    f"Got shape {arr.shape} instead.",
                    parameter=what,
                )
            return arr

        return cls(
            ids=names,
            Z=matrix,
            imports=np.zeros(n),
            extraction=vec(inputs, "inputs"),
            exports=vec(exports, "exports"),
            losses=vec(losses, "losses"),
            stock=vec(stock, "stock"),
            stock_change=np.zeros(n),
            currency="given",
            unit=unit,
            resources=(),
            living=None if living is None else np.asarray(living, dtype=bool),
        )

    @classmethod
    def from_ecosystem(
        cls,
        eco: Ecosystem,
        currency: Currency | None = None,
        *,
        resource: str | None = None,
        kind: str | None = None,
        statuses: Sequence[str] = ("active",),
    ) -> FlowMatrix:
        """Build the flow matrix of ``eco`` in one currency.

        Give exactly one of ``currency``, ``resource`` or ``kind``. Without any, a
        document with a single resource uses it.

        Parameters
        ----------
        currency:
            ``'mass'`` (every resource measured in a mass unit, in t), ``'energy'`` (every
            resource in an energy unit, in MWh), ``'water'`` (resources of kind water, in
            m**3) or ``'money'`` (resources of kind money at face value plus every other
            resource valued at its ``price``; resources without a price are excluded and
            listed in :attr:`excluded`).
        resource:
            One resource id, in its own unit.
        kind:
            One resource kind; all its resources must share a dimension.
        statuses:
            Flow statuses included (default: only ``active`` exchanges).

        Raises
        ------
        CurrencyError
            When the choice is ambiguous, names nothing in the document, or mixes units
            that do not convert.
        """
        if currency is not None:
            # a CurrencyError (callers catch it), with the choices of the Literal type
            check_choice("currency", currency, Currency, where="FlowMatrix.from_ecosystem", error=CurrencyError)
        chosen = [x for x in (currency, resource, kind) if x is not None]
        if len(chosen) > 1:
            raise CurrencyError("give only one of currency=, resource= or kind=")
        res_table = eco.table("resources")
        res_ids: list[str] = res_table["id"].tolist()
        res_kind: list[str] = res_table["kind"].tolist()
        res_unit: list[str] = res_table["unit"].tolist()
        res_price = res_table["price"]
        factors = np.zeros(len(res_ids))  # 0 = excluded
        excluded: dict[str, str] = {}
        if not chosen:
            if len(res_ids) != 1:
                raise CurrencyError(
                    f"the document has {len(res_ids)} resources; choose a currency "
                    "('mass', 'energy', 'water', 'money'), a resource= or a kind="
                )
            resource = res_ids[0]
        if resource is not None:
            if resource not in res_ids:
                raise UnknownIdError("resource", resource, res_ids)
            factors[res_ids.index(resource)] = 1.0
            label, unit = f"resource:{resource}", res_unit[res_ids.index(resource)]
        elif kind is not None:
            if kind not in RESOURCE_KINDS:
                raise CurrencyError(f"unknown resource kind {kind!r}; expected one of {', '.join(RESOURCE_KINDS)}")
            members = [i for i, k in enumerate(res_kind) if k == kind]
            if not members:
                raise CurrencyError(f"no resource of kind {kind!r} in the document")
            unit = res_unit[members[0]]
            for i in members:
                try:
                    factors[i] = conversion_factor(res_unit[i], unit)
                except UnitError:
                    raise CurrencyError(
                        f"resources of kind {kind!r} mix units that do not convert: {res_ids[i]!r} "
                        f"is in {res_unit[i]!r}, {res_ids[members[0]]!r} in {unit!r}. Use resource= instead."
                    ) from None
            label = f"kind:{kind}"
        elif currency in _DIMENSION_OF_CURRENCY:
            unit = CURRENCY_UNITS[currency]
            for i, rid in enumerate(res_ids):
                if currency == "water" and res_kind[i] != "water":
                    continue
                try:
                    factors[i] = conversion_factor(res_unit[i], unit)
                except UnitError:
                    if currency == "water":
                        excluded[rid] = f"kind water but unit {res_unit[i]!r} is not a volume"
            if not factors.any():
                raise CurrencyError(f"no resource is measured in a {currency} unit (convertible to {unit!r})")
            label = currency
        elif currency == "money":
            money_units = {res_unit[i] for i, k in enumerate(res_kind) if k == "money"}
            if len(money_units) > 1:
                raise CurrencyError(f"resources of kind money use several currencies: {sorted(money_units)}")
            unit = money_units.pop() if money_units else "money"
            for i, rid in enumerate(res_ids):
                if res_kind[i] == "money":
                    factors[i] = 1.0
                elif not np.isnan(res_price[i]):
                    factors[i] = float(res_price[i])
                else:
                    excluded[rid] = "no price"
            if not factors.any() and not any(k == "money" for k in res_kind):
                raise CurrencyError("no resource has a price and none is of kind money; money flows cannot be valued")
            label = "money"
        else:
            raise AssertionError(currency)  # checked above
        included = tuple(
            r for r, f in zip(res_ids, factors, strict=True) if f != 0.0 or (label == "money" and r not in excluded)
        )
        return _assemble(eco, factors, label, unit, included, excluded, statuses)


def _positions(table: Table, column: str, index: dict[str, int]) -> npt.NDArray[np.int64]:
    """Index of each row's id, looking each distinct id up once when the column is coded."""
    coded = table.coded(column)
    if coded is not None:
        lookup = np.fromiter((index[v] for v in coded.values.tolist()), dtype=np.int64, count=len(coded.values))
        result: npt.NDArray[np.int64] = lookup[coded.codes]
        return result
    return np.fromiter((index[v] for v in table[column].tolist()), dtype=np.int64, count=table.n)


def _assemble(
    eco: Ecosystem,
    factors: FloatArray,
    label: str,
    unit: str,
    included: tuple[str, ...],
    excluded: dict[str, str],
    statuses: Sequence[str],
) -> FlowMatrix:
    import scipy.sparse as sp

    ids = eco.actor_ids
    n = len(ids)
    index = {a: i for i, a in enumerate(ids)}
    index[WORLD] = -1
    index[ENVIRONMENT] = -2
    res_index = {r: i for i, r in enumerate(eco.resource_ids)}

    flows = eco.table("flows")
    src = _positions(flows, "from", index)
    dst = _positions(flows, "to", index)
    res = _positions(flows, "resource", res_index)
    status_ok = set(statuses)
    coded_status = flows.coded("status")
    if coded_status is not None:
        allowed = np.array([s in status_ok for s in coded_status.values.tolist()] + [False])
        keep = allowed[coded_status.codes]
    else:
        keep = np.fromiter((s in status_ok for s in flows["status"].tolist()), dtype=bool, count=flows.n)
    value = flows["quantity"] * factors[res]
    keep &= factors[res] != 0.0
    unknown = np.isnan(value)  # flows marked 'quantified: false': no number to add
    skipped = int((keep & unknown).sum())
    accounts = {
        "internal": (src >= 0) & (dst >= 0),
        "imports": (src == -1) & (dst >= 0),
        "extraction": (src == -2) & (dst >= 0),
        "exports": (dst == -1) & (src >= 0),
        "losses": (dst == -2) & (src >= 0),
    }
    recorded = {k: (int((keep & ~unknown & m).sum()), int((keep & unknown & m).sum())) for k, m in accounts.items()}
    keep &= ~unknown
    src, dst, value = src[keep], dst[keep], value[keep]

    internal = (src >= 0) & (dst >= 0)
    Z = sp.coo_array((value[internal], (src[internal], dst[internal])), shape=(n, n)).tocsr()
    Z.sum_duplicates()

    def boundary(mask: npt.NDArray[np.bool_], at: npt.NDArray[np.int64]) -> FloatArray:
        return np.bincount(at[mask], weights=value[mask], minlength=n).astype(np.float64)

    imports = boundary((src == -1) & (dst >= 0), dst)
    extraction = boundary((src == -2) & (dst >= 0), dst)
    exports = boundary((dst == -1) & (src >= 0), src)
    losses = boundary((dst == -2) & (src >= 0), src)

    stocks = eco.table("stocks")
    stock = np.zeros(n)
    change = np.zeros(n)
    if stocks.n:
        s_actor = np.fromiter((index[v] for v in stocks["actor"].tolist()), dtype=np.int64, count=stocks.n)
        s_res = np.fromiter((res_index[v] for v in stocks["resource"].tolist()), dtype=np.int64, count=stocks.n)
        f = factors[s_res]
        stock = np.bincount(s_actor, weights=np.nan_to_num(stocks["quantity"]) * f, minlength=n).astype(np.float64)
        change = np.bincount(s_actor, weights=np.nan_to_num(stocks["change"]) * f, minlength=n).astype(np.float64)
        recorded["stock_change"] = (int(((f != 0) & ~np.isnan(stocks["change"])).sum()), 0)
    else:
        recorded["stock_change"] = (0, 0)

    living_col = eco.table("actors")["living"].tolist()
    living = None if any(v is None for v in living_col) else np.array(living_col, dtype=bool)
    return FlowMatrix(
        ids=ids,
        Z=Z,
        imports=imports,
        extraction=extraction,
        exports=exports,
        losses=losses,
        stock=stock,
        stock_change=change,
        currency=label,
        unit=unit,
        resources=included,
        excluded=excluded,
        living=living,
        unquantified=skipped,
        recorded=recorded,
    )
