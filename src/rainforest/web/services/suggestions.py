"""Suggested exchanges on the board: what is typical for the park's sectors (from
:func:`rainforest.optimize.suggest.suggest_exchanges`), kept apart from the offers and needs
the firms declared; a manager turns one into a draft offer and a draft need (a new
version), and each firm confirms its own draft (another version)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException

from rainforest.io.text import parse_json, raw_from_data
from rainforest.model.ecosystem import Ecosystem, build_ecosystem
from rainforest.optimize import suggest
from rainforest.store import Version
from rainforest.web import edits
from rainforest.web.context import Workbench
from rainforest.web.deps import Caller
from rainforest.web.visibility import Access

__all__ = ["SHOWN", "confirm", "drafts", "make_drafts", "panel"]

#: Suggestions shown on the board (the rest are counted).
SHOWN = 15
SECTIONS = ("offers", "needs")


def _label(eco: Ecosystem, aid: str) -> str:
    name = eco.actor(aid).name
    return name or aid


def drafts(eco: Ecosystem, a: Access) -> list[dict[str, Any]]:
    """The draft offers and needs awaiting their firm's confirmation, as the caller may see
    them (managers and observers all; a member its own firm's)."""
    out = []
    kb = suggest.knowledge_base()
    doc = eco.to_dict()
    for section in SECTIONS:
        for i, r in enumerate(doc.get(section, [])):
            if r.get(suggest.DRAFT_KEY) is not True:
                continue
            if not (a.sees_all or a.actor == r["actor"]):
                continue
            origin = r.get("x_suggestion") or {}
            residue = next((x.residue for x in kb.synergies if x.id == origin.get("synergy")), "")
            out.append(
                {
                    "section": section,
                    "kind": "offer" if section == "offers" else "need",
                    "index": i,
                    "actor": r["actor"],
                    "actor_name": _label(eco, r["actor"]),
                    "resource": r.get("resource") or ", ".join(r.get("resources", [])),
                    "quantity": r["quantity"],
                    "synergy": origin.get("synergy", ""),
                    "residue": residue,
                    "sources": origin.get("sources", []),
                    "by": origin.get("by", ""),
                    "can_confirm": a.manages or (a.role == "member" and a.actor == r["actor"]),
                }
            )
    return out


def _declared(eco: Ecosystem, s: suggest.Suggestion) -> bool:
    """Whether the supplier offers and the receiver needs the suggestion's resource already
    (declared, or as drafts): the board's candidates take it from there."""
    offered = any(o.actor == s.supplier and o.resource == s.resource for o in eco.offers)
    return offered and any(n.actor == s.receiver and s.resource in n.accepted for n in eco.needs)


def panel(wb: Workbench, c: Caller, slug: str) -> dict[str, Any]:
    """What the board's suggestions panel shows: the suggestions (a member sees those its
    firm is a party to), the actors left out and why, and the drafts awaiting confirmation."""
    a = c.access
    head = wb.store.head(slug)
    eco = wb.store.load(slug, head)
    found = suggest.suggest_exchanges(eco)
    rows = [s for s in found.suggestions if a.sees_all or a.actor in (s.supplier, s.receiver)]
    suggestions = [
        {
            **s.to_dict(),
            "supplier_name": _label(eco, s.supplier),
            "receiver_name": _label(eco, s.receiver),
            "unit": eco.resource(s.resource).unit if s.resource in eco.resource_ids else "t",
            "declared": _declared(eco, s),
        }
        for s in rows[:SHOWN]
    ]
    skipped = [{**k.to_dict(), "name": _label(eco, k.actor)} for k in found.skipped if a.sees_all or a.actor == k.actor]
    return {
        "slug": slug,
        "version": head,
        "role": a.role,
        "suggestions": suggestions,
        "more": max(0, len(rows) - SHOWN),
        "total": len(rows),
        "skipped": skipped,
        "coded": found.coded,
        "drafts": drafts(eco, a),
        "can_draft": a.manages,
    }


def _rebuilt(doc: dict[str, Any], slug: str) -> Ecosystem:
    """A document back into an ecosystem, through the same validation as any upload."""
    text = json.dumps(doc)
    data, issues, locate = parse_json(text, slug)
    return build_ecosystem(raw_from_data(data, slug, locate, issues))


def make_drafts(
    wb: Workbench,
    c: Caller,
    slug: str,
    supplier: str,
    receiver: str,
    synergy: str,
    quantity: float,
    expected: int | None,
) -> Version:
    """Turn the suggestion ``supplier -> receiver`` of ``synergy`` into a draft offer and a
    draft need of ``quantity`` per period (and the resource when the ecosystem has none for
    the residue): one new version (managers only)."""
    if not c.access.manages:
        raise HTTPException(403, "only the ecosystem's managers turn suggestions into drafts")
    head = wb.store.head(slug)
    if expected is not None and expected != head:
        raise HTTPException(409, f"the ecosystem moved from version {expected} to {head}: reload the board")
    eco = wb.store.load(slug, head)
    found = suggest.suggest_exchanges(eco)
    s = next(
        (x for x in found if (x.supplier, x.receiver, x.synergy) == (supplier, receiver, synergy)),
        None,
    )
    if s is None:
        raise HTTPException(
            422, f"no suggestion {supplier} -> {receiver} of {synergy!r} in version {head}: reload the board"
        )
    if _declared(eco, s):
        raise HTTPException(
            409, f"{supplier} already offers and {receiver} already needs {s.resource}: see the board's candidates"
        )
    try:
        records = s.draft_records(eco, quantity, author=c.user.username)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    doc = eco.to_dict()
    if records["resource"] is not None:
        doc.setdefault("resources", []).append(records["resource"])
    doc.setdefault("offers", []).append(records["offer"])
    doc.setdefault("needs", []).append(records["need"])
    new = _rebuilt(doc, slug)
    message = (
        f"draft offer ({supplier}) and need ({receiver}) of {s.resource} from the suggestion "
        f"'{s.residue}', for the firms to confirm"
    )
    return wb.store.commit(slug, new, author=c.user.username, message=message, expected=head)


def confirm(wb: Workbench, c: Caller, slug: str, section: str, index: int, expected: int | None) -> Version:
    """Confirm draft ``index`` of ``section`` (its firm's member or a manager): the draft
    mark goes, the suggestion it came from stays recorded (``x_suggestion``)."""
    if section not in SECTIONS:
        raise HTTPException(422, f"section must be 'offers' or 'needs', got {section[:40]!r}")
    head = wb.store.head(slug)
    if expected is not None and expected != head:
        raise HTTPException(409, f"the ecosystem moved from version {expected} to {head}: reload the board")
    eco = wb.store.load(slug, head)
    rows = eco.to_dict().get(section, [])
    if not 0 <= index < len(rows) or rows[index].get(suggest.DRAFT_KEY) is not True:
        raise HTTPException(404, f"no draft {section}[{index}] in version {head}")
    aid = rows[index]["actor"]
    a = c.access
    if not (a.manages or (a.role == "member" and a.actor == aid)):
        if a.sees_all or a.actor == aid:
            raise HTTPException(403, "only the firm's members and the managers confirm its drafts")
        raise HTTPException(404, f"no draft {section}[{index}] in version {head}")
    own = [i for i, r in enumerate(rows) if r["actor"] == aid]
    records = edits.section_records(eco, section, aid)
    position = own.index(index)
    records[position] = {k: v for k, v in records[position].items() if k != suggest.DRAFT_KEY}
    new = (
        edits.edit_actor(eco, aid, offers=records) if section == "offers" else edits.edit_actor(eco, aid, needs=records)
    )
    kind = "offer" if section == "offers" else "need"
    resource = rows[index].get("resource", "")
    message = f"{aid} confirmed the draft {kind} of {resource}"
    return wb.store.commit(slug, new, author=c.user.username, message=message, expected=head)
