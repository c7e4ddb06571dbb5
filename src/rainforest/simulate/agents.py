"""The agents as columns: the names and types of the per-agent arrays and the set that holds
them (Mesa's ``AgentSet``, vectorised).

A leaf of the simulator: it imports numpy and the compiled kernels only, so the engine and
every mechanism can share it without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from rainforest.errors import ParameterError
from rainforest.simulate._kernels import keep_rows

STRATA = ("canopy", "understory", "shrub", "moss")
#: The actor index of an event about the model itself (a metric that failed), named ``model``.
MODEL = -2
STAGES = ("startup", "growth", "mature", "decline")
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# name -> (dtype, default of a new agent)
COLUMNS: dict[str, tuple[Any, Any]] = {
    "alive": (np.bool_, False),
    "uid": (np.int64, -1),  # permanent number: names, events and links survive compaction
    "home": (np.int16, 0),  # the ecosystem it belongs to (0: the base document)
    "stratum": (np.int8, 3),  # index into STRATA
    "stage": (np.int8, 0),  # index into STAGES
    "age": (np.int32, 0),
    "born": (np.int32, 0),
    "size": (np.float64, 0.0),
    "productivity": (np.float64, 1.0),
    "value_added": (np.float64, 0.0),
    "profit": (np.float64, 0.0),
    "last_growth": (np.float64, 0.0),
    "sector": (np.int32, 0),  # index into the model's sector names
    "knowledge": (np.float64, 0.0),
    "acceptance": (np.float64, 0.0),
    "sigma": (np.float64, 0.0),  # influenceability
    "kappa": (np.float64, 0.0),
    "quality": (np.float64, 0.0),
    "complementor": (np.bool_, False),
    "redundant": (np.float64, 0.0),  # non-core capabilities a cheaper provider could supply
    "cascade_loss": (np.float64, 0.0),
    "strategy_lone": (np.bool_, False),
}
# 2-D columns, one row per agent: "core" and "noncore" (one column per capability name),
# "member" (one per ecosystem), added by the model; "adopted" (one per module) by the platform.


class AgentSet:
    """Agents as columns: each attribute is a numpy array over the agents created so far
    (dead ones included, with ``alive`` False). Columns grow by doubling, so adding agents
    is amortised O(1) per agent."""

    def __init__(self, columns: Mapping[str, tuple[Any, Any]], capacity: int = 16) -> None:
        self._dtypes = {name: (np.dtype(dtype), default) for name, (dtype, default) in columns.items()}
        self._capacity = max(capacity, 16)
        self._data: dict[str, npt.NDArray[Any]] = {}
        self._shapes: dict[str, tuple[int, ...]] = {}
        self.n = 0
        for name, (dtype, default) in self._dtypes.items():
            self._data[name] = np.full(self._capacity, default, dtype=dtype)
            self._shapes[name] = ()

    def add_matrix(self, name: str, width: int, dtype: Any = np.bool_, default: Any = False) -> None:
        """A 2-D column (one row per agent), e.g. capabilities."""
        self._dtypes[name] = (np.dtype(dtype), default)
        self._shapes[name] = (width,)
        self._data[name] = np.full((self._capacity, width), default, dtype=dtype)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, name: str) -> npt.NDArray[Any]:
        return self._data[name][: self.n]

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def _grow(self, needed: int) -> None:
        if needed <= self._capacity:
            return
        new = max(needed, 2 * self._capacity)
        for name, arr in self._data.items():
            dtype, default = self._dtypes[name]
            grown = np.full((new, *self._shapes[name]), default, dtype=dtype)
            grown[: self.n] = arr[: self.n]
            self._data[name] = grown
        self._capacity = new

    def add(self, count: int, **values: Any) -> IntArray:
        """Create ``count`` agents; ``values`` fills columns (scalars or arrays)."""
        start = self.n
        self._grow(start + count)
        self.n = start + count
        for name, value in values.items():
            self._data[name][start : self.n] = value
        return np.arange(start, self.n)

    def compact(self, keep: IntArray) -> None:
        """Keep only the agents at ``keep`` (ascending): dead agents leave the arrays."""
        keep = np.asarray(keep, dtype=np.int64)
        if keep.size > 1 and not (keep[1:] > keep[:-1]).all():
            raise ParameterError(
                "The 'keep' parameter of AgentSet.compact must hold strictly ascending agent indices. "
                f"Got {keep[:10].tolist()} instead.",
                parameter="keep",
            )
        for arr in self._data.values():
            keep_rows(arr, keep)
        self.n = int(keep.size)

    @property
    def alive(self) -> BoolArray:
        return self._data["alive"][: self.n]

    def select(self, mask: BoolArray) -> IntArray:
        """Indices of the agents where ``mask`` holds (Mesa's ``AgentSet.select``)."""
        return np.flatnonzero(mask)
