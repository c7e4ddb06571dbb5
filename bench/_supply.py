"""Synthetic supply networks for the systemic-risk benchmarks (heavy-tailed degrees)."""

from __future__ import annotations

import numpy as np

from rainforest.analysis.cascade import SupplyNetwork


def supply_network(
    n: int,
    mean_degree: float = 8.0,
    n_sectors: int = 100,
    seed: int = 42,
    cap: float = 128.0,
    out_cap: float | None = None,
    money: bool = False,
) -> SupplyNetwork:
    """Chung-Lu network: out- and in-fitness Pareto (numpy's ``pareto(1.3)`` + 1, a density
    tail exponent of 2.3; capped at ``cap``, the out-fitness at ``out_cap`` when given,
    ``inf`` for uncapped hubs), n * mean_degree
    links, lognormal weights, sectors uniform; each (supplier sector, customer sector) pair
    is essential / non-essential / negligible with the shares of the IHS classification
    used by Diem et al. (17% / 12% / 71%). With ``money``, every actor gets a revenue and
    input costs: the network carries a uniform 30-100% of each (the rest is trade outside
    it), and an actor without sales (purchases) in the network gets a lognormal one."""
    rng = np.random.default_rng(seed)
    m = int(n * mean_degree)
    fit_out = np.minimum(rng.pareto(1.3, n) + 1.0, cap if out_cap is None else out_cap)
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
    revenue = costs = None
    if money:
        s_out = np.bincount(src, weights=weight, minlength=n)
        s_in = np.bincount(dst, weights=weight, minlength=n)
        revenue = np.where(s_out > 0, s_out / rng.uniform(0.3, 1.0, n), rng.lognormal(0.0, 1.5, n))
        costs = np.where(s_in > 0, s_in / rng.uniform(0.3, 1.0, n), rng.lognormal(0.0, 1.5, n))
    return SupplyNetwork.from_arrays(
        ids,
        src,
        dst,
        weight,
        sector=[f"s{k}" for k in sector],
        link_class=link_class,
        revenue=revenue,
        costs=costs,
    )
