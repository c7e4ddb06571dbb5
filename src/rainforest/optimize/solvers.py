"""Mixed-integer linear programs and the engines that solve them.

Every optimisation in :mod:`rainforest.optimize` builds a :class:`MILP` and hands it to a
:class:`Solver`: an object with one method, ``solve(problem)``. :class:`HighsSolver` is
the engine (HiGHS, through its own Python interface); :class:`EnumerationSolver` is an independent second
engine for small problems (every assignment of the binary variables, an LP each) used to
check the first in the tests.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from rainforest.errors import SolverError

__all__ = ["MILP", "EnumerationSolver", "HighsSolver", "Solution", "Solver", "SolverError", "quiet_native_stdout"]


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
    start: npt.NDArray[np.float64] | None = None
    """A feasible point to start from (a warm start): an engine that can use one begins
    with it as its incumbent, so its answer is never worse; others ignore it."""


@dataclass(frozen=True)
class Solution:
    """A solver's answer: the variables, the objective, the proven gap and the bound.

    ``bound`` is the proven lower bound on the (minimised) objective and ``gap`` the
    relative distance between the two, ``(objective - bound) / |objective|``; ``status``
    is ``'optimal'`` when the engine stopped because the gap reached its tolerance and
    ``'time limit'`` when it ran out of time first; ``time_s`` is the wall time spent.
    """

    x: npt.NDArray[np.float64]
    objective: float
    gap: float
    bound: float
    status: str
    engine: str
    time_s: float = 0.0


class Solver(Protocol):
    """The one-method interface every optimisation engine implements."""

    def solve(self, problem: MILP) -> Solution:
        """Solve ``problem`` or raise :class:`SolverError`."""
        ...


def _flush_c_stdio() -> None:
    """Flush the C library's stdio buffers (where a native library's printf waits)."""
    with contextlib.suppress(OSError, AttributeError):  # no C library handle (Windows)
        ctypes.CDLL(None).fflush(None)


class _StdoutRedirect:
    """File descriptor 1 pointed at the null device while anyone is inside (a count under
    a lock)."""

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
                    null = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(null, 1)
                    os.close(null)
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
def quiet_native_stdout() -> Iterator[None]:
    """Discard what native code prints to standard output meanwhile.

    HiGHS prints its banner when a solver is created, and its MIP solver stray debugging
    lines with ``printf`` (``HighsMipSolverData::transformNewIntegerFeasibleSolution ...``),
    whatever its display option; on standard output they would break a command's
    ``--json`` answer. The redirection is of file descriptor 1 for the whole process
    (threads solving at the same time share it; the last one out restores it), so what
    other threads print to standard output during a solve is lost too: the library
    itself prints nothing there, and logs go to standard error."""
    _REDIRECT.enter()
    try:
        yield
    finally:
        _REDIRECT.leave()


@dataclass(frozen=True)
class HighsSolver:
    """HiGHS branch-and-cut through its own Python interface (``highspy``).

    Parameters
    ----------
    time_limit_s:
        Wall-time limit; the best solution found is returned with its proven gap.
    gap:
        Relative MIP gap at which to stop (1e-4 = 0.01 %).
    threads:
        Threads HiGHS may use (``None``: its default). HiGHS keeps one thread pool per
        process, set by the first solve: every solve of a process must ask for the same
        number (the bench asks for one).
    heuristic_effort:
        Share of the branch-and-bound effort spent on primal heuristics (HiGHS's
        ``mip_heuristic_effort``; ``None``: its default, 0.05). On the bench's fixed-cost
        plan, 0.2 and 0.05 gave the same plan and gap in the same 60 s (the start
        :func:`rainforest.optimize.exchanges.plan` gives HiGHS mattered more).
    options:
        Further HiGHS options by name, applied last.
    progress:
        Called as the branch-and-bound goes, ``progress(seconds, nodes, primal, bound)``
        (HiGHS's wall time, nodes explored, the best plan's objective and the proven
        bound, minimised; infinite while unknown): the first finite bound is the LP
        relaxation's, the last one before the first node is the root's after HiGHS's
        cuts. A few dozen calls a minute (the bench's bound trace, ``--bounds``).
    """

    time_limit_s: float = 60.0
    gap: float = 1e-4
    threads: int | None = None
    heuristic_effort: float | None = None
    options: tuple[tuple[str, Any], ...] = ()
    progress: Callable[[float, int, float, float], None] | None = None

    def solve(self, problem: MILP) -> Solution:
        """Solve with HiGHS."""
        import highspy

        A = sp.csc_array(problem.A)
        lp = highspy.HighsLp()
        lp.num_col_ = int(problem.c.size)
        lp.num_row_ = int(A.shape[0])
        lp.col_cost_ = np.asarray(problem.c, dtype=np.float64)
        lp.col_lower_ = np.asarray(problem.lower, dtype=np.float64)
        lp.col_upper_ = np.asarray(problem.upper, dtype=np.float64)
        lp.row_lower_ = np.asarray(problem.row_lower, dtype=np.float64)
        lp.row_upper_ = np.asarray(problem.row_upper, dtype=np.float64)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data.astype(np.float64)
        mip = bool(problem.integer.any())
        if mip:
            kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
            lp.integrality_ = [kinds[int(b)] for b in problem.integer]
        started = time.perf_counter()
        with quiet_native_stdout():  # its banner and stray debugging lines
            h = highspy.Highs()  # type: ignore[no-untyped-call]  # its __init__ has no annotations
            h.setOptionValue("output_flag", False)
            h.setOptionValue("time_limit", float(self.time_limit_s))
            h.setOptionValue("mip_rel_gap", float(self.gap))
            if self.threads is not None:
                h.setOptionValue("threads", int(self.threads))
            if self.heuristic_effort is not None:
                h.setOptionValue("mip_heuristic_effort", float(self.heuristic_effort))
            for name, value in self.options:
                h.setOptionValue(name, value)
            h.passModel(lp)
            if mip and self.progress is not None:
                report = self.progress

                def interrupt(event: Any) -> None:
                    out = event.data_out
                    report(
                        float(out.running_time),
                        int(out.mip_node_count),
                        float(out.mip_primal_bound),
                        float(out.mip_dual_bound),
                    )

                h.cbMipInterrupt.subscribe(interrupt)
            if mip and problem.start is not None:
                start = np.asarray(problem.start, dtype=np.float64)
                h.setSolution(int(start.size), np.arange(start.size, dtype=np.int32), start)
            ran = h.run()
            status = h.getModelStatus()
            if status == highspy.HighsModelStatus.kUnboundedOrInfeasible:  # presolve could not tell which
                h.setOptionValue("presolve", "off")
                h.run()
                status = h.getModelStatus()
        if ran == highspy.HighsStatus.kError and self.threads is not None:
            raise SolverError(
                f"HiGHS did not run with threads={self.threads}: its thread pool was started with another "
                "number by an earlier solve in this process; every solve of a process must ask for the same number",
                "failed",
            )
        info = h.getInfo()
        has_solution = info.primal_solution_status == 2  # a feasible point
        if status == highspy.HighsModelStatus.kInfeasible:
            raise SolverError("HiGHS: the problem is infeasible", "infeasible")
        if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            raise SolverError("HiGHS: the problem is unbounded", "unbounded")
        if not has_solution:
            raise SolverError(f"HiGHS: {h.modelStatusToString(status)}, no feasible solution found", "failed")
        objective = float(info.objective_function_value)
        if mip:
            gap = float(info.mip_gap)
            bound = float(info.mip_dual_bound)
        else:
            gap, bound = 0.0, objective
        if not math.isfinite(gap):  # no bound yet (stopped before the root finished)
            gap = math.inf
        done = "optimal" if status == highspy.HighsModelStatus.kOptimal else "time limit"
        x = np.asarray(h.getSolution().col_value, dtype=np.float64)
        return Solution(x, objective, gap, bound, done, "highs", time.perf_counter() - started)


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
