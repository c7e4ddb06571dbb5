"""Entities are deeply immutable and hashable however they are built (plain dicts and
lists given to a constructor are frozen on construction)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given

import rainforest as rf
from rainforest.model import FrozenMap
from rainforest.model.entities import ENTITY_TYPES
from strategies import ecosystems

MAP_FIELDS = {"quality", "max_quality", "codes", "extensions"}
LIST_FIELDS = {"capabilities", "substitutes", "resources", "adopters"}


def thawed(value: Any) -> Any:
    """Plain dicts and lists, as a user would write them."""
    if isinstance(value, FrozenMap):
        return {k: thawed(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thawed(v) for v in value]
    return value


def deeply_frozen(value: Any) -> bool:
    if isinstance(value, FrozenMap):
        return all(deeply_frozen(v) for v in value.values())
    if isinstance(value, tuple):
        return all(deeply_frozen(v) for v in value)
    if isinstance(value, dict | list | set | bytearray):
        return False
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        params = getattr(value, "__dataclass_params__", None)
        return bool(params and params.frozen) and all(
            deeply_frozen(getattr(value, f.name)) for f in dataclasses.fields(value)
        )
    return True


@given(eco=ecosystems())
def test_every_entity_is_deeply_immutable_and_hashable(eco: rf.Ecosystem) -> None:
    for section in ENTITY_TYPES:
        for entity in getattr(eco, section):
            assert deeply_frozen(entity), entity
            assert hash(entity) == hash(entity)
            plain = {
                f.name: thawed(getattr(entity, f.name))
                for f in dataclasses.fields(entity)
                if f.name in MAP_FIELDS | LIST_FIELDS
            }
            rebuilt = dataclasses.replace(entity, **plain)  # through the constructor, with dicts and lists
            assert deeply_frozen(rebuilt), rebuilt
            assert rebuilt == entity
            assert hash(rebuilt) == hash(entity)
            name = dataclasses.fields(entity)[0].name
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(rebuilt, name, None)


def test_a_plain_dict_quality_becomes_a_frozen_map() -> None:
    offer = rf.Offer("mill", "ash", 3.0, quality={"ppm": 40, "grades": ["a", {"b": [1]}]})
    assert isinstance(offer.quality, FrozenMap)
    assert offer.quality == {"ppm": 40, "grades": ["a", {"b": [1]}]}
    assert isinstance(offer.quality["grades"], tuple)
    assert isinstance(offer.quality["grades"][1], FrozenMap)
    assert offer in {offer}
    assert hash(offer) == hash(rf.Offer("mill", "ash", 3.0, quality=FrozenMap(offer.quality)))
    with pytest.raises(TypeError, match="does not support item assignment"):
        offer.quality["ppm"] = 1  # type: ignore[index]
    need = rf.Need("kiln", 2.0, resources=["ash", "slag"], max_quality={"ppm": 50})  # type: ignore[arg-type]  # a list for a tuple field
    assert need.resources == ("ash", "slag")
    assert isinstance(need.max_quality, FrozenMap)
    actor = rf.Actor("mill", extensions={"x_note": {"since": 1990}})
    assert isinstance(actor.extensions["x_note"], FrozenMap)
    assert hash(actor) == hash(rf.Actor("mill", extensions=FrozenMap({"x_note": FrozenMap({"since": 1990})})))


def test_a_wrong_container_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match=r"Offer.quality must be a mapping .* got int 5"):
        rf.Offer("mill", "ash", 3.0, quality=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Resource.substitutes must be a list of ids, got str 'coal'.*\['coal'\]"):
        rf.Resource("ash", "material", "t", substitutes="coal")  # type: ignore[arg-type]
