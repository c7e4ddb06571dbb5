"""Rendering the server pages: the templates, the pages' security policy, and the files the
pages load (served from the package: no CDN)."""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2
import markupsafe
from fastapi.responses import HTMLResponse

from rainforest.report import format_number, to_json

__all__ = ["ICON", "PAGE_HEADERS", "STATIC", "html_page", "number", "static_file"]


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("rainforest.web", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    env.globals["json"] = lambda value: markupsafe.Markup(to_json(value))
    env.filters["fmt"] = format_number
    return env


#: Scripts only from this server's files (no inline script, no eval: the figures' specs are
#: JSON data blocks, and plotly draws the workbench's charts without eval); inline styles
#: stay allowed (the pages' stylesheet, and the style elements plotly adds as it draws).
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def html_page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A server page: ``template`` rendered with ``context``, with the pages' policy."""
    html = _templates().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


ICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path fill="#2e7d32" '
    b'd="M8 1C4 4 3 8 5 11l-2 4h2l1-3c3 1 7-1 8-6-2 0-4 0-6 2 1-2 1-4 0-7z"/></svg>'
)

#: The files under ``/static/`` and their media types.
STATIC = {
    "plotly.min.js": "text/javascript",
    "workbench.js": "text/javascript",
    "suggestions.js": "text/javascript",
    "inbox.js": "text/javascript",
    "map.js": "text/javascript",
}


@lru_cache(maxsize=4)
def static_file(name: str) -> bytes:
    """One of :data:`STATIC` (plotly's bundle from its package)."""
    if name == "plotly.min.js":
        return (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    return (resources.files("rainforest.web") / "static" / name).read_bytes()


def number(v: Any) -> str:
    """A number as the pages show it (empty for none)."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    return format_number(v) if isinstance(v, float) else str(v)
