"""Every analysis of an ecosystem in one call: :func:`assess` returns an :class:`Assessment`.

The health report, the CLI and the workbench show the same analyses; this module runs them
once and keeps each one's result in a typed field: the result itself, or
:class:`Unavailable` with the reason the document does not allow it (no money layer, no
offers and needs, no locations). Shells only format what is here.

>>> import rainforest as rf
>>> a = rf.assess(rf.datasets.kalundborg(), risk=False, plan=False)
>>> [n.key for n in a.key_numbers()]
['exchanged', 'residues', 'cycling', 'robustness', 'dependence']
>>> a.io
Unavailable(reason='no resource has a price and none is of kind money; money flows cannot be valued')
>>> round(a.ena.result.flow["FCI"], 3) == round(a.key_numbers()[2].value, 3)
True

Every result type has ``to_dict()`` (JSON-ready: non-finite numbers are ``None``) and
``to_frame()`` (a pandas DataFrame).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from rainforest.errors import CurrencyError, RainforestError, in_words_of
from rainforest.model.ecosystem import Ecosystem
from rainforest.model.flowmatrix import FlowMatrix

if TYPE_CHECKING:
    from rainforest.analysis.ena import ENA
    from rainforest.analysis.io_tables import IOTable
    from rainforest.analysis.metabolism import Reconciliation
    from rainforest.analysis.mrio import IOSystem
    from rainforest.analysis.platform import PlatformAnalysis
    from rainforest.analysis.positioning import Positioning
    from rainforest.analysis.structure import NetworkStructure
    from rainforest.optimize.exchanges import Plan

__all__ = [
    "EXTRACTION_TOP",
    "PLAN_FULL_LIMIT",
    "PLAN_PER_NEED",
    "RADIUS_POINTS",
    "STEPS",
    "Assessment",
    "ClusterCurve",
    "ExchangePlan",
    "InputOutput",
    "KeyNumber",
    "Metabolism",
    "NetworkAnalysis",
    "Progress",
    "SystemicRisk",
    "Unavailable",
    "assess",
    "finn_meaning",
    "format_number",
    "format_share",
    "money_unit",
    "pathway",
    "physical_layer",
    "radius_curve",
    "recorded_exchanges",
]

#: Called as ``progress(done, total, label)`` before each analysis.
Progress = Callable[[int, int, str], None]

#: Hypothetical extraction is computed for the largest actors by output, this many.
EXTRACTION_TOP = 15
#: Plans on more needs than this keep each need's best candidates (``per_need``).
PLAN_FULL_LIMIT = 500
PLAN_PER_NEED = 10
#: Points of the cluster-against-ecosystem curve (plus the unlimited ecosystem).
RADIUS_POINTS = 8
#: At most this many actors for a Sankey diagram actor by actor.
SANKEY_NODES = 60


# -- formatting shared by every shell ------------------------------------------------------------
def format_number(value: float | None, unit: str = "", digits: int = 3) -> str:
    """A number for people: 1.52 million t, 12,400 t, 0.0311.

    >>> format_number(1_523_000, "t"), format_number(12_400.4, "t"), format_number(None)
    ('1.52 million t', '12,400 t', 'n/a')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    x = float(value)
    if abs(x) < 1e-12:
        x = 0.0
    a = abs(x)
    if a >= 1e9:
        text = f"{x / 1e9:.{digits}g} billion"
    elif a >= 1e6:
        text = f"{x / 1e6:.{digits}g} million"
    elif a >= 100:
        text = f"{x:,.0f}"
    elif a >= 1 or a == 0:
        text = f"{x:,.{digits}g}"
    else:
        text = f"{x:.{digits}g}"
    return f"{text} {unit}".strip()


def format_share(value: float | None, digits: int = 1) -> str:
    """A share as a percentage (``n/a`` when unknown)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{100 * value:.{digits}f}%"


def _plain(value: Any) -> Any:
    """JSON-ready: non-finite floats become None, tuples lists, numpy scalars Python."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "to_dict") and not isinstance(value, type):
        return _plain(value.to_dict())
    if hasattr(value, "tolist") and not isinstance(value, str):
        return _plain(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str) or value is None:
        return value
    return str(value)


def _unit_label(unit: str) -> str:
    from rainforest.model.units import label

    return label(unit)


def money_unit(eco: Ecosystem) -> str:
    """The currency code of an ecosystem's money figures: the unit of its resources of kind
    money (EUR), else the document's declared ``x_currency``, else the neutral word 'money'."""
    units = {r.unit for r in eco.resources if r.kind == "money"}
    if len(units) == 1:
        return str(units.pop())
    declared = eco.extensions.get("x_currency")
    return str(declared) if isinstance(declared, str) and declared else "money"


def physical_layer(eco: Ecosystem) -> FlowMatrix | None:
    """The first of mass, energy and water in which actors exchange anything."""
    for currency in ("mass", "energy", "water"):
        try:
            fm = FlowMatrix.from_ecosystem(eco, currency)
        except CurrencyError:
            continue
        if fm.Z.nnz:
            return fm
    return None


# -- result types -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Unavailable:
    """An analysis the document does not allow, and why (said to the reader, never a 0)."""

    reason: str

    def to_dict(self) -> dict[str, Any]:
        """``{"available": False, "reason": ...}``."""
        return {"available": False, "reason": self.reason}


@dataclass(frozen=True)
class KeyNumber:
    """One headline number: its value (``None`` when not known), unit, how it is shown and
    what it means (or, when ``value`` is ``None``, why it is not known)."""

    key: str
    label: str
    value: float | None
    unit: str
    display: str
    meaning: str

    @property
    def reason(self) -> str:
        """Why the number is not known (empty when it is)."""
        return self.meaning if self.value is None else ""

    def to_dict(self) -> dict[str, Any]:
        """``key``, ``label``, ``value``, ``unit``, ``display``, ``meaning`` (JSON-ready)."""
        value = self.value if self.value is None or math.isfinite(self.value) else None
        return {
            "key": self.key,
            "label": self.label,
            "value": value,
            "unit": self.unit,
            "display": self.display,
            "meaning": self.meaning,
        }


@dataclass(frozen=True, eq=False)
class Metabolism:
    """Industrial metabolism on the main physical layer: boundary accounts, circularity,
    Sankey data, actors out of balance per resource and the reconciliations run."""

    currency: str
    unit: str
    accounts: dict[str, Any]
    circularity: dict[str, Any]
    sankey_strata: dict[str, Any]
    sankey_actors: dict[str, Any] | None
    violations: dict[str, int]
    reconciliation: dict[str, Reconciliation | Unavailable]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the accounts and circularity (with their reasons), the imbalances and
        each reconciliation (or why it failed)."""
        out: dict[str, Any] = _plain(
            {
                "currency": self.currency,
                "unit": self.unit,
                "accounts": self.accounts,
                "circularity": self.circularity,
                "violations": self.violations,
                "reconciliation": self.reconciliation,
            }
        )
        return out

    def to_frame(self) -> Any:
        """The accounts and circularity indicators, one row each: ``group``, ``name``,
        ``value`` (NaN when not known) and ``reason``."""
        import pandas as pd

        rows = []
        for group, values in (("accounts", self.accounts), ("circularity", self.circularity)):
            reasons = values.get("reasons", {})
            for name, value in values.items():
                if name in ("reasons", "notes", "currency", "unit"):
                    continue
                number = math.nan if value is None else float(value)
                rows.append((group, name, number, reasons.get(name, "")))
        return pd.DataFrame(rows, columns=["group", "name", "value", "reason"])


@dataclass(frozen=True, eq=False)
class NetworkAnalysis:
    """The ecological network analysis of the main physical layer, and how its boundary was
    closed (``balance='boundary'`` when the actors' gaps were closed at the boundary)."""

    result: ENA
    balance: Literal["boundary"] | None

    @property
    def window(self) -> dict[str, Any]:
        """Where robustness sits on the window-of-vitality curve."""
        from rainforest.analysis import ena

        return ena.window_of_vitality(self.result.ascendency)

    def to_dict(self) -> dict[str, Any]:
        """The ENA's JSON (:meth:`~rainforest.analysis.ena.ENA.to_dict`) with ``balance`` and
        ``window`` (the window of vitality without its curve)."""
        out: dict[str, Any] = self.result.to_dict()
        out["balance"] = self.balance
        out["window"] = _plain({k: v for k, v in self.window.items() if k != "curve"})
        return out

    def to_frame(self) -> Any:
        """Every scalar: ``section``, ``name``, ``value``."""
        return self.result.to_frame()


@dataclass(frozen=True, eq=False)
class InputOutput:
    """The money layer as an enterprise input-output table: output and supply multipliers
    and the hypothetical extraction of the largest actors."""

    fm: FlowMatrix
    table: IOTable
    multipliers: dict[str, float]
    supply: dict[str, float]
    extraction: dict[str, float]
    revenue_given: int
    no_output: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the table (:meth:`~rainforest.analysis.io_tables.IOTable.to_dict`),
        multipliers, extraction losses, how many actors give their revenue and which sell
        nothing the document records."""
        out: dict[str, Any] = _plain(
            {
                "table": self.table.to_dict(),
                "output_multipliers": self.multipliers,
                "supply_multipliers": self.supply,
                "extraction": self.extraction,
                "revenue_given": self.revenue_given,
                "no_output": self.no_output,
            }
        )
        return out

    def to_frame(self) -> Any:
        """One row per actor: output, final demand, output and supply multipliers, output lost
        if it leaves (NaN for actors outside the extraction ranking)."""
        frame = self.table.to_frame()
        frame["output_multiplier"] = [self.multipliers.get(a, math.nan) for a in frame.index]
        frame["supply_multiplier"] = [self.supply.get(a, math.nan) for a in frame.index]
        frame["extraction"] = [self.extraction.get(a, math.nan) for a in frame.index]
        return frame


@dataclass(frozen=True, eq=False)
class ExchangePlan:
    """An exchange plan with its impacts and the split of its gain: the one JSON shape of a
    plan (``rainforest match --json`` and the workbench's plan).

    ``sharing`` is the result of :func:`~rainforest.optimize.exchanges.share_gains` or why
    it is not known; ``candidates`` the number of candidate exchanges (``None`` when not
    counted); ``per_need`` the candidates kept per need (``None``: all).
    """

    plan: Plan
    impacts: dict[str, Any]
    sharing: dict[str, Any] | Unavailable
    candidates: int | None = None
    per_need: int | None = None

    @classmethod
    def of(
        cls,
        eco: Ecosystem,
        plan: Plan,
        *,
        share: bool = True,
        candidates: int | None = None,
        per_need: int | None = None,
        **share_options: Any,
    ) -> ExchangePlan:
        """The plan of ``eco`` with its impacts and, with ``share``, the split of its gain
        (``share_options`` go to :func:`~rainforest.optimize.exchanges.share_gains`)."""
        from rainforest.optimize import exchanges

        sharing: dict[str, Any] | Unavailable = Unavailable("the split of the gain was not asked for")
        if share:
            try:
                sharing = exchanges.share_gains(eco, plan, **share_options)
            except RainforestError as exc:
                sharing = Unavailable(str(exc))
        return cls(plan, exchanges.impacts(eco, plan), sharing, candidates, per_need)

    def to_dict(self) -> dict[str, Any]:
        """The plan (:meth:`~rainforest.optimize.exchanges.Plan.to_dict`) with ``impacts``
        (the totals), ``exchange_impacts`` (per exchange, in the plan's order), ``sharing``
        (actor: share of the gain, ``None`` with ``sharing_reason`` when not known),
        ``in_core``, ``candidates`` and ``per_need``."""
        sharing = self.sharing
        out: dict[str, Any] = self.plan.to_dict()
        out["impacts"] = self.impacts["total"]
        out["exchange_impacts"] = self.impacts["exchanges"]
        if isinstance(sharing, Unavailable):
            out["sharing"], out["in_core"], out["sharing_reason"] = None, None, sharing.reason
        else:
            out["sharing"], out["in_core"] = sharing["allocation"], sharing.get("in_core")
        out["candidates"] = self.candidates
        out["per_need"] = self.per_need
        plain: dict[str, Any] = _plain(out)
        return plain

    def to_frame(self) -> Any:
        """One row per exchange: from, to, resource, quantity, benefit and its impacts."""
        import pandas as pd

        frame = self.plan.to_frame()
        rows = self.impacts["exchanges"]
        for key in ("disposal_diverted_t", "co2e_avoided_kg", "water_saved_m3"):
            frame[key] = pd.Series([float(r[key]) for r in rows], index=frame.index, dtype=float)
        return frame


@dataclass(frozen=True)
class SystemicRisk:
    """Who the ecosystem depends on: actors ranked by ``measure``, the economic systemic
    risk index (ESRI, Diem et al. 2022) where the money layer allows its cascades, else
    keystoneness (Libralato et al. 2006), else irreplaceability. ``values`` holds each actor
    with a value (largest first); ``esri_reason`` says why there is no ESRI ("" with one)."""

    measure: Literal["esri", "keystoneness", "irreplaceability"]
    values: dict[str, float]
    esri_reason: str = ""

    @classmethod
    def of(cls, pos: Positioning, *, risk: bool) -> SystemicRisk:
        """The ranking read off a positioning (``risk``: whether its ESRI cascades were asked for)."""
        actors = list(pos.actors)
        measure: Literal["esri", "keystoneness", "irreplaceability"]
        if any(a.esri is not None for a in actors):
            measure, reason = "esri", ""
        else:
            measure = "keystoneness" if any(a.keystoneness is not None for a in actors) else "irreplaceability"
            reason = (
                "the ESRI cascades were not asked for"
                if not risk
                else next((n for n in pos.notes if "keystone index" in n), "no money layer")
            )
        ranked = sorted(
            ((a.actor, float(v)) for a in actors if (v := getattr(a, measure)) is not None), key=lambda kv: -kv[1]
        )
        return cls(measure, dict(ranked), reason)

    def to_dict(self) -> dict[str, Any]:
        """``measure``, ``ranking`` (``[actor, value]``, largest first) and ``esri_reason``."""
        out: dict[str, Any] = _plain(
            {"measure": self.measure, "ranking": list(self.values.items()), "esri_reason": self.esri_reason}
        )
        return out

    def to_frame(self) -> Any:
        """One row per actor with a value (the index), largest first: the measure's column."""
        import pandas as pd

        return pd.DataFrame({self.measure: list(self.values.values())}, index=pd.Index(list(self.values), name="actor"))


@dataclass(frozen=True, eq=False)
class ClusterCurve:
    """Cluster against ecosystem: what :func:`radius_curve` returns, as a result."""

    data: dict[str, Any]

    @property
    def basis(self) -> str:
        """``'plan'`` (the optimal plan at each radius) or ``'existing'`` (today's exchanges)."""
        return str(self.data["basis"])

    def to_dict(self) -> dict[str, Any]:
        """The curve as plain data (see :func:`radius_curve`)."""
        out: dict[str, Any] = _plain(self.data)
        return out

    def to_frame(self) -> Any:
        """One row per radius (km): the plan's benefit, exchanges and tonnes, or the share
        of today's exchanges within it."""
        import pandas as pd

        columns = ("benefit", "exchanges", "tonnes") if self.basis == "plan" else ("share",)
        return pd.DataFrame(
            {c: [math.nan if v is None else float(v) for v in self.data[c]] for c in columns},
            index=pd.Index(self.data["radius_km"], name="radius_km"),
        )


# -- the analyses ----------------------------------------------------------------------------------
def recorded_exchanges(eco: Ecosystem) -> int:
    """How many active flows join two actors of ``eco`` (the exchanges it records)."""
    flows = eco.table("flows")
    actors = set(eco.actor_ids)
    return sum(
        1
        for src, dst, status in zip(flows.texts("from"), flows.texts("to"), flows.texts("status"), strict=True)
        if status in (None, "active") and src in actors and dst in actors
    )


def pathway(eco: Ecosystem) -> Literal["existing", "plan"]:
    """``'plan'`` for a new park (offers and needs, no exchange recorded yet: its headline is
    what its plan can do), else ``'existing'`` (the headline measures what is recorded);
    :attr:`Assessment.pathway`, known before anything is assessed."""
    return _pathway(eco, recorded_exchanges(eco))


def _pathway(eco: Ecosystem, recorded: int) -> Literal["existing", "plan"]:
    return "plan" if not recorded and eco.offers and eco.needs else "existing"


class _Run:
    """What the analyses share while they run."""

    def __init__(self, eco: Ecosystem, risk: bool, plan: bool, cluster: bool = True) -> None:
        self.eco = eco
        self.risk = risk
        self.plan_wanted = plan
        self.cluster_wanted = cluster
        self.unknowns: list[dict[str, str]] = []
        self.layer = physical_layer(eco)
        self.unit = _unit_label(self.layer.unit) if self.layer is not None else ""
        self.recorded = recorded_exchanges(eco)
        self.results: dict[str, Any] = {}

    def unknown(self, what: str, how: str) -> None:
        entry = {"what": what, "how": how}
        if entry not in self.unknowns:
            self.unknowns.append(entry)

    def no_flows(self) -> str:
        if not self.recorded:
            return "no exchange between actors is recorded yet"
        return "no physical flows between actors (mass, energy or water)"


def _positioning(run: _Run) -> None:
    from rainforest.analysis import positioning

    run.results["positioning"] = positioning.position(run.eco, risk=run.risk)


def _ena(run: _Run) -> None:
    from rainforest.analysis import ena
    from rainforest.analysis.structure import network_structure

    run.results["structure"] = network_structure(run.eco)
    if run.layer is None:
        run.results["ena"] = Unavailable(run.no_flows())
        return
    fm = run.layer
    method: Literal["boundary"] | None = None
    if not ena.steady_state(fm).balanced:
        method = "boundary"
        gap = fm.inflow() - fm.outflow()
        run.unknown(
            f"boundary flows of {int((np.abs(gap) > 1e-9 * max(1.0, float(np.abs(gap).max()))).sum())} actor(s) "
            f"in {fm.currency} (what they draw from or send outside the ecosystem)",
            "for the network analysis each actor's gap between inflow and outflow is closed at the boundary "
            f"(imports {format_number(float(np.maximum(-gap, 0).sum()), run.unit)}, exports "
            f"{format_number(float(np.maximum(gap, 0).sum()), run.unit)}); measured flows are kept as given",
        )
    try:
        run.results["ena"] = NetworkAnalysis(ena.analyze(fm, balance=method), method)
    except RainforestError as exc:
        run.results["ena"] = Unavailable(str(exc))


def _strata(run: _Run) -> dict[str, str]:
    pos = run.results.get("positioning")
    if pos is None:
        return {a.id: a.stratum or "unknown" for a in run.eco.actors}
    return {a.actor: a.stratum for a in pos.actors}


def _metabolism(run: _Run) -> None:
    from rainforest.analysis import metabolism

    if run.layer is None:
        run.results["metabolism"] = Unavailable(run.no_flows())
        return
    fm = run.layer
    currency = fm.currency
    accounts = metabolism.boundary_accounts(fm)
    circularity = metabolism.circularity(run.eco, currency)
    sankey_strata = metabolism.sankey(run.eco, by="stratum", currency=currency, strata=_strata(run))
    table = run.eco.table("flows")
    nodes_needed = len(set(table.texts("from")) | set(table.texts("to")))
    sankey_actors = (
        metabolism.sankey(run.eco, by="resource", currency=currency) if nodes_needed <= SANKEY_NODES else None
    )
    # balances per resource with active flows
    status = np.asarray(table.texts("status"), dtype=object)
    resource_of = np.asarray(table.texts("resource"), dtype=object)
    violations: dict[str, int] = {}
    for r in sorted(set(resource_of[status == "active"].tolist())):
        v = metabolism.balances(run.eco, r, relative=0.01).violations()
        if v:
            violations[r] = len(v)
    measured = ~np.isnan(table.numbers("uncertainty")) if "uncertainty" in table else np.zeros(table.n, dtype=bool)
    recon: dict[str, Reconciliation | Unavailable] = {}
    for r in sorted(set(resource_of[measured & (status == "active")].tolist())):
        try:
            recon[r] = metabolism.reconcile(run.eco, r)
        except RainforestError as exc:
            recon[r] = Unavailable(str(exc))
    run.results["metabolism"] = Metabolism(
        currency, fm.unit, accounts, circularity, sankey_strata, sankey_actors, violations, recon
    )


def _io(run: _Run) -> None:
    from rainforest.analysis import io_tables

    try:
        fm = FlowMatrix.from_ecosystem(run.eco, "money")
    except CurrencyError as exc:
        run.results["io"] = Unavailable(str(exc))
        return
    if not fm.Z.nnz:
        run.results["io"] = Unavailable(
            "no exchange between actors is recorded yet"
            if not run.recorded
            else "no money flows between actors: give resources a price (flows are then valued) or record "
            "payments as flows of a resource of kind money"
        )
        return
    # total output is each actor's revenue where the document gives it (sales to members are
    # then part of it), else what the flows record it selling: to members and outside
    actors = run.eco.table("actors")
    given = actors.numbers("size.revenue") if "size.revenue" in actors else np.full(actors.n, np.nan)
    revenue = dict(zip(actors.texts("id"), given.tolist(), strict=True))
    has_revenue = np.isfinite(np.array([revenue.get(a, math.nan) for a in fm.ids], dtype=float))
    table = io_tables.io_table(fm, io_tables.ecosystem_output(run.eco, fm))
    if float(table.f.sum()) <= 1e-12 * max(float(table.x.sum()), 1.0):
        run.results["io"] = Unavailable(
            "no actor's sales outside the ecosystem are known (no size.revenue above its sales to members, no "
            "flows to world): the input-output model is driven by those sales (final demand), so with none its "
            "multipliers and extraction losses would describe an economy that only supplies itself. Give the "
            "actors' revenue (size.revenue) or record their sales to world"
        )
        return
    try:
        multipliers = io_tables.output_multipliers(table)
    except RuntimeError as exc:  # a singular Leontief system (an actor that sells only to itself)
        run.results["io"] = Unavailable(f"the Leontief system is singular: {exc}")
        return
    producing = table.x > 0
    top = [table.ids[i] for i in np.argsort(-table.x, kind="stable")[:EXTRACTION_TOP] if producing[i]]
    run.results["io"] = InputOutput(
        fm=fm,
        table=table,
        multipliers=multipliers,
        supply=io_tables.supply_multipliers(table),
        extraction=io_tables.hypothetical_extraction(table, top),
        revenue_given=int(has_revenue.sum()),
        no_output=tuple(a for a, p in zip(table.ids, producing.tolist(), strict=True) if not p),
    )


def _regions(run: _Run) -> None:
    """The money layer as a multi-regional system, when actors give their region."""
    from rainforest.analysis.mrio import IOSystem

    if not any(a.region for a in run.eco.actors):
        run.results["regions"] = Unavailable("no actor gives its region")
        return
    io = run.results.get("io")
    if isinstance(io, Unavailable):
        run.results["regions"] = io
        return
    try:
        run.results["regions"] = IOSystem.from_ecosystem(run.eco)
    except CurrencyError as exc:
        run.results["regions"] = Unavailable(str(exc))


def _per_need(eco: Ecosystem) -> int | None:
    return None if len(eco.needs) <= PLAN_FULL_LIMIT else PLAN_PER_NEED


def _plan(run: _Run) -> None:
    from rainforest.optimize import exchanges

    eco = run.eco
    if not run.plan_wanted:
        run.results["plan"] = Unavailable("the exchange plan was not asked for")
        return
    if not eco.offers or not eco.needs:
        run.results["plan"] = Unavailable(
            f"the document declares {len(eco.offers)} offer(s) and {len(eco.needs)} need(s); the exchange plan "
            "matches offers (by-products, wastes, spare capacity) with needs, so both are required"
        )
        return
    per_need = _per_need(eco)
    try:
        plan = exchanges.plan(eco, per_need=per_need)
    except RainforestError as exc:
        run.results["plan"] = Unavailable(str(exc))
        return
    impacts = exchanges.impacts(eco, plan)
    candidates = len(exchanges.candidates(eco, per_need=per_need))
    sharing: dict[str, Any] | Unavailable
    try:
        sharing = exchanges.share_gains(eco, plan)
    except RainforestError as exc:
        sharing = Unavailable(str(exc))
    run.results["plan"] = ExchangePlan(plan, impacts, sharing, candidates, per_need)


def _radius(run: _Run) -> None:
    if not run.cluster_wanted:
        run.results["cluster"] = Unavailable("the cluster-against-ecosystem curve was not asked for")
        return
    try:
        run.results["cluster"] = ClusterCurve(radius_curve(run.eco, per_need=_per_need(run.eco), plan=run.plan_wanted))
    except RainforestError as exc:
        run.results["cluster"] = Unavailable(str(exc))


def _platform(run: _Run) -> None:
    """The platform pathway (:func:`rainforest.analysis.platform.analyze`), when the
    document declares modules."""
    from rainforest.analysis import platform

    if not run.eco.modules:
        run.results["platform"] = Unavailable(
            "no platform pathway: the document declares no modules (what a provider offers others to build on)"
        )
        return
    try:
        run.results["platform"] = platform.analyze(run.eco)
    except RainforestError as exc:
        run.results["platform"] = Unavailable(str(exc))


#: The analyses in the order they run (the labels a progress bar shows).
STEPS: tuple[tuple[str, Callable[[_Run], None]], ...] = (
    ("positioning and systemic risk", _positioning),
    ("metabolism and balances", _metabolism),
    ("ecological network analysis", _ena),
    ("input-output", _io),
    ("regions", _regions),
    ("exchange plan and gain split", _plan),
    ("cluster against ecosystem", _radius),
    ("platform pathway", _platform),
)


# -- cluster against ecosystem -------------------------------------------------------------------
def radius_curve(
    eco: Ecosystem, radii: Sequence[float] | None = None, *, per_need: int | None = None, plan: bool = True
) -> dict[str, Any]:
    """Cluster against ecosystem: the exchange potential when partners must lie within a
    radius (a cluster bound to one place) against no limit (an ecosystem across the chain).

    With offers and needs, each point is the optimal plan with ``max_distance_km=r``: its
    net benefit per period, its number of exchanges and the tonnes exchanged. Without
    them, or with ``plan=False`` (no plan is optimised), it is the share of today's
    exchanges (in the main physical currency) whose two partners lie within ``r``. Radii
    default to the quantiles of the distances that occur; the last is the largest one.

    Raises
    ------
    RainforestError
        When the actors have no locations (distances are unknown), or with ``plan=False``
        when no exchange is recorded yet.
    """
    from rainforest.optimize import exchanges

    located = {a.id: a.location for a in eco.actors if a.location is not None}
    if not located:
        raise RainforestError("no actor has a location, so no distance between partners is known")
    if eco.offers and eco.needs and plan:
        distances = _offer_need_distances(eco, located)
        if not distances:
            raise RainforestError("no candidate exchange joins two located actors")
        grid = _grid(distances, radii, RADIUS_POINTS if per_need is None else RADIUS_POINTS - 2)
        unlimited = _plan_point(eco, None, per_need)
        # beyond the longest candidate distance a cluster is the whole ecosystem
        rows = [unlimited if r >= max(distances) else _plan_point(eco, r, per_need) for r in grid]
        return {
            "basis": "plan",
            "radius_km": grid,
            "benefit": [p["benefit"] for p in rows],
            "exchanges": [p["exchanges"] for p in rows],
            "tonnes": [p["tonnes"] for p in rows],
            "unlimited": unlimited,
            "per_need": per_need,
        }
    fm = physical_layer(eco)
    if fm is None and not plan and eco.offers and eco.needs:
        raise RainforestError(
            "the curve of this document is the optimal plan at each radius, and the exchange plan was not "
            "asked for; no exchange is recorded yet to measure against a radius instead"
        )
    if fm is None:
        raise RainforestError("neither offers and needs nor physical exchanges to measure against a radius")
    Z = fm.Z.tocoo()
    ids = fm.ids
    d = []
    w = []
    for i, j, v in zip(Z.row.tolist(), Z.col.tolist(), Z.data.tolist(), strict=True):
        a, b = located.get(ids[i]), located.get(ids[j])
        if a is None or b is None:
            continue
        d.append(float(exchanges.great_circle_km(a.lat, a.lon, b.lat, b.lon)))
        w.append(float(v))
    if not d:
        raise RainforestError("no exchange joins two located actors")
    total = float(np.sum(w))
    if not total > 0:
        raise RainforestError("every exchange between located actors has quantity 0: no share by distance")
    grid = _grid(d, radii)
    darr, warr = np.asarray(d), np.asarray(w)
    share = [float(warr[darr <= r + 1e-9].sum() / total) for r in grid]
    return {
        "basis": "existing",
        "currency": fm.currency,
        "unit": fm.unit,
        "radius_km": grid,
        "share": share,
        "unlimited": {"share": 1.0},
        "located_share": total / float(fm.Z.sum()),
    }


def _offer_need_distances(eco: Ecosystem, located: Mapping[str, Any]) -> list[float]:
    """Distances between the located actors of every offer and need of one resource (the
    radii worth drawing; a need naming several resources counts for each)."""
    from rainforest.optimize.exchanges import great_circle_km

    def where(actors: list[str]) -> tuple[np.ndarray, np.ndarray]:
        lat = np.array([located[a].lat if a in located and located[a].lat is not None else np.nan for a in actors])
        lon = np.array([located[a].lon if a in located and located[a].lon is not None else np.nan for a in actors])
        return lat, lon

    offers: dict[str, list[str]] = {}
    for o in eco.offers:
        offers.setdefault(o.resource, []).append(o.actor)
    needs: dict[str, list[str]] = {}
    for n in eco.needs:
        for r in n.resources or ((n.resource,) if n.resource else ()):
            needs.setdefault(r, []).append(n.actor)
    out: list[float] = []
    for r, sellers in offers.items():
        if r not in needs:
            continue
        lat1, lon1 = where(sellers)
        lat2, lon2 = where(needs[r])
        d = np.asarray(great_circle_km(lat1[:, None], lon1[:, None], lat2[None, :], lon2[None, :]), dtype=float)
        out.extend(d[np.isfinite(d)].ravel().tolist())
    return out


def _grid(distances: Sequence[float], radii: Sequence[float] | None, points: int = RADIUS_POINTS) -> list[float]:
    if radii is not None:
        return sorted({float(r) for r in radii})
    qs = np.quantile(np.asarray(distances, dtype=float), np.linspace(0, 1, points))
    # rounded for the axis, except the last: rounding the largest distance down would leave
    # its candidate out, so the curve would never reach the ecosystem without a limit
    grid = {float(round(q, 3)) for q in qs[:-1]} | {0.0}
    largest = float(qs[-1])
    return sorted({r for r in grid if r < largest} | {largest})


def _plan_point(eco: Ecosystem, r: float | None, per_need: int | None) -> dict[str, float | None]:
    from rainforest.optimize import exchanges

    try:
        p = exchanges.plan(eco, max_distance_km=r, per_need=per_need)
    except exchanges.PlanError:
        return {"benefit": None, "exchanges": None, "tonnes": None}
    tonnes = sum(row["disposal_diverted_t"] for row in exchanges.impacts(eco, p)["exchanges"])
    return {"benefit": p.benefit, "exchanges": float(len(p.exchanges)), "tonnes": tonnes}


# -- the assessment ---------------------------------------------------------------------------------
def finn_meaning(
    structure: NetworkStructure | None, fci: float, currency: str, names: Mapping[str, str] | None = None
) -> str:
    """What Finn's index measures here: quantified cycling only, and the loops it cannot see
    (named by ``names``, actor id -> display name, where given)."""
    s = structure
    called = names or {}
    base = f"share of the quantified {currency} throughflow that comes back round a loop (Finn 1976)"
    if s is None or not s.cycles:
        return base + "; no loop closes even among the exchanges without a quantity"
    if fci <= 0:
        first = " → ".join(called.get(a, a) for a in [*s.cycles[0], s.cycles[0][0]])
        return (
            base + f"; 0 because no loop closes among the quantified flows, but the documented network has "
            f"{len(s.cycles)}{'' if s.cycles_complete else '+'} loop(s) (e.g. {first}) whose quantities are not all known"
        )
    return base + f"; the documented network has {len(s.cycles)}{'' if s.cycles_complete else '+'} loop(s) in all"


@dataclass(frozen=True, eq=False)
class Assessment:
    """Every analysis of one ecosystem: each field is the analysis's result or
    :class:`Unavailable` with the reason.

    ``positioning`` and ``structure`` run on any document; ``systemic_risk`` ranks the actors
    the ecosystem depends on (ESRI where the money layer allows, see ``risk``). ``layer`` is the main physical
    layer (the first of mass, energy and water in which actors exchange anything; ``None``
    without one) and ``unit`` its unit as people write it. ``pathway`` is ``'plan'`` for a
    new park (offers and needs, no exchange recorded yet: the headline is what its plan can
    do) and ``'existing'`` otherwise. ``unknowns`` lists what the analyses had to assume
    (``what``, ``how``).
    """

    ecosystem: Ecosystem
    risk: bool
    plan_wanted: bool
    layer: FlowMatrix | None
    unit: str
    recorded: int
    pathway: Literal["existing", "plan"]
    positioning: Positioning
    structure: NetworkStructure
    systemic_risk: SystemicRisk | Unavailable
    metabolism: Metabolism | Unavailable
    ena: NetworkAnalysis | Unavailable
    io: InputOutput | Unavailable
    regions: IOSystem | Unavailable
    plan: ExchangePlan | Unavailable
    cluster: ClusterCurve | Unavailable
    unknowns: tuple[dict[str, str], ...] = ()
    platform: PlatformAnalysis | Unavailable = Unavailable("the platform analysis was not run")

    @property
    def has_regions(self) -> bool:
        """Whether any actor gives its region (the regions analysis is then attempted)."""
        return any(a.region for a in self.ecosystem.actors)

    def names(self) -> dict[str, str]:
        """Actor id -> the name people read (the id where the document gives none)."""
        return {a.id: a.name or a.id for a in self.ecosystem.actors}

    def per_period(self, unit: str) -> str:
        """``'t per year'``: a unit per the document's period."""
        return f"{unit} per {self.ecosystem.period}".strip()

    def per_money(self) -> str:
        """``'EUR per year'``, or ``'per year'`` when the document names no currency."""
        money = money_unit(self.ecosystem)
        return self.per_period(money) if money != "money" else f"per {self.ecosystem.period}"

    def to_dict(self) -> dict[str, Any]:
        """Every analysis as JSON-ready data (an unavailable one as ``available: false``
        and its reason), with the pathway, the main layer and the key numbers."""
        results: dict[str, Any] = {
            "positioning": self.positioning,
            "structure": self.structure,
            "systemic_risk": self.systemic_risk,
            "metabolism": self.metabolism,
            "ena": self.ena,
            "io": self.io,
            "regions": self.regions,
            "plan": self.plan,
            "cluster": self.cluster,
            "platform": self.platform,
        }
        out: dict[str, Any] = _plain(
            {
                "ecosystem": self.ecosystem.name,
                "pathway": self.pathway,
                "currency": self.layer.currency if self.layer is not None else None,
                "unit": self.unit,
                "key_numbers": [n.to_dict() for n in self.key_numbers()],
                **{name: r.to_dict() for name, r in results.items()},
                "unknowns": list(self.unknowns),
            }
        )
        return out

    def key_numbers(self, interface: Literal["cli", "page"] | None = None) -> list[KeyNumber]:
        """The five numbers that matter, each with what it means (or why it is not known);
        for a new park (offers and needs, no exchange yet) what its optimal plan can do.

        With ``interface``, meanings are in the words of the CLI or of a page (the report
        and the workbench: no keyword arguments named), as :func:`rainforest.errors.in_words_of`.
        """
        numbers = self._plan_numbers() if self.pathway == "plan" else self._existing_numbers()
        if interface is None:
            return numbers
        return [
            KeyNumber(n.key, n.label, n.value, n.unit, n.display, in_words_of(n.meaning, interface)) for n in numbers
        ]

    def _plan_numbers(self) -> list[KeyNumber]:
        result = self.plan
        per = self.per_period
        if isinstance(result, Unavailable):
            return [
                KeyNumber(k, label, None, unit, "n/a", result.reason)
                for k, label, unit in (
                    ("candidates", "candidate exchanges", "exchanges"),
                    ("benefit", "net benefit of the optimal plan", self.per_money()),
                    ("co2e", "CO2e avoided", per("t CO2e")),
                    ("disposal", "disposal diverted", per("t")),
                    ("split", "the fair split", "partners"),
                )
            ]
        plan, total = result.plan, result.impacts["total"]
        count = result.candidates if result.candidates is not None else 0
        out = [
            KeyNumber(
                "candidates",
                "candidate exchanges",
                float(count),
                "exchanges",
                f"{count:,}",
                "offer-need pairs that fit (resource or substitute, quality, supply pattern); the plan keeps "
                f"{len(plan.exchanges)}",
            ),
            KeyNumber(
                "benefit",
                "net benefit of the optimal plan",
                plan.benefit,
                self.per_money(),
                format_number(plan.benefit, self.per_money()),
                "avoided purchases and disposal - transport - annualised link costs",
            ),
            KeyNumber(
                "co2e",
                "CO2e avoided",
                total["co2e_avoided_kg"] / 1000,
                per("t CO2e"),
                format_number(total["co2e_avoided_kg"] / 1000, per("t CO2e")),
                "avoided disposal and virgin production - transport",
            ),
            KeyNumber(
                "disposal",
                "disposal diverted",
                total["disposal_diverted_t"],
                per("t"),
                format_number(total["disposal_diverted_t"], per("t")),
                "residues that would otherwise be disposed of",
            ),
        ]
        sharing = result.sharing
        if isinstance(sharing, dict) and sharing.get("allocation"):
            alloc = sharing["allocation"]
            gain = sum(1 for v in alloc.values() if v > 0)
            top = max(alloc, key=lambda a: alloc[a])
            share = alloc[top] / plan.benefit if plan.benefit else None
            core = sharing.get("in_core")
            out.append(
                KeyNumber(
                    "split",
                    "the fair split",
                    float(gain),
                    "partners",
                    f"{gain} of {len(alloc)} partners gain",
                    f"Shapley value; the largest share goes to {top} ({format_share(share, 0)})"
                    + (
                        ""
                        if core is None
                        else ("; in the core: no coalition would rather leave" if core else "; not in the core")
                    ),
                )
            )
        else:
            reason = sharing.reason if isinstance(sharing, Unavailable) else "the plan has no partners to share a gain"
            out.append(KeyNumber("split", "the fair split", None, "partners", "n/a", reason))
        return out

    def _existing_numbers(self) -> list[KeyNumber]:
        out: list[KeyNumber] = []
        fm = self.layer
        per = self.per_period(self.unit)
        if fm is not None:
            exchanged = float(fm.Z.sum())
            out.append(
                KeyNumber(
                    "exchanged",
                    "exchanged between members",
                    exchanged,
                    per,
                    format_number(exchanged, per),
                    f"{fm.currency} passed from one member to another instead of bought or discarded "
                    f"({int(fm.Z.nnz)} actor pairs)",
                )
            )
        else:
            out.append(
                KeyNumber(
                    "exchanged", "exchanged between members", None, per, "n/a", "no physical flows between actors"
                )
            )
        m = self.metabolism
        diverted = m.circularity["landfill_diverted"] if isinstance(m, Metabolism) else None
        out.append(
            KeyNumber(
                "residues",
                "residues put to use",
                diverted,
                per,
                format_number(diverted, per),
                "by-products and wastes that reached a user instead of disposal"
                if diverted is not None
                else (m.reason if isinstance(m, Unavailable) else "not known"),
            )
        )
        result = self.ena
        if isinstance(result, NetworkAnalysis):
            fci = float(result.result.flow["FCI"])
            wov = result.window
            currency = fm.currency if fm is not None else result.result.currency
            if math.isfinite(fci):
                cycling = KeyNumber(
                    "cycling",
                    "cycling (Finn index)",
                    fci,
                    "share",
                    format_share(fci),
                    finn_meaning(self.structure, fci, currency, self.names()),
                )
            else:  # cycled / total throughflow with no quantified throughflow: 0/0
                cycling = KeyNumber(
                    "cycling",
                    "cycling (Finn index)",
                    None,
                    "share",
                    "n/a",
                    f"not defined: the quantified {currency} throughflow is 0 (Finn's index is a share of it)",
                )
            out.append(cycling)
            out.append(
                KeyNumber(
                    "robustness",
                    "robustness",
                    wov["robustness"],
                    "",
                    f"{wov['robustness']:.3f} ({format_share(wov['relative_robustness'], 0)} of the peak)",
                    f"{wov['side']}",
                )
            )
        else:
            out.append(KeyNumber("cycling", "cycling (Finn index)", None, "share", "n/a", result.reason))
            out.append(KeyNumber("robustness", "robustness", None, "", "n/a", result.reason))
        esri = [(a.esri, a.actor) for a in self.positioning.actors if a.esri is not None]
        if esri:
            value, actor = max(esri)
            out.append(
                KeyNumber(
                    "dependence",
                    "largest systemic risk",
                    value,
                    "share",
                    format_share(value),
                    f"of the sales between members are lost if {self.names().get(actor, actor)} fails (ESRI, Diem et al. 2022)",
                )
            )
        elif fm is not None and fm.Z.nnz and float(fm.Z.sum()) > 0:
            Z = fm.Z
            touch = np.asarray(Z.sum(axis=0)).ravel() + np.asarray(Z.sum(axis=1)).ravel()
            k = int(np.argmax(touch))
            share = float(touch[k] / Z.sum())
            out.append(
                KeyNumber(
                    "dependence",
                    "dependence on one actor",
                    share,
                    "share",
                    format_share(share),
                    f"of the exchanged {fm.currency} is sent or received by {self.names().get(fm.ids[k], fm.ids[k])} "
                    "(no money layer for ESRI)",
                )
            )
        else:
            why = "no exchanges" if fm is None or not fm.Z.nnz else "every exchange has quantity 0"
            out.append(KeyNumber("dependence", "dependence on one actor", None, "share", "n/a", why))
        return out


def assess(
    eco: Ecosystem,
    *,
    risk: bool = True,
    plan: bool = True,
    cluster: bool = True,
    progress: Progress | None = None,
) -> Assessment:
    """Run every analysis of the health report on ``eco``, once.

    Parameters
    ----------
    eco:
        The ecosystem.
    risk:
        Run the ESRI cascades behind the systemic-risk ranking (the longest step on large
        ecosystems).
    plan:
        Optimise the recommended new exchanges and their gain split.
    cluster:
        Draw the cluster-against-ecosystem curve (with offers and needs, one exchange plan
        per radius). The key numbers do not need it.
    progress:
        Called as ``progress(done, total, label)`` before each analysis.

    Returns
    -------
    Assessment
        One field per analysis: its result, or :class:`Unavailable` with the reason.
    """
    run = _Run(eco, risk, plan, cluster)
    for k, (label, step) in enumerate(STEPS):
        if progress is not None:
            progress(k, len(STEPS), label)
        step(run)
    r = run.results
    return Assessment(
        ecosystem=eco,
        risk=risk,
        plan_wanted=plan,
        layer=run.layer,
        unit=run.unit,
        recorded=run.recorded,
        # a new park with offers and needs and no exchange yet: the report leads with what can be done
        pathway=_pathway(eco, run.recorded),
        positioning=r["positioning"],
        structure=r["structure"],
        systemic_risk=SystemicRisk.of(r["positioning"], risk=risk)
        if run.recorded
        else Unavailable(
            "no exchange between actors is recorded yet: roles, systemic risk, keystoneness and irreplaceability "
            "all measure dependence along recorded flows"
        ),
        metabolism=r["metabolism"],
        ena=r["ena"],
        io=r["io"],
        regions=r["regions"],
        plan=r["plan"],
        cluster=r["cluster"],
        unknowns=tuple(run.unknowns),
        platform=r["platform"],
    )
