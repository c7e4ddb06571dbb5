"""Actors: the directory, one actor as the caller may see it, and edits of an actor's
record, offers, needs and flows (members their own actor, managers every one), saved by a
compare-and-set on the version they were made on."""

from __future__ import annotations

import math
from typing import Any

from fastapi import HTTPException

from rainforest.model.ecosystem import Ecosystem
from rainforest.model.schema import SECTIONS
from rainforest.optimize import taxonomy
from rainforest.store import ConflictError, Version
from rainforest.web import edits
from rainforest.web.context import Workbench
from rainforest.web.deps import Caller
from rainforest.web.render import number
from rainforest.web.visibility import Access, visible_document

__all__ = [
    "MERGES",
    "PAGE",
    "PATTERNS",
    "actor_page",
    "codes",
    "directory",
    "edit",
    "edit_part",
    "edit_record",
    "may_edit",
    "view",
]

PAGE = 100  # actors per page
#: Supply patterns of offers and needs, the document's default first.
PATTERNS: tuple[str, ...] = next(f.choices for f in SECTIONS["offers"].fields if f.name == "supply_pattern") or ()
#: How many times an edit without ``expected`` is made again on a newer version before 409.
MERGES = 8
#: The parts of an actor an edit replaces.
PARTS = ("record", "offers", "needs", "flows")


def codes(kind: str, q: str, limit: int) -> list[dict[str, Any]]:
    """The shipped European Waste Catalogue (``waste``) or NACE rev. 2 (``sector``) codes
    matching ``q``, best first."""
    if kind not in ("waste", "sector"):
        raise HTTPException(422, f"kind must be 'waste' or 'sector', got {kind!r}")
    if not 1 <= limit <= 100:
        raise HTTPException(422, f"limit must be from 1 to 100, got {limit}")
    search = taxonomy.search_waste if kind == "waste" else taxonomy.search_sector
    if not q.strip():
        return []
    return [{"code": c.code, "description": c.description, "hazardous": c.hazardous} for c in search(q, limit)]


def may_edit(a: Access, aid: str) -> bool:
    """Whether the caller edits actor ``aid``: managers every one, a member its own."""
    return a.manages or (a.role == "member" and a.actor == aid)


def editor(a: Access, aid: str) -> None:
    """403 unless the caller edits actor ``aid``."""
    if not may_edit(a, aid):
        raise HTTPException(403, "a member edits only its own actor; observers edit nothing")


def directory(wb: Workbench, slug: str, eco: Ecosystem, a: Access) -> list[dict[str, Any]]:
    """One row per actor as the caller may see it (cached per version and role)."""
    cache = wb.directories
    key = (f"{slug}:{eco.content_hash()}", "all" if a.sees_all else "member")
    if key not in cache:
        t = eco.table("actors")
        ids, names, sectors = t.texts("id"), t.texts("name"), t.texts("sector")
        strata, stages = t.texts("stratum"), t.texts("stage")
        offers: dict[str, int] = {}
        for x in eco.table("offers").texts("actor"):
            offers[str(x)] = offers.get(str(x), 0) + 1
        needs: dict[str, int] = {}
        for x in eco.table("needs").texts("actor"):
            needs[str(x)] = needs.get(str(x), 0) + 1
        rows = []
        for i, aid in enumerate(ids):
            row: dict[str, Any] = {"id": aid, "name": names[i] or "", "sector": sectors[i] or ""}
            if a.sees_all:
                row.update(stratum=strata[i] or "", stage=stages[i] or "")
            row.update(offers=offers.get(str(aid), 0), needs=needs.get(str(aid), 0))
            row["_hay"] = f"{aid} {names[i] or ''} {sectors[i] or ''}".lower()
            rows.append(row)
        if len(cache) > 16:
            cache.clear()
        cache[key] = rows
    return cache[key]


def actors_page(wb: Workbench, c: Caller, slug: str, q: str, page: int) -> dict[str, Any]:
    """What the actors page shows: the directory, searched and paged."""
    eco = wb.store.load(slug)
    rows = directory(wb, slug, eco, c.access)
    words = q.lower().split()
    if words:
        rows = [r for r in rows if all(w in r["_hay"] for w in words)]
    pages = max(1, math.ceil(len(rows) / PAGE))
    page = min(max(page, 1), pages)
    return {
        "nav": c.access.nav("actors"),
        "name": eco.name,
        "rows": rows[(page - 1) * PAGE : page * PAGE],
        "total": len(rows),
        "q": q,
        "page": page,
        "pages": pages,
    }


def view(eco: Ecosystem, a: Access, aid: str) -> dict[str, Any]:
    """One actor with its offers, needs and flows, as the caller may see them."""
    eco.actor(aid)  # 404 for an unknown actor
    if a.sees_all:
        return edits.actor_records(eco, aid)
    doc = visible_document(eco, a)
    return {
        "actor": next(r for r in doc["actors"] if r["id"] == aid),
        "offers": [o for o in doc.get("offers", []) if o["actor"] == aid],
        "needs": [n for n in doc.get("needs", []) if n["actor"] == aid],
        "flows": [f for f in doc.get("flows", []) if aid in (f["from"], f["to"])],
    }


def actor_page(wb: Workbench, c: Caller, slug: str, aid: str) -> dict[str, Any]:
    """What the actor page shows: the actor as the caller may see it, and the form to edit it."""
    a = c.access
    eco = wb.store.load(slug)
    return {
        "nav": a.nav("actors"),
        "name": eco.name,
        "aid": aid,
        "view": view(eco, a, aid),
        "editable": may_edit(a, aid),
        "version": wb.store.head(slug),
        "resources": [{"id": r.id, "unit": r.unit, "kind": r.kind} for r in eco.resources],
        "actor_ids": [x for x in eco.actor_ids if x != aid] if may_edit(a, aid) else [],
        "patterns": PATTERNS,
        "number": number,
    }


def _part(eco: Ecosystem, part: str, aid: str) -> list[Any]:
    """One actor's ``part`` of an edit (``record``, ``offers``, ``needs``, ``flows``) as
    comparable values: what a merged edit must find unchanged."""
    if part == "record":
        return [eco.actor(aid)] if aid in eco.actor_ids else []
    if part == "flows":
        return [f for f in eco.flows if aid in (f.source, f.target)]
    return [x for x in (eco.offers if part == "offers" else eco.needs) if x.actor == aid]


def edit(
    wb: Workbench, c: Caller, slug: str, aid: str, base: int, message: str, *, merge: bool, **parts: Any
) -> Version:
    """Save an edit of ``aid``'s ``parts`` made on version ``base``, by a compare-and-set
    on that version. When someone saved meanwhile: with ``merge`` (the caller named no
    version), the edit is made again on the new version if nobody changed the parts it
    replaces, else (or without ``merge``) :class:`ConflictError`: nobody's change is
    ever reverted. :class:`~rainforest.errors.DocumentError` with every problem."""
    editor(c.access, aid)
    store = wb.store
    eco = store.load(slug, base)
    for _ in range(MERGES):
        try:
            return store.commit(
                slug, edits.edit_actor(eco, aid, **parts), author=c.user.username, message=message, expected=base
            )
        except ConflictError as exc:
            newer = store.load(slug, exc.head)
            if not merge or any(_part(eco, k, aid) != _part(newer, k, aid) for k in parts):
                raise
            eco, base = newer, exc.head
    raise ConflictError(slug, base, store.head(slug))


def based(wb: Workbench, slug: str, expected: str) -> tuple[Ecosystem, int, bool]:
    """The version a form was filled in on (its hidden ``expected``), else the latest, and
    whether the edit may be merged into a newer version (only without ``expected``)."""
    head = wb.store.head(slug)
    if not expected:
        return wb.store.load(slug, head), head, True
    if not (expected.isascii() and expected.isdigit()) or not 1 <= int(expected) <= head:
        raise HTTPException(422, f"expected must be a version number from 1 to {head}, got {expected[:40]!r}")
    return wb.store.load(slug, int(expected)), int(expected), False


def edit_record(
    wb: Workbench, c: Caller, slug: str, aid: str, *, name: str, sector: str, public: str, expected: str
) -> Version:
    """The actor page's record form: name, sector and the fields other members see."""
    editor(c.access, aid)
    eco, version, merge = based(wb, slug, expected)
    record = edits.section_records(eco, "actors", aid)[0]
    for key, value in (("name", name.strip()), ("sector", sector.strip())):
        if value:
            record[key] = value
        else:
            record.pop(key, None)
    shown = [p.strip() for p in public.split(",") if p.strip()]
    if shown:
        record["x_public"] = shown
    else:
        record.pop("x_public", None)
    return edit(wb, c, slug, aid, version, f"edited {aid}", merge=merge, record=record)


def _float(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text  # the check reports it with its place


def edit_part(
    wb: Workbench, c: Caller, slug: str, aid: str, section: str, form: dict[str, str], expected: str
) -> Version:
    """The actor page's forms for offers, needs and flows: add one (``form``'s fields) or
    remove the one numbered ``form["remove"]``."""
    if section not in ("offers", "needs", "flows"):
        raise HTTPException(404, f"no part {section!r}: offers, needs or flows")
    editor(c.access, aid)
    eco, version, merge = based(wb, slug, expected)
    eco.actor(aid)
    records = edits.section_records(eco, section, aid)
    remove = form.get("remove", "")
    if remove:
        if not remove.isdigit() or int(remove) >= len(records):
            raise HTTPException(422, f"no {section[:-1]} {remove!r} to remove")
        del records[int(remove)]
    elif section == "flows":
        other = form.get("other", "").strip()
        ends = (aid, other) if form.get("direction", "out") != "in" else (other, aid)
        records.append(
            {"from": ends[0], "to": ends[1], "resource": form.get("resource", ""), "quantity": _float(form["quantity"])}
        )
    else:
        new: dict[str, Any] = {"actor": aid, "resource": form.get("resource", ""), "quantity": _float(form["quantity"])}
        if form.get("supply_pattern"):
            new["supply_pattern"] = form["supply_pattern"]
        price = form.get("price", "")
        if price.strip():
            new["price" if section == "needs" else "disposal_cost"] = _float(price)
        new["confidential"] = form.get("confidential", "true") != "false"
        records.append(new)
    return edit(wb, c, slug, aid, version, f"edited {aid}", merge=merge, **{section: records})


def edit_body(wb: Workbench, c: Caller, slug: str, aid: str, body: dict[str, Any]) -> Version:
    """The API's edit ``{record?, offers?, needs?, flows?, expected?, message?}``. A wrong
    shape raises ``ValueError`` with what is wrong."""
    editor(c.access, aid)
    parts = {k: body[k] for k in PARTS if body.get(k) is not None}
    for k, v in parts.items():
        if not isinstance(v, dict if k == "record" else list):
            raise ValueError(f"{k} must be {'an object' if k == 'record' else 'a list'}")
    expected = body.get("expected")
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool)):
        raise ValueError(f"expected must be a version number, got {str(expected)[:40]!r}")
    base = wb.store.head(slug) if expected is None else expected
    message = str(body.get("message") or f"edited {aid}")
    return edit(wb, c, slug, aid, base, message, merge=expected is None, **parts)
