"""How many of Kalundborg's documented exchanges the sector-based suggestions recover.

    python bench/eval_suggestions.py [--json]

The bundled Kalundborg document (``rainforest.datasets.kalundborg()``, the c. 2000
network) with its flows hidden: only the ten firms are kept, each given the NACE code of
its main activity (``kalundborg_nace`` in the knowledge base, with the reason for each).
The truth is its documented exchanges between two firms (16; the two drawing on Lake
Tisso have no firm as supplier). A suggestion is a hit when its supplier, receiver and
synergy are those of a documented exchange (the knowledge base maps each Kalundborg
exchange to its synergy).

Three knowledge bases, because the shipped one contains the Kalundborg cases themselves:

- ``full``: as shipped. Leaks: every documented exchange is in it.
- ``leave-one-case-out``: for each exchange, the base without that exchange's own case
  and without the package's generalisations of it; recall only (each exchange is scored in
  its own run). Still leaks the park's other exchanges (steam to the refinery helps find
  steam to the pharmaceutical plant).
- ``without Kalundborg``: the base without any Kalundborg evidence (the EWC catalogue,
  the non-Kalundborg cases, the standard and the regulation remain). The fair figure for
  a park that is not in the knowledge base.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import rainforest as rf
from rainforest.optimize import suggest

KS = (5, 10, 16, 25)


def hidden(eco: rf.Ecosystem, codes: dict[str, str]) -> rf.Ecosystem:
    """The firms and their NACE codes only: no flows, offers or needs."""
    doc = eco.to_dict()
    for a in doc["actors"]:
        a["sector"] = codes[a["id"]]
    keep = {"format", "name", "period", "actors", "resources"}
    doc = {k: v for k, v in doc.items() if k in keep}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kalundborg_hidden.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        return rf.load(path)


def truth(eco: rf.Ecosystem, exchange_synergy: dict[str, str]) -> dict[str, tuple[str, str, str]]:
    out = {}
    for f in eco.flows:
        if f.source in eco.actor_ids and f.target in eco.actor_ids:
            eid = str(f.extensions["x_exchange_id"])
            out[eid] = (f.source, f.target, exchange_synergy[eid])
    return out


def scores(
    found: suggest.Suggestions, true: dict[str, tuple[str, str, str]], k: int | None
) -> dict[str, float | int | None]:
    top = found.suggestions if k is None else found.top(k)
    keys = {(s.supplier, s.receiver, s.synergy) for s in top}
    hits = sum(1 for s in top if (s.supplier, s.receiver, s.synergy) in set(true.values()))
    recovered = sum(1 for t in true.values() if t in keys)
    return {
        "k": len(top) if k is None else k,
        "suggested": len(top),
        "hits": hits,
        "precision": hits / len(top) if top else None,  # n/a: nothing suggested
        "recovered": recovered,
        "recall": recovered / len(true),
    }


def main() -> None:
    kb = suggest.knowledge_base()
    data = json.loads((rf.datasets.path("kalundborg").parent / "synergies.json").read_text(encoding="utf-8"))
    codes = {a: v["nace"] for a, v in data["kalundborg_nace"].items()}
    exchange_synergy = {ex: s.id for s in kb.synergies for e in s.evidence for ex in e.kalundborg_exchanges}
    eco = rf.datasets.kalundborg()
    true = truth(eco, exchange_synergy)
    park = hidden(eco, codes)
    out: dict[str, object] = {"exchanges": len(true), "firms": len(park.actors)}

    for name, base in (("full", kb), ("without Kalundborg", kb.without(parks=["Kalundborg"]))):
        found = suggest.suggest_exchanges(park, knowledge=base)
        rows = [scores(found, true, k) for k in KS] + [scores(found, true, None)]
        out[name] = {
            "rows": rows,
            "hits": sorted(e for e, t in true.items() if t in {(s.supplier, s.receiver, s.synergy) for s in found}),
            "suggested": [
                f"{s.rank}. {s.supplier} -> {s.receiver}: {s.synergy} ({s.score:.2f})" for s in found.top(10)
            ],
        }

    loco = []
    for eid, t in sorted(true.items()):
        found = suggest.suggest_exchanges(park, knowledge=kb.without(kalundborg_exchanges=[eid]))
        rank = next((s.rank for s in found if (s.supplier, s.receiver, s.synergy) == t), None)
        loco.append({"exchange": eid, "rank": rank, "suggested": len(found)})
    out["leave-one-case-out"] = {
        "rows": [
            {
                "k": k,
                "recovered": sum(1 for r in loco if r["rank"] is not None and r["rank"] <= k),
                "recall": sum(1 for r in loco if r["rank"] is not None and r["rank"] <= k) / len(true),
            }
            for k in KS
        ]
        + [
            {
                "k": "all",
                "recovered": sum(1 for r in loco if r["rank"] is not None),
                "recall": sum(1 for r in loco if r["rank"] is not None) / len(true),
            }
        ],
        "per_exchange": loco,
    }
    if "--json" in sys.argv:
        print(json.dumps(out, indent=2, default=str))
        return
    print(
        f"Kalundborg c. 2000, flows hidden: {out['firms']} firms with NACE codes, {out['exchanges']} documented exchanges between firms\n"
    )
    for name in ("full", "without Kalundborg"):
        block = out[name]
        assert isinstance(block, dict)
        print(f"knowledge base: {name}")
        print(f"  {'top-k':>6} {'suggested':>9} {'hits':>5} {'precision':>9} {'recovered':>9} {'recall':>7}")
        for r in block["rows"]:
            k = "all" if r is block["rows"][-1] else r["k"]
            precision = "n/a" if r["precision"] is None else f"{r['precision']:.2f}"
            print(
                f"  {k!s:>6} {r['suggested']:>9} {r['hits']:>5} {precision:>9} {r['recovered']:>6}/{out['exchanges']} {r['recall']:>7.2f}"
            )
        print(f"  recovered: {', '.join(block['hits']) or 'none'}")
        print("  best suggestions: " + "; ".join(block["suggested"]) + "\n")
    block = out["leave-one-case-out"]
    assert isinstance(block, dict)
    print("knowledge base: leave-one-case-out (each exchange without its own case; recall only)")
    for r in block["rows"]:
        print(f"  top-{r['k']!s:<4} recovered {r['recovered']:>2}/{out['exchanges']}  recall {r['recall']:.2f}")
    print("  ranks: " + ", ".join(f"{r['exchange']}={r['rank'] or '-'}" for r in block["per_exchange"]))
    print("\nThe fair figure for a park outside the knowledge base is 'without Kalundborg'.")


if __name__ == "__main__":
    main()
