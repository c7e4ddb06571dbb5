"""Reading and writing ecosystem documents in every form.

=============  ==========================  =====================================
form           path                        notes
=============  ==========================  =====================================
``yaml``       ``*.yaml``, ``*.yml``       line and column in every issue
``json``       ``*.json``                  ``rainforest/1``; ``ena-model/1`` is
                                           recognised by its ``format``
``csv``        a folder, or no suffix      one file per section (row numbers);
                                           read also from a ``*.zip`` of the folder
``excel``      ``*.xlsx``, ``*.xlsm``      one sheet per section (row numbers)
``ena-model``  ``*.json`` (by content)     ecological network model, one currency
``scor``       ``*.scor``                  NETWRK/enaR SCOR text, one currency
``graphml``    ``*.graphml``               written only: actors and flows as a
                                           graph for Gephi and networkx
``gexf``       ``*.gexf``                  written only: the same, GEXF 1.3
=============  ==========================  =====================================

Every reader checks the same :class:`Limits` (file size, nesting depth, text length,
rows, unpacked zip size and ratio, YAML aliases); a document past one raises
:class:`~rainforest.errors.LimitError`, which names the limit and how to raise it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import get_args

import numpy as np

from rainforest.choices import Currency
from rainforest.choices import Form as Form
from rainforest.errors import DocumentError, FormatError, Issue, check_choice
from rainforest.io.limits import (
    DEFAULT_LIMITS,
    Limits,
    check_file_size,
    check_rows,
    check_texts,
    measure,
    unzip_sizes,
)
from rainforest.model.ecosystem import Ecosystem, build_ecosystem
from rainforest.model.table import Coded
from rainforest.model.validation import RawDocument

__all__ = ["EXPORT_FORMS", "FORMS", "Form", "Limits", "form_of", "load", "save", "unpack_zip"]

FORMS: tuple[Form, ...] = get_args(Form)
#: Forms written for other tools and never read back (:mod:`rainforest.io.graph`).
EXPORT_FORMS: tuple[str, ...] = ("graphml", "gexf")
_SUFFIXES: dict[str, Form] = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".scor": "scor",
    ".graphml": "graphml",
    ".gexf": "gexf",
}


def form_of(path: str | os.PathLike[str]) -> Form:
    """The form a path is read or written as: by suffix; a folder or a path without a
    suffix is a CSV folder.

    Raises
    ------
    FormatError
        For a suffix no form uses (the message lists the known ones).
    """
    p = Path(path)
    if p.is_dir() or p.suffix == "":
        return "csv"
    suffix = p.suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    raise FormatError(
        f"{p}: unknown file type {suffix!r}. Expected one of "
        + ", ".join(sorted(_SUFFIXES))
        + ", or a folder of CSV files."
    )


def load(path: str | os.PathLike[str], form: Form | None = None, *, limits: Limits | None = None) -> Ecosystem:
    """Load an ecosystem document in any form.

    Parameters
    ----------
    path:
        A YAML, JSON, Excel or SCOR file, a folder of CSV files, or a ``.zip`` of one.
    form:
        Override the form chosen from the path (see :func:`form_of`).
    limits:
        The most the document may hold (:class:`Limits`; the defaults when omitted).

    Returns
    -------
    Ecosystem
        Quantities converted to each resource's unit.

    Raises
    ------
    DocumentError
        With every problem in the document (file, line or row, field path, expected,
        found, nearest valid ids). Nothing is loaded then.
    LimitError
        A :class:`DocumentError` for a document past one of ``limits``: the message names
        the limit and how to raise it.
    FileNotFoundError
        When ``path`` does not exist.

    Examples
    --------
    >>> import rainforest as rf
    >>> eco = rf.load(rf.datasets.path("kalundborg"))
    >>> len(eco.actors)
    10
    >>> from rainforest.io import Limits
    >>> rf.load(rf.datasets.path("kalundborg"), limits=Limits(max_rows=5))
    Traceback (most recent call last):
    ...
    rainforest.errors.LimitError: kalundborg.rainforest.json: 1 problem found; nothing was loaded.
      - kalundborg.rainforest.json: actors: 10 entries, above the limit of 5 per section (max_rows). If the document is trusted, raise the limit with --max-rows N (CLI) or rainforest.io.Limits(max_rows=N) passed as limits= to rainforest.load (Python).
    """
    if form is not None:
        check_choice("form", form, Form, where="load")
    limits = limits or DEFAULT_LIMITS
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file or folder")
    if p.is_file() and p.suffix.lower() == ".zip" and form in (None, "csv"):
        with tempfile.TemporaryDirectory(prefix="rainforest-zip-") as tmp:
            folder = unpack_zip(p, Path(tmp) / (p.stem or "document"), limits=limits)
            doc = _read_csv(folder, limits)
            doc.source = p.name
            return _load_tables(doc, limits)
    chosen = form or form_of(p)
    label = p.name
    if chosen in EXPORT_FORMS:
        raise FormatError(
            f"{p}: {chosen} is written for Gephi and networkx, not read back (a graph keeps actors and "
            "flows only). Load the document it was exported from (YAML, JSON, CSV or Excel)."
        )
    if chosen == "csv":
        return _load_tables(_read_csv(p, limits), limits)
    if p.is_dir():
        raise DocumentError([Issue("", f"a folder, not a {chosen} file", file=str(p))], source=str(p))
    check_file_size(p.stat().st_size, limits, label)
    if chosen == "excel":
        from rainforest.io.tabular import read_excel

        try:
            raw = read_excel(p, limits)
        except DocumentError:
            raise
        except Exception as exc:
            raise DocumentError(
                [
                    Issue(
                        "",
                        f"not a readable Excel workbook ({type(exc).__name__})",
                        expected="an .xlsx workbook with an 'ecosystem' and an 'actors' sheet",
                        hint="Open and save it again in Excel or LibreOffice, or export the document anew.",
                        file=label,
                    )
                ],
                source=label,
            ) from None
        return _load_tables(raw, limits)
    from rainforest.io._source import read_text

    text, issue = read_text(p, label)
    if issue is not None:
        raise DocumentError([issue], source=label)
    assert text is not None
    if chosen == "scor":
        from rainforest.io.ena import read_scor

        return read_scor(p, text, label)
    from rainforest.io import text as texts

    pending: texts.KeyCheck | None = None
    if chosen in ("json", "ena-model"):
        data, issues, locate, pending = texts.read_json(text, label, limits)
    else:
        data, issues, locate = texts.parse_yaml(text, label, limits, measured=False)
    if data is None and issues:
        # a syntax error or an empty file: nothing further can be checked
        raise DocumentError(issues, source=label)
    if isinstance(data, dict) and (data.get("format") == "ena-model/1" or chosen == "ena-model"):
        keys = measure(data, limits, label)
        if pending is not None:
            issues.extend(pending(keys))
        if issues:
            raise DocumentError(issues, source=label)
        from rainforest.io.ena import ena_model_from_data

        return ena_model_from_data(data, label, locate)
    raw = texts.raw_from_data(data, label, locate, issues, limits, pending)
    return build_ecosystem(raw)


def _read_csv(folder: Path, limits: Limits) -> RawDocument:
    from rainforest.io.tabular import read_csv_folder

    if folder.is_dir():
        for child in folder.iterdir():
            if child.suffix.lower() == ".csv" and child.is_file():
                check_file_size(child.stat().st_size, limits, f"{folder.name}/{child.name}")
    return read_csv_folder(folder)


def _checked(doc: RawDocument, limits: Limits) -> RawDocument:
    """Row and text limits on a table form's raw document (the text forms check their
    parsed data as they read it)."""
    for key, value in doc.top.items():
        check_texts([key, value], limits, doc.source or "", key)
    for name, sec in doc.sections.items():
        check_rows(sec.n, limits, doc.source or "", name)
        check_texts(sec.columns, limits, doc.source or "", name)
        for column, values in sec.columns.items():
            cells = values.values if isinstance(values, Coded) else values
            if getattr(cells, "dtype", None) is np.dtype(object):
                check_texts(cells, limits, doc.source or "", f"{name}.{column}")
    return doc


def _load_tables(doc: RawDocument, limits: Limits) -> Ecosystem:
    return build_ecosystem(_checked(doc, limits))


def unpack_zip(path: str | os.PathLike[str], folder: str | os.PathLike[str], *, limits: Limits | None = None) -> Path:
    """Unpack the CSV files of a zipped CSV folder into ``folder`` (created); returns it.

    Only the ``.csv`` entries are taken, each by its own name whatever folder the zip
    keeps it in; the zip is checked against ``limits`` (its size, and the size and
    packing ratio of what it unpacks to) before anything is unpacked.

    Raises
    ------
    DocumentError
        When the file is not a zip, or two entries have the same name.
    LimitError
        When the zip is past one of ``limits``.
    """
    import zipfile
    import zlib

    limits = limits or DEFAULT_LIMITS
    p, out = Path(path), Path(folder)
    label = p.name
    check_file_size(p.stat().st_size, limits, label)
    try:
        with zipfile.ZipFile(p) as archive:
            members = [i for i in archive.infolist() if not i.is_dir() and i.filename.lower().endswith(".csv")]
            unzip_sizes(members, limits, label)
            names = [Path(i.filename.replace("\\", "/")).name for i in members]
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise DocumentError(
                        [Issue("", f"two entries named {name!r}", expected="one CSV file per section", file=label)],
                        source=label,
                    )
                seen.add(name)
            out.mkdir(parents=True, exist_ok=True)
            for info, name in zip(members, names, strict=True):
                with archive.open(info) as src, (out / name).open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        NotImplementedError,  # a compression method zipfile does not know
        RuntimeError,  # an encrypted entry
        EOFError,
        OSError,
        ValueError,
    ) as exc:
        if isinstance(exc, DocumentError):
            raise
        raise DocumentError(
            [
                Issue(
                    "",
                    f"not a readable zip archive ({type(exc).__name__})",
                    expected="a zip of the CSV folder",
                    file=label,
                )
            ],
            source=label,
        ) from None
    return out


def save(
    eco: Ecosystem,
    path: str | os.PathLike[str],
    form: Form | None = None,
    *,
    currency: Currency | None = None,
    resource: str | None = None,
) -> Path:
    """Write ``eco`` to ``path`` in any form; returns the path written.

    The file appears whole or not at all: it is written beside the target and moved
    into place. ``ena-model`` and ``scor`` hold one currency: pass ``currency=`` or
    ``resource=`` when the ecosystem has more than one resource. ``graphml`` and ``gexf``
    are exports for Gephi and networkx (:mod:`rainforest.io.graph`), not read back.

    Examples
    --------
    >>> import rainforest as rf, tempfile, pathlib
    >>> eco = rf.datasets.kalundborg()
    >>> out = rf.save(eco, pathlib.Path(tempfile.mkdtemp()) / "k.yaml")
    >>> rf.load(out) == eco
    True
    """
    if form is not None:
        check_choice("form", form, Form, where="save")
    if currency is not None:
        check_choice("currency", currency, Currency, where="save")
    p = Path(path)
    chosen = form or form_of(p)
    if chosen not in FORMS:
        raise FormatError(f"unknown form {chosen!r}; expected one of {', '.join(FORMS)}")
    p.parent.mkdir(parents=True, exist_ok=True)
    if chosen == "csv":
        from rainforest.io.tabular import write_csv_folder

        tmp = Path(tempfile.mkdtemp(prefix=".rainforest-", dir=p.parent))
        try:
            write_csv_folder(eco, tmp)
            if p.exists():
                if not p.is_dir():
                    raise FormatError(f"{p} exists and is not a folder")
                for child in tmp.iterdir():
                    os.replace(child, p / child.name)
                from rainforest.model.schema import SECTIONS

                written = {c.name for c in p.iterdir()}
                for stale in SECTIONS:
                    if f"{stale}.csv" in written and eco.table(stale).n == 0 and stale != "actors":
                        (p / f"{stale}.csv").unlink()
            else:
                os.replace(tmp, p)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return p
    fd, tmp_name = tempfile.mkstemp(prefix=".rainforest-", suffix=p.suffix, dir=p.parent)
    os.close(fd)
    tmp_path = Path(tmp_name)
    try:
        _write_file(eco, tmp_path, chosen, currency, resource)
        os.replace(tmp_path, p)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return p


def _write_file(eco: Ecosystem, path: Path, form: str, currency: str | None, resource: str | None) -> None:
    if form == "excel":
        from rainforest.io.tabular import write_excel

        write_excel(eco, path)
        return
    text: str
    if form == "json":
        from rainforest.io.text import dump_json

        text = dump_json(eco.to_dict())
    elif form == "yaml":
        from rainforest.io.text import dump_yaml

        text = dump_yaml(eco.to_dict())
    elif form == "ena-model":
        from rainforest.io.ena import ena_model_to_data
        from rainforest.io.text import dump_json

        text = dump_json(ena_model_to_data(eco, currency, resource))
    elif form == "scor":
        from rainforest.io.ena import write_scor

        text = write_scor(eco, currency, resource)
    elif form == "graphml":
        from rainforest.io.graph import graphml_text

        text = graphml_text(eco)
    elif form == "gexf":
        from rainforest.io.graph import gexf_text

        text = gexf_text(eco)
    else:  # pragma: no cover - guarded above
        raise FormatError(form)
    path.write_text(text, encoding="utf-8")
