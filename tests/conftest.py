"""Shared fixtures."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

import rainforest as rf
from rainforest.store import Store
from rainforest.web import create_app
from rainforest.web.records import Accounts

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def shared() -> Path:
    """The project's shared folder (read-only in CI)."""
    if not SHARED.exists():
        pytest.skip("../shared is not beside the checkout")
    return SHARED


@pytest.fixture(autouse=True)
def _private_default_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands that open the default store (``rainforest demo``) write into a temporary
    folder, never into the user's data directory."""
    monkeypatch.setenv("RAINFOREST_DATA", str(tmp_path_factory.mktemp("data")))


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A PostgreSQL URL whose connections live in a fresh schema, dropped afterwards, so
    tests never see each other's rows. Needs ``RAINFOREST_TEST_POSTGRES`` (set by ``.ci/run``,
    which starts the server): fails in CI without it, skips elsewhere."""
    url = os.environ.get("RAINFOREST_TEST_POSTGRES")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("RAINFOREST_TEST_POSTGRES is not set: .ci/run starts PostgreSQL and sets it")
        pytest.skip("no PostgreSQL server (set RAINFOREST_TEST_POSTGRES)")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            sa.engine.make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# -- the workbench's small world: one park with every role, and another ecosystem ------------------
PASSWORD = "correct horse battery"


def _park() -> rf.Ecosystem:
    return rf.Ecosystem(
        name="park",
        actors=[
            rf.Actor("mill", sector="16"),
            rf.Actor("farm", sector="01", stratum="moss", extensions={"x_public": ["stratum"]}),
            rf.Actor("plant", sector="35", stratum="canopy"),
        ],
        resources=[rf.Resource("ash", "material", "t")],
        flows=[
            rf.Flow("mill", "farm", "ash", 5.0),
            rf.Flow("plant", "farm", "ash", 7.0),
            rf.Flow("plant", "environment", "ash", 9.0),
        ],
        offers=[
            rf.Offer("mill", "ash", 10.0, disposal_cost=30.0),
            rf.Offer("plant", "ash", 20.0, disposal_cost=25.0, confidential=False),
        ],
        needs=[rf.Need("farm", 12.0, resource="ash", price=15.0)],
    )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Store, TestClient]]:
    store = Store(f"sqlite:///{tmp_path / 'web.db'}")
    store.create("park", _park(), author="setup")
    store.create("other", rf.datasets.kalundborg(), author="setup")
    Accounts(store).create_user("root", PASSWORD, admin=True)
    for name, role, actor in (
        ("manny", "manager", None),
        ("mia", "member", "mill"),
        ("fred", "member", "farm"),
        ("pat", "member", "plant"),
        ("olga", "observer", None),
    ):
        Accounts(store).create_user(name, PASSWORD)
        Accounts(store).grant(name, "park", role, actor)
    Accounts(store).create_user("outsider", PASSWORD)
    Accounts(store).grant("outsider", "other", "manager")
    with TestClient(create_app(store, secret="test-secret")) as client:
        yield store, client


def _login(client: TestClient, user: str, password: str = PASSWORD) -> int:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return client.post(
        "/login", data={"username": user, "password": password, "csrf": token}, follow_redirects=False
    ).status_code


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's package, installed by ``.ci/run``) driven by Playwright;
    a failure in CI when it is missing, a skip elsewhere."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
