"""Likely exchanges for a park whose firms are known only by their sector (NACE rev. 2).

When a park has just listed its firms, it has no offers and needs to match. What it has
is each firm's activity, and industrial-symbiosis practice has documented which
activities give off which residues and which activities take them in.
:func:`suggest_exchanges` pairs the firms on that knowledge: a supplier whose sector emits
a residue, a receiver whose sector has used it, each pair with the evidence for it.

The knowledge base (``datasets/data/synergies.json``, built by ``tools/build_synergies.py``
from the shipped tables, with their attribution) holds:

- **emitters**: European Waste Catalogue (EWC) sub-chapters are named after the activity a
  waste comes from ("10 01 Wastes from power stations and other combustion plants"); each
  sub-chapter a synergy uses is mapped to the NACE codes of that activity;
- **synergies**: a residue (with its EWC codes), its use, and its *evidence*: published
  cases (each Kalundborg exchange; the package's :data:`~rainforest.optimize.taxonomy.SYNERGIES`),
  a standard or a regulation, each naming the supplying and receiving sectors.

How a pair is scored (*ours*; each step is shown in the suggestion's ``why``):

- Two NACE codes *match* at the level of their deepest common ancestor in the NACE tree
  (class 35.11 = 4, group 35.1 = 3, division 35 = 2). A receiver needs at least the
  division (same two-digit activity: a material's uses are broad), so a pharmaceutical
  firm (21.20) never matches an enzyme maker (20.59) through section C alone. A supplier
  needs the group, as far as both codes go (a residue comes from one process: a power
  station, 35.11, does not give off a biogas plant's digestate, 35.21, although both are
  in division 35; a firm coded only as division 35 still matches at the division).
- One piece of evidence supports the pair with weight
  ``w = (supplier level / 4) * (receiver level / 4) * b``, where ``b = 1`` when the
  evidence names the supplying sector, and ``b = 1/2`` when the supplier is only known to
  emit the residue from the EWC catalogue (no case shows that sector supplying it).
- A suggestion's ``score`` is its best evidence's weight (1.0: a published case between
  firms of the very same two classes); ``cases`` counts the independent cases that
  support it (a generalisation of a Kalundborg exchange counts as that exchange, not as a
  second case). Suggestions are ranked by score; at equal scores, by the number of
  cases supporting the pair at that score, then by the sum of all their weights (a loose
  match adds less than a close one), then by the firms' order; ``rank`` 1 is the best.

Firms without a NACE code get no suggestion, and the result says why (``skipped``). A
pair already exchanging the residue (a flow whose resource matches the synergy's aliases or
EWC codes) is not suggested again.

This is a screening aid: a suggestion says that firms of these sectors have exchanged this
residue elsewhere, not that these firms produce or need it. It becomes data only when a
firm confirms an offer or a need (:meth:`Suggestion.draft_records` writes them as drafts).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from rainforest.errors import ParameterError
from rainforest.model.ecosystem import Ecosystem
from rainforest.optimize.taxonomy import _nace

__all__ = [
    "MIN_LEVEL",
    "SUPPLIER_LEVEL",
    "Evidence",
    "KnowledgeBase",
    "Skipped",
    "Suggestion",
    "Suggestions",
    "knowledge_base",
    "nace_code",
    "suggest_exchanges",
]

#: The coarsest NACE level at which two sectors match (2 = division).
MIN_LEVEL = 2
#: The level a supplier's sector must share with the evidence's, as far as both codes go (3 = group).
SUPPLIER_LEVEL = 3
#: Weight of evidence whose supplier is inferred from the EWC catalogue only.
CATALOGUE_FACTOR = 0.5
#: The mark a draft offer or need carries until its firm confirms it.
DRAFT_KEY = "x_draft"

#: Units and kinds of the resources a draft creates (the Kalundborg document's conventions).
_RESOURCE: dict[str, tuple[str, str]] = {
    "process_steam": ("energy", "t"),
    "warm_water": ("energy", "MWh"),
    "refinery_gas": ("energy", "GJ"),
    "cooling_water": ("water", "m**3"),
    "process_water": ("water", "m**3"),
    "wastewater": ("water", "m**3"),
}


@dataclass(frozen=True, slots=True)
class Evidence:
    """One piece of evidence for a synergy: a published case, a standard or a regulation.

    ``suppliers`` empty: the evidence says who uses the residue, not who supplied it (the
    EWC catalogue's emitters stand in)."""

    case: str
    kind: str
    park: str | None
    description: str
    suppliers: tuple[str, ...]
    receivers: tuple[str, ...]
    kalundborg_exchanges: tuple[str, ...]
    citation: str
    sources: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "kind": self.kind,
            "park": self.park,
            "description": self.description,
            "suppliers": list(self.suppliers),
            "receivers": list(self.receivers),
            "kalundborg_exchanges": list(self.kalundborg_exchanges),
            "citation": self.citation,
            "sources": list(self.sources),
        }


@dataclass(frozen=True, slots=True)
class Synergy:
    """A residue, its use, its EWC codes, the words that name it, and its evidence."""

    id: str
    residue: str
    use: str
    ewc: tuple[str, ...]
    aliases: tuple[str, ...]
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class KnowledgeBase:
    """The synergies and the EWC emitters table; :meth:`without` leaves cases out."""

    synergies: tuple[Synergy, ...]
    #: EWC sub-chapter ('10 01') -> the NACE codes of the activity it is named after
    emitters: Mapping[str, tuple[str, ...]]
    #: EWC sub-chapter -> its title in the catalogue
    emitter_titles: Mapping[str, str] = field(default_factory=dict)
    #: source id -> citation (the Kalundborg sources)
    sources: Mapping[str, str] = field(default_factory=dict)
    #: what was left out, in words ('' for the whole base)
    left_out: str = ""

    def without(
        self, *, parks: Collection[str] = (), kalundborg_exchanges: Collection[str] = (), cases: Collection[str] = ()
    ) -> KnowledgeBase:
        """The base without the evidence from ``parks`` (e.g. ``['Kalundborg']``), without
        every piece of evidence that documents one of ``kalundborg_exchanges`` (the
        exchange's own case and the generalisations of it), and without ``cases`` (by id).
        Synergies left with no evidence are dropped."""
        parks, ex, ids = set(parks), set(kalundborg_exchanges), set(cases)

        def kept(e: Evidence) -> bool:
            return e.park not in parks and not (ex & set(e.kalundborg_exchanges)) and e.case not in ids

        out = []
        for s in self.synergies:
            evidence = tuple(e for e in s.evidence if kept(e))
            if evidence:
                out.append(Synergy(s.id, s.residue, s.use, s.ewc, s.aliases, evidence))
        words = [f"parks {sorted(parks)}"] * bool(parks) + [f"Kalundborg exchanges {sorted(ex)}"] * bool(ex)
        words += [f"cases {sorted(ids)}"] * bool(ids)
        left = "; ".join(filter(None, [self.left_out, *words]))
        return KnowledgeBase(tuple(out), self.emitters, self.emitter_titles, self.sources, left)

    def synergy(self, synergy_id: str) -> Synergy:
        for s in self.synergies:
            if s.id == synergy_id:
                return s
        from rainforest.errors import UnknownIdError

        raise UnknownIdError("synergy", synergy_id, [s.id for s in self.synergies])


@lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    """The shipped knowledge base (``datasets/data/synergies.json``)."""
    path = resources.files("rainforest") / "datasets" / "data" / "synergies.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    synergies = tuple(
        Synergy(
            s["id"],
            s["residue"],
            s["use"],
            tuple(s["ewc"]),
            tuple(s["aliases"]),
            tuple(
                Evidence(
                    e["case"],
                    e["kind"],
                    e["park"],
                    e["description"],
                    tuple(e["suppliers"]),
                    tuple(e["receivers"]),
                    tuple(e["kalundborg_exchanges"]),
                    e["citation"],
                    tuple(e["sources"]),
                )
                for e in s["evidence"]
            ),
        )
        for s in data["synergies"]
    )
    emitters = {e["ewc_subchapter"]: tuple(e["nace"]) for e in data["emitters"]}
    titles = {e["ewc_subchapter"]: e["title"] for e in data["emitters"]}
    sources = {k: v["citation"] for k, v in data["sources"].items()}
    return KnowledgeBase(synergies, emitters, titles, sources)


# -- NACE -----------------------------------------------------------------------------------
def nace_code(sector: str | None) -> str | None:
    """``sector`` as a NACE rev. 2 code of the shipped table ('35.11', '3511', '35.1',
    '35', 'D'), or None when it is not one.

    Examples
    --------
    >>> from rainforest.optimize.suggest import nace_code
    >>> nace_code("3511"), nace_code("D"), nace_code("electricity")
    ('35.11', 'D', None)
    """
    if sector is None:
        return None
    text = sector.strip().upper()
    table = _nace()
    if text in table:
        return text
    digits = re.fullmatch(r"[A-U]?\s*(\d{2})\.?(\d{0,2})", text)
    if digits:
        head, tail = digits.groups()
        code = f"{head}.{tail}" if tail else head
        if code in table:
            return code
    return None


@lru_cache(maxsize=4096)
def _lineage(code: str) -> tuple[str, ...]:
    """``code`` and its ancestors, finest first ('35.11', '35.1', '35', 'D')."""
    table = _nace()
    out = [code]
    while table[out[-1]].parent:
        out.append(table[out[-1]].parent)
    return tuple(out)


def _level(code: str) -> int:
    return len(_lineage(code))


def _match(a: str, b: str) -> int:
    """The level of the deepest common ancestor of two NACE codes (0: none)."""
    common = set(_lineage(b))
    for c in _lineage(a):
        if c in common:
            return _level(c)
    return 0


# -- results --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Support:
    """How one piece of evidence supports a suggestion."""

    evidence: Evidence
    supplier_basis: str  # 'case' or 'EWC catalogue'
    supplier_level: int
    receiver_level: int
    weight: float
    #: the full citations of the evidence's sources (a Kalundborg case's documents)
    references: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.evidence.to_dict(),
            "supplier_basis": self.supplier_basis,
            "supplier_level": self.supplier_level,
            "receiver_level": self.receiver_level,
            "weight": self.weight,
            "references": list(self.references),
        }


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A likely exchange: ``supplier`` could give ``residue`` to ``receiver``."""

    supplier: str
    receiver: str
    synergy: str
    residue: str
    use: str
    ewc: tuple[str, ...]
    resource: str
    score: float
    cases: int
    support: tuple[Support, ...]
    rank: int = 0

    @property
    def sources(self) -> tuple[str, ...]:
        """The citations behind the suggestion, strongest evidence first."""
        return tuple(dict.fromkeys(s.evidence.citation for s in self.support))

    @property
    def why(self) -> str:
        """The suggestion's reasons in one sentence per piece of evidence."""
        names = {1: "section", 2: "division", 3: "group", 4: "class"}
        parts = []
        for s in self.support:
            side = (
                f"the supplier's sector emits it per the EWC catalogue (matched at {names[s.supplier_level]} level)"
                if s.supplier_basis == "EWC catalogue"
                else f"supplier matched at {names[s.supplier_level]} level"
            )
            parts.append(
                f"{s.evidence.description} [{s.evidence.kind}: {s.evidence.citation}]: {side}, "
                f"receiver at {names[s.receiver_level]} level, weight {s.weight:.2f}"
            )
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "supplier": self.supplier,
            "receiver": self.receiver,
            "synergy": self.synergy,
            "residue": self.residue,
            "use": self.use,
            "ewc": list(self.ewc),
            "resource": self.resource,
            "score": self.score,
            "cases": self.cases,
            "sources": list(self.sources),
            "why": self.why,
            "support": [s.to_dict() for s in self.support],
        }

    def draft_records(self, eco: Ecosystem, quantity: float, *, author: str = "") -> dict[str, Any]:
        """The records that turn this suggestion into drafts for the two firms to confirm:
        ``resource`` (a new resource record, or None when the ecosystem has it already),
        ``offer`` (the supplier's) and ``need`` (the receiver's), each of ``quantity`` per
        period (an estimate) and marked ``x_draft: true`` with the synergy and its sources
        (``x_suggestion``). A firm confirms by removing ``x_draft``."""
        if not quantity > 0:
            raise ParameterError(
                f"The 'quantity' parameter of draft_records must be a positive number (an estimate per period). Got {quantity!r} instead.",
                parameter="quantity",
            )
        resource: dict[str, Any] | None = None
        if self.resource not in eco.resource_ids:
            kind, unit = _RESOURCE.get(self.synergy, ("material", "t"))
            resource = {"id": self.resource, "kind": kind, "unit": unit}
            if self.ewc:
                resource["codes"] = {"ewc": self.ewc[0]}
        mark = {
            DRAFT_KEY: True,
            "x_suggestion": {
                "synergy": self.synergy,
                "supplier": self.supplier,
                "receiver": self.receiver,
                "score": self.score,
                "sources": list(self.sources),
                "by": author,
            },
        }
        offer = {"actor": self.supplier, "resource": self.resource, "quantity": quantity, **mark}
        need = {"actor": self.receiver, "resource": self.resource, "quantity": quantity, **mark}
        return {"resource": resource, "offer": offer, "need": need}


@dataclass(frozen=True, slots=True)
class Skipped:
    """An actor left out of the suggestions, and why."""

    actor: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"actor": self.actor, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Suggestions:
    """The suggestions, best first, the actors left out, and the knowledge base's scope."""

    suggestions: tuple[Suggestion, ...]
    skipped: tuple[Skipped, ...]
    coded: int
    knowledge: str

    def __len__(self) -> int:
        return len(self.suggestions)

    def __iter__(self) -> Any:
        return iter(self.suggestions)

    def top(self, k: int) -> tuple[Suggestion, ...]:
        return self.suggestions[:k]

    def to_dict(self) -> dict[str, Any]:
        return {
            "suggestions": [s.to_dict() for s in self.suggestions],
            "skipped": [s.to_dict() for s in self.skipped],
            "coded_actors": self.coded,
            "knowledge": self.knowledge,
        }

    def to_frame(self) -> Any:
        """One row per suggestion: rank, supplier, receiver, synergy, residue, resource,
        ewc, score, cases, sources (as a pandas DataFrame)."""
        import pandas as pd

        columns = ["rank", "supplier", "receiver", "synergy", "residue", "resource", "ewc", "score", "cases", "sources"]
        rows = [
            (
                s.rank,
                s.supplier,
                s.receiver,
                s.synergy,
                s.residue,
                s.resource,
                ", ".join(s.ewc),
                s.score,
                s.cases,
                " | ".join(s.sources),
            )
            for s in self.suggestions
        ]
        return pd.DataFrame(rows, columns=columns).astype({"score": float, "cases": int, "rank": int})


# -- the front door -------------------------------------------------------------------------
def _names(synergy: Synergy, resource_id: str, name: str, codes: Mapping[str, Any]) -> bool:
    """Whether a resource is this synergy's residue (an alias in its id or name, or an EWC code)."""
    text = f"{resource_id} {name}".lower().replace("-", "_")
    ewc = str(codes.get("ewc", "")).replace("*", "").strip()
    digits = re.sub(r"\D", "", ewc)
    spaced = " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))
    return any(a in text or a.replace(" ", "_") in text for a in synergy.aliases) or (
        bool(spaced) and spaced in synergy.ewc
    )


def _resource_for(eco: Ecosystem, synergy: Synergy) -> str:
    """The ecosystem's resource that is this residue, else the synergy's id."""
    for r in eco.resources:
        if _names(synergy, r.id, str(r.extensions.get("x_name", "")), r.codes):
            return r.id
    return synergy.id


def _emitters(kb: KnowledgeBase, synergy: Synergy) -> tuple[str, ...]:
    out: list[str] = []
    for code in synergy.ewc:
        out.extend(kb.emitters.get(code[:5], ()))
    return tuple(dict.fromkeys(out))


def _supplier_level(supplier: str, codes: Iterable[str]) -> int:
    """The best match of a supplier with ``codes`` that agrees down to the group, as far as
    both codes go (0: none)."""
    best = 0
    for c in codes:
        m = _match(supplier, c)
        if m >= max(MIN_LEVEL, min(SUPPLIER_LEVEL, _level(supplier), _level(c))):
            best = max(best, m)
    return best


def _support(kb: KnowledgeBase, synergy: Synergy, supplier: str, receiver: str) -> list[Support]:
    out = []
    catalogue = _emitters(kb, synergy)
    for e in synergy.evidence:
        lr = max((_match(receiver, c) for c in e.receivers), default=0)
        if lr < MIN_LEVEL:
            continue
        if e.suppliers:
            ls, basis, factor = _supplier_level(supplier, e.suppliers), "case", 1.0
        else:
            ls, basis, factor = _supplier_level(supplier, catalogue), "EWC catalogue", CATALOGUE_FACTOR
        if not ls:
            continue
        references = tuple(kb.sources[x] for x in e.sources if x in kb.sources)
        out.append(Support(e, basis, ls, lr, round(ls / 4 * lr / 4 * factor, 6), references))
    out.sort(key=lambda s: (-s.weight, s.evidence.case))
    return out


def _independent(support: Iterable[Support]) -> int:
    """Independent cases: a generalisation of Kalundborg exchanges counts as those exchanges."""
    keys: set[str] = set()
    for s in support:
        keys.update(s.evidence.kalundborg_exchanges or (s.evidence.case,))
    return len(keys)


def suggest_exchanges(
    eco: Ecosystem, *, knowledge: KnowledgeBase | None = None, limit: int | None = None
) -> Suggestions:
    """Likely exchanges between the ecosystem's firms from their NACE codes alone.

    Parameters
    ----------
    eco:
        The ecosystem; each actor's ``sector`` must be a NACE rev. 2 code ('35.11') for it
        to take part. Flows already exchanging a residue between two firms are not
        suggested again; offers and needs are not read (the suggestions are for a park
        that has none yet, and the board shows them apart).
    knowledge:
        The knowledge base, :func:`knowledge_base` by default (``.without(...)`` leaves
        cases out, as the evaluation does).
    limit:
        Keep the best ``limit`` suggestions (all by default).

    Returns
    -------
    Suggestions
        Best first (see the module's docstring for the score), with the actors left out
        and why.

    Examples
    --------
    >>> import rainforest as rf
    >>> eco = rf.datasets.park()
    >>> found = rf.suggest.suggest_exchanges(eco)
    >>> s = next(s for s in found if s.synergy == "fgd_gypsum")
    >>> s.rank, s.supplier, s.receiver, s.resource, s.score
    (3, 'power', 'board', 'gypsum', 1.0)
    >>> s.sources[0][:33]
    'Kalundborg Symbiosis exchange E16'
    """
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ParameterError(
            f"The 'limit' parameter of suggest_exchanges must be a positive integer or None. Got {limit!r} instead.",
            parameter="limit",
        )
    kb = knowledge if knowledge is not None else knowledge_base()
    coded: dict[str, str] = {}
    skipped = []
    for a in eco.actors:
        code = nace_code(a.sector)
        if code is not None:
            coded[a.id] = code
        elif a.sector is None or not a.sector.strip():
            skipped.append(Skipped(a.id, "no sector: give its NACE rev. 2 code (e.g. '35.11') to get suggestions"))
        else:
            skipped.append(
                Skipped(
                    a.id,
                    f"sector {a.sector!r} is not a NACE rev. 2 code: replace it with one (the NACE search finds it) to get suggestions",
                )
            )
    # the work is done once per pair of distinct codes, not per pair of firms: a park of
    # thousands of firms has a few dozen activities
    by_code: dict[str, list[str]] = {}
    for aid, code in coded.items():
        by_code.setdefault(code, []).append(aid)
    resources = {r.id: r for r in eco.resources}
    flows = [(f.source, f.target, f.resource) for f in eco.flows if f.source in coded and f.target in coded]
    found: list[Suggestion] = []
    ties: dict[int, tuple[int, float]] = {}
    for synergy in kb.synergies:
        named = {
            rid for rid, r in resources.items() if _names(synergy, rid, str(r.extensions.get("x_name", "")), r.codes)
        }
        exchanged = {(source, target) for source, target, rid in flows if rid in named}
        receivers = [
            c for c in by_code if any(_match(c, r) >= MIN_LEVEL for e in synergy.evidence for r in e.receivers)
        ]
        if not receivers:
            continue
        resource = _resource_for(eco, synergy)
        for scode, suppliers in by_code.items():
            for rcode in receivers:
                support = _support(kb, synergy, scode, rcode)
                if not support:
                    continue
                score, cases, kept = support[0].weight, _independent(support), tuple(support)
                # ties at the best score: the pair more cases support at that score first,
                # then the one with more support in all (a loose match counts for less)
                tie = (
                    -_independent([x for x in support if x.weight >= score - 1e-12]),
                    -sum(x.weight for x in support),
                )
                for sid in suppliers:
                    for rid in by_code[rcode]:
                        if sid == rid or (sid, rid) in exchanged:
                            continue
                        ties[len(found)] = tie
                        found.append(
                            Suggestion(
                                sid,
                                rid,
                                synergy.id,
                                synergy.residue,
                                synergy.use,
                                synergy.ewc,
                                resource,
                                score,
                                cases,
                                kept,
                            )
                        )
    order = {a: i for i, a in enumerate(eco.actor_ids)}
    by_rank = sorted(
        range(len(found)),
        key=lambda i: (-found[i].score, *ties[i], order[found[i].supplier], order[found[i].receiver], found[i].synergy),
    )
    found = [found[i] for i in by_rank]
    if limit is not None:
        found = found[:limit]
    ranked = tuple(
        Suggestion(
            s.supplier,
            s.receiver,
            s.synergy,
            s.residue,
            s.use,
            s.ewc,
            s.resource,
            s.score,
            s.cases,
            s.support,
            i + 1,
        )
        for i, s in enumerate(found)
    )
    scope = "the shipped knowledge base" + (f" without {kb.left_out}" if kb.left_out else "")
    return Suggestions(ranked, tuple(skipped), len(coded), scope)
