"""The ecosystem health report and the comparison of ecosystems, as self-contained HTML.

>>> import rainforest as rf
>>> from rainforest import report
>>> r = report.health_report(rf.datasets.kalundborg())
>>> [n["key"] for n in r.key_numbers]
['exchanged', 'residues', 'cycling', 'robustness', 'dependence']
>>> r.section("io").available, r.section("io").reason
(False, 'no resource has a price and none is of kind money; money flows cannot be valued')

Every number comes from one :class:`~rainforest.assessment.Assessment` (every analysis of
:mod:`rainforest.analysis` and :mod:`rainforest.optimize`, run once by
:func:`rainforest.assess`; ``health_report`` takes an ecosystem or its assessment); a section whose analysis cannot run on the document says why
instead of showing numbers. ``Report.to_html()`` gives one HTML file with its styles,
data and the plotly.js library embedded: it opens offline and makes no network request
(its Content-Security-Policy forbids any).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rainforest.report._figures as figs
from rainforest.assessment import Assessment, Progress, money_unit, radius_curve
from rainforest.errors import ParameterError
from rainforest.model.ecosystem import Ecosystem
from rainforest.report._json import clean as _clean
from rainforest.report._json import to_json as to_json
from rainforest.report._json import version as _version
from rainforest.report._render import render
from rainforest.report._sections import (
    AFTER_FLOWS,
    Context,
    Figure,
    Section,
    Table,
    co2e_in_t,
    compute,
    fmt,
    network_section,
    pct,
)

__all__ = [
    "Comparison",
    "Figure",
    "Report",
    "Section",
    "Table",
    "compare",
    "health_report",
    "money_unit",
    "network_figure",
    "radius_curve",
    "simulation_page",
]


@dataclass(frozen=True)
class Report:
    """The health report of one ecosystem: the five key numbers and the sections."""

    ecosystem: str
    source: str | None
    created: str
    key_numbers: tuple[dict[str, Any], ...]
    sections: tuple[Section, ...]
    facts: dict[str, Any]

    def section(self, id: str) -> Section:
        """The section with this id (``profile``, ``network``, ``metabolism``, ``ena``,
        ``io``, ``regions`` and ``platform`` where the document allows them, ``risk``,
        ``exchanges``, ``cluster``, ``unknowns``)."""
        for s in self.sections:
            if s.id == id:
                return s
        from rainforest.errors import UnknownIdError

        raise UnknownIdError("section", id, [s.id for s in self.sections])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: what ``rainforest report --json`` prints."""
        data: dict[str, Any] = _clean(
            {
                "ecosystem": self.ecosystem,
                "source": self.source,
                "created": self.created,
                "version": _version(),
                "facts": self.facts,
                "key_numbers": list(self.key_numbers),
                "sections": [s.to_dict() for s in self.sections],
            }
        )
        return data

    def to_html(self) -> str:
        """One self-contained HTML page (styles, data and plotly.js embedded)."""
        return render("report.html.j2", report=self, title=f"Health report: {self.ecosystem}")

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_html` to ``path`` (UTF-8) and return the path."""
        target = Path(path)
        target.write_text(self.to_html(), encoding="utf-8")
        return target


def health_report(
    eco: Ecosystem | Assessment,
    *,
    source: str | None = None,
    risk: bool = True,
    plan: bool = True,
    progress: Progress | None = None,
) -> Report:
    """Analyse an ecosystem and gather the health report.

    Parameters
    ----------
    eco:
        The ecosystem, or its assessment (:func:`rainforest.assess`: then ``risk`` and
        ``plan`` are the assessment's own and nothing is computed again).
    source:
        Where it came from (a file name), printed in the report.
    risk:
        Run the ESRI cascades behind the systemic-risk ranking (the longest step on large
        ecosystems).
    plan:
        Optimise the recommended new exchanges and their gain split.
    progress:
        Called as ``progress(done, total, label)`` before each step (the CLI draws a bar).
    """
    ctx, sections, numbers = compute(eco, risk=risk, plan=plan, progress=progress)
    eco = ctx.eco
    flows = eco.table("flows")
    actors = set(eco.actor_ids)
    facts = {
        "actors": len(eco.actors),
        "flows": len(eco.flows),
        "exchanges": sum(
            1
            for src, dst, status in zip(flows.texts("from"), flows.texts("to"), flows.texts("status"), strict=True)
            if status == "active" and src in actors and dst in actors
        ),
        "resources": len(eco.resources),
        "offers": len(eco.offers),
        "needs": len(eco.needs),
        "currency": ctx.layer.currency if ctx.layer is not None else None,
        "money": money_unit(eco),
        "pathway": ctx.pathway,
        "after_flows": list(AFTER_FLOWS) if ctx.pathway == "plan" else [],
        "unit": ctx.unit,
        "period": eco.period,
    }
    return Report(
        ecosystem=eco.name,
        source=source,
        created=_dt.date.today().isoformat(),
        key_numbers=tuple(numbers),
        sections=tuple(sections),
        facts=facts,
    )


def network_figure(assessment: Assessment) -> dict[str, Any] | None:
    """The report's network picture (actors by stratum, exchanges coloured by resource) as
    plain JSON-ready data, ``{"id", "title", "caption", "spec"}`` (``spec`` the Plotly
    figure), without building the rest of the report; ``None`` when no exchange is recorded.

    >>> import rainforest as rf
    >>> figure = network_figure(rf.assess(rf.datasets.kalundborg(), risk=False, plan=False, cluster=False))
    >>> figure["title"]
    'Who exchanges what with whom'
    """
    section = network_section(Context(assessment))
    if not section.available or not section.figures:
        return None
    f = section.figures[0]
    data: dict[str, Any] = json.loads(to_json({"id": f.id, "title": f.title, "caption": f.caption, "spec": f.spec}))
    return data


# -- comparison --------------------------------------------------------------------------------------
#: (key, label, where it is read, which way is better: 'higher', 'lower', 'peak' or None)
INDICATORS: tuple[tuple[str, str, str, str | None], ...] = (
    ("actors", "actors", "facts", None),
    ("exchanges", "exchanges between actors", "facts", "higher"),
    ("exchanged", "exchanged between members", "key", "higher"),
    ("residues", "residues put to use", "key", "higher"),
    ("recycled_input_share", "recycled input share", "circularity", "higher"),
    ("disposal_share", "disposal share", "circularity", "lower"),
    ("FCI", "cycling (Finn index)", "flow", "higher"),
    ("APL", "average path length", "flow", "higher"),
    ("robustness", "robustness", "ascendency", "higher"),
    ("ASC.CAP", "degree of order (best near 1/e)", "ascendency", "peak"),
    ("mutualism.F", "mutualism", "utility", "higher"),
    ("largest_throughflow_share", "largest actor's share of throughflow", "health", "lower"),
    ("throughflow_evenness", "evenness of throughflow", "health", "higher"),
    ("esri_max", "largest systemic risk (ESRI)", "risk", "lower"),
    ("benefit", "benefit of the recommended exchanges", "exchanges", "higher"),
    ("regions", "regions (multi-regional input-output)", "regions", None),
    ("top_region_value_added", "largest region's share of value added", "regions", "lower"),
    ("disposal_diverted_t", "disposal diverted by them (t)", "exchanges", "higher"),
    ("platform_reach", "widest reach of a module provider (share of actors)", "platform", None),
    ("platform_hhi", "highest concentration of a module kind (HHI points)", "platform", "lower"),
    ("platform_loss", "largest loss if a provider fails (share of output, through the layers)", "platform", "lower"),
)
_PHYSICAL = {"exchanged", "residues"}
#: Indicators that are shares, shown as percentages.
_SHARES = {
    "recycled_input_share",
    "disposal_share",
    "FCI",
    "largest_throughflow_share",
    "esri_max",
    "top_region_value_added",
    "platform_reach",
    "platform_loss",
}


def _indicator(report: Report, key: str, where: str) -> tuple[float | None, str]:
    """One indicator of one report: its value, or ``None`` and the reason it is not known."""
    value: Any = None
    reason = ""
    if where == "facts":
        value = report.facts.get(key)
    elif where == "key":
        number = next((n for n in report.key_numbers if n["key"] == key), None)
        if number is not None:
            value, reason = number["value"], number["meaning"]
        else:
            reason = "no exchange between actors is recorded yet"
    elif where == "circularity":
        s = report.section("metabolism")
        # shares whose inputs are not recorded are already None (metabolism.circularity)
        value = s.data.get("circularity", {}).get(key) if s.available else None
        reason = s.reason
        if s.available and key != "landfill_diverted":
            acc = s.data["accounts"]
            boundary = [acc.get(k) for k in ("extraction", "imports", "exports", "losses")]
            if any(v is None for v in boundary) or sum(boundary) == 0:
                value = None
                reason = (
                    "no flow across the ecosystem's boundary is recorded, so shares of inputs and outputs are not known"
                )
    elif where in ("flow", "ascendency", "utility"):
        s = report.section("ena")
        value = (s.data.get(where) or {}).get(key) if s.available else None
        reason = s.reason if not s.available else "not computed on this network (the report's notes say why)"
    elif where == "health":
        profile = report.section("profile")
        health = profile.data.get("health", {})
        value = health.get(key)
        reason = profile.reason or health.get("reason") or "no throughflow recorded"
    elif where == "risk":
        s = report.section("risk")
        values = [v for _, v in s.data.get("ranking", []) if v is not None] if s.data.get("measure") == "esri" else []
        value = max(values) if values else None
        reason = s.data.get("esri_reason") or "no ESRI on this document"
        reason = reason.removeprefix("no keystone index: ")
    elif where == "regions":
        found = [s for s in report.sections if s.id == "regions"]
        if not found:
            reason = "no actor gives its region"
        elif not found[0].available:
            reason = found[0].reason
        elif key == "regions":
            value = len(found[0].data["regions"])
        else:
            added = [max(v, 0.0) for v in found[0].data["value_added"]]
            value = max(added) / sum(added) if sum(added) > 0 else None
            reason = "no value added is recorded"
    elif where == "platform":
        value, reason = _platform_indicator(report, key)
    elif where == "exchanges":
        s = report.section("exchanges")
        if s.available:
            value = s.data["benefit"] if key == "benefit" else s.data["total"].get(key)
        reason = s.reason
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None, reason or "not known"
    return float(value), ""


def _platform_indicator(report: Report, key: str) -> tuple[float | None, str]:
    """A platform indicator of one report (from its platform section), or why it is not known."""
    found = [s for s in report.sections if s.id == "platform"]
    if not found:
        return None, "no modules: the document has no platform pathway"
    if not found[0].available:
        return None, found[0].reason
    data = found[0].data
    if key == "platform_reach":
        shares = [p["actors_share"] for p in data["providers"].values() if p["actors_share"] is not None]
        return (max(shares), "") if shares else (None, "no provider's reach is known")
    if key == "platform_hhi":
        points = [k["hhi_points"] for k in data["kinds"].values() if k["hhi_points"] is not None]
        return (max(points), "") if points else (None, "no module kind has adopters")
    losses = [k for k in data["keystone"] if k["module"] is None]
    unknown = [k["provider"] for k in losses if k["cascade_share"] is None]
    if unknown or not losses:
        return (
            None,
            f"the loss if {', '.join(unknown[:3]) or 'a provider'} fails is not known (see its platform section)",
        )
    return max(k["cascade_share"] for k in losses), ""


@dataclass(frozen=True)
class Comparison:
    """Ecosystems side by side on the same indicators, and each one's cluster curve."""

    reports: tuple[Report, ...]
    indicators: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: what ``rainforest compare --json`` prints."""
        data: dict[str, Any] = _clean(
            {
                "ecosystems": [r.ecosystem for r in self.reports],
                "indicators": list(self.indicators),
                "leads": self.leads(),
                "cluster": [r.section("cluster").data or {"reason": r.section("cluster").reason} for r in self.reports],
                "key_numbers": [list(r.key_numbers) for r in self.reports],
            }
        )
        return data

    def cluster_figure(self) -> Figure | None:
        """Every ecosystem's cluster curve on one chart (when they share a basis)."""
        curves = {r.ecosystem: r.section("cluster").data for r in self.reports if r.section("cluster").available}
        if len(self.reports) < 2 or len(curves) < 2 or len({c["basis"] for c in curves.values()}) != 1:
            return None
        basis = next(iter(curves.values()))["basis"]
        measure, axis = (
            ("benefit", "net benefit per period") if basis == "plan" else ("share", "share of today's exchanges")
        )
        return Figure(
            "radius-all",
            "Exchange potential against the radius, every ecosystem",
            figs.radius_curve(curves, measure, axis),
            "Solid: partners within r km (a cluster); dotted: no limit (an ecosystem across the chain).",
        )

    def leads(self) -> dict[str, list[str]]:
        """Per ecosystem, the indicators on which it leads."""
        out: dict[str, list[str]] = {r.ecosystem: [] for r in self.reports}
        for ind in self.indicators:
            if ind["leader"] in out:
                out[ind["leader"]].append(ind["label"])
        return out

    def to_html(self) -> str:
        """One self-contained HTML page."""
        names = " vs ".join(r.ecosystem for r in self.reports)
        return render("compare.html.j2", comparison=self, title=f"Comparison: {names}")

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_html` to ``path`` (UTF-8) and return the path."""
        target = Path(path)
        target.write_text(self.to_html(), encoding="utf-8")
        return target


def _unit_of(report: Report, key: str) -> str:
    if key in _PHYSICAL:
        return str(report.facts.get("unit") or "")
    if key == "benefit":
        return str(report.facts.get("money") or "")
    if key == "disposal_diverted_t":
        return "t"
    return ""


def _leader(names: Sequence[str], values: Sequence[float | None], better: str | None) -> str | None:
    known = [(v, n) for v, n in zip(values, names, strict=True) if v is not None]
    if better is None or len(known) < 2 or len(known) < len(values):
        return None
    if better == "peak":
        scores = [-abs(v - 1 / math.e) for v, _ in known]
    else:
        scores = [v if better == "higher" else -v for v, _ in known]
    best = max(scores)
    winners = [n for s, (_, n) in zip(scores, known, strict=True) if abs(s - best) <= 1e-9 * max(1.0, abs(best))]
    return winners[0] if len(winners) == 1 else "tie"


def compare(
    ecosystems: Sequence[Ecosystem] | Ecosystem,
    *,
    sources: Sequence[str | None] | None = None,
    risk: bool = True,
    plan: bool = True,
    progress: Progress | None = None,
) -> Comparison:
    """Compare ecosystems on the indicators of the health report, with who leads on what;
    with one ecosystem, its cluster-against-ecosystem curve alone.

    Physical indicators (what is exchanged) are compared only when the ecosystems measure
    them in the same currency and unit."""
    ecos = [ecosystems] if isinstance(ecosystems, Ecosystem) else list(ecosystems)
    if not ecos:
        raise ParameterError("The 'ecosystems' parameter of compare must hold at least one ecosystem. Got none.")
    srcs = list(sources) if sources is not None else [None] * len(ecos)
    names = [e.name for e in ecos]
    if len(set(names)) < len(names):
        names = [f"{n} ({k + 1})" for k, n in enumerate(names)]
    reports = []
    for k, (eco, src) in enumerate(zip(ecos, srcs, strict=True)):

        def step(done: int, total: int, label: str, k: int = k) -> None:
            if progress is not None:
                progress(k * total + done, len(ecos) * total, f"{names[k]}: {label}")

        r = health_report(eco, source=src, risk=risk, plan=plan, progress=step)
        reports.append(Report(names[k], r.source, r.created, r.key_numbers, r.sections, r.facts))
    indicators = []
    for key, label, where, better in INDICATORS:
        found = [_indicator(r, key, where) for r in reports]
        values = [v for v, _ in found]
        reasons = [why if v is None else "" for v, why in found]
        known = [r for r, v in zip(reports, values, strict=True) if v is not None]
        # physical quantities are compared only in one currency and unit (t with t, not t with MWh)
        comparable = key not in _PHYSICAL or len({(r.facts["currency"], r.facts["unit"]) for r in known}) <= 1
        note = ""
        if not comparable:
            note = "different currencies, not comparable: " + ", ".join(
                f"{r.ecosystem} in {r.facts['currency']} ({r.facts['unit']})" for r in known
            )
        elif any(v is None for v in values):
            note = "; ".join(f"{n}: n/a, {why}" for n, why in zip(names, reasons, strict=True) if why)
        indicators.append(
            {
                "key": key,
                "label": label,
                "values": values,
                "display": [
                    "n/a" if v is None else (pct(v) if key in _SHARES else fmt(v, _unit_of(r, key)))
                    for r, v in zip(reports, values, strict=True)
                ],
                "reasons": reasons,
                "better": better,
                "leader": _leader(names, values, better) if comparable else None,
                "note": note,
            }
        )
    return Comparison(tuple(reports), tuple(indicators))


#: (metric, title, axis) drawn on the simulation page when a run recorded it
SIMULATION_PLOTS = (
    ("actors", "Living actors", "actors"),
    ("value_added", "Value added", "money per period"),
    ("productivity", "Productivity (value added / inputs)", "ratio"),
    ("survival", "Survival of the period-0 actors", "share"),
    ("links", "Active symbioses", "links"),
    ("circularity", "Circularity of the symbioses", "share exchanged"),
    ("synergies", "Synergies formed so far", "pairs"),
    ("diversity", "Diversity over sectors (Shannon)", "nats"),
    ("niches", "Occupied niches", "niches"),
    ("adoption", "Module adoption", "share of members"),
    ("capture", "Platform value capture", "share of profit"),
    ("balance", "Balance (leading eigenvalue; < 0 stable)", "eigenvalue"),
    ("FCI", "Cycling of the evolving network (Finn)", "FCI"),
)


def simulation_page(ensembles: Sequence[Any], title: str = "Simulation") -> str:
    """One self-contained HTML page: the last-period summary and a plot per metric with the
    mean and the 5-95% band over runs (one colour per sweep point)."""
    palette = figs.colour_map([str(k) for k in range(len(ensembles))])
    figures = []
    for metric, plot_title, axis in SIMULATION_PLOTS:
        traces: list[dict[str, Any]] = []
        for k, ens in enumerate(ensembles):
            if metric not in ens.metrics():
                continue
            band = ens.band(metric, scaled=True)
            periods = list(range(1, ens.periods + 1))
            colour = palette[str(k)]
            label = ", ".join(f"{n}={v:g}" for n, v in ens.point.items()) or "mean"
            ok = [i for i, v in enumerate(band["mean"].tolist()) if math.isfinite(v)]
            if not ok:
                continue
            xs = [periods[i] for i in ok]
            traces.append(
                {
                    "type": "scatter",
                    "x": xs,
                    "y": [float(band["high"][i]) for i in ok],
                    "mode": "lines",
                    "line": {"width": 0},
                    "showlegend": False,
                    "hoverinfo": "skip",
                }
            )
            traces.append(
                {
                    "type": "scatter",
                    "x": xs,
                    "y": [float(band["low"][i]) for i in ok],
                    "mode": "lines",
                    "line": {"width": 0},
                    "fill": "tonexty",
                    "fillcolor": figs._rgba(colour, 0.18),
                    "showlegend": False,
                    "hoverinfo": "skip",
                }
            )
            traces.append(
                {
                    "type": "scatter",
                    "x": xs,
                    "y": [float(band["mean"][i]) for i in ok],
                    "mode": "lines",
                    "line": {"color": colour, "width": 2},
                    "name": label,
                    "hovertemplate": "period %{x}: %{y:.4g}<extra></extra>",
                }
            )
        units = {u for ens in ensembles for u in [(ens.assumptions.units if ens.assumptions else {}).get(metric)] if u}
        if units:
            axis = units.pop() if len(units) == 1 else axis
            axis = f"{axis} per period" if axis not in ("relative to period 1",) else axis
        if traces:
            spec = {
                "data": traces,
                "layout": figs._layout(
                    height=300,
                    showlegend=len(ensembles) > 1,
                    xaxis={"title": {"text": "period"}, "gridcolor": "#eceff1"},
                    yaxis={"title": {"text": axis}, "gridcolor": "#eceff1"},
                ),
            }
            figures.append(Figure(f"sim-{metric.replace('.', '-').lower()}", plot_title, spec))
    first = ensembles[0]
    return render(
        "simulation.html.j2",
        title=title,
        heading=title,
        summary=_clean(first.summary()),
        points=[e.point for e in ensembles],
        figures=figures,
    )


# re-exported formatting helpers for templates and the CLI
format_number = fmt
format_share = pct
format_co2e_in_t = co2e_in_t
