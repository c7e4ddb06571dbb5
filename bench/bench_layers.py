"""Cross-layer cascade speed: the full profile (every actor failing alone) on three layers.

For synthetic ecosystems (``rainforest.datasets.synthetic``: heavy-tailed supply network
valued at prices, by-product and waste flows, essential utilities, platform modules)
of a small and a large size (default 1,000 and 10,000 actors), prints:

- the reference, measured in the same run: the single-layer ESRI profile of the same
  supply layer (``rainforest.analysis.cascade.esri``, compiled engine, fixed point);
- the layered profile with the supply layer alone (the same numbers as the reference,
  checked) and its ratio to the reference;
- the full three-layer profile (supply, by-products, platform). The synthetic modules
  state no ``capacity_share``, so every scenario that reaches a provider runs twice (the
  unknown share at 0 and at 1); the same profile with every share known (0.3, set on the
  layers) runs once; and the default profile with the push tolerance ``tol=1e-10`` instead
  of 1e-14 (what it changes in the scores is printed). Seconds, the goal (60 s for 10,000
  actors), and ratios to the reference.

Wall and CPU seconds and ``os.getloadavg()`` are printed: the machine is shared, and a
busy machine inflates wall seconds more than CPU seconds.

Run: python bench/bench_layers.py [--sizes 1000 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import rainforest as rf
from rainforest.analysis.cascade import esri
from rainforest.analysis.layers import Layers, layered_profile
from rainforest.errors import RainforestWarning

warnings.simplefilter("ignore", RainforestWarning)
GOAL_S = 60.0
GOAL_N = 10_000


def timed(label: str, run: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[tuple[float, float], Any]:
    t0, c0 = time.perf_counter(), time.process_time()
    result = run(*args, **kwargs)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"  {label:<46} {wall:8.2f} s wall {cpu:8.2f} s CPU   load {os.getloadavg()[0]:.1f}")
    return (wall, cpu), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, GOAL_N])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    # compile both kernels once, outside the timings
    warm = Layers.from_ecosystem(rf.datasets.synthetic(n_actors=50, rng=0), valued=True)
    assert warm.supply is not None
    esri(warm.supply)
    layered_profile(warm)
    for n in args.sizes:
        eco = rf.datasets.synthetic(n_actors=n, mean_degree=4.0, rng=args.seed)
        lay = Layers.from_ecosystem(eco, valued=True)
        assert lay.supply is not None
        print(
            f"{n:,} actors: {len(lay.supply.weight):,} supply links, {len(lay.byproducts):,} by-product links "
            f"({int((lay.byproducts.input_class == 2).sum())} essential), {len(lay.platform)} modules, "
            f"{len(lay.platform.adopter)} adoptions"
        )
        ref_s, ref = timed("reference: ESRI profile, supply layer", esri, lay.supply)
        one_s, one = timed("layered profile, supply layer alone", layered_profile, lay, layers="supply")
        diff = float(np.abs(one.score - ref.esri).max())
        three_s, three = timed("layered profile, three layers (shares unknown)", layered_profile, lay)
        loose_s, loose = timed("layered profile, three layers, tol 1e-10", layered_profile, lay, tol=1e-10)
        known = dataclasses.replace(
            lay, platform=dataclasses.replace(lay.platform, capacity_share=np.full(len(lay.platform), 0.3))
        )
        known_s, _ = timed("layered profile, three layers (shares 0.3)", layered_profile, known)
        p = three
        print(f"  supply alone vs reference: largest score difference {diff:.1e}")
        loose_diff = float(
            np.abs(np.concatenate([loose.score - three.score, loose.score_upper - three.score_upper])).max()
        )
        print(
            f"  tol 1e-10 vs the default 1e-14: largest score difference {loose_diff:.1e}, {three_s[1] / loose_s[1]:.1f}x less CPU"
        )
        print(
            f"  three layers: mean score {p.score.mean():.4f} (upper {p.score_upper.mean():.4f}), "
            f"mean actors reached {p.reached.mean():.0f}, mean updates {p.updates.mean():.0f}"
        )
        for k, what in ((0, "wall"), (1, "CPU")):
            print(
                f"  ratios to the reference ({what}): supply alone {one_s[k] / ref_s[k]:.2f}x, three layers "
                f"{three_s[k] / ref_s[k]:.2f}x (tol 1e-10 {loose_s[k] / ref_s[k]:.2f}x, shares known {known_s[k] / ref_s[k]:.2f}x)"
            )
        if n == GOAL_N:
            verdict = "meets" if three_s[0] <= GOAL_S else "misses"
            print(
                f"  goal: three-layer profile of {GOAL_N:,} actors in <= {GOAL_S:.0f} s: {three_s[0]:.1f} s wall, "
                f"{verdict} it (load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
            )


if __name__ == "__main__":
    main()
