"""Who sees what: an ecosystem's document, candidate exchanges and impact ledger as one
caller may see them (the rules are in :mod:`rainforest.web`). Pure functions of the
ecosystem and the caller's :class:`Access`: no request, no store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rainforest.model.ecosystem import Ecosystem
from rainforest.optimize import exchanges
from rainforest.web.records.proposals import Proposal

__all__ = ["DIRECTORY", "Access", "visible_candidates", "visible_document", "visible_ledger"]

#: The fields of another actor every member sees.
DIRECTORY = ("id", "name", "sector")


@dataclass(frozen=True)
class Access:
    """What the caller may do in one ecosystem."""

    slug: str
    role: str  # admin | manager | member | observer
    actor: str | None = None

    @property
    def sees_all(self) -> bool:
        return self.role in ("admin", "manager", "observer")

    @property
    def manages(self) -> bool:
        return self.role in ("admin", "manager")

    def nav(self, here: str) -> dict[str, Any]:
        """What the pages' navigation bar needs: where the caller is and what it may see."""
        return {
            "slug": self.slug,
            "role": self.role,
            "actor": self.actor,
            "here": here,
            "sees_all": self.sees_all,
            "manages": self.manages,
        }


def visible_document(eco: Ecosystem, access: Access) -> dict[str, Any]:
    """The ``rainforest/1`` document as the caller may see it (rules in :mod:`rainforest.web`)."""
    doc = eco.to_dict()
    if access.sees_all:
        return doc
    me = access.actor
    actors = []
    for record in doc.get("actors", []):
        if record["id"] == me:
            actors.append(record)
            continue
        public = set(DIRECTORY) | set(record.get("x_public") or ())
        actors.append({k: v for k, v in record.items() if k in public})
    doc["actors"] = actors
    for section in ("offers", "needs"):
        shown = []
        for record in doc.get(section, []):
            if record["actor"] == me or record.get("confidential") is False:
                shown.append(record)
            else:
                shown.append(
                    {k: v for k, v in record.items() if k in ("actor", "resource", "resources", "supply_pattern")}
                )
        if section in doc:
            doc[section] = shown
    if "flows" in doc:
        doc["flows"] = [f for f in doc["flows"] if me in (f["from"], f["to"])]
    for section in ("stocks",):
        if section in doc:
            doc[section] = [r for r in doc[section] if r["actor"] == me]
    for section in ("links", "modules", "essentiality"):
        doc.pop(section, None)
    return doc


def _shows(access: Access, record: Any) -> bool:
    """Whether the caller sees an offer's or a need's quantities, quality and prices."""
    return access.sees_all or record.actor == access.actor or record.confidential is False


def _within(km: float) -> str:
    """A distance as a bound (1, 2, 5, 10, 20, 50... km): exact distances would place a
    firm whose location is not public."""
    step = 1.0
    while True:
        for k in (1.0, 2.0, 5.0):
            if km <= k * step:
                return f"within {k * step:g} km"
        step *= 10


def visible_candidates(eco: Ecosystem, cands: list[Any], access: Access) -> list[dict[str, Any]]:
    """The candidate exchanges (:func:`rainforest.optimize.exchanges.candidates`) the caller
    may see, as plain data: all of them for managers and observers; for a member, those its
    actor is a party to. A candidate built on the other party's confidential offer or need
    shows no quantity, quality or price of it ("farm: a firm within 50 km needs ash"), and
    the distance to a firm whose location is not public is a bound, never exact."""
    out = []
    for c in cands:
        row = {
            "source": c.source,
            "target": c.target,
            "resource": c.resource,
            "upper": c.upper,
            "saving": c.unit_saving,
            "why": c.why,
            "saves": c.saves,
            "limits": c.limits,
            "open": True,
        }
        if access.sees_all:
            out.append(row)
            continue
        me = access.actor
        if me not in (c.source, c.target):
            continue
        offer, need = eco.offers[c.offer], eco.needs[c.need]
        other = c.target if me == c.source else c.source
        public = eco.actor(other).extensions.get("x_public") or ()
        near = ""
        if c.distance_km is not None and "location" not in public:
            near = " " + _within(c.distance_km)
            row["limits"] = "; ".join(
                near.strip() if part.endswith(" km apart") else part for part in c.limits.split("; ")
            )
        if _shows(access, offer) and _shows(access, need):
            out.append(row)
            continue
        if me == c.source:
            why = f"{other}: a firm{near} needs {need.accepted[0]}; you offer {offer.resource}"
            limits = f"your offer {offer.quantity:g}"
        else:
            why = f"{other}: a firm{near} offers {offer.resource}; you need {need.accepted[0]}"
            limits = f"your need {need.quantity:g}"
        row.update(
            upper=None,
            saving=None,
            why=why,
            saves=f"n/a: the quantity and price of {other} are confidential; agree them in a proposal",
            limits=limits + (f";{near}" if near else ""),
            open=False,
        )
        out.append(row)
    return out


def visible_ledger(eco: Ecosystem, proposals: list[Proposal], access: Access) -> dict[str, Any]:
    """The impact ledger of the agreed active exchanges (every one of the ecosystem) as the
    caller may see it: managers and observers all of it; a member the rows of its own
    exchanges and the totals. Money saved includes the parties' prices and disposal costs,
    so a member sees it (a row's, its actor's, the total) only when every offer and need
    behind it is its own or not confidential; else ``null`` with the reason."""
    counted = [p for p in proposals if p.status == "active" and p.agreed]
    plan, skipped = exchanges.evaluate(eco, [(p.source, p.target, p.resource, p.quantity) for p in counted])
    ledger = exchanges.impacts(eco, plan)
    ledger["not_valued"] = skipped
    ledger["active"] = len(counted)
    if access.sees_all:
        return ledger
    me = access.actor
    secret = [not (_shows(access, eco.offers[e.offer]) and _shows(access, eco.needs[e.need])) for e in plan.exchanges]
    reason = "includes the confidential price or disposal cost of another firm"
    rows = []
    for row, hidden in zip(ledger["exchanges"], secret, strict=True):
        if me not in (row["from"], row["to"]):
            continue
        if hidden:
            row = {**row, "money_saved": None, "money_saved_reason": reason}
        rows.append(row)
    ledger["exchanges"] = rows
    actors = {k: v for k, v in ledger["actors"].items() if k == me}
    if me in actors and any(h and me in (e.source, e.target) for e, h in zip(plan.exchanges, secret, strict=True)):
        actors[me] = {**actors[me], "money_saved": None, "money_saved_reason": reason}
    ledger["actors"] = actors
    if any(secret):
        ledger["total"] = {**ledger["total"], "money_saved": None, "money_saved_reason": reason}
    ledger["not_valued"] = [e for e in skipped if me in (e["from"], e["to"])]
    return ledger
