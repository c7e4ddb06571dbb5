"""Load and validate a large synthetic ecosystem from its CSV folder; build its FlowMatrix.

Goals (issue 2), on this 2-core machine:
- load + validate 100,000 actors / 1,000,000 flows from CSV: <= 30 s, <= 2 GB peak,
  and <= 3x the time pandas.read_csv alone needs to parse the same files;
- FlowMatrix of it: <= 2 s.

Each measurement runs in a fresh process (best of --repeat); peak memory is that
process's maximum resident set size. As the reference imports pandas before its clock
starts, our process imports the modules ``rf.load`` uses and builds the unit registry
before its clock starts: both sides time parsing (and, for us, validating), not imports.
Usage::

    python bench/bench_load.py            # 100,000 actors, about 1,000,000 flows
    python bench/bench_load.py --small    # 10,000 actors, about 100,000 flows
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"

PANDAS_ONLY = """
import sys, time, resource, pathlib, pandas as pd
folder = pathlib.Path(sys.argv[1])
t = time.perf_counter()
rows = 0
for p in sorted(folder.glob("*.csv")):
    rows += len(pd.read_csv(p))
dt = time.perf_counter() - t
print(dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, rows)
"""

RAINFOREST = """
import sys, time, resource, pathlib
import rainforest as rf
# one-time costs outside the clock, as the reference imports pandas outside it: the
# modules rf.load imports on first use and the unit registry
import pyarrow.csv, pyarrow.compute, pandas
import rainforest.io.tabular
rf.model.units.registry()
folder = pathlib.Path(sys.argv[1])
t = time.perf_counter()
eco = rf.load(folder)
dt = time.perf_counter() - t
t = time.perf_counter()
fm = rf.FlowMatrix.from_ecosystem(eco, "mass")
dt_fm = time.perf_counter() - t
print(dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, len(eco.flows), dt_fm, fm.Z.nnz)
"""


def _run(code: str, folder: Path) -> list[float]:
    out = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, check=True)
    return [float(x) for x in out.stdout.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="10,000 actors instead of 100,000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    import rainforest as rf

    n_actors = 10_000 if args.small else 100_000
    mean_degree = 6.4  # about 10 flows per actor with the boundary flows
    folder = DATA / f"synthetic-{n_actors}"
    if not (folder / "flows.csv").exists():
        t = time.perf_counter()
        eco = rf.datasets.synthetic(n_actors=n_actors, mean_degree=mean_degree, rng=42)
        rf.save(eco, folder)
        print(f"generated {folder} in {time.perf_counter() - t:.1f} s", file=sys.stderr)

    pandas_runs = [_run(PANDAS_ONLY, folder) for _ in range(args.repeat)]
    ours_runs = [_run(RAINFOREST, folder) for _ in range(args.repeat)]
    t_pd = min(r[0] for r in pandas_runs)
    t_rf = min(r[0] for r in ours_runs)
    peak = max(r[1] for r in ours_runs)
    flows = int(ours_runs[0][2])
    t_fm = min(r[3] for r in ours_runs)
    size_mb = sum(p.stat().st_size for p in folder.glob("*.csv")) / 1e6
    figures = {
        "actors": n_actors,
        "flows": flows,
        "csv_mb": round(size_mb, 1),
        "pandas_read_csv_s": round(t_pd, 3),
        "load_validate_s": round(t_rf, 3),
        "ratio_to_pandas": round(t_rf / t_pd, 2),
        "peak_rss_gb": round(peak / 1e9, 3),
        "flowmatrix_s": round(t_fm, 3),
    }
    goals = {
        "load_validate_s": ("<=", 30.0),
        "peak_rss_gb": ("<=", 2.0),
        "ratio_to_pandas": ("<=", 3.0),
        "flowmatrix_s": ("<=", 2.0),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{n_actors:,} actors, {flows:,} flows, {size_mb:.0f} MB of CSV (best of {args.repeat}, fresh process each)")
    for key, value in figures.items():
        goal = goals.get(key)
        mark = ""
        if goal:
            ok = value <= goal[1]
            mark = f"   goal {goal[0]} {goal[1]:g}: {'PASS' if ok else 'FAIL'}"
        print(f"  {key:<20} {value}{mark}")


if __name__ == "__main__":
    main()
