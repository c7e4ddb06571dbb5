"""The entities of an ecosystem document: frozen value objects, one per list entry.

Attribute names follow the document (docs/format.md), except where a field name is a Python keyword:
a flow's or link's ``from``/``to`` are ``source``/``target`` here, and an essentiality
entry's ``class`` is ``input_class``.

Quantities on an entity read from a loaded ecosystem are in the resource's declared unit
(``unit`` is then ``None``); an entity you build may carry a ``unit`` and is converted
when the :class:`~rainforest.model.Ecosystem` is made.

Every entity is deeply immutable and hashable however it is built: a mapping field
(``quality``, ``max_quality``, ``codes``, ``extensions``) takes any mapping, a plain dict
included, and keeps it as a :class:`~rainforest.model.FrozenMap` (nested dicts and lists
frozen too); a list field (``capabilities``, ``substitutes``, ``resources``,
``adopters``) takes a list and keeps a tuple.

>>> offer = Offer("mill", "ash", 3.0, quality={"ppm": 40})
>>> offer.quality, offer in {offer}
(FrozenMap({'ppm': 40}), True)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from rainforest.model.schema import SECTIONS, SectionSpec
from rainforest.model.table import MISSING, FrozenMap, Table, freeze

__all__ = [
    "Actor",
    "Capability",
    "Essentiality",
    "Flow",
    "Link",
    "Location",
    "Module",
    "Need",
    "Offer",
    "Resource",
    "Size",
    "Stock",
    "Virgin",
]


def _empty() -> FrozenMap:
    return FrozenMap()


def _settle(entity: Any, maps: tuple[str, ...] = (), lists: tuple[str, ...] = ()) -> None:
    """Make an entity deeply immutable as it is built: a plain dict given for a mapping
    field (``quality``, ``extensions``...) becomes a :class:`FrozenMap` (nested dicts and
    lists frozen too), a list given for a list field becomes a tuple."""
    cls = type(entity).__name__
    for name in (*maps, "extensions"):
        value = getattr(entity, name)
        if type(value) is FrozenMap:
            continue
        if not isinstance(value, Mapping):
            raise TypeError(
                f"{cls}.{name} must be a mapping (a dict of property -> value), got {type(value).__name__} "
                f"{value!r}. Pass {{}} or leave it out for none."
            )
        object.__setattr__(entity, name, freeze(value))
    for name in lists:
        value = getattr(entity, name)
        if type(value) is tuple:
            continue
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
            raise TypeError(
                f"{cls}.{name} must be a list of ids, got {type(value).__name__} {value!r}. "
                f"Write {name}=[{value!r}] for one."
            )
        object.__setattr__(entity, name, tuple(freeze(list(value))))


@dataclass(frozen=True, slots=True)
class Location:
    """Where an actor is, in degrees."""

    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class Size:
    """An actor's size: money per period, head count, capacity."""

    revenue: float | None = None
    costs: float | None = None
    employees: float | None = None
    capacity: float | None = None


@dataclass(frozen=True, slots=True)
class Capability:
    """Something an actor can do; ``core=False`` marks a non-core activity."""

    name: str
    core: bool = True


@dataclass(frozen=True, slots=True)
class Actor:
    """A member of the ecosystem (a firm, a utility, a platform, a household sector)."""

    id: str
    name: str | None = None
    sector: str | None = None
    stratum: str | None = None
    stage: str | None = None
    location: Location | None = None
    size: Size | None = None
    capabilities: tuple[Capability, ...] = ()
    living: bool | None = None
    region: str | None = None
    extensions: Mapping[str, Any] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        _settle(self, (), ("capabilities",))


@dataclass(frozen=True, slots=True)
class Resource:
    """A material, energy carrier, water, service, money or data stream."""

    id: str
    kind: str
    unit: str
    price: float | None = None
    co2e_virgin: float | None = None
    co2e_disposal: float | None = None
    transport_cost: float | None = None
    substitutes: tuple[str, ...] = ()
    codes: Mapping[str, Any] = field(default_factory=_empty)
    name: str | None = None
    extensions: Mapping[str, Any] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        _settle(self, ("codes",), ("substitutes",))


@dataclass(frozen=True, slots=True)
class Flow:
    """A realised exchange from ``source`` to ``target`` (``world``/``environment`` at the edge).

    ``quantified=False`` marks a documented exchange whose quantity is not known: its
    ``quantity`` is then ``None``; it counts in the network's structure and every
    quantitative analysis skips it (and says how many it skipped).
    """

    source: str
    target: str
    resource: str
    quantity: float | None = None
    unit: str | None = None
    kind: str | None = None
    input_class: str | None = None
    status: str = "active"
    uncertainty: float | None = None
    quantified: bool = True
    extensions: Mapping[str, Any] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        _settle(self)


@dataclass(frozen=True, slots=True)
class Offer:
    """An output available for new exchanges (by-product, waste, spare capacity)."""

    actor: str
    resource: str
    quantity: float
    unit: str | None = None
    quality: Mapping[str, Any] = field(default_factory=_empty)
    disposal_cost: float | None = None
    supply_pattern: str = "continuous"
    confidential: bool = True
    extensions: Mapping[str, Any] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        _settle(self, ("quality",))


@dataclass(frozen=True, slots=True)
class Need:
    """An input that new exchanges could supply; ``resource`` or ``resources``."""

    actor: str
    quantity: float
    resource: str | None = None
    resources: tuple[str, ...] = ()
    unit: str | None = None
    max_quality: Mapping[str, Any] = field(default_factory=_empty)
    price: float | None = None
    supply_pattern: str = "continuous"
    confidential: bool = True
    extensions: Mapping[str, Any] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        _settle(self, ("max_quality",), ("resources",))

    @property
    def accepted(self) -> tuple[str, ...]:
        """Every resource that can meet this need."""
        return (self.resource,) if self.resource is not None else self.resources


@dataclass(frozen=True, slots=True)
class Module:
    """A reusable value module a platform actor offers to others."""

    id: str
    provider: str
    name: str | None = None
    kind: str | None = None
    adopters: tuple[str, ...] = ()
    value_per_adopter: float | None = None
    switching_cost: float | None = None
    capacity_share: float | None = None
    extensions: Mapping[str, Any] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        _settle(self, (), ("adopters",))


@dataclass(frozen=True, slots=True)
class Stock:
    """What an actor holds; ``change`` is the net addition during the period."""

    actor: str
    resource: str
    quantity: float | None = None
    change: float | None = None
    unit: str | None = None
    extensions: Mapping[str, Any] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        _settle(self)


@dataclass(frozen=True, slots=True)
class Essentiality:
    """How much a customer sector's production depends on a supplier sector."""

    supplier_sector: str
    customer_sector: str
    input_class: str
    extensions: Mapping[str, Any] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        _settle(self)


@dataclass(frozen=True, slots=True)
class Virgin:
    """Outside supply of a resource that makes up what by-products cannot."""

    resource: str
    quality: Mapping[str, Any] = field(default_factory=_empty)
    price: float | None = None
    available: float | None = None
    unit: str | None = None
    extensions: Mapping[str, Any] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        _settle(self, ("quality",))


@dataclass(frozen=True, slots=True)
class Link:
    """An exchange that needs an investment (pipe, line, treatment step)."""

    source: str
    target: str
    resource: str
    fixed_cost: float | None = None
    capacity: float | None = None
    unit: str | None = None
    extensions: Mapping[str, Any] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        _settle(self)


ENTITY_TYPES: dict[str, type[Any]] = {
    "actors": Actor,
    "resources": Resource,
    "flows": Flow,
    "offers": Offer,
    "needs": Need,
    "modules": Module,
    "stocks": Stock,
    "essentiality": Essentiality,
    "virgin": Virgin,
    "links": Link,
}

# document field -> attribute, where they differ
ATTRIBUTE = {"from": "source", "to": "target", "class": "input_class"}
_NESTED: dict[str, type[Any]] = {"location": Location, "size": Size}


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def entity_from_row(section: str, table: Table, i: int) -> Any:
    """Build the entity of row ``i`` of a section's table."""
    spec = SECTIONS[section]
    kwargs: dict[str, Any] = {}
    for root in spec.roots:
        subs = spec.sub_fields(root)
        if subs:
            parts = {f.name.split(".", 1)[1]: _plain(table[f.name][i].item()) for f in subs}
            if any(v is not None for v in parts.values()):
                kwargs[root] = _NESTED[root](**parts)
            continue
        col = table.get(root)
        if col is None:
            continue
        value = col[i]
        value = _plain(value.item() if hasattr(value, "item") else value)
        if value is None:
            continue
        kwargs[ATTRIBUTE.get(root, root)] = value
    ext = {name: table[name][i] for name in table.names if name.startswith("x_")}
    ext = {k: v for k, v in ext.items() if v is not MISSING}
    if ext:
        kwargs["extensions"] = FrozenMap(ext)
    return ENTITY_TYPES[section](**kwargs)


def _record_value(value: Any) -> Any:
    if isinstance(value, FrozenMap):
        return {k: _record_value(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {k: _record_value(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_record_value(v) for v in value]
    if isinstance(value, Capability):
        return {"name": value.name, "core": value.core}
    return value


def entity_to_record(section: str, entity: Any) -> dict[str, Any]:
    """The document mapping of an entity (absent values and empty lists left out)."""
    spec: SectionSpec = SECTIONS[section]
    out: dict[str, Any] = {}
    for root in spec.roots:
        value = getattr(entity, ATTRIBUTE.get(root, root), None)
        if root in _NESTED:
            if value is not None:
                nested = {f.name: getattr(value, f.name) for f in fields(value)}
                nested = {k: v for k, v in nested.items() if v is not None}
                if nested:
                    out[root] = nested
            continue
        if value is None or value == () or (isinstance(value, FrozenMap) and not value):
            continue
        out[root] = _record_value(value)
    for key, value in entity.extensions.items():
        out[key] = _record_value(value)
    return out
