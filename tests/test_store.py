"""The store, run against SQLite and a real PostgreSQL server (``.ci/run`` installs and starts
it and sets ``RAINFOREST_TEST_POSTGRES``; elsewhere the PostgreSQL cases are skipped when the
variable is not set)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import rainforest as rf
from conftest import postgres_schema
from rainforest.store import ConflictError, Store, StoreError, changes, default_url
from strategies import ecosystems


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'store.db'}")
        yield s
        s.close()
        return
    with postgres_schema() as url:
        s = Store(url)
        yield s
        s.close()


def _park(n: int = 3) -> rf.Ecosystem:
    return rf.Ecosystem(
        name="park",
        actors=[rf.Actor(f"a{i}") for i in range(n)],
        resources=[rf.Resource("ash", "material", "t")],
        flows=[rf.Flow("a0", "a1", "ash", 5.0)],
    )


def test_create_load_and_export_every_version(store: Store, tmp_path: Path) -> None:
    first = store.create("park", _park(), author="ana")
    assert first.number == 1
    assert first.changes["actors"]["added"] == 3
    second = store.commit("park", _park(5), author="ben", message="two more firms")
    assert second.number == 2
    assert second.changes["actors"] == {
        "added": 2,
        "removed": 0,
        "changed": 0,
        "keys": {"added": ["a3", "a4"], "removed": [], "changed": []},
    }
    assert store.load("park") == _park(5)
    assert store.load("park", version=1) == _park()
    for version, target in ((1, "v1.yaml"), (2, "v2.json")):
        assert rf.load(store.export("park", tmp_path / target, version=version)) == store.load("park", version)
    history = store.history("park")
    assert [(h["number"], h["author"], h["message"]) for h in history] == [
        (1, "ana", "created"),
        (2, "ben", "two more firms"),
    ]
    assert history[1]["content_hash"] == _park(5).content_hash()
    assert [e.slug for e in store.ecosystems()] == ["park"]


def test_several_ecosystems_are_kept_apart(store: Store) -> None:
    store.create("north", _park(2), author="ana")
    store.create("south", rf.datasets.kalundborg(), author="ana")
    assert store.load("north") == _park(2)
    assert store.load("south") == rf.datasets.kalundborg()
    assert store.head("north") == store.head("south") == 1
    with pytest.raises(rf.UnknownIdError, match="unknown ecosystem 'nort'"):
        store.load("nort")
    with pytest.raises(StoreError, match="exists already"):
        store.create("north", _park(), author="ana")
    with pytest.raises(StoreError, match="has no version 7"):
        store.load("north", version=7)


def test_a_bad_import_changes_nothing_and_lists_every_problem(store: Store, tmp_path: Path) -> None:
    store.create("park", _park(), author="ana")
    before = store.history("park")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "format: rainforest/1\nname: park\nactors:\n  - id: a0\n  - id: a0\nresources:\n  - id: ash\n    kind: material\n"
        "    unit: t\nflows:\n  - {from: a0, to: zz, resource: ash, quantity: -1}\n"
    )
    with pytest.raises(rf.DocumentError) as err:
        store.import_file("park", bad, author="ben")
    text = str(err.value)
    assert "bad.yaml, line" in text
    assert "duplicate" in text.lower()
    assert "unknown actor 'zz'" in text
    assert "negative quantity" in text
    assert store.history("park") == before
    assert store.load("park") == _park()
    with pytest.raises(rf.DocumentError):
        store.import_file("newone", bad, author="ben")
    assert [e.slug for e in store.ecosystems()] == ["park"]


def test_import_creates_then_versions(store: Store, tmp_path: Path) -> None:
    path = rf.save(_park(), tmp_path / "park.xlsx")
    assert store.import_file("park", path, author="ana").number == 1
    path = rf.save(_park(4), tmp_path / "park-csv")
    version = store.import_file("park", path, author="ana", expected=1)
    assert version.number == 2
    assert version.message == "imported park-csv"


def test_optimistic_locking(store: Store) -> None:
    store.create("park", _park(), author="ana")
    store.commit("park", _park(4), author="ana", expected=1)
    with pytest.raises(ConflictError, match="now at version 2, but the change was made on version 1"):
        store.commit("park", _park(5), author="ben", expected=1)
    assert store.head("park") == 2
    assert len(store.history("park")) == 2


def test_concurrent_writers_lose_no_update(store: Store) -> None:
    """Eight writers, each saving five edits with read-modify-write and retrying on a
    conflict: every edit lands exactly once and the history has no gap."""
    store.create("park", _park(), author="setup")
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            for k in range(5):
                while True:
                    head = store.head("park")
                    eco = store.load("park", head)
                    extra = rf.Actor(f"w{w}_{k}")
                    edited = rf.Ecosystem(
                        name=eco.name, actors=[*eco.actors, extra], resources=list(eco.resources), flows=list(eco.flows)
                    )
                    try:
                        store.commit("park", edited, author=f"writer{w}", expected=head)
                        break
                    except ConflictError:
                        continue
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    history = store.history("park")
    assert [h["number"] for h in history] == list(range(1, 42))
    final = store.load("park")
    assert {f"w{w}_{k}" for w in range(8) for k in range(5)} <= set(final.actor_ids)
    assert len(final.actors) == 3 + 40


def test_migrations_go_down_and_up(store: Store) -> None:
    import sqlalchemy as sa

    store.create("park", _park(), author="ana")
    store.downgrade("base")
    with store.engine.connect() as conn:
        assert "ecosystems" not in sa.inspect(conn).get_table_names()
    store.upgrade()
    assert store.ecosystems() == []


def test_default_url_is_in_the_user_data_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAINFOREST_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_url() == f"sqlite:///{tmp_path / 'xdg' / 'rainforest' / 'rainforest.db'}"
    monkeypatch.setenv("RAINFOREST_DATA", str(tmp_path / "mine"))
    with Store() as s:
        assert s.url == f"sqlite:///{tmp_path / 'mine' / 'rainforest.db'}"
        s.create("k", rf.datasets.kalundborg(), author="demo")
    assert (tmp_path / "mine" / "rainforest.db").exists()


def test_changes_lists_what_moved() -> None:
    a = _park()
    b = rf.Ecosystem(
        name="park",
        actors=[rf.Actor("a0", stratum="canopy"), rf.Actor("a1"), rf.Actor("a9")],
        resources=[rf.Resource("ash", "material", "t")],
        flows=[rf.Flow("a0", "a1", "ash", 6.0)],
    )
    what = changes(a, b)
    assert what["actors"]["keys"] == {"added": ["a9"], "removed": ["a2"], "changed": ["a0"]}
    assert what["flows"]["changed"] == 1
    assert "resources" not in what


def test_invalid_names_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="invalid ecosystem name"):
        store.create("Not OK", _park(), author="ana")


def test_cli_store_commands(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from rainforest.cli import app

    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    good = rf.save(_park(), tmp_path / "park.yaml")
    result = runner.invoke(app, ["store", "import", "park", str(good), "--author", "ana", "--db", db])
    assert result.exit_code == 0, result.output
    assert "park: version 1 saved (3 actors, 1 flows)" in result.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: rainforest/1\nname: p\nactors: [{id: a}, {id: a}]\nresources: []\n")
    result = runner.invoke(app, ["store", "import", "park", str(bad), "--author", "ben", "--db", db])
    assert result.exit_code == 2
    assert "nothing was loaded" in result.stdout + result.stderr
    history = json.loads(runner.invoke(app, ["store", "history", "park", "--db", db, "--json"]).stdout)
    assert [h["number"] for h in history] == [1]
    listed = json.loads(runner.invoke(app, ["store", "list", "--db", db, "--json"]).stdout)
    assert listed == [{"ecosystem": "park", "name": "park", "version": 1}]
    result = runner.invoke(app, ["store", "export", "park", str(tmp_path / "out.json"), "--db", db])
    assert result.exit_code == 0, result.output
    assert rf.load(tmp_path / "out.json") == _park()
    result = runner.invoke(
        app, ["store", "import", "park", str(good), "--author", "ana", "--expected", "0", "--db", db]
    )
    assert result.exit_code != 0
    assert "now at version 1" in result.stdout + result.stderr


def _documents() -> list[rf.Ecosystem]:
    docs = [rf.datasets.kalundborg(), rf.datasets.synthetic(n_actors=200, rng=3)]
    docs += [rf.load(p) for p in sorted(Path("docs/examples").glob("*.yaml")) if p.name != "bad.yaml"]
    docs += [rf.datasets.ena_model(name) for name in rf.datasets.ENA_MODELS[:3]]
    return docs


@pytest.mark.parametrize("index", range(8))
def test_versions_are_stored_column_wise_and_lose_nothing(index: int) -> None:
    from rainforest.store._encoding import _decode, _encode

    eco = _documents()[index]
    blob = _encode(eco)
    assert blob.startswith(b"RFARROW1")  # Arrow IPC (before: a zip of the CSV form)
    again = _decode(blob, "x@1")
    assert again == eco
    assert again.content_hash() == eco.content_hash()
    assert again.to_dict() == eco.to_dict()


@given(eco=ecosystems())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_document_survives_the_store_encoding(eco: rf.Ecosystem) -> None:
    from rainforest.store._encoding import _decode, _encode

    again = _decode(_encode(eco), "x@1")
    assert again == eco
    assert again.content_hash() == eco.content_hash()


@pytest.mark.parametrize("index", range(8))
def test_versions_written_as_zipped_csv_still_load(index: int) -> None:
    from rainforest.store._encoding import _decode, _encode_v1

    eco = _documents()[index]
    blob = _encode_v1(eco)
    assert blob.startswith(b"PK")
    again = _decode(blob, "x@1")
    assert again == eco
    assert again.content_hash() == eco.content_hash()


def test_a_blob_written_before_arrow_still_loads(tmp_path: Path) -> None:
    """tests/fixtures/store_v1_kalundborg.zip: Kalundborg as the store encoded it before
    Arrow IPC (a zip of the CSV form), written by that code, not regenerated."""
    import sqlalchemy as sa

    from rainforest.store._encoding import _decode
    from rainforest.store._schema import VersionRow

    blob = (Path(__file__).parent / "fixtures" / "store_v1_kalundborg.zip").read_bytes()
    eco = rf.datasets.kalundborg()
    assert _decode(blob, "k@1") == eco
    with Store(f"sqlite:///{tmp_path / 'v1.db'}") as s:
        s.create("k", rf.Ecosystem("empty", actors=[rf.Actor("a")]), author="ana")
        with s.engine.begin() as conn:
            conn.execute(sa.update(VersionRow).values(document=blob, content_hash=eco.content_hash()))
    with Store(f"sqlite:///{tmp_path / 'v1.db'}") as fresh:  # nothing decoded in memory yet
        assert fresh.load("k") == eco
        version = fresh.commit("k", _park(), author="ben")  # the change is computed against the old blob
        assert version.changes["actors"]["removed"] == len(eco.actors)
        assert fresh.load("k", 1) == eco


def test_an_ecosystem_arrow_cannot_hold_is_kept_as_zipped_csv(monkeypatch: pytest.MonkeyPatch) -> None:
    import rainforest.store._encoding as encoding

    eco = rf.datasets.kalundborg()
    monkeypatch.setattr(encoding, "arrow_tables", lambda eco: None)
    blob = encoding._encode(eco)
    assert blob.startswith(b"PK")
    assert encoding._decode(blob, "k@1") == eco


def test_an_uncompressed_arrow_blob_loads() -> None:
    from rainforest.store._encoding import _decode, _encode_arrow

    eco = rf.datasets.kalundborg()
    blob = _encode_arrow(eco, level=None)
    assert blob is not None
    assert _decode(blob, "k@1") == eco


def test_store_errors_live_in_errors_and_import_from_the_store_as_before() -> None:
    from rainforest import errors, store

    for name in ("StoreError", "ConflictError", "StaleError"):
        assert getattr(store, name) is getattr(errors, name)
        assert name in errors.__all__
    assert issubclass(errors.ConflictError, errors.StoreError)
    assert issubclass(errors.StaleError, errors.StoreError)
    assert issubclass(errors.StoreError, (errors.RainforestError, ValueError))


def test_versions_written_as_json_before_the_columnar_encoding_still_load(tmp_path: Path) -> None:
    import json
    import zlib

    import sqlalchemy as sa

    from rainforest.store._schema import VersionRow

    eco = rf.datasets.kalundborg()
    with Store(f"sqlite:///{tmp_path / 'old.db'}") as s:
        s.create("k", eco, author="ana")
        legacy = zlib.compress(json.dumps(eco.to_dict(), sort_keys=True).encode())
        with s.engine.begin() as conn:
            conn.execute(sa.update(VersionRow).values(document=legacy))
    with Store(f"sqlite:///{tmp_path / 'old.db'}") as fresh:  # nothing decoded in memory yet
        assert fresh.load("k") == eco
        fresh.commit("k", _park(), author="ben")
        assert fresh.history("k")[1]["changes"]["actors"]["removed"] == 10


def test_decoded_versions_are_reused_but_never_stale(store: Store) -> None:
    store.create("park", _park(), author="ana")
    assert store.load("park") is store.load("park")  # kept decoded
    store.downgrade("base")
    store.upgrade()
    store.create("park", _park(4), author="ana")  # same name and number, another content
    assert store.load("park") == _park(4)


def test_an_in_memory_store_serves_several_threads() -> None:
    """One connection holds an in-memory database: threads take turns on it (pages and the
    worker's threads share it in ``rainforest serve --db sqlite://``)."""
    from concurrent.futures import ThreadPoolExecutor

    store = Store("sqlite://")
    store.create("park", _park(), author="ana")

    def work(k: int) -> int:
        for i in range(10):
            store.commit("park", _park(3 + (k * 10 + i) % 5), author=f"w{k}")
            store.history("park")
            store.load("park")
        return k

    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(work, range(4))) == [0, 1, 2, 3]
    assert store.head("park") == 41
