"""The workbench's pages and API beyond sign-in: actors edited by their members, code search,
import and export, people, long work run by the worker, the analyses pages."""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import rainforest as rf
from conftest import PASSWORD, _login, _park
from rainforest.store import Store
from rainforest.web import create_app
from rainforest.web.jobs import Worker, run
from rainforest.web.records import Accounts, Applications, JobQueue

PARK = Path(__file__).resolve().parent.parent / "docs" / "examples" / "park.yaml"
BAD = Path(__file__).resolve().parent.parent / "docs" / "examples" / "bad.yaml"


def _wait(client: TestClient, slug: str, jid: int, auth: Any, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/ecosystems/{slug}/jobs/{jid}", auth=auth).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {jid} did not finish in {timeout} s")


# -- actors -----------------------------------------------------------------------------------
def test_a_member_edits_its_own_offers_and_the_history_says_who(world: tuple[Store, TestClient]) -> None:
    store, client = world
    mia = ("mia", PASSWORD)
    before = store.head("park")
    r = client.post(
        "/api/ecosystems/park/actors/mill",
        auth=mia,
        json={"expected": before, "offers": [{"resource": "ash", "quantity": 14, "disposal_cost": 31}]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["changes"]["offers"]["changed"] == 1
    eco = store.load("park")
    assert [(o.actor, o.quantity) for o in eco.offers if o.actor == "mill"] == [("mill", 14.0)]
    assert [o.quantity for o in eco.offers if o.actor == "plant"] == [20.0]  # the others are untouched
    assert list(eco.flows) == list(_park().flows)
    last = store.history("park")[-1]
    assert (last["number"], last["author"], last["message"]) == (before + 1, "mia", "edited mill")
    # a stale edit is refused with the version now there, and changes nothing
    stale = client.post(
        "/api/ecosystems/park/actors/mill", auth=mia, json={"expected": before, "record": {"name": "Saw mill"}}
    )
    assert stale.status_code == 409
    assert stale.json()["version"] == before + 1
    assert store.head("park") == before + 1


def test_a_bad_edit_lists_every_problem_with_its_place(world: tuple[Store, TestClient]) -> None:
    store, client = world
    before = store.head("park")
    r = client.post(
        "/api/ecosystems/park/actors/mill",
        auth=("mia", PASSWORD),
        json={"offers": [{"resource": "ash", "quantity": -3}, {"resource": "asj", "quantity": 1}]},
    )
    assert r.status_code == 422
    problems = {(p["path"], p["message"]) for p in r.json()["problems"]}
    assert ("offers[0].quantity", "negative quantity") in problems
    assert ("offers[1].resource", "unknown resource 'asj'") in problems
    assert any("ash" in (p["hint"] or "") for p in r.json()["problems"])  # did you mean
    assert store.head("park") == before
    # nor may a member move its offers to another actor
    r = client.post(
        "/api/ecosystems/park/actors/mill",
        auth=("mia", PASSWORD),
        json={"offers": [{"actor": "farm", "resource": "ash", "quantity": 1}]},
    )
    assert r.status_code == 422
    assert r.json()["problems"][0]["path"] == "offers[0].actor"


def test_the_actor_pages_show_what_each_role_may_see(world: tuple[Store, TestClient]) -> None:
    _, client = world
    mia, manny = ("mia", PASSWORD), ("manny", PASSWORD)
    farm = client.get("/api/ecosystems/park/actors/farm", auth=mia).json()
    assert farm["actor"] == {"id": "farm", "sector": "01", "stratum": "moss"}  # its public fields
    assert farm["flows"] == [{"from": "mill", "to": "farm", "resource": "ash", "quantity": 5.0}]  # hers only
    plant = client.get("/api/ecosystems/park/actors/plant", auth=mia).json()
    assert plant["offers"][0]["quantity"] == 20.0  # shown: not confidential
    mill_for_farm = client.get("/api/ecosystems/park/actors/mill", auth=("fred", PASSWORD)).json()
    assert "quantity" not in mill_for_farm["offers"][0]  # confidential by default
    full = client.get("/api/ecosystems/park/actors/farm", auth=manny).json()
    assert len(full["flows"]) == 2
    page = client.get("/e/park/actors?q=mill", auth=mia)
    assert page.status_code == 200
    assert 'href="/e/park/actors/mill"' in page.text
    assert 'href="/e/park/actors/farm"' not in page.text
    own = client.get("/e/park/actors/mill", auth=mia).text
    assert 'id="edit-record"' in own
    assert 'id="add-offers"' in own
    other = client.get("/e/park/actors/farm", auth=mia).text
    assert 'id="edit-record"' not in other


def test_forms_add_and_remove_offers_and_needs(world: tuple[Store, TestClient]) -> None:
    store, client = world
    assert _login(client, "fred") == 303
    page = client.get("/e/park/actors/farm").text
    token = page.split('name="csrf" value="')[1].split('"')[0]
    head = store.head("park")
    r = client.post(
        "/e/park/actors/farm/needs",
        data={"resource": "ash", "quantity": "4", "price": "12", "csrf": token, "expected": str(head)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert sorted(n.quantity for n in store.load("park").needs if n.actor == "farm") == [4.0, 12.0]
    r = client.post(
        "/e/park/actors/farm/needs",
        data={"remove": "0", "csrf": token, "expected": str(head + 1)},
        follow_redirects=False,
    )
    assert r.status_code == 200  # a removal asks first, and changes nothing until confirmed
    assert "Remove farm&#39;s need of ash (12 t)?" in r.text
    assert store.head("park") == head + 1
    r = client.post(
        "/e/park/actors/farm/needs",
        data={"remove": "0", "confirm": "yes", "csrf": token, "expected": str(head + 1)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert [n.quantity for n in store.load("park").needs if n.actor == "farm"] == [4.0]
    r = client.post(
        "/e/park/actors/farm/offers", data={"resource": "ash", "quantity": "lots", "csrf": token}
    )  # a problem: the page again, with it
    assert r.status_code == 422
    assert "quantity" in r.text
    assert 'id="edit-error"' in r.text
    r = client.post(
        "/e/park/actors/farm", data={"name": "Pig farm", "sector": "01.46", "csrf": token, "expected": str(head)}
    )  # stale: says so, saves nothing
    assert r.status_code == 409
    assert "not saved" in r.text
    assert store.load("park").actor("farm").name is None


def test_members_add_and_remove_their_flows_by_form(world: tuple[Store, TestClient]) -> None:
    store, client = world
    mia = ("mia", PASSWORD)
    page = client.get("/e/park/actors/mill", auth=mia).text
    assert 'id="add-flows"' in page
    r = client.post(
        "/e/park/actors/mill/flows",
        auth=mia,
        data={"direction": "in", "other": "plant", "resource": "ash", "quantity": "2.5"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    flows = [(f.source, f.target, f.quantity) for f in store.load("park").flows if "mill" in (f.source, f.target)]
    assert flows == [("mill", "farm", 5.0), ("plant", "mill", 2.5)]
    r = client.post(
        "/e/park/actors/mill/flows", auth=mia, data={"remove": "0", "confirm": "yes"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert [(f.source, f.target) for f in store.load("park").flows if "mill" in (f.source, f.target)] == [
        ("plant", "mill")
    ]
    assert [(f.source, f.target) for f in store.load("park").flows][:1] == [("plant", "farm")]  # others kept
    bad = client.post("/e/park/actors/mill/flows", auth=mia, data={"other": "plnt", "resource": "ash", "quantity": "1"})
    assert "unknown actor" in bad.text
    assert client.post("/e/park/actors/farm/flows", auth=mia, data={"remove": "0"}).status_code == 403


def test_code_search(world: tuple[Store, TestClient]) -> None:
    _, client = world
    hits = client.get("/api/codes", params={"kind": "waste", "q": "fly ash coal"}, auth=("mia", PASSWORD)).json()
    assert hits[0]["code"] == "10 01 02"
    sectors = client.get("/api/codes", params={"kind": "sector", "q": "cement"}, auth=("mia", PASSWORD)).json()
    assert any(c["code"] == "23.51" for c in sectors)
    assert client.get("/api/codes", params={"kind": "colour", "q": "x"}, auth=("mia", PASSWORD)).status_code == 422


# -- import, export, new ecosystems, people ------------------------------------------------------
def test_import_page_lists_every_problem_and_changes_nothing(world: tuple[Store, TestClient]) -> None:
    store, client = world
    manny = ("manny", PASSWORD)
    head = store.head("park")
    r = client.post("/e/park/data", auth=manny, files={"file": ("bad.yaml", BAD.read_bytes())})
    assert r.status_code == 422
    assert 'id="problems"' in r.text
    assert "line" in r.text
    assert store.head("park") == head
    r = client.post(
        "/e/park/data", auth=manny, files={"file": ("park.yaml", PARK.read_bytes())}, follow_redirects=False
    )
    assert r.status_code == 303
    assert store.load("park") == rf.load(PARK)


@pytest.mark.parametrize("form", ["yaml", "json", "excel", "csv"])
def test_export_in_every_form(world: tuple[Store, TestClient], tmp_path: Path, form: str) -> None:
    store, client = world
    r = client.get("/api/ecosystems/park/export", params={"form": form, "version": 1}, auth=("olga", PASSWORD))
    assert r.status_code == 200
    assert "park-v1." in r.headers["content-disposition"]
    if form == "csv":
        folder = tmp_path / "doc"
        zipfile.ZipFile(io.BytesIO(r.content)).extractall(folder)
        path = folder
    else:
        path = tmp_path / f"doc.{ {'yaml': 'yaml', 'json': 'json', 'excel': 'xlsx'}[form] }"
        path.write_bytes(r.content)
    assert rf.load(path) == store.load("park", 1)


def test_administrators_create_ecosystems_from_documents(world: tuple[Store, TestClient]) -> None:
    store, client = world
    root = ("root", PASSWORD)
    r = client.post("/api/ecosystems", auth=root, data={"slug": "bad"}, files={"file": ("bad.yaml", BAD.read_bytes())})
    assert r.status_code == 422
    assert all(p["line"] for p in r.json()["problems"])
    assert "bad" not in {e.slug for e in store.ecosystems()}
    r = client.post("/api/ecosystems", auth=root, data={"slug": "demo"}, files={"file": ("p.yaml", PARK.read_bytes())})
    assert r.status_code == 201
    assert store.load("demo") == rf.load(PARK)
    again = client.post("/api/ecosystems", auth=root, data={"slug": "demo"}, files={"file": ("p.yaml", b"")})
    assert again.status_code == 422
    assert "exists already" in again.json()["error"]


def test_managers_register_member_firms(world: tuple[Store, TestClient]) -> None:
    _store, client = world
    manny = ("manny", PASSWORD)
    r = client.post(
        "/api/ecosystems/park/people",
        auth=manny,
        json={"username": "paula", "role": "member", "actor": "plant", "password": "a long password"},
    )
    assert r.status_code == 201
    assert client.get("/api/ecosystems", auth=("paula", "a long password")).json()[0]["actor"] == "plant"
    people = client.get("/api/ecosystems/park/people", auth=manny).json()
    assert {"username": "paula", "role": "member", "actor": "plant"} in people
    bad = client.post("/api/ecosystems/park/people", auth=manny, json={"username": "zed", "role": "member"})
    assert bad.status_code == 422
    assert "password" in bad.json()["error"]
    bad = client.post(
        "/api/ecosystems/park/people", auth=manny, json={"username": "paula", "role": "member", "actor": "plnt"}
    )
    assert bad.status_code == 422
    assert "plant" in bad.json()["error"]


# -- long work ----------------------------------------------------------------------------------
def test_jobs_run_in_the_worker_with_progress_and_stored_results(world: tuple[Store, TestClient]) -> None:
    store, client = world
    manny = ("manny", PASSWORD)
    client.post("/e/park/data", auth=manny, files={"file": ("park.yaml", PARK.read_bytes())})
    r = client.post("/api/ecosystems/park/jobs", auth=manny, json={"kind": "plan", "objective": "benefit"})
    assert r.status_code == 201
    assert r.json()["status"] == "queued"
    job = _wait(client, "park", r.json()["id"], manny)
    assert job["status"] == "done"
    assert job["progress"] == 1.0
    result = client.get(f"/api/ecosystems/park/jobs/{job['id']}/result", auth=("olga", PASSWORD)).json()
    from rainforest.optimize import exchanges

    expected = exchanges.plan(store.load("park"))
    assert result["benefit"] == pytest.approx(expected.benefit)
    assert len(result["exchanges"]) == len(expected.exchanges)
    board = client.get("/e/park/board", auth=manny).text
    assert 'id="plan"' in board  # the board shows the stored plan of this version
    page = client.get(f"/e/park/jobs/{job['id']}", auth=manny).text
    assert "Net benefit" in page
    # bad parameters are refused before anything is queued
    r = client.post("/api/ecosystems/park/jobs", auth=manny, json={"kind": "simulate", "runs": 5000})
    assert r.status_code == 422
    assert "runs" in r.json()["error"]
    # work that cannot run on this version is refused with the reason, before anything is queued
    before = len(JobQueue(store).jobs("park"))
    r = client.post("/api/ecosystems/park/jobs", auth=manny, json={"kind": "risk"})
    assert r.status_code == 422
    assert "money" in r.json()["error"]
    assert len(JobQueue(store).jobs("park")) == before
    # a job whose work fails says why, and has no result
    failed = JobQueue(store).submit("park", "risk", author="manny")
    assert run(store, "park", failed.id) == "failed"
    assert "money" in JobQueue(store).job("park", failed.id).message
    assert client.get(f"/api/ecosystems/park/jobs/{failed.id}/result", auth=manny).status_code == 409


def test_replanning_says_what_changed_and_how_far_the_plan_is_proven(world: tuple[Store, TestClient]) -> None:
    store, client = world
    manny = ("manny", PASSWORD)
    first = JobQueue(store).submit("park", "plan", author="manny")
    assert run(store, "park", first.id) == "done"
    result = JobQueue(store).result("park", first.id)
    assert result["solve"]["status"] == "optimal"
    assert result["solve"]["gap"] <= 1e-4
    assert "changes" not in result  # nothing to compare with yet
    r = client.post(
        "/api/ecosystems/park/actors/mill",
        auth=("mia", PASSWORD),
        json={"offers": [{"resource": "ash", "quantity": 9.5, "disposal_cost": 30}]},
    )
    assert r.status_code == 200, r.text
    second = JobQueue(store).submit("park", "plan", author="manny")
    assert run(store, "park", second.id) == "done"
    changes = JobQueue(store).result("park", second.id)["changes"]
    assert changes["previous_version"] == first.version
    assert {(c["from"], c["before"], c["after"]) for c in changes["changed"]} == {
        ("mill", 10.0, 9.5),
        ("plant", 2.0, 2.5),
    }
    board = client.get("/e/park/board", auth=manny).text
    assert f"Changes since the plan of version {first.version}" in board
    assert "changed mill -&gt; farm (ash) 10 -&gt; 9.5" in board
    assert "optimal (proven gap 0.00%" in board


def test_simulation_job_stores_its_page(world: tuple[Store, TestClient]) -> None:
    _, client = world
    manny = ("manny", PASSWORD)
    r = client.post("/api/ecosystems/park/jobs", auth=manny, json={"kind": "simulate", "periods": 5, "runs": 2})
    job = _wait(client, "park", r.json()["id"], manny)
    assert job["status"] == "done", job["message"]
    assert job["summary"]["runs"] == 2
    assert job["summary"]["periods"] == 5
    page = client.get(f"/api/ecosystems/park/jobs/{job['id']}/page", auth=manny)
    assert page.status_code == 200
    assert "<!doctype html>" in page.text.lower()
    # what the model assumed for what the document does not give (issue 16, item 10)
    assert job["summary"]["assumptions"]
    assert "Assumptions" in page.text
    html = client.get(f"/e/park/jobs/{job['id']}", auth=manny).text
    assert 'id="assumptions"' in html
    assert job["summary"]["assumptions"][0]["quantity"] in html


def test_analyses_pages_show_the_reports_numbers(world: tuple[Store, TestClient]) -> None:
    store, client = world
    manny = ("manny", PASSWORD)
    assert "Not computed yet" in client.get("/e/park/analyses", auth=manny).text
    job = JobQueue(store).submit("park", "analyses", author="manny")
    assert run(store, "park", job.id) == "done"
    from rainforest import report as rp

    report = rp.health_report(store.load("park"), source="park v1")
    for section in ("ena", "metabolism", "risk", "profile"):
        page = client.get(f"/e/park/analyses/{section}", auth=("olga", PASSWORD))
        assert page.status_code == 200
        expected = report.section(section)
        assert expected.title in page.text
        for n in expected.numbers:
            assert str(n["value"]) in page.text
    summary = client.get("/e/park/analyses", auth=manny).text
    for n in report.key_numbers:
        assert n["display"] in summary
    assert client.get("/e/park/analyses/nothing", auth=manny).status_code == 404
    download = client.get(f"/api/ecosystems/park/jobs/{job.id}/page", auth=manny)
    assert "Health report" in download.text
    assert "attachment" in download.headers["content-disposition"]


def test_large_ecosystems_take_their_key_numbers_from_the_analyses(
    world: tuple[Store, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rainforest.web.services import ecosystems as _workbench

    store, client = world
    monkeypatch.setattr(_workbench, "SYNC_LIMIT", (1, 1))
    manny = ("manny", PASSWORD)
    assert "run in the background" in client.get("/e/park", auth=manny).text
    job = JobQueue(store).submit("park", "analyses", author="manny")
    run(store, "park", job.id)
    page = client.get("/e/park", auth=manny).text
    assert 'id="key-numbers"' in page
    assert f'href="/api/ecosystems/park/jobs/{job.id}/page"' in page  # the stored report: no waiting
    client.post("/api/ecosystems/park/actors/mill", auth=manny, json={"record": {"name": "Saw mill"}})
    assert "are of version 1" in client.get("/e/park", auth=manny).text


@pytest.mark.parametrize("executor", ["processes", "dask"])
def test_the_worker_runs_jobs_in_other_processes(tmp_path: Path, executor: str) -> None:
    store = Store(f"sqlite:///{tmp_path / 'jobs.db'}")
    store.create("park", rf.load(PARK), author="t")
    reference = JobQueue(store).submit("park", "plan", author="t")
    run(store, "park", reference.id)
    job = JobQueue(store).submit("park", "plan", author="t")
    with Worker(store, executor, workers=1) as worker:
        assert worker.start(job).result(timeout=120) == "done"

    def plan(jid: int) -> dict[str, Any]:  # less how long it took, where it started and what changed since
        result: dict[str, Any] = JobQueue(store).result("park", jid)
        solve = {k: v for k, v in result["solve"].items() if k not in ("time_s", "text", "warm_start")}
        return {**result, "solve": solve, "changes": None}

    assert plan(job.id) == plan(reference.id)
    with pytest.raises(ValueError, match="in-memory"):
        Worker(Store("sqlite://"), "processes")


def test_the_worker_speaks_the_library_s_executor_words() -> None:
    """One vocabulary everywhere (rainforest.executors): the old words still work, with a
    warning; a word the workbench cannot use is refused with its choices."""
    store = Store("sqlite://")
    with pytest.warns(DeprecationWarning, match="'threads'"), Worker(store, "thread") as worker:
        assert worker.executor == "threads"
    for word in ("serial", "fibers"):
        with pytest.raises(rf.ParameterError, match="'threads', 'processes', 'dask' or 'dask:ADDRESS'"):
            Worker(store, word)


def test_jobs_left_by_a_stopped_server_are_marked(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'jobs.db'}")
    store.create("park", _park(), author="t")
    queued = JobQueue(store).submit("park", "analyses", author="t")
    assert JobQueue(store).interrupted() == 1
    assert "start it again" in JobQueue(store).job("park", queued.id).message


def test_browsers_get_pages_for_errors_and_scripts_json(world: tuple[Store, TestClient]) -> None:
    _, client = world
    html = {"accept": "text/html"}
    assert client.get("/e/park", headers=html, follow_redirects=False).headers["location"] == "/login"
    page = client.get("/e/other", auth=("mia", PASSWORD), headers=html)
    assert page.status_code == 404
    assert "Not found" in page.text
    assert "no ecosystem &#39;other&#39;" in page.text
    assert client.get("/api/ecosystems/other", auth=("mia", PASSWORD), headers=html).json() == {
        "detail": "no ecosystem 'other'"
    }
    denied = client.get("/e/park/jobs", auth=("mia", PASSWORD), headers=html)
    assert denied.status_code == 403
    assert "managers and observers" in denied.text


def test_firms_register_and_wait_for_the_managers_decision(world: tuple[Store, TestClient]) -> None:
    import re

    store, client = world
    manny = ("manny", PASSWORD)
    people = client.get("/e/park/people", auth=manny).text
    link = re.search(r'id="registration-link">([^<]+)<', people).group(1)  # type: ignore[union-attr]
    path = link.split("testserver", 1)[1].replace("&amp;", "&")
    assert client.get("/register/park?key=wrong").status_code == 404  # names cannot be probed
    assert client.get("/register/nowhere").status_code == 404
    form = client.get(path).text
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    key = path.split("key=")[1]
    fields = {"key": key, "csrf": token, "password": "compost all day", "message": "we take green waste"}
    r = client.post(
        "/register/park", data={**fields, "username": "compost", "actor": "composter", "firm": "Compost Co"}
    )
    assert r.status_code == 200
    assert 'id="registered"' in r.text
    # waiting: an account with no role, nothing to see
    assert client.get("/api/ecosystems", auth=("compost", "compost all day")).json() == []
    assert client.get("/api/ecosystems/park", auth=("compost", "compost all day")).status_code == 404
    pending = client.get("/api/ecosystems/park/applications", auth=manny).json()
    assert [(x["username"], x["actor"], x["status"]) for x in pending] == [("compost", "composter", "pending")]
    head = store.head("park")
    r = client.post(f"/api/ecosystems/park/applications/{pending[0]['id']}", auth=manny, json={"decision": "approve"})
    assert r.status_code == 200
    assert r.json()["status"] == "approved"
    assert store.head("park") == head + 1  # the new actor, as a version of its own
    assert store.load("park").actor("composter").name == "Compost Co"
    assert store.history("park")[-1]["message"] == "registered composter"
    mine = client.get("/api/ecosystems", auth=("compost", "compost all day")).json()
    assert [(e["ecosystem"], e["role"], e["actor"]) for e in mine] == [("park", "member", "composter")]
    again = client.post(
        f"/api/ecosystems/park/applications/{pending[0]['id']}", auth=manny, json={"decision": "refuse"}
    )
    assert again.status_code == 409
    # a bad application says what is wrong; an address registers at most five times in 15 minutes
    r = client.post("/register/park", data={**fields, "username": "Bad Name", "actor": "x"})
    assert r.status_code == 422
    assert "invalid user name" in r.text
    for k in range(4):
        client.post("/register/park", data={**fields, "username": f"firm{k}", "actor": f"firm{k}"})
    assert client.post("/register/park", data={**fields, "username": "late", "actor": "late"}).status_code == 429


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.txt", b"hello", "unknown kind of file"),
        ("noext", b"a,b", "unknown kind of file"),
        ("book.xlsx", b"not a workbook", "not an Excel workbook"),
        ("folder.zip", b"not a zip", "not a zip archive"),
    ],
)
def test_every_upload_route_refuses_unreadable_files_clearly(
    world: tuple[Store, TestClient], name: str, data: bytes, message: str
) -> None:
    store, client = world
    root = ("root", PASSWORD)
    head = store.head("park")
    answers = [
        client.post("/api/ecosystems/park/import", auth=root, files={"file": (name, data)}),
        client.post("/api/ecosystems", auth=root, data={"slug": "fresh"}, files={"file": (name, data)}),
    ]
    for r in answers:
        assert r.status_code == 422
        problem = r.json()["problems"][0]
        assert message in problem["message"]
        assert problem["file"] == name  # as the user named it, not the server's temporary copy
        assert "/tmp" not in r.text
    page = client.post("/e/park/data", auth=root, files={"file": (name, data)})
    assert page.status_code == 422
    assert message in page.text
    assert store.head("park") == head
    assert "fresh" not in {e.slug for e in store.ecosystems()}


def test_a_zipped_csv_folder_exported_imports_back(world: tuple[Store, TestClient]) -> None:
    store, client = world
    manny = ("manny", PASSWORD)
    archive = client.get("/api/ecosystems/other/export", params={"form": "csv"}, auth=("root", PASSWORD)).content
    r = client.post("/api/ecosystems/park/import", auth=("root", PASSWORD), files={"file": ("k.zip", archive)})
    assert r.status_code == 200, r.text
    assert store.load("park") == store.load("other")
    assert store.history("park")[-1]["message"] == "imported k.zip"
    assert client.get("/api/ecosystems/park/history", auth=manny).json()[-1]["author"] == "root"


def test_page_forms_answer_bad_values_without_a_server_error(tmp_path: Path) -> None:
    """Every field of every page form that writes, given empty, negative, huge, non-numeric,
    unknown and markup values while the other fields are valid: a page or a redirect, never
    a 500 (and the valid form itself is accepted, so each bad value reaches the handler)."""
    store = Store(f"sqlite:///{tmp_path / 'forms.db'}")
    store.create("park", rf.load(PARK), author="s")
    Accounts(store).create_user("root", PASSWORD, admin=True)
    Applications(store).apply("park", "applicant", "a long password", actor="newco")
    values = ["", "0", "-1", "999999", "x", "nan", "1e400", "power", "<script>", "a" * 300]
    routes: dict[str, dict[str, str]] = {
        "/e/park/actors/power": {"name": "Power", "sector": "35.11", "public": "location", "expected": ""},
        "/e/park/actors/power/offers": {
            "resource": "fly_ash",
            "quantity": "5",
            "supply_pattern": "seasonal",
            "price": "3",
            "confidential": "true",
            "remove": "",
        },
        "/e/park/actors/power/needs": {"resource": "water", "quantity": "5", "price": "1", "expected": ""},
        "/e/park/actors/power/flows": {
            "direction": "out",
            "other": "cement",
            "resource": "fly_ash",
            "quantity": "1",
            "remove": "",
            "expected": "",
        },
        "/e/park/proposals": {"source": "power", "target": "cement", "resource": "fly_ash", "quantity": "1"},
        "/e/park/proposals/1": {"status": "", "comment": "fine", "expected": ""},
        "/e/park/jobs": {"kind": "plan", "objective": "benefit", "max_distance_km": "", "periods": "", "back": ""},
        "/e/park/people": {"username": "newbie", "role": "observer", "actor": "", "password": "long enough!"},
        "/e/park/applications/1": {"decision": "refuse"},
    }
    with TestClient(create_app(store), raise_server_exceptions=False) as client:
        client.post(
            "/api/ecosystems/park/proposals",
            auth=("root", PASSWORD),
            json={"from": "power", "to": "cement", "resource": "fly_ash", "quantity": 5},
        )
        assert _login(client, "root") == 303  # a session: no password hashing per request
        options = client.get("/e/park/actors/power").text.split('name="supply_pattern"')[1].split("</select>")[0]
        assert re.findall(r"<option[^>]*>([^<]+)</option>", options) == ["continuous", "seasonal", "one-off"]
        token = client.get("/e/park/people").text.split('name="csrf" value="')[1].split('"')[0]
        for url, valid in routes.items():
            r = client.post(url, data={**valid, "csrf": token}, follow_redirects=False)
            assert r.status_code == 303, (url, r.text[:300])
            for field in valid:
                for value in values:
                    r = client.post(url, data={**valid, field: value, "csrf": token}, follow_redirects=False)
                    assert r.status_code < 500, (url, field, value, r.text[:300])
