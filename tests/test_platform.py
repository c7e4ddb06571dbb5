"""The platform analysis (rainforest.platform): reach, dependence, multi-homing, HHI,
entry barriers after Arthur (1989) and keystone losses, on hand-derived cases; Hypothesis
properties; the CLI's JSON; the report's section; documents without modules."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import rainforest as rf
from rainforest import simulate
from rainforest.analysis import platform
from rainforest.cli.app import app
from strategies import ecosystems

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "platform.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def example() -> platform.PlatformAnalysis:
    return platform.analyze(rf.load(EXAMPLE), preference_gap=300_000, returns_per_adopter=100_000)


# -- hand-derived numbers on docs/examples/platform.yaml ---------------------------------------------------
def test_reach_of_the_leading_provider(example: platform.PlatformAnalysis) -> None:
    """hub's two modules reach mill, brewery, bakery, dairy, cannery and printer: 6 of the
    12 actors = 0.5.

    Value added (revenue - costs, million EUR): hub 20, freight 3, cloud 3, mill 5, brewery 4,
    bakery 2, dairy 3, cannery 2, printer 1, plastics 2, foundry 3, quarry 2; total 50. The
    adopters make 5 + 4 + 2 + 3 + 2 + 1 = 17: 17 / 50 = 0.34.

    Throughflow (mass, input throughflow T_i = inflow from members + boundary inputs, t):
    mill 1000, brewery 200, bakery 600, dairy 100 + 400 = 500, cannery 300 + 50 = 350,
    printer 200, plastics 150, foundry 300, quarry 800, the three providers 0; TST = 4100.
    The adopters pass 1000 + 200 + 600 + 500 + 350 + 200 = 2850: 2850 / 4100.
    """
    hub = example.provider("hub")
    assert hub.adopters == ("mill", "brewery", "bakery", "dairy", "cannery", "printer")
    assert hub.modules == ("hub_logistics", "hub_data")
    assert hub.actors_share == 0.5
    assert hub.value_added_share == pytest.approx(0.34, rel=1e-12)
    assert hub.throughflow_share == pytest.approx(2850 / 4100, rel=1e-12)
    assert example.throughflow_currency == "mass"
    assert hub.reasons == {}
    # one module alone: hub_data reaches mill, brewery, dairy: 3/12, (5+4+3)/50, (1000+200+500)/4100
    data = example.module("hub_data")
    assert (data.actors_share, data.value_added_share) == (0.25, pytest.approx(12 / 50))
    assert data.throughflow_share == pytest.approx(1700 / 4100)


def test_dependence_of_an_adopter(example: platform.PlatformAnalysis) -> None:
    """printer adopts hub_logistics (value 2,000,000 EUR per adopter and year, capacity share
    0.3, switching cost 500,000): 2.0 / 5.0 million revenue = 0.4 of its revenue, 2.0 / 4.0
    million costs = 0.5 of its inputs; 30% of its output stops without the module."""
    row = next(a for a in example.adoptions if a.module == "hub_logistics" and a.adopter == "printer")
    assert row.revenue_share == pytest.approx(0.4)
    assert row.input_share == pytest.approx(0.5)
    assert row.capacity_share == 0.3
    assert row.switching_cost == 500_000
    assert not row.multi_homing
    unknown = next(a for a in example.adoptions if a.module == "cloud_data" and a.adopter == "bakery")
    assert unknown.switching_cost is None
    assert "no switching_cost for module cloud_data" in unknown.reasons["switching_cost"]


def test_multi_homing_and_concentration(example: platform.PlatformAnalysis) -> None:
    """Logistics: hub has 6 adopters, freight 2 (cannery uses both): shares 6/8 and 2/8,
    HHI = 0.75^2 + 0.25^2 = 0.625 = 6,250 points; 1 of the kind's 7 adopters multi-homes.
    Data: cloud 4 (bakery, printer, foundry, dairy), hub 3 (mill, brewery, dairy): HHI =
    (16 + 9) / 49 = 25/49; dairy multi-homes, 1 of 6. Both above 1,800: highly concentrated
    (2023 Guidelines), and above 2,500 (2010)."""
    logistics = example.kind("logistics")
    assert logistics.adopters == {"hub": 6, "freight": 2}
    assert logistics.shares == {"hub": 0.75, "freight": 0.25}
    assert logistics.hhi == pytest.approx(0.625)
    assert logistics.hhi_points == pytest.approx(6250)
    assert logistics.band == "highly concentrated"
    assert logistics.multi_homing == {"cannery": ("hub", "freight")}
    assert logistics.multi_homing_share == pytest.approx(1 / 7)
    data = example.kind("data")
    assert data.hhi == pytest.approx(25 / 49)
    assert data.multi_homing == {"dairy": ("hub", "cloud")}
    assert data.multi_homing_share == pytest.approx(1 / 6)
    cannery = [a for a in example.adoptions if a.adopter == "cannery"]
    assert all(a.multi_homing for a in cannery)
    older = platform.analyze(rf.load(EXAMPLE), guidelines="2010-horizontal", cascade=False)
    assert older.kind("logistics").band == "highly concentrated"


def test_entry_barriers_after_arthur(example: platform.PlatformAnalysis) -> None:
    """Logistics: leader hub (6 adopters), runner-up freight (2), lead 4. Its adopters would
    pay 6 x 500,000 = 3,000,000 EUR to leave. Open pool (no logistics module, no logistics
    provider): cloud, foundry, quarry = 3 < 6. Luring hub's adopters only takes
    ceil((6 - 3) / 2) = 2 of them (3 + 2 = 5 >= 6 - 2 = 4): 2 x 500,000 = 1,000,000 EUR;
    cheaper is one of hub's (500,000) plus plastics, freight's adopter only (200,000):
    3 + 1 + 1 = 5 >= 6 - 1 = 5, for 700,000 EUR (k = 0 needs 3 rivals' adopters, and
    freight has one). Arthur's lock-in
    lead g / r = 300,000 / 100,000 = 3 adopters: the lead of 4 exceeds it (locked in), and a
    newcomer (6 behind) is locked out.

    Data: leader cloud (4), hub 3, lead 1 < 3: not locked in; cloud_data gives no switching
    cost, so the base's switching cost is n/a; the open pool (freight, cannery, plastics,
    quarry) already matches the leader: cost 0, nobody lured."""
    b = example.kind("logistics").barrier
    assert b is not None
    assert (b.leader, b.installed_base, b.runner_up, b.lead) == ("hub", 6, "freight", 4)
    assert b.switching_cost_total == 3_000_000
    assert b.open_pool == ("cloud", "foundry", "quarry")
    assert (b.lured_to_match, b.won_from_rivals, b.cost_to_match) == (1, 1, 700_000)
    assert b.lock_in_lead == 3.0
    assert b.locked_in is True
    assert b.newcomer_locked_out is True
    d = example.kind("data").barrier
    assert d is not None
    assert (d.leader, d.installed_base, d.lead) == ("cloud", 4, 1)
    assert d.switching_cost_total is None
    assert "no switching_cost for cloud_data" in d.reasons["switching_cost_total"]
    assert (d.lured_to_match, d.won_from_rivals, d.cost_to_match) == (0, 0, 0.0)
    assert d.locked_in is False
    assert d.newcomer_locked_out is True


def test_lock_in_lead_needs_both_parameters() -> None:
    """Without g and r the lead is n/a, with the reason; one of them alone is an error."""
    p = platform.analyze(rf.load(EXAMPLE), cascade=False)
    b = p.kind("logistics").barrier
    assert b is not None
    assert b.lock_in_lead is None
    assert b.locked_in is None
    assert "preference_gap=" in b.reasons["lock_in_lead"]
    with pytest.raises(rf.ParameterError, match="'returns_per_adopter' parameter"):
        platform.analyze(rf.load(EXAMPLE), preference_gap=1.0)
    with pytest.raises(rf.ParameterError, match="must be a positive number"):
        platform.lock_in_lead(1.0, 0.0)
    with pytest.raises(rf.ParameterError, match="'guidelines' parameter"):
        platform.analyze(rf.load(EXAMPLE), guidelines="1992")  # type: ignore[arg-type]


def test_direct_keystone_losses(example: platform.PlatformAnalysis) -> None:
    """hub fails: it stops (50 million) and both modules go; an adopter loses the sum of
    the capacity shares it uses (at most 1): mill and brewery and dairy 0.3 + 0.1 = 0.4,
    bakery, cannery, printer 0.3. 50 + 0.4 (20 + 10 + 12) + 0.3 (8 + 10 + 5) = 73.7 million;
    total output 152 million. hub withdraws hub_logistics: 0.3 x 65 million = 19.5 million."""
    fails = example.loss("hub")
    assert fails.direct_loss == pytest.approx(73_700_000)
    assert fails.direct_share == pytest.approx(73.7 / 152)
    withdraws = example.loss("hub", "hub_logistics")
    assert withdraws.direct_loss == pytest.approx(19_500_000)
    assert withdraws.adopters_hit == ("mill", "brewery", "bakery", "dairy", "cannery", "printer")
    assert withdraws.scenario == "withdraws hub_logistics"
    for k in example.keystone:  # the cascade adds to the first round, never takes from it
        assert k.cascade_loss is not None
        assert k.direct_loss is not None
        assert k.cascade_loss >= k.direct_loss - 1e-6
        assert k.layers == ("supply", "byproducts", "platform")
    with pytest.raises(rf.UnknownIdError):
        example.loss("hub", "cloud_data")


def _chain(capacity: float | None = 0.5) -> rf.Ecosystem:
    """p provides module m to a (output 10) and b (20); a provides module n to c (40).
    Every actor gives revenue and costs; there are no flows (no supply or by-product
    layer), so the failure travels through the platform layer alone."""
    sizes = {"p": 40.0, "a": 10.0, "b": 20.0, "c": 40.0}
    return rf.Ecosystem(
        name="chain",
        actors=[rf.Actor(a, size=rf.Size(revenue=x, costs=x / 2)) for a, x in sizes.items()],
        resources=[rf.Resource("goods", "material", "t")],
        modules=[
            rf.Module("m", "p", kind="technology", adopters=("a", "b"), capacity_share=capacity),
            rf.Module("n", "a", kind="data", adopters=("c",), capacity_share=0.5),
        ],
    )


def test_the_cascade_follows_modules_of_adopters() -> None:
    """p fails: a and b lose capacity share 0.5 of m (direct: 40 + 0.5 (10 + 20) = 55 of the
    ecosystem's 110). a, half stopped, provides module n at level 1 - 0.5, so its adopter c
    loses 0.5 x 0.5 = 0.25 of 40 = 10 more: 65 through the layers (rule L3 of
    rainforest.analysis.layers). The supply layer is left out (no money flows), said in a
    note."""
    p = platform.analyze(_chain())
    fails = p.loss("p")
    assert fails.direct_loss == pytest.approx(55.0)
    assert fails.direct_share == pytest.approx(55 / 110)
    assert fails.cascade_loss == pytest.approx(65.0)
    assert fails.cascade_share == pytest.approx(65 / 110)
    assert fails.layers == ("byproducts", "platform")
    assert fails.by_layer["platform"] == pytest.approx((0.5 * 30 + 10) / 110)
    assert any("leaves out the supply layer" in n for n in p.notes)
    withdrawn = p.loss("p", "m")  # p keeps producing
    assert withdrawn.direct_loss == pytest.approx(15.0)
    assert withdrawn.cascade_loss == pytest.approx(25.0)
    # value added: revenue - costs = half of each output; no throughflow without flows
    assert p.provider("p").value_added_share == pytest.approx(30 / 110)
    assert p.provider("p").throughflow_share is None
    assert "no flows" in p.provider("p").reasons["throughflow_share"]


def test_an_unknown_capacity_share_gives_bounds_not_a_number() -> None:
    """m without capacity_share: the direct loss is n/a; the cascade runs with it at 0 (p's
    own 40 of 110) and at 1 (40 + 30 + c's 0.5 x 40 = 90): n/a, with those bounds."""
    p = platform.analyze(_chain(capacity=None))
    fails = p.loss("p")
    assert fails.direct_loss is None
    assert "no capacity_share for m" in fails.reasons["direct_loss"]
    assert fails.cascade_loss is None
    assert fails.cascade_bounds == (pytest.approx(40 / 110), pytest.approx(90 / 110))
    assert "has no capacity_share" in fails.reasons["cascade_loss"]


def test_what_the_document_does_not_give_is_na_with_a_reason() -> None:
    """No revenue for one actor: value-added shares and keystone shares are n/a (never 0),
    naming the actor; a module's value above the adopter's revenue is an inconsistency; a
    provider listing itself is in-house use; a module without a kind has no rivals."""
    eco = rf.Ecosystem(
        name="gaps",
        actors=[
            rf.Actor("p", size=rf.Size(revenue=100.0, costs=50.0)),
            rf.Actor("a", size=rf.Size(revenue=10.0, costs=5.0)),
            rf.Actor("b"),
        ],
        resources=[rf.Resource("goods", "material", "t")],
        modules=[
            rf.Module("m", "p", kind="logistics", adopters=("a", "b", "p"), value_per_adopter=20.0, capacity_share=0.1),
            rf.Module("k", "p", adopters=("a",), capacity_share=0.2),
        ],
    )
    p = platform.analyze(eco)
    reach = p.provider("p")
    assert reach.adopters == ("a", "b")
    assert reach.value_added_share is None
    assert "1 of 3 actors (b)" in reach.reasons["value_added_share"]
    a = next(x for x in p.adoptions if x.module == "m" and x.adopter == "a")
    assert a.revenue_share is None
    assert "exceeds a's output" in a.reasons["revenue_share"]
    b = next(x for x in p.adoptions if x.module == "m" and x.adopter == "b")
    assert b.revenue_share is None
    assert "b's output is not known" in b.reasons["revenue_share"]
    fails = p.loss("p")
    assert fails.direct_loss is None
    assert "output of b is not known" in fails.reasons["direct_loss"]
    assert any("in-house use" in n for n in p.notes)
    assert any("without a kind" in n for n in p.notes)
    assert [k.kind for k in p.kinds] == ["logistics"]


def test_hhi_reproduces_the_textbook_example() -> None:
    """The US DOJ's example (Herfindahl-Hirschman Index, justice.gov/atr): four firms with
    30, 30, 20 and 20 percent: 900 + 900 + 400 + 400 = 2,600 points, highly concentrated
    under the 2010 Guidelines (above 2,500) and the 2023 ones (above 1,800)."""
    assert platform.hhi([30, 30, 20, 20]) * 10_000 == pytest.approx(2600)
    assert platform.hhi_band(2600, "2010-horizontal") == "highly concentrated"
    assert platform.hhi_band(2600, "2023-merger") == "highly concentrated"
    # the band limits themselves: 2023 "greater than 1,800"; 2010 "below 1,500",
    # "between 1,500 and 2,500" moderately, above 2,500 highly
    assert platform.hhi_band(1800) == "not highly concentrated"
    assert platform.hhi_band(1800.5) == "highly concentrated"
    assert platform.hhi_band(1499.9, "2010-horizontal") == "unconcentrated"
    assert platform.hhi_band(1500, "2010-horizontal") == "moderately concentrated"
    assert platform.hhi_band(2500, "2010-horizontal") == "moderately concentrated"
    assert platform.hhi_band(2500.1, "2010-horizontal") == "highly concentrated"
    assert platform.hhi([1]) == 1.0
    with pytest.raises(rf.ParameterError, match="'shares' parameter"):
        platform.hhi([])


# -- properties ---------------------------------------------------------------------------------------------
@st.composite
def platform_documents(draw: st.DrawFn) -> rf.Ecosystem:
    """Actors with revenue and costs, 1-5 modules of 1-3 kinds with adopters, values,
    switching costs and capacity shares (each sometimes missing)."""
    n = draw(st.integers(2, 9))
    ids = [f"a{i}" for i in range(n)]
    money = st.floats(1.0, 1e6, allow_nan=False)
    actors = []
    for a in ids:
        revenue = draw(money)
        actors.append(rf.Actor(a, size=rf.Size(revenue=revenue, costs=revenue * draw(st.floats(0.1, 1.2)))))
    modules = []
    for m in range(draw(st.integers(1, 5))):
        modules.append(
            rf.Module(
                f"m{m}",
                draw(st.sampled_from(ids)),
                kind=draw(st.sampled_from(["logistics", "data", "finance"])),
                adopters=tuple(draw(st.lists(st.sampled_from(ids), max_size=n, unique=True))),
                value_per_adopter=draw(st.one_of(st.none(), st.floats(0.0, 1e5))),
                switching_cost=draw(st.one_of(st.none(), st.floats(0.0, 1e5))),
                capacity_share=draw(st.one_of(st.none(), st.floats(0.0, 1.0))),
            )
        )
    flows = [rf.Flow("world", a, "goods", quantity=draw(st.floats(0.0, 100.0))) for a in ids]
    return rf.Ecosystem(
        name="p", actors=actors, resources=[rf.Resource("goods", "material", "t")], flows=flows, modules=modules
    )


def _shares(p: platform.PlatformAnalysis) -> list[float | None]:
    out: list[float | None] = []
    for r in (*p.providers, *p.modules):
        out += [r.actors_share, r.value_added_share, r.throughflow_share]
    for a in p.adoptions:
        out += [a.revenue_share, a.input_share, a.capacity_share]
    for k in p.kinds:
        out += [k.hhi, k.multi_homing_share, *k.shares.values()]
    for s in p.keystone:
        out += [s.direct_share, s.cascade_share, *(s.cascade_bounds or ()), *s.by_layer.values()]
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(platform_documents())
def test_every_share_is_in_zero_one_and_hhi_in_its_bounds(eco: rf.Ecosystem) -> None:
    """Shares lie in [0, 1] (or are None); a kind's HHI lies in [1/n, 1] with n its
    providers with adopters; a newcomer's cost to match never exceeds the base's switching
    cost; the cascade loses at least the direct loss."""
    p = platform.analyze(eco)
    for s in _shares(p):
        assert s is None or -1e-12 <= s <= 1 + 1e-12
    for k in p.kinds:
        if k.hhi is None:
            assert not any(k.adopters.values())
            continue
        providers = sum(1 for c in k.adopters.values() if c)
        assert 1 / providers - 1e-12 <= k.hhi <= 1 + 1e-12
        assert math.isclose(sum(k.shares.values()), 1.0)
        b = k.barrier
        assert b is not None
        if b.cost_to_match is not None and b.switching_cost_total is not None:
            assert b.cost_to_match <= b.switching_cost_total + 1e-6
    for s in p.keystone:
        if s.direct_loss is not None and s.cascade_loss is not None:
            assert s.cascade_loss >= s.direct_loss - 1e-6 * max(1.0, s.direct_loss)


@settings(max_examples=25, deadline=None)
@given(platform_documents(), st.floats(0.01, 1000.0))
def test_money_scale_leaves_shares_and_scales_costs(eco: rf.Ecosystem, k: float) -> None:
    """Every money figure times k (revenue, costs, module value, switching cost): the shares
    do not change; the switching costs and direct losses scale by k."""
    scaled = rf.Ecosystem(
        name=eco.name,
        actors=[
            rf.Actor(a.id, size=rf.Size(revenue=a.size.revenue * k, costs=a.size.costs * k))  # type: ignore[union-attr,operator]
            for a in eco.actors
        ],
        resources=list(eco.resources),
        flows=list(eco.flows),
        modules=[
            rf.Module(
                m.id,
                m.provider,
                kind=m.kind,
                adopters=m.adopters,
                value_per_adopter=None if m.value_per_adopter is None else m.value_per_adopter * k,
                switching_cost=None if m.switching_cost is None else m.switching_cost * k,
                capacity_share=m.capacity_share,
            )
            for m in eco.modules
        ],
    )
    a, b = platform.analyze(eco, cascade=False), platform.analyze(scaled, cascade=False)
    for x, y in zip(_shares(a), _shares(b), strict=True):
        assert (x is None) == (y is None)
        if x is not None and y is not None:
            assert y == pytest.approx(x, rel=1e-9, abs=1e-12)
    for ka, kb in zip(a.kinds, b.kinds, strict=True):
        if ka.barrier and kb.barrier and ka.barrier.switching_cost_total is not None:
            assert kb.barrier.switching_cost_total == pytest.approx(k * ka.barrier.switching_cost_total, rel=1e-9)
    for sa, sb in zip(a.keystone, b.keystone, strict=True):
        if sa.direct_loss is not None:
            assert sb.direct_loss == pytest.approx(k * sa.direct_loss, rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(platform_documents(), st.randoms(use_true_random=False))
def test_the_order_of_modules_does_not_change_a_kind(eco: rf.Ecosystem, rnd: object) -> None:
    """Concentration and multi-homing do not depend on the order the document lists
    modules in."""
    modules = list(eco.modules)
    rnd.shuffle(modules)  # type: ignore[attr-defined]
    shuffled = rf.Ecosystem(
        name=eco.name, actors=list(eco.actors), resources=list(eco.resources), flows=list(eco.flows), modules=modules
    )
    a = {k.kind: k for k in platform.analyze(eco, cascade=False).kinds}
    b = {k.kind: k for k in platform.analyze(shuffled, cascade=False).kinds}
    assert set(a) == set(b)
    for kind, first in a.items():
        again = b[kind]
        assert first.adopters == again.adopters
        assert first.hhi == pytest.approx(again.hhi) if first.hhi is not None else again.hhi is None
        assert set(first.multi_homing) == set(again.multi_homing)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ecosystems())
def test_any_valid_document_is_analysed_or_refused_clearly(eco: rf.Ecosystem) -> None:
    """Every document the format allows: an analysis whose JSON is plain data, or a
    library error (never a crash)."""
    try:
        p = platform.analyze(eco)
    except rf.RainforestError:
        return
    json.dumps(p.to_dict(), allow_nan=False)
    for s in _shares(p):
        assert s is None or -1e-12 <= s <= 1 + 1e-12
    for part in ("reach", "adoptions", "kinds", "keystone"):
        p.to_frame(part)  # type: ignore[arg-type]


# -- results, shells, report -------------------------------------------------------------------------------
def test_frames_and_dict(example: platform.PlatformAnalysis) -> None:
    reach = example.to_frame()
    assert reach.loc[("provider", "hub"), "actors_share"] == 0.5
    assert math.isnan(example.to_frame("kinds").loc["data", "switching_cost_total"])
    assert len(example.to_frame("adoptions")) == 15
    assert len(example.to_frame("keystone")) == 7
    with pytest.raises(rf.ParameterError, match="'part' parameter"):
        example.to_frame("providers")  # type: ignore[arg-type]
    data = example.to_dict()
    json.dumps(data, allow_nan=False)
    assert data["kinds"]["data"]["barrier"]["switching_cost_total"] is None


def test_cli_json_keys() -> None:
    result = runner.invoke(app, ["platform", str(EXAMPLE), "--json", "--preference-gap", "3e5", "--returns", "1e5"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {
        "actors",
        "money",
        "period",
        "throughflow_currency",
        "parameters",
        "providers",
        "modules",
        "adoptions",
        "kinds",
        "keystone",
        "notes",
    }
    assert set(data["providers"]["hub"]) >= {"adopters", "actors_share", "value_added_share", "throughflow_share"}
    assert data["kinds"]["logistics"]["hhi_points"] == pytest.approx(6250)
    assert data["kinds"]["logistics"]["barrier"]["locked_in"] is True
    assert {"direct_loss", "cascade_loss", "by_layer", "scenario"} <= set(data["keystone"][0])
    assert data["money"] == "EUR"
    direct = runner.invoke(app, ["platform", str(EXAMPLE), "--json", "--no-cascade"])
    first = json.loads(direct.stdout)["keystone"][0]
    assert first["cascade_loss"] is None
    assert first["reasons"]["cascade_loss"] == "the cross-layer cascade was not asked for"
    assert first["direct_loss"] == pytest.approx(73_700_000)


def test_cli_table_and_refusals() -> None:
    result = runner.invoke(app, ["platform", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "hub" in result.stdout
    assert "highly concentrated" in result.stdout
    assert "give --preference-gap and --returns" in result.stdout
    one = runner.invoke(app, ["platform", str(EXAMPLE), "--returns", "5"])
    assert one.exit_code == 2
    assert "give both --preference-gap and --returns" in one.output
    bad = runner.invoke(app, ["platform", str(EXAMPLE), "--guidelines", "1997"])
    assert bad.exit_code == 2
    assert "'2023-merger' or '2010-horizontal'. Got '1997' instead." in bad.output


def test_a_document_without_modules() -> None:
    """No modules: the CLI says there is no platform pathway (exit 1, no traceback), the
    library returns an empty analysis with that note, assess() an Unavailable, and the
    report has no platform section."""
    park = ROOT / "docs" / "examples" / "park.yaml"
    result = runner.invoke(app, ["platform", str(park)])
    assert result.exit_code == 1
    assert "no platform pathway" in result.output
    assert "Traceback" not in result.output
    as_json = runner.invoke(app, ["platform", str(park), "--json"])
    assert json.loads(as_json.stdout)["error"].startswith("no platform pathway")
    eco = rf.datasets.kalundborg()
    empty = platform.analyze(eco)
    assert empty.providers == ()
    assert empty.kinds == ()
    assert empty.keystone == ()
    assert "no modules" in empty.notes[0]
    a = rf.assess(eco, risk=False, plan=False, cluster=False)
    assert isinstance(a.platform, rf.Unavailable)
    assert "no platform pathway" in a.platform.reason
    assert a.to_dict()["platform"]["available"] is False
    r = rf.report.health_report(a)
    assert "platform" not in [s.id for s in r.sections]


def test_report_has_a_platform_section() -> None:
    a = rf.assess(rf.load(EXAMPLE), plan=False)
    assert isinstance(a.platform, platform.PlatformAnalysis)
    r = rf.report.health_report(a)
    s = r.section("platform")
    assert s.available
    assert [f.id for f in s.figures] == ["platform-keystone", "platform-hhi"]
    reach = s.tables[0]
    assert reach.rows[0][:4] == ("hub", "hub_logistics, hub_data", "6", "50.0%")
    kinds = s.tables[1]
    assert kinds.rows[0][2] == "6,250"
    assert "highly concentrated" in kinds.rows[0][3]
    assert any("switching cost of module cloud_data" in u["what"] for u in r.section("unknowns").data["unknowns"])
    html = r.to_html()
    assert 'id="platform"' in html
    assert "Platform: module providers" in html
    # the figure's data: one bar per scenario, direct and through the layers
    spec = s.figures[0].spec
    assert len(spec["data"][0]["y"]) == len(a.platform.keystone)
    assert spec["data"][1]["x"][-1] == pytest.approx(100 * a.platform.keystone[0].cascade_share)


def test_the_platform_section_in_a_browser(browser: Any, tmp_path: Path) -> None:
    """The report of docs/examples/platform.yaml at 1280 px in headless Chromium: the
    Platform section is in the table of contents, both figures are drawn (the keystone
    chart with one bar per scenario and kind of loss), no console error, and the reach
    table shows what the analysis computed."""
    r = rf.report.health_report(rf.load(EXAMPLE), plan=False)
    path = r.save(tmp_path / "platform.html")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(path.as_uri())
        page.wait_for_function("document.querySelectorAll('#platform div.figure .main-svg').length >= 2")
        assert problems == []
        assert page.locator("nav.toc a[href='#platform']").count() == 1
        bars = page.evaluate("document.querySelectorAll('#fig-platform-keystone .bars .point').length")
        assert bars == 2 * len(r.section("platform").data["keystone"])
        first = page.locator("#platform table").first.locator("tbody tr").first.inner_text().split("\t")
        assert first[:4] == ["hub", "hub_logistics, hub_data", "6", "50.0%"]
    finally:
        page.close()


def test_accounts_from_the_money_layer_where_sizes_are_not_given() -> None:
    """a and b give no size; the money layer records their trade with world, so (the
    cascade's rule) output = sales to members and to world, inputs = purchases from members
    and from world. a: output 20 + 100 = 120, inputs 0 + 60 = 60, value added 60. b: output
    50, inputs 20 + 10 = 30, value added 20. p gives 200 and 100: value added 100. a's share
    of value added 60 / 180 = 1/3. No physical flows: throughflow in money, T = inflow from
    members + from world: a 60, b 30, p 0; a's share 60 / 90 = 2/3. The module's 12 per year
    is 12 / 120 = 0.1 of a's revenue and 12 / 60 = 0.2 of its inputs."""
    eco = rf.Ecosystem(
        name="accounts",
        actors=[rf.Actor("p", size=rf.Size(revenue=200.0, costs=100.0)), rf.Actor("a"), rf.Actor("b")],
        resources=[rf.Resource("eur", "money", "EUR")],
        flows=[
            rf.Flow("a", "world", "eur", 100.0),
            rf.Flow("world", "a", "eur", 60.0),
            rf.Flow("a", "b", "eur", 20.0),
            rf.Flow("b", "world", "eur", 50.0),
            rf.Flow("world", "b", "eur", 10.0),
        ],
        modules=[rf.Module("m", "p", kind="finance", adopters=("a",), value_per_adopter=12.0, capacity_share=0.5)],
    )
    p = platform.analyze(eco)
    reach = p.provider("p")
    assert reach.value_added_share == pytest.approx(1 / 3)
    assert p.throughflow_currency == "money"
    assert reach.throughflow_share == pytest.approx(2 / 3)
    a = p.adoptions[0]
    assert (a.revenue_share, a.input_share) == (pytest.approx(0.1), pytest.approx(0.2))
    # withdrawn, m stops half of a's output of 120: 60 of the ecosystem's 370
    assert p.loss("p", "m").direct_loss == pytest.approx(60.0)
    assert p.loss("p", "m").direct_share == pytest.approx(60 / 370)
    # throughflow in another layer on request; none recorded in mass
    with pytest.raises(rf.ParameterError, match="'currency' parameter"):
        platform.analyze(eco, currency="massa")  # type: ignore[arg-type]
    mass = platform.analyze(eco, currency="mass", cascade=False)
    assert mass.provider("p").throughflow_share is None
    assert "no mass layer" in mass.provider("p").reasons["throughflow_share"]


def test_a_tie_for_the_lead_is_said() -> None:
    """Two providers with two adopters each: HHI 0.5 (5,000 points), the first listed
    leads, a note says there was a tie, the lead is 0."""
    eco = rf.Ecosystem(
        name="tie",
        actors=[rf.Actor(a) for a in ("p", "q", "a", "b", "c", "d")],
        resources=[rf.Resource("goods", "material", "t")],
        modules=[
            rf.Module("x", "p", kind="data", adopters=("a", "b")),
            rf.Module("y", "q", kind="data", adopters=("c", "d")),
        ],
    )
    p = platform.analyze(eco, cascade=False)
    data = p.kind("data")
    assert data.hhi_points == pytest.approx(5000)
    assert data.barrier is not None
    assert (data.barrier.leader, data.barrier.lead) == ("p", 0)
    assert any("as many adopters" in n for n in p.notes)
    assert data.barrier.open_pool == ()
    # the open pool is empty: the newcomer lures ceil(2 / 2) = 1 adopter, whose switching
    # cost the document does not give
    assert data.barrier.lured_to_match == 1
    assert data.barrier.cost_to_match is None


def test_compare_sets_platforms_side_by_side() -> None:
    """The comparison gains three platform indicators. The example: widest reach 6/12,
    highest HHI 6,250 (logistics), hub's failure costs 50.1% of output through the layers.
    The chain (_chain): p reaches a and b of 4 actors (0.5); each kind has one provider
    (HHI 10,000); p's failure costs 65/110. Lower concentration and loss lead."""
    c = rf.report.compare([rf.load(EXAMPLE), _chain()], risk=False, plan=False)
    rows = {i["key"]: i for i in c.indicators if i["key"].startswith("platform_")}
    assert rows["platform_reach"]["values"] == [0.5, 0.5]
    assert rows["platform_hhi"]["values"] == [pytest.approx(6250), pytest.approx(10_000)]
    assert rows["platform_hhi"]["leader"] == rows["platform_loss"]["leader"] == c.reports[0].ecosystem
    assert rows["platform_loss"]["values"][1] == pytest.approx(65 / 110)
    assert rows["platform_loss"]["display"][1] == "59.1%"


@given(st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=1, max_size=12).filter(lambda s: sum(s) > 1e-6))
def test_hhi_properties(shares: list[float]) -> None:
    """HHI lies in [1/n, 1] over the n positive shares, does not depend on their order or
    scale, and equals 1/n for n equal shares."""
    value = platform.hhi(shares)
    positive = sum(1 for s in shares if s > 0)
    assert 1 / positive - 1e-9 <= value <= 1 + 1e-12
    assert platform.hhi(list(reversed(shares))) == pytest.approx(value)
    assert platform.hhi([7.5 * s for s in shares]) == pytest.approx(value)
    assert platform.hhi([1.0] * len(shares)) == pytest.approx(1 / len(shares))


def test_cli_modules_without_adopters_and_losses_known_only_within_bounds(tmp_path: Path) -> None:
    """A module nobody adopts yet: no HHI (why is printed), no barrier, no dependence rows,
    each said in one line; withdrawing it costs nothing (nobody uses it: a true 0), the
    provider's failure its own output. The chain without m's capacity share: the loss
    through the layers is printed as its bounds, 40/110 and 90/110."""
    lone = rf.Ecosystem(
        name="lone",
        actors=[
            rf.Actor("p", size=rf.Size(revenue=10.0, costs=5.0)),
            rf.Actor("a", size=rf.Size(revenue=4.0, costs=2.0)),
        ],
        resources=[rf.Resource("goods", "material", "t")],
        modules=[rf.Module("m", "p", kind="data")],
    )
    p = platform.analyze(lone)
    assert p.kind("data").hhi is None
    assert p.kind("data").barrier is None
    assert p.loss("p", "m").direct_loss == 0.0
    assert p.loss("p").direct_share == pytest.approx(10 / 14)
    path = rf.save(lone, tmp_path / "lone.yaml")
    result = runner.invoke(app, ["platform", str(path)])
    assert result.exit_code == 0, result.output
    assert "none: no module kind has an adopter yet" in result.stdout
    assert "no module has an adopter yet" in result.stdout
    assert "n/a hhi: no actor adopts a module of kind 'data'" in result.stdout
    chain = rf.save(_chain(capacity=None), tmp_path / "chain.yaml")
    bounded = runner.invoke(app, ["platform", str(chain)])
    assert "through the layers n/a (between 36% and 82% of the ecosystem's output)" in bounded.stdout


def test_cost_to_match_wins_cheap_rivals_adopters_first() -> None:
    """Leader ll has 5 adopters at 100 each; rival rr has 4 at switching cost 0; no open
    pool. Luring ll's adopters only: ceil(5 / 2) = 3 x 100 = 300. Cheapest: 1 of ll's
    (100) and 3 of rr's (0): the newcomer has 4, ll keeps 4, for 100. With rr's
    switching cost unknown the least cost is not known (it could be that 100 or less):
    n/a, with the bound in the reason."""

    def doc(rival_cost: float | None) -> rf.Ecosystem:
        xs = [f"x{i}" for i in range(9)]
        return rf.Ecosystem(
            name="rivals",
            actors=[rf.Actor(a) for a in ("ll", "rr", *xs)],
            resources=[rf.Resource("goods", "material", "t")],
            modules=[
                rf.Module("ml", "ll", kind="data", adopters=tuple(xs[:5]), switching_cost=100.0),
                rf.Module("mr", "rr", kind="data", adopters=tuple(xs[5:]), switching_cost=rival_cost),
            ],
        )

    b = platform.analyze(doc(0.0), cascade=False).kind("data").barrier
    assert b is not None
    assert (b.lured_to_match, b.won_from_rivals, b.cost_to_match) == (1, 3, 100.0)
    assert b.cost_to_match < b.switching_cost_total  # 500
    unknown = platform.analyze(doc(None), cascade=False).kind("data").barrier
    assert unknown is not None
    assert unknown.cost_to_match is None
    assert "no switching_cost for mr" in unknown.reasons["cost_to_match"]
    assert "at most 300" in unknown.reasons["cost_to_match"]
    dear = platform.analyze(doc(1_000.0), cascade=False).kind("data").barrier
    assert dear is not None
    assert (dear.lured_to_match, dear.won_from_rivals, dear.cost_to_match) == (3, 0, 300.0)


def test_in_house_use_is_left_out_of_the_cascade_too() -> None:
    """p (revenue 10) lists itself as adopter of its own module m (capacity share 1), with
    a (revenue 10) the only other adopter. In-house use is not dependence: withdrawing m
    stops a's output (10 of 20: 50%), not p's, both directly and through the layers (before
    the fix the cascade stopped p too: 100%). If p fails: its 10 and a's 10, all 20."""
    eco = rf.Ecosystem(
        name="in-house",
        actors=[rf.Actor(x, size=rf.Size(revenue=10.0, costs=5.0)) for x in ("p", "a")],
        resources=[rf.Resource("goods", "material", "t")],
        modules=[rf.Module("m", "p", kind="data", adopters=("p", "a"), capacity_share=1.0, value_per_adopter=1.0)],
    )
    result = platform.analyze(eco)
    withdrawn = result.loss("p", "m")
    assert withdrawn.adopters_hit == ("a",)
    assert (withdrawn.direct_loss, withdrawn.direct_share) == (10.0, 0.5)
    assert (withdrawn.cascade_loss, withdrawn.cascade_share) == (pytest.approx(10.0), pytest.approx(0.5))
    assert withdrawn.cascade_cost == pytest.approx(1.0)  # a's module value, not p's own
    fails = result.loss("p")
    assert (fails.direct_loss, fails.cascade_loss) == (20.0, pytest.approx(20.0))


def test_an_unknown_cascade_cost_claims_no_bounds() -> None:
    """A module without value_per_adopter leaves the cascade's extra cost unknown; the
    reason says so and does not point at bounds that only the loss has."""
    eco = rf.Ecosystem(
        name="no value",
        actors=[rf.Actor(x, size=rf.Size(revenue=10.0, costs=5.0)) for x in ("p", "a")],
        resources=[rf.Resource("goods", "material", "t")],
        modules=[rf.Module("m", "p", kind="data", adopters=("a",), capacity_share=0.5)],
    )
    k = platform.analyze(eco).loss("p", "m")
    assert k.cascade_cost is None
    assert "extra cost is not known" in k.reasons["cascade_cost"]
    assert "bounds" not in k.reasons["cascade_cost"]
    assert k.cascade_loss == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("a_s", "gap", "returns"),
    # the last case has an exact integer lead (0.5 / 0.25 = 2): a tie is not lock-in, so 3
    [(0.8, 0.25, 0.1), (0.8, 0.27, 0.05), (0.8, 0.05, 0.1), (0.8, 0.0, 0.1), (0.5, 0.5, 0.25)],
)
def test_lock_in_lead_agrees_with_the_simulators_arthur_process(a_s: float, gap: float, returns: float) -> None:
    """The platform analysis's ``lead > g / r`` is the simulator's absorbing barrier:
    with every arrival an R-agent (share_r = 1) A's lead grows by one per adoption, and
    the process is locked into A at the first adoption after which S-agents (who prefer B
    by g = b_S - a_S, returns s = r) would choose A too. That adoption is the smallest
    lead the analysis calls ``locked_in`` (g = 0: the first adoption already locks in)."""

    def locked_in(lead: int) -> bool | None:
        """The analysis's verdict on a kind where p leads q (no adopter) by ``lead``."""
        eco = rf.Ecosystem(
            name="lead",
            actors=[rf.Actor(a) for a in ("p", "q", *(f"x{i}" for i in range(lead)))],
            resources=[rf.Resource("goods", "material", "t")],
            modules=[
                rf.Module("mp", "p", kind="data", adopters=tuple(f"x{i}" for i in range(lead))),
                rf.Module("mq", "q", kind="data"),
            ],
        )
        kind = platform.analyze(eco, preference_gap=gap, returns_per_adopter=returns, cascade=False).kind("data")
        assert kind.barrier is not None
        assert kind.barrier.lead == lead
        return kind.barrier.locked_in

    first_locked = next(lead for lead in range(1, 12) if locked_in(lead))
    result = simulate.arthur_lock_in(1, 60, a_s=a_s, b_s=a_s + gap, s=returns, share_r=1.0, rng=0)
    assert result.locked_into == (1, 0)
    assert result.times == (first_locked,)
