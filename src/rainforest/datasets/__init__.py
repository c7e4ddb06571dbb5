"""Bundled example ecosystems and a generator of synthetic ones.

- :func:`kalundborg`: the Kalundborg Symbiosis, classic network (c. 2000), from published
  sources; exchanges with no published quantity are listed, never invented.
- :func:`ena_model`: seven published ecological network models (food webs, urban
  metabolism) for validating ecological network analysis.
- :func:`synthetic`: a realistic ecosystem of any size, reproducible from its seed.

Sources and licences: ``rainforest/datasets/data/README.md``.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from rainforest.datasets.synthetic import synthetic
from rainforest.errors import UnknownIdError
from rainforest.io import load

__all__ = ["ENA_MODELS", "ena_model", "ena_models", "kalundborg", "kalundborg_sources", "park", "path", "synthetic"]

ENA_MODELS = (
    "oyster_reef",
    "cone_spring",
    "crystal_river_control",
    "chesapeake_bay_mesohaline",
    "neuse_estuary_nitrogen_avg",
    "beijing_urban_carbon",
    "vienna_urban_carbon",
)


def _data_dir() -> Path:
    return Path(str(resources.files("rainforest.datasets") / "data"))


def path(name: str) -> Path:
    """The file behind a bundled dataset: ``'kalundborg'``, ``'kalundborg_sources'`` or an
    ENA model name such as ``'oyster_reef'``."""
    if name == "kalundborg":
        return _data_dir() / "kalundborg.rainforest.json"
    if name == "kalundborg_sources":
        return _data_dir() / "kalundborg.json"
    if name == "park":
        return _data_dir() / "park.yaml"
    if name in ENA_MODELS:
        return _data_dir() / "ena-models" / f"{name}.json"
    raise UnknownIdError("dataset", name, ("kalundborg", "kalundborg_sources", "park", *ENA_MODELS))


def kalundborg() -> Any:
    """The Kalundborg Symbiosis, classic network (c. 2000), as an :class:`Ecosystem`.

    Ten park actors, fifteen resources and eighteen documented exchanges: seven with a
    published quantity and eleven without one, marked ``quantified: false`` (they are
    not given a number: they count in the network's structure, not in its quantities).
    Quantities come from different years (1990s-2010) and scopes and do not form a
    balanced inventory. Firms' sizes (employees, capacity) are published figures, each
    cited in the data README.

    Examples
    --------
    >>> import rainforest as rf
    >>> eco = rf.datasets.kalundborg()
    >>> eco.resource("fly_ash").unit, sum(not f.quantified for f in eco.flows)
    ('t', 11)
    """
    return load(path("kalundborg"))


def kalundborg_sources() -> dict[str, Any]:
    """The full published Kalundborg data (every exchange, quantity, year and source)."""
    data: dict[str, Any] = json.loads(path("kalundborg_sources").read_text(encoding="utf-8"))
    return data


def ena_models() -> tuple[str, ...]:
    """Names of the bundled ecological network models."""
    return ENA_MODELS


def ena_model(name: str) -> Any:
    """A bundled ecological network model as a one-resource :class:`Ecosystem`.

    Examples
    --------
    >>> import rainforest as rf
    >>> reef = rf.datasets.ena_model("oyster_reef")
    >>> [a.id for a in reef.actors][:2]
    ['filter_feeders', 'microbiota']
    """
    return load(path(name))


def park() -> Any:
    """A small eco-industrial park with offers and needs and no exchange yet (illustrative
    numbers, not data about a real place): the new-park pathway of ``rainforest demo``,
    where the report leads with the optimal exchange plan. The same file as
    ``docs/examples/park.yaml``.

    Examples
    --------
    >>> import rainforest as rf
    >>> eco = rf.datasets.park()
    >>> len(eco.offers), len(eco.needs), len(eco.flows)
    (4, 4, 0)
    """
    return load(path("park"))
