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
from rainforest.optimize.solvers import MILP, EnumerationSolver, HighsSolver, Solution
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


# -- the fixed-cost plan: reductions, stability, warm starts, the proven gap (issue 15) --------------
def fixed_cost_market(n: int, seed: int, *, fixed: tuple[float, float] = (20_000, 150_000)) -> rf.Ecosystem:
    """The bench's market (bench/bench_exchanges.py) at a size the tests solve to optimality."""
    import numpy as np

    rng = np.random.default_rng(seed)

    def place() -> rf.Location:
        return rf.Location(55 + rng.normal(0, 0.3), 11 + rng.normal(0, 0.5))

    actors = [rf.Actor(f"s{i}", location=place()) for i in range(n)] + [
        rf.Actor(f"k{j}", location=place()) for j in range(n)
    ]
    offers = [
        rf.Offer(
            f"s{i}",
            "slag",
            float(rng.uniform(2_000, 20_000)),
            quality=FrozenMap({"ppm": float(rng.uniform(0, 100))}),
            disposal_cost=float(rng.uniform(5, 40)),
        )
        for i in range(n)
    ]
    needs = [
        rf.Need(
            f"k{j}",
            float(rng.uniform(2_000, 20_000)),
            resource="slag",
            max_quality=FrozenMap({"ppm": float(rng.uniform(20, 120))}),
        )
        for j in range(n)
    ]
    links = [
        rf.Link(
            f"s{i}",
            f"k{j}",
            "slag",
            fixed_cost=float(rng.uniform(*fixed)),
            capacity=float(rng.uniform(3_000, 15_000)),
        )
        for i in range(n)
        for j in range(n)
    ]
    return rf.Ecosystem(
        name="fixed-cost market",
        actors=actors,
        resources=[rf.Resource("slag", "material", "t", price=35.0, transport_cost=0.08, co2e_virgin=25.0)],
        offers=offers,
        needs=needs,
        links=links,
        virgin=[rf.Virgin("slag", quality=FrozenMap({"ppm": 0.0}))],
    )


def _flows(plan: ex.Plan) -> dict[tuple[str, str, str], float]:
    return {(e.source, e.target, e.resource): e.quantity for e in plan.exchanges}


def test_links_that_never_pay_and_implied_rows_are_dropped_and_the_plan_is_unchanged() -> None:
    eco = fixed_cost_market(8, 4, fixed=(60_000, 400_000))
    exact = HighsSolver(gap=1e-9)
    reduced = ex.plan(eco, solver=exact)
    full = ex.plan(eco, solver=exact, presolve=False)
    assert reduced.reductions["links_that_never_pay"] > 0
    assert reduced.reductions["implied_rows"] > 0  # one candidate per link: its row was the link's row
    assert full.reductions == {}
    assert reduced.benefit == pytest.approx(full.benefit, rel=1e-9)
    assert _flows(reduced).keys() == _flows(full).keys()
    for key, quantity in _flows(full).items():
        assert _flows(reduced)[key] == pytest.approx(quantity, rel=1e-6)
    # a link dropped is one whose largest saving is at most its fixed cost
    model = ex._model(eco, None, None)
    drop = ex._never_pay(model, model.saving, 1.0)
    for k in drop.nonzero()[0]:
        link = model.links[model.link_of[k]][1]
        assert model.saving[k] * min(model.cands[k].upper, link.capacity) <= link.fixed_cost


def test_a_dirty_virgin_supply_keeps_the_links_it_cannot_replace() -> None:
    """Dropping a link is valid only while virgin supply can replace its exchanges: a
    virgin supply over a need's limit cannot, and one dirtier than an offer may not (the
    clean offer may be what dilutes a dirtier one), so those links stay."""
    eco = fixed_cost_market(6, 1, fixed=(60_000, 400_000))

    def with_virgin(ppm: float) -> rf.Ecosystem:
        return rf.Ecosystem(
            name=eco.name,
            actors=list(eco.actors),
            resources=list(eco.resources),
            offers=list(eco.offers),
            needs=list(eco.needs),
            links=list(eco.links),
            virgin=[rf.Virgin("slag", quality=FrozenMap({"ppm": ppm}))],
        )

    clean = ex._model(with_virgin(0.0), None, None)
    dropped_clean = ex._never_pay(clean, clean.saving, 1.0)
    model = ex._model(with_virgin(30.0), None, None)
    dropped = ex._never_pay(model, model.saving, 1.0)
    offers, needs = list(eco.offers), list(eco.needs)
    kept = [
        k
        for k, c in enumerate(model.cands)
        if offers[c.offer].quality["ppm"] < 30 or needs[c.need].max_quality["ppm"] < 30
    ]
    assert dropped_clean[kept].any()  # some of them would have been dropped with a clean virgin supply
    assert not dropped[kept].any()
    assert dropped.any()  # the others still are


@settings(max_examples=25, deadline=None)
@given(eco=markets())
def test_reductions_never_change_the_best_benefit(eco: rf.Ecosystem) -> None:
    exact = HighsSolver(gap=1e-9)
    assert ex.plan(eco, solver=exact).benefit == pytest.approx(
        ex.plan(eco, solver=exact, presolve=False).benefit, rel=1e-7, abs=1e-6
    )


def test_the_same_instance_always_gives_the_same_plan() -> None:
    first = ex.plan(fixed_cost_market(5, 7))
    for _ in range(2):
        again = ex.plan(fixed_cost_market(5, 7))
        assert again.exchanges == first.exchanges
        assert again.links_built == first.links_built


def _with_offer_quantity(eco: rf.Ecosystem, index: int, factor: float) -> rf.Ecosystem:
    import dataclasses

    offers = list(eco.offers)
    offers[index] = dataclasses.replace(offers[index], quantity=offers[index].quantity * factor)
    return rf.Ecosystem(
        name=eco.name,
        actors=list(eco.actors),
        resources=list(eco.resources),
        offers=offers,
        needs=list(eco.needs),
        links=list(eco.links),
        virgin=list(eco.virgin),
    )


class _IgnoresStarts:
    """An engine that returns the do-nothing plan (feasible: virgin supply meets every
    need) and ignores any start: what a weak solver, or one that rejects a start, gives."""

    def solve(self, problem: MILP) -> Solution:
        import numpy as np

        nj = int(np.count_nonzero(problem.row_lower == problem.row_upper))  # the needs' rows
        x = np.zeros(problem.c.size)
        nk = problem.c.size - nj - int(problem.integer.sum())
        x[nk : nk + nj] = problem.upper[nk : nk + nj]
        objective = float(problem.c @ x)
        return Solution(x, objective, math.inf, -math.inf, "time limit", "weak")


@pytest.mark.parametrize("factor", [0.95, 1.05])
def test_replanning_starts_from_the_previous_plan_and_is_never_worse(factor: float) -> None:
    eco = fixed_cost_market(5, 7)
    before = ex.plan(eco)
    used = max(before.exchanges, key=lambda e: e.quantity).offer  # an offer the plan relies on
    changed = _with_offer_quantity(eco, used, factor)
    # the previous plan's links with today's quantities: what re-planning must at least reach
    kept, _ = ex.evaluate(changed, [(e.source, e.target, e.resource, e.quantity) for e in before.exchanges])
    still_feasible = sum(e.quantity for e in before.exchanges if e.offer == used) <= changed.offers[used].quantity
    for solver in (HighsSolver(), _IgnoresStarts()):
        after = ex.plan(changed, previous=before, solver=solver, presolve=False)
        assert after.warm_start
        if still_feasible:
            assert after.benefit >= kept.benefit - 1e-6 * abs(kept.benefit)
        else:  # at least the previous plan with the shrunk offer's exchanges scaled down to it
            lost = (1 - factor) * sum(e.benefit for e in kept.exchanges if e.offer == used)
            assert after.benefit >= kept.benefit - lost - 1e-6 * abs(kept.benefit)
    # from its JSON form too (what `match --previous` reads)
    as_json = {"exchanges": [e.to_dict() for e in before.exchanges], "benefit": before.benefit}
    assert ex.plan(changed, previous=as_json, solver=_IgnoresStarts(), presolve=False).benefit > 0
    changes = ex.diff(before, ex.plan(changed, previous=before))
    assert changes.benefit_before == pytest.approx(before.benefit)
    assert not changes.added or all(key not in _flows(before) for key in [a[:3] for a in changes.added])


def test_plan_diff_names_what_was_added_removed_and_changed() -> None:
    eco = park()
    before = ex.plan(eco)
    same = ex.diff(before, ex.plan(eco))
    assert same.same
    assert same.unchanged == len(before.exchanges)
    after = {
        "exchanges": [e.to_dict() for e in before.exchanges if e.resource != "water"]
        + [{"from": "x", "to": "y", "resource": "heat", "quantity": 3.0}],
        "benefit": 1.0,
    }
    after["exchanges"][0]["quantity"] *= 2
    changes = ex.diff(before, after)
    assert [a[:3] for a in changes.added] == [("x", "y", "heat")]
    assert [r[:3] for r in changes.removed] == [("refinery", "power", "water")]
    assert len(changes.changed) == 1
    assert changes.changed[0][4] == pytest.approx(2 * changes.changed[0][3])
    assert changes.unchanged == len(before.exchanges) - 2
    assert changes.to_dict()["removed"][0]["quantity"] == pytest.approx(500_000)
    with pytest.raises(ex.PlanError, match="'exchanges'"):
        ex.diff({"exchanges": [{"from": "a"}]}, before)


def test_every_plan_carries_its_proof() -> None:
    plan = ex.plan(park())
    info = plan.solve_info()
    assert info["status"] == "optimal"
    assert info["gap"] <= 1e-4
    assert info["bound"] >= info["primal"] - 1e-6 * abs(info["primal"])  # benefit is maximised
    assert info["primal"] == pytest.approx(plan.benefit, rel=1e-9)
    assert plan.describe().startswith("optimal (proven gap 0.00%")
    stopped = ex.describe_solve({"status": "time limit", "gap": 0.0123, "primal": 1e6, "bound": 1.0123e6})
    assert stopped.startswith("stopped at the time limit: proven gap 1.23%")
    assert "no proven gap" in ex.describe_solve({"status": "time limit", "gap": None})


def test_cli_match_shows_the_gap_and_what_changed(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["match", str(EXAMPLES / "park.yaml"), "--json"])
    data = json.loads(first.stdout)
    assert data["solve"]["status"] == "optimal"
    assert data["solve"]["gap"] <= 1e-4
    data["exchanges"] = [e for e in data["exchanges"] if e["resource"] != "water"]
    previous = tmp_path / "plan.json"
    previous.write_text(json.dumps(data))
    again = runner.invoke(app, ["match", str(EXAMPLES / "park.yaml"), "--previous", str(previous), "--json"])
    assert again.exit_code == 0, again.stdout
    assert json.loads(again.stdout)["changes"]["added"][0]["resource"] == "water"
    text = runner.invoke(app, ["match", str(EXAMPLES / "park.yaml"), "--previous", str(previous)])
    assert "optimal (proven gap" in text.stdout
    assert "added refinery -> power (water)" in text.stdout
    previous.write_text('{"plan": []}')
    bad = runner.invoke(app, ["match", str(EXAMPLES / "park.yaml"), "--previous", str(previous)])
    assert bad.exit_code == 2
    assert "expected an object with 'exchanges'" in bad.stdout + bad.stderr


def test_highs_starts_from_the_given_solution() -> None:
    """A start is passed to HiGHS (setSolution): stopped before it could search, HiGHS
    still answers with the start, where without one it has nothing to answer."""
    import dataclasses

    import numpy as np
    import scipy.sparse as sp

    from rainforest.optimize.solvers import SolverError

    rng = np.random.default_rng(0)
    value, weight = rng.uniform(1, 10, 60), rng.uniform(1, 10, 60)
    knapsack = MILP(
        -value,
        sp.csr_array(weight[None, :]),
        np.array([-math.inf]),
        np.array([weight.sum() / 3]),
        np.zeros(60),
        np.ones(60),
        np.ones(60, dtype=bool),
    )
    start = np.zeros(60)
    start[np.argsort(-value / weight)[:5]] = 1.0
    stopped = HighsSolver(time_limit_s=1e-9)
    answer = stopped.solve(dataclasses.replace(knapsack, start=start))
    assert answer.objective == pytest.approx(float(knapsack.c @ start))
    assert answer.status == "time limit"
    with pytest.raises(SolverError, match="no feasible solution"):
        stopped.solve(knapsack)


def test_a_second_thread_count_in_one_process_is_a_clear_error() -> None:
    """HiGHS keeps one thread pool per process: a solve asking for another number of
    threads than the first one is refused, and the error says why."""
    import subprocess
    import sys

    code = """
import numpy as np, scipy.sparse as sp
from rainforest.optimize.solvers import HighsSolver, MILP, SolverError
p = MILP(np.array([-1.0]), sp.csr_array(np.ones((1, 1))), np.array([0.0]), np.array([2.5]),
         np.array([0.0]), np.array([9.0]), np.array([True]))
print(HighsSolver(threads=1).solve(p).objective)
try:
    HighsSolver(threads=2).solve(p)
except SolverError as exc:
    print(exc)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    first, second = out.stdout.strip().splitlines()
    assert first == "-2.0"
    assert "its thread pool was started with another number" in second


def test_highs_reports_its_progress_and_the_bound_only_tightens() -> None:
    """``progress`` sees the branch-and-bound: the first finite bound is the LP
    relaxation's, the proven bound never loosens, and the last one is the answer's."""
    import dataclasses

    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(1)
    n = 40
    value, weight = rng.uniform(1, 10, n), rng.uniform(1, 10, n)
    weight2 = rng.uniform(1, 10, n)
    knapsack = MILP(
        -value,
        sp.csr_array(np.vstack([weight, weight2])),
        np.array([-math.inf, -math.inf]),
        np.array([weight.sum() / 3, weight2.sum() / 3]),
        np.zeros(n),
        np.ones(n),
        np.ones(n, dtype=bool),
    )
    seen: list[tuple[float, int, float, float]] = []
    answer = HighsSolver(gap=0.0, progress=lambda *args: seen.append(args)).solve(knapsack)
    bounds = [b for _, _, _, b in seen if math.isfinite(b)]
    assert bounds
    relaxed = HighsSolver().solve(dataclasses.replace(knapsack, integer=np.zeros(n, dtype=bool)))
    assert bounds[0] == pytest.approx(relaxed.objective, rel=1e-9)
    assert all(b1 >= b0 - 1e-9 * abs(b0) for b0, b1 in itertools.pairwise(bounds))
    assert bounds[-1] <= answer.bound + 1e-9 * abs(answer.bound)
    assert answer.status == "optimal"


@settings(max_examples=30, deadline=None)
@given(eco=markets())
def test_the_rows_links_must_pay_never_cut_off_the_best_plan(eco: rf.Ecosystem) -> None:
    """The rows "an open link pays for itself" keep the best benefit: HiGHS with them
    agrees with enumeration of every set of links without them (no reduction at all)."""
    if len(eco.links) > 10:
        return
    with_rows = ex.plan(eco, solver=HighsSolver(gap=1e-9))
    bare = ex.plan(eco, solver=EnumerationSolver(), presolve=False)
    assert with_rows.benefit == pytest.approx(bare.benefit, rel=1e-6, abs=1e-6)


def test_links_that_must_pay_do_in_the_best_plan_and_in_the_starts() -> None:
    """On a market solved to optimality, the rows are there and every link the plan
    builds earns its fixed cost; the plan is the one found without the rows; a warm start
    from a plan that built a losing link leaves that link out (never worse)."""
    eco = fixed_cost_market(7, 3)
    exact = HighsSolver(gap=1e-9)
    best = ex.plan(eco, solver=exact, must_pay=True)
    without = ex.plan(eco, solver=exact, must_pay=False)
    assert best.reductions["links_that_must_pay"] > 0
    assert without.reductions["links_that_must_pay"] == 0
    assert best.benefit == pytest.approx(without.benefit, rel=1e-9)
    links = list(eco.links)
    earned: dict[tuple[str, str], float] = {}
    for e in best.exchanges:
        earned[(e.source, e.target)] = earned.get((e.source, e.target), 0.0) + e.benefit
    for li in best.links_built:
        link = links[li]
        assert earned.get((link.source, link.target), 0.0) >= float(link.fixed_cost or 0.0) * (1 - 1e-9)
    # a previous plan with every link of the best plan plus a link that cannot pay here
    model = ex._model(eco, None, None)
    pays = ex._must_pay(model, None)
    assert pays.all()  # clean virgin supply, unbounded: every exchange is replaceable
    built = {(links[li].source, links[li].target) for li in best.links_built}
    extra = next(
        (link.source, link.target)
        for link in links
        if (link.source, link.target) not in built and any(e.source == link.source for e in best.exchanges)
    )
    previous = {
        "exchanges": [e.to_dict() for e in best.exchanges]
        + [{"from": extra[0], "to": extra[1], "resource": "slag", "quantity": 1.0}]
    }
    again = ex.plan(eco, solver=exact, previous=previous, must_pay=True)
    assert again.warm_start
    assert again.benefit >= best.benefit * (1 - 1e-9)
