"""Failure cascades and the economic systemic risk index (Diem et al. 2022).

The hand-checked cases follow the model as the module docstring of
``rainforest.analysis.cascade`` writes it: (E1) shock, (E2) upstream, (E3) downstream
with the generalized Leontief production function, (E4) substitution, (E5) ESRI, (E6)
sweeps and stop rules; it restates Diem, Borsos, Reisch, Kertész & Thurner (2022),
Sci. Rep. 12:7719, Methods "Shock propagation". (We could not check the paper's own
equation numbers offline, so the tests cite these labels and the Methods section.)
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import rainforest as rf
from rainforest.analysis.cascade import (
    ESSENTIAL,
    NEGLIGIBLE,
    NON_ESSENTIAL,
    ESRIProfile,
    SupplyNetwork,
    cascade,
    esri,
)
from rainforest.cli.app import app
from rainforest.errors import RainforestWarning

IDS = ["a", "b", "c", "d", "e"]


def small_net(revenue: list[float] | None = None) -> SupplyNetwork:
    """a (S1) -> c: 6, essential; b (S2) -> c: 4, non-essential; e (S5) -> c: 10,
    negligible; c (S3) -> d (S4): 10, non-essential. Out-strengths a 6, b 4, c 10, d 0,
    e 10 (total 30); c's inputs 20."""
    return SupplyNetwork.from_arrays(
        IDS,
        [0, 1, 4, 2],
        [2, 2, 2, 3],
        [6.0, 4.0, 10.0, 10.0],
        sector=["S1", "S2", "S3", "S4", "S5"],
        link_class=[ESSENTIAL, NON_ESSENTIAL, NEGLIGIBLE, NON_ESSENTIAL],
        revenue=revenue,
    )


def test_hand_checked_failure_of_an_essential_supplier() -> None:
    # (E1) phi_a = 1: the cascade starts at ld_a = lu_a = 1 (E6).
    # Sweep 1 (E3): c's only essential supplier sector S1 has E_c,S1 = 6, all from a:
    #   ld_c = 6/6 * 1 = 1. (E2): nobody supplies a, so no upstream spread.
    # Sweep 2: ld_d = W_cd / C_d * ld_c = 10/10 * 1 = 1. Sweep 3 changes nothing.
    # Upstream and downstream are separate cascades: b and e keep their sales (lu_c = 0).
    # (E5) ESRI = (w_a + w_c + w_d) / 30 = (6 + 10 + 0) / 30.
    r = cascade(small_net(), {"a": 1.0}, damping=False)
    assert r.loss.tolist() == [1.0, 0.0, 1.0, 1.0, 0.0]
    assert r.esri == pytest.approx(16 / 30, abs=1e-15)
    assert r.esri_down == pytest.approx(16 / 30, abs=1e-15)
    assert r.esri_up == pytest.approx(6 / 30, abs=1e-15)
    assert r.sweeps == 3  # (E6): the 3rd sweep is the first without change


def test_hand_checked_partial_shock_of_a_non_essential_supplier() -> None:
    # phi_b = 0.5. (E3) non-essential: ld_c = W_bc / C_c * 0.5 = 4/20 * 0.5 = 0.1, where
    # C_c = 6 + 4 + 10 counts every input, the negligible one included; then
    # ld_d = 10/10 * 0.1 = 0.1. ESRI = (4 * 0.5 + 10 * 0.1 + 0 * 0.1) / 30 = 0.1.
    r = cascade(small_net(), {"b": 0.5}, damping=False)
    assert r.loss.tolist() == pytest.approx([0.0, 0.5, 0.1, 0.1, 0.0], abs=1e-15)
    assert r.esri == pytest.approx(0.1, abs=1e-15)


def test_hand_checked_upstream_cascade_with_and_without_revenue() -> None:
    # d fails. (E2): lu_c = W_cd / s_out_c * 1 = 1, then every supplier of c has c as its
    # only customer: lu_a = lu_b = lu_e = 1 -> ESRI 1.
    assert cascade(small_net(), {"d": 1.0}, damping=False).esri == pytest.approx(1.0)
    # Damping (the reference's revenue adjustment): c's revenue is 20, so half its sales
    # leave the network: Lambda_u = W_cd / revenue_c, lu_c = 10/20 = 0.5, then lu_a = lu_b = lu_e = 0.5 -> ESRI = 0.5 * 30 / 30.
    r = cascade(small_net(revenue=[6, 4, 20, 0, 10]), {"d": 1.0})
    assert r.loss_up.tolist() == pytest.approx([0.5, 0.5, 0.5, 1.0, 0.5])
    assert r.esri == pytest.approx(0.5)


def test_hand_checked_substitution() -> None:
    # f (S1) also sells 30 to g; a (S1) -> c 6 essential as before. When a fails, S1's
    # remaining output is 6 * 0 + 30 * 1 = 30, so (E4) sigma_a = min(1, 6/30) = 0.2:
    # c loses 0.2 of its essential S1 input, ld_c = 0.2, ld_d = 0.2.
    net = SupplyNetwork.from_arrays(
        ["a", "c", "d", "f", "g"],
        [0, 1, 3],
        [1, 2, 4],
        [6.0, 10.0, 30.0],
        sector=["S1", "S3", "S4", "S1", "S6"],
        link_class=[ESSENTIAL, NON_ESSENTIAL, NON_ESSENTIAL],
    )
    r = cascade(net, {"a": 1.0}, substitution=True, damping=False)
    assert r.loss_down.tolist() == pytest.approx([1.0, 0.2, 0.2, 0.0, 0.0], abs=1e-15)
    plain = cascade(net, {"a": 1.0}, damping=False)
    assert plain.loss_down.tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]


# --- the reference damping (GLcascade / fastcascade 0.9.3) on a hand-derived network -----
#
# Five firms, sectors a, b: S1; c: S2; d: S3; e: S4. Links supplier -> customer (W, class):
#   a -> c 6 essential, b -> c 2 essential, d -> c 4 non-essential, c -> d 10 non-essential,
#   c -> e 6 non-essential, b -> e 18 negligible.
# Out-strengths s: a 6, b 20, c 16, d 4, e 0 (total 46); in-strengths z: c 12, d 10, e 24.
# Revenue: a 12, b 40, c 32, d 8, e 10. Costs: a 2, b 4, c 16, d 20, e 32.
#
# Downstream, Lambda_d_ij = W_ij / Pi_j,p(i) (essential) or W_ij / z_j (non-essential),
# then times z_j / costs_j (c: 12/16 = 0.75, d: 10/20 = 0.5, e: 24/32 = 0.75):
#   a -> c: 6/8 * 0.75 = 0.5625   b -> c: 2/8 * 0.75 = 0.1875   d -> c: 4/12 * 0.75 = 0.25
#   c -> d: 10/10 * 0.5 = 0.5      c -> e: 6/24 * 0.75 = 0.1875  b -> e: 0 (negligible)
# Upstream, Lambda_u_ij = W_ij / revenue_i:
#   a -> c: 6/12 = 0.5   b -> c: 2/40 = 0.05   b -> e: 18/40 = 0.45   d -> c: 4/8 = 0.5
#   c -> d: 10/32 = 0.3125   c -> e: 6/32 = 0.1875
# (the other rules: essential links undamped under 'outside-trade', a -> c 0.75; no
# damping at all under 'none', d -> c 4/12, a -> c upstream 6/6 = 1.)

REF_IDS = ["a", "b", "c", "d", "e"]
LAMBDA_D = {("a", "c"): 0.5625, ("b", "c"): 0.1875, ("d", "c"): 0.25, ("c", "d"): 0.5, ("c", "e"): 0.1875}
LAMBDA_U = {
    ("a", "c"): 0.5,
    ("b", "c"): 0.05,
    ("b", "e"): 0.45,
    ("d", "c"): 0.5,
    ("c", "d"): 0.3125,
    ("c", "e"): 0.1875,
}


def reference_net(**kw: object) -> SupplyNetwork:
    return SupplyNetwork.from_arrays(
        REF_IDS,
        [0, 1, 3, 2, 2, 1],
        [2, 2, 2, 3, 4, 4],
        [6.0, 2.0, 4.0, 10.0, 6.0, 18.0],
        sector=["S1", "S1", "S2", "S3", "S4"],
        link_class=[ESSENTIAL, ESSENTIAL, NON_ESSENTIAL, NON_ESSENTIAL, NON_ESSENTIAL, NEGLIGIBLE],
        revenue=[12.0, 40.0, 32.0, 8.0, 10.0],
        costs=[2.0, 4.0, 16.0, 20.0, 32.0],
        **kw,  # type: ignore[arg-type]
    )


def dense_lambdas(
    net: SupplyNetwork, damping: str
) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    """Lambda_d and Lambda_u as {(supplier, customer): value} from the engines' operators."""
    from rainforest.analysis.cascade import _operators

    ops = _operators(net, damping=damping, substitution=False)  # type: ignore[arg-type]
    down = ops.down.tocoo()
    ld: dict[tuple[str, str], float] = {}
    for r, i, v in zip(down.row.tolist(), down.col.tolist(), down.data.tolist(), strict=True):
        customer = r if r < net.n else int(ops.group_of_row[r - net.n])
        ld[(net.ids[i], net.ids[customer])] = v
    up = ops.up.tocoo()
    lu = {
        (net.ids[i], net.ids[j]): v for i, j, v in zip(up.row.tolist(), up.col.tolist(), up.data.tolist(), strict=True)
    }
    return ld, lu


def test_reference_damping_lambda_entries() -> None:
    """Every Lambda entry of the hand-derived network under the reference rule
    (GLcascade 0.9.3, ``GL_cascade``: Lambda_d from ``Lambda_d_calc_r`` times in_str/costs,
    Lambda_u = W / revenue), and the two other rules where they differ."""
    ld, lu = dense_lambdas(reference_net(), "reference")
    assert ld == pytest.approx(LAMBDA_D, abs=1e-15)
    assert lu == pytest.approx(LAMBDA_U, abs=1e-15)
    ld, lu = dense_lambdas(reference_net(), "outside-trade")
    assert ld[("a", "c")] == pytest.approx(0.75)
    assert ld[("b", "c")] == pytest.approx(0.25)
    assert ld[("d", "c")] == pytest.approx(0.25)
    assert ld[("c", "e")] == pytest.approx(0.1875)
    assert lu == pytest.approx(LAMBDA_U)  # W / max(s, revenue); every revenue here exceeds s
    ld, lu = dense_lambdas(reference_net(), "none")
    assert ld[("a", "c")] == pytest.approx(0.75)
    assert ld[("d", "c")] == pytest.approx(1 / 3)
    assert lu[("a", "c")] == pytest.approx(1.0)
    assert lu[("b", "e")] == pytest.approx(0.9)


def test_reference_damping_zero_denominators_are_one() -> None:
    """A zero revenue or cost counts as 1, as in the reference (``(revenue == 0) * 1``)."""
    net = SupplyNetwork.from_arrays(
        ["a", "b"], [0], [1], [0.5], revenue=[0.0, 1.0], costs=[1.0, 0.0], link_class=[NON_ESSENTIAL]
    )
    ld, lu = dense_lambdas(net, "reference")
    assert lu == {("a", "b"): 0.5}  # 0.5 / 1
    assert ld == {("a", "b"): 0.5}  # 0.5 / z_b * z_b / 1


@pytest.mark.parametrize("substitution", [False, True])
@pytest.mark.parametrize("engine", ["numpy", "compiled"])
def test_reference_damping_upstream_sweeps(substitution: bool, engine: str) -> None:
    """e fails (nothing downstream: e sells nothing). Upstream, start lu_e = 1, then
    lu_c = 0.3125 lu_d + 0.1875 lu_e, lu_d = 0.5 lu_c, lu_a = 0.5 lu_c,
    lu_b = 0.05 lu_c + 0.45 lu_e:
      sweep 1: c 0.1875, b 0.45                                       (change 0.45)
      sweep 2: d = a = 0.09375, b 0.459375                            (change 0.09375)
      sweep 3: c 0.1875 + 0.3125 * 0.09375 = 0.216796875              (change 0.029296875)
      sweep 4: d = a = 0.1083984375, b 0.46083984375                  (change 0.0146484375)
      sweep 5: c 0.1875 + 0.3125 * 0.1083984375 = 0.22137451171875    (change 0.0045776...)
    The reference rule (eps 0.01) stops after sweep 5; the fixed point is c = 2/9,
    d = a = 1/9, b = 0.05 * 2/9 + 0.45 = 83/180, so ESRI = (6/9 + 20 * 83/180 + 16 * 2/9
    + 4/9) / 46 = 125/414. Substitution acts downstream only: the same numbers."""
    net = reference_net()
    ref = cascade(net, {"e": 1.0}, stop="reference", eps=0.01, substitution=substitution)
    assert ref.sweeps == 5
    assert ref.loss_up.tolist() == pytest.approx(
        [0.1083984375, 0.46083984375, 0.22137451171875, 0.1083984375, 1.0], abs=1e-15
    )
    assert ref.loss_down.tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]
    assert ref.esri == pytest.approx(
        (6 * 0.1083984375 + 20 * 0.46083984375 + 16 * 0.22137451171875 + 4 * 0.1083984375) / 46, abs=1e-15
    )
    fixed = cascade(net, {"e": 1.0}, substitution=substitution)
    assert fixed.loss_up.tolist() == pytest.approx([1 / 9, 83 / 180, 2 / 9, 1 / 9, 1.0], abs=1e-13)
    assert fixed.esri == pytest.approx(125 / 414, abs=1e-13)
    # the error of c and d shrinks by 0.3125 * 0.5 every two sweeps: about 35 sweeps to 1e-14
    assert 25 < fixed.sweeps < 45
    profile = esri(net, ["e"], stop="reference", eps=0.01, substitution=substitution, engine=engine)  # type: ignore[arg-type]
    assert profile.esri[0] == pytest.approx(ref.esri, abs=1e-15)
    assert profile.sweeps[0] == 5


@pytest.mark.parametrize("engine", ["numpy", "compiled"])
@pytest.mark.parametrize("stop", ["fixed-point", "reference"])
def test_reference_damping_downstream_sweeps(stop: str, engine: str) -> None:
    """a fails. Without substitution, start ld_a = 1:
      sweep 1: ld_c = max(0.5625 * 1 + 0.1875 * 0, 0.25 * ld_d = 0) = 0.5625
      sweep 2: ld_d = 0.5 * 0.5625 = 0.28125, ld_e = 0.1875 * 0.5625 = 0.10546875
      sweep 3: ld_c = max(0.5625, 0.25 * 0.28125) = 0.5625: no change, both rules stop.
    a has no suppliers: nothing upstream. ESRI = (6 + 16 * 0.5625 + 4 * 0.28125) / 46.
    With substitution (E4), S1's remaining output is 6 * 0 + 20 * 1 = 20, so
    sigma_a = 6/20 = 0.3 in every sweep:
      sweep 1: ld_c = 0.5625 * 0.3 = 0.16875
      sweep 2: ld_d = 0.5 * 0.16875 = 0.084375, ld_e = 0.1875 * 0.16875 = 0.031640625
      sweep 3: ld_c = max(0.16875, 0.25 * 0.084375) = 0.16875: stop.
    ESRI = (6 + 16 * 0.16875 + 4 * 0.084375) / 46 = 9.0375 / 46. Under 'outside-trade'
    the essential link is undamped: ld_c = 0.75, ld_d = 0.375."""
    net = reference_net()
    kw = {"stop": stop, "eps": 0.01 if stop == "reference" else None}
    plain = cascade(net, {"a": 1.0}, **kw)  # type: ignore[arg-type]
    assert plain.sweeps == 3
    assert plain.loss_down.tolist() == pytest.approx([1.0, 0.0, 0.5625, 0.28125, 0.10546875], abs=1e-15)
    assert plain.loss_up.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert plain.esri == pytest.approx(16.125 / 46, abs=1e-15)
    subst = cascade(net, {"a": 1.0}, substitution=True, **kw)  # type: ignore[arg-type]
    assert subst.sweeps == 3
    assert subst.loss_down.tolist() == pytest.approx([1.0, 0.0, 0.16875, 0.084375, 0.031640625], abs=1e-15)
    assert subst.esri == pytest.approx(9.0375 / 46, abs=1e-15)
    for substitution, expected in ((False, plain), (True, subst)):
        p = esri(net, ["a"], substitution=substitution, engine=engine, **kw)  # type: ignore[arg-type]
        assert p.esri[0] == pytest.approx(expected.esri, abs=1e-15)
        assert p.sweeps[0] == 3
    other = cascade(net, {"a": 1.0}, damping="outside-trade", **kw)  # type: ignore[arg-type]
    assert other.loss_down.tolist() == pytest.approx([1.0, 0.0, 0.75, 0.375, 0.140625], abs=1e-15)


def test_cli_risk_follows_the_reference_damping(tmp_path: Path) -> None:
    """``rainforest risk FILE --stop reference --eps 0.01 --json`` on a document with
    revenue and costs: the numbers of the hand-derived network above."""
    sizes = dict(zip(REF_IDS, zip([12, 40, 32, 8, 10], [2, 4, 16, 20, 32], strict=True), strict=True))
    doc = {
        "format": "rainforest/1",
        "name": "reference damping",
        "actors": [
            {"id": a, "sector": s, "size": {"revenue": sizes[a][0], "costs": sizes[a][1]}}
            for a, s in zip(REF_IDS, ["S1", "S1", "S2", "S3", "S4"], strict=True)
        ],
        "resources": [{"id": "eur", "kind": "money", "unit": "EUR"}],
        "flows": [
            {"from": f, "to": t, "resource": "eur", "quantity": q, "input_class": c}
            for f, t, q, c in [
                ("a", "c", 6, "essential"),
                ("b", "c", 2, "essential"),
                ("d", "c", 4, "non-essential"),
                ("c", "d", 10, "non-essential"),
                ("c", "e", 6, "non-essential"),
                ("b", "e", 18, "negligible"),
            ]
        ],
    }
    path = tmp_path / "ref.json"
    path.write_text(json.dumps(doc))
    runner = CliRunner()
    result = runner.invoke(app, ["risk", str(path), "--stop", "reference", "--eps", "0.01", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["esri"]["a"] == pytest.approx(16.125 / 46, abs=1e-15)
    assert data["esri"]["e"] == pytest.approx(
        (6 * 0.1083984375 + 20 * 0.46083984375 + 16 * 0.22137451171875 + 4 * 0.1083984375) / 46, abs=1e-15
    )
    assert data["sweeps"]["e"] == 5
    result = runner.invoke(app, ["risk", str(path), "--stop", "reference", "--damping", "outside-trade", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["esri"]["a"] == pytest.approx((6 + 16 * 0.75 + 4 * 0.375) / 46)
    result = runner.invoke(app, ["risk", str(path), "--damping", "sometimes"])
    assert result.exit_code == 2


def test_reference_stop_rule_stops_at_the_first_small_sweep() -> None:
    # c fails; a sells 1 to c and 1 to b, b sells 1 to a and as much outside (revenue 2).
    # (E2) lu_a = (1 * lu_c + 1 * lu_b) / 2, lu_b = 1 * lu_a / 2: the fixed point is
    # lu_a = 2/3, lu_b = 1/3, reached geometrically (factor 1/4 a round trip), so the
    # reference rule (eps 1e-2) stops long before the fixed point does.
    net = SupplyNetwork.from_arrays(["a", "b", "c"], [0, 0, 1], [2, 1, 0], [1.0, 1.0, 1.0], revenue=[2.0, 2.0, 0.0])
    ref = cascade(net, {"c": 1.0}, stop="reference")
    fixed = cascade(net, {"c": 1.0})
    assert fixed.loss_up.tolist() == pytest.approx([2 / 3, 1 / 3, 1.0], abs=1e-13)
    assert ref.sweeps < fixed.sweeps < 200
    # start: c = 1; sweeps: 1 (a: 1/2), 2 (b: 1/4), 3 (a: 5/8), 4 (b: 5/16), 5 (a: 21/32,
    # +1/32), 6 (b: +1/64 = 0.0156), 7 (a: +1/128 <= 0.01) -> stop after sweep 7
    assert ref.sweeps == 7
    assert ref.loss_up.tolist() == pytest.approx([85 / 128, 21 / 64, 1.0])


def test_undamped_warning_and_silence() -> None:
    with pytest.warns(RainforestWarning, match="revenue"):
        cascade(small_net(), {"a": 1.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cascade(small_net(), {"a": 1.0}, damping=False)
        cascade(small_net(revenue=[6, 4, 20, 0, 10]), {"a": 1.0})


# --- properties ---------------------------------------------------------------------------


@st.composite
def networks(draw: st.DrawFn) -> SupplyNetwork:
    n = draw(st.integers(2, 9))
    m = draw(st.integers(1, 3 * n))
    src = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    dst = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    w = draw(st.lists(st.floats(0.01, 100.0), min_size=m, max_size=m))
    cls = draw(st.lists(st.sampled_from([0, 1, 2]), min_size=m, max_size=m))
    sectors = draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=n, max_size=n))
    revenue = draw(st.one_of(st.none(), st.lists(st.floats(0.0, 300.0), min_size=n, max_size=n)))
    return SupplyNetwork.from_arrays(
        [f"n{i}" for i in range(n)], src, dst, w, sector=sectors, link_class=cls, revenue=revenue
    )


def quiet_esri(*args: object, **kwargs: object) -> ESRIProfile:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RainforestWarning)
        return esri(*args, **kwargs)  # type: ignore[arg-type]


@given(networks(), st.booleans(), st.sampled_from(["fixed-point", "reference"]))
def test_losses_are_shares_and_esri_covers_the_failed_actor(net: SupplyNetwork, substitution: bool, stop: str) -> None:
    p = quiet_esri(net, substitution=substitution, stop=stop, losses=True)
    assert p.losses is not None
    assert (p.losses >= 0).all()
    assert (p.losses <= 1).all()
    w = net.out_strength
    own = w / w.sum() if w.sum() > 0 else np.zeros(net.n)
    assert (p.esri >= own - 1e-12).all()  # an actor's ESRI is at least its own weight
    assert (p.esri <= 1 + 1e-12).all()
    assert (p.esri >= np.maximum(p.esri_down, p.esri_up) - 1e-12).all()


@given(networks(), st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.booleans())
def test_more_shock_never_means_less_loss(net: SupplyNetwork, s1: float, s2: float, substitution: bool) -> None:
    lo, hi = sorted((s1, s2))
    first = net.ids[0]
    p = quiet_esri(net, scenarios={"lo": {first: lo}, "hi": {first: hi}}, substitution=substitution, losses=True)
    assert p.losses is not None
    assert (p.losses[:, 1] >= p.losses[:, 0] - 1e-12).all()
    assert p.esri[1] >= p.esri[0] - 1e-12
    both = quiet_esri(net, scenarios={"two": {first: hi, net.ids[1]: hi}}, substitution=substitution)
    assert both.esri[0] >= p.esri[1] - 1e-12  # failing one more actor never lowers the loss


@given(networks())
def test_substitution_never_increases_downstream_loss_at_the_fixed_point(net: SupplyNetwork) -> None:
    plain = quiet_esri(net, losses=True)
    subst = quiet_esri(net, substitution=True, losses=True)
    assert (subst.esri_down <= plain.esri_down + 1e-12).all()


@settings(max_examples=25)
@given(networks(), st.booleans(), st.sampled_from(["fixed-point", "reference"]))
def test_engines_agree(net: SupplyNetwork, substitution: bool, stop: str) -> None:
    a = quiet_esri(net, substitution=substitution, stop=stop, engine="numpy", losses=True)
    b = quiet_esri(net, substitution=substitution, stop=stop, engine="compiled", losses=True)
    assert a.losses is not None
    assert b.losses is not None
    np.testing.assert_array_equal(a.sweeps, b.sweeps)
    np.testing.assert_allclose(a.losses, b.losses, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.esri, b.esri, rtol=0, atol=1e-12)


def test_batches_do_not_change_numbers() -> None:
    net = heavy_tailed(300)
    one = quiet_esri(net, engine="numpy", batch=1)
    many = quiet_esri(net, engine="numpy", batch=64)
    np.testing.assert_array_equal(one.esri, many.esri)
    np.testing.assert_array_equal(one.sweeps, many.sweeps)


@pytest.mark.parametrize("substitution", [False, True])
def test_the_compiled_engines_threads_do_not_change_numbers(substitution: bool) -> None:
    """Each sweep's rows are split among the threads: the same numbers with 1 and 2 of them."""
    from rainforest.analysis.cascade import threads

    net = heavy_tailed(300)
    with threads(1):
        one = quiet_esri(net, engine="compiled", substitution=substitution, losses=True)
    with threads(2):
        two = quiet_esri(net, engine="compiled", substitution=substitution, losses=True)
    np.testing.assert_array_equal(one.esri, two.esri)
    np.testing.assert_array_equal(one.sweeps, two.sweeps)
    np.testing.assert_array_equal(one.losses, two.losses)


def heavy_tailed(n: int, seed: int = 7) -> SupplyNetwork:
    rng = np.random.default_rng(seed)
    fit = rng.pareto(1.3, n) + 1.0
    m = 8 * n
    src = rng.choice(n, m, p=fit / fit.sum())
    dst = rng.choice(n, m, p=fit[::-1] / fit.sum())
    keep = src != dst
    sector = rng.integers(0, 10, n)
    table = rng.choice(3, size=(10, 10), p=[0.71, 0.12, 0.17])
    return SupplyNetwork.from_arrays(
        [f"f{i}" for i in range(n)],
        src[keep],
        dst[keep],
        rng.lognormal(0, 1.5, keep.sum()),
        sector=[f"s{k}" for k in sector],
        link_class=table[sector[src[keep]], sector[dst[keep]]],
    )


def hub_network(n: int = 300, seed: int = 11) -> SupplyNetwork:
    """heavy_tailed plus two hubs (actor 0 sells to a third of the actors, actor 1 buys from
    a third), with revenue and costs for every actor (the network carries 30-100%)."""
    base = heavy_tailed(n, seed)
    rng = np.random.default_rng(seed)
    fans = rng.choice(np.arange(2, n), size=n // 3, replace=False)
    src = np.concatenate([base.supplier, np.zeros(len(fans), dtype=np.int64), fans])
    dst = np.concatenate([base.customer, fans, np.ones(len(fans), dtype=np.int64)])
    w = np.concatenate([base.weight, rng.lognormal(0, 1, 2 * len(fans))])
    cls = np.concatenate([base.link_class, rng.choice(3, size=2 * len(fans))])
    s_out = np.bincount(src, weights=w, minlength=n)
    s_in = np.bincount(dst, weights=w, minlength=n)
    return SupplyNetwork.from_arrays(
        base.ids,
        src,
        dst,
        w,
        sector=[base.sectors[k] for k in base.sector],
        link_class=cls,
        revenue=s_out / rng.uniform(0.3, 1.0, n),
        costs=s_in / rng.uniform(0.3, 1.0, n),
    )


@pytest.mark.parametrize("substitution", [False, True])
@pytest.mark.parametrize("stop", ["fixed-point", "reference"])
def test_engines_agree_on_a_hub_network(substitution: bool, stop: str) -> None:
    """Hubs with a hundred customers (suppliers) and the reference damping: the numpy and
    compiled engines give the same sweeps and the same losses, on 1 and 2 threads."""
    from rainforest.analysis.cascade import threads

    net = hub_network()
    assert np.bincount(net.supplier).max() >= 100
    a = esri(net, substitution=substitution, stop=stop, engine="numpy", losses=True)  # type: ignore[arg-type]
    with threads(1):
        b = esri(net, substitution=substitution, stop=stop, engine="compiled", losses=True)  # type: ignore[arg-type]
    with threads(2):
        c = esri(net, substitution=substitution, stop=stop, engine="compiled", losses=True)  # type: ignore[arg-type]
    assert a.losses is not None
    assert b.losses is not None
    np.testing.assert_array_equal(a.sweeps, b.sweeps)
    np.testing.assert_allclose(a.losses, b.losses, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.esri, b.esri, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(b.esri, c.esri)
    np.testing.assert_array_equal(b.sweeps, c.sweeps)
    assert a.sweeps.max() > 2  # the cascades do spread


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_numbers() -> None:
    net = heavy_tailed(400)
    local = quiet_esri(net, stop="reference", substitution=True)
    distributed = quiet_esri(net, stop="reference", substitution=True, executor="dask", workers=2)
    np.testing.assert_array_equal(local.esri, distributed.esri)
    np.testing.assert_array_equal(local.esri_down, distributed.esri_down)
    np.testing.assert_array_equal(local.sweeps, distributed.sweeps)


# --- from a document and the CLI ----------------------------------------------------------

DOC = {
    "format": "rainforest/1",
    "name": "hand-checked supply network",
    "actors": [
        {"id": "a", "sector": "S1"},
        {"id": "b", "sector": "S2"},
        {"id": "c", "sector": "S3"},
        {"id": "d", "sector": "S4"},
        {"id": "e", "sector": "S5"},
    ],
    "resources": [{"id": "eur", "kind": "money", "unit": "EUR"}],
    "flows": [
        {"from": "a", "to": "c", "resource": "eur", "quantity": 6},
        {"from": "b", "to": "c", "resource": "eur", "quantity": 4},
        {"from": "e", "to": "c", "resource": "eur", "quantity": 10, "input_class": "negligible"},
        {"from": "d", "to": "c", "resource": "eur", "quantity": 10, "kind": "payment"},
    ],
    "essentiality": [{"supplier_sector": "S1", "customer_sector": "S3", "class": "essential"}],
}


def test_from_ecosystem_reads_classes_payments_and_sectors(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(DOC))
    net = SupplyNetwork.from_ecosystem(rf.load(path))
    links = sorted(zip(net.supplier.tolist(), net.customer.tolist(), net.link_class.tolist(), strict=True))
    # the payment d -> c is the supply c -> d
    assert links == [(0, 2, ESSENTIAL), (1, 2, NON_ESSENTIAL), (2, 3, NON_ESSENTIAL), (4, 2, NEGLIGIBLE)]
    r = cascade(rf.load(path), {"a": 1.0}, damping=False)
    assert r.esri == pytest.approx(16 / 30)


def test_cli_risk_contract(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(DOC))
    runner = CliRunner()
    result = runner.invoke(app, ["risk", str(path), "--json", "--no-damping"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"esri", "esri_down", "esri_up", "sweeps"}
    assert data["esri"]["a"] == pytest.approx(16 / 30)
    assert data["sweeps"]["a"] == 3
    assert set(data["esri"]) == set(IDS)
    # --actors as repeated, comma-separated and space-separated values; --losses
    for args in (["--actors", "a", "--actors", "b"], ["--actors", "a,b"], ["--actors", "a", "b"]):
        result = runner.invoke(app, ["risk", str(path), *args, "--json", "--losses", "--stop", "reference"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert list(data["esri"]) == ["a", "b"]
        assert data["losses"]["a"]["d"] == pytest.approx(1.0)
    # a partial shock and a sector shock form one scenario
    result = runner.invoke(app, ["risk", str(path), "--shock", "b=0.5", "--json", "--no-damping"])
    assert json.loads(result.stdout)["esri"] == {"b=0.5": pytest.approx(0.1)}
    result = runner.invoke(app, ["risk", str(path), "--sector", "S1=1", "--json", "--no-damping"])
    assert json.loads(result.stdout)["esri"] == {"sector:S1=1": pytest.approx(16 / 30)}


def test_cli_risk_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(DOC))
    runner = CliRunner()
    result = runner.invoke(app, ["risk", str(path), "--actors", "zz", "--json"])
    assert result.exit_code == 2
    assert "zz" in json.loads(result.stdout)["error"]
    result = runner.invoke(app, ["risk", str(path), "--stop", "soon"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["risk", str(path), "--shock", "b=2"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["risk", str(path), "--weights", "nonsense", "--json"])
    assert result.exit_code == 2


def test_cli_risk_warns_without_revenue(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(DOC))
    result = CliRunner().invoke(app, ["risk", str(path), "--json"])
    assert result.exit_code == 0
    assert "revenue" in result.stderr
    json.loads(result.stdout)  # stdout stays pure JSON


def test_weights_columns(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(DOC))
    for actor, employees in zip(doc["actors"], [1, 1, 1, 1, 0], strict=True):
        actor["size"] = {"employees": employees}
    path = tmp_path / "net.json"
    path.write_text(json.dumps(doc))
    r = cascade(rf.load(path), {"a": 1.0}, weights="employees", damping=False)
    assert r.esri == pytest.approx(3 / 4)  # a, c and d stop: 3 of the 4 employees
    assert math.isfinite(r.esri)
