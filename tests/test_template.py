"""The spreadsheet template: generated from the schema, filled with openpyxl as a user
would in a spreadsheet program, and loaded back; problems name sheet, row and column."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

import rainforest as rf
from conftest import PASSWORD, _login
from rainforest.cli import app
from rainforest.errors import column_letters
from rainforest.io.template import EXAMPLE_MARK, GUIDE_SHEET, UNITS, example_row, template_columns, write_template
from rainforest.model.schema import PERIODS, SECTIONS
from strategies import ecosystems

runner = CliRunner()


@pytest.fixture
def blank(tmp_path: Path) -> Path:
    path = tmp_path / "template.xlsx"
    write_template(path)
    return path


def _validations(sheet: Any) -> dict[str, Any]:
    """Column letter -> its data validation."""
    out = {}
    for v in sheet.data_validations.dataValidation:
        for cell_range in v.sqref.ranges:
            out[re.sub(r"\d", "", str(cell_range).split(":")[0])] = v
    return out


def test_every_sheet_and_header_comes_from_the_schema(blank: Path) -> None:
    book = openpyxl.load_workbook(blank)
    assert book.sheetnames == [GUIDE_SHEET, "ecosystem", *SECTIONS]
    for name, spec in SECTIONS.items():
        header = [c.value for c in book[name][1]]
        assert header == list(template_columns(name))
        # every field of the schema has its column (a map, its example's properties)
        for f in spec.fields:
            assert any(h == f.name or h.startswith(f"{f.name}.") for h in header), (name, f.name)
        for cell in book[name][1]:
            note = cell.comment.text
            f = spec.by_name.get(cell.value) or spec.by_name[cell.value.split(".")[0]]
            assert ("Required." if f.required else "Optional.") in note
            assert f.description[:20].lower() in note.lower()
            if f.measured_in:
                assert f"Unit: {f.measured_in}." in note
    assert [c.value for c in book["ecosystem"][1]] == ["format", "name", "period"]
    assert book["ecosystem"]["A2"].value == "rainforest/1"
    guide = " ".join(str(c.value) for row in book[GUIDE_SHEET].iter_rows() for c in row if c.value)
    assert "e.g." in guide
    assert "rainforest check" in guide


def test_enumerations_have_drop_down_lists(blank: Path) -> None:
    book = openpyxl.load_workbook(blank)
    checked = 0
    for name, spec in SECTIONS.items():
        header = list(template_columns(name))
        lists = _validations(book[name])
        for f in spec.fields:
            if f.kind not in ("enum", "bool", "unit") and not (f.kind == "ref" and f.ref in SECTIONS):
                continue
            v = lists[column_letters(header.index(f.name) + 1)]
            assert v.type == "list"
            if f.kind == "enum":
                assert v.formula1 == '"' + ",".join(f.choices) + '"'
                assert v.errorStyle == "stop"
            elif f.kind == "bool":
                assert v.formula1 == '"true,false"'
            elif f.kind == "unit":
                assert v.formula1 == '"' + ",".join(UNITS) + '"'
                assert v.errorStyle == "warning"  # any unit pint understands is accepted
            else:
                assert v.formula1.startswith(f"{f.ref}!$A$3:")
            checked += 1
    assert checked > 25
    period = _validations(book["ecosystem"])["C"]
    assert period.formula1 == '"' + ",".join(PERIODS) + '"'
    strata = _validations(book["actors"])[column_letters(list(template_columns("actors")).index("stratum") + 1)]
    assert "canopy,understory,shrub,moss" in strata.formula1
    assert "input_class" in template_columns("flows")
    assert "supply_pattern" in template_columns("offers")


def test_every_unit_offered_is_a_unit() -> None:
    from rainforest.model.units import is_unit

    assert [u for u in UNITS if not is_unit(u)] == []


def _fill(path: Path, name: str = "Test park") -> openpyxl.Workbook:
    book = openpyxl.load_workbook(path)
    book["ecosystem"]["B2"] = name
    return book


def _put(book: openpyxl.Workbook, sheet: str, row: int, **cells: Any) -> None:
    header = list(template_columns(sheet))
    for column, value in cells.items():
        book[sheet].cell(row=row, column=header.index(column.replace("__", ".")) + 1, value=value)


def _five_firms(book: openpyxl.Workbook) -> None:
    for i, (aid, stratum) in enumerate(
        (("mill", "shrub"), ("farm", "moss"), ("plant", "canopy"), ("brewery", "understory"), ("board", "shrub")),
        start=3,
    ):
        _put(
            book,
            "actors",
            i,
            id=aid,
            name=aid.title(),
            stratum=stratum,
            location__lat=55.0 + i / 100,
            location__lon=11.0,
        )
    _put(book, "resources", 3, id="ash", kind="material", unit="t", price=12.5, codes__ewc="10 01 01")
    _put(book, "resources", 4, id="steam", kind="energy", unit="MWh")
    _put(book, "flows", 3, **{"from": "plant", "to": "mill", "resource": "steam", "quantity": 1200})
    _put(
        book,
        "offers",
        3,
        actor="plant",
        resource="ash",
        quantity=400,
        quality__contaminant_ppm=20,
        supply_pattern="seasonal",
        confidential="false",
    )
    _put(book, "needs", 3, actor="farm", resource="ash", quantity=150, max_quality__contaminant_ppm=50)


def test_a_filled_template_loads_and_the_example_rows_are_not_data(blank: Path, tmp_path: Path) -> None:
    book = _fill(blank)
    _five_firms(book)
    book.save(tmp_path / "park.xlsx")
    eco = rf.load(tmp_path / "park.xlsx")
    assert eco.name == "Test park"
    assert eco.actor_ids == ("mill", "farm", "plant", "brewery", "board")  # no 'e.g. asnaes', no phantom
    assert {r.id for r in eco.resources} == {"ash", "steam"}
    assert len(eco.flows) == 1
    assert len(eco.offers) == 1
    assert len(eco.needs) == 1
    assert eco.offers[0].quality == {"contaminant_ppm": 20.0}
    assert eco.offers[0].supply_pattern == "seasonal"
    assert eco.offers[0].confidential is False
    assert eco.needs[0].max_quality == {"contaminant_ppm": 50.0}
    assert len(eco.modules) == 0
    assert len(eco.links) == 0
    assert eco.actors[0].stratum == "shrub"


def test_the_example_rows_are_valid_entries(blank: Path, tmp_path: Path) -> None:
    """Turned into data (the 'e.g.' removed), the examples load: they show a valid row."""
    book = _fill(blank)
    for name in SECTIONS:
        first = book[name].cell(row=2, column=1)
        first.value = str(first.value)[len(EXAMPLE_MARK) :]
    # the examples point at ids of other examples: declare those so the references hold
    extra_actors = ["gyproc", "novo_nordisk", "novozymes"]
    for i, aid in enumerate(extra_actors, start=3):
        _put(book, "actors", i, id=aid)
    for i, rid in enumerate(("fly_ash", "natural_gypsum"), start=3):
        _put(book, "resources", i, id=rid, kind="material", unit="t")
    book.save(tmp_path / "examples.xlsx")
    eco = rf.load(tmp_path / "examples.xlsx")
    assert "asnaes" in eco.actor_ids
    assert len(eco.modules) == 1
    assert len(eco.links) == 1


def test_a_changed_example_row_is_reported_not_dropped(blank: Path, tmp_path: Path) -> None:
    book = _fill(blank)
    _five_firms(book)
    _put(book, "actors", 2, name="Our real power station")  # typed over the example, 'e.g.' left in
    book.save(tmp_path / "park.xlsx")
    with pytest.raises(rf.DocumentError) as info:
        rf.load(tmp_path / "park.xlsx")
    (issue,) = info.value.issues
    assert (issue.file, issue.row, issue.column) == ("park.xlsx[actors]", 2, 1)
    assert "example row was changed" in str(issue)
    assert "remove 'e.g.'" in str(issue)


def test_an_example_row_moved_down_is_still_recognised(blank: Path, tmp_path: Path) -> None:
    book = _fill(blank)
    _five_firms(book)
    book["actors"].insert_rows(2, amount=1)  # the user inserted a row above the example
    _put(book, "actors", 2, id="depot", stratum="big")
    book.save(tmp_path / "park.xlsx")
    with pytest.raises(rf.DocumentError) as info:
        rf.load(tmp_path / "park.xlsx")
    (issue,) = info.value.issues  # the moved example is dropped; the rows keep their numbers
    assert (issue.row, issue.column) == (2, 4)


def test_problems_name_sheet_row_and_column(blank: Path, tmp_path: Path) -> None:
    book = _fill(blank)
    _five_firms(book)
    _put(book, "actors", 7, id="depot", stratum="big")
    _put(book, "flows", 4, **{"from": "plant", "to": "nobody", "resource": "steam", "quantity": "lots"})
    _put(book, "offers", 4, actor="mill", resource="ash", quantity=5, quality__contaminant_ppm="high")
    book["ecosystem"]["C2"] = "week"
    book.save(tmp_path / "park.xlsx")
    with pytest.raises(rf.DocumentError) as info:
        rf.load(tmp_path / "park.xlsx")
    found = {(i.file, i.row, i.column) for i in info.value.issues}
    text = str(info.value)
    assert ("park.xlsx[actors]", 7, 4) in found
    assert "park.xlsx[actors], row 7, column D: actors[4].stratum: unknown stratum" in text
    assert "Expected one of 'canopy', 'understory', 'shrub', 'moss', got the text 'big'" in text
    assert ("park.xlsx[flows]", 4, 2) in found  # to
    assert ("park.xlsx[flows]", 4, 4) in found  # quantity
    column = list(template_columns("offers")).index("quality.contaminant_ppm") + 1
    assert ("park.xlsx[offers]", 4, column) in found
    assert ("park.xlsx[ecosystem]", 2, 3) in found  # the period
    assert len(found) == 5  # every problem at once; nothing loaded


def test_csv_problems_name_the_column_too(tmp_path: Path) -> None:
    folder = tmp_path / "park"
    rf.save(rf.load("docs/examples/park.yaml"), folder, form="csv")
    lines = (folder / "actors.csv").read_text().splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("id")] = "Bad Id"
    (folder / "actors.csv").write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n")
    with pytest.raises(rf.DocumentError) as info:
        rf.load(folder)
    issue = next(i for i in info.value.issues if i.path == "actors[0].id")
    assert (issue.row, issue.column) == (2, header.index("id") + 1)
    assert f"row 2, column {column_letters(header.index('id') + 1)}" in str(issue)


def test_column_letters() -> None:
    assert [column_letters(n) for n in (1, 3, 26, 27, 52, 703)] == ["A", "C", "Z", "AA", "AZ", "AAA"]


@pytest.mark.parametrize(
    "eco",
    [
        pytest.param(rf.datasets.kalundborg, id="kalundborg"),
        pytest.param(lambda: rf.load("docs/examples/park.yaml"), id="park"),
        pytest.param(lambda: rf.load("docs/examples/supply_chain.yaml"), id="supply_chain"),
        pytest.param(lambda: rf.load("docs/examples/two_towns.yaml"), id="two_towns"),
        pytest.param(lambda: rf.datasets.synthetic(n_actors=40, rng=3), id="synthetic"),
    ],
)
def test_bundled_examples_round_trip_through_the_template(eco: Any, tmp_path: Path) -> None:
    original = eco()
    write_template(tmp_path / "t.xlsx", original)
    assert rf.load(tmp_path / "t.xlsx") == original
    # the example rows are there, and the entries start below them
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert str(book["actors"]["A2"].value).startswith(EXAMPLE_MARK)
    assert book["actors"]["A3"].value == original.actors[0].id


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(eco=ecosystems())
def test_any_document_round_trips_through_the_template(tmp_path: Path, eco: rf.Ecosystem) -> None:
    """load(write_template(eco)) == eco, with the example rows in place."""
    path = tmp_path / "t.xlsx"
    write_template(path, eco)
    again = rf.load(path)
    assert again.differences(eco) == []
    assert again == eco


def test_example_rows_come_from_the_schema_examples() -> None:
    row = example_row("actors")
    assert row["id"] == "e.g. asnaes"
    assert row["stratum"] == "canopy"
    assert row["location.lat"] == 55.67
    assert row["capabilities"] == "steam; canteen [non-core]"
    assert example_row("resources")["codes.ewc"] == "10 01 05"
    assert example_row("flows")["quantified"] is None  # a quantified flow: the row stays valid


def test_cli_template(tmp_path: Path) -> None:
    target = tmp_path / "blank.xlsx"
    result = runner.invoke(app, ["template", str(target)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    assert target.exists()
    assert openpyxl.load_workbook(target).sheetnames[0] == GUIDE_SHEET
    again = runner.invoke(app, ["template", str(target)])
    assert again.exit_code == 2
    assert "--force" in again.output
    filled = tmp_path / "park.xlsx"
    result = runner.invoke(app, ["template", str(filled), "--from", "docs/examples/park.yaml", "--no-example"])
    assert result.exit_code == 0, result.output
    assert rf.load(filled) == rf.load("docs/examples/park.yaml")
    assert openpyxl.load_workbook(filled)["actors"]["A2"].value == rf.load(filled).actors[0].id
    wrong = runner.invoke(app, ["template", str(tmp_path / "t.csv")])
    assert wrong.exit_code == 2
    assert "*.xlsx" in wrong.output
    # the filled template validates as any document
    check = runner.invoke(app, ["check", str(filled)])
    assert check.exit_code == 0, check.output


def test_the_workbench_serves_the_template(world: Any) -> None:
    store, client = world
    assert client.get("/api/template.xlsx").status_code == 401
    assert _login(client, "root") == 303
    home = client.get("/").text
    assert 'href="/api/template.xlsx"' in home
    r = client.get("/api/template.xlsx")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == [GUIDE_SHEET, "ecosystem", *SECTIONS]
    data = client.get("/e/park/data").text
    assert 'href="/api/ecosystems/park/template.xlsx"' in data
    filled = client.get("/api/ecosystems/park/template.xlsx")
    assert filled.status_code == 200
    assert 'filename="park-v1-template.xlsx"' in filled.headers["content-disposition"]
    path = Path(store.url.removeprefix("sqlite:///")).parent / "park-template.xlsx"
    path.write_bytes(filled.content)
    assert rf.load(path) == store.load("park")


def test_a_member_gets_no_filled_template(world: Any) -> None:
    _, client = world
    assert client.get("/api/ecosystems/park/template.xlsx", auth=("mia", PASSWORD)).status_code == 403
    assert client.get("/api/template.xlsx", auth=("mia", PASSWORD)).status_code == 200


def test_uploading_the_filled_template_creates_an_ecosystem(world: Any, tmp_path: Path) -> None:
    _, client = world
    book = _fill(Path(_blank_to(tmp_path)))
    _five_firms(book)
    book.save(tmp_path / "five.xlsx")
    assert _login(client, "root") == 303
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)  # type: ignore[union-attr]
    with (tmp_path / "five.xlsx").open("rb") as fh:
        r = client.post("/api/ecosystems", data={"slug": "five", "csrf": token}, files={"file": ("five.xlsx", fh)})
    assert r.status_code == 201, r.text
    assert client.get("/api/ecosystems/five").json()["document"]["actors"][0]["id"] == "mill"
    # a broken one: the problems name sheet, row and column, and nothing is created
    _put(book, "actors", 3, stratum="big")
    book.save(tmp_path / "broken.xlsx")
    with (tmp_path / "broken.xlsx").open("rb") as fh:
        r = client.post("/api/ecosystems", data={"slug": "broken", "csrf": token}, files={"file": ("broken.xlsx", fh)})
    assert r.status_code == 422
    problem = r.json()["problems"][0]
    assert (problem["row"], problem["column"]) == (3, 4)
    assert "column D" in problem["text"]


def _blank_to(folder: Path) -> Path:
    path = folder / "blank.xlsx"
    write_template(path)
    return path


def test_download_fill_and_upload_the_template_in_a_browser(tmp_path: Path, browser: Any) -> None:
    """As a park manager: the start page's link downloads the template, filled in a
    spreadsheet program (openpyxl here) it is uploaded with a mistake (problems name sheet,
    row and column, nothing is created), then fixed: the park exists with its five firms."""
    from test_web import _serve

    serving = _serve(f"sqlite:///{tmp_path / 'b.db'}")
    base, password = next(serving)  # type: ignore[call-overload]
    try:
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("#username", "admin")
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        with page.expect_download() as download:
            page.click("#template-link")
        download.value.save_as(str(tmp_path / "downloaded.xlsx"))
        book = _fill(tmp_path / "downloaded.xlsx", "Five firms")
        _five_firms(book)
        _put(book, "actors", 5, stratum="big")
        book.save(tmp_path / "five.xlsx")
        page.fill("#slug", "five")
        page.set_input_files("#file", str(tmp_path / "five.xlsx"))
        page.click("#create button[type=submit]")
        assert "nothing was created" in page.inner_text("#create-error")
        assert page.locator("#problems tbody tr").first.inner_text().startswith("five.xlsx[actors], row 5, column D")
        _put(book, "actors", 5, stratum="canopy")
        book.save(tmp_path / "five.xlsx")
        page.fill("#slug", "five")
        page.set_input_files("#file", str(tmp_path / "five.xlsx"))
        page.click("#create button[type=submit]")
        page.wait_for_url(f"{base}/e/five")
        page.goto(f"{base}/e/five/data")
        with page.expect_download() as again:
            page.click("#template-link")
        again.value.save_as(str(tmp_path / "again.xlsx"))
        eco = rf.load(tmp_path / "again.xlsx")
        assert eco.name == "Five firms"
        assert eco.actor_ids == ("mill", "farm", "plant", "brewery", "board")
        context.close()
    finally:
        next(serving, None)  # type: ignore[call-overload]
