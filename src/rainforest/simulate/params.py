"""Parameters of every mechanism, with their defaults and where each comes from.

Per-stratum tuples are in the order canopy, understory, shrub, moss. Defaults marked
"ours" are plausible magnitudes chosen so that a document's population is roughly
self-sustaining; they are not estimates for any real place. ``Params.from_dict`` reads the
``params:`` block of a scenario file (unknown names are an error that lists the known ones).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from rainforest.errors import SimulationError as SimulationError  # noqa: PLC0414 - re-exported: its old address


@dataclass(frozen=True)
class Demography:
    """Density-dependent founding and mortality (Hannan & Freeman 1977; Hannan & Carroll
    1992), liabilities of newness and smallness (Freeman, Carroll & Hannan 1983), Gibrat
    growth and life-cycle stages.

    Founding per stratum: ``lambda_s = base_birth_s * N0_s * exp(b1 (rho - 1) + b2 (rho^2 - 1))``
    with density ``rho = N_s / N0_s`` (``N0_s`` the initial count: ours, so that the rates
    are per head of the starting population); mortality per actor:
    ``mu = base_death_s * exp(d1 (rho - 1) + d2 (rho^2 - 1) + e1 log(1 + age) + e2 log(size / median size of its stratum))``,
    death with probability ``1 - exp(-mu)``. Legitimation then competition: ``b1 > 0 > b2``,
    ``d1 < 0 < d2``; liabilities of newness and smallness: ``e1, e2 < 0``."""

    enabled: bool = True
    base_birth: tuple[float, float, float, float] = (0.0, 0.01, 0.04, 0.10)
    base_death: tuple[float, float, float, float] = (0.01, 0.02, 0.04, 0.09)
    b1: float = 1.0
    b2: float = -1.0
    d1: float = -1.0
    d2: float = 1.0
    e1: float = -0.3
    e2: float = -0.15
    growth: tuple[float, float, float, float] = (0.01, 0.02, 0.03, 0.05)  # mean log growth (ours)
    volatility: tuple[float, float, float, float] = (0.05, 0.08, 0.12, 0.2)  # sd of log growth (ours)
    profit_response: float = 0.5  # log growth per unit of profit above the stratum's margin (ours)
    margin: tuple[float, float, float, float] = (0.08, 0.07, 0.06, 0.05)  # profit / value added (ours)
    new_size: float = 0.3  # an entrant's size relative to its stratum's median (ours)


@dataclass(frozen=True)
class Symbiosis:
    """The social filter of Ghali, Frayret & Ahabchane (2017) as NREL's ABSiCE codes it, then
    the bilateral cost-benefit test with the space of cooperation and the equal-surplus
    cost share (Fraccascia & Yazan family; see docs/simulation.md)."""

    enabled: bool = True
    network: str = "small-world"  # the social network: small-world (Watts-Strogatz) or random (Erdos-Renyi)
    social_degree: int = 6  # Watts-Strogatz ring degree (ABSiCE: 5, rounded up to even); mean degree if random
    rewiring: float = 0.1
    theta_trust: float = 0.5
    theta_knowledge: float = 0.5
    theta_willingness: float = 0.5
    learning: float = 0.05  # own learning per period, U(0, learning) (ABSiCE draws U(0, 1): saturates at once)
    supply_cv: float = 0.2  # coefficient of variation of per-period supply and demand
    treatment_cost: float = 0.0  # per unit, when the document gives none
    transaction_cost: float = 500.0  # F per link and period, when the link gives no fixed cost (ours)
    break_after: int = 3  # a link breaks when a partner's net benefit over this many periods is < 0
    per_need: int = 5  # candidate pairs kept per need (the best by saving)
    tries: float = 0.2  # share of the willing candidate pairs that meet each period (ours)


@dataclass(frozen=True)
class Platform:
    """Module adoption with network effects (Katz & Shapiro 1985; logit choice), complementor
    entry against an entry barrier (Boudreau 2012 crowding), openness and IP duration
    (Parker & Van Alstyne 2018), value capture (Iansiti & Levien 2004)."""

    enabled: bool = True
    beta: float = 1.0  # network benefit v(n) = beta * (n / N)^gamma
    gamma: float = 0.5
    fee: float = 0.3  # utility cost of adopting
    noise: float = 0.25  # logit scale mu
    speed: float = 0.3  # share of the choice probability realised per period (ours)
    openness: float = 0.6  # theta_P: share of the core modules accessible
    royalty: float = 0.1  # rho: share of adopters' added value the provider takes
    module_effect: float = 0.3  # Cobb-Douglas exponent a on module capital
    entry_barrier: float = 0.2  # B_P, in units of the complementor's size
    min_quality: float = 0.3  # q_min
    complement_revenue: float = 1.0  # R per user share (scale, ours)
    ip_duration: int = 5  # T: periods an innovation keeps its rents before joining the commons
    innovation_rate: float = 0.2  # innovations per complementor per period at full openness
    decay: float = 0.05  # delta: depreciation of module quality


@dataclass(frozen=True)
class Openness:
    """Outsourcing non-core activities to cheaper reachable providers, a productivity penalty
    for redundant non-core investment, imitation of more profitable neighbours and mutation
    of capabilities (Nelson & Winter 1982); docs/simulation.md."""

    enabled: bool = True
    core_cost: float = 1.0
    noncore_cost: float = 1.5  # own cost of a capability run outside the core
    transaction_cost: float = 0.3  # tau at zero trust; falls linearly to 0 at full trust
    outsource_rate: float = 0.3  # probability per period that a cheaper provider is taken up
    penalty: float = 0.04  # productivity lost per redundant non-core capability
    imitation: float = 0.1  # scale of the imitation probability (payoff gap / own size)
    mutation: float = 0.01  # probability per period of flipping one capability


@dataclass(frozen=True)
class Shock:
    """A scheduled shock. ``kind``: ``exit`` (actors leave; their partners lose inputs through
    the ESRI cascade), ``disruption`` (supply of ``targets`` scaled by ``1 - magnitude``),
    ``price`` (virgin prices times ``1 + magnitude``), ``landfill_tax`` or ``subsidy`` (set to
    ``magnitude`` per unit); ``duration`` periods (0 = permanent)."""

    period: int
    kind: str
    targets: tuple[str, ...] = ()
    magnitude: float = 1.0
    duration: int = 0


@dataclass(frozen=True)
class Policy:
    landfill_tax: float = 0.0  # per unit disposed, paid by the producer (enlarges the space of cooperation)
    subsidy: float = 0.0  # per unit exchanged


@dataclass(frozen=True)
class Competition:
    """Ecosystem against ecosystem: entrants choose by increasing returns (Arthur 1989),
    members switch when a rival's utility beats theirs by more than the switching cost,
    multi-homing, and the market split by Lotka-Volterra with niche overlap (Pianka).

    Entrants are of type R with probability ``share_r`` and of type S otherwise (Arthur's
    two kinds of agents; with more than one rival, each entrant's favourite is drawn
    uniformly instead). Type R's utility of ecosystem E is its natural preference plus
    ``returns * x_E``, type S's plus ``returns_s * x_E``, where ``x_E`` is E's share of the
    living members (``returns_basis = "share"``) or the number of entrants that have chosen
    E so far (``"count"``: Arthur's ``n_A``, ``n_B``). The natural preferences are
    ``preferences = (a_R, b_R, a_S, b_S)`` for this ecosystem (A) and its one rival (B),
    or, when None, ``preference`` for the favourite and 0 for the other."""

    enabled: bool = True
    returns: float = 0.5  # r: increasing returns per share of members (per adopter with returns_basis "count")
    returns_s: float | None = None  # s: the S-type entrants' returns (None: the same as returns)
    returns_basis: str = "share"  # "share" of the living members, or "count" of the entrants that chose E so far
    preference: float = 0.2  # natural preference of the two entrant types (a_R - b_R = b_S - a_S)
    preferences: tuple[float, float, float, float] | None = None  # (a_R, b_R, a_S, b_S); overrides preference
    share_r: float = 0.5  # p: probability that an entrant is of type R (prefers this ecosystem)
    switching_cost: float = 0.4
    switch_rate: float = 0.1  # share of the members with a better option that move each period
    multihoming: float = 0.05  # probability that an actor with a better rival joins it too


@dataclass(frozen=True)
class Params:
    """Every mechanism's parameters; ``Params().replace(**{"symbiosis.tries": 0.5})``."""

    demography: Demography = field(default_factory=Demography)
    symbiosis: Symbiosis = field(default_factory=Symbiosis)
    platform: Platform = field(default_factory=Platform)
    openness: Openness = field(default_factory=Openness)
    competition: Competition = field(default_factory=Competition)
    policy: Policy = field(default_factory=Policy)
    shocks: tuple[Shock, ...] = ()
    cascade_threshold: float = 0.5  # an actor losing more than this share of output to a cascade exits
    ena_every: int = 10  # ENA of the evolving network every so many periods (0: never)
    contagion: float = 0.0  # Watts (2002) threshold: an actor exits when this share of its contacts has (0: off)
    record: str = "all"  # "all" metrics each period, or "basic" (period, actors, value added)

    def replace(self, **changes: Any) -> Params:
        """A copy with ``"mechanism.name": value`` (or top-level names) changed."""
        groups: dict[str, dict[str, Any]] = {}
        top: dict[str, Any] = {}
        for key, value in changes.items():
            if "." in key:
                group, name = key.split(".", 1)
                groups.setdefault(group, {})[name] = value
            else:
                top[key] = value
        out = self
        for group, values in groups.items():
            if group not in _GROUPS:
                raise _unknown("parameter group", group, list(_GROUPS))
            current = getattr(out, group)
            names = {f.name for f in dataclasses.fields(current)}
            for name in values:
                if name not in names:
                    raise _unknown(f"{group} parameter", name, sorted(names))
            converted = {k: _coerce(getattr(current, k), v) for k, v in values.items()}
            out = dataclasses.replace(out, **{group: dataclasses.replace(current, **converted)})
        if top:
            for name in top:
                if name not in {f.name for f in dataclasses.fields(self)} or name in _GROUPS:
                    raise _unknown(
                        "parameter",
                        name,
                        ["cascade_threshold", "ena_every", "shocks", *(f"{g}.<name>" for g in _GROUPS)],
                    )
            out = dataclasses.replace(out, **top)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Params:
        """From a scenario's ``params`` block: ``{mechanism: {name: value}}`` and ``shocks``."""
        flat: dict[str, Any] = {}
        for key, value in data.items():
            if key == "shocks":
                flat["shocks"] = tuple(_shock(s) for s in value)
            elif isinstance(value, dict):
                flat.update({f"{key}.{k}": v for k, v in value.items()})
            else:
                flat[key] = value
        return cls().replace(**flat)


_GROUPS = ("demography", "symbiosis", "platform", "openness", "competition", "policy")


def _coerce(current: Any, value: Any) -> Any:
    if isinstance(value, list):  # a tuple field written in YAML (also one whose default is None)
        return tuple(value)
    return value


def _shock(data: dict[str, Any]) -> Shock:
    known = {f.name for f in dataclasses.fields(Shock)}
    extra = set(data) - known
    if extra:
        raise _unknown("shock field", sorted(extra)[0], sorted(known))
    values = dict(data)
    if "targets" in values:
        values["targets"] = tuple(values["targets"])
    return Shock(**values)


def _unknown(what: str, name: str, known: list[str]) -> Exception:
    return SimulationError(f"unknown {what} {name!r}; expected one of: {', '.join(known)}")
