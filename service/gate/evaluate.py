"""The quality gate's decision, pure: this pipeline's best candidate against the baseline, with
the comparison rules the merge request report uses (service/comparison)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from mltracker.reports import Direction
from mltracker.service.comparison.best import best_candidate
from mltracker.service.comparison.direction import AUTO, is_valid_setting
from mltracker.service.errors import invalid

PASSED, FAILED, NO_BASELINE, NO_CANDIDATES = "passed", "failed", "no_baseline", "no_candidates"
NO_CANDIDATES_POLICIES = ("pass", "fail")
_WORDS = {Direction.MIN: "minimize", Direction.MAX: "maximize"}


@dataclass(frozen=True)
class Candidate:
    run_id: str
    run_name: str
    value: float | None
    pipeline_id: int | None = None
    job_id: int | None = None
    status: str = "FINISHED"


@dataclass
class GateResult:
    status: str
    passed: bool
    metric: str
    direction: Direction
    max_regression: float
    experiment: str | None
    pipeline_id: int
    baseline_ref: str
    candidate: Candidate | None = None
    baseline: Candidate | None = None
    baseline_label: str | None = None  # the branch, or "<model>@champion"
    change: float | None = None  # candidate − baseline, in the metric's unit
    regression: float | None = None  # relative; > 0 means worse than the baseline
    candidates: list[Candidate] = field(default_factory=list)
    baseline_candidates: list[Candidate] = field(default_factory=list)
    reason: str = ""
    warning: bool = False

    def to_json(self) -> dict:
        payload = asdict(self)
        payload["direction"] = _WORDS[self.direction]
        payload["summary"] = summary(self)
        return payload


def parse_direction_setting(raw: str | None) -> str:
    """`auto` (the default: the experiment tag, else the metric's name) or a direction."""
    text = (raw or AUTO).strip().lower() or AUTO
    if not is_valid_setting(text):
        raise invalid(f"direction must be 'auto', 'minimize' or 'maximize', got '{raw}'.")
    return text


def parse_no_candidates(raw: str | None) -> str:
    """What a pipeline without candidates means: `pass` (with a warning; the default) or `fail`."""
    text = (raw or "pass").strip().lower()
    if text not in NO_CANDIDATES_POLICIES:
        raise invalid(f"no_candidates must be 'pass' or 'fail', got '{raw}'.")
    return text


def parse_max_regression(raw: str | None) -> float:
    """Allowed relative regression: "0.05" or "5%" both mean 5 % worse than the baseline."""
    text = (raw or "0").strip()
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise invalid(f"max_regression must be a fraction (0.05) or a percentage (5%), got '{raw}'.") from None
    if math.isnan(value) or value < 0:
        raise invalid(f"max_regression must be zero or positive, got '{raw}'.")
    return value


def best(candidates: list[Candidate], metric: str, direction: Direction) -> Candidate | None:
    return best_candidate(candidates, [metric], {metric: direction}, value=lambda c, _: c.value)


def evaluate(
    *, metric: str, direction: Direction, max_regression: float, experiment: str | None, pipeline_id: int,
    baseline_ref: str, candidates: list[Candidate], baseline_candidates: list[Candidate],
    baseline_run_id: str | None = None, baseline_label: str | None = None, no_candidates: str = "pass",
) -> GateResult:
    """`baseline_run_id`: the baseline service/comparison chose among `baseline_candidates`."""
    result = GateResult(
        status=NO_CANDIDATES, passed=no_candidates == "pass", metric=metric, direction=direction,
        max_regression=max_regression, experiment=experiment, pipeline_id=pipeline_id,
        baseline_ref=baseline_ref, baseline_label=baseline_label or baseline_ref,
        candidates=candidates, baseline_candidates=baseline_candidates,
    )
    result.candidate = best(candidates, metric, direction)
    if result.candidate is None:
        result.warning = result.passed
        result.reason = (
            f"no candidate of pipeline {pipeline_id} logged '{metric}'"
            if candidates else f"pipeline {pipeline_id} produced no candidates"
        )
        return result
    result.baseline = next((c for c in baseline_candidates if c.run_id == baseline_run_id and c.value is not None
                            and not math.isnan(c.value)), None)
    if result.baseline is None:
        result.status, result.passed = NO_BASELINE, True
        result.reason = f"no baseline on '{baseline_ref}' with '{metric}' yet"
        return result
    change = result.candidate.value - result.baseline.value
    worse_by = change if direction is Direction.MIN else -change
    if result.baseline.value != 0:
        regression = worse_by / abs(result.baseline.value)
    else:
        regression = 0.0 if worse_by <= 0 else math.inf
    result.change, result.regression = change, regression
    result.passed = regression <= max_regression + 1e-12
    result.status = PASSED if result.passed else FAILED
    return result


def _pct(value: float) -> str:
    if math.isinf(value):
        return "∞"
    return f"{value * 100:.2f}%"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6g}"


def _describe(c: Candidate) -> str:
    where = ", ".join(p for p in (
        f"pipeline {c.pipeline_id}" if c.pipeline_id is not None else "",
        f"job {c.job_id}" if c.job_id is not None else "",
    ) if p)
    return f"run {c.run_id} '{c.run_name}'" + (f" ({where})" if where else "")


def _baseline_where(result: GateResult) -> str:
    if result.baseline_label and result.baseline_label != result.baseline_ref:
        return f"'{result.baseline_label}' (no pipeline on '{result.baseline_ref}')"
    return f"on '{result.baseline_ref}'"


def summary(result: GateResult) -> str:
    """Plain text; the first line starts with PASS or FAIL (the CI job greps it)."""
    if result.status == NO_CANDIDATES:
        head = f"PASS (warning): {result.reason}" if result.passed else f"FAIL: {result.reason}"
    elif result.status == NO_BASELINE:
        head = f"PASS: {result.reason}; nothing to compare with"
    else:
        regression = result.regression or 0.0
        if regression > 0:
            verb = f"is {_pct(regression)} worse than"
        elif regression < 0:
            verb = f"is {_pct(-regression)} better than"
        else:
            verb = "equals"
        head = (
            f"{'PASS' if result.passed else 'FAIL'}: best '{result.metric}' {verb} the baseline "
            f"{_baseline_where(result)} (allowed regression {_pct(result.max_regression)})"
        )
    lines = [
        head,
        f"  metric      {result.metric} ({result.direction.description})",
        f"  experiment  {result.experiment or 'n/a'}",
        f"  pipeline    {result.pipeline_id}: {len(result.candidates)} candidate(s)",
    ]
    if result.candidate is not None:
        lines.append(f"  candidate   {_fmt(result.candidate.value):>12}  {_describe(result.candidate)}")
    if result.baseline is not None:
        lines.append(f"  baseline    {_fmt(result.baseline.value):>12}  {_describe(result.baseline)}"
                     f" {_baseline_where(result)}")
    if result.change is not None:
        lines.append(f"  change      {result.change:+.6g}")
    return "\n".join(lines) + "\n"
