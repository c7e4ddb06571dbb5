"""Units: one shared pint registry, built on first use, with conversion factors cached.

The registry knows pint's default units plus what industrial ecology documents use and
pint gets wrong or lacks: ``kt``/``Mt``/``Gt`` are kilo-, mega- and gigatonnes (pint
reads ``kt`` as a knot), ``Nm3`` normal cubic metres (as volume), pieces, and the
common currencies, each its own dimension (a rate between currencies is not a unit
conversion).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rainforest.errors import UnitError

if TYPE_CHECKING:
    import pint

__all__ = ["CURRENCIES", "conversion_factor", "dimension_of", "is_unit", "label", "registry"]

CURRENCIES = ("EUR", "USD", "GBP", "DKK", "CNY", "JPY", "SEK", "NOK", "CHF", "KRW", "HUF")

_DEFINITIONS = (
    "kilotonne = 1e3 * metric_ton = kt",
    "megatonne = 1e6 * metric_ton = Mt",
    "gigatonne = 1e9 * metric_ton = Gt",
    "normal_cubic_meter = meter ** 3 = Nm3",
    "piece = [piece] = pc = pcs = item",
    "money = [money]",
)


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry[Any]:
    """The shared unit registry (created on first call; about 0.1 s)."""
    import pint

    reg: pint.UnitRegistry[Any] = pint.UnitRegistry(on_redefinition="ignore", cache_folder=None)
    for line in _DEFINITIONS:
        reg.define(line)
    for code in CURRENCIES:
        reg.define(f"{code} = [currency_{code}]")
    return reg


@lru_cache(maxsize=4096)
def _unit(text: str) -> pint.Unit:
    import pint

    reg = registry()
    try:
        return reg.Unit(text)
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError) as exc:
        raise UnitError(
            f"unknown unit {text!r}: {exc}. {_spelling_hint(text)}Use a unit pint understands, such as "
            "'t', 'kt', 'MWh', 'GJ', 'm**3' or a currency code like 'EUR'."
        ) from None
    except Exception as exc:  # pint raises assorted parse errors (tokenizer, syntax)
        raise UnitError(
            f"unknown unit {text!r} ({type(exc).__name__}). Use a unit pint understands, "
            "such as 't', 'kt', 'MWh', 'GJ', 'm**3' or 'EUR'."
        ) from None


def _spelling_hint(text: str) -> str:
    """A suggestion for units as people write them that pint reads otherwise."""
    power = re.fullmatch(r"\s*([A-Za-z]+)\s*([23])\s*", text)
    if power and is_unit(power.group(1)):
        base, n = power.groups()
        return f"Did you mean '{base}**{n}' ({base}{'²' if n == '2' else '³'})? "
    if "co2" in text.lower():
        return (
            "CO2e is not a unit of a resource: give its physical unit (t, MWh, m**3) and its emission factors "
            "(co2e_virgin, co2e_disposal: kg CO2e per unit). "
        )
    return ""


_SUPERSCRIPTS = {"2": "²", "3": "³"}


def label(unit: str) -> str:
    """A unit as people write it: ``m**3`` as ``m³``, ``kg*CO2e`` as ``kg CO2e``.

    >>> label("m**3"), label("t"), label("kg*CO2e"), label("m^2")
    ('m³', 't', 'kg CO2e', 'm²')
    """
    text = re.sub(r"\s*(\*\*|\^)\s*([23])\b", lambda m: _SUPERSCRIPTS[m.group(2)], unit)
    return text.replace("*", " ").strip()


def is_unit(text: str) -> bool:
    """Whether ``text`` names a unit the registry understands."""
    try:
        _unit(text)
    except UnitError:
        return False
    return True


@lru_cache(maxsize=4096)
def conversion_factor(source: str, target: str) -> float:
    """Factor ``f`` such that ``x [source] == x * f [target]``.

    Raises
    ------
    UnitError
        When either unit is unknown, or the two measure different things
        (the message names both units and their dimensions).
    """
    if source == target:
        return 1.0
    import pint

    src, dst = _unit(source), _unit(target)
    try:
        return float(registry().Quantity(1.0, src).to(dst).magnitude)
    except pint.errors.DimensionalityError:
        raise UnitError(
            f"unit {source!r} ({src.dimensionality}) does not convert to {target!r} ({dst.dimensionality})"
        ) from None


@lru_cache(maxsize=4096)
def dimension_of(unit: str) -> str:
    """The dimensionality of ``unit`` as text, e.g. ``'[mass]'`` or ``'[length] ** 3'``."""
    return str(_unit(unit).dimensionality)
