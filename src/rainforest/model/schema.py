"""The ecosystem document, version 1, as data.

Every section of the ecosystem document (docs/format.md) is a :class:`SectionSpec` with its fields;
the validator, the readers and writers of every form and the JSON Schema all read these
tables, so a field is declared exactly once.

Fields rainforest adds to version 1 (which allows new fields, never new meanings) are marked
``added=True`` and documented in ``docs/format.md``: ``actors[].living`` (for ecological
network models), ``actors[].region`` (multi-regional input-output), ``unit`` on offers,
needs, stocks, virgin and links (converted on load like a flow's), ``flows[].uncertainty``
(for data reconciliation), ``resources[].name`` (a display name, as actors have),
``flows[].quantified`` (``false`` marks a documented exchange
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
    ``measured_in``, ``absent`` (what leaving the field out means, where it has no
    ``default``) and ``example`` (as written in YAML) only document the field: the field
    reference of docs/format.md is generated from them (``tools/format_reference.py``).
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
    measured_in: str = ""
    absent: str = ""
    example: str = ""

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

_MONEY_PER_UNIT = "money per unit of the resource"


def _quantity(name: str, description: str, **kw: Any) -> FieldSpec:
    """A quantity per period of a row: at least 0, in the row's unit (converted to the
    resource's)."""
    return _num(name, description, minimum=0.0, quantity=True, measured_in="the row's unit per period", **kw)


#: The row's own unit (offers, needs, stocks, virgin supplies, links; a flow's is documented apart).
_ROW_UNIT = FieldSpec(
    "unit",
    "unit",
    added=True,
    description="unit of the row's quantities; must convert to the resource's unit",
    absent="the resource's unit",
    example="t",
)

#: Whether an offer's or a need's figures stay between the actor and the ecosystem's staff.
_CONFIDENTIAL = FieldSpec(
    "confidential",
    "bool",
    default=True,
    description="quantities, qualities and prices visible to other members only when false (the actor "
    "itself, the ecosystem's managers and observers always see them)",
    example="false",
)

_ACTORS = SectionSpec(
    "actors",
    key="id",
    singular="actor",
    description="the species of the rainforest: the firms, plants, utilities and institutions of the ecosystem",
    fields=(
        FieldSpec(
            "id",
            "slug",
            required=True,
            description="unique id; 'world' and 'environment' are reserved",
            example="asnaes",
        ),
        FieldSpec("name", "text", description="display name", example="Asnæs power station"),
        FieldSpec("sector", "text", description="free text or a NACE rev.2 / ISIC code", example="'35.11'"),
        FieldSpec(
            "stratum",
            "enum",
            choices=STRATA,
            description="value level: canopy = leading firms and platforms, understory and shrub = mid-size "
            "firms, moss = small firms and start-ups",
            absent="inferred from the actor's size where an analysis needs it",
            example="canopy",
        ),
        FieldSpec("stage", "enum", choices=STAGES, description="life-cycle stage", example="mature"),
        _num(
            "location.lat",
            "latitude in degrees",
            minimum=-90.0,
            maximum=90.0,
            measured_in="degrees north",
            absent="no location: distance-based costs and cluster comparisons leave the actor out",
            example="55.67",
        ),
        _num(
            "location.lon",
            "longitude in degrees",
            minimum=-180.0,
            maximum=180.0,
            measured_in="degrees east",
            example="11.09",
        ),
        _num(
            "size.revenue",
            "total sales incl. outside the ecosystem, money per period",
            minimum=0.0,
            measured_in="money per period",
            example="250000000",
        ),
        _num(
            "size.costs",
            "total input costs, money per period",
            minimum=0.0,
            measured_in="money per period",
            example="180000000",
        ),
        _num("size.employees", "head count", minimum=0.0, measured_in="persons", example="300"),
        _num(
            "size.capacity",
            "production capacity",
            minimum=0.0,
            measured_in="the actor's output per period",
            example="1500",
        ),
        FieldSpec(
            "capabilities",
            "capabilities",
            description="list of {name, core}: what the actor can do; 'core: false' marks a non-core activity "
            "(core is true when left out)",
            example="[{name: steam}, {name: canteen, core: false}]",
        ),
        FieldSpec(
            "living",
            "bool",
            added=True,
            description="living compartment (ecological network models)",
            absent="unknown",
            example="true",
        ),
        FieldSpec(
            "region",
            "text",
            added=True,
            description="region of a multi-regional ecosystem (country, province)",
            absent="one region for the whole document",
            example="DK",
        ),
    ),
)

_RESOURCES = SectionSpec(
    "resources",
    key="id",
    singular="resource",
    description="what is exchanged: every resource a flow, offer, need, stock or link names is declared here",
    fields=(
        FieldSpec("id", "slug", required=True, description="unique id", example="fgd_gypsum"),
        FieldSpec("kind", "enum", required=True, choices=RESOURCE_KINDS, description="what it is", example="material"),
        FieldSpec(
            "unit",
            "unit",
            required=True,
            description="unit text understood by pint",
            example="t",
        ),
        _num(
            "price",
            "market price of the virgin or purchased equivalent",
            measured_in=_MONEY_PER_UNIT,
            absent="unpriced: money-weighted analyses list the resource as excluded",
            example="12.5",
        ),
        _num(
            "co2e_virgin",
            "emission factor of producing the virgin equivalent",
            measured_in="kg CO2e per unit of the resource",
            example="120",
        ),
        _num(
            "co2e_disposal",
            "emission factor of disposing of it",
            measured_in="kg CO2e per unit of the resource",
            example="15",
        ),
        _num(
            "transport_cost",
            "cost of carrying one unit one km; used where both locations are known",
            minimum=0.0,
            measured_in="money per unit of the resource per km",
            absent="no transport cost",
            example="0.08",
        ),
        FieldSpec(
            "substitutes",
            "refs",
            ref="resources",
            description="resources this one can replace",
            example="[natural_gypsum]",
        ),
        FieldSpec(
            "codes",
            "map",
            map_values="text",
            description="taxonomy codes, one per scheme (ewc, cpc, ...)",
            example="{ewc: '10 01 05'}",
        ),
        FieldSpec(
            "name",
            "text",
            added=True,
            description="display name",
            absent="the id stands for the name",
            example="FGD gypsum",
        ),
    ),
)

_FLOWS = SectionSpec(
    "flows",
    singular="flow",
    description="realised exchanges",
    fields=(
        FieldSpec(
            "from",
            "ref",
            required=True,
            ref="actors",
            boundary=True,
            description="source; 'world' = bought from outside the ecosystem, 'environment' = extracted from nature",
            example="asnaes",
        ),
        FieldSpec(
            "to",
            "ref",
            required=True,
            ref="actors",
            boundary=True,
            description="target; 'world' = sold outside the ecosystem, 'environment' = a loss, emission or disposal",
            example="gyproc",
        ),
        FieldSpec("resource", "ref", required=True, ref="resources", description="what flows", example="fgd_gypsum"),
        _quantity(
            "quantity",
            "per period, in the resource's unit after conversion; absent only when 'quantified' is false",
            required=True,
            absent="an error, except with 'quantified: false'",
            example="150000",
        ),
        FieldSpec(
            "quantified",
            "bool",
            default=True,
            added=True,
            description="false: a documented exchange whose quantity is not known (no 'quantity' then)",
            example="false",
        ),
        FieldSpec(
            "unit",
            "unit",
            description="must convert to the resource's unit",
            absent="the resource's unit",
            example="kt",
        ),
        FieldSpec(
            "kind", "enum", choices=FLOW_KINDS, description="what the flow is to its source", example="by-product"
        ),
        FieldSpec(
            "input_class",
            "enum",
            choices=INPUT_CLASSES,
            description="how much the target's production depends on this input; overrides the essentiality table",
            absent="the essentiality table's class for the two sectors",
            example="essential",
        ),
        FieldSpec(
            "status",
            "enum",
            choices=STATUSES,
            default="active",
            description="where the exchange stands; only active flows count unless an analysis is asked otherwise",
            example="negotiating",
        ),
        _quantity(
            "uncertainty",
            "standard deviation of the quantity (same unit); absent = exact, for data reconciliation",
            added=True,
            absent="exact",
            example="5000",
        ),
    ),
)

_OFFERS = SectionSpec(
    "offers",
    singular="offer",
    description="outputs available for new exchanges: by-products, waste, spare capacity",
    fields=(
        FieldSpec("actor", "ref", required=True, ref="actors", description="who offers", example="asnaes"),
        FieldSpec("resource", "ref", required=True, ref="resources", description="what is offered", example="fly_ash"),
        _quantity(
            "quantity",
            "available per period",
            required=True,
            example="80000",
        ),
        _ROW_UNIT,
        FieldSpec(
            "quality",
            "map",
            description="property -> value",
            absent="no property stated",
            example="{contaminant_ppm: 20}",
        ),
        _num(
            "disposal_cost",
            "money per unit paid today to get rid of it",
            measured_in=_MONEY_PER_UNIT,
            absent="nothing is paid to dispose of it",
            example="35",
        ),
        FieldSpec(
            "supply_pattern",
            "enum",
            choices=SUPPLY_PATTERNS,
            default="continuous",
            description="how the quantity comes over the period",
            example="seasonal",
        ),
        _CONFIDENTIAL,
    ),
)

_NEEDS = SectionSpec(
    "needs",
    singular="need",
    description="inputs that new exchanges could supply; each gives 'resource' or 'resources', not both",
    fields=(
        FieldSpec("actor", "ref", required=True, ref="actors", description="who needs it", example="gyproc"),
        FieldSpec(
            "resource",
            "ref",
            ref="resources",
            description="the resource needed",
            absent="'resources' lists the acceptable ones",
            example="natural_gypsum",
        ),
        FieldSpec(
            "resources",
            "refs",
            ref="resources",
            description="acceptable resources",
            absent="'resource' names the one needed",
            example="[natural_gypsum, fgd_gypsum]",
        ),
        _quantity(
            "quantity",
            "needed per period",
            required=True,
            example="200000",
        ),
        _ROW_UNIT,
        FieldSpec(
            "max_quality",
            "map",
            description="property -> largest acceptable value",
            absent="any quality is accepted",
            example="{contaminant_ppm: 50}",
        ),
        _num(
            "price",
            "money per unit paid today for the virgin input",
            measured_in=_MONEY_PER_UNIT,
            absent="the resource's price, else the virgin supply's",
            example="18",
        ),
        FieldSpec(
            "supply_pattern",
            "enum",
            choices=SUPPLY_PATTERNS,
            default="continuous",
            description="how the need comes over the period",
            example="one-off",
        ),
        _CONFIDENTIAL,
    ),
)

_MODULES = SectionSpec(
    "modules",
    key="id",
    singular="module",
    description="reusable value modules a platform actor offers to others (the platform pathway)",
    fields=(
        FieldSpec("id", "slug", required=True, description="unique id", example="shared_logistics"),
        FieldSpec(
            "provider",
            "ref",
            required=True,
            ref="actors",
            description="the actor that offers the module",
            example="novo_nordisk",
        ),
        FieldSpec("name", "text", description="display name", example="Shared logistics hub"),
        FieldSpec("kind", "enum", choices=MODULE_KINDS, description="what the module provides", example="logistics"),
        FieldSpec(
            "adopters",
            "refs",
            ref="actors",
            description="the actors that use it",
            absent="no adopter yet",
            example="[novozymes, gyproc]",
        ),
        _num(
            "value_per_adopter",
            "money per period",
            minimum=0.0,
            measured_in="money per period and adopter",
            example="40000",
        ),
        _num(
            "switching_cost",
            "what an adopter pays once to leave the module for a rival's (retraining, migration, lost data)",
            minimum=0.0,
            measured_in="money per adopter, once",
            absent="unknown",
            example="120000",
        ),
        _num(
            "capacity_share",
            "the share of an adopter's output that stops while the module is withdrawn",
            minimum=0.0,
            maximum=1.0,
            measured_in="share of output, 0 to 1",
            absent="unknown",
            example="0.3",
        ),
    ),
)

_STOCKS = SectionSpec(
    "stocks",
    singular="stock",
    description="what actors hold: inputs = outputs + change for each actor and resource",
    fields=(
        FieldSpec("actor", "ref", required=True, ref="actors", description="who holds it", example="gyproc"),
        FieldSpec("resource", "ref", required=True, ref="resources", description="what is held", example="fgd_gypsum"),
        _num(
            "quantity",
            "held at the end of the period",
            minimum=0.0,
            quantity=True,
            measured_in="the row's unit",
            example="12000",
        ),
        _num(
            "change",
            "net addition during the period",
            quantity=True,
            measured_in="the row's unit per period",
            absent="no change",
            example="-3000",
        ),
        _ROW_UNIT,
    ),
)

_ESSENTIALITY = SectionSpec(
    "essentiality",
    singular="essentiality entry",
    description="production dependencies between sectors; a pair not listed is non-essential",
    fields=(
        FieldSpec(
            "supplier_sector",
            "text",
            required=True,
            description="the supplying actors' sector",
            example="'35.11'",
        ),
        FieldSpec(
            "customer_sector",
            "text",
            required=True,
            description="the receiving actors' sector",
            example="'23.62'",
        ),
        FieldSpec(
            "class",
            "enum",
            required=True,
            choices=INPUT_CLASSES,
            description="essential = the customer cannot produce without the input (Leontief); non-essential = "
            "its output falls in proportion to the input's share of its inputs; negligible = no effect",
            example="essential",
        ),
    ),
)

_VIRGIN = SectionSpec(
    "virgin",
    singular="virgin supply",
    description="outside supply per resource: what makes up the needs by-products cannot meet",
    fields=(
        FieldSpec(
            "resource", "ref", required=True, ref="resources", description="what is supplied", example="natural_gypsum"
        ),
        FieldSpec(
            "quality",
            "map",
            description="property -> value of the virgin supply",
            absent="no property stated",
            example="{contaminant_ppm: 5}",
        ),
        _num("price", "money per unit", measured_in=_MONEY_PER_UNIT, absent="the resource's price", example="20"),
        _quantity(
            "available",
            "per period; absent = unlimited",
            absent="unlimited",
            example="500000",
        ),
        _ROW_UNIT,
    ),
)

_LINKS = SectionSpec(
    "links",
    singular="link",
    description="exchanges that need an investment (a pipe, a line, a treatment step)",
    fields=(
        FieldSpec("from", "ref", required=True, ref="actors", description="supplying actor", example="asnaes"),
        FieldSpec("to", "ref", required=True, ref="actors", description="receiving actor", example="gyproc"),
        FieldSpec(
            "resource", "ref", required=True, ref="resources", description="what it carries", example="fgd_gypsum"
        ),
        _num(
            "fixed_cost",
            "money per period (annualised investment)",
            minimum=0.0,
            measured_in="money per period",
            absent="no fixed cost",
            example="150000",
        ),
        _quantity(
            "capacity",
            "largest quantity per period",
            absent="unlimited",
            example="100000",
        ),
        _ROW_UNIT,
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
    FieldSpec(
        "format",
        "text",
        required=True,
        description="document format and version; any other value is an error naming the supported ones",
        example="rainforest/1",
    ),
    FieldSpec("name", "text", required=True, description="name of the ecosystem", example="Kalundborg Symbiosis"),
    FieldSpec(
        "period",
        "enum",
        choices=PERIODS,
        default="year",
        description="reference period of every quantity per period",
        example="month",
    ),
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
