"""Synthetic supply networks for the systemic-risk benchmarks (heavy-tailed degrees)."""

from __future__ import annotations

import numpy as np

from rainforest.analysis.cascade import SupplyNetwork


def supply_network(
    n: int, mean_degree: float = 8.0, n_sectors: int = 100, seed: int = 42, cap: float = 128.0
) -> SupplyNetwork:
    """Chung-Lu network: out- and in-fitness Pareto (exponent 2.3, capped), n * mean_degree
    links, lognormal weights, sectors uniform; each (supplier sector, customer sector) pair
    is essential / non-essential / negligible with the shares of the IHS classification
    used by Diem et al. (17% / 12% / 71%)."""
    rng = np.random.default_rng(seed)
    m = int(n * mean_degree)
    fit_out = np.minimum(rng.pareto(1.3, n) + 1.0, cap)
    fit_in = np.minimum(rng.pareto(1.3, n) + 1.0, cap)
    src = rng.choice(n, size=m, p=fit_out / fit_out.sum())
    dst = rng.choice(n, size=m, p=fit_in / fit_in.sum())
    keep = src != dst
    pairs = np.unique(np.stack([src[keep], dst[keep]], axis=1), axis=0)
    src, dst = pairs[:, 0], pairs[:, 1]
    weight = rng.lognormal(0.0, 1.5, len(src))
    sector = rng.integers(0, n_sectors, n)
    table = rng.choice(3, size=(n_sectors, n_sectors), p=[0.71, 0.12, 0.17])
    link_class = table[sector[src], sector[dst]]
    ids = [f"f{i}" for i in range(n)]
    return SupplyNetwork.from_arrays(ids, src, dst, weight, sector=[f"s{k}" for k in sector], link_class=link_class)
