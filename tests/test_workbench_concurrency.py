"""No lost update: concurrent edits through the API, in threads, on SQLite and PostgreSQL.

Each round makes two requests read the same version before either saves (a barrier in the
edit), the interleaving that lost one edit in 8 of 8 rounds before (issue 17): an edit
without ``expected`` committed on whatever was newest, so the second writer's document,
made from the old version, reverted the first writer's actor."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD, _park, postgres_schema
from rainforest.store import Store
from rainforest.web import create_app
from rainforest.web.records import Accounts, Applications

ROUNDS = 8


@pytest.fixture(params=["sqlite", "postgresql"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, TestClient]]:
    """The park with a manager and two members, on a file SQLite or a PostgreSQL schema."""

    def build(url: str) -> Iterator[tuple[Store, TestClient]]:
        store = Store(url)
        store.create("park", _park(), author="setup")
        for name, role, actor in (("manny", "manager", None), ("mia", "member", "mill"), ("pat", "member", "plant")):
            Accounts(store).create_user(name, PASSWORD)
            Accounts(store).grant(name, "park", role, actor)
        with TestClient(create_app(store, secret="test-secret")) as client:
            yield store, client
        store.close()

    if request.param == "sqlite":
        yield from build(f"sqlite:///{tmp_path / 'edits.db'}")
    else:
        with postgres_schema() as url:
            yield from build(url)


def _together(monkeypatch: pytest.MonkeyPatch, store: Store, *names: str, parties: int = 2) -> None:
    """Make the first call of any of the edit functions ``names`` (of
    :mod:`rainforest.web.edits`) in each of ``parties`` threads wait for the others: every
    request has read its version before any saves; then the saves run one after the other
    (the second starts on the first one's version)."""
    import rainforest.web.edits as edit

    turn = threading.Lock()
    commit = store.commit

    def one_at_a_time(*args: Any, **kwargs: Any) -> Any:
        with turn:
            return commit(*args, **kwargs)

    monkeypatch.setattr(store, "commit", one_at_a_time)

    gate = threading.Barrier(parties)
    waited: set[int] = set()
    lock = threading.Lock()

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with lock:
                first = threading.get_ident() not in waited
                waited.add(threading.get_ident())
            if first:
                gate.wait(timeout=30)
            return original(*args, **kwargs)

        return wrapper

    for name in names:
        monkeypatch.setattr(edit, name, wrap(getattr(edit, name)))


def _at_once(*calls: Callable[[], Any]) -> list[Any]:
    out: list[Any] = [None] * len(calls)

    def run(k: int) -> None:
        out[k] = calls[k]()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return out


def test_members_editing_their_own_actors_at_once_lose_nothing(
    shared: tuple[Store, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, client = shared
    lost = 0
    for k in range(ROUNDS):
        with monkeypatch.context() as m:
            _together(m, store, "edit_actor")
            answers = _at_once(
                *(
                    lambda user=user, actor=actor, k=k: client.post(
                        f"/api/ecosystems/park/actors/{actor}",
                        auth=(user, PASSWORD),
                        json={"record": {"name": f"{actor} round {k}"}},
                    )
                    for user, actor in (("mia", "mill"), ("pat", "plant"))
                )
            )
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        eco = store.load("park")
        lost += sum(eco.actor(actor).name != f"{actor} round {k}" for actor in ("mill", "plant"))
    assert lost == 0, f"{lost} of {2 * ROUNDS} edits lost"
    history = store.history("park")
    assert [h["number"] for h in history] == list(range(1, 2 * ROUNDS + 2))


def test_edits_of_the_same_part_at_once_conflict(
    shared: tuple[Store, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A manager and the member change the mill's record at once: one is saved, the other
    answers 409 and reverts nothing."""
    store, client = shared
    _together(monkeypatch, store, "edit_actor")
    answers = _at_once(
        *(
            lambda user=user: client.post(
                "/api/ecosystems/park/actors/mill", auth=(user, PASSWORD), json={"record": {"name": f"by {user}"}}
            )
            for user in ("manny", "mia")
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    winner = next(a for a in answers if a.status_code == 200).json()["author"]
    assert store.load("park").actor("mill").name == f"by {winner}"
    assert store.head("park") == 2


def test_approving_an_application_while_a_member_edits_loses_nothing(
    shared: tuple[Store, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, client = shared
    application = Applications(store).apply("park", "newfirm", PASSWORD, actor="bakery", name="Bakery")
    _together(monkeypatch, store, "edit_actor", "add_actor")
    answers = _at_once(
        lambda: client.post(
            "/api/ecosystems/park/actors/mill", auth=("mia", PASSWORD), json={"record": {"name": "Sawmill"}}
        ),
        lambda: client.post(
            f"/api/ecosystems/park/applications/{application.id}",
            auth=("manny", PASSWORD),
            json={"decision": "approve"},
        ),
    )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    eco = store.load("park")
    assert eco.actor("mill").name == "Sawmill"
    assert eco.actor("bakery").name == "Bakery"
