"""Plain data for pages: JSON-safe values, JSON safe inside ``<script>``, the package version."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def version() -> str:
    """The installed package's version (``'unknown'`` in a source tree not installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("rainforest")
    except PackageNotFoundError:  # running from a source tree without installing
        return "unknown"


def clean(value: Any) -> Any:
    """JSON-safe: non-finite floats become None, tuples lists, numpy scalars Python."""
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, str):
        return clean(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str) or value is None:
        return value
    return str(value)


#: Characters JSON leaves as they are that change how HTML reads a ``<script>`` element
#: (``<!--<script>`` makes its end tag no end) or how JavaScript reads a string.
_UNSAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def to_json(value: Any) -> str:
    """Compact JSON of plain data, safe to embed in a ``<script>`` element: ``<``, ``>``,
    ``&``, U+2028 and U+2029 are written as ``\\u`` escapes (the data reads back the same)."""
    return json.dumps(clean(value), separators=(",", ":"), allow_nan=False).translate(_UNSAFE)
