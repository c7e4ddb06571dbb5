"""YAML and JSON documents, with line and column for every issue."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from rainforest.errors import Issue, LimitError
from rainforest.io._source import LineIndex
from rainforest.io.limits import (
    DEFAULT_LIMITS,
    Limits,
    check_rows,
    check_texts,
    limit_error,
    measure,
    measure_values,
)
from rainforest.model.schema import SECTIONS
from rainforest.model.table import Coded
from rainforest.model.validation import (
    Path,
    Place,
    RawDocument,
    RawSection,
    describe,
    path_text,
    records_to_section,
)

__all__ = ["dump_json", "dump_yaml", "parse_json", "parse_yaml", "raw_from_data"]


# -- JSON ---------------------------------------------------------------------------
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|NaN|-?Infinity|true|false|null")
_WS = re.compile(r"[ \t\n\r]*")


def json_positions(text: str) -> tuple[dict[Path, int], list[tuple[Path, int]]]:
    """Offsets of every value by path, and of duplicate keys, in a valid JSON text.

    Used only when a document has issues, to give each its line and column.
    """
    positions: dict[Path, int] = {}
    duplicates: list[tuple[Path, int]] = []
    scanstring = json.decoder.scanstring  # type: ignore[attr-defined]

    def ws(i: int) -> int:
        m = _WS.match(text, i)
        assert m is not None
        return m.end()

    def value(i: int, path: Path) -> int:
        i = ws(i)
        positions[path] = i
        ch = text[i]
        if ch == "{":
            i = ws(i + 1)
            seen: set[str] = set()
            if text[i] == "}":
                return i + 1
            while True:
                key_at = i
                key, i = scanstring(text, i + 1)
                if key in seen:
                    duplicates.append(((*path, key), key_at))
                seen.add(key)
                positions.setdefault(("#key", *path, key), key_at)
                i = ws(i)
                i = value(i + 1, (*path, key))
                i = ws(i)
                if text[i] == "}":
                    return i + 1
                i = ws(i + 1)
        if ch == "[":
            i = ws(i + 1)
            if text[i] == "]":
                return i + 1
            k = 0
            while True:
                i = value(i, (*path, k))
                k += 1
                i = ws(i)
                if text[i] == "]":
                    return i + 1
                i += 1
        if ch == '"':
            return int(scanstring(text, i + 1)[1])
        m = _NUMBER.match(text, i)
        assert m is not None
        return m.end()

    value(0, ())
    return positions, duplicates


def _json_locator(text: str, label: str) -> Callable[[Path], Place]:
    cache: dict[str, Any] = {}

    def locate(path: Path) -> Place:
        if "positions" not in cache:
            try:
                cache["positions"] = json_positions(text)[0]
            except (ValueError, IndexError, AssertionError, RecursionError):
                cache["positions"] = {}
            cache["lines"] = LineIndex(text)
        positions: dict[Path, int] = cache["positions"]
        probe = path
        while probe and probe not in positions:
            probe = probe[:-1]
        offset = positions.get(("#key", *path), positions.get(probe, 0))
        line, column = cache["lines"].position(offset)
        return Place(file=label, line=line, column=column)

    return locate


def _constant(name: str) -> float:
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[name]


def _empty(label: str, expected: str) -> Issue:
    """The issue of an empty file; ``expected`` names the document's top (``a JSON object``)."""
    return Issue("", "the file is empty", expected=f"{expected} with 'format', 'name' and 'actors'", file=label, line=1)


def _json_error(exc: json.JSONDecodeError, label: str) -> Issue:
    return Issue(
        "",
        f"malformed JSON: {exc.msg}",
        file=label,
        line=exc.lineno,
        column=exc.colno,
        hint="Check for a missing comma, quote or bracket just before this place.",
    )


def _too_deep(limits: Limits, label: str) -> LimitError:
    return limit_error(
        "max_depth",
        f"lists and mappings nested too deep to read (more than {limits.max_depth} levels allowed, max_depth)",
        math.inf,
        limits.max_depth,
        file=label,
    )


def parse_json(
    text: str, label: str, limits: Limits = DEFAULT_LIMITS
) -> tuple[Any, list[Issue], Callable[[Path], Place]]:
    """Parse JSON text; returns ``(data, issues, locate)`` (``data`` is None on a syntax
    error), every limit checked (see :func:`read_json` for the reader's faster split).

    Raises
    ------
    LimitError
        When the document is past one of ``limits``.
    """
    data, issues, locate, pending = read_json(text, label, limits)
    if data is not None:
        keys = measure(data, limits, label)
        if pending is not None:
            issues.extend(pending(keys))
    return data, issues, locate


#: Finds duplicate keys once the number of keys in the parsed data is known.
KeyCheck = Callable[[int], list[Issue]]


def read_json(
    text: str, label: str, limits: Limits = DEFAULT_LIMITS
) -> tuple[Any, list[Issue], Callable[[Path], Place], KeyCheck | None]:
    """Parse JSON text; returns ``(data, issues, locate, pending)``.

    The limits on the parsed data (depth, texts, rows) are left to the caller, which
    checks them column-wise as it builds the sections (:func:`raw_from_data`), and so is
    the duplicate-key check: ``pending(keys)`` returns the duplicate-key issues given the
    number of keys the data holds (``None`` when they are already in ``issues``).

    msgspec parses (about as fast as JSON parsing gets in Python); a text it refuses
    (a syntax error, or the NaN and Infinity some tools write) goes to the standard
    library's parser, which says where the problem is or reads the constants so that the
    checks report them as values.

    Raises
    ------
    LimitError
        When the document is past one of ``limits``.
    """
    import msgspec

    locate = _json_locator(text, label)
    if not text.strip():
        return (
            None,
            [_empty(label, "a JSON object")],
            locate,
            None,
        )
    try:
        data = msgspec.json.decode(text)
        careful = False
    except (msgspec.DecodeError, RecursionError):
        careful = True
    if careful:
        try:
            data, duplicates = _careful_json(text)
        except json.JSONDecodeError as exc:
            return None, [_json_error(exc, label)], locate, None
        except RecursionError:
            raise _too_deep(limits, label) from None
        except ValueError as exc:  # e.g. an integer of more digits than Python converts
            return None, [Issue("", f"malformed JSON: {exc}", file=label, line=1)], locate, None
        return data, _duplicate_issues(text, label) if duplicates else [], locate, None

    def pending(keys: int) -> list[Issue]:
        return _duplicate_issues(text, label) if _has_duplicate_keys(text, keys) else []

    return data, [], locate, pending


def _duplicate_issues(text: str, label: str) -> list[Issue]:
    lines = LineIndex(text)
    issues: list[Issue] = []
    for path, offset in json_positions(text)[1]:
        line, column = lines.position(offset)
        issues.append(
            Issue(
                _path_str(path),
                f"duplicate key {path[-1]!r}",
                hint="Each key may appear once in a mapping; the later one would silently win.",
                file=label,
                line=line,
                column=column,
            )
        )
    return issues


def _careful_json(text: str) -> tuple[Any, bool]:
    """The standard library's parse, with NaN and Infinity read and duplicate keys noticed."""
    dup_found: list[bool] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(items)
        if len(out) != len(items):
            dup_found.append(True)
        return out

    data = json.loads(text, object_pairs_hook=pairs, parse_constant=_constant)
    return data, bool(dup_found)


_KEY_END = re.compile(r'"[ \t\r\n]*:')


def _has_duplicate_keys(text: str, keys: int) -> bool:
    """Whether a valid JSON text repeats a key in a mapping, given the number of keys the
    parsed data holds (a fast parser keeps the last of duplicates silently).

    Each key in the text is followed by one ':', so more colons than parsed keys means a
    colon inside a text or a duplicate. Counting colons is nearly free; counting
    ``"<space>:`` is exact up to colons right after an escaped quote inside a text; only
    when both disagree does the careful parser decide.
    """
    if text.count(":") == keys:
        return False
    if sum(1 for _ in _KEY_END.finditer(text)) == keys:
        return False
    return _careful_json(text)[1]


def _path_str(path: Path) -> str:
    return path_text(path)


# -- YAML ---------------------------------------------------------------------------
def _yaml_loader() -> type[Any]:
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc,valid-type]
        duplicates: list[tuple[str, int, int]]

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = getattr(key_node, "value", None)
                if key in seen:
                    self.duplicates.append((str(key), key_node.start_mark.line + 1, key_node.start_mark.column + 1))
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return Loader


def _yaml_locator(text: str, label: str) -> Callable[[Path], Place]:
    cache: dict[str, Any] = {}

    def locate(path: Path) -> Place:
        import yaml

        if "root" not in cache:
            try:
                cache["root"] = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            except yaml.YAMLError:
                cache["root"] = None
        node = cache["root"]
        mark = node.start_mark if node is not None else None
        for part in path:
            nxt = None
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if str(key_node.value) == str(part):
                        nxt, mark = value_node, key_node.start_mark
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                nxt = node.value[part]
                mark = nxt.start_mark
            if nxt is None:
                break
            node = nxt
        if mark is None:
            return Place(file=label, line=1)
        return Place(file=label, line=mark.line + 1, column=mark.column + 1)

    return locate


#: where an anchor (``&a``) or an alias (``*a``) may start: at the start of a node. Texts
#: such as ``'R&D'`` or ``'a *b'`` may match too; the event scan then decides.
_ANCHOR = re.compile(r"(?<![^\s\[{,:-])[&*][^\s\]},]")


def _first_alias(text: str) -> tuple[int, int] | None:
    """The 1-based (line, column) of the first YAML anchor or alias in ``text``, if any."""
    import yaml

    if not _ANCHOR.search(text):
        return None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                mark = event.start_mark
                return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    except yaml.YAMLError:
        return None  # the parse below reports the syntax error
    return None


def parse_yaml(
    text: str, label: str, limits: Limits = DEFAULT_LIMITS, *, measured: bool = True
) -> tuple[Any, list[Issue], Callable[[Path], Place]]:
    """Parse YAML text; returns ``(data, issues, locate)``.

    With ``measured=False`` the depth, text and row limits are left to the caller
    (:func:`raw_from_data` checks them column-wise); aliases are refused here.

    Raises
    ------
    LimitError
        For anchors and aliases (unless ``limits.yaml_aliases``) and when the document is
        past one of the other ``limits``.
    """
    import yaml

    locate = _yaml_locator(text, label)
    if not text.strip():
        return (
            None,
            [_empty(label, "a YAML mapping")],
            locate,
        )
    if not limits.yaml_aliases:
        at = _first_alias(text)
        if at is not None:
            raise limit_error(
                "yaml_aliases",
                "a YAML anchor or alias (&name or *name); they are not read (yaml_aliases)",
                1,
                0,
                file=label,
                line=at[0],
                column=at[1],
            )
    Loader = _yaml_loader()
    loader = Loader(text)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "syntax error"
        return (
            None,
            [
                Issue(
                    "",
                    f"malformed YAML: {what}",
                    file=label,
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                    hint="Check the indentation and the ':' and '-' marks around this place.",
                )
            ],
            locate,
        )
    except yaml.YAMLError as exc:
        return None, [Issue("", f"malformed YAML: {exc}", file=label)], locate
    except RecursionError:
        raise _too_deep(limits, label) from None
    except (ValueError, TypeError, OverflowError) as exc:
        # a value the YAML types cannot hold (a date such as 2024-13-45, an integer of
        # more digits than Python converts)
        return None, [Issue("", f"malformed YAML: {exc}", file=label, line=1)], locate
    finally:
        loader.dispose()
    if measured:
        measure(data, limits, label)
    issues = [
        Issue(
            "",
            f"duplicate key {key!r}",
            hint="Each key may appear once in a mapping; the later one would silently win.",
            file=label,
            line=line,
            column=column,
        )
        for key, line, column in loader.duplicates
    ]
    return data, issues, locate


# -- shared -------------------------------------------------------------------------
def raw_from_data(
    data: Any,
    label: str,
    locate: Callable[[Path], Place],
    issues: list[Issue],
    limits: Limits | None = None,
    pending: KeyCheck | None = None,
) -> RawDocument:
    """A :class:`RawDocument` from parsed YAML/JSON data.

    With ``limits``, the data is checked against them section by section on the columns
    built here (the parsers leave this to the reader for speed); ``pending`` then gets the
    number of mapping keys found (see :func:`read_json`).
    """
    doc = RawDocument(top={}, sections={}, locate=locate, source=label, issues=list(issues))
    if data is None:
        return doc
    if not isinstance(data, Mapping):
        if limits is not None:
            measure_values([data], 1, "", limits, label)
        doc.issues.append(
            Issue(
                "",
                "the document is not a mapping",
                expected="a mapping with 'format', 'name' and 'actors'",
                got=_kind(data),
                file=label,
                line=1,
            )
        )
        doc.top = {"format": "rainforest/1", "name": "?", "actors": None}
        doc.broken_sections.add("actors")
        return doc
    keys = len(data)
    for key, value in data.items():
        key = str(key)
        if key in SECTIONS:
            if value is None:
                value = []
            if not isinstance(value, list):
                if limits is not None:
                    keys += measure_values([value], 2, key, limits, label)
                place = locate((key,))
                doc.issues.append(
                    Issue(
                        key,
                        "wrong type",
                        expected=f"a list of {SECTIONS[key].singular} entries",
                        got=_kind(value),
                        file=label,
                        line=place.line,
                        column=place.column,
                    )
                )
                doc.broken_sections.add(key)
                continue
            if limits is not None:
                check_rows(len(value), limits, label, key)
            section, bad_rows = records_to_section(key, value, encode_texts)
            if limits is not None:
                keys += _measure_section(section, [value[i] for i in bad_rows], limits, label)
            for i in bad_rows:
                place = locate((key, i))
                doc.issues.append(
                    Issue(
                        f"{key}[{i}]",
                        "wrong type",
                        expected=f"a mapping (one {SECTIONS[key].singular})",
                        got=_kind(value[i]),
                        file=label,
                        line=place.line,
                        column=place.column,
                    )
                )
            doc.sections[key] = section
        else:
            if limits is not None:
                check_texts([key], limits, label, key)
                keys += measure_values([value], 2, key, limits, label)
            doc.top[key] = value
    if pending is not None:
        doc.issues.extend(pending(keys))
    return doc


def encode_texts(values: list[Any]) -> Coded:
    """Texts or ``None`` dictionary-encoded by pyarrow (in C, twice as fast as a dict
    of codes); an empty text is no text, as in every other form."""
    import pyarrow as pa

    encoded = pa.array(values, type=pa.large_string()).dictionary_encode()
    codes = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    distinct = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    empty = np.flatnonzero(distinct == "")
    if len(empty):
        e = int(empty[0])
        codes[codes == e] = -1
        codes[codes > e] -= 1
        distinct = np.delete(distinct, e)
    return Coded(codes, distinct)


def _measure_section(section: RawSection, broken: list[Any], limits: Limits, label: str) -> int:
    """The limits on one section's columns; returns the mapping keys inside them."""
    name = section.name
    keys = section.keys + measure_values(broken, 3, f"{name}[]", limits, label)
    check_texts(section.columns, limits, label, name)
    for column, values in section.columns.items():
        where = f"{name}[].{column}"
        if isinstance(values, Coded):
            check_texts(values.values.tolist(), limits, label, where)
        elif values.dtype == object:
            keys += measure_values(values.tolist(), 5 if "." in column else 4, where, limits, label)
    return keys


def _kind(value: Any) -> str:
    return describe(value)


def dump_json(data: Mapping[str, Any]) -> str:
    """Pretty JSON text of a document (UTF-8, 2-space indent, trailing newline)."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=True) + "\n"


def dump_yaml(data: Mapping[str, Any]) -> str:
    """YAML text of a document, keys in document order."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text: str = yaml.dump(dict(data), Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)
    return text
