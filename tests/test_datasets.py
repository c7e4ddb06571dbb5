"""Bundled datasets and the synthetic generator."""

from __future__ import annotations

import numpy as np
import pytest

import rainforest as rf


def test_kalundborg_keeps_unknown_quantities_unknown() -> None:
    eco = rf.datasets.kalundborg()
    assert (len(eco.actors), len(eco.resources), len(eco.flows)) == (10, 15, 18)
    unquantified = [f for f in eco.flows if not f.quantified]
    assert len(unquantified) == 11
    assert all(f.quantity is None and "no published quantity" in f.extensions["x_reason"] for f in unquantified)
    assert "x_unquantified_flows" not in eco.extensions
    sources = rf.datasets.kalundborg_sources()
    assert len(sources["actors"]) == 16
    # every exchange of the c. 2000 snapshot is in the document, quantified or not
    snapshot = set(sources["snapshots"]["classic_c2000"]["edges"])
    assert {f.extensions["x_exchange_id"] for f in eco.flows} == snapshot
    published = {f.extensions["x_exchange_id"]: f.quantity for f in eco.flows if f.quantified}
    assert len(published) == 7
    assert published["E16"] == 150_000.0  # FGD gypsum to Gyproc, Symbiosis 2010
    assert all(f.extensions["x_source"] for f in eco.flows if f.quantified)


def test_kalundborg_sources_document_every_exchange() -> None:
    sources = rf.datasets.kalundborg_sources()
    exchanges = sources["exchanges"]
    ids = [e["id"] for e in exchanges]
    assert len(ids) == len(set(ids)) >= 28
    # every exchange says what is known: a number, or null for "no published figure"
    assert all("quantity" in e for e in exchanges)
    assert any(e["quantity"] is None for e in exchanges)


@pytest.mark.parametrize("name", rf.datasets.ENA_MODELS)
def test_ena_models_match_their_files(name: str) -> None:
    import json

    data = json.loads(rf.datasets.path(name).read_text())
    fm = rf.FlowMatrix.from_ecosystem(rf.datasets.ena_model(name))
    np.testing.assert_array_equal(fm.dense(), np.array(data["flows"], dtype=float))
    np.testing.assert_array_equal(fm.inputs, data["inputs"])
    np.testing.assert_array_equal(fm.losses, data["respirations"])
    np.testing.assert_array_equal(fm.exports, data["exports"])
    assert [a.name for a in rf.datasets.ena_model(name).actors] == data["nodes"]


def test_unknown_dataset_names_the_nearest() -> None:
    with pytest.raises(rf.UnknownIdError, match="oyster_reef"):
        rf.datasets.ena_model("oyster_ref")


def test_synthetic_is_reproducible_and_seed_dependent() -> None:
    a = rf.datasets.synthetic(n_actors=300, mean_degree=3, rng=11)
    assert a == rf.datasets.synthetic(n_actors=300, mean_degree=3, rng=11)
    assert a != rf.datasets.synthetic(n_actors=300, mean_degree=3, rng=12)
    assert a.extensions["x_synthetic"]["seed"] == 11
    b = rf.datasets.synthetic(n_actors=300, mean_degree=3, rng=np.random.default_rng(11))
    assert len(b.actors) == 300


def test_synthetic_has_every_section_and_realistic_shape() -> None:
    eco = rf.datasets.synthetic(n_actors=5000, mean_degree=6, rng=1)
    counts = eco.summary()["counts"]
    assert all(counts[s] > 0 for s in counts), counts
    internal = [
        f for f in eco.flows if f.source not in ("world", "environment") and f.target not in ("world", "environment")
    ]
    assert len(internal) == 30_000
    out_degree = np.bincount([eco.actor_index(f.source) for f in internal], minlength=5000)
    assert out_degree.max() > 10 * out_degree.mean()  # heavy tail: hubs
    strata = eco.summary()["strata"]
    assert strata == {"canopy": 50, "understory": 450, "shrub": 1500, "moss": 3000}
    revenue = {a.stratum: [] for a in eco.actors}
    for a in eco.actors:
        assert a.size is not None
        revenue[a.stratum].append(a.size.revenue)
    assert min(revenue["canopy"]) > max(revenue["moss"])
    assert {a.stage for a in eco.actors} == {"startup", "growth", "mature", "decline"}
    assert all(m.adopters for m in eco.modules)
    assert any(not c.core for a in eco.actors for c in a.capabilities)


def test_synthetic_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="'n_actors' parameter"):
        rf.datasets.synthetic(n_actors=1)
    with pytest.raises(ValueError, match="'mean_degree' parameter"):
        rf.datasets.synthetic(n_actors=10, mean_degree=0)
