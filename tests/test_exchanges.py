"""Candidates, the exchange plan, impacts, risk and sharing of the plan's gain."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import rainforest as rf
from rainforest.cli import app
from rainforest.model import FrozenMap
from rainforest.optimize import exchanges as ex
from rainforest.optimize import taxonomy
from rainforest.optimize.solvers import EnumerationSolver, HighsSolver
from rainforest.optimize.targeting import target

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


def park() -> rf.Ecosystem:
    return rf.load(EXAMPLES / "park.yaml")


def test_candidates_are_explained() -> None:
    found = {(c.source, c.target, c.resource): c for c in ex.candidates(park())}
    water = found[("refinery", "power", "water")]
    assert water.upper == pytest.approx(500_000)  # 40 mg/l diluted to the 20 mg/l limit: half of the need
    assert "50.0% of the need because of cod_mg_l" in water.limits
    ash = found[("power", "cement", "fly_ash")]
    assert ash.unit_saving == pytest.approx(40 + 30 - 0.15 * ash.distance_km)  # virgin price + disposal - transport
    assert "virgin" in ash.saves
    assert len(ex.candidates(park(), max_distance_km=5)) == 2  # cluster mode: the farm and cement works are further


def test_plan_on_the_park() -> None:
    plan = ex.plan(park())
    assert plan.gap <= 1e-4
    by = {(e.source, e.target): e for e in plan.exchanges}
    assert by[("power", "cement")].quantity == pytest.approx(90_000)
    assert plan.virgin["gypsum"] == pytest.approx(20_000)  # 150 kt offered, 170 kt needed
    assert plan.discharge["fly_ash"] == pytest.approx(30_000)
    enumerated = ex.plan(park(), solver=EnumerationSolver())
    assert enumerated.benefit == pytest.approx(plan.benefit, rel=1e-9)


def test_impacts_are_counted_as_audited_programmes_count_them() -> None:
    plan = ex.plan(park())
    effects = ex.impacts(park(), plan)
    ash = next(r for r in effects["exchanges"] if r["resource"] == "fly_ash")
    distance = next(c.distance_km for c in ex.candidates(park()) if c.resource == "fly_ash")
    landfill = taxonomy.default_factor("landfill")["value"]
    freight = taxonomy.default_factor("freight")["value"]
    expected = 90_000 * (landfill + 850 - freight * distance)  # avoided disposal + avoided virgin - transport
    assert ash["co2e_avoided_kg"] == pytest.approx(expected, rel=1e-9)
    total = effects["total"]
    assert total["disposal_diverted_t"] == pytest.approx(90_000 + 150_000 + 6_000)
    assert total["water_saved_m3"] == pytest.approx(500_000)
    assert total["virgin_saved"]["gypsum"] == pytest.approx(150_000)
    assert total["money_saved"] == pytest.approx(plan.benefit)
    assert any("DESNZ" in note for note in effects["notes"])


def test_objectives_risk_and_pareto() -> None:
    eco = park()
    richest, greenest, leanest = ex.plan(eco), ex.plan(eco, "co2e"), ex.plan(eco, "virgin")
    assert greenest.co2e_avoided >= richest.co2e_avoided - 1e-6
    assert sum(leanest.virgin.values()) <= sum(richest.virgin.values()) + 1e-6
    risk = ex.expected_benefit(richest, 0.1)
    fixed = richest.benefit - sum(e.benefit for e in richest.exchanges)
    assert risk["expected_benefit"] == pytest.approx(sum(e.benefit for e in richest.exchanges) * 0.81 + fixed)
    front = ex.pareto(eco, 3)
    assert all(a["benefit"] >= b["benefit"] - 1e-6 for a, b in itertools.pairwise(front))


def test_sharing_sums_to_the_plan_benefit_and_is_stable() -> None:
    plan = ex.plan(park())
    shares = ex.share_gains(park(), plan)
    assert sum(shares["allocation"].values()) == pytest.approx(plan.benefit, rel=1e-9)
    assert shares["in_core"] is True
    nucleolus = ex.share_gains(park(), plan, method="nucleolus")
    assert sum(nucleolus["allocation"].values()) == pytest.approx(plan.benefit, rel=1e-9)


def test_an_impossible_need_is_named_with_its_reason() -> None:
    eco = rf.Ecosystem(
        name="dirty virgin",
        actors=[rf.Actor("a"), rf.Actor("b")],
        resources=[rf.Resource("w", "water", "m**3", price=1.0)],
        needs=[rf.Need("b", 10.0, resource="w", max_quality=FrozenMap({"ppm": 5}))],
        virgin=[rf.Virgin("w", quality=FrozenMap({"ppm": 50}))],
    )
    with pytest.raises(ex.PlanError, match=r"needs\[0\] \(b, w\): quality"):
        ex.plan(eco)


@st.composite
def markets(draw: st.DrawFn) -> rf.Ecosystem:
    n = draw(st.integers(2, 5))
    actors = [rf.Actor(f"a{i}") for i in range(n)]
    resources = [rf.Resource("r", "material", "t", price=draw(st.floats(1, 100)), transport_cost=0.0)]
    q = st.floats(1.0, 100.0)
    offers = [
        rf.Offer(
            f"a{draw(st.integers(0, n - 1))}",
            "r",
            draw(q),
            quality=FrozenMap({"ppm": draw(st.floats(0, 100))}),
            disposal_cost=draw(st.floats(0, 50)),
        )
        for _ in range(draw(st.integers(1, 4)))
    ]
    needs = [
        rf.Need(
            f"a{draw(st.integers(0, n - 1))}",
            draw(q),
            resource="r",
            max_quality=FrozenMap({"ppm": draw(st.floats(5, 100))}),
        )
        for _ in range(draw(st.integers(1, 4)))
    ]
    links = []
    for i in range(n):
        for j in range(n):
            if i != j and draw(st.integers(0, 3)) == 0:
                links.append(
                    rf.Link(
                        f"a{i}", f"a{j}", "r", fixed_cost=draw(st.floats(0, 3000)), capacity=draw(st.floats(10, 200))
                    )
                )
    return rf.Ecosystem(
        name="market",
        actors=actors,
        resources=resources,
        offers=offers,
        needs=needs,
        links=links,
        virgin=[rf.Virgin("r", quality=FrozenMap({"ppm": 0.0}))],
    )


@settings(max_examples=40, deadline=None)
@given(eco=markets())
def test_every_plan_respects_offers_qualities_and_needs(eco: rf.Ecosystem) -> None:
    plan = ex.plan(eco)
    offers, needs = list(eco.offers), list(eco.needs)
    used = [0.0] * len(offers)
    received = [0.0] * len(needs)
    load = [0.0] * len(needs)
    for e in plan.exchanges:
        used[e.offer] += e.quantity
        received[e.need] += e.quantity
        load[e.need] += e.quantity * offers[e.offer].quality["ppm"]
    for i, offer in enumerate(offers):
        assert used[i] <= offer.quantity * (1 + 1e-7) + 1e-7
    virgin = plan.virgin.get("r", 0.0)
    assert sum(received) + virgin == pytest.approx(sum(n.quantity for n in needs), rel=1e-7)
    for j, need in enumerate(needs):
        assert received[j] <= need.quantity * (1 + 1e-7) + 1e-7
        assert load[j] <= need.max_quality["ppm"] * need.quantity * (1 + 1e-6) + 1e-6
    # the pinch target bounds any plan's virgin use from below
    assert target(eco, "r", "ppm").virgin <= virgin + 1e-6 * max(1.0, virgin)
    assert plan.benefit >= -1e-6  # doing nothing is always possible


@settings(max_examples=25, deadline=None)
@given(eco=markets())
def test_highs_and_enumeration_agree(eco: rf.Ecosystem) -> None:
    if len(eco.links) > 10:
        return
    a = ex.plan(eco, solver=HighsSolver(gap=1e-9))
    b = ex.plan(eco, solver=EnumerationSolver())
    assert a.benefit == pytest.approx(b.benefit, rel=1e-6, abs=1e-6)


def test_taxonomy_search_and_synergies() -> None:
    assert taxonomy.search_waste("coal fly ash")[0].code == "10 01 02"
    assert taxonomy.waste_code("100105").description.startswith("Calcium-based reaction wastes")
    assert taxonomy.waste_code("19 01 13*").hazardous
    assert taxonomy.sector_code("23.51").description == "Manufacture of cement"
    with pytest.raises(rf.UnknownIdError):
        taxonomy.sector_code("99.99")
    assert any("plasterboard" in s.use for s in taxonomy.suggest_uses("fgd_gypsum"))
    assert any("cement" in s.use for s in taxonomy.suggest_uses("x", ewc="10 01 02"))
    assert all(s.source for s in taxonomy.SYNERGIES)
    assert math.isclose(taxonomy.default_factor("freight")["value"], 0.10163)


def test_cli_match_and_candidates_contracts() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["match", str(EXAMPLES / "park.yaml"), "--json"])
    assert result.exit_code == 0, result.stdout
    data = json.loads(result.stdout)
    for key in ("objective", "exchanges", "virgin", "discharge", "impacts", "sharing"):
        assert key in data
    assert set(data["exchanges"][0]) == {"from", "to", "resource", "quantity", "benefit"}
    assert sum(data["sharing"].values()) == pytest.approx(data["objective"], rel=1e-9)
    result = runner.invoke(
        app, ["match", str(EXAMPLES / "park.yaml"), "--objective", "co2e", "--max-distance-km", "5", "--json"]
    )
    assert result.exit_code == 0
    assert {e["to"] for e in json.loads(result.stdout)["exchanges"]} <= {"board", "power"}
    result = runner.invoke(app, ["candidates", str(EXAMPLES / "park.yaml"), "--json"])
    assert len(json.loads(result.stdout)["candidates"]) == 4


def test_pruning_keeps_each_needs_best_candidates() -> None:
    eco = rf.datasets.synthetic(n_actors=300, mean_degree=2, rng=2, offers_share=1.5, needs_share=1.5)
    full = ex.candidates(eco)
    pruned = ex.candidates(eco, per_need=3)
    best: dict[int, list[float]] = {}
    for c in full:
        best.setdefault(c.need, []).append(c.unit_saving)
    expected = sorted(round(s, 9) for savings in best.values() for s in sorted(savings, reverse=True)[:3])
    assert sorted(round(c.unit_saving, 9) for c in pruned) == expected
    assert len(full) > len(pruned) > 0


def test_large_plans_share_by_the_fixed_plan_graph_game() -> None:
    plan = ex.plan(park())
    shares = ex.share_gains(park(), plan, sample_limit=2)
    assert shares["method"].startswith("shapley of the fixed plan")
    assert sum(shares["allocation"].values()) == pytest.approx(plan.benefit, rel=1e-9)
    fly_ash = next(e for e in plan.exchanges if e.resource == "fly_ash")
    link_cost = 150_000  # power -> cement link, split between its ends
    assert shares["allocation"]["cement"] == pytest.approx(fly_ash.benefit / 2 - link_cost / 2)


def test_native_prints_during_a_solve_stay_off_standard_output() -> None:
    """HiGHS prints a banner and, in its MIP solver, stray debugging lines whatever its
    display option; a command's --json answer must stay parseable, so they are dropped.
    Threads solving at once share the redirection, and standard output comes back after;
    a real solve prints nothing on standard output."""
    import subprocess
    import sys

    code = """
import ctypes, threading, time
from rainforest.optimize.solvers import quiet_native_stdout
libc = ctypes.CDLL(None)
print("before", flush=True)
def solve(tag):
    with quiet_native_stdout():
        libc.printf(("native " + tag + "\\n").encode())
        time.sleep(0.05)
threads = [threading.Thread(target=solve, args=(str(i),)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("after", flush=True)
libc.printf(b"native after\\n")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["before", "after", "native", "after"]
    assert "native" not in out.stderr
    solve = "from rainforest.optimize.solvers import HighsSolver, MILP; import numpy as np, scipy.sparse as sp; "
    solve += "print(HighsSolver().solve(MILP(np.array([-1.0]), sp.csr_array(np.ones((1, 1))), np.array([0.0]), "
    solve += "np.array([2.5]), np.array([0.0]), np.array([9.0]), np.array([True]))).objective)"
    out = subprocess.run([sys.executable, "-c", solve], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["-2.0"]
