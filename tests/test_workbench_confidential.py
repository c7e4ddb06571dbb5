"""Confidentiality across every view of the workbench: a document whose confidential values
are unique markers, and no response of any route to a member who may not see them contains
one (generated from the route table, like the authorisation matrix in test_web.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

import rainforest as rf
from conftest import PASSWORD, _login
from rainforest.report import format_number
from rainforest.store import Store
from rainforest.web import create_app
from rainforest.web.records import Accounts, Applications, JobQueue, Proposals
from rainforest.web.services.ecosystems import ANALYSES, EXPORTS

#: Every value a member may see only for its own actor (confidential offers and needs, hidden
#: actor fields, flows), by the actors that may see it; none appears by chance in a page.
MARKERS: dict[str, tuple[object, ...]] = {
    "mill": (271828.0, 314159.0, 1.41421, 1.73205, "MILL-SECRET-R4X"),
    "farm": (48713.0, 61729.0, 3719.25, 55.4871, 12.6172, "FARM-SECRET-Q7Z"),
    "plant": (73951.0, 85307.0, 5419.75, 56.1093, 11.3377, "PLANT-SECRET-K2W"),
    "farm+plant": (92641.0,),  # their flow
}
MEMBERS = {"mia": "mill", "fred": "farm", "pat": "plant"}


def _vault() -> rf.Ecosystem:
    """Three firms, each with confidential offers or needs (the default) whose quantities,
    prices, disposal costs, qualities, locations and extensions are markers; a flow between
    farm and plant only; no transport costs, so a saving is a price plus a disposal cost."""
    return rf.Ecosystem(
        name="vault",
        actors=[
            rf.Actor(
                "mill",
                sector="16",
                location=rf.Location(lat=1.41421, lon=1.73205),
                extensions={"x_secret": "MILL-SECRET-R4X"},
            ),
            rf.Actor(
                "farm",
                sector="01",
                location=rf.Location(lat=55.4871, lon=12.6172),
                extensions={"x_secret": "FARM-SECRET-Q7Z"},
            ),
            rf.Actor(
                "plant",
                sector="35",
                location=rf.Location(lat=56.1093, lon=11.3377),
                extensions={"x_secret": "PLANT-SECRET-K2W"},
            ),
        ],
        resources=[rf.Resource("ash", "material", "t"), rf.Resource("heat", "energy", "MWh")],
        flows=[rf.Flow("plant", "farm", "ash", 92641.0), rf.Flow("mill", "farm", "ash", 1.0)],
        offers=[
            rf.Offer("mill", "ash", 271828.0, disposal_cost=0.0, quality={"moisture": 1.0}),
            rf.Offer("plant", "heat", 73951.0, disposal_cost=85307.0, quality={"temperature": 5419.75}),
        ],
        needs=[
            rf.Need("farm", 48713.0, resource="ash", price=61729.0, max_quality={"moisture": 3719.25}),
            rf.Need("mill", 314159.0, resource="heat", price=0.0),
        ],
    )


@pytest.fixture(scope="module")
def _vault_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The vault's store, made once: its users, its analyses and plan, and two active
    exchanges (each test works on a copy)."""
    from rainforest.web.jobs import run

    path = tmp_path_factory.mktemp("vault") / "vault.db"
    store = Store(f"sqlite:///{path}")
    store.create("vault", _vault(), author="setup")
    Accounts(store).create_user("root", PASSWORD, admin=True)
    Accounts(store).create_user("manny", PASSWORD)
    Accounts(store).grant("manny", "vault", "manager")
    for user, actor in MEMBERS.items():
        Accounts(store).create_user(user, PASSWORD)
        Accounts(store).grant(user, "vault", "member", actor)
    for kind in ("analyses", "plan"):
        job = JobQueue(store).submit("vault", kind, author="root")
        assert run(store, "vault", job.id) == "done"
    for source, target, resource in (("mill", "farm", "ash"), ("plant", "mill", "heat")):
        pid = Proposals(store).propose("vault", source, target, resource, 1.0, author="manny").id
        for status in ("negotiating", "active"):
            Proposals(store).move("vault", pid, status, author="manny")
    store.close()
    return path


@pytest.fixture
def vault(_vault_db: Path, tmp_path: Path) -> Iterator[tuple[Store, TestClient]]:
    import shutil

    copy = shutil.copy(_vault_db, tmp_path / "vault.db")
    store = Store(f"sqlite:///{copy}")
    with TestClient(create_app(store, secret="test-secret")) as client:
        yield store, client
    store.close()


def _forms(value: object) -> set[str]:
    """How a marker may be written in a page or JSON."""
    if isinstance(value, str):
        return {value}
    x = float(value)  # type: ignore[arg-type]
    return {f"{x:g}", repr(x)} | ({format_number(x), f"{x:,}"} if x >= 1000 else set())


def _leaks(text: str, member: str) -> list[str]:
    text = re.sub(r'name="csrf" value="[^"]+"', "", text)
    own = MEMBERS[member]
    return [
        f
        for owners, values in MARKERS.items()
        if own not in owners.split("+")
        for v in values
        for f in _forms(v)
        if f in text
    ]


#: POST routes: the body a member's request sends (its own actor, its own proposal).
POSTS: dict[str, dict[str, object]] = {
    "/api/ecosystems": {"data": {"slug": "x"}, "files": {"file": ("x.json", b"{}")}},
    "/new": {"data": {"slug": "x"}, "files": {"file": ("x.json", b"{}")}},
    "/api/ecosystems/{slug}/import": {"files": {"file": ("x.json", b"{}")}},
    "/e/{slug}/data": {"files": {"file": ("x.json", b"{}")}},
    "/api/ecosystems/{slug}/proposals": {"json": {"from": "{me}", "to": "{other}", "resource": "ash", "quantity": 2}},
    "/api/ecosystems/{slug}/proposals/{pid}/status": {"json": {"status": "ended"}},
    "/api/ecosystems/{slug}/proposals/{pid}/comments": {"json": {"text": "ok"}},
    "/api/ecosystems/{slug}/proposals/{pid}/consent": {"json": {}},
    "/api/ecosystems/{slug}/actors/{aid}": {"json": {"record": {"name": "Renamed"}}},
    "/api/ecosystems/{slug}/actors/{aid}/location": {"json": {"lat": 10.5, "lon": 20.25}},
    "/api/ecosystems/{slug}/jobs": {"json": {"kind": "plan"}},
    "/api/ecosystems/{slug}/people": {"json": {"username": "x", "role": "observer"}},
    "/api/ecosystems/{slug}/applications/{aid}": {"json": {"decision": "refuse"}},
    "/e/{slug}/actors/{aid}": {"data": {"name": "Renamed"}},
    "/e/{slug}/actors/{aid}/{section}": {"data": {"resource": "ash", "quantity": "3"}},
    "/e/{slug}/proposals": {"data": {"source": "{me}", "target": "{other}", "resource": "ash", "quantity": "1"}},
    "/e/{slug}/proposals/{pid}": {"data": {"comment": "ok"}},
    "/e/{slug}/proposals/{pid}/consent": {"data": {}},
    "/e/{slug}/jobs": {"data": {"kind": "plan"}},
    "/api/ecosystems/{slug}/suggestions/drafts": {
        "json": {"supplier": "{me}", "receiver": "{other}", "synergy": "wood", "quantity": 1}
    },
    "/api/ecosystems/{slug}/drafts/confirm": {"json": {"section": "offers", "index": 0}},
    "/e/{slug}/suggestions/drafts": {
        "data": {"supplier": "{me}", "receiver": "{other}", "synergy": "wood", "quantity": "1"}
    },
    "/e/{slug}/drafts/confirm": {"data": {"section": "offers", "index": "0"}},
    "/e/{slug}/people": {"data": {"username": "x", "role": "observer"}},
    "/e/{slug}/applications/{aid}": {"data": {"decision": "refuse"}},
    "/register/{slug}": {"data": {}},
    "/login": {},
    "/logout": {},
    "/password": {"data": {}},
    "/api/password": {"json": {}},
    "/e/{slug}/people/{username}/remove": {"data": {}},
    "/inbox": {"data": {"email": "me@firm.example", "notify": "on"}},
    "/api/inbox/mail": {"json": {"email": "me@firm.example", "notify": True}},
    "/api/ecosystems/{slug}/actors": {"json": {"record": {"name": "New firm"}}},
    "/api/ecosystems/{slug}/resources": {"json": {"record": {"name": "New stuff", "kind": "material", "unit": "t"}}},
    "/api/ecosystems/{slug}/resources/{rid}": {"json": {"record": {"kind": "material", "unit": "t"}}},
    "/api/ecosystems/{slug}/revert": {"json": {"version": 1}},
    "/api/ecosystems/new": {"json": {"slug": "x", "name": "X", "actor": {"name": "First"}}},
    "/e/{slug}/actors": {"data": {"name": "New firm"}},
    "/e/{slug}/actors/{aid}/remove": {"data": {}},
    "/e/{slug}/resources": {"data": {"name": "New stuff", "kind": "material", "unit": "t"}},
    "/e/{slug}/resources/{rid}/remove": {"data": {}},
    "/e/{slug}/history/{number}/revert": {"data": {}},
    "/new/empty": {"data": {"slug": "x", "name": "X", "actor_name": "First"}},
}
#: DELETE routes (all for managers or administrators: a member is refused).
DELETES = (
    "/api/ecosystems/{slug}/people/{username}",
    "/api/users/{username}",
    "/api/ecosystems/{slug}/actors/{aid}",
    "/api/ecosystems/{slug}/resources/{rid}",
)
#: Routes left out: sign-in and sign-out, and the public files.
PUBLIC = {"/login", "/logout", "/favicon.ico", "/static/{name}", "/static/leaflet/{name:path}"}


def _fill(value: object, me: str, other: str) -> object:
    if isinstance(value, str):
        return value.replace("{me}", me).replace("{other}", other)
    if isinstance(value, dict):
        return {k: _fill(v, me, other) for k, v in value.items()}
    return value


def _urls(path: str, store: Store, member: str) -> Iterator[str]:
    """Every concrete URL of a route in the vault, with the query variants that change what
    it shows."""
    values = {
        "{slug}": ["vault"],
        "{aid}": ["mill", "farm", "plant"],
        "{pid}": [str(p.id) for p in Proposals(store).proposals("vault")],
        "{jid}": [str(j.id) for j in JobQueue(store).jobs("vault")],
        "{section}": ["summary", *ANALYSES] if "analyses" in path else ["offers", "needs", "flows"],
        "{username}": ["manny"],
        "{rid}": ["ash"],
        "{number}": ["1"],
    }
    if "applications/{aid}" in path:
        values["{aid}"] = [
            str(Applications(store).apply("vault", f"firm{len(Accounts(store).users())}", PASSWORD, actor="newfirm").id)
        ]
    urls = [path]
    for key, options in values.items():
        if key in path:
            urls = [u.replace(key, o) for u in urls for o in options]
    for url in urls:
        if url.endswith("/board/export"):  # the board's tables, as CSV (Excel is zipped: read in test_workbench_board)
            yield from (f"{url}?what={w}&form=csv" for w in ("candidates", "plan", "ledger"))
        elif url.endswith("/export"):
            yield from (f"{url}?form={f}" for f in EXPORTS)
        elif url.endswith("/register/vault"):
            yield f"{url}?key=x"
        else:
            yield url


@pytest.mark.parametrize("member", sorted(MEMBERS))
def test_no_view_shows_a_member_what_the_document_hides(vault: tuple[Store, TestClient], member: str) -> None:
    store, client = vault
    me = MEMBERS[member]
    other = "farm" if me != "farm" else "mill"
    assert _login(client, member) == 303  # a session: no password hashing per request
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)  # type: ignore[union-attr]
    headers = {"x-csrf-token": token}
    routes = sorted((m, r.path) for r in client.app.routes if isinstance(r, APIRoute) for m in r.methods)  # type: ignore[attr-defined]
    listed = (
        {("POST", p) for p in POSTS} | {("GET", r) for m, r in routes if m == "GET"} | {("DELETE", p) for p in DELETES}
    )
    assert set(routes) == listed, "a new route: add its request to POSTS"
    seen = 0
    for method, path in routes:
        if path in PUBLIC:
            continue
        for url in _urls(path, store, member):
            if method == "GET":
                responses = [client.get(url, follow_redirects=False)]
                if not url.startswith("/api"):  # an error as the browser asks for it: a page
                    responses.append(client.get(url, headers={"accept": "text/html"}, follow_redirects=False))
            elif method == "DELETE":
                responses = [client.delete(url, headers=headers, follow_redirects=False)]
            else:
                body: dict[str, object] = _fill(POSTS[path], me, other)  # type: ignore[assignment]
                if "data" in body or "files" in body:
                    body["data"] = {**body.get("data", {}), "csrf": token}  # type: ignore[dict-item]
                responses = [client.post(url, headers=headers, follow_redirects=False, **body)]  # type: ignore[arg-type]

            for r in responses:
                assert r.status_code < 500, f"{method} {url}: {r.status_code}"
                leaks = _leaks(r.text, member)
                assert not leaks, f"{method} {url} as {member} ({r.status_code}) shows {leaks}"
                seen += 1
    assert seen > 60


def test_the_markers_are_found_where_they_may_be_seen(vault: tuple[Store, TestClient]) -> None:
    """The check above can fail: a manager's board and ledger show the markers, and a member
    sees the confidential candidate as a firm that needs a resource, without its figures."""
    _, client = vault
    board = client.get("/e/vault/board", auth=("manny", PASSWORD)).text
    assert _leaks(board, "mia")
    ledger = client.get("/api/ecosystems/vault/ledger", auth=("manny", PASSWORD)).json()
    assert ledger["total"]["money_saved"] == 61729.0 + 85307.0
    page = client.get("/e/vault/board", auth=("mia", PASSWORD)).text
    assert "farm: a firm within 10000 km needs ash; you offer ash" in page
    assert "plant: a firm within 10000 km offers heat; you need heat" in page
    mine = client.get("/api/ecosystems/vault/ledger", auth=("mia", PASSWORD)).json()
    assert mine["total"]["money_saved"] is None
    assert "confidential" in mine["total"]["money_saved_reason"]
    assert [r["money_saved"] for r in mine["exchanges"]] == [None, None]
