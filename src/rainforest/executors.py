"""Where parallel work runs: one ``executor=`` vocabulary for every function that fans out.

========================  ===================================================================
``executor=``             runs the work
========================  ===================================================================
``"serial"`` (default)    in this process, one piece after the other
``"threads"``             a ``concurrent.futures.ThreadPoolExecutor`` of ``workers`` threads
``"processes"``           a ``concurrent.futures.ProcessPoolExecutor`` of ``workers`` processes
                          (started by a fork server, or spawned, never forked from the caller)
``"dask"``                a Dask ``LocalCluster`` of ``workers`` single-threaded processes
``"dask:ADDRESS"``        the Dask scheduler at ``ADDRESS`` (``"dask:tcp://10.0.0.5:8786"``)
an ``Executor``           that ``concurrent.futures.Executor``, used as is (never shut down)
a ``distributed.Client``  that Dask client's cluster, used as is (never closed)
========================  ===================================================================

The numbers never depend on the executor: each function splits its work the same way
whatever runs it, and seeds every piece from a ``numpy.random.SeedSequence``. The Dask
executors need the ``dask`` extra (``pip install 'rainforest[dask]'``).

The spellings used before this vocabulary (``"inline"``, ``"local"``, ``"thread"``,
``"process"``) still work and warn (:class:`DeprecationWarning`).

Randomness follows the same rule everywhere: an ``rng`` parameter takes an integer seed,
a ``numpy.random.SeedSequence`` or a ``numpy.random.Generator`` (:func:`seed_sequence`).
"""

from __future__ import annotations

import multiprocessing
import warnings
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np

from rainforest.errors import ExecutorError as ExecutorError  # noqa: PLC0414 - re-exported: its old address

__all__ = ["EXECUTORS", "ExecutorName", "ExecutorSpec", "RandomState", "executor", "normalise", "seed_sequence"]

ExecutorName = Literal["serial", "threads", "processes", "dask"]
#: The names (``"dask:ADDRESS"`` besides).
EXECUTORS: tuple[str, ...] = ("serial", "threads", "processes", "dask")
#: A name, ``"dask:ADDRESS"``, a ``concurrent.futures.Executor`` or a ``distributed.Client``.
ExecutorSpec = str | Executor | Any
#: What an ``rng`` parameter takes: a seed, a seed sequence or a generator.
RandomState = int | np.random.SeedSequence | np.random.Generator | None

_OLD_NAMES = {"inline": "serial", "local": "processes", "thread": "threads", "process": "processes"}


def normalise(spec: ExecutorSpec | None, *, parameter: str = "executor") -> ExecutorSpec:
    """The executor in today's vocabulary: ``None`` is ``"serial"``; an old spelling is
    translated with a :class:`DeprecationWarning`; an unknown name raises.

    Raises
    ------
    RainforestError
        (also a ``ValueError``) for a name that is none of the above.
    """
    if spec is None:
        return "serial"
    if not isinstance(spec, str):
        return spec
    if spec in _OLD_NAMES:
        new = _OLD_NAMES[spec]
        warnings.warn(
            f"{parameter}={spec!r} is now {parameter}={new!r}; the old name will be removed in a future release",
            DeprecationWarning,
            stacklevel=3,
        )
        return new
    if spec in EXECUTORS or (spec.startswith("dask:") and len(spec) > len("dask:")):
        return spec
    raise ExecutorError(
        f"The {parameter!r} parameter must be one of {', '.join(map(repr, EXECUTORS))}, 'dask:ADDRESS', a "
        f"concurrent.futures.Executor or a distributed.Client. Got {spec!r} instead."
    )


def is_dask_client(spec: Any) -> bool:
    """Whether ``spec`` is a ``distributed.Client`` (without importing Dask)."""
    return type(spec).__name__ == "Client" and type(spec).__module__.startswith("distributed")


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ExecutorError("the Dask executors need the 'dask' extra: pip install 'rainforest[dask]'") from None
    return distributed


@contextmanager
def dask_client(spec: ExecutorSpec, workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` for ``"dask"``, ``"dask:ADDRESS"`` or a client (used as is);
    what this opens it closes."""
    if is_dask_client(spec):
        yield spec
        return
    dist = _distributed()
    address = str(spec).partition(":")[2]
    if address:
        client = dist.Client(address)
        try:
            yield client
        finally:
            client.close()
        return
    with (
        dist.LocalCluster(
            n_workers=workers or 2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        dist.Client(cluster) as client,
    ):
        yield client


@contextmanager
def executor(
    spec: ExecutorSpec | None, workers: int | None = None, **process_options: Any
) -> Iterator[Executor | None]:
    """A ``concurrent.futures.Executor`` for ``spec`` (``None`` for ``"serial"``), shut down
    on leaving when this opened it. ``process_options`` go to ``ProcessPoolExecutor``
    (e.g. ``mp_context``)."""
    spec = normalise(spec)
    if spec == "serial":
        yield None
        return
    if isinstance(spec, Executor):
        yield spec
        return
    if spec == "threads":
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rainforest") as pool:
            yield pool
        return
    if spec == "processes":
        # workers start from a fresh server process, not a fork of this one: a fork of a
        # process whose numba kernels already ran OpenMP threads dies ("fork() called from
        # a process already using GNU OpenMP")
        methods = multiprocessing.get_all_start_methods()
        process_options.setdefault(
            "mp_context", multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        )
        with ProcessPoolExecutor(max_workers=workers, **process_options) as pool:
            yield pool
        return
    with dask_client(spec, workers) as client:
        yield client.get_executor()


def seed_sequence(rng: RandomState) -> np.random.SeedSequence:
    """The ``SeedSequence`` behind an ``rng`` argument.

    An integer (or ``None``: fresh entropy) seeds a new sequence; a sequence is used as is;
    a ``Generator`` gives a seed drawn from it (so it advances, and two calls with the
    same generator give different, reproducible sequences), whose integer is recorded.
    """
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(int(rng.integers(2**63)))
    if rng is None or (isinstance(rng, int | np.integer) and not isinstance(rng, bool)):
        return np.random.SeedSequence(None if rng is None else int(rng))
    raise ExecutorError(
        "The 'rng' parameter must be an int, a numpy.random.SeedSequence, a numpy.random.Generator or None. "
        f"Got {rng!r} instead."
    )
