"""The house's shape in figures (issue 19): what a maintainer meets, measured.

Prints, for the package under ``src/rainforest``:

- the 10 largest modules in lines;
- import circles between modules: strongly connected components of the graph of imports
  made when a module is imported (module level, outside ``if TYPE_CHECKING:``), and again
  counting function-local imports too (the circles those imports hide);
- the number of function-local imports (``import`` statements inside a function body);
- ``import rainforest`` time: the median of 5 fresh interpreters (``-X importtime`` is not
  used; the wall time of ``python -c 'import rainforest'`` minus that of ``python -c pass``,
  the reference measured in the same run).

Run: python bench/shape.py [--json]
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "rainforest"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, is_package: bool, node: ast.ImportFrom, modules: set[str]) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        if not is_package:
            parts = parts[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    # ``from a import b`` imports the module a.b when there is one (a's __init__ has run by
    # then, but that is the import system, not a dependency of this module on a's code)
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]


class _Imports(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, modules: set[str]) -> None:
        self.module = module
        self.modules = modules
        self.is_package = is_package
        self.top: set[str] = set()
        self.local: set[str] = set()
        self.local_count = 0
        self._depth = 0

    def _add(self, names: list[str]) -> None:
        names = [n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")]
        (self.local if self._depth else self.top).update(names)

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def _function(self, node: ast.AST) -> None:
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._function(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._function(node)

    def visit_Import(self, node: ast.Import) -> None:
        if self._depth:
            self.local_count += 1
        self._add([alias.name for alias in node.names])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if self._depth:
            self.local_count += 1
        self._add(_resolve(self.module, self.is_package, node, self.modules))


def _sccs(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def connect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            connect(v)
    return sorted(found)


def measure() -> dict[str, object]:
    files = sorted((SRC / PACKAGE).rglob("*.py"))
    modules = {_module_name(p): p for p in files}
    sizes = sorted(((len(p.read_text().splitlines()), m) for m, p in modules.items()), reverse=True)
    top: dict[str, set[str]] = {}
    every: dict[str, set[str]] = {}
    local_count = 0
    for name, path in modules.items():
        visitor = _Imports(name, path.name == "__init__.py", set(modules))
        visitor.visit(ast.parse(path.read_text()))
        local_count += visitor.local_count

        def known(targets: set[str], this: str = name) -> set[str]:
            return {t for t in targets if t in modules and t != this}

        # importing a.b.c runs a/__init__ and a/b/__init__ first, which is an edge too
        top[name] = known(visitor.top)
        every[name] = known(visitor.top | visitor.local)
    return {
        "largest_modules": [{"module": m, "lines": n} for n, m in sizes[:10]],
        "lines_total": sum(n for n, _ in sizes),
        "modules": len(modules),
        "import_circles": _sccs(top),
        "import_circles_with_local_imports": _sccs(every),
        "function_local_imports": local_count,
    }


def import_time(repeat: int = 5) -> dict[str, float]:
    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    bare = statistics.median(run("pass") for _ in range(repeat))
    full = statistics.median(run(f"import {PACKAGE}") for _ in range(repeat))
    return {"python_s": bare, "import_rainforest_s": full - bare}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-import-time", action="store_true")
    args = parser.parse_args()
    figures = measure()
    if not args.no_import_time:
        figures["import_time"] = import_time()
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{figures['modules']} modules, {figures['lines_total']:,} lines")
    print("10 largest modules:")
    for row in figures["largest_modules"]:  # type: ignore[attr-defined]
        print(f"  {row['lines']:>6,}  {row['module']}")
    for key in ("import_circles", "import_circles_with_local_imports"):
        circles = figures[key]
        print(f"{key.replace('_', ' ')}: {len(circles)}")  # type: ignore[arg-type]
        for circle in circles:  # type: ignore[attr-defined]
            print("   " + " <-> ".join(circle))
    print(f"function-local imports: {figures['function_local_imports']}")
    if "import_time" in figures:
        t = figures["import_time"]
        print(
            f"import rainforest: {t['import_rainforest_s'] * 1000:.0f} ms beyond a bare interpreter "  # type: ignore[index]
            f"({t['python_s'] * 1000:.0f} ms)"  # type: ignore[index]
        )


if __name__ == "__main__":
    main()
