"""The people of an ecosystem (managers): roles given and taken away, firms registering
themselves through the ecosystem's link, and the managers' decisions on them."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from fastapi import HTTPException

from rainforest.store import StoreError
from rainforest.web.context import Workbench
from rainforest.web.deps import Caller
from rainforest.web.records.accounts import Membership
from rainforest.web.records.applications import Application

__all__ = ["check_link", "decide", "grant", "people_page", "register", "registration_key", "revoke"]


def grant(wb: Workbench, c: Caller, slug: str, body: dict[str, Any]) -> Membership:
    """Give someone a role ``{username, role, actor?, password?}``; with a password, a new
    account is made for a user name that has none."""
    username, role = str(body.get("username", "")).strip(), str(body.get("role", ""))
    actor = str(body.get("actor") or "").strip() or None
    password = str(body.get("password") or "")
    accounts = wb.records.accounts
    if accounts.user(username) is None:
        if not password:
            raise StoreError(f"there is no user {username!r}: give a password (10 characters or more) to create one")
        accounts.create_user(username, password)
    return accounts.grant(username, slug, role, actor)


def revoke(wb: Workbench, c: Caller, slug: str, username: str) -> None:
    """Take someone's role away; the user's sessions end."""
    wb.records.accounts.revoke(username, slug)


def decide(wb: Workbench, c: Caller, slug: str, aid: int, decision: str) -> Application:
    """Approve (the applicant becomes the member of its actor, added when new) or refuse."""
    return wb.records.applications.decide(slug, aid, decision, author=c.user.username)


def registration_key(wb: Workbench, slug: str) -> str:
    """The key of an ecosystem's registration link: managers hand the link out; without
    the key the page answers 404, so the ecosystems' names cannot be probed."""
    return hmac.new(wb.secret.encode(), f"register:{slug}".encode(), hashlib.sha256).hexdigest()[:24]


def check_link(wb: Workbench, slug: str, key: str) -> str:
    """The ecosystem's name when ``key`` opens its registration link, else 404."""
    if slug not in {e.slug for e in wb.store.ecosystems()} or not hmac.compare_digest(key, registration_key(wb, slug)):
        raise HTTPException(404, "no such registration link: ask the ecosystem's manager for it")
    return wb.store.load(slug).name


def register(
    wb: Workbench, slug: str, address: str, *, username: str, password: str, actor: str, firm: str, message: str
) -> Application:
    """A firm registers: an account and a pending application. ``PermissionError`` when this
    address registered too often; ``StoreError`` for a taken name or a short password."""
    key = ("register", address)
    if wb.limiter.blocked(key):
        raise PermissionError("Too many registrations from this address: wait 15 minutes.")
    application = wb.records.applications.apply(
        slug, username.strip(), password, actor=actor.strip(), name=firm, message=message
    )
    wb.limiter.fail(key)  # counts registrations per address
    return application


def people_page(wb: Workbench, c: Caller, slug: str, base_url: str) -> dict[str, Any]:
    """What the people page shows: who has a role, the pending applications, the link."""
    eco = wb.store.load(slug)
    return {
        "nav": c.access.nav("people"),
        "name": eco.name,
        "people": wb.records.accounts.members(slug),
        "actors": eco.actor_ids,
        "applications": [x for x in wb.records.applications.applications(slug) if x.status == "pending"],
        "known": set(eco.actor_ids),
        "link": f"{base_url.rstrip('/')}/register/{slug}?key={registration_key(wb, slug)}",
    }
