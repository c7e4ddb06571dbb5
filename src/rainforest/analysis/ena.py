"""Ecological network analysis (ENA): the health of the rainforest, measured as ecologists
measure food webs.

Pure functions over a :class:`~rainforest.model.FlowMatrix` (any currency) with the names,
orientation and numbers of the R package enaR (Borrett & Lau 2014): ``F[i, j]`` is the flow
from ``i`` to ``j``; boundary inputs ``z`` are flows from ``world`` or ``environment``;
exports ``e`` go to ``world`` and respirations ``r`` (losses, dissipation) to
``environment``. Every matrix returned uses the same row = from, column = to orientation
(enaR's ``"rc"``).

Two engines compute the same formulas:

- **dense**, for networks up to ``dense_limit`` nodes (default 2,000): every scalar and
  matrix, as enaR computes it;
- **sparse**, above it: the structure, flow and ascendency scalars in time about linear in
  the number of flows (strongly connected components, sparse LU per cyclic component,
  iterative solves, ARPACK eigenvalues), and never an n-by-n array. Scalars that need
  every entry of an n-by-n matrix (homogenization ``HMG``, amplification ``AMP``, the
  utility analysis) raise :class:`~rainforest.errors.SizeLimitError` there, naming the
  limit and ``force_dense=True``.

Where we differ from enaR, on purpose:

- enaR rounds the integral matrices ``N`` and ``NP`` to 10 decimals before deriving
  statistics; we keep full precision. The differences stay below 1e-10 absolute; relative
  to a small statistic they can reach 2.5e-9 (``TSC`` of the Chesapeake Bay model, a sum of
  entries of order 1e-5).
- ``ppr`` (pathway proliferation rate) is ``sum(A^200) / sum(A^199)`` as in enaR, but
  computed with a rescaled power iteration, so it does not overflow to ``NaN`` when the
  dominant eigenvalue is large (enaR forms ``A^200`` literally).
- ``R`` (distance of the dominant eigenvalue from the bulk of the spectrum, Farkas et al.
  2001) is ``(|l1| - |l2|) / (|l2| - |ln|)`` with eigenvalues by decreasing modulus. enaR's
  code reads ``abs(e[n]) - abs(e[n-1]) / (abs(e[n-1]) - abs(e[1]))``: an operator-precedence
  slip that does not compute Farkas's quantity.
- enaR's steady-state check warns and goes on with an unbalanced model; we raise
  :class:`~rainforest.errors.SteadyStateError` beyond the caller's tolerance, and offer
  ``balance="input"`` / ``"output"`` to balance first.
- enaR inverts ``I - G`` (and ``I - Q``, ``I - D``, ``I - P``) with ``MASS::ginv``, a
  pseudo-inverse, so a singular matrix still gives numbers, which are not the integral
  flows (their series diverges). We raise :class:`~rainforest.errors.SteadyStateError`
  instead: up front, naming the nodes, when flow goes round a cycle (a lone self-loop
  included) that nothing enters or nothing leaves; otherwise naming the singular matrix
  (:func:`mixed_trophic_impacts` raises its ``ParameterError`` for a singular ``I - Q``).
- The storage analysis needs flow through some compartment: without any, enaR's time step
  ``-1 / floor(min diag C)`` is ``-1/0`` and its results ``NaN``; :func:`storage` raises
  ``ParameterError`` and :func:`analyze` leaves storage out with that reason in ``notes``.
- The information indices (:func:`ascendency`) are sums of logarithms, not logarithms of
  products and ratios: with flows below about 1e-154 enaR's
  ``T_ij TSTp / (T_i. T_.j)`` underflows to 0/0 and gives ``NaN``; ours keep the value
  the same flows have at any other scale. Zero flows have no term (0 log 0 = 0), as in
  enaR.
- A number that is not finite is ``null`` in JSON, with its reason under ``reasons``.

Storage and control are enaR 3.1.0's (the tests hold enaR's own figures for every bundled
model): ``ART`` is the mean over compartments of storage / (exports + respiration), enaR's
average residence time, and infinite where a compartment has no boundary output, as in
enaR. ``TSC``, ``sc`` and ``psc`` are enaR's flow-based control (``enaControl``): no stocks
needed, the storage-based ``CQ`` plays no part, and ``G``, ``N`` and ``eta = N / T`` all
use the input throughflow ``T``, as enaR's ``enaFlow`` does; a model balanced only within
the tolerance (the oyster reef to 2e-5, the Neuse estuary to 1e-3) has a different output
throughflow, and a control built on it misses enaR's ``TSC`` (by 2e-5 and 2.4e-3 relative
on those two models).

References
----------
Borrett, S.R. & Lau, M.K. (2014). enaR: An R package for Ecosystem Network Analysis.
Methods in Ecology and Evolution 5:1206-1213.
Finn, J.T. (1976). Measures of ecosystem structure and function derived from analysis of
flows. J. Theor. Biol. 56:363-380.
Fath, B.D. & Borrett, S.R. (2006). A MATLAB function for Network Environ Analysis.
Environ. Model. Softw. 21:375-405.
Ulanowicz, R.E. (1986). Growth and Development: Ecosystems Phenomenology. Springer.
Ulanowicz, R.E. (2004). Quantitative methods for ecological network analysis. Comput.
Biol. Chem. 28:321-339.
Ulanowicz, R.E., Goerner, S.J., Lietaer, B. & Gomez, R. (2009). Quantifying
sustainability: resilience, efficiency and the return of information theory. Ecological
Complexity 6:27-36.
Ulanowicz, R.E. & Puccia, C.J. (1990). Mixed trophic impacts in ecosystems. Coenoses
5:7-16.
Libralato, S., Christensen, V. & Pauly, D. (2006). A method for identifying keystone
species in food web models. Ecol. Model. 195:153-171.
Schramski, J.R., Gattie, D.K., Patten, B.C. et al. (2006). Indirect effects and
distributed control in ecosystems. Ecol. Model. 194:189-201.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from rainforest.choices import BalanceMethod
from rainforest.errors import ParameterError, SizeLimitError, SteadyStateError, check_choice, moved
from rainforest.model.flowmatrix import FlowMatrix

__all__ = [
    "DENSE_LIMIT",
    "ENA",
    "analyze",
    "ascendency",
    "balance",
    "control",
    "flow",
    "mixed_trophic_impacts",
    "no_boundary_output",
    "steady_state",
    "storage",
    "structure",
    "utility",
    "window_of_vitality",
]

#: Networks up to this many nodes are analysed with dense matrices, as enaR does.
DENSE_LIMIT = 2000
#: A cyclic component up to this many nodes has its return probabilities solved exactly
#: (a dense inverse of the component: no dense inverse is larger than DENSE_LIMIT by default).
EXACT_LIMIT = DENSE_LIMIT
#: Random walks per large component when FCI has to be estimated.
WALKERS = 2_000_000

Array = npt.NDArray[Any]  # float arrays; numpy's own annotations drift between float64 and floating


# -- steady state and balancing -----------------------------------------------------------
@dataclass(frozen=True)
class SteadyState:
    """How far each node is from steady state (inflow = outflow).

    ``relative[i] = |inflow_i - outflow_i| / inflow_i`` (0 where both are 0), as enaR's
    ``ssCheck`` measures it; ``balanced`` is whether every node is within ``tolerance``.
    """

    ids: tuple[str, ...]
    inflow: Array
    outflow: Array
    imbalance: Array
    relative: Array
    tolerance: float
    balanced: bool

    @property
    def max_relative(self) -> float:
        """The largest relative imbalance."""
        return float(self.relative.max()) if self.relative.size else 0.0

    def worst(self, k: int = 5) -> list[tuple[str, float, float]]:
        """The ``k`` nodes furthest from balance: (id, inflow - outflow, relative)."""
        order = np.argsort(-self.relative, kind="stable")[:k]
        return [(self.ids[i], float(self.imbalance[i]), float(self.relative[i])) for i in order]


def steady_state(fm: FlowMatrix, tolerance: float = 0.05) -> SteadyState:
    """Compare each node's inflow (internal in + boundary inputs) with its outflow.

    Parameters
    ----------
    fm:
        The flow matrix.
    tolerance:
        Largest acceptable relative imbalance per node (0.05 = enaR's default of 5 %).
    """
    inflow = fm.inflow()
    outflow = fm.outflow()
    imbalance = inflow - outflow
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(inflow > 0, np.abs(imbalance) / inflow, np.where(outflow > 0, np.inf, 0.0))
    return SteadyState(
        ids=fm.ids,
        inflow=inflow,
        outflow=outflow,
        imbalance=imbalance,
        relative=relative,
        tolerance=tolerance,
        balanced=bool(np.all(relative <= tolerance)),
    )


def _require_balance(fm: FlowMatrix, tolerance: float) -> None:
    state = steady_state(fm, tolerance)
    if state.balanced:
        return
    worst = ", ".join(f"{i} ({rel:.1%})" for i, _, rel in state.worst(3))
    raise SteadyStateError(
        f"the model is not at steady state: {int((state.relative > tolerance).sum())} of {fm.n} nodes "
        f"differ between inflow and outflow by more than {tolerance:.1%} (worst: {worst}). "
        "Ecological network analysis assumes steady state: pass balance='input' or 'output' to "
        "balance the model first, or a larger tolerance."
    )


def balance(fm: FlowMatrix, method: BalanceMethod = "input") -> FlowMatrix:
    """A steady-state version of ``fm``, keeping the flow proportions of the data.

    ``'input'``: boundary inputs are kept and every node passes its throughflow on in the
    proportions of its measured outflows (internal, exports, respiration), so
    ``T = z + G^T T`` (Allesina & Bondavalli 2003, input-based). ``'output'``: boundary
    outputs are kept and every node draws its throughflow in the proportions of its
    measured inflows, ``T = y + G' T``. ``'boundary'``: every measured flow is kept and
    each node's gap is closed at the boundary: a surplus of inflow leaves as an export, a
    surplus of outflow arrives as an import (stock changes are taken as zero). This is the
    right choice when the data describe only the exchanges between actors (the boundary
    flows were not measured), as for the Kalundborg Symbiosis.

    >>> fm = FlowMatrix.from_arrays([[0, 5], [0, 0]], inputs=[0, 0], exports=[0, 0], losses=[0, 0])
    >>> closed = balance(fm, "boundary")
    >>> closed.inputs.tolist(), closed.exports.tolist()
    ([5.0, 0.0], [0.0, 5.0])

    Raises
    ------
    SteadyStateError
        When a node has throughflow but no outflow (input method) or no inflow (output
        method), so no proportion can carry it.
    """
    check_choice("method", method, BalanceMethod, where="balance")
    Z = sp.csr_array(fm.Z)
    if method == "boundary":
        gap = fm.inflow() - fm.outflow()
        return _rebuilt(
            fm,
            Z,
            fm.imports + np.maximum(-gap, 0.0),
            fm.extraction,
            fm.exports + np.maximum(gap, 0.0),
            fm.losses,
            method,
        )
    outputs = fm.exports + fm.losses
    if method == "input":
        scale = _proportional_scales(Z, fm.inputs, outputs, fm.ids, "inputs", "receive flow but have no outflow")
        newZ: Any = sp.diags(scale) @ Z
        return _rebuilt(fm, newZ, fm.imports, fm.extraction, fm.exports * scale, fm.losses * scale, method)
    # balancing by outputs is balancing the reversed network by inputs
    scale = _proportional_scales(
        sp.csr_array(Z.T), outputs, fm.inputs, fm.ids, "outputs", "send flow but have no inflow"
    )
    newZ = Z @ sp.diags(scale)
    return _rebuilt(fm, newZ, fm.imports * scale, fm.extraction * scale, fm.exports, fm.losses, method)


def _proportional_scales(M: Any, kept: Array, other: Array, ids: Sequence[str], by: str, stuck_text: str) -> Array:
    """Per node, the factor on its measured onward flows (row of ``M`` plus ``other``) that
    makes throughflow ``T = kept + (D M)' T`` pass through, ``D`` normalising each row."""
    import scipy.sparse.linalg as spla

    n = M.shape[0]
    total = np.asarray(M.sum(axis=1)).ravel() + other
    received = np.asarray(M.sum(axis=0)).ravel() + kept
    stuck = np.flatnonzero((total == 0) & (received > 0))
    if stuck.size:
        raise SteadyStateError(f"cannot balance by {by}: {', '.join(ids[i] for i in stuck[:5])} {stuck_text}")
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, 1.0 / total, 0.0)
    G = sp.diags(share) @ M  # fraction of each node's onward flow going to each other node
    T = spla.spsolve(sp.csc_array(sp.eye(n) - G.T), kept) if n else np.zeros(0)
    result: Array = T * share
    return result


_balance = balance  # analyze() takes a parameter of the same name


def _rebuilt(
    fm: FlowMatrix, Z: Any, imports: Array, extraction: Array, exports: Array, losses: Array, how: str
) -> FlowMatrix:
    return FlowMatrix(
        ids=fm.ids,
        Z=sp.csr_array(Z),
        imports=np.asarray(imports, dtype=np.float64),
        extraction=np.asarray(extraction, dtype=np.float64),
        exports=np.asarray(exports, dtype=np.float64),
        losses=np.asarray(losses, dtype=np.float64),
        stock=fm.stock,
        stock_change=np.zeros(fm.n),
        currency=f"{fm.currency} (balanced: {how})",
        unit=fm.unit,
        resources=fm.resources,
        excluded=fm.excluded,
        living=fm.living,
    )


# -- helpers ----------------------------------------------------------------------------
def _inv_or_zero(v: Array) -> Array:
    """1/v with 0 where v is 0 (enaR's ginv of a diagonal matrix)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v != 0, 1.0 / v, 0.0)


def _sd(values: Array) -> float:
    """Sample standard deviation (R's ``sd``)."""
    return float(np.std(values, ddof=1)) if values.size > 1 else math.nan


def _cv_ratio(a: Array, b: Array) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float((_sd(a.ravel()) / a.mean()) / (_sd(b.ravel()) / b.mean()))


def _check_size(fm: FlowMatrix, what: str, dense_limit: int, force_dense: bool) -> None:
    if fm.n > dense_limit and not force_dense:
        raise SizeLimitError(
            f"{what} needs every entry of an n-by-n matrix; the network has {fm.n:,} nodes, above the "
            f"dense limit of {dense_limit:,} (about {8 * fm.n * fm.n / 1e9:.1f} GB per matrix). "
            "Pass force_dense=True (CLI: --force-dense) to compute it anyway, or raise dense_limit."
        )


def _throughflow(fm: FlowMatrix) -> Array:
    """Input throughflow T_i = internal inflow + boundary input (steady state)."""
    return np.asarray(fm.Z.sum(axis=0)).ravel() + fm.inputs


def _scc(fm: FlowMatrix) -> tuple[int, npt.NDArray[np.int32]]:
    from scipy.sparse.csgraph import connected_components

    count, labels = connected_components(fm.Z, directed=True, connection="strong")
    return int(count), labels


def _closed_cycles(fm: FlowMatrix) -> list[tuple[tuple[str, ...], str]]:
    """The cycles (strongly connected components carrying flow, a lone self-loop included)
    that nothing leaves (no export, loss or flow to a node outside) or nothing enters (no
    input or flow from outside), each with ``'leaves'`` or ``'enters'``.

    Flow in such a cycle goes round forever: ``I - G`` (or ``I - G'``) has the eigenvalue
    0, so the integral flows ``(I - G)^-1`` do not exist."""
    A: Any = sp.coo_array(fm.Z)
    on = A.data > 0
    rows, cols = A.row[on], A.col[on]
    if not rows.size:
        return []
    from scipy.sparse.csgraph import connected_components

    graph = sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(fm.n, fm.n))
    count, labels = connected_components(graph, directed=True, connection="strong")
    inside = labels[rows] == labels[cols]
    cyclic = np.zeros(count, dtype=bool)
    cyclic[labels[rows[inside]]] = True  # an internal edge: a cycle (or a self-loop)
    leaves = np.zeros(count, dtype=bool)
    leaves[labels[rows[~inside]]] = True
    leaves[labels[np.flatnonzero(fm.exports + fm.losses > 0)]] = True
    enters = np.zeros(count, dtype=bool)
    enters[labels[cols[~inside]]] = True
    enters[labels[np.flatnonzero(fm.inputs > 0)]] = True
    out: list[tuple[tuple[str, ...], str]] = []
    for c in np.flatnonzero(cyclic & ~(leaves & enters)).tolist():
        out.append((tuple(fm.ids[i] for i in np.flatnonzero(labels == c)), "leaves" if not leaves[c] else "enters"))
    return out


def _require_open(fm: FlowMatrix) -> None:
    """Raise :class:`SteadyStateError` naming the closed cycles of ``fm``, if any."""
    closed = _closed_cycles(fm)
    if not closed:
        return
    named = "; ".join(
        f"{', '.join(ids[:5])}{f' and {len(ids) - 5} more' if len(ids) > 5 else ''} (nothing {what} it)"
        for ids, what in closed[:3]
    )
    raise SteadyStateError(
        f"flow is trapped in {len(closed)} closed cycle(s): {named}. Flow in a cycle that nothing "
        "enters or nothing leaves goes round it forever, so the integral flows (I - G)^-1 of the network analysis "
        "do not exist (enaR's pseudo-inverse gives numbers that are not them). Record where the flow "
        "enters and leaves (an input, an export or a loss of these actors), or leave the cycle out."
    )


def _inverse(M: Array, what: str) -> Array:
    """``M^-1``, or :class:`SteadyStateError` saying which matrix is singular."""
    try:
        inv: Array = np.linalg.inv(M)
    except np.linalg.LinAlgError:
        inv = np.full(M.shape, np.nan)
    if not np.all(np.isfinite(inv)):
        raise SteadyStateError(
            f"{what} is singular (numerically): the series of direct and indirect flows it sums does not "
            "converge, so this analysis is not defined for the network. Check for flow that goes round a "
            "cycle without entering or leaving it, or for nodes far from steady state."
        )
    return inv


# -- structure --------------------------------------------------------------------------
def structure(fm: FlowMatrix, *, dense_limit: int = DENSE_LIMIT) -> dict[str, float]:
    """Structural statistics of the flow graph (enaR ``enaStructure``).

    Returns ``n``, ``L`` (links), ``C`` (connectance L/n^2), ``LD`` (link density L/n),
    ``ppr`` (pathway proliferation rate, Borrett & Patten 2003), ``lam1A`` (dominant
    eigenvalue modulus of the adjacency matrix: the cyclicity of eco-industrial park
    studies), ``mlam1A`` (its multiplicity), ``rho`` (damping ratio lam1A/|lam2A|, Caswell
    2001), ``R`` (Farkas et al. 2001), ``d`` (|lam1A - LD|), ``no.scc``, ``no.scc.big``,
    ``pscc`` (share of nodes in a strongly connected component of more than one node).

    Above ``dense_limit`` the eigenvalues come from ARPACK (largest moduli) and a sparse
    LU of the adjacency matrix (smallest modulus; zero when it is singular).
    """
    n = fm.n
    A: Any = sp.csr_array(fm.Z, copy=True)
    A.data = (A.data != 0).astype(np.float64)
    A.eliminate_zeros()
    L = float(A.sum())
    count, labels = _scc(fm)
    sizes = np.bincount(labels, minlength=count)
    big = sizes > 1
    out: dict[str, float] = {
        "n": float(n),
        "L": L,
        "C": L / n**2 if n else math.nan,
        "LD": L / n if n else math.nan,
        "ppr": _ppr(A),
    }
    moduli = _eigen_moduli(A, labels, sizes, dense_block=dense_limit if n <= dense_limit else 400)
    lam1 = moduli["lam1"]
    out["lam1A"] = lam1
    out["mlam1A"] = moduli["mult"]
    out["rho"] = moduli["rho"]
    out["R"] = moduli["R"]
    out["d"] = abs(lam1 - out["LD"])
    out["no.scc"] = float(count)
    out["no.scc.big"] = float(big.sum())
    out["pscc"] = float(sizes[big].sum() / n) if n else math.nan
    return out


def _ppr(A: Any, steps: int = 200) -> float:
    """sum(A^steps) / sum(A^(steps-1)) by a rescaled power iteration (no overflow)."""
    v = np.ones(A.shape[0])
    for _ in range(steps - 1):
        v = A @ v
        total = v.sum()
        if total == 0:
            return math.nan  # nilpotent: both powers vanish, 0/0 as in enaR
        v /= total
    return float((A @ v).sum())


def _from_moduli(mod: Array) -> dict[str, float]:
    """lam1, multiplicity, rho and R from eigenvalue moduli sorted decreasing."""
    n = mod.size
    rounded = np.round(mod, 7)
    mult = int((rounded == rounded[0]).sum()) if n else 0
    lam1 = float(mod[0]) if n else math.nan
    if n - mult > 0:
        lam2 = float(mod[mult])
        smallest = float(mod[-1])
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = lam1 / lam2 if lam2 else math.inf
            R = (lam1 - lam2) / (lam2 - smallest) if lam2 != smallest else math.inf
    else:
        rho = R = math.nan
    return {"lam1": lam1, "mult": float(mult), "rho": rho, "R": R}


def _eigen_moduli(
    A: Any, labels: npt.NDArray[np.int32], sizes: npt.NDArray[np.int64], dense_block: int
) -> dict[str, float]:
    """Eigenvalue moduli block by block: the spectrum of a reducible matrix is the union of
    its strongly connected blocks' spectra, a node outside every cycle contributes an exact
    0 and a lone self-loop its weight (1 in an adjacency matrix). Blocks up to
    ``dense_block`` nodes are solved whole; larger ones give their 12 largest moduli by
    ARPACK. Exact zeros matter: a dense solver returns 1e-17 for them, which turns the
    damping ratio into noise."""
    A = sp.csr_array(A)
    top: list[float] = []
    complete = True  # every block's whole spectrum collected
    diag = A.diagonal()
    for c in np.flatnonzero(sizes > 1).tolist():
        nodes = np.flatnonzero(labels == c)
        block = A[nodes][:, nodes]
        if nodes.size <= max(dense_block, 50):
            top.extend(np.abs(np.linalg.eigvals(block.toarray())).tolist())
        else:
            complete = False
            top.extend(_largest_moduli(block.astype(np.float64)))
    single = sizes[labels] == 1
    loops = int((single & (diag != 0)).sum())
    top.extend([1.0] * loops)  # a one-node cycle (self-loop) has eigenvalue 1
    zeros = int(single.sum()) - loops  # every other node outside a cycle contributes a 0
    mod = np.sort(np.concatenate([np.array(top), np.zeros(zeros)]))[::-1]
    if zeros == 0 and not complete:
        mod = np.append(mod, _smallest_modulus(A))
    return _from_moduli(mod) if mod.size else _from_moduli(np.zeros(1))


def _largest_moduli(block: Any) -> list[float]:
    """The largest eigenvalue moduli of a large block by ARPACK: six with a wide Krylov
    space (40 vectors: several times faster than the default for these spectra), more
    when all six share the top modulus (a periodic component has as many as its period)."""
    import scipy.sparse.linalg as spla

    n = block.shape[0]
    k = 6
    while True:
        k = min(k, n - 2)
        vals = np.abs(
            spla.eigs(
                block,
                k=k,
                ncv=min(n - 1, max(40, 2 * k + 1)),
                which="LM",
                return_eigenvectors=False,
                tol=1e-14,
                maxiter=100_000,
            )
        )
        rounded = np.round(vals, 7)
        if (rounded == rounded.max()).sum() < k or k >= n - 2:
            return [float(v) for v in vals]
        k *= 2


def _smallest_modulus(A: Any) -> float:
    import scipy.sparse.linalg as spla

    if A.shape[0] <= 400:
        return float(np.abs(np.linalg.eigvals(A.toarray())).min())
    try:
        vals = spla.eigs(A.astype(np.float64), k=1, sigma=0, which="LM", return_eigenvectors=False)
    except (RuntimeError, ValueError):
        return 0.0  # singular: zero is an eigenvalue
    return float(np.abs(vals).min())


# -- flow analysis ----------------------------------------------------------------------
@dataclass(frozen=True)
class FlowAnalysis:
    """Throughflow analysis (enaR ``enaFlow``): scalars, throughflows and matrices."""

    scalars: dict[str, float]
    T: Array
    matrices: dict[str, Array] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def flow(
    fm: FlowMatrix,
    *,
    matrices: bool = False,
    dense_limit: int = DENSE_LIMIT,
    force_dense: bool = False,
    exact_limit: int = EXACT_LIMIT,
    walkers: int = WALKERS,
    rng: int | np.random.SeedSequence | np.random.Generator | None = 0,
) -> FlowAnalysis:
    """Finn-Patten throughflow analysis.

    Scalars: ``Boundary`` (sum of inputs), ``TST`` (total system throughflow),
    ``TSTp`` (throughput: internal flows + inputs + outputs), ``APL`` = TST/Boundary,
    ``FCI`` (Finn cycling index: sum_i (N_ii-1)/N_ii T_i / TST), ``BFI``/``DFI``/``IFI``
    (boundary, direct and indirect shares of TST), ``ID.F`` (realised indirect/direct),
    ``ID.F.I``/``ID.F.O`` (idealised, input/output oriented), ``HMG.I``/``HMG.O``
    (homogenization), ``AMP.I``/``AMP.O`` (amplification), ``mode0.F``..``mode4.F``.

    Matrices (``matrices=True``, dense only): ``G`` and ``GP`` (output and input
    oriented direct intensities, ``G[i,j] = F[i,j]/T_i``, ``GP[i,j] = F[i,j]/T_j``), ``N``
    and ``NP`` (integral intensities ``(I - G)^-1``), ``TCC`` and ``TDC`` (total
    contribution and dependency coefficients, Szyrmer & Ulanowicz 1987).

    Above ``dense_limit`` the scalars are computed sparsely: the ones that need linear
    solves through strongly connected components, ``HMG`` and ``AMP`` (all of ``N``) are
    ``NaN`` unless ``force_dense``. ``FCI`` and the modes are exact while every cyclic
    component has at most ``exact_limit`` nodes; beyond, they are estimated by ``walkers``
    random walks (seeded by ``rng``) and ``FCI.se`` gives the standard error.

    Raises
    ------
    SteadyStateError
        When flow goes round a cycle (a self-loop included) that nothing enters or nothing
        leaves: ``I - G`` is singular and the integral flows do not exist. The message
        names the cycle's nodes.
    """
    _require_open(fm)
    if fm.n <= dense_limit or force_dense:
        return _flow_dense(fm, matrices)
    if matrices:
        _check_size(fm, "the flow matrices (G, N, TCC, ...)", dense_limit, force_dense)
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return _flow_sparse(fm, exact_limit, walkers, generator)


def _flow_dense(fm: FlowMatrix, with_matrices: bool) -> FlowAnalysis:
    n = fm.n
    F = fm.dense()
    z = fm.inputs
    y = fm.exports + fm.losses
    Fi = F.T  # enaR's internal orientation: Fi[i, j] = flow from j to i
    I = np.eye(n)
    T = Fi.sum(axis=1) + z
    invT = _inv_or_zero(T)
    GPi = Fi * invT[:, None]
    Gi = Fi * invT[None, :]
    Ni = _inverse(I - Gi, "I - G")
    NPi = _inverse(I - GPi, "I - G'")
    TST = float(T.sum())
    boundary = float(z.sum())
    dN = np.diag(Ni)
    cycled = float(((dN - 1.0) / dN * T).sum())
    direct = float((Gi @ z).sum())
    indirect = float(((Ni - I - Gi) @ z).sum())
    scalars = _flow_scalars(
        boundary,
        TST,
        float(F.sum() + z.sum() + y.sum()),
        cycled,
        direct,
        indirect,
        id_i=float((NPi - I - GPi).sum() / GPi.sum()) if GPi.sum() else math.nan,
        id_o=float((Ni - I - Gi).sum() / Gi.sum()) if Gi.sum() else math.nan,
        hmg=(_cv_ratio(GPi, NPi), _cv_ratio(Gi, Ni)),
        amp=(_amplified(NPi), _amplified(Ni)),
        first_passage=float((Ni @ z / dN).sum() - z.sum()),
    )
    mats: dict[str, Array] = {}
    if with_matrices:
        invdNP = _inv_or_zero(np.diag(NPi.T))
        TCC = (invT[:, None]) * (((NPi.T - I) * invdNP[None, :]) * T[None, :])
        TDC = (invT[:, None]) * (((Ni - I) * _inv_or_zero(dN)[None, :]) * T[None, :])
        mats = {"G": Gi.T, "GP": GPi.T, "N": Ni.T, "NP": NPi.T, "TCC": TCC, "TDC": TDC.T}
    return FlowAnalysis(scalars=scalars, T=T, matrices=mats)


def _flow_scalars(
    boundary: float,
    TST: float,
    TSTp: float,
    cycled: float,
    direct: float,
    indirect: float,
    *,
    id_i: float,
    id_o: float,
    hmg: tuple[float, float],
    amp: tuple[float, float],
    first_passage: float,
) -> dict[str, float]:
    """The flow statistics from their ingredients (shared by both engines)."""

    def ratio(a: float, b: float) -> float:
        return a / b if b else math.nan

    return {
        "Boundary": boundary,
        "TST": TST,
        "TSTp": TSTp,
        "APL": ratio(TST, boundary),
        "FCI": ratio(cycled, TST),
        "BFI": ratio(boundary, TST),
        "DFI": ratio(direct, TST),
        "IFI": ratio(indirect, TST),
        "ID.F": ratio(indirect, direct),
        "ID.F.I": id_i,
        "ID.F.O": id_o,
        "HMG.I": hmg[0],
        "HMG.O": hmg[1],
        "AMP.I": amp[0],
        "AMP.O": amp[1],
        **_modes(boundary, first_passage, cycled),
    }


def _amplified(M: Array) -> float:
    """Off-diagonal entries above 1, after rounding to 10 decimals as enaR does: entries
    that are exactly 1 in theory (a node fed by one other alone) must not count by a
    rounding error."""
    off = np.round(M, 10)
    np.fill_diagonal(off, 0.0)
    return float((off > 1).sum())


def _modes(boundary: float, first_passage: float, cycled: float) -> dict[str, float]:
    """Fath's MODE partition of throughflow (boundary, first passage, cycled, and their
    dissipative equivalents, equal at steady state)."""
    return {
        "mode0.F": boundary,
        "mode1.F": first_passage,
        "mode2.F": cycled,
        "mode3.F": first_passage,
        "mode4.F": boundary,
    }


@dataclass(frozen=True)
class _Cycled:
    """Cycled throughflow TSTc = sum_i T_i f_i, where f_i = (N_ii - 1) / N_ii is the
    probability that flow leaving node i comes back to it."""

    value: float
    standard_error: float  # 0 when exact
    estimated_nodes: int  # nodes in components too large to solve exactly


def _cycled_throughflow(
    G: Any,
    T: Array,
    labels: npt.NDArray[np.int32],
    sizes: npt.NDArray[np.int64],
    exact_limit: int,
    walkers: int,
    rng: np.random.Generator,
) -> _Cycled:
    """TSTc one strongly connected component at a time.

    With the nodes in SCC order ``I - G`` is block triangular, so the diagonal blocks of
    ``N`` are the inverses of its diagonal blocks: a node outside every cycle has
    ``N_ii = 1`` (or ``1/(1 - g_ii)`` with a self-loop), and each cyclic component is solved
    on its own, exactly, when it has at most ``exact_limit`` nodes.

    A larger component has no exact method within reach: ``diag((I - G)^-1)`` of a random
    sparse graph fills an LU almost completely (a 68,000-node component did not factor in
    five minutes). There the component's share ``sum_i T_i f_i`` is estimated without bias
    by random walks started at nodes drawn in proportion to their throughflow (each walk
    follows the flow proportions until it returns, leaves the component or leaves the
    system), and its standard error is returned.
    """
    G = sp.csr_array(G)
    loops = G.diagonal()
    trivial = sizes[labels] == 1
    total = float((T[trivial] * loops[trivial]).sum())  # f_i = g_ii for a lone self-loop
    variance = 0.0
    estimated = 0
    for c in np.flatnonzero(sizes > 1).tolist():
        nodes = np.flatnonzero(labels == c)
        block = G[nodes][:, nodes]
        if nodes.size <= exact_limit:
            diag = np.diag(_inverse(np.eye(nodes.size) - block.toarray(), "I - G"))
            total += float((T[nodes] * (diag - 1.0) / diag).sum())
            continue
        estimated += nodes.size
        part, var = _returns_by_walks(block.tocsr(), T[nodes], walkers, rng)
        total += part
        variance += var
    return _Cycled(total, math.sqrt(variance), estimated)


def _returns_by_walks(
    block: Any, weights: Array, walkers: int, rng: np.random.Generator, max_steps: int = 100_000
) -> tuple[float, float]:
    """Estimate sum_i w_i f_i and its variance with ``walkers`` random walks (vectorised).

    Each walk starts at a node drawn in proportion to its weight and follows the flow
    proportions until it returns, leaves the component or leaves the system. Rather than
    counting returns (0 or 1 per walk), each walk adds, at every step, the probability
    ``G[here, start]`` of stepping straight back: the sum has the same expectation
    (``P(return at t+1 | not yet returned, here) = G[here, start]``) and a far smaller
    variance when returns are rare (conditioning, Rao-Blackwell).
    """
    n = block.shape[0]
    block = block.tocsr()
    block.sort_indices()
    indptr, indices, data = block.indptr, block.indices, block.data
    keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr)) * n + indices  # sorted: rows, then columns
    row_total = np.asarray(block.sum(axis=1)).ravel()
    # cumulative probabilities per row, offset by row index so one searchsorted serves all
    cum = np.cumsum(data)
    row_start = np.concatenate([[0.0], cum])[indptr[:-1]]
    weight_sum = float(weights.sum())
    start = rng.choice(n, size=walkers, p=weights / weight_sum)
    position = start.copy()
    alive = np.ones(walkers, dtype=bool)
    score = np.zeros(walkers)
    for _ in range(max_steps):
        idx = np.flatnonzero(alive)
        if idx.size == 0:
            break
        here = position[idx]
        wanted = here.astype(np.int64) * n + start[idx]
        at = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
        score[idx] += np.where(keys[at] == wanted, data[at], 0.0)
        u = rng.random(idx.size)
        stays = u < row_total[here]  # else the walk leaves the component or the system
        idx, here, u = idx[stays], here[stays], u[stays]
        alive[:] = False
        alive[idx] = True
        target = np.searchsorted(cum, row_start[here] + u, side="right")
        target = np.minimum(target, indptr[here + 1] - 1)
        position[idx] = indices[target]
        back = position[idx] == start[idx]
        alive[idx[back]] = False
    mean = float(score.mean())
    return weight_sum * mean, weight_sum**2 * float(score.var(ddof=1)) / walkers


def _flow_sparse(fm: FlowMatrix, exact_limit: int, walkers: int, rng: np.random.Generator) -> FlowAnalysis:
    Z = sp.csr_array(fm.Z)
    z = fm.inputs
    y = fm.exports + fm.losses
    T = _throughflow(fm)
    invT = _inv_or_zero(T)
    G = sp.diags(invT) @ Z  # G[i, j] = F[i, j] / T_i
    count, labels = _scc(fm)
    sizes = np.bincount(labels, minlength=count)
    cyc = _cycled_throughflow(G, T, labels, sizes, exact_limit, walkers, rng)
    TST = float(T.sum())
    boundary = float(z.sum())
    cycled = cyc.value
    # direct = sum(G z) in enaR's orientation = sum_i z_i (internal outflow_i / T_i)
    out_internal = np.asarray(Z.sum(axis=1)).ravel()
    direct = float((z * out_internal * invT).sum())
    # N z = T at steady state, so sum((N - I - G) z) = TST - Boundary - direct
    indirect = TST - boundary - direct
    GP = Z @ sp.diags(invT)  # GP[i, j] = F[i, j] / T_j
    scalars = _flow_scalars(
        boundary,
        TST,
        float(Z.sum() + z.sum() + y.sum()),
        cycled,
        direct,
        indirect,
        id_i=_idealised_ratio(GP),
        id_o=_idealised_ratio(G),
        hmg=(math.nan, math.nan),
        amp=(math.nan, math.nan),
        # sum_i T_i / N_ii - Boundary = TST - TSTc - Boundary
        first_passage=TST - cycled - boundary,
    )
    notes: tuple[str, ...] = ()
    if cyc.estimated_nodes:
        scalars["FCI.se"] = cyc.standard_error / TST
        notes = (
            f"FCI and the modes are estimated: {cyc.estimated_nodes:,} nodes lie in strongly connected "
            f"components larger than {exact_limit:,} nodes, whose return probabilities have no exact "
            f"method within reach; {walkers:,} random walks per component give FCI = "
            f"{cycled / TST:.6g} +/- {cyc.standard_error / TST:.2g} (one standard error, FCI.se).",
        )
    return FlowAnalysis(scalars=scalars, T=T, notes=notes)


def _idealised_ratio(G: Any) -> float:
    """sum(N - I - G) / sum(G) with N = (I - G)^-1, from one linear solve: sum(N) = 1' N 1."""
    import scipy.sparse.linalg as spla

    n = G.shape[0]
    total_g = float(G.sum())
    if not total_g:
        return math.nan
    ones = np.ones(n)
    system = sp.csc_array(sp.eye(n) - G.T)
    x, info = spla.gmres(system, ones, rtol=1e-14, atol=0.0, restart=200, maxiter=2000)
    if info != 0 or np.linalg.norm(system @ x - ones) > 1e-10 * math.sqrt(n):
        x = spla.spsolve(system, ones)
    return float((np.sum(x) - n - total_g) / total_g)


# -- ascendency -------------------------------------------------------------------------
def ascendency(fm: FlowMatrix) -> dict[str, float]:
    """Ulanowicz's information indices on the extended (n+3) flow matrix.

    The extended matrix holds internal flows, a row of imports, a column of exports and a
    column of respirations; ``TSTp`` is its sum. With ``p_ij = T_ij / TSTp``:

    - ``H`` (flow diversity) = -sum p_ij log2 p_ij; ``CAP`` (capacity) = TSTp H;
    - ``AMI`` = sum p_ij log2(T_ij TSTp / (T_i. T_.j)); ``ASC`` (ascendency) = TSTp AMI;
    - ``Hr`` = H - AMI (residual diversity); ``OH`` (overhead) = CAP - ASC;
    - ``ASC.CAP``, ``OH.CAP`` and ``robustness`` = -a ln(a) with a = ASC/CAP (natural log,
      as enaR; Ulanowicz et al. 2009 scale it by e so that its peak is 1);
    - ``ELD`` (effective link density) and ``TD`` (trophic depth, = 2^AMI);
    - each of A, OH, CAP split by the row or column it comes from: ``.input``,
      ``.internal``, ``.export``, ``.respiration``.

    Logarithms are base 2 (bits) except in ``robustness``. Linear in the number of flows.
    """
    n = fm.n
    Z = sp.coo_array(fm.Z)
    keep = Z.data > 0
    rows: list[npt.NDArray[Any]] = [
        Z.row[keep],
        np.full(int((fm.inputs > 0).sum()), n),
        np.flatnonzero(fm.exports > 0),
        np.flatnonzero(fm.losses > 0),
    ]
    cols: list[npt.NDArray[Any]] = [
        Z.col[keep],
        np.flatnonzero(fm.inputs > 0),
        np.full(int((fm.exports > 0).sum()), n + 1),
        np.full(int((fm.losses > 0).sum()), n + 2),
    ]
    vals: list[npt.NDArray[Any]] = [
        Z.data[keep],
        fm.inputs[fm.inputs > 0],
        fm.exports[fm.exports > 0],
        fm.losses[fm.losses > 0],
    ]
    part = np.concatenate([np.full(r.size, k) for k, r in enumerate(rows)])
    r = np.concatenate(rows).astype(np.int64)
    c = np.concatenate(cols).astype(np.int64)
    t = np.concatenate(vals).astype(np.float64)
    total = float(t.sum())
    if total <= 0:
        return dict.fromkeys(_ASC_NAMES, math.nan)
    row_sum = np.bincount(r, weights=t, minlength=n + 3)
    col_sum = np.bincount(c, weights=t, minlength=n + 3)
    # Each term in logarithms: a product of two tiny flows underflows to 0 (0/0 in the
    # ratio), a sum of logarithms does not. Every t here is positive, and so are its row
    # and column sums; a zero flow has no term (0 log 0 = 0, as enaR skips it).
    lt, lr, lc, ltotal = np.log2(t), np.log2(row_sum[r]), np.log2(col_sum[c]), math.log2(total)
    asc_terms = t * (lt + ltotal - lr - lc)
    oh_terms = -t * (2.0 * lt - lr - lc)
    cap_terms = -t * (lt - ltotal)
    ASC, OH, CAP = float(asc_terms.sum()), float(oh_terms.sum()), float(cap_terms.sum())
    AMI, H = ASC / total, CAP / total
    a = ASC / CAP if CAP else math.nan
    p = t / total
    ln2 = math.log(2.0)
    out = {
        "H": H,
        "AMI": AMI,
        "Hr": H - AMI,
        "CAP": CAP,
        "ASC": ASC,
        "OH": OH,
        "ASC.CAP": a,
        "OH.CAP": OH / CAP if CAP else math.nan,
        "robustness": -a * math.log(a) if a > 0 else math.nan,
        # natural logarithms of p_ij, p_i. and p_.j from the base-2 ones above
        "ELD": float(np.exp((p * (0.5 * (lr + lc) - lt) * ln2).sum())),
        "TD": float(np.exp((p * (lt + ltotal - lr - lc) * ln2).sum())),
    }
    for name, terms in (("A", asc_terms), ("OH", oh_terms), ("CAP", cap_terms)):
        for k, where in enumerate(("input", "internal", "export", "respiration")):
            key = [1, 0, 2, 3][k]
            out[f"{name}.{where}"] = float(terms[part == key].sum())
    return out


_ASC_NAMES = (
    "H",
    "AMI",
    "Hr",
    "CAP",
    "ASC",
    "OH",
    "ASC.CAP",
    "OH.CAP",
    "robustness",
    "ELD",
    "TD",
    *(f"{a}.{w}" for a in ("A", "OH", "CAP") for w in ("input", "internal", "export", "respiration")),
)


def window_of_vitality(asc: Mapping[str, float], points: int = 101) -> dict[str, Any]:
    """The model's place on Ulanowicz's robustness curve.

    Robustness ``F(a) = -a ln a`` of the degree of order ``a = ASC/CAP`` peaks at
    ``a = 1/e`` (about 0.368): to the left, systems are redundant and weakly organised;
    to the right, efficient but brittle (Ulanowicz et al. 2009, Fig. 2). Returns the curve
    (for plotting), the peak, the model's ``a`` and robustness, and which side it is on.
    No thresholds beyond the peak are asserted: the published "window" is an empirical
    cluster of natural ecosystems, not a rule.
    """
    a = float(asc["ASC.CAP"])
    grid = np.linspace(0.0, 1.0, points)
    with np.errstate(divide="ignore", invalid="ignore"):
        curve = np.where(grid > 0, -grid * np.log(grid), 0.0)
    peak = 1.0 / math.e
    side = (
        "at the peak"
        if abs(a - peak) < 1e-3
        else (
            "more organised than the peak (efficient, brittle)"
            if a > peak
            else "less organised than the peak (redundant, resilient)"
        )
    )
    return {
        "a": a,
        "robustness": float(asc["robustness"]),
        "peak_a": peak,
        "peak_robustness": peak,
        "relative_robustness": float(asc["robustness"]) / peak if peak else math.nan,
        "side": side,
        "curve": {"a": grid.tolist(), "robustness": curve.tolist()},
    }


# -- utility -----------------------------------------------------------------------------
@dataclass(frozen=True)
class UtilityAnalysis:
    """Flow utility (enaR ``enaUtility``, type flow): who benefits whom."""

    scalars: dict[str, float]
    D: Array
    U: Array
    Y: Array


def _signs(M: Array) -> npt.NDArray[np.int8]:
    return np.sign(M).astype(np.int8)


def _relation_change(X: Array, Y: Array) -> float:
    """Percent of pairwise relations (i <= j, signs of (ji, ij)) that differ between two
    matrices, rounded to 2 decimals (enaR ``relationalChange``)."""
    sx, sy = _signs(X), _signs(Y)
    iu = np.triu_indices(X.shape[0])
    changed = (sx[iu] != sy[iu]) | (sx.T[iu] != sy.T[iu])
    return round(float(changed.sum()) / iu[0].size * 100, 2)


def utility(fm: FlowMatrix, *, dense_limit: int = DENSE_LIMIT, force_dense: bool = False) -> UtilityAnalysis:
    """Flow-based utility analysis (Patten 1991; Fath & Patten 1998): mutual benefit.

    ``D[i, j] = (f_ji - f_ij) / T_i`` in enaR's internal orientation, returned as ``rc``;
    ``U = (I - D)^-1`` (non-dimensional integral utility), ``Y = diag(T) U``. Scalars:
    ``lam1D`` (dominant eigenvalue modulus of D; the series converges when it is below 1),
    ``relation.change.F`` (percent of pairwise relations whose signs change from direct to
    integral), ``synergism.F`` (sum of positive Y over |sum of negative Y|: benefit/cost)
    and ``mutualism.F`` (number of positive over number of negative entries of Y).

    Needs all n^2 entries: raises SizeLimitError above ``dense_limit``.
    """
    _check_size(fm, "utility analysis", dense_limit, force_dense)
    n = fm.n
    Fi = fm.dense().T
    T = Fi.sum(axis=1) + fm.inputs
    FD = Fi.copy()
    np.fill_diagonal(FD, -T)
    Di = _inv_or_zero(T)[:, None] * (FD - FD.T)
    Ui = _inverse(np.eye(n) - Di, "I - D (utility)")
    Yi = T[:, None] * Ui
    pos, neg = Yi[Yi > 0].sum(), np.abs(Yi[Yi < 0]).sum()
    scalars = {
        "lam1D": float(np.abs(np.linalg.eigvals(Di)).max()) if n else math.nan,
        "relation.change.F": _relation_change(Di, Yi),
        "synergism.F": float(pos / neg) if neg else math.inf,
        "mutualism.F": float((Yi > 0).sum() / (Yi < 0).sum()) if (Yi < 0).any() else math.inf,
    }
    return UtilityAnalysis(scalars=scalars, D=Di.T, U=Ui.T, Y=Yi.T)


# -- storage and control ------------------------------------------------------------------
def has_storage(fm: FlowMatrix) -> bool:
    """Whether every node has a positive stock (storage analysis needs them)."""
    return bool(fm.n and np.all(fm.stock > 0))


def storage(fm: FlowMatrix, *, dense_limit: int = DENSE_LIMIT, force_dense: bool = False) -> dict[str, float]:
    """Storage-based environ analysis (enaR ``enaStorage``; Barber 1978, Fath et al. 2001).

    With ``C = (F^T - diag(T)) diag(x)^-1`` (the Jacobian community matrix) and the time step
    ``dt = -1 / floor(min diag C)``, ``P = I + C dt`` and ``Q = (I - P)^-1``. Returns ``TSS``
    (total system storage), ``CIS`` (storage cycling index), ``BSI``/``DSI``/``ISI``,
    ``ID.S``/``ID.S.I``/``ID.S.O``, ``HMG.S.O``/``HMG.S.I``, ``NAS``/``NASP``, the storage
    modes ``mode0.S``..``mode4.S`` and ``ART``, enaR's average residence time: the mean over
    compartments of ``x_i / (e_i + r_i)``, storage over boundary output (exports plus
    respiration). ``ART`` is infinite, as in enaR, when a compartment has no boundary output
    (:func:`no_boundary_output` names them).
    """
    _check_size(fm, "storage analysis", dense_limit, force_dense)
    if not has_storage(fm):
        raise ParameterError(
            "storage analysis needs a positive stock for every node of the flow matrix; give stocks in the document"
        )
    n = fm.n
    Fi = fm.dense().T
    z = fm.inputs
    x = fm.stock
    I = np.eye(n)
    T = Fi.sum(axis=1) + z
    FD = Fi - np.diag(T)
    invx = _inv_or_zero(x)
    C = FD * invx[None, :]
    CP = invx[:, None] * FD
    turnover = float(np.diag(C).min()) if n else 0.0
    if turnover >= 0:
        raise ParameterError(f"storage analysis {_NO_TURNOVER}")
    dt = -1.0 / math.floor(turnover)
    P = I + C * dt
    PP = I + CP * dt
    Q = _inverse(I - P, "I - P (storage)")
    QP = _inverse(I - PP, "I - P' (storage)")
    dQ = np.diag(Q)
    TSS = float(x.sum())
    cycled = float(((dQ - 1) / dQ) @ x)
    with np.errstate(divide="ignore"):
        residence = x / (fm.exports + fm.losses)  # stocks are positive: a zero output gives +inf
    mode1 = float((((Q * (1.0 / dQ)[:, None]) - I) @ np.diag(z) * dt).sum())
    mode2 = float(((dQ - 1)[:, None] * (Q * (1.0 / dQ)[:, None]) @ np.diag(z) * dt).sum())
    return {
        "TSS": TSS,
        "CIS": cycled / TSS,
        "BSI": float((z * dt).sum() / TSS),
        "DSI": float((P @ z * dt).sum() / TSS),
        "ISI": float(((Q - I - P) @ z * dt).sum() / TSS),
        "ID.S": _ratio(float((dt * ((Q - I - P) @ z)).sum()), float((dt * (P @ z)).sum())),
        "ID.S.I": _ratio(float((QP - I - PP).sum()), float(PP.sum())),
        "ID.S.O": _ratio(float((Q - I - P).sum()), float(P.sum())),
        "HMG.S.O": _cv_ratio(P, Q),
        "HMG.S.I": _cv_ratio(PP, QP),
        "NAS": _amplified(Q),
        "NASP": _amplified(QP),
        "mode0.S": float((z * dt).sum()),
        "mode1.S": mode1,
        "mode2.S": mode2,
        "mode3.S": mode1,
        "mode4.S": float(((fm.exports + fm.losses) * dt).sum()),
        "ART": float(np.mean(residence)),
    }


_NO_TURNOVER = (
    "is not defined: no flow passes through any compartment (throughflow is 0 or only a self-loop), "
    "so its time step dt = -1 / floor(min diag C) is 1/0"
)


def _ratio(a: float, b: float) -> float:
    """a / b, NaN when b is 0 (R's 0/0; x/0 is Inf in R, no number either)."""
    return a / b if b else math.nan


def no_boundary_output(fm: FlowMatrix) -> tuple[str, ...]:
    """The compartments with neither exports nor respiration: their residence time
    storage / (exports + respiration), and so ``ART``, is infinite."""
    return tuple(fm.ids[i] for i in np.flatnonzero(fm.exports + fm.losses == 0))


def control(fm: FlowMatrix, *, dense_limit: int = DENSE_LIMIT, force_dense: bool = False) -> dict[str, Any]:
    """Distributed control (Schramski et al. 2006), as enaR ``enaControl`` computes it.

    With ``T`` the input throughflow (boundary input plus internal inflow), ``G[i, j] =
    F[j, i] / T_j`` and ``N = (I - G)^-1`` as in :func:`flow`, ``eta = N / T``: the control
    difference ``CD = eta - eta^T`` and the system control vector ``sc`` (column sums of CD,
    in enaR's internal orientation), positive for a node that controls more than it is
    controlled. ``TSC`` (total system control) is ``sum(|sc|) / 2`` (the sum of the positive
    entries: ``sc`` sums to zero) and ``psc`` each node's share of it in percent. Flow-based
    throughout, as in enaR: no stocks are needed.

    Raises
    ------
    SteadyStateError
        When flow is trapped in a closed cycle, as :func:`flow`.
    """
    _check_size(fm, "control analysis", dense_limit, force_dense)
    Fi = fm.dense().T
    T = Fi.sum(axis=1) + fm.inputs
    _require_open(fm)
    return _control(_inverse(np.eye(fm.n) - Fi * _inv_or_zero(T)[None, :], "I - G"), T, fm.ids)


def _control(N: Array, T: Array, ids: Sequence[str]) -> dict[str, Any]:
    """Control from ``N`` in enaR's internal orientation (``N[i, j]``: from j to i) and the
    input throughflow ``T``; :func:`analyze` passes the ``N`` of :func:`flow` (no second
    inverse)."""
    eta = N * _inv_or_zero(T)[:, None]
    CD = eta - eta.T
    sc = CD.sum(axis=0)
    TSC = float(np.abs(sc).sum() / 2)
    return {
        "TSC": TSC,
        "sc": {ids[i]: float(sc[i]) for i in range(len(ids))},
        # the share before the percent: 100 * sc overflows when throughflows are tiny
        "psc": {
            ids[i]: float(100 * (sc[i] / TSC)) if TSC and math.isfinite(TSC) else math.nan for i in range(len(ids))
        },
    }


# -- mixed trophic impacts ----------------------------------------------------------------
@dataclass(frozen=True)
class MixedTrophicImpacts:
    """Ulanowicz & Puccia (1990) mixed trophic impacts and Libralato (2006) keystoneness."""

    Q: Array
    M: Array
    overall_effect: dict[str, float]
    keystoneness: dict[str, float]
    relation_change: float


def mixed_trophic_impacts(
    fm: FlowMatrix, *, eigen_check: bool = True, dense_limit: int = DENSE_LIMIT, force_dense: bool = False
) -> MixedTrophicImpacts:
    """Net direct impacts ``Q = G - FP^T`` and total impacts ``M = (I - Q)^-1 - I``.

    As enaR ``enaMTI``: ``G[i,j] = F[i,j]/T_j`` (share of j's intake from i),
    ``FP[i,j] = F[i,j]/(T_i - r_i)`` (share of i's net production eaten by j), with
    ``FP[:, j] = 0`` for non-living receivers. Keystoneness (Libralato et al. 2006):
    overall effect ``eps_i = sqrt(sum_{j != i} M_ij^2)`` and ``KS_i = log10(eps_i (1 - p_i))``
    with ``p_i`` the node's share of total storage (of throughflow when no stocks are given;
    0 when nothing flows). A node with no impact on any other (``eps_i = 0``, e.g. when no
    quantified flow links two nodes) has keystoneness ``-inf``; a node without throughflow
    leaves its column of ``G`` at 0, as enaR does.

    Raises
    ------
    ParameterError
        When living/non-living is unknown (give ``living`` for every actor), or, with
        ``eigen_check`` (the default, as enaR), when the dominant eigenvalue of Q is above 1
        (the impact series diverges), or when ``I - Q`` is singular.
    """
    _check_size(fm, "mixed trophic impacts", dense_limit, force_dense)
    if fm.living is None:
        raise ParameterError(
            "mixed trophic impacts need living/non-living for every node of the flow matrix (actors' 'living' field)"
        )
    n = fm.n
    F = fm.dense()
    T = fm.inputs + F.sum(axis=0)
    with np.errstate(over="ignore", divide="ignore"):  # a tiny net production: an infinite share
        G = F * _inv_or_zero(T)[None, :]
        FP = F * _inv_or_zero(T - fm.losses)[:, None]
    G[~np.isfinite(G)] = 0.0  # enaR sets infinite fractions to 0
    FP[~np.isfinite(FP)] = 0.0
    FP[:, ~fm.living] = 0.0
    Q = G - FP.T
    dominant = float(np.abs(np.linalg.eigvals(Q)).max()) if n else 0.0
    if eigen_check and dominant > 1:
        raise ParameterError(
            f"the dominant eigenvalue of Q is {dominant:.4g} > 1: the series of indirect impacts diverges, "
            "so M = (I - Q)^-1 - I is not their sum (enaR returns NA here). Pass eigen_check=False to compute M anyway."
        )
    try:
        M = np.linalg.inv(np.eye(n) - Q) - np.eye(n)
    except np.linalg.LinAlgError:
        M = np.full((n, n), np.nan)
    if not np.all(np.isfinite(M)):
        raise ParameterError(
            "Q has the eigenvalue 1: I - Q is singular, so the total impacts M = (I - Q)^-1 - I do not exist "
            "(the series of indirect impacts diverges; enaR's pseudo-inverse gives numbers that are not its sum)."
        )
    off = np.abs(M)
    np.fill_diagonal(off, 0.0)
    top = off.max(axis=1) if n else np.zeros(0)
    scale = np.where(top > 0, top, 1.0)
    eps = top * np.sqrt(((off / scale[:, None]) ** 2).sum(axis=1))  # scaled: no overflow in squares
    weights = fm.stock if np.all(fm.stock > 0) else T
    total = float(weights.sum())
    share = weights / total if total > 0 else np.zeros(n)  # no throughflow at all: no share
    with np.errstate(divide="ignore"):
        ks = np.log10(eps * (1 - share))  # -inf for a node with no impact at all (eps = 0)
    return MixedTrophicImpacts(
        Q=Q,
        M=M,
        overall_effect={fm.ids[i]: float(eps[i]) for i in range(n)},
        keystoneness={fm.ids[i]: float(ks[i]) for i in range(n)},
        relation_change=_relation_change(Q, M),
    )


# -- everything at once -------------------------------------------------------------------
@dataclass(frozen=True)
class ENA:
    """All of an ecological network analysis, ready for JSON (``to_dict``) or pandas."""

    ids: tuple[str, ...]
    unit: str
    currency: str
    method: str
    structure: dict[str, float]
    flow: dict[str, float]
    ascendency: dict[str, float]
    utility: dict[str, float] | None
    storage: dict[str, float] | None
    control: dict[str, Any] | None
    throughflow: Array
    steady_state: SteadyState
    matrices: dict[str, Array] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    reasons: dict[str, str] = field(default_factory=dict)

    def to_dict(self, matrices: bool = False) -> dict[str, Any]:
        """JSON-ready: the sections as maps from enaR's names to numbers, non-finite numbers
        as ``None`` with the reason under ``reasons`` (keyed ``section.name``), and matrices
        (rows = from) only when asked."""
        out: dict[str, Any] = {}
        reasons: dict[str, str] = {}
        for section in ("structure", "flow", "ascendency", "utility", "storage", "control"):
            values = getattr(self, section)
            if values is not None:
                out[section] = _json_numbers(values)
                reasons.update(_null_reasons(values, section, self.reasons))
        if reasons:
            out["reasons"] = reasons
        if matrices:
            out["matrices"] = {
                "ids": list(self.ids),
                **{k: [[_json_number(v) for v in row] for row in m.tolist()] for k, m in self.matrices.items()},
            }
        return out

    def to_frame(self) -> Any:
        """All scalars as a pandas DataFrame with columns ``section``, ``name``, ``value``."""
        import pandas as pd

        rows: list[tuple[str, str, Any]] = []
        for section in ("structure", "flow", "ascendency", "utility", "storage"):
            values = getattr(self, section)
            if values:
                rows.extend((section, k, v) for k, v in values.items())
        if self.control is not None:
            rows.append(("control", "TSC", self.control["TSC"]))
        return pd.DataFrame(rows, columns=["section", "name", "value"])


def _json_number(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def _null_reasons(values: Mapping[str, Any], prefix: str, known: Mapping[str, str]) -> dict[str, str]:
    """Why each non-finite number under ``prefix`` is ``null`` in JSON: the analysis's own
    reason where it gave one, else what the value is."""
    out: dict[str, str] = {}
    for key, value in values.items():
        name = f"{prefix}.{key}"
        if isinstance(value, Mapping):
            out.update(_null_reasons(value, name, known))
        elif isinstance(value, (float, np.floating)) and not math.isfinite(value):
            what = "undefined (NaN)" if math.isnan(value) else f"{'minus ' if value < 0 else ''}infinite"
            out[name] = known.get(name, f"{what}: not a finite number")
    return out


def _json_numbers(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _json_numbers(v) if isinstance(v, Mapping) else _json_number(v) for k, v in values.items()}


def analyze(
    fm: FlowMatrix,
    *,
    tolerance: float = 0.05,
    balance: BalanceMethod | None = None,
    matrices: bool = False,
    dense_limit: int = DENSE_LIMIT,
    force_dense: bool = False,
    exact_limit: int = EXACT_LIMIT,
    walkers: int = WALKERS,
    rng: int | np.random.SeedSequence | np.random.Generator | None = 0,
) -> ENA:
    """The whole analysis: structure, flow, ascendency, and (where defined and the size
    allows) utility, storage and control.

    Parameters
    ----------
    fm:
        The flow matrix (any currency).
    tolerance:
        Largest relative imbalance per node accepted as steady state (default 5 %).
    balance:
        ``'input'`` or ``'output'``: balance the model first (see :func:`balance`).
    matrices:
        Also return the matrices (G, GP, N, NP, TCC, TDC, D, U, Y); dense sizes only.
    dense_limit, force_dense:
        Above ``dense_limit`` nodes the sparse engine runs and n-by-n results are left out
        (listed in ``notes``) unless ``force_dense``.
    exact_limit, walkers, rng:
        Sparse engine: cyclic components up to ``exact_limit`` nodes are solved exactly;
        larger ones have FCI estimated by ``walkers`` random walks from ``rng`` (see
        :func:`flow`).

    Raises
    ------
    SteadyStateError
        When the model is out of balance beyond ``tolerance`` and ``balance`` is not given.

    Examples
    --------
    >>> import rainforest as rf
    >>> reef = rf.FlowMatrix.from_ecosystem(rf.datasets.ena_model("oyster_reef"))
    >>> result = rf.ena.analyze(reef)
    >>> round(result.flow["FCI"], 7), round(result.ascendency["ASC"], 4)
    (0.1101686, 166.3473)
    """
    if balance is not None:
        check_choice("balance", balance, BalanceMethod, where="analyze")
        fm = _balance(fm, balance)
    _require_balance(fm, tolerance)
    dense = fm.n <= dense_limit or force_dense
    notes: list[str] = []
    flows = flow(
        fm,
        matrices=dense,  # control reuses N
        dense_limit=dense_limit,
        force_dense=force_dense,
        exact_limit=exact_limit,
        walkers=walkers,
        rng=rng,
    )
    notes.extend(flows.notes)
    mats = dict(flows.matrices) if matrices else {}
    util: dict[str, float] | None = None
    reasons: dict[str, str] = {}
    if dense:
        u = utility(fm, dense_limit=dense_limit, force_dense=force_dense)
        util = u.scalars
        if matrices:
            mats.update({"D": u.D, "U": u.U, "Y": u.Y})
    else:
        notes.append(
            f"{fm.n:,} nodes is above the dense limit of {dense_limit:,}: HMG, AMP and the utility, storage "
            "and control analyses need every entry of an n-by-n matrix and are left out (force_dense=True "
            "computes them)."
        )
        left_out = (
            f"left out: {fm.n:,} nodes is above the dense limit of {dense_limit:,} (force_dense=True computes it)"
        )
        reasons.update({f"flow.{k}": left_out for k in ("HMG.I", "HMG.O", "AMP.I", "AMP.O")})
    struct = structure(fm, dense_limit=dense_limit if not force_dense else max(dense_limit, fm.n))
    if math.isnan(struct["ppr"]):
        reasons["structure.ppr"] = "undefined: the network has no cycle, so A^199 = A^200 = 0 (0/0; NaN in enaR too)"
    for key in ("rho", "R"):
        if math.isnan(struct[key]):
            reasons[f"structure.{key}"] = (
                "undefined: every eigenvalue of the adjacency matrix has the same modulus, so there is no "
                "second one to compare with the dominant one"
            )
    stor: dict[str, float] | None = None
    ctrl: dict[str, Any] | None = None
    if dense:
        ctrl = _control(flows.matrices["N"].T, flows.T, fm.ids)
        if not ctrl["TSC"]:
            reasons.update({f"control.psc.{i}": "undefined: total system control TSC is 0" for i in fm.ids})
    flowing = bool(np.any(flows.T - sp.csr_array(fm.Z).diagonal() > 0))
    if has_storage(fm) and dense and not flowing:
        notes.append(f"the storage analysis {_NO_TURNOVER}")
    elif has_storage(fm) and dense:
        stor = storage(fm, dense_limit=dense_limit, force_dense=force_dense)
        for key in ("ID.S", "ID.S.I", "ID.S.O"):
            if math.isnan(stor[key]):
                reasons[f"storage.{key}"] = (
                    "undefined: its direct part (the denominator) is 0, as when boundary input leaves every "
                    "compartment within one time step (0/0; enaR gives NaN or Inf)"
                )
        closed = no_boundary_output(fm)
        if closed:
            named = ", ".join(closed[:5]) + (f" and {len(closed) - 5} more" if len(closed) > 5 else "")
            reasons["storage.ART"] = (
                f"infinite: {len(closed)} compartment(s) ({named}) have no boundary output (exports + "
                "respiration = 0), so their residence time storage / output is infinite; enaR gives Inf"
            )
            notes.append(f"ART is {reasons['storage.ART']}")
    elif not has_storage(fm):
        notes.append("no stocks for every node: the storage analysis is not defined")
    return ENA(
        ids=fm.ids,
        unit=fm.unit,
        currency=fm.currency,
        method="dense" if dense else "sparse",
        structure=struct,
        flow=flows.scalars,
        ascendency=ascendency(fm),
        utility=util,
        storage=stor,
        control=ctrl,
        throughflow=flows.T,
        steady_state=steady_state(fm, tolerance),
        matrices=mats,
        notes=tuple(notes),
        reasons=reasons,
    )


if not TYPE_CHECKING:  # old names, kept working with a warning (type checkers see only the new ones)
    __getattr__ = moved(__name__, {"Balance": (__name__, "BalanceMethod", "metabolism.Balance is a balance table")})
