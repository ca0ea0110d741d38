"""GitLab-flavoured Markdown for merge request comments.

Templates are escape-by-default: any value a template prints goes through `md_text` unless a filter
here already made it safe Markdown (`Md`).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import jinja2

from . import escaping
from .inputs import CandidateData, ComparisonRules
from .build import build_comparison
from .model import Cell, Column, ExperimentReport, Report, Row, Verdict

REPORT_MARKER = "<!-- mltracker:report -->"
VERDICT_START = "<!-- mltracker:verdict -->"
VERDICT_END = "<!-- /mltracker:verdict -->"
HISTORY_START = "<!-- mltracker:history -->"
HISTORY_END = "<!-- /mltracker:history -->"

# Blue and orange (Okabe–Ito hues) stay distinguishable with the common colour-vision deficiencies.
BETTER_MARK = "🔵"
WORSE_MARK = "🟠"
BEST_ROW_MARK = "🏆"

NAME_LEN = 40
KEY_LEN = 40
VALUE_LEN = 40
HISTORY_LEN = 20


class Md(str):
    """A string that is already safe Markdown."""


def _text(value: object, max_len: int | None = None) -> Md:
    return Md(escaping.md_text(value, max_len))


def _code(value: object, max_len: int | None = KEY_LEN) -> Md:
    return Md(escaping.md_code(value, max_len))


def _link(label: str, url: str | None) -> Md:
    """`label` must already be Markdown-safe."""
    href = escaping.safe_url(url)
    return Md(f"[{label}]({href})" if href else label)


def _finalize(value: object) -> object:
    if value is None:
        return ""
    return value if isinstance(value, Md) else escaping.md_text(value)


def _header(column: Column) -> Md:
    name = escaping.md_text(column.key, KEY_LEN)
    if column.kind == "param":
        return Md(f"{name} <sub>param</sub>")
    star = "★ " if column.primary else ""
    return Md(f"{star}{name} {column.direction.arrow}")  # type: ignore[union-attr]


def _align(column: Column) -> Md:
    return Md("--:" if column.kind == "metric" else ":--")


def _metric_cell(cell: Cell) -> Md:
    value = escaping.md_text(cell.text)
    if cell.best:
        value = f"**{value}**"
    delta = cell.delta
    if delta is None:
        return Md(value)
    mark = {"better": BETTER_MARK, "worse": WORSE_MARK, "same": ""}[delta.change]
    change = f"{mark}{delta.arrow} {escaping.md_text(delta.text)}"
    if delta.percent_text:
        change += f" ({escaping.md_text(delta.percent_text)})"
    return Md(f"{value}<br>{change}")


def _cell(cell: Cell, column: Column) -> Md:
    if column.kind == "param":
        return _text(cell.text, VALUE_LEN)
    return _metric_cell(cell)


def _candidate_cell(row: Row, experiment: ExperimentReport) -> Md:
    candidate = row.candidate
    name = _link(escaping.md_text(candidate.label, NAME_LEN), candidate.ui_url)
    if row.is_baseline and not experiment.compare:
        baseline = experiment.baseline
        parts = [f"baseline {escaping.md_text(baseline.label, NAME_LEN)}: {name}"]  # type: ignore[union-attr]
        if escaping.safe_url(baseline.pipeline_url):  # type: ignore[union-attr]
            parts.append(_link("pipeline", baseline.pipeline_url))  # type: ignore[union-attr]
    else:
        best = experiment.best_candidate is candidate and len(experiment.candidates) > 1 and not row.is_baseline
        parts = [f"{BEST_ROW_MARK} {name}" if best else name]
        if escaping.safe_url(candidate.job_url):
            parts.append(_link("job", candidate.job_url))
    if escaping.safe_url(candidate.failing_examples_url):
        parts.append(_link("failing examples", candidate.failing_examples_url))
    text = " · ".join(parts)
    details = []
    if candidate.status and candidate.status.upper() != "FINISHED":
        details.append(escaping.md_text(candidate.status.upper(), 20))
    if row.duration_text:
        details.append(escaping.md_text(row.duration_text))
    if details:
        text += "<br>" + " · ".join(details)
    return Md(text)


def _change(change) -> Md:
    metric = escaping.md_code(change.metric, KEY_LEN)
    if change.baseline_text is None or change.delta is None:
        return Md(f"{metric} {escaping.md_text(change.candidate_text)}")
    text = f"{metric} {escaping.md_text(change.baseline_text)} → {escaping.md_text(change.candidate_text)}"
    if change.delta.percent_text:
        text += f" ({escaping.md_text(change.delta.percent_text)})"
    return Md(text)


def _verdict(verdict: Verdict, compare: bool = False) -> Md:
    code = lambda s: escaping.md_code(s, NAME_LEN)  # noqa: E731
    if verdict.kind == "no_candidates":
        return Md("this pipeline produced no candidates")
    if verdict.kind == "no_values":
        if verdict.metric is None:
            return Md("no candidate logged any metric")
        return Md(f"no candidate logged {code(verdict.metric)}")
    head, *rest = verdict.changes
    who = code(verdict.candidate) if compare else f"best candidate {code(verdict.candidate)}"
    if verdict.kind == "no_baseline":
        line = f"{who}: {_change(head)} (no baseline to compare against)"
    elif verdict.kind == "unmeasured":
        line = f"{who}: {_change(head)} (baseline {code(verdict.baseline)} has no {code(head.metric)})"
    elif verdict.kind == "improves":
        line = f"{who} improves {_change(head)} over {code(verdict.baseline)}"
    elif verdict.kind == "matches":
        line = f"{who} matches {code(verdict.baseline)}: {_change(head)}"
    else:
        line = f"{who} does not improve on {code(verdict.baseline)}: {_change(head)}"
    for change in rest:
        mark = ""
        if change.delta is not None and change.delta.change != "same":
            mark = " " + (BETTER_MARK if change.delta.change == "better" else WORSE_MARK)
        line += f"; {_change(change)}{mark}"
    return Md(line)


def _image(alt: str, url: str | None) -> Md:
    href = escaping.safe_url(url)
    return Md(f"![{escaping.md_text(alt)}]({href})" if href else "")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=False,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        text=_text, code=_code, link=_link, header=_header, cell=_cell,
        candidate_cell=_candidate_cell, verdict=_verdict, image=_image, align=_align,
    )
    return env


_ENV = _environment()


def render_markdown(
    report: Report,
    plot_urls: Mapping[str, str] | None = None,
    history: Sequence[str] = (),
    *,
    pipeline: str | None = None,
    pipeline_url: str | None = None,
) -> str:
    """The merge request comment. `plot_urls` maps plot names (`Report.plot_names`) to uploaded
    URLs; `history` holds earlier verdict lines (see `extract_history`), newest first."""
    urls = {name: url for name, url in (plot_urls or {}).items() if escaping.safe_url(url)}
    lines = [Md(escaping.sanitize_markdown_line(line)) for line in history[:HISTORY_LEN] if line.strip()]
    label = None
    if pipeline:
        label = _link(escaping.md_text(pipeline, NAME_LEN), pipeline_url)
    return _ENV.get_template("report.md.j2").render(
        report=report,
        plot_urls=urls,
        history=lines,
        pipeline=label,
        markers={name: Md(marker) for name, marker in dict(
            report=REPORT_MARKER, verdict_start=VERDICT_START, verdict_end=VERDICT_END,
            history_start=HISTORY_START, history_end=HISTORY_END).items()},
        safe_url=escaping.safe_url,
        marks=dict(better=BETTER_MARK, worse=WORSE_MARK, best=BEST_ROW_MARK),
    )


def render_compare(a: CandidateData, b: CandidateData, *, rules: ComparisonRules) -> str:
    """The `@bot compare a b` reply: `b` against `a`, no baseline needed."""
    report = build_comparison(a, b, rules=rules)
    return _ENV.get_template("compare.md.j2").render(
        report=report, experiment=report.experiments[0],
        marks=dict(better=BETTER_MARK, worse=WORSE_MARK, best=BEST_ROW_MARK),
    )


_BLOCK = {
    "verdict": re.compile(re.escape(VERDICT_START) + r"(.*?)" + re.escape(VERDICT_END), re.S),
    "history": re.compile(re.escape(HISTORY_START) + r"(.*?)" + re.escape(HISTORY_END), re.S),
}


def extract_history(previous_comment: str) -> list[str]:
    """Verdict lines of an earlier report comment followed by its own history: pass the result as
    `history` when the comment is rewritten for a new pipeline."""
    lines = []
    for block in ("verdict", "history"):
        match = _BLOCK[block].search(previous_comment or "")
        if match:
            for line in match.group(1).splitlines():
                line = re.sub(r"^\s*(?:[-*]\s+)?", "", line).strip()
                if line:
                    lines.append(line)
    return lines
