"""A check outside Kalundborg: the suggestions for the small example park against what its
firms declared.

    python bench/eval_suggestions_park.py [--json]

``docs/examples/park.yaml`` has six firms with NACE codes and four resources that one firm
offers and another needs: fly ash (power station to cement works), gypsum (power station
to plasterboard plant), spent grain (brewery to pig farm) and water (refinery to power
station). Those four pairs are the truth. Each declared resource is mapped to the synergy
that names it (below); the refinery's water counts as a hit for either water synergy.
The document is invented, so this only checks that the suggestions for a park outside the
knowledge base stay sensible: a suggestion that is not declared here may still be a use
documented elsewhere (FGD gypsum to a cement works, for instance), and it counts as a miss.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import rainforest as rf
from rainforest.optimize import suggest

ROOT = Path(__file__).resolve().parent.parent

#: The park's resource ids -> the synergies that name them.
SYNERGY_OF = {
    "fly_ash": ("fly_ash",),
    "gypsum": ("fgd_gypsum",),
    "spent_grain": ("feed_residues",),
    "water": ("cooling_water", "process_water"),
}


def main() -> None:
    eco = rf.load(ROOT / "docs" / "examples" / "park.yaml")
    declared = {
        (o.actor, n.actor, o.resource)
        for o in eco.offers
        for n in eco.needs
        if o.resource == n.resource and o.actor != n.actor
    }
    truth = {(a, b, s) for a, b, r in declared for s in SYNERGY_OF[r]}
    kb = suggest.knowledge_base()
    out: dict[str, object] = {"declared": sorted(declared)}
    for name, base in (("full", kb), ("without Kalundborg", kb.without(parks=["Kalundborg"]))):
        found = list(suggest.suggest_exchanges(eco, knowledge=base))
        hit = [(s.supplier, s.receiver, s.synergy) in truth for s in found]
        pairs = {
            (a, b, r)
            for a, b, r in declared
            for s in found
            if (s.supplier, s.receiver, s.synergy) in truth
            and (s.supplier, s.receiver) == (a, b)
            and s.synergy in SYNERGY_OF[r]
        }
        top5 = hit[:5]
        out[name] = {
            "suggested": len(found),
            "hits": sum(hit),
            "precision": sum(hit) / len(found) if found else None,  # n/a: nothing suggested
            "precision_at_5": sum(top5) / len(top5) if top5 else None,
            "declared_recovered": len(pairs),
            "recall": len(pairs) / len(declared),
            "misses": [f"{s.supplier} -> {s.receiver}: {s.synergy}" for s, h in zip(found, hit, strict=True) if not h],
        }
    if "--json" in sys.argv:
        print(json.dumps(out, indent=2))
        return
    print(f"docs/examples/park.yaml: {len(declared)} declared offer-need pairs\n")
    print(f"  {'knowledge base':<20} {'suggested':>9} {'hits':>5} {'P@5':>5} {'P(all)':>7} {'declared':>9}")
    for name in ("full", "without Kalundborg"):
        r = out[name]
        assert isinstance(r, dict)

        def fmt(x: float | None) -> str:
            return "n/a" if x is None else f"{x:.2f}"

        print(
            f"  {name:<20} {r['suggested']:>9} {r['hits']:>5} {fmt(r['precision_at_5']):>5} "
            f"{fmt(r['precision']):>7} {r['declared_recovered']:>6}/{len(declared)}"
        )
        print(f"    not declared: {'; '.join(r['misses']) or 'none'}")


if __name__ == "__main__":
    main()
