"""The one place the workbench edits an ecosystem's rows: an actor's own part (its record,
offers, needs and the flows it is a party to), and a new actor. The workbench's words over
the model's operations (:meth:`Ecosystem.replace_rows
<rainforest.model.Ecosystem.replace_rows>`, :meth:`Ecosystem.add_actor
<rainforest.model.Ecosystem.add_actor>` and :meth:`Ecosystem.actor_rows
<rainforest.model.Ecosystem.actor_rows>`): the actor's record is called ``record`` in the
problems it reports (``record.sector``). Callers use these functions through the module
(``edits.edit_actor``) so that the concurrency tests can hold them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rainforest.errors import DocumentError, Issue
from rainforest.model.ecosystem import Ecosystem

__all__ = [
    "EDITABLE",
    "actor_records",
    "add_actor",
    "add_resource",
    "edit_actor",
    "edit_resource",
    "remove_actor",
    "remove_resource",
    "section_records",
]

#: The parts an actor's edit may replace.
EDITABLE = ("actor", "offers", "needs", "flows")


def edit_actor(
    eco: Ecosystem,
    actor: str,
    *,
    record: Mapping[str, Any] | None = None,
    offers: Sequence[Mapping[str, Any]] | None = None,
    needs: Sequence[Mapping[str, Any]] | None = None,
    flows: Sequence[Mapping[str, Any]] | None = None,
) -> Ecosystem:
    """The ecosystem with ``actor``'s record, offers, needs and flows (those it is a party to)
    replaced by the given ``rainforest/1`` records; a part left ``None`` stays as it is.

    Raises
    ------
    UnknownIdError
        When ``actor`` is not in the ecosystem.
    DocumentError
        With every problem, placed as ``record.sector``, ``offers[1].quantity``...; also when
        a record belongs to another actor or the record changes the actor's id.
    """
    rows: dict[str, Sequence[Mapping[str, Any]]] = {}
    if record is not None:
        rows["actors"] = [record]
    for section, records in (("offers", offers), ("needs", needs), ("flows", flows)):
        if records is not None:
            rows[section] = records
    try:
        return eco.replace_rows(actor, rows)
    except DocumentError as exc:
        if exc.source != "edit":
            raise
        raise DocumentError([_renamed(i) for i in exc.issues], source="edit") from None


def add_actor(eco: Ecosystem, record: Mapping[str, Any]) -> Ecosystem:
    """The ecosystem with one more actor (``record`` as in a ``rainforest/1`` document).

    Raises
    ------
    DocumentError
        When the record is invalid or the id is taken.
    """
    try:
        return eco.add_actor(record)
    except DocumentError as exc:
        if exc.source != "edit":
            raise
        raise DocumentError([_renamed(i) for i in exc.issues], source="edit") from None


def _edit(change: Callable[[], Ecosystem]) -> Ecosystem:
    """Run a model edit; its problems placed as the workbench says them."""
    try:
        return change()
    except DocumentError as exc:
        if exc.source != "edit":
            raise
        raise DocumentError([_renamed(i) for i in exc.issues], source="edit") from None


def remove_actor(eco: Ecosystem, actor: str) -> Ecosystem:
    """The ecosystem without ``actor`` and its offers, needs, stocks, flows and links.

    Raises
    ------
    UnknownIdError
        When ``actor`` is not in the ecosystem.
    DocumentError
        When a module names it, or it is the last actor.
    """
    return _edit(lambda: eco.remove_actor(actor))


def add_resource(eco: Ecosystem, record: Mapping[str, Any]) -> Ecosystem:
    """The ecosystem with one more resource; problems placed as ``record.unit``."""
    return _edit(lambda: eco.add_resource(record))


def edit_resource(eco: Ecosystem, resource: str, record: Mapping[str, Any]) -> Ecosystem:
    """The ecosystem with ``resource``'s record replaced; problems placed as ``record.unit``."""
    return _edit(lambda: eco.replace_resource(resource, record))


def remove_resource(eco: Ecosystem, resource: str) -> Ecosystem:
    """The ecosystem without ``resource`` (refused, saying where, while anything names it)."""
    return _edit(lambda: eco.remove_resource(resource))


def _renamed(issue: Issue) -> Issue:
    """Say ``record.sector`` instead of the model's ``actors[0].sector`` (``resources[0]``
    likewise)."""
    path = issue.path
    for model in ("actors[0]", "resources[0]"):
        if path.startswith(model):
            path = "record" + path[len(model) :]
    return Issue(path, issue.message, expected=issue.expected, got=issue.got, hint=issue.hint)


def section_records(eco: Ecosystem, section: str, actor: str) -> list[dict[str, Any]]:
    """``actor``'s rows of ``section`` (``actors``: its record; ``offers``, ``needs``; ``flows``:
    those it is a party to) as ``rainforest/1`` records."""
    return eco.actor_rows(actor)[section]


def actor_records(eco: Ecosystem, actor: str) -> dict[str, Any]:
    """``actor``'s record, offers, needs and flows, in full."""
    return {
        "actor": section_records(eco, "actors", actor)[0],
        "offers": section_records(eco, "offers", actor),
        "needs": section_records(eco, "needs", actor),
        "flows": section_records(eco, "flows", actor),
    }
