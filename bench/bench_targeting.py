"""Targeting speed: 200 sources x 200 sinks in at most 1 s (issue 4).

Prints the time of the algebraic cascade and of the LP (40,400 variables) on the same
random problem, their ratio, and that they agree. Usage: ``python bench/bench_targeting.py``
"""

from __future__ import annotations

import time

import numpy as np

from rainforest.optimize.targeting import Stream, cascade_target, lp_target


def problem(n: int, rng: np.random.Generator) -> tuple[list[Stream], list[Stream]]:
    levels = np.round(rng.uniform(0, 1000, size=2 * n), 1)
    sources = [Stream(f"s{i}", float(rng.uniform(1, 100)), float(levels[i])) for i in range(n)]
    sinks = [Stream(f"k{i}", float(rng.uniform(1, 100)), float(levels[n + i])) for i in range(n)]
    return sources, sinks


def best_of(fn: object, repeat: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times), result


def main() -> None:
    sources, sinks = problem(200, np.random.default_rng(1))
    t_cascade, a = best_of(lambda: cascade_target(sources, sinks))
    t_lp, b = best_of(lambda: lp_target(sources, sinks))
    agree = abs(a.virgin - b.virgin) <= 1e-6 * max(1.0, a.virgin)  # type: ignore[attr-defined]
    print(
        f"200 sources x 200 sinks: cascade {t_cascade * 1e3:.2f} ms, LP {t_lp:.2f} s "
        f"(goal <= 1 s: {'PASS' if max(t_cascade, t_lp) <= 1 else 'FAIL'}); LP/cascade time ratio {t_lp / t_cascade:.0f}x; "
        f"virgin {a.virgin:.6g} vs {b.virgin:.6g}: {'agree' if agree else 'DISAGREE'}"
    )  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
