"""Long work outside the request: the analyses (the health report), the exchange plan, the
all-actor risk profile and simulations.

A page or an API call queues a job in the store (:meth:`rainforest.web.records.JobQueue.submit`) and
hands its id to the :class:`Worker`; the worker runs it on a thread pool (the default), a
process pool or a Dask cluster. Whatever runs it claims the job, records its progress in the
store as it goes (pages poll it) and stores the result there, so results outlive the server
and several server processes share them.

>>> import rainforest as rf
>>> from rainforest.store import Store
>>> from rainforest.web.records import JobQueue
>>> store = Store("sqlite://")
>>> _ = store.create("k", rf.datasets.kalundborg(), author="demo")
>>> queue = JobQueue(store)
>>> job = queue.submit("k", "analyses", author="demo")
>>> with Worker(store) as worker:
...     worker.start(job).result()  # wait here; pages poll the store instead
'done'
>>> done = queue.job("k", job.id)
>>> done.status, done.progress
('done', 1.0)
>>> [n["label"] for n in done.summary["key_numbers"]][:2]
['exchanged between members', 'residues put to use']
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from typing import Any

from rainforest import report
from rainforest.assessment import ExchangePlan
from rainforest.choices import Objective
from rainforest.errors import (
    CurrencyError,
    ExecutorError,
    ParameterError,
    RainforestError,
    RainforestWarning,
    check_choice,
    in_words_of,
)
from rainforest.executors import normalise
from rainforest.model.ecosystem import Ecosystem
from rainforest.optimize import exchanges
from rainforest.report import to_json
from rainforest.store import Store, crash_point
from rainforest.web.records.jobs import Job, JobQueue

__all__ = ["EXECUTORS", "LIMITS", "MECHANISMS", "Worker", "availability", "mechanism_notes", "run", "run_by_url"]

log = logging.getLogger("rainforest.web")

#: Where jobs run: ``thread`` (a pool in the server process), ``process`` (a pool of worker
#: processes, started fresh) or ``dask`` (a ``LocalCluster``; ``dask:ADDRESS`` for a running
#: scheduler).
EXECUTORS = ("threads", "processes", "dask")  # rainforest.executors' words; "serial" would run in requests

#: Bounds on what one request may ask for.
LIMITS = {"periods": 500, "runs": 1000}

Progress = Callable[[float, str], None]


def _analyses(eco: Ecosystem, params: dict[str, Any], progress: Progress, label: str) -> tuple[Any, ...]:
    r = report.health_report(eco, source=label, progress=lambda done, total, what: progress(done / max(total, 1), what))
    summary = {"key_numbers": list(r.key_numbers), "sections": [s.id for s in r.sections]}
    return json.loads(to_json(summary)), r.to_dict(), r.to_html()


def network_figure(r: Any) -> dict[str, Any] | None:
    """The network picture (actors by stratum, exchanges by resource) of a report, or of a
    report's :meth:`~rainforest.report.Report.to_dict`, if it has one."""
    sections = r["sections"] if isinstance(r, dict) else [s.to_dict() for s in r.sections if s.id == "network"]
    for s in sections:
        if s["id"] == "network" and s["figures"]:
            figure: dict[str, Any] = json.loads(to_json(s["figures"][0]))
            return figure
    return None


def _plan(eco: Ecosystem, params: dict[str, Any], progress: Progress, label: str) -> tuple[Any, ...]:
    objective = str(params.get("objective", "benefit"))
    distance = params.get("max_distance_km")
    previous = params.get("previous")  # the newest plan before this one (set by run, never stored)
    progress(0.05, "finding candidates and solving the exchange plan")
    plan = exchanges.plan(
        eco,
        objective,  # type: ignore[arg-type]  # checked by check_params (a choices.Objective)
        max_distance_km=float(distance) if distance not in (None, "") else None,
        previous=previous["result"] if previous else None,
    )
    progress(0.9, "counting the plan's impacts")
    # the one JSON shape of a plan, as `rainforest match --json` prints it
    result = ExchangePlan.of(eco, plan, share=False).to_dict()
    if previous:
        changes = exchanges.diff(previous["result"], plan)
        result["changes"] = {**changes.to_dict(), "lines": changes.lines(), "previous_version": previous["version"]}
    result = json.loads(to_json(result))
    summary = {"benefit": plan.benefit, "co2e_avoided": plan.co2e_avoided, "exchanges": len(plan.exchanges)}
    return summary, result, None


def _risk(eco: Ecosystem, params: dict[str, Any], progress: Progress, label: str) -> tuple[Any, ...]:
    from rainforest.analysis import cascade  # about a second to import: only when a risk job runs

    note = ""
    try:
        net = cascade.SupplyNetwork.from_ecosystem(eco)
    except CurrencyError:
        # no money flows: value the flows at their resources' prices, as the report and the CLI do
        net = cascade.SupplyNetwork.from_ecosystem(eco, valued=True)
        note = VALUED_NOTE
    with warnings.catch_warnings(record=True) as caught:  # what the cascade warns of goes on the page
        warnings.simplefilter("always", RainforestWarning)
        profile = cascade.esri(
            net, progress=lambda done, total: progress(done / max(total, 1), f"cascades: {done} of {total} actors")
        )
    said = list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, RainforestWarning)))
    note = " ".join([note, *said]).strip()
    top = [{"actor": a, "esri": v} for a, v in profile.ranking()[:20]]
    summary = json.loads(to_json({"actors": len(profile.labels), "top": top, "note": note}))
    return summary, json.loads(to_json(profile.to_dict())), None


#: Said when the risk job values flows at prices because the document has no money flows.
VALUED_NOTE = (
    "The document records no money flows between actors, so the flows are valued at their resources' prices "
    "(as the health report does)."
)

#: The simulator's mechanisms a simulation job can switch off (rivals need a second
#: ecosystem, which the workbench does not give a simulation).
MECHANISMS: dict[str, str] = {
    "demography": "firms are founded, grow and exit (density dependence, liabilities of newness and smallness)",
    "symbiosis": "firms that trust and know each other form by-product exchanges when both gain",
    "platform": "members adopt the platform's modules (network effects), complementors enter and innovate",
    "openness": "firms buy non-core capabilities from cheaper providers and imitate more profitable contacts",
}

#: The plots of a simulation job: metric, title, what the y axis counts.
PLOTS: tuple[tuple[str, str, str], ...] = (
    ("actors", "Living actors", "actors"),
    ("value_added", "Value added", "per period"),
    ("survival", "Survival of the starting actors", "share"),
    ("links", "Active symbioses", "links"),
    ("circularity", "Circularity of the symbioses", "share"),
    ("adoption", "Module adoption", "share of members"),
    ("productivity", "Productivity", "value added over inputs"),
    ("diversity", "Sector diversity", "Shannon index"),
)


def availability(eco: Ecosystem) -> dict[str, str | None]:
    """For each kind of long work, None when it can run on ``eco``, else why not (in words
    a park manager can act on). Cheap: no analysis runs."""
    from rainforest.analysis import cascade  # imported by the risk job anyway

    n_actors, n_offers, n_needs = len(eco.actors), len(eco.offers), len(eco.needs)
    empty = "The ecosystem has no actors yet: add them on the Actors page first." if not n_actors else None
    out: dict[str, str | None] = {"analyses": empty, "simulate": empty, "plan": empty, "risk": empty}
    if empty:
        return out
    if not (n_offers and n_needs):
        out["plan"] = (
            f"The exchange plan matches offers with needs, and this version has {n_offers} offer(s) and "
            f"{n_needs} need(s). Record at least one of each (on the actors' pages) first."
        )
    try:
        cascade.SupplyNetwork.from_ecosystem(eco)
    except CurrencyError:
        try:
            cascade.SupplyNetwork.from_ecosystem(eco, valued=True)
        except CurrencyError:
            out["risk"] = (
                "Systemic risk (ESRI) follows a failure through the money layer: who pays whom. This version "
                "has no money flows and no resource with a price to value its flows at. Record money flows "
                "between actors, or the resources' prices, first."
            )
    return out


def mechanism_notes(eco: Ecosystem) -> dict[str, str | None]:
    """Why a mechanism has nothing to act on in ``eco`` (None: it has)."""
    return {
        "demography": None,
        "symbiosis": None
        if (len(eco.offers) and len(eco.needs)) or len(eco.flows)
        else "no offers, needs or flows: no exchange can form or run",
        "platform": None if len(eco.modules) else "no modules: nothing to adopt",
        "openness": None,
    }


def _bands(ens: Any) -> list[dict[str, Any]]:
    """The plots of a simulation: per metric, the mean and the 5-95% band over runs per
    period (as reported: relative to period 1 when value added is not money), with the
    metric's unit and its meaning in words; metrics with no finite value are left out."""
    from rainforest.simulate.assumptions import meaning  # the simulator: only when a simulation runs

    units = ens.assumptions.units if ens.assumptions is not None else {}
    out = []
    for metric, title, axis in PLOTS:
        if metric not in ens.metrics():
            continue
        band = ens.band(metric, scaled=True)
        mean = [float(v) if math.isfinite(v) else None for v in band["mean"].tolist()]
        if not any(v is not None for v in mean):
            continue
        unit = units.get(metric)
        out.append(
            {
                "metric": metric,
                "title": title,
                "axis": (unit if unit else axis) if metric == "value_added" else axis,
                "meaning": meaning(metric),
                "mean": mean,
                "low": [float(v) if math.isfinite(v) else None for v in band["low"].tolist()],
                "high": [float(v) if math.isfinite(v) else None for v in band["high"].tolist()],
            }
        )
    return out


def _simulate(eco: Ecosystem, params: dict[str, Any], progress: Progress, label: str) -> tuple[Any, ...]:
    from rainforest.simulate import (
        Params,
        scenario,  # the simulator: only when a simulation runs
    )

    periods = int(params.get("periods", 30))
    runs = int(params.get("runs", 10))
    seed = int(params.get("seed", 0))
    chosen = params.get("mechanisms")
    on = list(MECHANISMS) if chosen is None else [m for m in MECHANISMS if m in chosen]
    model_params = Params().replace(**{f"{m}.enabled": m in on for m in MECHANISMS})
    ens = scenario.monte_carlo(
        eco,
        model_params,
        periods=periods,
        runs=runs,
        rng=seed,
        progress=lambda done, total: progress(done / max(total, 1), f"runs: {done} of {total}"),
    )
    summary = json.loads(report.to_json({**ens.summary(), "mechanisms": on}))
    result = json.loads(report.to_json({**summary, "plots": _bands(ens)}))
    return summary, result, report.simulation_page([ens], f"{eco.name}: simulation ({label})")


RUNNERS: dict[str, Callable[[Ecosystem, dict[str, Any], Progress, str], tuple[Any, ...]]] = {
    "analyses": _analyses,
    "plan": _plan,
    "risk": _risk,
    "simulate": _simulate,
}


def check_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters of a job, checked and normalised (a :class:`ParameterError`, which is a
    ``ValueError``, naming the parameter otherwise; the objective's choices come from
    :data:`rainforest.choices.Objective`, as the library's own check)."""
    out: dict[str, Any] = {}
    if kind == "plan":
        objective = str(params.get("objective") or "benefit")
        check_choice("objective", objective, Objective, where="the plan job")
        out["objective"] = objective
        distance = params.get("max_distance_km")
        if distance not in (None, ""):
            value = _number(distance, float)
            if not (value is not None and value > 0 and math.isfinite(value)):
                raise ParameterError(
                    "The 'max_distance_km' parameter of the plan job must be a positive number of kilometres. "
                    f"Got {distance!r} instead.",
                    parameter="max_distance_km",
                )
            out["max_distance_km"] = value
    elif kind == "simulate":
        for name, default in (("periods", 30), ("runs", 10), ("seed", 0)):
            raw = params.get(name)
            number = default if raw in (None, "") else _number(raw, int)
            limit = LIMITS.get(name)
            low = 0 if name == "seed" else 1
            if number is None or number < low or (limit is not None and number > limit):
                bound = f"from {low} to {limit}" if limit is not None else f"at least {low}"
                raise ParameterError(
                    f"The {name!r} parameter of the simulation job must be a whole number {bound}. Got {raw!r} instead.",
                    parameter=name,
                )
            out[name] = number
        mechanisms = params.get("mechanisms")
        if mechanisms is not None:
            names = [mechanisms] if isinstance(mechanisms, str) else mechanisms
            if not isinstance(names, (list, tuple)) or not all(isinstance(m, str) for m in names):
                raise ParameterError(
                    "The 'mechanisms' parameter of the simulation job must be a list of mechanism names "
                    f"({', '.join(MECHANISMS)}). Got {mechanisms!r} instead.",
                    parameter="mechanisms",
                )
            for m in names:
                check_choice("mechanisms", m, tuple(MECHANISMS), where="the simulation job")
            out["mechanisms"] = [m for m in MECHANISMS if m in names]
    return out


def _number(raw: Any, kind: Callable[[Any], Any]) -> Any:
    """``kind(raw)``, or None when ``raw`` is not a number of that kind."""
    try:
        return kind(raw)
    except (TypeError, ValueError, OverflowError):
        return None


class _StoppedError(Exception):
    """The worker is closing: the job stops at its next progress report."""


STOPPED = "the server stopped before this work finished: start it again"


class _Reporter:
    """Writes progress to the store at most twice a second; stops the job when the worker
    closes (``stop`` set)."""

    def __init__(self, store: Store, jid: int, stop: threading.Event | None = None) -> None:
        self.queue, self.jid, self.last, self.stop = JobQueue(store), jid, 0.0, stop

    def __call__(self, fraction: float, message: str) -> None:
        if self.stop is not None and self.stop.is_set():
            raise _StoppedError
        now = time.monotonic()
        if now - self.last >= 0.5 or fraction >= 1.0:
            self.last = now
            self.queue.report_progress(self.jid, fraction, message)


def run(store: Store, slug: str, jid: int, stop: threading.Event | None = None) -> str:
    """Run one queued job of ``slug`` to the end and store its outcome; its final status.
    Errors in the work are stored as the job's message, never raised. When ``stop`` is set
    the job ends (failed, to be started again) at its next progress report."""
    queue = JobQueue(store)
    if stop is not None and stop.is_set():
        return queue.job(slug, jid).status  # the worker closed before this one started
    if not queue.claim(jid):
        return queue.job(slug, jid).status  # someone else runs it
    job = queue.job(slug, jid)
    crash_point("job:claimed")
    try:
        eco = store.load(slug, job.version)
        params = dict(job.params)
        before = queue.latest(slug, "plan") if job.kind == "plan" else None
        if before is not None:  # re-planning starts from the previous plan and says what changed
            params["previous"] = {"version": before.version, "result": queue.result(slug, before.id)}
        reporter = _Reporter(store, jid, stop)
        summary, result, artifact = RUNNERS[job.kind](eco, params, reporter, f"{slug} v{job.version}")
        crash_point("job:computed")
    except _StoppedError:
        queue.finish(jid, error=STOPPED)
        return "failed"
    except RainforestError as exc:
        queue.finish(jid, error=in_words_of(str(exc), "page"))  # the library names Python's options
        return "failed"
    except Exception as exc:  # a bug: keep the server up, say so, log the traceback
        log.exception("job %s (%s on %s v%s) failed", jid, job.kind, slug, job.version)
        queue.finish(jid, error=f"internal error ({type(exc).__name__}: {exc}); the server log has the details")
        return "failed"
    queue.finish(jid, summary=summary, result=result, artifact=artifact)
    return "done"


def _guarded(store: Store, slug: str, jid: int, stop: threading.Event | None = None) -> str:
    """:func:`run`; should the store itself fail (the job then cannot even say so through
    :func:`run`), log it and try once more to mark the job failed, so no page waits forever."""
    queue = JobQueue(store)
    try:
        return run(store, slug, jid, stop)
    except Exception as exc:
        log.exception("job %s on %s could not run", jid, slug)
        try:
            queue.finish(jid, error=f"the job could not run ({type(exc).__name__}: {exc})")
        except Exception:
            log.exception("job %s on %s could not be marked failed", jid, slug)
        return "failed"


def run_by_url(url: str, slug: str, jid: int) -> str:
    """:func:`run` in a worker process or on a Dask worker: opens the store by its URL."""
    with Store(url, migrate=False) as store:
        return _guarded(store, slug, jid)


class Worker:
    """Runs jobs outside the requests.

    Parameters
    ----------
    store:
        The store the jobs and their results live in.
    executor:
        ``threads`` (default), ``processes``, ``dask`` (a ``LocalCluster``) or ``dask:ADDRESS``,
        as everywhere in rainforest (:mod:`rainforest.executors`); the old ``thread`` and
        ``process`` still work, with a DeprecationWarning.
    workers:
        How many jobs run at once (default 1: the server keeps a core for its pages).
    """

    def __init__(self, store: Store, executor: str = "threads", workers: int = 1) -> None:
        if workers < 1:
            raise ParameterError(
                f"The 'workers' parameter of the workbench must be at least 1. Got {workers} instead.",
                parameter="workers",
            )
        try:
            spec = normalise(executor)  # the library's one vocabulary; thread/process still work, with a warning
        except ExecutorError:
            spec = ""
        kind = spec.split(":", 1)[0] if isinstance(spec, str) else ""
        if kind not in EXECUTORS:
            raise ExecutorError(
                f"The 'executor' parameter of the workbench must be 'threads', 'processes', 'dask' or "
                f"'dask:ADDRESS'. Got {executor!r} instead.",
                parameter="executor",
                choices=EXECUTORS,
            )
        executor = str(spec)
        if kind != "threads" and store.url in ("sqlite://", "sqlite:///:memory:"):
            raise ValueError(
                "an in-memory database cannot be shared with worker processes: "
                "use --db with a file or a server, or the threads executor"
            )
        self.store, self.executor, self.workers = store, executor, workers
        self.queue = JobQueue(store)
        self._stop = threading.Event()
        self._started: dict[int, Future[str]] = {}  # job id -> its future (threads executor)
        self._cluster: Any = None
        self._pool: Any
        if kind == "threads":
            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="rainforest-job")
        elif kind == "processes":
            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        else:
            from dask import distributed  # a large import, for the Dask executors only

            Client: Any = distributed.Client
            LocalCluster: Any = distributed.LocalCluster
            address = executor.split(":", 1)[1] if ":" in executor else None
            if address is None:
                self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)
                self._pool = Client(self._cluster)
            else:
                self._pool = Client(address)

    def start(self, job: Job) -> Future[str]:
        """Run ``job`` as soon as a worker is free; a future of its final status (a Dask
        future with the Dask executors)."""
        if self.executor == "threads":
            future: Future[str] = self._pool.submit(_guarded, self.store, job.ecosystem, job.id, self._stop)
        elif self.executor == "processes":
            future = self._pool.submit(run_by_url, self.store.url, job.ecosystem, job.id)
        else:
            dask_future: Future[str] = self._pool.submit(run_by_url, self.store.url, job.ecosystem, job.id, pure=False)
            return dask_future
        self._started = {k: f for k, f in self._started.items() if not f.done()}
        self._started[job.id] = future
        return future

    def close(self, timeout: float | None = None) -> list[int]:
        """Stop: queued jobs are dropped, running ones asked to stop at their next progress
        report (they end failed, to be started again). ``timeout``: how long to wait for
        them (None: until they end). The ids of jobs still running when it returns; they are
        marked failed in the store (a thread cannot be killed: the process ends it)."""
        if self.executor.startswith("dask"):
            self._pool.close()
            if self._cluster is not None:
                self._cluster.close()
            return []
        self._stop.set()
        if timeout is None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            return []
        self._pool.shutdown(wait=False, cancel_futures=True)
        wait(list(self._started.values()), timeout=timeout)
        if self.executor == "processes":  # worker processes can be stopped outright
            for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                process.terminate()
        left = [jid for jid, f in self._started.items() if not f.done()]
        for jid in left:
            try:
                self.queue.finish(jid, error=STOPPED)
            except Exception:
                log.exception("job %s could not be marked stopped", jid)
        return left

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
