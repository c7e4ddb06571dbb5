"""YAML and JSON documents, with line and column for every issue."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from rainforest.errors import Issue
from rainforest.io._source import LineIndex
from rainforest.model.schema import SECTIONS
from rainforest.model.validation import Path, Place, RawDocument, records_to_section

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
            except (ValueError, IndexError, AssertionError):
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


def parse_json(text: str, label: str) -> tuple[Any, list[Issue], Callable[[Path], Place]]:
    """Parse JSON text; returns ``(data, issues, locate)`` (``data`` is None on a syntax error)."""
    locate = _json_locator(text, label)
    if not text.strip():
        return (
            None,
            [
                Issue(
                    "",
                    "the file is empty",
                    expected="a JSON object with 'format', 'name' and 'actors'",
                    file=label,
                    line=1,
                )
            ],
            locate,
        )
    dup_found: list[bool] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(items)
        if len(out) != len(items):
            dup_found.append(True)
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        return (
            None,
            [
                Issue(
                    "",
                    f"malformed JSON: {exc.msg}",
                    file=label,
                    line=exc.lineno,
                    column=exc.colno,
                    hint="Check for a missing comma, quote or bracket just before this place.",
                )
            ],
            locate,
        )
    issues: list[Issue] = []
    if dup_found:
        lines = LineIndex(text)
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
    return data, issues, locate


def _path_str(path: Path) -> str:
    from rainforest.model.validation import path_text

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


def parse_yaml(text: str, label: str) -> tuple[Any, list[Issue], Callable[[Path], Place]]:
    """Parse YAML text; returns ``(data, issues, locate)``."""
    import yaml

    locate = _yaml_locator(text, label)
    if not text.strip():
        return (
            None,
            [
                Issue(
                    "",
                    "the file is empty",
                    expected="a YAML mapping with 'format', 'name' and 'actors'",
                    file=label,
                    line=1,
                )
            ],
            locate,
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
    finally:
        loader.dispose()
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
def raw_from_data(data: Any, label: str, locate: Callable[[Path], Place], issues: list[Issue]) -> RawDocument:
    """A :class:`RawDocument` from parsed YAML/JSON data."""
    doc = RawDocument(top={}, sections={}, locate=locate, source=label, issues=list(issues))
    if data is None:
        return doc
    if not isinstance(data, Mapping):
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
    for key, value in data.items():
        key = str(key)
        if key in SECTIONS:
            if value is None:
                value = []
            if not isinstance(value, list):
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
            section, bad_rows = records_to_section(key, value)
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
            doc.top[key] = value
    return doc


def _kind(value: Any) -> str:
    from rainforest.model.validation import describe

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
