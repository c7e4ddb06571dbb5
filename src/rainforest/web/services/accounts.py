"""Signing in and out, passwords, and removing accounts."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from fastapi import HTTPException

from rainforest.errors import UnknownIdError
from rainforest.store import StoreError
from rainforest.web.context import Workbench
from rainforest.web.records.accounts import User

__all__ = ["change_password", "remove_user", "sign_in", "sign_out"]

#: The text of a sign-in refused by the limiter.
BLOCKED = "Too many failed attempts: wait 15 minutes."


def sign_in(wb: Workbench, session: MutableMapping[str, Any], address: str, username: str, password: str) -> User:
    """Check the password and start a new session (no fixation: the old one is cleared).
    ``PermissionError`` with the message to show when blocked by the limiter
    (:data:`BLOCKED`) or when the name or password is wrong."""
    key = (username, address)
    if wb.limiter.sign_in_blocked(*key):
        raise PermissionError(BLOCKED)
    user = wb.records.accounts.verify(username, password)
    if user is None:
        wb.limiter.sign_in_failed(*key)
        raise PermissionError("Wrong user name or password.")
    wb.limiter.clear(key)
    session.clear()  # a new session at sign-in (no fixation)
    session["sid"] = wb.records.accounts.start_session(user.username)
    return user


def sign_out(wb: Workbench, session: MutableMapping[str, Any]) -> None:
    """End the session on the server too: a copy of the cookie kept elsewhere ends with it."""
    token = session.get("sid")
    if token:
        wb.records.accounts.end_session(str(token))
    session.clear()


def change_password(
    wb: Workbench,
    user: User,
    session: MutableMapping[str, Any],
    address: str,
    *,
    current: str,
    new: str,
    repeat: str | None,
    by_basic: bool,
) -> str | None:
    """Give ``user`` the password ``new``: None when done, else the error to show. Every
    session of the user ends (a new one starts for this browser when it signed in by
    cookie); a wrong current password counts as a failed sign-in."""
    key = (user.username, address)
    if wb.limiter.sign_in_blocked(*key):
        raise HTTPException(429, "too many failed sign-ins: wait 15 minutes")
    if repeat is not None and new != repeat:
        return "the two new passwords differ: nothing was changed"
    try:
        wb.records.accounts.set_password(user.username, new, current=current)
    except (StoreError, UnknownIdError) as exc:
        if "current password is wrong" in str(exc):
            wb.limiter.sign_in_failed(*key)
        return str(exc)
    if session.get("sid") and not by_basic:
        session.clear()
        session["sid"] = wb.records.accounts.start_session(user.username)
    return None


def remove_user(wb: Workbench, user: User, username: str) -> None:
    """Remove an account (administrators): 404 for an unknown one; ``StoreError`` for the
    last administrator."""
    if not user.admin:
        raise HTTPException(403, "only administrators remove accounts")
    try:
        wb.records.accounts.remove_user(username)
    except UnknownIdError as exc:
        raise HTTPException(404, str(exc)) from None
