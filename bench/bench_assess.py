"""The workbench overview's five numbers and network picture: through the whole health
report (what the overview does today, the reference) against ``rainforest.assess`` with
only what the numbers need (no cluster curve, no sections, no HTML).

For each document, both ways are timed in the same run (best of ``--repeat``, in CPU
seconds of this process: wall time on a shared machine mostly measures the neighbours), the
ratio printed, and the two answers compared (key numbers and the network picture must agree).

Run: python bench/bench_assess.py [--actors N] [--repeat K]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rainforest as rf
from rainforest import report

#: The overview plans a new park's exchanges itself up to this many offers and needs.
PLAN_IN_OVERVIEW = 200
DOCS = Path(__file__).resolve().parent.parent / "docs" / "examples"


def through_report(eco: rf.Ecosystem) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The reference: the overview's numbers read off a whole report."""
    r = report.health_report(eco, risk=False, plan=False)
    if r.facts.get("pathway") == "plan" and len(eco.offers) + len(eco.needs) <= PLAN_IN_OVERVIEW:
        r = report.health_report(eco, risk=False, plan=True)
    sections = [s.to_dict() for s in r.sections if s.id == "network"]
    figure = None
    if sections and sections[0]["figures"]:
        import json

        figure = json.loads(report.to_json(sections[0]["figures"][0]))
    return list(r.key_numbers), figure


def through_assess(eco: rf.Ecosystem) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The same numbers from ``assess``: no cluster curve, no report."""
    a = rf.assess(eco, risk=False, plan=False, cluster=False)
    if a.pathway == "plan" and len(eco.offers) + len(eco.needs) <= PLAN_IN_OVERVIEW:
        a = rf.assess(eco, risk=False, plan=True, cluster=False)
    numbers = [{k: v for k, v in n.to_dict().items() if k != "unit"} for n in a.key_numbers("page")]
    return numbers, report.network_figure(a)


def best(work: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.process_time()
        out = work()
        times.append(time.process_time() - t)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=2000, help="actors of the synthetic ecosystem")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    docs = {
        "kalundborg": rf.datasets.kalundborg(),
        "park (new, offers and needs)": rf.load(DOCS / "park.yaml"),
        "two_towns": rf.load(DOCS / "two_towns.yaml"),
        f"synthetic ({args.actors} actors)": rf.datasets.synthetic(n_actors=args.actors, rng=1),
    }
    print(f"{'document':34} {'report cpu s':>12} {'assess cpu s':>12} {'ratio':>7}  same answer")
    for name, eco in docs.items():
        t_ref, (n_ref, f_ref) = best(lambda eco=eco: through_report(eco), args.repeat)
        t_new, (n_new, f_new) = best(lambda eco=eco: through_assess(eco), args.repeat)
        same = n_ref == n_new and f_ref == f_new
        print(f"{name:34} {t_ref:12.3f} {t_new:12.3f} {t_ref / t_new:6.1f}x  {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
