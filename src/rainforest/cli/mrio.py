"""``rainforest io``: environmentally extended multi-regional input-output accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from rainforest.cli.app import DebugOption, JsonOption, _emit_json, _with_errors, app, out
from rainforest.cli.terminal import shown as escape


def _number(value: float) -> str:
    """Thousands separators, no exponent: ``207,752,000``; small values to 4 digits."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.4g}"


@app.command("io")
def io_command(
    system: Annotated[
        Path,
        typer.Argument(help="An io-system/1 JSON file, a pymrio folder (txt or parquet) or an EXIOBASE 3 zip."),
    ],
    matrices: Annotated[
        bool, typer.Option("--matrices/--no-matrices", help="Include A, L and G (n x n) in the JSON.")
    ] = True,
    force_dense: Annotated[bool, typer.Option("--force-dense", help="Form A, L and G above 10,000 sectors.")] = False,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Multi-regional input-output: output, Leontief and Ghosh inverses, footprints and
    production, import and export accounts of every extension (pymrio's formulas)."""

    def work() -> None:
        from rainforest.analysis.mrio import IOSystem
        from rainforest.io.mrio import load_io_system

        io = IOSystem.from_tables(load_io_system(system))
        if as_json:
            data: dict[str, object] = {"x": io.x.tolist()}
            if matrices:
                data["A"] = io.A(force_dense=force_dense).tolist()
                data["L"] = io.L(force_dense=force_dense).tolist()
                data["G"] = io.G(force_dense=force_dense).tolist()
            data["extensions"] = {name: io.accounts(name).to_dict() for name in io.extensions}
            _emit_json(data)
            return
        unit = f" ({escape(io.unit)})" if io.unit else ""
        out.print(
            f"[bold]{escape(str(system))}[/]: {len(io.regions)} regions x {len(io.sectors)} sectors = {io.n:,} rows, "
            f"{len(io.final_demand_categories)} final demand categories; total output {_number(io.x.sum())}{unit}"
        )
        if not io.extensions:
            out.print("no extensions: footprints need stressors (F) by sector")
        for name, ext in io.extensions.items():
            acc = io.accounts(name)
            for k, stressor in enumerate(ext.stressors):
                unit_k = f" [{escape(ext.units[k])}]" if ext.units else ""
                table = Table(title=f"{escape(name)}: {escape(stressor)}{unit_k}", header_style="bold")
                for column in ("region", "consumption", "production", "imports", "exports"):
                    table.add_column(column, justify="left" if column == "region" else "right")
                for r, region in enumerate(io.regions):
                    table.add_row(
                        escape(region),
                        _number(acc.D_cba_reg[k, r]),
                        _number(acc.D_pba_reg[k, r]),
                        _number(acc.D_imp_reg[k, r]),
                        _number(acc.D_exp_reg[k, r]),
                    )
                out.print(table)
        out.print(
            "consumption: caused anywhere by the region's final demand; production: emitted by the region's "
            "sectors; imports/exports: embodied in final demand crossing the region's border "
            "(consumption = production - exports + imports)."
        )

    _with_errors(as_json, debug, work)
