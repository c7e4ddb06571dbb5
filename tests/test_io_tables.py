"""Input-output analysis against Miller & Blair's textbook example."""

from __future__ import annotations

import numpy as np
import pytest

import rainforest as rf
from rainforest.analysis import io_tables as io


def miller_blair() -> io.IOTable:
    """Miller, R.E. & Blair, P.D. (2009) Input-Output Analysis, 2nd ed., section 2.3:
    Z = [[150, 500], [200, 100]], f = [350, 1700], x = [1000, 2000]."""
    fm = rf.FlowMatrix.from_arrays(
        [[150, 500], [200, 100]], inputs=[0, 0], exports=[350, 1700], losses=[0, 0], ids=["s1", "s2"]
    )
    return io.io_table(fm)


def test_miller_and_blair_two_sector_example() -> None:
    table = miller_blair()
    np.testing.assert_allclose(table.x, [1000, 2000])
    np.testing.assert_allclose(table.f, [350, 1700])
    np.testing.assert_allclose(io.technical_coefficients(table).toarray(), [[0.15, 0.25], [0.2, 0.05]])
    np.testing.assert_allclose(io.leontief_inverse(table), [[0.95, 0.25], [0.2, 0.85]] / np.float64(0.7575), rtol=1e-12)
    # the book's new final demand f = (600, 1500) calls for x = (1247.52, 1841.58)
    np.testing.assert_allclose(io.output_for(table, [600, 1500]), [1247.52, 1841.58], atol=0.01)
    multipliers = io.output_multipliers(table)
    assert multipliers["s1"] == pytest.approx((0.95 + 0.2) / 0.7575)
    assert multipliers["s2"] == pytest.approx((0.25 + 0.85) / 0.7575)


def test_ghosh_model() -> None:
    table = miller_blair()
    B = np.array([[150 / 1000, 500 / 1000], [200 / 2000, 100 / 2000]])
    G = np.linalg.inv(np.eye(2) - B)
    np.testing.assert_allclose(io.ghosh_inverse(table), G)
    assert io.supply_multipliers(table)["s1"] == pytest.approx(G[0].sum())
    # value added v = x - Z' 1 reproduces output through the Ghosh inverse: x' = v' G
    v = table.x - np.asarray(table.Z.sum(axis=0)).ravel()
    np.testing.assert_allclose(v @ G, table.x)


def test_hypothetical_extraction() -> None:
    """Removing sector 1 leaves sector 2 alone: x2 = 1700 / (1 - 0.05); removing sector 2
    leaves x1 = 350 / (1 - 0.15)."""
    loss = io.hypothetical_extraction(miller_blair())
    assert loss["s1"] == pytest.approx(3000 - 1700 / 0.95)
    assert loss["s2"] == pytest.approx(3000 - 350 / 0.85)
    with pytest.raises(rf.UnknownIdError):
        io.hypothetical_extraction(miller_blair(), ["s3"])


def test_extraction_matches_direct_re_solving_on_a_synthetic_economy() -> None:
    fm = rf.FlowMatrix.from_ecosystem(rf.datasets.synthetic(n_actors=200, rng=3), "money")
    table = io.io_table(fm)
    A = io.technical_coefficients(table).toarray()
    chosen = list(table.ids[:5])
    loss = io.hypothetical_extraction(table, chosen)
    for a in chosen:
        k = table.ids.index(a)
        keep = [i for i in range(table.n) if i != k]
        reduced = np.linalg.solve(np.eye(table.n - 1) - A[np.ix_(keep, keep)], table.f[keep])
        assert loss[a] == pytest.approx(table.x.sum() - reduced.sum(), rel=1e-9)


def test_dense_inverses_name_the_limit() -> None:
    with pytest.raises(rf.SizeLimitError, match="force_dense=True"):
        io.leontief_inverse(miller_blair(), dense_limit=1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_iterative_and_lu_solvers_agree(seed: int) -> None:
    """Above LU_LIMIT nonzeros per column the Neumann iteration replaces sparse LU (which
    fills in to nearly dense); both give the dense inverse's answers."""
    rng = np.random.default_rng(seed)
    n = 300
    Z = rng.random((n, n)) * (rng.random((n, n)) < 0.2)  # 60 nonzeros per column
    f = rng.random(n) * 50 + 1
    x = Z.sum(axis=0) / 0.6 + Z.sum(axis=1)  # column sums of A below 0.6: value added everywhere
    fm = rf.FlowMatrix.from_arrays(Z, inputs=np.zeros(n), exports=x - Z.sum(axis=1), losses=np.zeros(n))
    table = io.io_table(fm)
    L = io.leontief_inverse(table)
    assert io._Solver(io.technical_coefficients(table)).method == "iterative"
    for method in ("lu", "iterative"):
        m = io.output_multipliers(table, method=method)
        np.testing.assert_allclose(list(m.values()), L.sum(axis=0), rtol=1e-12)
        np.testing.assert_allclose(io.output_for(table, f, method=method), L @ f, rtol=1e-12)
        s = io.supply_multipliers(table, method=method)
        np.testing.assert_allclose(list(s.values()), io.ghosh_inverse(table).sum(axis=1), rtol=1e-12)
    chosen = list(table.ids[:5])
    lu = io.hypothetical_extraction(table, chosen, method="lu")
    it = io.hypothetical_extraction(table, chosen, method="iterative")
    assert lu == pytest.approx(it, rel=1e-10)


def test_iterative_solver_needs_a_contraction() -> None:
    fm = rf.FlowMatrix.from_arrays([[0, 5], [5, 0]], inputs=[0, 0], exports=[0, 0], losses=[0, 0])
    table = io.io_table(fm)
    with pytest.raises(ValueError, match="contraction"):
        io.output_for(table, [1, 1], method="iterative")


@pytest.mark.parametrize("name", ["IOSystem", "Extension", "ExtensionAccounts"])
def test_the_mrio_names_still_resolve_here_with_a_warning(name: str) -> None:
    from rainforest.analysis import mrio

    with pytest.warns(DeprecationWarning, match=f"io_tables.{name} is deprecated: import it from"):
        moved = getattr(io, name)
    assert moved is getattr(mrio, name)
    assert name not in io.__all__


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        io.nothing  # noqa: B018
