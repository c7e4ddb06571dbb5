"""Plotly figure specifications as plain data (``{"data": [...], "layout": {...}}``).

The report embeds these as JSON and draws them with the plotly.js bundled in the page;
tests read the same data (a Sankey's links sum to the flows it stands for, the strata
counts match the profile), so nothing here depends on how a browser draws it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

STRATA = ("canopy", "understory", "shrub", "moss")
STRATUM_COLOURS = {
    "canopy": "#1b5e20",
    "understory": "#43a047",
    "shrub": "#9ccc65",
    "moss": "#d4e157",
    "unknown": "#9e9e9e",
}
STAGES = ("startup", "growth", "mature", "decline", "unknown")
STAGE_COLOURS = {
    "startup": "#81d4fa",
    "growth": "#26a69a",
    "mature": "#33691e",
    "decline": "#a1887f",
    "unknown": "#bdbdbd",
}
# a qualitative palette readable on white and in print (Okabe & Ito 2008, then Tableau 10)
PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#d55e00",
    "#56b4e9",
    "#f0e442",
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
)
OTHER_COLOUR = "#b0b0b0"
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13, "color": "#263238"}


def _layout(title: str | None = None, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "font": FONT,
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "margin": {"l": 60, "r": 20, "t": 40 if title else 20, "b": 50},
        "hoverlabel": {"font": {"family": FONT["family"]}},
    }
    if title:
        layout["title"] = {"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 15}}
    layout.update(extra)
    return layout


def colour_map(labels: Sequence[str]) -> dict[str, str]:
    """A stable colour per label, in the order given."""
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[k : k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def strata_picture(profile: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The rainforest as layers: one bar per stratum (canopy on top), its length the number
    of actors, split by life-cycle stage; the throughflow share is written at the end."""
    rows = [p for p in profile if p["actors"]]
    order = [p["stratum"] for p in reversed(rows)]  # plotly draws the first category at the bottom
    by_stratum = {p["stratum"]: p for p in rows}
    stages = [s for s in STAGES if any(s in p["stages"] for p in rows)]
    stages += sorted({s for p in rows for s in p["stages"]} - set(stages))
    data: list[dict[str, Any]] = []
    if stages == ["unknown"]:  # no stage known: one bar per stratum in its own colour
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": "actors (stage unknown)",
                "y": order,
                "x": [int(by_stratum[s]["actors"]) for s in order],
                "marker": {"color": [STRATUM_COLOURS.get(s, OTHER_COLOUR) for s in order]},
                "hovertemplate": "%{y}: %{x} actor(s), stage unknown<extra></extra>",
                "showlegend": False,
            }
        )
        stages = []
    for stage in stages:
        counts = [int(by_stratum[s]["stages"].get(stage, 0)) for s in order]
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": stage,
                "y": order,
                "x": counts,
                "marker": {"color": STAGE_COLOURS.get(stage, OTHER_COLOUR)},
                "hovertemplate": "%{y}: %{x} actor(s) in stage " + stage + "<extra></extra>",
            }
        )
    annotations = [
        {
            "x": by_stratum[s]["actors"],
            "y": s,
            "xanchor": "left",
            "text": f"  {by_stratum[s]['throughflow_share']:.0%} of throughflow",
            "showarrow": False,
            "font": {"size": 12, "color": STRATUM_COLOURS.get(s, "#333")},
        }
        for s in order
        if by_stratum[s].get("throughflow_share") is not None
    ]
    most = max((p["actors"] for p in rows), default=1)
    return {
        "data": data,
        "layout": _layout(
            barmode="stack",
            height=90 + 55 * max(len(order), 1),
            xaxis={"title": {"text": "actors"}, "range": [0, most * 1.45], "gridcolor": "#eceff1"},
            yaxis={"tickfont": {"size": 14}, "automargin": True},
            legend={
                "orientation": "h",
                "y": 1.02,
                "yanchor": "bottom",
                "x": 0,
                "title": {"text": "life-cycle stage: "},
            },
            margin={"l": 60, "r": 20, "t": 40, "b": 45},
            annotations=annotations,
        ),
    }


def _layered_positions(
    ids: Sequence[str], strata: Sequence[str], edges: Sequence[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Canopy on top, moss at the bottom; within a layer actors are ordered by the mean
    position of their partners (two barycentre passes), then spread evenly."""
    level = {"canopy": 3.0, "understory": 2.0, "shrub": 1.0, "moss": 0.0}
    n = len(ids)
    y = np.array([level.get(s, -1.0) for s in strata])
    x = np.zeros(n)
    layers: dict[float, list[int]] = {}
    for i in range(n):
        layers.setdefault(float(y[i]), []).append(i)
    for members in layers.values():
        for k, i in enumerate(members):
            x[i] = (k + 0.5) / len(members)
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        neighbours[a].append(b)
        neighbours[b].append(a)
    for _ in range(2):
        for members in layers.values():
            key = [float(np.mean(x[neighbours[i]])) if neighbours[i] else float(x[i]) for i in members]
            ranked = [members[k] for k in np.argsort(key, kind="stable")]
            for k, i in enumerate(ranked):
                x[i] = (k + 0.5) / len(ranked)
    # stagger crowded layers so labels and markers do not sit on one line
    for members in layers.values():
        if len(members) > 12:
            for k, i in enumerate(sorted(members, key=lambda m: x[m])):
                y[i] += 0.28 * ((k % 3) - 1)
    return x, y


def _path(x0: float, y0: float, x1: float, y1: float) -> tuple[list[float], list[float]]:
    """A straight line between layers; within a layer an arc above it, so an exchange
    between two actors of one stratum does not run through the actors between them."""
    if abs(y1 - y0) > 0.5:
        return [x0, x1], [y0, y1]
    lift = 0.3 + 0.6 * abs(x1 - x0)
    t = np.linspace(0.0, 1.0, 13)
    xs = (1 - t) ** 2 * x0 + 2 * (1 - t) * t * (x0 + x1) / 2 + t**2 * x1
    ys = (1 - t) ** 2 * y0 + 2 * (1 - t) * t * (max(y0, y1) + lift) + t**2 * y1
    return xs.tolist(), ys.tolist()


def network(
    ids: Sequence[str],
    names: Sequence[str],
    strata: Sequence[str],
    throughflow: Sequence[float],
    edges: Sequence[Mapping[str, Any]],
    unit: str,
) -> dict[str, Any]:
    """Actors coloured by stratum and sized by throughflow, exchanges coloured by resource.

    ``edges``: ``{"from": i, "to": j, "resource": r, "quantity": q, "unit": u}`` with
    indices into ``ids`` (``q`` None for an exchange of unknown quantity). Each exchange is a line with a marker two thirds of the way to
    the receiver (hover it for the direction and the quantity)."""
    x, y = _layered_positions(ids, strata, [(int(e["from"]), int(e["to"])) for e in edges])
    counts: dict[str, int] = {}
    for e in edges:
        counts[e["resource"]] = counts.get(e["resource"], 0) + 1
    resources = sorted(counts, key=lambda r: (-counts[r], r))
    shown = resources[: len(PALETTE)]
    colours = colour_map(shown)
    data: list[dict[str, Any]] = []
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for e in edges:
        groups.setdefault(e["resource"] if e["resource"] in colours else "other resources", []).append(e)
    for label in [*shown, "other resources"]:
        members = groups.get(label, [])
        if not members:
            continue
        lx: list[float | None] = []
        ly: list[float | None] = []
        mx, my, text = [], [], []
        for e in members:
            a, b = int(e["from"]), int(e["to"])
            px, py = _path(float(x[a]), float(y[a]), float(x[b]), float(y[b]))
            lx += [*px, None]
            ly += [*py, None]
            k = (2 * (len(px) - 1)) // 3
            mx.append(px[k])
            my.append(py[k])
            amount = f"{e['quantity']:,.4g} {e['unit']}" if e["quantity"] is not None else "quantity not known"
            text.append(f"{ids[a]} → {ids[b]}<br>{e['resource']}: {amount}")
        colour = colours.get(label, OTHER_COLOUR)
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": lx,
                "y": ly,
                "line": {"color": _rgba(colour, 0.55), "width": 1.6},
                "hoverinfo": "skip",
                "legendgroup": label,
                "legendrank": 1000 + len(data),
                "name": label,
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": mx,
                "y": my,
                "marker": {"color": colour, "size": 7, "symbol": "triangle-right"},
                "text": text,
                "hovertemplate": "%{text}<extra></extra>",
                "legendgroup": label,
                "showlegend": False,
                "name": label,
            }
        )
    top = max([float(t) for t in throughflow] + [0.0])
    sizes = [8.0 + 30.0 * math.sqrt(float(t) / top) if top > 0 else 10.0 for t in throughflow]
    label_nodes = len(ids) <= 40
    for stratum in [*STRATA, "unknown"]:
        members_i = [i for i, s in enumerate(strata) if s == stratum]
        if not members_i:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "markers+text" if label_nodes else "markers",
                "x": [float(x[i]) for i in members_i],
                "y": [float(y[i]) for i in members_i],
                "text": [ids[i] for i in members_i],
                "textposition": "top center",
                "textfont": {"size": 11},
                "customdata": [[names[i], f"{float(throughflow[i]):,.4g} {unit}"] for i in members_i],
                "hovertemplate": "<b>%{text}</b><br>%{customdata[0]}<br>"
                + stratum
                + ", throughflow %{customdata[1]}<extra></extra>",
                "marker": {
                    "size": [sizes[i] for i in members_i],
                    "color": STRATUM_COLOURS[stratum],
                    "line": {"color": "white", "width": 1},
                },
                "name": f"{stratum} ({len(members_i)})",
                "legendgroup": "strata",
                "legendrank": 1 + len(data),
                "legendgrouptitle": {"text": "actors by stratum"},
            }
        )
    ticks = [s for s in STRATA if s in strata]
    return {
        "data": data,
        "layout": _layout(
            height=560,
            showlegend=True,
            legend={"x": 1.01, "y": 1, "font": {"size": 11}},
            margin={"l": 90, "r": 10, "t": 20, "b": 20},
            xaxis={"visible": False, "range": [-0.03, 1.03]},
            yaxis={
                "tickvals": [{"canopy": 3, "understory": 2, "shrub": 1, "moss": 0}[s] for s in ticks],
                "ticktext": ticks,
                "zeroline": False,
                "showgrid": False,
                "range": [-1.5 if "unknown" in strata else -0.6, 3.6],
            },
        ),
    }


def sankey(
    nodes: Sequence[str], links: Sequence[Mapping[str, Any]], unit: str, colour_by: str = "label"
) -> dict[str, Any]:
    """A Sankey diagram from ``metabolism.sankey``-shaped data; links coloured by label."""
    labels = sorted({str(link["label"]) for link in links})
    colours = colour_map(labels)
    node_colours = [STRATUM_COLOURS.get(n.split(" ")[0], "#607d8b") for n in nodes]
    return {
        "data": [
            {
                "type": "sankey",
                "arrangement": "snap",
                "valueformat": ",.4g",
                "valuesuffix": f" {unit}",
                "node": {
                    "label": list(nodes),
                    "pad": 14,
                    "thickness": 16,
                    "color": node_colours,
                    "line": {"color": "white", "width": 0.5},
                },
                "link": {
                    "source": [int(link["source"]) for link in links],
                    "target": [int(link["target"]) for link in links],
                    "value": [float(link["value"]) for link in links],
                    "label": [str(link["label"]) for link in links],
                    "color": [_rgba(colours[str(link["label"])], 0.45) for link in links],
                    "hovertemplate": "%{source.label} → %{target.label}<br>%{label}: %{value}<extra></extra>",
                },
            }
        ],
        "layout": _layout(
            height=max(360, min(900, 28 * len(nodes) + 120)), margin={"l": 10, "r": 10, "t": 10, "b": 10}
        ),
    }


def window_of_vitality(wov: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Robustness against the degree of order a = ASC/CAP, with the ecosystem on it."""
    curve = wov["curve"]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": curve["a"],
                "y": curve["robustness"],
                "line": {"color": "#78909c", "width": 2},
                "name": "robustness F(a) = -a ln a",
                "hovertemplate": "a = %{x:.2f}, F = %{y:.3f}<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": "markers+text",
                "x": [wov["a"]],
                "y": [wov["robustness"]],
                "text": [name],
                "textposition": "top center",
                "marker": {"size": 14, "color": "#2e7d32", "line": {"color": "white", "width": 2}},
                "name": "this ecosystem",
                "hovertemplate": "a = %{x:.3f}, robustness = %{y:.3f}<extra></extra>",
            },
        ],
        "layout": _layout(
            height=340,
            xaxis={
                "title": {"text": "degree of order a = ascendency / capacity"},
                "range": [0, 1],
                "gridcolor": "#eceff1",
            },
            yaxis={"title": {"text": "robustness"}, "range": [0, 0.42], "gridcolor": "#eceff1"},
            shapes=[
                {
                    "type": "line",
                    "x0": wov["peak_a"],
                    "x1": wov["peak_a"],
                    "y0": 0,
                    "y1": 0.4,
                    "line": {"dash": "dot", "color": "#b0bec5"},
                }
            ],
            annotations=[
                {
                    "x": 0.12,
                    "y": 0.03,
                    "text": "redundant, resilient",
                    "showarrow": False,
                    "font": {"color": "#78909c"},
                },
                {"x": 0.8, "y": 0.03, "text": "efficient, brittle", "showarrow": False, "font": {"color": "#78909c"}},
                {"x": wov["peak_a"], "y": 0.405, "text": "peak 1/e", "showarrow": False, "font": {"color": "#78909c"}},
            ],
            showlegend=False,
        ),
    }


def ranking(
    labels: Sequence[str], values: Sequence[float], title: str, axis: str, colour: str = "#2e7d32"
) -> dict[str, Any]:
    """Horizontal bars, largest on top."""
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": list(reversed(labels)),
                "x": list(reversed([float(v) for v in values])),
                "marker": {"color": colour},
                "hovertemplate": "%{y}: %{x:.4g}<extra></extra>",
            }
        ],
        "layout": _layout(
            title,
            height=90 + 26 * max(len(labels), 1),
            margin={"l": 150, "r": 20, "t": 40, "b": 45},
            xaxis={"title": {"text": axis}, "gridcolor": "#eceff1"},
        ),
    }


def radius_curve(curves: Mapping[str, Mapping[str, Any]], measure: str, axis: str) -> dict[str, Any]:
    """The exchange potential against the radius that bounds a cluster, one line per
    ecosystem; the value without a limit (the ecosystem) is drawn as a dotted level."""
    data: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    colours = colour_map(list(curves))
    for name, curve in curves.items():
        colour = colours[name]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": curve["radius_km"],
                "y": curve[measure],
                "name": f"{name}: cluster of radius r",
                "line": {"color": colour, "shape": "hv"},
                "hovertemplate": "r = %{x:,.3g} km: %{y:,.4g}<extra></extra>",
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [0, max(curve["radius_km"] or [1.0])],
                "y": [curve["unlimited"][measure]] * 2,
                "name": f"{name}: ecosystem (no limit)",
                "line": {"color": colour, "dash": "dot"},
                "hovertemplate": "no limit: %{y:,.4g}<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": _layout(
            height=360,
            xaxis={"title": {"text": "radius of the cluster (km between partners)"}, "gridcolor": "#eceff1"},
            yaxis={"title": {"text": axis}, "gridcolor": "#eceff1", "rangemode": "tozero"},
            legend={"orientation": "h", "y": -0.3},
            shapes=shapes,
        ),
    }


def keystone_losses(
    scenarios: Sequence[str], direct: Sequence[float | None], cascade: Sequence[float | None], bounds: Sequence[Any]
) -> dict[str, Any]:
    """Share of the ecosystem's output lost per keystone scenario (a provider failing, a
    module withdrawn): the direct loss and the loss through the layers, side by side,
    largest on top. An unknown loss draws no bar; a cascade known only within bounds is
    drawn as its range (a bar from the lower to the upper bound, hatched)."""
    labels = list(reversed(scenarios))

    def pct(values: Sequence[float | None]) -> list[float | None]:
        return [None if v is None else 100.0 * float(v) for v in reversed(values)]

    low = [None if b is None or c is not None else 100.0 * float(b[0]) for b, c in zip(bounds, cascade, strict=True)]
    high = [None if b is None or c is not None else 100.0 * float(b[1]) for b, c in zip(bounds, cascade, strict=True)]
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "orientation": "h",
            "name": "direct (adopters' output that stops, and the provider's own)",
            "y": labels,
            "x": pct(direct),
            "marker": {"color": "#90a4ae"},
            "hovertemplate": "%{y}: %{x:.1f}% of output, direct<extra></extra>",
        },
        {
            "type": "bar",
            "orientation": "h",
            "name": "through the layers (supply, by-products, platform)",
            "y": labels,
            "x": pct(cascade),
            "marker": {"color": "#c62828"},
            "hovertemplate": "%{y}: %{x:.1f}% of output through the layers<extra></extra>",
        },
    ]
    if any(v is not None for v in low):
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": "through the layers, only its bounds known",
                "y": labels,
                "base": list(reversed(low)),
                "x": [
                    None if lo is None or hi is None else hi - lo
                    for lo, hi in zip(reversed(low), reversed(high), strict=True)
                ],
                "marker": {"color": "rgba(198,40,40,0.25)", "pattern": {"shape": "/"}},
                "hovertemplate": "%{y}: between %{base:.1f}% and %{x:.1f} points more<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": _layout(
            height=110 + 44 * max(len(labels), 1),
            barmode="group",
            margin={"l": 230, "r": 20, "t": 20, "b": 80},
            xaxis={
                "title": {"text": "share of the ecosystem's output lost (%)"},
                "gridcolor": "#eceff1",
                "rangemode": "tozero",
            },
            legend={"orientation": "h", "y": -0.35},
        ),
    }


def concentration(kinds: Sequence[str], points: Sequence[float], bands: Sequence[tuple[float, str]]) -> dict[str, Any]:
    """The HHI of each module kind (points, 0-10,000) with the Guidelines' band limits as
    dotted lines."""
    shapes = [
        {
            "type": "line",
            "x0": limit,
            "x1": limit,
            "y0": 0,
            "y1": 1,
            "yref": "paper",
            "line": {"color": "#6d4c41", "dash": "dot", "width": 1},
        }
        for limit, _ in bands
    ]
    notes = [
        {
            "x": limit,
            "y": 1,
            "yref": "paper",
            "text": f"{limit:,.0f}",
            "showarrow": False,
            "yanchor": "bottom",
            "font": {"size": 11, "color": "#6d4c41"},
        }
        for limit, _ in bands
    ]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": list(reversed(kinds)),
                "x": list(reversed([float(p) for p in points])),
                "marker": {"color": "#6a1b9a"},
                "hovertemplate": "%{y}: HHI %{x:,.0f}<extra></extra>",
            }
        ],
        "layout": _layout(
            height=110 + 34 * max(len(kinds), 1),
            margin={"l": 110, "r": 20, "t": 30, "b": 45},
            xaxis={"title": {"text": "HHI (points)"}, "range": [0, 10_000], "gridcolor": "#eceff1"},
            shapes=shapes,
            annotations=notes,
        ),
    }
