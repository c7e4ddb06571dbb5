"""What changed between two versions of an ecosystem, as the store records it with each
version (``Version.changes``, JSON in the version's row).

It stays in the store rather than the model: its shape (keys per section, at most 20 listed
per kind) is part of what the store writes into every version row and what the workbench's
history shows; the model's own comparison, for people and tests, is
:meth:`Ecosystem.differences <rainforest.model.Ecosystem.differences>`.
"""

from __future__ import annotations

import math
from collections import Counter
from itertools import repeat
from typing import Any

from rainforest.model.ecosystem import Ecosystem
from rainforest.model.table import MISSING

__all__ = ["changes"]

#: The fields that name a row of each section (rows with the same key are compared).
_KEYS = {
    "actors": ("id",),
    "resources": ("id",),
    "flows": ("from", "to", "resource"),
    "offers": ("actor", "resource"),
    "needs": ("actor", "resource"),
    "modules": ("id",),
    "stocks": ("actor", "resource"),
    "links": ("from", "to", "resource"),
    "essentiality": ("supplier_sector", "customer_sector"),
    "virgin": ("resource",),
}


def _rows(eco: Ecosystem | None, section: str, names: list[str]) -> list[tuple[Any, ...]]:
    """The rows of a section as tuples over ``names`` (None where a row or the section has
    no value), read column by column."""
    if eco is None:
        return []
    table = eco.table(section)
    columns: list[Any] = []
    for name in names:
        col = table.get(name)
        if col is None:
            columns.append(repeat(None, table.n))
        elif col.dtype.kind == "f":
            columns.append([None if math.isnan(v) else v for v in col.tolist()])
        else:
            columns.append([None if v is MISSING else v for v in col.tolist()])
    return list(zip(*columns, strict=False)) if names else []


def changes(old: Ecosystem | None, new: Ecosystem) -> dict[str, Any]:
    """What changed, per section: keys added, removed and changed (rows compared value by
    value; at most 20 keys listed per kind, with the counts). Column-wise: about a second
    for a million flows."""
    out: dict[str, Any] = {}
    for section, key_fields in _KEYS.items():
        names = sorted(set(new.table(section).names) | (set(old.table(section).names) if old is not None else set()))
        if not names:
            continue
        positions = [names.index(f) if f in names else -1 for f in key_fields]

        def keyed(rows: list[tuple[Any, ...]], positions: list[int] = positions) -> dict[str, list[Any]]:
            table: dict[str, list[Any]] = {}
            for r in rows:
                key = "/".join("" if i < 0 or r[i] is None else str(r[i]) for i in positions)
                table.setdefault(key, []).append(r)
            return table

        a, b = keyed(_rows(old, section, names)), keyed(_rows(new, section, names))
        added = sorted(set(b) - set(a))
        removed = sorted(set(a) - set(b))
        changed = []
        for k in set(a) & set(b):
            if a[k] == b[k]:
                continue
            try:
                if Counter(a[k]) == Counter(b[k]):
                    continue
            except TypeError:  # an unhashable extension value: compare as text
                if sorted(map(repr, a[k])) == sorted(map(repr, b[k])):
                    continue
            changed.append(k)
        changed.sort()
        if added or removed or changed:
            out[section] = {
                "added": len(added),
                "removed": len(removed),
                "changed": len(changed),
                "keys": {"added": added[:20], "removed": removed[:20], "changed": changed[:20]},
            }
    if old is not None:
        top = [k for k in ("name", "period") if getattr(old, k) != getattr(new, k)]
        if dict(old.extensions) != dict(new.extensions):
            top.append("extensions")
        if top:
            out["document"] = {"changed": top}
    return out
