"""The model's edits behind the workbench's data maintenance (issue 20): an actor removed
with every row it owns, a resource added, replaced and removed. Each result is a valid
document (it reads back from its own ``rainforest/1`` form as the same ecosystem), leaves
every other row as it was, and a refused edit says where and why."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rainforest as rf
from rainforest.errors import DocumentError, UnknownIdError
from rainforest.io.text import raw_from_data
from rainforest.model.ecosystem import build_ecosystem
from rainforest.model.edits import ACTOR_SECTIONS, resource_uses
from rainforest.model.entities import entity_to_record
from rainforest.model.schema import RESOURCE_KINDS, SECTIONS
from rainforest.model.table import thaw
from rainforest.model.validation import Place
from strategies import ecosystems, slugs, texts


def _valid(eco: rf.Ecosystem) -> None:
    """The ecosystem reads back from its own document as itself: a valid document."""
    again = build_ecosystem(raw_from_data(eco.to_dict(), "check", lambda path: Place(file="check"), []))
    assert again == eco, again.differences(eco)


def _records(eco: rf.Ecosystem, section: str) -> list[Any]:
    return [thaw(entity_to_record(section, x)) for x in getattr(eco, section)]  # maps compare without order


def _owns(record: dict[str, Any], section: str, actor: str) -> bool:
    return any(record.get(f) == actor for f in ACTOR_SECTIONS[section])


@settings(max_examples=20)
@given(ecosystems(), st.data())
def test_removing_an_actor_keeps_the_document_valid_and_every_other_row(eco: rf.Ecosystem, data: st.DataObject) -> None:
    actor = data.draw(st.sampled_from(eco.actor_ids))
    named_by_module = any(m.provider == actor or actor in m.adopters for m in eco.modules)
    if len(eco.actors) == 1 or named_by_module:
        with pytest.raises(DocumentError) as caught:
            eco.remove_actor(actor)
        assert caught.value.issues[0].path.startswith(("modules", "actors"))
        return
    smaller = eco.remove_actor(actor)
    _valid(smaller)
    assert actor not in smaller.actor_ids
    for section in ACTOR_SECTIONS:
        kept = [r for r in _records(eco, section) if not _owns(r, section, actor)]
        assert _records(smaller, section) == kept, section  # the others stay, in order
    for section in SECTIONS:
        if section not in ACTOR_SECTIONS:
            assert _records(smaller, section) == _records(eco, section), section


resource_records = st.fixed_dictionaries(
    {"kind": st.sampled_from(RESOURCE_KINDS), "unit": st.sampled_from(["t", "kg", "MWh", "m**3", "1"])},
    optional={
        "name": texts,
        "price": st.floats(0, 1e6),
        "co2e_virgin": st.floats(0, 1e4),
        "transport_cost": st.floats(0, 10),
        "codes": st.just({"ewc": "02 07 04"}),
    },
)


@settings(max_examples=20)
@given(ecosystems(), slugs, resource_records)
def test_adding_then_removing_a_resource_gives_the_ecosystem_back(
    eco: rf.Ecosystem, rid: str, record: dict[str, Any]
) -> None:
    if rid in eco.resource_ids:
        with pytest.raises(DocumentError) as caught:
            eco.add_resource({"id": rid, **record})
        assert caught.value.issues[0].path == "resources[0].id"
        return
    bigger = eco.add_resource({"id": rid, **record})
    _valid(bigger)
    assert bigger.resource_ids == (*eco.resource_ids, rid)
    assert bigger.resource(rid).name == record.get("name")
    assert resource_uses(bigger, rid) == {}
    assert bigger.remove_resource(rid) == eco


@settings(max_examples=20)
@given(ecosystems(), st.data(), resource_records)
def test_replacing_a_resource_changes_its_record_only(
    eco: rf.Ecosystem, data: st.DataObject, record: dict[str, Any]
) -> None:
    if not eco.resources:
        return
    rid = data.draw(st.sampled_from(eco.resource_ids))
    own = thaw(entity_to_record("resources", eco.resource(rid)))
    assert eco.replace_resource(rid, own) == eco  # its own record: nothing changes
    old = eco.resource(rid)
    new = {**record, "kind": old.kind, "unit": old.unit}  # the same unit: the quantities keep their meaning
    if old.substitutes:
        new["substitutes"] = list(old.substitutes)
    changed = eco.replace_resource(rid, new)
    _valid(changed)
    assert changed.resource_ids == eco.resource_ids  # in place
    assert changed.resource(rid).price == record.get("price")
    for section in SECTIONS:
        if section != "resources":
            assert _records(changed, section) == _records(eco, section), section


@settings(max_examples=20)
@given(ecosystems(), st.data())
def test_a_resource_in_use_is_not_removed_and_the_problem_says_where(eco: rf.Ecosystem, data: st.DataObject) -> None:
    if not eco.resources:
        return
    rid = data.draw(st.sampled_from(eco.resource_ids))
    uses = resource_uses(eco, rid)
    if not uses:
        assert rid not in eco.remove_resource(rid).resource_ids
        return
    with pytest.raises(DocumentError) as caught:
        eco.remove_resource(rid)
    problem = caught.value.issues[0]
    assert problem.message == f"the resource {rid!r} is in use"
    for section, n in uses.items():
        assert f"{n} {SECTIONS[section].singular if n == 1 else section}" in (problem.got or "")


def test_unknown_ids_and_renames_are_refused() -> None:
    eco = rf.datasets.kalundborg()
    with pytest.raises(UnknownIdError, match="fish_farm"):
        eco.remove_actor("fish_farms")
    with pytest.raises(UnknownIdError, match="fly_ash"):
        eco.remove_resource("fly_ashes")
    with pytest.raises(DocumentError, match="cannot rename"):
        eco.replace_resource("fly_ash", {"id": "ash", "kind": "material", "unit": "t"})
    with pytest.raises(DocumentError) as caught:
        eco.add_resource({"id": "bark", "kind": "wood", "unit": "t"})
    assert caught.value.issues[0].path == "resources[0].kind"
    with pytest.raises(DocumentError) as caught:
        eco.add_resource({"id": "bark", "kind": "material", "unit": "furlongs of nothing"})
    assert caught.value.issues[0].path == "resources[0].unit"


def test_the_last_actor_stays() -> None:
    eco = rf.Ecosystem("one", actors=[rf.Actor("solo")])
    with pytest.raises(DocumentError, match="at least one actor"):
        eco.remove_actor("solo")


def test_a_module_names_the_actor() -> None:
    eco = rf.Ecosystem(
        "platform",
        actors=[rf.Actor("hub"), rf.Actor("user")],
        modules=[rf.Module("logistics", provider="hub", adopters=("user",))],
    )
    with pytest.raises(DocumentError, match="'user' adopts the module 'logistics'"):
        eco.remove_actor("user")


def test_resource_names_read_back_from_every_form(tmp_path: Any) -> None:
    eco = rf.datasets.kalundborg().add_resource(
        {"id": "bark", "name": "Bark and wood chips", "kind": "material", "unit": "t"}
    )
    for name in ("d.yaml", "d.json", "d.xlsx", "d"):
        again = rf.load(rf.save(eco, tmp_path / name))
        assert again.resource("bark").name == "Bark and wood chips", name
