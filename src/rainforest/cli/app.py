"""Commands of the ``rainforest`` CLI (Typer + Rich).

Options that take one of a few words are typed with the library's ``Literal`` types
(:mod:`rainforest.choices`): Typer lists the choices in ``--help`` and refuses any other
word before a command runs (one line, exit 2, as the library's ``ParameterError`` says
it). A command imports the analyses, readers, report, store and web inside its body:
they cost 20 to 300 ms each, and ``rainforest --help`` needs none of them.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import secrets
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import numpy as np
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

import rainforest as rf
from rainforest.choices import (
    BalanceMethod,
    CascadeDamping,
    CascadeEngine,
    CascadeStop,
    Currency,
    Form,
    MergerGuidelines,
    Objective,
    ShareMethod,
    TargetMethod,
)
from rainforest.cli.terminal import shown
from rainforest.errors import DocumentError, ParameterError, RainforestError, check_choice, in_words_of
from rainforest.model.schema import SECTIONS
from rainforest.model.units import label as unit_label

if TYPE_CHECKING:
    from rainforest.web.records import Accounts

_NOT_ONE_OF = re.compile(r"^('(?:[^'\\]|\\.)*') is not one of ('.*')\.$")


def _bad_value(exc: typer.BadParameter) -> str:
    """A bad option value as one line. A word outside an option's choices (Typer checks
    them against the option's ``Literal`` type) is told as the library tells a bad
    parameter (:func:`rainforest.errors.check_choice`): the choices, what was given and
    the nearest choice."""
    option = exc.format_message().partition(": ")[0].removeprefix("Invalid value for ")
    message = exc.message.removeprefix("Value error, ")
    found = _NOT_ONE_OF.match(message)
    if found is None:
        return f"{option}: {message}"
    command = f"rainforest {exc.ctx.info_name}" if exc.ctx is not None else "rainforest"
    try:
        check_choice(option.strip("'"), ast.literal_eval(found[1]), ast.literal_eval(f"[{found[2]}]"), where=command)
    except ParameterError as bad:
        return str(bad)
    return f"{option}: {message}"


class _Commands(TyperGroup):
    """The command group: a bad option value (a word outside an option's choices, a
    number out of range) is one line, ``error: ...`` (or ``{"error": ...}`` with
    ``--json``), exit 2, as every other bad input."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        ctx.meta["rainforest.json"] = "--json" in args
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except typer.BadParameter as exc:
            _fail(_bad_value(exc), EXIT_BAD_INPUT, bool(ctx.meta.get("rainforest.json")))


app = typer.Typer(
    name="rainforest",
    cls=_Commands,
    help="Design, analyse and simulate industrial ecosystems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")]

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


class _State:
    debug = False


def _emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n")
    sys.stdout.flush()


def _fail(message: str, code: int, as_json: bool, extra: dict[str, Any] | None = None) -> NoReturn:
    message = in_words_of(message, "cli")  # the library names Python's options; say the CLI's
    if as_json:
        _emit_json({"error": message, **(extra or {})})
    else:
        err.print(f"[bold red]error:[/] {shown(message)}", markup=True)
    raise typer.Exit(code)


@contextmanager
def _errors(as_json: bool, debug: bool) -> Iterator[None]:
    """Translate library errors into messages and exit codes."""
    try:
        yield
    except typer.Exit:
        raise
    except DocumentError as exc:
        if debug:
            raise
        _print_issues(exc, as_json)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        if debug:
            raise
        _fail(str(exc), EXIT_BAD_INPUT, as_json)
    except (rf.UnknownIdError, rf.FormatError, rf.UnitError, ParameterError) as exc:
        if debug:
            raise
        _fail(str(exc), EXIT_BAD_INPUT, as_json)
    except RainforestError as exc:
        if debug:
            raise
        _fail(str(exc), EXIT_FAILED, as_json)


def _print_issues(exc: DocumentError, as_json: bool) -> None:
    if as_json:
        _emit_json(
            {
                "valid": False,
                "source": exc.source,
                "count": len(exc.issues),
                "issues": [i.to_dict() for i in exc.issues],
            }
        )
        return
    count = len(exc.issues)
    err.print(
        f"[bold red]{shown(exc.source or 'document')}: {count} problem{'s' if count != 1 else ''}; nothing was loaded.[/]"
    )
    for issue in exc.issues:
        err.print(f"  [red]x[/] {shown(issue)}", markup=True, highlight=False)


def _with_errors(as_json: bool, debug: bool, work: Callable[[], None]) -> None:
    with _errors(as_json, debug):
        work()


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"rainforest {rf.__version__}")
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        out.print(ctx.get_help())
        raise typer.Exit(0)


def _counts_table(summary: dict[str, Any]) -> Table:
    table = Table(title=shown(summary["name"]), show_header=True, header_style="bold")
    table.add_column("section")
    table.add_column("entries", justify="right")
    for section, count in summary["counts"].items():
        if count:
            table.add_row(section, f"{count:,}")
    return table


MaxFileOption = Annotated[
    float | None, typer.Option("--max-file-mb", min=0.001, help="Largest file to read, in MB (default 1000).")
]
MaxDepthOption = Annotated[
    int | None, typer.Option("--max-depth", min=1, help="Deepest nesting of lists and mappings (default 64).")
]
MaxTextOption = Annotated[
    int | None, typer.Option("--max-text-chars", min=1, help="Longest text, in characters (default 1,000,000).")
]
MaxRowsOption = Annotated[
    int | None, typer.Option("--max-rows", min=1, help="Most entries in one section (default 10,000,000).")
]
MaxUnzippedOption = Annotated[
    float | None,
    typer.Option(
        "--max-unzipped-mb", min=0.001, help="Largest unpacked size of a zip or workbook, in MB (default 4000)."
    ),
]
MaxRatioOption = Annotated[
    float | None,
    typer.Option("--max-zip-ratio", min=1, help="Largest unpacked-to-packed ratio of a zip entry (default 200)."),
]
AliasesOption = Annotated[
    bool, typer.Option("--yaml-aliases", help="Read YAML anchors and aliases (refused by default).")
]


def _limits(
    max_file_mb: float | None,
    max_depth: int | None,
    max_text_chars: int | None,
    max_rows: int | None,
    max_unzipped_mb: float | None,
    max_zip_ratio: float | None,
    yaml_aliases: bool,
) -> Any:
    from rainforest.io import Limits

    given: dict[str, Any] = {
        "max_file_mb": max_file_mb,
        "max_depth": max_depth,
        "max_text_chars": max_text_chars,
        "max_rows": max_rows,
        "max_unzipped_mb": max_unzipped_mb,
        "max_zip_ratio": max_zip_ratio,
        "yaml_aliases": yaml_aliases or None,
    }
    return Limits(**{k: v for k, v in given.items() if v is not None})


@app.command()
def check(
    file: Annotated[
        Path, typer.Argument(help="A document: .yaml, .json, .xlsx, .scor, a folder of CSV files or a .zip of one.")
    ],
    as_json: JsonOption = False,
    debug: DebugOption = False,
    max_file_mb: MaxFileOption = None,
    max_depth: MaxDepthOption = None,
    max_text_chars: MaxTextOption = None,
    max_rows: MaxRowsOption = None,
    max_unzipped_mb: MaxUnzippedOption = None,
    max_zip_ratio: MaxRatioOption = None,
    yaml_aliases: AliasesOption = False,
) -> None:
    """Validate a document: exit 0 when valid, 2 with every problem and its place.

    Documents past a reading limit (file size, nesting depth, text length, rows, unpacked
    zip size and ratio, YAML aliases) are refused; the --max-... options raise a limit.
    """

    def work() -> None:
        limits = _limits(max_file_mb, max_depth, max_text_chars, max_rows, max_unzipped_mb, max_zip_ratio, yaml_aliases)
        eco = rf.load(file, limits=limits)
        summary = eco.summary()
        if as_json:
            _emit_json({"valid": True, "source": str(file), "counts": summary["counts"]})
        else:
            parts = ", ".join(f"{n:,} {s}" for s, n in summary["counts"].items() if n)
            out.print(f"[green]ok[/] {shown(file)}: a valid {rf.model.schema.FORMAT} document ({parts}).")

    _with_errors(as_json, debug, work)


def _target_problem(target: Path, form: str, force: bool, parents: bool) -> str | None:
    """Why ``convert`` must not write ``target``, if it must not: it never overwrites or
    deletes what it did not write."""
    if not target.parent.exists():
        if not parents:
            return f"{target.parent} does not exist. Create it, or pass --parents to create it."
        return None
    if not target.exists():
        return None
    if form == "csv":
        if not target.is_dir():
            return f"{target} exists and is not a folder; a CSV document is a folder. Choose another target."
        from rainforest.io.tabular import TOP_SHEET

        ours = {f"{name}.csv" for name in [*SECTIONS, TOP_SHEET]}
        others = sorted(c.name for c in target.iterdir() if c.name not in ours)
        if others:
            shown_names = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
            return (
                f"{target} holds files that are not part of a rainforest CSV document ({shown_names}); "
                "they would be mixed with the converted sections. Choose an empty or new folder."
            )
        if any(target.iterdir()) and not force:
            return f"{target} already holds a CSV document. Pass --force to replace it."
        return None
    if target.is_dir():
        return f"{target} is a folder; a {form} document is a file. Choose another target."
    if not force:
        return f"{target} already exists. Pass --force to replace it."
    return None


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(help="Document to read (any form).")],
    target: Annotated[Path, typer.Argument(help="Where to write; the form follows the suffix (a folder for CSV).")],
    to: Annotated[Form | None, typer.Option("--to", help="Force the form (default: from the target's name).")] = None,
    currency: Annotated[Currency | None, typer.Option(help="For ena-model/scor: the currency.")] = None,
    resource: Annotated[str | None, typer.Option(help="For ena-model/scor: one resource id.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing target document.")] = False,
    parents: Annotated[bool, typer.Option("--parents", help="Create the target's missing parent folders.")] = False,
    as_json: JsonOption = False,
    debug: DebugOption = False,
    max_file_mb: MaxFileOption = None,
    max_depth: MaxDepthOption = None,
    max_text_chars: MaxTextOption = None,
    max_rows: MaxRowsOption = None,
    max_unzipped_mb: MaxUnzippedOption = None,
    max_zip_ratio: MaxRatioOption = None,
    yaml_aliases: AliasesOption = False,
) -> None:
    """Convert a document from one form to another (the target appears whole or not at all).

    An existing target is replaced only with --force, and a folder holding files of its
    own is never written into; a missing parent folder is created only with --parents.
    """

    def work() -> None:
        from rainforest.io import form_of

        form = to or form_of(target)
        problem = _target_problem(target, form, force, parents)
        if problem:
            _fail(problem, EXIT_BAD_INPUT, as_json)
        limits = _limits(max_file_mb, max_depth, max_text_chars, max_rows, max_unzipped_mb, max_zip_ratio, yaml_aliases)
        eco = rf.load(source, limits=limits)
        written = rf.save(eco, target, form=form, currency=currency, resource=resource)
        if as_json:
            _emit_json({"source": str(source), "target": str(written), "form": form})
        else:
            out.print(f"wrote {shown(written)} ({form})")

    _with_errors(as_json, debug, work)


@app.command()
def template(
    target: Annotated[Path, typer.Argument(help="The workbook to write (.xlsx).")],
    source: Annotated[
        Path | None, typer.Option("--from", help="Fill it with this document's entries (default: blank).")
    ] = None,
    example: Annotated[bool, typer.Option(help="Write the example row (row 2) of every sheet.")] = True,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Write the spreadsheet template to fill in and load back (notes, drop-down lists, examples).

    A README sheet, every sheet and header with a note per column, drop-down lists for
    the choices and the ids, and one example row per sheet (first cell 'e.g. ...'), never
    loaded as data. Check the filled workbook with `rainforest check`.
    """

    def work() -> None:
        from rainforest.io.template import write_template

        if target.suffix.lower() != ".xlsx":
            _fail(f"{target}: the template is an Excel workbook; name it *.xlsx.", EXIT_BAD_INPUT, as_json)
        problem = _target_problem(target, "excel", force, False)
        if problem:
            _fail(problem, EXIT_BAD_INPUT, as_json)
        eco = rf.load(source) if source is not None else None
        write_template(target, eco, example=example)
        if as_json:
            _emit_json({"target": str(target), "from": None if source is None else str(source)})
        else:
            what = f"with the entries of {eco.name}" if eco is not None else "blank"
            out.print(f"wrote {shown(target)} (the spreadsheet template, {what})")

    _with_errors(as_json, debug, work)


@app.command()
def schema(as_json: JsonOption = True) -> None:
    """Print the JSON Schema of a rainforest/1 document."""
    _emit_json(rf.json_schema())


@app.command()
def generate(
    target: Annotated[Path, typer.Argument(help="Where to write (any form; a folder for CSV).")],
    actors: Annotated[int, typer.Option("--actors", min=2, help="Number of actors.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same ecosystem).")] = 0,
    mean_degree: Annotated[
        float, typer.Option("--mean-degree", min=0.01, help="Mean internal exchanges per actor.")
    ] = 4.0,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Generate a realistic synthetic ecosystem of any size."""

    def work() -> None:
        eco = rf.datasets.synthetic(n_actors=actors, mean_degree=mean_degree, rng=seed)
        written = rf.save(eco, target)
        summary = eco.summary()
        if as_json:
            _emit_json(
                {"target": str(written), "seed": seed, "counts": summary["counts"], "content_hash": eco.content_hash()}
            )
        else:
            out.print(_counts_table(summary))
            out.print(f"wrote {written}")

    _with_errors(as_json, debug, work)


def _info(eco: rf.Ecosystem) -> dict[str, Any]:
    from rainforest.analysis.structure import network_structure

    summary = eco.summary()
    summary["currencies"] = _currencies(eco)
    summary["network"] = network_structure(eco).to_dict()
    summary["content_hash"] = eco.content_hash()
    return summary


def _currencies(eco: rf.Ecosystem) -> dict[str, Any]:
    """Which currencies a flow matrix can be built in, with the resources each covers."""
    found: dict[str, Any] = {}
    currencies: tuple[Currency, ...] = ("mass", "energy", "water", "money")
    for currency in currencies:
        try:
            fm = rf.FlowMatrix.from_ecosystem(eco, currency)
        except rf.CurrencyError:
            continue
        found[currency] = {
            "unit": fm.unit,
            "resources": len(fm.resources),
            "excluded": len(fm.excluded),
            "unquantified_flows": fm.unquantified,
        }
    return found


@app.command()
def info(
    file: Annotated[Path, typer.Argument(help="A document in any form.")],
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Counts per section, resources per kind, currencies and strata of a document."""

    def work() -> None:
        data = _info(rf.load(file))
        if as_json:
            _emit_json(data)
            return
        out.print(_counts_table(data))
        kinds = Table(title="resources", header_style="bold")
        kinds.add_column("kind")
        kinds.add_column("resources", justify="right")
        kinds.add_column("units")
        for kind, count in data["resource_kinds"].items():
            kinds.add_row(kind, str(count), ", ".join(unit_label(u) for u in data["units_by_kind"][kind]))
        out.print(kinds)
        cur = Table(title="currencies (for analyses)", header_style="bold")
        cur.add_column("currency")
        cur.add_column("unit")
        cur.add_column("resources", justify="right")
        cur.add_column("excluded", justify="right")
        for name, c in data["currencies"].items():
            cur.add_row(name, unit_label(c["unit"]), str(c["resources"]), str(c["excluded"]))
        out.print(cur)
        strata = ", ".join(f"{k}: {v:,}" for k, v in data["strata"].items())
        out.print(f"strata: {strata}")
        net = data["network"]
        if net["nodes"]:
            out.print(
                f"network (every active exchange between actors, quantified or not): {net['nodes']:,} actors, "
                f"{net['links']:,} links ({net['unquantified_links']:,} without any quantity), "
                f"link density {net['link_density']:.2f}, connectance {net['connectance']:.3f}, "
                f"cyclicity {net['cyclicity']:.2f}"
            )
            loops = "; ".join(" → ".join([*c, c[0]]) for c in net["cycles"][:5])
            more = f" (and {len(net['cycles']) - 5:,} more)" if len(net["cycles"]) > 5 else ""
            out.print(f"loops: {shown(loops) + more if loops else 'none'} ({net['cycles_note']})")
        skipped = {k: c["unquantified_flows"] for k, c in data["currencies"].items() if c["unquantified_flows"]}
        if skipped:
            out.print(
                "flows without a quantity, skipped by the analyses in each currency: "
                + ", ".join(f"{k} {v:,}" for k, v in skipped.items())
            )

    _with_errors(as_json, debug, work)


@contextmanager
def _count_progress(enabled: bool, label: str, total: int) -> Iterator[Callable[[int, int], None] | None]:
    """A Rich progress bar on stderr counting ``total`` items (none when not ``enabled``)."""
    if not enabled:
        yield None
        return
    from rich.progress import Progress

    bar = Progress(console=err, transient=True)
    task = bar.add_task(label, total=total)

    def done(count: int, _total: int) -> None:
        bar.update(task, completed=count)

    with bar:
        yield done


@contextmanager
def _report_progress(enabled: bool) -> Iterator[Callable[[int, int, str], None] | None]:
    """A Rich progress bar on stderr for the report's steps (none in --json mode)."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description:<42}"), BarColumn(), TimeElapsedColumn(), console=err, transient=True)
    task = bar.add_task("report", total=1)

    def step(done: int, total: int, label: str) -> None:
        bar.update(task, completed=done, total=total, description=label)

    with bar:
        yield step


def _header(name: str, width: int = 10) -> str:
    """A column header that wraps instead of being cut: words longer than ``width`` are
    hyphenated onto two lines (``irreplace-`` / ``ability``)."""
    words = []
    for word in name.split(" "):
        while len(word) > width + 2:
            words.append(word[: width - 1] + "-\n")
            word = word[width - 1 :]
        words.append(word)
    return " ".join(words).replace("-\n ", "-\n")


def _add_columns(table: Table, columns: list[tuple[str, str, bool]]) -> None:
    """Columns that fit 80 terminal columns by wrapping: ``(name, justify, key)``; key
    columns (ids, numbers) are never wrapped or cut, the others wrap their text."""
    for name, justify, key in columns:
        table.add_column(
            _header(name),
            justify=justify,  # type: ignore[arg-type]
            no_wrap=key,
            overflow="fold",
            min_width=min(len(name), 10) if key else None,
        )


def number(value: float | None, unit: str = "") -> str:
    """A number for the terminal: thousands separators and six significant digits at most
    (``14,997,200 EUR``, ``80,070 t``, ``68.77``), never ``1.49972e+07``; ``n/a`` for None."""
    if value is None or not np.isfinite(value):
        return "n/a"
    x = float(value)
    if abs(x) >= 1000:
        digits = int(np.floor(np.log10(abs(x)))) + 1
        text = f"{round(x, 6 - digits):,.0f}"
    elif x == int(x):
        text = f"{x:,.0f}"
    else:
        text = f"{x:.4g}"
    # "money" is no currency: the document names none, so the number stands alone
    return f"{text} {unit}".strip() if unit != "money" else text


def _key_numbers_table(title: str, numbers: Any) -> Table:
    table = Table(title=title, header_style="bold", title_justify="left")
    table.add_column("indicator")
    table.add_column("value", justify="right")
    table.add_column("what it means")
    for n in numbers:
        table.add_row(n["label"], n["display"], n["meaning"])
    return table


OutputOption = Annotated[Path, typer.Option("--output", "-o", help="Where to write the HTML file.")]


@app.command()
def report(
    file: Annotated[Path, typer.Argument(help="Any document rainforest loads.")],
    output: OutputOption = Path("report.html"),
    no_risk: Annotated[bool, typer.Option("--no-risk", help="Skip the ESRI cascades (faster).")] = False,
    no_plan: Annotated[bool, typer.Option("--no-plan", help="Skip the exchange plan and its gain split.")] = False,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Write the ecosystem health report: one self-contained HTML file that works offline."""

    def work() -> None:
        from rainforest import report as report_module

        eco = rf.load(file)
        with _report_progress(not as_json) as progress:
            result = report_module.health_report(
                eco, source=file.name, risk=not no_risk, plan=not no_plan, progress=progress
            )
        path = result.save(output)
        if as_json:
            _emit_json({**result.to_dict(), "output": str(path)})
            return
        plan_pathway = result.facts.get("pathway") == "plan"
        title = f"{result.ecosystem}: what this park can do" if plan_pathway else result.ecosystem
        out.print(_key_numbers_table(title, result.key_numbers))
        if plan_pathway:
            out.print(
                "no exchange is recorded yet; once flows are recorded the report also shows: "
                + "; ".join(result.facts["after_flows"])
            )
        missing = [s.title for s in result.sections if not s.available]
        if missing:
            out.print(f"not available for this document: {', '.join(missing)} (the report says why)")
        out.print(f"report written to {path} ({path.stat().st_size / 1e6:.1f} MB)")

    _with_errors(as_json, debug, work)


@app.command()
def compare(
    first: Annotated[Path, typer.Argument(help="An ecosystem document.")],
    second: Annotated[
        Path | None, typer.Argument(help="A rival ecosystem; without it, the cluster-against-ecosystem curve alone.")
    ] = None,
    output: OutputOption = Path("compare.html"),
    no_risk: Annotated[bool, typer.Option("--no-risk", help="Skip the ESRI cascades (faster).")] = False,
    no_plan: Annotated[bool, typer.Option("--no-plan", help="Skip the exchange plans.")] = False,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Ecosystem against ecosystem on the report's indicators (who leads on what), and
    cluster against ecosystem: exchange potential over the radius that bounds a cluster."""

    def work() -> None:
        from rainforest import report as report_module

        files = [first] if second is None else [first, second]
        ecos = [rf.load(f) for f in files]
        with _report_progress(not as_json) as progress:
            result = report_module.compare(
                ecos, sources=[f.name for f in files], risk=not no_risk, plan=not no_plan, progress=progress
            )
        path = result.save(output)
        if as_json:
            _emit_json({**result.to_dict(), "output": str(path)})
            return
        names = [r.ecosystem for r in result.reports]
        if len(names) > 1:
            letters = {name: chr(ord("A") + k) for k, name in enumerate(names)}
            table = Table(title="side by side", header_style="bold", title_justify="left")
            table.add_column("indicator")
            for name in names:
                table.add_column(letters[name], justify="right")
            table.add_column("leads")
            for ind in result.indicators:
                cells = list(ind["display"])
                if ind["leader"]:
                    lead = letters.get(ind["leader"], ind["leader"])
                elif any(ind["reasons"]):
                    lead = "; ".join(
                        f"{letters[n]} n/a: {why}" for n, why in zip(names, ind["reasons"], strict=True) if why
                    )
                else:
                    lead = ind["note"]
                table.add_row(ind["label"], *cells, lead)
            out.print(table)
            for name, letter in letters.items():
                out.print(f"{letter}: {shown(name)}")
        for r in result.reports:
            s = r.section("cluster")
            if not s.available:
                out.print(f"{r.ecosystem}: cluster against ecosystem not available: {s.reason}")
                continue
            data = s.data
            measure = "benefit" if data["basis"] == "plan" else "share"
            points = ", ".join(
                f"{report_module.format_number(rad)} km: {'n/a' if v is None else report_module.format_number(v)}"
                for rad, v in zip(data["radius_km"], data[measure], strict=True)
            )
            out.print(
                f"{r.ecosystem}: {measure} within radius {points}; no limit: "
                f"{report_module.format_number(data['unlimited'][measure])}"
            )
        out.print(f"comparison written to {path} ({path.stat().st_size / 1e6:.1f} MB)")

    _with_errors(as_json, debug, work)


@app.command()
def demo(
    output: OutputOption = Path("kalundborg-report.html"),
    park_output: Annotated[Path, typer.Option("--park-output", help="Where to write the new park's report.")] = Path(
        "park-report.html"
    ),
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Both pathways: the health report of the bundled Kalundborg Symbiosis (an existing
    symbiosis) and the plan of a new park with offers and needs, with their key numbers."""

    def work() -> None:
        from rainforest import report as report_module
        from rainforest.store import Store

        with Store() as store:  # the embedded default store (SQLite in the user's data directory)
            if "kalundborg" not in {e.slug for e in store.ecosystems()}:
                store.create(
                    "kalundborg", rf.datasets.kalundborg(), author="rainforest demo", message="bundled example"
                )
            eco = store.load("kalundborg")
            store_url = store.url
        data = _info(eco)
        unquantified = [f for f in eco.flows if not f.quantified]
        data["unquantified_exchanges"] = len(unquantified)
        with _report_progress(not as_json) as progress:
            result = report_module.health_report(eco, source="the store's 'kalundborg'", progress=progress)
        path = result.save(output)
        with _report_progress(not as_json) as progress:
            park = report_module.health_report(
                rf.datasets.park(), source="rainforest.datasets.park()", progress=progress
            )
        park_path = park.save(park_output)
        if as_json:
            data["store"] = store_url
            data["report"] = str(path)
            data["key_numbers"] = [{k: n[k] for k in ("key", "label", "value", "meaning")} for n in result.key_numbers]
            data["park"] = {
                "report": str(park_path),
                "pathway": park.facts["pathway"],
                "key_numbers": [{k: n[k] for k in ("key", "label", "value", "meaning")} for n in park.key_numbers],
            }
            _emit_json(data)
            return
        out.print(_counts_table(data))
        fm = rf.FlowMatrix.from_ecosystem(eco, "mass")
        out.print(
            f"by-product exchanges with a published quantity: {data['counts']['flows'] - len(unquantified)}; "
            f"mass exchanged: {number(float(fm.Z.sum()), unit_label(fm.unit))} per year"
        )
        out.print(
            f"exchanges known but without a published quantity: {len(unquantified)} "
            "(flows marked 'quantified: false', never given an invented number)"
        )
        out.print("Sources and licences: rainforest/datasets/data/README.md")
        out.print(_key_numbers_table("the five numbers that matter", result.key_numbers))
        out.print(f"health report written to {path.resolve()}: open it in any browser (it works offline)")
        out.print(f"the ecosystem is kept in the store {store_url} (see `rainforest store --help`)")
        out.print()
        out.print(
            f"[bold]A new park[/]: {park.ecosystem}, {park.facts['offers']} offers and {park.facts['needs']} needs, "
            "no exchange yet (rainforest.datasets.park(), also docs/examples/park.yaml)",
            markup=True,
        )
        out.print(_key_numbers_table("what its optimal exchange plan can do", park.key_numbers))
        out.print(f"its report (the plan, the gain split, the cluster curve) written to {park_path.resolve()}")

    _with_errors(as_json, debug, work)


@app.command()
def ena(
    file: Annotated[Path, typer.Argument(help="Any document rainforest loads (rainforest/1, ena-model/1 JSON, SCOR).")],
    currency: Annotated[Currency | None, typer.Option(help="The currency of the flows.")] = None,
    resource: Annotated[str | None, typer.Option(help="One resource id.")] = None,
    kind: Annotated[str | None, typer.Option(help="One resource kind (material, energy, water, ...).")] = None,
    tolerance: Annotated[
        float, typer.Option(help="Largest relative imbalance per node accepted as steady state.")
    ] = 0.05,
    balance: Annotated[
        BalanceMethod | None,
        typer.Option(help="Balance the model first (boundary: close each gap at the boundary)."),
    ] = None,
    matrices: Annotated[
        bool, typer.Option("--matrices", help="Include the matrices (G, N, TCC, D, U, Y, ...).")
    ] = False,
    force_dense: Annotated[
        bool, typer.Option("--force-dense", help="Compute n-by-n results above the dense limit.")
    ] = False,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Ecological network analysis: structure, flow, ascendency, utility, storage, control."""

    def work() -> None:
        from rainforest.analysis import ena as ena_module

        eco = rf.load(file)
        fm = rf.FlowMatrix.from_ecosystem(eco, currency, resource=resource, kind=kind)
        result = ena_module.analyze(
            fm,
            tolerance=tolerance,
            balance=balance,
            matrices=matrices,
            force_dense=force_dense,
        )
        if as_json:
            _emit_json(result.to_dict(matrices=matrices))
            return
        out.print(
            f"[bold]{shown(eco.name)}[/]: {fm.n:,} nodes, currency {fm.currency} ({unit_label(fm.unit) or 'no unit'}), "
            f"{result.method} engine"
        )
        for section in ("structure", "flow", "ascendency", "utility", "storage"):
            values = getattr(result, section)
            if not values:
                continue
            table = Table(title=section, header_style="bold", show_lines=False)
            table.add_column("statistic")
            table.add_column("value", justify="right")
            for name, value in values.items():
                table.add_row(name, f"{value:.6g}" if isinstance(value, float) else str(value))
            out.print(table)
        if result.control is not None:
            out.print(f"control: TSC = {result.control['TSC']:.6g}")
        for note in result.notes:
            out.print(f"[yellow]note:[/] {shown(in_words_of(note, 'cli'))}")

    _with_errors(as_json, debug, work)


@app.command()
def target(
    file: Annotated[Path, typer.Argument(help="A document with offers and needs of the resource.")],
    resource: Annotated[str, typer.Option("--resource", help="The resource to target.")],
    prop: Annotated[
        str | None, typer.Option("--property", help="The quality property (default: the only one given).")
    ] = None,
    method: Annotated[TargetMethod, typer.Option(help="cascade (algebraic) or lp.")] = "cascade",
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Material recovery pinch: minimum virgin supply, discharge and pinch of one resource."""

    def work() -> None:
        from rainforest.optimize import targeting

        eco = rf.load(file)
        sources, sinks, virgin_quality, chosen = targeting.streams_of(eco, resource, prop)
        result = (
            targeting.lp_target(sources, sinks, virgin_quality)
            if method == "lp"
            else targeting.cascade_target(sources, sinks, virgin_quality)
        )
        unit = eco.resource(resource).unit
        if as_json:
            _emit_json({"resource": resource, **result.to_dict(), "property": chosen, "unit": unit})
            return
        out.print(f"[bold]{resource}[/] targets by {method} (quality {chosen}, in {unit_label(unit)}):")
        out.print(f"  minimum virgin supply  {number(result.virgin, unit_label(unit))}")
        out.print(f"  minimum discharge      {number(result.discharge, unit_label(unit))}")
        pinch = ", ".join(f"{p:g}" for p in result.pinch) or f"none ({result.threshold} threshold problem)"
        out.print(f"  pinch quality          {pinch}")

    _with_errors(as_json, debug, work)


@app.command()
def share(
    game_file: Annotated[
        Path,
        typer.Argument(help='A cooperative game: {"players": [...], "kind": "profit"|"cost", "values": {"A,B": n}}.'),
    ],
    method: Annotated[ShareMethod, typer.Option(help="How the gain is split.")] = "shapley",
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Split a coalition's gain (or cost) fairly: Shapley value or nucleolus, with the core check."""

    def work() -> None:
        from rainforest.io.text import parse_json
        from rainforest.optimize import sharing

        if not game_file.exists():
            raise FileNotFoundError(f"{game_file}: no such file")
        data, issues, _ = parse_json(game_file.read_text(encoding="utf-8-sig"), game_file.name)
        if issues or not isinstance(data, dict):
            raise DocumentError(
                issues or [rf.Issue("", "not a JSON object", file=game_file.name)], source=game_file.name
            )
        game = sharing.load_game(data, source=game_file.name)
        allocation = sharing.shapley(game).values if method == "shapley" else sharing.nucleolus(game)
        violations = sharing.core_violations(game, allocation)
        if as_json:
            _emit_json({"allocation": allocation, "in_core": not violations})
            return
        table = Table(title=f"{method} allocation ({game.kind})", header_style="bold")
        table.add_column("player")
        table.add_column("share", justify="right")
        for player, value in allocation.items():
            table.add_row(player, f"{value:,.6g}")
        out.print(table)
        if violations:
            worst, gap = violations[0]
            out.print(f"[yellow]not in the core:[/] {', '.join(worst)} would do better alone by {gap:,.6g}")
        else:
            out.print("in the core: no group would do better on its own")

    _with_errors(as_json, debug, work)


@app.command()
def candidates(
    file: Annotated[Path, typer.Argument(help="A document with offers and needs.")],
    max_distance_km: Annotated[
        float | None, typer.Option("--max-distance-km", help="Cluster mode: partners this close only.")
    ] = None,
    per_need: Annotated[
        int | None, typer.Option("--per-need", min=1, help="Keep each need's best N candidates.")
    ] = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Every feasible offer -> need exchange, with why it fits, what it saves and what limits it."""

    def work() -> None:
        from rainforest.optimize import exchanges

        eco = rf.load(file)
        found = exchanges.candidates(eco, max_distance_km=max_distance_km, per_need=per_need)
        if as_json:
            _emit_json({"candidates": [c.to_dict() for c in found]})
            return
        table = Table(title=f"{len(found)} candidate exchanges", header_style="bold")
        for col in ("from", "to", "resource", "max quantity", "saving/unit", "why", "limits"):
            table.add_column(col)
        for c in found:
            table.add_row(
                shown(c.source),
                shown(c.target),
                shown(c.resource),
                f"{c.upper:,.6g}",
                f"{c.unit_saving:,.4g}",
                shown(c.why),
                shown(c.limits),
            )
        out.print(table)

    _with_errors(as_json, debug, work)


@app.command()
def suggest(
    file: Annotated[Path, typer.Argument(help="A document whose actors have NACE rev. 2 codes as their sector.")],
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Show the best N suggestions.")] = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Likely exchanges from the firms' sectors alone (documented synergies by sector), each with its source."""

    def work() -> None:
        from rainforest.optimize import suggest as suggesting

        found = suggesting.suggest_exchanges(rf.load(file), limit=limit)
        if as_json:
            _emit_json(found.to_dict())
            return
        table = Table(
            title=f"{len(found)} suggested exchanges (typical for these sectors; not declared)", header_style="bold"
        )
        for col in ("rank", "from", "to", "residue", "EWC", "score", "cases", "evidence (--json: citations)"):
            table.add_column(col)
        for s in found:
            table.add_row(
                str(s.rank),
                shown(s.supplier),
                shown(s.receiver),
                shown(s.residue),
                shown(", ".join(s.ewc) or "-"),
                f"{s.score:.2f}",
                str(s.cases),
                shown(s.support[0].evidence.case + (f" +{len(s.support) - 1}" if len(s.support) > 1 else "")),
            )
        out.print(table)
        for k in found.skipped:
            out.print(f"[yellow]{shown(k.actor)}[/]: {shown(k.reason)}")

    _with_errors(as_json, debug, work)


@app.command()
def match(
    file: Annotated[Path, typer.Argument(help="A document with offers, needs (and virgin supply, links).")],
    objective: Annotated[Objective, typer.Option(help="What the plan optimises.")] = "benefit",
    max_distance_km: Annotated[
        float | None, typer.Option("--max-distance-km", help="Cluster mode: partners this close only.")
    ] = None,
    failure_probability: Annotated[
        float, typer.Option(help="Plan for partners failing with this probability.", min=0.0, max=1.0)
    ] = 0.0,
    share_method: Annotated[ShareMethod, typer.Option(help="How the plan's gain is split.")] = "shapley",
    share_samples: Annotated[
        int, typer.Option(help="Sampled orders for the Shapley value above 10 participants.")
    ] = 50,
    per_need: Annotated[
        int | None, typer.Option("--per-need", min=1, help="Keep each need's best N candidates (large ecosystems).")
    ] = None,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            help="A previous plan (this command's --json output): start from it, never end worse, and say what changed.",
        ),
    ] = None,
    time_limit: Annotated[
        float,
        typer.Option("--time-limit", min=0.1, help="Seconds the solver may spend; the plan shows its proven gap."),
    ] = 60.0,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """The optimal exchange plan, its impacts and a fair split of its gain.

    Every plan says how far it is proven: optimal, or stopped at the time limit with its proven gap.
    """

    def work() -> None:
        from rainforest.assessment import ExchangePlan
        from rainforest.optimize import exchanges
        from rainforest.optimize.solvers import HighsSolver

        eco = rf.load(file)
        before = _previous_plan(previous, as_json) if previous is not None else None
        result = exchanges.plan(
            eco,
            objective,
            max_distance_km=max_distance_km,
            failure_probability=failure_probability,
            per_need=per_need,
            previous=before,
            solver=HighsSolver(time_limit_s=time_limit),
        )
        changes = exchanges.diff(before, result) if before is not None else None
        effects = exchanges.impacts(eco, result)
        shares = exchanges.share_gains(
            eco,
            result,
            method=share_method,
            max_distance_km=max_distance_km,
            samples=share_samples,
        )
        if as_json:
            data = ExchangePlan(result, effects, shares, per_need=per_need).to_dict()
            if changes is not None:
                data["changes"] = changes.to_dict()
            _emit_json(data)
            return
        from rainforest import report as report_module
        from rainforest.report import money_unit

        money = money_unit(eco)
        units = {r.id: unit_label(r.unit) for r in eco.resources}
        value_unit = {"benefit": money, "co2e": "kg CO2e", "virgin": ""}[objective]
        if objective == "co2e":
            title_value = number(result.value / 1000, "t CO2e")
        else:
            title_value = number(result.value, value_unit)
        table = Table(
            title=f"exchange plan ({objective}: {title_value} per {eco.period}; {result.describe()})",
            header_style="bold",
        )
        _add_columns(
            table,
            [
                ("from", "left", True),
                ("to", "left", True),
                ("resource", "left", False),
                ("quantity", "right", True),
                ("benefit" + (f" ({money})" if money != "money" else ""), "right", True),
            ],
        )
        for e in result.exchanges:
            table.add_row(
                shown(e.source),
                shown(e.target),
                shown(e.resource),
                number(e.quantity, units[e.resource]),
                number(e.benefit),
            )
        out.print(table)
        total = effects["total"]
        out.print(
            f"per {eco.period}: money saved {number(total['money_saved'], money)}; "
            f"CO2e avoided {number(total['co2e_avoided_kg'] / 1000, 't')}; "
            f"disposal diverted {number(total['disposal_diverted_t'], 't')}; "
            f"water saved {number(total['water_saved_m3'], 'm³')}"
        )
        split = ", ".join(f"{a}: {number(v, money)}" for a, v in shares["allocation"].items())
        out.print(f"{share_method} split of the gain: {split} ({'in' if shares['in_core'] else 'not in'} the core)")
        if changes is not None:
            out.print("changes from the previous plan:")
            for line in changes.lines():
                out.print(f"  {shown(line)}")
        for note in result.notes:
            out.print(f"[yellow]note:[/] {shown(report_module.format_co2e_in_t(in_words_of(note, 'cli')))}")

    _with_errors(as_json, debug, work)


def _previous_plan(path: Path, as_json: bool) -> dict[str, Any]:
    """A previous plan from a file of ``match --json`` output; exit 2 with the reason
    when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        _fail(
            f"--previous {path}: cannot read a plan ({exc}); expected the output of `rainforest match --json`",
            EXIT_BAD_INPUT,
            as_json,
        )
    rows = data.get("exchanges") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not all(
        isinstance(e, dict) and {"from", "to", "resource", "quantity"} <= set(e) for e in rows
    ):
        _fail(
            f"--previous {path}: expected an object with 'exchanges', a list of objects with 'from', 'to', "
            "'resource' and 'quantity' (the output of `rainforest match --json`)",
            EXIT_BAD_INPUT,
            as_json,
        )
    return dict(data)


def _split(values: list[str] | None) -> list[str]:
    """Values given as repeated options, comma-separated lists, or both."""
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def _shares(specs: list[str], what: str) -> dict[str, float]:
    """``NAME=SHARE`` (share of production lost, 0..1; ``NAME`` alone means 1)."""
    result: dict[str, float] = {}
    for spec in specs:
        name, _, value = spec.partition("=")
        try:
            share = float(value) if value else 1.0
        except ValueError:
            raise typer.BadParameter(f"{what} {spec!r}: expected NAME=SHARE with SHARE between 0 and 1") from None
        if not 0.0 <= share <= 1.0:
            raise typer.BadParameter(f"{what} {spec!r}: the share lost must be between 0 and 1, got {share}")
        result[name.strip()] = max(result.get(name.strip(), 0.0), share)
    return result


@app.command()
def risk(
    file: Annotated[Path, typer.Argument(help="A rainforest/1 document (its money layer is used).")],
    more: Annotated[
        list[str] | None, typer.Argument(help="More actor ids after --actors (--actors a b c).", show_default=False)
    ] = None,
    actors: Annotated[
        list[str] | None,
        typer.Option(
            help="Actors whose failure is computed, one scenario each (repeat or comma-separate). Default: all."
        ),
    ] = None,
    together: Annotated[bool, typer.Option("--together", help="Fail the --actors all at once: one scenario.")] = False,
    shock: Annotated[
        list[str] | None,
        typer.Option(help="Partial shock ACTOR=SHARE lost (0..1); all --shock and --sector form one scenario."),
    ] = None,
    sector: Annotated[
        list[str] | None, typer.Option(help="Sector shock SECTOR=SHARE lost: every actor of the sector is hit.")
    ] = None,
    substitution: Annotated[
        bool, typer.Option("--substitution", help="Customers replace lost supplies within the supplier's sector.")
    ] = False,
    eps: Annotated[
        float | None,
        typer.Option(help="Stop tolerance (default 1e-14 at the fixed point, 1e-2 with --stop reference)."),
    ] = None,
    stop: Annotated[
        CascadeStop, typer.Option(help="fixed-point, or reference (the published implementation's rule).")
    ] = "fixed-point",
    weights: Annotated[
        str, typer.Option(help="out-strength, revenue, costs, or any numeric actor column (employees, x_value).")
    ] = "out-strength",
    damping: Annotated[
        CascadeDamping | None,
        typer.Option(
            help="How revenues and costs (size.revenue, size.costs, trade with world) damp the cascade: "
            "reference (the published implementation, default), outside-trade (only trade outside the "
            "network is spared; essential inputs undamped) or none."
        ),
    ] = None,
    no_damping: Annotated[
        bool, typer.Option("--no-damping", help="Ignore revenues, costs and outside trade (--damping none).")
    ] = False,
    valued: Annotated[
        bool, typer.Option("--valued", help="Use every flow valued at its resource's price, not only money flows.")
    ] = False,
    executor: Annotated[
        str | None,
        typer.Option(help="Where the cascades run: serial, threads, processes, dask (a LocalCluster) or dask:ADDRESS."),
    ] = None,
    dask: Annotated[
        str | None, typer.Option(help="Old form of --executor: 'local' is --executor dask, ADDRESS is dask:ADDRESS.")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Workers of the pool or of the local Dask cluster.")] = None,
    losses: Annotated[bool, typer.Option("--losses", help="Include every actor's loss in each scenario.")] = False,
    engine: Annotated[CascadeEngine, typer.Option(help="auto, compiled (numba) or numpy.")] = "auto",
    top: Annotated[int, typer.Option(help="Rows shown in the table (not --json).")] = 15,
    layers: Annotated[
        str | None,
        typer.Option(
            help="Cross-layer cascade through these layers (comma-separated: supply, byproducts, platform; "
            "see docs/layers.md) instead of the money layer alone."
        ),
    ] = None,
    withdraw: Annotated[
        list[str] | None,
        typer.Option(
            help="With --layers: modules withdrawn by their provider (repeat or comma-separate); one scenario."
        ),
    ] = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Firm-level economic systemic risk (ESRI, Diem et al. 2022) of actor failures and shocks."""

    def work() -> None:
        from rainforest.analysis import cascade as cascade_module

        if no_damping and damping not in (None, "none"):
            _fail(f"--no-damping contradicts --damping {damping}", EXIT_BAD_INPUT, as_json)
        rule: CascadeDamping = "none" if no_damping else (damping or "reference")
        if more and not actors:
            _fail(f"unexpected extra argument(s) {' '.join(more)!r}; did you mean --actors?", EXIT_BAD_INPUT, as_json)
        chosen = _split(actors) + _split(more)
        partial = _shares(_split(shock), "--shock")
        sectors = _shares(_split(sector), "--sector")
        if layers is not None or withdraw:
            unsupported = [
                name
                for name, given in (
                    ("--substitution", substitution),
                    ("--stop reference", stop != "fixed-point"),
                    ("--eps", eps is not None),
                    ("--executor", executor is not None),
                    ("--dask", dask is not None),
                    ("--workers", workers is not None),
                    ("--losses", losses),
                    ("--layers", layers is None),
                )
                if given
            ]
            if unsupported:
                _fail(
                    f"{', '.join(unsupported)}: not available with the cross-layer cascade (--layers, --withdraw); "
                    "--withdraw needs --layers with platform",
                    EXIT_BAD_INPUT,
                    as_json,
                )
            assert layers is not None  # checked above
            _risk_layers(
                file,
                layers,
                chosen,
                together,
                partial,
                sectors,
                _split(withdraw),
                weights,
                rule,
                valued,
                engine,
                top,
                as_json,
            )
            return
        eco = rf.load(file)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", rf.errors.RainforestWarning)
            try:
                net = cascade_module.SupplyNetwork.from_ecosystem(eco, valued=valued)
                valued_here = valued
            except rf.CurrencyError:
                if valued:
                    raise
                # no money flows: value the flows at their prices, as the report does, and say so
                net = cascade_module.SupplyNetwork.from_ecosystem(eco, valued=True)
                valued_here = True
                err.print(
                    "note: the document records no money flows between actors: flows are valued at their "
                    "resources' prices (as `rainforest report` does; --valued asks for this explicitly)"
                )
            scenarios: dict[str, dict[str, float]] | None = None
            if partial or sectors or together:
                joint: dict[str, float] = dict.fromkeys(chosen, 1.0) if together else {}
                for name, share in partial.items():
                    net.index(name)
                    joint[name] = max(joint.get(name, 0.0), share)
                for name, share in sectors.items():
                    for i in net.sector_members(name).tolist():
                        joint[net.ids[i]] = max(joint.get(net.ids[i], 0.0), share)
                if not together and chosen:
                    _fail(
                        "--actors with --shock/--sector: add --together to hit them in one scenario",
                        EXIT_BAD_INPUT,
                        as_json,
                    )
                label = "+".join(
                    [*(chosen if together else []), *(f"{k}={v:g}" for k, v in partial.items())]
                    + [f"sector:{k}={v:g}" for k, v in sectors.items()]
                )
                scenarios = {label: joint}
            total = len(scenarios) if scenarios is not None else len(chosen or net.ids)
            if dask is not None and executor is None:
                where = "dask" if dask == "local" else f"dask:{dask}"
            else:
                where = executor or "serial"
            with _count_progress(
                not as_json and not where.startswith("dask") and total >= 2000, "cascades", total
            ) as task_done:
                profile = cascade_module.esri(
                    net,
                    None if scenarios is not None else (chosen or None),
                    scenarios=scenarios,
                    substitution=substitution,
                    stop=stop,
                    eps=eps,
                    weights=cascade_module.actor_weights(net, weights, eco),
                    damping=rule,
                    losses=losses,
                    executor=where,
                    workers=workers,
                    engine=engine,
                    progress=task_done,
                )
        for w in caught:
            if issubclass(w.category, rf.errors.RainforestWarning):
                err.print(f"[yellow]warning:[/] {shown(in_words_of(str(w.message), 'cli'))}")
        if as_json:
            _emit_json(profile.to_dict(losses=losses))
            return
        mode = f"stop {stop} (eps {profile.tol:g})" + (", substitution" if substitution else "")
        mode += ", flows valued at prices" if valued_here and not valued else ""
        mode += {"reference": "", "outside-trade": ", damping outside-trade", "none": ", no damping"}[rule]
        out.print(f"[bold]{shown(eco.name)}[/]: {net.n:,} actors, {len(net.weight):,} money links; {mode}")
        table = Table(title="economic systemic risk index", header_style="bold")
        for col, justify in (
            ("scenario", "left"),
            ("ESRI", "right"),
            ("downstream", "right"),
            ("upstream", "right"),
            ("sweeps", "right"),
        ):
            table.add_column(col, justify=justify)  # type: ignore[arg-type]
        order = np.argsort(-profile.esri, kind="stable")[:top]
        for k in order.tolist():
            table.add_row(
                shown(profile.labels[k]),
                f"{profile.esri[k]:.4f}",
                f"{profile.esri_down[k]:.4f}",
                f"{profile.esri_up[k]:.4f}",
                str(profile.sweeps[k]),
            )
        out.print(table)
        if len(profile.labels) > top:
            out.print(f"(top {top} of {len(profile.labels):,}; --json gives all)")

    _with_errors(as_json, debug, work)


def _risk_layers(
    file: Path,
    layers: str,
    chosen: list[str],
    together: bool,
    partial: dict[str, float],
    sectors: dict[str, float],
    withdrawn: list[str],
    weights: str,
    rule: CascadeDamping,
    valued: bool,
    engine: CascadeEngine,
    top: int,
    as_json: bool,
) -> None:
    """``risk --layers``: the cross-layer cascade (:mod:`rainforest.analysis.layers`)."""
    from rainforest.analysis import layers as layers_module

    names = layers_module._check_layers(layers, "risk --layers")
    eco = rf.load(file)
    lay = layers_module.Layers.from_ecosystem(eco, valued=valued)
    note = ""
    if "supply" in names and lay.supply is None and not valued:
        lay = layers_module.Layers.from_ecosystem(eco, valued=True)
        note = ", flows valued at prices (no money flows)"
        err.print(
            "note: the document records no money flows between actors: the supply layer values flows at their "
            "resources' prices, by-products and waste left to their own layer (--valued asks for this explicitly)"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", rf.errors.RainforestWarning)
        scenario = together or bool(partial) or bool(sectors) or bool(withdrawn)
        if scenario:
            if chosen and not together:
                _fail(
                    "--actors with --shock/--sector/--withdraw: add --together to hit them in one scenario",
                    EXIT_BAD_INPUT,
                    as_json,
                )
            failed: dict[str, float] = dict.fromkeys(chosen, 1.0)
            for name, share in partial.items():
                failed[name] = max(failed.get(name, 0.0), share)
            sector_of = eco.table("actors").texts("sector")
            for name, share in sectors.items():
                members = [a for a, s in zip(lay.ids, sector_of, strict=True) if s == name]
                if not members:
                    raise rf.errors.UnknownIdError("sector", name, sorted({s for s in sector_of if s is not None}))
                for a in members:
                    failed[a] = max(failed.get(a, 0.0), share)
            result = layers_module.layered_cascade(lay, failed, withdrawn, layers=names, damping=rule, weights=weights)
        else:
            profile = layers_module.layered_profile(
                lay, chosen or None, layers=names, damping=rule, weights=weights, engine=engine
            )
    for w in caught:
        if issubclass(w.category, rf.errors.RainforestWarning):
            err.print(f"[yellow]warning:[/] {shown(in_words_of(str(w.message), 'cli'))}")
    head = f"[bold]{shown(eco.name)}[/]: {lay.n:,} actors; layers {', '.join(names)}{note}"
    if scenario:
        if as_json:
            _emit_json(result.to_dict())
            return
        out.print(head)
        out.print(
            f"score {result.score:.4f}"
            + (
                f" (up to {result.score_upper:.4f} with unknown capacity shares)"
                if result.score_upper > result.score
                else ""
            )
            + f"; cost {result.cost_total:,.2f} per period"
        )
        table = Table(title="losses per actor (share of output; cost per period)", header_style="bold")
        cols = ["actor", "loss", *names, "cost"]
        for col in cols:
            table.add_column(col, justify="left" if col == "actor" else "right")
        order = np.argsort(-result.loss_upper, kind="stable")[:top]
        for i in order.tolist():
            upper = result.loss_upper[i]
            loss = f"{result.loss[i]:.4f}" + (f"..{upper:.4f}" if f"{upper:.4f}" != f"{result.loss[i]:.4f}" else "")
            table.add_row(
                shown(result.actors[i]),
                loss,
                *(f"{result.loss_by_layer[n][i]:.4f}" for n in names),
                f"{result.cost[i]:,.2f}",
            )
        out.print(table)
        for u in result.unquantified[:top]:
            err.print(f"[yellow]unquantified:[/] {shown(u['actor'])} via {shown(u['via'])}: {shown(u['reason'])}")
        return
    if as_json:
        _emit_json(profile.to_dict())
        return
    out.print(head)
    table = Table(title="cross-layer systemic risk (each actor failing alone)", header_style="bold")
    cols = ["scenario", "score", *names, "cost/period", "reached", "unquantified"]
    for col in cols:
        table.add_column(col, justify="left" if col == "scenario" else "right")
    order = np.argsort(-profile.score_upper, kind="stable")[:top]

    def span(low: float, high: float, spec: str) -> str:
        """A number, or its range where unknown capacity shares leave it open."""
        shown_low, shown_high = f"{low:{spec}}", f"{high:{spec}}"
        return shown_low if shown_high == shown_low else f"{shown_low}..{shown_high}"

    for k in order.tolist():
        table.add_row(
            shown(profile.labels[k]),
            span(float(profile.score[k]), float(profile.score_upper[k]), ".4f"),
            *(f"{profile.score_by_layer[n][k]:.4f}" for n in names),
            span(float(profile.cost[k]), float(profile.cost_upper[k]), ",.2f"),
            str(profile.reached[k]),
            str(profile.unquantified[k]),
        )
    out.print(table)
    if len(profile.labels) > top:
        out.print(f"(top {top} of {len(profile.labels):,}; --json gives all)")


@app.command()
def position(
    file: Annotated[Path, typer.Argument(help="A rainforest/1 document.")],
    no_risk: Annotated[
        bool, typer.Option("--no-risk", help="Skip the ESRI cascades behind the keystone index.")
    ] = False,
    supplies: Annotated[
        bool, typer.Option("--supplies", help="Include each supply's alternatives (JSON is long).")
    ] = False,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Each actor's stratum, stage, role, irreplaceability, keystone index and redundancies."""

    def work() -> None:
        from rainforest.analysis import positioning

        eco = rf.load(file)
        result = positioning.position(eco, risk=not no_risk)
        if as_json:
            data = result.to_dict()
            if not supplies:
                for row in data["actors"].values():
                    row.pop("supplies")
            _emit_json(data)
            return

        def num(x: float | None, fmt: str = ".2f") -> str:
            return "-" if x is None else format(x, fmt)

        table = Table(title=f"{shown(eco.name)}: positioning", header_style="bold")
        staged = any(a.stage for a in result.actors)  # no column of dashes
        names = ["actor", "stratum (basis)", *(["stage"] if staged else []), "role", "irreplaceability", "keystone"]
        _add_columns(
            table,
            [
                (col, "right" if col in ("irreplaceability", "keystone") else "left", col != "stratum (basis)")
                for col in names
            ],
        )
        for a in result.actors:
            # the basis wraps onto a second line at 80 columns; a declared stratum needs none
            plain = a.stratum_basis in ("declared", "unknown")
            stratum = a.stratum if plain else f"{a.stratum} ({a.stratum_basis})"
            cells = [shown(a.actor), stratum]
            cells += [a.stage or "-"] if staged else []
            cells += [a.role, num(a.irreplaceability), num(a.keystone)]
            table.add_row(*cells)
        out.print(table)
        # below the table, so that the table fits 80 columns without cutting a key column
        for a in result.actors:
            for r in a.redundancies:
                out.print(
                    f"redundant non-core: {shown(a.actor)} runs {shown(r['capability'])}, held as core by "
                    f"{shown(', '.join(r['core_at'][:5]))}"
                )
        profile = Table(title="rainforest profile", header_style="bold")
        sized = any(row["size_share"] is not None for row in result.profile)
        columns = ["stratum", "actors", "share of actors", "share of throughflow"]
        columns += [f"share of {result.size_measure}"] if sized else []
        for col in columns:
            profile.add_column(col, justify="left" if col == "stratum" else "right")
        for row in result.profile:
            profile.add_row(
                row["stratum"],
                str(row["actors"]),
                f"{row['actor_share']:.0%}",
                f"{row['throughflow_share']:.0%}",
                *([f"{row['size_share']:.0%}"] if sized else []),
            )
        out.print(profile)
        for finding in result.health["findings"]:
            out.print(f"health: {shown(finding)}")
        for note in result.notes:
            out.print(f"[yellow]note:[/] {shown(in_words_of(note, 'cli'))}")
        if any(a.stratum_inferred for a in result.actors):
            out.print(
                "stratum (basis): inferred by the rule in rainforest.analysis.positioning from what the basis "
                "names (revenue, employees, capacity, throughflow), or unknown; a declared stratum shows no basis"
            )

    _with_errors(as_json, debug, work)


@app.command()
def platform(
    file: Annotated[Path, typer.Argument(help="A rainforest/1 document with modules.")],
    preference_gap: Annotated[
        float | None,
        typer.Option(
            "--preference-gap",
            help="Arthur's g: how much more (money per period) an adopter who prefers a rival values it at "
            "equal adoption. With --returns it gives each kind's lock-in lead g / r.",
        ),
    ] = None,
    returns: Annotated[
        float | None,
        typer.Option(
            "--returns", help="Arthur's r: what each further adopter adds to every adopter's payoff (money per period)."
        ),
    ] = None,
    currency: Annotated[
        Currency | None,
        typer.Option("--currency", help="The layer throughflow is measured in (default: main physical)."),
    ] = None,
    guidelines: Annotated[
        MergerGuidelines,
        typer.Option(
            "--guidelines",
            help="Which DOJ/FTC Guidelines name the HHI bands: the Merger Guidelines of 2023 or the Horizontal "
            "Merger Guidelines of 2010.",
        ),
    ] = "2023-merger",
    valued: Annotated[
        bool,
        typer.Option("--valued", help="The cascade's supply layer from every priced flow, not only money flows."),
    ] = False,
    no_cascade: Annotated[
        bool, typer.Option("--no-cascade", help="Direct keystone losses only (no cascade across the layers).")
    ] = False,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """The platform pathway: providers' reach, adopters' dependence, multi-homing, HHI per module kind, entry
    barriers (Arthur 1989) and the keystone loss if a provider fails (Iansiti & Levien 2004)."""

    def work() -> None:
        from rainforest.analysis import platform as plat

        if (preference_gap is None) != (returns is None):
            _fail(
                "Arthur's lock-in lead is g / r: give both --preference-gap and --returns, or neither",
                EXIT_BAD_INPUT,
                as_json,
            )
        eco = rf.load(file)
        if not eco.modules:
            _fail(
                f"no platform pathway: {file.name} declares no modules (the modules section lists what a provider "
                "offers and who adopts it; see docs/platform.md)",
                EXIT_FAILED,
                as_json,
            )
        result = plat.analyze(
            eco,
            currency=currency,
            preference_gap=preference_gap,
            returns_per_adopter=returns,
            guidelines=guidelines,
            cascade=not no_cascade,
            valued=valued,
        )
        if as_json:
            _emit_json(result.to_dict())
            return
        _platform_tables(eco, result)

    _with_errors(as_json, debug, work)


def _guidelines_title(result: Any) -> str:
    """The title of the Guidelines whose bands a platform analysis names."""
    from rainforest.analysis.platform import GUIDELINES

    return GUIDELINES[result.parameters["guidelines"]]


def _platform_tables(eco: rf.Ecosystem, result: Any) -> None:
    money, per = result.money, f"per {result.period}"
    in_money = "" if money == "money" else f", money in {money}"  # the document names no currency
    reasons: dict[str, None] = {}

    def why(value: Any, reasons_of: Mapping[str, str], key: str) -> None:
        if value is None and key in reasons_of:
            reasons[f"{key.replace('_', ' ')}: {reasons_of[key]}"] = None

    def share(value: float | None, reasons_of: Mapping[str, str], key: str) -> str:
        why(value, reasons_of, key)
        return "n/a" if value is None else f"{value:.0%}"

    def cash(value: float | None, reasons_of: Mapping[str, str], key: str) -> str:
        why(value, reasons_of, key)
        return number(value)

    def table(title: str, columns: list[tuple[str, str]]) -> Table:
        return Table(*(c for c, _ in columns), title=title, header_style="bold", title_justify="left")

    def show(t: Table, rows: list[tuple[str, ...]], empty: str = "") -> None:
        """Cells (ids, numbers) are never cut; headers wrap onto several lines instead; a
        table without rows is one line saying why."""
        if not rows:
            out.print(f"{t.title}: {empty}")
            return
        for k, column in enumerate(t.columns):
            name = str(column.header)
            column.header = _header(name)
            column.justify = "left" if k == 0 or not any(r[k][:1].isdigit() for r in rows) else "right"
            column.min_width = max([len(w) for w in name.split()] + [len(r[k]) for r in rows])
            column.overflow = "fold"
        for r in rows:
            t.add_row(*r)
        out.print(t)

    reach = table(
        f"{shown(eco.name)}: module providers. Shares of the {result.actors} actors, of value added, of "
        f"throughflow ({result.throughflow_currency or 'n/a'}) in the adopters; share of output lost if the "
        "provider fails (direct)",
        [
            ("provider", "left"),
            ("adopters", "right"),
            ("actors", "right"),
            ("value added", "right"),
            ("through-flow", "right"),
            ("lost if it fails", "right"),
        ],
    )
    rows_reach: list[tuple[str, ...]] = []
    for r in result.providers:
        loss = result.loss(r.id)
        rows_reach.append(
            (
                shown(r.id),
                str(len(r.adopters)),
                share(r.actors_share, r.reasons, "actors_share"),
                share(r.value_added_share, r.reasons, "value_added_share"),
                share(r.throughflow_share, r.reasons, "throughflow_share"),
                share(loss.direct_share, loss.reasons, "direct_share"),
            )
        )
    show(reach, rows_reach)
    conc = table(
        f"Module kinds: concentration. HHI in points; bands of the {_guidelines_title(result)}",
        [
            ("kind", "left"),
            ("providers", "right"),
            ("HHI", "right"),
            ("band", "left"),
            ("multi-homing adopters", "left"),
        ],
    )
    rows_conc: list[tuple[str, ...]] = []
    for k in result.kinds:
        why(k.hhi, k.reasons, "hhi")
        rows_conc.append(
            (
                shown(k.kind),
                str(len(k.adopters)),
                number(k.hhi_points),
                k.band or "n/a",
                shown(", ".join(k.multi_homing)) or "none",
            )
        )
    show(conc, rows_conc)
    bar = table(
        f"Entry barriers (Arthur 1989){in_money}; installed base, leads in adopters",
        [
            ("kind", "left"),
            ("leader", "left"),
            ("installed base", "right"),
            ("lead", "right"),
            ("switching cost of base", "right"),
            ("cost to match", "right"),
            ("lock-in lead", "right"),
            ("locked in", "left"),
        ],
    )
    rows_bar: list[tuple[str, ...]] = []
    for k in result.kinds:
        b = k.barrier
        if b is None:
            continue
        why(b.lock_in_lead, b.reasons, "lock_in_lead")
        rows_bar.append(
            (
                shown(k.kind),
                shown(b.leader),
                str(b.installed_base),
                str(b.lead),
                cash(b.switching_cost_total, b.reasons, "switching_cost_total"),
                cash(b.cost_to_match, b.reasons, "cost_to_match"),
                number(b.lock_in_lead),
                "n/a" if b.locked_in is None else ("yes" if b.locked_in else "no"),
            )
        )
    show(bar, rows_bar, "none: no module kind has an adopter yet")
    dep = table(
        f"Dependence of each adopter: the module's value against its revenue and inputs, the share of its output "
        f"that stops without it; switching cost{in_money}, once",
        [
            ("module", "left"),
            ("adopter", "left"),
            ("revenue", "right"),
            ("inputs", "right"),
            ("output stops", "right"),
            ("switching cost", "right"),
            ("multi-homes", "left"),
        ],
    )
    rows_dep: list[tuple[str, ...]] = []
    for a in result.adoptions:
        rows_dep.append(
            (
                shown(a.module),
                shown(a.adopter),
                share(a.revenue_share, a.reasons, "revenue_share"),
                share(a.input_share, a.reasons, "input_share"),
                share(a.capacity_share, a.reasons, "capacity_share"),
                cash(a.switching_cost, a.reasons, "switching_cost"),
                "yes" if a.multi_homing else "no",
            )
        )
    show(dep, rows_dep, "no module has an adopter yet")
    for k in result.keystone:
        if k.module is not None:
            continue
        why(k.direct_loss, k.reasons, "direct_loss")
        direct = "n/a" if k.direct_loss is None else f"{number(k.direct_loss, money)} {per}"
        line = f"if {shown(k.provider)} fails: {len(k.adopters_hit)} adopter(s) hit, direct loss {direct}"
        if k.cascade_loss is not None:
            line += f", through the layers {number(k.cascade_loss, money)} {per}"
        elif k.cascade_bounds is not None:
            why(None, k.reasons, "cascade_loss")
            low, high = k.cascade_bounds
            line += f", through the layers n/a (between {low:.0%} and {high:.0%} of the ecosystem's output)"
        out.print(line)
    for note in result.notes:
        out.print(f"[yellow]note:[/] {shown(in_words_of(note, 'cli'))}")
    for line in reasons:
        out.print(f"n/a {shown(in_words_of(line, 'cli'))}")


@app.command()
def simulate(
    file: Annotated[Path, typer.Argument(help="The ecosystem at period 0 (any document rainforest loads).")],
    scenario: Annotated[
        Path | None, typer.Option(help="A scenario YAML: parameters, policies, shocks, rivals, sweep.")
    ] = None,
    periods: Annotated[int | None, typer.Option(help="Periods per run (default 30, or the scenario's).")] = None,
    runs: Annotated[int | None, typer.Option(help="Monte Carlo runs (default 1, or the scenario's).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed; the same seed gives the same results (default 0).")] = None,
    executor: Annotated[
        str, typer.Option(help="serial, threads, processes, dask (a LocalCluster) or dask:ADDRESS.")
    ] = "serial",
    workers: Annotated[int | None, typer.Option(help="Workers of the local pool or Dask LocalCluster.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for series, events and plots.")] = Path(
        "simulation"
    ),
    final_document: Annotated[
        Path | None,
        typer.Option(
            "--final-document",
            help="Also write the final state of one run as a document (.yaml or .json) that every command reads.",
        ),
    ] = None,
    final_run: Annotated[
        int, typer.Option(min=1, help="Which run --final-document writes (1 = the first; of the first sweep point).")
    ] = 1,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Simulate the ecosystem: demography, symbiosis, platform, openness, shocks, rivals.

    Writes series.csv and series.parquet (one row per point, run and period), events.csv,
    summary.json and simulation.html (plots with bands) to the output folder; with
    --final-document, the living actors, their sizes and stages, flows, modules and
    adopters at the end of one run, as a document."""

    def work() -> None:
        from rainforest import report as report_module
        from rainforest.simulate import scenario as sc

        base = rf.load(file)
        if scenario is not None:
            spec = sc.load_scenario(scenario, rf.load, base=base)
        else:
            spec = sc.Scenario(base=base)
        changes: dict[str, Any] = {
            k: v for k, v in (("periods", periods), ("runs", runs), ("seed", seed)) if v is not None
        }
        spec = dataclasses.replace(spec, **changes)
        total = spec.runs * (
            len(
                sc.sweep_points(
                    spec.sweep["parameters"],
                    spec.sweep.get("method", "grid"),
                    int(spec.sweep.get("samples", 8)),
                    spec.seed,
                )
            )
            if spec.sweep
            else 1
        )
        if final_document is not None and final_run > spec.runs:
            raise ParameterError(
                f"--final-run must be a run of the simulation, from 1 to {spec.runs}. Got {final_run} instead: "
                f"ask for more runs (--runs) or an earlier run.",
                parameter="final_run",
            )
        # the chosen run again, with its own seed (checked before the ensemble runs)
        final = sc.final_document(spec, run=final_run - 1) if final_document is not None else None
        with _count_progress(not as_json, "runs", total) as task_done:
            ensembles = sc.run_scenario(spec, executor=executor, workers=workers, progress=task_done)
        output.mkdir(parents=True, exist_ok=True)
        _write_simulation(ensembles, output)
        (output / "simulation.html").write_text(
            report_module.simulation_page(ensembles, f"{base.name}: simulation"), encoding="utf-8"
        )
        summary: dict[str, Any] = (
            ensembles[0].summary() if len(ensembles) == 1 else {"points": [e.summary() for e in ensembles]}
        )
        (output / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False), encoding="utf-8")
        if final is not None and final_document is not None:
            rf.save(final, final_document)
        if as_json:
            _emit_json(summary)
            return
        table = Table(
            title=f"{shown(base.name)}: period {spec.periods}, {spec.runs} run(s)",
            header_style="bold",
            title_justify="left",
        )
        table.add_column("metric", overflow="fold")
        table.add_column("mean", justify="right")
        table.add_column("5-95%", justify="right")
        table.add_column("what it means", ratio=1)
        first = ensembles[0].summary()

        def figure(x: float, unit: str) -> str:
            return f"{x:.3g}x" if unit == "relative to period 1" else report_module.format_number(x, unit)

        for name, v in first["final"].items():
            unit = first["units"].get(name, "")
            relative = unit == "relative to period 1"
            meaning = first["meanings"].get(name, "")
            if relative:
                meaning += " Relative to period 1 (the document gives no money)."
            table.add_row(
                name, figure(v["mean"], unit), f"{figure(v['p05'], unit)} to {figure(v['p95'], unit)}", meaning.strip()
            )
        out.print(table)
        locked = first.get("lock_in")
        if locked:
            shares = ", ".join(f"{shown(k)} {v:.0%}" for k, v in locked["probability"].items())
            time = locked["time"]
            when = (
                f"median period {time['median']:g} (5-95%: {time['p05']:g} to {time['p95']:g})"
                if time["n"]
                else "no run locked in"
            )
            out.print(f"[bold]Lock-in[/] over {locked['runs']} run(s): {shares}; {when}.", markup=True)
        if first["assumptions"]:
            out.print("[bold]Assumed[/] (the document does not give these; the rule used):", markup=True)
            for item in first["assumptions"]:
                out.print(f"  - {shown(item['quantity'])}: {shown(item['rule'])}", markup=True)
        out.print(f"series, events and plots written to {output}")
        if final_document is not None:
            out.print(f"the final state of run {final_run} written to {final_document}")

    _with_errors(as_json, debug, work)


def _write_simulation(ensembles: Any, folder: Path) -> None:
    """series.csv / series.parquet in long form and events.csv."""
    import pandas as pd

    frames = []
    events = []
    for point, ens in enumerate(ensembles):
        for run in ens.runs:
            frame = pd.DataFrame(dict(run.series))
            frame.insert(0, "run", run.index)
            frame.insert(0, "point", point)
            for name, value in ens.point.items():
                frame[f"param:{name}"] = value
            frames.append(frame)
            for row in run.event_rows:
                events.append({"point": point, "run": run.index, **row})
    series = pd.concat(frames, ignore_index=True)
    series.to_csv(folder / "series.csv", index=False)
    series.to_parquet(folder / "series.parquet", index=False)
    pd.DataFrame(events, columns=["point", "run", "period", "kind", "actor", "other", "detail"]).to_csv(
        folder / "events.csv", index=False
    )


@app.command()
def serve(
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL (default: SQLite in the user's data directory).")
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Mark session cookies Secure (behind HTTPS).")
    ] = False,
    executor: Annotated[
        str,
        typer.Option(
            help="Where long work runs: threads, processes, dask (a LocalCluster) or dask:ADDRESS "
            "(thread and process still work)."
        ),
    ] = "threads",
    workers: Annotated[int, typer.Option(help="How many long jobs run at once.")] = 1,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy",
            help="Address of a reverse proxy whose X-Forwarded-For / X-Forwarded-Proto headers are believed "
            "(repeatable). Without it those headers are ignored: any client could set them.",
        ),
    ] = None,
    smtp: Annotated[
        str | None,
        typer.Option(
            "--smtp",
            help="Send e-mail notices through this server: smtp://user:password@host:port (add ?starttls=true "
            "to upgrade the connection, &from=address for the sender; smtps:// for TLS from the start).",
        ),
    ] = None,
    mail_every: Annotated[
        float, typer.Option("--mail-every", help="Seconds between two rounds of e-mail notices (with --smtp).", min=1)
    ] = 30.0,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            help="The workbench's address as users reach it, for the links in e-mail notices "
            "(default: http://HOST:PORT).",
        ),
    ] = None,
    tiles: Annotated[
        str | None,
        typer.Option(
            "--tiles",
            help="The map's tile server, a URL template such as https://tile.example.org/{z}/{x}/{y}.png "
            "(the pages may load images from it and nowhere else). Without it the map has a plain background.",
        ),
    ] = None,
    tiles_attribution: Annotated[
        str,
        typer.Option(
            "--tiles-attribution", help="The tiles' attribution shown on the map (their licence asks for it)."
        ),
    ] = "",
) -> None:
    """Start the workbench. The first start creates the database, loads the Kalundborg example
    as a demo ecosystem and prints a one-time administrator password."""
    import uvicorn

    from rainforest.store import Store
    from rainforest.web import create_app
    from rainforest.web.records import Accounts, JobQueue
    from rainforest.web.services.map import tile_server

    try:
        tile_source = tile_server(tiles, tiles_attribution) if tiles else None
    except ParameterError as exc:
        raise typer.BadParameter(
            str(exc).removeprefix(f"--tiles {(tiles or '')[:200]!r}: "), param_hint="'--tiles'"
        ) from None

    store = Store(db)
    if not Accounts(store).users():
        password = secrets.token_urlsafe(12)
        Accounts(store).create_user("admin", password, admin=True, one_time=True)
        out.print(
            f"first start: administrator 'admin' with the one-time password {password} "
            "(shown once; replace it at the first sign-in)"
        )
    if not store.ecosystems():
        store.create("kalundborg", rf.datasets.kalundborg(), author="rainforest", message="demo ecosystem")
    for line in store.repair():  # a server killed mid-write leaves nothing half-made
        err.print(f"start-up check: {line}")
    stopped = JobQueue(store).interrupted()
    if stopped:
        err.print(f"{stopped} job(s) left unfinished by the last server were marked failed; start them again")
    secret = os.environ.get("RAINFOREST_SECRET")
    if not secret:
        err.print("RAINFOREST_SECRET is not set: sessions end when the server stops")
    mailer = None
    if smtp:
        from rainforest.web.mail import Mailer, parse_smtp_url

        try:
            server = parse_smtp_url(smtp)
        except ValueError as exc:
            _fail(str(exc), EXIT_BAD_INPUT, False)
        base_url = public_url or f"http://{host}:{port}"
        mailer = Mailer(store, server, base_url=base_url, interval_s=mail_every)
        out.print(f"e-mail notices through {server.redacted()}")
    out.print(f"workbench on http://{host}:{port}/ (store: {store.url})")
    app_ = create_app(
        store, secret=secret, secure_cookies=secure_cookies, executor=executor, workers=workers, tiles=tile_source
    )
    if mailer is not None:
        app_.state.workbench.mail_server = mailer.server.redacted()
        mailer.start()
    uvicorn.run(
        app_,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=3,  # requests still running then are cancelled
        # the client's address (sign-in limits) comes from X-Forwarded-For only when a
        # configured proxy sent it
        proxy_headers=bool(trusted_proxy),
        forwarded_allow_ips=",".join(trusted_proxy) if trusted_proxy else None,
    )
    if mailer is not None:
        mailer.stop(timeout=3.0)
    _exit_soon(grace=3.0)


def _exit_soon(grace: float) -> None:
    """After the server stopped: give threads still at work (a request's computation, a job
    that did not reach its next progress report) ``grace`` seconds, then end the process
    anyway, so that stopping the server takes seconds, not as long as the longest work."""
    deadline = time.monotonic() + grace
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.current_thread()):
        err.print("work still running at shutdown was abandoned (its jobs are marked failed)")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


store_app = typer.Typer(
    name="store",
    help="Ecosystems kept with their history (SQLite by default, PostgreSQL with --db).",
    no_args_is_help=True,
)
app.add_typer(store_app)
DbOption = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: SQLite in the user's data directory).")
]


@store_app.command("list")
def store_list(db: DbOption = None, as_json: JsonOption = False, debug: DebugOption = False) -> None:
    """The ecosystems in the store."""

    def work() -> None:
        from rainforest.store import Store

        with Store(db) as store:
            rows: list[dict[str, Any]] = [
                {"ecosystem": e.slug, "name": e.name, "version": e.head} for e in store.ecosystems()
            ]
        if as_json:
            _emit_json(rows)
            return
        table = Table(header_style="bold")
        for col in ("ecosystem", "name", "version"):
            table.add_column(col)
        for r in rows:
            table.add_row(shown(r["ecosystem"]), shown(r["name"]), str(r["version"]))
        out.print(table)

    _with_errors(as_json, debug, work)


@store_app.command("import")
def store_import(
    ecosystem: Annotated[str, typer.Argument(help="The ecosystem's short name (created if new).")],
    file: Annotated[Path, typer.Argument(help="Any document rainforest loads.")],
    author: Annotated[str, typer.Option(help="Who makes the change (recorded in the history).")],
    message: Annotated[str | None, typer.Option(help="Why (recorded in the history).")] = None,
    expected: Annotated[int | None, typer.Option(help="Save only if the ecosystem is still at this version.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Import a document as the ecosystem's next version; a document with errors changes nothing."""

    def work() -> None:
        from rainforest.store import Store

        with Store(db) as store:
            version = store.import_file(ecosystem, file, author=author, message=message, expected=expected)
        if as_json:
            _emit_json(version.to_dict())
            return
        out.print(
            f"{shown(ecosystem)}: version {version.number} saved ({version.actors} actors, {version.flows} flows)"
        )

    _with_errors(as_json, debug, work)


@store_app.command("history")
def store_history(
    ecosystem: Annotated[str, typer.Argument(help="The ecosystem's short name.")],
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Every version: when, who, why and what changed."""

    def work() -> None:
        from rainforest.store import Store

        with Store(db) as store:
            rows = store.history(ecosystem)
        if as_json:
            _emit_json(rows)
            return
        table = Table(header_style="bold")
        for col in ("version", "when", "who", "message", "changed"):
            table.add_column(col)
        for r in rows:
            what = ", ".join(
                f"{section} +{c['added']} -{c['removed']} ~{c['changed']}"
                for section, c in r["changes"].items()
                if "added" in c
            )
            table.add_row(str(r["number"]), r["created_at"][:19], shown(r["author"]), shown(r["message"]), shown(what))
        out.print(table)

    _with_errors(as_json, debug, work)


@store_app.command("export")
def store_export(
    ecosystem: Annotated[str, typer.Argument(help="The ecosystem's short name.")],
    target: Annotated[Path, typer.Argument(help="Where to write (.yaml, .json, .xlsx or a folder of CSV).")],
    version: Annotated[int | None, typer.Option(help="Which version (default: the latest).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Write any version of an ecosystem as a rainforest/1 document."""

    def work() -> None:
        from rainforest.store import Store

        with Store(db) as store:
            path = store.export(ecosystem, target, version)
        if as_json:
            _emit_json({"ecosystem": ecosystem, "version": version, "path": str(path)})
            return
        out.print(f"{shown(ecosystem)} written to {shown(path)}")

    _with_errors(as_json, debug, work)


store_user_app = typer.Typer(
    name="user",
    help="Accounts of the workbench: list, add, change a password, remove.",
    no_args_is_help=True,
)
store_app.add_typer(store_user_app)
UserArgument = Annotated[str, typer.Argument(help="The user name.")]
OneTimeOption = Annotated[bool, typer.Option("--one-time", help="The password must be replaced at the next sign-in.")]


def _new_password() -> str:
    password: str = typer.prompt("password", hide_input=True, confirmation_prompt=True, err=True)
    return password


@contextmanager
def _accounts(db: str | None) -> Iterator[Accounts]:
    """The workbench's accounts in the store ``db`` (open while the block runs)."""
    from rainforest.store import Store
    from rainforest.web.records import Accounts

    with Store(db) as store:
        yield Accounts(store)


def _account_work(as_json: bool, debug: bool, work: Callable[[], dict[str, Any]], text: Callable[[Any], str]) -> None:
    """Run an account command: a refused request (a short password, the last administrator)
    is bad input (exit 2)."""

    def run() -> None:
        from rainforest.store import StoreError

        try:
            result = work()
        except StoreError as exc:
            if debug:
                raise
            _fail(str(exc), EXIT_BAD_INPUT, as_json)
        if as_json:
            _emit_json(result)
        else:
            out.print(text(result))

    _with_errors(as_json, debug, run)


@store_user_app.command("list")
def store_user_list(db: DbOption = None, as_json: JsonOption = False, debug: DebugOption = False) -> None:
    """Every account, with whether it is an administrator."""

    def work() -> dict[str, Any]:
        with _accounts(db) as accounts:
            return {
                "users": [
                    {"username": u.username, "admin": u.admin, "one_time_password": u.must_change}
                    for u in accounts.users()
                ]
            }

    def text(result: dict[str, Any]) -> str:
        return "\n".join(
            u["username"]
            + (" (administrator)" if u["admin"] else "")
            + (" (one-time password)" if u["one_time_password"] else "")
            for u in result["users"]
        )

    _account_work(as_json, debug, work, text)


@store_user_app.command("add")
def store_user_add(
    username: UserArgument,
    admin: Annotated[bool, typer.Option("--admin", help="An administrator: sees and manages every ecosystem.")] = False,
    one_time: OneTimeOption = False,
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Add an account; the password is asked for (twice, not shown)."""

    def work() -> dict[str, Any]:
        password = _new_password()
        with _accounts(db) as accounts:
            user = accounts.create_user(username, password, admin=admin, one_time=one_time)
        return {"username": user.username, "admin": user.admin, "one_time_password": user.must_change}

    _account_work(as_json, debug, work, lambda r: f"user {r['username']} added")


@store_user_app.command("password")
def store_user_password(
    username: UserArgument,
    one_time: OneTimeOption = False,
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Set a new password (asked for twice, not shown); every session of the user ends."""

    def work() -> dict[str, Any]:
        password = _new_password()
        with _accounts(db) as accounts:
            accounts.set_password(username, password, one_time=one_time)
        return {"username": username, "changed": True, "one_time_password": one_time}

    _account_work(as_json, debug, work, lambda r: f"new password for {r['username']}; its sessions have ended")


@store_user_app.command("remove")
def store_user_remove(
    username: UserArgument, db: DbOption = None, as_json: JsonOption = False, debug: DebugOption = False
) -> None:
    """Remove an account with its roles; its sessions end (never the last administrator)."""

    def work() -> dict[str, Any]:
        with _accounts(db) as accounts:
            accounts.remove_user(username)
        return {"username": username, "removed": True}

    _account_work(as_json, debug, work, lambda r: f"user {r['username']} removed")


def main() -> None:
    """Entry point of the ``rainforest`` script and ``python -m rainforest``."""
    app()
