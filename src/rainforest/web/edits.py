"""The one place the workbench edits an ecosystem's rows: an actor's own part, and a new
actor. Both are the store's column-wise edits today (``rainforest.store._edit``); they
become the model's own operation (``Ecosystem.replace_rows`` or similar) when it exists,
here and nowhere else. Callers use these functions through the module (``edits.edit_actor``)
so that the concurrency tests can hold them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rainforest.model.ecosystem import Ecosystem
from rainforest.model.entities import entity_to_record
from rainforest.model.validation import _thaw  # integrator: the model's public form of a record
from rainforest.store import _edit  # integrator: replace by the model operation

__all__ = ["actor_records", "add_actor", "edit_actor", "section_records"]


def edit_actor(eco: Ecosystem, actor: str, **parts: Any) -> Ecosystem:
    """``eco`` with ``actor``'s ``record``, ``offers``, ``needs`` or ``flows`` replaced."""
    return _edit.edit_actor(eco, actor, **parts)


def add_actor(eco: Ecosystem, record: Mapping[str, Any]) -> Ecosystem:
    """``eco`` with one more actor."""
    return _edit.add_actor(eco, record)


def section_records(eco: Ecosystem, section: str, actor: str) -> list[dict[str, Any]]:
    """``actor``'s rows of ``section`` (``actors``: its record; ``offers``, ``needs``; ``flows``:
    those it is a party to) as ``rainforest/1`` records."""
    items: Sequence[Any]
    if section == "actors":
        items = [eco.actor(actor)]
    elif section == "flows":
        items = [f for f in eco.flows if actor in (f.source, f.target)]
    else:
        items = [x for x in (eco.offers if section == "offers" else eco.needs) if x.actor == actor]
    return [_thaw(entity_to_record(section, x)) for x in items]


def actor_records(eco: Ecosystem, actor: str) -> dict[str, Any]:
    """``actor``'s record, offers, needs and flows, in full."""
    return {
        "actor": section_records(eco, "actors", actor)[0],
        "offers": section_records(eco, "offers", actor),
        "needs": section_records(eco, "needs", actor),
        "flows": section_records(eco, "flows", actor),
    }
