"""Turn raw document content into a validated :class:`Ecosystem`, reporting every issue.

Readers of every form (YAML, JSON, CSV folder, Excel, ecological network models) hand
over a :class:`RawDocument`: the top-level fields and, per section, raw columns (object
arrays of what the file held, or float arrays a CSV parser already read as numbers), plus
a ``locate`` function that turns a field path into a place (line for texts, row for
tables). :func:`build_ecosystem` checks everything at once and either returns the
ecosystem or raises :class:`~rainforest.errors.DocumentError` with every issue; nothing
is half-built.

The checks are column-wise so that a million flows validate in well under a second.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from rainforest.errors import DocumentError, Issue, UnitError, did_you_mean, nearest
from rainforest.model.entities import Capability
from rainforest.model.schema import (
    BOUNDARY,
    FORMAT,
    PERIODS,
    SECTIONS,
    SUPPORTED_FORMATS,
    TOP_LEVEL,
    FieldSpec,
    SectionSpec,
)
from rainforest.model.table import MISSING, Coded, FrozenMap, Table, _Missing, freeze, thaw
from rainforest.model.units import conversion_factor, dimension_of

#: The old name of :func:`rainforest.model.table.thaw` (web/ and io/ena still import it from here).
_thaw = thaw

__all__ = ["Coded", "Place", "RawDocument", "RawSection", "build_tables", "describe", "records_to_section"]

PathPart = str | int
Path = tuple[PathPart, ...]


@dataclass(frozen=True, slots=True)
class Place:
    """Where a path is in the source: a file and a line/column or a row."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    row: int | None = None


Locate = Callable[[Path], Place]


def _nowhere(path: Path) -> Place:
    return Place()


Column = npt.NDArray[Any] | Coded


@dataclass
class RawSection:
    """One section as read: raw columns of equal length ``n``.

    ``tabular`` is true for CSV and Excel: text in a number or boolean cell is parsed,
    list cells are ``;``-separated, and a missing required column is one issue on the
    header rather than one per row.
    """

    name: str
    columns: dict[str, Any]  # raw: whatever the reader found (arrays, or Coded text)
    n: int
    tabular: bool = False
    #: rows already reported as broken (not a mapping); no further checks on them
    broken_rows: set[int] = field(default_factory=set)
    #: keys in the entries' mappings as read (a reader compares it with its text to
    #: find duplicate keys)
    keys: int = 0


@dataclass
class RawDocument:
    """Everything a reader found, before any check."""

    top: dict[str, Any]
    sections: dict[str, RawSection]
    locate: Locate = _nowhere
    source: str | None = None
    issues: list[Issue] = field(default_factory=list)
    # top-level keys whose value had the wrong shape (e.g. ``flows: 3``); already reported
    broken_sections: set[str] = field(default_factory=set)


def path_text(path: Path) -> str:
    """``('flows', 12, 'to')`` -> ``'flows[12].to'``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def number_hint(text: str) -> str | None:
    """What to write instead of a number people naturally write as text: ``120e6`` (YAML
    1.1 reads a float only with a dot and a signed exponent), ``300 kt`` (a unit beside
    the number), ``120,000`` (a thousands separator)."""
    t = text.strip()
    if re.fullmatch(r"[+-]?\d+(\.\d*)?[eE][+-]?\d+", t):
        value = float(t)
        plain = f"{value:.0f}" if value == int(value) and abs(value) < 1e15 else repr(value)
        return f"YAML reads {t} as text (it needs a dot and a signed exponent, as in 1.2e+8): write {plain}."
    if re.fullmatch(r"[+-]?\d{1,3}([, _]\d{3})+(\.\d+)?", t):
        return f"Write the number without thousands separators: {re.sub(r'[, _]', '', t)}."
    unit = re.fullmatch(r"([+-]?[\d.,_ ]*\d)\s*([^\d\s].*)", t)
    if unit:
        return (
            f"Write the number alone ({unit.group(1).replace(',', '').replace(' ', '')}): a quantity is in the "
            f"unit of its resource, so declare the resource with unit {unit.group(2).strip()!r}, or give this "
            f"entry a unit field (unit: {unit.group(2).strip()})."
        )
    return None


def describe(value: Any) -> str:
    """A short description of a found value for messages."""
    if value is None or value is MISSING:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "infinity" if value > 0 else "-infinity"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if value == "":
            return "an empty text"
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"the text {shown!r}"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__


def _empty(value: Any, tabular: bool) -> bool:
    """An absent cell: a table's NaN is an empty cell, a text's NaN is a value."""
    if value is None or value is MISSING:
        return True
    return tabular and isinstance(value, float) and math.isnan(value)


def _absent(value: Any) -> bool:
    return value is None or value is MISSING or (isinstance(value, float) and math.isnan(value))


class _Collector:
    """Gathers issues with their paths; places are resolved once at the end."""

    def __init__(self, locate: Locate, source: str | None) -> None:
        self.locate = locate
        self.source = source
        self.pending: list[tuple[Path, str, str | None, str | None, str | None]] = []

    def add(
        self,
        path: Path,
        message: str,
        expected: str | None = None,
        got: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.pending.append((path, message, expected, got, hint))

    def issues(self) -> list[Issue]:
        out = []
        for path, message, expected, got, hint in self.pending:
            place = self.locate(path)
            out.append(
                Issue(
                    path=path_text(path),
                    message=message,
                    expected=expected,
                    got=got,
                    hint=hint,
                    file=place.file or self.source,
                    line=place.line,
                    column=place.column,
                    row=place.row,
                )
            )
        return out


_SLUG = re.compile(r"^[a-z0-9_-]+$")
_EMPTY_MAP = FrozenMap()
_TRUE = {"true", "yes", "1", "y", "t"}
_FALSE = {"false", "no", "0", "n", "f"}


def records_to_section(
    name: str, records: Sequence[Any], encode: Callable[[list[Any]], Coded] | None = None
) -> tuple[RawSection, list[int]]:
    """Columns from a list of mappings (YAML/JSON); returns the section and the rows that
    were not mappings (reported by the caller).

    Column-wise: one pass per key over the records, so the cost is linear in the cells.
    Text columns of known text fields come out dictionary-encoded (:class:`Coded`, each
    distinct value checked once, as from a CSV file) and all-number columns as float64.
    ``encode`` dictionary-encodes a list of texts and ``None`` (default
    :func:`coded_texts`; a reader may pass a faster one).
    """
    encode = encode or coded_texts
    spec = SECTIONS[name]
    nested = {root for root in spec.roots if spec.sub_fields(root)}
    n = len(records)
    rows: list[dict[Any, Any]]
    not_mappings: list[int] = []
    if set(map(type, records)) <= {dict}:
        rows = records  # type: ignore[assignment]
    else:
        rows = []
        for i, rec in enumerate(records):
            if isinstance(rec, Mapping):
                rows.append(dict(rec))
            else:
                not_mappings.append(i)
                rows.append({})
    n_keys = sum(map(len, rows))
    keys = _all_keys(rows)
    if not all(type(k) is str for k in keys):
        rows = [{str(k): v for k, v in r.items()} for r in rows]
        keys = _all_keys(rows)
    columns: dict[str, Any] = {}
    for key in keys:
        try:  # the usual case: every entry has the key
            values = list(map(operator.itemgetter(key), rows))
        except KeyError:
            values = [r.get(key, MISSING) for r in rows]
        if key in nested:
            kinds = set(map(type, values))
            if any(k is not dict and issubclass(k, Mapping) for k in kinds):
                at = [i for i, v in enumerate(values) if isinstance(v, Mapping)]
            else:  # dicts, as parsers give them: no abstract-class check per entry
                at = [i for i, v in enumerate(values) if type(v) is dict]
            if at:
                maps = [values[i] for i in at]
                n_keys += sum(map(len, maps))
                for sub in dict.fromkeys(str(k) for m in maps for k in m):
                    sub_values: list[Any] = [MISSING] * n
                    for i, m in zip(at, maps, strict=True):
                        sub_values[i] = m.get(sub, MISSING) if sub in m else _lookup_str(m, sub)
                    columns[f"{key}.{sub}"] = _column(spec, f"{key}.{sub}", sub_values, encode)
                for i in at:
                    values[i] = MISSING
                if all(v is MISSING for v in values):
                    continue
        columns[key] = _column(spec, key, values, encode)
    return RawSection(name, columns, n, tabular=False, broken_rows=set(not_mappings), keys=n_keys), not_mappings


def _capabilities_key(value: list[Any]) -> tuple[Any, ...] | None:
    """A hashable stand-in for a capability list (types included, so that ``core: 1``
    is not taken for ``core: true``); ``None`` when an item cannot be hashed."""
    key = tuple(
        (tuple(item.items()), tuple(map(type, item.values()))) if type(item) is dict else (item, type(item))
        for item in value
    )
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _all_keys(rows: list[dict[Any, Any]]) -> dict[Any, None]:
    """The keys of all entries, in order: those of the first, then those of the few
    entries with others (one C-level subset test per entry, not a look at every key)."""
    keys: dict[Any, None] = dict.fromkeys(rows[0] if rows else ())
    known = keys.keys()
    odd: Iterator[Any] = itertools.filterfalse(known.__ge__, map(dict.keys, rows))
    keys.update(dict.fromkeys(itertools.chain.from_iterable(odd)))
    return keys


def coded_texts(values: list[Any]) -> Coded:
    """Texts or absent cells (``None``), dictionary-encoded; an empty text is no text, as
    in every other form."""
    index: dict[Any, int] = dict.fromkeys(values, -1)
    for v in (MISSING, None, ""):
        index.pop(v, None)
    distinct = list(index)
    index = dict(zip(distinct, range(len(distinct)), strict=True))
    index.update({MISSING: -1, None: -1, "": -1})
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
    return Coded(codes, np.fromiter(distinct, dtype=object, count=len(distinct)))


def _lookup_str(mapping: Mapping[Any, Any], key: str) -> Any:
    """``mapping[key]`` where the mapping's keys are not all texts (YAML ``1: x``)."""
    for k, v in mapping.items():
        if str(k) == key:
            return v
    return MISSING


_TEXT_KINDS = frozenset({"slug", "text", "enum", "ref", "unit"})
_NUMBER_TYPES = frozenset({float, int})


def _column(spec: SectionSpec, key: str, values: list[Any], encode: Callable[[list[Any]], Coded]) -> Column:
    """One raw column: dictionary-encoded text for a text field whose cells are all texts
    (or absent), float64 for a number field whose cells are all numbers, else objects."""
    f = spec.by_name.get(key)
    if f is not None and f.kind in _TEXT_KINDS:
        kinds = set(map(type, values))
        if kinds <= {str, _Missing, type(None)}:
            if _Missing in kinds:
                values = [None if v is MISSING else v for v in values]
            return encode(values)
    elif f is not None and f.kind == "number" and set(map(type, values)) <= _NUMBER_TYPES:
        # NaN and infinity stay objects: the checks report them as values, not gaps
        with contextlib.suppress(OverflowError):
            numbers = np.asarray(values, dtype=np.float64)
            if np.isfinite(numbers).all():
                return numbers
    return np.fromiter(values, dtype=object, count=len(values))


class _Builder:
    def __init__(self, doc: RawDocument) -> None:
        self.doc = doc
        self.c = _Collector(doc.locate, doc.source)
        self.tables: dict[str, Table] = {}
        self.index: dict[str, dict[str, int]] = {}
        self.resource_units: dict[str, str] = {}
        self.bad_units: set[str] = set()
        # (section, row, field) already explained by a misspelled field's issue
        self.explained: set[tuple[str, int, str]] = set()
        # dictionary-encoded clean text columns: (section, field) -> (codes, clean values)
        self.coded: dict[tuple[str, str], tuple[npt.NDArray[np.int64], npt.NDArray[Any]]] = {}

    def on_uniques(
        self,
        sec: RawSection,
        f: FieldSpec,
        col: Coded,
        check: Callable[[RawSection, FieldSpec, npt.NDArray[Any]], npt.NDArray[Any]],
        absent: Any,
    ) -> Column:
        """Run a per-cell ``check`` once per distinct value; issues go to every row holding it."""
        saved, self.c.pending = self.c.pending, []
        unique_sec = RawSection(sec.name, {}, len(col.values), tabular=sec.tabular)
        clean = check(unique_sec, f, col.values)
        if f.kind == "enum":
            self.check_choices(unique_sec, f, clean)
        elif f.kind == "slug":
            self.check_slugs(unique_sec, f, clean)
        captured, self.c.pending = self.c.pending, saved
        if captured:
            order = np.argsort(col.codes, kind="stable")
            sorted_codes = col.codes[order]
            for path, message, expected, got, hint in captured:
                u = int(path[1])
                lo, hi = np.searchsorted(sorted_codes, [u, u + 1])
                for row in np.sort(order[lo:hi]).tolist():
                    self.c.add((path[0], row, *path[2:]), message, expected, got, hint)
        if f.kind in ("slug", "text", "enum", "ref", "unit"):
            self.coded[(sec.name, f.name)] = (col.codes, clean)
            return Coded(col.codes, clean)
        return Coded(col.codes, clean).expand(absent)

    # -- top level -------------------------------------------------------------
    def top(self) -> tuple[str, str, dict[str, Any]]:
        top = self.doc.top
        fmt = top.get("format", MISSING)
        if _absent(fmt):
            self.c.add(
                ("format",),
                "missing required field 'format'",
                expected=f"format: {FORMAT!r}",
                hint="Add `format: rainforest/1` at the top of the document.",
            )
        elif fmt not in SUPPORTED_FORMATS:
            self.c.add(
                ("format",),
                "unsupported format",
                expected="one of " + ", ".join(repr(f) for f in SUPPORTED_FORMATS),
                got=describe(fmt),
                hint="Ecological network models use 'ena-model/1' in their own JSON form.",
            )
        name = top.get("name", MISSING)
        if _absent(name) or (isinstance(name, str) and not name.strip()):
            self.c.add(("name",), "missing required field 'name'", expected="a text naming the ecosystem")
            name = ""
        elif not isinstance(name, str):
            if isinstance(name, (int, float)) and not isinstance(name, bool):
                name = str(name)
            else:
                self.c.add(("name",), "wrong type", expected="a text", got=describe(name))
                name = ""
        period = top.get("period", MISSING)
        if _absent(period):
            period = "year"
        elif period not in PERIODS:
            self.c.add(
                ("period",),
                "unknown period",
                expected="one of " + ", ".join(repr(p) for p in PERIODS),
                got=describe(period),
                hint=did_you_mean(str(period), PERIODS),
            )
            period = "year"
        known = [f.name for f in TOP_LEVEL] + list(SECTIONS)
        extensions: dict[str, Any] = {}
        for key, value in top.items():
            if key in known:
                continue
            if key.startswith("x_"):
                extensions[key] = value
                if _nonfinite(value):
                    self.c.add((key,), "not a finite number", expected="finite numbers", got="inf or nan inside")
                continue
            self.c.add(
                (key,),
                "unknown field",
                hint=did_you_mean(key, known) or "Extensions must start with 'x_'.",
            )
        if "actors" not in self.doc.sections and "actors" not in self.doc.broken_sections:
            self.c.add(("actors",), "missing required section 'actors'", expected="a list of at least one actor")
        elif "actors" in self.doc.sections and self.doc.sections["actors"].n == 0:
            self.c.add(("actors",), "no actors", expected="at least one actor")
        return str(name), str(period), extensions

    # -- cells -------------------------------------------------------------------
    def numbers(self, sec: RawSection, spec: FieldSpec, col: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        name = sec.name
        if col.dtype.kind == "f":
            values = col.astype(np.float64, copy=False)
        else:
            values = np.full(sec.n, np.nan)
            for i, v in enumerate(col.tolist()):
                if _empty(v, sec.tabular):
                    continue
                t = type(v)
                if t is float or t is int:
                    num = float(v)
                elif t is str and sec.tabular:
                    text = v.strip()
                    if not text:
                        continue
                    try:
                        num = float(text)
                    except ValueError:
                        self.c.add(
                            (name, i, spec.name),
                            "not a number",
                            expected="a number",
                            got=describe(v),
                            hint=number_hint(text),
                        )
                        continue
                elif isinstance(v, (int, float)) and not isinstance(v, bool):
                    num = float(v)
                else:
                    self.c.add(
                        (name, i, spec.name),
                        "wrong type",
                        expected="a number",
                        got=describe(v),
                        hint=number_hint(v) if isinstance(v, str) else None,
                    )
                    continue
                if math.isnan(num) or math.isinf(num):
                    self.c.add(
                        (name, i, spec.name),
                        "not a finite number",
                        expected="a finite number",
                        got=describe(num),
                    )
                    continue
                values[i] = num
            return values + 0.0  # -0.0 is 0.0 (no form keeps the sign of zero)
        bad = np.isinf(values)
        for i in np.flatnonzero(bad).tolist():
            self.c.add(
                (name, i, spec.name), "not a finite number", expected="a finite number", got=describe(float(values[i]))
            )
        if bad.any():
            values = np.where(bad, np.nan, values)
        return values + 0.0

    def check_range(self, sec: RawSection, spec: FieldSpec, values: npt.NDArray[np.float64]) -> None:
        with np.errstate(invalid="ignore"):
            if spec.minimum is not None:
                for i in np.flatnonzero(values < spec.minimum).tolist():
                    expected = "a number >= 0" if spec.minimum == 0 else f"a number >= {spec.minimum:g}"
                    msg = "negative quantity" if spec.minimum == 0 else "number too small"
                    self.c.add((sec.name, i, spec.name), msg, expected=expected, got=describe(float(values[i])))
            if spec.maximum is not None:
                for i in np.flatnonzero(values > spec.maximum).tolist():
                    self.c.add(
                        (sec.name, i, spec.name),
                        "number too large",
                        expected=f"a number <= {spec.maximum:g}",
                        got=describe(float(values[i])),
                    )

    def texts(self, sec: RawSection, spec: FieldSpec, col: npt.NDArray[Any]) -> npt.NDArray[Any]:
        values = col.tolist()
        if all(type(v) is str and v for v in values):
            out = np.empty(sec.n, dtype=object)
            out[:] = values
            return out
        clean: list[str | None] = []
        for i, v in enumerate(values):
            t = type(v)
            if isinstance(v, str):
                # an empty text is no text: every form reads it the same way
                clean.append(str(v) if v != "" else None)
            elif _absent(v):
                clean.append(None)
            elif t is int:
                clean.append(str(v))
            elif t is float and float(v).is_integer() and sec.tabular:
                clean.append(str(int(v)))
            else:
                self.c.add((sec.name, i, spec.name), "wrong type", expected="a text", got=describe(v))
                clean.append(None)
        out = np.empty(sec.n, dtype=object)
        out[:] = clean
        return out

    def booleans(self, sec: RawSection, spec: FieldSpec, col: npt.NDArray[Any]) -> npt.NDArray[Any]:
        out = np.empty(sec.n, dtype=object)
        for i, v in enumerate(col.tolist()):
            if _absent(v):
                out[i] = None
            elif isinstance(v, bool):
                out[i] = v
            elif isinstance(v, (int, float)) and v in (0, 1) and sec.tabular:
                out[i] = bool(v)
            elif isinstance(v, str) and sec.tabular and v.strip().lower() in _TRUE | _FALSE:
                out[i] = v.strip().lower() in _TRUE
            elif isinstance(v, str) and sec.tabular and not v.strip():
                out[i] = None
            else:
                out[i] = None
                self.c.add((sec.name, i, spec.name), "wrong type", expected="true or false", got=describe(v))
        return out

    def id_lists(self, sec: RawSection, spec: FieldSpec, col: npt.NDArray[Any]) -> npt.NDArray[Any]:
        out = np.empty(sec.n, dtype=object)
        for i, v in enumerate(col.tolist()):
            if _absent(v):
                out[i] = ()
            elif isinstance(v, str) and sec.tabular:
                out[i] = tuple(p.strip() for p in v.split(";") if p.strip())
            elif isinstance(v, (list, tuple)) and all(isinstance(p, str) for p in v):
                out[i] = tuple(v)
            else:
                out[i] = ()
                expected = "a list of ids (';'-separated in a table cell)" if sec.tabular else "a list of ids"
                self.c.add((sec.name, i, spec.name), "wrong type", expected=expected, got=describe(v))
        return out

    def maps(self, sec: RawSection, spec: FieldSpec, col: npt.NDArray[Any]) -> npt.NDArray[Any]:
        out = np.empty(sec.n, dtype=object)
        numeric = spec.map_values == "number"
        for i, v in enumerate(col.tolist()):
            if type(v) is FrozenMap:  # built and checked column-wise by numeric_maps
                out[i] = v
                continue
            if _absent(v):
                out[i] = _EMPTY_MAP
                continue
            if isinstance(v, str) and sec.tabular and v.strip().startswith("{"):
                with contextlib.suppress(ValueError):
                    v = json.loads(v)
            if not isinstance(v, Mapping):
                out[i] = FrozenMap()
                self.c.add(
                    (sec.name, i, spec.name), "wrong type", expected="a mapping of property to value", got=describe(v)
                )
                continue
            clean: dict[str, Any] = {}
            for key, item in v.items():
                key = str(key)
                if _absent(item) and sec.tabular:
                    continue
                if numeric:
                    num: float | None = None
                    if isinstance(item, (int, float)) and not isinstance(item, bool):
                        num = float(item)
                    elif isinstance(item, str) and sec.tabular:
                        try:
                            num = float(item)
                        except ValueError:
                            num = None
                    if num is None or not math.isfinite(num):
                        self.c.add(
                            (sec.name, i, spec.name, key),
                            "not a finite number",
                            expected="a finite number",
                            got=describe(item),
                        )
                        continue
                    clean[key] = num + 0.0
                else:
                    if isinstance(item, (int, float)) and not isinstance(item, bool):
                        item = str(item)
                    if not isinstance(item, str):
                        self.c.add((sec.name, i, spec.name, key), "wrong type", expected="a text", got=describe(item))
                        continue
                    clean[key] = item
            out[i] = FrozenMap(clean)
        return out

    def capabilities(self, sec: RawSection, spec: FieldSpec, col: npt.NDArray[Any]) -> npt.NDArray[Any]:
        out = np.empty(sec.n, dtype=object)
        # documents repeat the same few capability lists: each is checked once
        parsed: dict[str, tuple[Capability, ...]] = {}
        checked: dict[tuple[Any, ...], tuple[Capability, ...]] = {}
        for i, v in enumerate(col.tolist()):
            out[i] = ()
            if _absent(v):
                continue
            if type(v) is str and sec.tabular and v in parsed:
                out[i] = parsed[v]
                continue
            list_key = _capabilities_key(v) if type(v) is list else None
            if list_key is not None and list_key in checked:
                out[i] = checked[list_key]
                continue
            issues_before = len(self.c.pending)
            if isinstance(v, str) and sec.tabular:
                text = v.strip()
                if text.startswith("["):
                    try:
                        v = json.loads(text)
                    except ValueError:
                        self.c.add(
                            (sec.name, i, spec.name),
                            "malformed list",
                            expected="a JSON list of {name, core}",
                            got=describe(text),
                        )
                        continue
                else:
                    caps = []
                    for part in text.split(";"):
                        part = part.strip()
                        if not part:
                            continue
                        core = not part.endswith("[non-core]")
                        caps.append(Capability(part.removesuffix("[non-core]").strip(), core))
                    out[i] = parsed[v] = tuple(caps)
                    continue
            if not isinstance(v, list):
                self.c.add((sec.name, i, spec.name), "wrong type", expected="a list of {name, core}", got=describe(v))
                continue
            caps = []
            for j, item in enumerate(v):
                if isinstance(item, str):
                    caps.append(Capability(item, True))
                    continue
                if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                    self.c.add(
                        (sec.name, i, spec.name, j),
                        "wrong type",
                        expected="{name: text, core: true|false}",
                        got=describe(item),
                    )
                    continue
                extra = set(item) - {"name", "core"}
                if extra:
                    key = sorted(extra)[0]
                    self.c.add(
                        (sec.name, i, spec.name, j, key), "unknown field", hint=did_you_mean(key, ["name", "core"])
                    )
                core = item.get("core", True)
                if not isinstance(core, bool):
                    self.c.add(
                        (sec.name, i, spec.name, j, "core"), "wrong type", expected="true or false", got=describe(core)
                    )
                    core = True
                caps.append(Capability(item["name"], core))
            out[i] = tuple(caps)
            if list_key is not None and len(self.c.pending) == issues_before:
                checked[list_key] = out[i]
        return out

    # -- sections --------------------------------------------------------------
    def missing_column(self, sec: RawSection, spec: FieldSpec) -> None:
        if sec.tabular:
            if (sec.name, -1, spec.name) not in self.explained:
                self.c.add((sec.name,), f"missing required column {spec.name!r}", expected=f"a column {spec.name!r}")
        else:
            for i in range(sec.n):
                self.missing(sec, i, spec.name)

    def missing(self, sec: RawSection, i: int, name: str, hint: str | None = None) -> None:
        if i in sec.broken_rows or (sec.name, i, name) in self.explained:
            return
        self.c.add((sec.name, i), f"missing required field {name!r}", hint=hint)

    def unknown_columns(self, sec: RawSection, spec: SectionSpec) -> None:
        maps = {f.name for f in spec.fields if f.kind == "map"}
        known = list(dict.fromkeys([f.name for f in spec.fields] + list(spec.roots)))
        for key, col in sec.columns.items():
            if key in spec.by_name or key.startswith("x_"):
                continue
            root = key.split(".", 1)[0]
            if root in maps:
                continue
            hint = did_you_mean(key, known) or "Extensions must start with 'x_'."
            close = nearest(key, known, n=1)
            if sec.tabular:
                self.c.add((sec.name,), f"unknown column {key!r}", hint=hint)
                if close and close[0] not in sec.columns:
                    self.explained.add((sec.name, -1, close[0]))
                continue
            for i, v in enumerate(col.tolist()):
                if v is not MISSING:
                    self.c.add((sec.name, i, key), "unknown field", hint=hint)
                    if close:
                        self.explained.add((sec.name, i, close[0]))

    def section(self, sec: RawSection) -> dict[str, Any]:
        spec = SECTIONS[sec.name]
        self.unknown_columns(sec, spec)
        per_cell = {
            "slug": self.texts,
            "text": self.texts,
            "enum": self.texts,
            "ref": self.texts,
            "unit": self.texts,
            "bool": self.booleans,
            "refs": self.id_lists,
            "map": self.maps,
            "capabilities": self.capabilities,
        }
        for key, raw in list(sec.columns.items()):
            if isinstance(raw, Coded) and (key not in spec.by_name or spec.by_name[key].kind in ("number", "map")):
                sec.columns[key] = raw.expand(np.nan if sec.tabular else None)
        if sec.tabular:
            self.gather_maps(sec, spec)
        clean: dict[str, Any] = {}
        # rows whose quantity is missing: an error unless the flow is marked 'quantified: false',
        # which is read after the quantity (so these are decided once every field is clean)
        unquantifiable: list[int] | None = None
        for f in spec.fields:
            col = sec.columns.get(f.name)
            deferred = sec.name == "flows" and f.name == "quantity"
            if isinstance(col, Coded):
                empty = self.default_column(1, f)[0]
                clean[f.name] = self.on_uniques(sec, f, col, per_cell[f.kind], empty)
                if f.required:
                    for i in np.flatnonzero(col.codes < 0).tolist():
                        self.missing(sec, i, f.name)
                if f.default is not None:
                    done = clean[f.name]
                    if isinstance(done, Coded):
                        clean[f.name] = done.with_default(f.default)
                    else:
                        done = done.copy()
                        done[col.codes < 0] = f.default
                        clean[f.name] = done
                continue
            if col is None:
                if deferred:
                    unquantifiable = list(range(sec.n))
                elif f.required and sec.n:
                    self.missing_column(sec, f)
                if f.kind == "number":
                    clean[f.name] = np.full(sec.n, np.nan)
                else:
                    clean[f.name] = self.default_column(sec.n, f)
                continue
            if f.kind == "number":
                values = self.numbers(sec, f, col)
                self.check_range(sec, f, values)
                clean[f.name] = values
            elif f.kind in ("slug", "text", "enum", "ref", "unit"):
                clean[f.name] = self.texts(sec, f, col)
            elif f.kind == "bool":
                clean[f.name] = self.booleans(sec, f, col)
            elif f.kind == "refs":
                clean[f.name] = self.id_lists(sec, f, col)
            elif f.kind == "map":
                clean[f.name] = self.maps(sec, f, col)
            elif f.kind == "capabilities":
                clean[f.name] = self.capabilities(sec, f, col)
            if f.required and f.kind != "number":
                for i in np.flatnonzero(_is_none(clean[f.name])).tolist():
                    self.missing(sec, i, f.name)
            elif f.required:
                missing = np.isnan(clean[f.name])
                raw_missing = [i for i in np.flatnonzero(missing).tolist() if _empty(col[i], sec.tabular)]
                if deferred:
                    unquantifiable = raw_missing
                    continue
                for i in raw_missing:
                    self.missing(sec, i, f.name)
            if f.default is not None:
                filled = np.array(clean[f.name], dtype=object)
                filled[_is_none(filled)] = f.default
                clean[f.name] = filled
            done = clean[f.name]
            if f.kind == "enum" and not isinstance(done, Coded):
                self.check_choices(sec, f, done)
            elif f.kind == "slug" and not isinstance(done, Coded):
                self.check_slugs(sec, f, done)
        for key, col in sec.columns.items():
            if key.startswith("x_"):
                clean[key] = self.extension_column(sec, col)
                for i in [i for i, v in enumerate(clean[key].tolist()) if _nonfinite(v)]:
                    self.c.add(
                        (sec.name, i, key), "not a finite number", expected="finite numbers", got="inf or nan inside"
                    )
        if sec.name == "flows":
            self.quantified(sec, clean, unquantifiable or [])
        return clean

    def quantified(self, sec: RawSection, clean: dict[str, Any], missing: list[int]) -> None:
        """A flow has a quantity, or is marked ``quantified: false`` and has none."""
        marked = _plain(clean["quantified"])
        unknown = np.asarray([v is False for v in marked.tolist()], dtype=bool)
        hint = (
            "If the exchange is documented but its quantity is not known, write 'quantified: false' "
            "instead of a number (it then counts in the network's structure, not in any quantity)."
        )
        unexplained = [i for i in missing if not unknown[i]]
        if sec.tabular and "quantity" not in sec.columns and unexplained:
            if (sec.name, -1, "quantity") not in self.explained:
                self.c.add((sec.name,), "missing required column 'quantity'", expected="a column 'quantity'", hint=hint)
        else:
            for i in unexplained:
                self.missing(sec, i, "quantity", hint)
        if not unknown.any():
            return
        for name in ("quantity", "uncertainty"):
            given = ~np.isnan(np.asarray(clean[name], dtype=np.float64)) & unknown
            for i in np.flatnonzero(given).tolist():
                self.c.add(
                    (sec.name, i, name),
                    f"a {name} on a flow marked 'quantified: false'",
                    hint=f"Remove the {name}, or remove 'quantified: false' if the quantity is known.",
                )

    def gather_maps(self, sec: RawSection, spec: SectionSpec) -> None:
        """Tabular map fields arrive as dotted columns (``quality.ppm``): gather each into
        one column of mappings (checked column-wise when every part is numeric)."""
        for f in spec.fields:
            if f.kind == "map":
                dotted = [k for k in sec.columns if k.startswith(f.name + ".")]
                numeric = [k for k in dotted if getattr(sec.columns[k], "dtype", None) == np.float64]
                if dotted and len(numeric) == len(dotted) and f.name not in sec.columns and f.map_values == "number":
                    sec.columns[f.name] = self.numeric_maps(sec, f, dotted)
                    continue
                if dotted:
                    merged = np.empty(sec.n, dtype=object)
                    base = sec.columns.get(f.name)
                    for i in range(sec.n):
                        entry = {}
                        if base is not None and not _absent(base[i]):
                            entry["__json__"] = base[i]
                        for k in dotted:
                            v = sec.columns[k][i]
                            if not _absent(v) and v != "":
                                entry[k.split(".", 1)[1]] = v
                        merged[i] = entry if entry else None
                        if "__json__" in entry:
                            self.c.add(
                                (sec.name, i, f.name),
                                "both a JSON cell and dotted columns",
                                hint=f"Use only the '{f.name}.<property>' columns.",
                            )
                            del entry["__json__"]
                    sec.columns[f.name] = merged

    def numeric_maps(self, sec: RawSection, f: FieldSpec, dotted: list[str]) -> npt.NDArray[Any]:
        """Mappings from all-numeric dotted columns (``quality.ppm``), checked column-wise."""
        keys = [k.split(".", 1)[1] for k in dotted]
        arrays = []
        for k, key in zip(dotted, keys, strict=True):
            arr = np.asarray(sec.columns[k], dtype=np.float64)
            for i in np.flatnonzero(np.isinf(arr)).tolist():
                self.c.add(
                    (sec.name, i, f.name, key),
                    "not a finite number",
                    expected="a finite number",
                    got=describe(float(arr[i])),
                )
            arrays.append(np.where(np.isinf(arr), np.nan, arr + 0.0).tolist())
        out = np.empty(sec.n, dtype=object)
        if len(keys) == 1:  # the common case: one quality property
            key = keys[0]
            out[:] = [_EMPTY_MAP if math.isnan(v) else FrozenMap.wrap({key: v}) for v in arrays[0]]
            return out
        out[:] = [
            FrozenMap.wrap({k: v for k, v in zip(keys, row, strict=True) if not math.isnan(v)})
            if not all(math.isnan(v) for v in row)
            else _EMPTY_MAP
            for row in zip(*arrays, strict=True)
        ]
        return out

    def default_column(self, n: int, f: FieldSpec) -> npt.NDArray[Any]:
        if f.kind in {"refs", "capabilities"}:
            value: Any = ()
        elif f.kind == "map":
            value = _EMPTY_MAP
        else:
            value = f.default
        out = np.empty(n, dtype=object)
        out.fill(value)
        return out

    def extension_column(self, sec: RawSection, col: npt.NDArray[Any]) -> npt.NDArray[Any]:
        out = np.empty(sec.n, dtype=object)
        for i, v in enumerate(col.tolist()):
            if sec.tabular:
                out[i] = decode_cell(v)
            else:
                out[i] = freeze(v)
        return out

    def check_choices(self, sec: RawSection, f: FieldSpec, values: npt.NDArray[Any]) -> None:
        allowed = set(f.choices) | {None}
        found = set(values.tolist())
        if found <= allowed:
            return
        for i, v in enumerate(values.tolist()):
            if v not in allowed:
                self.c.add(
                    (sec.name, i, f.name),
                    f"unknown {f.name.replace('_', ' ')}",
                    expected="one of " + ", ".join(repr(c) for c in f.choices),
                    got=describe(v),
                    hint=did_you_mean(str(v), f.choices),
                )

    def check_slugs(self, sec: RawSection, f: FieldSpec, values: npt.NDArray[Any]) -> None:
        for i, v in enumerate(values.tolist()):
            if v is not None and not _SLUG.match(v):
                suggestion = re.sub(r"[^a-z0-9_-]+", "_", v.lower()).strip("_")
                self.c.add(
                    (sec.name, i, f.name),
                    "malformed id",
                    expected="lower-case letters, digits, '_' and '-'",
                    got=describe(v),
                    hint=f"Use {suggestion!r}." if suggestion else None,
                )

    # -- keys and references ---------------------------------------------------
    def keys(self, name: str, values: npt.NDArray[Any]) -> None:
        index: dict[str, int] = {}
        for i, v in enumerate(values.tolist()):
            if v is None:
                continue
            if v in index:
                first = index[v]
                self.c.add(
                    (name, i, "id"),
                    f"duplicate id {v!r}",
                    hint=f"It is already used by {name}[{first}]; ids must be unique.",
                )
                continue
            index[v] = i
        if name == "actors":
            for reserved in BOUNDARY:
                if reserved in index:
                    self.c.add(
                        (name, index[reserved], "id"),
                        f"reserved id {reserved!r}",
                        expected="an id other than 'world' and 'environment'",
                        hint="'world' and 'environment' stand for the ecosystem's boundary in flows.",
                    )
        self.index[name] = index

    def references(self, name: str, cols: dict[str, Any]) -> dict[str, npt.NDArray[np.int64]]:
        spec = SECTIONS[name]
        codes: dict[str, npt.NDArray[np.int64]] = {}
        for f in spec.fields:
            if f.kind not in ("ref", "refs") or f.ref is None:
                continue
            index = self.index.get(f.ref, {})
            what = SECTIONS[f.ref].singular
            col = cols[f.name]
            if f.kind == "ref":
                # look each distinct value up once when the column is dictionary-encoded
                values = (col.values if isinstance(col, Coded) else col).tolist()
                found = [index.get(v, -1) if v is not None else -3 for v in values]
                if f.boundary:
                    found = [
                        -101 if v == "world" else -102 if v == "environment" else c
                        for v, c in zip(values, found, strict=True)
                    ]
                arr = np.asarray(found, dtype=np.int64)
                if isinstance(col, Coded):
                    arr = np.append(arr, -3)[col.codes]
                codes[f.name] = arr
                unknown = np.flatnonzero(arr == -1).tolist()
                plain = _plain(col) if unknown else col
                for i in unknown:
                    v = plain[i]
                    if v in BOUNDARY:
                        self.c.add(
                            (name, i, f.name),
                            f"{v!r} is not an actor here",
                            expected=f"an {what} id",
                            hint="'world' and 'environment' may appear only in flows.",
                        )
                        continue
                    expected = (
                        f"an {what} id, 'world' or 'environment'"
                        if f.boundary
                        else f"an {what} id"
                        if what[0] in "aeiou"
                        else f"a {what} id"
                    )
                    self.c.add(
                        (name, i, f.name), f"unknown {what} {v!r}", expected=expected, hint=did_you_mean(v, index)
                    )
            else:
                for i, items in enumerate(_plain(col).tolist()):
                    for j, v in enumerate(items):
                        if v not in index:
                            self.c.add((name, i, f.name, j), f"unknown {what} {v!r}", hint=did_you_mean(v, index))
        return codes

    # -- units ----------------------------------------------------------------
    def resource_unit_check(self, cols: dict[str, Any]) -> None:
        for i, (rid, unit) in enumerate(zip(_plain(cols["id"]).tolist(), _plain(cols["unit"]).tolist(), strict=True)):
            if unit is None or rid is None:
                continue
            try:
                dimension_of(unit)
            except UnitError as exc:
                self.c.add(("resources", i, "unit"), f"unknown unit {unit!r}", hint=str(exc).split(". ", 1)[-1])
                self.bad_units.add(rid)
                continue
            self.resource_units.setdefault(rid, unit)

    def convert(self, name: str, cols: dict[str, Any]) -> None:
        spec = SECTIONS[name]
        if not any(f.quantity for f in spec.fields):
            return
        quantity_fields = [f.name for f in spec.fields if f.quantity]
        units_given = cols["unit"]
        if isinstance(units_given, Coded) and (units_given.codes < 0).all():
            units_given = cols["unit"] = np.full(len(units_given), None, dtype=object)
        if _is_none(units_given).all():
            return
        unit_col = _plain(units_given).tolist()
        if name == "needs":
            res_col = [
                r if r is not None else (rs[0] if rs else None)
                for r, rs in zip(_plain(cols["resource"]).tolist(), _plain(cols["resources"]).tolist(), strict=True)
            ]
        else:
            res_col = _plain(cols["resource"]).tolist()
        factors = np.ones(len(unit_col))
        pairs: dict[tuple[str, str], list[int]] = {}
        for i, (unit, rid) in enumerate(zip(unit_col, res_col, strict=True)):
            if unit is None or rid is None or rid in self.bad_units:
                continue
            target = self.resource_units.get(rid)
            if target is None:
                continue
            pairs.setdefault((unit, target), []).append(i)
        for (unit, target), rows in pairs.items():
            try:
                factor = conversion_factor(unit, target)
            except UnitError as exc:
                for i in rows:
                    self.c.add(
                        (name, i, "unit"),
                        f"unit {unit!r} does not convert to {target!r}, the unit of resource {res_col[i]!r}"
                        if "does not convert" in str(exc)
                        else f"unknown unit {unit!r}",
                        hint="Give the quantity in a unit of the same dimension, or fix the resource's unit.",
                    )
                continue
            factors[rows] = factor
        for qf in quantity_fields:
            cols[qf] = cols[qf] * factors
        cols["unit"] = np.full(len(unit_col), None, dtype=object)

    # -- semantics --------------------------------------------------------------
    def semantics(self, name: str, cols: dict[str, Any], codes: dict[str, npt.NDArray[np.int64]]) -> None:
        if name == "flows":
            both = (codes["from"] <= -100) & (codes["to"] <= -100)
            rows = np.flatnonzero(both).tolist()
            src, dst = (_plain(cols["from"]), _plain(cols["to"])) if rows else (cols["from"], cols["to"])
            for i in rows:
                self.c.add(
                    (name, i),
                    f"a flow from {src[i]!r} to {dst[i]!r} lies outside the ecosystem",
                    expected="at least one end to be an actor",
                )
        elif name == "needs":
            for i, (r, rs) in enumerate(
                zip(_plain(cols["resource"]).tolist(), _plain(cols["resources"]).tolist(), strict=True)
            ):
                if r is None and not rs:
                    self.c.add((name, i), "no resource", expected="'resource' or a non-empty 'resources' list")
                elif r is not None and rs:
                    self.c.add(
                        (name, i),
                        "both 'resource' and 'resources'",
                        hint="Give one resource, or list every acceptable one under 'resources'.",
                    )
        elif name == "virgin":
            seen: dict[str, int] = {}
            for i, r in enumerate(_plain(cols["resource"]).tolist()):
                if r is None:
                    continue
                if r in seen:
                    self.c.add(
                        (name, i, "resource"),
                        f"second virgin entry for {r!r}",
                        hint=f"virgin[{seen[r]}] already covers it; give one entry per resource.",
                    )
                else:
                    seen[r] = i

    def build(self) -> tuple[str, str, dict[str, Any], dict[str, Table]]:
        name, period, extensions = self.top()
        cleaned: dict[str, dict[str, Any]] = {}
        for sec_name in SECTIONS:
            sec = self.doc.sections.get(sec_name)
            if sec is None:
                continue
            cleaned[sec_name] = self.section(sec)
        for keyed in ("actors", "resources", "modules"):
            if keyed in cleaned:
                self.keys(keyed, _plain(cleaned[keyed]["id"]))
        if "resources" in cleaned:
            self.resource_unit_check(cleaned["resources"])
        tables: dict[str, Table] = {}
        for sec_name, cols in cleaned.items():
            codes = self.references(sec_name, cols)
            self.semantics(sec_name, cols, codes)
            self.convert(sec_name, cols)
            tables[sec_name] = Table(cols, self.doc.sections[sec_name].n)
        return name, period, extensions, tables


def _is_none(values: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    return np.asarray(values == None, dtype=bool)  # noqa: E711 - element-wise on object arrays


def _plain(col: Column) -> npt.NDArray[Any]:
    return col.expand() if isinstance(col, Coded) else col


def decode_cell(value: Any) -> Any:
    """The value of an extension cell in a CSV/Excel table.

    A cell holding JSON (a number, ``true``, ``null``, a quoted text, a list, a mapping) is
    that value; any other text is itself; an empty cell is absent.
    """
    if _absent(value):
        return MISSING
    if not isinstance(value, str):
        return value
    if value == "":
        return MISSING
    try:
        return freeze(json.loads(value))
    except ValueError:
        return value


def encode_cell(value: Any) -> str:
    """Inverse of :func:`decode_cell` for writing a table cell."""
    if value is MISSING:
        return ""
    if isinstance(value, str):
        if value == "":
            return '""'
        try:
            json.loads(value)
        except ValueError:
            return value
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(thaw(value), ensure_ascii=False, allow_nan=True)


def _nonfinite(value: Any) -> bool:
    """Whether an extension's value holds inf or nan anywhere (no form writes them back)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, float):
            if not math.isfinite(v):
                return True
        elif isinstance(v, Mapping):
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
    return False


def build_tables(doc: RawDocument) -> tuple[str, str, dict[str, Any], dict[str, Table]]:
    """Validate ``doc``; return ``(name, period, extensions, tables)`` or raise.

    Raises
    ------
    DocumentError
        With every issue the reader and the checks found.
    """
    builder = _Builder(doc)
    result = builder.build()
    issues = list(doc.issues) + builder.c.issues()
    if issues:
        raise DocumentError(issues, source=doc.source)
    return result
