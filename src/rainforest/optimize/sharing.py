"""Fair sharing of what a symbiosis gains: cooperative game theory.

A cooperative game gives every coalition S of players a value: the profit v(S) it earns
(``kind='profit'``), or the cost c(S) it pays (``kind='cost'``) when its members exchange
only among themselves. An allocation splits the grand coalition's value among the players.

- :func:`shapley`: each player's average marginal contribution over all orders of
  arrival (Shapley 1953); exact by enumerating coalitions up to ``exact_limit`` players,
  beyond by sampling orders, with the standard error of each share.
- :func:`nucleolus`: the allocation that makes the worst-treated coalition as well off as
  possible, then the next, ... (Schmeidler 1969), by a sequence of linear programs
  (Maschler, Peleg & Shapley 1979).
- :func:`core_violations` / :func:`in_core`: whether any group would do better on its own
  (the core, Gillies 1959): a stable split of shared gains.

Excess of a coalition under allocation x: ``x(S) - v(S)`` for a profit game (what S gets
above what it could earn alone), ``c(S) - x(S)`` for a cost game (what S saves against
going alone). The core is where every excess is non-negative.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rainforest.choices import GameKind as Kind
from rainforest.errors import DocumentError, Issue, RainforestError, check_choice, did_you_mean

__all__ = ["Game", "core_violations", "in_core", "load_game", "nucleolus", "shapley"]

#: Shapley values are exact up to this many players (2^n coalitions), sampled beyond.
EXACT_LIMIT = 20


@dataclass(frozen=True)
class Game:
    """A cooperative game in characteristic-function form.

    ``value(mask)`` gives v(S) for the coalition whose members are the set bits of
    ``mask`` (player ``i`` is bit ``i``); the empty coalition is worth 0.
    """

    players: tuple[str, ...]
    kind: Kind
    value: Callable[[int], float]

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, Kind, where="Game")

    @property
    def n(self) -> int:
        """Number of players."""
        return len(self.players)

    @property
    def grand(self) -> float:
        """Value of the grand coalition."""
        return self.value((1 << self.n) - 1)

    @classmethod
    def from_table(cls, players: Sequence[str], kind: Kind, values: Mapping[frozenset[str], float]) -> Game:
        """A game from a table of coalition values (every non-empty coalition given)."""
        check_choice("kind", kind, Kind, where="Game.from_table")
        index = {p: i for i, p in enumerate(players)}
        table = np.zeros(1 << len(players))
        for coalition, v in values.items():
            mask = 0
            for p in coalition:
                mask |= 1 << index[p]
            table[mask] = v
        return cls(tuple(players), kind, lambda mask: float(table[mask]))


def _excess(game: Game, allocation: np.ndarray, mask: int) -> float:
    share = sum(allocation[i] for i in range(game.n) if mask >> i & 1)
    v = game.value(mask)
    return float(share - v if game.kind == "profit" else v - share)


def core_violations(
    game: Game, allocation: Mapping[str, float], tolerance: float = 1e-9
) -> list[tuple[tuple[str, ...], float]]:
    """Coalitions that would do better on their own, with how much (largest first).

    An allocation is in the core when it is efficient (shares sum to the grand
    coalition's value) and no coalition's excess is negative. The tolerance is relative
    to the grand coalition's value.
    """
    x = np.array([allocation[p] for p in game.players])
    scale = max(1.0, abs(game.grand))
    out: list[tuple[tuple[str, ...], float]] = []
    if abs(x.sum() - game.grand) > tolerance * scale:
        out.append((game.players, float(abs(x.sum() - game.grand))))
    for mask in range(1, (1 << game.n) - 1):
        e = _excess(game, x, mask)
        if e < -tolerance * scale:
            out.append((tuple(p for i, p in enumerate(game.players) if mask >> i & 1), float(-e)))
    return sorted(out, key=lambda item: -item[1])


def in_core(game: Game, allocation: Mapping[str, float], tolerance: float = 1e-9) -> bool:
    """Whether no group of players would do better on its own (see :func:`core_violations`)."""
    return not core_violations(game, allocation, tolerance)


@dataclass(frozen=True)
class Shapley:
    """Shapley values, with their standard errors when sampled (0 when exact)."""

    values: dict[str, float]
    standard_error: dict[str, float]
    exact: bool
    samples: int = 0


def shapley(
    game: Game,
    *,
    exact_limit: int = EXACT_LIMIT,
    samples: int = 20_000,
    rng: int | np.random.SeedSequence | np.random.Generator | None = 0,
) -> Shapley:
    """Shapley values: ``phi_i = sum_S |S|! (n-|S|-1)! / n! (v(S + i) - v(S))``.

    Exact for up to ``exact_limit`` players (each coalition's value is asked once). With
    more, ``samples`` random orders of arrival estimate each player's average marginal
    contribution; the standard errors say how far the estimate may be off, and the values
    are shifted equally so they still sum to the grand coalition's value.

    Examples
    --------
    >>> from rainforest.optimize.sharing import Game, shapley
    >>> glove = Game.from_table(["L", "R1", "R2"], "profit", {
    ...     frozenset({"L"}): 0, frozenset({"R1"}): 0, frozenset({"R2"}): 0,
    ...     frozenset({"L", "R1"}): 1, frozenset({"L", "R2"}): 1, frozenset({"R1", "R2"}): 0,
    ...     frozenset({"L", "R1", "R2"}): 1})
    >>> {p: round(v, 4) for p, v in shapley(glove).values.items()}
    {'L': 0.6667, 'R1': 0.1667, 'R2': 0.1667}
    """
    n = game.n
    if n <= exact_limit:
        values = np.array([game.value(mask) for mask in range(1 << n)])
        sizes = np.array([bin(mask).count("1") for mask in range(1 << n)])
        weight = np.array([math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in range(n)])
        phi = np.zeros(n)
        masks = np.arange(1 << n)
        for i in range(n):
            without = masks[(masks >> i & 1) == 0]
            phi[i] = float((weight[sizes[without]] * (values[without | (1 << i)] - values[without])).sum())
        return Shapley(dict(zip(game.players, phi.tolist(), strict=True)), dict.fromkeys(game.players, 0.0), True)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    totals = np.zeros(n)
    squares = np.zeros(n)
    cache: dict[int, float] = {}

    def value(mask: int) -> float:
        if mask not in cache:
            cache[mask] = game.value(mask)
        return cache[mask]

    for _ in range(samples):
        mask, previous = 0, 0.0
        for i in gen.permutation(n).tolist():
            mask |= 1 << i
            current = value(mask)
            gain = current - previous
            totals[i] += gain
            squares[i] += gain * gain
            previous = current
    mean = totals / samples
    se = np.sqrt(np.maximum(squares / samples - mean**2, 0.0) / samples)
    mean += (game.grand - mean.sum()) / n
    return Shapley(
        dict(zip(game.players, mean.tolist(), strict=True)),
        dict(zip(game.players, se.tolist(), strict=True)),
        False,
        samples,
    )


def nucleolus(game: Game, *, max_players: int = 16) -> dict[str, float]:
    """The nucleolus, by sequential linear programs.

    Round 1 maximises the smallest excess ``e`` over all proper coalitions subject to
    efficiency. Coalitions whose constraint has a non-zero dual value are tight at every
    optimum; they are fixed at that excess and the next round maximises the smallest
    excess of the rest, until the fixed equalities determine the allocation. The
    nucleolus always exists, is unique and lies in the core whenever the core is
    non-empty. Exponential in the number of players (every coalition is a constraint):
    refused above ``max_players``.
    """
    from scipy.optimize import linprog

    n = game.n
    if n > max_players:
        raise RainforestError(
            f"the nucleolus of {n} players needs 2^{n} constraints; the limit is {max_players} (max_players=)"
        )
    if n == 1:
        return {game.players[0]: game.grand}
    sign = 1.0 if game.kind == "profit" else -1.0
    # work with a profit form: y = sign * x, w(S) = sign * v(S); excess = y(S) - w(S)
    proper = list(range(1, (1 << n) - 1))
    incidence = {mask: np.array([(mask >> i) & 1 for i in range(n)], dtype=float) for mask in proper}
    worth = {mask: sign * game.value(mask) for mask in proper}
    grand = sign * game.grand
    fixed: dict[int, float] = {}
    free = set(proper)
    y = np.zeros(n)
    for _ in range(len(proper)):
        # variables: y (n, free) and e; maximise e
        c = np.zeros(n + 1)
        c[-1] = -1.0
        free_list = sorted(free)
        A_ub = np.array([np.append(-incidence[m], 1.0) for m in free_list])  # e - y(S) <= -w(S)
        b_ub = np.array([-worth[m] for m in free_list])
        eq_rows = [np.append(np.ones(n), 0.0)] + [np.append(incidence[m], 0.0) for m in fixed]
        b_eq = [grand] + [worth[m] + e for m, e in fixed.items()]
        result = linprog(
            c,
            A_ub=A_ub,
            b_ub=b_ub,
            A_eq=np.array(eq_rows),
            b_eq=np.array(b_eq),
            bounds=[(None, None)] * (n + 1),
            method="highs",
        )
        if result.status != 0:
            raise RainforestError(f"the nucleolus LP failed: {result.message}")
        assert result.x is not None
        y = result.x[:n]
        epsilon = float(result.x[-1])
        duals = np.abs(result.ineqlin.marginals)
        tight = [m for m, d in zip(free_list, duals, strict=True) if d > 1e-9]
        if not tight:  # degenerate: fix every constraint tight at this optimum
            tight = [m for m in free_list if abs(incidence[m] @ y - worth[m] - epsilon) <= 1e-9 * max(1.0, abs(grand))]
        for m in tight:
            fixed[m] = epsilon
            free.discard(m)
        rank = np.linalg.matrix_rank(np.array([np.ones(n)] + [incidence[m] for m in fixed]))
        if rank >= n or not free:
            break
    return dict(zip(game.players, (sign * y + 0.0).tolist(), strict=True))


def load_game(data: Mapping[str, Any], source: str = "game") -> Game:
    """A game from its JSON form: ``{"players": [...], "kind": "profit"|"cost",
    "values": {"A,B": number, ...}}`` (coalitions as comma-joined names in any order; the
    empty coalition is 0; every other coalition must be given).

    Raises
    ------
    DocumentError
        With every problem at once: unknown players, duplicate or missing coalitions,
        values that are not finite numbers.
    """
    issues: list[Issue] = []

    def bad(
        path: str, message: str, expected: str | None = None, got: str | None = None, hint: str | None = None
    ) -> None:
        issues.append(Issue(path, message, expected=expected, got=got, hint=hint, file=source))

    players = data.get("players")
    kind = data.get("kind", "profit")
    values = data.get("values")
    if (
        not isinstance(players, list)
        or not players
        or not all(isinstance(p, str) and p and "," not in p for p in players)
    ):
        bad("players", "wrong players", expected="a non-empty list of names without commas")
        raise DocumentError(issues, source=source)
    if len(set(players)) != len(players):
        bad("players", "duplicate player names")
    if kind not in ("profit", "cost"):
        bad("kind", "unknown kind", expected="'profit' or 'cost'", got=repr(kind))
    if not isinstance(values, Mapping):
        bad("values", "wrong type", expected="a mapping from 'A,B' to a number")
        raise DocumentError(issues, source=source)
    table: dict[frozenset[str], float] = {}
    known = set(players)
    for key, v in values.items():
        names = [p.strip() for p in str(key).split(",") if p.strip()]
        coalition = frozenset(names)
        unknown = sorted(coalition - known)
        if unknown:
            bad(f"values[{key!r}]", f"unknown player {unknown[0]!r}", hint=did_you_mean(unknown[0], players))
            continue
        if len(names) != len(coalition):
            bad(f"values[{key!r}]", "a player named twice in one coalition")
            continue
        if coalition in table:
            bad(f"values[{key!r}]", "coalition given twice (in another order)")
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            bad(f"values[{key!r}]", "not a finite number", got=repr(v))
            continue
        if not coalition:
            if v != 0:
                bad(f"values[{key!r}]", "the empty coalition is worth 0", got=repr(v))
            continue
        table[coalition] = float(v)
    n = len(players)
    missing = [
        ",".join(c) for k in range(1, n + 1) for c in itertools.combinations(players, k) if frozenset(c) not in table
    ]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        bad(
            "values",
            f"{len(missing)} coalition(s) missing: {shown}{more}",
            hint="Give the value of every non-empty coalition.",
        )
    if issues:
        raise DocumentError(issues, source=source)
    return Game.from_table(players, kind, table)
