"""Compiled kernel of the regional block-Jacobi solver in :mod:`rainforest.analysis.mrio`.

``plus_csr_matmat(indptr, indices, data, X, B)`` returns ``B + O X`` for a CSR matrix ``O``
and a C-ordered ``X`` with many columns: rows are split among numba's threads (each output
row is written by one thread only, so the numbers do not depend on the thread count) and
the innermost loop runs along a row of ``X``, which the compiler vectorises. scipy's
``csr_matvecs`` does the same on one thread.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


@cache
def plus_csr_matmat() -> Callable[..., Array]:
    """The compiled kernel (compiled on first use, cached on disk by numba)."""
    import numba

    @numba.njit(parallel=True, cache=True)
    def kernel(indptr: Any, indices: Any, data: Any, X: Any, B: Any) -> Any:  # pragma: no cover - compiled
        n, m = B.shape
        out = B.copy()
        for i in numba.prange(n):
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                v = data[p]
                for c in range(m):
                    out[i, c] += v * X[j, c]
        return out

    return kernel
