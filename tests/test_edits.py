"""Edits as model operations: :meth:`Ecosystem.replace_rows` and :meth:`Ecosystem.add_actor`.

The properties compare them with the path the workbench took before they existed (the
store's own code re-reading the ecosystem through the CSV cells and validating it again),
kept here as the reference: the same ecosystem, or the same problems.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rainforest as rf
from rainforest.errors import DocumentError, Issue, UnknownIdError
from rainforest.io.tabular import table_rows
from rainforest.io.text import raw_from_data
from rainforest.model.ecosystem import build_ecosystem
from rainforest.model.edits import ACTOR_SECTIONS, section_cells
from rainforest.model.entities import entity_to_record
from rainforest.model.schema import FORMAT, SECTIONS, STRATA
from rainforest.model.table import thaw
from rainforest.model.validation import Place, RawDocument, RawSection
from rainforest.web.edits import add_actor, edit_actor
from strategies import ecosystems, maybe, quantities, texts

# -- the reference: the store's edit before the model had one ------------------------------


def _old_owned(eco: rf.Ecosystem, section: str, actor: str) -> np.ndarray[Any, np.dtype[np.bool_]]:
    table = eco.table(section)
    if section == "actors":
        return np.array([v == actor for v in table.texts("id")], dtype=bool)
    if section == "flows":
        return np.array(
            [actor in (a, b) for a, b in zip(table.texts("from"), table.texts("to"), strict=True)], dtype=bool
        )
    return np.array([v == actor for v in table.texts("actor")], dtype=bool)


def _old_raw_document(
    eco: rf.Ecosystem, replace: Mapping[str, tuple[np.ndarray[Any, Any], dict[str, list[Any]]]]
) -> RawDocument:
    top: dict[str, Any] = {"format": FORMAT, "name": eco.name}
    if eco.period != "year":
        top["period"] = eco.period
    top.update({k: thaw(v) for k, v in eco.extensions.items()})
    doc = RawDocument(top=top, sections={}, source=eco.name)
    for section, spec in SECTIONS.items():
        n = eco.table(section).n
        if n == 0 and section not in replace:
            continue
        cells = table_rows(eco, section) if n else {}
        if section in replace:
            drop, added = replace[section]
            width = len(next(iter(added.values()))) if added else 0
            if section == "actors" and int(drop.sum()) == 1 == width:
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


def _old_renamed(issue: Issue) -> Issue:
    path = issue.path
    if path.startswith("actors[0]"):
        path = "record" + path[len("actors[0]") :]
    return Issue(path, issue.message, expected=issue.expected, got=issue.got, hint=issue.hint)


def _old_edit_actor(
    eco: rf.Ecosystem,
    actor: str,
    *,
    record: Mapping[str, Any] | None = None,
    offers: Sequence[Mapping[str, Any]] | None = None,
    needs: Sequence[Mapping[str, Any]] | None = None,
    flows: Sequence[Mapping[str, Any]] | None = None,
) -> rf.Ecosystem:
    eco.actor(actor)
    problems: list[Issue] = []
    if record is not None and str(record.get("id", actor)) != actor:
        problems.append(
            Issue("record.id", "an edit cannot rename the actor", expected=repr(actor), got=repr(record.get("id")))
        )
    parts = {"offers": offers, "needs": needs, "flows": flows}
    for section, records in parts.items():
        for k, r in enumerate(records or ()):
            if section == "flows" and actor not in (r.get("from"), r.get("to")):
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
    mine = dict(record) if record is not None else entity_to_record("actors", eco.actor(actor))
    mine = {**thaw(mine), "id": actor}
    mini: dict[str, Any] = {
        "format": FORMAT,
        "name": eco.name,
        "actors": [mine] + [{"id": a} for a in eco.actor_ids if a != actor],
        "resources": [thaw(entity_to_record("resources", r)) for r in eco.resources],
    }
    for section, records in parts.items():
        if records:
            mini[section] = [{**({} if section == "flows" else {"actor": actor}), **dict(r)} for r in records]
    try:
        checked = build_ecosystem(raw_from_data(mini, "edit", lambda path: Place(file="edit"), []))
    except DocumentError as exc:
        raise DocumentError([_old_renamed(i) for i in exc.issues], source="edit") from None
    replace: dict[str, tuple[Any, dict[str, list[Any]]]] = {}
    if record is not None:
        replace["actors"] = (
            _old_owned(eco, "actors", actor),
            {k: v[:1] for k, v in table_rows(checked, "actors").items()},
        )
    for section, records in parts.items():
        if records is not None:
            added = table_rows(checked, section) if records else {}
            replace[section] = (_old_owned(eco, section, actor), added)
    if not replace:
        return eco
    return build_ecosystem(_old_raw_document(eco, replace))


def _old_add_actor(eco: rf.Ecosystem, record: Mapping[str, Any]) -> rf.Ecosystem:
    if str(record.get("id")) in eco.actor_ids:
        raise DocumentError([Issue("record.id", "the id is taken", got=repr(record.get("id")))], source="edit")
    mini = {"format": FORMAT, "name": eco.name, "actors": [dict(record)]}
    try:
        checked = build_ecosystem(raw_from_data(mini, "edit", lambda path: Place(file="edit"), []))
    except DocumentError as exc:
        raise DocumentError([_old_renamed(i) for i in exc.issues], source="edit") from None
    drop = np.zeros(eco.table("actors").n, dtype=bool)
    return build_ecosystem(_old_raw_document(eco, {"actors": (drop, table_rows(checked, "actors"))}))


def _outcome(call: Any) -> tuple[str, Any]:
    """An edit's result, or its problems as text, so that two paths can be compared."""
    try:
        return "ok", call()
    except DocumentError as exc:
        return "problems", [str(i) for i in exc.issues]


# -- strategies: an ecosystem, one of its actors and what a member might submit -----------


@st.composite
def edits(draw: st.DrawFn) -> tuple[rf.Ecosystem, str, dict[str, Any]]:
    eco = draw(ecosystems())
    actor = draw(st.sampled_from(eco.actor_ids))
    resources = st.sampled_from([*eco.resource_ids, "no-such-resource"])
    amount = st.one_of(quantities, st.just(-1.0), st.just("lots"))
    parts: dict[str, Any] = {}
    if draw(st.booleans()):
        parts["record"] = {
            k: v
            for k, v in {
                "id": draw(st.sampled_from([None, actor, "someone-else"])),
                "name": draw(maybe(texts)),
                "sector": draw(maybe(texts)),
                "stratum": draw(maybe(st.sampled_from([*STRATA, "treetop"]))),
                "size": draw(maybe(st.fixed_dictionaries({"employees": amount}))),
                "x_note": draw(maybe(texts)),
            }.items()
            if v is not None
        }
    if draw(st.booleans()):
        parts["offers"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"resource": resources, "quantity": amount},
                    optional={"actor": st.sampled_from([actor, eco.actor_ids[0]]), "confidential": st.booleans()},
                ),
                max_size=3,
            )
        )
    if draw(st.booleans()):
        parts["needs"] = draw(st.lists(st.fixed_dictionaries({"resource": resources, "quantity": amount}), max_size=2))
    if draw(st.booleans()):
        ends = st.sampled_from([*eco.actor_ids, "world", "environment", "nobody"])
        flows = []
        for _ in range(draw(st.integers(0, 3))):
            other = draw(ends)
            outward = draw(st.booleans())
            at_one_end = draw(st.integers(0, 9)) > 0
            mine = actor if at_one_end else draw(ends)
            flows.append(
                {
                    "from": mine if outward else other,
                    "to": other if outward else mine,
                    "resource": draw(resources),
                    "quantity": draw(amount),
                }
            )
        parts["flows"] = flows
    return eco, actor, parts


# -- properties -------------------------------------------------------------------------


@given(edits())
def test_replace_rows_gives_what_the_old_edit_gave(case: tuple[rf.Ecosystem, str, dict[str, Any]]) -> None:
    eco, actor, parts = case
    old = _outcome(lambda: _old_edit_actor(eco, actor, **parts))
    new = _outcome(lambda: edit_actor(eco, actor, **parts))
    assert new[0] == old[0], (old, new)
    if old[0] == "ok":
        assert new[1] == old[1], new[1].differences(old[1])
        assert new[1].content_hash() == old[1].content_hash()
    else:
        assert new[1] == old[1]


@given(ecosystems(), st.data())
def test_add_actor_gives_what_the_old_path_gave(eco: rf.Ecosystem, data: st.DataObject) -> None:
    record = data.draw(
        st.fixed_dictionaries(
            {"id": st.sampled_from([*eco.actor_ids, "newcomer", "Not A Slug"])},
            optional={"sector": texts, "stratum": st.sampled_from([*STRATA, "treetop"])},
        )
    )
    old = _outcome(lambda: _old_add_actor(eco, record))
    new = _outcome(lambda: add_actor(eco, record))
    assert new[0] == old[0]
    assert new[1] == old[1]


@given(ecosystems(), st.data())
def test_replacing_an_actors_rows_by_themselves_keeps_every_row(eco: rf.Ecosystem, data: st.DataObject) -> None:
    """Each section keeps its rows (the actor's moved to the end), and the actor's record its place."""
    actor = data.draw(st.sampled_from(eco.actor_ids))
    rows = eco.actor_rows(actor)
    for section in ACTOR_SECTIONS:
        mine = [i for i, m in enumerate(_owned_mask(eco, section, actor)) if m]
        items = getattr(eco, section)
        assert rows[section] == [thaw(entity_to_record(section, items[i])) for i in mine]
    edited = eco.replace_rows(actor, rows)
    assert edited.actor_ids == eco.actor_ids
    assert edited.actor(actor) == eco.actor(actor)
    for section in SECTIONS:
        left = list(getattr(edited, section))
        for item in getattr(eco, section):  # the same rows, whatever their order
            left.remove(item)
        assert left == [], section


def _owned_mask(eco: rf.Ecosystem, section: str, actor: str) -> list[bool]:
    from rainforest.model.edits import owned_rows

    return [bool(m) for m in owned_rows(eco.table(section), section, actor)]


@given(ecosystems())
def test_section_cells_read_back_as_the_same_columns(eco: rf.Ecosystem) -> None:
    """The cells are the CSV form's: io.tabular.table_rows gives them."""
    for section in SECTIONS:
        assert section_cells(eco.table(section), section) == table_rows(eco, section)


# -- errors -----------------------------------------------------------------------------


def test_an_unknown_actor_names_the_nearest() -> None:
    eco = rf.datasets.kalundborg()
    with pytest.raises(UnknownIdError, match=r"unknown actor 'asnes'\. Did you mean 'asnaes'"):
        eco.replace_rows("asnes", {"offers": []})
    with pytest.raises(UnknownIdError, match=r"unknown actor 'asnes'\. Did you mean 'asnaes'"):
        eco.actor_rows("asnes")


def test_an_unknown_section_names_the_nearest() -> None:
    eco = rf.datasets.kalundborg()
    with pytest.raises(UnknownIdError, match=r"unknown section 'offer'\. Did you mean 'offers'"):
        eco.replace_rows("asnaes", {"offer": []})


def test_a_section_of_the_whole_ecosystem_is_refused() -> None:
    eco = rf.datasets.kalundborg()
    with pytest.raises(ValueError, match="Got 'resources' instead: resources belong to the whole ecosystem"):
        eco.replace_rows("asnaes", {"resources": []})


def test_an_actor_keeps_one_record_and_its_id() -> None:
    eco = rf.datasets.kalundborg()
    with pytest.raises(DocumentError, match="an actor's edit keeps its one record") as info:
        eco.replace_rows("asnaes", {"actors": [{"id": "asnaes"}, {"id": "another"}]})
    assert [i.path for i in info.value.issues] == ["actors", "actors[1].id"]
    with pytest.raises(DocumentError, match="an edit cannot rename the actor") as info:
        eco.replace_rows("asnaes", {"actors": [{"id": "asnaes2"}]})
    assert [i.path for i in info.value.issues] == ["actors[0].id"]
    with pytest.raises(DocumentError) as info:
        edit_actor(eco, "asnaes", record={"id": "asnaes2"})
    assert [i.path for i in info.value.issues] == ["record.id"]


def test_rows_of_another_actor_and_every_problem_at_once() -> None:
    eco = rf.datasets.kalundborg()
    with pytest.raises(DocumentError) as info:
        eco.replace_rows(
            "asnaes",
            {
                "offers": [{"actor": "gyproc", "resource": "fly_ash", "quantity": 1}],
                "links": [{"from": "gyproc", "to": "kemira", "resource": "fly_ash"}],
                "stocks": [{"resource": "fly_ash", "quantity": 2}, "not a record"],
            },
        )
    assert sorted(i.path for i in info.value.issues) == ["links[0]", "offers[0].actor", "stocks[1]"]
    with pytest.raises(DocumentError) as info:
        eco.replace_rows("asnaes", {"offers": [{"resource": "fly_ashes", "quantity": -1}]})
    paths = sorted(i.path for i in info.value.issues)
    assert paths == ["offers[0].quantity", "offers[0].resource"], paths
    assert "Did you mean 'fly_ash'" in str(info.value)


def test_stocks_and_links_are_an_actors_rows_too() -> None:
    eco = rf.datasets.kalundborg()
    edited = eco.replace_rows(
        "asnaes",
        {
            "stocks": [{"resource": "fly_ash", "quantity": 2, "unit": "kt"}],
            "links": [{"from": "asnaes", "to": "gyproc", "resource": "fly_ash", "capacity": 3}],
        },
    )
    assert [(s.actor, s.quantity) for s in edited.stocks] == [("asnaes", 2000.0)]
    assert [(k.source, k.target, k.capacity) for k in edited.links] == [("asnaes", "gyproc", 3.0)]
    assert edited.replace_rows("asnaes", {"stocks": [], "links": []}) == eco
    assert eco.replace_rows("asnaes", {}) is eco


def test_add_actor_refuses_a_taken_id() -> None:
    eco = rf.datasets.kalundborg()
    with pytest.raises(DocumentError, match="the id is taken") as info:
        eco.add_actor({"id": "asnaes"})
    assert [i.path for i in info.value.issues] == ["actors[0].id"]
    with pytest.raises(DocumentError) as info:
        add_actor(eco, {"id": "asnaes"})
    assert [i.path for i in info.value.issues] == ["record.id"]
