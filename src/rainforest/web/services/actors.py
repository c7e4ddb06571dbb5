"""Actors: the directory, one actor as the caller may see it, and edits of an actor's
record, offers, needs and flows (members their own actor, managers every one), saved by a
compare-and-set on the version they were made on."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException

from rainforest.errors import DocumentError, Issue, UnknownIdError
from rainforest.model.ecosystem import Ecosystem
from rainforest.model.edits import RESOURCE_REFERENCES
from rainforest.model.entities import entity_to_record
from rainforest.model.schema import RESOURCE_KINDS, SECTIONS, STAGES, STRATA
from rainforest.model.table import thaw
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
    "NotConfirmedError",
    "actor_page",
    "add_actor",
    "codes",
    "directory",
    "edit",
    "edit_part",
    "edit_record",
    "labels",
    "may_edit",
    "remove_actor",
    "remove_resource",
    "save_resource",
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
        "rows": [{**r, "sector_label": _sector_label(str(r["sector"]))} for r in rows[(page - 1) * PAGE : page * PAGE]],
        "total": len(rows),
        "q": q,
        "page": page,
        "pages": pages,
        "version": wb.store.head(slug),
        "resources": resource_rows(eco) if c.access.sees_all else [],
        "kinds": RESOURCE_KINDS,
        "strata": STRATA,
        "stages": STAGES,
        "number": number,
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


def labels(eco: Ecosystem) -> dict[str, dict[str, str]]:
    """Display names: ``{"actors": {id: name}, "resources": {id: name}}`` (the id where
    no name is given), for the pages to show names with the ids on hover."""
    t, r = eco.table("actors"), eco.table("resources")
    actors = {str(i): str(n or i) for i, n in zip(t.texts("id"), t.texts("name"), strict=True)}
    for boundary in ("world", "environment"):
        actors.setdefault(boundary, f"the {boundary}")
    names = r.texts("name") if "name" in r else [None] * r.n
    resources = {str(i): str(n or i) for i, n in zip(r.texts("id"), names, strict=True)}
    return {"actors": actors, "resources": resources}


def resource_rows(eco: Ecosystem) -> list[dict[str, Any]]:
    """The resources as the forms and tables show them: id, name, kind, unit, price,
    EWC code, emission factors, and how many rows name each."""
    uses = _use_counts(eco)
    rows = []
    for r in eco.resources:
        rows.append(
            {
                "id": r.id,
                "name": r.name or r.id,
                "given_name": r.name or "",
                "kind": r.kind,
                "unit": r.unit,
                "price": r.price,
                "ewc": str(r.codes.get("ewc", "")),
                "co2e_virgin": r.co2e_virgin,
                "co2e_disposal": r.co2e_disposal,
                "transport_cost": r.transport_cost,
                "uses": uses.get(r.id, 0),
            }
        )
    return rows


def _use_counts(eco: Ecosystem) -> dict[str, int]:
    """How many rows name each resource (one pass over each column that names resources;
    see :data:`rainforest.model.edits.RESOURCE_REFERENCES`)."""
    counts: dict[str, int] = {}
    for section, fields in RESOURCE_REFERENCES.items():
        table = eco.table(section)
        if table.n == 0:
            continue
        for row in zip(*(table[f].tolist() for f in fields if f in table), strict=True):
            named: set[str] = set()
            for v in row:
                if isinstance(v, tuple):
                    named.update(str(x) for x in v)
                elif isinstance(v, str):
                    named.add(v)
            for rid in named:
                counts[rid] = counts.get(rid, 0) + 1
    return counts


def actor_page(wb: Workbench, c: Caller, slug: str, aid: str) -> dict[str, Any]:
    """What the actor page shows: the actor as the caller may see it, and the forms to edit it."""
    a = c.access
    eco = wb.store.load(slug)
    names = labels(eco)
    return {
        "nav": a.nav("actors"),
        "name": eco.name,
        "aid": aid,
        "view": view(eco, a, aid),
        "editable": may_edit(a, aid),
        "manages": a.manages,
        "version": wb.store.head(slug),
        "resources": resource_rows(eco),
        "units": {r.id: r.unit for r in eco.resources},
        "labels": names,
        "actor_ids": [x for x in eco.actor_ids if x != aid] if may_edit(a, aid) else [],
        "patterns": PATTERNS,
        "strata": STRATA,
        "stages": STAGES,
        "number": number,
        "period": eco.period,
        "sector_label": _sector_label(eco.actor(aid).sector or ""),
    }


def _sector_label(code: str) -> str:
    """The NACE rev. 2 description of a sector code, empty when it is free text."""
    try:
        return str(taxonomy.sector_code(code.strip()).description) if code.strip() else ""
    except UnknownIdError:
        return ""


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


@dataclass
class NotConfirmedError(Exception):
    """A removal asked for without ``confirm=yes``: nothing changed; the page asks
    ``question`` and sends ``fields`` again with the confirmation."""

    question: str
    fields: dict[str, str] = field(default_factory=dict)


def _message(auto: str, note: str) -> str:
    """A version's message: what the form did, and the author's note after it."""
    note = " ".join(note.split())[:500]
    return f"{auto}: {note}" if note else auto


def save(
    wb: Workbench,
    c: Caller,
    slug: str,
    expected: str | int | None,
    change: Callable[[Ecosystem], Ecosystem],
    message: str,
) -> Version:
    """Save ``change`` (an edit of the whole ecosystem: an actor or a resource added or
    removed) made on version ``expected`` by a compare-and-set on it. A form's version
    (text) is never merged: a newer version refuses it with :class:`ConflictError`. An
    API call without ``expected`` makes the change on the latest version, again on a
    newer one when someone saved meanwhile (the change is checked again there)."""
    if isinstance(expected, str):
        eco, base, merge = based(wb, slug, expected)
    else:
        base = wb.store.head(slug) if expected is None else expected
        eco, merge = wb.store.load(slug, base), expected is None
    for _ in range(MERGES):
        try:
            return wb.store.commit(slug, change(eco), author=c.user.username, message=message, expected=base)
        except ConflictError as exc:
            if not merge:
                raise
            eco, base = wb.store.load(slug, exc.head), exc.head
    raise ConflictError(slug, base, wb.store.head(slug))


def new_id(text: str, taken: Sequence[str]) -> str:
    """An id made from a name (``Hansen Brewery`` -> ``hansen_brewery``), not among ``taken``."""
    base = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "item"
    if not base[0].isalnum():
        base = "x" + base
    out, n = base, 2
    while out in taken or out in ("world", "environment"):
        out, n = f"{base}_{n}", n + 1
    return out


def actor_record(form: Mapping[str, str], taken: Sequence[str]) -> dict[str, Any]:
    """An actor's record from the add-actor form: ``id`` (made from the name when left
    empty), ``name``, ``sector``, ``stratum``, ``stage``."""
    name = form.get("name", "").strip()
    aid = form.get("id", "").strip() or new_id(name, taken)
    record: dict[str, Any] = {"id": aid}
    for key in ("name", "sector", "stratum", "stage"):
        value = form.get(key, "").strip()
        if value:
            record[key] = value
    return record


def add_actor(
    wb: Workbench, c: Caller, slug: str, record: Mapping[str, Any], expected: str | int | None, note: str = ""
) -> Version:
    """Add an actor (managers). :class:`DocumentError` placed as ``record.sector``..."""
    if not c.access.manages:
        raise HTTPException(403, "only the ecosystem's managers add actors")
    if not record.get("id") and isinstance(record.get("name"), str) and record["name"].strip():
        record = {**record, "id": new_id(record["name"], wb.store.load(slug).actor_ids)}
    label = record.get("name") or record.get("id")
    return save(wb, c, slug, expected, lambda eco: edits.add_actor(eco, record), _message(f"added actor {label}", note))


def remove_actor(
    wb: Workbench, c: Caller, slug: str, aid: str, expected: str | int | None, *, confirmed: bool, note: str = ""
) -> Version:
    """Remove an actor and every row it owns (managers); :class:`NotConfirmedError` until confirmed."""
    if not c.access.manages:
        raise HTTPException(403, "only the ecosystem's managers remove actors")
    eco = wb.store.load(slug)
    rows = edits.actor_records(eco, aid)  # UnknownIdError (404) for an unknown actor
    label = labels(eco)["actors"][aid]
    if not confirmed:
        owned = [
            f"{len(rows[k])} {k if len(rows[k]) != 1 else SECTIONS[k].singular}"
            for k in ("offers", "needs", "flows")
            if rows[k]
        ]
        also = f" with its {' and '.join(owned)}" if owned else ""
        raise NotConfirmedError(f"Remove the actor {label}{also}? The history keeps it: a revert brings it back.")
    return save(wb, c, slug, expected, lambda e: edits.remove_actor(e, aid), _message(f"removed actor {label}", note))


def _number(text: str) -> Any:
    """A form's number: a float, the text when it is not one (the checks report it with
    its place), None when empty."""
    text = text.strip()
    if not text:
        return None
    return _float(text)


def resource_record(form: Mapping[str, str], taken: Sequence[str], rid: str = "") -> dict[str, Any]:
    """A resource's record from the resource form: name, id (made from the name when left
    empty), kind, unit, price, EWC code (checked against the catalogue), emission factors
    and transport cost; ``rid``: the resource edited (its id stays)."""
    name = form.get("name", "").strip()
    record: dict[str, Any] = {"id": rid or form.get("id", "").strip() or new_id(name, taken)}
    if name:
        record["name"] = name
    record["kind"] = form.get("kind", "").strip()
    record["unit"] = form.get("unit", "").strip()
    for key in ("price", "co2e_virgin", "co2e_disposal", "transport_cost"):
        value = _number(form.get(key, ""))
        if value is not None:
            record[key] = value
    ewc = form.get("ewc", "").strip()
    if ewc:
        record["codes"] = {"ewc": _waste_code(ewc, "record.ewc")}
    return record


def checked_resource_record(eco: Ecosystem, form: Mapping[str, str], rid: str = "") -> dict[str, Any]:
    """:func:`resource_record`, every problem of the form at once: a wrong EWC code and
    the model's problems with the rest (a unit, a kind) together."""
    try:
        return resource_record(form, eco.resource_ids, rid)
    except DocumentError as exc:
        issues = list(exc.issues)
        record = resource_record({**form, "ewc": ""}, eco.resource_ids, rid)
        try:
            if rid:
                edits.edit_resource(eco, rid, record)
            else:
                edits.add_resource(eco, record)
        except DocumentError as more:
            issues += more.issues
        raise DocumentError(issues, source="edit") from None


def _waste_code(text: str, path: str) -> str:
    """An EWC code as the catalogue writes it; :class:`DocumentError` at ``path`` when unknown."""
    try:
        return str(taxonomy.waste_code(text).code)
    except UnknownIdError:
        raise DocumentError(
            [
                Issue(
                    path,
                    "not a code of the European Waste Catalogue",
                    expected="a code such as '10 01 02' (search by words: 'fly ash')",
                    got=repr(text[:40]),
                )
            ],
            source="edit",
        ) from None


def save_resource(
    wb: Workbench,
    c: Caller,
    slug: str,
    record: Mapping[str, Any],
    expected: str | int | None,
    *,
    rid: str = "",
    note: str = "",
) -> Version:
    """Add a resource, or replace resource ``rid``'s record (managers). Other codes than the
    EWC one that the resource carries are kept when the form edits it."""
    if not c.access.manages:
        raise HTTPException(403, "only the ecosystem's managers add and change resources")
    if not rid and not record.get("id") and isinstance(record.get("name"), str) and record["name"].strip():
        record = {**record, "id": new_id(record["name"], wb.store.load(slug).resource_ids)}
    label = record.get("name") or record.get("id") or rid
    if not rid:
        return save(
            wb,
            c,
            slug,
            expected,
            lambda eco: edits.add_resource(eco, record),
            _message(f"added resource {label}", note),
        )

    def change(eco: Ecosystem) -> Ecosystem:
        old = eco.resource(rid)
        codes = {k: v for k, v in old.codes.items() if k != "ewc"} | dict(record.get("codes") or {})
        new = {**record, "codes": codes} if codes else {k: v for k, v in record.items() if k != "codes"}
        if old.substitutes and "substitutes" not in new:
            new["substitutes"] = list(old.substitutes)
        return edits.edit_resource(eco, rid, new)

    wb.store.load(slug).resource(rid)  # 404 for an unknown resource
    return save(wb, c, slug, expected, change, _message(f"changed resource {label}", note))


def remove_resource(
    wb: Workbench, c: Caller, slug: str, rid: str, expected: str | int | None, *, confirmed: bool, note: str = ""
) -> Version:
    """Remove a resource nothing names (managers); :class:`NotConfirmedError` until confirmed."""
    if not c.access.manages:
        raise HTTPException(403, "only the ecosystem's managers remove resources")
    eco = wb.store.load(slug)
    eco.resource(rid)  # 404 for an unknown resource
    label = labels(eco)["resources"][rid]
    if not confirmed:
        raise NotConfirmedError(f"Remove the resource {label}? The history keeps it: a revert brings it back.")
    return save(
        wb, c, slug, expected, lambda e: edits.remove_resource(e, rid), _message(f"removed resource {label}", note)
    )


def edit_record(
    wb: Workbench,
    c: Caller,
    slug: str,
    aid: str,
    *,
    name: str,
    sector: str,
    public: str,
    expected: str,
    stratum: str | None = None,
    stage: str | None = None,
    note: str = "",
) -> Version:
    """The actor page's record form: name, sector, stratum, stage and the fields other
    members see (``stratum`` and ``stage`` left ``None``: unchanged)."""
    editor(c.access, aid)
    eco, version, merge = based(wb, slug, expected)
    record = edits.section_records(eco, "actors", aid)[0]
    given = {"name": name, "sector": sector, "stratum": stratum, "stage": stage}
    for key, value in given.items():
        if value is None:
            continue
        if value.strip():
            record[key] = value.strip()
        else:
            record.pop(key, None)
    shown = [p.strip() for p in public.split(",") if p.strip()]
    if shown:
        record["x_public"] = shown
    else:
        record.pop("x_public", None)
    label = labels(eco)["actors"].get(aid, aid)
    return edit(wb, c, slug, aid, version, _message(f"edited actor {label}", note), merge=merge, record=record)


def _float(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text  # the check reports it with its place


#: The map of properties each section's form edits.
QUALITY = {"offers": "quality", "needs": "max_quality"}


def _quality(keys: Sequence[str], values: Sequence[str], section: str, at: int) -> dict[str, Any]:
    """The key/value editor's pairs as a map (empty rows left out); a value without a
    property is a problem placed at ``quality``."""
    out: dict[str, Any] = {}
    for k, v in zip(keys, values, strict=False):
        k, v = k.strip(), v.strip()
        if not k and not v:
            continue
        if not k:
            raise DocumentError(
                [Issue(f"{section}[{at}].{QUALITY[section]}", "a value without a property", got=repr(v[:40]))],
                source="edit",
            )
        out[k] = _float(v) if v else v
    return out


def _row(
    eco: Ecosystem, c: Caller, section: str, aid: str, form: Mapping[str, Any], at: int
) -> tuple[dict[str, Any], Callable[[Ecosystem], Ecosystem] | None]:
    """An offer or need from its form, and what else the same version changes (the
    resource's EWC code, filled in by a manager; None: nothing else). The quality pairs
    and the EWC code are checked here (the model checks the rest): :class:`DocumentError`
    with both problems when both are wrong."""
    resource = str(form.get("resource", ""))
    new: dict[str, Any] = {"actor": aid, "resource": resource, "quantity": _float(str(form.get("quantity", "")))}
    if form.get("supply_pattern"):
        new["supply_pattern"] = form["supply_pattern"]
    price = str(form.get("price", ""))
    if price.strip():
        new["price" if section == "needs" else "disposal_cost"] = _float(price)
    new["confidential"] = form.get("confidential", "true") != "false"
    issues: list[Issue] = []
    try:
        quality = _quality(form.get("q_key") or [], form.get("q_value") or [], section, at)
    except DocumentError as exc:
        issues += exc.issues
        quality = {}
    if quality:
        new[QUALITY[section]] = quality
    also: Callable[[Ecosystem], Ecosystem] | None = None
    ewc = str(form.get("ewc", "")).strip()
    if ewc and resource in eco.resource_ids:
        try:
            also = _ewc_change(eco, c, section, at, resource, ewc)
        except DocumentError as exc:
            issues += exc.issues
    if issues:
        raise DocumentError(issues, source="edit")
    return new, also


def _ewc_change(
    eco: Ecosystem, c: Caller, section: str, at: int, resource: str, ewc: str
) -> Callable[[Ecosystem], Ecosystem] | None:
    """What an offer's or need's EWC code changes: nothing when the resource carries it,
    the resource's code when it has none (managers only); a problem at ``ewc`` otherwise."""
    path = f"{section}[{at}].ewc"
    code = _waste_code(ewc, path)
    has = str(eco.resource(resource).codes.get("ewc", ""))
    name = labels(eco)["resources"][resource]
    if has == code:
        return None
    if has:
        raise DocumentError(
            [
                Issue(
                    path,
                    f"{name} carries the EWC code {has}, not {code}",
                    hint=f"a resource has one waste code: choose the resource of {code}, or add it on the Actors page",
                )
            ],
            source="edit",
        )
    if not c.access.manages:
        raise DocumentError(
            [
                Issue(
                    path,
                    f"{name} has no EWC code yet, and only the ecosystem's managers set one",
                    got=code,
                    hint="leave the field empty and ask a manager to set the code on the resource",
                )
            ],
            source="edit",
        )
    rec = thaw(entity_to_record("resources", eco.resource(resource)))
    rec["codes"] = {**rec.get("codes", {}), "ewc": code}
    return functools.partial(edits.edit_resource, resource=resource, record=rec)


def _checked_row(
    eco: Ecosystem, c: Caller, section: str, aid: str, form: Mapping[str, Any], at: int, records: list[dict[str, Any]]
) -> tuple[dict[str, Any], Callable[[Ecosystem], Ecosystem] | None]:
    """:func:`_row`; when its own checks (the EWC code, the quality pairs) fail, the model's
    checks of the rest of the form run too, so that every problem is reported at once."""
    try:
        return _row(eco, c, section, aid, form, at)
    except DocumentError as exc:
        issues = list(exc.issues)
        bad = {i.path for i in issues}
        trial = {**form, "ewc": "", "q_key": [], "q_value": []}  # checked already
        try:
            row, _ = _row(eco, c, section, aid, trial, at)
            rows: dict[str, Any] = {section: [*records[:at], row, *records[at + 1 :]]}
            edits.edit_actor(eco, aid, **rows)
        except DocumentError as more:
            issues += [i for i in more.issues if i.path not in bad]
        raise DocumentError(issues, source="edit") from None


def _what(
    section: str,
    record: Mapping[str, Any],
    names: Mapping[str, Mapping[str, str]],
    units: Mapping[str, str],
    owner: str,
    amount: bool = True,
) -> str:
    """An offer, need or flow in words: ``Mill's offer of Fly ash (10 t)``, ``the flow of
    Fly ash from Mill to Farm (5 t)``; without the quantity when ``amount`` is false."""
    resource = str(record.get("resource") or ", ".join(record.get("resources") or []))
    label = names["resources"].get(resource, resource)
    q = record.get("quantity")
    shown = f" ({_amount(q, units.get(resource, ''))})" if amount and isinstance(q, int | float) else ""
    if section == "flows":
        a, b = names["actors"].get(record["from"], record["from"]), names["actors"].get(record["to"], record["to"])
        return f"the flow of {label} from {a} to {b}{shown}"
    return f"{owner}'s {SECTIONS[section].singular} of {label}{shown}"


def _amount(q: Any, unit: str) -> str:
    """A quantity with its unit, as the history says it (``9,500 t``); a text as given."""
    return f"{number(float(q))} {unit}".strip() if isinstance(q, int | float) else str(q)


def edit_part(
    wb: Workbench, c: Caller, slug: str, aid: str, section: str, form: dict[str, Any], expected: str
) -> Version:
    """The actor page's forms for offers, needs and flows: add one (``form``'s fields),
    change the one numbered ``form["index"]`` (``op=edit``: every field; ``op=quantity``:
    its quantity) or remove the one numbered ``form["remove"]`` (:class:`NotConfirmedError` until
    ``form["confirm"] == "yes"``)."""
    if section not in ("offers", "needs", "flows"):
        raise HTTPException(404, f"no part {section!r}: offers, needs or flows")
    editor(c.access, aid)
    eco, version, merge = based(wb, slug, expected)
    eco.actor(aid)
    names, units = labels(eco), {r.id: r.unit for r in eco.resources}
    records = edits.section_records(eco, section, aid)
    owner = names["actors"].get(aid, aid)
    note = str(form.get("note", ""))
    remove, op, index = str(form.get("remove", "")), str(form.get("op", "")), str(form.get("index", ""))
    also: Callable[[Ecosystem], Ecosystem] | None = None
    if remove:
        if not remove.isdigit() or int(remove) >= len(records):
            raise HTTPException(422, f"no {section[:-1]} {remove!r} to remove")
        what = _what(section, records[int(remove)], names, units, owner)
        if form.get("confirm") != "yes":
            raise NotConfirmedError(f"Remove {what}?", {"remove": remove})
        del records[int(remove)]
        message = f"removed {what}"
    elif op in ("edit", "quantity"):
        if not index.isdigit() or int(index) >= len(records):
            raise HTTPException(422, f"no {section[:-1]} {index!r} to change")
        i = int(index)
        before = _what(section, records[i], names, units, owner)
        if op == "quantity":
            unit = units.get(str(records[i].get("resource")), "")
            was = records[i].get("quantity")
            records[i]["quantity"] = _float(str(form.get("quantity", "")))
            records[i].pop("unit", None)  # the new figure is in the resource's unit
            what = _what(section, records[i], names, units, owner, amount=False)
            message = (
                f"changed the quantity of {what} from {_amount(was, unit)} to {_amount(records[i]['quantity'], unit)}"
            )
        elif section == "flows":
            records[i] = {**records[i], "resource": form.get("resource", ""), "quantity": _float(str(form["quantity"]))}
            message = f"changed {before}"
        else:
            records[i], also = _checked_row(eco, c, section, aid, form, i, records)
            message = f"changed {before}"
    elif section == "flows":
        other = str(form.get("other", "")).strip()
        ends = (aid, other) if form.get("direction", "out") != "in" else (other, aid)
        records.append(
            {
                "from": ends[0],
                "to": ends[1],
                "resource": form.get("resource", ""),
                "quantity": _float(str(form["quantity"])),
            }
        )
        message = f"added {_what(section, records[-1], names, units, owner)}"
    else:
        new, also = _checked_row(eco, c, section, aid, form, len(records), records)
        records.append(new)
        message = f"added {_what(section, new, names, units, owner)}"
    parts: dict[str, Any] = {section: records}
    if also is not None:  # the resource's EWC code too, in the same version (never merged)
        then = also
        return save(
            wb,
            c,
            slug,
            version,
            lambda e: then(edits.edit_actor(e, aid, **parts)),
            _message(message, note),
        )
    return edit(wb, c, slug, aid, version, _message(message, note), merge=merge, **{section: records})


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
