"""The inbox: what is new for the caller since its last visit (proposals for its firm,
comments, status changes, agreements, applications and their decisions), and where its
e-mail notices go."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException

from rainforest.report import format_number
from rainforest.store import StoreError
from rainforest.web.context import Workbench
from rainforest.web.mail import describe
from rainforest.web.records.accounts import User
from rainforest.web.records.inbox import Event, Inbox

__all__ = ["count", "inbox", "set_mail"]

_TITLES = {
    "proposal": "New proposal",
    "comment": "Comment",
    "status": "Status change",
    "agreed": "Agreement",
    "consent": "Consent to record",
    "recorded": "Recorded as a flow",
    "application": "Application",
    "decision": "Decision on an application",
}


@dataclass(frozen=True)
class _Names:
    """What the page shows for an ecosystem's ids (its current version)."""

    ecosystem: str
    actors: dict[str, str]
    units: dict[str, str]
    period: str


def _names(wb: Workbench, slugs: set[str]) -> dict[str, _Names]:
    out: dict[str, _Names] = {}
    for slug in slugs:
        try:
            eco = wb.store.load(slug)
        except StoreError:
            continue
        out[slug] = _Names(
            eco.name, {a.id: a.name or a.id for a in eco.actors}, {r.id: r.unit for r in eco.resources}, eco.period
        )
    return out


def _row(e: Event, names: _Names | None, new: bool) -> dict[str, Any]:
    actors = names.actors if names is not None else {}

    def name(actor: str) -> str:
        return actors.get(actor, actor)

    exchange = ""
    if e.kind in ("proposal", "comment", "status", "agreed", "consent", "recorded"):
        link = f"/e/{e.ecosystem}/board#proposal-{e.ref}"
        amount = ""
        if e.quantity is not None:
            unit = names.units.get(e.resource, "") if names is not None else ""
            per = f" per {names.period}" if names is not None else ""
            amount = f", {format_number(e.quantity)} {unit}{per}".rstrip()
        exchange = f"{e.resource}{amount}: {name(e.source)} → {name(e.target)}"
    else:
        link = f"/e/{e.ecosystem}/people" if e.kind == "application" else f"/e/{e.ecosystem}"
    if e.kind == "proposal":
        what = f"proposed by {e.author}"
    elif e.kind == "status":
        status, _, note = e.text.partition(" (")
        what = f"moved to {status} by {e.author}" + (f": {note.rstrip(')')}" if note else "")
    elif e.kind == "agreed":
        party = "the managers" if e.text == "managers" else name(e.text)
        what = f"{e.author} agreed for {party}"
    elif e.kind == "comment":
        what = f"{e.author}: “{e.text}”"
    elif e.kind in ("consent", "recorded"):
        what = f"{e.author} {e.text}"
    elif e.kind == "application":
        joining = e.text or name(e.source)
        what = f"{e.author} applied to join as the member of {joining} ({e.source})"
    else:
        what = f"{e.text} by {e.author}: the application of {name(e.source)} ({e.source})"
    return {
        **e.to_dict(),
        "title": _TITLES[e.kind],
        "exchange": exchange,
        "what": what,
        "plain": describe(e, actors),
        "when": e.at.strftime("%Y-%m-%d %H:%M UTC"),
        "link": link,
        "new": new,
        "ecosystem_name": names.ecosystem if names is not None else e.ecosystem,
        "source_name": name(e.source) if e.source else "",
        "target_name": name(e.target) if e.target else "",
    }


def inbox(wb: Workbench, user: User, *, visit: bool) -> dict[str, Any]:
    """The caller's events (newest first, the last 200), each marked new when it came
    after the last visit; with ``visit`` the visit is recorded (the page), without it not
    (the JSON twin, which a script may poll)."""
    box = Inbox(wb.store)
    last = box.last_visit(user.username)
    events = box.events(user.username, limit=200)
    names = _names(wb, {e.ecosystem for e in events})
    rows = [_row(e, names.get(e.ecosystem), last is None or e.at > last) for e in events]
    if visit:
        box.visit(user.username)
    mail = box.mail_settings(user.username)
    return {
        "events": rows,
        "new": sum(r["new"] for r in rows),
        "last_visit": None if last is None else last.isoformat(),
        "last_visit_text": None if last is None else last.strftime("%Y-%m-%d %H:%M UTC"),
        "mail": {
            "email": mail.email,
            "notify": mail.notify,
            "error": mail.error,
            "error_at": None if mail.error_at is None else mail.error_at.strftime("%Y-%m-%d %H:%M UTC"),
            "mailed_until": None if mail.mailed_until is None else mail.mailed_until.isoformat(),
            "server": wb.mail_server,
        },
    }


def count(wb: Workbench, user: User) -> int:
    """How many events are new since the caller's last visit."""
    return Inbox(wb.store).count(user.username)


def set_mail(wb: Workbench, user: User, email: str, notify: bool) -> dict[str, Any]:
    """Where the caller's notices go (422 for an address that is not one)."""
    try:
        settings = Inbox(wb.store).set_mail(user.username, email, notify)
    except StoreError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"email": settings.email, "notify": settings.notify}
