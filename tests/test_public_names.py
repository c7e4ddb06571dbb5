"""Public names: one meaning per name across the package's modules, old names kept with a warning."""

from __future__ import annotations

import importlib
import pkgutil
from collections import defaultdict

import pytest

import rainforest as rf

#: Names public in several modules on purpose, with different values: why each is fine.
SAME_NAME_ON_PURPOSE = {
    # each module's own size threshold for dense algebra (nodes for ENA, sectors x regions for MRIO)
    "DENSE_LIMIT",
    # each reader's own document tag ('rainforest/1' for ecosystems, 'io-system/1' for IO systems)
    "FORMAT",
    # each analysis module's entry point, reached through its namespace (rf.ena.analyze(eco),
    # rf.platform.analyze(eco)), as scikit-learn's estimators each have their own fit
    "analyze",
}
#: Clashes still to resolve, each with the reason it is not resolved here.
NOT_YET = {
    # the model's column store (eco.table(...)) and the report's display table; the report is
    # being reworked around an Assessment (issue 19 item 3): rename report.Table there
    "Table",
}


def _public_modules() -> list[str]:
    names = ["rainforest"]
    for package in ("analysis", "optimize", "simulate", "io", "model", "report", "datasets", "store"):
        module = importlib.import_module(f"rainforest.{package}")
        names.append(module.__name__)
        names += [
            f"{module.__name__}.{m.name}" for m in pkgutil.iter_modules(module.__path__) if not m.name.startswith("_")
        ]
    return names


def test_a_public_name_means_one_thing() -> None:
    owners: dict[str, dict[object, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name in _public_modules():
        module = importlib.import_module(name)
        for public in getattr(module, "__all__", ()):
            value = getattr(module, public)
            if isinstance(value, type(rf)):  # a module namespace: rf.cascade is the module, not a function
                continue
            # the same object, or an equal constant (a tuple of words defined twice), is one meaning
            key = value if isinstance(value, tuple | str | int | float) else id(value)
            owners[public][key].append(name)
    clashes = {
        public: sorted(m for ms in by_id.values() for m in ms)
        for public, by_id in owners.items()
        if len(by_id) > 1 and public not in SAME_NAME_ON_PURPOSE | NOT_YET
    }
    assert clashes == {}


def test_the_material_cascade_target_is_not_the_failure_cascade() -> None:
    from rainforest.optimize import targeting

    assert "cascade" not in targeting.__all__
    assert rf.cascade.cascade is not targeting.cascade_target
    with pytest.warns(DeprecationWarning, match="cascade_target"):
        old = targeting.cascade  # type: ignore[attr-defined]
    assert old is targeting.cascade_target


def test_the_ena_balance_method_is_not_the_metabolism_balance() -> None:
    from rainforest.analysis import ena

    assert ena.BalanceMethod.__args__ == ("input", "output", "boundary")  # type: ignore[attr-defined]
    with pytest.warns(DeprecationWarning, match="BalanceMethod"):
        old = ena.Balance  # type: ignore[attr-defined]
    assert old is ena.BalanceMethod
    assert isinstance(rf.metabolism.Balance, type)
    with pytest.raises(AttributeError, match="no attribute 'Balanse'"):
        ena.Balanse  # type: ignore[attr-defined]  # noqa: B018
