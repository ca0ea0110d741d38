"""Building the report model from the caller's plain data: columns, deltas, best values, verdict."""
from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence

from . import formatting as fmt
from .direction import Direction
from .inputs import BaselineData, CandidateData, ComparisonRules, ExperimentData
from .model import Cell, Change, Column, Delta, ExperimentReport, MetricChange, Report, Row, Verdict


def build_report(experiments: Sequence[ExperimentData], *, title: str = "mltracker report") -> Report:
    keys: set[str] = set()
    built = []
    for experiment in experiments:
        key = _unique_key(experiment.name, keys)
        built.append(build_experiment(experiment, key=key))
    return Report(tuple(built), title=title)


def build_comparison(a: CandidateData, b: CandidateData, *, rules: ComparisonRules) -> Report:
    """Two candidates side by side; `b` is compared against `a`."""
    experiment = ExperimentData(
        name=f"{a.label} vs {b.label}",
        candidates=[b],
        baseline=BaselineData(label=a.label, candidate=a),
        rules=rules,
    )
    built = dataclasses.replace(build_experiment(experiment, key="compare"), compare=True)
    return Report((built,), title="mltracker comparison", compare=True)


def build_experiment(experiment: ExperimentData, *, key: str = "experiment") -> ExperimentReport:
    rules = experiment.rules
    if rules is None:
        raise ValueError(f"experiment {experiment.name!r}: no comparison rules given")
    baseline = experiment.baseline
    candidates = [c for c in experiment.candidates if not (baseline and c.run_id == baseline.candidate.run_id)]
    everyone = ([baseline.candidate] if baseline else []) + candidates
    notes: list[str] = list(rules.notes)

    order = _metric_order(experiment, everyone)
    primaries = [m for m in rules.primary_metrics(order)]
    metric_keys = primaries + [k for k in order if k not in primaries]
    resolved = {k: rules.direction(k) for k in metric_keys}

    columns = [Column(k, "metric", primary=k in primaries, direction=resolved[k]) for k in metric_keys]
    columns += [Column(k, "param") for k in _differing_params(everyone)]

    metric_cells = {k: _metric_column(k, resolved[k], everyone, baseline is not None) for k in metric_keys}
    rows = []
    for i, candidate in enumerate(everyone):
        cells = []
        for column in columns:
            if column.kind == "metric":
                cells.append(metric_cells[column.key][i])
            else:
                value = candidate.params.get(column.key)
                cells.append(Cell(fmt.MISSING if value is None else str(value), value))
        is_baseline = baseline is not None and i == 0
        duration = fmt.format_duration(candidate.duration_s) if candidate.duration_s is not None else None
        rows.append(Row(candidate, is_baseline, tuple(cells), duration))

    best = rules.best(candidates, primaries) if primaries else None
    verdict = _verdict(best, baseline, primaries, resolved, metric_cells, everyone, bool(candidates))
    return ExperimentReport(
        name=experiment.name,
        key=key,
        columns=tuple(columns),
        rows=tuple(rows),
        baseline=baseline,
        primary_metrics=tuple(primaries),
        directions=resolved,
        verdict=verdict,
        best_candidate=best,
        ui_url=experiment.ui_url,
        notes=tuple(notes),
    )


def _metric_order(experiment: ExperimentData, everyone: Sequence[CandidateData]) -> list[str]:
    """Explicit experiment order, then each candidate's first-logged order (this pipeline's
    candidates before the baseline), then whatever else appears in the metrics."""
    ordered: dict[str, None] = dict.fromkeys(experiment.metric_order)
    rows = [*everyone[1:], everyone[0]] if experiment.baseline else list(everyone)
    for candidate in rows:
        ordered.update(dict.fromkeys(k for k in candidate.metric_order if k not in ordered))
    for candidate in rows:
        ordered.update(dict.fromkeys(k for k in candidate.metrics if k not in ordered))
    present = {k for c in everyone for k in c.metrics}
    return [k for k in ordered if k in present]


def _differing_params(everyone: Sequence[CandidateData]) -> list[str]:
    if len(everyone) < 2:
        return []
    keys = dict.fromkeys(k for c in everyone for k in c.params)
    return [k for k in keys if len({c.params.get(k) for c in everyone}) > 1]


def _metric_column(
    key: str, direction: Direction, everyone: Sequence[CandidateData], has_baseline: bool
) -> list[Cell]:
    values = [_as_float(c.metrics.get(key)) for c in everyone]
    unit = fmt.duration_unit_seconds(key)
    digits = fmt.digits_to_distinguish(values)
    finite = [v for v in values if v is not None and math.isfinite(v)]
    best_value = None
    if len(finite) >= 2 and len(set(finite)) > 1:
        best_value = min(finite) if direction is Direction.MIN else max(finite)
    reference = values[0] if has_baseline else None

    cells = []
    for i, value in enumerate(values):
        text = fmt.format_duration(value * unit) if unit and value is not None and not math.isnan(value) \
            else fmt.format_number(value, digits)
        delta = None
        if has_baseline and i > 0:
            delta = compute_delta(value, reference, direction, digits, unit)
        cells.append(Cell(text, value, best=value is not None and value == best_value, delta=delta))
    return cells


def compute_delta(
    value: float | None,
    reference: float | None,
    direction: Direction,
    digits: int = fmt.DEFAULT_DIGITS,
    unit_seconds: float | None = None,
) -> Delta | None:
    if value is None or reference is None or not (math.isfinite(value) and math.isfinite(reference)):
        return None
    absolute = value - reference
    percent = absolute / abs(reference) * 100 if reference != 0 else None
    if absolute == 0:
        change: Change = "same"
    else:
        change = "better" if direction.is_better(value, reference) else "worse"
    # Digits of the difference itself; the column's extra digits only matter for the values.
    text = fmt.format_signed_duration(absolute * unit_seconds) if unit_seconds else fmt.format_signed(absolute)
    return Delta(absolute, percent, change, text, fmt.format_percent(percent) if percent is not None else None)


def _as_float(value: object) -> float | None:
    if value is None:
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _verdict(
    best: CandidateData | None,
    baseline: BaselineData | None,
    primaries: Sequence[str],
    directions: Mapping[str, Direction],
    metric_cells: Mapping[str, list[Cell]],
    everyone: Sequence[CandidateData],
    any_candidates: bool,
) -> Verdict:
    metric = primaries[0] if primaries else None
    if not any_candidates:
        return Verdict("no_candidates", metric=metric, baseline=baseline.label if baseline else None)
    if best is None:
        return Verdict("no_values", metric=metric, baseline=baseline.label if baseline else None)
    row = next(i for i, c in enumerate(everyone) if c is best)
    changes = []
    for m in primaries:
        cell = metric_cells[m][row]
        base = metric_cells[m][0] if baseline else None
        changes.append(MetricChange(m, directions[m], cell.text, base.text if base else None, cell.delta))
    head = changes[0]
    if baseline is None:
        return Verdict("no_baseline", best.label, None, tuple(changes), metric)
    if head.delta is None:
        return Verdict("unmeasured", best.label, baseline.label, tuple(changes), metric)
    kind = {"better": "improves", "worse": "regresses", "same": "matches"}[head.delta.change]
    return Verdict(kind, best.label, baseline.label, tuple(changes), metric)  # type: ignore[arg-type]


def _unique_key(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "experiment"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    taken.add(key)
    return key
