"""``rainforest networks``: analytic random-network results and simulations to check them."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import typer

from rainforest.choices import NetworkModel
from rainforest.cli.app import DebugOption, JsonOption, _Commands, _emit_json, _with_errors, app, out
from rainforest.errors import ParameterError

networks_app = typer.Typer(
    name="networks",
    cls=_Commands,
    help="Random networks: giant components, interdependent collapse, Watts's cascade window.",
    no_args_is_help=True,
)
app.add_typer(networks_app)


@networks_app.command("giant")
def giant(
    model: Annotated[NetworkModel, typer.Option("--model", help="er, or coupled-er (two interdependent ER networks).")],
    mean_degree: Annotated[float | None, typer.Option("--mean-degree", help="Mean degree c (or k).", min=0)] = None,
    p: Annotated[
        float | None, typer.Option("--p", help="coupled-er: share of nodes kept after the attack.", min=0, max=1)
    ] = None,
    critical: Annotated[
        bool, typer.Option("--critical", help="coupled-er: the critical point (p_c k and the jump).")
    ] = False,
    n: Annotated[int | None, typer.Option("--n", help="Also simulate on graphs of N nodes.", min=1)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulation.")] = 0,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """The giant component's share of nodes: analytic, and simulated with --n.

    er: S = 1 - exp(-c S). coupled-er: the mutual giant component of two interdependent
    Erdős-Rényi networks after removing 1 - p of the nodes, P = p (1 - exp(-k P))^2
    (Buldyrev et al. 2010), as a share of all nodes; --critical gives p_c k and the
    mutual giant component at p_c as a share of the nodes left."""

    def work() -> None:
        from rainforest.analysis import networks

        if model == "coupled-er" and critical:
            data: dict[str, float | None] = dict(networks.coupled_er_critical().to_dict())
            if as_json:
                _emit_json(data)
            else:
                out.print(
                    f"coupled Erdős-Rényi: p_c k = {data['p_c_times_k']:.4f}; at p_c the mutual giant component "
                    f"jumps to {data['mutual_giant_at_p_c']:.4f} of the nodes left"
                )
            return
        if critical:
            raise ParameterError("'--critical' is for '--model coupled-er' only.", parameter="critical")
        if mean_degree is None:
            raise ParameterError(f"'--model {model}' needs '--mean-degree'.", parameter="mean_degree")
        rng = np.random.default_rng(seed)
        if model == "er":
            if p is not None:
                raise ParameterError("'--p' is for '--model coupled-er' only.", parameter="p")
            data = {"analytic": networks.er_giant_fraction(mean_degree)}
            if n is not None:
                src, dst = networks.erdos_renyi(n, mean_degree, rng)
                data["simulated"] = networks.giant_fraction(src, dst, n)
            what = f"Erdős-Rényi giant component at c = {mean_degree:g}"
        else:
            if p is None:
                raise ParameterError("'--model coupled-er' needs '--p' (or '--critical').", parameter="p")
            data = {"analytic": networks.coupled_er_giant(mean_degree, p)}
            if n is not None:
                a = networks.erdos_renyi(n, mean_degree, rng)
                b = networks.erdos_renyi(n, mean_degree, rng)
                data["simulated"] = networks.mutual_giant_fraction(a, b, n, p, rng)
            what = f"mutual giant component of coupled Erdős-Rényi at k = {mean_degree:g}, p = {p:g}"
        if as_json:
            _emit_json(data)
            return
        simulated = f"; simulated (n = {n:,}, seed {seed}): {data['simulated']:.4f}" if n is not None else ""
        out.print(f"{what}: {data['analytic']:.4f} of the nodes{simulated}")

    _with_errors(as_json, debug, work)


@networks_app.command("watts-window")
def watts_window(
    phi: Annotated[float, typer.Option("--phi", help="Every node's threshold, in (0, 1].")],
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Watts's (2002) cascade window: the mean degrees z where global cascades are possible.

    Erdős-Rényi graphs, every node's threshold phi: the window is where the vulnerable
    nodes (degree <= 1/phi) percolate."""

    def work() -> None:
        from rainforest.analysis import networks

        window = networks.watts_window(phi)
        if as_json:
            if window is None:
                _emit_json(
                    {"window": None, "reason": f"no mean degree lets vulnerable nodes percolate at phi = {phi:g}"}
                )
            else:
                _emit_json({"window": list(window)})
            return
        if window is None:
            out.print(f"phi = {phi:g}: no cascade window (vulnerable nodes never percolate; phi > 1/4)")
        else:
            out.print(f"phi = {phi:g}: global cascades possible for {window[0]:.4f} < z < {window[1]:.4f}")

    _with_errors(as_json, debug, work)
