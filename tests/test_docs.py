"""The README's and docs' command-line examples run, and print what they say.

(The Python examples in README.md and docs/*.md run as doctests: see pytest's
``--doctest-glob`` in pyproject.toml.)
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

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
