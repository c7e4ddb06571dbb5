"""Mixed-integer linear programs and the engines that solve them.

Every optimisation in :mod:`rainforest.optimize` builds a :class:`MILP` and hands it to a
:class:`Solver`: an object with one method, ``solve(problem)``. :class:`HighsSolver` is
the engine (HiGHS, through SciPy); :class:`EnumerationSolver` is an independent second
engine for small problems (every assignment of the binary variables, an LP each) used to
check the first in the tests.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from rainforest.errors import RainforestError

__all__ = ["MILP", "EnumerationSolver", "HighsSolver", "Solution", "Solver", "SolverError", "native_stdout_to_stderr"]


class SolverError(RainforestError, RuntimeError):
    """The solver could not solve a problem (infeasible, unbounded, failed)."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class MILP:
    """minimise ``c @ x`` subject to ``row_lower <= A @ x <= row_upper``,
    ``lower <= x <= upper``, ``x[i]`` integer where ``integer[i]``."""

    c: npt.NDArray[np.float64]
    A: Any  # scipy sparse, rows x len(c)
    row_lower: npt.NDArray[np.float64]
    row_upper: npt.NDArray[np.float64]
    lower: npt.NDArray[np.float64]
    upper: npt.NDArray[np.float64]
    integer: npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Solution:
    """A solver's answer: the variables, the objective, the proven gap and the bound."""

    x: npt.NDArray[np.float64]
    objective: float
    gap: float
    bound: float
    status: str
    engine: str


class Solver(Protocol):
    """The one-method interface every optimisation engine implements."""

    def solve(self, problem: MILP) -> Solution:
        """Solve ``problem`` or raise :class:`SolverError`."""
        ...


def _flush_c_stdio() -> None:
    """Flush the C library's stdio buffers (where a native library's printf waits)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # no C library handle (Windows)
        ctypes.CDLL(None).fflush(None)


class _StdoutRedirect:
    """File descriptor 1 pointed at 2 while anyone is inside (a count under a lock)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.saved: int | None = None

    def enter(self) -> None:
        with self.lock:
            if self.depth == 0:
                try:
                    sys.stdout.flush()
                    _flush_c_stdio()
                    self.saved = os.dup(1)
                    os.dup2(2, 1)
                except OSError:  # pragma: no cover - no descriptors 1 and 2 to work with
                    self.saved = None
            self.depth += 1

    def leave(self) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth == 0 and self.saved is not None:
                _flush_c_stdio()
                os.dup2(self.saved, 1)
                os.close(self.saved)
                self.saved = None


_REDIRECT = _StdoutRedirect()


@contextlib.contextmanager
def native_stdout_to_stderr() -> Iterator[None]:
    """Send what native code prints to standard output to standard error meanwhile.

    HiGHS's MIP solver prints stray debugging lines with ``printf`` whatever its display
    option (``HighsMipSolverData::transformNewIntegerFeasibleSolution ...``); on standard
    output they would break a command's ``--json`` answer. The redirection is of file
    descriptor 1 for the whole process (threads solving at the same time share it; the
    last one out restores it), so Python output of other threads during a solve goes to
    standard error too."""
    _REDIRECT.enter()
    try:
        yield
    finally:
        _REDIRECT.leave()


@dataclass(frozen=True)
class HighsSolver:
    """HiGHS branch-and-cut through :func:`scipy.optimize.milp`.

    Parameters
    ----------
    time_limit_s:
        Wall-time limit; the best solution found is returned with its proven gap.
    gap:
        Relative MIP gap at which to stop (1e-4 = 0.01 %).
    """

    time_limit_s: float = 60.0
    gap: float = 1e-4

    def solve(self, problem: MILP) -> Solution:
        """Solve with HiGHS."""
        from scipy.optimize import Bounds, LinearConstraint, milp

        run: Any = milp
        with native_stdout_to_stderr():
            result = run(
                problem.c,
                constraints=[LinearConstraint(problem.A, problem.row_lower, problem.row_upper)]
                if problem.A.shape[0]
                else None,
                bounds=Bounds(problem.lower, problem.upper),
                integrality=problem.integer.astype(np.int8),
                options={"time_limit": self.time_limit_s, "mip_rel_gap": self.gap, "disp": False},
            )
        if result.x is None:
            status = {2: "infeasible", 3: "unbounded"}.get(result.status, "failed")
            raise SolverError(f"HiGHS: {result.message}", status)
        gap = float(getattr(result, "mip_gap", 0.0) or 0.0)
        bound = float(getattr(result, "mip_dual_bound", result.fun) or result.fun)
        status = "optimal" if result.status == 0 else "time limit"
        return Solution(np.asarray(result.x, dtype=np.float64), float(result.fun), gap, bound, status, "highs")


@dataclass(frozen=True)
class EnumerationSolver:
    """Exact by enumeration: every 0/1 assignment of the integer variables, an LP each.

    Independent of HiGHS's branch-and-bound; for problems of up to ``max_integers``
    binary variables (the tests' agreement checks).
    """

    max_integers: int = 14

    def solve(self, problem: MILP) -> Solution:
        """Solve by enumerating the binaries."""
        from scipy.optimize import linprog

        run: Any = linprog
        ints = np.flatnonzero(problem.integer)
        if ints.size > self.max_integers:
            raise SolverError(
                f"{ints.size} integer variables; enumeration handles at most {self.max_integers}", "failed"
            )
        if np.any(problem.lower[ints] < 0) or np.any(problem.upper[ints] > 1):
            raise SolverError("enumeration handles 0/1 integer variables only", "failed")
        A = problem.A.tocsr()
        finite_up = np.isfinite(problem.row_upper)
        finite_lo = np.isfinite(problem.row_lower)
        A_ub = np.vstack([A[finite_up].toarray(), -A[finite_lo].toarray()]) if A.shape[0] else None
        b_ub = np.concatenate([problem.row_upper[finite_up], -problem.row_lower[finite_lo]]) if A.shape[0] else None
        best: Solution | None = None
        for bits in itertools.product((0.0, 1.0), repeat=int(ints.size)):
            lower, upper = problem.lower.copy(), problem.upper.copy()
            lower[ints] = bits
            upper[ints] = bits
            result = run(problem.c, A_ub=A_ub, b_ub=b_ub, bounds=list(zip(lower, upper, strict=True)), method="highs")
            if result.status == 0 and (best is None or result.fun < best.objective - 1e-12):
                best = Solution(
                    np.asarray(result.x), float(result.fun), 0.0, float(result.fun), "optimal", "enumeration"
                )
        if best is None:
            raise SolverError("no assignment of the binary variables is feasible", "infeasible")
        return best


def unbounded_rows(n: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Row bounds (-inf, +inf) for ``n`` rows."""
    return np.full(n, -math.inf), np.full(n, math.inf)
