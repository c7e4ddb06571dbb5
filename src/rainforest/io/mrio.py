"""Reading and writing multi-regional input-output systems.

==================  =============================================  ==========================
form                path                                           notes
==================  =============================================  ==========================
``io-system/1``     ``*.json``                                     rainforest's own JSON
pymrio folder       a folder with ``file_parameters.json``         what pymrio's ``save_all``
                                                                   writes, as ``txt`` or
                                                                   ``parquet`` tables
EXIOBASE 3          ``*.zip`` (``IOT_<year>_pxp``/``ixi``), or      the published archive as
                    the folder it unpacks to                       downloaded; ``F_hh`` is
                                                                   read as ``F_Y``
==================  =============================================  ==========================

The ``io-system/1`` JSON holds ``regions``, ``sectors``, ``final_demand_categories``,
``Z`` (``n x n``), ``Y`` (``n x (regions x categories)``) and ``extensions``
(``{name: {"stressors": [...], "F": k x n, "F_Y": k x (regions x categories)}}``), rows and
columns region-major. ``F_Y``, ``units`` (one per stressor) and ``unit`` (the money unit)
are optional.
"""

from __future__ import annotations

import io as _stdio
import json
import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from rainforest.errors import DocumentError, Issue
from rainforest.io.limits import DEFAULT_LIMITS, Limits, check_file_size, limit_error
from rainforest.model.mrio import Extension, MRIOTables

__all__ = ["FORMAT", "load_io_system", "save_io_system"]

FORMAT = "io-system/1"
_MB = 1024 * 1024

# EXIOBASE 3.4's ixi tables name some regions by ISO 3166 alpha-3 codes instead of the
# alpha-2 codes used everywhere else in EXIOBASE 3 (pymrio's parse_exiobase3 fixes this
# the same way).
_EXIOBASE_REGIONS = dict(
    zip(
        [
            "AUS",
            "AUT",
            "BEL",
            "BGR",
            "BRA",
            "CAN",
            "CHE",
            "CHN",
            "CYP",
            "CZE",
            "DEU",
            "DNK",
            "ESP",
            "EST",
            "FIN",
            "FRA",
            "GBR",
            "GRC",
            "HRV",
            "HUN",
            "IDN",
            "IND",
            "IRL",
            "ITA",
            "JPN",
            "KOR",
            "LTU",
            "LUX",
            "LVA",
            "MEX",
            "MLT",
            "NLD",
            "NOR",
            "POL",
            "PRT",
            "ROM",
            "RUS",
            "SVK",
            "SVN",
            "SWE",
            "TUR",
            "TWN",
            "USA",
            "ZAF",
            "WWA",
            "WWE",
            "WWF",
            "WWL",
            "WWM",
        ],
        [
            "AU",
            "AT",
            "BE",
            "BG",
            "BR",
            "CA",
            "CH",
            "CN",
            "CY",
            "CZ",
            "DE",
            "DK",
            "ES",
            "EE",
            "FI",
            "FR",
            "GB",
            "GR",
            "HR",
            "HU",
            "ID",
            "IN",
            "IE",
            "IT",
            "JP",
            "KR",
            "LT",
            "LU",
            "LV",
            "MX",
            "MT",
            "NL",
            "NO",
            "PL",
            "PT",
            "RO",
            "RU",
            "SK",
            "SI",
            "SE",
            "TR",
            "TW",
            "US",
            "ZA",
            "WA",
            "WE",
            "WF",
            "WL",
            "WM",
        ],
        strict=True,
    )
)


def _fail(
    source: str,
    message: str,
    *,
    path: str = "",
    expected: str | None = None,
    got: str | None = None,
    hint: str | None = None,
) -> DocumentError:
    return DocumentError([Issue(path, message, expected=expected, got=got, hint=hint, file=source)])


# ---- io-system/1 JSON ----------------------------------------------------------------


def _matrix(doc: dict[str, Any], key: str, shape: tuple[int, int], source: str, issues: list[Issue]) -> Any:
    value = doc.get(key)
    if value is None:
        issues.append(Issue(key, "missing", expected=f"a {shape[0]} x {shape[1]} array of numbers", file=source))
        return None
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        issues.append(
            Issue(key, "not a rectangular array of numbers", expected=f"{shape[0]} x {shape[1]} numbers", file=source)
        )
        return None
    if arr.ndim == 1 and shape[1] == 1:
        arr = arr.reshape(-1, 1)
    if arr.shape != shape:
        got = " x ".join(str(d) for d in arr.shape) or "a single number"
        issues.append(Issue(key, "wrong shape", expected=f"{shape[0]} x {shape[1]}", got=got, file=source))
        return None
    if not np.isfinite(arr).all():
        bad = tuple(int(v) for v in np.argwhere(~np.isfinite(arr))[0])
        issues.append(
            Issue(
                f"{key}{list(bad)}", "not a finite number", expected="a finite number", got=str(arr[bad]), file=source
            )
        )
        return None
    return arr


def _labels(doc: dict[str, Any], key: str, source: str, issues: list[Issue]) -> tuple[str, ...] | None:
    value = doc.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        issues.append(
            Issue(
                key,
                "missing or not a list of names",
                expected="a non-empty list of strings",
                got=type(value).__name__ if value is not None else None,
                file=source,
            )
        )
        return None
    if len(set(value)) != len(value):
        dupes = sorted({v for v in value if value.count(v) > 1})
        issues.append(Issue(key, "repeated names", expected="unique names", got=", ".join(dupes[:5]), file=source))
        return None
    return tuple(value)


def io_system_from_dict(doc: Any, source: str = "<io-system>") -> MRIOTables:
    """Build an :class:`~rainforest.model.mrio.MRIOTables` from an ``io-system/1`` mapping; every problem is
    reported at once (:class:`DocumentError`)."""
    if not isinstance(doc, dict):
        raise _fail(source, "not an io-system document", expected="a JSON object", got=type(doc).__name__)
    if doc.get("format") != FORMAT:
        raise _fail(source, "unsupported format", path="format", expected=repr(FORMAT), got=repr(doc.get("format")))
    issues: list[Issue] = []
    regions = _labels(doc, "regions", source, issues)
    sectors = _labels(doc, "sectors", source, issues)
    cats = _labels(doc, "final_demand_categories", source, issues)
    if issues or regions is None or sectors is None or cats is None:
        raise DocumentError(issues, source)
    n, m = len(regions) * len(sectors), len(regions) * len(cats)
    Z = _matrix(doc, "Z", (n, n), source, issues)
    Y = _matrix(doc, "Y", (n, m), source, issues)
    extensions: dict[str, Extension] = {}
    raw = doc.get("extensions", {})
    if not isinstance(raw, dict):
        issues.append(Issue("extensions", "not a mapping", expected="{name: {stressors, F, F_Y}}", file=source))
        raw = {}
    for name, ext in raw.items():
        where = f"extensions.{name}"
        if not isinstance(ext, dict):
            issues.append(Issue(where, "not a mapping", expected="{stressors, F, F_Y}", file=source))
            continue
        sub: list[Issue] = []
        stressors = _labels(ext, "stressors", source, sub)
        issues.extend(Issue(f"{where}.{i.path}", i.message, i.expected, i.got, file=source) for i in sub)
        if stressors is None:
            continue
        k = len(stressors)
        sub = []
        F = _matrix(ext, "F", (k, n), source, sub)
        FY = _matrix(ext, "F_Y", (k, m), source, sub) if ext.get("F_Y") is not None else None
        units = ext.get("units")
        if units is not None and (not isinstance(units, list) or len(units) != k):
            sub.append(Issue("units", "one unit per stressor", expected=f"{k} strings", file=source))
            units = None
        issues.extend(Issue(f"{where}.{i.path}", i.message, i.expected, i.got, file=source) for i in sub)
        if F is not None and not sub:
            extensions[name] = Extension(name, stressors, F, FY, tuple(units) if units else None)
    if issues:
        raise DocumentError(issues, source)
    unit = doc.get("unit")
    return MRIOTables(regions, sectors, cats, Z, Y, extensions, str(unit) if unit is not None else None)


def io_system_to_dict(system: MRIOTables) -> dict[str, Any]:
    """The ``io-system/1`` mapping of a system (its inputs, not its results)."""
    import scipy.sparse as sp

    Z: Any = system.Z
    if bool(sp.issparse(Z)):
        Z = system.Z.toarray()
    out: dict[str, Any] = {
        "format": FORMAT,
        "regions": list(system.regions),
        "sectors": list(system.sectors),
        "final_demand_categories": list(system.final_demand_categories),
        "Z": np.asarray(Z).tolist(),
        "Y": system.Y.tolist(),
        "extensions": {},
    }
    if system.unit is not None:
        out["unit"] = system.unit
    for name, e in system.extensions.items():
        ext: dict[str, Any] = {"stressors": list(e.stressors), "F": e.F.tolist()}
        if e.F_Y is not None:
            ext["F_Y"] = e.F_Y.tolist()
        if e.units is not None:
            ext["units"] = list(e.units)
        out["extensions"][name] = ext
    return out


# ---- pymrio folders and EXIOBASE archives ----------------------------------------------


class _Tree:
    """Files of a folder or of a zip archive, by POSIX path relative to the root."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self.zip: zipfile.ZipFile | None = None
        if path.is_dir():
            self.names = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}
        else:
            try:
                self.zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise _fail(
                    str(path),
                    f"not a readable zip archive ({exc})",
                    expected="a pymrio folder, an EXIOBASE zip or an io-system/1 JSON file",
                ) from exc
            self.names = {i.filename for i in self.zip.infolist() if not i.is_dir()}

    def read(self, name: str) -> bytes:
        if self.zip is None:
            return (self.path / name).read_bytes()
        info = self.zip.getinfo(name)
        where = f"{self.path}[{name}]"
        if info.file_size > self.limits.max_unzipped_mb * _MB:
            raise limit_error(
                "max_unzipped_mb",
                f"the table unpacks to {info.file_size / _MB:,.1f} MB, above the limit of "
                f"{self.limits.max_unzipped_mb:,g} MB (max_unzipped_mb)",
                info.file_size / _MB,
                self.limits.max_unzipped_mb,
                file=where,
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > self.limits.max_zip_ratio and info.file_size > _MB:
            raise limit_error(
                "max_zip_ratio",
                f"the table unpacks to {ratio:,.0f} times its packed size, above the limit of "
                f"{self.limits.max_zip_ratio:,g} (max_zip_ratio)",
                ratio,
                self.limits.max_zip_ratio,
                file=where,
            )
        return self.zip.read(name)

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _table(tree: _Tree, folder: str, spec: dict[str, Any], source: str) -> Any:
    """One pymrio table as a DataFrame (txt: tab-separated with header rows and index
    columns as file_parameters.json says; parquet)."""
    import pandas as pd

    name = str(PurePosixPath(folder) / spec["name"]) if folder else str(spec["name"])
    if name not in tree.names:
        raise _fail(source, f"the table {spec['name']!r} named in file_parameters.json is missing", path=name)
    data = tree.read(name)
    where = f"{source}[{name}]"
    try:
        if name.endswith(".parquet"):
            return pd.read_parquet(_stdio.BytesIO(data))
        nr_index = int(spec.get("nr_index_col", 1))
        nr_header = int(spec.get("nr_header", 1))
        return pd.read_csv(
            _stdio.BytesIO(data),
            sep="\t",
            index_col=list(range(nr_index)),
            header=list(range(nr_header)),
        )
    except (ValueError, KeyError, IndexError, OSError) as exc:
        raise _fail(
            where, f"cannot read this table ({exc})", expected="a tab-separated or parquet pymrio table"
        ) from exc


def _params(tree: _Tree, folder: str, source: str) -> dict[str, Any]:
    name = str(PurePosixPath(folder) / "file_parameters.json") if folder else "file_parameters.json"
    try:
        params = json.loads(tree.read(name))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail(f"{source}[{name}]", f"not valid JSON ({exc})") from exc
    if not isinstance(params, dict) or not isinstance(params.get("files"), dict):
        raise _fail(f"{source}[{name}]", "no 'files' table", expected="pymrio's file_parameters.json")
    return params


def _label(value: Any) -> str:
    return " / ".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


def _pymrio_system(tree: _Tree, source: str) -> MRIOTables:
    import pandas as pd

    roots = sorted(
        (str(PurePosixPath(n).parent) for n in tree.names if PurePosixPath(n).name == "file_parameters.json"),
        key=lambda p: (p.count("/"), p),
    )
    core_folder = None
    for folder in roots:
        folder = "" if folder == "." else folder
        if _params(tree, folder, source).get("systemtype") == "IOSystem":
            core_folder = folder
            break
    if core_folder is None:
        raise _fail(
            source,
            "no pymrio system found",
            expected="a file_parameters.json with systemtype 'IOSystem'",
            hint="Save a pymrio system with IOSystem.save_all(path), or give an io-system/1 JSON file.",
        )
    files = _params(tree, core_folder, source)["files"]
    if "Y" not in files:
        raise _fail(source, "the system has no final demand table Y")
    Y = _table(tree, core_folder, files["Y"], source)
    if "Z" in files:
        Z = _table(tree, core_folder, files["Z"], source)
    elif "A" in files and "x" in files:
        A = _table(tree, core_folder, files["A"], source)
        x = _table(tree, core_folder, files["x"], source).reindex(A.columns).to_numpy().ravel()
        Z = A * x[None, :]
    else:
        raise _fail(source, "the system has neither Z nor A with x", expected="Z, or A and x")
    if not isinstance(Z.index, pd.MultiIndex) or Z.index.nlevels != 2:
        raise _fail(source, "Z's rows are not (region, sector) pairs", expected="two index columns")
    index = list(Z.index)
    regions = tuple(dict.fromkeys(str(r) for r, _ in index))
    sectors = tuple(dict.fromkeys(str(s) for _, s in index))
    expected = [(r, s) for r in regions for s in sectors]
    if [(str(r), str(s)) for r, s in index] != expected:
        raise _fail(
            source,
            "Z's rows are not region-major with the same sectors in every region",
            expected="(r1, s1), (r1, s2), ..., (r2, s1), ...",
        )
    Z = Z.reindex(columns=Z.index)
    if Z.isna().to_numpy().any():
        raise _fail(source, "Z's columns do not match its rows")
    Y = Y.reindex(index=Z.index)
    if Y.isna().to_numpy().any():
        raise _fail(source, "Y's rows do not match Z's rows (region, sector)")
    cats = tuple(dict.fromkeys(str(c) for _, c in Y.columns))
    ycols = [(r, c) for r in regions for c in cats]
    Y = Y.reindex(columns=pd.MultiIndex.from_tuples(ycols)).fillna(0.0)
    extensions: dict[str, Extension] = {}
    for folder in roots:
        folder = "" if folder == "." else folder
        if folder == core_folder or not folder.startswith(core_folder):
            continue
        params = _params(tree, folder, source)
        if params.get("systemtype") != "Extension":
            continue
        efiles = params["files"]
        if "F" not in efiles:
            continue
        name = PurePosixPath(folder).name
        F = _table(tree, folder, efiles["F"], source).reindex(columns=Z.index)
        if F.isna().to_numpy().any():
            raise _fail(source, f"extension {name!r}: F's columns do not match Z's sectors")
        fy_key = "F_Y" if "F_Y" in efiles else ("F_hh" if "F_hh" in efiles else None)
        FY = None
        if fy_key is not None:
            FY_df = _table(tree, folder, efiles[fy_key], source)
            FY = FY_df.reindex(index=F.index, columns=pd.MultiIndex.from_tuples(ycols)).fillna(0.0).to_numpy()
        units = None
        if "unit" in efiles:
            u = _table(tree, folder, efiles["unit"], source).reindex(F.index)
            units = tuple(str(v) for v in u.iloc[:, 0])
        extensions[name] = Extension(name, tuple(_label(i) for i in F.index), F.to_numpy(), FY, units)
    unit = None
    if "unit" in files:
        u = _table(tree, core_folder, files["unit"], source)
        values = {str(v) for v in u.iloc[:, 0]}
        unit = values.pop() if len(values) == 1 else None
    if _is_exiobase(tree, core_folder, source):
        regions = tuple(_EXIOBASE_REGIONS.get(r, r) for r in regions)
    return MRIOTables(regions, sectors, cats, Z.to_numpy(), Y.to_numpy(), extensions, unit)


def _is_exiobase(tree: _Tree, folder: str, source: str) -> bool:
    meta = str(PurePosixPath(folder) / "metadata.json") if folder else "metadata.json"
    if meta in tree.names:
        try:
            name = str(json.loads(tree.read(meta)).get("name", ""))
        except (ValueError, UnicodeDecodeError, AttributeError):
            name = ""
        if "exiobase" in name.lower():
            return True
    return re.search(r"IOT_\d{4}_(pxp|ixi)", source) is not None


def load_io_system(path: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> MRIOTables:
    """Read a multi-regional input-output system.

    Parameters
    ----------
    path:
        An ``io-system/1`` JSON file, a folder written by pymrio's ``save_all`` (txt or
        parquet tables), or an EXIOBASE 3 archive (``IOT_<year>_pxp.zip`` / ``ixi``) or
        the folder it unpacks to.
    limits:
        The reading limits (:class:`rainforest.io.Limits`): a JSON file's size, and each
        archive member's unpacked size and compression ratio.

    Raises
    ------
    DocumentError
        The file is missing, of another form, or its tables do not fit together; every
        problem found is listed with its place.
    """
    p = Path(path)
    source = str(path)
    if not p.exists():
        raise _fail(source, "no such file or folder")
    if p.is_file() and p.suffix.lower() == ".json":
        check_file_size(p.stat().st_size, limits, source)
        try:
            doc = json.loads(p.read_bytes(), parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise _fail(source, f"not valid JSON ({exc})", expected="an io-system/1 JSON document") from exc
        return io_system_from_dict(doc, source)
    tree = _Tree(p, limits)
    try:
        return _pymrio_system(tree, source)
    finally:
        tree.close()


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def save_io_system(system: MRIOTables, path: str | Path) -> None:
    """Write a system's inputs as ``io-system/1`` JSON."""
    Path(path).write_text(json.dumps(io_system_to_dict(system)), encoding="utf-8")
