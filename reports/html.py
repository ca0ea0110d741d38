"""HTML rendering of the same report model, for the mltracker UI (Jinja2 autoescaping on)."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from . import escaping
from .model import Report

TEXT_LEN = 60


def _short(value: object, max_len: int = TEXT_LEN) -> Markup:
    """Escaped and truncated; the full value stays readable in a tooltip."""
    full = escaping.clean(value)
    shown = escaping.truncate(full, max_len)
    if shown == full:
        return escape(shown)
    return Markup('<span title="{}">{}</span>').format(full, shown)


def _href(url: str | None) -> str | None:
    return escaping.safe_url(url)


_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
_ENV.filters.update(short=_short)
_ENV.globals.update(href=_href)


def render_html(report: Report, plot_urls: Mapping[str, str] | None = None) -> str:
    """An HTML fragment (`<section class="mltracker-report">`); the page supplies the CSS classes
    `better`, `worse`, `best`, `missing`, or uses the inline colours as they are."""
    return _ENV.get_template("report.html.j2").render(report=report, plot_urls=dict(plot_urls or {}))
