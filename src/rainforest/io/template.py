"""The spreadsheet template: an Excel workbook to fill in by hand and load back.

Every sheet, header, note and drop-down list comes from the schema declaration
(:data:`rainforest.model.schema.SECTIONS`), so the template never drifts from the format:

- a ``README`` sheet (the guide; the Excel reader skips a sheet of that name),
- the ``ecosystem`` sheet (format, name, period) and one sheet per section, its header in
  row 1 with a note on every header cell (the field's description, unit, whether it is
  required, what leaving it empty means, the choices),
- drop-down lists for the enumerations (stratum, stage, kind, input class, status, supply
  pattern, true/false, units, the period) and for the ids one sheet points into (an
  offer's actor and resource come from the ``actors`` and ``resources`` sheets),
- one example row per sheet, in row 2, filled from the schema's examples, in grey
  italics, its first cell starting with ``e.g.`` (:data:`EXAMPLE_MARK`).

The example row is read and then removed: the Excel reader drops a row whose first cell
starts with ``e.g.`` when every cell still holds the template's example, so a user who
leaves it in gets no phantom actor; a marked row whose other cells were changed is an
error at its place (the user meant data, or forgot to delete it: either way, only they
know), never silently dropped.

``write_template(path, eco)`` writes an ecosystem into the same layout (its rows from row
3, after the example), so a park's data can be downloaded, edited with the drop-downs and
uploaded back; ``load(write_template(eco)) == eco``.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import IO, Any

import yaml

from rainforest.model.ecosystem import Ecosystem
from rainforest.model.edits import section_cells
from rainforest.model.schema import FORMAT, PERIODS, SECTIONS, FieldSpec, SectionSpec
from rainforest.model.validation import encode_cell

__all__ = [
    "EXAMPLE_MARK",
    "GUIDE_SHEET",
    "UNITS",
    "example_row",
    "is_example_row",
    "template_columns",
    "write_template",
]

#: The top sheet, as the Excel reader (io/tabular.py) names it.
TOP_SHEET = "ecosystem"
#: The first cell of an example row starts with this text.
EXAMPLE_MARK = "e.g. "
#: The guide sheet; the Excel reader skips a sheet of this name.
GUIDE_SHEET = "README"
#: The units offered in the drop-down lists (any unit pint understands is accepted:
#: the list warns, it does not refuse).
UNITS = ("t", "kg", "kt", "m**3", "L", "Nm3", "MWh", "kWh", "GWh", "GJ", "MJ", "pc", "h", "EUR", "USD")
#: Rows of a sheet that carry the drop-down lists and the id look-ups.
_LAST_ROW = 5000
_FIRST_DATA_ROW = 3


def _parse_example(spec: FieldSpec) -> Any:
    """The field's example as a value (the schema writes it as YAML)."""
    if not spec.example:
        return None
    return yaml.safe_load(spec.example)


def _map_columns(spec: FieldSpec) -> list[str]:
    """The dotted columns a map field gets in the template: its example's keys."""
    example = _parse_example(spec)
    keys = list(example) if isinstance(example, dict) else []
    return [f"{spec.name}.{k}" for k in keys]


@cache
def template_columns(section: str) -> tuple[str, ...]:
    """The header of ``section``'s sheet: every field in the schema's order, a map field
    as the dotted columns of its example (``quality.contaminant_ppm``)."""
    out: list[str] = []
    for f in SECTIONS[section].fields:
        out.extend(_map_columns(f) if f.kind == "map" else [f.name])
    return tuple(out)


def _example_cell(spec: FieldSpec, value: Any) -> Any:
    if value is None:
        return None
    if spec.kind == "refs" and isinstance(value, list):
        return "; ".join(map(str, value))
    if spec.kind == "capabilities" and isinstance(value, list):
        return "; ".join(
            str(item["name"]) + (" [non-core]" if item.get("core") is False else "")
            for item in value
            if isinstance(item, dict)
        )
    if spec.kind == "bool":
        return "true" if value else "false"  # as the Excel writer and the drop-down write it
    if spec.kind == "number":
        return float(value)
    if spec.kind in ("text", "slug", "ref", "enum", "unit"):
        return str(value)
    return value


#: Examples the example row leaves out so that the row is a valid entry: a flow with a
#: quantity is quantified (in the resource's unit: 150000 kt would be absurd), and a need
#: names 'resource' or 'resources', not both.
_LEFT_OUT = frozenset({("flows", "quantified"), ("flows", "unit"), ("needs", "resources")})


@cache
def example_row(section: str) -> dict[str, Any]:
    """The template's example row of ``section``: column -> cell value, the first cell
    marked with :data:`EXAMPLE_MARK`."""
    spec = SECTIONS[section]
    row: dict[str, Any] = {}
    for f in spec.fields:
        example = None if (section, f.name) in _LEFT_OUT else _parse_example(f)
        if f.kind == "map":
            if isinstance(example, dict):
                for k, v in example.items():
                    row[f"{f.name}.{k}"] = v if isinstance(v, (int, float)) and f.map_values == "number" else str(v)
            continue
        row[f.name] = _example_cell(f, example)
    first = template_columns(section)[0]
    row[first] = f"{EXAMPLE_MARK}{row[first]}"
    return row


def _same(cell: Any, value: Any) -> bool:
    if cell is None or cell == "":
        return value is None
    if value is None:
        return False
    if isinstance(value, bool) or isinstance(cell, bool):
        return str(cell).strip().lower() == str(value).lower()
    if isinstance(value, (int, float)):
        try:
            return math.isclose(float(cell), float(value), rel_tol=1e-12)
        except (TypeError, ValueError):
            return False
    return str(cell).strip() == str(value).strip()


def is_example_row(section: str, cells: Mapping[str, Any]) -> bool | None:
    """Whether a row is the template's example: ``True`` when its first cell is marked
    and every cell holds the example's value (empty where the example has none),
    ``False`` when it is not marked, ``None`` when it is marked but was changed."""
    first = template_columns(section)[0]
    mark = cells.get(first)
    if not (isinstance(mark, str) and mark.startswith(EXAMPLE_MARK.strip())):
        return False
    example = example_row(section)
    for column, cell in cells.items():
        if not _same(cell, example.get(column)):
            return None
    return True


def _note(spec: FieldSpec, section: SectionSpec | None) -> str:
    lines = [spec.description[:1].upper() + spec.description[1:] + "." if spec.description else spec.name]
    lines.append("Required." if spec.required else "Optional.")
    if spec.measured_in:
        lines.append(f"Unit: {spec.measured_in}.")
    if spec.kind == "enum":
        lines.append("One of: " + ", ".join(spec.choices) + ".")
    if spec.default is not None:
        shown = str(spec.default).lower() if isinstance(spec.default, bool) else spec.default
        lines.append(f"Empty means {shown}.")
    elif spec.absent:
        lines.append(f"Empty means: {spec.absent}.")
    if spec.minimum is not None or spec.maximum is not None:
        low = "" if spec.minimum is None else f"at least {spec.minimum:g}"
        high = "" if spec.maximum is None else f"at most {spec.maximum:g}"
        lines.append("Must be " + " and ".join(p for p in (low, high) if p) + ".")
    if spec.kind == "ref":
        where = "an id of the " + (spec.ref or "") + " sheet"
        if spec.boundary:
            where += ", or 'world' / 'environment'"
        lines.append(f"Write {where}.")
    if spec.kind == "refs":
        lines.append(f"Ids of the {spec.ref} sheet, separated by ';'.")
    if spec.kind == "map":
        lines.append(
            f"One column per property, named {spec.name}.<property>: rename this column or add others beside it."
        )
    if spec.kind == "capabilities":
        lines.append("Names separated by ';'; add ' [non-core]' after a non-core one.")
    if spec.kind == "bool":
        lines.append("true or false.")
    if spec.kind == "unit":
        lines.append("Any unit text pint understands (t, kg, MWh, m**3 ...); the list offers common ones.")
    return "\n".join(lines)


def _choices(spec: FieldSpec) -> tuple[Sequence[str], bool] | None:
    """The drop-down of a field and whether it refuses other values."""
    if spec.kind == "enum":
        return spec.choices, True
    if spec.kind == "bool":
        return ("true", "false"), True
    if spec.kind == "unit":
        return UNITS, False
    return None


def _guide(book: Any) -> None:
    from openpyxl.styles import Alignment, Font

    sheet = book.create_sheet(GUIDE_SHEET, 0)
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 110
    lines: list[tuple[str, str]] = [
        ("rainforest template", f"An ecosystem document ({FORMAT}) as a workbook: fill it in and load it back."),
        ("", ""),
        (
            "How to fill it",
            "1. On the 'ecosystem' sheet, write the ecosystem's name (and its period: year, month or day).",
        ),
        ("", "2. One row per entry on each sheet, from row 3. Row 1 is the header: keep its names as they are."),
        ("", "3. Row 2 of each sheet is an example (grey, its first cell starts with 'e.g.'). It is never loaded:"),
        ("", "   leave it or delete it. Change its first cell (remove 'e.g.') to make it a row of your own; a marked"),
        ("", "   row with changed cells is reported, not dropped, so nothing you wrote is lost silently."),
        ("", "4. Hover over a header cell for its note: what the field means, its unit, required or optional, what"),
        ("", "   an empty cell means. Required columns have a dark header."),
        ("", "5. Drop-down lists offer the choices (stratum, stage, kind, status, supply pattern, units, true/false)"),
        ("", "   and the ids of the actors and resources sheets. Units may be any unit pint understands."),
        ("", "6. Lists of ids are separated by ';'. Maps (quality, codes) are one column per property, such as"),
        ("", "   quality.contaminant_ppm: rename the column or add others beside it."),
        ("", "7. Leave a sheet with only its header and example if the park has nothing of that kind."),
        ("", ""),
        ("Load it back", "rainforest check park.xlsx  (lists every problem with its sheet, row and column)"),
        ("", "rainforest convert park.xlsx park.yaml"),
        ("", "In the workbench: 'New ecosystem' on the start page, or 'Import' on an ecosystem's data page."),
        ("", "A workbook with any problem loads nothing; each problem names its sheet, row and column."),
        ("", ""),
        ("Sheets", ""),
        ("ecosystem", "the document: format (keep rainforest/1), name, period"),
    ]
    for spec in SECTIONS.values():
        lines.append((spec.name, spec.description))
    for row, (a, b) in enumerate(lines, start=1):
        sheet.cell(row=row, column=1, value=a).font = Font(bold=True)
        sheet.cell(row=row, column=2, value=b).alignment = Alignment(wrap_text=False)
    sheet["A1"].font = Font(bold=True, size=14)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index))


def _style_header(sheet: Any, names: Sequence[str], notes: Mapping[str, str], required: set[str]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    dark = PatternFill("solid", fgColor="1F5130")
    light = PatternFill("solid", fgColor="D9EAD3")
    for index, name in enumerate(names, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.value = name
        is_required = name in required
        cell.font = Font(bold=True, color="FFFFFF" if is_required else "000000")
        cell.fill = dark if is_required else light
        note = notes.get(name)
        if note:
            comment = Comment(note, "rainforest")
            comment.width = 320
            comment.height = 24 + 16 * (note.count("\n") + 1 + len(note) // 60)
            cell.comment = comment
        sheet.column_dimensions[_column_letter(index)].width = max(12, min(len(name) + 4, 40))
    sheet.freeze_panes = "A2"


def _add_list(sheet: Any, column: int, choices: Sequence[str], strict: bool, first_row: int) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    letter = _column_letter(column)
    formula = '"' + ",".join(choices) + '"'
    validation = DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="stop" if strict else "warning",
        errorTitle="Not in the list",
        error=("Choose one of: " + ", ".join(choices))
        if strict
        else "Not one of the common units: keep it only if pint understands it.",
    )
    validation.add(f"{letter}{first_row}:{letter}{_LAST_ROW}")
    sheet.add_data_validation(validation)


def _add_lookup(sheet: Any, column: int, target: str, boundary: bool, first_row: int) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    letter = _column_letter(column)
    first = template_columns(target)[0]
    source = _column_letter(template_columns(target).index(first) + 1)
    extra = " or 'world' / 'environment'" if boundary else ""
    validation = DataValidation(
        type="list",
        formula1=f"{target}!${source}${first_row}:${source}${_LAST_ROW}",
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle="Unknown id",
        error=f"Not an id of the {target} sheet{extra}. Keep it only if you add that id there.",
    )
    validation.add(f"{letter}{first_row}:{letter}{_LAST_ROW}")
    sheet.add_data_validation(validation)


def _put(sheet: Any, row: int, column: int, value: Any) -> None:
    """One cell: a text stays a text (never a formula), a number keeps all 17 digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return
    if isinstance(value, float) and math.isfinite(value) and float(f"{value:.16g}") != value:
        cell = sheet.cell(row=row, column=column, value=repr(value))
        cell.data_type = "n"
        return
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"


def _section_sheet(book: Any, spec: SectionSpec, eco: Ecosystem | None, example: bool) -> None:
    from openpyxl.styles import Font

    sheet = book.create_sheet(spec.name)
    names = list(template_columns(spec.name))
    data: dict[str, list[Any]] = {}
    rows = 0
    if eco is not None and eco.table(spec.name).n:
        data = section_cells(eco.table(spec.name), spec.name)
        names.extend(c for c in data if c not in names)
        rows = eco.table(spec.name).n
    notes: dict[str, str] = {}
    for f in spec.fields:
        for column in _map_columns(f) if f.kind == "map" else [f.name]:
            notes[column] = _note(f, spec)
    for column in names:
        if column not in notes and "." in column and column.split(".", 1)[0] in spec.by_name:
            notes[column] = _note(spec.by_name[column.split(".", 1)[0]], spec)
    required = {f.name for f in spec.fields if f.required}
    _style_header(sheet, names, notes, required)
    if example:
        cells = example_row(spec.name)
        grey = Font(italic=True, color="808080")
        for index, name in enumerate(names, start=1):
            cell = sheet.cell(row=2, column=index, value=cells.get(name))
            cell.font = grey
    first = _FIRST_DATA_ROW if example else 2
    for r in range(rows):
        for index, name in enumerate(names, start=1):
            if name in data:
                _put(sheet, first + r, index, data[name][r])
    for index, name in enumerate(names, start=1):
        column_field = spec.by_name.get(name)
        if column_field is None:
            continue
        choice = _choices(column_field)
        if choice is not None:
            _add_list(sheet, index, choice[0], choice[1], first)
        elif column_field.kind == "ref" and column_field.ref in SECTIONS:
            _add_lookup(sheet, index, column_field.ref, column_field.boundary, first)


def _top_sheet(book: Any, eco: Ecosystem | None) -> None:
    from openpyxl.styles import Font

    sheet = book.create_sheet(TOP_SHEET)
    names = ["format", "name", "period"]
    notes = {
        "format": "The document's format and version. Keep rainforest/1.\nRequired.",
        "name": "The ecosystem's name (a park, a cluster, a region).\nRequired.",
        "period": "The period every 'per period' quantity refers to.\nOne of: year, month, day.\nEmpty means year.",
    }
    values: list[Any] = [FORMAT, None, "year"]
    if eco is not None:
        values = [FORMAT, eco.name, eco.period]
        for key, value in eco.extensions.items():
            names.append(key)
            values.append(encode_cell(value))
    _style_header(sheet, names, notes, {"format", "name"})
    for index, value in enumerate(values, start=1):
        _put(sheet, 2, index, value)
    if eco is None:
        sheet.cell(row=2, column=2).font = Font(italic=True)
    _add_list(sheet, 3, PERIODS, True, 2)


def _workbook(eco: Ecosystem | None, example: bool) -> Any:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    _guide(book)
    _top_sheet(book, eco)
    for spec in SECTIONS.values():
        _section_sheet(book, spec, eco, example)
    book.active = 1  # open on the 'ecosystem' sheet
    return book


def write_template(
    target: str | os.PathLike[str] | IO[bytes], eco: Ecosystem | None = None, *, example: bool = True
) -> None:
    """Write the spreadsheet template: blank, or holding ``eco``'s entries.

    Parameters
    ----------
    target:
        An ``.xlsx`` path (written beside and moved into place, so it appears whole or
        not at all) or a binary stream.
    eco:
        The ecosystem whose entries fill the sheets from row 3; ``None`` for a blank
        template.
    example:
        Write the example row (row 2) of every sheet.
    """
    book = _workbook(eco, example)
    if not isinstance(target, (str, os.PathLike)):
        book.save(target)
        return
    path = Path(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        book.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
