"""Metric history charts as inline SVG, drawn on the server: no JavaScript, no chart library.

Colours are the Okabe-Ito palette the merge-request plots (reports/) use, so a candidate looks the
same in a comment and in the UI. Every user-supplied label goes through markupsafe.escape.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

# Same colours, same order as reports/plots.py (the merge-request plots); importing it would load matplotlib.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")
WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 10, 28


@dataclass(frozen=True)
class Series:
    label: str
    points: list[tuple[float, float]]  # (step, value)
    color: str


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _nice_step(low: float, high: float, count: int) -> float:
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round-numbered ticks inside [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high == low:
        return [low]
    step = _nice_step(low, high, count)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9 and len(ticks) < 20:
        ticks.append(round(value, 12))
        value += step
    return ticks


def value_axis(low: float, high: float, count: int = 5) -> tuple[float, float, list[float]]:
    """[low, high] widened to round-numbered ends, and its ticks from end to end: the outer gridlines
    enclose every point."""
    step = _nice_step(low, high, count)
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    ticks = [round(i * step, 12) for i in range(first, last + 1)]
    return ticks[0], ticks[-1], ticks


def tick_text(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e5 or magnitude < 1e-3:
        return f"{value:.2g}"
    return f"{value:.4g}"


def line_chart(title: str, series: list[Series]) -> Markup:
    """An SVG with one polyline per series (a single point is drawn as a dot)."""
    drawn = [s for s in series if s.points]
    if not drawn:
        return Markup('<p class="muted">No points logged.</p>')
    xs = [x for s in drawn for x, _ in s.points]
    ys = [y for s in drawn for _, y in s.points if math.isfinite(y)]
    if not ys:
        return Markup('<p class="muted">No finite values to plot.</p>')
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if y0 == y1:
        pad = abs(y0) * 0.05 or 1.0
        y0, y1 = y0 - pad, y1 + pad
    y0, y1, y_ticks = value_axis(y0, y1)
    if x0 == x1:
        x0, x1 = x0 - 1, x1 + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * plot_w

    def sy(y: float) -> float:
        return TOP + (1 - (y - y0) / (y1 - y0)) * plot_h

    parts = [
        Markup('<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}" '
               'preserveAspectRatio="xMidYMid meet"><title>{label}</title>').format(
            w=WIDTH, h=HEIGHT, label=f"{title}: history by step")
    ]
    for tick in y_ticks:
        y = sy(tick)
        parts.append(Markup('<line class="grid" x1="{a}" x2="{b}" y1="{y:.1f}" y2="{y:.1f}"/>'
                            '<text class="tick" x="{t}" y="{ty:.1f}" text-anchor="end">{v}</text>').format(
            a=LEFT, b=WIDTH - RIGHT, y=y, t=LEFT - 6, ty=y + 4, v=tick_text(tick)))
    for tick in nice_ticks(x0, x1, 6):
        if float(tick).is_integer():  # steps are whole numbers
            x = sx(tick)
            parts.append(Markup('<text class="tick" x="{x:.1f}" y="{y}" text-anchor="middle">{v}</text>').format(
                x=x, y=HEIGHT - 8, v=tick_text(tick)))
    parts.append(Markup('<line class="axis" x1="{l}" x2="{r}" y1="{b}" y2="{b}"/>').format(
        l=LEFT, r=WIDTH - RIGHT, b=TOP + plot_h))
    for s in drawn:
        finite = [(x, y) for x, y in s.points if math.isfinite(y)]
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in finite)
        label = escape(s.label)
        if len(finite) == 1:
            x, y = finite[0]
            parts.append(Markup('<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{c}"><title>{t}</title></circle>').format(
                x=sx(x), y=sy(y), c=s.color, t=label))
        else:
            parts.append(Markup('<polyline fill="none" stroke="{c}" stroke-width="2" points="{p}">'
                                '<title>{t}</title></polyline>').format(c=s.color, p=coords, t=label))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
