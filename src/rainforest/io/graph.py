"""Graph exports for Gephi and networkx: GraphML and GEXF.

An ecosystem becomes a directed multigraph: one node per actor, carrying its fields
(``name``, ``sector``, ``stratum``, ``stage``, ``location.lat``, ``location.lon``,
``size.revenue``..., ``capabilities``, ``living``, ``region`` and its ``x_*``
extensions), and one edge per flow, carrying ``resource``, ``quantity`` (in the
resource's unit), ``unit``, ``kind`` (the flow's), ``resource_kind``, ``quantified``,
``status``, ``input_class``, ``uncertainty`` and the flow's extensions. Flows that enter
or leave the ecosystem end at a ``world`` or ``environment`` node (``boundary`` true).
An edge's id is ``flows[i]``, its place in the document, so parallel flows between two
actors stay apart. Names are the document's column names (those of the CSV form); a
field nobody fills is left out, a value nobody gave is absent (never written as 0).

Both forms are written for other tools to read; rainforest does not read them back (the
source document keeps what a graph cannot: offers, needs, links, modules).

Examples
--------
>>> import networkx as nx, pathlib, tempfile
>>> import rainforest as rf
>>> eco = rf.datasets.kalundborg()
>>> path = rf.save(eco, pathlib.Path(tempfile.mkdtemp()) / "kalundborg.graphml")
>>> g = nx.read_graphml(path)
>>> g.nodes["asnaes"]["x_role"], len(g.edges) == len(eco.flows)
('producer', True)
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rainforest.errors import FormatError
from rainforest.model.ecosystem import Ecosystem
from rainforest.model.schema import ENVIRONMENT, SECTIONS, WORLD
from rainforest.model.table import MISSING
from rainforest.model.validation import encode_cell

__all__ = ["GraphData", "gexf_text", "graph_data", "graphml_text"]

GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
GEXF_NS = "http://gexf.net/1.3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
# characters XML 1.0 cannot hold, even escaped
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class GraphData:
    """Nodes and edges with their attributes, ready to be written as any graph form.

    ``nodes`` are ``(id, attributes)``; ``edges`` are ``(id, source, target, attributes)``;
    absent values are left out of each attribute dict.
    """

    name: str
    nodes: tuple[tuple[str, dict[str, Any]], ...]
    edges: tuple[tuple[str, str, str, dict[str, Any]], ...]


def _cell(kind: str, value: Any) -> Any:
    if value is None or value is MISSING:
        return None
    if kind == "number":
        return None if math.isnan(value) else float(value)
    if kind == "bool":
        return bool(value)
    if kind == "refs":
        return ";".join(value) if value else None
    if kind == "capabilities":
        return "; ".join(c.name if c.core else f"{c.name} [non-core]" for c in value) if value else None
    return value if value != "" else None


def _extension(value: Any) -> Any:
    if value is None or value is MISSING:
        return None
    if isinstance(value, bool | int | float | str):
        return None if isinstance(value, float) and math.isnan(value) else value
    return encode_cell(value)  # the CSV form's JSON text of a nested value


def _rows(eco: Ecosystem, section: str, skip: Iterable[str]) -> list[dict[str, Any]]:
    table = eco.table(section)
    rows: list[dict[str, Any]] = [{} for _ in range(table.n)]
    skipped = set(skip)
    for f in SECTIONS[section].fields:
        if f.name in skipped:
            continue
        values = table[f.name].tolist()
        if f.kind == "map":
            for row, m in zip(rows, values, strict=True):
                for k, v in m.items():
                    if (cell := _extension(v)) is not None:
                        row[f"{f.name}.{k}"] = cell
            continue
        for row, v in zip(rows, values, strict=True):
            if (cell := _cell(f.kind, v)) is not None:
                row[f.name] = cell
    for name in table.names:
        if name.startswith("x_"):
            for row, v in zip(rows, table[name].tolist(), strict=True):
                if (cell := _extension(v)) is not None:
                    row[name] = cell
    return rows


def graph_data(eco: Ecosystem) -> GraphData:
    """The ecosystem as nodes (actors, and ``world``/``environment`` where flows cross
    the boundary) and edges (flows), with their attributes."""
    nodes: list[tuple[str, dict[str, Any]]] = []
    for actor_id, attrs in zip(eco.actor_ids, _rows(eco, "actors", ["id"]), strict=True):
        nodes.append((actor_id, {**attrs, "boundary": False}))
    resources = {r.id: r for r in eco.resources}
    flows = eco.table("flows")
    sources = flows["from"].tolist()
    targets = flows["to"].tolist()
    edges: list[tuple[str, str, str, dict[str, Any]]] = []
    for i, attrs in enumerate(_rows(eco, "flows", ["from", "to"])):
        resource = resources[attrs["resource"]]
        attrs["unit"] = resource.unit  # quantities are held in the resource's unit
        attrs["resource_kind"] = resource.kind
        attrs.setdefault("quantified", True)
        edges.append((f"flows[{i}]", sources[i], targets[i], attrs))
    ends = set(sources) | set(targets)
    nodes += [(b, {"name": b, "boundary": True}) for b in (WORLD, ENVIRONMENT) if b in ends]
    return GraphData(eco.name or "", tuple(nodes), tuple(edges))


def _types(rows: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Per attribute, the narrowest type (GraphML's and GEXF's names) holding every value it takes."""
    seen: dict[str, set[type]] = {}
    for row in rows:
        for k, v in row.items():
            seen.setdefault(k, set()).add(type(v))
    out = {}
    for k, kinds in seen.items():
        if kinds == {bool}:
            out[k] = "boolean"
        elif kinds == {int}:
            out[k] = "long"
        elif kinds <= {int, float}:
            out[k] = "double"
        else:
            out[k] = "string"
    return out


def _text(value: Any, kind: str, where: str) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "double":
        v = float(value)
        return "NaN" if math.isnan(v) else ("INF" if v == math.inf else "-INF" if v == -math.inf else repr(v))
    if kind == "long":
        return str(int(value))
    text = value if isinstance(value, str) else json.dumps(value)
    if _NOT_XML.search(text):
        raise FormatError(
            f"{where}: holds a control character that XML cannot carry ({_NOT_XML.search(text)!r}). "
            "Remove it from the document, or export to YAML, JSON or CSV instead."
        )
    return text


def graphml_text(eco: Ecosystem) -> str:
    """The ecosystem as a GraphML document (directed; see the module notes)."""
    data = graph_data(eco)
    root = ET.Element(
        "graphml",
        {"xmlns": GRAPHML_NS, "xmlns:xsi": XSI_NS, "xsi:schemaLocation": f"{GRAPHML_NS} {GRAPHML_NS}/1.0/graphml.xsd"},
    )
    keys: dict[tuple[str, str], tuple[str, str]] = {}
    domains = (("node", [a for _, a in data.nodes]), ("edge", [a for *_, a in data.edges]))
    for domain, rows in domains:
        for name, kind in _types(rows).items():
            key = f"{domain[0]}{len([d for d in keys if d[0] == domain])}"
            keys[(domain, name)] = (key, kind)
            ET.SubElement(root, "key", {"id": key, "for": domain, "attr.name": name, "attr.type": kind})
    ET.SubElement(root, "key", {"id": "g0", "for": "graph", "attr.name": "name", "attr.type": "string"})
    graph = ET.SubElement(root, "graph", {"id": "ecosystem", "edgedefault": "directed"})
    ET.SubElement(graph, "data", {"key": "g0"}).text = _text(data.name, "string", "ecosystem.name")
    for node_id, attrs in data.nodes:
        node = ET.SubElement(graph, "node", {"id": _text(node_id, "string", "actors.id")})
        for name, value in attrs.items():
            key, kind = keys[("node", name)]
            ET.SubElement(node, "data", {"key": key}).text = _text(value, kind, f"actor {node_id!r}: {name}")
    for edge_id, source, target, attrs in data.edges:
        edge = ET.SubElement(graph, "edge", {"id": edge_id, "source": source, "target": target})
        for name, value in attrs.items():
            key, kind = keys[("edge", name)]
            ET.SubElement(edge, "data", {"key": key}).text = _text(value, kind, f"{edge_id}: {name}")
    return _serialised(root)


def gexf_text(eco: Ecosystem) -> str:
    """The ecosystem as a GEXF 1.3 document (directed; see the module notes). Edge
    weights are the flows' quantities (absent for an unquantified flow)."""
    data = graph_data(eco)
    root = ET.Element(
        "gexf",
        {
            "xmlns": GEXF_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": f"{GEXF_NS} {GEXF_NS}/gexf.xsd",
            "version": "1.3",
        },
    )
    meta = ET.SubElement(root, "meta")
    ET.SubElement(meta, "creator").text = "rainforest"
    ET.SubElement(meta, "description").text = _text(data.name, "string", "ecosystem.name")
    graph = ET.SubElement(root, "graph", {"defaultedgetype": "directed", "mode": "static"})
    ids: dict[tuple[str, str], tuple[str, str]] = {}
    for domain, rows in (("node", [a for _, a in data.nodes]), ("edge", [a for *_, a in data.edges])):
        block = ET.SubElement(graph, "attributes", {"class": domain, "mode": "static"})
        for k, (name, kind) in enumerate(_types(rows).items()):
            ids[(domain, name)] = (str(k), kind)
            ET.SubElement(block, "attribute", {"id": str(k), "title": name, "type": kind})
    nodes = ET.SubElement(graph, "nodes")
    for node_id, attrs in data.nodes:
        label = attrs.get("name", node_id)
        node = ET.SubElement(
            nodes,
            "node",
            {"id": _text(node_id, "string", "actors.id"), "label": _text(label, "string", f"actor {node_id!r}")},
        )
        _attvalues(node, attrs, ids, "node", f"actor {node_id!r}")
    edges = ET.SubElement(graph, "edges")
    for edge_id, source, target, attrs in data.edges:
        xml_attrs = {"id": edge_id, "source": source, "target": target}
        if "quantity" in attrs:
            xml_attrs["weight"] = _text(attrs["quantity"], "double", f"{edge_id}: quantity")
        edge = ET.SubElement(edges, "edge", xml_attrs)
        _attvalues(edge, attrs, ids, "edge", edge_id)
    return _serialised(root)


def _attvalues(
    element: ET.Element, attrs: dict[str, Any], ids: dict[tuple[str, str], tuple[str, str]], domain: str, where: str
) -> None:
    if not attrs:
        return
    values = ET.SubElement(element, "attvalues")
    for name, value in attrs.items():
        key, kind = ids[(domain, name)]
        ET.SubElement(values, "attvalue", {"for": key, "value": _text(value, kind, f"{where}: {name}")})


def _serialised(root: ET.Element) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
