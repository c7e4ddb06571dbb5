"""Hypothesis strategies shared by the tests: valid ecosystems of every shape."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

import rainforest as rf
from rainforest.model.schema import FLOW_KINDS, INPUT_CLASSES, MODULE_KINDS, STAGES, STATUSES, STRATA, SUPPLY_PATTERNS

slugs = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=8).filter(
    lambda s: s not in ("world", "environment")
)
# printable text without control characters (Excel's XML cannot hold them)
texts = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF, exclude_categories=("Cs", "Cc")),
    min_size=1,
    max_size=12,
)
quantities = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False, allow_subnormal=False)
numbers = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False, allow_subnormal=False)
UNITS = {
    "material": ["t", "kg", "kt"],
    "energy": ["MWh", "GJ"],
    "water": ["m**3"],
    "service": ["h"],
    "money": ["EUR"],
    "data": ["GB"],
}

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), numbers, texts)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(slugs, inner, max_size=3)),
    max_leaves=5,
)


def extensions() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(slugs.map(lambda s: "x_" + s), json_values, max_size=2)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def ecosystems(draw: st.DrawFn, max_actors: int = 6) -> rf.Ecosystem:
    """Valid ecosystems using every section and optional field."""
    actor_ids = draw(st.lists(slugs, min_size=1, max_size=max_actors, unique=True))
    actors = [
        rf.Actor(
            id=a,
            name=draw(maybe(texts)),
            sector=draw(maybe(texts)),
            stratum=draw(maybe(st.sampled_from(STRATA))),
            stage=draw(maybe(st.sampled_from(STAGES))),
            location=draw(maybe(st.builds(rf.Location, lat=st.floats(-90, 90), lon=st.floats(-180, 180)))),
            size=draw(
                maybe(
                    st.builds(rf.Size, revenue=maybe(quantities), costs=maybe(quantities), employees=maybe(quantities))
                )
            ),
            capabilities=tuple(
                draw(
                    st.lists(
                        st.builds(rf.Capability, name=texts.filter(lambda t: t.strip() == t), core=st.booleans()),
                        max_size=2,
                    )
                )
            ),
            living=draw(maybe(st.booleans())),
            extensions=rf.model.FrozenMap(draw(extensions())),
        )
        for a in actor_ids
    ]
    res_ids = draw(st.lists(slugs, min_size=1, max_size=4, unique=True))
    resources = []
    for r in res_ids:
        kind = draw(st.sampled_from(sorted(UNITS)))
        resources.append(
            rf.Resource(
                id=r,
                kind=kind,
                unit=draw(st.sampled_from(UNITS[kind])),
                price=draw(maybe(numbers)),
                co2e_virgin=draw(maybe(numbers)),
                transport_cost=draw(maybe(quantities)),
                substitutes=tuple(draw(st.lists(st.sampled_from(res_ids), max_size=2, unique=True))),
                codes=rf.model.FrozenMap(draw(st.dictionaries(st.sampled_from(["ewc", "cpc"]), texts, max_size=2))),
            )
        )
    ends = st.sampled_from([*actor_ids, "world", "environment"])
    flows = []
    for _ in range(draw(st.integers(0, 8))):
        src, dst = draw(ends), draw(ends)
        if src in ("world", "environment") and dst in ("world", "environment"):
            dst = actor_ids[0]
        quantified = draw(st.integers(0, 9)) > 0  # one in ten documented without a quantity
        flows.append(
            rf.Flow(
                source=src,
                target=dst,
                resource=draw(st.sampled_from(res_ids)),
                quantity=draw(quantities) if quantified else None,
                kind=draw(maybe(st.sampled_from(FLOW_KINDS))),
                input_class=draw(maybe(st.sampled_from(INPUT_CLASSES))),
                status=draw(st.sampled_from(STATUSES)),
                uncertainty=draw(maybe(quantities)) if quantified else None,
                quantified=quantified,
                extensions=rf.model.FrozenMap(draw(extensions())),
            )
        )
    actor = st.sampled_from(actor_ids)
    resource = st.sampled_from(res_ids)
    quality = st.dictionaries(st.sampled_from(["ppm", "moisture"]), quantities, max_size=2).map(rf.model.FrozenMap)
    offers = draw(
        st.lists(
            st.builds(
                rf.Offer,
                actor=actor,
                resource=resource,
                quantity=quantities,
                quality=quality,
                disposal_cost=maybe(numbers),
                supply_pattern=st.sampled_from(SUPPLY_PATTERNS),
                confidential=st.booleans(),
            ),
            max_size=3,
        )
    )
    needs = draw(
        st.lists(
            st.one_of(
                st.builds(
                    rf.Need,
                    actor=actor,
                    quantity=quantities,
                    resource=resource,
                    max_quality=quality,
                    price=maybe(numbers),
                ),
                st.builds(
                    rf.Need,
                    actor=actor,
                    quantity=quantities,
                    resources=st.lists(resource, min_size=1, max_size=2, unique=True).map(tuple),
                    confidential=st.booleans(),
                ),
            ),
            max_size=3,
        )
    )
    module_ids = draw(st.lists(slugs, max_size=2, unique=True))
    modules = [
        rf.Module(
            id=m,
            provider=draw(actor),
            name=draw(maybe(texts)),
            kind=draw(maybe(st.sampled_from(MODULE_KINDS))),
            adopters=tuple(draw(st.lists(actor, max_size=3, unique=True))),
            value_per_adopter=draw(maybe(quantities)),
        )
        for m in module_ids
    ]
    stocks = draw(
        st.lists(
            st.builds(rf.Stock, actor=actor, resource=resource, quantity=maybe(quantities), change=maybe(numbers)),
            max_size=2,
        )
    )
    essentiality = draw(
        st.lists(
            st.builds(
                rf.Essentiality,
                supplier_sector=texts,
                customer_sector=texts,
                input_class=st.sampled_from(INPUT_CLASSES),
            ),
            max_size=2,
        )
    )
    virgin_res = draw(st.lists(resource, max_size=2, unique=True))
    virgin = [
        rf.Virgin(resource=r, quality=draw(quality), price=draw(maybe(numbers)), available=draw(maybe(quantities)))
        for r in virgin_res
    ]
    links = draw(
        st.lists(
            st.builds(
                rf.Link,
                source=actor,
                target=actor,
                resource=resource,
                fixed_cost=maybe(quantities),
                capacity=maybe(quantities),
            ),
            max_size=2,
        )
    )
    return rf.Ecosystem(
        name=draw(texts.filter(str.strip)),
        period=draw(st.sampled_from(["year", "month", "day"])),
        actors=actors,
        resources=resources,
        flows=flows,
        offers=offers,
        needs=needs,
        modules=modules,
        stocks=stocks,
        essentiality=essentiality,
        virgin=virgin,
        links=links,
        extensions=draw(extensions()),
    )


@st.composite
def network_models(draw: st.DrawFn, max_nodes: int = 6) -> rf.Ecosystem:
    """One-resource ecosystems shaped like ecological network models (ids from names)."""
    n = draw(st.integers(1, max_nodes))
    ids = [f"node_{i + 1}" for i in range(n)]
    n_live = draw(st.integers(0, n))
    actors = [rf.Actor(id=a, name=f"Node {i + 1}", living=i < n_live) for i, a in enumerate(ids)]
    flows = []
    positive = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_subnormal=False)
    for i in ids:
        for j in ids:
            if draw(st.booleans()):
                flows.append(rf.Flow(i, j, "flow", draw(positive)))
        if draw(st.booleans()):
            flows.append(rf.Flow("environment", i, "flow", draw(positive)))
        if draw(st.booleans()):
            flows.append(rf.Flow(i, "world", "flow", draw(positive)))
        if draw(st.booleans()):
            flows.append(rf.Flow(i, "environment", "flow", draw(positive)))
    stocks = [rf.Stock(a, "flow", quantity=draw(positive)) for a in ids if draw(st.booleans())]
    return rf.Ecosystem(
        name="model",
        actors=actors,
        resources=[rf.Resource("flow", kind="material", unit="dimensionless")],
        flows=flows,
        stocks=stocks,
    )
