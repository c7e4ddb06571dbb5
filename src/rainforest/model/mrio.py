"""A multi-regional input-output system as data: the tables, before any analysis.

:class:`MRIOTables` holds what pymrio calls the core system (``Z``, ``Y``) and its
extensions (``F``, ``F_Y``), with their labels; shapes are checked on construction.
Readers (:mod:`rainforest.io.mrio`) return it; :class:`rainforest.analysis.mrio.IOSystem`
adds the analyses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from rainforest.errors import FormatError

__all__ = ["Extension", "MRIOTables"]

Array = npt.NDArray[np.float64]


def _sparse(x: Any) -> bool:
    """Whether ``x`` is a scipy sparse matrix (a plain bool: no type narrowing)."""
    import scipy.sparse as sp

    return bool(sp.issparse(x))


def _labels(name: str, values: Sequence[str]) -> tuple[str, ...]:
    out = tuple(str(v) for v in values)
    if len(set(out)) != len(out):
        dupes = sorted({v for v in out if out.count(v) > 1})
        raise FormatError(f"{name}: labels must be unique; repeated: {', '.join(dupes[:5])}")
    return out


@dataclass(frozen=True, eq=False)
class Extension:
    """Stressors of an environmental or factor-input extension.

    Parameters
    ----------
    name:
        The extension's name (``"emissions"``).
    stressors:
        One label per row of ``F``.
    F:
        ``k x n`` stressors by producing sector.
    F_Y:
        ``k x (regions x categories)`` stressors caused directly by final demand (e.g.
        household emissions), or ``None``.
    units:
        One unit per stressor, or ``None``.
    """

    name: str
    stressors: tuple[str, ...]
    F: Array
    F_Y: Array | None = None
    units: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "stressors", _labels(f"extension {self.name!r} stressors", self.stressors))
        F = np.atleast_2d(np.asarray(self.F, dtype=np.float64))
        object.__setattr__(self, "F", F)
        if F.shape[0] != len(self.stressors):
            raise FormatError(
                f"extension {self.name!r}: F has {F.shape[0]} rows but {len(self.stressors)} stressors are named"
            )
        if self.F_Y is not None:
            FY = np.atleast_2d(np.asarray(self.F_Y, dtype=np.float64))
            if FY.shape[0] != F.shape[0]:
                raise FormatError(f"extension {self.name!r}: F_Y has {FY.shape[0]} rows, F has {F.shape[0]}")
            object.__setattr__(self, "F_Y", FY)
        if self.units is not None:
            units = tuple(str(u) for u in self.units)
            if len(units) != len(self.stressors):
                raise FormatError(f"extension {self.name!r}: {len(units)} units for {len(self.stressors)} stressors")
            object.__setattr__(self, "units", units)


@dataclass(frozen=True, eq=False)
class MRIOTables:
    """The tables of a multi-regional input-output system.

    Parameters
    ----------
    regions, sectors:
        Labels; the system has ``n = len(regions) * len(sectors)`` rows, region-major:
        ``(r1, s1), (r1, s2), ..., (r2, s1), ...``.
    final_demand_categories:
        Labels of the final demand categories; ``Y`` has one column per (region,
        category), region-major.
    Z:
        ``n x n`` intermediate flows, ``Z[i, j]`` sold by ``i`` to ``j`` (a numpy array or
        a scipy sparse matrix).
    Y:
        ``n x (regions x categories)`` final demand.
    extensions:
        Extensions by name.
    unit:
        The monetary unit of ``Z`` and ``Y`` (``"M.EUR"``), or ``None``.
    """

    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    final_demand_categories: tuple[str, ...]
    Z: Any
    Y: Array
    extensions: Mapping[str, Extension] = field(default_factory=dict)
    unit: str | None = None

    def __post_init__(self) -> None:
        import scipy.sparse as sp

        object.__setattr__(self, "regions", _labels("regions", self.regions))
        object.__setattr__(self, "sectors", _labels("sectors", self.sectors))
        object.__setattr__(
            self, "final_demand_categories", _labels("final_demand_categories", self.final_demand_categories)
        )
        n = len(self.regions) * len(self.sectors)
        Z = sp.csr_array(self.Z, dtype=np.float64) if _sparse(self.Z) else np.asarray(self.Z, dtype=np.float64)
        if Z.shape != (n, n):
            raise FormatError(
                f"Z must be {n} x {n} ({len(self.regions)} regions x {len(self.sectors)} sectors), got {Z.shape[0]} x {Z.shape[1]}"
            )
        Y = np.asarray(self.Y, dtype=np.float64)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        m = len(self.regions) * len(self.final_demand_categories)
        if Y.shape != (n, m):
            raise FormatError(
                f"Y must be {n} x {m} (sectors x regions x final demand categories), got {Y.shape[0]} x {Y.shape[1]}"
            )
        object.__setattr__(self, "Z", Z)
        object.__setattr__(self, "Y", Y)
        for name, ext in self.extensions.items():
            if ext.F.shape[1] != n:
                raise FormatError(f"extension {name!r}: F has {ext.F.shape[1]} columns, expected {n} (one per sector)")
            if ext.F_Y is not None and ext.F_Y.shape[1] != m:
                raise FormatError(
                    f"extension {name!r}: F_Y has {ext.F_Y.shape[1]} columns, expected {m} (one per Y column)"
                )
        object.__setattr__(self, "extensions", dict(self.extensions))

    @property
    def n(self) -> int:
        """Number of (region, sector) rows."""
        return len(self.regions) * len(self.sectors)

    @property
    def index(self) -> list[tuple[str, str]]:
        """The (region, sector) label of each row, region-major."""
        return [(r, s) for r in self.regions for s in self.sectors]

    @property
    def y_index(self) -> list[tuple[str, str]]:
        """The (region, category) label of each column of ``Y``."""
        return [(r, c) for r in self.regions for c in self.final_demand_categories]
