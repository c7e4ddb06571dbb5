"""Fair gain sharing: Shapley value, nucleolus and the core on games with known answers."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import rainforest as rf
from rainforest.cli import app
from rainforest.optimize.sharing import Game, core_violations, in_core, load_game, nucleolus, shapley

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


def table(players: str, value: object) -> Game:
    return Game.from_table(
        list(players),
        "profit",
        {frozenset(c): value(c) for k in range(1, len(players) + 1) for c in itertools.combinations(players, k)},  # type: ignore[operator]
    )


def airport() -> Game:
    """The airport game of Littlechild & Owen (1973): a runway serving planes that need
    lengths 1, 2, 3 costs as much as its longest need."""
    need = {"a": 1.0, "b": 2.0, "c": 3.0}
    return Game.from_table(
        list(need),
        "cost",
        {frozenset(c): max(need[p] for p in c) for k in (1, 2, 3) for c in itertools.combinations(need, k)},
    )


def test_glove_game() -> None:
    """One left glove, two right gloves: Shapley (2/3, 1/6, 1/6); the core (and so the
    nucleolus) gives everything to the scarce left glove."""
    game = load_game(json.loads((EXAMPLES / "glove_game.json").read_text()))
    assert shapley(game).values == pytest.approx({"L": 2 / 3, "R1": 1 / 6, "R2": 1 / 6})
    assert nucleolus(game) == pytest.approx({"L": 1.0, "R1": 0.0, "R2": 0.0}, abs=1e-9)
    assert not in_core(game, shapley(game).values)
    assert in_core(game, nucleolus(game))


def test_airport_game() -> None:
    """Shapley = sequential equal split of each runway segment (Littlechild & Owen 1973):
    (1/3, 5/6, 11/6). Nucleolus by Littlechild's (1974) sequential rule: x1 = min(c1/2,
    c2/3, c3/3) = 1/2, x2 = min((c2-x1)/2, (c3-x1)/2) = 3/4, x3 = 7/4."""
    game = airport()
    assert shapley(game).values == pytest.approx({"a": 1 / 3, "b": 5 / 6, "c": 11 / 6})
    assert nucleolus(game) == pytest.approx({"a": 0.5, "b": 0.75, "c": 1.75}, abs=1e-9)
    assert in_core(game, shapley(game).values)


def test_sampled_shapley_is_within_its_standard_error() -> None:
    game = airport()
    sampled = shapley(game, exact_limit=0, samples=40_000, rng=3)
    assert not sampled.exact
    for player, value in shapley(game).values.items():
        assert abs(sampled.values[player] - value) < 5 * sampled.standard_error[player] + 1e-9
    assert sum(sampled.values.values()) == pytest.approx(game.grand)


weights = st.lists(st.floats(0.0, 10.0), min_size=2, max_size=6)


@given(w=weights)
def test_convex_games_have_shapley_and_nucleolus_in_the_core(w: list[float]) -> None:
    """A supermodular game, v(S) = (sum of weights in S)^2, is convex: its Shapley value lies
    in the core (Shapley 1971) and so does the nucleolus."""
    players = "abcdef"[: len(w)]
    game = table(players, lambda c: sum(w[players.index(p)] for p in c) ** 2)
    phi = shapley(game).values
    assert sum(phi.values()) == pytest.approx(game.grand, rel=1e-9, abs=1e-9)
    assert in_core(game, phi, tolerance=1e-7)
    assert in_core(game, nucleolus(game), tolerance=1e-6)


@given(values=st.lists(st.floats(-100, 100), min_size=7, max_size=7))
def test_shapley_is_efficient_and_symmetric_players_get_the_same(values: list[float]) -> None:
    masks = {
        frozenset(c): values[i] for i, c in enumerate(c for k in (1, 2, 3) for c in itertools.combinations("xyz", k))
    }
    game = Game.from_table(list("xyz"), "profit", masks)
    phi = shapley(game).values
    assert sum(phi.values()) == pytest.approx(game.grand, abs=1e-9)
    nu = nucleolus(game)
    assert sum(nu.values()) == pytest.approx(game.grand, abs=1e-7)


def test_core_violations_name_the_group() -> None:
    game = airport()
    worst = core_violations(game, {"a": 2.0, "b": 1.0, "c": 0.0})
    assert worst[0][0] == ("a",)


def test_bad_games_report_every_problem() -> None:
    with pytest.raises(rf.DocumentError) as info:
        load_game({"players": ["a", "b"], "kind": "gift", "values": {"a": 1, "c": 2, "b,a": "x"}})
    text = str(info.value)
    assert "unknown kind" in text
    assert "unknown player 'c'" in text
    assert "not a finite number" in text
    assert "coalition(s) missing" in text


def test_cli_share_contract(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["share", str(EXAMPLES / "glove_game.json"), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "allocation": pytest.approx({"L": 2 / 3, "R1": 1 / 6, "R2": 1 / 6}),
        "in_core": False,
    }
    result = runner.invoke(app, ["share", str(EXAMPLES / "glove_game.json"), "--method", "nucleolus", "--json"])
    assert json.loads(result.stdout)["in_core"] is True
    bad = tmp_path / "bad.json"
    bad.write_text('{"players": ["a", "b"], "values": {"a": 1}}')
    result = runner.invoke(app, ["share", str(bad)])
    assert result.exit_code == 2
    assert "'b', 'a,b'" in result.stderr
