"""Multi-regional input-output (rainforest.analysis.mrio, rainforest.io.mrio, `rainforest io`).

Reference: pymrio 0.7 (Stadler 2021, J. Open Res. Softw. 9:8) on its own bundled test
system (6 regions x 8 sectors, 7 final demand categories, two extensions); every quantity
must equal pymrio's ``calc_all(include_ghosh=True)`` within 1e-9 of the array's largest
entry.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import rainforest as rf
from rainforest.analysis.mrio import ACCOUNT_NAMES, Extension, IOSystem
from rainforest.cli import app
from rainforest.errors import DocumentError, SizeLimitError
from rainforest.io.mrio import io_system_to_dict, load_io_system, save_io_system

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pymrio

TOL = 1e-9


def _load(path: Path) -> IOSystem:
    return IOSystem.from_tables(load_io_system(path))


def _close(ours: Any, theirs: Any, what: str) -> None:
    a, b = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != pymrio's {b.shape}"
    scale = max(float(np.abs(b).max(initial=0.0)), 1e-300)
    worst = float(np.abs(a - b).max(initial=0.0)) / scale
    assert worst <= TOL, f"{what}: differs from pymrio by {worst:.2e} of its largest entry"


@pytest.fixture(scope="module")
def reference() -> Iterator[Any]:
    """pymrio's test system with every account computed by pymrio."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        system = pymrio.load_test()
        system.calc_all(include_ghosh=True)
    return system


@pytest.fixture(scope="module")
def saved(reference: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The test system as pymrio's save_all writes it, in txt and parquet."""
    root = tmp_path_factory.mktemp("pymrio")
    paths = {"txt": root / "txt", "parquet": root / "parquet"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fmt, path in paths.items():
            reference.save_all(path, table_format=fmt)
    return paths


def _assert_equal_to_pymrio(io: IOSystem, reference: Any) -> None:
    _close(io.x, reference.x.to_numpy().ravel(), "x")
    _close(io.A(), reference.A, "A")
    _close(io.L(), reference.L, "L")
    _close(io.G(), reference.G, "G")
    _close(io.B(), reference.B, "B")
    assert set(io.extensions) == {"emissions", "factor_inputs"}
    for name in io.extensions:
        ext = getattr(reference, name)
        acc = io.accounts(name)
        for account in ACCOUNT_NAMES:
            _close(getattr(acc, account), getattr(ext, account), f"{name}.{account}")


@pytest.mark.parametrize("fmt", ["txt", "parquet"])
@pytest.mark.parametrize("method", ["lu", "regional"])
def test_every_quantity_equals_pymrio(fmt: str, method: str, saved: dict[str, Path], reference: Any) -> None:
    io = dataclasses.replace(_load(saved[fmt]), method=method)
    assert io.regions == tuple(reference.get_regions())
    assert io.sectors == tuple(reference.get_sectors())
    assert io.final_demand_categories == tuple(reference.get_Y_categories())
    assert io.extensions["emissions"].stressors == ("emission_type1 / air", "emission_type2 / water")
    assert io.unit == "Mill USD"
    _assert_equal_to_pymrio(io, reference)


def test_aggregation_equals_pymrio(saved: dict[str, Path], reference: Any) -> None:
    regions = {"reg1": "north", "reg2": "north", "reg3": "south", "reg4": "south", "reg5": "east", "reg6": "east"}
    sectors = {s: ("primary" if s in ("food", "mining") else "other") for s in reference.get_sectors()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = reference.copy()
        theirs.aggregate(region_agg=list(regions.values()), sector_agg=list(sectors.values()))
        # pymrio 0.7's aggregate keeps the old Ghosh results (G, B, M_down): drop them so
        # calc_all computes them for the aggregated system
        theirs.G = theirs.B = None
        for ext in theirs.get_extensions(data=True):
            ext.M_down = None
        theirs.calc_all(include_ghosh=True)
    ours = _load(saved["txt"]).aggregate(regions=regions, sectors=sectors)
    assert ours.regions == ("north", "south", "east")
    assert ours.sectors == ("primary", "other")
    _close(ours.Z, theirs.Z, "Z")
    _close(ours.Y, theirs.Y, "Y")
    _assert_equal_to_pymrio(ours, theirs)


def test_aggregation_by_concordance_matrix(saved: dict[str, Path]) -> None:
    io = _load(saved["txt"])
    C = np.zeros((2, 6))
    C[0, :3] = C[1, 3:] = 1.0
    by_matrix = io.aggregate(regions=C, region_names=["west", "rest"])
    by_map = io.aggregate(regions={r: ("west" if i < 3 else "rest") for i, r in enumerate(io.regions)})
    assert by_matrix.regions == by_map.regions == ("west", "rest")
    np.testing.assert_allclose(by_matrix.Z, by_map.Z)
    with pytest.raises(rf.FormatError, match="no new label for 'reg6'"):
        io.aggregate(regions=dict.fromkeys(io.regions[:5], "x"))


def _exiobase_zip(folder: Path, target: Path) -> Path:
    """A folder in EXIOBASE 3's published layout: everything under IOT_<year>_<kind>/,
    final-demand stressors of one extension named F_hh (as before EXIOBASE 3.8)."""
    inner = target.stem
    staged = target.parent / "staged" / inner
    shutil.copytree(folder, staged)
    ext = staged / "emissions"
    params = json.loads((ext / "file_parameters.json").read_text())
    entry = params["files"].pop("F_Y")
    (ext / entry["name"]).rename(ext / "F_hh.txt")
    params["files"]["F_hh"] = {**entry, "name": "F_hh.txt"}
    (ext / "file_parameters.json").write_text(json.dumps(params))
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(staged.rglob("*")):
            if path.is_file():
                zf.write(path, f"{inner}/{path.relative_to(staged).as_posix()}")
    return target


def test_exiobase_archive_layout_reads_as_pymrio_parses_it(saved: dict[str, Path], tmp_path: Path) -> None:
    archive = _exiobase_zip(saved["txt"], tmp_path / "IOT_2011_pxp.zip")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pymrio.parse_exiobase3(archive)
        theirs.calc_all(include_ghosh=True)
    ours = _load(archive)
    assert ours.extensions["emissions"].F_Y is not None  # F_hh read as F_Y
    _assert_equal_to_pymrio(ours, theirs)


def test_exiobase_iso3_region_names_are_renamed_as_pymrio_does(tmp_path: Path) -> None:
    io = IOSystem(("AUT", "DEU"), ("s",), ("hh",), np.array([[1.0, 2.0], [3.0, 4.0]]), np.eye(2) * 10)
    folder = tmp_path / "IOT_2000_ixi"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandas as pd

        idx = pd.MultiIndex.from_tuples(io.index, names=["region", "sector"])
        cols = pd.MultiIndex.from_tuples(io.y_index, names=["region", "category"])
        theirs = pymrio.IOSystem(
            Z=pd.DataFrame(io.Z, index=idx, columns=idx), Y=pd.DataFrame(io.Y, index=idx, columns=cols)
        )
        theirs.save_all(folder)
        parsed = pymrio.parse_exiobase3(folder)
    assert _load(folder).regions == tuple(parsed.get_regions()) == ("AT", "DE")


def test_io_system_json_round_trip_and_cli(saved: dict[str, Path], reference: Any, tmp_path: Path) -> None:
    path = tmp_path / "system.json"
    save_io_system(_load(saved["parquet"]), path)
    assert json.loads(path.read_text())["format"] == "io-system/1"
    result = CliRunner().invoke(app, ["io", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {"x", "A", "L", "G", "extensions"}
    _close(out["L"], reference.L, "L (CLI)")
    _close(out["G"], reference.G, "G (CLI)")
    emissions = out["extensions"]["emissions"]
    assert set(emissions) == {"stressors", *ACCOUNT_NAMES}
    for account in ACCOUNT_NAMES:
        _close(emissions[account], getattr(reference.emissions, account), f"emissions.{account} (CLI)")
    text = CliRunner().invoke(app, ["io", str(saved["txt"])])
    assert text.exit_code == 0, text.output
    assert "consumption = production - exports + imports" in text.stdout
    assert "e+" not in text.stdout  # numbers as people write them


def test_bad_io_system_lists_every_problem(tmp_path: Path) -> None:
    doc: dict[str, Any] = {
        "format": "io-system/1",
        "regions": ["a", "b"],
        "sectors": ["s"],
        "final_demand_categories": ["hh"],
        "Z": [[1, 2, 3], [4, 5, 6]],
        "Y": [[1, 0], [0, "x"]],
        "extensions": {"co2": {"stressors": ["CO2"], "F": [[1, 2, 3]]}},
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(DocumentError) as info:
        _load(path)
    text = str(info.value)
    assert "3 problems" in text
    assert "Z: wrong shape. Expected 2 x 2, got 2 x 3" in text
    assert "Y: not a rectangular array of numbers" in text
    assert "extensions.co2.F: wrong shape. Expected 1 x 2, got 1 x 3" in text
    result = CliRunner().invoke(app, ["io", str(path)])
    assert result.exit_code == 2
    path.write_text(
        '{"format": "io-system/1", "regions": ["a"], "sectors": ["s"], "final_demand_categories": ["h"], "Z": [[NaN]], "Y": [[1]]}'
    )
    with pytest.raises(DocumentError, match="not valid JSON"):
        _load(path)
    with pytest.raises(DocumentError, match="no pymrio system found"):
        _load(tmp_path)


def test_dense_results_are_guarded(monkeypatch: pytest.MonkeyPatch) -> None:
    from rainforest.analysis import mrio

    io = IOSystem(("a", "b"), ("s",), ("hh",), np.array([[1.0, 2.0], [3.0, 4.0]]), np.eye(2) * 10)
    monkeypatch.setattr(mrio, "DENSE_LIMIT", 1)
    with pytest.raises(SizeLimitError, match="force_dense=True"):
        io.L()
    assert io.L(force_dense=True).shape == (2, 2)


@st.composite
def systems(draw: st.DrawFn) -> IOSystem:
    R = draw(st.integers(1, 4))
    s = draw(st.integers(1, 4))
    C = draw(st.integers(1, 2))
    k = draw(st.integers(1, 3))
    n = R * s
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # a productive economy: columns of A sum to at most 0.9, and x = L y
    A = rng.random((n, n)) * (rng.random((n, n)) < 0.6)
    A *= 0.9 * rng.random(n) / np.maximum(A.sum(axis=0), 1e-12)
    Y = rng.random((n, R * C)) * 5 * (rng.random((n, R * C)) < 0.7)
    Z = A * np.linalg.solve(np.eye(n) - A, Y.sum(axis=1))[None, :]
    F = rng.random((k, n)) * 10
    F_Y = rng.random((k, R * C))
    ext = Extension("e", tuple(f"st{i}" for i in range(k)), F, F_Y)
    labels = (tuple(f"r{i}" for i in range(R)), tuple(f"s{i}" for i in range(s)), tuple(f"c{i}" for i in range(C)))
    return IOSystem(*labels, Z, Y, {"e": ext})


@given(systems())
def test_accounts_balance_and_engines_agree(io: IOSystem) -> None:
    """Every region: consumption = production - exports + imports (emissions embodied in
    trade balance); the world's consumption and production are equal; the LU and the
    regional block engines give the same accounts."""
    acc = io.accounts("e")
    np.testing.assert_allclose(acc.D_cba_reg, acc.D_pba_reg - acc.D_exp_reg + acc.D_imp_reg, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(acc.D_cba_reg.sum(axis=1), acc.D_pba_reg.sum(axis=1), rtol=1e-9)
    other = dataclasses.replace(io, method="regional" if io.method != "regional" else "lu")
    for name in ACCOUNT_NAMES:
        np.testing.assert_allclose(getattr(other.accounts("e"), name), getattr(acc, name), rtol=1e-9, atol=1e-9)


def test_an_ecosystem_as_a_two_region_system() -> None:
    """Hand-derived (docs/metabolism.md): the mill (north) sells 30 to the farm and 70 outside;
    the farm (south) sells 20 to the mill and 80 outside; the mill emits 12 t, the farm 3 t."""
    eco = rf.Ecosystem(
        name="Two towns",
        actors=[rf.Actor("mill", region="north"), rf.Actor("farm", region="south")],
        resources=[rf.Resource("eur", kind="money", unit="EUR"), rf.Resource("co2", kind="material", unit="t")],
        flows=[
            rf.Flow("mill", "farm", "eur", 30.0),
            rf.Flow("farm", "mill", "eur", 20.0),
            rf.Flow("mill", "world", "eur", 70.0),
            rf.Flow("farm", "world", "eur", 80.0),
            rf.Flow("mill", "environment", "co2", 12.0),
            rf.Flow("farm", "environment", "co2", 3.0),
        ],
    )
    io = IOSystem.from_ecosystem(eco)
    assert io.regions == ("north", "south")
    assert io.x.tolist() == [100.0, 0.0, 0.0, 100.0]
    assert io.value_added.tolist() == [80.0, 0.0, 0.0, 70.0]  # output less intermediate inputs
    acc = io.accounts("emissions")
    # L = (I - A)^-1 with A = [[0, .3], [.2, 0]] (the two active rows): det = 0.94
    # the north's final demand (70 of mill output) causes mill 70/0.94 and farm 14/0.94:
    # 0.12 * 70/0.94 + 0.03 * 14/0.94 = 8.82/0.94 t (of which 0.42/0.94 t emitted in the south);
    # the south's (80 of farm output) causes mill 24/0.94 and farm 80/0.94
    np.testing.assert_allclose(acc.D_cba_reg, [[8.82 / 0.94, 5.28 / 0.94]], rtol=1e-12)
    np.testing.assert_allclose(acc.D_pba_reg, [[12.0, 3.0]], rtol=1e-12)
    np.testing.assert_allclose(acc.D_imp_reg, [[0.42 / 0.94, 2.88 / 0.94]], rtol=1e-12)
    np.testing.assert_allclose(acc.D_exp_reg, [[2.88 / 0.94, 0.42 / 0.94]], rtol=1e-12)
    assert io_system_to_dict(io)["format"] == "io-system/1"


def test_report_and_compare_show_regions() -> None:
    """The report of a document whose actors give a region has a regions section with the
    hand-derived footprints (docs/examples/two_towns.yaml); a document without regions has
    none, and compare says why its regional indicators are n/a."""
    from rainforest import report

    towns = rf.load("docs/examples/two_towns.yaml")
    section = report.health_report(towns, plan=False).section("regions")
    assert section.available
    assert section.data["regions"] == ["north", "south"]
    np.testing.assert_allclose(section.data["emissions"]["D_cba_reg"], [[8.82 / 0.94, 5.28 / 0.94]])
    np.testing.assert_allclose(section.data["value_added"], [80.0, 70.0])
    park = rf.load("docs/examples/park.yaml")
    assert all(s.id != "regions" for s in report.health_report(park, plan=False).sections)
    both = report.compare([towns, park], plan=False, risk=False)
    row = next(i for i in both.indicators if i["key"] == "top_region_value_added")
    assert row["values"] == [pytest.approx(80 / 150), None]
    assert row["reasons"][1] == "no actor gives its region"
    assert row["leader"] is None  # a side without the data never leads


def test_archive_members_are_bounded(tmp_path: Path) -> None:
    """A zip member that unpacks far beyond its packed size is refused before it is read,
    with the limit named and how to raise it (the reading limits of rainforest.io)."""
    from rainforest.errors import LimitError
    from rainforest.io import Limits

    archive = tmp_path / "IOT_2000_pxp.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "IOT_2000_pxp/file_parameters.json",
            json.dumps({"systemtype": "IOSystem", "files": {"Y": {"name": "Y.txt"}}}),
        )
        zf.writestr("IOT_2000_pxp/Y.txt", "0\t" * 2_000_000)
    with pytest.raises(LimitError, match="max_zip_ratio") as info:
        load_io_system(archive)
    assert "--max-zip-ratio" in str(info.value)
    with pytest.raises(LimitError, match="max_unzipped_mb"):
        load_io_system(archive, limits=Limits(max_unzipped_mb=1, max_zip_ratio=10_000))
