"""Render reports with Jinja2 into one self-contained HTML page."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from rainforest.assessment import format_number, format_share
from rainforest.report._json import to_json, version


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The plotly.js bundle shipped with the plotly package (embedded in every page)."""
    bundle = resources.files("plotly") / "package_data" / "plotly.min.js"
    text = bundle.read_text(encoding="utf-8")
    # a literal "</script" inside the bundle would end the element early
    return text.replace("</script", "<\\/script")


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("rainforest.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fmt"] = format_number
    env.filters["pct"] = format_share
    return env


def render(template: str, **context: Any) -> str:
    """Render ``template`` with the styles, plotly.js and the figure data embedded."""
    import markupsafe

    env = _environment()
    css = (resources.files("rainforest.report") / "templates" / "report.css").read_text(encoding="utf-8")
    return str(
        env.get_template(template).render(
            css=markupsafe.Markup(css),
            plotly=markupsafe.Markup(plotly_js()),
            json=lambda value: markupsafe.Markup(to_json(value)),
            version=version(),
            **context,
        )
    )
