"""The workbench's first part: sign-in, sessions, CSRF, rate limiting, roles and the JSON API."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import rainforest as rf
from conftest import PASSWORD, _login, _park, postgres_schema
from rainforest.store import Store
from rainforest.store.tables import ProposalRow
from rainforest.web.records import Accounts, Applications, JobQueue, Proposals
from rainforest.web.visibility import Access, visible_document


def test_api_needs_credentials(world: tuple[Store, TestClient]) -> None:
    _, client = world
    r = client.get("/api/ecosystems")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Basic"
    assert client.get("/api/ecosystems", auth=("root", "wrong password!")).status_code == 401


def test_each_caller_sees_its_own_ecosystems(world: tuple[Store, TestClient]) -> None:
    _, client = world
    names = lambda user: [e["ecosystem"] for e in client.get("/api/ecosystems", auth=(user, PASSWORD)).json()]  # noqa: E731
    assert names("root") == ["other", "park"]
    assert names("manny") == ["park"]
    assert names("outsider") == ["other"]
    assert client.get("/api/ecosystems/park", auth=("outsider", PASSWORD)).status_code == 404
    assert client.get("/api/ecosystems/other", auth=("manny", PASSWORD)).status_code == 404


def test_members_see_their_actor_and_only_the_directory_of_others() -> None:
    doc = visible_document(_park(), Access("park", "member", "mill"))
    actors = {a["id"]: a for a in doc["actors"]}
    assert actors["mill"] == {"id": "mill", "sector": "16"}  # its own record, in full
    assert actors["farm"] == {"id": "farm", "sector": "01", "stratum": "moss"}  # x_public adds stratum
    assert actors["plant"] == {"id": "plant", "sector": "35"}  # stratum not public
    assert doc["flows"] == [{"from": "mill", "to": "farm", "resource": "ash", "quantity": 5.0}]
    offers = {o["actor"]: o for o in doc["offers"]}
    assert offers["mill"]["quantity"] == 10.0
    assert offers["plant"]["quantity"] == 20.0  # not confidential
    assert doc["needs"] == [{"actor": "farm", "resource": "ash"}]  # confidential: no quantity, no price
    full = visible_document(_park(), Access("park", "observer"))
    assert full == _park().to_dict()


def test_history_and_report_are_for_managers_and_observers(world: tuple[Store, TestClient]) -> None:
    _, client = world
    assert client.get("/api/ecosystems/park/history", auth=("mia", PASSWORD)).status_code == 403
    assert client.get("/api/ecosystems/park/history", auth=("olga", PASSWORD)).json()[0]["message"] == "created"
    r = client.get("/api/ecosystems/park/report", auth=("manny", PASSWORD))
    assert r.status_code == 200
    assert r.text.startswith("<!doctype html>")
    assert "attachment" in r.headers["content-disposition"]


def test_import_is_transactional_and_locked(world: tuple[Store, TestClient], tmp_path: Path) -> None:
    store, client = world
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "format: rainforest/1\nname: park\nactors: [{id: a}, {id: a}]\nresources: []\nflows: [{from: a, to: zz, resource: ash, quantity: 1}]\n"
    )
    r = client.post(
        "/api/ecosystems/park/import", auth=("manny", PASSWORD), files={"file": ("bad.yaml", bad.read_bytes())}
    )
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert len(problems) >= 3
    assert all(p["line"] for p in problems)
    assert store.head("park") == 1
    good = rf.save(_park(), tmp_path / "good.json")
    r = client.post(
        "/api/ecosystems/park/import",
        auth=("manny", PASSWORD),
        files={"file": ("good.json", good.read_bytes())},
        data={"expected": "1"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["number"] == 2
    r = client.post(
        "/api/ecosystems/park/import",
        auth=("manny", PASSWORD),
        files={"file": ("good.json", good.read_bytes())},
        data={"expected": "1"},
    )
    assert r.status_code == 409
    assert r.json()["version"] == 2
    for user in ("mia", "olga"):
        r = client.post(
            "/api/ecosystems/park/import", auth=(user, PASSWORD), files={"file": ("good.json", good.read_bytes())}
        )
        assert r.status_code == 403


def test_sign_in_session_and_csrf(world: tuple[Store, TestClient]) -> None:
    _, client = world
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert _login(client, "manny") == 303
    cookie = client.cookies.jar
    assert any(c.name == "rainforest_session" for c in cookie)
    page = client.get("/")
    assert "park" in page.text
    assert "other" not in page.text
    overview = client.get("/e/park")
    assert overview.status_code == 200
    assert "exchanged between members" in overview.text
    # the API accepts the session cookie, and writes need the CSRF token
    assert client.get("/api/ecosystems").status_code == 200
    r = client.post("/api/ecosystems/park/import", files={"file": ("x.json", b"{}")})
    assert r.status_code == 403
    assert "CSRF" in r.json()["detail"]
    # sign-out needs the token too
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403


def test_session_cookie_flags(world: tuple[Store, TestClient]) -> None:
    _, client = world
    page = client.get("/login")
    header = page.headers["set-cookie"].lower()
    assert "httponly" in header
    assert "samesite=lax" in header
    assert "content-security-policy" in page.headers


def test_login_rate_limit(world: tuple[Store, TestClient]) -> None:
    _, client = world
    for _ in range(5):
        assert _login(client, "manny", "wrong password!") == 200  # the form again, with the message
    assert _login(client, "manny") == 429  # blocked, even with the right password
    assert _login(client, "olga") == 303  # other accounts are not affected


def test_members_overview_shows_their_actor(world: tuple[Store, TestClient]) -> None:
    _, client = world
    assert _login(client, "mia") == 303
    page = client.get("/e/park")
    assert "1 offer(s), 0 need(s), 1 flow(s)" in page.text
    assert "exchanged between members" not in page.text  # key numbers are for managers and observers
    assert client.get("/e/other").status_code == 404


def test_openapi_lists_the_api(world: tuple[Store, TestClient]) -> None:
    _, client = world
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) == {
        "/api/codes",
        "/api/ecosystems",
        "/api/ecosystems/{slug}/people",
        "/api/ecosystems/{slug}/people/{username}",
        "/api/password",
        "/api/users/{username}",
        "/api/ecosystems/{slug}/applications",
        "/api/ecosystems/{slug}/applications/{aid}",
        "/api/ecosystems/{slug}",
        "/api/ecosystems/{slug}/history",
        "/api/ecosystems/{slug}/report",
        "/api/ecosystems/{slug}/import",
        "/api/ecosystems/{slug}/export",
        "/api/ecosystems/{slug}/actors/{aid}",
        "/api/ecosystems/{slug}/proposals",
        "/api/ecosystems/{slug}/proposals/{pid}/status",
        "/api/ecosystems/{slug}/proposals/{pid}/comments",
        "/api/ecosystems/{slug}/proposals/{pid}/consent",
        "/api/ecosystems/{slug}/ledger",
        "/api/ecosystems/{slug}/suggestions",
        "/api/ecosystems/{slug}/suggestions/drafts",
        "/api/ecosystems/{slug}/drafts/confirm",
        "/api/ecosystems/{slug}/candidates",
        "/api/ecosystems/{slug}/jobs",
        "/api/ecosystems/{slug}/jobs/available",
        "/api/ecosystems/{slug}/jobs/{jid}",
        "/api/ecosystems/{slug}/jobs/{jid}/result",
        "/api/ecosystems/{slug}/jobs/{jid}/page",
        "/api/ecosystems/{slug}/map",
        "/api/ecosystems/{slug}/actors/{aid}/location",
        "/api/template.xlsx",
        "/api/ecosystems/{slug}/template.xlsx",
        "/api/inbox",
        "/api/inbox/count",
        "/api/inbox/mail",
        "/api/ecosystems/{slug}/actors",
        "/api/ecosystems/{slug}/resources",
        "/api/ecosystems/{slug}/resources/{rid}",
        "/api/ecosystems/{slug}/versions",
        "/api/ecosystems/{slug}/diff",
        "/api/ecosystems/{slug}/revert",
        "/api/ecosystems/new",
    }


# -- the authorisation matrix, generated from the route table --------------------------------------
ROLES = {
    "anonymous": None,
    "root": "admin",
    "manny": "manager",
    "mia": "member",  # of the actor 'mill': {aid} is her own actor 'mill', then another one, 'farm'
    "olga": "observer",
    "outsider": "other",  # a manager of another ecosystem
}
_API = {"anonymous": 401, "outsider": 404}
_PAGE = {"anonymous": 303, "outsider": 404}  # pages send the anonymous to /login
_ALL_SEE = {"*": 200}
_NOT_MEMBERS = {"mia": 403, "*": 200}
_MANAGERS = {"mia": 403, "olga": 403}
EXPECTED: dict[tuple[str, str], dict[str, int | None]] = {
    # (method, route) -> status per caller, for the ecosystem 'park'. Every route of the
    # application is listed: a new one fails the test until its permissions are written here.
    # None: the route is public or checked by its own test (sign-in and sign-out).
    ("GET", "/api/codes"): {"anonymous": 401, "*": 200},
    ("GET", "/api/ecosystems"): {"anonymous": 401, "*": 200},
    ("POST", "/api/ecosystems"): {"anonymous": 401, "root": 201, "*": 403},
    ("GET", "/api/ecosystems/{slug}"): {**_API, **_ALL_SEE},
    ("GET", "/api/ecosystems/{slug}/people"): {**_API, **_MANAGERS, "*": 200},
    ("GET", "/api/ecosystems/{slug}/applications"): {**_API, **_MANAGERS, "*": 200},
    ("POST", "/api/ecosystems/{slug}/applications/{aid}"): {**_API, **_MANAGERS, "*": 200},
    ("POST", "/api/ecosystems/{slug}/people"): {**_API, **_MANAGERS, "*": 201},
    ("GET", "/api/ecosystems/{slug}/history"): {**_API, **_NOT_MEMBERS},
    ("GET", "/api/ecosystems/{slug}/report"): {**_API, **_NOT_MEMBERS},
    ("GET", "/api/ecosystems/{slug}/export"): {**_API, **_NOT_MEMBERS},
    ("POST", "/api/ecosystems/{slug}/import"): {**_API, **_MANAGERS, "*": 200},
    ("GET", "/api/ecosystems/{slug}/actors/{aid}"): {**_API, **_ALL_SEE},
    ("POST", "/api/ecosystems/{slug}/actors/{aid}"): {**_API, "olga": 403, "mia:other": 403, "*": 200},
    ("GET", "/api/ecosystems/{slug}/proposals"): {**_API, **_ALL_SEE},
    ("POST", "/api/ecosystems/{slug}/proposals"): {**_API, "olga": 403, "*": 201},
    ("POST", "/api/ecosystems/{slug}/proposals/{pid}/status"): {**_API, "olga": 403, "*": 200},
    ("POST", "/api/ecosystems/{slug}/proposals/{pid}/comments"): {**_API, "olga": 403, "*": 200},
    ("GET", "/api/ecosystems/{slug}/ledger"): {**_API, **_ALL_SEE},
    ("GET", "/api/ecosystems/{slug}/suggestions"): {**_API, **_ALL_SEE},
    ("POST", "/api/ecosystems/{slug}/suggestions/drafts"): {**_API, **_MANAGERS, "*": 201},
    ("POST", "/api/ecosystems/{slug}/drafts/confirm"): {"*": None},  # tests/test_web_suggestions.py
    ("GET", "/e/{slug}/suggestions/panel"): {**_PAGE, **_ALL_SEE},
    ("POST", "/e/{slug}/suggestions/drafts"): {**_PAGE, **_MANAGERS, "*": 303},
    ("POST", "/e/{slug}/drafts/confirm"): {"*": None},  # tests/test_web_suggestions.py
    ("POST", "/api/ecosystems/{slug}/proposals/{pid}/consent"): {**_API, "olga": 403, "*": 200},
    ("GET", "/api/ecosystems/{slug}/candidates"): {**_API, **_ALL_SEE},
    ("GET", "/api/ecosystems/{slug}/jobs"): {**_API, **_NOT_MEMBERS},
    ("GET", "/api/ecosystems/{slug}/jobs/available"): {**_API, **_NOT_MEMBERS},
    ("POST", "/api/ecosystems/{slug}/jobs"): {**_API, **_MANAGERS, "*": 201},
    ("GET", "/api/ecosystems/{slug}/jobs/{jid}"): {**_API, **_NOT_MEMBERS},
    ("GET", "/api/ecosystems/{slug}/jobs/{jid}/result"): {**_API, **_NOT_MEMBERS},
    ("GET", "/api/ecosystems/{slug}/jobs/{jid}/page"): {**_API, **_NOT_MEMBERS},
    ("GET", "/"): {"anonymous": 303, "*": 200},
    ("POST", "/new"): {"anonymous": 303, "root": 303, "*": 403},
    ("GET", "/e/{slug}/people"): {**_PAGE, **_MANAGERS, "*": 200},
    ("POST", "/e/{slug}/people"): {**_PAGE, **_MANAGERS, "*": 303},
    ("POST", "/e/{slug}/applications/{aid}"): {**_PAGE, **_MANAGERS, "*": 303},
    ("GET", "/e/{slug}"): {**_PAGE, **_ALL_SEE},
    ("GET", "/e/{slug}/network"): {"anonymous": 401, "outsider": 404, **_NOT_MEMBERS},
    ("GET", "/e/{slug}/actors"): {**_PAGE, **_ALL_SEE},
    ("GET", "/e/{slug}/actors/{aid}"): {**_PAGE, **_ALL_SEE},
    ("POST", "/e/{slug}/actors/{aid}"): {**_PAGE, "olga": 403, "mia:other": 403, "*": 303},
    ("POST", "/e/{slug}/actors/{aid}/{section}"): {**_PAGE, "olga": 403, "mia:other": 403, "*": 303},
    ("GET", "/e/{slug}/board"): {**_PAGE, **_ALL_SEE},
    ("POST", "/e/{slug}/proposals"): {**_PAGE, "olga": 403, "*": 303},
    ("POST", "/e/{slug}/proposals/{pid}"): {**_PAGE, "olga": 403, "*": 303},
    ("POST", "/e/{slug}/proposals/{pid}/consent"): {**_PAGE, "olga": 403, "*": 303},
    ("GET", "/e/{slug}/board/export"): {**_PAGE, **_ALL_SEE},
    ("GET", "/e/{slug}/data"): {**_PAGE, **_NOT_MEMBERS},
    ("POST", "/e/{slug}/data"): {**_PAGE, **_MANAGERS, "*": 303},
    ("GET", "/e/{slug}/jobs"): {**_PAGE, **_NOT_MEMBERS},
    ("POST", "/e/{slug}/jobs"): {**_PAGE, **_MANAGERS, "*": 303},
    ("GET", "/e/{slug}/jobs/{jid}"): {**_PAGE, **_NOT_MEMBERS},
    ("GET", "/e/{slug}/analyses"): {**_PAGE, **_NOT_MEMBERS},
    ("GET", "/e/{slug}/analyses/{section}"): {**_PAGE, **_NOT_MEMBERS},
    ("DELETE", "/api/ecosystems/{slug}/people/{username}"): {**_API, **_MANAGERS, "*": 204},
    ("POST", "/e/{slug}/people/{username}/remove"): {**_PAGE, **_MANAGERS, "*": 303},
    ("DELETE", "/api/users/{username}"): {"anonymous": 401, "root": 204, "*": 403},
    # data maintenance and history (tests/test_workbench_data.py); a removal's or revert's
    # page without confirm=yes asks first (200), a resource in use is not removed (422)
    ("POST", "/api/ecosystems/{slug}/actors"): {**_API, **_MANAGERS, "*": 201},
    ("DELETE", "/api/ecosystems/{slug}/actors/{aid}"): {**_API, **_MANAGERS, "*": 200},
    ("POST", "/api/ecosystems/{slug}/resources"): {**_API, **_MANAGERS, "*": 201},
    ("POST", "/api/ecosystems/{slug}/resources/{rid}"): {**_API, **_MANAGERS, "*": 200},
    ("DELETE", "/api/ecosystems/{slug}/resources/{rid}"): {**_API, **_MANAGERS, "*": 422},
    ("GET", "/api/ecosystems/{slug}/versions"): {**_API, **_NOT_MEMBERS},
    ("GET", "/api/ecosystems/{slug}/diff"): {**_API, **_NOT_MEMBERS},
    ("POST", "/api/ecosystems/{slug}/revert"): {**_API, **_MANAGERS, "*": 200},
    ("POST", "/api/ecosystems/new"): {"anonymous": 401, "root": 201, "*": 403},
    ("POST", "/e/{slug}/actors"): {**_PAGE, **_MANAGERS, "*": 303},
    ("POST", "/e/{slug}/actors/{aid}/remove"): {**_PAGE, **_MANAGERS, "*": 200},
    ("POST", "/e/{slug}/resources"): {**_PAGE, **_MANAGERS, "*": 303},
    ("POST", "/e/{slug}/resources/{rid}/remove"): {**_PAGE, **_MANAGERS, "*": 200},
    ("GET", "/e/{slug}/history"): {**_PAGE, **_NOT_MEMBERS},
    ("POST", "/e/{slug}/history/{number}/revert"): {**_PAGE, **_MANAGERS, "*": 200},
    ("POST", "/new/empty"): {"anonymous": 303, "root": 303, "*": 403},
    ("GET", "/password"): {"*": None},  # the password routes: tests/test_web_hardening.py
    ("POST", "/password"): {"*": None},
    ("POST", "/api/password"): {"*": None},
    ("GET", "/login"): {"*": None},
    ("POST", "/login"): {"*": None},
    ("POST", "/logout"): {"*": None},
    ("GET", "/favicon.ico"): {"*": None},
    ("GET", "/static/{name}"): {"*": None},
    ("GET", "/static/leaflet/{name:path}"): {"*": None},  # public: tests/test_workbench_map.py
    ("GET", "/api/ecosystems/{slug}/map"): {**_API, **_ALL_SEE},
    ("POST", "/api/ecosystems/{slug}/actors/{aid}/location"): {**_API, "olga": 403, "mia:other": 403, "*": 200},
    ("GET", "/register/{slug}"): {"*": None},
    ("POST", "/register/{slug}"): {"*": None},
    ("GET", "/api/template.xlsx"): {"anonymous": 401, "*": 200},
    ("GET", "/api/ecosystems/{slug}/template.xlsx"): {**_API, **_NOT_MEMBERS},
    ("GET", "/api/inbox"): {"anonymous": 401, "*": 200},
    ("GET", "/api/inbox/count"): {"anonymous": 401, "*": 200},
    ("GET", "/inbox"): {"anonymous": 303, "*": 200},
    ("POST", "/inbox"): {"*": None},  # the caller's own settings: tests/test_inbox.py
    ("POST", "/api/inbox/mail"): {"*": None},
}


_NEW = itertools.count()


def _request(client: TestClient, method: str, path: str, url: str, auth: object, good: bytes) -> int:
    """One call of ``path`` with a body that is valid for the route."""
    kw: dict[str, object] = {"auth": auth, "follow_redirects": False}
    if method == "GET":
        return client.get(url, **kw).status_code  # type: ignore[arg-type]
    if method == "DELETE":
        return client.delete(url, **kw).status_code  # type: ignore[arg-type]
    if path.endswith("/remove"):
        return client.post(url, **kw).status_code  # type: ignore[arg-type]
    if path.endswith("import"):
        return client.post(url, files={"file": ("good.json", good)}, **kw).status_code  # type: ignore[arg-type]
    if path == "/e/{slug}/data":
        return client.post(url, files={"file": ("good.json", good)}, **kw).status_code  # type: ignore[arg-type]
    if path in ("/api/ecosystems", "/new"):
        slug = f"new-{next(_NEW)}"
        return client.post(url, data={"slug": slug}, files={"file": ("good.json", good)}, **kw).status_code  # type: ignore[arg-type]
    if path.endswith("/suggestions/drafts"):
        # the earlier edits cleared the sectors it rests on, and a suggestion is drafted once
        for aid, sector, part in (("mill", "16", "offers"), ("plant", "35", "needs")):
            rows = client.get(f"/api/ecosystems/park/actors/{aid}", auth=("root", PASSWORD)).json()[part]
            client.post(
                f"/api/ecosystems/park/actors/{aid}",
                auth=("root", PASSWORD),
                json={"record": {"sector": sector}, part: [r for r in rows if not r.get("x_draft")]},
            )
    bodies: dict[str, dict[str, object]] = {
        "/api/ecosystems/{slug}/proposals": {"json": {"from": "mill", "to": "farm", "resource": "ash", "quantity": 1}},
        "/api/ecosystems/{slug}/proposals/{pid}/status": {"json": {"status": "negotiating"}},
        "/api/ecosystems/{slug}/proposals/{pid}/comments": {"json": {"text": "ok"}},
        "/api/ecosystems/{slug}/proposals/{pid}/consent": {"json": {"party": "farm", "note": "by phone"}},
        "/api/ecosystems/{slug}/actors/{aid}": {"json": {"record": {"name": "Renamed"}}},
        "/api/ecosystems/{slug}/actors/{aid}/location": {"json": {"lat": 55.7, "lon": 11.1}},
        "/api/ecosystems/{slug}/jobs": {"json": {"kind": "plan"}},
        "/e/{slug}/actors/{aid}": {"data": {"name": "Renamed"}},
        "/e/{slug}/actors/{aid}/{section}": {"data": {"resource": "ash", "quantity": "3"}},
        "/e/{slug}/proposals": {"data": {"source": "mill", "target": "farm", "resource": "ash", "quantity": "1"}},
        "/e/{slug}/proposals/{pid}": {"data": {"status": "negotiating"}},
        "/e/{slug}/proposals/{pid}/consent": {"data": {"party": "farm", "note": "by phone"}},
        "/e/{slug}/jobs": {"data": {"kind": "plan"}},
        "/api/ecosystems/{slug}/suggestions/drafts": {
            "json": {"supplier": "mill", "receiver": "plant", "synergy": "wood", "quantity": 1}
        },
        "/e/{slug}/suggestions/drafts": {
            "data": {"supplier": "mill", "receiver": "plant", "synergy": "wood", "quantity": "1"}
        },
        "/api/ecosystems/{slug}/people": {
            "json": {"username": "newbie", "role": "observer", "password": "long enough!"}
        },
        "/e/{slug}/people": {"data": {"username": "newbie", "role": "observer", "password": "long enough!"}},
        "/api/ecosystems/{slug}/applications/{aid}": {"json": {"decision": "refuse"}},
        "/e/{slug}/applications/{aid}": {"data": {"decision": "refuse"}},
        "/api/ecosystems/{slug}/actors": {"json": {"record": {"name": "New firm"}}},
        "/api/ecosystems/{slug}/resources": {
            "json": {"record": {"name": "New stuff", "kind": "material", "unit": "t"}}
        },
        "/api/ecosystems/{slug}/resources/{rid}": {"json": {"record": {"kind": "material", "unit": "t"}}},
        "/api/ecosystems/{slug}/revert": {"json": {"version": 1}},
        "/api/ecosystems/new": {"json": {"slug": f"new-{next(_NEW)}", "name": "New", "actor": {"name": "First"}}},
        "/e/{slug}/actors": {"data": {"name": "New firm"}},
        "/e/{slug}/resources": {"data": {"name": "New stuff", "kind": "material", "unit": "t"}},
        "/e/{slug}/history/{number}/revert": {"data": {}},
        "/new/empty": {"data": {"slug": f"new-{next(_NEW)}", "name": "New", "actor_name": "First"}},
    }
    return client.post(url, **bodies[path], **kw).status_code  # type: ignore[arg-type]


def test_authorisation_matrix(world: tuple[Store, TestClient], tmp_path: Path) -> None:
    """Every route x every role x own and other ecosystem (and own and other actor)."""
    store, client = world
    from fastapi.routing import APIRoute

    from rainforest.web.jobs import run

    routes = [(m, r.path) for r in client.app.routes if isinstance(r, APIRoute) for m in r.methods]  # type: ignore[attr-defined]
    assert sorted(routes) == sorted(EXPECTED)
    # the matrix checks who may do what, not the password hash: with the default Argon2id
    # cost its ~2,000 signed requests took minutes; a cheap hash of the same password keeps
    # every check (the hash's own cost and checks are tested with the accounts)
    from argon2 import PasswordHasher

    from rainforest.store.tables import UserRow

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    with store.engine.begin() as conn:
        conn.execute(sa.update(UserRow).values(password_hash=cheap))
    good = rf.save(_park(), tmp_path / "good.json").read_bytes()
    root = ("root", PASSWORD)
    job = JobQueue(store).submit("park", "analyses", author="root")
    assert run(store, "park", job.id) == "done"
    checked = 0
    for (method, path), expected in EXPECTED.items():
        if expected.get("*", 0) is None:
            continue
        for user in ROLES:
            for actor in ("own", "other") if "{aid}" in path else ("own",):
                auth = None if user == "anonymous" else (user, PASSWORD)
                with store.engine.begin() as conn:  # one open proposal per exchange: end the last one
                    conn.execute(sa.update(ProposalRow).values(status="ended"))
                if not {"mill", "farm"} <= set(store.load("park").actor_ids):
                    store.commit("park", _park(), author="setup")  # the actor the last call removed, back
                pid = client.post(
                    "/api/ecosystems/park/proposals",
                    auth=root,
                    json={"from": "mill", "to": "farm", "resource": "ash", "quantity": 2},
                ).json()["id"]
                if path.endswith("/consent"):  # an agreed active exchange to consent to record
                    for status in ("negotiating", "active"):
                        client.post(f"/api/ecosystems/park/proposals/{pid}/status", auth=root, json={"status": status})
                if "applications/{aid}" in path:  # a fresh application to decide
                    n = next(_NEW)
                    target = str(Applications(store).apply("park", f"firm{n}", PASSWORD, actor=f"firm{n}").id)
                else:
                    target = "mill" if actor == "own" else "farm"
                if "{username}" in path:  # someone to take away (made again once removed)
                    if Accounts(store).user("victim") is None:
                        Accounts(store).create_user("victim", PASSWORD)
                    if not Accounts(store).memberships("victim"):
                        Accounts(store).grant("victim", "park", "observer")
                url = (
                    path.replace("{rid}", "ash")
                    .replace("{number}", "1")
                    .replace("{slug}", "park")
                    .replace("{pid}", str(pid))
                    .replace("{aid}", target)
                    .replace("{jid}", str(job.id))
                    .replace("{section}", "offers" if "actors" in path else "ena")
                    .replace("{username}", "victim")
                )
                if path.endswith("/proposals"):  # proposing the exchange again: the fresh one ends first
                    with store.engine.begin() as conn:
                        conn.execute(sa.update(ProposalRow).values(status="ended"))
                status = _request(client, method, path, url, auth, good)
                want = expected.get(f"{user}:{actor}", expected.get(user, expected["*"]))
                assert status == want, f"{method} {path} as {user} ({actor} actor): {status}, expected {want}"
                checked += 1
    assert checked > 200


# -- the server, started as users start it, and a real browser --------------------------------------
def _serve(db: str) -> object:
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "rainforest", "serve", "--db", db, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    first = proc.stdout.readline()  # type: ignore[union-attr]
    one_time = re.search(r"password (\S+) \(shown once", first).group(1)  # type: ignore[union-attr]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    import httpx

    # the first start's password is one-time: nothing works until it is replaced
    base, password = f"http://127.0.0.1:{port}", one_time + "-replaced"
    assert httpx.get(f"{base}/api/ecosystems", auth=("admin", one_time), timeout=30).status_code == 403
    r = httpx.post(
        f"{base}/api/password", auth=("admin", one_time), json={"current": one_time, "new": password}, timeout=30
    )
    assert r.status_code == 200, r.text
    yield base, password
    proc.terminate()
    proc.wait(timeout=10)
    proc.stdout.close()  # type: ignore[union-attr]


@pytest.fixture
def server(tmp_path: Path) -> object:
    yield from _serve(f"sqlite:///{tmp_path / 'serve.db'}")  # type: ignore[misc]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_server(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    if request.param == "sqlite":
        yield from _serve(f"sqlite:///{tmp_path / 'serve.db'}")  # type: ignore[misc]
        return
    with postgres_schema() as url:
        yield from _serve(url)  # type: ignore[misc]


def test_twenty_concurrent_editors_lose_no_update(any_server: tuple[str, str]) -> None:
    """20 clients edit the same ecosystem at once for a bounded time through the API, each
    adding actors by read-modify-write with the version it read; conflicts come back as 409
    with a clear message and are retried. Every accepted edit is in the final document and
    the history has no gap."""
    import json
    import threading
    import time

    import httpx

    base, password = any_server
    auth = ("admin", password)
    accepted: list[str] = []
    conflicts: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + 6.0

    def client(c: int) -> None:
        with httpx.Client(base_url=base, auth=auth, timeout=30) as http:
            k = 0
            while time.monotonic() < stop:
                got = http.get("/api/ecosystems/kalundborg").json()
                doc = got["document"]
                name = f"c{c}_{k}"
                doc["actors"].append({"id": name})
                r = http.post(
                    "/api/ecosystems/kalundborg/import",
                    files={"file": ("edit.json", json.dumps(doc).encode())},
                    data={"expected": str(got["version"])},
                )
                with lock:
                    if r.status_code == 200:
                        accepted.append(name)
                        k += 1
                    elif r.status_code == 409:
                        conflicts.append(r.json()["error"])
                    else:  # pragma: no cover - reported by the assertion below
                        conflicts.append(f"unexpected {r.status_code}: {r.text[:200]}")

    threads = [threading.Thread(target=client, args=(c,)) for c in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert accepted, "no edit went through"
    assert all("but the change was made on version" in c for c in conflicts), conflicts[:3]
    history = httpx.get(f"{base}/api/ecosystems/kalundborg/history", auth=auth, timeout=30).json()
    assert [h["number"] for h in history] == list(range(1, len(accepted) + 2))
    final = httpx.get(f"{base}/api/ecosystems/kalundborg", auth=auth, timeout=30).json()["document"]
    ids = {a["id"] for a in final["actors"]}
    assert set(accepted) <= ids


def test_serve_first_start(server: tuple[str, str]) -> None:
    import httpx

    base, password = server
    assert httpx.get(f"{base}/api/ecosystems").status_code == 401
    listed = httpx.get(f"{base}/api/ecosystems", auth=("admin", password)).json()
    assert [e["ecosystem"] for e in listed] == ["kalundborg"]


def test_sign_in_with_a_real_browser(server: tuple[str, str], browser: Any) -> None:
    base, password = server
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/")
    assert page.url.endswith("/login")
    page.fill("#username", "admin")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert "Wrong user name or password" in page.inner_text("[role=alert]")
    page.fill("#username", "admin")
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert "kalundborg" in page.inner_text("main")
    page.click("text=kalundborg")
    assert "exchanged between members" in page.inner_text("main")
    page.click("text=Sign out")
    page.wait_for_url(f"{base}/login")
    assert problems == []
    page.close()


def test_proposals_move_through_their_lifecycle(world: tuple[Store, TestClient]) -> None:
    _, client = world
    mia, fred, pat, manny, olga = ((u, PASSWORD) for u in ("mia", "fred", "pat", "manny", "olga"))
    r = client.post(
        "/api/ecosystems/park/proposals",
        auth=mia,
        json={"from": "mill", "to": "farm", "resource": "ash", "quantity": 4},
    )
    assert r.status_code == 201
    pid = r.json()["id"]
    assert (
        client.post(
            "/api/ecosystems/park/proposals",
            auth=pat,
            json={"from": "mill", "to": "farm", "resource": "ash", "quantity": 4},
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/ecosystems/park/proposals",
            auth=manny,
            json={"from": "mill", "to": "nobody", "resource": "ash", "quantity": 4},
        ).status_code
        == 422
    )
    # visible to the parties, the managers and the observers; not to another member
    assert [p["id"] for p in client.get("/api/ecosystems/park/proposals", auth=fred).json()] == [pid]
    assert client.get("/api/ecosystems/park/proposals", auth=pat).json() == []
    assert (
        client.post(
            f"/api/ecosystems/park/proposals/{pid}/status", auth=pat, json={"status": "negotiating"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/ecosystems/park/proposals/{pid}/status", auth=olga, json={"status": "negotiating"}
        ).status_code
        == 403
    )
    # proposed -> negotiating -> active -> ended, with comments on the way
    assert (
        client.post(
            f"/api/ecosystems/park/proposals/{pid}/status", auth=fred, json={"status": "negotiating"}
        ).status_code
        == 200
    )
    assert (
        client.post(f"/api/ecosystems/park/proposals/{pid}/comments", auth=mia, json={"text": "20 EUR/t?"}).status_code
        == 200
    )
    skip = client.post(f"/api/ecosystems/park/proposals/{pid}/status", auth=mia, json={"status": "proposed"})
    assert skip.status_code == 422
    assert "can move to active, ended" in skip.json()["error"]
    stale = client.post(
        f"/api/ecosystems/park/proposals/{pid}/status", auth=mia, json={"status": "negotiating", "expected": "proposed"}
    )
    assert stale.status_code == 409
    for who in (mia, fred):  # both parties agree before it is active
        assert (
            client.post(
                f"/api/ecosystems/park/proposals/{pid}/status",
                auth=who,
                json={"status": "active", "expected": "negotiating"},
            ).status_code
            == 200
        )
    done = client.post(
        f"/api/ecosystems/park/proposals/{pid}/status", auth=manny, json={"status": "ended", "note": "plant closed"}
    ).json()
    assert done["status"] == "ended"
    assert [c["text"] for c in done["comments"]] == [
        "status: proposed",
        "status: negotiating",
        "20 EUR/t?",
        "agreed: mill",
        "agreed: farm",
        "status: active",
        "status: ended (plant closed)",
    ]
    assert [c["author"] for c in done["comments"]] == ["mia", "fred", "mia", "mia", "fred", "fred", "manny"]


def test_an_exchange_is_active_only_when_both_parties_agree(world: tuple[Store, TestClient]) -> None:
    """One party alone cannot make an exchange active (issue 17): its move records its
    agreement and the exchange counts in no ledger until the other party agrees; a manager
    makes it active at once; an agreement cannot be forged by a comment."""
    store, client = world
    mia, fred, manny = (("mia", PASSWORD), ("fred", PASSWORD), ("manny", PASSWORD))
    pids = []
    for who, source in ((mia, "mill"), (("pat", PASSWORD), "plant")):  # one open proposal per exchange
        r = client.post(
            "/api/ecosystems/park/proposals",
            auth=who,
            json={"from": source, "to": "farm", "resource": "ash", "quantity": 4},
        )
        pids.append(r.json()["id"])
        client.post(f"/api/ecosystems/park/proposals/{pids[-1]}/status", auth=who, json={"status": "negotiating"})
    alone = client.post(f"/api/ecosystems/park/proposals/{pids[0]}/status", auth=mia, json={"status": "active"})
    assert alone.status_code == 200
    assert (alone.json()["status"], alone.json()["agreed_by"]) == ("negotiating", ["mill"])
    again = client.post(f"/api/ecosystems/park/proposals/{pids[0]}/status", auth=mia, json={"status": "active"})
    assert again.json()["status"] == "negotiating"
    forged = client.post(f"/api/ecosystems/park/proposals/{pids[0]}/comments", auth=mia, json={"text": "agreed: farm"})
    assert forged.status_code == 422
    for who in (manny, mia, fred):
        assert client.get("/api/ecosystems/park/ledger", auth=who).json()["active"] == 0
    assert (
        client.post(f"/api/ecosystems/park/proposals/{pids[0]}/status", auth=fred, json={"status": "active"}).json()[
            "status"
        ]
        == "active"
    )
    assert client.get("/api/ecosystems/park/ledger", auth=manny).json()["active"] == 1
    # a manager agrees for the ecosystem
    moved = client.post(f"/api/ecosystems/park/proposals/{pids[1]}/status", auth=manny, json={"status": "active"})
    assert (moved.json()["status"], moved.json()["agreed_by"]) == ("active", ["managers"])
    assert client.get("/api/ecosystems/park/ledger", auth=fred).json()["active"] == 2
    # an active row without the agreements (written before they were recorded) does not count
    legacy = Proposals(store).propose("park", "mill", "plant", "ash", 2.0, author="pat")
    with store.engine.begin() as conn:
        from sqlalchemy import update

        from rainforest.store._schema import ProposalRow

        conn.execute(update(ProposalRow).where(ProposalRow.id == legacy.id).values(status="active"))
    assert client.get("/api/ecosystems/park/ledger", auth=manny).json()["active"] == 2
    # a malformed expected status is refused, not a server error
    bad = client.post(
        f"/api/ecosystems/park/proposals/{pids[1]}/status", auth=manny, json={"status": "ended", "expected": [1]}
    )
    assert bad.status_code == 422


def test_both_parties_agreeing_at_once_make_the_exchange_active(tmp_path: Path) -> None:
    """Two parties agree in two threads at the same moment, 8 rounds, on SQLite and
    PostgreSQL: every exchange ends up active (neither agreement is lost)."""
    import threading

    for url in (f"sqlite:///{tmp_path / 'agree.db'}", None):
        with postgres_schema() if url is None else _nothing(url) as where:
            store = Store(where)
            store.create("park", _park(), author="setup")
            for _ in range(8):
                pid = Proposals(store).propose("park", "mill", "farm", "ash", 1.0, author="x").id
                Proposals(store).move("park", pid, "negotiating", author="x")
                gate = threading.Barrier(2)

                def agree(party: str, pid: int = pid, gate: threading.Barrier = gate, store: Store = store) -> None:
                    gate.wait(timeout=30)
                    Proposals(store).move("park", pid, "active", author=party, party=party)

                threads = [threading.Thread(target=agree, args=(p,)) for p in ("mill", "farm")]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                p = Proposals(store).proposal("park", pid)
                assert (p.status, sorted(p.agreed_by)) == ("active", ["farm", "mill"])
                Proposals(store).move("park", pid, "ended", author="x")  # the next round proposes it again
            store.close()


@contextmanager
def _nothing(url: str) -> Iterator[str]:
    yield url


def test_the_ledger_counts_active_exchanges_only(world: tuple[Store, TestClient]) -> None:
    from rainforest.optimize import exchanges

    _, client = world
    manny, mia, pat = (("manny", PASSWORD), ("mia", PASSWORD), ("pat", PASSWORD))
    ids = []
    for source, quantity in (("mill", 4.0), ("plant", 6.0)):
        r = client.post(
            "/api/ecosystems/park/proposals",
            auth=manny,
            json={"from": source, "to": "farm", "resource": "ash", "quantity": quantity},
        )
        ids.append(r.json()["id"])
    empty = client.get("/api/ecosystems/park/ledger", auth=manny).json()
    assert empty["active"] == 0
    assert empty["total"]["money_saved"] == 0.0
    for status in ("negotiating", "active"):
        assert (
            client.post(
                f"/api/ecosystems/park/proposals/{ids[0]}/status", auth=manny, json={"status": status}
            ).status_code
            == 200
        )
    ledger = client.get("/api/ecosystems/park/ledger", auth=manny).json()
    assert ledger["active"] == 1
    assert [(e["from"], e["quantity"]) for e in ledger["exchanges"]] == [("mill", 4.0)]
    # valued at the mill -> farm candidate's saving: the farm's price 15 + the mill's disposal 30
    (mill,) = [c for c in exchanges.candidates(_park()) if c.source == "mill"]
    assert mill.unit_saving == 45.0
    assert ledger["total"]["money_saved"] == 4.0 * 45.0
    plan, skipped = exchanges.evaluate(_park(), [("mill", "farm", "ash", 4.0), ("farm", "mill", "ash", 1.0)])
    assert [e.benefit for e in plan.exchanges] == [180.0]
    assert skipped[0]["reason"].startswith("no offer of the supplier")
    assert ledger["total"]["disposal_diverted_t"] == 4.0
    # a member sees its own rows and the totals; another member none of the rows
    assert len(client.get("/api/ecosystems/park/ledger", auth=mia).json()["exchanges"]) == 1
    assert client.get("/api/ecosystems/park/ledger", auth=pat).json()["exchanges"] == []


def _token(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_the_matchmaking_board(world: tuple[Store, TestClient]) -> None:
    _, client = world
    assert _login(client, "manny") == 303
    page = client.get("/e/park/board")
    assert page.status_code == 200
    assert "mill" in page.text
    assert "The optimised plan" in page.text
    assert "virgin + 30 disposal" in page.text  # the candidate's explanation
    token = _token(page.text)
    r = client.post(
        "/e/park/proposals",
        data={"source": "mill", "target": "farm", "resource": "ash", "quantity": "4", "csrf": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get("/e/park/board")
    pid = re.search(r'action="/e/park/proposals/(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    for status, before in (("negotiating", "proposed"), ("active", "negotiating")):
        r = client.post(
            f"/e/park/proposals/{pid}",
            data={"status": status, "expected": before, "comment": f"to {status}", "csrf": token},
            follow_redirects=False,
        )
        assert r.status_code == 303
    page = client.get("/e/park/board")
    assert '<td class="num" id="ledger-money_saved-agreed">180</td>' in page.text  # money per year
    assert "manny: to active" in page.text
    # a forged form is refused
    assert client.post(f"/e/park/proposals/{pid}", data={"status": "ended", "csrf": "x"}).status_code == 403


def test_a_member_sees_its_own_candidates_only(world: tuple[Store, TestClient]) -> None:
    _, client = world
    assert _login(client, "pat") == 303
    page = client.get("/e/park/board")
    assert page.status_code == 200
    rows = re.findall(
        r'<tr>\s*<td><span class="name" title="id: (\w+)">\w+</span></td><td><span class="name" title="id: (\w+)">',
        page.text,
    )
    assert rows
    assert all("plant" in row for row in rows)
    assert "The optimised plan" not in page.text
