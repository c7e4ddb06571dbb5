"""Column store behind each section of an :class:`~rainforest.model.Ecosystem`.

A section of a million flows is a handful of numpy arrays, not a million objects:
numbers are float64 (``NaN`` = absent), everything else an object array (``None`` =
absent; ``MISSING`` for an absent extension value, since ``null`` is a valid one).
Arrays are read-only, so an ecosystem can share them safely.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["MISSING", "FrozenMap", "Table"]


class _Missing:
    """Marks an absent value where ``None`` is a legal one (extension fields)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "MISSING"


MISSING = _Missing()


class FrozenMap(Mapping[str, Any]):
    """An immutable, hashable mapping (qualities, codes, extensions)."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = dict(data or {})
        self._hash: int | None = None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple(sorted((k, _hashable(v)) for k, v in self._data.items())))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return _same(self._data, dict(other))
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def to_dict(self) -> dict[str, Any]:
        """A plain (mutable) copy."""
        return dict(self._data)


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def _same(a: Any, b: Any) -> bool:
    """Equality where NaN equals NaN (documents may carry NaN only in extensions)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


class Table:
    """Read-only columns of equal length ``n``."""

    __slots__ = ("_columns", "n")

    def __init__(self, columns: Mapping[str, npt.NDArray[Any]], n: int) -> None:
        cols: dict[str, npt.NDArray[Any]] = {}
        for name, col in columns.items():
            arr = np.asarray(col)
            if arr.shape != (n,):
                raise ValueError(f"column {name!r} has shape {arr.shape}, expected ({n},)")
            arr.flags.writeable = False
            cols[name] = arr
        self._columns = cols
        self.n = n

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in order."""
        return tuple(self._columns)

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __getitem__(self, name: str) -> npt.NDArray[Any]:
        return self._columns[name]

    def get(self, name: str) -> npt.NDArray[Any] | None:
        """The column, or ``None`` when the section has no such column."""
        return self._columns.get(name)

    def __len__(self) -> int:
        return self.n

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        if self.n != other.n or set(self._columns) != set(other._columns):
            return False
        for name, col in self._columns.items():
            theirs = other._columns[name]
            if col.dtype.kind == "f" and theirs.dtype.kind == "f":
                if not np.array_equal(col, theirs, equal_nan=True):
                    return False
            elif not all(_same(a, b) for a, b in zip(col.tolist(), theirs.tolist(), strict=True)):
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Table(n={self.n}, columns={list(self._columns)})"
