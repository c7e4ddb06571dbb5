"""The README's and docs' command-line examples run, and print what they say; the field
reference of docs/format.md agrees with the schema it is generated from; every whole YAML
document shown in the docs loads.

(The Python examples in README.md and docs/*.md run as doctests: see pytest's
``--doctest-glob`` in pyproject.toml.)
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def console_examples(path: Path) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for every `$ ` line in the console blocks."""
    examples: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                examples.append((line[2:], []))
            elif examples and line.strip():
                examples[-1][1].append(line)
    return examples


EXAMPLES = [(doc.name, cmd, out) for doc in DOCUMENTS for cmd, out in console_examples(doc)]


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 8


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "docs", work / "docs")
    return work


@pytest.mark.parametrize(("doc", "command", "expected"), EXAMPLES, ids=[f"{d}: {c}" for d, c, _ in EXAMPLES])
def test_console_example(workdir: Path, doc: str, command: str, expected: list[str]) -> None:
    args = shlex.split(command)
    if args[0] == "rainforest":
        args = [sys.executable, "-m", "rainforest", *args[1:]]
    elif args[0] == "python":
        args = [sys.executable, *args[1:]]
    env = {**os.environ, "RAINFOREST_DATA": str(workdir / "data")}  # the default store lives in the workdir
    result = subprocess.run(args, cwd=workdir, capture_output=True, text=True, timeout=120, check=False, env=env)
    printed = (result.stdout + result.stderr).splitlines()
    wants_failure = any("problem" in line for line in expected)
    assert result.returncode == (2 if wants_failure else 0), result.stdout + result.stderr
    if expected:
        assert [p.rstrip() for p in printed if p.strip()] == [e.rstrip() for e in expected]


def _format_reference() -> ModuleType:
    spec = importlib.util.spec_from_file_location("format_reference", ROOT / "tools" / "format_reference.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_field_reference_agrees_with_the_schema() -> None:
    """docs/format.md's field reference is what tools/format_reference.py generates from
    rainforest.model.schema: editing one without the other fails here."""
    generator = _format_reference()
    text = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
    assert generator.BEGIN in text, f"docs/format.md lost its markers; run: {generator.COMMAND}"
    assert generator.END in text, f"docs/format.md lost its markers; run: {generator.COMMAND}"
    assert generator.updated(text) == text, (
        f"docs/format.md's field reference differs from rainforest.model.schema; run: {generator.COMMAND}"
    )


def test_the_field_reference_covers_every_field() -> None:
    from rainforest.model.schema import SECTIONS, TOP_LEVEL

    reference = _format_reference().reference()
    for spec in SECTIONS.values():
        assert f"### `{spec.name}`" in reference
        for field in spec.fields:
            assert field.description, f"{spec.name}.{field.name} has no description in the schema"
            assert field.example, f"{spec.name}.{field.name} has no example in the schema"
            assert f"| `{field.name}` |" in reference
    for field in TOP_LEVEL:
        assert f"| `{field.name}` |" in reference


YAML_DOCUMENTS = [
    (doc.name, block)
    for doc in DOCUMENTS
    for block in re.findall(r"```yaml\n(.*?)```", doc.read_text(encoding="utf-8"), flags=re.S)
    if block.startswith("format:")
]


def test_the_docs_have_whole_documents() -> None:
    assert any(doc == "format.md" for doc, _ in YAML_DOCUMENTS)


@pytest.mark.parametrize(("doc", "block"), YAML_DOCUMENTS, ids=[d for d, _ in YAML_DOCUMENTS])
def test_yaml_document_loads(tmp_path: Path, doc: str, block: str) -> None:
    import rainforest as rf

    path = tmp_path / "example.yaml"
    path.write_text(block, encoding="utf-8")
    assert rf.load(path).actors


def test_the_simulation_docs_list_every_parameter_with_its_default() -> None:
    """docs/simulation.md's parameter tables name every field of simulate.Params as
    ``group.name`` with its default, and nothing else: a parameter added, renamed or given
    a new default without the equations' page fails here."""
    import dataclasses

    from rainforest.simulate.params import Params

    expected: dict[str, str] = {}
    for group in dataclasses.fields(Params):
        value = getattr(Params(), group.name)
        if dataclasses.is_dataclass(value):
            expected.update({f"{group.name}.{f.name}": repr(getattr(value, f.name)) for f in dataclasses.fields(value)})
        else:
            expected[group.name] = repr(value)
    text = (ROOT / "docs" / "simulation.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^\| `([\w.]+)` \| `([^`]*)` \|", text, flags=re.M))
    assert documented == expected


def test_the_added_fields_table_names_every_added_field() -> None:
    """The hand-written table of the fields rainforest adds (docs/format.md) names exactly
    the fields the schema marks ``added=True``."""
    from rainforest.model.schema import SECTIONS

    text = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
    table = text.split("## Fields rainforest adds", 1)[1].split("\n\n", 2)[2].split("\n\n", 1)[0]
    listed = {
        (section.strip(), field)
        for sections, field in re.findall(r"^\| ([a-z, ]+) \| `(\w+)` \|", table, flags=re.M)
        for section in sections.split(",")
    }
    added = {(name, f.name) for name, spec in SECTIONS.items() for f in spec.fields if f.added}
    assert listed == added
