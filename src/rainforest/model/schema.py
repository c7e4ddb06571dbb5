"""The ecosystem document, version 1, as data.

Every section of the ecosystem document (docs/format.md) is a :class:`SectionSpec` with its fields;
the validator, the readers and writers of every form and the JSON Schema all read these
tables, so a field is declared exactly once.

Fields the project adds to the spec (allowed: "the project may add fields") are marked
``added=True`` and documented in ``docs/format.md``: ``actors[].living`` (for ecological
network models), ``actors[].region`` (multi-regional input-output), ``unit`` on offers,
needs, stocks, virgin and links (converted on load like a flow's), ``flows[].uncertainty``
(for data reconciliation), ``flows[].quantified`` (``false`` marks a documented exchange
whose quantity is unknown: it has no ``quantity``, counts in the network's structure and
is skipped, with a count, by every quantitative analysis), and ``x_*`` extensions
everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "BOUNDARY",
    "ENVIRONMENT",
    "FORMAT",
    "SECTIONS",
    "TOP_LEVEL",
    "WORLD",
    "FieldSpec",
    "SectionSpec",
    "json_schema",
    "section",
]

FORMAT = "rainforest/1"
SUPPORTED_FORMATS = (FORMAT,)
WORLD = "world"
ENVIRONMENT = "environment"
BOUNDARY = (WORLD, ENVIRONMENT)
SLUG_PATTERN = r"^[a-z0-9_-]+$"
PERIODS = ("year", "month", "day")

FieldKind = Literal["slug", "text", "enum", "number", "bool", "ref", "refs", "unit", "map", "capabilities"]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a section.

    ``name`` is the document's name, dotted for fixed sub-fields (``location.lat``).
    ``kind`` decides the check; ``ref`` names the section a reference points into
    (``boundary`` allows ``world``/``environment``); ``minimum``/``maximum`` bound numbers;
    ``quantity`` marks numbers converted with the row's ``unit`` to the resource's unit.
    """

    name: str
    kind: FieldKind
    required: bool = False
    description: str = ""
    choices: tuple[str, ...] = ()
    ref: str | None = None
    boundary: bool = False
    minimum: float | None = None
    maximum: float | None = None
    map_values: Literal["number", "text"] = "number"
    default: Any = None
    quantity: bool = False
    added: bool = False

    @property
    def root(self) -> str:
        """The top name of a dotted field (``location`` for ``location.lat``)."""
        return self.name.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class SectionSpec:
    """A list section of the document (``actors``, ``flows``, ...)."""

    name: str
    fields: tuple[FieldSpec, ...]
    key: str | None = None
    description: str = ""
    singular: str = ""
    by_name: dict[str, FieldSpec] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.by_name.update({f.name: f for f in self.fields})

    @property
    def roots(self) -> tuple[str, ...]:
        """Top-level field names in document order (``location`` once)."""
        seen: dict[str, None] = {}
        for f in self.fields:
            seen.setdefault(f.root, None)
        return tuple(seen)

    def sub_fields(self, root: str) -> tuple[FieldSpec, ...]:
        """The dotted fields under ``root`` (``location.lat``, ``location.lon``)."""
        return tuple(f for f in self.fields if f.root == root and "." in f.name)


def _num(name: str, description: str, **kw: Any) -> FieldSpec:
    return FieldSpec(name, "number", description=description, **kw)


STRATA = ("canopy", "understory", "shrub", "moss")
STAGES = ("startup", "growth", "mature", "decline")
RESOURCE_KINDS = ("material", "energy", "water", "service", "money", "data")
FLOW_KINDS = ("product", "by-product", "waste", "utility", "service", "payment")
INPUT_CLASSES = ("essential", "non-essential", "negligible")
STATUSES = ("proposed", "negotiating", "active", "ended")
SUPPLY_PATTERNS = ("continuous", "seasonal", "one-off")
MODULE_KINDS = ("traffic", "brand", "technology", "data", "finance", "logistics")

_ACTORS = SectionSpec(
    "actors",
    key="id",
    singular="actor",
    description="the species of the rainforest",
    fields=(
        FieldSpec("id", "slug", required=True, description="unique id; 'world' and 'environment' are reserved"),
        FieldSpec("name", "text", description="display name"),
        FieldSpec("sector", "text", description="free text or a NACE rev.2 / ISIC code"),
        FieldSpec("stratum", "enum", choices=STRATA, description="value level"),
        FieldSpec("stage", "enum", choices=STAGES, description="life-cycle stage"),
        _num("location.lat", "latitude in degrees", minimum=-90.0, maximum=90.0),
        _num("location.lon", "longitude in degrees", minimum=-180.0, maximum=180.0),
        _num("size.revenue", "total sales incl. outside the ecosystem, money per period", minimum=0.0),
        _num("size.costs", "total input costs, money per period", minimum=0.0),
        _num("size.employees", "head count", minimum=0.0),
        _num("size.capacity", "production capacity", minimum=0.0),
        FieldSpec("capabilities", "capabilities", description="list of {name, core}"),
        FieldSpec("living", "bool", added=True, description="living compartment (ecological network models)"),
        FieldSpec("region", "text", added=True, description="region of a multi-regional ecosystem (country, province)"),
    ),
)

_RESOURCES = SectionSpec(
    "resources",
    key="id",
    singular="resource",
    fields=(
        FieldSpec("id", "slug", required=True),
        FieldSpec("kind", "enum", required=True, choices=RESOURCE_KINDS),
        FieldSpec("unit", "unit", required=True, description="unit text understood by pint"),
        _num("price", "money per unit of the virgin/purchased equivalent"),
        _num("co2e_virgin", "kg CO2e per unit, producing the virgin equivalent"),
        _num("co2e_disposal", "kg CO2e per unit, disposing of it"),
        _num("transport_cost", "money per unit per km", minimum=0.0),
        FieldSpec("substitutes", "refs", ref="resources", description="resources this one can replace"),
        FieldSpec("codes", "map", map_values="text", description="taxonomy codes, e.g. {ewc: '10 01 05'}"),
    ),
)

_FLOWS = SectionSpec(
    "flows",
    singular="flow",
    description="realised exchanges",
    fields=(
        FieldSpec("from", "ref", required=True, ref="actors", boundary=True),
        FieldSpec("to", "ref", required=True, ref="actors", boundary=True),
        FieldSpec("resource", "ref", required=True, ref="resources"),
        _num(
            "quantity",
            "per period, in the resource's unit after conversion; absent only when 'quantified' is false",
            required=True,
            minimum=0.0,
            quantity=True,
        ),
        FieldSpec(
            "quantified",
            "bool",
            default=True,
            added=True,
            description="false: a documented exchange whose quantity is not known (no 'quantity' then)",
        ),
        FieldSpec("unit", "unit", description="must convert to the resource's unit"),
        FieldSpec("kind", "enum", choices=FLOW_KINDS),
        FieldSpec("input_class", "enum", choices=INPUT_CLASSES),
        FieldSpec("status", "enum", choices=STATUSES, default="active"),
        _num(
            "uncertainty",
            "standard deviation of the quantity (same unit); absent = exact, for data reconciliation",
            minimum=0.0,
            quantity=True,
            added=True,
        ),
    ),
)

_OFFERS = SectionSpec(
    "offers",
    singular="offer",
    fields=(
        FieldSpec("actor", "ref", required=True, ref="actors"),
        FieldSpec("resource", "ref", required=True, ref="resources"),
        _num("quantity", "available per period", required=True, minimum=0.0, quantity=True),
        FieldSpec("unit", "unit", added=True),
        FieldSpec("quality", "map", description="property -> value"),
        _num("disposal_cost", "money per unit paid today to get rid of it"),
        FieldSpec("supply_pattern", "enum", choices=SUPPLY_PATTERNS, default="continuous"),
        FieldSpec("confidential", "bool", default=True),
    ),
)

_NEEDS = SectionSpec(
    "needs",
    singular="need",
    fields=(
        FieldSpec("actor", "ref", required=True, ref="actors"),
        FieldSpec("resource", "ref", ref="resources"),
        FieldSpec("resources", "refs", ref="resources", description="acceptable resources"),
        _num("quantity", "needed per period", required=True, minimum=0.0, quantity=True),
        FieldSpec("unit", "unit", added=True),
        FieldSpec("max_quality", "map", description="property -> largest acceptable value"),
        _num("price", "money per unit paid today for the virgin input"),
        FieldSpec("supply_pattern", "enum", choices=SUPPLY_PATTERNS, default="continuous"),
        FieldSpec("confidential", "bool", default=True),
    ),
)

_MODULES = SectionSpec(
    "modules",
    key="id",
    singular="module",
    fields=(
        FieldSpec("id", "slug", required=True),
        FieldSpec("provider", "ref", required=True, ref="actors"),
        FieldSpec("name", "text"),
        FieldSpec("kind", "enum", choices=MODULE_KINDS),
        FieldSpec("adopters", "refs", ref="actors"),
        _num("value_per_adopter", "money per period", minimum=0.0),
    ),
)

_STOCKS = SectionSpec(
    "stocks",
    singular="stock",
    fields=(
        FieldSpec("actor", "ref", required=True, ref="actors"),
        FieldSpec("resource", "ref", required=True, ref="resources"),
        _num("quantity", "held at the end of the period", minimum=0.0, quantity=True),
        _num("change", "net addition during the period", quantity=True),
        FieldSpec("unit", "unit", added=True),
    ),
)

_ESSENTIALITY = SectionSpec(
    "essentiality",
    singular="essentiality entry",
    fields=(
        FieldSpec("supplier_sector", "text", required=True),
        FieldSpec("customer_sector", "text", required=True),
        FieldSpec("class", "enum", required=True, choices=INPUT_CLASSES),
    ),
)

_VIRGIN = SectionSpec(
    "virgin",
    singular="virgin supply",
    fields=(
        FieldSpec("resource", "ref", required=True, ref="resources"),
        FieldSpec("quality", "map"),
        _num("price", "money per unit"),
        _num("available", "per period; absent = unlimited", minimum=0.0, quantity=True),
        FieldSpec("unit", "unit", added=True),
    ),
)

_LINKS = SectionSpec(
    "links",
    singular="link",
    fields=(
        FieldSpec("from", "ref", required=True, ref="actors"),
        FieldSpec("to", "ref", required=True, ref="actors"),
        FieldSpec("resource", "ref", required=True, ref="resources"),
        _num("fixed_cost", "money per period (annualised investment)", minimum=0.0),
        _num("capacity", "largest quantity per period", minimum=0.0, quantity=True),
        FieldSpec("unit", "unit", added=True),
    ),
)

SECTIONS: dict[str, SectionSpec] = {
    s.name: s
    for s in (
        _ACTORS,
        _RESOURCES,
        _FLOWS,
        _OFFERS,
        _NEEDS,
        _MODULES,
        _STOCKS,
        _ESSENTIALITY,
        _VIRGIN,
        _LINKS,
    )
}

TOP_LEVEL: tuple[FieldSpec, ...] = (
    FieldSpec("format", "text", required=True, description="'rainforest/1'"),
    FieldSpec("name", "text", required=True),
    FieldSpec("period", "enum", choices=PERIODS, default="year"),
)


def section(name: str) -> SectionSpec:
    """The spec of section ``name``."""
    return SECTIONS[name]


def _field_schema(spec: FieldSpec) -> dict[str, Any]:
    desc = {"description": spec.description} if spec.description else {}
    if spec.kind in ("slug",):
        return {"type": "string", "pattern": SLUG_PATTERN, **desc}
    if spec.kind in ("text", "unit"):
        return {"type": "string", **desc}
    if spec.kind == "ref":
        return {"type": "string", **desc}
    if spec.kind == "enum":
        return {"enum": list(spec.choices), **desc}
    if spec.kind == "bool":
        return {"type": "boolean", **desc}
    if spec.kind == "number":
        out: dict[str, Any] = {"type": "number", **desc}
        if spec.minimum is not None:
            out["minimum"] = spec.minimum
        if spec.maximum is not None:
            out["maximum"] = spec.maximum
        return out
    if spec.kind == "refs":
        return {"type": "array", "items": {"type": "string"}, **desc}
    if spec.kind == "map":
        value = {"type": "number"} if spec.map_values == "number" else {"type": "string"}
        return {"type": "object", "additionalProperties": value, **desc}
    if spec.kind == "capabilities":
        return {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "core": {"type": "boolean"}},
                "required": ["name"],
                "additionalProperties": False,
            },
            **desc,
        }
    raise AssertionError(spec.kind)  # pragma: no cover


_EXTENSION: dict[str, Any] = {"^x_": {}}


def _section_schema(spec: SectionSpec) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required: list[str] = []
    for root in spec.roots:
        subs = spec.sub_fields(root)
        if subs:
            props[root] = {
                "type": "object",
                "properties": {f.name.split(".", 1)[1]: _field_schema(f) for f in subs},
                "additionalProperties": False,
            }
        else:
            f = spec.by_name[root]
            props[root] = _field_schema(f)
            if f.required:
                required.append(root)
    item: dict[str, Any] = {
        "type": "object",
        "properties": props,
        "patternProperties": _EXTENSION,
        "additionalProperties": False,
    }
    if spec.name == "flows":  # a flow marked 'quantified: false' has no quantity; every other flow has one
        required.remove("quantity")
        item["if"] = {"properties": {"quantified": {"const": False}}, "required": ["quantified"]}
        item["then"] = {"not": {"required": ["quantity"]}}
        item["else"] = {"required": ["quantity"]}
    if required:
        item["required"] = required
    out: dict[str, Any] = {"type": "array", "items": item}
    if spec.description:
        out["description"] = spec.description
    return out


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a ``rainforest/1`` document.

    It states the shape; what a schema cannot say (unique ids, references, units that
    convert, a need naming ``resource`` or ``resources``) is checked by the loader.
    """
    props: dict[str, Any] = {
        "format": {"const": FORMAT, "description": "document format and version"},
        "name": {"type": "string"},
        "period": {"enum": list(PERIODS), "default": "year"},
    }
    for name, spec in SECTIONS.items():
        props[name] = _section_schema(spec)
    props["actors"]["minItems"] = 1
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://rainforest.invalid/schema/rainforest-1.json",
        "title": "rainforest/1 ecosystem document",
        "type": "object",
        "properties": props,
        "patternProperties": _EXTENSION,
        "required": ["format", "name", "actors"],
        "additionalProperties": False,
    }
