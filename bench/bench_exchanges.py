"""Exchange planning speed (issue 4).

1. The fixed-cost exchange MILP with 50 sources x 50 sinks (2,500 binary links): solved to
   a proven gap of at most 0.01 % within 60 s; the textbook big-M formulation is run on
   the same problem, for comparison, with the same time limit.
2. Candidates + the LP plan for a synthetic ecosystem of 10,000 actors with 50,000 offers
   and needs: at most 60 s and 4 GB.

3. With ``--sizes``: the same kind of market at 20 x 20, 30 x 30 and 40 x 40 sources x
   sinks, to show where the 0.01 % goal is reached within the time limit.

Usage: ``python bench/bench_exchanges.py [--skip-large] [--sizes]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np

import rainforest as rf
from rainforest.model import FrozenMap
from rainforest.optimize import exchanges as ex
from rainforest.optimize.solvers import HighsSolver


def fixed_cost_market(n: int = 50, seed: int = 3) -> rf.Ecosystem:
    rng = np.random.default_rng(seed)
    actors = [
        rf.Actor(f"s{i}", location=rf.Location(55 + rng.normal(0, 0.3), 11 + rng.normal(0, 0.5))) for i in range(n)
    ]
    actors += [
        rf.Actor(f"k{j}", location=rf.Location(55 + rng.normal(0, 0.3), 11 + rng.normal(0, 0.5))) for j in range(n)
    ]
    resources = [rf.Resource("slag", "material", "t", price=35.0, transport_cost=0.08, co2e_virgin=25.0)]
    offers = [
        rf.Offer(
            f"s{i}",
            "slag",
            float(rng.uniform(2_000, 20_000)),
            quality=FrozenMap({"ppm": float(rng.uniform(0, 100))}),
            disposal_cost=float(rng.uniform(5, 40)),
        )
        for i in range(n)
    ]
    needs = [
        rf.Need(
            f"k{j}",
            float(rng.uniform(2_000, 20_000)),
            resource="slag",
            max_quality=FrozenMap({"ppm": float(rng.uniform(20, 120))}),
        )
        for j in range(n)
    ]
    links = [
        rf.Link(
            f"s{i}",
            f"k{j}",
            "slag",
            fixed_cost=float(rng.uniform(20_000, 150_000)),
            capacity=float(rng.uniform(3_000, 15_000)),
        )
        for i in range(n)
        for j in range(n)
    ]
    return rf.Ecosystem(
        name="fixed-cost market",
        actors=actors,
        resources=resources,
        offers=offers,
        needs=needs,
        links=links,
        virgin=[rf.Virgin("slag", quality=FrozenMap({"ppm": 0.0}))],
    )


LARGE = """
import json, resource, sys, time
import rainforest as rf
from rainforest.optimize import exchanges as ex
eco = rf.datasets.synthetic(n_actors=10_000, mean_degree=2, rng=5, offers_share=2.5, needs_share=2.5)
t = time.perf_counter()
cands = ex.candidates(eco, per_need=25)
t_cand = time.perf_counter() - t
t = time.perf_counter()
plan = ex.plan(eco, per_need=25)
t_plan = time.perf_counter() - t
print(json.dumps({"offers": len(eco.offers), "needs": len(eco.needs), "candidates": len(cands), "candidates_s": t_cand,
                  "plan_s": t_plan, "exchanges": len(plan.exchanges), "benefit": plan.benefit,
                  "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--sizes", action="store_true", help="also 20 x 20, 30 x 30 and 40 x 40 markets")
    args = parser.parse_args()
    eco = fixed_cost_market()
    engine = HighsSolver(time_limit_s=args.time_limit, gap=1e-4)
    for formulation in ("tight", "big-m"):
        t = time.perf_counter()
        result = ex.plan(eco, solver=engine, formulation=formulation)  # type: ignore[arg-type]
        dt = time.perf_counter() - t
        ok = result.gap <= 1e-4 and dt <= 60
        print(
            f"50 x 50 fixed-cost MILP (2,500 binary links), {formulation:5}: {dt:5.1f} s, proven gap {result.gap:.4%}, "
            f"benefit {result.benefit:,.0f}, links built {len(result.links_built)}"
            + (f"  (goal gap <= 0.01% within 60 s: {'PASS' if ok else 'FAIL'})" if formulation == "tight" else "")
        )
    if args.sizes:
        for n in (20, 30, 40):
            t = time.perf_counter()
            result = ex.plan(fixed_cost_market(n), solver=engine)
            dt = time.perf_counter() - t
            print(
                f"{n} x {n} fixed-cost MILP ({n * n:,} binary links), tight: {dt:5.1f} s, proven gap {result.gap:.4%}"
                f"{'  (0.01% reached)' if result.gap <= 1e-4 else ''}"
            )
    if args.skip_large:
        return
    out = subprocess.run([sys.executable, "-c", LARGE], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout)
    print(
        f"10,000 actors, {r['offers']:,} offers + {r['needs']:,} needs: {r['candidates']:,} candidates in {r['candidates_s']:.1f} s, "
        f"plan (candidates included) in {r['plan_s']:.1f} s, {r['exchanges']:,} exchanges, benefit {r['benefit']:,.0f}; "
        f"peak {r['peak_gb']:.2f} GB (goal <= 60 s and 4 GB: {'PASS' if r['plan_s'] <= 60 and r['peak_gb'] <= 4 else 'FAIL'})"
    )


if __name__ == "__main__":
    main()
