"""Environmentally extended multi-regional input-output analysis (EE-MRIO).

An :class:`IOSystem` holds what pymrio calls the core system and its extensions, with
pymrio's names and formulas (Miller & Blair 2009, ch. 5, 6 and 13; pymrio's ``iomath``):

==============  =====================================================================
``Z``           intermediate flows, ``Z[i, j]`` sold by sector ``i`` to sector ``j``
``Y``           final demand, one column per (region, category)
``x``           total output, ``x = Z 1 + Y 1``
``A``           technical coefficients, ``A = Z diag(x)^-1``
``L``           Leontief inverse, ``L = (I - A)^-1``
``B``           allocation coefficients, ``B = diag(x)^-1 Z``
``G``           Ghosh inverse, ``G = (I - B)^-1 = diag(x)^-1 L diag(x)``
``F``, ``F_Y``  an extension's stressors by producing sector and by final demand column
``S``           direct intensities, ``S = F diag(x)^-1``
``M``           total (upstream) multipliers, ``M = S L``
``M_down``      downstream multipliers, ``M_down = S (G' - I)``
``D_cba``       consumption-based account, by consuming region and the sector it demands
``D_pba``       production-based account, ``S diag(L y)``
``D_imp``       what a region's final demand causes abroad, by the sector it demands
``D_exp``       what each sector's output for other regions' final demand causes
``*_reg``       the accounts summed per region; ``D_cba_reg`` and ``D_pba_reg`` add the
                region's direct final-demand stressors ``F_Y``
==============  =====================================================================

Sectors are ordered region-major: ``(r1, s1), (r1, s2), ..., (r2, s1), ...``. Divisions
by a zero output give zero, as in pymrio.

How it is computed
------------------
pymrio inverts ``I - A`` and forms every account from the dense ``n x n`` inverse and
an ``n x n`` matrix of outputs per demanded sector (``L`` times the block-diagonalised
final demand). rainforest never forms either: every account is a product of a few
right-hand sides with ``L`` or ``L'``, obtained from one factorisation of ``I - A``:

- ``x_r = L Y_r`` for each region's final demand (``R`` solves) gives ``D_pba``
  (``x = sum_r x_r``) and ``D_exp`` (``sum`` of ``x_r`` over regions other than the
  producing one);
- ``M' = L' S'`` (``k`` transposed solves) gives ``M`` and
  ``D_cba[:, (r, s)] = sum_p M[:, (p, s)] Y_r[(p, s)]``;
- ``M_(-r) = S_(-r) L``, with ``S`` zeroed on region ``r``'s sectors (``R k`` transposed
  solves), gives ``D_imp[:, (r, s)] = sum_p M_(-r)[:, (p, s)] Y_r[(p, s)]``;
- ``S G' = (L (S diag(x))')' diag(x)^-1`` (``k`` solves) gives ``M_down``.

Large systems of several regions are solved by block Jacobi over regions: the domestic
blocks ``(I - A_rr)`` are inverted (``s x s`` each) and the trade blocks iterated, which
converges in a few sweeps because trade is a small share of inputs and needs no
``n x n`` array. Otherwise ``I - A`` is factorised once: dense LU (LAPACK) when more than
``SPARSE_DENSITY`` of ``A`` is non-zero, else sparse LU (SuperLU). ``L``, ``G`` and ``B``
themselves are formed only when asked for. The numbers equal pymrio's within rounding
(``tests/test_mrio.py`` compares every quantity of pymrio's own test system to 1e-9);
``bench/bench_mrio.py`` measures time and peak memory against pymrio's ``calc_all``.

References
----------
Miller, R.E. & Blair, P.D. (2009). Input-Output Analysis: Foundations and Extensions,
2nd ed. Cambridge University Press: ch. 3 (multi-regional models), ch. 12 (the Ghosh
model), ch. 13 (environmental extensions, consumption- and production-based accounts).
Stadler, K. (2021). Pymrio: a Python based multi-regional input-output analysis toolbox.
Journal of Open Research Software 9(1):8.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from rainforest.analysis._mrio_kernel import plus_csr_matmat
from rainforest.analysis.io_tables import ecosystem_output, io_table
from rainforest.choices import MRIOMethod
from rainforest.errors import FormatError, SizeLimitError, UnknownIdError, check_choice
from rainforest.model.flowmatrix import FlowMatrix
from rainforest.model.mrio import Extension, MRIOTables, _sparse

if TYPE_CHECKING:
    from rainforest.model.ecosystem import Ecosystem

__all__ = [
    "ACCOUNT_NAMES",
    "DENSE_LIMIT",
    "Extension",
    "ExtensionAccounts",
    "IOSystem",
]

Array = npt.NDArray[np.float64]

#: The accounts of an extension, in the order ``to_dict`` and ``rainforest io --json`` give them.
ACCOUNT_NAMES = (
    "S",
    "M",
    "M_down",
    "D_cba",
    "D_pba",
    "D_imp",
    "D_exp",
    "D_cba_reg",
    "D_pba_reg",
    "D_imp_reg",
    "D_exp_reg",
)
#: Largest number of sectors for which the dense n x n results (L, G, B, A as a dense
#: array) are formed without ``force_dense=True``.
DENSE_LIMIT = 10_000
#: Share of non-zero entries of a dense ``Z`` up to which ``A`` is kept sparse.
SPARSE_KEEP = 0.25
#: Share of non-zero entries of ``A`` above which ``I - A`` is factorised densely.
SPARSE_DENSITY = 0.02


def _reciprocal(v: Array) -> Array:
    """``1 / v`` with zero where ``v`` is zero (pymrio's convention for outputs of 0)."""
    with np.errstate(divide="ignore"):
        r = 1.0 / v
    r[~np.isfinite(r)] = 0.0
    return r


@dataclass(frozen=True, eq=False)
class ExtensionAccounts:
    """Every derived quantity of one extension (see the module docstring for each symbol).

    ``S``, ``M``, ``M_down``, ``D_cba``, ``D_pba``, ``D_imp`` and ``D_exp`` are ``k x n``;
    the ``*_reg`` accounts ``k x regions``. ``D_cba`` and ``D_imp`` columns are the
    consuming region and the sector its final demand buys; ``D_pba`` and ``D_exp`` columns
    the producing sector.
    """

    name: str
    stressors: tuple[str, ...]
    regions: tuple[str, ...]
    S: Array
    M: Array
    M_down: Array
    D_cba: Array
    D_pba: Array
    D_imp: Array
    D_exp: Array
    D_cba_reg: Array
    D_pba_reg: Array
    D_imp_reg: Array
    D_exp_reg: Array

    def to_dict(self) -> dict[str, Any]:
        """The accounts as JSON-ready lists (rows are stressors)."""
        out: dict[str, Any] = {"stressors": list(self.stressors)}
        out.update({k: np.asarray(getattr(self, k)).tolist() for k in ACCOUNT_NAMES})
        return out

    def to_frame(self) -> Any:
        """The regional accounts, one row per stressor and region: produced (``D_pba_reg``),
        caused by its final demand (``D_cba_reg``), imported and exported."""
        import pandas as pd

        rows = [
            (
                stressor,
                region,
                *(
                    float(np.asarray(getattr(self, k))[i, j])
                    for k in ("D_pba_reg", "D_cba_reg", "D_imp_reg", "D_exp_reg")
                ),
            )
            for i, stressor in enumerate(self.stressors)
            for j, region in enumerate(self.regions)
        ]
        return pd.DataFrame(rows, columns=["stressor", "region", "produced", "caused", "imported", "exported"])


class _Factor:
    """Solves ``(I - A) X = B`` and ``(I - A)' X = B`` for many right-hand sides at once.

    ``method``:

    - ``"lu"``: one LU factorisation, dense (LAPACK) when more than ``SPARSE_DENSITY`` of
      ``A`` is non-zero, else sparse (SuperLU);
    - ``"regional"``: block Jacobi over regions, ``X <- P (B + O X)`` with ``P`` the
      inverses of the domestic blocks ``(I - A_rr)`` and ``O`` the trade blocks. For a
      non-negative ``A`` with spectral radius below 1 this is a regular splitting of an
      M-matrix and converges; the rate is the weight of trade in inputs, so a few
      sweeps reach machine precision. No ``n x n`` factor is formed. If it has not
      converged after ``MAX_SWEEPS``, the LU route takes over;
    - ``"auto"``: ``"regional"`` for non-negative systems of at least 4 regions and 2,000
      sectors, else ``"lu"``.
    """

    MAX_SWEEPS = 200

    def __init__(self, A: Any, regions: int, method: str = "auto") -> None:
        check_choice("method", method, MRIOMethod, where="IOSystem")
        self.A = A
        self.n = A.shape[0]
        self.regions = regions
        if method == "auto":
            nonneg = (A.data >= 0).all() if _sparse(A) else bool((A >= 0).all())
            method = "regional" if regions >= 4 and self.n >= 2000 and nonneg else "lu"
        self.method = method
        self._lu: Any = None
        self._blocks: Any = None

    # -- LU --------------------------------------------------------------------------
    def _factorise(self) -> None:
        A, n = self.A, self.n
        nnz = A.nnz if _sparse(A) else int(np.count_nonzero(A))
        if n == 0 or nnz > SPARSE_DENSITY * n * n:
            import scipy.linalg as sla

            IA = -(A.toarray() if _sparse(A) else np.array(A, dtype=np.float64))
            IA[np.diag_indices(n)] += 1.0
            self._lu = ("dense", sla.lu_factor(IA, overwrite_a=True, check_finite=False))
        else:
            import scipy.sparse.linalg as spla

            IA = sp.csc_array(sp.eye(n, format="csc") - sp.csc_array(A))
            self._lu = ("sparse", spla.splu(IA, permc_spec="MMD_AT_PLUS_A"))

    def _lu_solve(self, b: Array, trans: bool) -> Array:
        if self._lu is None:
            self._factorise()
        kind, fac = self._lu
        if kind == "dense":
            import scipy.linalg as sla

            return np.asarray(sla.lu_solve(fac, b, trans=1 if trans else 0, check_finite=False))
        return np.asarray(fac.solve(np.asfortranarray(b), trans="T" if trans else "N"))

    # -- regional block Jacobi -------------------------------------------------------
    def _split(self) -> None:
        A, n, R = self.A, self.n, self.regions
        s = n // R
        region = np.repeat(np.arange(R), s)
        P = np.empty((R, s, s))
        for r in range(R):
            rows = slice(r * s, (r + 1) * s)
            block = A[rows, rows]
            block = block.toarray() if _sparse(block) else np.array(block)
            P[r] = np.linalg.inv(np.eye(s) - block)
        if _sparse(A):
            coo = sp.coo_array(A)
            keep = region[coo.row] != region[coo.col]
            O = sp.csr_array((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=(n, n))
        else:
            O = sp.csr_array(np.where(region[:, None] != region[None, :], A, 0.0))
        OT = sp.csr_array(O.T)
        self._blocks = {False: (P, O), True: (np.ascontiguousarray(P.transpose(0, 2, 1)), OT)}

    @staticmethod
    def _apply_blocks(P: Array, V: Array) -> Array:
        """``diag(P_1, ..., P_R) V``, one BLAS product per region."""
        R, s = P.shape[0], P.shape[1]
        out = np.empty_like(V)
        for r in range(R):
            np.matmul(P[r], V[r * s : (r + 1) * s], out=out[r * s : (r + 1) * s])
        return out

    def _regional_solve(self, b: Array, trans: bool) -> Array | None:
        if self._blocks is None:
            self._split()
        P, O = self._blocks[trans]
        kernel = plus_csr_matmat()
        b = np.ascontiguousarray(b, dtype=np.float64)
        X = self._apply_blocks(P, b)
        for _ in range(self.MAX_SWEEPS):
            new = self._apply_blocks(P, kernel(O.indptr, O.indices, O.data, X, b))
            change = float(np.abs(new - X).sum())
            X = new
            if change <= 1e-15 * float(np.abs(X).sum()):
                return X
        return None

    def solve(self, b: Array, *, trans: bool = False) -> Array:
        if b.size == 0:
            return np.zeros_like(b)
        if self.method == "regional":
            # the domestic blocks are small products: BLAS threads only spin-wait on them,
            # while the trade product runs on numba's threads
            with threadpool_limits(limits=1, user_api="blas"):
                X = self._regional_solve(b, trans)
            if X is not None:
                return X
            self.method = "lu"
        return self._lu_solve(b, trans)


@dataclass(frozen=True, eq=False)
class IOSystem(MRIOTables):
    """A multi-regional input-output system with environmental extensions.

    Parameters
    ----------
    regions, sectors:
        Labels; the system has ``n = len(regions) * len(sectors)`` rows, region-major.
    final_demand_categories:
        Labels of the final demand categories; ``Y`` has one column per (region,
        category), region-major.
    Z:
        ``n x n`` intermediate flows (a numpy array or a scipy sparse matrix).
    Y:
        ``n x (regions x categories)`` final demand.
    extensions:
        Extensions by name.
    unit:
        The monetary unit of ``Z`` and ``Y`` (``"M.EUR"``), or ``None``.
    method:
        How ``I - A`` is solved: ``"auto"``, ``"lu"`` or ``"regional"`` (see the module
        docstring). Every method gives the same numbers to rounding.
    carried:
        Per extension, accounts (``D_cba``, ``D_pba``, ``D_imp``, ``D_exp``) carried over
        from a more detailed system by :meth:`aggregate`; they replace the ones this
        system would compute (which would carry aggregation bias).

    Examples
    --------
    Two regions with one sector each; an emission of 10 in region ``a`` and 4 in ``b``:

    >>> import numpy as np
    >>> from rainforest.analysis.mrio import Extension, IOSystem
    >>> io = IOSystem(
    ...     regions=("a", "b"), sectors=("goods",), final_demand_categories=("households",),
    ...     Z=np.array([[10.0, 20.0], [30.0, 5.0]]), Y=np.array([[70.0, 0.0], [0.0, 65.0]]),
    ...     extensions={"co2": Extension("co2", ("CO2",), F=np.array([[10.0, 4.0]]))},
    ... )
    >>> io.x.tolist()
    [100.0, 100.0]
    >>> acc = io.accounts("co2")
    >>> acc.D_pba_reg.round(3).tolist(), acc.D_cba_reg.round(3).tolist()
    ([[10.0, 4.0]], [[9.421, 4.579]])
    """

    method: MRIOMethod = "auto"
    carried: Mapping[str, Mapping[str, Array]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        check_choice("method", self.method, MRIOMethod, where="IOSystem")
        super().__post_init__()

    @classmethod
    def from_tables(cls, tables: MRIOTables, *, method: MRIOMethod = "auto") -> IOSystem:
        """The analyses of a system read from a file (:func:`rainforest.io.mrio.load_io_system`)."""
        check_choice("method", method, MRIOMethod, where="IOSystem.from_tables")
        return cls(
            tables.regions,
            tables.sectors,
            tables.final_demand_categories,
            tables.Z,
            tables.Y,
            tables.extensions,
            tables.unit,
            method,
        )

    @classmethod
    def from_ecosystem(cls, eco: Ecosystem, *, method: MRIOMethod = "auto") -> IOSystem:
        """An ecosystem's money layer as a multi-regional input-output system.

        Every actor is a sector of every region (rows of the regions it is not in are
        zero); its region is the actor's ``region`` (actors without one form the region
        ``"unassigned"``). ``Z`` is the money layer (money flows at face value, other flows
        valued at their resource's price); an actor's output is its revenue where given
        (as in the report's input-output section), else its recorded sales; final demand,
        the one category ``"outside"``, is output less sales to members, in the seller's
        region. The extension ``"emissions"``
        holds what each actor releases to the environment, one stressor per resource, in
        the resource's unit.

        Raises
        ------
        CurrencyError
            The document has no money flows and no priced resource.
        """
        check_choice("method", method, MRIOMethod, where="IOSystem.from_ecosystem")
        fm = FlowMatrix.from_ecosystem(eco, "money")
        table = io_table(fm, ecosystem_output(eco, fm))
        ids = list(fm.ids)
        region_of = {a.id: a.region or "unassigned" for a in eco.actors}
        regions = tuple(dict.fromkeys(region_of[a] for a in ids))
        N, R = len(ids), len(regions)
        rpos = {r: i for i, r in enumerate(regions)}
        place = np.array([rpos[region_of[a]] * N + i for i, a in enumerate(ids)])
        n = R * N

        Zc = sp.coo_array(table.Z)
        Z = sp.csr_array((Zc.data, (place[Zc.row], place[Zc.col])), shape=(n, n))
        Y = np.zeros((n, R))
        Y[place, place // N] = table.f
        emitted: dict[str, np.ndarray] = {}
        pos = {a: i for i, a in enumerate(ids)}
        for f in eco.flows:
            if f.target != "environment" or f.source not in pos or f.quantity is None or f.status != "active":
                continue
            row = emitted.setdefault(f.resource, np.zeros(n))
            row[place[pos[f.source]]] += f.quantity
        extensions = {}
        if emitted:
            names = tuple(sorted(emitted))
            units = tuple(eco.resource(r).unit for r in names)
            extensions["emissions"] = Extension("emissions", names, np.array([emitted[r] for r in names]), None, units)
        return cls(regions, tuple(ids), ("outside",), Z, Y, extensions, fm.unit, method)

    def _dense_guard(self, what: str, force_dense: bool) -> None:
        if self.n > DENSE_LIMIT and not force_dense:
            raise SizeLimitError(
                f"{what} of {self.n:,} sectors has {self.n**2:,} entries, above the dense limit of "
                f"{DENSE_LIMIT:,}; use the accounts (computed without it) or pass force_dense=True"
            )

    # ---- core system -----------------------------------------------------------------

    @cached_property
    def x(self) -> Array:
        """Total output ``x = Z 1 + Y 1``."""
        Z: Any = self.Z
        return np.asarray(np.asarray(Z.sum(axis=1)).ravel() + self.Y.sum(axis=1), dtype=np.float64)

    @cached_property
    def _A(self) -> Any:
        recix = _reciprocal(self.x)
        if _sparse(self.Z):
            return sp.csr_array(self.Z @ sp.diags_array(recix))
        rows, cols = np.nonzero(self.Z)
        if rows.size <= SPARSE_KEEP * self.n * self.n:
            # a sparse copy of A (12 bytes a non-zero) instead of a dense one (8 bytes an entry)
            return sp.csr_array((self.Z[rows, cols] * recix[cols], (rows, cols)), shape=(self.n, self.n))
        return self.Z * recix[None, :]

    def A(self, *, force_dense: bool = False) -> Array:
        """Technical coefficients ``A = Z diag(x)^-1`` (dense)."""

        self._dense_guard("A", force_dense)
        A: Any = self._A
        return np.asarray(A.toarray() if _sparse(A) else A)

    @cached_property
    def _factor(self) -> _Factor:
        return _Factor(self._A, len(self.regions), self.method)

    def L(self, *, force_dense: bool = False) -> Array:
        """Leontief inverse ``L = (I - A)^-1``: output of each sector (row) per unit of
        final demand for each sector (column)."""
        self._dense_guard("L", force_dense)
        return self._factor._lu_solve(np.eye(self.n), False)

    def B(self, *, force_dense: bool = False) -> Array:
        """Allocation coefficients ``B = diag(x)^-1 Z``: share of each sector's output
        sold to each other sector."""

        self._dense_guard("B", force_dense)
        Z: Any = self.Z
        return np.asarray(_reciprocal(self.x)[:, None] * (Z.toarray() if _sparse(Z) else Z))

    def G(self, *, force_dense: bool = False) -> Array:
        """Ghosh inverse ``G = (I - B)^-1 = diag(x)^-1 L diag(x)`` (pymrio's ``calc_G``
        from ``L`` and ``x``)."""
        L = self.L(force_dense=force_dense)
        return np.asarray(_reciprocal(self.x)[:, None] * L * self.x[None, :])

    @cached_property
    def value_added(self) -> Array:
        """Value added (primary inputs) per sector, ``v = x' - 1' Z``."""
        Z: Any = self.Z
        return np.asarray(self.x - np.asarray(Z.sum(axis=0)).ravel(), dtype=np.float64)

    @cached_property
    def Y_agg(self) -> Array:
        """Final demand summed over categories, ``n x regions``."""
        C = len(self.final_demand_categories)
        return np.asarray(self.Y.reshape(self.n, len(self.regions), C).sum(axis=2))

    @cached_property
    def _x_by_region(self) -> Array:
        """``L Y_agg``: output caused by each region's final demand (``n x regions``)."""
        return self._factor.solve(self.Y_agg)

    @cached_property
    def _region_of_row(self) -> Array:
        return np.repeat(np.arange(len(self.regions)), len(self.sectors))

    # ---- extensions ------------------------------------------------------------------

    def extension(self, name: str) -> Extension:
        """The extension called ``name``."""
        if name not in self.extensions:
            raise UnknownIdError("extension", name, self.extensions)
        return self.extensions[name]

    def accounts(self, name: str) -> ExtensionAccounts:
        """Every account of the extension ``name`` (computed once, then kept)."""
        cache: dict[str, ExtensionAccounts] = self.__dict__.setdefault("_accounts", {})
        if name not in cache:
            cache[name] = self._compute_accounts(name, self.extension(name))
        return cache[name]

    def _compute_accounts(self, key: str, ext: Extension) -> ExtensionAccounts:
        R, s, n = len(self.regions), len(self.sectors), self.n
        k = ext.F.shape[0]
        x = self.x
        S = ext.F * _reciprocal(x)[None, :]
        fac = self._factor
        Yagg = self.Y_agg  # n x R
        region = self._region_of_row

        # D_pba and D_exp from the output each region's final demand causes
        xr = self._x_by_region  # n x R
        x_tot = xr.sum(axis=1)
        # summed directly over the other regions (no cancellation in x_tot - own share)
        others = np.ones((n, R), dtype=bool)
        others[np.arange(n), region] = False
        x_exp = np.where(others, xr, 0.0).sum(axis=1)
        D_pba = S * x_tot[None, :]
        D_exp = S * x_exp[None, :]

        # one batch of transposed solves: S' for M, and S_(-r)' for each region r
        rhs = np.empty((n, k * (R + 1)), dtype=np.float64, order="F")
        rhs[:, :k] = S.T
        for r in range(R):
            block = S.T.copy()
            block[region == r, :] = 0.0
            rhs[:, k * (r + 1) : k * (r + 2)] = block
        sol = fac.solve(rhs, trans=True)  # n x k(R+1)
        M = np.ascontiguousarray(sol[:, :k].T)

        # D[:, (r, s)] = sum_p M[:, (p, s)] * Yagg[(p, s), r]
        def by_demand(Mr: Array, r: int) -> Array:
            prod = Mr * Yagg[:, r][None, :]  # k x n
            return np.asarray(prod.reshape(k, R, s).sum(axis=1))  # k x s

        D_cba = np.empty((k, n))
        D_imp = np.empty((k, n))
        for r in range(R):
            D_cba[:, r * s : (r + 1) * s] = by_demand(M, r)
            Mr = sol[:, k * (r + 1) : k * (r + 2)].T
            D_imp[:, r * s : (r + 1) * s] = by_demand(Mr, r)

        # M_down = S (G' - I), S G' = (L (S diag x)')' diag(x)^-1
        SG = fac.solve(np.ascontiguousarray((S * x[None, :]).T)).T * _reciprocal(x)[None, :]
        M_down = SG - S

        carried = self.carried.get(key)
        if carried:
            D_cba, D_pba, D_imp, D_exp = (np.asarray(carried[key]) for key in ("D_cba", "D_pba", "D_imp", "D_exp"))

        def per_region(D: Array) -> Array:
            return np.asarray(D.reshape(k, R, s).sum(axis=2))

        if ext.F_Y is not None:
            FY_reg = ext.F_Y.reshape(k, R, len(self.final_demand_categories)).sum(axis=2)
        else:
            FY_reg = np.zeros((k, R))
        return ExtensionAccounts(
            name=ext.name,
            stressors=ext.stressors,
            regions=self.regions,
            S=S,
            M=M,
            M_down=M_down,
            D_cba=D_cba,
            D_pba=D_pba,
            D_imp=D_imp,
            D_exp=D_exp,
            D_cba_reg=per_region(D_cba) + FY_reg,
            D_pba_reg=per_region(D_pba) + FY_reg,
            D_imp_reg=per_region(D_imp),
            D_exp_reg=per_region(D_exp),
        )

    # ---- aggregation and export ------------------------------------------------------

    def aggregate(
        self,
        *,
        regions: Mapping[str, str] | Array | None = None,
        sectors: Mapping[str, str] | Array | None = None,
        region_names: Sequence[str] | None = None,
        sector_names: Sequence[str] | None = None,
    ) -> IOSystem:
        """The system with regions and/or sectors merged (pymrio's ``aggregate``).

        Each of ``regions`` and ``sectors`` is either a mapping from every old label to its
        new label (new labels in order of first appearance) or a concordance matrix (new x
        old, ``C[a, b] = 1`` when old ``b`` goes into new ``a``) with ``region_names`` /
        ``sector_names`` naming its rows. With ``C = C_regions kron C_sectors``:
        ``Z' = C Z C'``, ``Y' = C Y (C_regions kron I)'``, ``F' = F C'`` and
        ``F_Y' = F_Y (C_regions kron I)'``. As in pymrio, the footprint and trade accounts
        (``D_cba``, ``D_pba``, ``D_imp``, ``D_exp``) are those of this detailed system,
        summed (``D' = D C'``); intensities and multipliers are the aggregated system's.

        Examples
        --------
        >>> import numpy as np
        >>> from rainforest.analysis.mrio import IOSystem
        >>> io = IOSystem(("a", "b"), ("s",), ("hh",), np.array([[1.0, 2.0], [3.0, 4.0]]), np.eye(2))
        >>> world = io.aggregate(regions={"a": "world", "b": "world"})
        >>> world.regions, world.Z.tolist(), world.x.tolist()
        (('world',), [[10.0]], [12.0])
        """
        Cr, rnames = _concordance("regions", self.regions, regions, region_names)
        Cs, snames = _concordance("sectors", self.sectors, sectors, sector_names)
        ncat = len(self.final_demand_categories)
        C: Any = sp.csr_array(sp.kron(sp.csr_array(Cr), sp.csr_array(Cs)))
        Cy: Any = sp.csr_array(sp.kron(sp.csr_array(Cr), sp.eye(ncat)))
        Z0: Any = self.Z
        Zs = C @ (Z0 if _sparse(Z0) else sp.csr_array(Z0)) @ C.T
        Z: Any = sp.csr_array(Zs) if _sparse(self.Z) else np.asarray(Zs.toarray())
        Y = np.asarray((C @ sp.csr_array(self.Y) @ Cy.T).toarray())
        exts = {
            name: Extension(
                e.name,
                e.stressors,
                np.asarray((sp.csr_array(e.F) @ C.T).toarray()),
                None if e.F_Y is None else np.asarray((sp.csr_array(e.F_Y) @ Cy.T).toarray()),
                e.units,
            )
            for name, e in self.extensions.items()
        }
        carried: dict[str, dict[str, Array]] = {}
        for name in self.extensions:
            acc = self.accounts(name)
            carried[name] = {key: np.asarray(getattr(acc, key) @ C.T) for key in ("D_cba", "D_pba", "D_imp", "D_exp")}
        return IOSystem(rnames, snames, self.final_demand_categories, Z, Y, exts, self.unit, self.method, carried)

    def to_dict(self, *, force_dense: bool = False) -> dict[str, Any]:
        """Every quantity as JSON-ready lists, in the layout ``rainforest io --json`` prints:
        ``x``, ``A``, ``L``, ``G`` (dense, ``n x n``; limited to ``DENSE_LIMIT`` sectors
        unless ``force_dense``) and each extension's accounts."""
        return {
            "regions": list(self.regions),
            "sectors": list(self.sectors),
            "final_demand_categories": list(self.final_demand_categories),
            "unit": self.unit,
            "x": self.x.tolist(),
            "A": self.A(force_dense=force_dense).tolist(),
            "L": self.L(force_dense=force_dense).tolist(),
            "G": self.G(force_dense=force_dense).tolist(),
            "value_added": self.value_added.tolist(),
            "extensions": {name: self.accounts(name).to_dict() for name in self.extensions},
        }

    def to_frame(self) -> Any:
        """One row per region and sector: total output ``x``, ``value_added`` and final demand
        (summed over its categories)."""
        import pandas as pd

        index = pd.MultiIndex.from_product([self.regions, self.sectors], names=["region", "sector"])
        demand = np.asarray(self.Y, dtype=float).sum(axis=1)
        return pd.DataFrame(
            {
                "x": np.asarray(self.x, dtype=float),
                "value_added": np.asarray(self.value_added, dtype=float),
                "final_demand": demand,
            },
            index=index,
        )


def _concordance(
    what: str, old: tuple[str, ...], spec: Mapping[str, str] | Array | None, names: Sequence[str] | None
) -> tuple[Array, tuple[str, ...]]:
    """A concordance matrix (new x old) and the new labels, from a mapping or a matrix."""
    if spec is None:
        return np.eye(len(old)), old
    if isinstance(spec, Mapping):
        missing = [o for o in old if o not in spec]
        if missing:
            raise FormatError(
                f"the {what} concordance gives no new label for {', '.join(map(repr, missing[:5]))}; "
                f"map every one of the {len(old)} {what} to its aggregate"
            )
        new = tuple(dict.fromkeys(str(spec[o]) for o in old))
        pos = {label: i for i, label in enumerate(new)}
        C = np.zeros((len(new), len(old)))
        for j, o in enumerate(old):
            C[pos[str(spec[o])], j] = 1.0
        return C, new
    C = np.atleast_2d(np.asarray(spec, dtype=np.float64))
    if C.shape[1] != len(old):
        raise FormatError(
            f"the {what} concordance matrix has {C.shape[1]} columns; expected {len(old)} (one per old label)"
        )
    labels = tuple(str(v) for v in names) if names is not None else tuple(f"{what[:-1]}{i}" for i in range(C.shape[0]))
    if len(labels) != C.shape[0]:
        raise FormatError(f"{len(labels)} {what} names for a concordance matrix of {C.shape[0]} rows")
    return C, labels
