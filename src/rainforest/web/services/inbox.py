"""The inbox: what is new for the caller since its last visit (proposals for its firm,
comments, status changes, agreements, applications and their decisions), and where its
e-mail notices go."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

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
    "application": "Application",
    "decision": "Decision on an application",
}


def _names(wb: Workbench, slugs: set[str]) -> dict[str, dict[str, str]]:
    """Per ecosystem, actor id -> display name (the current version)."""
    out: dict[str, dict[str, str]] = {}
    for slug in slugs:
        try:
            eco = wb.store.load(slug)
        except StoreError:
            continue
        out[slug] = {a.id: a.name or a.id for a in eco.actors}
    return out


def _row(e: Event, names: dict[str, str], new: bool) -> dict[str, Any]:
    def name(actor: str) -> str:
        return names.get(actor, actor)

    link = f"/e/{e.ecosystem}/board#proposals" if e.kind in ("proposal", "comment", "status", "agreed") else (
        f"/e/{e.ecosystem}/people" if e.kind == "application" else f"/e/{e.ecosystem}"
    )
    if e.kind == "proposal":
        what = f"{e.author} proposed {e.resource} from {name(e.source)} to {name(e.target)}"
    elif e.kind == "status":
        what = f"{e.author} moved {e.resource} from {name(e.source)} to {name(e.target)} to “{e.text}”"
    elif e.kind == "agreed":
        party = "the managers" if e.text == "managers" else name(e.text)
        what = f"{e.author} agreed for {party}: {e.resource} from {name(e.source)} to {name(e.target)}"
    elif e.kind == "comment":
        what = f"{e.author} on {e.resource} from {name(e.source)} to {name(e.target)}: “{e.text}”"
    elif e.kind == "application":
        joining = e.text or name(e.source)
        what = f"{e.author} applied to join as the member of {joining}"
    else:
        what = f"{e.author} {e.text} the application for {name(e.source)}"
    return {
        **e.to_dict(),
        "title": _TITLES[e.kind],
        "what": what,
        "plain": describe(e),
        "when": e.at.strftime("%Y-%m-%d %H:%M UTC"),
        "link": link,
        "new": new,
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
    rows = [_row(e, names.get(e.ecosystem, {}), last is None or e.at > last) for e in events]
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
