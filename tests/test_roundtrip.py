"""save -> load is the identity for every form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

import rainforest as rf
from strategies import ecosystems, network_models

DOCUMENT_SUFFIXES = {"yaml": "eco.yaml", "json": "eco.json", "csv": "eco", "excel": "eco.xlsx"}


def _same_network(a: rf.Ecosystem, b: rf.Ecosystem) -> None:
    fa, fb = rf.FlowMatrix.from_ecosystem(a), rf.FlowMatrix.from_ecosystem(b)
    assert fa.ids == fb.ids
    np.testing.assert_array_equal(fa.dense(), fb.dense())
    for field in ("inputs", "exports", "losses", "stock"):
        np.testing.assert_array_equal(getattr(fa, field), getattr(fb, field))
    assert [x.living for x in a.actors] == [x.living for x in b.actors]
    assert [x.name for x in a.actors] == [x.name for x in b.actors]


@pytest.mark.parametrize("form", sorted(DOCUMENT_SUFFIXES))
@given(eco=ecosystems())
def test_document_forms_round_trip(tmp_path_factory: pytest.TempPathFactory, form: str, eco: rf.Ecosystem) -> None:
    path = tmp_path_factory.mktemp(form) / DOCUMENT_SUFFIXES[form]
    rf.save(eco, path)
    again = rf.load(path)
    assert again.differences(eco) == []
    assert again == eco
    assert again.content_hash() == eco.content_hash()


@pytest.mark.parametrize(("form", "name"), [("ena-model", "m.json"), ("scor", "m.scor")])
@given(model=network_models())
def test_network_forms_round_trip(
    tmp_path_factory: pytest.TempPathFactory, form: str, name: str, model: rf.Ecosystem
) -> None:
    path = tmp_path_factory.mktemp(form) / name
    rf.save(model, path, form=form)  # type: ignore[arg-type]
    _same_network(rf.load(path), model)


@pytest.mark.parametrize("form", sorted(DOCUMENT_SUFFIXES))
def test_kalundborg_round_trips_in_every_form(tmp_path: Path, form: str) -> None:
    eco = rf.datasets.kalundborg()
    path = rf.save(eco, tmp_path / DOCUMENT_SUFFIXES[form])
    assert rf.load(path) == eco


@pytest.mark.parametrize("name", rf.datasets.ENA_MODELS)
@pytest.mark.parametrize("form", sorted(DOCUMENT_SUFFIXES))
def test_ena_models_round_trip_as_documents(tmp_path: Path, name: str, form: str) -> None:
    model = rf.datasets.ena_model(name)
    path = rf.save(model, tmp_path / DOCUMENT_SUFFIXES[form])
    assert rf.load(path) == model


@pytest.mark.parametrize("name", rf.datasets.ENA_MODELS)
def test_ena_models_round_trip_as_ena_and_scor(tmp_path: Path, name: str) -> None:
    model = rf.datasets.ena_model(name)
    again = rf.load(rf.save(model, tmp_path / "m.json", form="ena-model"))
    assert again == model  # metadata (citation, units text) is kept too
    if all(isinstance(a.living, bool) for a in model.actors):
        _same_network(rf.load(rf.save(model, tmp_path / "m.scor")), model)


def test_ena_model_file_numbers_survive(tmp_path: Path) -> None:
    import json

    source = json.loads(rf.datasets.path("oyster_reef").read_text())
    written = json.loads(
        rf.save(rf.datasets.ena_model("oyster_reef"), tmp_path / "o.json", form="ena-model").read_text()
    )
    for key in (
        "nodes",
        "living",
        "flows",
        "inputs",
        "exports",
        "respirations",
        "outputs",
        "storage",
        "source_citation",
    ):
        assert written[key] == source[key], key


def test_synthetic_round_trips_through_csv_and_excel(tmp_path: Path) -> None:
    eco = rf.datasets.synthetic(n_actors=300, mean_degree=3, rng=5)
    assert rf.load(rf.save(eco, tmp_path / "folder")) == eco
    assert rf.load(rf.save(eco, tmp_path / "book.xlsx")) == eco


def test_save_is_atomic_and_replaces(tmp_path: Path) -> None:
    eco = rf.datasets.kalundborg()
    target = tmp_path / "k.json"
    target.write_text("old")
    rf.save(eco, target)
    assert rf.load(target) == eco
    assert [p.name for p in tmp_path.iterdir()] == ["k.json"]


def test_saving_a_csv_folder_over_another_removes_stale_sections(tmp_path: Path) -> None:
    big = rf.datasets.synthetic(n_actors=50, mean_degree=2, rng=1)
    rf.save(big, tmp_path / "f")
    small = rf.datasets.kalundborg()
    rf.save(small, tmp_path / "f")
    assert rf.load(tmp_path / "f") == small
