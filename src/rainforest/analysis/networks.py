"""Random networks for calibrating and testing: the generators the simulator uses, giant
components and percolation, and three analytic results to check simulations against.

A graph is an edge list ``(src, dst)`` of two integer arrays over nodes ``0..n-1``
(undirected, each edge once, no self-loops) and its node count ``n``.

- :func:`erdos_renyi`, :func:`watts_strogatz` (both used by the simulator's social network),
  :func:`configuration_model`, :func:`chung_lu`, :func:`random_geometric`;
- :func:`giant_fraction`, :func:`site_percolation`, :func:`bond_percolation`;
- :func:`er_giant_fraction`: the Erdős-Rényi giant component, ``S = 1 - exp(-c S)``;
- :func:`watts_window`: the mean degrees where global cascades can occur for a uniform
  threshold (Watts 2002);
- :func:`coupled_er_giant`, :func:`coupled_er_critical` and :func:`mutual_giant_fraction`:
  the mutual giant component of two interdependent networks (Buldyrev et al. 2010).

Every generator takes ``rng``: an int, a ``numpy.random.SeedSequence`` or a
``numpy.random.Generator`` (used as is).

>>> from rainforest import networks
>>> round(networks.er_giant_fraction(2.0), 4)
0.7968
>>> src, dst = networks.erdos_renyi(1000, 3.0, rng=1)
>>> 0.9 < networks.giant_fraction(src, dst, 1000) < 0.96
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse, special
from scipy.sparse.csgraph import connected_components

from rainforest.errors import ParameterError
from rainforest.executors import RandomState, seed_sequence

__all__ = [
    "CoupledCritical",
    "bond_percolation",
    "chung_lu",
    "configuration_model",
    "coupled_er_critical",
    "coupled_er_giant",
    "er_giant_fraction",
    "erdos_renyi",
    "erdos_renyi_edges",
    "giant_fraction",
    "mutual_giant_fraction",
    "random_geometric",
    "site_percolation",
    "watts_strogatz",
    "watts_strogatz_edges",
    "watts_window",
]

Edges = tuple[np.ndarray, np.ndarray]


def _generator(rng: RandomState) -> np.random.Generator:
    """A generator used as is; anything else seeds one through its ``SeedSequence``."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(seed_sequence(rng))


def _count(n: int, parameter: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ParameterError(f"'{parameter}' must be a whole number of nodes >= 0; got {n!r}.", parameter=parameter)
    return int(n)


def _nonnegative(value: float, parameter: str) -> float:
    x = float(value)
    if not math.isfinite(x) or x < 0:
        raise ParameterError(f"'{parameter}' must be a finite number >= 0; got {value!r}.", parameter=parameter)
    return x


def _share(value: float, parameter: str) -> float:
    x = float(value)
    if not 0.0 <= x <= 1.0:
        raise ParameterError(f"'{parameter}' must be a share in [0, 1]; got {value!r}.", parameter=parameter)
    return x


def _empty() -> Edges:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)


def _simple(a: np.ndarray, b: np.ndarray, n: int) -> Edges:
    """Each undirected pair once, self-loops dropped, ordered ``src < dst``."""
    keep = a != b
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    unique = np.unique(lo.astype(np.int64) * n + hi)
    return unique // n, unique % n


# --------------------------------------------------------------------------- generators


def erdos_renyi(n: int, mean_degree: float, rng: RandomState = None) -> Edges:
    """Erdős-Rényi ``G(n, p)`` with ``p = mean_degree / (n - 1)``: the number of edge
    draws is binomial over the ``n (n - 1) / 2`` pairs, each draw a uniform pair
    (duplicates and self-loops dropped, a loss of order ``mean_degree / n`` of the edges).
    The simulator's social network is drawn by the same code."""
    return erdos_renyi_edges(_count(n), _nonnegative(mean_degree, "mean_degree"), _generator(rng))


def erdos_renyi_edges(n: int, mean_degree: float, g: np.random.Generator) -> Edges:
    """:func:`erdos_renyi` without the checks of its arguments, for the simulator, which
    calls it with its own generator every period (the same draws as before it was public)."""
    if n < 2:
        return _empty()
    pairs = n * (n - 1) // 2
    m = int(g.binomial(pairs, min(1.0, mean_degree / (n - 1))))
    a = g.integers(0, n, m)
    b = g.integers(0, n, m)
    return _simple(a, b, n)


def watts_strogatz(n: int, degree: int, rewiring: float, rng: RandomState = None) -> Edges:
    """Small-world edges (Watts & Strogatz 1998): a ring where each node links to its
    ``degree // 2`` nearest neighbours on each side, each edge rewired with probability
    ``rewiring`` to a uniform random node (self-loops and duplicates dropped). The
    simulator's social network is drawn by the same code."""
    return watts_strogatz_edges(
        _count(n), int(_nonnegative(degree, "degree")), _share(rewiring, "rewiring"), _generator(rng)
    )


def watts_strogatz_edges(n: int, degree: int, rewiring: float, g: np.random.Generator) -> Edges:
    """:func:`watts_strogatz` without the checks of its arguments, for the simulator."""
    if n < 2:
        return _empty()
    half = max(1, min(degree // 2, (n - 1) // 2 or 1))
    src = np.repeat(np.arange(n), half)
    dst = (src + np.tile(np.arange(1, half + 1), n)) % n
    rewire = g.random(src.size) < rewiring
    dst = np.where(rewire, g.integers(0, n, src.size), dst)
    keep = src != dst
    a, b = np.minimum(src[keep], dst[keep]), np.maximum(src[keep], dst[keep])
    pairs = np.unique(np.stack([a, b], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def configuration_model(degrees: np.ndarray | list[int], rng: RandomState = None) -> Edges:
    """Configuration model (Molloy & Reed 1995): each node gets ``degrees[i]`` stubs, the
    stubs are paired uniformly at random, and self-loops and repeated pairs are dropped (so
    realised degrees can fall slightly short for hubs). An odd stub total drops one stub
    of a random node."""
    k = np.asarray(degrees)
    if k.ndim != 1 or (k.size and (not np.issubdtype(k.dtype, np.integer) or k.min() < 0)):
        raise ParameterError(
            f"'degrees' must be a 1-d array of whole numbers >= 0; got {k.dtype} of shape {k.shape}.",
            parameter="degrees",
        )
    g = _generator(rng)
    n = k.size
    stubs = np.repeat(np.arange(n, dtype=np.int64), k)
    g.shuffle(stubs)
    if stubs.size % 2:
        stubs = stubs[:-1]
    if n < 2 or stubs.size == 0:
        return _empty()
    return _simple(stubs[0::2], stubs[1::2], n)


def chung_lu(weights: np.ndarray | list[float], rng: RandomState = None) -> Edges:
    """Chung-Lu expected-degree graph (Chung & Lu 2002), sampled the fast way: a Poisson
    number of edge draws with mean ``sum(w) / 2``, each endpoint chosen with probability
    ``w_i / sum(w)``, repeated pairs and self-loops dropped. Node ``i``'s expected degree is
    ``w_i`` up to the dropped pairs, which matter only where ``w_i w_j`` approaches
    ``sum(w)``."""
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or (w.size and (not np.all(np.isfinite(w)) or w.min() < 0)):
        raise ParameterError(
            f"'weights' must be a 1-d array of finite numbers >= 0; got shape {w.shape}.", parameter="weights"
        )
    g = _generator(rng)
    n, total = w.size, float(w.sum())
    if n < 2 or total <= 0:
        return _empty()
    m = int(g.poisson(total / 2))
    p = w / total
    return _simple(g.choice(n, m, p=p), g.choice(n, m, p=p), n)


def random_geometric(n: int, radius: float, rng: RandomState = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spatial (random geometric) graph: ``n`` points uniform in the unit square, an edge
    between every two closer than ``radius`` (Penrose 2003). Returns ``(src, dst, points)``
    with ``points`` of shape ``(n, 2)``; the mean degree is about ``n pi radius^2`` away
    from the edges of the square."""
    from scipy.spatial import cKDTree

    n = _count(n)
    radius = _nonnegative(radius, "radius")
    g = _generator(rng)
    points = g.random((n, 2))
    if n < 2:
        src, dst = _empty()
        return src, dst, points
    pairs = cKDTree(points).query_pairs(radius, output_type="ndarray").astype(np.int64)
    src, dst = _simple(pairs[:, 0], pairs[:, 1], n)
    return src, dst, points


# --------------------------------------------------------------------------- components


def _labels(src: np.ndarray, dst: np.ndarray, n: int, alive: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Connected-component labels of the graph among ``alive`` nodes (dead nodes get -1)
    and each component's size."""
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    if alive is not None:
        keep = alive[src] & alive[dst]
        src, dst = src[keep], dst[keep]
    graph = sparse.coo_array((np.ones(src.size, dtype=np.int8), (src, dst)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    if alive is not None:
        labels = np.where(alive, labels, -1)
    sizes = np.bincount(labels[labels >= 0], minlength=1)
    return labels, sizes


def _giant_mask(src: np.ndarray, dst: np.ndarray, n: int, alive: np.ndarray | None = None) -> np.ndarray:
    labels, sizes = _labels(src, dst, n, alive)
    if n == 0 or sizes.max(initial=0) == 0:
        return np.zeros(n, dtype=bool)
    return np.asarray(labels == int(np.argmax(sizes)), dtype=bool)


def giant_fraction(src: np.ndarray, dst: np.ndarray, n: int, *, alive: np.ndarray | None = None) -> float:
    """Share of all ``n`` nodes in the largest connected component (among the ``alive``
    nodes when given, a boolean mask); 0.0 for an empty graph."""
    n = _count(n)
    if n == 0:
        return 0.0
    if alive is not None:
        alive = np.asarray(alive, dtype=bool)
        if alive.shape != (n,):
            raise ParameterError(
                f"'alive' must be a boolean mask of shape ({n},); got {alive.shape}.", parameter="alive"
            )
    return float(_giant_mask(src, dst, n, alive).sum() / n)


def site_percolation(src: np.ndarray, dst: np.ndarray, n: int, occupation: float, rng: RandomState = None) -> float:
    """Keep each node with probability ``occupation``; the giant component's share of all
    ``n`` nodes. For Erdős-Rényi graphs it tends to ``q S(c q)`` with
    :func:`er_giant_fraction` ``S``."""
    n = _count(n)
    q = _share(occupation, "occupation")
    alive = _generator(rng).random(n) < q
    return giant_fraction(src, dst, n, alive=alive)


def bond_percolation(src: np.ndarray, dst: np.ndarray, n: int, occupation: float, rng: RandomState = None) -> float:
    """Keep each edge with probability ``occupation``; the giant component's share of all
    ``n`` nodes. For Erdős-Rényi graphs it tends to ``S(c q)``."""
    n = _count(n)
    q = _share(occupation, "occupation")
    src = np.asarray(src)
    keep = _generator(rng).random(src.size) < q
    return giant_fraction(src[keep], np.asarray(dst)[keep], n)


# --------------------------------------------------------------------------- analytic results


def er_giant_fraction(mean_degree: float) -> float:
    """The Erdős-Rényi giant component's share of nodes as ``n -> infinity``: the
    positive root of ``S = 1 - exp(-c S)`` for mean degree ``c > 1``, 0 for ``c <= 1``
    (Erdős & Rényi 1960; Newman, *Networks*, 2nd ed., §11.5)."""
    c = _nonnegative(mean_degree, "mean_degree")
    if c <= 1.0:
        return 0.0
    # S = 1 + W(-c e^{-c}) / c on the principal branch (the root other than S = 0)
    return float(1.0 + special.lambertw(-c * math.exp(-c)).real / c)


def watts_window(phi: float) -> tuple[float, float] | None:
    """The mean degrees ``z`` of Erdős-Rényi graphs where a single seed can start a global
    cascade when every node's threshold is ``phi`` (Watts 2002, PNAS 99:5766, eq. 4).

    A node of degree ``k`` is vulnerable (one active neighbour activates it) when
    ``k <= K = floor(1/phi)``. Cascades are possible when the vulnerable nodes percolate:
    ``sum_k k (k - 1) rho_k p_k = z`` with ``rho_k = 1`` for ``k <= K``. With Poisson
    ``p_k`` the sum is ``z^2 P(Poisson(z) <= K - 2)``, so the window is where
    ``z P(Poisson(z) <= K - 2) >= 1``. Returns ``(z_low, z_high)``, or ``None`` when no
    ``z`` satisfies it (``phi > 1/4``: ``K <= 3``).
    """
    phi = float(phi)
    if not 0.0 < phi <= 1.0:
        raise ParameterError(f"'phi' must be a threshold in (0, 1]; got {phi!r}.", parameter="phi")
    K = math.floor(1.0 / phi + 1e-12)  # 1/phi exactly whole (phi = 0.25) keeps its k = 1/phi
    if K < 2:
        return None
    m = K - 2

    def excess(z: float) -> float:
        return float(z * special.pdtr(m, z) - 1.0)

    best = optimize.minimize_scalar(lambda z: -excess(z), bounds=(1e-9, 3.0 * K + 10.0), method="bounded")
    z_top = float(best.x)
    if excess(z_top) <= 0.0:
        return None
    low = optimize.brentq(excess, 1e-9, z_top, xtol=1e-12)
    high = optimize.brentq(excess, z_top, 10.0 * K + 50.0, xtol=1e-12)
    return float(low), float(high)


@dataclass(frozen=True)
class CoupledCritical:
    """The critical point of two interdependent Erdős-Rényi networks of equal mean degree
    ``k``: the collapse happens at ``p_c = p_c_times_k / k``, where the mutual giant
    component jumps from 0 to ``mutual_giant_at_p_c`` of the ``p_c n`` nodes left after
    the attack (``mutual_giant_at_p_c * p_c_times_k / k`` of all nodes)."""

    p_c_times_k: float
    mutual_giant_at_p_c: float

    def to_dict(self) -> dict[str, float]:
        return {"p_c_times_k": self.p_c_times_k, "mutual_giant_at_p_c": self.mutual_giant_at_p_c}


def _coupled_s_c() -> float:
    """The root ``s_c > 0`` of ``e^s - 1 = 2 s``, where ``s / (1 - e^{-s})^2`` is least."""
    return float(optimize.brentq(lambda s: math.expm1(s) - 2.0 * s, 0.5, 5.0, xtol=1e-15))


def coupled_er_critical() -> CoupledCritical:
    """Solve Buldyrev et al. (2010, Nature 464:1025) for two Erdős-Rényi networks of equal
    mean degree ``k`` with one-to-one dependency: with ``s = k P`` the fixed point
    ``P = p (1 - exp(-k P))^2`` reads ``p k = s / (1 - e^{-s})^2``, whose minimum over ``s``
    is the critical point; it sits where ``e^s - 1 = 2 s``. The paper prints
    ``p_c <k> = 2.4554``."""
    s = _coupled_s_c()
    share = -math.expm1(-s)
    return CoupledCritical(p_c_times_k=s / share**2, mutual_giant_at_p_c=share**2)


def coupled_er_giant(mean_degree: float, p: float) -> float:
    """The mutual giant component's share of all nodes, ``P``, for two interdependent
    Erdős-Rényi networks of mean degree ``k`` after removing ``1 - p`` of the nodes of one
    (Buldyrev et al. 2010): the largest root of ``P = p (1 - exp(-k P))^2``; 0 below
    ``p_c = 2.4554 / k``."""
    k = _nonnegative(mean_degree, "mean_degree")
    p = _share(p, "p")
    if k == 0 or p == 0:
        return 0.0
    # with s = k P the fixed point reads p k = h(s) = s / (1 - e^{-s})^2, increasing for
    # s > s_c (the critical point): the largest root is h's inverse there, if p k >= h(s_c)
    s_c = _coupled_s_c()
    pk = p * k

    def h(s: float) -> float:
        return s / (-math.expm1(-s)) ** 2 - pk

    if h(s_c) > 0:
        return 0.0
    upper = max(pk, s_c)  # h(s) >= s - pk, so h(pk) >= 0
    if h(upper) <= 0:
        return upper / k
    return float(optimize.brentq(h, s_c, upper, xtol=1e-15, rtol=4 * np.finfo(float).eps)) / k


def mutual_giant_fraction(
    a: Edges, b: Edges, n: int, p: float, rng: RandomState = None, *, dependency: np.ndarray | None = None
) -> float:
    """Simulate the cascade of Buldyrev et al. (2010) on two networks ``a`` and ``b`` of
    ``n`` nodes each, node ``i`` of ``a`` depending on node ``dependency[i]`` of ``b`` and
    back (a random one-to-one map when not given): remove ``1 - p`` of ``a``'s nodes at
    random, then keep, in turn, the giant component of ``a`` among its living nodes, the
    ``b`` nodes whose partner lives, the giant component of ``b``, the ``a`` nodes whose
    partner lives, until nothing changes. Returns the mutual giant component's share of
    all ``n`` nodes."""
    n = _count(n)
    p = _share(p, "p")
    g = _generator(rng)
    if dependency is None:
        dependency = g.permutation(n)
    else:
        dependency = np.asarray(dependency, dtype=np.int64)
        if dependency.shape != (n,) or not np.array_equal(np.sort(dependency), np.arange(n)):
            raise ParameterError(
                f"'dependency' must be a permutation of 0..{n - 1}; got shape {dependency.shape}.",
                parameter="dependency",
            )
    if n == 0:
        return 0.0
    alive_a = g.random(n) < p
    while True:
        alive_a = _giant_mask(a[0], a[1], n, alive_a)
        alive_b = np.zeros(n, dtype=bool)
        alive_b[dependency[alive_a]] = True
        alive_b = _giant_mask(b[0], b[1], n, alive_b)
        nxt = alive_a & alive_b[dependency]
        if np.array_equal(nxt, alive_a):
            return float(nxt.sum() / n)
        alive_a = nxt
