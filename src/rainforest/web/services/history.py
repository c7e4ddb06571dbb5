"""The history of an ecosystem in words: who changed what and when ("added actor Mill",
"changed the quantity of Mill's offer of Ash from 10 t to 12 t"), the difference between
any two versions, and reverting to a version as a new version (managers)."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException

from rainforest.model.ecosystem import Ecosystem
from rainforest.model.schema import SECTIONS
from rainforest.store import RowChange, StoreError, Version, row_changes
from rainforest.web.context import Workbench
from rainforest.web.deps import Caller
from rainforest.web.render import number
from rainforest.web.services.actors import NotConfirmedError, labels

__all__ = ["PAGE", "WORDS_LIMIT", "describe", "diff", "history_page", "revert", "versions"]

PAGE = 25  # versions per page
#: Above this many actors or flows in either version, a version's changes are told from the
#: summary the store kept with it (counts and the first keys) instead of row by row.
WORDS_LIMIT = (5000, 50000)
#: Shown per version in the list (the difference page shows them all).
SHOWN = 12

_described: OrderedDict[tuple[str, int, str], list[str]] = OrderedDict()
_lock = threading.Lock()

_FIELD_WORDS = {
    "disposal_cost": "disposal cost",
    "max_quality": "largest acceptable quality",
    "supply_pattern": "supply pattern",
    "co2e_virgin": "CO2e of the virgin equivalent",
    "co2e_disposal": "CO2e of disposal",
    "transport_cost": "transport cost",
    "x_public": "fields shown to members",
    "input_class": "input class",
    "location.lat": "latitude",
    "location.lon": "longitude",
}


def _value(v: Any, unit: str = "") -> str:
    if v is None:
        return "nothing"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | float):
        text = number(float(v))
        return f"{text} {unit}".strip()
    if isinstance(v, Mapping):
        return ", ".join(f"{k} {_value(x)}" for k, x in v.items()) or "nothing"
    if isinstance(v, list | tuple):
        return ", ".join(map(str, v)) or "nothing"
    return str(v)


def _degrees(v: Any) -> str:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return f"{float(v):.5f}"
    return _value(v)


class _Words:
    """Names and units of two versions (the newer one first), to put rows in words."""

    def __init__(self, old: Ecosystem, new: Ecosystem) -> None:
        a, b = labels(old), labels(new)
        self.actors = {**a["actors"], **b["actors"]}
        self.resources = {**a["resources"], **b["resources"]}
        self.units = {r.id: r.unit for r in old.resources} | {r.id: r.unit for r in new.resources}

    def actor(self, aid: Any) -> str:
        return self.actors.get(str(aid), str(aid))

    def resource(self, rid: Any) -> str:
        return self.resources.get(str(rid), str(rid))

    def row(self, c: RowChange) -> tuple[str, str]:
        """The row's name (``Mill's offer of Ash``) and its resource's unit."""
        r = c.after or c.before or {}
        res = r.get("resource") or ", ".join(r.get("resources") or [])
        unit = self.units.get(str(res), "")
        if c.section == "actors":
            return f"actor {self.actor(r.get('id'))}", ""
        if c.section == "resources":
            return f"resource {self.resource(r.get('id'))}", ""
        if c.section in ("offers", "needs", "stocks"):
            return f"{self.actor(r.get('actor'))}'s {SECTIONS[c.section].singular} of {self.resource(res)}", unit
        if c.section in ("flows", "links"):
            what = SECTIONS[c.section].singular
            return (
                f"the {what} of {self.resource(res)} from {self.actor(r.get('from'))} to {self.actor(r.get('to'))}",
                unit,
            )
        if c.section == "modules":
            return f"module {r.get('name') or r.get('id')}", ""
        return f"{SECTIONS[c.section].singular} {' / '.join(c.key)}", unit

    def sentence(self, c: RowChange) -> str:
        name, unit = self.row(c)
        r = c.after or c.before or {}
        q = r.get("quantity")
        amount = f" ({_value(q, unit)})" if isinstance(q, int | float) and c.section != "actors" else ""
        if c.kind == "added":
            return f"added {name}{amount}"
        if c.kind == "removed":
            return f"removed {name}{amount}"
        parts = []
        before, after = _flat(c.before or {}), _flat(c.after or {})
        for f in c.fields:
            words = _FIELD_WORDS.get(f, f.replace("_", " "))
            u = unit if f in ("quantity", "uncertainty") else ""
            if f in ("location.lat", "location.lon"):
                # degrees to 5 decimals (about 1 m), as the map says them: 3 significant
                # digits would hide a move of a few kilometres
                parts.append((words, f"from {_degrees(before.get(f))} to {_degrees(after.get(f))}"))
                continue
            parts.append((words, f"from {_value(before.get(f), u)} to {_value(after.get(f), u)}"))
        if len(parts) == 1:
            return f"changed the {parts[0][0]} of {name} {parts[0][1]}"
        return f"changed {name}: " + "; ".join(f"the {w} {change}" for w, change in parts)


def _flat(record: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in record.items():
        if isinstance(v, Mapping) and k in ("location", "size"):
            out.update({f"{k}.{kk}": vv for kk, vv in v.items()})
        else:
            out[k] = v
    return out


def describe(old: Ecosystem, new: Ecosystem) -> list[str]:
    """What changed from ``old`` to ``new``, one sentence per row, with names and units."""
    words = _Words(old, new)
    out = []
    if old.name != new.name:
        out.append(f"renamed the ecosystem from {old.name} to {new.name}")
    if old.period != new.period:
        out.append(f"changed the period from {old.period} to {new.period}")
    out.extend(words.sentence(c) for c in row_changes(old, new))
    if dict(old.extensions) != dict(new.extensions):
        out.append("changed the document's extensions")
    return out


def _summary_words(changes: Mapping[str, Any]) -> list[str]:
    """A large version's changes from the summary the store kept with it."""
    out = []
    for section, c in changes.items():
        if section == "document":
            out.append("changed the document's " + ", ".join(c.get("changed", [])))
            continue
        for kind in ("added", "removed", "changed"):
            n = c.get(kind, 0)
            if n:
                keys = c.get("keys", {}).get(kind, [])
                more = f" and {n - len(keys)} more" if n > len(keys) else ""
                noun = SECTIONS[section].singular if n == 1 else section
                out.append(
                    f"{kind} {n} {noun}: {', '.join(keys[:5])}{more if len(keys) <= 5 else f' and {n - 5} more'}"
                )
    return out


def _large(v: Version) -> bool:
    return v.actors > WORDS_LIMIT[0] or v.flows > WORDS_LIMIT[1]


def _what(wb: Workbench, slug: str, v: Version, before: Version | None) -> list[str]:
    """Version ``v``'s changes against the one before it, in words (cached: versions never change)."""
    if before is None:
        eco = wb.store.load(slug, v.number) if not _large(v) else None
        if eco is None:
            return [f"created with {v.actors:,} actors and {v.flows:,} flows"]
        return [
            f"created with {len(eco.actors)} actor{'s' if len(eco.actors) != 1 else ''}, "
            f"{len(eco.resources)} resource{'s' if len(eco.resources) != 1 else ''}, "
            f"{len(eco.flows)} flow{'s' if len(eco.flows) != 1 else ''}, "
            f"{len(eco.offers)} offer{'s' if len(eco.offers) != 1 else ''} and "
            f"{len(eco.needs)} need{'s' if len(eco.needs) != 1 else ''}"
        ]
    key = (slug, v.number, v.content_hash)
    with _lock:
        if key in _described:
            return _described[key]
    if _large(v) or _large(before):
        words = _summary_words(v.changes)
    else:
        words = describe(wb.store.load(slug, before.number), wb.store.load(slug, v.number))
    if not words:
        words = ["no change to the document"]
    with _lock:
        _described[key] = words
        while len(_described) > 2048:
            _described.popitem(last=False)
    return words


def _when(v: Version) -> str:
    return v.created_at.strftime("%Y-%m-%d %H:%M UTC")


def versions(wb: Workbench, slug: str, page: int = 1) -> dict[str, Any]:
    """A page of versions, newest first, each with who, when, the message and what changed in
    words: ``{versions, page, pages, head}``."""
    all_versions = wb.store.versions(slug)
    pages = max(1, math.ceil(len(all_versions) / PAGE))
    page = min(max(page, 1), pages)
    newest = list(reversed(all_versions))[(page - 1) * PAGE : page * PAGE]
    by_number = {v.number: v for v in all_versions}
    rows = []
    for v in newest:
        what = _what(wb, slug, v, by_number.get(v.number - 1))
        rows.append(
            {
                "number": v.number,
                "created_at": v.created_at.isoformat(),
                "when": _when(v),
                "author": v.author,
                "message": v.message,
                "actors": v.actors,
                "flows": v.flows,
                "what": what,
            }
        )
    return {"versions": rows, "page": page, "pages": pages, "head": len(all_versions)}


def _number(wb: Workbench, slug: str, text: Any, what: str) -> int:
    head = wb.store.head(slug)
    try:
        n = int(text)
    except (TypeError, ValueError):
        raise HTTPException(422, f"{what} must be a version number from 1 to {head}, got {str(text)[:40]!r}") from None
    if not 1 <= n <= head:
        raise HTTPException(422, f"{what} must be a version number from 1 to {head}, got {n}")
    return n


def diff(wb: Workbench, slug: str, a: Any, b: Any) -> dict[str, Any]:
    """What changed from version ``a`` to version ``b`` (either order), in words and row by row."""
    x, y = _number(wb, slug, a, "a"), _number(wb, slug, b, "b")
    old, new = wb.store.load(slug, x), wb.store.load(slug, y)
    rows = row_changes(old, new)
    return {"from": x, "to": y, "what": describe(old, new), "rows": [r.to_dict() for r in rows]}


def history_page(wb: Workbench, c: Caller, slug: str, page: int, a: str, b: str) -> dict[str, Any]:
    """What the history page shows: the versions in words, and the difference asked for."""
    listed = versions(wb, slug, page)
    head = listed["head"]
    difference = diff(wb, slug, a, b) if a and b else None
    eco = wb.store.load(slug)
    return {
        "nav": c.access.nav("history"),
        "name": eco.name,
        **listed,
        "diff": difference,
        "a": int(a) if a.isdigit() else max(1, head - 1),
        "b": int(b) if b.isdigit() else head,
        "manages": c.access.manages,
    }


def revert(
    wb: Workbench, c: Caller, slug: str, number: Any, expected: Any, *, confirmed: bool, note: str = ""
) -> Version:
    """Save version ``number`` again as the next version (managers), ``revert to version N``;
    :class:`NotConfirmedError` until confirmed. ``expected``: the version the caller saw (a
    newer one refuses: :class:`~rainforest.store.ConflictError`)."""
    if not c.access.manages:
        raise HTTPException(403, "only the ecosystem's managers revert")
    n = _number(wb, slug, number, "version")
    head = wb.store.head(slug)
    if expected in (None, ""):
        base = None
    else:
        base = _number(wb, slug, expected, "expected")
    if not confirmed:
        v = next(x for x in wb.store.versions(slug) if x.number == n)
        raise NotConfirmedError(
            f"Revert to version {n} ({v.message or 'no message'}, by {v.author}, {_when(v)})? Its document becomes "
            f"version {head + 1}; versions {n + 1} to {head} stay in the history.",
            {"expected": str(head if base is None else base)},
        )
    if n == head and base in (None, head):
        raise StoreError(f"version {n} is the latest already: nothing to revert")
    message = f"revert to version {n}" + (f": {' '.join(note.split())[:500]}" if note.strip() else "")
    return wb.store.revert(slug, n, author=c.user.username, expected=base, message=message)
