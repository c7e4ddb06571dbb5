"""What each dependency costs a user: installed size and import time (issue 19 item 7).

For every requirement in pyproject.toml (the runtime list and each extra), prints:

- ``own MB``: the size of the distribution's installed files (its RECORD in site-packages);
- ``alone MB``: its own size plus the distributions only it pulls in (its requirements,
  transitively, that no other runtime requirement needs): what leaving it out would save;
- ``import ms``: the time ``python -X importtime -c 'import <module>'`` reports for
  everything that import loads (the cumulative times of its top-level lines, less what the
  interpreter loads anyway), median of --repeat fresh interpreters; and the same as a
  ratio to ``import numpy`` (measured in the same run, as the reference). Wall times of
  whole interpreters are too noisy on a shared machine; ``-X importtime`` counts only the
  imports.

Then the totals of the groups the packaging decision weighs: everything, the web
workbench's stack with the store (FastAPI, Uvicorn, Argon2, itsdangerous,
python-multipart, SQLAlchemy, Alembic), and the web shell alone (without SQLAlchemy and
Alembic, which the library's versioned store and ``rainforest demo`` need anyway).

Run: python bench/bench_dependencies.py [--repeat 5] [--json]
(the dependencies must be installed, e.g. ``pip install -e ".[dev]"``)
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# distribution -> module to import, where the names differ
MODULES = {
    "pyyaml": "yaml",
    "python-calamine": "python_calamine",
    "argon2-cffi": "argon2",
    "python-multipart": "multipart",
    "psycopg": "psycopg",
    "dask": "dask.distributed",
    "import-linter": "importlinter",
    "scipy-stubs": "",
    "pandas-stubs": "",
    "types-pyyaml": "",
    "httpx2": "",
}
WEB_STACK = (
    "fastapi",
    "uvicorn",
    "argon2-cffi",
    "itsdangerous",
    "python-multipart",
    "sqlalchemy",
    "alembic",
)
WEB_SHELL = WEB_STACK[:5]


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9_.\-]+", requirement)
    assert match is not None
    return match.group(0).lower().replace("_", "-")


def _requirements() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    groups = {"runtime": [_name(r) for r in project["dependencies"]]}
    for extra, reqs in project.get("optional-dependencies", {}).items():
        groups[extra] = [_name(r) for r in reqs if not r.startswith("rainforest")]
    return groups


def _dist(name: str) -> metadata.Distribution | None:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None


def _size(dist: metadata.Distribution) -> int:
    total = 0
    for f in dist.files or ():
        path = Path(str(dist.locate_file(f)))
        if path.is_file():
            total += path.stat().st_size
    return total


def _requires(name: str) -> set[str]:
    dist = _dist(name)
    if dist is None:
        return set()
    out = set()
    for req in dist.requires or ():
        if "extra ==" in req:
            continue
        out.add(_name(req))
    return out


def _closure(names: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen or _dist(name) is None:
            continue
        seen.add(name)
        todo.extend(_requires(name) - seen)
    return seen


def _startup() -> set[str]:
    """Modules the interpreter imports before running any code (left out of the totals)."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-c", "pass"], check=True, capture_output=True, text=True)
    return {line.split("|")[2].strip() for line in run.stderr.splitlines() if line.count("|") == 2}


def _import_ms(modules: str, repeat: int, startup: set[str]) -> float:
    """Median over fresh interpreters of the import time of ``import <modules>`` in ms."""
    totals = []
    for _ in range(repeat):
        run = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {modules}"], check=True, capture_output=True, text=True
        )
        total = 0
        for line in run.stderr.splitlines():
            if line.count("|") != 2:
                continue
            _, cumulative, name = line.split("|")
            if name[1:2] != " " and name.strip() not in startup and cumulative.strip().isdigit():
                total += int(cumulative)
        totals.append(total / 1000.0)
    return statistics.median(totals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    groups = _requirements()
    runtime = set(groups["runtime"])
    startup = _startup()
    numpy_ms = _import_ms("numpy", args.repeat, startup)
    rainforest_ms = _import_ms("rainforest", args.repeat, startup)
    rows = []
    for group, names in groups.items():
        for name in names:
            dist = _dist(name)
            if dist is None:
                rows.append({"group": group, "name": name, "installed": False})
                continue
            others = _closure(runtime - {name}) if name in runtime else _closure(runtime)
            alone = _closure({name}) - others
            module = MODULES.get(name, name.replace("-", "_"))
            import_ms = _import_ms(module, args.repeat, startup) if module else float("nan")
            rows.append(
                {
                    "group": group,
                    "name": name,
                    "installed": True,
                    "own_mb": _size(dist) / 1e6,
                    "alone_mb": sum(_size(d) for d in (_dist(n) for n in alone) if d is not None) / 1e6,
                    "alone": sorted(alone - {name}),
                    "module": module,
                    "import_ms": import_ms,
                }
            )
    core = [r for r in rows if r["group"] == "runtime" and r["installed"] and r["name"] not in WEB_STACK]
    web = _closure(set(WEB_STACK)) - _closure(runtime - set(WEB_STACK))
    web_mb = sum(_size(d) for d in (_dist(n) for n in web) if d is not None) / 1e6
    shell = _closure(set(WEB_SHELL)) - _closure(runtime - set(WEB_SHELL))
    shell_mb = sum(_size(d) for d in (_dist(n) for n in shell) if d is not None) / 1e6
    all_mb = sum(_size(d) for d in (_dist(n) for n in _closure(runtime)) if d is not None) / 1e6
    web_import = _import_ms(
        "fastapi, uvicorn, sqlalchemy, alembic, argon2, itsdangerous, multipart", args.repeat, startup
    )
    core_import = _import_ms("numpy, scipy, pandas, pint, yaml, msgspec, numba, pyarrow, highspy", args.repeat, startup)
    summary = {
        "python": sys.version.split()[0],
        "import_numpy_ms": numpy_ms,
        "import_rainforest_ms": rainforest_ms,
        "core_engines_import_ms": core_import,
        "runtime_closure_mb": all_mb,
        "web_stack_only_mb": web_mb,
        "web_shell_only_mb": shell_mb,
        "web_shell_only": sorted(shell),
        "web_stack_only": sorted(web),
        "web_stack_import_ms": web_import,
        "core_direct": [r["name"] for r in core],
    }
    if args.json:
        print(json.dumps({"rows": rows, "summary": summary}, indent=2))
        return
    print(
        f"python {summary['python']}; import numpy: {numpy_ms:.0f} ms (the reference of the ratios); "
        f"import rainforest: {rainforest_ms:.0f} ms"
    )
    print(f"{'group':<10} {'distribution':<22} {'own MB':>8} {'alone MB':>9} {'import ms':>10} {'x numpy':>8}")
    for r in rows:
        if not r["installed"]:
            print(f"{r['group']:<10} {r['name']:<22} {'not installed':>8}")
            continue
        ratio = r["import_ms"] / numpy_ms if numpy_ms > 0 else float("nan")
        print(
            f"{r['group']:<10} {r['name']:<22} {r['own_mb']:8.1f} {r['alone_mb']:9.1f} {r['import_ms']:10.0f} {ratio:8.1f}"
        )
    print(f"\nall runtime requirements with theirs: {all_mb:.0f} MB installed")
    print(
        f"the web stack ({', '.join(WEB_STACK)}) and what only it needs: {web_mb:.0f} MB "
        f"({100 * web_mb / all_mb:.0f}% of it), imported together in {web_import:.0f} ms"
    )
    print(f"   = {', '.join(summary['web_stack_only'])}")
    print(
        f"the web shell alone ({', '.join(WEB_SHELL)}) and what only it needs: {shell_mb:.0f} MB "
        f"({100 * shell_mb / all_mb:.1f}%) = {', '.join(summary['web_shell_only'])}"
    )
    print(
        f"numpy, scipy, pandas, pint, yaml, msgspec, numba, pyarrow and highspy imported together: {core_import:.0f} ms "
        f"({core_import / web_import:.1f}x the web stack)"
    )


if __name__ == "__main__":
    main()
