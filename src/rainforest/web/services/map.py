"""The map: where the firms are, today's exchanges and the candidate ones between them, and
the cluster radius, as one caller may see them; and placing a firm on the map (a version).

The page's script (``static/workbench.js``) draws what :func:`map_data` returns with the
vendored Leaflet (``static/leaflet/``, see ``tools/vendor_leaflet.sh``); tiles come only from
the server given to ``rainforest serve --tiles`` (:class:`TileServer`), else the positions are
drawn on a plain background with a scale bar."""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from rainforest.assessment import radius_curve
from rainforest.errors import ParameterError, RainforestError
from rainforest.model.ecosystem import Ecosystem
from rainforest.optimize import exchanges
from rainforest.report import format_number
from rainforest.store import Version
from rainforest.web import edits
from rainforest.web.context import Workbench
from rainforest.web.deps import Caller
from rainforest.web.services import actors
from rainforest.web.services.ecosystems import small
from rainforest.web.visibility import Access, visible_candidates

__all__ = ["CANDIDATES", "LINES", "TileServer", "cluster_radius", "map_data", "set_location", "tile_server"]

#: The candidate exchanges drawn, best saving first (as many as the board lists).
CANDIDATES = 50
#: Today's exchanges drawn at most (the largest first); the rest are counted, not drawn.
LINES = 2000


@dataclass(frozen=True)
class TileServer:
    """A tile server: ``url`` a template with ``{z}``, ``{x}``, ``{y}`` (and optionally
    ``{s}`` for subdomains, ``{r}`` for retina tiles), ``origin`` what the pages'
    Content-Security-Policy allows images from, ``attribution`` shown on the map."""

    url: str
    origin: str
    attribution: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"url": self.url, "attribution": self.attribution}


_HOST = re.compile(r"^(\{s\}\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$")


def tile_server(url: str, attribution: str = "") -> TileServer:
    """The tile server of ``rainforest serve --tiles URL``: an ``http(s)`` URL template with
    ``{z}``, ``{x}`` and ``{y}``; ``{s}`` only as the first label of the host (subdomains).

    Raises
    ------
    ParameterError
        When the template is not one (what is wrong, and an example)."""
    example = "for example https://tile.example.org/{z}/{x}/{y}.png"
    where = f"--tiles {url[:200]!r}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ParameterError(f"{where}: expected an http or https URL template, {example}", parameter="tiles")
    missing = [p for p in ("{z}", "{x}", "{y}") if p not in url]
    if missing:
        raise ParameterError(
            f"{where}: the template lacks {', '.join(missing)} (where the zoom and the tile's column and row go), "
            f"{example}",
            parameter="tiles",
        )
    host = parts.netloc.rpartition("@")[2]
    name, _, port = host.partition(":")
    if "@" in parts.netloc or not _HOST.match(name) or (port and not port.isdigit()):
        raise ParameterError(
            f"{where}: the host must be a plain name (with {{s}} at most as its first label, for subdomains), "
            f"{example}",
            parameter="tiles",
        )
    if any(c in url for c in " \"'<>\\;,"):
        raise ParameterError(f"{where}: the template has a space, quote, comma or semicolon", parameter="tiles")
    origin = f"{parts.scheme}://{name.replace('{s}', '*')}" + (f":{port}" if port else "")
    return TileServer(url, origin, attribution.strip())


# -- the cluster radius ------------------------------------------------------------------------
_curves: OrderedDict[tuple[str, str], dict[str, Any] | str] = OrderedDict()
_curves_lock = threading.Lock()


def cluster_radius(curve: dict[str, Any]) -> tuple[float | None, str]:
    """The cluster radius of a cluster-against-ecosystem curve
    (:func:`rainforest.assessment.radius_curve`): the smallest distance between partners
    within which half of the exchange potential is kept (the plan's net benefit, or today's
    exchanges in the main physical currency), as the report's Cluster section says "half of
    it is reached within"; with what it means, or None with the reason."""
    if curve["basis"] == "plan":
        full = curve["unlimited"]["benefit"]
        if not full or full <= 0:
            return None, "n/a: the exchange plan saves nothing, so no radius keeps half of it"
        for r, b in zip(curve["radius_km"], curve["benefit"], strict=True):
            if b is not None and b >= 0.5 * full:
                return float(r), "half of the exchange plan's net benefit lies between partners this close"
        return None, "n/a: no radius drawn keeps half of the plan's net benefit"
    for r, s in zip(curve["radius_km"], curve["share"], strict=True):
        if s is not None and s >= 0.5:
            unit = _unit(str(curve.get("unit") or "their main unit"))
            return float(r), f"half of today's exchanges (counted in {unit}) lie between partners this close"
    return None, "n/a: no radius drawn keeps half of today's exchanges"


def _curve(wb: Workbench, slug: str, eco: Ecosystem, head: int) -> dict[str, Any] | str:
    """The cluster-against-ecosystem curve of the latest version, or why there is none:
    computed here for a small ecosystem (as the overview's numbers are), else taken from the
    stored analyses of this version."""
    key = (slug, eco.content_hash())
    with _curves_lock:
        if key in _curves:
            return _curves[key]
    found: dict[str, Any] | str
    if small(eco):
        try:
            found = radius_curve(eco)
        except RainforestError as exc:
            found = f"n/a: {exc}"
    else:
        job = wb.records.jobs.latest(slug, "analyses", head)
        if job is None:
            return "n/a: this ecosystem is large; run the analyses (Long work) for its cluster radius"
        report = wb.records.jobs.result(slug, job.id) or {}
        section = next((s for s in report.get("sections", []) if s.get("id") == "cluster"), None)
        data = section.get("data") if section else None
        found = data if isinstance(data, dict) and "radius_km" in data else "n/a: the analyses drew no cluster curve"
    with _curves_lock:
        _curves[key] = found
        while len(_curves) > 32:
            _curves.popitem(last=False)
    return found


def _radius(
    wb: Workbench, slug: str, eco: Ecosystem, head: int, a: Access, points: dict[str, dict[str, Any]], focus: str | None
) -> dict[str, Any]:
    """The circle: the cluster radius around the focused actor (its page) or the centre of
    the firms on the map; for managers and observers (it is computed from every firm's
    offers, needs, prices and places)."""
    if not a.sees_all:
        return {"km": None, "reason": "the cluster radius comes from every firm's data: managers and observers see it"}
    curve = _curve(wb, slug, eco, head)
    if isinstance(curve, str):
        return {"km": None, "reason": curve}
    km, meaning = cluster_radius(curve)
    if km is None:
        return {"km": None, "reason": meaning}
    if focus is not None and focus in points:
        p = points[focus]
        centre, around = {"lat": p["lat"], "lon": p["lon"]}, f"around {p['name']}"
    elif points:
        lats = [p["lat"] for p in points.values()]
        lons = [p["lon"] for p in points.values()]
        centre, around = {"lat": sum(lats) / len(lats), "lon": sum(lons) / len(lons)}, "around the firms' centre"
    else:
        return {"km": None, "reason": "n/a: no firm on the map"}
    return {
        "km": km,
        "centre": centre,
        "basis": curve["basis"],
        "label": f"cluster radius {format_number(km)} km, {around}: {meaning} (the report's Cluster section)",
    }


# -- what the map draws ------------------------------------------------------------------------
def _unit(unit: str) -> str:
    """A unit as people write it (``m³`` for the document's ``m**3``)."""
    return unit.replace("**2", "²").replace("**3", "³")


def _position(where: Any) -> tuple[float, float] | None:
    """An actor's location as (lat, lon) when both are known and in range, else None."""
    if where is None:
        return None
    lat, lon = where.lat, where.lon
    if lat is None or lon is None:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return float(lat), float(lon)


#: (slug, content hash, viewer) -> the map's layers (firms, exchanges, candidates): drawn
#: from the same version again and again, and slow to find in a large ecosystem
_layers: OrderedDict[tuple[str, str, str], dict[str, Any]] = OrderedDict()


def _shows_place(a: Access, actor: Any) -> bool:
    """Whether the caller sees ``actor``'s location (the rules of
    :func:`~rainforest.web.visibility.visible_document`: its own, or one it shares)."""
    return a.sees_all or actor.id == a.actor or "location" in (actor.extensions.get("x_public") or ())


def _map_layers(eco: Ecosystem, a: Access) -> dict[str, Any]:
    """The firms (with and without a position), today's exchanges between placed firms and
    the board's candidates between them, as the caller may see them."""
    points: dict[str, dict[str, Any]] = {}
    unplaced = []
    for actor in eco.actors:
        name = actor.name or actor.id
        where = _position(actor.location) if _shows_place(a, actor) else None
        if where is None:
            unplaced.append({"id": actor.id, "name": name})
        else:
            points[actor.id] = {"id": actor.id, "name": name, "lat": where[0], "lon": where[1]}
    units = {r.id: _unit(r.unit) for r in eco.resources}
    totals: dict[tuple[str, str, str], float | None] = {}
    for f in eco.flows:
        if f.source not in points or f.target not in points or f.source == f.target:
            continue  # the boundary, a firm not on the map
        if not a.sees_all and a.actor not in (f.source, f.target):
            continue  # a member sees its own exchanges
        key = (f.source, f.target, f.resource)
        before = totals.get(key, 0.0)
        totals[key] = None if before is None or f.quantity is None else before + float(f.quantity)
    flows = [  # the largest first
        {"from": s, "to": t, "resource": r, "quantity": q, "unit": units.get(r, "")}
        for (s, t, r), q in sorted(totals.items(), key=lambda kv: -(kv[1] or 0.0))
    ]
    cands = visible_candidates(eco, exchanges.candidates(eco), a)
    cands.sort(key=lambda x: (x["saving"] is None, -(x["saving"] or 0.0)))  # as the board lists them
    lines: dict[tuple[str, str, str], dict[str, Any]] = {}
    off_map: set[tuple[str, str, str]] = set()  # candidates with a partner not on the map
    for x in cands[:CANDIDATES]:
        key = (x["source"], x["target"], x["resource"])
        if key not in lines and not (x["source"] in points and x["target"] in points):
            off_map.add(key)
        elif key not in lines:
            lines[key] = {
                "from": key[0],
                "to": key[1],
                "resource": key[2],
                "upper": x["upper"],
                "unit": units.get(key[2], ""),
            }
    return {"points": points, "unplaced": unplaced, "flows": flows, "lines": lines, "off_map": off_map, "units": units}


def map_data(
    wb: Workbench, c: Caller, slug: str, focus: str | None = None, tiles: TileServer | None = None
) -> dict[str, Any]:
    """What the map shows, as the caller may see it: the firms with a position (members see
    another firm's position only when it shares its location), those without, today's
    exchanges between firms (members: their own), the candidate exchanges of the board (the
    optimised plan's marked), the cluster radius, the tile server and which firms the caller
    may place. ``focus``: the actor whose page shows the map."""
    a = c.access
    eco, head = wb.store.load(slug), wb.store.head(slug)
    if focus is not None:
        eco.actor(focus)  # 404 for an unknown actor
    key = (slug, eco.content_hash(), "all" if a.sees_all else f"member:{a.actor}")
    with _curves_lock:
        layers = _layers.get(key)
    if layers is None:
        layers = _map_layers(eco, a)
        with _curves_lock:
            _layers[key] = layers
            while len(_layers) > 64:
                _layers.popitem(last=False)
    points, units = layers["points"], layers["units"]
    planned: set[tuple[str, str, str]] = set()
    plan_version = None
    if a.sees_all:
        job = wb.records.jobs.latest(slug, "plan", head)
        if job is not None:
            plan = wb.records.jobs.result(slug, job.id) or {}
            planned = {(e["from"], e["to"], e["resource"]) for e in plan.get("exchanges", [])}
            plan_version = head
    lines = [{**line, "planned": k in planned} for k, line in layers["lines"].items()]
    for k in sorted(planned - set(layers["lines"])):  # a planned exchange beyond the first candidates
        if k[0] in points and k[1] in points:
            lines.append(
                {
                    "from": k[0],
                    "to": k[1],
                    "resource": k[2],
                    "upper": None,
                    "unit": units.get(k[2], ""),
                    "planned": True,
                }
            )
    may_place = [x for x in eco.actor_ids if actors.may_edit(a, x)]
    flows = layers["flows"]
    off_map = layers["off_map"]
    if focus is not None:  # an actor's page: its own exchanges and candidates
        flows = [f for f in flows if focus in (f["from"], f["to"])]
        lines = [x for x in lines if focus in (x["from"], x["to"])]
        off_map = {k for k in off_map if focus in k[:2]}
    return {
        "ecosystem": slug,
        "version": head,
        "focus": focus,
        "actors": list(points.values()),
        "unplaced": layers["unplaced"],
        "unplaced_label": "no location" if a.sees_all else "no location, or not shared with members",
        "flows": flows[:LINES],
        "flows_not_drawn": max(0, len(flows) - LINES),
        "candidates": lines,
        "candidates_off_map": len(off_map),
        "plan_version": plan_version,
        "radius": _radius(wb, slug, eco, head, a, points, focus),
        "tiles": tiles.to_dict() if tiles is not None else None,
        "may_place": may_place,
        "names": {x: (eco.actor(x).name or x) for x in may_place},
    }


def set_location(
    wb: Workbench, c: Caller, slug: str, aid: str, lat: Any, lon: Any, *, expected: Any = None, message: str = ""
) -> Version:
    """Place actor ``aid`` at ``lat``, ``lon`` (degrees) as a new version with the caller as
    author (managers every actor, a member its own). With ``expected`` (the version the map
    was drawn on) the edit is refused when a newer version exists
    (:class:`~rainforest.store.ConflictError`); without it, it is made on the newest version
    unless someone changed this actor's record meanwhile.

    Raises
    ------
    ValueError
        When a coordinate is not a number in range (latitude -90..90, longitude -180..180).
    """
    actors.editor(c.access, aid)
    place: dict[str, float] = {}
    for what, value, bound in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"{what} must be a number of degrees, got {str(value)[:40]!r}")
        if not -bound <= value <= bound:
            raise ValueError(f"{what} must be from {-bound:g} to {bound:g} degrees, got {value}")
        place[what] = round(float(value), 6)  # about 0.1 m: no false precision from a click
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
        raise ValueError(f"expected must be a version number, got {str(expected)[:40]!r}")
    head = wb.store.head(slug)
    if expected is not None and not 1 <= expected <= head:
        raise ValueError(f"expected must be a version number from 1 to {head}, got {expected}")
    base = head if expected is None else expected
    eco = wb.store.load(slug, base)
    eco.actor(aid)
    record = edits.section_records(eco, "actors", aid)[0]
    record["location"] = place
    name = record.get("name") or aid
    text = message.strip()[:500] or f"placed {name} on the map at {place['lat']:.5f}, {place['lon']:.5f}"
    return actors.edit(wb, c, slug, aid, base, text, merge=expected is None, record=record)
