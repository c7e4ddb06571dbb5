"""Every bad-input case: the right error, with its place, all at once, nothing loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
