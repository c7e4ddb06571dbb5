"""The workbench's seams (issue 19): records as repositories beside the store, the routes'
dependencies, and the services called without HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import HTTPException
from fastapi.routing import APIRoute

import rainforest as rf
from conftest import PASSWORD, _park
from rainforest.errors import UnknownIdError
from rainforest.store import StaleError, Store, StoreError
from rainforest.web import create_app
from rainforest.web.context import Workbench
from rainforest.web.deps import ApiRole, Caller, PageRole, SignInError, api_user, caller, page_user
from rainforest.web.records import TRANSITIONS, Accounts, Proposals, Records, User
from rainforest.web.services import actors, ecosystems, jobs, people, proposals


@pytest.fixture
def wb() -> Iterator[Workbench]:
    """A workbench over an in-memory park: a manager, a member of 'mill' and an observer."""
    store = Store("sqlite://")
    store.create("park", _park(), author="setup")
    store.create("other", rf.datasets.kalundborg(), author="setup")
    bench = Workbench(store, secret="seams")
    accounts = bench.records.accounts
    for name, role, actor in (("manny", "manager", None), ("mia", "member", "mill"), ("olga", "observer", None)):
        accounts.create_user(name, PASSWORD)
        accounts.grant(name, "park", role, actor)
    yield bench
    bench.close(timeout=None)


def _as(wb: Workbench, username: str, need: Any = "any", what: str = "do that") -> Caller:
    user = wb.records.accounts.user(username)
    assert user is not None
    role: Caller = ApiRole(need, what)("park", user, wb)
    return role


# -- records ---------------------------------------------------------------------------------------
def test_the_records_share_the_stores_engine_and_the_store_keeps_versions_only() -> None:
    store = Store("sqlite://")
    records = Records(store)
    for repository in (records.accounts, records.applications, records.proposals, records.jobs):
        assert repository.store.engine is store.engine
    assert records.applications.accounts is records.accounts
    for moved in ("create_user", "grant", "propose", "submit", "apply", "session_user"):
        assert not hasattr(store, moved), moved


def test_the_proposal_state_machine_without_the_web() -> None:
    store = Store("sqlite://")
    store.create("park", _park(), author="setup")
    board = Proposals(store)
    p = board.propose("park", "mill", "farm", "ash", 2.0, author="manny")
    assert p.status == "proposed"
    assert TRANSITIONS[p.status] == ("negotiating", "ended")
    with pytest.raises(StoreError, match="can move to negotiating, ended"):
        board.move("park", p.id, "active", author="manny")
    board.move("park", p.id, "negotiating", author="manny")
    with pytest.raises(StaleError):
        board.move("park", p.id, "ended", author="manny", expected="proposed")
    half = board.move("park", p.id, "active", author="mia", party="mill")
    assert (half.status, half.agreed_by, half.agreed) == ("negotiating", ("mill",), False)
    both = board.move("park", p.id, "active", author="fred", party="farm")
    assert (both.status, both.agreed) == ("active", True)
    with pytest.raises(UnknownIdError):
        board.propose("park", "mill", "nowhere", "ash", 1.0, author="manny")


def test_accounts_sessions_end_with_a_new_password() -> None:
    store = Store("sqlite://")
    accounts = Accounts(store)
    accounts.create_user("ada", PASSWORD)
    token = accounts.start_session("ada")
    assert accounts.session_user(token) == User("ada", False, False)
    accounts.set_password("ada", "another long password", current=PASSWORD)
    assert accounts.session_user(token) is None


# -- dependencies ----------------------------------------------------------------------------------
def test_the_caller_dependencies_refuse_the_anonymous_and_the_one_time_password() -> None:
    class _Request:
        class url:  # noqa: N801 - stands in for starlette's URL
            path = "/api/ecosystems"

    with pytest.raises(HTTPException) as api:
        api_user(_Request(), None)  # type: ignore[arg-type]
    assert api.value.status_code == 401
    with pytest.raises(HTTPException) as one_time:
        api_user(_Request(), User("ada", False, must_change=True))  # type: ignore[arg-type]
    assert one_time.value.status_code == 403
    with pytest.raises(SignInError) as page:
        page_user(None)
    assert page.value.target == "/login"
    with pytest.raises(SignInError) as replace:
        page_user(User("ada", False, must_change=True))
    assert replace.value.target == "/password"


def test_roles_as_dependencies(wb: Workbench) -> None:
    assert _as(wb, "mia").access.actor == "mill"
    with pytest.raises(HTTPException, match="managers and observers") as seeing:
        _as(wb, "mia", "sees_all", "the history")
    assert seeing.value.status_code == 403
    with pytest.raises(HTTPException, match="only the ecosystem's managers give roles"):
        _as(wb, "olga", "manages", "give roles")
    assert _as(wb, "manny", "manages").access.manages
    mia = wb.records.accounts.user("mia")
    assert mia is not None
    for role in (ApiRole(), PageRole()):
        with pytest.raises(HTTPException) as hidden:
            role("other", mia, wb)  # no role there: as if it did not exist
        assert hidden.value.status_code == 404


def test_every_route_names_its_caller_through_a_dependency() -> None:
    """No route reads credentials by hand: each one that is not public depends on
    :func:`rainforest.web.deps.caller` (through the user and role dependencies)."""
    public = {
        "/login",
        "/favicon.ico",
        "/static/{name}",
        "/static/leaflet/{name:path}",
        "/register/{slug}",
    }

    def calls(dependant: Any) -> set[Any]:
        found = {dependant.call}
        for sub in dependant.dependencies:
            found |= calls(sub)
        return found

    app = create_app(Store("sqlite://"))
    routes = [r for r in app.routes if isinstance(r, APIRoute)]
    assert len(routes) == 95  # 58 + suggestions (6), template (2), inbox (5), board (4), map (4), data and history (16)
    unguarded = [r.path for r in routes if r.path not in public and caller not in calls(r.dependant)]
    assert unguarded == ["/logout"]  # signing out needs only the session's CSRF token


# -- services without HTTP -------------------------------------------------------------------------
def test_proposals_service_checks_who_may_propose(wb: Workbench) -> None:
    with pytest.raises(HTTPException) as observer:
        proposals.propose(wb, _as(wb, "olga"), "park", "mill", "farm", "ash", 1.0)
    assert observer.value.status_code == 403
    with pytest.raises(HTTPException):
        proposals.propose(wb, _as(wb, "mia"), "park", "plant", "farm", "ash", 1.0)  # not her actor
    p = proposals.propose(wb, _as(wb, "mia"), "park", "mill", "farm", "ash", 1.0)
    assert [x.id for x in proposals.proposals(wb, _as(wb, "olga"), "park")] == [p.id]
    with pytest.raises(HTTPException) as watching:
        proposals.one(wb, _as(wb, "olga"), "park", p.id, "comment")
    assert watching.value.status_code == 403
    board = proposals.board(wb, _as(wb, "mia"), "park")
    assert board["can_propose"]
    assert [r["p"].id for r in board["rows"]] == [p.id]


def test_actor_edits_through_the_service(wb: Workbench) -> None:
    with pytest.raises(HTTPException) as other:
        actors.edit_record(wb, _as(wb, "mia"), "park", "farm", name="Farm", sector="", public="", expected="")
    assert other.value.status_code == 403
    version = actors.edit_record(
        wb, _as(wb, "mia"), "park", "mill", name="Saw mill", sector="16", public="", expected=""
    )
    assert version.number == 2
    assert wb.store.load("park").actor("mill").name == "Saw mill"
    with pytest.raises(ValueError, match="offers must be a list"):
        actors.edit_body(wb, _as(wb, "manny"), "park", "mill", {"offers": {"resource": "ash"}})
    seen = actors.view(wb.store.load("park"), _as(wb, "mia").access, "plant")
    assert seen["flows"] == []  # a member sees no flow it is not a party to


def test_people_jobs_and_exports_through_the_services(wb: Workbench) -> None:
    manny = _as(wb, "manny")
    m = people.grant(wb, manny, "park", {"username": "newbie", "role": "observer", "password": "long enough!"})
    assert (m.username, m.role) == ("newbie", "observer")
    with pytest.raises(StoreError, match="give a password"):
        people.grant(wb, manny, "park", {"username": "nobody", "role": "observer"})
    with pytest.raises(HTTPException):
        people.check_link(wb, "park", "wrong key")
    assert people.check_link(wb, "park", people.registration_key(wb, "park")) == "park"
    with pytest.raises(ValueError, match="kind must be one of"):
        jobs.start(wb, manny, "park", "dance", {})
    with pytest.raises(HTTPException) as missing:
        jobs.one(wb, "park", 99)
    assert missing.value.status_code == 404
    data, media, filename = ecosystems.export(wb, "park", "json", None)
    assert (media, filename) == ("application/json", "park-v1.json")
    assert b'"mill"' in data
    with pytest.raises(HTTPException) as form:
        ecosystems.export(wb, "park", "docx", None)
    assert form.value.status_code == 422
