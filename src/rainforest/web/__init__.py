"""The ecosystem workbench (first part): sign-in, sessions, roles, and the JSON API.

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
    ``/api/ecosystems`` (the caller's ecosystems; 401 without credentials),
    ``/api/ecosystems/{slug}`` (the document as the caller may see it),
    ``/api/ecosystems/{slug}/history`` and ``/api/ecosystems/{slug}/report`` (managers,
    observers), ``POST /api/ecosystems/{slug}/import`` (managers: a file; every problem with
    its place and nothing changed when it has errors, 409 when someone saved meanwhile), and
    the proposed exchanges: ``/api/ecosystems/{slug}/proposals`` (list; ``POST`` proposes
    ``{from, to, resource, quantity}``), ``.../proposals/{pid}/status`` (``{status, expected,
    note}``: proposed -> negotiating -> active -> ended; 409 when it moved meanwhile) and
    ``.../proposals/{pid}/comments``. A member sees and acts on a proposal only when its actor
    is a party; managers act on all; observers read all. The OpenAPI description is at
    ``/openapi.json``.
"""

from __future__ import annotations

from rainforest.web.app import create_app

__all__ = ["create_app"]
