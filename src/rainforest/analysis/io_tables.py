"""Input-output analysis of an ecosystem's money layer (enterprise input-output).

Actors are the sectors of an input-output table: ``Z[i, j]`` is what actor ``j`` buys from
actor ``i`` per period, ``x`` each actor's total output and ``f = x - Z 1`` its final
demand (sales outside the ecosystem). Yazan & Fraccascia use this enterprise form to
study industrial symbiosis. Names follow Miller & Blair and pymrio (``Z``, ``A``, ``L``,
``x``): pymrio's ``calc_A``, ``calc_L`` compute the same matrices.

Dense below ``dense_limit`` actors; above it, every vector result comes from a sparse
solve of ``I - A`` and the n-by-n inverses are refused. The sparse solver is a sparse LU
(SuperLU, one factorisation, a solve per question) unless the matrix has more than
``LU_LIMIT`` nonzeros per column on average and ``A`` is a contraction (its largest column
or row sum ``q`` is at most ``ITERATIVE_LIMIT``): then LU factors fill in to nearly dense
(10,000 sectors at 1% density: 48 million nonzeros in each factor, 42 s, slower than a
dense inverse) and the Neumann iteration ``y <- b + A y`` is used instead, stopped when an
update changes the sum of ``y`` by at most 1e-15 of it (error below ``q^k / (1 - q)``).
``bench/bench_report.py`` measures both against ``numpy.linalg.inv``.

Several regions with environmental extensions: :class:`rainforest.analysis.mrio.IOSystem`
(pymrio's vocabulary and numbers), which builds on this module; this module does not import
it (``io_tables.IOSystem``, ``io_tables.Extension`` and ``io_tables.ExtensionAccounts``
still resolve, with a DeprecationWarning naming their home).

References
----------
Miller, R.E. & Blair, P.D. (2009). Input-Output Analysis: Foundations and Extensions, 2nd
ed. Cambridge University Press (ch. 2: the Leontief model; ch. 12: Ghosh model and
hypothetical extraction).
Yazan, D.M. & Fraccascia, L. (2020). Sustainable operations of industrial symbiosis: an
enterprise input-output model integrated by agent-based simulation. Int. J. Prod. Res.
58:392-414.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from rainforest.choices import IOMethod
from rainforest.errors import ParameterError, SizeLimitError, UnknownIdError, check_choice, moved
from rainforest.model.flowmatrix import FlowMatrix

if TYPE_CHECKING:
    from rainforest.model.ecosystem import Ecosystem

__all__ = [
    "IOTable",
    "ecosystem_output",
    "ghosh_inverse",
    "hypothetical_extraction",
    "io_table",
    "leontief_inverse",
    "multiplier_summary",
    "output_for",
    "output_multipliers",
    "supply_multipliers",
    "technical_coefficients",
]

DENSE_LIMIT = 2000
#: Mean nonzeros per column of ``A`` above which the iterative solver replaces sparse LU.
LU_LIMIT = 16
#: Largest contraction bound ``q`` (max column or row sum of ``A``) for the iterative solver.
ITERATIVE_LIMIT = 0.95

#: Names this module once re-exported from :mod:`rainforest.analysis.mrio`, their home.
_MOVED = ("Extension", "ExtensionAccounts", "IOSystem")


if not TYPE_CHECKING:  # names that moved to mrio (which builds on this module), with a warning
    __getattr__ = moved(__name__, {name: ("rainforest.analysis.mrio", name, "") for name in _MOVED})


Array = npt.NDArray[Any]


@dataclass(frozen=True)
class IOTable:
    """Transactions ``Z`` (sparse, rows sell to columns), total output ``x`` and final
    demand ``f = x - Z 1`` of each actor."""

    ids: tuple[str, ...]
    Z: Any
    x: Array
    f: Array

    @property
    def n(self) -> int:
        """Number of actors (sectors)."""
        return len(self.ids)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``ids``, total output ``x``, final demand ``f`` and the transactions
        as ``Z`` triplets ``[from, to, value]`` (rows sell to columns)."""
        import scipy.sparse as sp

        Z = sp.coo_matrix(self.Z)
        return {
            "ids": list(self.ids),
            "x": [float(v) for v in np.asarray(self.x, dtype=float)],
            "f": [float(v) for v in np.asarray(self.f, dtype=float)],
            "Z": [
                [self.ids[i], self.ids[j], float(v)]
                for i, j, v in zip(Z.row.tolist(), Z.col.tolist(), Z.data.tolist(), strict=True)
            ],
        }

    def to_frame(self) -> Any:
        """One row per actor (the index): total ``output`` and ``final_demand``."""
        import pandas as pd

        return pd.DataFrame(
            {"output": np.asarray(self.x, dtype=float), "final_demand": np.asarray(self.f, dtype=float)},
            index=pd.Index(self.ids, name="actor"),
        )


def io_table(fm: FlowMatrix, output: Sequence[float] | Array | None = None) -> IOTable:
    """The input-output table of a money flow matrix.

    Parameters
    ----------
    fm:
        A flow matrix in money (``FlowMatrix.from_ecosystem(eco, "money")``).
    output:
        Total output per actor; by default each actor's sales: internal plus boundary
        outputs (exports and losses valued in money).

    Examples
    --------
    Miller & Blair (2009), section 2.3: two sectors.

    >>> import numpy as np
    >>> import rainforest as rf
    >>> from rainforest.analysis import io_tables as io
    >>> fm = rf.FlowMatrix.from_arrays([[150, 500], [200, 100]], inputs=[0, 0], exports=[350, 1700], losses=[0, 0])
    >>> table = io.io_table(fm)
    >>> np.round(io.leontief_inverse(table), 4)
    array([[1.2541, 0.33  ],
           [0.264 , 1.1221]])
    """
    Z: Any = sp.csr_array(fm.Z.astype(np.float64))
    sales = np.asarray(Z.sum(axis=1)).ravel()
    x = np.asarray(output, dtype=np.float64) if output is not None else sales + fm.exports + fm.losses
    if x.shape != (fm.n,):
        raise ParameterError(
            f"The 'output' parameter of io_table must have one value per actor ({fm.n}). Got shape {x.shape} instead.",
            parameter="output",
        )
    return IOTable(fm.ids, Z, x, x - sales)


def ecosystem_output(eco: Ecosystem, fm: FlowMatrix) -> Array:
    """Each actor's total output for an input-output table of ``eco``'s money layer ``fm``:
    its revenue (``size.revenue``) where the document gives it and it is at least what the
    flows record it selling, else the recorded sales (to members, outside and losses)."""
    actors = eco.table("actors")
    given = actors.numbers("size.revenue") if "size.revenue" in actors else np.full(actors.n, np.nan)
    revenue = dict(zip(actors.texts("id"), given.tolist(), strict=True))
    recorded = np.asarray(fm.Z.sum(axis=1)).ravel() + fm.exports + fm.losses
    rev = np.array([revenue.get(a, np.nan) for a in fm.ids], dtype=float)
    return np.asarray(np.where(np.isfinite(rev), np.maximum(np.nan_to_num(rev), recorded), recorded), dtype=np.float64)


def technical_coefficients(table: IOTable) -> Any:
    """``A = Z diag(x)^-1``: what each actor buys from each other per unit of its output
    (sparse; actors without output have zero columns)."""
    with np.errstate(divide="ignore"):
        inv = np.where(table.x > 0, 1.0 / table.x, 0.0)
    return sp.csr_array(table.Z @ sp.diags(inv))


def _leontief_system(table: IOTable) -> Any:
    return sp.csc_array(sp.eye(table.n) - technical_coefficients(table))


class _Solver:
    """Solves ``(I - M) y = b`` and ``(I - M)' y = b`` for coefficients ``M`` (``A`` or ``B``)."""

    def __init__(self, M: Any, method: str = "auto", where: str = "the Leontief solver") -> None:
        check_choice("method", method, IOMethod, where=where)

        self.M = sp.csr_array(M)
        self.MT = sp.csr_array(self.M.T)
        n = self.M.shape[0]
        absM = abs(self.M)
        q = min(float(absM.sum(axis=0).max(initial=0.0)), float(absM.sum(axis=1).max(initial=0.0)))
        self.q = q
        if method == "auto":
            dense_enough = n > 0 and self.M.nnz / n > LU_LIMIT
            method = "iterative" if dense_enough and q <= ITERATIVE_LIMIT else "lu"
        if method == "iterative" and q >= 1.0:
            raise ParameterError(
                f"The 'method' parameter of {where} is 'iterative', but the iterative solver needs a contraction: "
                f"the largest column/row sum of A is {q:.4g} >= 1. Use method='lu' (or 'auto').",
                parameter="method",
            )
        self.method = method
        self._lu: Any = None

    def solve(self, b: Array, trans: bool = False) -> Array:
        import scipy.sparse.linalg as spla

        rhs = np.asarray(b, dtype=np.float64)
        if self.method == "lu":
            if self._lu is None:
                n = self.M.shape[0]
                # minimum degree on the pattern of M + M': about half the fill of the default
                # COLAMD on heavy-tailed firm networks (10,000 actors: 7.8 vs 16.7 million nonzeros)
                self._lu = spla.splu(sp.csc_array(sp.eye(n) - self.M), permc_spec="MMD_AT_PLUS_A")
            return np.asarray(self._lu.solve(rhs, trans="T" if trans else "N"))
        M = self.MT if trans else self.M
        y = rhs.copy()
        scale = float(np.abs(rhs).sum())
        # error after k steps is below q^k / (1 - q) |b|: the cap never binds before 1e-16
        cap = 10 + int(np.ceil(np.log(1e-16 * (1.0 - self.q)) / np.log(max(self.q, 1e-300)))) if self.q > 0 else 1
        for _ in range(cap):
            new = rhs + M @ y
            change = float(np.abs(new - y).sum())
            y = new
            if change <= 1e-15 * max(scale, float(np.abs(y).sum())):
                break
        return np.asarray(y)


def _leontief(table: IOTable, method: IOMethod, where: str) -> _Solver:
    """The Leontief system's solver, factorised once per table and method."""
    check_choice("method", method, IOMethod, where=where)
    cache: dict[str, _Solver] = table.__dict__.setdefault("_solvers", {})
    if method not in cache:
        cache[method] = _Solver(technical_coefficients(table), method, where)
    return cache[method]


def leontief_inverse(table: IOTable, *, dense_limit: int = DENSE_LIMIT, force_dense: bool = False) -> Array:
    """``L = (I - A)^-1`` (dense): the total output of each actor needed per unit of each
    actor's final demand. Raises :class:`SizeLimitError` above ``dense_limit`` actors."""
    if table.n > dense_limit and not force_dense:
        raise SizeLimitError(
            f"the Leontief inverse of {table.n:,} actors has {table.n**2:,} entries, above the dense limit of "
            f"{dense_limit:,}; ask for multipliers or output_for() instead (sparse), or pass force_dense=True"
        )
    return np.asarray(np.linalg.inv(_leontief_system(table).toarray()))


def output_for(table: IOTable, final_demand: Sequence[float] | Array, *, method: IOMethod = "auto") -> Array:
    """Total output ``x = L f`` that a final demand ``f`` calls for (one sparse solve;
    ``method``: ``'auto'``, ``'lu'`` or ``'iterative'``, see the module docstring)."""
    check_choice("method", method, IOMethod, where="output_for")
    f = np.asarray(final_demand, dtype=np.float64)
    return _leontief(table, method, "output_for").solve(f)


def output_multipliers(table: IOTable, *, method: IOMethod = "auto") -> dict[str, float]:
    """Simple output multipliers, the column sums of ``L``: total output across the
    ecosystem per unit of an actor's final demand (``(I - A)' m = 1``, one sparse solve)."""
    m = _leontief(table, method, "output_multipliers").solve(np.ones(table.n), trans=True)
    return dict(zip(table.ids, np.asarray(m, dtype=float).tolist(), strict=True))


def _ghosh_system(table: IOTable) -> Any:
    with np.errstate(divide="ignore"):
        inv = np.where(table.x > 0, 1.0 / table.x, 0.0)
    B = sp.diags(inv) @ table.Z  # allocation coefficients: share of i's output sold to j
    return sp.csc_array(sp.eye(table.n) - B)


def ghosh_inverse(table: IOTable, *, dense_limit: int = DENSE_LIMIT, force_dense: bool = False) -> Array:
    """The Ghosh (supply-driven) inverse ``G = (I - B)^-1`` with ``B = diag(x)^-1 Z``."""
    if table.n > dense_limit and not force_dense:
        raise SizeLimitError(
            f"the Ghosh inverse of {table.n:,} actors is above the dense limit of {dense_limit:,}; "
            "ask for supply_multipliers() (sparse), or pass force_dense=True"
        )
    return np.asarray(np.linalg.inv(_ghosh_system(table).toarray()))


def supply_multipliers(table: IOTable, *, method: IOMethod = "auto") -> dict[str, float]:
    """Ghosh (forward-linkage) multipliers, the row sums of ``G``: output across the
    ecosystem enabled per unit of an actor's primary inputs (``(I - B) g = 1``)."""
    check_choice("method", method, IOMethod, where="supply_multipliers")
    g = _Solver(sp.eye(table.n) - _ghosh_system(table), method, "supply_multipliers").solve(np.ones(table.n))
    return dict(zip(table.ids, np.asarray(g, dtype=float).tolist(), strict=True))


def hypothetical_extraction(
    table: IOTable, actors: Sequence[str] | None = None, *, method: IOMethod = "auto"
) -> dict[str, float]:
    """Total output lost when an actor is removed (complete hypothetical extraction,
    Miller & Blair 2009, section 12.2): its row and column of ``A`` and its final demand
    are set to zero and the remaining economy re-solved; the loss is
    ``sum(x) - sum(x without it)`` (its own output included).

    Exact and cheap: with ``L`` known, the reduced inverse follows from the Schur
    complement, ``(I - A)_{-k,-k}^-1 = L_{-k,-k} - L_{-k,k} L_{k,-k} / L_kk``; without it
    (large tables), two sparse solves per actor asked for.
    """
    check_choice("method", method, IOMethod, where="hypothetical_extraction")
    index = {a: i for i, a in enumerate(table.ids)}
    chosen = list(table.ids) if actors is None else list(actors)
    for a in chosen:
        if a not in index:
            raise UnknownIdError("actor", a, index)
    total = float(table.x.sum())
    lu = _leontief(table, method, "hypothetical_extraction")
    f = table.f
    base = lu.solve(f)
    out: dict[str, float] = {}
    for a in chosen:
        k = index[a]
        e = np.zeros(table.n)
        e[k] = 1.0
        col = lu.solve(e)  # L[:, k]
        row = lu.solve(e, trans=True)  # L[k, :]
        f_k = f.copy()
        f_k[k] = 0.0
        lf = base - col * f[k]  # L f with f_k = 0
        reduced = lf - col * (row @ f_k) / col[k]
        reduced[k] = 0.0
        out[a] = total - float(reduced.sum())
    return out


def multiplier_summary(multipliers: dict[str, float], *, top: int = 3) -> dict[str, Any]:
    """What a reader needs of a set of multipliers, which are skewed (a few actors in long
    supply loops reach 100 while most sit near 1-4): the median, the 10-90% range and the
    largest, named, instead of a mean that one actor drags up.

    Returns
    -------
    dict
        ``median``, ``p10``, ``p90``, ``mean``, ``max`` and ``top``: the ``top`` largest as
        ``(actor, multiplier)`` pairs, largest first.

    Examples
    --------
    >>> s = multiplier_summary({"a": 1.0, "b": 1.5, "c": 2.0, "d": 40.0})
    >>> s["median"], s["top"][0]
    (1.75, ('d', 40.0))
    """
    if not multipliers:
        raise ParameterError(
            "The 'multipliers' parameter of multiplier_summary must hold at least one multiplier. Got none.",
            parameter="multipliers",
        )
    values = np.asarray(list(multipliers.values()), dtype=np.float64)
    p10, median, p90 = (float(q) for q in np.quantile(values, [0.1, 0.5, 0.9]))
    ranked = sorted(multipliers.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return {
        "median": median,
        "p10": p10,
        "p90": p90,
        "mean": float(values.mean()),
        "max": float(values.max()),
        "top": [(a, float(v)) for a, v in ranked],
    }
