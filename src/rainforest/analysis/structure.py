"""The structure of the network over every documented exchange, quantified or not.

Finn's cycling index and every other flow-based number see only the exchanges with a
quantity. A park's documentation often names more exchanges than it measures (Kalundborg:
eighteen exchanges, seven with a published quantity); its *structure* (who is linked to
whom, and whether loops close) is known all the same. :func:`network_structure` measures
it on the binary adjacency matrix ``A`` (``A[i, j] = 1`` when actor ``i`` sends anything
to actor ``j`` in an active flow, of any resource, quantified or not):

nodes ``n``
    The actors of the document (every compartment, as enaR counts them).
links ``L``
    Distinct ordered actor pairs with at least one active flow (flows to or from ``world``
    and ``environment`` are not links between actors).
link density ``L / n``
    Links per actor (Pimm 1982; enaR ``LD``).
connectance ``L / n**2``
    The share of possible directed links that exist, self-links included (enaR ``C``);
    eco-industrial park studies use the same ratio (Layton, Bras & Weissburg 2016).
cyclicity
    The dominant eigenvalue (spectral radius) of ``A``: 0 when no loop closes, 1 for a
    single loop, above 1 when loops interlock (Fath & Halnes 2007; the ``lam1A`` of
    enaR, computed by :func:`rainforest.analysis.ena.structure`).
cycles
    The simple cycles (a loop visiting no actor twice), each as its actor ids starting at
    the smallest position in the document, of at most ``max_length`` actors, and at most
    ``max_cycles`` of them; ``cycles_note`` says when the list was cut.
unquantified links
    Links with no quantified flow behind them: what flow-based analyses cannot see.

References
----------
Borrett, S.R. & Lau, M.K. (2014). enaR: an R package for ecosystem network analysis.
Methods in Ecology and Evolution 5:1206-1213.
Fath, B.D. & Halnes, G. (2007). Cyclic energy pathways in ecological food webs.
Ecological Modelling 208:17-24.
Layton, A., Bras, B. & Weissburg, M. (2016). Industrial ecosystems and food webs: an
expansion and update of existing data for eco-industrial parks. Journal of Industrial
Ecology 20(1):85-98.
Johnson, D.B. (1975). Finding all the elementary circuits of a directed graph. SIAM
Journal on Computing 4(1):77-84 (the cycles here are found by a bounded depth-first
search within strongly connected components, which the length bound keeps small).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from rainforest.errors import ParameterError
from rainforest.model.ecosystem import Ecosystem
from rainforest.model.schema import BOUNDARY

__all__ = ["MAX_CYCLES", "MAX_CYCLE_LENGTH", "NetworkStructure", "network_structure", "spectral_radius"]

#: Simple cycles are listed up to this many actors.
MAX_CYCLE_LENGTH = 6
#: At most this many simple cycles are listed.
MAX_CYCLES = 100
#: Depth-first steps spent looking for cycles before the search stops (said in the note).
_SEARCH_BUDGET = 200_000


@dataclass(frozen=True)
class NetworkStructure:
    """Structure metrics over every documented exchange (see the module notes)."""

    nodes: int
    links: int
    link_density: float | None
    connectance: float | None
    cyclicity: float | None
    cycles: tuple[tuple[str, ...], ...]
    cycles_complete: bool
    cycles_note: str
    unquantified_links: int
    flows: int
    unquantified_flows: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the ``network`` of ``rainforest info --json``)."""
        out: dict[str, Any] = {
            "nodes": self.nodes,
            "links": self.links,
            "link_density": self.link_density,
            "connectance": self.connectance,
            "cyclicity": self.cyclicity,
            "cycles": [list(c) for c in self.cycles],
            "cycles_complete": self.cycles_complete,
            "cycles_note": self.cycles_note,
            "unquantified_links": self.unquantified_links,
            "flows": self.flows,
            "unquantified_flows": self.unquantified_flows,
        }
        if not self.nodes:
            out["reason"] = "no actors"
        return out

    def to_frame(self) -> Any:
        """The scalar metrics, one row each: ``name``, ``value`` (NaN where not defined)."""
        import pandas as pd

        names = ("nodes", "links", "link_density", "connectance", "cyclicity", "unquantified_links", "flows")
        rows = [(n, math.nan if getattr(self, n) is None else float(getattr(self, n))) for n in names]
        rows += [("unquantified_flows", float(self.unquantified_flows)), ("cycles", float(len(self.cycles)))]
        return pd.DataFrame(rows, columns=["name", "value"])


def network_structure(
    eco: Ecosystem, *, max_length: int = MAX_CYCLE_LENGTH, max_cycles: int = MAX_CYCLES
) -> NetworkStructure:
    """Nodes, links, link density, connectance, cyclicity and the simple cycles of the
    network of every active flow between actors, quantified or not.

    Parameters
    ----------
    eco:
        The ecosystem.
    max_length:
        Longest cycle listed, in actors.
    max_cycles:
        Most cycles listed.

    Examples
    --------
    >>> import rainforest as rf
    >>> s = network_structure(rf.datasets.kalundborg())
    >>> s.links, s.unquantified_links, s.cycles  # Asnæs and the refinery supply each other
    (13, 7, (('asnaes', 'statoil_refinery'),))
    """
    if max_length < 1 or max_cycles < 0:
        raise ParameterError(
            "The 'max_length' parameter of network_structure must be at least 1 and 'max_cycles' at least 0. "
            f"Got {max_length!r} and {max_cycles!r} instead."
        )
    ids = eco.actor_ids
    n = len(ids)
    index = {a: i for i, a in enumerate(ids)}
    flows = eco.table("flows")
    quantity = flows.numbers("quantity")
    pairs: dict[tuple[int, int], bool] = {}  # link -> has a quantified flow
    counted = unknown = 0
    for a, b, status, q in zip(
        flows.texts("from"), flows.texts("to"), flows.texts("status"), quantity.tolist(), strict=True
    ):
        if status != "active" or a in BOUNDARY or b in BOUNDARY:
            continue
        counted += 1
        quantified = not math.isnan(q)
        unknown += not quantified
        key = (index[a], index[b])  # type: ignore[index]
        pairs[key] = pairs.get(key, False) or quantified
    L = len(pairs)
    if not n:
        return NetworkStructure(0, 0, None, None, None, (), True, "", 0, counted, unknown)
    rows = np.fromiter((i for i, _ in pairs), dtype=np.int64, count=L)
    cols = np.fromiter((j for _, j in pairs), dtype=np.int64, count=L)
    A = sp.csr_array((np.ones(L), (rows, cols)), shape=(n, n))
    cyclicity = spectral_radius(A)
    cycles, complete, note = _simple_cycles(A, ids, max_length, max_cycles)
    return NetworkStructure(
        nodes=n,
        links=L,
        link_density=L / n,
        connectance=L / n**2,
        cyclicity=cyclicity,
        cycles=cycles,
        cycles_complete=complete,
        cycles_note=note,
        unquantified_links=sum(1 for q in pairs.values() if not q),
        flows=counted,
        unquantified_flows=unknown,
    )


def spectral_radius(A: Any) -> float:
    """The largest eigenvalue modulus of a non-negative sparse matrix, block by block over
    its strongly connected components (the spectrum of a reducible matrix is the union of
    its blocks'; a node outside every cycle contributes 0, a lone self-loop its weight).
    Blocks up to 400 nodes are solved densely, larger ones by ARPACK to a relative 1e-8:
    the same value as enaR's ``lam1A`` (:func:`rainforest.analysis.ena.structure`), at a
    fraction of the time on large networks."""
    import scipy.sparse.linalg as spla
    from scipy.sparse.csgraph import connected_components

    A = sp.csr_array(A, dtype=np.float64)
    count, labels = connected_components(A, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=count)
    diag = A.diagonal()
    single = sizes[labels] == 1
    best = float(np.abs(diag[single]).max(initial=0.0))
    for c in np.flatnonzero(sizes > 1).tolist():
        nodes = np.flatnonzero(labels == c)
        block = A[nodes][:, nodes]
        if nodes.size <= 400:
            top = float(np.abs(np.linalg.eigvals(block.toarray())).max())
        else:
            k = min(4, nodes.size - 2)
            top = float(np.abs(spla.eigs(block, k=k, which="LM", return_eigenvectors=False, tol=1e-8)).max())
        best = max(best, top)
    return best


def _simple_cycles(
    A: Any, ids: tuple[str, ...], max_length: int, max_cycles: int
) -> tuple[tuple[tuple[str, ...], ...], bool, str]:
    """Simple cycles of at most ``max_length`` nodes, each found once (from its smallest
    node), by depth-first search inside each strongly connected component."""
    from scipy.sparse.csgraph import connected_components

    n = A.shape[0]
    _, labels = connected_components(A, directed=True, connection="strong")
    indptr, indices = A.indptr, A.indices
    succ = [indices[indptr[i] : indptr[i + 1]].tolist() for i in range(n)]
    found: list[tuple[str, ...]] = []
    steps = 0
    cut = ""
    for s in range(n):
        if s in succ[s]:
            found.append((ids[s],))
        path = [s]
        on_path = {s}
        stack = [iter([t for t in succ[s] if t > s and labels[t] == labels[s]])]
        while stack and not cut:
            steps += 1
            if steps > _SEARCH_BUDGET:
                cut = f"the search stopped after {_SEARCH_BUDGET:,} steps"
                break
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                on_path.discard(path.pop())
                continue
            if nxt in on_path:
                continue
            path.append(nxt)
            on_path.add(nxt)
            if s in succ[nxt] and len(path) >= 2:
                found.append(tuple(ids[k] for k in path))
                if len(found) > max_cycles:
                    break
            if len(path) < max_length:
                stack.append(iter([t for t in succ[nxt] if t > s and t not in on_path and labels[t] == labels[s]]))
            else:
                path.pop()
                on_path.discard(nxt)
        if len(found) > max_cycles or cut:
            break
    if len(found) > max_cycles:
        return (
            tuple(found[:max_cycles]),
            False,
            f"more than {max_cycles} simple cycles of at most {max_length} actors: the first {max_cycles} are listed",
        )
    if cut:
        return tuple(found), False, f"{cut}: {len(found)} cycle(s) of at most {max_length} actors found, more may exist"
    return tuple(found), True, f"every simple cycle of at most {max_length} actors"
