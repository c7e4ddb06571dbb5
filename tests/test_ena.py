"""Ecological network analysis: enaR's published numbers, invariants, properties, scale."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rainforest as rf
from rainforest.analysis import ena
from rainforest.model.schema import STATUSES
from strategies import ecosystems

MODELS = rf.datasets.ENA_MODELS


def model(name: str) -> rf.FlowMatrix:
    return rf.FlowMatrix.from_ecosystem(rf.datasets.ena_model(name))


def test_oyster_reef_reproduces_borrett_and_lau_2014() -> None:
    """Oyster reef model (Dame & Patten 1981): reference values from Borrett, S.R. & Lau,
    M.K. (2014) enaR: An R package for Ecosystem Network Analysis. Methods in Ecology and
    Evolution 5:1206-1213, Table 1, and the enaR vignette."""
    result = ena.analyze(model("oyster_reef"))
    published = {
        ("flow", "TST"): 83.5833,
        ("flow", "TSTp"): 125.0533,
        ("flow", "APL"): 2.015512,
        ("flow", "FCI"): 0.1101686,
        ("flow", "ID.F"): 1.582925,
        ("ascendency", "ASC"): 166.3473,
        ("ascendency", "CAP"): 377.4452,
        ("ascendency", "ASC.CAP"): 0.4407191,
        ("utility", "synergism.F"): 4.915298,
        ("utility", "mutualism.F"): 2.272727,
    }
    for (section, name), value in published.items():
        got = getattr(result, section)[name]
        assert got == pytest.approx(value, rel=1e-6), (section, name, got)


#: enaR 3.1.0 (GitHub SEELab/enaR commit a1aca6b, the source of the bundled data) run under
#: R 4.2.2 on the bundled models: enaStorage(x)$ns[, "ART"] and enaControl(x)$ns[["TSC"]],
#: with x = pack(flow, input, export = exports, respiration = respirations, storage).
ENAR_ART_TSC = {
    "oyster_reef": (79.836498452500976, 0.17523159689529968),
    "cone_spring": (0.2351110551577508, 0.00066290560425963342),
    "crystal_river_control": (46.982692692708717, 0.68174766173915746),
    "chesapeake_bay_mesohaline": (math.inf, 0.0068520523270797426),
    "neuse_estuary_nitrogen_avg": (3.7491337375075471, 0.0028215817200011755),
    "beijing_urban_carbon": (math.inf, 0.19726068713113409),
    "vienna_urban_carbon": (math.inf, 0.0040937778696343453),
}


@pytest.mark.parametrize("name", MODELS)
def test_art_and_tsc_are_enars(name: str) -> None:
    """ART and TSC as enaR 3.1.0 computes them (values in ENAR_ART_TSC, run under R 4.2.2).
    ART is the mean of storage / (exports + respiration), infinite where a compartment has
    no boundary output; TSC is flow-based and uses the input throughflow, which matters on
    the oyster reef and the Neuse estuary (balanced only to 2e-5 and 1e-3). enaR rounds N
    to 10 decimals and we do not: on the Chesapeake Bay, whose sc entries are of order
    1e-5, that moves TSC by 2.5e-9 relative, hence rel=1e-8."""
    art, tsc = ENAR_ART_TSC[name]
    result = ena.analyze(model(name))
    assert result.storage is not None
    assert result.control is not None
    assert result.storage["ART"] == pytest.approx(art, rel=1e-12)
    assert result.control["TSC"] == pytest.approx(tsc, rel=1e-8)


def test_system_control_vector_is_enars_on_models_off_exact_balance() -> None:
    """enaControl(x)$sc of enaR 3.1.0 (R 4.2.2), node by node, on the two bundled models
    that are balanced only within the tolerance (the output throughflow is not the input
    one there, so a control built on the former differs)."""
    published = {
        "oyster_reef": [0.12056908610324032, -0.06340023177387999, -0.04270606826189909,
                        0.002634493077971013, -0.06912529685952061, 0.05202801771408835],
        "neuse_estuary_nitrogen_avg": [0.00012956249643973736, 0.00011745085389593612, -0.0025143776509807081,
                                       0.00032528393274910224, 0.0021128389769591999, 0.00013644545995719994,
                                       -0.00030720406902046745],
    }  # fmt: skip
    for name, sc in published.items():
        got = ena.control(model(name))["sc"]
        np.testing.assert_allclose(list(got.values()), sc, rtol=1e-8, atol=1e-10, err_msg=name)  # N unrounded


def test_control_needs_no_stocks_as_in_enar() -> None:
    """enaR's enaControl computes TSC from flows alone (only CQ needs storage): a model
    without stocks gets the same control section as with them."""
    fm = model("oyster_reef")
    stockless = rf.FlowMatrix.from_arrays(fm.dense(), fm.inputs, fm.exports, fm.losses, ids=fm.ids)
    result = ena.analyze(stockless)
    assert result.storage is None
    assert result.control is not None
    assert result.control["TSC"] == pytest.approx(ENAR_ART_TSC["oyster_reef"][1], rel=1e-8)
    assert "control" in result.to_dict()
    assert "storage" not in result.to_dict()


def test_infinite_art_is_null_in_json_with_the_compartments_that_cause_it() -> None:
    result = ena.analyze(model("chesapeake_bay_mesohaline"))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["storage"]["ART"] is None
    reason = data["reasons"]["storage.ART"]
    assert "no boundary output" in reason
    for compartment in ena.no_boundary_output(model("chesapeake_bay_mesohaline")):
        assert compartment in reason
    assert len(ena.no_boundary_output(model("chesapeake_bay_mesohaline"))) == 3  # DOC, POC, sediment POC
    assert any(note.startswith("ART is infinite") for note in result.notes)
    reef = ena.analyze(model("oyster_reef")).to_dict()
    assert reef["storage"]["ART"] == pytest.approx(79.836498452500976, rel=1e-12)
    assert "reasons" not in reef  # every number of the oyster reef is finite
    assert "ART.out" not in reef["storage"]  # one residence time, under enaR's name


def test_every_null_in_json_has_a_reason() -> None:
    chain = rf.FlowMatrix.from_arrays(
        np.array([[0, 5.0, 0], [0, 0, 3.0], [0, 0, 0]]), inputs=[5, 0, 0], exports=[0, 2, 0], losses=[0, 0, 3]
    )
    data = ena.analyze(chain).to_dict()

    def nulls(values: dict[str, object], prefix: str) -> list[str]:
        out = []
        for key, value in values.items():
            if isinstance(value, dict):
                out += nulls(value, f"{prefix}.{key}")  # type: ignore[arg-type]
            elif value is None:
                out.append(f"{prefix}.{key}")
        return out

    missing = [k for s in data if s != "reasons" for k in nulls(data[s], s)]
    assert missing, "the chain has undefined statistics (ppr of an acyclic graph)"
    assert sorted(missing) == sorted(data["reasons"])
    assert data["reasons"]["structure.ppr"].startswith("undefined: the network has no cycle")
    assert all(reason for reason in data["reasons"].values())
    lone = ena.analyze(rf.FlowMatrix.from_arrays(np.array([[0.0]]), inputs=[5], exports=[5], losses=[0])).to_dict()
    assert lone["control"]["TSC"] == 0
    assert lone["reasons"]["control.psc.n0"] == "undefined: total system control TSC is 0"


#: enaR 3.1.0 (SEELab/enaR a1aca6b) under R 4.2.2: enaFlow(x)$ns, enaAscendency(x) and
#: enaStorage(x)$ns on the bundled Cone Spring (Tilly 1968, Ulanowicz's 5-compartment
#: version) and Chesapeake Bay mesohaline (Baird & Ulanowicz 1989) data. The papers' own
#: printed figures (Finn 1976; Baird & Ulanowicz 1989, Ecol. Monogr. 59:329-364) could not
#: be read for this test; these are the reference implementation's.
ENAR_CONE_CHESAPEAKE = {
    "cone_spring": {
        ("flow", "TST"): 30626,
        ("flow", "TSTp"): 42445,
        ("flow", "APL"): 2.5912513749048145,
        ("flow", "FCI"): 0.091938989337494767,
        ("flow", "ID.F"): 1.0230155594671904,
        ("flow", "HMG.O"): 1.8749804171866338,
        ("flow", "AMP.O"): 0,
        ("flow", "mode2.F"): 2815.7234875267804,
        ("ascendency", "AMI"): 1.3364468259228177,
        ("ascendency", "CAP"): 135864.73191178753,
        ("ascendency", "ASC"): 56725.485526293996,
        ("ascendency", "OH"): 79139.246385493549,
        ("ascendency", "ASC.CAP"): 0.41751442576815279,
        ("ascendency", "robustness"): 0.36467220620251933,
        ("storage", "TSS"): 4058.4,
        ("storage", "CIS"): 0.84772172660996203,
        ("storage", "ID.S"): 16.438334908260885,
        ("storage", "NAS"): 4,
        ("storage", "ART"): 0.2351110551577508,
    },
    "chesapeake_bay_mesohaline": {
        ("flow", "TST"): 3227453.0309386002,
        ("flow", "TSTp"): 4116245.2057169997,
        ("flow", "APL"): 3.6312829207602597,
        ("flow", "FCI"): 0.19421050340290755,
        ("flow", "ID.F"): 2.7635190160264482,
        ("flow", "HMG.O"): 1.9209435933788777,
        ("flow", "AMP.O"): 11,
        ("flow", "mode2.F"): 626805.27785590896,
        ("ascendency", "AMI"): 2.0877865756659149,
        ("ascendency", "CAP"): 19655499.88758833,
        ("ascendency", "ASC"): 8593841.4826451354,
        ("ascendency", "OH"): 11061658.404943196,
        ("ascendency", "ASC.CAP"): 0.43722324701961951,
        ("ascendency", "robustness"): 0.36171975543721979,
        ("storage", "TSS"): 345441.90003,
        ("storage", "CIS"): 0.99677443597042659,
        ("storage", "ID.S"): 926.69648989934785,
        ("storage", "NAS"): 190,
        ("storage", "ART"): math.inf,
    },
}


@pytest.mark.parametrize("name", sorted(ENAR_CONE_CHESAPEAKE))
def test_cone_spring_and_chesapeake_bay_match_enar(name: str) -> None:
    """Cone Spring and the Chesapeake Bay, every section against enaR 3.1.0 (see
    ENAR_CONE_CHESAPEAKE for the source). All 61 flow, ascendency and storage statistics
    agree to 4e-11 (enaR's 10-decimal rounding of N and Q); the test holds 19 of them to
    1e-9. Cone Spring's TST of 30,626 kcal m-2 y-1 is the sum of Tilly's compartment
    throughflows (11,184 + 5,205 + 2,384 + 370 + 11,483)."""
    result = ena.analyze(model(name))
    for (section, key), value in ENAR_CONE_CHESAPEAKE[name].items():
        got = getattr(result, section)[key]
        assert got == pytest.approx(value, rel=1e-9), (section, key, got, value)
    if name == "cone_spring":
        assert result.throughflow.tolist() == [11184, 5205, 2384, 370, 11483]


@pytest.mark.parametrize("name", MODELS)
def test_every_metric_on_every_published_model(name: str) -> None:
    fm = model(name)
    result = ena.analyze(fm, matrices=True)
    f, a, s = result.flow, result.ascendency, result.structure
    assert result.method == "dense"
    assert f["BFI"] + f["DFI"] + f["IFI"] == pytest.approx(1.0, rel=1e-9)
    assert f["TST"] == pytest.approx(result.throughflow.sum())
    assert f["APL"] == pytest.approx(f["TST"] / f["Boundary"])
    assert 0 <= f["FCI"] < 1
    assert f["mode0.F"] + f["mode1.F"] + f["mode2.F"] == pytest.approx(f["TST"], rel=1e-9)
    assert a["ASC"] + a["OH"] == pytest.approx(a["CAP"], rel=1e-12)
    assert a["H"] == pytest.approx(a["AMI"] + a["Hr"])
    for family in ("A", "OH", "CAP"):
        total = sum(a[f"{family}.{w}"] for w in ("input", "internal", "export", "respiration"))
        assert total == pytest.approx(a["ASC" if family == "A" else family], rel=1e-9)
    assert a["TD"] == pytest.approx(2 ** a["AMI"], rel=1e-9)
    assert 0 < a["ASC.CAP"] < 1
    assert s["lam1A"] >= 0
    assert 0 <= s["pscc"] <= 1
    assert result.utility is not None
    assert result.utility["synergism.F"] > 0
    assert result.storage is not None
    assert 0 <= result.storage["CIS"] <= 1
    assert result.control is not None
    assert sum(result.control["sc"].values()) == pytest.approx(0, abs=1e-9)
    N = result.matrices["N"]
    n = fm.n
    np.testing.assert_allclose(N @ (np.eye(n) - result.matrices["G"]), np.eye(n), atol=1e-8)
    # throughflow T = z N in rows-from orientation
    np.testing.assert_allclose(fm.inputs @ N, result.throughflow, rtol=1e-9)
    json.dumps(result.to_dict(matrices=True))  # JSON-ready throughout


@pytest.mark.parametrize("name", MODELS)
def test_scaling_all_flows_scales_throughflow_and_keeps_ratios(name: str) -> None:
    fm = model(name)
    k = 7.5
    scaled = rf.FlowMatrix.from_arrays(
        fm.dense() * k, fm.inputs * k, fm.exports * k, fm.losses * k, ids=fm.ids, stock=fm.stock
    )
    a, b = ena.analyze(fm), ena.analyze(scaled)
    assert b.flow["TST"] == pytest.approx(k * a.flow["TST"], rel=1e-12)
    assert b.ascendency["ASC"] == pytest.approx(k * a.ascendency["ASC"], rel=1e-9)
    for key in ("FCI", "APL", "ID.F", "BFI", "HMG.O"):
        assert b.flow[key] == pytest.approx(a.flow[key], rel=1e-9)
    for key in ("AMI", "ASC.CAP", "robustness"):
        assert b.ascendency[key] == pytest.approx(a.ascendency[key], rel=1e-9)


@pytest.mark.parametrize("name", MODELS)
def test_permuting_nodes_permutes_results(name: str) -> None:
    fm = model(name)
    perm = np.random.default_rng(3).permutation(fm.n)
    permuted = rf.FlowMatrix.from_arrays(
        fm.dense()[np.ix_(perm, perm)],
        fm.inputs[perm],
        fm.exports[perm],
        fm.losses[perm],
        ids=[fm.ids[i] for i in perm],
        stock=fm.stock[perm],
    )
    a, b = ena.analyze(fm, matrices=True), ena.analyze(permuted, matrices=True)
    for section in ("flow", "ascendency", "structure", "utility"):
        for key, value in getattr(a, section).items():
            other = getattr(b, section)[key]
            # eigenvalues of non-normal matrices move by ~1e-8 when rows are reordered
            rel = 1e-6 if key in ("R", "rho", "lam1A", "lam1D", "d") else 1e-9
            assert other == pytest.approx(value, rel=rel, abs=1e-12, nan_ok=True), (section, key)
    np.testing.assert_allclose(b.matrices["N"], a.matrices["N"][np.ix_(perm, perm)], atol=1e-12)
    np.testing.assert_allclose(b.throughflow, a.throughflow[perm])


def test_a_chain_without_cycles_cycles_nothing() -> None:
    F = np.array([[0, 5.0, 0], [0, 0, 3.0], [0, 0, 0]])
    chain = rf.FlowMatrix.from_arrays(F, inputs=[5, 0, 0], exports=[0, 2, 0], losses=[0, 0, 3])
    result = ena.analyze(chain)
    assert result.flow["FCI"] == 0.0
    assert result.flow["mode2.F"] == 0.0
    assert result.structure["lam1A"] == 0.0
    assert result.structure["no.scc.big"] == 0
    assert math.isnan(result.structure["ppr"])  # A^200 = A^199 = 0, as enaR


@st.composite
def balanced_networks(draw: st.DrawFn) -> rf.FlowMatrix:
    n = draw(st.integers(2, 7))
    weights = st.floats(0.01, 100.0, allow_nan=False)
    F = np.array([[draw(weights) if draw(st.booleans()) and i != j else 0.0 for j in range(n)] for i in range(n)])
    exports = np.array([draw(weights) for _ in range(n)])
    out = F.sum(axis=1) + exports
    inflow = F.sum(axis=0)
    inputs = np.maximum(out - inflow, 0.0)
    losses = inflow + inputs - out
    return rf.FlowMatrix.from_arrays(F, inputs, exports, losses)


@given(fm=balanced_networks(), k=st.floats(0.001, 1000.0))
def test_scaling_property_on_random_networks(fm: rf.FlowMatrix, k: float) -> None:
    a = ena.analyze(fm)
    scaled = rf.FlowMatrix.from_arrays(fm.dense() * k, fm.inputs * k, fm.exports * k, fm.losses * k)
    b = ena.analyze(scaled)
    assert b.flow["TST"] == pytest.approx(k * a.flow["TST"], rel=1e-9)
    assert b.flow["FCI"] == pytest.approx(a.flow["FCI"], rel=1e-7, abs=1e-12)
    assert b.flow["APL"] == pytest.approx(a.flow["APL"], rel=1e-9)
    assert b.ascendency["ASC.CAP"] == pytest.approx(a.ascendency["ASC.CAP"], rel=1e-9)


@given(fm=balanced_networks())
def test_sparse_engine_agrees_with_dense_on_random_networks(fm: rf.FlowMatrix) -> None:
    dense = ena.analyze(fm)
    sparse = ena.analyze(fm, dense_limit=1)
    assert sparse.method == "sparse"
    for section in ("flow", "structure", "ascendency"):
        for key, value in getattr(dense, section).items():
            if key.startswith(("HMG", "AMP")):
                continue
            got = getattr(sparse, section)[key]
            assert got == pytest.approx(value, rel=1e-9, abs=1e-9, nan_ok=True), (section, key, got, value)


def test_sparse_engine_agrees_with_dense_on_a_synthetic_economy() -> None:
    fm = rf.FlowMatrix.from_ecosystem(rf.datasets.synthetic(n_actors=600, mean_degree=3, rng=4), "mass")
    dense = ena.analyze(fm)
    sparse = ena.analyze(fm, dense_limit=100)
    assert sparse.method == "sparse"
    for section in ("flow", "structure", "ascendency"):
        for key, value in getattr(dense, section).items():
            if key.startswith(("HMG", "AMP")):
                assert math.isnan(getattr(sparse, section)[key])
                continue
            assert getattr(sparse, section)[key] == pytest.approx(value, rel=1e-9, abs=1e-12, nan_ok=True), (
                section,
                key,
            )
    assert sparse.utility is None
    assert any("dense limit" in note for note in sparse.notes)
    assert sparse.to_dict()["reasons"]["flow.HMG.O"].startswith("left out: 600 nodes is above the dense limit")


def test_out_of_balance_is_an_error_with_a_remedy() -> None:
    F = np.array([[0, 5.0], [0, 0]])
    lopsided = rf.FlowMatrix.from_arrays(F, inputs=[10, 0], exports=[1, 1], losses=[0, 0])
    with pytest.raises(rf.SteadyStateError, match="balance='input'"):
        ena.analyze(lopsided)
    state = ena.steady_state(lopsided)
    assert not state.balanced
    assert state.worst(1)[0][0] == "n1"
    for method in ("input", "output"):
        balanced = ena.balance(lopsided, method)  # type: ignore[arg-type]
        assert ena.steady_state(balanced, 1e-12).balanced
        ena.analyze(lopsided, balance=method)  # type: ignore[arg-type]
    assert ena.balance(lopsided, "input").inputs.tolist() == [10.0, 0.0]
    assert ena.balance(lopsided, "output").exports.tolist() == [1.0, 1.0]
    assert ena.analyze(lopsided, tolerance=10).flow["TST"] > 0


def test_boundary_closure_keeps_every_measured_flow() -> None:
    """Kalundborg gives only the exchanges: closing each gap at the boundary balances every
    actor without touching a measured flow (input/output balancing cannot: some actors
    only send, others only receive)."""
    fm = rf.FlowMatrix.from_ecosystem(rf.datasets.kalundborg(), "mass")
    with pytest.raises(rf.SteadyStateError):
        ena.balance(fm, "input")
    closed = ena.balance(fm, "boundary")
    assert ena.steady_state(closed, 1e-12).balanced
    assert (closed.Z != fm.Z).nnz == 0
    assert closed.inputs.sum() == pytest.approx(fm.Z.sum() - closed.Z.sum() + closed.exports.sum())
    assert (closed.inputs >= 0).all()
    assert (closed.exports >= fm.exports).all()
    assert ena.analyze(fm, balance="boundary").flow["FCI"] == 0.0  # no loop among the exchanges


def test_dense_only_results_name_the_limit_and_the_option() -> None:
    fm = model("chesapeake_bay_mesohaline")
    with pytest.raises(rf.SizeLimitError, match="force_dense=True"):
        ena.utility(fm, dense_limit=10)
    assert ena.utility(fm, dense_limit=10, force_dense=True).scalars["synergism.F"] > 0


def test_window_of_vitality_places_the_model() -> None:
    result = ena.analyze(model("oyster_reef"))
    window = ena.window_of_vitality(result.ascendency)
    assert window["a"] == pytest.approx(0.4407191, rel=1e-6)
    assert window["side"].startswith("more organised")
    assert max(window["curve"]["robustness"]) == pytest.approx(1 / math.e, rel=1e-3)


def test_mixed_trophic_impacts_and_keystoneness() -> None:
    with pytest.raises(ValueError, match=r"1\.068 > 1"):  # |lambda_1(Q)| = 1.0677: enaR gives NA
        ena.mixed_trophic_impacts(model("oyster_reef"))
    mti = ena.mixed_trophic_impacts(model("oyster_reef"), eigen_check=False)
    n = 6
    np.testing.assert_allclose((np.eye(n) - mti.Q) @ (mti.M + np.eye(n)), np.eye(n), atol=1e-10)
    assert set(mti.keystoneness) == set(model("oyster_reef").ids)
    with pytest.raises(ValueError, match="living"):
        ena.mixed_trophic_impacts(model("vienna_urban_carbon"))


def test_cli_ena_json_has_the_contracted_keys() -> None:
    from typer.testing import CliRunner

    from rainforest.cli import app

    result = CliRunner().invoke(app, ["ena", str(rf.datasets.path("oyster_reef")), "--json"])
    assert result.exit_code == 0, result.stdout
    data = json.loads(result.stdout)
    assert list(data) == ["structure", "flow", "ascendency", "utility", "storage", "control"]
    assert data["flow"]["FCI"] == pytest.approx(0.1101686, rel=1e-6)
    assert all(isinstance(v, (int, float)) or v is None for v in data["flow"].values())
    with_matrices = json.loads(
        CliRunner().invoke(app, ["ena", str(rf.datasets.path("oyster_reef")), "--json", "--matrices"]).stdout
    )
    assert len(with_matrices["matrices"]["N"]) == 6


def test_cli_ena_on_an_unbalanced_ecosystem_fails_clearly() -> None:
    from typer.testing import CliRunner

    from rainforest.cli import app

    result = CliRunner().invoke(app, ["ena", str(rf.datasets.path("kalundborg")), "--currency", "mass"])
    assert result.exit_code == 1
    assert "not at steady state" in result.stderr


def test_large_components_are_estimated_without_bias_and_say_so() -> None:
    fm = rf.FlowMatrix.from_ecosystem(rf.datasets.synthetic(n_actors=2000, mean_degree=4, rng=8), "mass")
    exact = ena.flow(fm, dense_limit=100)
    assert "FCI.se" not in exact.scalars
    estimate = ena.flow(fm, dense_limit=100, exact_limit=50, walkers=2_000_000, rng=1)
    se = estimate.scalars["FCI.se"]
    assert 0 < se < 0.1 * exact.scalars["FCI"]
    assert abs(estimate.scalars["FCI"] - exact.scalars["FCI"]) < 4 * se
    assert any("estimated" in note for note in estimate.notes)
    again = ena.flow(fm, dense_limit=100, exact_limit=50, walkers=2_000_000, rng=1)
    assert again.scalars["FCI"] == estimate.scalars["FCI"]  # seeded: reproducible


def _classic_scor(fm: rf.FlowMatrix, names: list[str], n_live: int) -> str:
    """SCOR text the way NETWRK-era files look: Fortran E-notation with a leading dot,
    'i j value' flow lines, storage for every node, and a final ' -1 -1' line."""

    def fortran(v: float) -> str:
        mantissa, exponent = f"{v:.6E}".split("E")
        digits = mantissa.replace(".", "").lstrip("-")
        return f".{digits}E{int(exponent) + 1:+03d}"

    lines = ["CLASSIC MODEL; UNITS AS PUBLISHED", f"{fm.n:3d}{n_live:3d}", *names]
    lines += [f"{i + 1:3d}  {fortran(v)}" for i, v in enumerate(fm.stock)] + [" -1 "]
    for vec in (fm.inputs, fm.exports, fm.losses):
        lines += [f"{i + 1:3d}  {fortran(v)}" for i, v in enumerate(vec) if v] + [" -1  "]
    F = fm.dense()
    lines += [f"{i + 1:3d}{j + 1:3d}  {fortran(F[i, j])}" for i in range(fm.n) for j in range(fm.n) if F[i, j]]
    lines.append(" -1 -1  .0000000E+00")
    return "\n".join(lines) + "\n"


def test_classic_scor_files_read_like_the_published_model(tmp_path: Path) -> None:
    original = model("cone_spring")
    names = [a.name or a.id for a in rf.datasets.ena_model("cone_spring").actors]
    path = tmp_path / "cone.scor"
    path.write_text(_classic_scor(original, names, n_live=4))
    again = rf.FlowMatrix.from_ecosystem(rf.load(path))
    np.testing.assert_allclose(again.dense(), original.dense(), rtol=1e-6)
    assert ena.analyze(again).flow["TST"] == pytest.approx(ena.analyze(original).flow["TST"], rel=1e-6)


def test_arpack_spectrum_of_a_large_component_matches_the_dense_one() -> None:
    fm = rf.FlowMatrix.from_ecosystem(rf.datasets.synthetic(n_actors=1500, mean_degree=4, rng=6), "mass")
    dense = ena.structure(fm)
    sparse = ena.structure(fm, dense_limit=100)  # the giant component (> 400 nodes) goes to ARPACK
    assert dense["no.scc.big"] >= 1
    for key in ("lam1A", "mlam1A", "rho", "R", "d", "ppr"):
        assert sparse[key] == pytest.approx(dense[key], rel=1e-9), key


# -- degenerate networks: a clear error or a number, never numpy's exception or a warning --
def test_mixed_trophic_impacts_without_throughflow_are_zero_not_nan() -> None:
    """No quantified exchange links two actors (one actor sends 1 MWh to the world): every
    throughflow is 0, so no impact exists; enaR leaves the zero columns of G at 0."""
    F = np.zeros((6, 6))
    lone = rf.FlowMatrix.from_arrays(F, inputs=[0] * 6, exports=[1, 0, 0, 0, 0, 0], losses=[0] * 6)
    mti = ena.mixed_trophic_impacts(dataclasses.replace(lone, living=np.ones(6, dtype=np.bool_)))
    assert not mti.M.any()
    assert set(mti.overall_effect.values()) == {0.0}
    assert set(mti.keystoneness.values()) == {-math.inf}  # log10 of no impact at all


def test_an_infinite_share_of_net_production_is_zero_as_in_enar() -> None:
    """1e12 passed on from a net production of 1e-300 overflows: enaR sets infinite
    fractions to 0, and so do we (no overflow warning, finite impacts)."""
    F = np.array([[0, 1e12], [0, 0]])
    odd = rf.FlowMatrix.from_arrays(F, inputs=[1e-300, 0], exports=[0, 1e12], losses=[0, 0], living=[True, True])
    mti = ena.mixed_trophic_impacts(odd, eigen_check=False)
    assert np.isfinite(mti.Q).all()
    assert np.isfinite(mti.M).all()


def test_a_closed_cycle_is_a_steady_state_error_naming_it() -> None:
    """An actor that only sends to itself traps its flow: (I - G) is singular, the integral
    flows do not exist, and the error names the actor and what to record."""
    F = np.array([[5.0, 0, 0], [0, 0, 2.0], [0, 0, 0]])
    looped = rf.FlowMatrix.from_arrays(F, inputs=[0, 2, 0], exports=[0, 0, 2], losses=[0, 0, 0])
    for analysis in (ena.flow, ena.analyze, ena.control):
        with pytest.raises(rf.SteadyStateError, match=r"n0 \(nothing leaves it\).*an export"):
            analysis(looped)


def test_ascendency_of_tiny_flows_is_the_ascendency_of_their_shape() -> None:
    """Products of flows of 1e-200 underflow to 0; the information indices are computed in
    logarithms, so scaling every flow keeps the ratios (and terms with zero flow give 0)."""
    fm = model("oyster_reef")
    k = 1e-200
    tiny = rf.FlowMatrix.from_arrays(fm.dense() * k, fm.inputs * k, fm.exports * k, fm.losses * k)
    a, b = ena.ascendency(fm), ena.ascendency(tiny)
    for key in ("H", "AMI", "Hr", "ASC.CAP", "OH.CAP", "robustness", "ELD", "TD"):
        assert b[key] == pytest.approx(a[key], rel=1e-9), key
    assert b["ASC"] == pytest.approx(k * a["ASC"], rel=1e-9)
    # ELD and TD as enaR writes them (products over the extended matrix), at the usual scale
    n = fm.n
    X = np.zeros((n + 3, n + 3))
    X[:n, :n], X[n, :n], X[:n, n + 1], X[:n, n + 2] = fm.dense(), fm.inputs, fm.exports, fm.losses
    t = X / X.sum()
    pr, pc = np.broadcast_to(t.sum(axis=1)[:, None], t.shape), np.broadcast_to(t.sum(axis=0)[None, :], t.shape)
    on = t > 0
    assert a["ELD"] == pytest.approx(np.prod((np.sqrt(pr[on] * pc[on]) / t[on]) ** t[on]), rel=1e-12)
    assert a["TD"] == pytest.approx(np.prod((t[on] / (pr[on] * pc[on])) ** t[on]), rel=1e-12)


def test_storage_without_throughflow_or_direct_storage_says_why() -> None:
    """Stocks but no flow: the storage time step is 1/0, so storage is left out with the
    reason; a compartment emptied within one time step has no direct storage, so the
    indirect/direct ratios are NaN with a reason (enaR: 0/0)."""
    still = rf.FlowMatrix.from_arrays(np.zeros((2, 2)), [0, 0], [0, 0], [0, 0], stock=[1, 2])
    with pytest.raises(rf.ParameterError, match="no flow passes through any compartment"):
        ena.storage(still)
    result = ena.analyze(still)
    assert result.storage is None
    assert any("no flow passes through" in note for note in result.notes)
    through = rf.FlowMatrix.from_arrays(np.zeros((1, 1)), [1.0], [1.0], [0.0], stock=[1.0])
    result = ena.analyze(through)
    assert result.storage is not None
    assert math.isnan(result.storage["ID.S"])
    data = result.to_dict()
    assert data["storage"]["ID.S"] is None
    assert "direct part" in data["reasons"]["storage.ID.S"]


def _layers(eco: rf.Ecosystem) -> list[rf.FlowMatrix]:
    """Every one-resource flow matrix of ``eco``, all statuses included."""
    out = []
    for resource in eco.resources:
        with contextlib.suppress(rf.RainforestError):  # a resource no flow uses
            out.append(rf.FlowMatrix.from_ecosystem(eco, resource=resource.id, statuses=STATUSES))
    return out


@given(eco=ecosystems())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_generated_network_gives_numbers_or_a_rainforest_error(eco: rf.Ecosystem) -> None:
    """On every document of tests/strategies.py (self-loops, zero and tiny quantities, actors
    without exchanges), the analyses raise only RainforestErrors and never warn (warnings
    are errors under pytest)."""
    for fm in _layers(eco):
        ena.ascendency(fm)
        living = fm if fm.living is not None else dataclasses.replace(fm, living=np.ones(fm.n, dtype=np.bool_))
        with contextlib.suppress(rf.RainforestError):
            ena.mixed_trophic_impacts(living, eigen_check=False)
        with contextlib.suppress(rf.RainforestError):
            ena.analyze(fm, balance="boundary")
