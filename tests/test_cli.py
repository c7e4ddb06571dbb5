"""Every CLI command through its runner: output, --json and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rainforest as rf
from rainforest.cli import app

runner = CliRunner()
KALUNDBORG = str(rf.datasets.path("kalundborg"))


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_check_valid_document() -> None:
    code, out, _ = run("check", KALUNDBORG)
    assert code == 0
    assert "valid rainforest/1 document" in out
    code, out, _ = run("check", KALUNDBORG, "--json")
    assert json.loads(out) == {
        "valid": True,
        "source": KALUNDBORG,
        "counts": rf.datasets.kalundborg().summary()["counts"],
    }


def test_check_bad_document_prints_every_problem_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "format: rainforest/1\nname: p\nactors:\n  - id: mill\n  - id: mill\nresources:\n  - id: ash\n    kind: material\n    unit: t\n"
        "flows:\n  - from: mill\n    to: frm\n    resource: ash\n    quantity: -2\n"
    )
    code, _, err = run("check", str(bad))
    assert code == 2
    assert "3 problems" in err
    assert "bad.yaml, line 5, column 5: actors[1].id: duplicate id 'mill'" in err
    assert "line 12" in err
    assert "line 14" in err
    code, out, _ = run("check", str(bad), "--json")
    data = json.loads(out)
    assert code == 2
    assert data["valid"] is False
    assert [i["path"] for i in data["issues"]] == ["actors[1].id", "flows[0].to", "flows[0].quantity"]
    assert all(i["line"] for i in data["issues"])


def test_check_missing_file_exits_2(tmp_path: Path) -> None:
    code, _, err = run("check", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert "no such file" in err


@pytest.mark.parametrize("target", ["k.yaml", "k.json", "k.xlsx", "kfolder"])
def test_convert_between_forms(tmp_path: Path, target: str) -> None:
    out_path = tmp_path / target
    code, out, _ = run("convert", KALUNDBORG, str(out_path))
    assert code == 0, out
    assert rf.load(out_path) == rf.datasets.kalundborg()


def test_convert_to_scor_needs_a_currency(tmp_path: Path) -> None:
    code, _, err = run("convert", KALUNDBORG, str(tmp_path / "k.scor"))
    assert code == 2
    assert "one currency" in err
    code, out, _ = run("convert", KALUNDBORG, str(tmp_path / "k.scor"), "--resource", "fly_ash", "--json")
    assert code == 0
    assert json.loads(out)["form"] == "scor"
    model = rf.load(tmp_path / "k.scor")
    assert rf.FlowMatrix.from_ecosystem(model).Z.sum() == 135000.0


def test_convert_oyster_reef_to_scor_and_back(tmp_path: Path) -> None:
    code, _, _ = run("convert", str(rf.datasets.path("oyster_reef")), str(tmp_path / "o.scor"))
    assert code == 0
    text = (tmp_path / "o.scor").read_text().splitlines()
    assert text[1] == "  6  5"
    back = rf.FlowMatrix.from_ecosystem(rf.load(tmp_path / "o.scor"))
    assert back.dense()[0, 5] == 15.791


def test_schema_is_json_schema() -> None:
    code, out, _ = run("schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["required"] == ["format", "name", "actors"]
    assert "flows" in schema["properties"]


def test_generate_is_reproducible(tmp_path: Path) -> None:
    code, out, _ = run("generate", "--actors", "120", "--seed", "3", str(tmp_path / "a.json"), "--json")
    assert code == 0
    first = json.loads(out)
    code, out, _ = run("generate", "--actors", "120", "--seed", "3", str(tmp_path / "b"), "--json")
    assert json.loads(out)["content_hash"] == first["content_hash"]
    assert rf.load(tmp_path / "a.json") == rf.load(tmp_path / "b")
    assert first["counts"]["actors"] == 120


def test_generate_rejects_bad_parameters(tmp_path: Path) -> None:
    code, _, _ = run("generate", "--actors", "1", str(tmp_path / "a.json"))
    assert code == 2


def test_info() -> None:
    code, out, _ = run("info", KALUNDBORG, "--json")
    data = json.loads(out)
    assert code == 0
    assert data["counts"]["actors"] == 10
    assert data["resource_kinds"] == {"water": 4, "energy": 4, "material": 7}
    assert data["currencies"]["mass"]["unit"] == "t"
    assert "money" not in data["currencies"]  # no prices in the published data
    code, out, _ = run("info", KALUNDBORG)
    assert code == 0
    assert "currencies" in out


def test_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the demo writes kalundborg-report.html here
    monkeypatch.setenv("RAINFOREST_DATA", str(tmp_path / "data"))  # and keeps the ecosystem in this store
    code, out, _ = run("demo")
    assert (tmp_path / "kalundborg-report.html").exists()
    assert code == 0
    assert "1,519,000 t" in out
    assert "without a published quantity: 11" in out
    code, out, _ = run("demo", "--json")
    assert json.loads(out)["unquantified_exchanges"] == 11


def test_python_dash_m_and_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rainforest", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"rainforest {rf.__version__}"


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = runner.invoke(app, ["check", str(bad), "--debug"])
    assert isinstance(result.exception, rf.DocumentError)


BAD_CASES = {
    "malformed.yaml": ("format: rainforest/1\nname: p\nactors:\n  - id: a\n   name: b\n", "line 5"),
    "malformed.json": ('{"format": "rainforest/1",\n "name": "p"\n "actors": []}', "line 3"),
    "empty.yaml": ("", "the file is empty"),
    "wrong-format.json": ('{"format": "rainforest/9", "name": "p", "actors": [{"id": "a"}]}', "'rainforest/1'"),
    "reserved.yaml": (
        "format: rainforest/1\nname: p\nactors:\n  - id: a\nresources:\n  - id: r\n    kind: water\n    unit: m**3\n"
        "flows:\n  - from: world\n    to: world\n    resource: r\n    quantity: 1\n",
        "flows[0]: a flow from 'world' to 'world' lies outside the ecosystem",
    ),
    "units.yaml": (
        "format: rainforest/1\nname: p\nactors:\n  - id: a\nresources:\n  - id: r\n    kind: water\n    unit: m**3\n"
        "flows:\n  - from: world\n    to: a\n    resource: r\n    quantity: 1\n    unit: MWh\n",
        "unit 'MWh' does not convert to 'm**3'",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_check_reports_each_bad_case_with_its_place(tmp_path: Path, name: str) -> None:
    text, expected = BAD_CASES[name]
    path = tmp_path / name
    path.write_text(text)
    code, _, err = run("check", str(path))
    assert code == 2
    assert expected in err
    assert f"{name}, line" in err


def test_check_reports_csv_and_excel_places(tmp_path: Path) -> None:
    folder = tmp_path / "eco"
    rf.save(rf.datasets.kalundborg(), folder)
    (folder / "flows.csv").write_text("from,to,resource\nasnaes,gyproc,fgd_gypsum\n")
    code, _, err = run("check", str(folder))
    assert code == 2
    assert "eco/flows.csv, row 1: flows: missing required column 'quantity'" in err
    code, _, err = run("check", str(tmp_path))
    assert code == 2
    assert "holds no ecosystem" in err


# every option that takes one of a few words is typed with the library's Literal: Typer
# lists the choices in --help and refuses any other word, in one line, exit 2
BAD_CHOICES = [
    (("ena", KALUNDBORG, "--currency", "mas"), "'--currency'", ("mass", "energy", "water", "money"), "mass"),
    (("ena", KALUNDBORG, "--balance", "inptu"), "'--balance'", ("input", "output", "boundary"), "input"),
    (("target", KALUNDBORG, "--resource", "water", "--method", "lpp"), "'--method'", ("cascade", "lp"), "lp"),
    (("share", KALUNDBORG, "--method", "shaply"), "'--method'", ("shapley", "nucleolus"), "shapley"),
    (("match", KALUNDBORG, "--objective", "virgn"), "'--objective'", ("benefit", "virgin", "co2e"), "virgin"),
    (("match", KALUNDBORG, "--share-method", "core"), "'--share-method'", ("shapley", "nucleolus"), None),
    (("risk", KALUNDBORG, "--stop", "soon"), "'--stop'", ("fixed-point", "reference"), None),
    (("risk", KALUNDBORG, "--damping", "sometimes"), "'--damping'", ("reference", "outside-trade", "none"), None),
    (("risk", KALUNDBORG, "--engine", "numba"), "'--engine'", ("auto", "compiled", "numpy"), None),
    (("convert", KALUNDBORG, "out.x", "--to", "yml"), "'--to'", ("yaml", "json", "csv", "excel"), "yaml"),
]


@pytest.mark.parametrize(
    ("args", "option", "words", "nearest"), BAD_CHOICES, ids=[" ".join(c[0][:1] + c[0][-2:-1]) for c in BAD_CHOICES]
)
def test_a_bad_choice_is_one_line_naming_the_choices(
    args: tuple[str, ...], option: str, words: tuple[str, ...], nearest: str | None
) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    command = f"rainforest {args[0]}"
    assert lines[0].startswith(f"error: The {option} parameter of {command} must be "), err
    for word in words:
        assert repr(word) in lines[0]
    assert f"Got {args[-1]!r} instead." in lines[0]
    assert (f"Did you mean {nearest!r}?" in lines[0]) is (nearest is not None)
    code, out, err = run(*args, "--json")
    assert code == 2
    assert json.loads(out)["error"] == lines[0].removeprefix("error: ")


def test_help_lists_the_choices() -> None:
    result = CliRunner().invoke(app, ["risk", "--help"], env={"COLUMNS": "200"})
    assert "<fixed-point|reference>" in result.stdout
    assert "<auto|compiled|numpy>" in result.stdout
    assert "<reference|outside-trade|none>" in result.stdout


def test_a_number_out_of_range_is_one_line(tmp_path: Path) -> None:
    code, out, err = run("generate", str(tmp_path / "g.yaml"), "--actors", "1")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: '--actors': ")  # then Typer's words: "Input should be greater than or equal to 2"
    assert "2" in err
    assert not (tmp_path / "g.yaml").exists()
