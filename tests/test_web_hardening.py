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
        store.create_user("root", PASSWORD, admin=True)
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
    store.interrupted()
    slugs = [e.slug for e in store.ecosystems()]
    assert set(slugs) <= {"park", "fresh"}
    for slug in slugs:  # every ecosystem left is whole: its head version loads
        store.load(slug)
    assert store.head("park") == 1  # the cut-short import saved nothing
    assert all(j.status in ("done", "failed") for j in store.jobs())
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
