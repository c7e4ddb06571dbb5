"""Every bad-input case: the right error, with its place, all at once, nothing loaded."""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import json
import pickle
import pkgutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import pytest
from hypothesis import given
from hypothesis import strategies as st

import rainforest as rf
from rainforest.errors import DocumentError, Issue

HEAD = "format: rainforest/1\nname: Park\n"
GOOD_YAML = (
    HEAD
    + """actors:
  - id: mill
  - id: farm
resources:
  - id: ash
    kind: material
    unit: t
flows:
  - from: mill
    to: farm
    resource: ash
    quantity: 5
"""
)


def issues_of(path: Path) -> list[Issue]:
    with pytest.raises(DocumentError) as info:
        rf.load(path)
    return list(info.value.issues)


def only(issues: list[Issue]) -> Issue:
    assert len(issues) == 1, [str(i) for i in issues]
    return issues[0]


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def csv_folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "eco"
    folder.mkdir()
    base = {
        "ecosystem": "format,name\nrainforest/1,Park\n",
        "actors": "id,name\nmill,Mill\nfarm,Farm\n",
        "resources": "id,kind,unit\nash,material,t\n",
        "flows": "from,to,resource,quantity\nmill,farm,ash,5\n",
    }
    base.update(files)
    for name, text in base.items():
        if text is not None:
            (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def test_good_document_loads(tmp_path: Path) -> None:
    eco = rf.load(write(tmp_path, "ok.yaml", GOOD_YAML))
    assert eco.flows[0].quantity == 5.0


def test_malformed_yaml_gives_line_and_column(tmp_path: Path) -> None:
    bad = HEAD + "actors:\n  - id: a\n   name: b\n"
    issue = only(issues_of(write(tmp_path, "bad.yaml", bad)))
    assert "malformed YAML" in issue.message
    assert (issue.file, issue.line) == ("bad.yaml", 5)
    assert issue.column is not None


def test_malformed_json_gives_line_and_column(tmp_path: Path) -> None:
    bad = '{\n  "format": "rainforest/1",\n  "name": "x"\n  "actors": []\n}\n'
    issue = only(issues_of(write(tmp_path, "bad.json", bad)))
    assert "malformed JSON" in issue.message
    assert (issue.line, issue.column) == (4, 3)


def test_missing_format(tmp_path: Path) -> None:
    issue = only(issues_of(write(tmp_path, "d.yaml", GOOD_YAML.replace("format: rainforest/1\n", ""))))
    assert issue.path == "format"
    assert "missing required field 'format'" in str(issue)


def test_wrong_format_names_the_supported_versions(tmp_path: Path) -> None:
    issue = only(issues_of(write(tmp_path, "d.yaml", GOOD_YAML.replace("rainforest/1", "rainforest/2"))))
    assert "'rainforest/1'" in str(issue)
    assert "rainforest/2" in str(issue)
    assert issue.line == 1


def test_duplicate_ids(tmp_path: Path) -> None:
    issue = only(
        issues_of(write(tmp_path, "d.yaml", GOOD_YAML.replace("  - id: farm\n", "  - id: farm\n  - id: mill\n")))
    )
    assert issue.path == "actors[2].id"
    assert "duplicate id 'mill'" in str(issue)
    assert "actors[0]" in str(issue)
    assert issue.line == 6


def test_unknown_id_names_the_nearest(tmp_path: Path) -> None:
    issue = only(issues_of(write(tmp_path, "d.yaml", GOOD_YAML.replace("to: farm", "to: frm"))))
    assert issue.path == "flows[0].to"
    assert "unknown actor 'frm'" in str(issue)
    assert "Did you mean 'farm'?" in str(issue)
    assert "'world' or 'environment'" in str(issue)
    assert issue.line == 12


def test_unknown_resource(tmp_path: Path) -> None:
    issue = only(issues_of(write(tmp_path, "d.yaml", GOOD_YAML.replace("resource: ash", "resource: ashes"))))
    assert issue.path == "flows[0].resource"
    assert "Did you mean 'ash'?" in str(issue)


def test_world_to_world_is_outside_the_ecosystem(tmp_path: Path) -> None:
    text = GOOD_YAML.replace("from: mill", "from: world").replace("to: farm", "to: world")
    issue = only(issues_of(write(tmp_path, "d.yaml", text)))
    assert issue.path == "flows[0]"
    assert "outside the ecosystem" in str(issue)


def test_reserved_actor_id(tmp_path: Path) -> None:
    issue = only(
        issues_of(write(tmp_path, "d.yaml", GOOD_YAML.replace("id: farm", "id: world").replace("to: farm", "to: mill")))
    )
    assert issue.path == "actors[1].id"
    assert "reserved id 'world'" in str(issue)


def test_boundary_outside_flows_is_an_error(tmp_path: Path) -> None:
    text = GOOD_YAML + "offers:\n  - actor: world\n    resource: ash\n    quantity: 1\n"
    issue = only(issues_of(write(tmp_path, "d.yaml", text)))
    assert issue.path == "offers[0].actor"
    assert "may appear only in flows" in str(issue)


@pytest.mark.parametrize(
    ("value", "got"),
    [
        ("-5", "got -5.0"),
        (".nan", "got NaN"),
        (".inf", "got infinity"),
        ("-.inf", "got -infinity"),
        ("'12'", "got the text '12'"),
        ("lots", "got the text 'lots'"),
    ],
)
def test_bad_quantities_in_yaml(tmp_path: Path, value: str, got: str) -> None:
    issue = only(issues_of(write(tmp_path, "d.yaml", GOOD_YAML.replace("quantity: 5", f"quantity: {value}"))))
    assert issue.path == "flows[0].quantity"
    assert got in str(issue)
    assert issue.line == 14


@pytest.mark.parametrize(
    ("value", "got"),
    [
        ("NaN", "got NaN"),
        ("Infinity", "got infinity"),
        ("-3", "got -3.0"),
        ('"x"', "got the text 'x'"),
        ("null", "missing required field 'quantity'"),
    ],
)
def test_bad_quantities_in_json(tmp_path: Path, value: str, got: str) -> None:
    doc = (
        '{"format": "rainforest/1", "name": "p", "actors": [{"id": "a"}],\n "resources": [{"id": "r", "kind": "water", "unit": "m**3"}],\n "flows": [\n'
        f'  {{"from": "world", "to": "a", "resource": "r", "quantity": {value}}}]}}'
    )
    issue = only(issues_of(write(tmp_path, "d.json", doc)))
    assert got in str(issue)
    assert issue.line == 4


@pytest.mark.parametrize(
    ("cell", "got"), [("nan", "got NaN"), ("inf", "got infinity"), ("-1", "got -1.0"), ("abc", "got the text 'abc'")]
)
def test_bad_quantities_in_csv(tmp_path: Path, cell: str, got: str) -> None:
    folder = csv_folder(tmp_path, flows=f"from,to,resource,quantity\nmill,farm,ash,5\nmill,farm,ash,{cell}\n")
    issue = only(issues_of(folder))
    assert issue.path == "flows[1].quantity"
    assert got in str(issue)
    assert (issue.file, issue.row) == ("eco/flows.csv", 3)


def test_unknown_unit(tmp_path: Path) -> None:
    issue = only(issues_of(write(tmp_path, "d.yaml", GOOD_YAML.replace("unit: t", "unit: tonnnes"))))
    assert issue.path == "resources[0].unit"
    assert "unknown unit 'tonnnes'" in str(issue)


def test_inconvertible_unit_names_both_units(tmp_path: Path) -> None:
    issue = only(issues_of(write(tmp_path, "d.yaml", GOOD_YAML + "    unit: MWh\n")))
    assert issue.path == "flows[0].unit"
    assert "'MWh'" in str(issue)
    assert "'t'" in str(issue)
    assert "does not convert" in str(issue)


def test_convertible_unit_is_converted(tmp_path: Path) -> None:
    eco = rf.load(write(tmp_path, "d.yaml", GOOD_YAML + "    unit: kt\n"))
    assert eco.flows[0].quantity == 5000.0


def test_unknown_field_suggests_the_known_one(tmp_path: Path) -> None:
    issue = only(issues_of(write(tmp_path, "d.yaml", GOOD_YAML.replace("quantity: 5", "quantiy: 5"))))
    # the misspelling explains the missing 'quantity': one issue, not two
    assert "flows[0].quantiy: unknown field. Did you mean 'quantity'?" in str(issue)
    assert issue.line == 14


def test_extension_fields_are_kept(tmp_path: Path) -> None:
    eco = rf.load(write(tmp_path, "d.yaml", GOOD_YAML + "    x_note: measured 2021\n"))
    assert eco.flows[0].extensions["x_note"] == "measured 2021"


def test_enum_typo_is_reported_with_suggestion(tmp_path: Path) -> None:
    issue = only(
        issues_of(write(tmp_path, "d.yaml", GOOD_YAML.replace("  - id: farm\n", "  - id: farm\n    stratum: canopi\n")))
    )
    assert issue.path == "actors[1].stratum"
    assert "Did you mean 'canopy'?" in str(issue)


def test_duplicate_keys_in_yaml_and_json(tmp_path: Path) -> None:
    issue = only(issues_of(write(tmp_path, "d.yaml", GOOD_YAML.replace("quantity: 5", "quantity: 5\n    quantity: 6"))))
    assert "duplicate key 'quantity'" in str(issue)
    assert issue.line == 15
    doc = '{"format": "rainforest/1", "name": "p",\n "name": "q", "actors": [{"id": "a"}]}'
    issue = only(issues_of(write(tmp_path, "d.json", doc)))
    assert "duplicate key 'name'" in str(issue)
    assert issue.line == 2


@pytest.mark.parametrize(
    ("doc", "duplicate"),
    [
        # colons and escaped quotes inside texts: more ':' than keys, no duplicate
        ('{"format": "rainforest/1", "name": "a: \\": b", "actors": [{"id": "a", "name": "12:30"}]}', None),
        # a duplicate deep inside a section, besides colons in texts
        (
            '{"format": "rainforest/1", "name": "t: 1", "actors": [{"id": "a",\n "location": {"lat": 1, "lat": 2}}]}',
            "lat",
        ),
        ('{"format": "rainforest/1", "name": "p", "actors": [{"id": "a", "id" : "b"}]}', "id"),
    ],
)
def test_duplicate_keys_found_after_a_fast_parse(tmp_path: Path, doc: str, duplicate: str | None) -> None:
    """msgspec keeps the last of duplicate keys silently; the key count against the text
    must still find every duplicate, and only duplicates."""
    path = write(tmp_path, "d.json", doc)
    if duplicate is None:
        assert rf.load(path).actors
        return
    issue = only(issues_of(path))
    assert f"duplicate key {duplicate!r}" in str(issue)


def test_every_problem_is_reported_at_once_and_nothing_is_loaded(tmp_path: Path) -> None:
    text = (
        GOOD_YAML.replace("  - id: farm\n", "  - id: farm\n  - id: mill\n")
        .replace("quantity: 5", "quantity: -1")
        .replace("unit: t", "unit: bogus")
    )
    text += "  - from: mill\n    to: nowhere\n    resource: ash\n    quantity: 2\n"
    issues = issues_of(write(tmp_path, "d.yaml", text))
    paths = sorted(i.path for i in issues)
    assert paths == ["actors[2].id", "flows[0].quantity", "flows[1].to", "resources[0].unit"]
    assert all(i.file == "d.yaml" and i.line for i in issues)


def test_need_without_resource(tmp_path: Path) -> None:
    text = GOOD_YAML + "needs:\n  - actor: farm\n    quantity: 3\n"
    issue = only(issues_of(write(tmp_path, "d.yaml", text)))
    assert issue.path == "needs[0]"
    assert "no resource" in str(issue)


def test_missing_required_column_in_csv(tmp_path: Path) -> None:
    folder = csv_folder(tmp_path, flows="from,to,resource\nmill,farm,ash\n")
    issue = only(issues_of(folder))
    assert "missing required column 'quantity'" in str(issue)
    assert (issue.file, issue.row) == ("eco/flows.csv", 1)


def test_missing_ecosystem_csv(tmp_path: Path) -> None:
    folder = csv_folder(tmp_path)
    (folder / "ecosystem.csv").unlink()
    issue = only(issues_of(folder))
    assert "missing file ecosystem.csv" in str(issue)


def test_unknown_csv_file_suggests_the_section(tmp_path: Path) -> None:
    folder = csv_folder(tmp_path)
    (folder / "flow.csv").write_text("from,to\n")
    issue = only(issues_of(folder))
    assert "unknown file 'flow.csv'" in str(issue)
    assert "flows" in str(issue)


def test_csv_row_numbers_and_unknown_ids(tmp_path: Path) -> None:
    folder = csv_folder(tmp_path, flows="from,to,resource,quantity\nmill,farm,ash,5\nmill,fram,ash,5\n")
    issue = only(issues_of(folder))
    assert (issue.path, issue.row) == ("flows[1].to", 3)
    assert "Did you mean 'farm'?" in str(issue)


def test_empty_files(tmp_path: Path) -> None:
    for name in ("e.yaml", "e.json"):
        issue = only(issues_of(write(tmp_path, name, "")))
        assert "the file is empty" in str(issue)
    issue = only(issues_of(csv_folder(tmp_path, flows="")))
    assert "the file is empty" in str(issue)
    assert issue.file == "eco/flows.csv"
    issue = only(issues_of(write(tmp_path, "e.xlsx", b"")))
    assert "the file is empty" in str(issue)


def test_utf8_bom_is_accepted_everywhere(tmp_path: Path) -> None:
    bom = b"\xef\xbb\xbf"
    yaml_eco = rf.load(write(tmp_path, "b.yaml", bom + GOOD_YAML.encode()))
    json_eco = rf.load(write(tmp_path, "b.json", bom + json.dumps(yaml_eco.to_dict()).encode()))
    folder = csv_folder(tmp_path)
    for p in folder.iterdir():
        p.write_bytes(bom + p.read_bytes())
    csv_eco = rf.load(folder)
    assert yaml_eco == json_eco
    assert csv_eco.flows[0].quantity == 5.0


def test_utf16_is_an_error_with_a_remedy(tmp_path: Path) -> None:
    issue = only(issues_of(write(tmp_path, "u.yaml", GOOD_YAML.encode("utf-16"))))
    assert "UTF-16" in str(issue)
    assert "UTF-8" in str(issue)
    folder = csv_folder(tmp_path)
    (folder / "flows.csv").write_bytes("from,to,resource,quantity\nmill,farm,ash,5\n".encode("utf-16"))
    issue = only(issues_of(folder))
    assert issue.file == "eco/flows.csv"
    assert "UTF-16" in str(issue)


def test_invalid_utf8_gives_the_line(tmp_path: Path) -> None:
    issue = only(issues_of(write(tmp_path, "l.yaml", GOOD_YAML.encode().replace(b"name: Park", b"name: P\xe6rk"))))
    assert "not valid UTF-8" in str(issue)
    assert issue.line == 2


def test_directory_without_an_ecosystem(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    issue = only(issues_of(tmp_path))
    assert "holds no ecosystem" in str(issue)


def test_missing_sheets_in_excel(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "flow"
    book.save(tmp_path / "b.xlsx")
    text = [str(i) for i in issues_of(tmp_path / "b.xlsx")]
    assert any("missing sheet 'ecosystem'" in t for t in text)
    assert any("missing sheet 'actors'" in t for t in text)
    assert any("unknown sheet 'flow'" in t and "Did you mean 'flows'?" in t for t in text)


def test_excel_rows_are_spreadsheet_rows(tmp_path: Path) -> None:
    eco = rf.load(write(tmp_path, "ok.yaml", GOOD_YAML))
    path = rf.save(eco, tmp_path / "b.xlsx")
    import openpyxl

    book = openpyxl.load_workbook(path)
    book["flows"]["D2"] = -4
    book.save(path)
    issue = only(issues_of(path))
    assert (issue.path, issue.file, issue.row) == ("flows[0].quantity", "b.xlsx[flows]", 2)


def test_sections_of_the_wrong_type(tmp_path: Path) -> None:
    issue = only(issues_of(write(tmp_path, "d.yaml", GOOD_YAML + "offers: 3\n")))
    assert issue.path == "offers"
    assert "a list" in str(issue)
    issue = only(issues_of(write(tmp_path, "e.yaml", HEAD + "actors:\n  - mill\n")))
    assert issue.path == "actors[0]"


def test_scor_errors_have_lines(tmp_path: Path) -> None:
    text = "model\n  2  1\nA\nB\n  1 1.0\n  2 2.0\n -1\n  1 5.0\n -1\n -1\n  2 x\n -1\n  1  2 3.0\n -1\n"
    issue = only(issues_of(write(tmp_path, "m.scor", text)))
    assert issue.line == 11
    assert "malformed entry" in str(issue)


def test_ena_model_of_the_wrong_shape(tmp_path: Path) -> None:
    doc = {"format": "ena-model/1", "nodes": ["a", "b"], "flows": [[0, 1]], "inputs": [1, 0]}
    issue = only(issues_of(write(tmp_path, "m.json", json.dumps(doc, indent=1))))
    assert issue.path == "flows"
    assert "2 x 2" in str(issue)


def test_entity_constructor_reports_every_issue() -> None:
    with pytest.raises(DocumentError) as info:
        rf.Ecosystem(
            name="x",
            actors=[rf.Actor("a"), rf.Actor("a")],
            resources=[rf.Resource("r", kind="material", unit="t")],
            flows=[rf.Flow("a", "b", "r", -1.0)],
        )
    assert sorted(i.path for i in info.value.issues) == ["actors[1].id", "flows[0].quantity", "flows[0].to"]


def test_unknown_id_lookup_names_the_nearest() -> None:
    eco = rf.datasets.kalundborg()
    with pytest.raises(rf.UnknownIdError, match="Did you mean 'gyproc'"):
        eco.actor("gyprock")
    with pytest.raises(KeyError):
        eco.resource("ash")


# -- parameters: every public function with a Literal parameter refuses other words ---------------
def _literal(annotation: Any) -> tuple[str, ...]:
    """The words of a ``Literal`` annotation (also inside ``X | None``), or ``()``."""
    if get_origin(annotation) is Literal:
        args = get_args(annotation)
    elif get_origin(annotation) in (Union, UnionType):
        args = tuple(w for a in get_args(annotation) if get_origin(a) is Literal for w in get_args(a))
    else:
        return ()
    return tuple(args) if args and all(isinstance(w, str) for w in args) else ()


def _public_callables() -> Iterator[tuple[str, Callable[..., Any], Callable[..., Any]]]:
    """(name, callable to call, function to read the signature of) for every public
    function, method and class constructor of the library (not its shells)."""
    for info in pkgutil.walk_packages(rf.__path__, "rainforest."):
        parts = info.name.split(".")
        if parts[1] in ("cli", "web") or any(p.startswith("_") for p in parts[1:]):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isfunction(obj) and obj.__module__ == info.name:
                yield f"{info.name}.{name}", obj, obj
            elif inspect.isclass(obj) and obj.__module__ == info.name:
                for attr, member in vars(obj).items():
                    if attr.startswith("_") and attr != "__init__":
                        continue
                    function = member.__func__ if isinstance(member, classmethod | staticmethod) else member
                    if not inspect.isfunction(function):
                        continue
                    if attr == "__init__":
                        yield f"{info.name}.{name}", obj, function
                    elif isinstance(member, classmethod | staticmethod):
                        yield f"{info.name}.{name}.{attr}", getattr(obj, attr), function


@functools.cache
def _type_names() -> dict[str, Any]:
    """Every class the library defines, by name, and the array modules: what a module may
    import for type checking only (``if TYPE_CHECKING:``), for ``get_type_hints``."""
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    import scipy.sparse as sp

    names: dict[str, Any] = {"np": np, "npt": npt, "pd": pd, "sp": sp}
    for info in pkgutil.walk_packages(rf.__path__, "rainforest."):
        if info.name.split(".")[1] in ("cli", "web"):
            continue
        for name, obj in vars(importlib.import_module(info.name)).items():
            if isinstance(obj, type) and obj.__module__.startswith("rainforest"):
                names.setdefault(name, obj)
    return names


def _hints(function: Callable[..., Any]) -> dict[str, Any]:
    return get_type_hints(function, localns=_type_names())


def _choice_parameters() -> list[tuple[str, Callable[..., Any], Callable[..., Any], str, tuple[str, ...]]]:
    cases = []
    for name, call, function in _public_callables():
        for parameter, annotation in _hints(function).items():
            words = _literal(annotation)
            if parameter != "return" and words:
                cases.append((name, call, function, parameter, words))
    return cases


#: Literal-typed fields that are not a caller's choice: the callable builds a record from
#: values the library made (and checked) itself.
NOT_A_CHOICE = {
    ("rainforest.analysis.cascade.ESRIProfile", "stop"): "a result, made by esri (which checks stop)",
    ("rainforest.model.schema.FieldSpec", "kind"): "the schema's own declaration, written in code",
    ("rainforest.model.schema.FieldSpec", "map_values"): "the schema's own declaration, written in code",
    ("rainforest.assessment.Assessment", "pathway"): "a result, made by assess (from the document)",
    ("rainforest.assessment.NetworkAnalysis", "balance"): "a result, made by assess (which chose the balance)",
    ("rainforest.assessment.SystemicRisk", "measure"): "a result, made by assess (from the document's sizes)",
}
#: Where an older, more specific error stays (callers catch it); still listing the choices.
OLDER_ERROR: dict[str, type[Exception]] = {"rainforest.model.flowmatrix.FlowMatrix.from_ecosystem": rf.CurrencyError}
CHOICE_CASES = _choice_parameters()


def test_the_choice_parameters_are_found() -> None:
    found = {(name, parameter) for name, _, _, parameter, _ in CHOICE_CASES}
    assert {
        ("rainforest.analysis.cascade.esri", "engine"),
        ("rainforest.optimize.exchanges.plan", "objective"),
        ("rainforest.io.save", "form"),
        ("rainforest.model.flowmatrix.FlowMatrix.from_ecosystem", "currency"),
    } <= found
    assert set(NOT_A_CHOICE) <= found
    assert len(found) >= 25


@pytest.mark.parametrize(
    ("name", "call", "function", "parameter", "words"),
    [case for case in CHOICE_CASES if case[0:4:3] not in NOT_A_CHOICE],
    ids=[
        f"{case[0].removeprefix('rainforest.')}:{case[3]}" for case in CHOICE_CASES if case[0:4:3] not in NOT_A_CHOICE
    ],
)
def test_a_bad_choice_is_refused_first_with_the_choices_listed(
    name: str, call: Callable[..., Any], function: Callable[..., Any], parameter: str, words: tuple[str, ...]
) -> None:
    """Every public function (and constructor) with a ``Literal`` parameter refuses any
    other word with a ParameterError that names the parameter, lists every choice and
    suggests the nearest, before it looks at its other arguments (each given here as a
    bare ``object()``, which any real work would trip over)."""
    from rainforest.errors import ParameterError

    signature = inspect.signature(function)
    kwargs: dict[str, Any] = {
        p.name: object()
        for p in list(signature.parameters.values())[(1 if function.__name__ == "__init__" else 0) :]
        if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }
    if call is not function and not inspect.isclass(call):  # a classmethod: cls is bound
        kwargs.pop(next(iter(signature.parameters)), None)
    near_miss = words[0][:-1] + words[0][-1].upper()  # one letter off: the nearest is words[0]
    kwargs[parameter] = near_miss
    error = OLDER_ERROR.get(name, ParameterError)
    with pytest.raises(error) as info:
        call(**kwargs)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, rf.RainforestError)
    assert f"The {parameter!r} parameter of " in message
    for word in words:
        assert repr(word) in message
    assert f"Got {near_miss!r} instead. Did you mean {words[0]!r}?" in message
    if isinstance(info.value, ParameterError):
        assert (info.value.parameter, info.value.choices) == (parameter, words)


def test_check_choice_reads_the_literal_type() -> None:
    from rainforest.choices import CascadeStop, Form
    from rainforest.errors import ParameterError, check_choice, choices_of

    assert choices_of(Form | None) == ("yaml", "json", "csv", "excel", "ena-model", "scor", "graphml", "gexf")
    assert choices_of(Literal["a", "b", "a"]) == ("a", "b")
    assert choices_of(["x", "y"]) == ("x", "y")
    check_choice("stop", "reference", CascadeStop, where="esri")
    with pytest.raises(ParameterError) as info:
        check_choice("stop", "soon", CascadeStop, where="esri")
    assert str(info.value) == "The 'stop' parameter of esri must be 'fixed-point' or 'reference'. Got 'soon' instead."
    with pytest.raises(ValueError, match="Got 3 instead"):  # a ValueError, as before
        check_choice("stop", 3, CascadeStop, where="esri")
    with pytest.raises(TypeError):
        choices_of(3)
    with pytest.raises(TypeError, match="at least one choice"):
        check_choice("stop", "x", (), where="esri")
    # it crosses process boundaries whole (an executor's workers raise it)
    copy = pickle.loads(pickle.dumps(info.value))
    assert (type(copy), str(copy), copy.parameter, copy.choices) == (
        ParameterError,
        str(info.value),
        "stop",
        ("fixed-point", "reference"),
    )


def test_every_error_class_lives_in_errors_and_keeps_its_old_address() -> None:
    """The whole tree is in rainforest.errors; the modules that raised them first still
    export them (users import them from there)."""
    from rainforest import errors
    from rainforest.optimize import exchanges, solvers, targeting
    from rainforest.simulate import engine

    assert engine.SimulationError is errors.SimulationError
    assert solvers.SolverError is errors.SolverError
    assert exchanges.PlanError is errors.PlanError
    assert targeting.TargetingError is errors.TargetingError
    library = Path(rf.__file__).parent
    defined = []
    for path in library.rglob("*.py"):
        if path.parts[len(library.parts)] in ("web", "errors.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and (b.id.endswith(("Error", "Exception"))) for b in node.bases
            ):
                defined.append(f"{path.relative_to(library)}:{node.name}")
    store_errors = {"store/__init__.py:StoreError", "store/__init__.py:ConflictError", "store/__init__.py:StaleError"}
    assert set(defined) - store_errors == set()  # the store's move to errors.py is its own change
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, errors.RainforestError):
            assert obj.__module__ == "rainforest.errors"
            assert obj.__name__ in (errors.__doc__ or "") or obj is errors.RainforestError


@given(
    words=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=6, unique=True), value=st.text(max_size=12)
)
def test_check_choice_accepts_exactly_the_choices(words: list[str], value: str) -> None:
    """Any word of the choices passes; any other value is refused with every choice
    listed, in order, and the value given."""
    from rainforest.errors import ParameterError, check_choice

    if value in words:
        check_choice("p", value, words, where="f")
        return
    with pytest.raises(ParameterError) as info:
        check_choice("p", value, words, where="f")
    listed = ", ".join(map(repr, words[:-1])) + " or " + repr(words[-1]) if len(words) > 1 else repr(words[0])
    assert str(info.value).startswith(f"The 'p' parameter of f must be {listed}. Got {value!r} instead.")
    assert info.value.choices == tuple(words)
