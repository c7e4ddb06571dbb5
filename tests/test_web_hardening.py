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
from conftest import PASSWORD, _login
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
