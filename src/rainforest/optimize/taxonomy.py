"""Codes that help users describe offers and needs, known synergies, and default factors.

- :func:`search_waste` / :func:`waste_code`: the European Waste Catalogue (EWC, 842 codes).
- :func:`search_sector` / :func:`sector_code`: NACE rev. 2 sectors.
- :data:`SYNERGIES` and :func:`suggest_uses`: a small library of by-product uses that
  industrial symbiosis practice has established, each with its source.
- :func:`default_factor`: the documented default emission factors (UK DESNZ 2025).

Sources and licences: ``rainforest/datasets/data/README.md``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from rainforest.errors import UnknownIdError

__all__ = [
    "SYNERGIES",
    "Code",
    "Synergy",
    "default_factor",
    "search_sector",
    "search_waste",
    "sector_code",
    "suggest_uses",
    "waste_code",
]


@dataclass(frozen=True, slots=True)
class Code:
    """A taxonomy entry: code, description and (for waste) whether it is hazardous."""

    code: str
    description: str
    hazardous: bool = False
    parent: str = ""


def _rows(name: str) -> list[dict[str, str]]:
    path = resources.files("rainforest") / "datasets" / "data" / name
    text = path.read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@lru_cache(maxsize=1)
def _ewc() -> dict[str, Code]:
    out = {}
    for r in _rows("ewc_list_of_waste.csv"):
        text = f"{r['description']} ({r['subchapter']})"
        out[_normalise_ewc(r["code_spaced"])] = Code(r["code_spaced"], text, r["is_hazardous"] == "true", r["chapter"])
    return out


@lru_cache(maxsize=1)
def _nace() -> dict[str, Code]:
    return {r["code"]: Code(r["code"], r["description"], False, r["parent"]) for r in _rows("nace_rev2.csv")}


def _normalise_ewc(code: str) -> str:
    digits = re.sub(r"\D", "", code)
    return " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def waste_code(code: str) -> Code:
    """The EWC entry for ``code`` (``'10 01 05'``, ``'100105'`` or ``'10 01 05*'``)."""
    table = _ewc()
    key = _normalise_ewc(code)
    if key not in table:
        raise UnknownIdError("EWC code", code, table)
    return table[key]


def sector_code(code: str) -> Code:
    """The NACE rev. 2 entry for ``code`` (``'C'``, ``'23'``, ``'23.5'``, ``'23.51'``)."""
    table = _nace()
    if code not in table:
        raise UnknownIdError("NACE code", code, table)
    return table[code]


def _search(table: dict[str, Code], text: str, limit: int) -> list[Code]:
    words = [w for w in re.findall(r"\w+", text.lower()) if len(w) > 1]
    if not words:
        return []
    scored = []
    for entry in table.values():
        hay = f"{entry.code} {entry.description}".lower()
        hits = sum(1 for w in words if w in hay)
        if hits:
            scored.append((-hits, len(entry.description), entry.code, entry))
    scored.sort()
    return [s[-1] for s in scored[:limit]]


def search_waste(text: str, limit: int = 10) -> list[Code]:
    """EWC entries whose code or description contain the most words of ``text``.

    Examples
    --------
    >>> from rainforest.optimize.taxonomy import search_waste
    >>> search_waste("fly ash coal")[0].code
    '10 01 02'
    """
    return _search(_ewc(), text, limit)


def search_sector(text: str, limit: int = 10) -> list[Code]:
    """NACE entries whose code or description contain the most words of ``text``."""
    return _search(_nace(), text, limit)


@dataclass(frozen=True, slots=True)
class Synergy:
    """A by-product use that industrial symbiosis practice has established."""

    by_product: str
    use: str
    ewc: tuple[str, ...]
    receiving_sectors: tuple[str, ...]
    keywords: tuple[str, ...]
    source: str


#: Known by-product -> use synergies, each documented in practice. The keywords match an
#: offer's resource id or name; the EWC codes match its ``codes.ewc``.
SYNERGIES: tuple[Synergy, ...] = (
    Synergy(
        "FGD gypsum",
        "plasterboard manufacturing (replaces mined gypsum)",
        ("10 01 05", "10 01 07"),
        ("23.62",),
        ("gypsum", "fgd"),
        "Kalundborg Symbiosis: Asnaes power station to Gyproc since 1993 (Jacobsen 2006, J. Ind. Ecol. 10:239)",
    ),
    Synergy(
        "coal fly ash",
        "cement and concrete (supplementary cementitious material)",
        ("10 01 02",),
        ("23.51", "23.63"),
        ("fly_ash", "fly ash", "flyash"),
        "Kalundborg: fly ash to cement (Ehrenfeld & Gertler 1997, J. Ind. Ecol. 1:67); EN 450-1",
    ),
    Synergy(
        "process steam / waste heat",
        "process heat or district heating",
        (),
        ("35.30", "10", "20", "21"),
        ("steam", "waste_heat", "heat"),
        "Kalundborg: Asnaes steam to Statoil, Novo Nordisk and the town (Jacobsen 2006)",
    ),
    Synergy(
        "fermentation sludge",
        "fertiliser for agriculture",
        ("02 07 01", "16 10 02"),
        ("01",),
        ("fermentation", "sludge", "biomass"),
        "Kalundborg: Novo Nordisk NovoGro to farms (Ehrenfeld & Gertler 1997)",
    ),
    Synergy(
        "sewage sludge",
        "soil improver or biogas feedstock",
        ("19 08 05",),
        ("01", "35.21", "38.21"),
        ("sewage_sludge", "sewage"),
        "Kalundborg: municipal sludge to soil remediation (Jacobsen 2006); EU Directive 86/278/EEC",
    ),
    Synergy(
        "blast furnace and steel slag",
        "cement and aggregates",
        ("10 02 01", "10 02 02"),
        ("23.51", "08.12"),
        ("slag",),
        "Chertow 2000, Annu. Rev. Energy Environ. 25:313 (slag to cement in eco-industrial parks)",
    ),
    Synergy(
        "spent grain and food residues",
        "animal feed or biogas",
        ("02 07 02", "02 03 04"),
        ("01", "10.91", "35.21"),
        ("grain", "food_waste", "yeast"),
        "Kalundborg: surplus yeast to pig feed (Ehrenfeld & Gertler 1997)",
    ),
    Synergy(
        "sulphur from gas desulphurisation",
        "sulphuric acid production",
        ("05 01 16",),
        ("20.13",),
        ("sulphur", "sulfur"),
        "Kalundborg: Statoil sulphur to Kemira (Ehrenfeld & Gertler 1997)",
    ),
    Synergy(
        "cooling and treated waste water",
        "cooling water or process water",
        ("19 08 14",),
        ("35", "36"),
        ("cooling_water", "wastewater", "effluent"),
        "Kalundborg: Statoil cooling water to Asnaes (Jacobsen 2006)",
    ),
    Synergy(
        "wood chips and sawdust",
        "biomass fuel or panel boards",
        ("03 01 05", "03 01 01"),
        ("35.11", "16.21"),
        ("wood_chips", "sawdust", "wood"),
        "NISP case studies (Paquin & Howard-Grenville 2012, J. Environ. Plan. Manage. 55:83)",
    ),
    Synergy(
        "plastic scrap",
        "recycled plastic products",
        ("07 02 13", "12 01 05"),
        ("22.2",),
        ("plastic",),
        "NISP case studies (Paquin & Howard-Grenville 2012)",
    ),
    Synergy(
        "metal scrap",
        "secondary metal production",
        ("12 01 01", "12 01 03"),
        ("24",),
        ("metal_scrap", "scrap"),
        "Chertow 2000 (scrap exchange in industrial symbiosis)",
    ),
)


def suggest_uses(resource_id: str, name: str = "", ewc: str | None = None) -> list[Synergy]:
    """Known uses for an offered resource, matched by EWC code or by keywords."""
    text = f"{resource_id} {name}".lower()
    key = _normalise_ewc(ewc) if ewc else None
    return [s for s in SYNERGIES if (key and key in s.ewc) or any(k in text for k in s.keywords)]


#: Documented default emission factors (kg CO2e per unit), UK DESNZ 2025 flat file.
_DEFAULTS = {
    "landfill": ("20_507_5313_15_1", "t", "Waste disposal, commercial and industrial waste, landfill"),
    "incineration": (
        "20_507_5311_15_1",
        "t",
        "Waste disposal, commercial and industrial waste, incineration with energy recovery",
    ),
    "freight": ("27_304_3140_14_1", "t.km", "Freighting goods, HGV (all diesel), all HGVs, average laden"),
}


@lru_cache(maxsize=1)
def _desnz() -> dict[str, float]:
    return {r["ID"]: float(r["GHG Conversion Factor 2025"]) for r in _rows("desnz_2025_defaults.csv")}


def default_factor(name: str) -> dict[str, Any]:
    """A documented default factor: ``'landfill'`` and ``'incineration'`` (kg CO2e per
    tonne disposed) or ``'freight'`` (kg CO2e per tonne-km), with its source row."""
    if name not in _DEFAULTS:
        raise UnknownIdError("default factor", name, _DEFAULTS)
    row, unit, label = _DEFAULTS[name]
    return {
        "value": _desnz()[row],
        "unit": f"kg CO2e/{unit}",
        "source": f"UK DESNZ GHG conversion factors 2025, {label} (ID {row})",
    }
