"""Reading limits: what a document may hold before a reader refuses it.

Every reader (YAML, JSON, CSV folder or zip, Excel) checks the same :class:`Limits`, so
the CLI, a notebook and the workbench refuse the same documents with the same message.
A document past a limit raises :class:`~rainforest.errors.LimitError` (a
:class:`~rainforest.errors.DocumentError`) naming the limit and how to raise it; nothing
is loaded.

The defaults leave room for a 100,000-actor, 1,000,000-flow ecosystem (about 200 MB of
JSON) and refuse what only a mistake or an attack produces: nesting deeper than any
document needs, a single text of megabytes, a zip that unpacks a hundred times larger
than itself, YAML anchors and aliases (a 400-byte file of nested aliases unpacks to
tens of megabytes).
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from rainforest.errors import Issue, LimitError, ParameterError

__all__ = ["DEFAULT_LIMITS", "Limits"]

_MB = 1_000_000
_NESTED = re.compile(r"(?:\[\]){4,}")  # a path through many nested lists, shown as []*N


@dataclass(frozen=True, slots=True)
class Limits:
    """The most a document may hold when it is read.

    Parameters
    ----------
    max_file_mb:
        Largest file, in megabytes (10^6 bytes): a YAML, JSON or Excel file, each CSV file
        of a folder, or a zip as uploaded.
    max_depth:
        Deepest nesting of lists and mappings in a YAML or JSON document (the document
        itself is level 1; a flow's ``quality`` mapping is level 4).
    max_text_chars:
        Longest text (a name, an id, an extension value), in characters.
    max_rows:
        Most entries in one section (rows of a CSV file or sheet).
    max_unzipped_mb:
        Largest total size of the files in a zip (a zipped CSV folder, or an Excel
        workbook, which is a zip), unpacked, in megabytes.
    max_zip_ratio:
        Largest ratio of unpacked to packed size of a zip entry (ordinary CSV and
        workbooks pack 5 to 20 times; a zip bomb thousands of times).
    yaml_aliases:
        Whether YAML anchors (``&a``) and aliases (``*a``) are read. Off by default: no
        rainforest document needs them and nested aliases expand exponentially.

    Examples
    --------
    >>> from rainforest.io import Limits
    >>> Limits().max_depth
    64
    >>> Limits(max_file_mb=4000).max_file_mb
    4000
    """

    max_file_mb: float = 1000
    max_depth: int = 64
    max_text_chars: int = 1_000_000
    max_rows: int = 10_000_000
    max_unzipped_mb: float = 4000
    max_zip_ratio: float = 200
    yaml_aliases: bool = False

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "yaml_aliases":
                if not isinstance(value, bool):
                    raise TypeError(
                        f"The 'yaml_aliases' parameter of Limits must be true or false. Got {value!r} instead."
                    )
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ParameterError(
                    f"The {f.name!r} parameter of Limits must be a number > 0. Got {value!r} instead.", parameter=f.name
                )


DEFAULT_LIMITS = Limits()

#: How each limit is raised: the CLI option beside the Python setting.
OPTIONS = {
    "max_file_mb": "--max-file-mb",
    "max_depth": "--max-depth",
    "max_text_chars": "--max-text-chars",
    "max_rows": "--max-rows",
    "max_unzipped_mb": "--max-unzipped-mb",
    "max_zip_ratio": "--max-zip-ratio",
    "yaml_aliases": "--yaml-aliases",
}


def limit_error(
    limit: str,
    message: str,
    found: float,
    allowed: float,
    *,
    file: str | None,
    path: str = "",
    line: int | None = None,
    column: int | None = None,
    row: int | None = None,
    expected: str | None = None,
) -> LimitError:
    """The :class:`LimitError` for ``limit``, its hint naming how to raise the limit."""
    option = OPTIONS[limit]
    if limit == "yaml_aliases":
        hint = (
            f"Write the repeated values out in full, or, for a trusted document, allow aliases with {option} "
            "(CLI) or rainforest.io.Limits(yaml_aliases=True) (Python)."
        )
    else:
        hint = (
            f"If the document is trusted, raise the limit with {option} N (CLI) or "
            f"rainforest.io.Limits({limit}=N) passed as limits= to rainforest.load (Python)."
        )
    issue = Issue(path, message, expected=expected, hint=hint, file=file, line=line, column=column, row=row)
    return LimitError(issue, limit=limit, found=found, allowed=allowed, source=file)


def check_file_size(size_bytes: int, limits: Limits, label: str) -> None:
    """Refuse a file above ``limits.max_file_mb``."""
    if size_bytes > limits.max_file_mb * _MB:
        raise limit_error(
            "max_file_mb",
            f"the file is {size_bytes / _MB:,.1f} MB, above the limit of {limits.max_file_mb:,g} MB (max_file_mb)",
            size_bytes / _MB,
            limits.max_file_mb,
            file=label,
        )


def check_rows(n: int, limits: Limits, label: str, section: str) -> None:
    """Refuse a section of more than ``limits.max_rows`` entries."""
    if n > limits.max_rows:
        raise limit_error(
            "max_rows",
            f"{n:,} entries, above the limit of {limits.max_rows:,} per section (max_rows)",
            n,
            limits.max_rows,
            file=label,
            path=section,
        )


def check_texts(values: Iterable[Any], limits: Limits, label: str, where: str) -> None:
    """Refuse a text longer than ``limits.max_text_chars`` among ``values``."""
    longest = max(map(len, [v for v in values if type(v) is str]), default=0)
    _longest_text(longest, limits, label, where)


def _longest_text(longest: int, limits: Limits, label: str, where: str) -> None:
    if longest > limits.max_text_chars:
        raise limit_error(
            "max_text_chars",
            f"a text of {longest:,} characters, above the limit of {limits.max_text_chars:,} (max_text_chars)",
            longest,
            limits.max_text_chars,
            file=label,
            path=where,
        )


def measure(data: Any, limits: Limits, label: str) -> int:
    """Check parsed YAML/JSON data against the depth, text and row limits; return the
    number of mapping keys it holds (compared with the text to find duplicate keys).

    Level by level over columns (all values at one depth under one key), never
    recursive: a million flows cost a few passes in C whatever the document's depth.
    """
    return measure_values([data], 1, "", limits, label)


def measure_values(values: list[Any], depth: int, where: str, limits: Limits, label: str) -> int:
    """:func:`measure` of ``values`` found at nesting level ``depth`` (the document is
    level 1) under the path ``where``."""
    keys = 0
    # (values found at one level under one path, their level, the path for messages)
    stack: list[tuple[list[Any], int, str]] = [(values, depth, where)]
    while stack:
        values, depth, where = stack.pop()
        kinds = set(map(type, values))
        if kinds == {str}:
            _longest_text(max(map(len, values)), limits, label, where)
        elif str in kinds:
            check_texts(values, limits, label, where)
        if dict not in kinds and list not in kinds:
            continue  # parsed YAML and JSON hold dicts and lists, never other containers
        if depth > limits.max_depth:
            raise limit_error(
                "max_depth",
                f"lists and mappings nested more than {limits.max_depth} levels deep (max_depth)",
                depth,
                limits.max_depth,
                file=label,
                path=_NESTED.sub(lambda m: f"[]*{len(m.group()) // 2}", where),
            )
        maps: list[dict[Any, Any]] = values if kinds == {dict} else [v for v in values if type(v) is dict]
        if maps:
            keys += sum(map(len, maps))
            names = dict.fromkeys(itertools.chain.from_iterable(maps))
            check_texts(names, limits, label, where)
            if len(names) <= 64:
                for k in names:
                    try:
                        column = list(map(operator.itemgetter(k), maps))
                    except KeyError:
                        column = [m[k] for m in maps if k in m]
                    stack.append((column, depth + 1, _join(where, str(k))))
            else:  # keys that differ from mapping to mapping: one column, or this is quadratic
                stack.append((list(itertools.chain.from_iterable(m.values() for m in maps)), depth + 1, where))
        lists: list[list[Any]] = values if kinds == {list} else [v for v in values if type(v) is list]
        if lists:
            longest = max(map(len, lists))
            if longest > limits.max_rows:
                check_rows(longest, limits, label, where)
            stack.append((list(itertools.chain.from_iterable(lists)), depth + 1, f"{where}[]"))
    return keys


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def unzip_sizes(infos: Iterable[Any], limits: Limits, label: str) -> None:
    """Refuse a zip whose entries (``zipfile.ZipInfo``) unpack past the size or ratio limits."""
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > 1_000_000 and info.file_size > limits.max_zip_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise limit_error(
                "max_zip_ratio",
                f"the zip entry {info.filename!r} unpacks {ratio:,.0f} times larger than it is packed, "
                f"above the limit of {limits.max_zip_ratio:,g} (max_zip_ratio)",
                ratio,
                limits.max_zip_ratio,
                file=label,
            )
        if total > limits.max_unzipped_mb * _MB:
            raise limit_error(
                "max_unzipped_mb",
                f"the zip unpacks to more than {limits.max_unzipped_mb:,g} MB (max_unzipped_mb)",
                total / _MB,
                limits.max_unzipped_mb,
                file=label,
            )


def limits_from(values: Mapping[str, Any]) -> Limits:
    """A :class:`Limits` from settings given by name (absent or ``None`` = the default)."""
    return Limits(**{k: v for k, v in values.items() if v is not None})
