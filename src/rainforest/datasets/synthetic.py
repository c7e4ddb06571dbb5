"""A generator of realistic synthetic industrial ecosystems of any size.

What makes it realistic (each a stylised fact of firm networks and eco-industrial parks):

- firm sizes are log-normal and degrees heavy-tailed (Chung-Lu sampling with Pareto
  weights scaled by size), so a few hubs trade with many and most firms with few;
- strata follow size: the top 1 % by revenue are canopy, the next 9 % understory, the
  next 30 % shrub, the rest moss; start-ups are mostly moss;
- sectors are NACE rev.2 divisions in realistic shares; each sector makes its own products
  and by-products, and utilities supply energy and water;
- firms sit in regional clusters (a few centres, tens of km across);
- every actor balances per physical dimension (mass, energy, water): what it receives
  plus what it buys or extracts equals what it delivers, exports and loses;
- offers and needs carry qualities, disposal costs and prices; platform firms (canopy
  firms in information services) offer modules adopted by preferential attachment.

Prices, emission factors and quantities are plausible magnitudes chosen for testing and
benchmarking, not data about any real place. The same seed gives the same ecosystem.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from rainforest.errors import ParameterError
from rainforest.model.ecosystem import build_ecosystem
from rainforest.model.validation import RawDocument, RawSection

__all__ = ["synthetic"]

# sector code, name, share, product resource, by-product resource, dimension of its output
_SECTORS: tuple[tuple[str, str, float, str, str], ...] = (
    ("01", "crop and animal production", 0.06, "biomass", "manure"),
    ("10", "manufacture of food products", 0.08, "food_products", "food_waste"),
    ("16", "manufacture of wood products", 0.04, "wood_products", "wood_chips"),
    ("17", "manufacture of paper", 0.03, "paper", "paper_sludge"),
    ("19", "manufacture of refined petroleum products", 0.01, "fuel", "sulphur"),
    ("20", "manufacture of chemicals", 0.04, "chemicals", "spent_solvent"),
    ("22", "manufacture of rubber and plastic products", 0.05, "plastic_products", "plastic_scrap"),
    ("23", "manufacture of other non-metallic mineral products", 0.04, "cement", "kiln_dust"),
    ("24", "manufacture of basic metals", 0.03, "steel", "slag"),
    ("25", "manufacture of fabricated metal products", 0.09, "metal_parts", "metal_scrap"),
    ("28", "manufacture of machinery", 0.06, "machinery", "metal_scrap"),
    ("35", "electricity, gas, steam supply", 0.02, "electricity", "fly_ash"),
    ("36", "water collection, treatment and supply", 0.01, "process_water", "sewage_sludge"),
    ("38", "waste collection, treatment, materials recovery", 0.04, "recovered_material", "residual_waste"),
    ("41", "construction of buildings", 0.12, "buildings", "construction_waste"),
    ("46", "wholesale trade", 0.14, "traded_goods", "packaging_waste"),
    ("49", "land transport", 0.06, "transport_service", "used_oil"),
    ("62", "computer programming", 0.05, "software_service", "e_waste"),
    ("63", "information service activities", 0.03, "data_service", "e_waste"),
)

# id: (kind, unit, price per unit, kg CO2e virgin per unit, kg CO2e disposal per unit)
_RESOURCES: dict[str, tuple[str, str, float, float, float]] = {
    "biomass": ("material", "t", 180.0, 250.0, 20.0),
    "manure": ("material", "t", 5.0, 0.0, 30.0),
    "food_products": ("material", "t", 1500.0, 1800.0, 580.0),
    "food_waste": ("material", "t", 0.0, 0.0, 580.0),
    "wood_products": ("material", "t", 600.0, 300.0, 20.0),
    "wood_chips": ("material", "t", 60.0, 40.0, 20.0),
    "paper": ("material", "t", 800.0, 900.0, 1000.0),
    "paper_sludge": ("material", "t", 0.0, 0.0, 500.0),
    "fuel": ("energy", "MWh", 70.0, 300.0, 0.0),
    "sulphur": ("material", "t", 120.0, 200.0, 10.0),
    "chemicals": ("material", "t", 1200.0, 2000.0, 200.0),
    "spent_solvent": ("material", "t", 0.0, 0.0, 1500.0),
    "plastic_products": ("material", "t", 2000.0, 3100.0, 40.0),
    "plastic_scrap": ("material", "t", 250.0, 2200.0, 40.0),
    "cement": ("material", "t", 110.0, 850.0, 10.0),
    "kiln_dust": ("material", "t", 0.0, 0.0, 10.0),
    "steel": ("material", "t", 700.0, 1900.0, 10.0),
    "slag": ("material", "t", 15.0, 0.0, 10.0),
    "metal_parts": ("material", "t", 3000.0, 2500.0, 10.0),
    "metal_scrap": ("material", "t", 300.0, 1900.0, 10.0),
    "machinery": ("material", "t", 9000.0, 4000.0, 10.0),
    "electricity": ("energy", "MWh", 90.0, 207.0, 0.0),
    "fly_ash": ("material", "t", 20.0, 850.0, 10.0),
    "process_water": ("water", "m**3", 2.0, 0.15, 0.27),
    "sewage_sludge": ("material", "t", 0.0, 0.0, 200.0),
    "recovered_material": ("material", "t", 200.0, 500.0, 10.0),
    "residual_waste": ("material", "t", 0.0, 0.0, 450.0),
    "buildings": ("material", "t", 400.0, 300.0, 10.0),
    "construction_waste": ("material", "t", 0.0, 0.0, 10.0),
    "traded_goods": ("material", "t", 2500.0, 1500.0, 100.0),
    "packaging_waste": ("material", "t", 0.0, 0.0, 100.0),
    "transport_service": ("service", "h", 80.0, 0.0, 0.0),
    "used_oil": ("material", "t", 50.0, 0.0, 2800.0),
    "software_service": ("service", "h", 100.0, 0.0, 0.0),
    "data_service": ("data", "GB", 0.5, 0.0, 0.0),
    "e_waste": ("material", "t", 0.0, 0.0, 20.0),
    "raw_material": ("material", "t", 100.0, 500.0, 10.0),
    "grid_electricity": ("energy", "MWh", 110.0, 207.0, 0.0),
    "freshwater": ("water", "m**3", 1.5, 0.15, 0.0),
    "mixed_waste": ("material", "t", 0.0, 0.0, 450.0),
    "waste_heat": ("energy", "MWh", 0.0, 0.0, 0.0),
    "wastewater": ("water", "m**3", 0.0, 0.0, 0.27),
    "payment": ("money", "EUR", 1.0, 0.0, 0.0),
}
_SUBSTITUTES = {
    "raw_material": ("recovered_material", "slag", "fly_ash"),
    "biomass": ("manure", "food_waste"),
    "fuel": ("used_oil", "spent_solvent"),
}
_DIM = {"material": 0, "energy": 1, "water": 2}
_BOUNDARY = {  # dimension -> (input resource, input source, loss resource)
    0: ("raw_material", "world", "mixed_waste"),
    1: ("grid_electricity", "world", "waste_heat"),
    2: ("freshwater", "environment", "wastewater"),
}
_CAPABILITIES = ("logistics", "it_services", "wastewater_treatment", "maintenance", "energy_generation", "packaging")
_MODULE_KINDS = ("traffic", "brand", "technology", "data", "finance", "logistics")
_CENTRES = (
    (55.68, 11.1),
    (51.0, 7.0),
    (45.5, 9.2),
    (52.4, 4.9),
    (48.2, 16.4),
    (50.1, 14.4),
    (53.5, 10.0),
    (47.5, 19.0),
)


def _obj(values: Any) -> npt.NDArray[Any]:
    items = list(values)
    arr = np.empty(len(items), dtype=object)
    arr[:] = items
    return arr


def _holders(gen: np.random.Generator, n: int, share: float) -> npt.NDArray[np.int64]:
    """Actor indices holding an offer (or need): one each for a share <= 1, else a
    Poisson number each (actors repeated)."""
    if share <= 1:
        return np.flatnonzero(gen.random(n) < share)
    return np.repeat(np.arange(n), gen.poisson(share, size=n))


def synthetic(
    n_actors: int = 1000,
    mean_degree: float = 4.0,
    rng: int | np.random.SeedSequence | np.random.Generator | None = 0,
    *,
    offers_share: float = 0.3,
    needs_share: float = 0.3,
) -> Any:
    """Generate a synthetic ecosystem.

    Parameters
    ----------
    n_actors:
        Number of actors (firms), at least 2.
    mean_degree:
        Mean number of internal exchanges each actor supplies (flows between actors are
        about ``n_actors * mean_degree``; boundary flows come on top, about two per actor).
    rng:
        Seed, ``numpy.random.SeedSequence`` or ``numpy.random.Generator``; the same seed
        gives the same ecosystem.
    offers_share, needs_share:
        Up to 1: the share of actors with one offer (a by-product) and with one need.
        Above 1: the mean number of offers (needs) per actor (Poisson).

    Returns
    -------
    Ecosystem
        With actors (sector, stratum, stage, location, size, capabilities), resources,
        flows, offers, needs, modules, stocks, essentiality, virgin supply and links.
        The seed and parameters are recorded under the extension ``x_synthetic``.

    Examples
    --------
    >>> import rainforest as rf
    >>> eco = rf.datasets.synthetic(n_actors=200, mean_degree=3, rng=7)
    >>> len(eco.actors), eco == rf.datasets.synthetic(n_actors=200, mean_degree=3, rng=7)
    (200, True)
    """
    if not isinstance(n_actors, int) or n_actors < 2:
        raise ParameterError(
            f"The 'n_actors' parameter of synthetic must be an int >= 2. Got {n_actors!r} instead.",
            parameter="n_actors",
        )
    if not mean_degree > 0:
        raise ParameterError(
            f"The 'mean_degree' parameter of synthetic must be > 0. Got {mean_degree!r} instead.",
            parameter="mean_degree",
        )
    seed: Any = rng if isinstance(rng, int) else None
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    n = n_actors

    # -- actors ----------------------------------------------------------------------
    shares = np.array([s[2] for s in _SECTORS])
    sector = gen.choice(len(_SECTORS), size=n, p=shares / shares.sum())
    revenue = np.exp(gen.normal(15.0, 1.6, size=n))  # median about 3.3 M EUR
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(-revenue, kind="stable")] = np.arange(n)
    quantile = rank / n
    stratum_code = np.select([quantile < 0.01, quantile < 0.10, quantile < 0.40], [0, 1, 2], 3)
    strata = np.array(["canopy", "understory", "shrub", "moss"], dtype=object)[stratum_code]
    age = gen.gamma(2.0, 8.0, size=n) * np.where(stratum_code == 3, 0.4, 1.0)
    stage_code = np.select([age < 3, age < 10, age < 35], [0, 1, 2], 3)
    stages = np.array(["startup", "growth", "mature", "decline"], dtype=object)[stage_code]
    n_centres = min(len(_CENTRES), max(1, n // 2000 + 1))
    centre = gen.integers(0, n_centres, size=n)
    centres = np.array(_CENTRES[:n_centres])
    lat = np.round(centres[centre, 0] + gen.normal(0, 0.25, size=n), 5)
    lon = np.round(centres[centre, 1] + gen.normal(0, 0.4, size=n), 5)
    employees = np.maximum(1.0, np.round(revenue / gen.lognormal(np.log(180_000.0), 0.4, size=n)))
    costs = np.round(revenue * gen.uniform(0.55, 0.95, size=n), 2)
    revenue = np.round(revenue, 2)
    width = len(str(n - 1))
    ids = _obj(f"a{i:0{width}d}" for i in range(n))
    names = _obj(f"{_SECTORS[s][1].split(',')[0].capitalize()} firm {i}" for i, s in enumerate(sector))
    caps = []
    noncore_draw = gen.random((n, len(_CAPABILITIES))) < 0.08
    for i in range(n):
        core = (f"nace_{_SECTORS[sector[i]][0]}",)
        extra = tuple(_CAPABILITIES[k] for k in np.flatnonzero(noncore_draw[i]))
        caps.append([{"name": c, "core": True} for c in core] + [{"name": c, "core": False} for c in extra])
    actors = {
        "id": ids,
        "name": names,
        "sector": _obj(_SECTORS[s][0] for s in sector),
        "stratum": strata,
        "stage": stages,
        "location.lat": lat,
        "location.lon": lon,
        "size.revenue": revenue,
        "size.costs": costs,
        "size.employees": employees,
        "capabilities": _obj(caps),
    }

    # -- resources -----------------------------------------------------------------------
    res_ids = list(_RESOURCES)
    res_index = {r: i for i, r in enumerate(res_ids)}
    resources = {
        "id": _obj(res_ids),
        "kind": _obj(v[0] for v in _RESOURCES.values()),
        "unit": _obj(v[1] for v in _RESOURCES.values()),
        "price": np.array([v[2] for v in _RESOURCES.values()]),
        "co2e_virgin": np.array([v[3] for v in _RESOURCES.values()]),
        "co2e_disposal": np.array([v[4] for v in _RESOURCES.values()]),
        "transport_cost": np.array([0.12 if v[0] == "material" else 0.0 for v in _RESOURCES.values()]),
        "substitutes": _obj(list(_SUBSTITUTES.get(r, ())) for r in res_ids),
    }
    product = np.array([res_index[s[3]] for s in _SECTORS])[sector]
    byproduct = np.array([res_index[s[4]] for s in _SECTORS])[sector]
    kind_of = np.array([_RESOURCES[r][0] for r in res_ids], dtype=object)
    dim_of = np.array([_DIM.get(k, -1) for k in kind_of])

    # -- internal flows (Chung-Lu with heavy tails) --------------------------------------------
    m = max(1, round(n * mean_degree))
    scale = (revenue / np.median(revenue)) ** 0.5
    w_out = (gen.pareto(1.6, size=n) + 1.0) * scale
    w_in = (gen.pareto(1.6, size=n) + 1.0) * scale
    src = gen.choice(n, size=int(m * 1.15) + 10, p=w_out / w_out.sum())
    dst = gen.choice(n, size=src.size, p=w_in / w_in.sum())
    keep = src != dst
    src, dst = src[keep], dst[keep]
    _, first = np.unique(src.astype(np.int64) * n + dst, return_index=True)
    first = np.sort(first)[:m]
    src, dst = src[first], dst[first]
    is_by = gen.random(src.size) < 0.2
    res = np.where(is_by, byproduct[src], product[src])
    qty = np.round(gen.lognormal(np.log(50.0), 1.2, size=src.size) * scale[src], 3)
    flow_kind = np.where(is_by, "by-product", "product").astype(object)
    flow_kind[kind_of[res] == "service"] = "service"
    flow_kind[np.isin(kind_of[res], ("energy", "water")) & ~is_by] = "utility"

    # -- boundary flows: balance every actor per dimension ----------------------------------------
    b_src: list[npt.NDArray[Any]] = []
    b_dst: list[npt.NDArray[Any]] = []
    b_res: list[npt.NDArray[Any]] = []
    b_qty: list[npt.NDArray[Any]] = []
    b_kind: list[npt.NDArray[Any]] = []
    fdim = dim_of[res]
    for d, (in_res, in_src, loss_res) in _BOUNDARY.items():
        mask = fdim == d
        inflow = np.bincount(dst[mask], weights=qty[mask], minlength=n)
        outflow = np.bincount(src[mask], weights=qty[mask], minlength=n)
        active = (inflow + outflow) > 0
        if d == 0:
            active |= True
        base = np.where(active, gen.lognormal(np.log(20.0), 1.0, size=n) * scale, 0.0)
        purchase = np.round(np.maximum(outflow - inflow, 0.0) + base, 3)
        surplus = inflow + purchase - outflow
        loss_share = gen.uniform(0.1, 0.4, size=n)
        loss = np.round(surplus * loss_share, 3)
        export = np.round(surplus - loss, 3)
        idx = np.flatnonzero(purchase > 0)
        b_src.append(np.full(idx.size, in_src, dtype=object))
        b_dst.append(ids[idx])
        b_res.append(np.full(idx.size, in_res, dtype=object))
        b_qty.append(purchase[idx])
        b_kind.append(np.full(idx.size, "product" if d == 0 else "utility", dtype=object))
        idx = np.flatnonzero(loss > 0)
        b_src.append(ids[idx])
        b_dst.append(np.full(idx.size, "environment", dtype=object))
        b_res.append(np.full(idx.size, loss_res, dtype=object))
        b_qty.append(loss[idx])
        b_kind.append(np.full(idx.size, "waste", dtype=object))
        idx = np.flatnonzero(export > 0)
        exp_res = product[idx] if d == 0 else np.full(idx.size, res_index[in_res])
        ok = dim_of[exp_res] == d
        exp_res = np.where(ok, exp_res, res_index[in_res])
        b_src.append(ids[idx])
        b_dst.append(np.full(idx.size, "world", dtype=object))
        b_res.append(np.array(res_ids, dtype=object)[exp_res])
        b_qty.append(export[idx])
        b_kind.append(np.full(idx.size, "product", dtype=object))
    flows = {
        "from": np.concatenate([ids[src], *b_src]),
        "to": np.concatenate([ids[dst], *b_dst]),
        "resource": np.concatenate([np.array(res_ids, dtype=object)[res], *b_res]),
        "quantity": np.concatenate([qty, *b_qty]).astype(np.float64),
        "kind": np.concatenate([flow_kind, *b_kind]),
    }
    essential_in = np.isin(kind_of[res], ("energy", "water"))
    input_class = np.full(flows["quantity"].size, None, dtype=object)
    input_class[: src.size][essential_in] = "essential"
    flows["input_class"] = input_class

    # -- offers and needs ----------------------------------------------------------------------
    off = _holders(gen, n, offers_share)
    offers = {
        "actor": ids[off],
        "resource": np.array(res_ids, dtype=object)[byproduct[off]],
        "quantity": np.round(gen.lognormal(np.log(30.0), 1.0, size=off.size) * scale[off], 3),
        "quality": _obj({"contaminant_ppm": float(v)} for v in np.round(gen.uniform(0, 200, size=off.size), 1)),
        "disposal_cost": np.round(gen.uniform(20, 120, size=off.size), 2),
        "supply_pattern": _obj(
            gen.choice(["continuous", "seasonal", "one-off"], size=off.size, p=[0.8, 0.15, 0.05]).tolist()
        ),
    }
    need = _holders(gen, n, needs_share)
    by_ids = sorted({s[4] for s in _SECTORS})
    wanted = gen.choice(len(by_ids), size=need.size)
    n_res = _obj(by_ids[k] for k in wanted)
    needs = {
        "actor": ids[need],
        "resource": n_res,
        "quantity": np.round(gen.lognormal(np.log(25.0), 1.0, size=need.size) * scale[need], 3),
        "max_quality": _obj({"contaminant_ppm": float(v)} for v in np.round(gen.uniform(20, 250, size=need.size), 1)),
        "price": np.round(gen.uniform(10, 150, size=need.size), 2),
    }

    # -- platform modules ---------------------------------------------------------------------
    platform_sectors = {i for i, s in enumerate(_SECTORS) if s[0] in ("62", "63")}
    providers = [int(i) for i in np.flatnonzero(stratum_code <= 1) if sector[i] in platform_sectors]
    if not providers:
        providers = [int(np.argmax(revenue))]
    providers = providers[: max(1, n // 500)]
    attract = scale / scale.sum()
    mod_ids, mod_provider, mod_kind, mod_adopters, mod_value, mod_name = [], [], [], [], [], []
    for k, p in enumerate(providers):
        for kind in gen.choice(_MODULE_KINDS, size=int(gen.integers(1, 4)), replace=False):
            count = min(n - 1, max(1, int(gen.pareto(1.2) * 5 + 1)))
            adopters = np.unique(gen.choice(n, size=count, p=attract))
            adopters = adopters[adopters != p]
            mod_ids.append(f"m{k}_{kind}")
            mod_provider.append(ids[p])
            mod_kind.append(str(kind))
            mod_name.append(f"{kind.capitalize()} module of {names[p]}")
            mod_adopters.append([str(ids[a]) for a in adopters])
            mod_value.append(round(float(gen.lognormal(np.log(5000.0), 0.8)), 2))
    modules = {
        "id": _obj(mod_ids),
        "provider": _obj(mod_provider),
        "name": _obj(mod_name),
        "kind": _obj(mod_kind),
        "adopters": _obj(mod_adopters),
        "value_per_adopter": np.array(mod_value, dtype=np.float64),
    }

    # -- stocks, essentiality, virgin, links ------------------------------------------------
    st = np.flatnonzero(gen.random(n) < 0.1)
    stocks = {
        "actor": ids[st],
        "resource": np.array(res_ids, dtype=object)[product[st]],
        "quantity": np.round(gen.lognormal(np.log(10.0), 1.0, size=st.size) * scale[st], 3),
        "change": np.zeros(st.size),
    }
    ess_sup, ess_cus, ess_cls = [], [], []
    for s in _SECTORS:
        if s[0] in ("35", "36"):
            for c in _SECTORS:
                if c[0] != s[0]:
                    ess_sup.append(s[0])
                    ess_cus.append(c[0])
                    ess_cls.append("essential")
        if s[0] in ("62", "63", "46"):
            for c in _SECTORS[:12]:
                ess_sup.append(s[0])
                ess_cus.append(c[0])
                ess_cls.append("negligible")
    essentiality = {"supplier_sector": _obj(ess_sup), "customer_sector": _obj(ess_cus), "class": _obj(ess_cls)}
    virgin_res = sorted({s[4] for s in _SECTORS} | {"raw_material"})
    virgin = {
        "resource": _obj(virgin_res),
        "quality": _obj({"contaminant_ppm": 0.0} for _ in virgin_res),
        "price": np.array([max(_RESOURCES[r][2], 10.0) for r in virgin_res]),
    }
    n_links = min(src.size, max(1, n // 20))
    pick = gen.choice(src.size, size=n_links, replace=False)
    links = {
        "from": ids[src[pick]],
        "to": ids[dst[pick]],
        "resource": np.array(res_ids, dtype=object)[res[pick]],
        "fixed_cost": np.round(gen.lognormal(np.log(20_000.0), 0.7, size=n_links), 2),
        "capacity": np.round(qty[pick] * gen.uniform(1.2, 3.0, size=n_links), 3),
    }

    sections = {
        name: RawSection(name, cols, len(next(iter(cols.values()))))
        for name, cols in (
            ("actors", actors),
            ("resources", resources),
            ("flows", flows),
            ("offers", offers),
            ("needs", needs),
            ("modules", modules),
            ("stocks", stocks),
            ("essentiality", essentiality),
            ("virgin", virgin),
            ("links", links),
        )
    }
    top = {
        "format": "rainforest/1",
        "name": f"Synthetic ecosystem ({n} actors)",
        "x_synthetic": {
            "n_actors": n,
            "mean_degree": float(mean_degree),
            "seed": seed,
            "generator": "rainforest.datasets.synthetic",
        },
    }
    return build_ecosystem(RawDocument(top=top, sections=sections, source="<synthetic>"))
