"""Environmentally extended MRIO: rainforest's IOSystem against pymrio's calc_all.

A synthetic system the size of EXIOBASE 3 pxp (49 regions x 200 products = 9,800
sectors, 7 final demand categories per region, 10 stressors with final-demand stressors)
is generated once; each engine then runs in a fresh process that loads the same arrays,
computes every account (x, A, S, M, M_down, D_cba, D_pba, D_imp, D_exp and the regional
totals) and reports its time and peak resident memory. The results are compared entry by
entry. pymrio is a test-only dependency (``pip install pymrio``).

Density: EXIOBASE-like block structure, with dense-ish domestic blocks and sparse trade
blocks (defaults: 30 % of domestic and 2 % of trade entries non-zero, 2.6 % overall). No
published non-zero count of EXIOBASE 3's A was at hand to calibrate this; pass
``--domestic`` and ``--trade`` to try others.

    python bench/bench_mrio.py                         # 49 x 200, the goal's size
    python bench/bench_mrio.py --regions 10 --sectors 50   # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "_data"


def generate(R: int, s: int, C: int, k: int, domestic: float, trade: float, seed: int) -> Path:
    path = DATA / f"mrio_{R}x{s}_{C}_{k}_{domestic}_{trade}_{seed}.npz"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    n = R * s
    region = np.repeat(np.arange(R), s)
    same = region[:, None] == region[None, :]
    Z = np.where(rng.random((n, n)) < np.where(same, domestic, trade), rng.lognormal(0.0, 2.0, (n, n)), 0.0)
    Z[~same] *= 0.05  # traded inputs are a small share of inputs
    Y = rng.lognormal(3.0, 1.0, (n, R * C)) * (rng.random((n, R * C)) < 0.3)
    # scale every column of Z so that intermediate inputs are about half of output
    x0 = Z.sum(axis=1) + Y.sum(axis=1)
    colsum = Z.sum(axis=0)
    Z *= np.minimum(0.5 * x0 / np.maximum(colsum, 1e-12), 1.0)[None, :]
    F = rng.lognormal(0.0, 1.0, (k, n))
    F_Y = rng.lognormal(0.0, 1.0, (k, R * C)) * (rng.random((k, R * C)) < 0.5)
    np.savez(path, Z=Z, Y=Y, F=F, F_Y=F_Y, shape=np.array([R, s, C, k]))
    return path


def run_rainforest(path: Path, out: Path) -> dict[str, float]:
    from rainforest.analysis.mrio import ACCOUNT_NAMES, Extension, IOSystem

    d = np.load(path)
    R, s, C, k = (int(v) for v in d["shape"])
    Z, Y, F, F_Y = d["Z"], d["Y"], d["F"], d["F_Y"]
    t0 = time.perf_counter()
    io = IOSystem(
        tuple(f"r{i}" for i in range(R)),
        tuple(f"s{i}" for i in range(s)),
        tuple(f"c{i}" for i in range(C)),
        Z,
        Y,
        {"ext": Extension("ext", tuple(f"st{i}" for i in range(k)), F, F_Y)},
    )
    del Z, Y
    acc = io.accounts("ext")
    seconds = time.perf_counter() - t0
    np.savez(out, **{name: getattr(acc, name) for name in ACCOUNT_NAMES}, x=io.x)
    return {"seconds": seconds}


def run_pymrio(path: Path, out: Path) -> dict[str, float]:
    import warnings

    import pandas as pd

    warnings.simplefilter("ignore")
    import pymrio

    from rainforest.analysis.mrio import ACCOUNT_NAMES

    d = np.load(path)
    R, s, C, k = (int(v) for v in d["shape"])
    idx = pd.MultiIndex.from_product(
        [[f"r{i}" for i in range(R)], [f"s{i}" for i in range(s)]], names=["region", "sector"]
    )
    cidx = pd.MultiIndex.from_product(
        [[f"r{i}" for i in range(R)], [f"c{i}" for i in range(C)]], names=["region", "category"]
    )
    t0 = time.perf_counter()
    io = pymrio.IOSystem(
        Z=pd.DataFrame(d["Z"], index=idx, columns=idx), Y=pd.DataFrame(d["Y"], index=idx, columns=cidx)
    )
    stress = pd.Index([f"st{i}" for i in range(k)], name="stressor")
    io.ext = pymrio.Extension(
        name="ext",
        F=pd.DataFrame(d["F"], index=stress, columns=idx),
        F_Y=pd.DataFrame(d["F_Y"], index=stress, columns=cidx),
    )
    io.calc_all(include_ghosh=True)
    seconds = time.perf_counter() - t0
    np.savez(out, **{name: getattr(io.ext, name).to_numpy() for name in ACCOUNT_NAMES}, x=io.x.to_numpy().ravel())
    return {"seconds": seconds}


def child(engine: str, path: Path, out: Path) -> None:
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = (run_rainforest if engine == "rainforest" else run_pymrio)(path, out)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["start_rss_mb"] = base / 1024
    print(json.dumps(result))


def measure(engine: str, path: Path) -> tuple[dict[str, float], Path]:
    out = DATA / f"result_{engine}.npz"
    proc = subprocess.run(
        [sys.executable, __file__, "--child", engine, "--data", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1]), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--regions", type=int, default=49)
    parser.add_argument("--sectors", type=int, default=200)
    parser.add_argument("--categories", type=int, default=7)
    parser.add_argument("--stressors", type=int, default=10)
    parser.add_argument("--domestic", type=float, default=0.30)
    parser.add_argument("--trade", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", choices=["rainforest", "pymrio"])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.out)
        return
    R, s = args.regions, args.sectors
    print(
        f"EE-MRIO accounts: {R} regions x {s} sectors = {R * s:,} sectors, {args.categories} final demand "
        f"categories, {args.stressors} stressors; load average {os.getloadavg()[0]:.1f}"
    )
    path = generate(R, s, args.categories, args.stressors, args.domestic, args.trade, args.seed)
    ours, ours_out = measure("rainforest", path)
    print(f"  rainforest IOSystem.accounts: {ours['seconds']:8.1f} s, peak RSS {ours['peak_rss_mb']:8.0f} MB")
    ref, ref_out = measure("pymrio", path)
    print(f"  pymrio calc_all:              {ref['seconds']:8.1f} s, peak RSS {ref['peak_rss_mb']:8.0f} MB")
    from rainforest.analysis.mrio import ACCOUNT_NAMES

    a, b = np.load(ours_out), np.load(ref_out)
    worst = max(
        float(np.max(np.abs(a[k] - b[k])) / max(float(np.max(np.abs(b[k]))), 1e-300)) for k in (*ACCOUNT_NAMES, "x")
    )
    print(
        f"  speed-up {ref['seconds'] / ours['seconds']:.1f}x (goal >= 10x); memory {ours['peak_rss_mb'] / ref['peak_rss_mb']:.2f} "
        f"of pymrio's (goal <= 0.33); largest difference {worst:.1e} of each account's largest entry; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
