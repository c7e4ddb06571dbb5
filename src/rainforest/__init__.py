"""rainforest: design, analyse and simulate industrial ecosystems.

>>> import rainforest as rf
>>> eco = rf.datasets.kalundborg()
>>> eco.name
'Kalundborg Symbiosis, classic network (c. 2000)'

``import rainforest`` is cheap: the model loads numpy only; readers, datasets and
analyses load on first use. Every analysis, optimisation, simulation and edge module is a
namespace of the package, loaded when first touched:

>>> rf.metabolism.circularity(eco)["unit"]
't'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rainforest.errors import (
    CurrencyError,
    DocumentError,
    FormatError,
    Issue,
    ParameterError,
    RainforestError,
    SizeLimitError,
    SteadyStateError,
    UnitError,
    UnknownIdError,
)
from rainforest.model import (
    Actor,
    Capability,
    Ecosystem,
    Essentiality,
    Flow,
    FlowMatrix,
    Link,
    Location,
    Module,
    Need,
    Offer,
    Resource,
    Size,
    Stock,
    Virgin,
    json_schema,
)

if TYPE_CHECKING:
    from rainforest import datasets as datasets
    from rainforest.analysis import ena as ena
    from rainforest.analysis import io_tables as io_tables
    from rainforest.assessment import Assessment as Assessment
    from rainforest.assessment import Unavailable as Unavailable
    from rainforest.assessment import assess as assess
    from rainforest.io import load as load
    from rainforest.io import save as save

if TYPE_CHECKING:  # the module namespaces (``rf.metabolism``, ``rf.report``...)
    from rainforest import io as io
    from rainforest import report as report
    from rainforest import simulate as simulate
    from rainforest import store as store
    from rainforest.analysis import cascade as cascade
    from rainforest.analysis import metabolism as metabolism
    from rainforest.analysis import mrio as mrio
    from rainforest.analysis import positioning as positioning
    from rainforest.analysis import structure as structure
    from rainforest.optimize import exchanges as exchanges
    from rainforest.optimize import sharing as sharing
    from rainforest.optimize import solvers as solvers
    from rainforest.optimize import suggest as suggest
    from rainforest.optimize import targeting as targeting
    from rainforest.optimize import taxonomy as taxonomy

__version__ = "0.1.0"

__all__ = [
    "Actor",
    "Assessment",
    "Capability",
    "CurrencyError",
    "DocumentError",
    "Ecosystem",
    "Essentiality",
    "Flow",
    "FlowMatrix",
    "FormatError",
    "Issue",
    "Link",
    "Location",
    "Module",
    "Need",
    "Offer",
    "ParameterError",
    "RainforestError",
    "Resource",
    "Size",
    "SizeLimitError",
    "SteadyStateError",
    "Stock",
    "Unavailable",
    "UnitError",
    "UnknownIdError",
    "Virgin",
    "__version__",
    "assess",
    "datasets",
    "ena",
    "io_tables",
    "json_schema",
    "load",
    "save",
]

#: Modules reached as attributes of the package (``rf.metabolism``), imported on first
#: use so that ``import rainforest`` stays cheap. ``ena``, ``io_tables`` and ``datasets``
#: are listed above and in ``_LAZY``.
_MODULES = {
    "cascade": "rainforest.analysis.cascade",
    "exchanges": "rainforest.optimize.exchanges",
    "io": "rainforest.io",
    "layers": "rainforest.analysis.layers",
    "metabolism": "rainforest.analysis.metabolism",
    "mrio": "rainforest.analysis.mrio",
    "networks": "rainforest.analysis.networks",
    "platform": "rainforest.analysis.platform",
    "positioning": "rainforest.analysis.positioning",
    "report": "rainforest.report",
    "sharing": "rainforest.optimize.sharing",
    "simulate": "rainforest.simulate",
    "solvers": "rainforest.optimize.solvers",
    "store": "rainforest.store",
    "structure": "rainforest.analysis.structure",
    "suggest": "rainforest.optimize.suggest",
    "targeting": "rainforest.optimize.targeting",
    "taxonomy": "rainforest.optimize.taxonomy",
}
__all__ += list(_MODULES)

_LAZY = {
    "assess": ("rainforest.assessment", "assess"),
    "Assessment": ("rainforest.assessment", "Assessment"),
    "Unavailable": ("rainforest.assessment", "Unavailable"),
    "load": ("rainforest.io", "load"),
    "save": ("rainforest.io", "save"),
    "datasets": ("rainforest.datasets", None),
    "ena": ("rainforest.analysis.ena", None),
    "io_tables": ("rainforest.analysis.io_tables", None),
}


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        module = importlib.import_module(_MODULES[name])
        globals()[name] = module
        return module
    if name in _LAZY:
        module_name, attr = _LAZY[name]
        module = importlib.import_module(module_name)
        value = module if attr is None else getattr(module, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rainforest' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
