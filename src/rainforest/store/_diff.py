"""Row by row, what differs between two ecosystems: the rows added, removed and changed
(with the fields that changed, before and after), keyed as the store's summary of changes
keys them (:mod:`rainforest.store._changes`). The workbench's history puts these in words.

Unlike the summary stored with every version (counts and at most 20 keys per kind), this
reads every row: meant for one pair of versions a person looks at, not for every commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from rainforest.model.ecosystem import Ecosystem
from rainforest.model.schema import SECTIONS
from rainforest.store._changes import _KEYS

__all__ = ["RowChange", "row_changes"]


@dataclass(frozen=True)
class RowChange:
    """One row of ``section`` added, removed or changed between two versions.

    ``before`` and ``after`` are the ``rainforest/1`` records (``None`` for the side where
    the row is absent); ``fields`` names what changed (for ``changed``)."""

    section: str
    kind: Literal["added", "removed", "changed"]
    key: tuple[str, ...]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    fields: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "kind": self.kind,
            "key": list(self.key),
            "before": self.before,
            "after": self.after,
            "fields": list(self.fields),
        }


def _key(section: str, record: dict[str, Any]) -> tuple[str, ...]:
    return tuple("" if record.get(f) is None else str(record.get(f)) for f in _KEYS.get(section, ()))


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    """Nested mappings (``location``, ``size``, ``quality``) as dotted fields."""
    out: dict[str, Any] = {}
    for k, v in record.items():
        if isinstance(v, dict) and k in ("location", "size"):
            for kk, vv in v.items():
                out[f"{k}.{kk}"] = vv
        else:
            out[k] = v
    return out


def _defaults(section: str) -> dict[str, Any]:
    return {f.name: f.default for f in SECTIONS[section].fields if f.default is not None}


def row_changes(old: Ecosystem, new: Ecosystem) -> list[RowChange]:
    """Every row added, removed or changed from ``old`` to ``new``, section by section (in
    the document's order). Rows sharing a key (two offers of one actor and resource) are
    paired in order; the extra ones are added or removed."""
    a_doc, b_doc = old.to_dict(), new.to_dict()
    out: list[RowChange] = []
    for section in SECTIONS:
        defaults = _defaults(section)
        order = {f.name: i for i, f in enumerate(SECTIONS[section].fields)}
        a_rows = [{**defaults, **r} for r in a_doc.get(section, [])]
        b_rows = [{**defaults, **r} for r in b_doc.get(section, [])]
        if a_rows == b_rows:
            continue
        a_keyed: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for r in a_rows:
            a_keyed.setdefault(_key(section, r), []).append(r)
        b_keyed: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for r in b_rows:
            b_keyed.setdefault(_key(section, r), []).append(r)
        for key in list(dict.fromkeys([*a_keyed, *b_keyed])):
            before, after = list(a_keyed.get(key, [])), list(b_keyed.get(key, []))
            same = [r for r in before if r in after]
            for r in same:  # rows unchanged, wherever they moved
                before.remove(r)
                after.remove(r)
            for x, y in zip(before, after, strict=False):
                fx, fy = _flat(x), _flat(y)
                names = [f for f in dict.fromkeys([*fx, *fy]) if fx.get(f) != fy.get(f)]
                fields = tuple(sorted(names, key=lambda f: order.get(f, order.get(f.split(".")[0], len(order)))))
                out.append(RowChange(section, "changed", key, x, y, fields))
            for x in before[len(after) :]:
                out.append(RowChange(section, "removed", key, x, None))
            for y in after[len(before) :]:
                out.append(RowChange(section, "added", key, None, y))
    return out
