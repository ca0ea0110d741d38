"""PNG plots for a report: primary-metric history by step, and final metrics as bars.

Figures are built with the object-oriented API on an explicit Agg canvas: headless, thread-safe and
without touching pyplot's global backend for the rest of the process. Output is byte-for-byte
deterministic for the same input (no timestamps or software version in the PNG metadata).
"""
from __future__ import annotations

import io
import math
import warnings
from collections.abc import Sequence

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullFormatter

from .escaping import clean
from .formatting import format_number
from .direction import Direction
from .model import ExperimentReport, Report, Row

WIDTH_IN = 8.0
DPI = 100  # 800 px wide: GitLab shows it at natural size in a comment
MAX_CANDIDATES = 6  # plus the baseline; more lines than this stop being readable
MAX_BAR_METRICS = 8

# Okabe–Ito, without yellow (too faint on white); the baseline is black and dashed.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")
BASELINE_COLOR = "#000000"
MARKERS = ("o", "s", "^", "D", "v", "P")

_STYLE = {
    "text.parse_math": False,  # `$` in a run name is text, not mathtext
    "text.usetex": False,
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.fontsize": 9,
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
}


def render_plots(report: Report) -> dict[str, bytes]:
    """Every plot the report can embed, by name (`ExperimentReport.history_plot_name`, ...)."""
    plots: dict[str, bytes] = {}
    for experiment in report.experiments:
        for name, png in ((experiment.history_plot_name, plot_history(experiment)),
                          (experiment.metrics_plot_name, plot_final_metrics(experiment))):
            if png is not None:
                plots[name] = png
    return plots


def plot_history(experiment: ExperimentReport) -> bytes | None:
    """The primary metric(s) by step as PNG; None when there is nothing to draw."""
    with matplotlib.rc_context(_STYLE):
        fig = history_figure(experiment)
        return None if fig is None else _png(fig)


def history_figure(experiment: ExperimentReport) -> Figure | None:
    """The primary metric(s) by step: candidates in colour, the baseline dashed black.
    None when no row logged a history for any primary metric."""
    rows, dropped = _plotted_rows(experiment)
    metrics = [m for m in experiment.primary_metrics if any(r.candidate.history.get(m) for r in rows)][:3]
    if not metrics:
        return None
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(WIDTH_IN, 0.9 + 3.0 * len(metrics)), dpi=DPI, layout="constrained")
        axes = fig.subplots(len(metrics), 1, squeeze=False)[:, 0]
        for ax, metric in zip(axes, metrics):
            for row, style in zip(rows, _styles(rows)):
                points = sorted(row.candidate.history.get(metric) or ())
                if not points:
                    continue
                steps = [p[0] for p in points]
                values = [p[1] for p in points]
                ax.plot(steps, values, label=style["label"], color=style["color"],
                        linestyle="--" if row.is_baseline else "-", linewidth=1.8,
                        marker=None if row.is_baseline else style["marker"], markersize=4,
                        markevery=max(1, len(points) // 12), zorder=3 if row.is_baseline else 2)
            if _spans_decades(ax):
                ax.set_yscale("log")
                ax.yaxis.set_minor_formatter(NullFormatter())
            _plain_ticks(ax)
            direction = experiment.directions[metric]
            ax.set_title(f"{_text(metric, 48)} ({direction.description})", loc="left")
            ax.set_xlabel("step")
            ax.set_ylabel(_text(metric, 28))
        drawn = {line.get_label() for ax in axes for line in ax.get_lines()}
        handles = [
            Line2D([], [], color=st["color"], linestyle="--" if row.is_baseline else "-", linewidth=1.8,
                   marker=st["marker"], markersize=4, label=st["label"])
            for row, st in zip(rows, _styles(rows)) if st["label"] in drawn
        ]
        _legend(fig, handles, dropped)
        return fig


def _spans_decades(ax) -> bool:
    """Loss-like curves that fall by orders of magnitude are unreadable on a linear axis."""
    values = [v for line in ax.get_lines() for v in line.get_ydata() if math.isfinite(v)]
    return bool(values) and min(values) > 0 and max(values) / min(values) >= 50


def plot_final_metrics(experiment: ExperimentReport) -> bytes | None:
    """The final metrics as PNG bars; None when there is nothing to draw."""
    with matplotlib.rc_context(_STYLE):
        fig = final_metrics_figure(experiment)
        return None if fig is None else _png(fig)


def final_metrics_figure(experiment: ExperimentReport) -> Figure | None:
    """One horizontal-bar panel per metric (primary first), one bar per row, values printed."""
    rows, dropped = _plotted_rows(experiment)
    columns = [(i, c) for i, c in enumerate(experiment.columns) if c.kind == "metric"][:MAX_BAR_METRICS]
    if not rows or not columns:
        return None
    ncols = 1 if len(columns) == 1 else 2
    nrows = math.ceil(len(columns) / ncols)
    panel_height = 0.75 + 0.28 * len(rows)
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(WIDTH_IN, 0.7 + panel_height * nrows), dpi=DPI, layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        styles = _styles(rows)
        for ax, (index, column) in zip(axes, columns):
            _bar_panel(ax, column.key, column.primary, column.direction, index, rows, styles)
        for ax in axes[len(columns):]:
            ax.set_visible(False)
        _legend(fig, [Patch(color=st["color"], label=st["label"]) for st in styles], dropped)
        return fig


def _bar_panel(ax, metric: str, primary: bool, direction: Direction | None, index: int,
               rows: Sequence[Row], styles: Sequence[dict]) -> None:
    cells = [row.cells[index] for row in rows]
    values = [c.value if isinstance(c.value, float) and math.isfinite(c.value) else None for c in cells]
    finite = [v for v in values if v is not None]
    positions = list(range(len(rows)))[::-1]  # first row (the baseline) on top
    ax.barh(positions, [v or 0.0 for v in values], height=0.7,
            color=[s["color"] for s in styles], edgecolor="none")
    low, high = min(finite + [0.0]), max(finite + [0.0])
    span = (high - low) or 1.0
    for pos, value, cell in zip(positions, values, cells):
        anchor = value if value is not None else 0.0
        right = anchor >= 0
        ax.text(anchor + (0.02 if right else -0.02) * span, pos, f" {cell.text} " if value is not None else " " + cell.text,
                va="center", ha="left" if right else "right", fontsize=9,
                fontweight="bold" if cell.best else "normal")
    # Room for the value labels beside the longest bar.
    ax.set_xlim(low - (0.35 * span if low < 0 else 0), high + (0.35 * span if high > 0 else 0.05 * span))
    ax.set_yticks([])
    _plain_ticks(ax)
    ax.grid(axis="y", visible=False)
    arrow = f" {direction.arrow}" if direction else ""
    ax.set_title(("★ " if primary else "") + _text(metric, 36) + arrow, loc="left")
    ax.set_xlabel(_text(metric, 36) + (f" ({direction.description})" if direction else ""))


def _plotted_rows(experiment: ExperimentReport) -> tuple[list[Row], int]:
    """The baseline plus at most MAX_CANDIDATES candidates, best first on the primary metric."""
    baseline = [r for r in experiment.rows if r.is_baseline]
    candidates = [r for r in experiment.rows if not r.is_baseline]
    if len(candidates) > MAX_CANDIDATES and experiment.primary_metrics:
        metric = experiment.primary_metrics[0]
        sign = 1 if experiment.directions[metric] is Direction.MIN else -1

        def rank(row: Row) -> tuple[int, float]:
            value = row.candidate.metrics.get(metric)
            ok = value is not None and math.isfinite(value)
            return (0, sign * value) if ok else (1, 0.0)

        candidates = sorted(candidates, key=rank)
    kept = candidates[:MAX_CANDIDATES]
    return baseline + kept, len(candidates) - len(kept)


def _text(text: object, max_len: int) -> str:
    """One line; long names lose their middle, where run names usually repeat themselves."""
    text = clean(text)
    if len(text) <= max_len:
        return text
    head = (max_len - 1) // 2
    return text[:head] + "…" + text[len(text) - (max_len - 1 - head):]


def _plain_ticks(ax) -> None:
    """Tick labels without mathtext (it is switched off for user text) and with our number style."""
    formatter = FuncFormatter(lambda value, _pos: format_number(value))
    ax.xaxis.set_major_formatter(formatter)
    ax.yaxis.set_major_formatter(formatter)


def _styles(rows: Sequence[Row]) -> list[dict]:
    styles, n = [], 0
    for row in rows:
        if row.is_baseline:
            styles.append({"color": BASELINE_COLOR, "marker": None, "label": _label(row, baseline=True)})
        else:
            styles.append({"color": PALETTE[n % len(PALETTE)], "marker": MARKERS[n % len(MARKERS)],
                           "label": _label(row)})
            n += 1
    return styles


def _label(row: Row, baseline: bool = False) -> str:
    name = _text(row.candidate.label, 28)
    return f"baseline: {name}" if baseline else name


def _legend(fig: Figure, handles: list, dropped: int) -> None:
    """Below the plots, never over the data."""
    if not handles:
        return
    title = f"{dropped} more candidate{'s' if dropped != 1 else ''} not shown" if dropped else None
    longest = max(len(h.get_label()) for h in handles)
    ncols = min(len(handles), 4 if longest <= 16 else 3 if longest <= 24 else 2)
    fig.legend(handles=_row_major(handles, ncols), loc="outside lower center", ncols=ncols, frameon=False,
               title=title, title_fontsize=9)


def _row_major(items: list, ncols: int) -> list:
    """matplotlib fills legend columns first; reorder so the entries read left to right."""
    nrows = math.ceil(len(items) / ncols)
    return [items[r * ncols + c] for c in range(ncols) for r in range(nrows) if r * ncols + c < len(items)]


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
