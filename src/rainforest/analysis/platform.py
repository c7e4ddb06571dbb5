"""The platform pathway of a document: who provides the modules others build on, how far
they reach, how much adopters depend on them, how concentrated each kind of module is,
what a newcomer would face, and what the ecosystem loses if a provider goes.

:func:`analyze` reads the document's ``modules`` (provider, kind, adopters,
``value_per_adopter``, ``switching_cost``, ``capacity_share``), the actors' sizes and the
flows, and returns a :class:`PlatformAnalysis`. Every measure below is stated with what it reads;
where the document lacks what a measure needs, the measure is ``None`` with the reason
(never 0). docs/platform.md explains each one for users.

Actor accounts (money per period)
    An actor's *output* ``x_i`` is its ``size.revenue``; without one, its recorded sales
    (to members and to ``world``, in the money layer) when the document records sales to
    ``world`` for it, else unknown. Its *inputs* ``c_i`` are its ``size.costs``; without
    them, its recorded purchases (from members and from ``world``) when purchases from
    ``world`` are recorded for it, else unknown. This is the cascade's rule
    (:mod:`rainforest.analysis.cascade`): trade with ``world`` is a revenue or a cost in
    another form. *Value added* is ``v_i = x_i - c_i`` (gross output less intermediate
    inputs, Miller & Blair 2009, ch. 2), known when both are.
Throughflow
    Finn's input throughflow ``T_i`` = what actor i receives from members plus its
    boundary inputs (:meth:`rainforest.FlowMatrix.inflow`), on the document's main
    physical layer (the first of mass, energy and water in which members exchange
    anything), else on the money layer; ``currency=`` chooses another.
Reach of a provider or a module
    Its adopters ``A`` (a provider listed as adopter of its own module is in-house use,
    not dependence, and is left out with a note); the share of the ecosystem's actors in
    ``A``; the share of the ecosystem's value added that adopters make,
    ``sum_{i in A} v_i^+ / sum_i v_i^+`` (``v^+ = max(v, 0)``: a loss-making actor adds
    nothing; known only when every actor's value added is); and the share of the total
    system throughflow that passes through adopters, ``sum_{i in A} T_i / TST``.
Dependence of an adopter on a module
    ``revenue_share = value_per_adopter / x_i`` and ``input_share = value_per_adopter /
    c_i``: the module's value per period against the adopter's output and inputs;
    ``capacity_share``: the share of the adopter's output that stops while the module is
    withdrawn, as the document gives it. A value above the adopter's output (inputs) is
    an inconsistent document: the share is then unknown, with the reason.
Multi-homing
    An adopter that uses modules of the same kind from two or more providers: it can
    move to a rival without starting again, which weakens the lock-in of that kind.
Concentration (US DOJ & FTC Merger Guidelines)
    Per module kind, each provider's share of the kind's adoptions ``s_p`` (its distinct
    adopters over the sum over providers; a multi-homing adopter counts once with each)
    and the Herfindahl-Hirschman index ``HHI = sum_p s_p^2`` in ``[1/n, 1]``, also in the
    Guidelines' points (shares in percent: ``10,000 HHI``). Bands: 2023 Merger
    Guidelines, highly concentrated above 1,800 points (they draw no other band); 2010
    Horizontal Merger Guidelines, unconcentrated below 1,500, moderately concentrated
    1,500 to 2,500, highly concentrated above 2,500. Modules without a kind have no
    rivals the document names and are left out of kinds.
Entry barriers (after Arthur 1989)
    Per kind, the leader ``L`` is the provider with most adopters ``n_L`` (ties: the
    first in the document, said in a note), ``n_2`` the runner-up's.

    - *installed base*: ``n_L``, the adopters a newcomer needs to match the leader;
    - *switching cost of the installed base*: ``sum_{m of L} |A_m| s_m`` with ``s_m`` the
      module's ``switching_cost`` (money per adopter, once): what the leader's adopters
      would pay together to leave it;
    - *open pool*: actors that use no module of the kind and provide none, which a
      newcomer can win without anyone paying a switching cost;
    - *cost to match*: the least switching cost a newcomer must cover to draw level with
      the leader: it wins the whole open pool ``p`` first, then ``k`` of the leader's
      adopters (each counts once for the newcomer and once against the leader) and ``j``
      adopters of rivals only (each counts once, at the switching cost of the rival
      modules it leaves), with ``p + k + j >= n_L - k``, the cheapest of each, least over
      ``k``; 0 when ``p >= n_L``; unknown (with the bound) when a rival's module that
      could be cheaper has no switching cost;
    - *lock-in lead* (Arthur 1989, Economic Journal 99:116-131): with increasing returns
      ``r`` (what each further adopter adds to every adopter's payoff, money per period)
      and a natural preference ``g`` of some adopters for the rival (money per period at
      equal adoption), those adopters still choose the leader once its lead in adopters
      exceeds ``Delta = g / r``: the market is locked in (Arthur's absorbing barrier
      ``Delta_S = (b_S - a_S) / s``). The document gives the leads (``n_L - n_2`` and,
      against a newcomer, ``n_L``); ``g`` and ``r`` are the user's
      (``preference_gap=``, ``returns_per_adopter=``), not in the format.
Keystone role (after Iansiti & Levien 2004)
    What the ecosystem loses when a provider fails (it stops and every module it offers is
    withdrawn) or withdraws one module while it keeps producing. The *direct* loss is the
    adopters' output that stops, ``sum_a x_a min(1, sum_m capacity_share_m)`` over the
    withdrawn modules ``m`` adopter ``a`` uses (the platform layer's rule, L3 of
    :mod:`rainforest.analysis.layers`), plus the provider's own output when it fails, in
    money per period and as a share of the ecosystem's output ``sum_i x_i``. The
    *cascade* loss follows the failure through every layer the document has (supply,
    by-products, platform; :func:`rainforest.analysis.layers.layered_cascade`, whose rules
    docs/layers.md gives) to its fixed point: ``sum_i x_i L_i`` with ``L_i`` each actor's
    share of output lost, and per layer the output lost through that layer alone. Without
    money flows the supply layer is left out (a note says so). An unknown
    ``capacity_share`` is never taken as a number: the loss is then unknown, with its
    bounds (the share at 0 and at 1) in ``cascade_bounds``.

References
----------
Arthur, W.B. (1989). Competing technologies, increasing returns, and lock-in by
historical events. Economic Journal 99(394):116-131.
Iansiti, M. & Levien, R. (2004). The Keystone Advantage. Harvard Business School Press;
and Strategy as ecology, Harvard Business Review 82(3):68-78.
U.S. Department of Justice & Federal Trade Commission (2023). Merger Guidelines, section
2.1; (2010). Horizontal Merger Guidelines, section 5.3.
Miller, R.E. & Blair, P.D. (2009). Input-Output Analysis, 2nd ed., ch. 2.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from rainforest.analysis.layers import LAYERS, Layers, layered_cascade
from rainforest.choices import Currency, MergerGuidelines, PlatformPart
from rainforest.errors import (
    CurrencyError,
    ParameterError,
    RainforestError,
    RainforestWarning,
    UnknownIdError,
    check_choice,
)
from rainforest.model.ecosystem import Ecosystem
from rainforest.model.flowmatrix import FlowMatrix

__all__ = [
    "BANDS",
    "GUIDELINES",
    "Adoption",
    "Barrier",
    "Keystone",
    "Kind",
    "PlatformAnalysis",
    "Reach",
    "analyze",
    "hhi",
    "hhi_band",
    "lock_in_lead",
]

#: The DOJ/FTC concentration bands in HHI points: (limit, name of the band up to it), lowest
#: first. 2023 Merger Guidelines (section 2.1): above 1,800 highly concentrated; 2010
#: Horizontal Merger Guidelines (section 5.3): below 1,500 unconcentrated, 1,500 to 2,500
#: moderately concentrated, above 2,500 highly concentrated.
#: The Guidelines each choice of ``guidelines=`` names.
GUIDELINES = {
    "2023-merger": "DOJ/FTC Merger Guidelines (2023)",
    "2010-horizontal": "DOJ/FTC Horizontal Merger Guidelines (2010)",
}
BANDS: dict[str, tuple[tuple[float, str], ...]] = {
    "2023-merger": ((1800.0, "not highly concentrated"), (math.inf, "highly concentrated")),
    "2010-horizontal": (
        (1500.0, "unconcentrated"),
        (2500.0, "moderately concentrated"),
        (math.inf, "highly concentrated"),
    ),
}


def _share(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


# -- pure measures ------------------------------------------------------------------------------------
def hhi(shares: Iterable[float]) -> float:
    """The Herfindahl-Hirschman index of market shares, ``sum s_i^2`` on the 0-1 scale
    (multiply by 10,000 for the Guidelines' points).

    Shares need not sum to 1: they are normalised first (counts of adopters are shares
    in another form).

    >>> hhi([30, 30, 20, 20]) * 10_000  # the DOJ's worked example: 2,600 points
    2600.0
    """
    s = np.asarray(list(shares), dtype=float)
    if s.size == 0 or not np.all(np.isfinite(s)) or (s < 0).any() or s.sum() <= 0:
        raise ParameterError(
            f"The 'shares' parameter of hhi must be non-negative numbers with a positive sum. Got {s.tolist()!r} "
            "instead.",
            parameter="shares",
        )
    p = s / s.sum()
    return float(round(float(np.sum(p * p)), 15))


def hhi_band(points: float, guidelines: MergerGuidelines = "2023-merger") -> str:
    """The DOJ/FTC band of an HHI in points (0-10,000).

    >>> hhi_band(2600), hhi_band(2600, "2010-horizontal"), hhi_band(1600, "2010-horizontal")
    ('highly concentrated', 'highly concentrated', 'moderately concentrated')
    """
    check_choice("guidelines", guidelines, MergerGuidelines, where="hhi_band")
    if guidelines == "2023-merger":  # "greater than 1,800": 1,800 itself is not highly concentrated
        return "highly concentrated" if points > 1800 else "not highly concentrated"
    if points < 1500:  # "below 1500"; "between 1500 and 2500" is moderate, both ends included
        return "unconcentrated"
    return "moderately concentrated" if points <= 2500 else "highly concentrated"


def lock_in_lead(preference_gap: float, returns_per_adopter: float) -> float:
    """Arthur's (1989) lock-in lead ``Delta = g / r`` in adopters: once the leader leads a
    rival by more than this, even adopters who prefer the rival by ``g`` (money per period
    at equal adoption) choose the leader, because each adopter adds ``r`` to every
    adopter's payoff (money per period).

    >>> lock_in_lead(300_000, 100_000)
    3.0
    """
    for name, value in (("preference_gap", preference_gap), ("returns_per_adopter", returns_per_adopter)):
        if not math.isfinite(value) or value < 0 or (name == "returns_per_adopter" and value == 0):
            expected = "a positive number" if name == "returns_per_adopter" else "a number >= 0"
            raise ParameterError(
                f"The {name!r} parameter of lock_in_lead must be {expected} (money per period). Got {value!r} instead.",
                parameter=name,
            )
    return float(preference_gap / returns_per_adopter)


# -- results ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reach:
    """How far a provider's (or one module's) modules reach: its adopters and the shares
    of the ecosystem's actors, value added and throughflow they make (``None`` with the
    reason in ``reasons`` when the document does not allow a share)."""

    id: str
    provider: str
    modules: tuple[str, ...]
    adopters: tuple[str, ...]
    actors_share: float | None
    value_added_share: float | None
    throughflow_share: float | None
    reasons: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the provider, modules, adopters, the three shares and their reasons."""
        out: dict[str, Any] = _plain(
            {
                "provider": self.provider,
                "modules": list(self.modules),
                "adopters": list(self.adopters),
                "actors_share": self.actors_share,
                "value_added_share": self.value_added_share,
                "throughflow_share": self.throughflow_share,
                "reasons": dict(self.reasons),
            }
        )
        return out


@dataclass(frozen=True)
class Adoption:
    """One adopter's dependence on one module (shares 0-1, ``None`` with the reason)."""

    module: str
    provider: str
    kind: str | None
    adopter: str
    revenue_share: float | None
    input_share: float | None
    capacity_share: float | None
    switching_cost: float | None
    multi_homing: bool
    reasons: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every field."""
        out: dict[str, Any] = _plain(
            {
                "module": self.module,
                "provider": self.provider,
                "kind": self.kind,
                "adopter": self.adopter,
                "revenue_share": self.revenue_share,
                "input_share": self.input_share,
                "capacity_share": self.capacity_share,
                "switching_cost": self.switching_cost,
                "multi_homing": self.multi_homing,
                "reasons": dict(self.reasons),
            }
        )
        return out


@dataclass(frozen=True)
class Barrier:
    """What a newcomer to one module kind would face (see the module notes)."""

    leader: str
    installed_base: int
    runner_up: str | None
    lead: int
    switching_cost_total: float | None
    open_pool: tuple[str, ...]
    cost_to_match: float | None
    lured_to_match: int
    lock_in_lead: float | None
    locked_in: bool | None
    newcomer_locked_out: bool | None
    reasons: dict[str, str] = field(default_factory=dict)
    #: Adopters of rival providers only (not of the leader) the newcomer wins at the
    #: least cost to match; each counts once, for the newcomer.
    won_from_rivals: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every field."""
        out: dict[str, Any] = _plain(
            {
                "leader": self.leader,
                "installed_base": self.installed_base,
                "runner_up": self.runner_up,
                "lead": self.lead,
                "switching_cost_total": self.switching_cost_total,
                "open_pool": list(self.open_pool),
                "cost_to_match": self.cost_to_match,
                "lured_to_match": self.lured_to_match,
                "won_from_rivals": self.won_from_rivals,
                "lock_in_lead": self.lock_in_lead,
                "locked_in": self.locked_in,
                "newcomer_locked_out": self.newcomer_locked_out,
                "reasons": dict(self.reasons),
            }
        )
        return out


@dataclass(frozen=True)
class Kind:
    """One kind of module as a market: providers' adopters and shares, the HHI and its
    band, the multi-homing adopters and the entry barrier (``None`` without adopters)."""

    kind: str
    modules: tuple[str, ...]
    adopters: dict[str, int]
    shares: dict[str, float]
    hhi: float | None
    hhi_points: float | None
    band: str | None
    multi_homing: dict[str, tuple[str, ...]]
    multi_homing_share: float | None
    barrier: Barrier | None
    reasons: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every field (the barrier as a dict)."""
        out: dict[str, Any] = _plain(
            {
                "modules": list(self.modules),
                "adopters": dict(self.adopters),
                "shares": dict(self.shares),
                "hhi": self.hhi,
                "hhi_points": self.hhi_points,
                "band": self.band,
                "multi_homing": {a: list(p) for a, p in self.multi_homing.items()},
                "multi_homing_share": self.multi_homing_share,
                "barrier": None if self.barrier is None else self.barrier.to_dict(),
                "reasons": dict(self.reasons),
            }
        )
        return out


@dataclass(frozen=True)
class Keystone:
    """What the ecosystem loses if ``provider`` fails (``module`` is ``None``) or
    withdraws ``module``: the direct loss (money per period and share of the ecosystem's
    output) and the loss through the cross-layer cascade (``cascade_*``; ``by_layer`` the
    share of the ecosystem's output lost through each layer alone; ``cascade_bounds`` the
    share lost with unknown capacity shares at 0 and at 1; ``cascade_cost`` the extra cost
    per period, virgin inputs bought for lost by-products and module value lost)."""

    provider: str
    module: str | None
    adopters_hit: tuple[str, ...]
    direct_loss: float | None
    direct_share: float | None
    cascade_loss: float | None = None
    cascade_share: float | None = None
    cascade_bounds: tuple[float, float] | None = None
    cascade_cost: float | None = None
    by_layer: dict[str, float] = field(default_factory=dict)
    layers: tuple[str, ...] = ()
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def scenario(self) -> str:
        """``'fails'`` or ``'withdraws <module>'``."""
        return "fails" if self.module is None else f"withdraws {self.module}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every field, with ``scenario``."""
        out: dict[str, Any] = _plain(
            {
                "provider": self.provider,
                "module": self.module,
                "scenario": self.scenario,
                "adopters_hit": list(self.adopters_hit),
                "direct_loss": self.direct_loss,
                "direct_share": self.direct_share,
                "cascade_loss": self.cascade_loss,
                "cascade_share": self.cascade_share,
                "cascade_bounds": None if self.cascade_bounds is None else list(self.cascade_bounds),
                "cascade_cost": self.cascade_cost,
                "by_layer": dict(self.by_layer),
                "layers": list(self.layers),
                "reasons": dict(self.reasons),
            }
        )
        return out


@dataclass(frozen=True)
class PlatformAnalysis:
    """The platform analysis of one ecosystem (:func:`analyze`).

    ``providers`` and ``modules`` hold each one's :class:`Reach`; ``adoptions`` every
    adopter's dependence on every module; ``kinds`` each module kind as a market
    (concentration, multi-homing, entry barrier); ``keystone`` the loss if each provider
    fails and if each module is withdrawn; ``throughflow_currency`` the layer throughflow
    was measured in (``None`` without flows); ``money`` the money unit; ``parameters``
    what the user gave; ``notes`` what was assumed or left out.
    """

    providers: tuple[Reach, ...]
    modules: tuple[Reach, ...]
    adoptions: tuple[Adoption, ...]
    kinds: tuple[Kind, ...]
    keystone: tuple[Keystone, ...]
    actors: int
    throughflow_currency: str | None
    money: str
    period: str
    parameters: dict[str, Any]
    notes: tuple[str, ...] = ()

    def provider(self, id: str) -> Reach:
        """The reach of one provider."""
        return _find(self.providers, id, "provider")

    def module(self, id: str) -> Reach:
        """The reach of one module."""
        return _find(self.modules, id, "module")

    def kind(self, kind: str) -> Kind:
        """One module kind as a market."""
        for k in self.kinds:
            if k.kind == kind:
                return k
        raise UnknownIdError("module kind", kind, [k.kind for k in self.kinds])

    def loss(self, provider: str, module: str | None = None) -> Keystone:
        """The keystone scenario of ``provider`` failing (or withdrawing ``module``)."""
        for k in self.keystone:
            if k.provider == provider and k.module == module:
                return k
        raise UnknownIdError(
            "keystone scenario",
            f"{provider}:{module}" if module else provider,
            [_scenario_id(k) for k in self.keystone],
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what ``rainforest platform --json`` prints."""
        out: dict[str, Any] = _plain(
            {
                "actors": self.actors,
                "money": self.money,
                "period": self.period,
                "throughflow_currency": self.throughflow_currency,
                "parameters": dict(self.parameters),
                "providers": {r.id: r.to_dict() for r in self.providers},
                "modules": {r.id: r.to_dict() for r in self.modules},
                "adoptions": [a.to_dict() for a in self.adoptions],
                "kinds": {k.kind: k.to_dict() for k in self.kinds},
                "keystone": [k.to_dict() for k in self.keystone],
                "notes": list(self.notes),
            }
        )
        return out

    def to_frame(self, part: PlatformPart = "reach") -> Any:
        """A pandas DataFrame of one part (NaN where a number is not known):

        - ``'reach'``: one row per provider and per module (``level``, ``id``);
        - ``'adoptions'``: one row per module and adopter;
        - ``'kinds'``: one row per module kind (concentration and barrier);
        - ``'keystone'``: one row per scenario (a provider failing, a module withdrawn).
        """
        import pandas as pd

        check_choice("part", part, PlatformPart, where="PlatformAnalysis.to_frame")

        def num(v: float | None) -> float:
            return math.nan if v is None else float(v)

        if part == "reach":
            rows = [
                {
                    "level": level,
                    "id": r.id,
                    "provider": r.provider,
                    "adopters": len(r.adopters),
                    "actors_share": num(r.actors_share),
                    "value_added_share": num(r.value_added_share),
                    "throughflow_share": num(r.throughflow_share),
                }
                for level, group in (("provider", self.providers), ("module", self.modules))
                for r in group
            ]
            columns = ["level", "id", "provider", "adopters", "actors_share", "value_added_share", "throughflow_share"]
            return pd.DataFrame(rows, columns=columns).set_index(["level", "id"])
        if part == "adoptions":
            frame = pd.DataFrame(
                [
                    {
                        "module": a.module,
                        "adopter": a.adopter,
                        "provider": a.provider,
                        "kind": a.kind,
                        "revenue_share": num(a.revenue_share),
                        "input_share": num(a.input_share),
                        "capacity_share": num(a.capacity_share),
                        "switching_cost": num(a.switching_cost),
                        "multi_homing": a.multi_homing,
                    }
                    for a in self.adoptions
                ]
            )
            return frame.reindex(columns=_ADOPTION_COLUMNS).set_index(["module", "adopter"])
        if part == "kinds":
            rows = []
            for k in self.kinds:
                b = k.barrier
                rows.append(
                    {
                        "kind": k.kind,
                        "providers": len(k.shares),
                        "hhi": num(k.hhi),
                        "hhi_points": num(k.hhi_points),
                        "band": k.band,
                        "multi_homing": len(k.multi_homing),
                        "leader": b.leader if b else None,
                        "installed_base": b.installed_base if b else 0,
                        "switching_cost_total": num(b.switching_cost_total) if b else math.nan,
                        "cost_to_match": num(b.cost_to_match) if b else math.nan,
                        "lock_in_lead": num(b.lock_in_lead) if b else math.nan,
                    }
                )
            frame = pd.DataFrame(rows)
            return frame.reindex(columns=_KIND_COLUMNS).set_index("kind")
        frame = pd.DataFrame(
            [
                {
                    "provider": k.provider,
                    "scenario": k.scenario,
                    "adopters_hit": len(k.adopters_hit),
                    "direct_loss": num(k.direct_loss),
                    "direct_share": num(k.direct_share),
                    "cascade_loss": num(k.cascade_loss),
                    "cascade_share": num(k.cascade_share),
                }
                for k in self.keystone
            ]
        )
        return frame.reindex(columns=_KEYSTONE_COLUMNS).set_index(["provider", "scenario"])


_ADOPTION_COLUMNS = (
    "module",
    "adopter",
    "provider",
    "kind",
    "revenue_share",
    "input_share",
    "capacity_share",
    "switching_cost",
    "multi_homing",
)
_KIND_COLUMNS = (
    "kind",
    "providers",
    "hhi",
    "hhi_points",
    "band",
    "multi_homing",
    "leader",
    "installed_base",
    "switching_cost_total",
    "cost_to_match",
    "lock_in_lead",
)
_KEYSTONE_COLUMNS = (
    "provider",
    "scenario",
    "adopters_hit",
    "direct_loss",
    "direct_share",
    "cascade_loss",
    "cascade_share",
)


def _money_unit(eco: Ecosystem) -> str:
    """The unit of the resources of kind money, else the document's ``x_currency``, else
    'money' (the rule of :func:`rainforest.assessment.money_unit`)."""
    units = {r.unit for r in eco.resources if r.kind == "money"}
    if len(units) == 1:
        return str(units.pop())
    declared = eco.extensions.get("x_currency")
    return str(declared) if isinstance(declared, str) and declared else "money"


def _scenario_id(k: Keystone) -> str:
    return f"{k.provider}:{k.module}" if k.module else k.provider


def _find(group: Sequence[Reach], id: str, what: str) -> Reach:
    for r in group:
        if r.id == id:
            return r
    raise UnknownIdError(what, id, [r.id for r in group])


# -- the accounts ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Accounts:
    """Per actor (document order): output, inputs, value added (NaN when unknown)."""

    ids: tuple[str, ...]
    output: np.ndarray
    inputs: np.ndarray
    value_added: np.ndarray
    throughflow: np.ndarray | None
    throughflow_currency: str | None
    throughflow_reason: str


def _accounts(eco: Ecosystem, currency: Currency | None) -> _Accounts:
    actors = eco.table("actors")
    ids = tuple(str(a) for a in actors.texts("id"))
    n = len(ids)
    revenue = actors.numbers("size.revenue") if "size.revenue" in actors else np.full(n, np.nan)
    costs = actors.numbers("size.costs") if "size.costs" in actors else np.full(n, np.nan)
    output = np.array(revenue, dtype=float)
    inputs = np.array(costs, dtype=float)
    try:
        money: FlowMatrix | None = FlowMatrix.from_ecosystem(eco, "money")
    except CurrencyError:
        money = None
    if money is not None:
        pos = {a: i for i, a in enumerate(money.ids)}
        sold = np.asarray(money.Z.sum(axis=1)).ravel() + money.exports
        bought = np.asarray(money.Z.sum(axis=0)).ravel() + money.imports
        for i, a in enumerate(ids):
            k = pos.get(a)
            if k is None:
                continue
            if math.isnan(output[i]) and money.exports[k] > 0:
                output[i] = sold[k]
            if math.isnan(inputs[i]) and money.imports[k] > 0:
                inputs[i] = bought[k]
    through, through_currency, reason = _throughflow(eco, ids, currency)
    return _Accounts(ids, output, inputs, output - inputs, through, through_currency, reason)


def _throughflow(
    eco: Ecosystem, ids: tuple[str, ...], currency: Currency | None
) -> tuple[np.ndarray | None, str | None, str]:
    order: tuple[Currency, ...] = (currency,) if currency is not None else ("mass", "energy", "water", "money")
    fallback: FlowMatrix | None = None
    for c in order:
        try:
            fm = FlowMatrix.from_ecosystem(eco, c)
        except CurrencyError as exc:
            if currency is not None:
                return None, None, f"no {currency} layer: {exc}"
            continue
        if fm.Z.nnz or currency is not None:
            chosen = fm
            break
        fallback = fallback or (fm if fm.inputs.any() else None)
    else:
        if fallback is None:
            return None, None, "no flows with a quantity in mass, energy, water or money"
        chosen = fallback
    pos = {a: i for i, a in enumerate(chosen.ids)}
    inflow = chosen.inflow()
    T = np.array([inflow[pos[a]] if a in pos else 0.0 for a in ids], dtype=float)
    if not T.sum() > 0:
        return None, chosen.currency, f"no throughflow is recorded in {chosen.currency}"
    return T, chosen.currency, ""


# -- the analysis ---------------------------------------------------------------------------------------
def analyze(
    eco: Ecosystem,
    *,
    currency: Currency | None = None,
    preference_gap: float | None = None,
    returns_per_adopter: float | None = None,
    guidelines: MergerGuidelines = "2023-merger",
    cascade: bool = True,
    valued: bool = False,
) -> PlatformAnalysis:
    """The platform analysis of ``eco`` (see the module notes for every measure).

    Parameters
    ----------
    eco:
        The ecosystem; its ``modules`` section is read (a document without modules gives
        an analysis with no provider, and a note saying so).
    currency:
        The layer throughflow is measured in; by default the main physical layer (the
        first of mass, energy and water in which members exchange anything), else money.
    preference_gap:
        Arthur's ``g``: how much more, in money per period, an adopter who prefers a
        rival values the rival's module at equal adoption. With ``returns_per_adopter``
        it gives each kind's lock-in lead; without, the lead is unknown (said why).
    returns_per_adopter:
        Arthur's ``r``: what each further adopter of a module adds to every adopter's
        payoff, money per period.
    guidelines:
        The DOJ/FTC Guidelines whose HHI bands are named: ``'2023-merger'`` (Merger Guidelines,
        2023) or ``'2010-horizontal'`` (Horizontal Merger Guidelines, 2010).
    cascade:
        Follow each keystone scenario through the layers
        (:func:`rainforest.analysis.layers.layered_cascade`); ``False`` keeps the direct
        losses only.
    valued:
        Build the cascade's supply layer from every priced flow (valued at its price)
        instead of the flows of money, as :func:`rainforest.analysis.layers.layered_cascade`.

    Returns
    -------
    PlatformAnalysis

    Raises
    ------
    ParameterError
        A negative ``preference_gap``, a ``returns_per_adopter`` that is not positive, or
        an unknown ``guidelines`` or ``currency``.

    Examples
    --------
    >>> import rainforest as rf
    >>> p = analyze(rf.load("docs/examples/platform.yaml"))
    >>> p.provider("hub").actors_share, p.kind("logistics").hhi_points
    (0.5, 6250.0)
    """
    check_choice("guidelines", guidelines, MergerGuidelines, where="platform.analyze")
    if currency is not None:
        check_choice("currency", currency, Currency, where="platform.analyze")
    delta: float | None = None
    if preference_gap is not None and returns_per_adopter is not None:
        delta = lock_in_lead(preference_gap, returns_per_adopter)
    elif preference_gap is not None or returns_per_adopter is not None:
        given = "preference_gap" if preference_gap is not None else "returns_per_adopter"
        missing = "returns_per_adopter" if preference_gap is not None else "preference_gap"
        raise ParameterError(
            f"The {missing!r} parameter of platform.analyze is needed with {given!r}: Arthur's lock-in lead is "
            f"g / r and takes both. Got only {given}={preference_gap if given == 'preference_gap' else returns_per_adopter!r}.",
            parameter=missing,
        )
    acc = _accounts(eco, currency)
    index = {a: i for i, a in enumerate(acc.ids)}
    notes: list[str] = []
    modules = list(eco.modules)
    if not modules:
        notes.append("the document declares no modules: no platform pathway to analyse")
    adopters_of: dict[str, tuple[str, ...]] = {}
    for m in modules:
        own = [a for a in m.adopters if a == m.provider]
        if own:
            notes.append(f"{m.provider} lists itself as adopter of its own module {m.id}: in-house use, left out")
        adopters_of[m.id] = tuple(dict.fromkeys(a for a in m.adopters if a != m.provider))
    providers = list(dict.fromkeys(m.provider for m in modules))

    shares = _ShareRules(acc, index)
    module_reach = tuple(shares.reach(m.id, m.provider, (m.id,), adopters_of[m.id]) for m in modules)
    provider_reach = tuple(
        shares.reach(
            p,
            p,
            tuple(m.id for m in modules if m.provider == p),
            tuple(dict.fromkeys(a for m in modules if m.provider == p for a in adopters_of[m.id])),
        )
        for p in providers
    )

    # kinds: who provides what to whom
    kinds: dict[str, list[Any]] = {}
    unkinded = [m.id for m in modules if m.kind is None]
    if unkinded:
        notes.append(
            f"{len(unkinded)} module(s) without a kind ({', '.join(unkinded[:6])}): no rival is named for them, so "
            "they are left out of multi-homing, concentration and entry barriers"
        )
    for m in modules:
        if m.kind is not None:
            kinds.setdefault(m.kind, []).append(m)
    providers_by_adopter: dict[tuple[str, str], list[str]] = {}
    for k, ms in kinds.items():
        for m in ms:
            for a in adopters_of[m.id]:
                got = providers_by_adopter.setdefault((k, a), [])
                if m.provider not in got:
                    got.append(m.provider)

    adoptions = tuple(
        _adoption(m, a, acc, index, len(providers_by_adopter.get((m.kind, a), ())) > 1 if m.kind else False)
        for m in modules
        for a in adopters_of[m.id]
    )
    kind_results = tuple(
        _kind(k, ms, adopters_of, providers_by_adopter, acc.ids, delta, guidelines, notes) for k, ms in kinds.items()
    )
    keystone = _keystone(modules, providers, adopters_of, acc, index)
    if cascade and keystone:
        keystone = _with_cascades(eco, keystone, acc, notes, valued)
    elif keystone:
        for scenario in keystone:
            scenario.reasons["cascade_loss"] = "the cross-layer cascade was not asked for"
    parameters = {
        "currency": currency,
        "preference_gap": preference_gap,
        "returns_per_adopter": returns_per_adopter,
        "guidelines": guidelines,
        "cascade": cascade,
        "valued": valued,
    }
    return PlatformAnalysis(
        providers=provider_reach,
        modules=module_reach,
        adoptions=adoptions,
        kinds=kind_results,
        keystone=keystone,
        actors=len(acc.ids),
        throughflow_currency=acc.throughflow_currency,
        money=_money_unit(eco),
        period=eco.period,
        parameters=parameters,
        notes=tuple(dict.fromkeys(notes)),
    )


class _ShareRules:
    """The reach shares and their reasons, computed once for the whole ecosystem."""

    def __init__(self, acc: _Accounts, index: Mapping[str, int]) -> None:
        self.acc = acc
        self.index = index
        n = len(acc.ids)
        va = acc.value_added
        unknown = [a for a, v in zip(acc.ids, va.tolist(), strict=True) if math.isnan(v)]
        self.va_reason = ""
        self.va_total = math.nan
        if not n:
            self.va_reason = "the document has no actors"
        elif unknown:
            self.va_reason = (
                f"value added is not known for {len(unknown)} of {n} actors ({', '.join(unknown[:5])}"
                f"{'...' if len(unknown) > 5 else ''}): give their size.revenue and size.costs, or record their sales "
                "to and purchases from world"
            )
        else:
            self.va_total = float(np.maximum(va, 0.0).sum())
            if not self.va_total > 0:
                self.va_reason = "no actor adds value (every value added is 0 or negative)"
        self.n = n

    def reach(self, id: str, provider: str, modules: tuple[str, ...], adopters: tuple[str, ...]) -> Reach:
        acc = self.acc
        at = [self.index[a] for a in adopters if a in self.index]
        reasons: dict[str, str] = {}
        actors_share = len(at) / self.n if self.n else None
        if actors_share is None:
            reasons["actors_share"] = "the document has no actors"
        va_share: float | None = None
        if self.va_reason:
            reasons["value_added_share"] = self.va_reason
        else:
            va_share = float(np.maximum(acc.value_added[at], 0.0).sum() / self.va_total)
        tf_share: float | None = None
        if acc.throughflow is None:
            reasons["throughflow_share"] = acc.throughflow_reason
        else:
            tf_share = float(acc.throughflow[at].sum() / acc.throughflow.sum())
        return Reach(id, provider, modules, adopters, actors_share, va_share, tf_share, reasons)


def _adoption(m: Any, adopter: str, acc: _Accounts, index: Mapping[str, int], multi: bool) -> Adoption:
    reasons: dict[str, str] = {}
    i = index.get(adopter)
    value = m.value_per_adopter

    def against(total: float, what: str, field: str) -> float | None:
        if value is None:
            reasons[field] = f"the document gives no value_per_adopter for module {m.id}"
            return None
        if math.isnan(total):
            reasons[field] = (
                f"{adopter}'s {what} is not known (size.{'revenue' if what == 'output' else 'costs'}, or its "
                f"{'sales to' if what == 'output' else 'purchases from'} world)"
            )
            return None
        if total <= 0:
            reasons[field] = f"{adopter}'s {what} is 0"
            return None
        if value > total * (1 + 1e-12):
            reasons[field] = (
                f"module {m.id}'s value per adopter ({value:,.0f}) exceeds {adopter}'s {what} ({total:,.0f}): the "
                "document is inconsistent"
            )
            return None
        return float(min(value / total, 1.0))

    revenue_share = against(float(acc.output[i]) if i is not None else math.nan, "output", "revenue_share")
    input_share = against(float(acc.inputs[i]) if i is not None else math.nan, "inputs", "input_share")
    if m.capacity_share is None:
        reasons["capacity_share"] = f"the document gives no capacity_share for module {m.id}"
    if m.switching_cost is None:
        reasons["switching_cost"] = f"the document gives no switching_cost for module {m.id}"
    return Adoption(
        m.id,
        m.provider,
        m.kind,
        adopter,
        revenue_share,
        input_share,
        _share(m.capacity_share),
        _share(m.switching_cost),
        multi,
        reasons,
    )


def _kind(
    kind: str,
    modules: list[Any],
    adopters_of: Mapping[str, tuple[str, ...]],
    providers_by_adopter: Mapping[tuple[str, str], list[str]],
    actors: tuple[str, ...],
    delta: float | None,
    guidelines: MergerGuidelines,
    notes: list[str],
) -> Kind:
    reasons: dict[str, str] = {}
    base: dict[str, list[str]] = {}
    for m in modules:
        got = base.setdefault(m.provider, [])
        got.extend(a for a in adopters_of[m.id] if a not in got)
    counts = {p: len(a) for p, a in base.items()}
    total = sum(counts.values())
    kind_adopters = {a for (k, a) in providers_by_adopter if k == kind}
    multi = {
        a: tuple(ps) for (k, a), ps in providers_by_adopter.items() if k == kind and len(ps) > 1 and a in kind_adopters
    }
    if not total:
        why = f"no actor adopts a module of kind {kind!r}"
        for key in ("hhi", "multi_homing_share", "barrier"):
            reasons[key] = why
        return Kind(kind, tuple(m.id for m in modules), counts, {}, None, None, None, {}, None, None, reasons)
    market = {p: c / total for p, c in counts.items()}
    index_value = hhi(list(counts.values()))
    points = round(10_000 * index_value, 9)
    ranked = sorted(counts, key=lambda p: -counts[p])  # stable: document order breaks ties
    leader = ranked[0]
    if len(ranked) > 1 and counts[ranked[1]] == counts[leader]:
        notes.append(
            f"kind {kind!r}: {leader} and {ranked[1]} have as many adopters ({counts[leader]}); {leader}, first in "
            "the document, is taken as the leader"
        )
    barrier = _barrier(kind, modules, leader, ranked, counts, base, adopters_of, kind_adopters, actors, delta)
    return Kind(
        kind,
        tuple(m.id for m in modules),
        counts,
        market,
        index_value,
        points,
        hhi_band(points, guidelines),
        multi,
        len(multi) / len(kind_adopters),
        barrier,
        reasons,
    )


def _barrier(
    kind: str,
    modules: list[Any],
    leader: str,
    ranked: list[str],
    counts: Mapping[str, int],
    base: Mapping[str, list[str]],
    adopters_of: Mapping[str, tuple[str, ...]],
    kind_adopters: set[str],
    actors: tuple[str, ...],
    delta: float | None,
) -> Barrier:
    reasons: dict[str, str] = {}
    n_lead = counts[leader]
    runner = ranked[1] if len(ranked) > 1 else None
    lead = n_lead - (counts[runner] if runner is not None else 0)
    own = [m for m in modules if m.provider == leader and adopters_of[m.id]]
    unknown = [m.id for m in own if m.switching_cost is None]
    per_adopter: dict[str, float] = {}
    total: float | None = None
    if unknown:
        reasons["switching_cost_total"] = (
            f"the document gives no switching_cost for {', '.join(unknown)} (the leader {leader}'s module"
            f"{'s' if len(unknown) > 1 else ''} of kind {kind!r})"
        )
    else:
        for m in own:
            for a in adopters_of[m.id]:
                per_adopter[a] = per_adopter.get(a, 0.0) + float(m.switching_cost)
        total = float(sum(per_adopter.values()))
    providers = {m.provider for m in modules}
    pool = tuple(a for a in actors if a not in kind_adopters and a not in providers)
    cost, lured, won = _cost_to_match(
        kind, modules, leader, n_lead, len(pool), per_adopter, total, adopters_of, reasons
    )
    locked: bool | None = None
    out: bool | None = None
    if delta is None:
        why = (
            "Arthur's lock-in lead g / r needs the preference gap g and the returns per adopter r, which the document "
            "does not hold: give preference_gap= and returns_per_adopter="
        )
        reasons["lock_in_lead"] = why
    else:
        locked = lead > delta if runner is not None else None
        if runner is None:
            reasons["locked_in"] = f"{leader} has no rival in kind {kind!r}: see newcomer_locked_out"
        out = n_lead > delta
    return Barrier(leader, n_lead, runner, lead, total, pool, cost, lured, delta, locked, out, reasons, won)


def _cost_to_match(
    kind: str,
    modules: list[Any],
    leader: str,
    n_lead: int,
    pool: int,
    per_adopter: Mapping[str, float],
    total: float | None,
    adopters_of: Mapping[str, tuple[str, ...]],
    reasons: dict[str, str],
) -> tuple[float | None, int, int]:
    """The least switching cost for a newcomer to draw level with the leader, and how many
    of the leader's adopters (``k``) and of rivals' adopters only (``j``) it wins for it.

    The newcomer wins the open pool ``p`` at no cost. A lured adopter of the leader counts
    once for the newcomer and once against the leader; an adopter of rivals only counts
    once, for the newcomer, at the switching cost of the rival modules of the kind it
    leaves. Level means ``p + k + j >= n_L - k``; over every ``k`` the cheapest ``k`` of
    the leader's adopters and the cheapest ``j = max(0, n_L - 2k - p)`` of the rivals'
    give the least cost (both lists sorted, so each choice of ``k`` is optimal).
    """
    if pool >= n_lead:
        return 0.0, 0, 0
    simple = math.ceil((n_lead - pool) / 2)  # the leader's adopters alone
    if total is None:
        reasons["cost_to_match"] = reasons["switching_cost_total"]
        return None, simple, 0
    leader_costs = sorted(per_adopter.values())
    rival_costs: dict[str, float] = {}
    rival_unknown: list[str] = []
    for m in modules:
        if m.provider == leader:
            continue
        for a in adopters_of[m.id]:
            if a in per_adopter:
                continue  # also the leader's: counted among the leader's adopters
            if m.switching_cost is None:
                rival_unknown.append(m.id)
                rival_costs[a] = math.nan
            elif a not in rival_costs or not math.isnan(rival_costs[a]):
                rival_costs[a] = rival_costs.get(a, 0.0) + float(m.switching_cost)
    priced = sorted(c for c in rival_costs.values() if not math.isnan(c))
    lead_sum = np.concatenate(([0.0], np.cumsum(leader_costs)))
    rival_sum = np.concatenate(([0.0], np.cumsum(priced)))
    best: tuple[float, int, int] | None = None
    for k in range(n_lead + 1):
        j = max(0, n_lead - 2 * k - pool)
        if j > len(priced):
            continue
        c = float(lead_sum[k] + rival_sum[j])
        if best is None or c < best[0] - 1e-9 * max(1.0, abs(c)):
            best = (c, k, j)
    assert best is not None  # k = ceil((n_L - p) / 2) <= n_L is always feasible
    cost, k, j = best
    if rival_unknown and cost > 0:
        unknown = list(dict.fromkeys(rival_unknown))
        reasons["cost_to_match"] = (
            f"the document gives no switching_cost for {', '.join(unknown)} (a rival's module of kind {kind!r}): "
            f"winning its adopters might cost less, so the least cost is not known; it is at most "
            f"{cost:,.0f} (the leader's and the priced rivals' adopters only)"
        )
        return None, k, j
    return cost, k, j


def _keystone(
    modules: list[Any],
    providers: list[str],
    adopters_of: Mapping[str, tuple[str, ...]],
    acc: _Accounts,
    index: Mapping[str, int],
) -> tuple[Keystone, ...]:
    output = acc.output
    unknown_output = [a for a, x in zip(acc.ids, output.tolist(), strict=True) if math.isnan(x)]
    total = float(output.sum()) if not unknown_output and len(output) else math.nan
    out: list[Keystone] = []

    def scenario(provider: str, withdrawn: list[Any], fails: bool) -> Keystone:
        reasons: dict[str, str] = {}
        stop: dict[str, float] = {}
        missing = [m.id for m in withdrawn if adopters_of[m.id] and m.capacity_share is None]
        for m in withdrawn:
            for a in adopters_of[m.id]:
                stop[a] = min(1.0, stop.get(a, 0.0) + float(m.capacity_share or 0.0))
        hit = tuple(stop)
        loss: float | None = None
        if missing:
            reasons["direct_loss"] = (
                f"the document gives no capacity_share for {', '.join(missing)}: the share of its adopters' output that "
                "stops is not known"
            )
        else:
            blind = [a for a in hit if math.isnan(output[index[a]])]
            if fails and math.isnan(output[index[provider]]):
                blind.insert(0, provider)
            if blind:
                reasons["direct_loss"] = (
                    f"the output of {', '.join(blind[:5])} is not known (size.revenue, or its sales to world)"
                )
            else:
                loss = float(sum(output[index[a]] * s for a, s in stop.items()))
                if fails:
                    loss += float(output[index[provider]])
        share: float | None = None
        if loss is not None:
            if math.isnan(total):
                reasons["direct_share"] = (
                    f"the ecosystem's output is not known: {len(unknown_output)} actor(s) give no revenue "
                    f"({', '.join(unknown_output[:5])})"
                )
            elif total > 0:
                share = min(loss / total, 1.0)
            else:
                reasons["direct_share"] = "the ecosystem's output is 0"
        else:
            reasons["direct_share"] = reasons["direct_loss"]
        return Keystone(provider, None if fails else withdrawn[0].id, hit, loss, share, reasons=reasons)

    for p in providers:
        own = [m for m in modules if m.provider == p]
        out.append(scenario(p, own, True))
        out.extend(scenario(p, [m], False) for m in own)
    return tuple(out)


def _with_cascades(
    eco: Ecosystem, keystone: tuple[Keystone, ...], acc: _Accounts, notes: list[str], valued: bool
) -> tuple[Keystone, ...]:
    """Each scenario through the layers (:func:`~rainforest.analysis.layers.layered_cascade`),
    its losses valued at the actors' output."""
    lay = _without_in_house(Layers.from_ecosystem(eco, valued=valued))
    chosen: tuple[str, ...] = LAYERS if lay.supply is not None else tuple(x for x in LAYERS if x != "supply")
    if lay.supply is None:
        notes.append(f"the cascade leaves out the supply layer: {lay.supply_reason}")
    output = acc.output
    blind = [a for a, x in zip(acc.ids, output.tolist(), strict=True) if math.isnan(x)]
    total = float(output.sum()) if not blind else math.nan
    out: list[Keystone] = []
    for k in keystone:
        reasons = dict(k.reasons)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                r = layered_cascade(
                    lay,
                    failed=[k.provider] if k.module is None else (),
                    withdrawn=[k.module] if k.module is not None else (),
                    layers=chosen,
                    valued=valued,
                    weights="equal",
                )
            except RainforestError as exc:
                reasons["cascade_loss"] = reasons["cascade_share"] = str(exc)
                out.append(replace(k, layers=chosen, reasons=reasons))
                continue
        notes.extend(str(w.message) for w in caught if issubclass(w.category, RainforestWarning))
        if tuple(r.actors) != acc.ids:  # both read the actors' table in document order
            raise AssertionError("the layers' actors differ from the document's")
        unknown_loss = [u for u in r.unquantified if u.get("what") == "production loss"]
        unknown_cost = [u for u in r.unquantified if u.get("what") != "production loss"]
        cost = float(r.cost_total) if not unknown_cost and r.cost_total == r.cost_total_upper else None
        if cost is None:
            reasons["cascade_cost"] = _unquantified_reason(unknown_cost or r.unquantified, what="cost")
        if blind:
            why = (
                f"the output of {len(blind)} actor(s) is not known ({', '.join(blind[:5])}): give size.revenue, or "
                "record their sales to world"
            )
            reasons["cascade_loss"] = reasons["cascade_share"] = why
            out.append(replace(k, cascade_cost=cost, layers=chosen, reasons=reasons))
            continue
        low = float(np.dot(output, r.loss))
        high = float(np.dot(output, r.loss_upper))
        by_layer = {
            layer: float(np.dot(output, v) / total) if total > 0 else math.nan for layer, v in r.loss_by_layer.items()
        }
        bounds = (low / total, high / total) if total > 0 else None
        loss: float | None = low
        share: float | None = low / total if total > 0 else None
        if unknown_loss or high - low > 1e-9 * max(1.0, abs(high)):
            loss = share = None
            reasons["cascade_loss"] = reasons["cascade_share"] = _unquantified_reason(unknown_loss or r.unquantified)
        elif not total > 0:
            reasons["cascade_share"] = "the ecosystem's output is 0"
        out.append(
            replace(
                k,
                cascade_loss=loss,
                cascade_share=share,
                cascade_bounds=bounds,
                cascade_cost=cost,
                by_layer=by_layer,
                layers=chosen,
                reasons=reasons,
            )
        )
    return tuple(out)


def _unquantified_reason(rows: Sequence[Mapping[str, Any]], what: str = "loss") -> str:
    """Why a cascade's loss or cost is not one number: the links it reaches that the
    document does not quantify, each with the layers' reason. Only the loss has bounds
    (``cascade_bounds``); an unknown cost is said to be unknown, nothing more."""
    why = list(dict.fromkeys(str(r.get("reason", "")) for r in rows))
    reached = (
        f"the failure reaches what the document does not quantify ({'; '.join(why[:4])}{'...' if len(why) > 4 else ''})"
    )
    if what == "cost":
        return f"{reached}: the extra cost is not known"
    return f"{reached}: the loss lies between the bounds given (those unknowns at 0 and at their largest)"


def _without_in_house(lay: Layers) -> Layers:
    """The layers without a provider's adoption of its own module: the analysis counts that
    as in-house use, not dependence (a note says so), so withdrawing the module must not
    stop the provider's own output either."""
    pl = lay.platform
    if not len(pl.adopter):
        return lay
    keep = pl.adopter != pl.provider[pl.adoption_module]
    if bool(keep.all()):
        return lay
    return replace(lay, platform=replace(pl, adoption_module=pl.adoption_module[keep], adopter=pl.adopter[keep]))
