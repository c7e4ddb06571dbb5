"""The public API: its names, its import cost and the layers behind it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import rainforest as rf

PACKAGE = Path(rf.__file__).parent

PUBLIC = [
    "Actor",
    "Assessment",
    "Capability",
    "CurrencyError",
    "DocumentError",
    "Ecosystem",
    "Essentiality",
    "Flow",
    "FlowMatrix",
    "FormatError",
    "Issue",
    "Link",
    "Location",
    "Module",
    "Need",
    "Offer",
    "RainforestError",
    "Resource",
    "Size",
    "SizeLimitError",
    "SteadyStateError",
    "Stock",
    "Unavailable",
    "UnitError",
    "UnknownIdError",
    "Virgin",
    "__version__",
    "assess",
    "datasets",
    "ena",
    "io_tables",
    "json_schema",
    "load",
    "save",
]


def test_all_is_pinned() -> None:
    assert sorted(rf.__all__) == sorted(PUBLIC)
    for name in rf.__all__:
        assert getattr(rf, name) is not None


def test_import_is_fast_and_has_no_side_effects() -> None:
    code = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "import rainforest\n"
        "dt = time.perf_counter() - t\n"
        "heavy = [m for m in ('pandas', 'scipy', 'pint', 'yaml', 'openpyxl', 'typer', 'rich') if m in sys.modules]\n"
        "import multiprocessing\n"
        "print(dt, ','.join(heavy), multiprocessing.get_start_method(allow_none=True), sep='|')\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        .stdout.strip()
        .split("|")
        for _ in range(3)
    ]
    best = min(float(r[0]) for r in runs)
    assert best < 0.5, f"import rainforest took {best:.3f} s"
    assert runs[0][1] == "", f"heavy modules imported eagerly: {runs[0][1]}"
    assert runs[0][2] == "None", "import changed the multiprocessing start method"


# layer -> packages it may import (besides itself, stdlib and third-party libraries)
ALLOWED = {
    "errors": set(),
    "model": {"errors"},
    "analysis": {"model", "errors"},
    "optimize": {"model", "errors"},
    "simulate": {"model", "errors", "analysis", "optimize"},  # their public modules (see the next test)
    "io": {"model", "errors"},
    "store": {"model", "errors", "io"},
    # every analysis run once, typed: above the engines, below the report and the shells
    "assessment": {"model", "errors", "analysis", "optimize"},
    "report": {"model", "errors", "analysis", "optimize", "simulate", "assessment"},
    "datasets": {"model", "errors", "io"},
    "cli": {"*"},
    "web": {"*"},
}
ALLOWED_THIRD_PARTY = {"model": {"numpy", "scipy", "pint"}, "errors": set()}


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py") if rel.parts else ""


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_layers_point_inward() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = _layer(path)
        if layer in ("__init__", "__main__"):
            continue
        allowed = ALLOWED[layer]
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "rainforest":
                if len(parts) == 1:
                    if "*" not in allowed:
                        wrong.append(f"{path.relative_to(PACKAGE)} imports the top-level package")
                    continue
                target = parts[1]
                if target != layer and "*" not in allowed and target not in allowed:
                    wrong.append(f"{path.relative_to(PACKAGE)} imports rainforest.{target}")
            elif (
                layer in ALLOWED_THIRD_PARTY
                and parts[0] not in sys.stdlib_module_names
                and parts[0] not in ALLOWED_THIRD_PARTY[layer]
            ):
                wrong.append(f"{path.relative_to(PACKAGE)} imports {parts[0]}")
    assert wrong == []


def test_engines_use_each_other_only_through_public_modules() -> None:
    wrong = []
    for layer in ("analysis", "optimize", "simulate"):
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            for name in _imports(path):
                parts = name.split(".")
                if parts[0] == "rainforest" and len(parts) > 2 and parts[1] != layer and parts[2].startswith("_"):
                    wrong.append(f"{path.relative_to(PACKAGE)} imports private {name}")
    assert wrong == []


def test_shells_use_only_the_public_api() -> None:
    wrong = []
    for path in sorted((PACKAGE / "cli").rglob("*.py")):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "rainforest" and any(p.startswith("_") for p in parts[1:]):
                wrong.append(f"{path.name} imports private {name}")
    assert wrong == []


def test_ecosystem_is_immutable() -> None:
    eco = rf.datasets.kalundborg()
    with pytest.raises(AttributeError, match="immutable"):
        eco.name = "x"  # type: ignore[misc]
    assert not eco.table("flows")["quantity"].flags.writeable


def test_json_schema_validates_the_bundled_documents() -> None:
    import json

    import jsonschema

    schema = rf.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(rf.datasets.path("kalundborg").read_text()), schema)
    jsonschema.validate(rf.datasets.synthetic(n_actors=50, rng=1).to_dict(), schema)
