"""Hostile text in every text field of a document: the report and the workbench's pages
still show every section, and the JSON they embed (the figures) reads back unchanged.

A name like ``<!--<script>`` inside a ``<script>`` element puts an HTML parser into the
"script data double escaped" state, where the element's end tag no longer ends it: the
report showed 3 of 10 sections (issue 17). Parsed here with html5lib, which implements the
WHATWG tokenizer, as browsers do."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rainforest as rf
from rainforest.model.schema import SECTIONS, TOP_LEVEL

html5lib = pytest.importorskip("html5lib")

#: Each is embedded with a number, so every field's text is told apart.
HOSTILE = ("<!--<script>", "</script><b>x</b>", "<!-- -->", "&amp; &lt;", "\u2028\u2029", "]]>", "'\"`", "<\\/script")


def _texts() -> Iterator[str]:
    for k in itertools.count():
        yield f"{HOSTILE[k % len(HOSTILE)]} {k} {HOSTILE[(k + 3) % len(HOSTILE)]}"


def hostile_document() -> tuple[rf.Ecosystem, list[str]]:
    """The Kalundborg example with hostile text in every free-text field: the name, every
    ``text`` field and text map of every section (names, sectors, codes, capabilities) and an
    ``x_note`` extension on every record. Returns the document and the texts used."""
    doc = rf.datasets.kalundborg().to_dict()
    texts = _texts()
    used: list[str] = []

    def take() -> str:
        used.append(next(texts))
        return used[-1]

    for spec in TOP_LEVEL:
        if spec.kind == "text" and spec.name != "format":
            doc[spec.name] = take()
    doc["x_note"] = take()
    for section, spec in SECTIONS.items():
        for record in doc.get(section, []):
            for f in spec.fields:
                if f.kind == "text" and "." not in f.name:
                    record[f.name] = take()
                elif f.kind == "map" and f.map_values == "text":
                    record[f.name] = {"code": take()}
                elif f.kind == "capabilities":
                    record[f.name] = [{"name": take()}]
            record["x_note"] = take()
    from rainforest.io.text import raw_from_data
    from rainforest.model.ecosystem import build_ecosystem
    from rainforest.model.validation import Place

    return build_ecosystem(raw_from_data(doc, "hostile", lambda _: Place(file="hostile"), [])), used


def _parse(html: str) -> Any:
    from rainforest.report._render import plotly_js

    # the embedded plotly.js (3.5 MB, not document text) left out: html5lib is pure Python
    return html5lib.parse(html.replace(plotly_js(), ""), namespaceHTMLElements=False)


def _sections(tree: Any) -> list[str]:
    return [s.get("id") for s in tree.iter("section")]


def _embedded(tree: Any) -> dict[str, Any]:
    return {s.get("id"): json.loads(s.text or "") for s in tree.iter("script") if s.get("type") == "application/json"}


def test_hostile_text_hides_no_report_section() -> None:
    from rainforest import report

    eco, used = hostile_document()
    r = report.health_report(eco, risk=False, plan=False)
    html = r.to_html()
    tree = _parse(html)
    assert _sections(tree) == ["summary", *[s.id for s in r.sections]]
    specs = {f"spec-{f.id}": f.spec for s in r.sections for f in s.figures}
    embedded = _embedded(tree)
    assert set(embedded) == set(specs)
    for key, spec in specs.items():  # the data round-trips, hostile labels included
        assert embedded[key] == json.loads(json.dumps(report._clean(spec), allow_nan=False))
    shown = json.dumps(embedded)
    assert any(json.dumps(t)[1:-1] in shown for t in used)  # the figures do carry the hostile names
    assert tree.find(".//footer") is not None


def test_hostile_text_hides_nothing_on_the_workbench_pages(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from conftest import PASSWORD
    from rainforest.store import Store
    from rainforest.web import create_app
    from rainforest.web.jobs import run
    from rainforest.web.records import Accounts, JobQueue
    from rainforest.web.services.ecosystems import ANALYSES

    eco, _ = hostile_document()
    store = Store(f"sqlite:///{tmp_path / 'hostile.db'}")
    store.create("park", eco, author="setup")
    Accounts(store).create_user("manny", PASSWORD)
    Accounts(store).grant("manny", "park", "manager")
    job = JobQueue(store).submit("park", "analyses", author="manny")
    assert run(store, "park", job.id) == "done"
    report = JobQueue(store).result("park", job.id)
    with TestClient(create_app(store, secret="test-secret")) as client:
        pages = [f"/e/park/analyses/{s}" for s in ANALYSES] + ["/e/park", "/e/park/actors", "/e/park/board"]
        pages += [f"/e/park/actors/{a}" for a in eco.actor_ids[:3]]
        for url in pages:
            page = client.get(url, auth=("manny", PASSWORD))
            assert page.status_code == 200, url
            tree = _parse(page.text)
            assert tree.find(".//footer") is not None or tree.find(".//main") is not None, url
            assert [s.get("src") for s in tree.iter("script") if s.get("src")][-1:] == ["/static/workbench.js"], url
            if url.startswith("/e/park/analyses/"):
                chosen = next(s for s in report["sections"] if s["id"] == url.rsplit("/", 1)[1])
                assert _sections(tree) == [chosen["id"]], url
                embedded = _embedded(tree)
                assert list(embedded.values()) == [f["spec"] for f in chosen["figures"]], url
        download = client.get(f"/api/ecosystems/park/jobs/{job.id}/page", auth=("manny", PASSWORD))
        assert _sections(_parse(download.text)) == ["summary", *[s["id"] for s in report["sections"]]]
