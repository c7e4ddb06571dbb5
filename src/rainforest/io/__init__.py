"""Reading and writing ecosystem documents in every form.

=============  ==========================  =====================================
form           path                        notes
=============  ==========================  =====================================
``yaml``       ``*.yaml``, ``*.yml``       line and column in every issue
``json``       ``*.json``                  ``rainforest/1``; ``ena-model/1`` is
                                           recognised by its ``format``
``csv``        a folder, or no suffix      one file per section (row numbers)
``excel``      ``*.xlsx``, ``*.xlsm``      one sheet per section (row numbers)
``ena-model``  ``*.json`` (by content)     ecological network model, one currency
``scor``       ``*.scor``                  NETWRK/enaR SCOR text, one currency
=============  ==========================  =====================================
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Literal

from rainforest.errors import DocumentError, FormatError, Issue
from rainforest.model.ecosystem import Ecosystem
from rainforest.model.validation import build_ecosystem

__all__ = ["FORMS", "Form", "form_of", "load", "save"]

Form = Literal["yaml", "json", "csv", "excel", "ena-model", "scor"]
FORMS: tuple[str, ...] = ("yaml", "json", "csv", "excel", "ena-model", "scor")
_SUFFIXES = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".scor": "scor",
}


def form_of(path: str | os.PathLike[str]) -> str:
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


def load(path: str | os.PathLike[str], form: Form | None = None) -> Ecosystem:
    """Load an ecosystem document in any form.

    Parameters
    ----------
    path:
        A YAML, JSON, Excel or SCOR file, or a folder of CSV files.
    form:
        Override the form chosen from the path (see :func:`form_of`).

    Returns
    -------
    Ecosystem
        Quantities converted to each resource's unit.

    Raises
    ------
    DocumentError
        With every problem in the document (file, line or row, field path, expected,
        found, nearest valid ids). Nothing is loaded then.
    FileNotFoundError
        When ``path`` does not exist.

    Examples
    --------
    >>> import rainforest as rf
    >>> eco = rf.load(rf.datasets.path("kalundborg"))
    >>> len(eco.actors)
    10
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file or folder")
    chosen = form or form_of(p)
    label = p.name
    if chosen == "csv":
        from rainforest.io.tabular import read_csv_folder

        return build_ecosystem(read_csv_folder(p))  # type: ignore[no-any-return]
    if chosen == "excel":
        from rainforest.io.tabular import read_excel

        return build_ecosystem(read_excel(p))  # type: ignore[no-any-return]
    from rainforest.io._source import read_text

    if p.is_dir():
        raise DocumentError([Issue("", f"a folder, not a {chosen} file", file=str(p))], source=str(p))
    text, issue = read_text(p, label)
    if issue is not None:
        raise DocumentError([issue], source=label)
    assert text is not None
    if chosen == "scor":
        from rainforest.io.ena import read_scor

        return read_scor(p, text, label)
    from rainforest.io import text as texts

    if chosen in ("json", "ena-model"):
        data, issues, locate = texts.parse_json(text, label)
    else:
        data, issues, locate = texts.parse_yaml(text, label)
    if data is None and issues:
        # a syntax error or an empty file: nothing further can be checked
        raise DocumentError(issues, source=label)
    if isinstance(data, dict) and (data.get("format") == "ena-model/1" or chosen == "ena-model"):
        if issues:
            raise DocumentError(issues, source=label)
        from rainforest.io.ena import ena_model_from_data

        return ena_model_from_data(data, label, locate)
    raw = texts.raw_from_data(data, label, locate, issues)
    return build_ecosystem(raw)  # type: ignore[no-any-return]


def save(
    eco: Ecosystem,
    path: str | os.PathLike[str],
    form: Form | None = None,
    *,
    currency: str | None = None,
    resource: str | None = None,
) -> Path:
    """Write ``eco`` to ``path`` in any form; returns the path written.

    The file appears whole or not at all: it is written beside the target and moved
    into place. ``ena-model`` and ``scor`` hold one currency: pass ``currency=`` or
    ``resource=`` when the ecosystem has more than one resource.

    Examples
    --------
    >>> import rainforest as rf, tempfile, pathlib
    >>> eco = rf.datasets.kalundborg()
    >>> out = rf.save(eco, pathlib.Path(tempfile.mkdtemp()) / "k.yaml")
    >>> rf.load(out) == eco
    True
    """
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
    else:  # pragma: no cover - guarded above
        raise FormatError(form)
    path.write_text(text, encoding="utf-8")
