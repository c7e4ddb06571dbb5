"""Tables: a folder of CSV files, or an Excel workbook with one sheet per section.

Cells: numbers as numbers, lists of ids ``;``-separated, maps as dotted columns
(``quality.contaminant_ppm``), capabilities as ``name; other [non-core]`` (or a JSON
list), booleans ``true``/``false``, extension (``x_*``) cells as JSON when they hold JSON.
Rows are spreadsheet rows: the header is row 1, the first entry row 2; a problem's place
also names the column (1-based, shown as a letter). An Excel workbook made from the
template (:mod:`rainforest.io.template`) may have a ``README`` sheet, which is skipped, and
example rows (first cell ``e.g. ...``), which are left out when unchanged; an Excel row
with no value at all between entries is skipped.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import io
import math
from collections.abc import Mapping
from pathlib import Path as FilePath
from typing import Any

import numpy as np

from rainforest.errors import Issue, did_you_mean
from rainforest.io._source import foreign_bom, read_text
from rainforest.io.limits import DEFAULT_LIMITS, Limits, unzip_sizes
from rainforest.io.template import EXAMPLE_MARK, GUIDE_SHEET, TOP_SHEET, is_example_row
from rainforest.model.ecosystem import Ecosystem
from rainforest.model.edits import section_cells
from rainforest.model.schema import FORMAT, SECTIONS
from rainforest.model.validation import Coded, Column, Path, Place, RawDocument, RawSection, encode_cell

__all__ = ["TOP_SHEET", "read_csv_folder", "read_excel", "table_rows", "write_csv_folder", "write_excel"]


def _tabular_locator(files: Mapping[str, str], headers: Mapping[str, list[str]], rows: Mapping[str, list[int]]) -> Any:
    """Places of a table's paths: the file (or sheet), the spreadsheet row (the header is
    row 1; ``rows`` maps an entry to its row where rows were skipped, as the template's
    example) and the column of the field in the header (1-based), read as filled in:
    ``headers`` and ``rows`` are filled while reading."""

    def column(section: str, names: Path) -> int | None:
        header = headers.get(section)
        if not header or not names:
            return None
        parts = [str(p) for p in names]
        for width in range(len(parts), 0, -1):
            name = ".".join(parts[:width])
            if name in header:
                return header.index(name) + 1
        return None

    def locate(path: Path) -> Place:
        if not path:
            return Place(file=files.get(TOP_SHEET))
        head = str(path[0])
        if head in SECTIONS:
            label = files.get(head)
            if len(path) >= 2 and isinstance(path[1], int):
                index = path[1]
                kept = rows.get(head)
                row = kept[index] if kept is not None and 0 <= index < len(kept) else index + 2
                return Place(file=label, row=row, column=column(head, path[2:]))
            return Place(file=label, row=1)
        return Place(file=files.get(TOP_SHEET), row=2, column=column(TOP_SHEET, path[:1]))

    return locate


def _numeric_columns(section: str) -> set[str]:
    return {f.name for f in SECTIONS[section].fields if f.kind == "number"}


def _header_issues(header: list[str], label: str) -> list[Issue]:
    issues = []
    seen: set[str] = set()
    for name in header:
        if name in seen:
            issues.append(
                Issue("", f"duplicate column {name!r}", hint="Each column may appear once.", file=label, row=1)
            )
        seen.add(name)
        if not name.strip():
            issues.append(
                Issue("", "a column without a name", expected="a header name for every column", file=label, row=1)
            )
    return issues


def _read_top_csv(path: FilePath, label: str, doc: RawDocument, headers: dict[str, list[str]]) -> None:
    text, issue = read_text(path, label)
    if issue:
        doc.issues.append(issue)
        return
    assert text is not None
    # csv.reader over a stream, not str.splitlines(): a quoted cell may hold line breaks,
    # and splitlines() also breaks on U+2028 and other separators inside a cell
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)]
    if not rows:
        doc.issues.append(
            Issue(
                "",
                "the file is empty",
                expected="a header row (format,name,period) and one value row",
                file=label,
                row=1,
            )
        )
        return
    if len(rows) != 2:
        doc.issues.append(
            Issue(
                "",
                f"{len(rows)} rows",
                expected="a header row and exactly one value row",
                file=label,
                row=min(len(rows), 3),
            )
        )
        return
    header, values = rows
    headers[TOP_SHEET] = [h.strip() for h in header]
    doc.issues.extend(_header_issues(header, label))
    values = values + [""] * (len(header) - len(values))
    for key, value in zip(header, values, strict=False):
        key = key.strip()
        if value == "":
            continue
        doc.top[key] = _decode_top(key, value)


def _decode_top(key: str, value: Any) -> Any:
    if key.startswith("x_") and isinstance(value, str):
        from rainforest.model.validation import decode_cell

        return decode_cell(value)
    return value


def read_csv_folder(folder: FilePath) -> RawDocument:
    """Read a folder of CSV files into a raw document (all issues gathered, none raised)."""
    import pandas as pd

    label_root = folder.name
    files = {stem: f"{label_root}/{stem}.csv" for stem in [*SECTIONS, TOP_SHEET]}
    headers: dict[str, list[str]] = {}
    doc = RawDocument(top={}, sections={}, locate=_tabular_locator(files, headers, {}), source=str(folder))
    if not folder.is_dir():
        doc.issues.append(Issue("", "no such folder", file=str(folder)))
        return doc
    csvs = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
    known = [*SECTIONS, TOP_SHEET]
    if not any(p.stem in known for p in csvs):
        found = ", ".join(p.name for p in sorted(folder.iterdir())[:10]) or "nothing"
        doc.issues.append(
            Issue(
                "",
                "the folder holds no ecosystem",
                expected="ecosystem.csv and actors.csv (and other section files such as flows.csv)",
                got=found,
                file=str(folder),
                hint="Write one with `rainforest convert doc.yaml folder/` or `rainforest generate`.",
            )
        )
        doc.broken_sections.add("actors")
        doc.top = {"format": FORMAT, "name": folder.name}
        return doc
    for p in csvs:
        if p.stem not in known:
            doc.issues.append(
                Issue(
                    "",
                    f"unknown file {p.name!r}",
                    hint=(did_you_mean(p.stem, known) or "").replace("?", ".csv?").replace("'.csv?", ".csv'?")
                    or "Section files are named after the sections, e.g. flows.csv.",
                    file=files.get(p.stem, f"{label_root}/{p.name}"),
                )
            )
    top = folder / "ecosystem.csv"
    if top.exists():
        _read_top_csv(top, files[TOP_SHEET], doc, headers)
    else:
        doc.issues.append(
            Issue(
                "",
                "missing file ecosystem.csv",
                expected="ecosystem.csv with the columns format,name (and period)",
                file=f"{label_root}/ecosystem.csv",
                hint=f"Write a file with the two lines 'format,name' and '{FORMAT},<name>'.",
            )
        )
        doc.top.setdefault("format", FORMAT)
        doc.top.setdefault("name", folder.name)
    for section in SECTIONS:
        path = folder / f"{section}.csv"
        if not path.exists():
            continue
        label = files[section]
        with path.open("rb") as fh:
            head = fh.read(4096)
        encoding = foreign_bom(head)
        if encoding:
            doc.issues.append(
                Issue(
                    "",
                    f"the file is encoded as {encoding}",
                    expected="UTF-8 text",
                    hint="Save the file as UTF-8.",
                    file=label,
                    row=1,
                )
            )
            doc.broken_sections.add(section)
            continue
        text_head = head.decode("utf-8-sig", errors="replace")
        if not text_head.strip():
            doc.issues.append(
                Issue("", "the file is empty", expected="a header row naming the columns", file=label, row=1)
            )
            doc.broken_sections.add(section)
            continue
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
            header = next(csv.reader(fh))  # the first record, however long
        header = [h.strip() for h in header]
        headers[section] = header
        header_issues = _header_issues(header, label)
        if header_issues:
            doc.issues.extend(header_issues)
            doc.broken_sections.add(section)
            continue
        numeric = _numeric_columns(section)
        number_maps = tuple(
            f"{f.name}." for f in SECTIONS[section].fields if f.kind == "map" and f.map_values == "number"
        )
        dtype = {h: str for h in header if h not in numeric and not h.startswith(number_maps)}
        fast = _read_arrow(path, header, dtype)
        if fast is not None:
            doc.sections[section] = RawSection(section, fast[0], fast[1], tabular=True)
            continue
        try:
            frame = _read_frame(path, dtype)
        except UnicodeDecodeError:
            _, issue = read_text(path, label)
            if issue:
                doc.issues.append(issue)
            doc.broken_sections.add(section)
            continue
        except pd.errors.ParserError as exc:
            doc.issues.append(
                Issue(
                    "",
                    f"malformed CSV: {exc}".strip(),
                    hint="Every row needs as many cells as the header has columns; quote cells that hold commas.",
                    file=label,
                )
            )
            doc.broken_sections.add(section)
            continue
        frame.columns = [str(c).strip() for c in frame.columns]
        columns = {name: _as_column(frame[name]) for name in frame.columns}
        doc.sections[section] = RawSection(section, columns, len(frame), tabular=True)
    return doc


def _read_arrow(path: FilePath, header: list[str], text: dict[str, Any]) -> tuple[dict[str, Column], int] | None:
    """The fast path: pyarrow parses with several threads straight into dictionary-encoded
    text and float columns. ``None`` when the file needs the careful path (a cell that is
    not a number in a number column, ragged rows, ...), which then reports the problem with
    its row."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    types = {h: (pa.dictionary(pa.int32(), pa.string()) if h in text else pa.float64()) for h in header}
    try:
        table = pcsv.read_csv(
            path,
            convert_options=pcsv.ConvertOptions(
                column_types=types, null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=False
            ),
        )
        table = table.unify_dictionaries()
    except (pa.ArrowException, OSError, ValueError):
        return None
    if table.column_names != header:
        return None
    columns: dict[str, Column] = {}
    for name in header:
        chunked = table.column(name)
        array = chunked.combine_chunks() if chunked.num_chunks != 1 else chunked.chunk(0)
        if name in text:
            codes = np.asarray(pc.fill_null(array.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
            values = np.asarray(array.dictionary.to_numpy(zero_copy_only=False), dtype=object)
            columns[name] = Coded(codes, values)
        else:
            numbers = np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.float64)
            written_nan = np.isnan(numbers) & ~np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            if written_nan.any():  # the text 'nan' is a value to report, not an empty cell
                raw = numbers.astype(object)
                raw[written_nan] = "nan"
                columns[name] = raw
            else:
                columns[name] = numbers
    return columns, table.num_rows


def _read_frame(path: FilePath, dtype: dict[str, Any]) -> Any:
    """Parse one CSV file: pyarrow's multi-threaded parser when the file suits it (about
    4x faster than pandas' C parser), else the C parser, whose messages name the offending
    line."""
    import pandas as pd

    options: dict[str, Any] = {"dtype": dtype, "keep_default_na": False, "na_values": [""], "encoding": "utf-8-sig"}
    with contextlib.suppress(Exception):  # any trouble: the C parser below says what
        frame = pd.read_csv(path, engine="pyarrow", **options)
        return _restore_nan_texts(path, frame, dtype, options)
    return pd.read_csv(path, **options)


def _restore_nan_texts(path: FilePath, frame: Any, dtype: dict[str, Any], options: dict[str, Any]) -> Any:
    """pyarrow reads the text 'nan' as a missing number; an empty cell is absent but
    'nan' is an error to report, so number columns with gaps are read again as text."""
    import pandas as pd

    gaps = [c for c in frame.columns if c not in dtype and frame[c].dtype.kind == "f" and frame[c].isna().any()]
    if not gaps:
        return frame
    text = pd.read_csv(path, engine="pyarrow", usecols=gaps, **{**options, "dtype": dict.fromkeys(gaps, str)})
    for c in gaps:
        written = text[c].notna().to_numpy() & frame[c].isna().to_numpy()
        if written.any():
            values = frame[c].to_numpy(dtype=object)
            values[written] = text[c].to_numpy(dtype=object)[written]
            frame[c] = pd.Series(values, index=frame.index, dtype=object)
    return frame


def _as_column(series: Any) -> Column:
    """Numbers as float64; text dictionary-encoded, so each distinct value is checked once."""
    import pandas as pd

    kind = series.dtype.kind
    if kind in "fiu":
        return np.asarray(series.to_numpy(dtype=np.float64))
    if kind == "b":
        return np.asarray(series.to_numpy(dtype=object))
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return Coded(np.asarray(codes, dtype=np.int64), np.asarray(uniques.to_numpy(dtype=object)))


def read_excel(path: FilePath, limits: Limits | None = None) -> RawDocument:
    """Read an Excel workbook (one sheet per section, ``ecosystem`` for the top level).

    A workbook is a zip: what it unpacks to is checked against ``limits`` first.
    """
    import zipfile
    from zipfile import BadZipFile

    label = path.name
    infos: list[zipfile.ZipInfo] = []
    with contextlib.suppress(BadZipFile, OSError, ValueError, EOFError), zipfile.ZipFile(path) as archive:
        infos = archive.infolist()  # a broken file is reported below, as openpyxl finds it
    unzip_sizes(infos, limits or DEFAULT_LIMITS, label)
    files = {s: f"{label}[{s}]" for s in [*SECTIONS, TOP_SHEET]}
    headers: dict[str, list[str]] = {}
    kept_rows: dict[str, list[int]] = {}
    doc = RawDocument(top={}, sections={}, locate=_tabular_locator(files, headers, kept_rows), source=str(path))
    try:
        book = _Book(path)
    except Exception as exc:
        size = path.stat().st_size if path.exists() else 0
        what = "the file is empty" if size == 0 else f"not an Excel workbook ({type(exc).__name__})"
        doc.issues.append(
            Issue("", what, expected="an .xlsx workbook with an 'ecosystem' and an 'actors' sheet", file=label)
        )
        doc.broken_sections.add("actors")
        doc.top = {"format": FORMAT, "name": path.stem}
        return doc
    try:
        names = list(book.names)
        known = [*SECTIONS, TOP_SHEET]
        for name in names:
            if name not in known and name.casefold() != GUIDE_SHEET.casefold():
                doc.issues.append(
                    Issue(
                        "",
                        f"unknown sheet {name!r}",
                        hint=did_you_mean(name, known) or "Sheets are named after the sections, e.g. 'flows'.",
                        file=label,
                    )
                )
        if TOP_SHEET in names:
            rows = book.rows(TOP_SHEET)
            if len(rows) < 2:
                doc.issues.append(
                    Issue(
                        "",
                        "the sheet is empty",
                        expected="a header row (format, name, period) and one value row",
                        file=files[TOP_SHEET],
                        row=1,
                    )
                )
            else:
                header = [str(h).strip() if h is not None else "" for h in rows[0]]
                headers[TOP_SHEET] = header
                doc.issues.extend(_header_issues(header, files[TOP_SHEET]))
                for key, value in zip(header, rows[1], strict=False):
                    if value is not None and value != "":
                        doc.top[key] = _decode_top(key, value)
                if len(rows) > 2:
                    doc.issues.append(
                        Issue(
                            "",
                            f"{len(rows)} rows",
                            expected="a header row and exactly one value row",
                            file=files[TOP_SHEET],
                            row=3,
                        )
                    )
        else:
            doc.issues.append(
                Issue(
                    "",
                    "missing sheet 'ecosystem'",
                    expected="a sheet 'ecosystem' with the columns format, name (and period)",
                    file=label,
                )
            )
            doc.top.setdefault("format", FORMAT)
            doc.top.setdefault("name", path.stem)
        if "actors" not in names:
            doc.issues.append(
                Issue(
                    "", "missing sheet 'actors'", expected="a sheet 'actors' with at least an 'id' column", file=label
                )
            )
            doc.broken_sections.add("actors")
        for section in SECTIONS:
            if section not in names:
                continue
            rows = book.rows(section)
            if not rows:
                doc.issues.append(
                    Issue(
                        "", "the sheet is empty", expected="a header row naming the columns", file=files[section], row=1
                    )
                )
                doc.broken_sections.add(section)
                continue
            header = [str(h).strip() if h is not None else "" for h in rows[0]]
            headers[section] = header
            issues = _header_issues(header, files[section])
            if issues:
                doc.issues.extend(issues)
                doc.broken_sections.add(section)
                continue
            body = rows[1:]
            # the template's example rows, and rows left empty between entries (a cleared
            # example, a gap), are no entries; the others keep their spreadsheet row
            skipped = _example_rows(section, header, body, files[section], doc.issues)
            skipped.update(i for i, r in enumerate(body) if all(v is None or v == "" for v in r))
            if skipped:
                kept_rows[section] = [i + 2 for i in range(len(body)) if i not in skipped]
                body = [r for i, r in enumerate(body) if i not in skipped]
            n = len(body)
            width = len(header)
            if n and min(map(len, body)) < width:
                body = [(*r, *([None] * (width - len(r)))) for r in body]
            cells = list(zip(*body, strict=False))[:width] if n else [() for _ in header]
            columns = {name: _cells_column(section, name, list(col)) for name, col in zip(header, cells, strict=True)}
            doc.sections[section] = RawSection(section, columns, n, tabular=True)
    finally:
        book.close()
    return doc


def _example_rows(
    section: str, header: list[str], body: list[tuple[Any, ...]], label: str, issues: list[Issue]
) -> set[int]:
    """The rows of ``body`` that are the template's example (their first cell starts with
    'e.g.'; see :mod:`rainforest.io.template`): left out of the section. One whose
    cells were changed is also reported: it holds something the user wrote."""
    out: set[int] = set()
    mark = EXAMPLE_MARK.strip()
    for i, r in enumerate(body):
        if not (r and isinstance(r[0], str) and r[0].startswith(mark)):
            continue
        out.add(i)
        cells = {name: (r[j] if j < len(r) else None) for j, name in enumerate(header)}
        if is_example_row(section, cells) is None:
            issues.append(
                Issue(
                    section,
                    "the template's example row was changed",
                    expected="the example as the template wrote it (it is then skipped), or an entry of your own",
                    got=f"a first cell {str(r[0])[:40]!r} and other cells changed",
                    hint=f"Delete the row if it is the example, or remove {mark!r} from its first cell to make it "
                    "an entry.",
                    file=label,
                    row=i + 2,
                    column=1,
                )
            )
    return out


class _Book:
    """A workbook's sheets as rows of cell values, empty cells ``None``: python-calamine
    (Rust; about 10x faster than openpyxl here, see bench/bench_load.py --forms) when it
    is installed, else openpyxl in read-only mode. Read from memory, so that a workbook
    an engine fails on leaves no file open."""

    def __init__(self, path: FilePath) -> None:
        data = io.BytesIO(path.read_bytes())
        self._calamine: Any = None
        self._openpyxl: Any = None
        if importlib.util.find_spec("python_calamine") is not None:
            from python_calamine import CalamineWorkbook

            self._calamine = CalamineWorkbook.from_filelike(data)
            self.names: list[str] = list(self._calamine.sheet_names)
        else:
            import openpyxl

            self._openpyxl = openpyxl.load_workbook(data, read_only=True, data_only=True)
            self.names = list(self._openpyxl.sheetnames)

    def rows(self, name: str) -> list[tuple[Any, ...]]:
        """The rows of sheet ``name`` (row 1 first), trailing empty rows left out; an
        empty cell is ``None`` or an empty text."""
        if self._calamine is not None:
            raw = self._calamine.get_sheet_by_name(name).to_python(skip_empty_area=False)
        else:
            raw = self._openpyxl[name].iter_rows(values_only=True)
        rows: list[tuple[Any, ...]] = list(map(tuple, raw))
        while rows and all(v is None or v == "" for v in rows[-1]):
            rows.pop()
        return rows

    def close(self) -> None:
        if self._openpyxl is not None:
            self._openpyxl.close()
        if self._calamine is not None:
            self._calamine.close()


_TEXT_KINDS = frozenset({"slug", "text", "enum", "ref", "unit"})


def _cells_column(section: str, name: str, values: list[Any]) -> Column:
    """A sheet's column as the CSV reader gives it: known text fields whose cells are all
    texts dictionary-encoded, number fields whose cells are all numbers as float64 (NaN =
    empty), anything else as objects for the cell-by-cell checks."""
    if "" in values:  # an empty cell, as some engines give it
        values = [None if type(v) is str and v == "" else v for v in values]
    f = SECTIONS[section].by_name.get(name)
    kinds = set(map(type, values))
    if f is not None and f.kind in _TEXT_KINDS and kinds <= {str, type(None)}:
        from rainforest.io.text import encode_texts

        return encode_texts(values)
    if f is not None and f.kind == "number" and kinds <= {float, int, type(None)}:
        with contextlib.suppress(OverflowError):
            return np.asarray([math.nan if v is None else v for v in values], dtype=np.float64)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


# -- writing --------------------------------------------------------------------------
def table_rows(eco: Ecosystem, section: str) -> dict[str, list[Any]]:
    """The columns of a section as cell values (absent = None), columns that carry
    nothing (all absent or all at the default) left out (see
    :func:`rainforest.model.edits.section_cells`)."""
    return section_cells(eco.table(section), section)


def _top_row(eco: Ecosystem) -> dict[str, Any]:
    row: dict[str, Any] = {"format": FORMAT, "name": eco.name}
    if eco.period != "year":
        row["period"] = eco.period
    for key, value in eco.extensions.items():
        row[key] = encode_cell(value)
    return row


def write_csv_folder(eco: Ecosystem, folder: FilePath) -> None:
    """Write ``eco`` as a folder of CSV files (sections with no entries are left out)."""
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    for stale in [*SECTIONS, TOP_SHEET]:
        target = folder / f"{stale}.csv"
        if target.exists():
            target.unlink()
    top = _top_row(eco)
    with (folder / "ecosystem.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(list(top))
        writer.writerow(list(top.values()))
    for section in SECTIONS:
        if eco.table(section).n == 0 and section != "actors":
            continue
        columns = table_rows(eco, section)
        frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
        frame.to_csv(folder / f"{section}.csv", index=False, lineterminator="\n")


def write_excel(eco: Ecosystem, path: FilePath) -> None:
    """Write ``eco`` as an Excel workbook (one sheet per non-empty section)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(TOP_SHEET)
    top = _top_row(eco)
    sheet.append(list(top))
    sheet.append([_excel_cell(sheet, v) for v in top.values()])
    for section in SECTIONS:
        if eco.table(section).n == 0 and section != "actors":
            continue
        columns = table_rows(eco, section)
        sheet = book.create_sheet(section)
        names = list(columns)
        sheet.append(names)
        for row in zip(*columns.values(), strict=True):
            sheet.append([_excel_cell(sheet, v) for v in row])
    book.save(path)


def _excel_cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value) and float(f"{value:.16g}") != value:
        # openpyxl writes numbers with 16 significant digits; give it all 17
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=repr(value))
        cell.data_type = "n"
        return cell
    if isinstance(value, str) and value.startswith("="):
        # openpyxl would store it as a formula; keep it text
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value
