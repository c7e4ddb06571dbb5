"""Shared fixtures."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

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
