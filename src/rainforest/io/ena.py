"""Ecological network models: the ``ena-model/1`` JSON of the shared model collection, and
the SCOR text format of NETWRK and enaR (Ulanowicz & Kay 1991).

An ecological network model maps onto a one-resource ecosystem: each compartment is an
actor (``living`` kept), ``flows[i][j]`` are flows between actors, boundary ``inputs``
come from ``environment``, ``exports`` go to ``world`` and ``respirations`` to
``environment``; ``storage`` becomes stocks. Model metadata (citation, units text,
published results) is kept in the top-level extension ``x_ena`` so that it is written
back on save.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path as FilePath
from typing import Any

import numpy as np

from rainforest.errors import DocumentError, FormatError, Issue
from rainforest.model.ecosystem import Ecosystem, build_ecosystem
from rainforest.model.flowmatrix import FlowMatrix
from rainforest.model.schema import ENVIRONMENT, FORMAT, WORLD
from rainforest.model.validation import Path, Place, RawDocument, records_to_section

__all__ = ["ENA_FORMAT", "ena_model_from_data", "ena_model_to_data", "read_scor", "write_scor"]

ENA_FORMAT = "ena-model/1"
_CORE_KEYS = ("format", "n", "nodes", "living", "flows", "inputs", "exports", "respirations", "outputs", "storage")


def node_ids(names: Sequence[str]) -> list[str]:
    """Slug ids for node names, unique (``'Filter Feeders'`` -> ``'filter_feeders'``)."""
    out: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(names):
        base = re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_") or f"node_{i + 1}"
        if base in (WORLD, ENVIRONMENT):
            base = f"{base}_node"
        slug, k = base, 2
        while slug in seen:
            slug, k = f"{base}_{k}", k + 1
        seen.add(slug)
        out.append(slug)
    return out


def _flow_unit_text(meta: dict[str, Any]) -> str | None:
    unit_text = meta.get("units", {}).get("flow") if isinstance(meta.get("units"), dict) else None
    return unit_text if isinstance(unit_text, str) else None


def _model_issues(data: dict[str, Any], label: str, locate: Callable[[Path], Place]) -> list[Issue]:
    issues: list[Issue] = []

    def add(path: Path, message: str, expected: str | None = None, got: str | None = None) -> None:
        place = locate(path)
        from rainforest.model.validation import path_text

        issues.append(
            Issue(
                path_text(path), message, expected=expected, got=got, file=label, line=place.line, column=place.column
            )
        )

    nodes = data.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        add(("nodes",), "missing or empty", expected="a list of node names")
        return issues
    n = len(nodes)
    if "n" in data and data["n"] != n:
        add(("n",), "does not match the node list", expected=str(n), got=str(data["n"]))
    flows = data.get("flows")
    if not isinstance(flows, list) or len(flows) != n or not all(isinstance(r, list) and len(r) == n for r in flows):
        add(("flows",), "wrong shape", expected=f"a {n} x {n} matrix (list of rows)")
    else:
        for i, row in enumerate(flows):
            for j, v in enumerate(row):
                _check_number(v, ("flows", i, j), add)
    for key in ("inputs", "exports", "respirations", "storage"):
        vec = data.get(key)
        if vec is None:
            continue
        if not isinstance(vec, list) or len(vec) != n:
            add((key,), "wrong shape", expected=f"a list of {n} numbers")
            continue
        for i, v in enumerate(vec):
            _check_number(v, (key, i), add)
    living = data.get("living")
    if living is not None and (
        not isinstance(living, list) or len(living) != n or not all(v in (True, False, None, "NA") for v in living)
    ):
        add(("living",), "wrong shape", expected=f"a list of {n} values true, false or 'NA' (unknown)")
    return issues


def _check_number(v: Any, path: Path, add: Callable[..., None]) -> None:
    from rainforest.model.validation import describe

    if v is None:
        return
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        add(path, "wrong type", expected="a number", got=describe(v))
    elif not math.isfinite(v) or v < 0:
        add(path, "not a finite number >= 0", expected="a finite number >= 0", got=describe(float(v)))


def ena_model_from_data(data: dict[str, Any], label: str, locate: Callable[[Path], Place]) -> Ecosystem:
    """The ecosystem of an ``ena-model/1`` mapping (raises DocumentError with every issue)."""
    issues = _model_issues(data, label, locate)
    if issues:
        raise DocumentError(issues, source=label)
    names = [str(v) for v in data["nodes"]]
    ids = node_ids(names)
    n = len(ids)
    living = data.get("living")
    meta = {k: v for k, v in data.items() if k not in _CORE_KEYS}
    resource = "flow"
    # ENA unit texts ('Mt C yr^-1', 'kcal m^-2 d^-1') mix species and areas that a unit
    # registry would misread (C as coulomb); the text is kept, the resource is dimensionless.
    unit_text = _flow_unit_text(meta)
    actors = []
    for i, (aid, name) in enumerate(zip(ids, names, strict=True)):
        rec: dict[str, Any] = {"id": aid, "name": name}
        if living is not None and isinstance(living[i], bool):
            rec["living"] = living[i]
        actors.append(rec)
    flows: list[dict[str, Any]] = []
    matrix = data["flows"]
    for i in range(n):
        for j in range(n):
            v = matrix[i][j]
            if v:
                flows.append({"from": ids[i], "to": ids[j], "resource": resource, "quantity": float(v)})
    for key, src, dst in (("inputs", ENVIRONMENT, None), ("exports", None, WORLD), ("respirations", None, ENVIRONMENT)):
        vec = data.get(key) or [0] * n
        for i, v in enumerate(vec):
            if v:
                flows.append({"from": src or ids[i], "to": dst or ids[i], "resource": resource, "quantity": float(v)})
    stocks = []
    for i, v in enumerate(data.get("storage") or []):
        if v:
            stocks.append({"actor": ids[i], "resource": resource, "quantity": float(v)})
    title = data.get("title") or data.get("id") or label
    top: dict[str, Any] = {"format": FORMAT, "name": str(title), "x_ena": meta}
    sections = {
        "actors": records_to_section("actors", actors)[0],
        "resources": records_to_section("resources", [_flow_resource(resource, unit_text)])[0],
        "flows": records_to_section("flows", flows)[0],
    }
    if stocks:
        sections["stocks"] = records_to_section("stocks", stocks)[0]
    return build_ecosystem(RawDocument(top=top, sections=sections, locate=locate, source=label))


def _flow_resource(resource: str, unit_text: str | None) -> dict[str, Any]:
    record: dict[str, Any] = {"id": resource, "kind": "material", "unit": "dimensionless"}
    if unit_text:
        record["x_unit"] = unit_text
    return record


def _matrix_for(eco: Ecosystem, currency: str | None, resource: str | None) -> FlowMatrix:
    try:
        return FlowMatrix.from_ecosystem(eco, currency, resource=resource)  # type: ignore[arg-type]
    except Exception as exc:
        raise FormatError(
            f"an ecological network model holds one currency: {exc}. Pass currency= or resource= to save()."
        ) from exc


def ena_model_to_data(eco: Ecosystem, currency: str | None = None, resource: str | None = None) -> dict[str, Any]:
    """The ``ena-model/1`` mapping of ``eco`` in one currency."""
    fm = _matrix_for(eco, currency, resource)
    meta = eco.extensions.get("x_ena")
    meta_dict: dict[str, Any] = {}
    if isinstance(meta, Mapping):
        from rainforest.model.table import thaw as _thaw

        meta_dict = _thaw(meta)
    names = [a.name or a.id for a in eco.actors]
    out: dict[str, Any] = {"format": ENA_FORMAT}
    out.update({k: v for k, v in meta_dict.items() if k not in ("title",)})
    out["title"] = meta_dict.get("title", eco.name)
    out["n"] = fm.n
    out["nodes"] = names
    living_col = eco.table("actors")["living"].tolist()
    out["living"] = [v if isinstance(v, bool) else "NA" for v in living_col]
    out["flows"] = fm.dense().tolist()
    out["inputs"] = fm.inputs.tolist()
    out["exports"] = fm.exports.tolist()
    out["respirations"] = fm.losses.tolist()
    out["outputs"] = (fm.exports + fm.losses).tolist()
    out["storage"] = fm.stock.tolist()
    if "units" not in out and fm.unit and fm.unit != "dimensionless":
        out["units"] = {"flow": fm.unit}
    return out


# -- SCOR -----------------------------------------------------------------------------
def _scor_number(text: str) -> float:
    return float(text.strip().replace("D", "E").replace("d", "e"))


def read_scor(path: FilePath, text: str, label: str) -> Ecosystem:
    """Read a SCOR file (title; ``n`` and living count; names; storage, inputs, exports,
    respirations as ``node value`` lines and flows as ``from to value`` lines, each block
    ended by ``-1``). Fixed-width (Fortran) and space-separated numbers are both read."""
    lines = text.splitlines()
    issues: list[Issue] = []

    def bad(line_no: int, message: str, expected: str | None = None, got: str | None = None) -> None:
        issues.append(Issue("", message, expected=expected, got=got, file=label, line=line_no))

    if len(lines) < 3 or not text.strip():
        raise DocumentError(
            [
                Issue(
                    "",
                    "the file is empty or too short",
                    expected="a SCOR model: title, node counts, names and five blocks ended by -1",
                    file=label,
                    line=1,
                )
            ],
            source=label,
        )
    title = lines[0].strip()
    counts = lines[1].split()
    if len(counts) == 1 and len(lines[1].rstrip()) >= 4:
        counts = [lines[1][:3], lines[1][3:6]]
    try:
        n, n_live = int(counts[0]), int(counts[1])
    except (ValueError, IndexError):
        raise DocumentError(
            [
                Issue(
                    "",
                    "malformed node counts",
                    expected="'n n_living' on line 2",
                    got=repr(lines[1]),
                    file=label,
                    line=2,
                )
            ],
            source=label,
        ) from None
    if n <= 0 or not 0 <= n_live <= n or len(lines) < 2 + n:
        raise DocumentError(
            [
                Issue(
                    "",
                    "node counts do not fit the file",
                    expected=f"{n} node names after line 2 and 0 <= living <= {n}",
                    got=f"n={n}, living={n_live}",
                    file=label,
                    line=2,
                )
            ],
            source=label,
        )
    names = [ln.strip() for ln in lines[2 : 2 + n]]
    blocks: list[list[tuple[int, list[str]]]] = [[] for _ in range(5)]
    block = 0
    for k in range(2 + n, len(lines)):
        raw = lines[k]
        if not raw.strip():
            continue
        if block >= 5:
            bad(k + 1, "text after the fifth block", expected="nothing after the flows block's -1")
            break
        parts = raw.split()
        if parts and parts[0] == "-1":
            block += 1
            continue
        if block < 4 and len(parts) == 1 and len(raw) > 4:
            parts = [raw[:3], raw[3:]]
        if block == 4 and len(parts) == 2:
            parts = [raw[:3], raw[3:6], raw[6:]]
        blocks[block].append((k + 1, parts))
    if block < 5:
        bad(
            len(lines),
            f"only {block} of the 5 blocks are ended by -1",
            expected="storage, inputs, exports, respirations and flows, each ended by a line '-1'",
        )
    vectors = [np.zeros(n) for _ in range(4)]
    matrix = np.zeros((n, n))
    for b, entries in enumerate(blocks):
        for line_no, parts in entries:
            try:
                if b < 4:
                    i, value = int(parts[0]), _scor_number(parts[1])
                    if not 1 <= i <= n:
                        raise IndexError
                    vectors[b][i - 1] += value
                else:
                    i, j, value = int(parts[0]), int(parts[1]), _scor_number(parts[2])
                    if not (1 <= i <= n and 1 <= j <= n):
                        raise IndexError
                    matrix[i - 1, j - 1] += value
                if not math.isfinite(value) or value < 0:
                    bad(line_no, "not a finite number >= 0", got=parts[-1])
            except (ValueError, IndexError):
                expected = "'node value'" if b < 4 else "'from to value'"
                bad(line_no, "malformed entry", expected=f"{expected} with nodes 1..{n}", got=repr(" ".join(parts)))
    if issues:
        raise DocumentError(issues, source=label)
    data = {
        "format": ENA_FORMAT,
        "title": title,
        "n": n,
        "nodes": names,
        "living": [i < n_live for i in range(n)],
        "flows": matrix.tolist(),
        "inputs": vectors[1].tolist(),
        "exports": vectors[2].tolist(),
        "respirations": vectors[3].tolist(),
        "storage": vectors[0].tolist(),
    }
    return ena_model_from_data(data, label, lambda p: Place(file=label))


def _fmt(value: float) -> str:
    return repr(float(value))


def write_scor(eco: Ecosystem, currency: str | None = None, resource: str | None = None) -> str:
    """SCOR text of ``eco`` in one currency. Living compartments must come first in SCOR;
    the node order is kept, so a model whose non-living nodes precede living ones is an
    error."""
    fm = _matrix_for(eco, currency, resource)
    living = [v is True for v in eco.table("actors")["living"].tolist()]
    n_live = sum(living)
    if any(living[n_live:]) or not all(living[:n_live]):
        raise FormatError(
            "SCOR lists living compartments first; reorder the actors so that every living one comes before the non-living ones"
        )
    names = [a.name or a.id for a in eco.actors]
    wide = fm.n > 999
    out = [eco.name.replace("\n", " "), f"{fm.n} {n_live}" if wide else f"{fm.n:3d}{n_live:3d}"]
    out.extend(names)

    def idx(i: int) -> str:
        return f"{i} " if wide else f"{i:3d} "

    # enaR's reader expects one storage line per node, then only non-zero entries
    out.extend(f"{idx(i + 1)}{_fmt(v)}" for i, v in enumerate(fm.stock))
    out.append(" -1")
    for vec in (fm.inputs, fm.exports, fm.losses):
        out.extend(f"{idx(i + 1)}{_fmt(v)}" for i, v in enumerate(vec) if v)
        out.append(" -1")
    coo = fm.Z.tocoo()
    order = np.lexsort((coo.col, coo.row))
    for k in order:
        i, j, v = int(coo.row[k]) + 1, int(coo.col[k]) + 1, float(coo.data[k])
        if v:
            out.append(f"{i} {j} {_fmt(v)}" if wide else f"{i:3d}{j:3d} {_fmt(v)}")
    out.append(" -1")
    return "\n".join(out) + "\n"
