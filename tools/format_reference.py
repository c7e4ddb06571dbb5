"""The field reference of docs/format.md, generated from the schema declaration.

Every section and field of the ecosystem document is declared once, in
``rainforest.model.schema`` (the validator, the readers and writers and the JSON Schema
read the same tables). This script renders those declarations as Markdown tables and
writes them between the two markers of docs/format.md, so the reference cannot drift
from what rainforest checks. ``tests/test_docs.py`` fails when the file and the
declarations disagree, and prints the command that brings them back together::

    python tools/format_reference.py          # rewrite the marked region of docs/format.md
    python tools/format_reference.py --check  # exit 1 if it is out of date
    python tools/format_reference.py --print  # the generated Markdown alone
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from rainforest.model.schema import FORMAT, SECTIONS, SLUG_PATTERN, TOP_LEVEL, FieldSpec, SectionSpec

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "format.md"
COMMAND = "python tools/format_reference.py"
BEGIN = (
    f"<!-- BEGIN field reference: generated from src/rainforest/model/schema.py by `{COMMAND}`; do not edit by hand -->"
)
END = "<!-- END field reference -->"

_HEADER = (
    "| field | type and allowed values | unit | required | when absent | meaning | example |",
    "|---|---|---|---|---|---|---|",
)


def _code(text: str) -> str:
    return f"`{text}`"


def _quoted_to_code(text: str) -> str:
    """'world' -> `world` (a quote opening after a non-letter; apostrophes stay)."""
    return re.sub(r"(?<![\w'])'([^'\s][^']*?)'(?!\w)", r"`\1`", text)


def _yaml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value: float) -> str:
    return f"{value:g}"


def field_type(spec: FieldSpec) -> str:
    """The field's type with its allowed values, in words."""
    if spec.kind == "slug":
        return f"id matching {_code(SLUG_PATTERN[1:-1])}"
    if spec.kind == "text":
        return "text"
    if spec.kind == "unit":
        return "unit text"
    if spec.kind == "bool":
        return "`true` or `false`"
    if spec.kind == "enum":
        return "one of " + ", ".join(_code(c) for c in spec.choices)
    if spec.kind == "number":
        low, high = spec.minimum, spec.maximum
        if low is not None and high is not None:
            return f"number from {_number(low)} to {_number(high)}"
        if low is not None:
            return f"number >= {_number(low)}"
        return "number (may be negative)" if spec.name == "change" else "number"
    if spec.kind == "ref":
        target = SECTIONS[spec.ref].singular if spec.ref else "entry"
        return f"{target} id, `world` or `environment`" if spec.boundary else f"{target} id"
    if spec.kind == "refs":
        target = SECTIONS[spec.ref].singular if spec.ref else "entry"
        return f"list of {target} ids"
    if spec.kind == "map":
        return "mapping of name to " + ("number" if spec.map_values == "number" else "text")
    if spec.kind == "capabilities":
        return "list of `{name, core}` (`core`: `true` or `false`)"
    raise AssertionError(spec.kind)  # pragma: no cover


def when_absent(spec: FieldSpec) -> str:
    """What leaving the field out means: its default, a stated rule, or nothing."""
    if spec.default is not None:
        return f"{_code(_yaml_value(spec.default))} (default)"
    if spec.absent:
        return _quoted_to_code(spec.absent)
    return "error" if spec.required else "not given"


def field_row(spec: FieldSpec, name: str | None = None) -> str:
    meaning = _quoted_to_code(spec.description) or "-"
    if spec.added:
        meaning = f"*added by rainforest:* {meaning}"
    cells = (
        _code(name or spec.name),
        field_type(spec),
        spec.measured_in or "-",
        "yes" if spec.required else "no",
        when_absent(spec),
        meaning,
        _code(spec.example) if spec.example else "-",
    )
    return "| " + " | ".join(cells) + " |"


def _top_level() -> list[str]:
    rows = [field_row(f) for f in TOP_LEVEL]
    for name, spec in SECTIONS.items():
        required = name == "actors"
        rows.append(
            "| "
            + " | ".join(
                (
                    _code(name),
                    f"list ([below](#{name}))",
                    "-",
                    "yes, at least one" if required else "no",
                    "error" if required else "an empty list",
                    _quoted_to_code(spec.description) or "-",
                    "-",
                )
            )
            + " |"
        )
    return ["### Top level", "", *_HEADER, *rows]


def section_table(spec: SectionSpec) -> list[str]:
    """The heading, what the section holds and one row per field (dotted fields by name)."""
    about = _quoted_to_code(spec.description)
    lines = [f"### `{spec.name}`", "", f"{about[:1].upper()}{about[1:]}."]
    if spec.key:
        lines[-1] += f" Each {spec.singular}'s `{spec.key}` is unique."
    lines += ["", *_HEADER, *(field_row(f) for f in spec.fields)]
    return lines


def reference() -> str:
    """The generated Markdown: every section and every field of the document."""
    lines = [
        BEGIN,
        "",
        f"Every document starts with `format: {FORMAT}`. A field whose name starts with `x_` is an",
        "extension, at any level: it is kept as written and never an error. Any other unknown",
        "field is an error naming the nearest known one. Numbers per period are per the",
        "document's `period`; *the row's unit* is the entry's `unit`, or its resource's unit when",
        "the entry gives none, and every quantity is converted to the resource's unit on load.",
        "",
        *_top_level(),
    ]
    for spec in SECTIONS.values():
        lines += ["", *section_table(spec)]
    lines += ["", END]
    return "\n".join(lines) + "\n"


def updated(text: str) -> str:
    """``text`` (docs/format.md) with its marked region replaced by :func:`reference`."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{TARGET}: the markers of the generated region are missing:\n{BEGIN}\n{END}")
    return text[:start] + reference() + text[end + len(END) + 1 :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="exit 1 when docs/format.md is out of date")
    group.add_argument("--print", action="store_true", help="print the generated Markdown only")
    args = parser.parse_args(argv)
    if args.print:
        sys.stdout.write(reference())
        return 0
    text = TARGET.read_text(encoding="utf-8")
    new = updated(text)
    if args.check:
        if new != text:
            print(f"{TARGET} is out of date; run: {COMMAND}", file=sys.stderr)
            return 1
        return 0
    if new != text:
        TARGET.write_text(new, encoding="utf-8")
        print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
