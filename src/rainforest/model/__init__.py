"""The core: the immutable ecosystem model, its units and its numeric view."""

from rainforest.model.ecosystem import Ecosystem, SectionView
from rainforest.model.entities import (
    Actor,
    Capability,
    Essentiality,
    Flow,
    Link,
    Location,
    Module,
    Need,
    Offer,
    Resource,
    Size,
    Stock,
    Virgin,
)
from rainforest.model.flowmatrix import FlowMatrix
from rainforest.model.schema import json_schema
from rainforest.model.table import FrozenMap

__all__ = [
    "Actor",
    "Capability",
    "Ecosystem",
    "Essentiality",
    "Flow",
    "FlowMatrix",
    "FrozenMap",
    "Link",
    "Location",
    "Module",
    "Need",
    "Offer",
    "Resource",
    "SectionView",
    "Size",
    "Stock",
    "Virgin",
    "json_schema",
]
