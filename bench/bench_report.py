"""The health report at scale, and the Leontief solves behind its money layer.

1. The whole report of a synthetic ecosystem of 10,000 actors and about 100,000 flows:
   wall time of each step and in all, the peak resident memory of the process (goal: 60 s,
   4 GB) and the size of the HTML file (goal: under 20 MB). The report is built in a
   child process so its peak memory is its own.
2. Leontief questions on 10,000 sectors at 1% density (a productive economy: every
   column of A sums to 0.6): output multipliers (column sums of L) and the output a final
   demand calls for (L f), by ``numpy.linalg.inv`` then products (the reference, in the
   same run), by rainforest's default solver and by sparse LU forced; ratios printed and
   the answers compared.

Run: python bench/bench_report.py [--skip-report] [--skip-leontief] [--skip-lu] [--actors N]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD = r"""
import json, resource, sys, time
import rainforest as rf
from rainforest import report
n, degree, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
t0 = time.perf_counter()
eco = rf.datasets.synthetic(n_actors=n, mean_degree=degree, rng=1)
t1 = time.perf_counter()
steps = []
last = [time.perf_counter()]
current = [None]
def progress(done, total, label):
    now = time.perf_counter()
    if current[0] is not None:
        steps.append([current[0], now - last[0]])
    current[0] = label
    last[0] = now
r = report.health_report(eco, progress=progress)
t2 = time.perf_counter()
path = r.save(out)
t3 = time.perf_counter()
print(json.dumps({
    "actors": len(eco.actors), "flows": len(eco.flows), "generate_s": t1 - t0, "analyse_s": t2 - t1,
    "html_s": t3 - t2, "steps": steps, "bytes": path.stat().st_size,
    "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
    "sections": {s.id: s.available for s in r.sections}, "notes": [n for s in r.sections for n in s.notes][:8],
}))
"""


def bench_report(n: int, degree: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.html"
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(n), str(degree), str(out)], capture_output=True, text=True, check=True
        )
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    total = data["analyse_s"] + data["html_s"]
    print(f"report of {data['actors']:,} actors / {data['flows']:,} flows (generated in {data['generate_s']:.1f} s)")
    for label, seconds in data["steps"]:
        print(f"  {label:<40} {seconds:6.1f} s")
    print(f"  analyses {data['analyse_s']:.1f} s + HTML {data['html_s']:.1f} s = {total:.1f} s (goal 60 s)")
    print(f"  peak memory of the process {data['peak_rss_gb']:.2f} GB (goal 4 GB)")
    print(f"  HTML {data['bytes'] / 1e6:.1f} MB (goal under 20 MB)")
    print(f"  sections available: {', '.join(k for k, v in data['sections'].items() if v)}")
    for note in data["notes"]:
        print(f"  note: {note}")


def bench_leontief(n: int, density: float, with_lu: bool) -> None:
    import scipy.sparse as sp

    import rainforest as rf
    from rainforest.analysis import io_tables as io

    rng = np.random.default_rng(0)
    Z = sp.random(n, n, density=density, random_state=rng, format="csr", data_rvs=lambda k: rng.lognormal(0, 1, k))
    Z.setdiag(0)
    Z.eliminate_zeros()
    sales = np.asarray(Z.sum(axis=1)).ravel()
    x = np.asarray(Z.sum(axis=0)).ravel() / 0.6 + sales  # column sums of A are 0.6 or less: value added
    fm = rf.FlowMatrix.from_arrays(Z, inputs=np.zeros(n), exports=x - sales, losses=np.zeros(n))
    table = io.io_table(fm)
    f = table.f
    print(f"Leontief questions, {n:,} sectors, density {Z.nnz / n / n:.2%} ({Z.nnz:,} coefficients)")

    t = time.perf_counter()
    A = io.technical_coefficients(table).toarray()
    L = np.linalg.inv(np.eye(n) - A)
    ref_m, ref_x = L.sum(axis=0), L @ f
    dense = time.perf_counter() - t
    del L, A
    print(f"  numpy.linalg.inv then products       {dense:8.2f} s  (reference)")

    def ours(method: str) -> tuple[float, float]:
        t = time.perf_counter()
        m = np.array(list(io.output_multipliers(table, method=method).values()))
        xx = io.output_for(table, f, method=method)
        took = time.perf_counter() - t
        err = max(np.abs(m - ref_m).max() / np.abs(ref_m).max(), np.abs(xx - ref_x).max() / np.abs(ref_x).max())
        return took, err

    chosen = io._Solver(io.technical_coefficients(table)).method
    took, err = ours("auto")
    print(
        f"  rainforest default ({chosen:<9})        {took:8.2f} s  {dense / took:7.0f}x faster, max rel. diff {err:.1e}"
    )
    if with_lu:
        took, err = ours("lu")
        print(f"  sparse LU forced (SuperLU, COLAMD)   {took:8.2f} s  {dense / took:7.2f}x, max rel. diff {err:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-report", action="store_true")
    parser.add_argument("--skip-leontief", action="store_true")
    parser.add_argument("--skip-lu", action="store_true", help="skip the forced sparse LU (about 40 s)")
    parser.add_argument("--actors", type=int, default=10_000)
    parser.add_argument("--degree", type=float, default=7.0, help="mean internal exchanges per actor")
    parser.add_argument("--sectors", type=int, default=10_000)
    args = parser.parse_args()
    if not args.skip_report:
        bench_report(args.actors, args.degree)
    if not args.skip_leontief:
        bench_leontief(args.sectors, 0.01, not args.skip_lu)
    print(f"peak memory of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")


if __name__ == "__main__":
    main()
