"""Edits of an ecosystem that keep it valid: one actor's rows replaced, an actor added.

An edit is checked twice, as a document would be: the submitted rows alone against the
ecosystem's ids and resources (so that problems are placed in the submission:
``offers[1].quantity``), then the whole edited ecosystem. The rows that are not edited go
through the checks column by column, as the table cells of the CSV form (see
:func:`section_cells`), so an edit of one actor in an ecosystem of ten thousand costs a
fraction of a second.

:meth:`Ecosystem.replace_rows <rainforest.model.Ecosystem.replace_rows>` and
:meth:`Ecosystem.add_actor <rainforest.model.Ecosystem.add_actor>` are the public doors;
the functions here return validated tables, which the :class:`Ecosystem` wraps.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from rainforest.errors import DocumentError, Issue, UnknownIdError
from rainforest.model.entities import Capability, entity_to_record
from rainforest.model.schema import FORMAT, SECTIONS
from rainforest.model.table import MISSING, Coded, Table, thaw
from rainforest.model.validation import RawDocument, RawSection, build_tables, encode_cell, records_to_section

if TYPE_CHECKING:
    from rainforest.model.ecosystem import Ecosystem

__all__ = [
    "ACTOR_SECTIONS",
    "RESOURCE_REFERENCES",
    "Tables",
    "added_actor_tables",
    "added_resource_tables",
    "cells_section",
    "owned_rows",
    "removed_actor_tables",
    "removed_resource_tables",
    "replaced_resource_tables",
    "replaced_tables",
    "resource_uses",
    "section_cells",
]

#: The sections whose rows belong to an actor, and by which field: its own record
#: (``id``), the rows naming it as ``actor``, and the flows and links it is at one end of.
ACTOR_SECTIONS: dict[str, tuple[str, ...]] = {
    "actors": ("id",),
    "flows": ("from", "to"),
    "offers": ("actor",),
    "needs": ("actor",),
    "stocks": ("actor",),
    "links": ("from", "to"),
}

#: What :func:`rainforest.model.validation.build_tables` returns: name, period, extensions, tables.
Tables = tuple[str, str, dict[str, Any], dict[str, Table]]

#: For each section to replace: which rows go (a boolean mask over the section) and the
#: cells of the rows that come in (``{column: cells}``, as :func:`section_cells` gives them).
Replacement = tuple[npt.NDArray[np.bool_], dict[str, list[Any]]]


def owned_rows(table: Table, section: str, actor: str) -> npt.NDArray[np.bool_]:
    """Which rows of ``section`` (its ``table``) belong to ``actor`` (see :data:`ACTOR_SECTIONS`)."""
    mask = np.zeros(table.n, dtype=bool)
    for name in ACTOR_SECTIONS[section]:
        mask |= np.array([v == actor for v in table.texts(name)], dtype=bool)
    return mask


def capabilities_cell(capabilities: tuple[Capability, ...]) -> str:
    """A capability list as one table cell: ``name; other [non-core]``, or a JSON list when
    a name holds ``;``, ``[`` or surrounding spaces."""
    if any(";" in c.name or "[" in c.name or c.name != c.name.strip() for c in capabilities):
        return json.dumps([{"name": c.name, "core": c.core} for c in capabilities], ensure_ascii=False)
    return "; ".join(c.name if c.core else f"{c.name} [non-core]" for c in capabilities)


def section_cells(table: Table, section: str) -> dict[str, list[Any]]:
    """The columns of a section as table cells (absent = ``None``), as the CSV and Excel
    forms write them; columns that carry nothing (all absent or all at the default) are
    left out."""
    spec = SECTIONS[section]
    out: dict[str, list[Any]] = {}
    for f in spec.fields:
        values = table[f.name].tolist()
        if f.kind == "number":
            cells: list[Any] = [None if math.isnan(v) else v for v in values]
        elif f.kind == "refs":
            cells = [";".join(v) if v else None for v in values]
        elif f.kind == "capabilities":
            cells = [capabilities_cell(v) if v else None for v in values]
        elif f.kind == "map":
            keys: dict[str, None] = {}
            for m in values:
                for k in m:
                    keys.setdefault(k, None)
            for k in keys:
                out[f"{f.name}.{k}"] = [m.get(k) for m in values]
            continue
        elif f.kind == "bool":
            cells = [None if v is None else ("true" if v else "false") for v in values]
            if f.default is not None:
                cells = [None if v == ("true" if f.default else "false") else v for v in cells]
        else:
            cells = values if f.default is None else [None if v == f.default else v for v in values]
        if f.name == "unit" and all(v is None for v in cells):
            continue
        if any(v is not None for v in cells) or (f.required and table.n == 0):
            out[f.name] = cells
    for name in table.names:
        if name.startswith("x_"):
            out[name] = [None if v is MISSING else encode_cell(v) for v in table[name].tolist()]
    if not out:
        out = {spec.fields[0].name: []}
    return out


def raw_document(eco: Ecosystem, replace: Mapping[str, Replacement]) -> RawDocument:
    """``eco`` as a raw tabular document, ready to be validated again; for each section in
    ``replace``, the rows where the mask is true are dropped and the given cells appended
    (one actor or resource record dropped and one given: replaced in place, the order
    stays)."""
    top: dict[str, Any] = {"format": FORMAT, "name": eco.name}
    if eco.period != "year":
        top["period"] = eco.period
    top.update({k: thaw(v) for k, v in eco.extensions.items()})
    doc = RawDocument(top=top, sections={}, source=eco.name)
    for section in SECTIONS:
        n = eco.table(section).n
        if n == 0 and section not in replace:
            continue
        cells = section_cells(eco.table(section), section) if n else {}
        if section in replace:
            drop, added = replace[section]
            width = len(next(iter(added.values()))) if added else 0
            if section in ("actors", "resources") and int(drop.sum()) == 1 == width:
                at = int(np.flatnonzero(drop)[0])
                for name in set(cells) | set(added):
                    column = cells.get(name, [None] * n)
                    column[at] = added.get(name, [None])[0]
                    cells[name] = column
            else:
                keep = ~drop
                cells = {k: [v for v, k_ in zip(values, keep, strict=True) if k_] for k, values in cells.items()}
                kept = int(keep.sum())
                for name in set(cells) | set(added):
                    cells[name] = cells.get(name, [None] * kept) + added.get(name, [None] * width)
                n = kept + width
        if n == 0:
            continue
        doc.sections[section] = cells_section(section, cells, n)
    return doc


def cells_section(section: str, cells: Mapping[str, Sequence[Any]], n: int) -> RawSection:
    """A raw tabular section of ``n`` rows from its table cells (see :func:`section_cells`):
    number columns, and the dotted columns of maps of numbers, typed as the CSV reader
    types them. A column may come already typed: dictionary-encoded texts (:class:`Coded`)
    or float64 numbers (NaN = empty)."""
    spec = SECTIONS[section]
    numeric = {f.name for f in spec.fields if f.kind == "number"}
    number_maps = tuple(f"{f.name}." for f in spec.fields if f.kind == "map" and f.map_values == "number")
    columns: dict[str, Any] = {}
    for name, values in cells.items():
        if isinstance(values, Coded) or (isinstance(values, np.ndarray) and values.dtype == np.float64):
            columns[name] = values
            continue
        if name in numeric or name.startswith(number_maps):
            try:
                columns[name] = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
                continue
            except (TypeError, ValueError):
                pass
        col = np.empty(len(values), dtype=object)
        col[:] = values
        columns[name] = col
    return RawSection(section, columns, n, tabular=True)


def _mini_document(eco: Ecosystem, sections: Mapping[str, Sequence[Mapping[str, Any]]]) -> RawDocument:
    """A document of the given records, the ecosystem's resources and (when not given) its
    actors by id alone: the submission checked on its own, its places its own."""
    top: dict[str, Any] = {"format": FORMAT, "name": eco.name}
    raw: dict[str, RawSection] = {}
    issues: list[Issue] = []
    for section, records in sections.items():
        raw[section], broken = records_to_section(section, list(records))
        for i in broken:
            issues.append(Issue(f"{section}[{i}]", "wrong type", expected="a mapping", got=type(records[i]).__name__))
    return RawDocument(top=top, sections=raw, source="edit", issues=issues)


def _checked(eco: Ecosystem, sections: Mapping[str, Sequence[Mapping[str, Any]]]) -> Tables:
    try:
        return build_tables(_mini_document(eco, sections))
    except DocumentError as exc:
        raise DocumentError(exc.issues, source="edit") from None


def replaced_tables(eco: Ecosystem, actor: str, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> Tables | None:
    """The validated tables of ``eco`` with ``actor``'s rows of each section in ``rows``
    replaced (see :meth:`Ecosystem.replace_rows <rainforest.model.Ecosystem.replace_rows>`);
    ``None`` when ``rows`` is empty (nothing to change)."""
    eco.actor_index(actor)  # UnknownIdError with the nearest ids
    for section in rows:
        if section not in SECTIONS:
            raise UnknownIdError("section", section, ACTOR_SECTIONS)
        if section not in ACTOR_SECTIONS:
            raise ValueError(
                f"The sections of replace_rows must be among {', '.join(map(repr, ACTOR_SECTIONS))} "
                f"(the rows an actor owns). Got {section!r} instead: {section} belong to the whole ecosystem; "
                "build a new Ecosystem to change them."
            )
    if not rows:
        return None
    problems: list[Issue] = []
    records = rows.get("actors")
    if records is not None and len(records) != 1:
        problems.append(
            Issue(
                "actors",
                "an actor's edit keeps its one record",
                expected="one record",
                got=f"{len(records)} records",
                hint="to add an actor, use add_actor",
            )
        )
    for section, given in rows.items():
        ends = ACTOR_SECTIONS[section]
        for k, r in enumerate(given):
            if not isinstance(r, Mapping):
                problems.append(Issue(f"{section}[{k}]", "wrong type", expected="a mapping", got=type(r).__name__))
            elif section == "actors":
                if str(r.get("id", actor)) != actor:
                    problems.append(
                        Issue(
                            f"actors[{k}].id",
                            "an edit cannot rename the actor",
                            expected=repr(actor),
                            got=repr(r.get("id")),
                        )
                    )
            elif len(ends) == 2:
                if actor not in (r.get(ends[0]), r.get(ends[1])):
                    problems.append(
                        Issue(
                            f"{section}[{k}]",
                            f"a {SECTIONS[section].singular} of {actor!r} has it at one end",
                            expected=f"{ends[0]} or {ends[1]} {actor!r}",
                        )
                    )
            elif r.get("actor", actor) != actor:
                problems.append(
                    Issue(
                        f"{section}[{k}].actor",
                        "the record belongs to another actor",
                        expected=repr(actor),
                        got=repr(r.get("actor")),
                    )
                )
    if problems:
        raise DocumentError(problems, source="edit")
    # the submitted rows alone, checked against every id of the ecosystem
    own = dict(records[0]) if records is not None else entity_to_record("actors", eco.actor(actor))
    mini: dict[str, Sequence[Mapping[str, Any]]] = {
        "actors": [{**thaw(own), "id": actor}] + [{"id": a} for a in eco.actor_ids if a != actor],
        "resources": [thaw(entity_to_record("resources", r)) for r in eco.resources],
    }
    for section, given in rows.items():
        if section != "actors" and given:
            owner = {} if len(ACTOR_SECTIONS[section]) == 2 else {"actor": actor}
            mini[section] = [{**owner, **dict(r)} for r in given]
    checked = _checked(eco, mini)[3]
    replace: dict[str, Replacement] = {}
    for section, given in rows.items():
        mine = owned_rows(eco.table(section), section, actor)
        if section == "actors":
            replace[section] = (mine, {k: v[:1] for k, v in section_cells(checked[section], section).items()})
        else:
            replace[section] = (mine, section_cells(checked[section], section) if given else {})
    return build_tables(raw_document(eco, replace))


def added_actor_tables(eco: Ecosystem, record: Mapping[str, Any]) -> Tables:
    """The validated tables of ``eco`` with one more actor (see
    :meth:`Ecosystem.add_actor <rainforest.model.Ecosystem.add_actor>`)."""
    if str(record.get("id")) in eco.actor_ids:
        raise DocumentError([Issue("actors[0].id", "the id is taken", got=repr(record.get("id")))], source="edit")
    checked = _checked(eco, {"actors": [dict(record)]})[3]
    drop = np.zeros(eco.table("actors").n, dtype=bool)
    return build_tables(raw_document(eco, {"actors": (drop, section_cells(checked["actors"], "actors"))}))


#: Where a resource is named, per section: the fields holding its id.
RESOURCE_REFERENCES: dict[str, tuple[str, ...]] = {
    "flows": ("resource",),
    "offers": ("resource",),
    "needs": ("resource", "resources"),
    "stocks": ("resource",),
    "links": ("resource",),
    "virgin": ("resource",),
    "resources": ("substitutes",),
}


def _mentions(values: Sequence[Any], target: str) -> npt.NDArray[np.bool_]:
    return np.array([v == target or (isinstance(v, tuple) and target in v) for v in values], dtype=bool)


def removed_actor_tables(eco: Ecosystem, actor: str) -> Tables:
    """The validated tables of ``eco`` without ``actor`` and every row it owns (see
    :meth:`Ecosystem.remove_actor <rainforest.model.Ecosystem.remove_actor>`)."""
    eco.actor_index(actor)  # UnknownIdError with the nearest ids
    problems = []
    modules = eco.table("modules")
    for i, (mid, provider, adopters) in enumerate(
        zip(modules.texts("id"), modules.texts("provider"), modules["adopters"].tolist(), strict=True)
    ):
        if provider == actor or actor in (adopters or ()):
            role = "provides" if provider == actor else "adopts"
            problems.append(
                Issue(
                    f"modules[{i}]",
                    f"{actor!r} {role} the module {mid!r}",
                    expected="an actor no module names",
                    hint=f"take {actor!r} out of the module first (import a document without it)",
                )
            )
    if len(eco.actor_ids) == 1:
        problems.append(
            Issue("actors", "an ecosystem keeps at least one actor", got=f"only {actor!r}", hint="add another first")
        )
    if problems:
        raise DocumentError(problems, source="edit")
    replace: dict[str, Replacement] = {
        section: (owned_rows(eco.table(section), section, actor), {}) for section in ACTOR_SECTIONS
    }
    return build_tables(_pruned(raw_document(eco, replace)))


def _pruned(doc: RawDocument) -> RawDocument:
    """``doc`` without the extension columns that no row holds any more (rows removed): the
    result equals the same document read afresh."""
    for section in doc.sections.values():
        for name in [k for k in section.columns if k.startswith("x_")]:
            if all(v is None for v in section.columns[name]):
                del section.columns[name]
    return doc


def _resource_cells(eco: Ecosystem, record: Mapping[str, Any], others: Sequence[str]) -> dict[str, list[Any]]:
    """One resource record checked against the ecosystem's other resources (its
    substitutes name them), as table cells; problems placed as ``resources[0].unit``."""
    mini = [dict(record)] + [{"id": r, "kind": "material", "unit": "1"} for r in others]
    checked = _checked(eco, {"actors": [{"id": a} for a in eco.actor_ids[:1]], "resources": mini})[3]
    return {k: v[:1] for k, v in section_cells(checked["resources"], "resources").items()}


def added_resource_tables(eco: Ecosystem, record: Mapping[str, Any]) -> Tables:
    """The validated tables of ``eco`` with one more resource (see
    :meth:`Ecosystem.add_resource <rainforest.model.Ecosystem.add_resource>`)."""
    if str(record.get("id")) in eco.resource_ids:
        raise DocumentError([Issue("resources[0].id", "the id is taken", got=repr(record.get("id")))], source="edit")
    cells = _resource_cells(eco, record, eco.resource_ids)
    drop = np.zeros(eco.table("resources").n, dtype=bool)
    return build_tables(raw_document(eco, {"resources": (drop, cells)}))


def replaced_resource_tables(eco: Ecosystem, resource: str, record: Mapping[str, Any]) -> Tables:
    """The validated tables of ``eco`` with ``resource``'s record replaced (see
    :meth:`Ecosystem.replace_resource <rainforest.model.Ecosystem.replace_resource>`)."""
    eco.resource(resource)  # UnknownIdError with the nearest ids
    if str(record.get("id", resource)) != resource:
        raise DocumentError(
            [
                Issue(
                    "resources[0].id",
                    "an edit cannot rename the resource",
                    expected=repr(resource),
                    got=repr(record.get("id")),
                )
            ],
            source="edit",
        )
    cells = _resource_cells(eco, {**record, "id": resource}, [r for r in eco.resource_ids if r != resource])
    table = eco.table("resources")
    drop = np.array([r == resource for r in table.texts("id")], dtype=bool)
    return build_tables(raw_document(eco, {"resources": (drop, cells)}))


def resource_uses(eco: Ecosystem, resource: str) -> dict[str, int]:
    """How many rows of each section name ``resource`` (its own record left out)."""
    uses: dict[str, int] = {}
    for section, fields in RESOURCE_REFERENCES.items():
        table = eco.table(section)
        if table.n == 0:
            continue
        mask = np.zeros(table.n, dtype=bool)
        for name in fields:
            if name in table:
                mask |= _mentions(table[name].tolist(), resource)
        if int(mask.sum()):
            uses[section] = int(mask.sum())
    return uses


def removed_resource_tables(eco: Ecosystem, resource: str) -> Tables:
    """The validated tables of ``eco`` without ``resource`` (see
    :meth:`Ecosystem.remove_resource <rainforest.model.Ecosystem.remove_resource>`)."""
    eco.resource(resource)  # UnknownIdError with the nearest ids
    uses = resource_uses(eco, resource)
    if uses:
        used = ", ".join(f"{n} {SECTIONS[s].singular if n == 1 else s}" for s, n in uses.items())
        raise DocumentError(
            [
                Issue(
                    "resources",
                    f"the resource {resource!r} is in use",
                    expected="a resource nothing names",
                    got=used,
                    hint="remove or change those rows first",
                )
            ],
            source="edit",
        )
    table = eco.table("resources")
    drop = np.array([r == resource for r in table.texts("id")], dtype=bool)
    return build_tables(_pruned(raw_document(eco, {"resources": (drop, {})})))
