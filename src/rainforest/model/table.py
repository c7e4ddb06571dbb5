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

from rainforest.errors import ParameterError

__all__ = ["MISSING", "Coded", "FrozenMap", "Table", "freeze", "thaw"]


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

    @classmethod
    def wrap(cls, data: dict[str, Any]) -> FrozenMap:
        """Take ownership of ``data`` without copying (the caller must not keep it)."""
        new = cls.__new__(cls)
        new._data = data
        new._hash = None
        return new

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


def freeze(value: Any) -> Any:
    """``value`` with every mapping made a :class:`FrozenMap` (keys as texts) and every list
    a tuple, at any depth: how extensions and free cells are kept in the model."""
    if isinstance(value, Mapping):
        return FrozenMap({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The inverse of :func:`freeze`: plain dicts and lists, as documents hold them."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


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


class Coded:
    """A dictionary-encoded text column: row ``i`` holds ``values[codes[i]]``; code -1 is
    an empty cell. Large tables are read this way so that each distinct value is checked
    once and a million-row column is expanded only when someone reads it."""

    __slots__ = ("codes", "values")

    def __init__(self, codes: npt.NDArray[np.int64], values: npt.NDArray[Any]) -> None:
        self.codes = np.asarray(codes, dtype=np.int64)
        self.values = np.asarray(values, dtype=object)

    def __len__(self) -> int:
        return len(self.codes)

    def expand(self, absent: Any = None) -> npt.NDArray[Any]:
        """The plain column (``absent`` where the code is -1)."""
        table = np.empty(len(self.values) + 1, dtype=object)
        table[:-1] = self.values
        table[-1] = absent
        result: npt.NDArray[Any] = table[self.codes]
        return result

    def with_default(self, default: Any) -> Coded:
        """The same column with empty cells holding ``default``."""
        if not (self.codes < 0).any():
            return self
        values = np.empty(len(self.values) + 1, dtype=object)
        values[:-1] = self.values
        values[-1] = default
        return Coded(np.where(self.codes < 0, len(self.values), self.codes), values)


class Table:
    """Read-only columns of equal length ``n`` (plain arrays or :class:`Coded`)."""

    __slots__ = ("_coded", "_columns", "n")

    def __init__(self, columns: Mapping[str, npt.NDArray[Any] | Coded], n: int) -> None:
        cols: dict[str, npt.NDArray[Any]] = {}
        coded: dict[str, Coded] = {}
        for name, col in columns.items():
            if isinstance(col, Coded):
                if len(col) != n:
                    raise ParameterError(f"column {name!r} has {len(col)} rows, expected {n}", parameter="columns")
                col.codes.flags.writeable = False
                col.values.flags.writeable = False
                coded[name] = col
                continue
            arr = np.asarray(col)
            if arr.shape != (n,):
                raise ParameterError(f"column {name!r} has shape {arr.shape}, expected ({n},)", parameter="columns")
            arr.flags.writeable = False
            cols[name] = arr
        self._columns = cols
        self._coded = coded
        self.n = n

    def coded(self, name: str) -> Coded | None:
        """The dictionary-encoded form of a column, when it has one (fast lookups)."""
        return self._coded.get(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Column names."""
        return tuple(dict.fromkeys([*self._columns, *self._coded]))

    def __contains__(self, name: object) -> bool:
        return name in self._columns or name in self._coded

    def __getitem__(self, name: str) -> npt.NDArray[Any]:
        col = self._columns.get(name)
        if col is None:
            coded = self._coded[name]  # KeyError for an unknown column, as a dict would
            col = coded.expand()
            col.flags.writeable = False
            self._columns[name] = col
        return col

    def get(self, name: str) -> npt.NDArray[Any] | None:
        """The column, or ``None`` when the section has no such column."""
        try:
            return self[name]
        except KeyError:
            return None

    def texts(self, name: str) -> list[str | None]:
        """A text column as a list, ``None`` where a row has no text (or there is no column)."""
        col = self.get(name)
        if col is None:
            return [None] * self.n
        return [v if isinstance(v, str) and v != "" else None for v in col.tolist()]

    def numbers(self, name: str) -> npt.NDArray[np.float64]:
        """A numeric column as floats, NaN where a row has no number (or there is no column)."""
        col = self.get(name)
        if col is None:
            return np.full(self.n, np.nan)
        try:
            return np.asarray(col, dtype=np.float64)
        except (TypeError, ValueError):
            return np.array([np.nan if v is None else float(v) for v in col.tolist()], dtype=np.float64)

    def __len__(self) -> int:
        return self.n

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        if self.n != other.n or set(self.names) != set(other.names):
            return False
        for name in self.names:
            col, theirs = self[name], other[name]
            if col.dtype.kind == "f" and theirs.dtype.kind == "f":
                if not np.array_equal(col, theirs, equal_nan=True):
                    return False
            elif not all(_same(a, b) for a, b in zip(col.tolist(), theirs.tolist(), strict=True)):
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Table(n={self.n}, columns={list(self.names)})"
