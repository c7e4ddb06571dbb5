"""A simulation's final state as a document: the end of exactly the run the ensemble
holds, loadable by ``rainforest.load`` and analysable by the other commands."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import rainforest as rf
from rainforest import simulate
from rainforest.cli import app
from rainforest.errors import ParameterError
from rainforest.simulate import scenario

runner = CliRunner()


@pytest.fixture(scope="module")
def park() -> rf.Ecosystem:
    eco: rf.Ecosystem = rf.datasets.synthetic(n_actors=40, rng=3)
    return eco


def _key(f: rf.Flow) -> tuple[str, str, str]:
    return (f.source, f.target, f.resource)


def test_the_final_document_is_the_end_of_the_ensembles_run(park: rf.Ecosystem) -> None:
    spec = scenario.Scenario(base=park, periods=6, runs=3, seed=5)
    (ens,) = scenario.run_scenario(spec)
    for run in (0, 2):
        doc = scenario.final_document(spec, run=run)
        assert len(doc.actors) == int(ens.runs[run].series["actors"][-1])
        assert doc.extensions["x_simulation"]["period"] == 6
    # two runs end differently (they have their own seeds)
    assert scenario.final_document(spec, run=0) != scenario.final_document(spec, run=1)


def test_what_the_final_document_keeps(park: rf.Ecosystem) -> None:
    model = simulate.Model(park, simulate.Params().replace(ena_every=0), rng=2)
    model.run(8)
    doc = model.snapshot()
    ids = {a.id for a in doc.actors}
    alive = set(model.ids(np.flatnonzero(model.agents.alive)))
    assert ids == alive
    assert all(a.stage in simulate.engine.STAGES for a in doc.actors)
    assert all(a.stratum in ("canopy", "understory", "shrub", "moss") for a in doc.actors)
    for module in doc.modules:
        assert module.provider in ids
        assert set(module.adopters) <= ids
        original = next(m for m in park.modules if m.id == module.id)
        assert (module.switching_cost, module.capacity_share) == (original.switching_cost, original.capacity_share)
    for f in doc.flows:
        assert f.source in ids or f.source in ("world", "environment")
        assert f.target in ids or f.target in ("world", "environment")
    # the document's own exchanges are not written twice (once as a flow, once as a symbiosis)
    before = Counter(_key(f) for f in park.flows)
    after = Counter(_key(f) for f in doc.flows)
    assert all(after[k] <= before[k] for k in before)
    assert {o.actor for o in doc.offers} <= ids
    assert {s.actor for s in doc.stocks} <= ids
    # every actor of a synthetic park gives a revenue: sizes stay money
    i = model.index_of(doc.actors[0].id)
    assert i is not None
    assert doc.actors[0].size is not None
    assert doc.actors[0].size.revenue == pytest.approx(float(model.agents["size"][i]))


def test_sizes_that_are_not_money_are_not_written_as_revenue() -> None:
    eco = rf.datasets.kalundborg()  # sizes from throughflow: not money
    model = simulate.Model(eco, rng=1)
    model.run(3)
    doc = model.snapshot()
    originals = {a.id: a for a in eco.actors}
    for actor in doc.actors:
        assert actor.extensions["x_simulated_size"] > 0
        if actor.id in originals:
            assert actor.size == originals[actor.id].size
            assert actor.name == originals[actor.id].name
        else:  # an entrant: nothing to say about its size in money
            assert actor.id.startswith("new")
            assert actor.size is None


def test_final_document_checks_the_run(park: rf.Ecosystem) -> None:
    spec = scenario.Scenario(base=park, periods=2, runs=2)
    with pytest.raises(ParameterError, match=r"'run' parameter of final_document.*from 0 to 1"):
        scenario.final_document(spec, run=2)
    with pytest.raises(ParameterError, match="'point'"):
        scenario.final_document(spec, point=1)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_cli_final_document_round_trips_and_the_other_commands_read_it(
    tmp_path: Path, park: rf.Ecosystem, suffix: str
) -> None:
    source = tmp_path / "park.yaml"
    rf.save(park, source)
    out = tmp_path / f"end{suffix}"
    result = runner.invoke(
        app,
        [
            "simulate",
            str(source),
            "--periods",
            "5",
            "--runs",
            "2",
            "--seed",
            "3",
            "-o",
            str(tmp_path / "sim"),
            "--final-document",
            str(out),
            "--final-run",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"the final state of run 2 written to {out}" in result.output.replace("\n", "")
    loaded = rf.load(out)
    spec = scenario.Scenario(base=rf.load(source), periods=5, runs=2, seed=3)
    assert loaded == scenario.final_document(spec, run=1)
    series = json.loads((tmp_path / "sim" / "summary.json").read_text(encoding="utf-8"))
    assert series["runs"] == 2
    if suffix == ".json":
        return  # the analyses below once are enough
    risk = runner.invoke(app, ["risk", str(out), "--json"])
    assert risk.exit_code == 0, risk.output
    assert json.loads(risk.stdout)
    report = runner.invoke(app, ["report", str(out), "-o", str(tmp_path / "end.html")])
    assert report.exit_code == 0, report.output
    assert (tmp_path / "end.html").stat().st_size > 10_000
    again = runner.invoke(app, ["simulate", str(out), "--periods", "2", "-o", str(tmp_path / "again"), "--json"])
    assert again.exit_code == 0, again.output


def test_cli_final_run_beyond_the_runs_is_a_clear_error(tmp_path: Path, park: rf.Ecosystem) -> None:
    source = tmp_path / "park.yaml"
    rf.save(park, source)
    result = runner.invoke(
        app,
        [
            "simulate",
            str(source),
            "--periods",
            "2",
            "--runs",
            "2",
            "-o",
            str(tmp_path / "sim"),
            "--final-document",
            str(tmp_path / "end.yaml"),
            "--final-run",
            "3",
        ],
    )
    assert result.exit_code == 2
    assert "--final-run must be a run of the simulation, from 1 to 2. Got 3" in result.output.replace("\n", " ")
    assert not (tmp_path / "end.yaml").exists()
    assert not (tmp_path / "sim").exists()


def test_modules_keep_their_new_fields_in_the_snapshot(park: rf.Ecosystem) -> None:
    first = park.modules[0]
    changed = dataclasses.replace(first, switching_cost=12.5, capacity_share=0.4)
    eco = rf.Ecosystem(
        name=park.name,
        actors=list(park.actors),
        resources=list(park.resources),
        flows=list(park.flows),
        offers=list(park.offers),
        needs=list(park.needs),
        modules=[changed, *list(park.modules)[1:]],
    )
    doc = simulate.Model(eco, simulate.Params().replace(**{"demography.enabled": False}), rng=1).run(2, keep=[2])
    kept = next(m for m in doc.snapshots[2].modules if m.id == first.id)
    assert (kept.switching_cost, kept.capacity_share) == (12.5, 0.4)
