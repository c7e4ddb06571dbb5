"""Workbench hardening (issue 17): uploads off the event loop, sessions that end, kills that
leave no broken ecosystem, no long work inside a request, and the lower findings."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import rainforest as rf
from conftest import PASSWORD, _login, _park
from rainforest.store import Store
from rainforest.web.records import Accounts, JobQueue

PARK = Path(__file__).resolve().parent.parent / "docs" / "examples" / "park.yaml"


def _csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


# -- 1. an upload never freezes the server -------------------------------------------------------
UPLOADS = ["api import", "page import", "api create", "page create"]


@pytest.mark.parametrize("route", UPLOADS)
def test_an_upload_being_read_does_not_block_sign_in(
    world: tuple[Store, TestClient], monkeypatch: pytest.MonkeyPatch, route: str
) -> None:
    """While an upload is parsed and validated (held here until /login has answered, for at
    most 5 s), /login answers: the reading runs off the event loop. Before the fix the
    event loop itself waited the 5 s and /login answered only after."""
    _, client = world
    reading, answered = threading.Event(), threading.Event()
    released: list[bool] = []
    real = rf.io.load

    def slow_load(path: Any, *args: Any, **kwargs: Any) -> Any:
        reading.set()
        released.append(answered.wait(5.0))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(rf.io, "load", slow_load)
    data = PARK.read_bytes()
    manny, root = ("manny", PASSWORD), ("root", PASSWORD)
    if route.startswith("page"):
        assert _login(client, "root" if route == "page create" else "manny") == 303
        token = _csrf(client, "/")
    statuses: list[int] = []

    def upload() -> None:
        files = {"file": ("park.yaml", data)}
        if route == "api import":
            r = client.post("/api/ecosystems/park/import", auth=manny, files=files)
        elif route == "page import":
            r = client.post("/e/park/data", files=files, data={"csrf": token}, follow_redirects=False)
        elif route == "api create":
            r = client.post("/api/ecosystems", auth=root, files=files, data={"slug": "fresh"})
        else:
            r = client.post("/new", files=files, data={"slug": "fresh", "csrf": token}, follow_redirects=False)
        statuses.append(r.status_code)

    worker = threading.Thread(target=upload)
    worker.start()
    assert reading.wait(10.0), "the upload never reached the reader"
    assert client.get("/login").status_code == 200  # on the same event loop as the upload
    answered.set()
    worker.join(30.0)
    assert released == [True], "/login waited for the upload: the event loop was blocked"
    assert len(statuses) == 1
    assert statuses[0] in (200, 201, 303), statuses


# -- 6. a killed server leaves no broken ecosystem -----------------------------------------------
KILLED = """
import sys, time
from fastapi.testclient import TestClient
from rainforest.store import Store
from rainforest.web import create_app
url, action, path = sys.argv[1:4]
root = ("root", "correct horse battery")
with TestClient(create_app(Store(url), secret="s")) as client:
    files = {"file": ("park.yaml", open(path, "rb").read())}
    if action == "create":
        r = client.post("/api/ecosystems", auth=root, files=files, data={"slug": "fresh"})
    elif action == "import":
        r = client.post("/api/ecosystems/park/import", auth=root, files=files)
    else:
        r = client.post("/api/ecosystems/park/jobs", auth=root, json={"kind": "analyses"})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.2)
    print("not killed:", r.status_code, r.text[:200])
    sys.exit(3)
"""

POINTS = [
    ("create", "create:ecosystem-row"),  # its first version is written in the same transaction
    ("import", "import:validated"),
    ("import", "commit:version-row"),
    ("job", "job:claimed"),
    ("job", "job:computed"),
]


@pytest.mark.parametrize(("action", "point"), POINTS, ids=[f"{a}@{p}" for a, p in POINTS])
def test_a_server_killed_mid_write_leaves_every_page_working(tmp_path: Path, action: str, point: str) -> None:
    """The server process ends with ``os._exit`` (as under ``kill -9``) at a named point of
    creating, importing or running long work; after the start-up check the database holds
    only whole ecosystems, every page answers, and the cut-short work can be done again.
    Before the fix an ecosystem whose first version was never written answered 500 on
    every page and could not be created again."""
    import os
    import subprocess
    import sys

    from rainforest.web import create_app

    url = f"sqlite:///{tmp_path / 'killed.db'}"
    with Store(url) as store:
        store.create("park", _park(), author="setup")
        Accounts(store).create_user("root", PASSWORD, admin=True)
    env = {**os.environ, "RAINFOREST_CRASH_AT": point}
    done = subprocess.run(
        [sys.executable, "-c", KILLED, url, action, str(PARK)],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 137, done.stdout + done.stderr
    store = Store(url)
    store.repair()
    JobQueue(store).interrupted()
    slugs = [e.slug for e in store.ecosystems()]
    assert set(slugs) <= {"park", "fresh"}
    for slug in slugs:  # every ecosystem left is whole: its head version loads
        store.load(slug)
    assert store.head("park") == 1  # the cut-short import saved nothing
    assert all(j.status in ("done", "failed") for j in JobQueue(store).jobs())
    with TestClient(create_app(store, secret="t")) as client:
        assert _login(client, "root") == 303
        pages = ["/"] + [
            f"/e/{s}{p}"
            for s in slugs
            for p in ("", "/actors", "/board", "/analyses", "/jobs", "/data", "/people", "/actors/mill")
        ]
        pages += [f"/api/ecosystems/{s}{p}" for s in slugs for p in ("", "/history", "/export?form=json")]
        for page in pages:
            assert client.get(page).status_code == 200, page
        # and the work can be done again
        token = _csrf(client, "/")
        files = {"file": ("park.yaml", PARK.read_bytes())}
        if "fresh" not in slugs:
            r = client.post("/api/ecosystems", files=files, data={"slug": "fresh", "csrf": token})
            assert r.status_code == 201, r.text
        r = client.post("/api/ecosystems/park/import", files=files, data={"csrf": token})
        assert r.status_code == 200, r.text
        r = client.post("/api/ecosystems/park/jobs", json={"kind": "analyses"}, headers={"x-csrf-token": token})
        assert r.status_code == 201, r.text
    store.close()


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_the_start_up_check_removes_half_created_ecosystems(tmp_path: Path, db: str) -> None:
    """A database left by an older server killed between an ecosystem's row and its first
    version (two transactions then): the check removes the row, the name can be used again,
    and a head pointing past the last version is moved back."""
    import sqlalchemy as sa

    from conftest import postgres_schema
    from rainforest.store._schema import EcosystemRow

    def check(url: str) -> None:
        with Store(url) as store:
            store.create("park", _park(), author="setup")
            with store.engine.begin() as conn:
                conn.execute(sa.insert(EcosystemRow).values(slug="half", name="half", created_at=sa.func.now(), head=0))
                conn.execute(sa.update(EcosystemRow).where(EcosystemRow.slug == "park").values(head=3))
            done = store.repair()
            assert len(done) == 2
            assert any("'half'" in line for line in done)
            assert [e.slug for e in store.ecosystems()] == ["park"]
            assert store.head("park") == 1
            assert store.load("park") == _park()
            store.create("half", _park(), author="again")
            assert store.repair() == []

    if db == "sqlite":
        check(f"sqlite:///{tmp_path / 'half.db'}")
    else:
        with postgres_schema() as url:
            check(url)


# -- 5. sessions that end ------------------------------------------------------------------------
def _browser(client: TestClient, user: str, password: str = PASSWORD) -> TestClient:
    """A second browser on the same application, signed in as ``user``."""
    other = TestClient(client.app)
    assert _login(other, user, password) == 303
    return other


def test_a_cookie_saved_before_signing_out_no_longer_works(world: tuple[Store, TestClient]) -> None:
    """Before the fix the cookie was a signed ``{"user": ...}``: a copy kept before signing
    out still opened every page afterwards."""
    _, client = world
    assert _login(client, "manny") == 303
    saved = dict(client.cookies)
    assert client.get("/e/park", follow_redirects=False).status_code == 200
    assert client.post("/logout", data={"csrf": _csrf(client, "/e/park")}, follow_redirects=False).status_code == 303
    thief = TestClient(client.app, cookies=saved)
    assert thief.get("/e/park", follow_redirects=False).headers["location"] == "/login"
    assert thief.get("/api/ecosystems").status_code == 401


def test_a_new_password_ends_every_other_session(world: tuple[Store, TestClient]) -> None:
    store, client = world
    assert _login(client, "manny") == 303
    laptop = _browser(client, "manny")
    token = _csrf(client, "/password")
    new = "a brand new passphrase"
    wrong = client.post("/password", data={"csrf": token, "current": "nope", "new": new, "repeat": new})
    assert wrong.status_code == 422
    assert "current password is wrong" in wrong.text
    r = client.post(
        "/password", data={"csrf": token, "current": PASSWORD, "new": new, "repeat": new}, follow_redirects=False
    )
    assert r.status_code == 303
    assert client.get("/e/park", follow_redirects=False).status_code == 200  # this browser goes on
    assert laptop.get("/e/park", follow_redirects=False).headers["location"] == "/login"  # the other ends
    assert client.get("/api/ecosystems", auth=("manny", PASSWORD)).status_code == 401
    assert client.get("/api/ecosystems", auth=("manny", new)).status_code == 200
    # the API does the same, with HTTP Basic
    r = client.post("/api/password", auth=("manny", new), json={"current": new, "new": "yet another passphrase"})
    assert r.status_code == 200, r.text
    assert client.get("/e/park", follow_redirects=False).headers["location"] == "/login"
    assert Accounts(store).verify("manny", "yet another passphrase") is not None


def test_removing_a_role_or_an_account_ends_its_sessions(world: tuple[Store, TestClient]) -> None:
    store, client = world
    mia, olga = _browser(client, "mia"), _browser(client, "olga")
    assert mia.get("/e/park", follow_redirects=False).status_code == 200
    assert _login(client, "manny") == 303
    token = _csrf(client, "/e/park/people")
    assert "/people/mia/remove" in client.get("/e/park/people").text
    r = client.post("/e/park/people/mia/remove", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    assert mia.get("/e/park", follow_redirects=False).headers["location"] == "/login"
    assert [m.ecosystem for m in Accounts(store).memberships("mia")] == []
    # the API: a manager takes a role away; observers may not
    assert client.delete("/api/ecosystems/park/people/fred", auth=("olga", PASSWORD)).status_code == 403
    assert client.delete("/api/ecosystems/park/people/fred", auth=("manny", PASSWORD)).status_code == 204
    assert client.delete("/api/ecosystems/park/people/fred", auth=("manny", PASSWORD)).status_code == 404
    # an administrator removes an account: its sessions end with it
    assert client.delete("/api/users/olga", auth=("manny", PASSWORD)).status_code == 403
    assert client.delete("/api/users/olga", auth=("root", PASSWORD)).status_code == 204
    assert olga.get("/e/park", follow_redirects=False).headers["location"] == "/login"
    assert Accounts(store).user("olga") is None
    assert client.delete("/api/users/root", auth=("root", PASSWORD)).status_code == 422  # the last administrator


def test_a_one_time_password_must_be_replaced_at_first_sign_in(world: tuple[Store, TestClient]) -> None:
    """The first start's administrator signs in with a one-time password: every page leads to
    the password form, the API refuses, until it is replaced."""
    store, client = world
    Accounts(store).create_user("admin", "one-time-secret", admin=True, one_time=True)
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/login", data={"username": "admin", "password": "one-time-secret", "csrf": token}, follow_redirects=False
    )
    assert r.headers["location"] == "/password"
    for path in ("/", "/e/park", "/e/park/actors"):
        assert client.get(path, follow_redirects=False).headers["location"] == "/password", path
    assert client.get("/api/ecosystems", auth=("admin", "one-time-secret")).status_code == 403
    form = client.get("/password")
    assert "one-time password" in form.text
    new = "my own admin passphrase"
    token = _csrf(client, "/password")
    r = client.post(
        "/password",
        data={"csrf": token, "current": "one-time-secret", "new": new, "repeat": new},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"
    assert client.get("/e/park").status_code == 200
    assert client.get("/api/ecosystems", auth=("admin", new)).status_code == 200
    assert Accounts(store).user("admin") is not None
    assert not Accounts(store).user("admin").must_change  # type: ignore[union-attr]


def test_cli_manages_accounts(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rainforest.cli.app import app

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    new = "correct horse battery"
    r = runner.invoke(app, ["store", "user", "add", "ada", "--admin", "--db", db], input=f"{new}\n{new}\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["store", "user", "add", "bob", "--db", db], input="short\nshort\n")
    assert r.exit_code == 2
    assert "10 characters" in r.output
    with Store(db) as store:
        Accounts(store).create_user("bob", new)
        token = Accounts(store).start_session("bob")
    r = runner.invoke(
        app, ["store", "user", "password", "bob", "--one-time", "--db", db], input="x" * 12 + "\n" + "x" * 12 + "\n"
    )
    assert r.exit_code == 0, r.output
    with Store(db) as store:
        assert Accounts(store).session_user(token) is None  # the new password ended bob's session
        bob = Accounts(store).verify("bob", "x" * 12)
        assert bob is not None
        assert bob.must_change
    r = runner.invoke(app, ["store", "user", "list", "--json", "--db", db])
    assert r.exit_code == 0, r.output
    assert '"one_time_password": true' in r.output
    assert runner.invoke(app, ["store", "user", "remove", "bob", "--db", db]).exit_code == 0
    r = runner.invoke(app, ["store", "user", "remove", "ada", "--db", db])
    assert r.exit_code == 2
    assert "last administrator" in r.output


# -- 8. no long work inside a request ------------------------------------------------------------
def test_a_large_ecosystems_report_is_long_work_not_a_request(
    world: tuple[Store, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the overview's size limit (lowered here so the park counts as large) the report
    is never computed in the request: the first caller, an observer included, gets 202 and
    the job; later callers the same job; once done, the stored page. Before the fix the
    request computed the report itself (minutes for a large ecosystem)."""
    import time

    from rainforest import report
    from rainforest.web.services import ecosystems as _workbench

    store, client = world
    monkeypatch.setattr(_workbench, "SYNC_LIMIT", (1, 1))

    real = report.health_report

    def never(*args: Any, **kwargs: Any) -> Any:
        if not threading.current_thread().name.startswith("rainforest-job"):
            raise AssertionError("the report was computed inside the request")
        return real(*args, **kwargs)  # the worker's job

    olga = ("olga", PASSWORD)
    monkeypatch.setattr(report, "health_report", never)
    first = client.get("/api/ecosystems/park/report", auth=olga)
    assert first.status_code == 202, first.text[:300]
    job = first.json()["job"]
    assert first.headers["location"] == f"/api/ecosystems/park/jobs/{job['id']}"
    again = client.get("/api/ecosystems/park/report", auth=("manny", PASSWORD))
    assert again.status_code in (200, 202)
    if again.status_code == 202:
        assert again.json()["job"]["id"] == job["id"]  # one job per version, not one per request
    deadline = time.monotonic() + 60
    while JobQueue(store).job("park", job["id"]).status not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert JobQueue(store).job("park", job["id"]).status == "done"
    done = client.get("/api/ecosystems/park/report", auth=olga)
    assert done.status_code == 200
    assert done.text.startswith("<!doctype html>")
    assert len([j for j in JobQueue(store).jobs("park") if j.kind == "analyses"]) == 1
    assert client.get("/api/ecosystems/park/report", auth=("mia", PASSWORD)).status_code == 403


SLOW_SERVER = """
import sys, time
import rainforest.web.jobs as jobs
def slow(eco, params, progress, label):
    start = time.monotonic()
    while time.monotonic() - start < 300:
        if sys.argv[1] == "reports":
            progress(0.1, "working")
        time.sleep(0.05)
    raise RuntimeError("not stopped")
jobs.RUNNERS["analyses"] = slow
from rainforest.cli.app import main
sys.argv = ["rainforest", "serve", "--db", sys.argv[2], "--port", sys.argv[3]]
main()
"""


@pytest.mark.parametrize("work", ["reports", "silent"])
def test_the_server_stops_within_seconds_while_long_work_runs(tmp_path: Path, work: str) -> None:
    """``rainforest serve`` gets SIGTERM while a job runs for minutes, one that reports its
    progress (it is stopped at its next report) and one that does not (the process ends
    it after the grace period): the process exits within 10 s, and the job is marked failed
    with the reason. Before the fix shutdown waited for the job to finish."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    url = f"sqlite:///{tmp_path / 'slow.db'}"
    with Store(url) as store:
        store.create("park", _park(), author="setup")
        Accounts(store).create_user("root", PASSWORD, admin=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "RAINFOREST_SECRET": "s"}
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_SERVER, work, url, str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/login", timeout=1.0)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the server did not start"
                assert proc.poll() is None, "the server ended at start"
                time.sleep(0.2)
        r = httpx.post(f"{base}/api/ecosystems/park/jobs", json={"kind": "analyses"}, auth=("root", PASSWORD))
        assert r.status_code == 201, r.text
        jid = r.json()["id"]
        while (
            httpx.get(f"{base}/api/ecosystems/park/jobs/{jid}", auth=("root", PASSWORD)).json()["status"] != "running"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        t = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        took = time.monotonic() - t
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert took < 10, f"the server took {took:.1f} s to stop"
    with Store(url) as store:
        job = JobQueue(store).job("park", jid)
    assert job.status == "failed"
    assert "server stopped" in job.message


# -- 10. the lower findings ----------------------------------------------------------------------
def test_an_authorization_header_does_not_excuse_a_cookie_from_csrf(world: tuple[Store, TestClient]) -> None:
    """Only a request authenticated by HTTP Basic skips the CSRF token; before the fix any
    ``Authorization`` header did, even when the cookie then authenticated the caller."""
    _, client = world
    assert _login(client, "manny") == 303
    r = client.post("/api/ecosystems/park/jobs", json={"kind": "plan"}, headers={"Authorization": "Bearer whatever"})
    assert r.status_code == 403
    assert "CSRF" in r.json()["detail"]
    token = _csrf(client, "/e/park")
    r = client.post("/api/ecosystems/park/jobs", json={"kind": "plan"}, headers={"x-csrf-token": token})
    assert r.status_code == 201
    r = client.post("/api/ecosystems/park/jobs", json={"kind": "plan"}, auth=("manny", PASSWORD))
    assert r.status_code == 201  # Basic: no ambient credential, no token


def test_fresh_user_names_do_not_escape_the_sign_in_limit(
    world: tuple[Store, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failed sign-ins are also counted per address, whatever the user name (each costs an
    Argon2id check); before the fix every fresh name started a new count."""
    from rainforest.web import security as web

    _, client = world
    monkeypatch.setattr(web, "FAILURES_PER_ADDRESS", 3)
    for k in range(3):
        assert client.get("/api/ecosystems", auth=(f"nobody{k}", "guess guess")).status_code == 401
    assert client.get("/api/ecosystems", auth=("nobody9", "guess guess")).status_code == 429
    assert _login(client, "someone-else", "guess guess") == 429


def test_csv_download_cells_never_start_a_formula(world: tuple[Store, TestClient]) -> None:
    import csv
    import io
    import zipfile

    store, client = world
    eco = _park()
    hostile = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)"]
    actors = [
        rf.Actor(a.id, name=hostile[i % len(hostile)], sector=a.sector, stratum=a.stratum)
        for i, a in enumerate(eco.actors)
    ] + [rf.Actor("extra", name=hostile[3])]
    store.commit("park", rf.Ecosystem(name="park", actors=actors, resources=eco.resources), author="t")
    r = client.get("/api/ecosystems/park/export?form=csv", auth=("manny", PASSWORD))
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("actors.csv").decode("utf-8"))))
    names = sorted(row["name"] for row in rows)
    assert all(n.startswith("'") for n in names), names
    assert {n[1:] for n in names} == set(hostile)


def test_a_new_sqlite_store_is_private(tmp_path: Path) -> None:
    """The database holds password hashes and confidential records: 0600, not 0644."""
    import os
    import stat

    path = tmp_path / "private.db"
    with Store(f"sqlite:///{path}") as store:
        Accounts(store).create_user("ada", "a long password")
        for f in [path, *path.parent.glob("private.db-*")]:
            assert stat.S_IMODE(os.stat(f).st_mode) == 0o600, f


def test_every_response_has_security_headers_and_credentials_are_not_cached(
    world: tuple[Store, TestClient],
) -> None:
    _, client = world
    manny = ("manny", PASSWORD)
    for path in ("/api/ecosystems", "/api/ecosystems/park/export?form=yaml", "/openapi.json"):
        r = client.get(path, auth=manny)
        assert r.status_code == 200, path
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["content-security-policy"].startswith("default-src 'none'"), path
        assert r.headers["cache-control"] == "no-store", path
    docs = client.get("/docs")
    policy = docs.headers["content-security-policy"]
    scripts = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
    assert "'sha256-" in scripts
    assert "unsafe" not in scripts
    assert docs.headers["x-content-type-options"] == "nosniff"
    assert _login(client, "manny") == 303
    page = client.get("/e/park")
    assert page.headers["cache-control"] == "no-store"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-eval" not in policy
    assert "script-src 'self' 'unsafe-inline'" not in policy
    assert "<script>" not in page.text  # no inline script left to allow
    assert client.get("/static/workbench.js").headers["cache-control"] == "max-age=3600"


def test_forwarded_addresses_are_believed_only_from_configured_proxies(tmp_path: Path) -> None:
    """``rainforest serve`` without ``--trusted-proxy`` ignores X-Forwarded-For: a client
    cannot give every failed sign-in a new address to escape the limit. Before the fix
    uvicorn believed the header from any local client."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    url = f"sqlite:///{tmp_path / 'xff.db'}"
    with Store(url) as store:
        store.create("park", _park(), author="setup")
        Accounts(store).create_user("root", PASSWORD, admin=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "RAINFOREST_SECRET": "s"}
    with subprocess.Popen(
        [sys.executable, "-m", "rainforest", "serve", "--db", url, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as proc:
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{base}/login", timeout=1.0)
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.2)
            statuses = []
            for k in range(6):
                spoof = {"X-Forwarded-For": f"10.0.0.{k}"}
                statuses.append(
                    httpx.get(f"{base}/api/ecosystems", auth=("root", "wrong!" * 3), headers=spoof).status_code
                )
            assert statuses == [401] * 5 + [429]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
