"""Reading limits (rainforest.io.Limits): each bound refuses what is past it with a
LimitError naming the limit and how to raise it, in every form, through the CLI too;
`rainforest convert` never overwrites or deletes what it did not write; document text
printed in the terminal is escaped."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rainforest as rf
from rainforest.cli import app
from rainforest.errors import DocumentError, LimitError
from rainforest.io import Limits

runner = CliRunner()

GOOD = {
    "format": "rainforest/1",
    "name": "park",
    "actors": [{"id": "mill"}, {"id": "farm"}],
    "resources": [{"id": "ash", "kind": "material", "unit": "t"}],
    "flows": [{"from": "mill", "to": "farm", "resource": "ash", "quantity": 2.0}],
}


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write_json(tmp_path: Path, data: object, name: str = "doc.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def limit_of(path: Path, limits: Limits | None = None) -> LimitError:
    with pytest.raises(LimitError) as info:
        rf.load(path, limits=limits)
    assert isinstance(info.value, DocumentError)  # the CLI's exit 2, the workbench's 422
    return info.value


def assert_names_the_way_up(exc: LimitError, option: str) -> None:
    text = str(exc)
    assert f"({exc.limit})" in text
    assert option in text
    assert f"Limits({exc.limit}=" in text or "yaml_aliases=True" in text


# -- YAML aliases --------------------------------------------------------------------
ALIAS_BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + k)}: &{chr(98 + k)} [{', '.join(['*' + chr(97 + k)] * 10)}]" for k in range(6)]
)


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    """The 7-level alias bomb of issue 18 (400 bytes, about 10^7 values expanded)."""
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB + "\n", encoding="utf-8")
    assert path.stat().st_size < 450
    exc = limit_of(path)
    assert exc.limit == "yaml_aliases"
    assert exc.issues[0].line == 1
    assert_names_the_way_up(exc, "--yaml-aliases")


def test_aliases_are_read_when_allowed(tmp_path: Path) -> None:
    path = tmp_path / "alias.yaml"
    path.write_text(
        "format: rainforest/1\nname: p\nactors:\n  - &m {id: mill}\n  - id: farm\n"
        "resources:\n  - {id: ash, kind: material, unit: t}\n"
        "flows:\n  - {from: mill, to: farm, resource: ash, quantity: 1}\n"
    )
    assert limit_of(path).limit == "yaml_aliases"
    assert len(rf.load(path, limits=Limits(yaml_aliases=True)).actors) == 2


def test_ampersands_and_stars_in_texts_are_not_aliases(tmp_path: Path) -> None:
    path = tmp_path / "texts.yaml"
    path.write_text("format: rainforest/1\nname: 'R&D *park* & co'\nactors:\n  - id: mill\n    name: Smith & Sons *1\n")
    assert rf.load(path).name == "R&D *park* & co"


# -- nesting depth -------------------------------------------------------------------
def deep(levels: int) -> object:
    value: object = 1
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_nesting_depth(tmp_path: Path, suffix: str) -> None:
    doc = {**GOOD, "x_deep": deep(100)}
    path = tmp_path / f"deep{suffix}"
    path.write_text(json.dumps(doc), encoding="utf-8")  # JSON is YAML too
    exc = limit_of(path)
    assert exc.limit == "max_depth"
    assert exc.allowed == 64
    assert_names_the_way_up(exc, "--max-depth")
    assert rf.load(path, limits=Limits(max_depth=200)).extensions["x_deep"] is not None


def test_deep_document_in_a_section(tmp_path: Path) -> None:
    doc = {**GOOD, "flows": [{**GOOD["flows"][0], "x_note": deep(70)}]}  # type: ignore[dict-item]
    assert limit_of(write_json(tmp_path, doc)).limit == "max_depth"
    doc = {**GOOD, "actors": [{"id": "mill"}, deep(70)]}
    assert limit_of(write_json(tmp_path, doc)).limit == "max_depth"


def test_check_of_a_900_deep_json_prints_the_problem_and_exits_2(tmp_path: Path) -> None:
    """Issue 18: this printed a traceback and exited 1."""
    path = tmp_path / "deep.json"
    path.write_text("[" * 900 + "]" * 900)
    code, out, err = run("check", str(path))
    assert code == 2
    assert "Traceback" not in out + err
    assert "nested more than 64 levels" in err
    assert "--max-depth" in err
    path.write_text("[" * 100_000 + "]" * 100_000)  # deeper than any parser recurses
    code, out, err = run("check", str(path))
    assert code == 2
    assert "Traceback" not in out + err


# -- texts, rows, file size ----------------------------------------------------------
def test_long_text(tmp_path: Path) -> None:
    path = write_json(tmp_path, {**GOOD, "name": "p" * 5000})
    exc = limit_of(path, Limits(max_text_chars=1000))
    assert exc.limit == "max_text_chars"
    assert exc.found == 5000
    assert_names_the_way_up(exc, "--max-text-chars")
    assert rf.load(path).name == "p" * 5000


@pytest.mark.parametrize("suffix", [".json", ".yaml", "", ".xlsx", ".zip"])
def test_rows_in_every_form(tmp_path: Path, suffix: str) -> None:
    eco = rf.datasets.kalundborg()
    if suffix == ".zip":
        folder = rf.save(eco, tmp_path / "k")
        path = tmp_path / "k.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for child in folder.iterdir():
                archive.write(child, f"k/{child.name}")
    else:
        path = rf.save(eco, tmp_path / f"k{suffix}")
    exc = limit_of(path, Limits(max_rows=5))
    assert exc.limit == "max_rows"
    assert exc.issues[0].path == "actors"
    assert_names_the_way_up(exc, "--max-rows")
    assert rf.load(path) == eco


def test_file_size(tmp_path: Path) -> None:
    path = write_json(tmp_path, GOOD)
    exc = limit_of(path, Limits(max_file_mb=0.0001))
    assert exc.limit == "max_file_mb"
    assert_names_the_way_up(exc, "--max-file-mb")


def test_limits_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="'max_depth' parameter of Limits must be a number > 0"):
        Limits(max_depth=0)


# -- zips ----------------------------------------------------------------------------
def test_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("k/ecosystem.csv", "format,name\nrainforest/1,p\n")
        archive.writestr("k/actors.csv", "id\n" + "a" * 50_000_000 + "\n")
    assert path.stat().st_size < 100_000
    exc = limit_of(path)
    assert exc.limit == "max_zip_ratio"
    assert_names_the_way_up(exc, "--max-zip-ratio")
    exc = limit_of(path, Limits(max_zip_ratio=1e9, max_unzipped_mb=10))
    assert exc.limit == "max_unzipped_mb"


def test_workbook_bomb_is_refused(tmp_path: Path) -> None:
    path = rf.save(rf.datasets.kalundborg(), tmp_path / "k.xlsx")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * 20_000_000)
    assert limit_of(path).limit == "max_zip_ratio"


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "k.zip"
    path.write_bytes(b"PK\x03\x04 nonsense")
    with pytest.raises(DocumentError, match="not a readable zip"):
        rf.load(path)


# -- the CLI -------------------------------------------------------------------------
def test_cli_limit_options(tmp_path: Path) -> None:
    path = rf.save(rf.datasets.kalundborg(), tmp_path / "k.json")
    code, _, err = run("check", str(path), "--max-rows", "5")
    assert code == 2
    assert "above the limit of 5 per section" in err
    assert "--max-rows" in err
    code, out, _ = run("check", str(path), "--max-rows", "50", "--max-depth", "10", "--max-file-mb", "1")
    assert code == 0, out
    code, out, _ = run("check", str(path), "--max-file-mb", "0.001", "--json")
    assert code == 2
    assert json.loads(out)["issues"][0]["message"].startswith("the file is")


def test_convert_refuses_an_existing_file_without_force(tmp_path: Path) -> None:
    target = tmp_path / "k.json"
    target.write_text("mine")
    code, _, err = run("convert", str(rf.datasets.path("kalundborg")), str(target))
    assert code == 2
    assert "--force" in err
    assert target.read_text() == "mine"
    code, _, _ = run("convert", str(rf.datasets.path("kalundborg")), str(target), "--force")
    assert code == 0
    assert rf.load(target) == rf.datasets.kalundborg()


def test_convert_never_touches_a_folder_of_other_files(tmp_path: Path) -> None:
    """Issue 18: converting into a folder holding other files overwrote actors.csv and
    deleted an unrelated flows.csv."""
    target = tmp_path / "mine"
    target.mkdir()
    (target / "actors.csv").write_text("my actors")
    (target / "flows.csv").write_text("my flows")
    no_flows = {k: v for k, v in GOOD.items() if k != "flows"}  # a document without flows.csv
    source = write_json(tmp_path, no_flows, "two.json")
    code, _, err = run("convert", str(source), str(target))
    assert code == 2
    assert "--force" in err
    assert (target / "flows.csv").read_text() == "my flows"
    (target / "notes.txt").write_text("notes")
    code, _, err = run("convert", str(source), str(target), "--force")
    assert code == 2
    assert "notes.txt" in err
    assert sorted(p.name for p in target.iterdir()) == ["actors.csv", "flows.csv", "notes.txt"]
    assert (target / "actors.csv").read_text() == "my actors"


def test_convert_needs_parents_for_a_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "k.yaml"
    code, _, err = run("convert", str(rf.datasets.path("kalundborg")), str(target))
    assert code == 2
    assert "--parents" in err
    assert not (tmp_path / "a").exists()
    code, _, _ = run("convert", str(rf.datasets.path("kalundborg")), str(target), "--parents")
    assert code == 0
    assert target.exists()


def test_document_text_is_escaped_in_the_terminal(tmp_path: Path) -> None:
    """A name that sets the terminal title, and Rich markup, print as the characters
    they hold."""
    name = "park \x1b]0;owned\x07 [red]x[/red] [link=http://evil]y[/link]"
    path = write_json(tmp_path, {**GOOD, "name": name})
    code, out, _ = run("info", str(path))
    assert code == 0
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "\\x1b]0;owned\\x07" in out
    assert "[red]x[/red]" in out
    bad = write_json(tmp_path, {**GOOD, "x\x1b[2J[bold]": 1, "[blink]oops": 2}, "bad.json")
    code, _, err = run("check", str(bad))
    assert code == 2
    assert "\x1b" not in err
    assert "x\\x1b[2J[bold]" in err
    assert "[blink]oops" in err
