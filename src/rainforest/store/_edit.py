"""Edit one actor's part of an ecosystem column by column: its record, its offers, its needs
and the flows it is a party to, the rest untouched. Used by the workbench, where a member
edits its own actor in an ecosystem of ten thousand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from rainforest.errors import DocumentError, Issue
from rainforest.model.ecosystem import Ecosystem
from rainforest.model.entities import entity_to_record
from rainforest.model.schema import FORMAT, SECTIONS
from rainforest.model.validation import Place, RawDocument, RawSection, _thaw

#: The sections an actor's edit may replace, and which rows of each belong to the actor.
EDITABLE = ("actor", "offers", "needs", "flows")


def _owned(eco: Ecosystem, section: str, actor: str) -> np.ndarray[Any, np.dtype[np.bool_]]:
    table = eco.table(section)
    if section == "actors":
        return np.array([v == actor for v in table.texts("id")], dtype=bool)
    if section == "flows":
        return np.array(
            [actor in (a, b) for a, b in zip(table.texts("from"), table.texts("to"), strict=True)], dtype=bool
        )
    return np.array([v == actor for v in table.texts("actor")], dtype=bool)


def raw_document(
    eco: Ecosystem, replace: Mapping[str, tuple[np.ndarray[Any, Any], dict[str, list[Any]]]]
) -> RawDocument:
    """``eco`` as a raw tabular document, ready to validate again; for each section in
    ``replace``, the rows where the mask is true are dropped and the given cells appended
    (``{column: cells}``, the convention of :func:`rainforest.io.tabular.table_rows`)."""
    from rainforest.io.tabular import table_rows

    top: dict[str, Any] = {"format": FORMAT, "name": eco.name}
    if eco.period != "year":
        top["period"] = eco.period
    top.update({k: _thaw(v) for k, v in eco.extensions.items()})
    doc = RawDocument(top=top, sections={}, source=eco.name)
    for section, spec in SECTIONS.items():
        n = eco.table(section).n
        if n == 0 and section not in replace:
            continue
        cells = table_rows(eco, section) if n else {}
        if section in replace:
            drop, added = replace[section]
            width = len(next(iter(added.values()))) if added else 0
            if section == "actors" and int(drop.sum()) == 1 == width:  # in place: the order stays
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
        # number columns, and the dotted columns of maps of numbers, as the CSV reader types them
        numeric = {f.name for f in spec.fields if f.kind == "number"}
        number_maps = tuple(f"{f.name}." for f in spec.fields if f.kind == "map" and f.map_values == "number")
        columns: dict[str, Any] = {}
        for name, values in cells.items():
            if name in numeric or name.startswith(number_maps):
                try:
                    columns[name] = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
                    continue
                except (TypeError, ValueError):
                    pass
            col = np.empty(len(values), dtype=object)
            col[:] = values
            columns[name] = col
        doc.sections[section] = RawSection(section, columns, n, tabular=True)
    return doc


def edit_actor(
    eco: Ecosystem,
    actor: str,
    *,
    record: Mapping[str, Any] | None = None,
    offers: Sequence[Mapping[str, Any]] | None = None,
    needs: Sequence[Mapping[str, Any]] | None = None,
    flows: Sequence[Mapping[str, Any]] | None = None,
) -> Ecosystem:
    """The ecosystem with ``actor``'s record, offers, needs and flows (those it is a party to)
    replaced by the given ``rainforest/1`` records; a part left ``None`` stays as it is.

    Raises
    ------
    UnknownIdError
        When ``actor`` is not in the ecosystem.
    DocumentError
        With every problem, placed as ``record.sector``, ``offers[1].quantity``...; also when
        a record belongs to another actor or the record changes the actor's id.
    """
    from rainforest.io.tabular import table_rows
    from rainforest.model.validation import build_ecosystem

    eco.actor(actor)  # UnknownIdError with the nearest ids
    problems: list[Issue] = []
    if record is not None and str(record.get("id", actor)) != actor:
        problems.append(
            Issue("record.id", "an edit cannot rename the actor", expected=repr(actor), got=repr(record.get("id")))
        )
    parts = {"offers": offers, "needs": needs, "flows": flows}
    for section, records in parts.items():
        for k, r in enumerate(records or ()):
            if not isinstance(r, Mapping):
                problems.append(Issue(f"{section}[{k}]", "wrong type", expected="a mapping", got=type(r).__name__))
            elif section == "flows" and actor not in (r.get("from"), r.get("to")):
                problems.append(
                    Issue(f"flows[{k}]", f"a flow of {actor!r} has it at one end", expected=f"from or to {actor!r}")
                )
            elif section != "flows" and r.get("actor", actor) != actor:
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
    # the submitted records alone, checked against every id of the ecosystem
    mine = dict(record) if record is not None else entity_to_record("actors", eco.actor(actor))
    mine = {**_thaw(mine), "id": actor}
    mini: dict[str, Any] = {
        "format": FORMAT,
        "name": eco.name,
        "actors": [mine] + [{"id": a} for a in eco.actor_ids if a != actor],
        "resources": [_thaw(entity_to_record("resources", r)) for r in eco.resources],
    }
    for section, records in parts.items():
        if records:
            mini[section] = [{**({} if section == "flows" else {"actor": actor}), **dict(r)} for r in records]
    from rainforest.io.text import raw_from_data

    def place(path: Any) -> Place:
        return Place(file="edit")

    try:
        checked = build_ecosystem(raw_from_data(mini, "edit", place, []))
    except DocumentError as exc:
        issues = [_renamed(i) for i in exc.issues]
        raise DocumentError(issues, source="edit") from None
    replace: dict[str, tuple[Any, dict[str, list[Any]]]] = {}
    if record is not None:
        replace["actors"] = (_owned(eco, "actors", actor), {k: v[:1] for k, v in table_rows(checked, "actors").items()})
    for section, records in parts.items():
        if records is not None:
            added = table_rows(checked, section) if records else {}
            replace[section] = (_owned(eco, section, actor), added)
    if not replace:
        return eco
    edited: Ecosystem = build_ecosystem(raw_document(eco, replace))
    return edited


def _renamed(issue: Issue) -> Issue:
    """Say ``record.sector`` instead of the checking document's ``actors[0].sector``."""
    path = issue.path
    if path.startswith("actors[0]"):
        path = "record" + path[len("actors[0]") :]
    return Issue(path, issue.message, expected=issue.expected, got=issue.got, hint=issue.hint)


def add_actor(eco: Ecosystem, record: Mapping[str, Any]) -> Ecosystem:
    """The ecosystem with one more actor (``record`` as in a ``rainforest/1`` document).

    Raises
    ------
    DocumentError
        When the record is invalid or the id is taken.
    """
    from rainforest.io.tabular import table_rows
    from rainforest.io.text import raw_from_data
    from rainforest.model.validation import build_ecosystem

    if str(record.get("id")) in eco.actor_ids:
        raise DocumentError([Issue("record.id", "the id is taken", got=repr(record.get("id")))], source="edit")
    mini = {"format": FORMAT, "name": eco.name, "actors": [dict(record)]}
    try:
        checked = build_ecosystem(raw_from_data(mini, "edit", lambda path: Place(file="edit"), []))
    except DocumentError as exc:
        raise DocumentError([_renamed(i) for i in exc.issues], source="edit") from None
    drop = np.zeros(eco.table("actors").n, dtype=bool)
    added: Ecosystem = build_ecosystem(raw_document(eco, {"actors": (drop, table_rows(checked, "actors"))}))
    return added
