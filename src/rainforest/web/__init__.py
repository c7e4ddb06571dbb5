"""The ecosystem workbench: pages and a JSON API over a store, with roles (see docs/workbench.md).

``create_app(store)`` returns a FastAPI application over a :class:`rainforest.store.Store`.

Who sees what
    Administrators see every ecosystem. In an ecosystem, a *manager* (the facilitator) and an
    *observer* see all of it (observers change nothing); a *member* acts for one actor: it
    sees that actor, its offers, needs and flows in full, every resource, the other actors
    only through their directory fields (``id``, ``name``, ``sector``, plus the fields the
    actor lists in its ``x_public`` extension), the other actors' offers and needs without
    quantity, quality or price when they are ``confidential`` (the default), and no flow it
    is not a party to. An ecosystem the caller has no role in answers 404, as if it did not
    exist.
Sessions and forms
    A signed session cookie (HttpOnly, SameSite=Lax, Secure when served over HTTPS), renewed
    at sign-in; every form carries a per-session CSRF token, and API writes authenticated by
    the cookie need it in ``X-CSRF-Token``. Scripts may use HTTP Basic instead (no cookie, no
    token). Five failed sign-ins for one user name from one address within 15 minutes block
    further attempts for 15 minutes (429).
API
    Under ``/api``, with the same permissions as the pages: the caller's ecosystems
    (``POST`` creates one from a document, administrators), a document as the caller may see
    it, its history, report and export in every form, ``import`` (managers: every problem
    with its place and nothing changed when it has errors, 409 when someone saved
    meanwhile), one actor with its offers, needs and flows (``POST`` edits them: members
    their own actor, managers all), people and applications (managers), the proposed
    exchanges and their moves and comments, the impact ledger, long work (``jobs``: queue
    the analyses, the exchange plan, all-actor risk or a simulation; poll its progress;
    fetch its result and page) and the waste and sector code search (``/api/codes``). The
    OpenAPI description is at ``/openapi.json``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rainforest.web.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # FastAPI is imported with the application only: the records (rainforest.web.records),
    # which the command line's account commands use, need none of it
    if name == "create_app":
        from rainforest.web.app import create_app

        return create_app
    raise AttributeError(f"module 'rainforest.web' has no attribute {name!r}")
