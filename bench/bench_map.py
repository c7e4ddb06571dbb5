"""The map's data (``GET /api/ecosystems/<e>/map``) on a synthetic ecosystem whose actors all
have a location, for a manager and for a member: the first request of a version (firms,
exchanges and the board's candidates are found) and the next ones (cached per version and
viewer). Reference measured in the same run: the document as the same caller may see it
(``GET /api/ecosystems/<e>``'s service), so the ratios say what the map costs beyond
reading the version.

Run: python bench/bench_map.py [--actors 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import rainforest as rf
from rainforest.store import Store
from rainforest.web.context import Workbench
from rainforest.web.deps import Caller
from rainforest.web.records.accounts import User
from rainforest.web.services import map as maps
from rainforest.web.services.ecosystems import document
from rainforest.web.visibility import Access


def _timed(f: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = f()
    return time.perf_counter() - t, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    eco = rf.datasets.synthetic(n_actors=args.actors, mean_degree=10.0, rng=42)
    print(
        f"synthetic: {len(eco.actors)} actors ({sum(a.location is not None for a in eco.actors)} located), "
        f"{len(eco.flows)} flows, {len(eco.offers)} offers, {len(eco.needs)} needs"
    )
    store = Store("sqlite://")
    store.create("big", eco, author="bench")
    wb = Workbench(store, secret="bench")
    user = User("bench", admin=False, must_change=False)
    for role, actor in (("manager", None), ("member", eco.actors[0].id)):
        c = Caller(user, Access("big", role, actor))
        reference = min(_timed(lambda c=c: document(wb, c, "big"))[0] for _ in range(args.repeat))  # type: ignore[misc]
        maps._layers.clear()
        first, data = _timed(lambda c=c: maps.map_data(wb, c, "big"))  # type: ignore[misc]
        again = min(_timed(lambda c=c: maps.map_data(wb, c, "big"))[0] for _ in range(args.repeat))  # type: ignore[misc]
        print(
            f"{role}: document {reference:.3f} s (reference); map first {first:.3f} s "
            f"({first / reference:.2f}x), next {again:.3f} s ({again / reference:.2f}x); "
            f"{len(data['actors'])} firms, {len(data['flows'])} exchanges drawn "
            f"(+{data['flows_not_drawn']}), {len(data['candidates'])} candidates"
        )


if __name__ == "__main__":
    main()
