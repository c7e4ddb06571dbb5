"""Systemic-risk (ESRI) speed: single-actor cascades and all-actor profiles.

Prints, for heavy-tailed synthetic supply networks (mean out-degree 8, 100 sectors,
essential / non-essential / negligible sector pairs in the IHS shares Diem et al. use):

- milliseconds per single-actor cascade under the reference stop rule (eps 1e-2) and at
  the fixed point, for the compiled engine and the batched numpy engine, and the ratio to
  a straightforward per-scenario implementation of the same sweeps (dictionary loops, the
  way the published reference code is written) measured in the same run;
- the full 10,000-actor profile time;
- networks with hubs (out-degrees uncapped, revenue and costs for every actor): the full
  10,000-actor profile under the reference stop rule (eps 1e-2) with the reference damping
  and without damping, in wall and CPU seconds, with sweeps per cascade (mean, max); with
  ``--baseline SRC`` also the same profile computed by another rainforest source tree
  (e.g. ``git archive`` of an older commit) in a subprocess, its time, the ratio, and the
  largest ESRI difference (without damping, which both versions have);
- at 100,000 actors / 800,000 links: ms per cascade, and the profile time of a fixed
  subset of actors on a Dask LocalCluster of W = 1, 2, 4 workers (this machine has 2
  cores: the curve should halve from 1 to 2 and flatten after).

In one process the compiled engine splits each sweep's rows among numba's threads (every
core); on Dask each worker runs one thread and the parallelism comes from the workers.

The machine is shared: every section prints ``os.getloadavg()``, and CPU seconds (which
a busy machine inflates much less than wall seconds) beside wall seconds.

Run: python bench/bench_risk.py [--skip-large] [--skip-capped] [--sample N] [--baseline SRC]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _supply import supply_network

from rainforest.analysis.cascade import SupplyNetwork, esri
from rainforest.errors import RainforestWarning

warnings.simplefilter("ignore", RainforestWarning)


def naive_reference(net: SupplyNetwork, actor: int, eps: float) -> float:
    """One cascade with per-actor dictionary loops (no batching, no compilation)."""
    n = net.n
    w = net.weight
    s_out = net.out_strength
    s_in = net.in_strength
    suppliers: list[list[tuple[int, float, int]]] = [[] for _ in range(n)]
    customers: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for i, j, v, c in zip(
        net.supplier.tolist(), net.customer.tolist(), w.tolist(), net.link_class.tolist(), strict=True
    ):
        suppliers[j].append((i, v, c))
        customers[i].append((j, v))
    ess_total: list[dict[int, float]] = [{} for _ in range(n)]
    for j in range(n):
        for i, v, c in suppliers[j]:
            if c == 2:
                k = int(net.sector[i])
                ess_total[j][k] = ess_total[j].get(k, 0.0) + v
    hd = [1.0] * n
    hu = [1.0] * n
    psi = [1.0] * n
    psi[actor] = 0.0
    while True:
        new_d = [0.0] * n
        new_u = [0.0] * n
        for j in range(n):
            groups: dict[int, float] = {}
            ne = 0.0
            for i, v, c in suppliers[j]:
                if c == 2:
                    k = int(net.sector[i])
                    groups[k] = groups.get(k, 0.0) + v / ess_total[j][k] * (1 - hd[i])
                elif c == 1:
                    ne += v / s_in[j] * (1 - hd[i])
            new_d[j] = min(1 - max(groups.values(), default=0.0), 1 - ne, psi[j])
            up = 1.0
            if s_out[j] > 0:
                up = sum(v / s_out[j] * hu[c] for c, v in customers[j])
            new_u[j] = min(up, psi[j])
        err = max(abs(a - b) for a, b in zip(hd + hu, new_d + new_u, strict=True))
        hd, hu = new_d, new_u
        if err <= eps:
            break
    return float(sum(s * (1 - min(a, b)) for s, a, b in zip(s_out, hd, hu, strict=True)) / s_out.sum())


def per_cascade(net: SupplyNetwork, actors: list[str], **kw: object) -> tuple[float, object]:
    t = time.perf_counter()
    r = esri(net, actors=actors, damping=False, **kw)  # type: ignore[arg-type]
    return (time.perf_counter() - t) / len(actors) * 1e3, r


def section_10k(sample: int) -> None:
    print("== 10,000 actors, mean out-degree 8, 100 sectors ==")
    for cap, label in (
        (128.0, "degrees capped at 128 (as ESRIcascade.jl's benchmark)"),
        (1000.0, "fitness capped at n/10"),
    ):
        net = supply_network(10_000, cap=cap)
        rng = np.random.default_rng(0)
        actors = [net.ids[i] for i in rng.choice(net.n, sample, replace=False)]
        esri(net, actors=actors[:2], damping=False)  # compile (cached after the first run)
        print(f"-- {label}: {len(net.weight):,} links, max out-degree {np.bincount(net.supplier).max()}")
        ms_c, r_c = per_cascade(net, actors, stop="reference", engine="compiled")
        ms_n, _ = per_cascade(net, actors, stop="reference", engine="numpy")
        t = time.perf_counter()
        naive = [naive_reference(net, net.index(a), 1e-2) for a in actors[:3]]
        ms_naive = (time.perf_counter() - t) / 3 * 1e3
        diff = max(abs(x - y) for x, y in zip(naive, r_c.esri[:3].tolist(), strict=True))  # type: ignore[attr-defined]
        sweeps = r_c.sweeps  # type: ignore[attr-defined]
        print(
            f"reference rule (eps 1e-2): compiled {ms_c:.3f} ms/cascade, numpy {ms_n:.3f} ms, "
            f"dictionary loops {ms_naive:.0f} ms -> {ms_naive / ms_c:.0f}x faster (same ESRI to {diff:.1e}); "
            f"sweeps mean {sweeps.mean():.1f}, max {sweeps.max()}"
        )
        fixed = actors[: max(20, sample // 10)]
        ms_f, r_f = per_cascade(net, fixed, engine="compiled")
        print(f"fixed point (1e-14): compiled {ms_f:.2f} ms/cascade, sweeps mean {r_f.sweeps.mean():.0f}")  # type: ignore[attr-defined]
        t = time.perf_counter()
        esri(net, stop="reference", damping=False)
        print(f"full profile, {net.n:,} cascades, reference rule: {time.perf_counter() - t:.1f} s")


BASELINE = """
import sys, time, warnings
import numpy as np
sys.path.insert(0, {bench!r})
from _supply import supply_network
from rainforest.analysis.cascade import esri
warnings.simplefilter("ignore")
net = supply_network(10_000, out_cap=float("inf"), money=True)
esri(net, actors=list(net.ids[:2]), stop="reference", damping=False)
t, c = time.perf_counter(), time.process_time()
p = esri(net, stop="reference", damping=False)
print(time.perf_counter() - t, time.process_time() - c, p.sweeps.mean(), p.sweeps.max())
np.save({out!r}, p.esri)
"""


def load() -> str:
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


def section_hubs(baseline: str | None) -> None:
    import numba

    print("== 10,000 actors with hubs: out-degree uncapped, mean out-degree 8, 100 sectors, revenue and costs ==")
    net = supply_network(10_000, out_cap=np.inf, money=True)
    print(
        f"{len(net.weight):,} links, max out-degree {np.bincount(net.supplier).max():,}, "
        f"max in-degree {np.bincount(net.customer).max():,}; {numba.get_num_threads()} threads; {load()}"
    )
    esri(net, actors=list(net.ids[:2]), stop="reference")  # compile (cached after the first run)
    mine = None
    for damping in ("reference", "none"):
        t, c = time.perf_counter(), time.process_time()
        p = esri(net, stop="reference", eps=1e-2, damping=damping)  # type: ignore[arg-type]
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        print(
            f"damping {damping}: full profile ({net.n:,} cascades, reference rule, eps 1e-2) in {wall:.1f} s "
            f"({wall / net.n * 1e3:.2f} ms per cascade; CPU {cpu:.1f} s, {cpu / net.n * 1e3:.2f} ms per cascade); "
            f"sweeps per cascade mean {p.sweeps.mean():.2f}, max {p.sweeps.max()}; {load()}"
        )
        mine = p
    if baseline is None or mine is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "esri.npy")
        script = BASELINE.format(bench=str(Path(__file__).parent), out=out)
        env = {**os.environ, "PYTHONPATH": str(Path(baseline) / "src")}
        result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        wall_b, cpu_b, sw_mean, sw_max = (float(x) for x in result.stdout.split())
        diff = float(np.abs(np.load(out) - mine.esri).max())
    t, c = time.perf_counter(), time.process_time()
    esri(net, stop="reference", eps=1e-2, damping="none")
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    print(
        f"baseline {baseline} (no damping): {wall_b:.1f} s ({wall_b / net.n * 1e3:.2f} ms per cascade; "
        f"CPU {cpu_b:.1f} s), sweeps mean {sw_mean:.2f}, max {sw_max:.0f}; this tree again: {wall:.1f} s "
        f"(CPU {cpu:.1f} s) -> {wall_b / wall:.1f}x wall, {cpu_b / cpu:.1f}x CPU; "
        f"largest ESRI difference {diff:.1e}; {load()}"
    )


def section_100k(sample: int) -> None:
    print("== 100,000 actors, mean out-degree 8, 100 sectors ==")
    net = supply_network(100_000, cap=1000.0)
    rng = np.random.default_rng(0)
    actors = [net.ids[i] for i in rng.choice(net.n, sample, replace=False)]
    esri(net, actors=actors[:2], damping=False)
    ms_c, r_c = per_cascade(net, actors, stop="reference", engine="compiled")
    print(f"{len(net.weight):,} links: reference rule {ms_c:.2f} ms/cascade (sweeps mean {r_c.sweeps.mean():.1f})")  # type: ignore[attr-defined]
    subset = actors
    base = None
    for workers in (1, 2, 4):
        t = time.perf_counter()
        r = esri(net, actors=subset, stop="reference", damping=False, executor="dask", workers=workers)
        dt = time.perf_counter() - t
        base = base or dt
        same = np.array_equal(r.esri, r_c.esri)
        print(
            f"Dask LocalCluster W={workers}: {len(subset):,} cascades in {dt:.1f} s (speed-up {base / dt:.2f}x; identical: {same})"
        )
    print(f"extrapolated full profile in one process (its threads share the sweeps): {ms_c * net.n / 1e3 / 60:.0f} min")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--skip-capped", action="store_true")
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--baseline", help="another rainforest source tree to time on the hub network")
    args = parser.parse_args()
    if not args.skip_capped:
        section_10k(args.sample)
    section_hubs(args.baseline)
    if not args.skip_large:
        section_100k(args.sample * 4)


if __name__ == "__main__":
    main()
